//! The station's drives (issue 15): a calendar of drives by status (`/station/drives`: a month
//! grid on a desk's screen, a list on a narrow one), and a drive's page
//! (`/station/drives/{id}`): its stops in order, its lifecycle buttons as the API allows them
//! (publish, start, complete; cancel with a reason, after a page that lists whom the
//! cancellation will tell), each stop's preparation checklist (tick, untick) and its bookings
//! per slot (mobiles masked, as the API masks them).
//!
//! Reads go through `drives::overview`; changes through the services the API's handlers call
//! (`drives::lifecycle::transition`, `drives::checklists::tick`), with the version the page
//! showed. A refusal reads as a sentence on the drive's page with what to do; a stale version
//! shows what the reader saw beside what is there now. Readers who may not change a drive
//! (officials, viewers) see it without its buttons; outside their reach it does not exist.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, Days, Months, NaiveDate};
use entity::{booking, booking_part, booking_slot, checklist_item, group_request};
use serde::Deserialize;

use crate::auth::Caller;
use crate::domain::booking::{self as booking_rules, BookingKind, BookingStatus, RequestStatus};
use crate::domain::checklist::{self as checklist_rules, ItemState};
use crate::domain::drive::{self as rules, DayBound, DriveStatus};
use crate::domain::point::mask_phone;
use crate::domain::policy::Action;
use crate::drives::checklists;
use crate::drives::lifecycle::{self, Transition};
use crate::drives::overview::{
    self, CalendarDrive, CalendarQuery, CancelPreview, DriveOverview, StopOverview, VehicleLabel,
};
use crate::drives::{Acting, DrivesError};
use crate::state::AppState;
use crate::versioned::Outcome;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::forms::{FormFields, FormState, field_errors};
use crate::web::templates::{ConflictRow, Figure, date, html};

/// At most this many drives in a month's calendar.
const MONTH_LIMIT: u64 = 500;

/// The moves the drive's page offers as buttons (cancelling has a page of its own).
const FORWARD: [DriveStatus; 3] = [
    DriveStatus::Published,
    DriveStatus::InProgress,
    DriveStatus::Completed,
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/station/drives", get(calendar))
        .route("/station/drives/{id}", get(drive_page))
        .route("/station/drives/{id}/transition", post(transition))
        .route("/station/drives/{id}/cancel", get(cancel_page).post(cancel))
        .route("/station/checklist-items/{id}", post(tick))
}

/// The signed-in reader, or "sign in first".
fn signed_in(page: &Page) -> Result<&Caller, PageError> {
    if page.signed_in() {
        Ok(&page.caller)
    } else {
        Err(PageError::SignIn)
    }
}

/// Who acts for the drive service: the reader, checked by the policy.
fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

fn status_label(page: &Page, status: DriveStatus) -> String {
    page.t(&format!("sdrive-status-{}", status.as_str()))
}

fn vehicle_label(page: &Page, vehicle: Option<&VehicleLabel>, id: i64) -> String {
    match vehicle {
        Some(v) => format!("{}（{}）", v.name, v.plate),
        None => page.t1("sdrive-vehicle-unknown", "id", id),
    }
}

/// `09:00–11:30`.
fn times(start: i32, end: i32) -> String {
    format!(
        "{}–{}",
        booking_rules::clock(start),
        booking_rules::clock(end)
    )
}

// ---------------------------------------------------------------------------------------------
// The calendar

/// A status to filter by, ticked or not.
#[derive(Debug, Clone)]
pub struct StatusChoice {
    pub value: &'static str,
    pub label: String,
    pub checked: bool,
}

/// A drive in the calendar.
#[derive(Debug, Clone)]
pub struct CalendarEntry {
    pub id: i64,
    pub status: &'static str,
    pub status_label: String,
    pub vehicle: String,
    /// The stops' places in order (`东岭村献血点 → 南塘镇献血点`).
    pub places: String,
    /// From the first stop's start to the last one's end.
    pub times: String,
}

/// A day of the month (`day` 0: a blank before the first).
#[derive(Debug, Clone)]
pub struct DayCell {
    pub day: u32,
    pub iso: String,
    /// `12月8日 星期二`.
    pub label: String,
    pub today: bool,
    pub drives: Vec<CalendarEntry>,
}

#[derive(askama::Template)]
#[template(path = "station_drives.html")]
pub struct CalendarPage<'a> {
    pub page: &'a Page,
    /// `2026年12月`.
    pub heading: String,
    /// `2026-12`.
    pub month: String,
    pub prev_href: String,
    pub next_href: String,
    pub this_href: String,
    pub statuses: Vec<StatusChoice>,
    pub weekdays: Vec<String>,
    pub cells: Vec<DayCell>,
    pub count: usize,
    pub more: bool,
    /// A plain sentence when the month asked for could not be read.
    pub problem: String,
}

/// The first day of the month `raw` names (`2026-12`).
fn month_of(raw: &str) -> Option<NaiveDate> {
    let (year, month) = raw.trim().split_once('-')?;
    let year: i32 = year.parse().ok()?;
    let month: u32 = month.parse().ok()?;
    if !(2000..=2200).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// The calendar's address for the month starting `first`, with `statuses`.
fn calendar_href(first: NaiveDate, statuses: &[DriveStatus]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("month", &first.format("%Y-%m").to_string());
    for s in statuses {
        query.append_pair("status", s.as_str());
    }
    format!("/station/drives?{}", query.finish())
}

fn calendar_entry(page: &Page, d: &CalendarDrive) -> CalendarEntry {
    let places = d
        .stops
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(" → ");
    let span = match (d.stops.first(), d.stops.last()) {
        (Some(first), Some(last)) => times(first.planned_start, last.planned_end),
        _ => String::new(),
    };
    CalendarEntry {
        id: d.drive.id,
        status: d.status.as_str(),
        status_label: status_label(page, d.status),
        vehicle: vehicle_label(page, d.vehicle.as_ref(), d.drive.vehicle_id),
        places,
        times: span,
    }
}

/// `GET /station/drives[?month=2026-12&status=published…]`: the month's drives in the statuses
/// ticked (all when none is), day by day.
async fn calendar(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let caller = signed_in(&page)?;
    let today = booking_rules::today_in_china(state.clock.now());
    let this_month = today.with_day(1).unwrap_or(today);
    let asked = query.iter().find(|(k, _)| k == "month").map(|(_, v)| v);
    let (first, problem) = match asked.map(|m| month_of(m)) {
        None => (this_month, String::new()),
        Some(Some(first)) => (first, String::new()),
        Some(None) => (this_month, page.t("sdrive-bad-month")),
    };
    let statuses: Vec<DriveStatus> = DriveStatus::ALL
        .iter()
        .copied()
        .filter(|s| query.iter().any(|(k, v)| k == "status" && v == s.as_str()))
        .collect();
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    let last = next.pred_opt().unwrap_or(first);
    let prev = first.checked_sub_months(Months::new(1)).unwrap_or(first);
    let found = overview::calendar(
        &state.db,
        &acting(caller),
        CalendarQuery {
            from: first,
            to: last,
            statuses: statuses.clone(),
            limit: MONTH_LIMIT,
        },
    )
    .await?;
    let lang = page.lang;
    let mut cells: Vec<DayCell> = (1..first.weekday().number_from_monday())
        .map(|_| DayCell {
            day: 0,
            iso: String::new(),
            label: String::new(),
            today: false,
            drives: vec![],
        })
        .collect();
    let mut day = first;
    while day <= last {
        cells.push(DayCell {
            day: day.day(),
            iso: day.to_string(),
            label: date(lang, day),
            today: day == today,
            drives: found
                .drives
                .iter()
                .filter(|d| d.drive.date == day)
                .map(|d| calendar_entry(&page, d))
                .collect(),
        });
        day = match day.checked_add_days(Days::new(1)) {
            Some(d) => d,
            None => break,
        };
    }
    let body = CalendarPage {
        heading: lang.tn(
            "sdrive-month",
            &[
                ("year", first.year().to_string().into()),
                ("month", first.month().into()),
                (
                    "monthname",
                    page.t(&format!("month-{}", first.month())).into(),
                ),
            ],
        ),
        month: first.format("%Y-%m").to_string(),
        prev_href: calendar_href(prev, &statuses),
        next_href: calendar_href(next, &statuses),
        this_href: calendar_href(this_month, &statuses),
        statuses: DriveStatus::ALL
            .iter()
            .map(|s| StatusChoice {
                value: s.as_str(),
                label: status_label(&page, *s),
                checked: statuses.contains(s),
            })
            .collect(),
        weekdays: (1..=7).map(|d| page.t(&format!("weekday-{d}"))).collect(),
        count: found.drives.len(),
        more: found.more,
        cells,
        problem,
        page: &page,
    };
    Ok(html(&body))
}

// ---------------------------------------------------------------------------------------------
// A drive's page

/// A lifecycle button: the status it moves the drive to.
#[derive(Debug, Clone)]
pub struct MoveButton {
    pub to: &'static str,
    pub label: String,
    pub hint: String,
}

/// A checklist item as the page shows it.
#[derive(Debug, Clone)]
pub struct ItemRow {
    pub id: i64,
    pub title: String,
    /// `12月1日前`.
    pub due: String,
    pub state: &'static str,
    /// `已完成` / `已逾期 3 天` …
    pub state_label: String,
    pub done: bool,
    /// Who ticked it, and when.
    pub done_note: String,
    pub version: i32,
    /// What just happened to it (`已记为完成。`), shown beside it.
    pub note: String,
}

/// A booking holding places in a slot.
#[derive(Debug, Clone)]
pub struct BookingRow {
    pub code: String,
    /// The person, or the group (organisation and contact).
    pub who: String,
    /// Places it holds in this slot (`3（共 6 人）` for a group spread over slots).
    pub count: String,
    pub status: &'static str,
    pub status_label: String,
    pub active: bool,
    /// Masked (`138****1234`); empty when none was given.
    pub mobile: String,
}

/// A slot with its bookings.
#[derive(Debug, Clone)]
pub struct SlotSection {
    pub times: String,
    /// `3 / 20`.
    pub fill: String,
    pub bookings: Vec<BookingRow>,
}

/// A public group request (holding no places while pending).
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub code: String,
    pub who: String,
    pub headcount: i32,
    pub status_label: String,
    pub mobile: String,
    /// The slots it prefers (`09:00, 09:30`), or any.
    pub preferred: String,
}

/// A stop of the drive with its checklist and bookings.
#[derive(Debug, Clone)]
pub struct StopSection {
    pub id: i64,
    pub seq: i32,
    pub name: String,
    pub times: String,
    pub expected: String,
    pub items: Vec<ItemRow>,
    pub may_tick: bool,
    pub slots: Vec<SlotSection>,
    /// Active places booked at the stop.
    pub booked: i32,
    pub requests: Vec<RequestRow>,
}

#[derive(askama::Template)]
#[template(path = "station_drive.html")]
pub struct DrivePage<'a> {
    pub page: &'a Page,
    pub id: i64,
    pub title: String,
    pub status: &'static str,
    pub status_label: String,
    pub version: i32,
    pub facts: Vec<Figure>,
    pub notice: String,
    pub problem: String,
    pub conflict: Vec<ConflictRow>,
    pub may_move: bool,
    pub moves: Vec<MoveButton>,
    /// Why a move the drive will make later is not offered yet (`当天才能开始`).
    pub waits: Vec<String>,
    pub may_cancel: bool,
    pub stops: Vec<StopSection>,
}

/// What a drive's page says beside the drive.
#[derive(Debug, Default)]
struct DriveView {
    notice: String,
    /// The checklist item just changed: the notice is shown beside it instead.
    item: Option<i64>,
    problem: String,
    conflict: Vec<ConflictRow>,
}

/// An item on `today`; on a cancelled drive an item not done is neither due nor late.
fn item_row(
    page: &Page,
    item: &checklist_item::Model,
    today: NaiveDate,
    cancelled: bool,
) -> ItemRow {
    let lang = page.lang;
    let state = checklist_rules::state(item.done, item.due_date, today);
    let state_label = match state {
        _ if cancelled && !item.done => page.t("sdrive-item-not-done"),
        ItemState::Late => page.t1(
            "sdrive-state-late",
            "days",
            checklist_rules::days_late(item.done, item.due_date, today),
        ),
        other => page.t(&format!("sdrive-state-{}", other.as_str())),
    };
    let done_note = match (&item.done_by, item.done_at) {
        (Some(by), Some(at)) if item.done => lang.tn(
            "sdrive-item-done-by",
            &[
                ("by", by.clone().into()),
                ("date", date(lang, checklist_rules::station_date(at)).into()),
            ],
        ),
        _ => String::new(),
    };
    ItemRow {
        id: item.id,
        title: item.title.clone(),
        due: page.t1("sdrive-item-due", "date", date(lang, item.due_date)),
        state: state.as_str(),
        state_label,
        done: item.done,
        done_note,
        version: item.version,
        note: String::new(),
    }
}

fn booking_status_label(page: &Page, status: &str) -> String {
    page.t(&format!("sdrive-booking-{status}"))
}

/// The person, or the group with its contact.
fn who_of(page: &Page, b: &booking::Model) -> String {
    match &b.organisation {
        Some(org) if b.kind == BookingKind::Group.as_str() => page.lang.tn(
            "sdrive-group-who",
            &[
                ("organisation", org.clone().into()),
                ("contact", b.name.clone().into()),
            ],
        ),
        _ => b.name.clone(),
    }
}

fn booking_row(page: &Page, b: &booking::Model, places: i32) -> BookingRow {
    let who = who_of(page, b);
    let status = b
        .status
        .parse::<BookingStatus>()
        .map_or("cancelled", |s| s.as_str());
    BookingRow {
        code: b.code.clone(),
        who,
        count: if places == b.headcount {
            places.to_string()
        } else {
            page.lang.tn(
                "sdrive-places-of",
                &[("places", places.into()), ("headcount", b.headcount.into())],
            )
        },
        status,
        status_label: booking_status_label(page, status),
        active: status == BookingStatus::Active.as_str(),
        mobile: b.mobile.as_deref().map(mask_phone).unwrap_or_default(),
    }
}

/// The stop's slots, each with the bookings holding places in it (then any booking holding
/// none, under a slot of its own).
fn slot_sections(
    page: &Page,
    slots: &[booking_slot::Model],
    bookings: &[booking::Model],
    parts: &[booking_part::Model],
) -> Vec<SlotSection> {
    let mut sections: Vec<SlotSection> = slots
        .iter()
        .map(|slot| SlotSection {
            times: times(slot.starts, slot.ends),
            fill: format!("{} / {}", slot.booked, slot.capacity),
            bookings: bookings
                .iter()
                .filter_map(|b| {
                    let places: i32 = parts
                        .iter()
                        .filter(|p| p.booking_id == b.id && p.slot_id == slot.id)
                        .map(|p| p.places)
                        .sum();
                    (places > 0).then(|| booking_row(page, b, places))
                })
                .collect(),
        })
        .filter(|s| !s.bookings.is_empty() || s.fill != "0 / 0")
        .collect();
    let loose: Vec<BookingRow> = bookings
        .iter()
        .filter(|b| !parts.iter().any(|p| p.booking_id == b.id))
        .map(|b| booking_row(page, b, b.headcount))
        .collect();
    if !loose.is_empty() {
        sections.push(SlotSection {
            times: page.t("sdrive-slot-none"),
            fill: String::new(),
            bookings: loose,
        });
    }
    sections
}

fn request_row(page: &Page, r: &group_request::Model) -> RequestRow {
    let status = r
        .status
        .parse::<RequestStatus>()
        .map_or("pending", |s| s.as_str());
    let preferred: Vec<&str> = r.preferred.split(',').filter(|s| !s.is_empty()).collect();
    RequestRow {
        code: r.code.clone(),
        who: page.lang.tn(
            "sdrive-group-who",
            &[
                ("organisation", r.organisation.clone().into()),
                ("contact", r.contact_name.clone().into()),
            ],
        ),
        headcount: r.headcount,
        status_label: page.t(&format!("sdrive-request-{status}")),
        mobile: r.mobile.as_deref().map(mask_phone).unwrap_or_default(),
        preferred: if preferred.is_empty() {
            page.t("sdrive-any-slot")
        } else {
            preferred.join("、")
        },
    }
}

/// A stop on `today`; `just` is the item just changed and what to say beside it.
fn stop_section(
    page: &Page,
    s: &StopOverview,
    today: NaiveDate,
    cancelled: bool,
    just: Option<(i64, &str)>,
) -> StopSection {
    StopSection {
        id: s.stop.id,
        seq: s.stop.seq,
        name: s.stop.name.clone(),
        times: times(s.stop.planned_start, s.stop.planned_end),
        expected: format!("{:.0}", s.stop.expected_donors),
        items: s
            .items
            .iter()
            .map(|i| {
                let mut row = item_row(page, i, today, cancelled);
                if let Some((id, note)) = just
                    && id == i.id
                {
                    row.note = note.to_owned();
                }
                row
            })
            .collect(),
        // A cancelled drive's checklist no longer changes.
        may_tick: s.may_tick && !cancelled,
        slots: slot_sections(page, &s.slots, &s.bookings, &s.parts),
        booked: s
            .bookings
            .iter()
            .filter(|b| b.status == BookingStatus::Active.as_str())
            .map(|b| b.headcount)
            .sum(),
        requests: s.requests.iter().map(|r| request_row(page, r)).collect(),
    }
}

/// Whether `status` may move to `to` at all (the state machine, a reason taken as given).
fn can_move(status: DriveStatus, to: DriveStatus) -> bool {
    rules::transition(status, to, Some("-")).is_ok()
}

/// Renders the drive's page from what was read, with `view` beside it.
fn render_drive(page: &Page, o: &DriveOverview, today: NaiveDate, view: DriveView) -> Response {
    let lang = page.lang;
    let d = &o.drive;
    let mut moves = Vec::new();
    let mut waits = Vec::new();
    if o.may_move {
        for to in FORWARD {
            if !can_move(o.status, to) {
                continue;
            }
            if rules::day_allows(DayBound::Move(to), d.date, today).is_ok() {
                moves.push(MoveButton {
                    to: to.as_str(),
                    label: page.t(&format!("sdrive-move-{}", to.as_str())),
                    hint: page.t(&format!("sdrive-move-{}-hint", to.as_str())),
                });
            } else {
                waits.push(page.t1(
                    &format!("sdrive-wait-{}", to.as_str()),
                    "date",
                    date(lang, d.date),
                ));
            }
        }
    }
    let mut facts = vec![
        Figure {
            label: page.t("sdrive-date"),
            value: date(lang, d.date),
        },
        Figure {
            label: page.t("sdrive-vehicle"),
            value: vehicle_label(page, o.vehicle.as_ref(), d.vehicle_id),
        },
        Figure {
            label: page.t("sdrive-origin"),
            value: match d.plan_id {
                Some(plan) => page.t1("sdrive-from-plan", "plan", plan),
                None => page.t("sdrive-by-hand"),
            },
        },
    ];
    if let Some(reason) = &d.cancel_reason {
        facts.push(Figure {
            label: page.t("sdrive-cancel-reason"),
            value: reason.clone(),
        });
    }
    let title = page.lang.tn(
        "sdrive-drive-title",
        &[
            ("date", date(lang, d.date).into()),
            (
                "vehicle",
                o.vehicle
                    .as_ref()
                    .map_or_else(
                        || page.t1("sdrive-vehicle-unknown", "id", d.vehicle_id),
                        |v| v.name.clone(),
                    )
                    .into(),
            ),
        ],
    );
    let body = DrivePage {
        page,
        id: d.id,
        title,
        status: o.status.as_str(),
        status_label: status_label(page, o.status),
        version: d.version,
        facts,
        notice: if view.item.is_some() {
            String::new()
        } else {
            view.notice.clone()
        },
        problem: view.problem,
        conflict: view.conflict,
        may_move: o.may_move,
        moves,
        waits,
        may_cancel: o.may_move && can_move(o.status, DriveStatus::Cancelled),
        stops: o
            .stops
            .iter()
            .map(|s| {
                let just = view.item.map(|id| (id, view.notice.as_str()));
                stop_section(page, s, today, o.status == DriveStatus::Cancelled, just)
            })
            .collect(),
    };
    html(&body)
}

/// Reads drive `id` for `page` and renders it with `view`, sent with `status`.
async fn show_drive(
    state: &AppState,
    page: &Page,
    id: i64,
    view: DriveView,
    status: StatusCode,
) -> Result<Response, PageError> {
    let caller = signed_in(page)?;
    let found = overview::overview(&state.db, &acting(caller), id).await?;
    let today = booking_rules::today_in_china(state.clock.now());
    let mut response = render_drive(page, &found, today, view);
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    /// What just happened: a status moved to, `ticked`, `unticked`.
    done: Option<String>,
    /// With `done=cancelled`: how many bookings were told.
    told: Option<u32>,
    /// With `done=ticked` or `unticked`: the item.
    item: Option<i64>,
}

/// `GET /station/drives/{id}`: the drive, its stops, checklists and bookings.
async fn drive_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let notice = match done.done.as_deref() {
        Some("cancelled") => page.t1("sdrive-done-cancelled", "count", done.told.unwrap_or(0)),
        Some(what @ ("published" | "in_progress" | "completed" | "ticked" | "unticked")) => {
            page.t(&format!("sdrive-done-{what}"))
        }
        _ => String::new(),
    };
    show_drive(
        &state,
        &page,
        id,
        DriveView {
            notice,
            item: done.item,
            ..DriveView::default()
        },
        StatusCode::OK,
    )
    .await
}

/// The version a form was filled against.
fn version_of(form: &FormFields) -> Option<i32> {
    form.get("version").and_then(|v| v.parse().ok())
}

/// What a refused move says, read against the drive as it is now (`current`, `today`).
fn refusal(page: &Page, current: &DriveOverview, to: DriveStatus, today: NaiveDate) -> String {
    if can_move(current.status, to) {
        if rules::day_allows(DayBound::Move(to), current.drive.date, today).is_err() {
            return page.t1(
                &format!("sdrive-wait-{}", to.as_str()),
                "date",
                date(page.lang, current.drive.date),
            );
        }
        return page.t("sdrive-refused");
    }
    page.lang.tn(
        "sdrive-refused-state",
        &[
            ("status", status_label(page, current.status).into()),
            (
                "action",
                page.t(&format!("sdrive-move-{}", to.as_str())).into(),
            ),
        ],
    )
}

/// The drive's move to `to` (`version` as the page showed it): done, back to the drive's page;
/// stale or refused, the page again with what happened and what to do. The bookings a
/// cancellation told are counted in the notice.
async fn move_drive(
    state: &AppState,
    page: &Page,
    id: i64,
    to: Option<DriveStatus>,
    form: &FormFields,
) -> Result<Result<Response, DrivesError>, PageError> {
    let caller = signed_in(page)?;
    let acting = acting(caller);
    // Who may not move the drive is answered first (403, or 404 outside their reach).
    let current = crate::drives::find_for(&state.db, &acting, Action::Update, id).await?;
    let today = booking_rules::today_in_china(state.clock.now());
    let Some(to) = to else {
        let view = DriveView {
            problem: page.t("sdrive-refused"),
            ..DriveView::default()
        };
        return show_drive(state, page, id, view, StatusCode::BAD_REQUEST)
            .await
            .map(Ok);
    };
    let seen = form
        .get("status")
        .and_then(|s| s.parse::<DriveStatus>().ok());
    let Some(expected) = version_of(form) else {
        let view = DriveView {
            problem: page.t("sdrive-bad-version"),
            ..DriveView::default()
        };
        return show_drive(state, page, id, view, StatusCode::BAD_REQUEST)
            .await
            .map(Ok);
    };
    let command = Transition {
        to: to.as_str().to_owned(),
        reason: form.get("reason"),
    };
    let outcome = lifecycle::transition(
        &state.db,
        current,
        expected,
        command,
        &acting,
        state.clock.now(),
    )
    .await;
    match outcome {
        Ok(Outcome::Updated((moved, effects))) => {
            let mut next = format!("/station/drives/{}?done={}", moved.id, to.as_str());
            if let Some(told) = effects.and_then(|e| e.booked) {
                next.push_str(&format!("&told={}", told.len()));
            }
            Ok(Ok(Redirect::to(&next).into_response()))
        }
        Ok(Outcome::Stale(_)) => {
            let found = overview::overview(&state.db, &acting, id).await?;
            let conflict = vec![ConflictRow {
                label: page.t("sdrive-status"),
                mine: seen.map_or_else(String::new, |s| status_label(page, s)),
                current: status_label(page, found.status),
            }];
            let view = DriveView {
                problem: page.lang.tn(
                    "sdrive-stale",
                    &[
                        ("status", status_label(page, found.status).into()),
                        (
                            "action",
                            page.t(&format!("sdrive-move-{}", to.as_str())).into(),
                        ),
                    ],
                ),
                conflict,
                ..DriveView::default()
            };
            let mut response = render_drive(page, &found, today, view);
            *response.status_mut() = StatusCode::CONFLICT;
            Ok(Ok(response))
        }
        Err(DrivesError::Conflict(_)) => {
            let found = overview::overview(&state.db, &acting, id).await?;
            let view = DriveView {
                problem: refusal(page, &found, to, today),
                ..DriveView::default()
            };
            let mut response = render_drive(page, &found, today, view);
            *response.status_mut() = StatusCode::CONFLICT;
            Ok(Ok(response))
        }
        Err(e) => Ok(Err(e)),
    }
}

/// `POST /station/drives/{id}/transition` (`to`, `version`, `status` as shown): publish, start
/// or complete the drive.
async fn transition(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let to = form
        .get("to")
        .and_then(|t| t.parse::<DriveStatus>().ok())
        .filter(|t| FORWARD.contains(t));
    match move_drive(&state, &page, id, to, &form).await? {
        Ok(response) => Ok(response),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Cancelling

/// Someone a cancellation tells.
#[derive(Debug, Clone)]
pub struct ToldRow {
    pub stop: String,
    pub code: String,
    pub who: String,
    pub headcount: i32,
    pub mobile: String,
}

#[derive(askama::Template)]
#[template(path = "station_drive_cancel.html")]
pub struct CancelPage<'a> {
    pub page: &'a Page,
    pub id: i64,
    pub title: String,
    pub status: &'static str,
    pub status_label: String,
    /// The drive may still be cancelled.
    pub open: bool,
    pub told: Vec<ToldRow>,
    /// `将取消 2 个预约（共 7 人）…`.
    pub told_lead: String,
    pub form: FormState,
    pub problem: String,
}

fn render_cancel(
    page: &Page,
    preview: &CancelPreview,
    form: FormState,
    problem: String,
) -> Response {
    let lang = page.lang;
    let told: Vec<ToldRow> = preview
        .booked
        .iter()
        .map(|c| {
            let who = who_of(page, &c.booking);
            ToldRow {
                stop: preview
                    .stops
                    .iter()
                    .find(|s| s.id == c.stop_id)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                code: c.booking.code.clone(),
                who,
                headcount: c.booking.headcount,
                mobile: c
                    .booking
                    .mobile
                    .as_deref()
                    .map(mask_phone)
                    .unwrap_or_default(),
            }
        })
        .collect();
    let body = CancelPage {
        page,
        id: preview.drive.id,
        title: page.t1(
            "sdrive-cancel-title",
            "date",
            date(lang, preview.drive.date),
        ),
        status: preview.status.as_str(),
        status_label: status_label(page, preview.status),
        open: can_move(preview.status, DriveStatus::Cancelled),
        told_lead: lang.tn(
            "sdrive-told-lead",
            &[
                ("count", told.len().into()),
                (
                    "people",
                    told.iter().map(|t| t.headcount).sum::<i32>().into(),
                ),
            ],
        ),
        told,
        form,
        problem,
    };
    html(&body)
}

/// `GET /station/drives/{id}/cancel`: whom cancelling the drive would tell (every active
/// booking), and the form that cancels it with a reason. For readers who may move the drive.
async fn cancel_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let caller = signed_in(&page)?;
    let preview = overview::cancel_preview(&state.db, &acting(caller), id).await?;
    let form = FormState::new(FormFields::of(&[(
        "version",
        preview.drive.version.to_string(),
    )]));
    Ok(render_cancel(&page, &preview, form, String::new()))
}

/// `POST /station/drives/{id}/cancel` (`reason`, `version`, `status` as shown): cancels the
/// drive and every booking with it, each told. Without a reason, the form again with the field
/// marked; stale or refused, the drive's page saying so.
async fn cancel(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let caller = signed_in(&page)?;
    let refused = async |errors: Vec<crate::error::FieldError>| {
        let preview = overview::cancel_preview(&state.db, &acting(caller), id).await?;
        let mut values = form.clone();
        values.set("version", preview.drive.version.to_string());
        let mut response = render_cancel(
            &page,
            &preview,
            FormState {
                values,
                errors: field_errors(&page, "sdrive", &errors),
            },
            page.t("sdrive-cancel-not-yet"),
        );
        *response.status_mut() = StatusCode::BAD_REQUEST;
        Ok::<Response, PageError>(response)
    };
    if form.get("reason").is_none() {
        return refused(vec![crate::error::FieldError::new(
            "reason",
            "cancelling a drive needs a reason",
        )])
        .await;
    }
    match move_drive(&state, &page, id, Some(DriveStatus::Cancelled), &form).await? {
        Ok(response) => Ok(response),
        Err(DrivesError::InvalidField { field, message }) => {
            refused(vec![crate::error::FieldError::new(
                field.as_str(),
                message.as_str(),
            )])
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The checklist

/// `POST /station/checklist-items/{id}` (`done` 1 or 0, `version`): ticks the item done or
/// undone, then back to its drive's page at its stop. Stale: the page with the item as it is
/// now beside what was asked; refused (a cancelled drive): the page saying so.
async fn tick(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let caller = signed_in(&page)?;
    let acting = acting(caller);
    let found = checklists::item_for(&state.db, &acting, id).await?;
    let drive_id = found.drive.id;
    let title = found.item.title.clone();
    let done = form.get("done").as_deref() == Some("1");
    let Some(expected) = version_of(&form) else {
        let view = DriveView {
            problem: page.t("sdrive-bad-version"),
            ..DriveView::default()
        };
        return show_drive(&state, &page, drive_id, view, StatusCode::BAD_REQUEST).await;
    };
    let now = state.clock.now();
    match checklists::tick(&state.db, found, expected, done, &acting, now).await {
        Ok(Outcome::Updated(_)) => {
            let what = if done { "ticked" } else { "unticked" };
            Ok(Redirect::to(&format!(
                "/station/drives/{drive_id}?done={what}&item={id}#item-{id}"
            ))
            .into_response())
        }
        Ok(Outcome::Stale(item)) => {
            let shown = |is_done: bool| {
                page.t(if is_done {
                    "sdrive-item-done"
                } else {
                    "sdrive-item-not-done"
                })
            };
            let view = DriveView {
                problem: page.t("sdrive-item-stale"),
                conflict: vec![ConflictRow {
                    label: title,
                    mine: shown(done),
                    current: shown(item.done),
                }],
                ..DriveView::default()
            };
            show_drive(&state, &page, drive_id, view, StatusCode::CONFLICT).await
        }
        Err(DrivesError::Conflict(_)) => {
            let view = DriveView {
                problem: page.t("sdrive-item-cancelled"),
                ..DriveView::default()
            };
            show_drive(&state, &page, drive_id, view, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}
