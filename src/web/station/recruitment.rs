//! The recruiter's pages for one-to-one recruitment (issue 16), for station staff and admins
//! (officials and viewers get 403; beyond the caller's area a need or a call does not exist):
//!
//! - `/station/recruitment`: the hub: links to the other recruitment pages, the needs (open
//!   first, with their progress against the target) and the form that records a need;
//! - `/station/recruitment/needs/{id}`: a need: its progress (booked against the target, calls
//!   waiting, outcomes, per recruiter), close or reopen (versioned), the form that gives out
//!   the next calls among recruiters, and the calls made;
//! - `/station/recruitment/calls[?need=ID]`: the recruiter's call screen, phone first: one card
//!   per waiting call (donor masked), the whole number on purpose (a post, audited by
//!   `recruitment::roster::reveal_mobile`) as a `tel:` link, the outcome recorded once, and,
//!   when the need is at a published drive's stop, its free slots to book the donor into
//!   (`recruitment::calls::book_from_call`: the booking and the call's outcome together).
//!
//! Every rule is the service's (`recruitment::calls`); these handlers read a form, call one
//! use case and render.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::bookings::{BookingsError, Why};
use crate::domain::host::mask_name;
use crate::error::FieldError;
use crate::recruitment::calls::{
    self, Assign, BookFromCall, CallCard, CallView, NeedView, NewNeed, Outcome,
};
use crate::recruitment::{Acting, RecruitmentError, roster};
use crate::state::AppState;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::forms::{FormFields, FormState, field_errors};
use crate::web::templates::{ConflictRow, PlaceLink, date, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/station/recruitment", get(hub))
        .route("/station/recruitment/needs", post(create_need))
        .route("/station/recruitment/needs/{id}", get(need_page))
        .route("/station/recruitment/needs/{id}/status", post(set_status))
        .route("/station/recruitment/needs/{id}/assign", post(assign))
        .route("/station/recruitment/calls", get(call_screen))
        .route("/station/recruitment/calls/{id}/mobile", post(reveal))
        .route("/station/recruitment/calls/{id}/outcome", post(record))
        .route("/station/recruitment/calls/{id}/booking", post(book))
}

/// The blood groups a need may ask for, in the order the form offers them.
const GROUPS: [&str; 8] = ["O+", "A+", "B+", "AB+", "O-", "A-", "B-", "AB-"];
/// The kinds of donation a need may ask for.
const KINDS: [&str; 2] = ["whole_blood", "platelets"];
/// The outcomes the call screen's form offers (booked from a slot has a form of its own).
const OUTCOMES: [&str; 5] = [
    "booked",
    "declined",
    "no_answer",
    "not_eligible",
    "do_not_call",
];

/// Who acts, for the service; "sign in first" for nobody.
fn acting(page: &Page) -> Result<Acting<'_>, PageError> {
    let principal = page.caller.principal.as_ref().ok_or(PageError::SignIn)?;
    Ok(Acting::caller(Some(principal), page.caller.actor()))
}

fn kind_label(page: &Page, kind: &str) -> String {
    page.t(&format!("srec-kind-{kind}"))
}

fn outcome_label(page: &Page, outcome: &str) -> String {
    page.t(&format!("srec-outcome-{outcome}"))
}

/// A progress bar's filled width (of 100) for `done` of `target`.
fn percent(done: i64, target: i32) -> i64 {
    if target <= 0 {
        return 0;
    }
    (done * 100 / i64::from(target)).clamp(0, 100)
}

// --- the hub --------------------------------------------------------------------------------

/// A need in the hub's list.
pub struct NeedRow {
    pub id: i64,
    pub open: bool,
    pub status: String,
    pub groups: String,
    pub kind: String,
    pub target: i32,
    pub needed_by: String,
    pub place: String,
    pub booked: i64,
    pub waiting: i64,
    pub percent: i64,
}

fn need_row(page: &Page, n: &NeedView) -> NeedRow {
    NeedRow {
        id: n.id,
        open: n.status == "open",
        status: page.t(&format!("srec-status-{}", n.status)),
        groups: n.blood_groups.replace(',', " "),
        kind: kind_label(page, &n.kind),
        target: n.target,
        needed_by: date(page.lang, n.needed_by),
        place: n.place_name.clone(),
        booked: n.progress.booked,
        waiting: n.progress.waiting,
        percent: percent(n.progress.booked, n.target),
    }
}

/// A link of the hub's row of links.
pub struct HubLink {
    pub id: &'static str,
    pub href: &'static str,
    pub label: String,
}

#[derive(Template)]
#[template(path = "station_recruitment.html")]
pub struct HubPage<'a> {
    pub page: &'a Page,
    pub links: Vec<HubLink>,
    pub needs: Vec<NeedRow>,
    pub problem: String,
    pub form: FormState,
    pub groups: Vec<&'static str>,
    pub kinds: Vec<(&'static str, String)>,
    pub regions: Vec<PlaceLink>,
    /// (value, label): `station-ID` or `stop-ID`.
    pub stations: Vec<(String, String)>,
    pub stops: Vec<(String, String)>,
}

async fn render_hub(
    state: &AppState,
    page: &Page,
    form: FormState,
    problem: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let who = acting(page)?;
    let now = state.clock.now();
    let mut needs = calls::list_needs(&state.db, None, 100, &who).await?;
    // Open needs first, each part newest first (as listed).
    needs.sort_by_key(|n| n.status != "open");
    let places = calls::need_places(&state.db, &who, now).await?;
    let regions = super::region_choices(state, page).await?;
    let lang = page.lang;
    let body = HubPage {
        page,
        links: vec![
            HubLink {
                id: "srec-link-roster",
                href: "/station/recruitment/roster",
                label: page.t("srec-link-roster"),
            },
            HubLink {
                id: "srec-link-calls",
                href: "/station/recruitment/calls",
                label: page.t("srec-link-calls"),
            },
            HubLink {
                id: "srec-link-appeals",
                href: "/station/appeals",
                label: page.t("srec-link-appeals"),
            },
            HubLink {
                id: "srec-link-chat-groups",
                href: "/station/chat-groups",
                label: page.t("srec-link-chat-groups"),
            },
            HubLink {
                id: "srec-link-hosts",
                href: "/hosts",
                label: page.t("srec-link-hosts"),
            },
            HubLink {
                id: "srec-link-talks",
                href: "/talks",
                label: page.t("srec-link-talks"),
            },
        ],
        needs: needs.iter().map(|n| need_row(page, n)).collect(),
        problem,
        form,
        groups: GROUPS.to_vec(),
        kinds: KINDS.iter().map(|k| (*k, kind_label(page, k))).collect(),
        regions,
        stations: places
            .stations
            .into_iter()
            .map(|(id, name)| (format!("station-{id}"), name))
            .collect(),
        stops: places
            .stops
            .into_iter()
            .map(|(id, day, name)| {
                (
                    format!("stop-{id}"),
                    format!("{} · {name}", date(lang, day)),
                )
            })
            .collect(),
    };
    let mut response = html(&body);
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /station/recruitment`: the hub.
async fn hub(State(state): State<AppState>, page: Page) -> Result<Response, PageError> {
    let today = crate::domain::booking::today_in_china(state.clock.now());
    let form = FormState::new(FormFields::of(&[
        ("kind", "whole_blood".to_owned()),
        ("target", "10".to_owned()),
        ("needed_by", today.to_string()),
    ]));
    render_hub(&state, &page, form, String::new(), StatusCode::OK).await
}

/// `POST /station/recruitment/needs`: records a need; on to its page, else the hub again with
/// each faulty field named beside it.
async fn create_need(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    let who = acting(&page)?;
    let mut errors = Vec::new();
    let needed_by = match form.get("needed_by").map(|d| d.parse::<NaiveDate>()) {
        Some(Ok(day)) => day,
        _ => {
            errors.push(FieldError::new("needed_by", "must be a date"));
            NaiveDate::MIN
        }
    };
    let place = form.get("place").unwrap_or_default();
    let id_of = |prefix: &str| {
        place
            .strip_prefix(prefix)
            .and_then(|id| id.parse::<i64>().ok())
    };
    let cmd = NewNeed {
        region_code: form.get("region_code").unwrap_or_default(),
        blood_groups: form.all("blood_groups").join(","),
        kind: form.get("kind"),
        // Not a number: 0, which the service refuses naming the field.
        target: form.get("target").and_then(|t| t.parse().ok()).unwrap_or(0),
        needed_by,
        stop_id: id_of("stop-"),
        station_id: id_of("station-"),
        notes: form.get("notes"),
    };
    let result = calls::create_need(&state.db, cmd, &who, state.clock.now()).await;
    match result {
        Ok(need) if errors.is_empty() => {
            Ok(Redirect::to(&format!("/station/recruitment/needs/{}", need.id)).into_response())
        }
        Ok(_) => unreachable!("a need by no date is refused"),
        Err(RecruitmentError::Invalid(more)) => {
            for e in more {
                // The form names the place once, whichever the service named.
                let field = match e.field.as_str() {
                    "stop_id" | "station_id" => "place".to_owned(),
                    other => other.to_owned(),
                };
                if !errors.iter().any(|f: &FieldError| f.field == field) {
                    errors.push(FieldError::new(field, e.message));
                }
            }
            let form = FormState {
                errors: field_errors(&page, "srec", &errors),
                values: form,
            };
            render_hub(
                &state,
                &page,
                form,
                page.t("srec-invalid"),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// --- a need ---------------------------------------------------------------------------------

/// A figure of a need's progress.
pub struct NeedFigure {
    pub id: String,
    pub label: String,
    pub value: String,
}

/// A recruiter's row of a need's progress.
pub struct RecruiterRow {
    pub name: String,
    pub assigned: i64,
    pub called: i64,
    pub booked: i64,
}

/// A call in a need's list.
pub struct CallRow {
    pub id: i64,
    pub donor: String,
    pub mobile: String,
    pub group: String,
    pub recruiter: String,
    pub outcome: String,
    pub outcome_class: String,
    pub notes: String,
}

/// An account the assign form offers.
pub struct RecruiterChoice {
    pub username: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "station_recruitment_need.html")]
pub struct NeedPage<'a> {
    pub page: &'a Page,
    pub id: i64,
    pub version: i32,
    pub open: bool,
    pub title: String,
    pub place: String,
    pub needed_by: String,
    pub notes: String,
    pub status: String,
    pub booked: i64,
    pub target: i32,
    pub percent: i64,
    pub figures: Vec<NeedFigure>,
    pub recruiters: Vec<RecruiterRow>,
    pub calls: Vec<CallRow>,
    pub choices: Vec<RecruiterChoice>,
    pub notice: String,
    pub problem: String,
    pub conflict: Vec<ConflictRow>,
    pub form: FormState,
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    done: Option<String>,
    need: Option<i64>,
    code: Option<String>,
}

/// What a need's page shows besides the need.
#[derive(Default)]
struct NeedExtras {
    notice: String,
    problem: String,
    conflict: Vec<ConflictRow>,
    form: Option<FormState>,
}

async fn render_need(
    state: &AppState,
    page: &Page,
    id: i64,
    extras: NeedExtras,
    status: StatusCode,
) -> Result<Response, PageError> {
    let who = acting(page)?;
    let need = calls::get_need(&state.db, id, &who).await?;
    let calls_made = calls::calls(&state.db, id, None, &who).await?;
    let choices = calls::recruiters(&state.db, id, &who).await?;
    let p = &need.progress;
    let mut figures = vec![
        NeedFigure {
            id: "booked".to_owned(),
            label: page.t("srec-fig-booked"),
            value: format!("{} / {}", p.booked, p.target),
        },
        NeedFigure {
            id: "waiting".to_owned(),
            label: page.t("srec-fig-waiting"),
            value: p.waiting.to_string(),
        },
    ];
    for outcome in OUTCOMES {
        figures.push(NeedFigure {
            id: outcome.to_owned(),
            label: outcome_label(page, outcome),
            value: p.outcomes.get(outcome).copied().unwrap_or(0).to_string(),
        });
    }
    let me = page.username();
    let form = extras.form.unwrap_or_else(|| {
        FormState::new(FormFields::of(&[
            ("count", "10".to_owned()),
            ("recruiters", me.clone()),
        ]))
    });
    let body = NeedPage {
        page,
        id: need.id,
        version: need.version,
        open: need.status == "open",
        title: page.t1(
            "srec-need-title",
            "groups",
            need.blood_groups.replace(',', " "),
        ),
        place: need.place_name.clone(),
        needed_by: date(page.lang, need.needed_by),
        notes: need.notes.clone().unwrap_or_default(),
        status: page.t(&format!("srec-status-{}", need.status)),
        booked: p.booked,
        target: need.target,
        percent: percent(p.booked, need.target),
        figures,
        recruiters: p
            .recruiters
            .iter()
            .map(|r| RecruiterRow {
                name: r.recruiter.clone(),
                assigned: r.assigned,
                called: r.called,
                booked: r.booked,
            })
            .collect(),
        calls: calls_made.iter().map(|c| call_row(page, c)).collect(),
        choices: choices
            .into_iter()
            .map(|r| RecruiterChoice {
                label: if r.display_name.is_empty() || r.display_name == r.username {
                    r.username.clone()
                } else {
                    format!("{} ({})", r.display_name, r.username)
                },
                username: r.username,
            })
            .collect(),
        notice: extras.notice,
        problem: extras.problem,
        conflict: extras.conflict,
        form,
    };
    let mut response = html(&body);
    *response.status_mut() = status;
    Ok(response)
}

fn call_row(page: &Page, c: &CallView) -> CallRow {
    let (donor, mobile, group) = match &c.donor {
        Some(d) => (
            mask_name(&d.name),
            d.mobile.clone(),
            d.blood_group
                .clone()
                .unwrap_or_else(|| page.t("srec-group-unknown")),
        ),
        None => (page.t("srec-donor-gone"), String::new(), String::new()),
    };
    let outcome = c.outcome.clone().unwrap_or_else(|| "waiting".to_owned());
    CallRow {
        id: c.id,
        donor,
        mobile,
        group,
        recruiter: c.recruiter.clone(),
        outcome: outcome_label(page, &outcome),
        outcome_class: outcome,
        notes: c.notes.clone().unwrap_or_default(),
    }
}

/// `GET /station/recruitment/needs/{id}`.
async fn need_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let notice = match done.done.as_deref() {
        Some(what @ ("assigned" | "closed" | "open")) => page.t(&format!("srec-done-{what}")),
        _ => String::new(),
    };
    let extras = NeedExtras {
        notice,
        ..NeedExtras::default()
    };
    render_need(&state, &page, id, extras, StatusCode::OK).await
}

/// `POST /station/recruitment/needs/{id}/status`: close or reopen at the version shown.
async fn set_status(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let who = acting(&page)?;
    let open = match form.get("status").as_deref() {
        Some("open") => true,
        Some("closed") => false,
        _ => return Err(PageError::status(StatusCode::BAD_REQUEST)),
    };
    let Some(version) = form.get("version").and_then(|v| v.parse::<i32>().ok()) else {
        return Err(PageError::status(StatusCode::BAD_REQUEST));
    };
    match calls::set_open(&state.db, id, open, Some(version), &who, state.clock.now()).await {
        Ok(n) => Ok(Redirect::to(&format!(
            "/station/recruitment/needs/{id}?done={}",
            n.status
        ))
        .into_response()),
        Err(RecruitmentError::Conflict(_)) => {
            let current = calls::get_need(&state.db, id, &who).await?;
            let mine = if open { "open" } else { "closed" };
            let extras = NeedExtras {
                problem: page.t("srec-stale"),
                conflict: vec![ConflictRow {
                    label: page.t("srec-status"),
                    mine: page.t(&format!("srec-status-{mine}")),
                    current: page.t(&format!("srec-status-{}", current.status)),
                }],
                ..NeedExtras::default()
            };
            render_need(&state, &page, id, extras, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /station/recruitment/needs/{id}/assign`: the next `count` donors among the ticked
/// recruiters.
async fn assign(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let who = acting(&page)?;
    let cmd = Assign {
        count: form.get("count").and_then(|c| c.parse().ok()).unwrap_or(0),
        recruiters: form.all("recruiters"),
    };
    match calls::assign(&state.db, id, cmd, &who, state.clock.now()).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/station/recruitment/needs/{id}?done=assigned")).into_response(),
        ),
        Err(RecruitmentError::Invalid(errors)) => {
            let extras = NeedExtras {
                problem: page.t("srec-invalid"),
                form: Some(FormState {
                    errors: field_errors(&page, "srec", &errors),
                    values: form,
                }),
                ..NeedExtras::default()
            };
            render_need(&state, &page, id, extras, StatusCode::BAD_REQUEST).await
        }
        Err(RecruitmentError::Conflict(_)) => {
            let extras = NeedExtras {
                problem: page.t("srec-closed-no-calls"),
                form: Some(FormState::new(form)),
                ..NeedExtras::default()
            };
            render_need(&state, &page, id, extras, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

// --- the call screen ------------------------------------------------------------------------

/// A waiting call as its card shows it.
pub struct Card {
    pub id: i64,
    pub need: String,
    pub name: String,
    pub mobile: String,
    /// The whole number, once shown on purpose.
    pub whole: String,
    pub group: String,
    pub last: String,
    pub distance: String,
    /// `HH:MM` and its label, of the need's stop's free slots.
    pub slots: Vec<(String, String)>,
    /// The need asks donors to a drive stop (whose drive may not take bookings yet).
    pub at_stop: bool,
}

#[derive(Template)]
#[template(path = "station_recruitment_calls.html")]
pub struct CallsPage<'a> {
    pub page: &'a Page,
    pub need: Option<i64>,
    pub cards: Vec<Card>,
    pub outcomes: Vec<(&'static str, String)>,
    pub notice: String,
    pub problem: String,
    /// The card the problem or the typed form belongs to.
    pub for_call: i64,
    pub form: FormState,
}

impl CallsPage<'_> {
    /// The typed value of `name` on card `id`'s forms.
    fn typed(&self, id: &i64, name: &str) -> String {
        if *id == self.for_call {
            self.form.value(name)
        } else {
            String::new()
        }
    }

    /// The error of `name` on card `id`'s forms.
    fn err(&self, id: &i64, name: &str) -> String {
        if *id == self.for_call {
            self.form.error(name)
        } else {
            String::new()
        }
    }
}

fn card(page: &Page, c: &CallCard, whole: Option<&str>) -> Card {
    let lang = page.lang;
    let d = c.call.donor.as_ref();
    let last = match d.and_then(|d| d.last_donation_on) {
        Some(day) => {
            let kind = d
                .and_then(|d| d.last_donation_kind.as_deref())
                .map(|k| kind_label(page, k))
                .unwrap_or_default();
            format!("{} {kind}", crate::web::templates::full_date(lang, day))
                .trim()
                .to_owned()
        }
        None => page.t("srec-never"),
    };
    Card {
        id: c.call.id,
        need: format!(
            "{} · {} · {}",
            c.need.blood_groups.replace(',', " "),
            kind_label(page, &c.need.kind),
            c.need.place_name
        ),
        name: d.map_or_else(|| page.t("srec-donor-gone"), |d| mask_name(&d.name)),
        mobile: d.map(|d| d.mobile.clone()).unwrap_or_default(),
        whole: whole.unwrap_or_default().to_owned(),
        group: d
            .and_then(|d| d.blood_group.clone())
            .unwrap_or_else(|| page.t("srec-group-unknown")),
        last,
        distance: d.and_then(|d| d.distance_km).map_or_else(
            || page.t("srec-distance-unknown"),
            |km| format!("{km:.1} km"),
        ),
        slots: c
            .slots
            .iter()
            .map(|s| {
                (
                    s.starts.clone(),
                    lang.tn(
                        "srec-slot",
                        &[
                            ("slot", format!("{}–{}", s.starts, s.ends).into()),
                            ("left", s.left.into()),
                        ],
                    ),
                )
            })
            .collect(),
        at_stop: c.need.stop_id.is_some(),
    }
}

/// What the call screen shows besides the cards.
#[derive(Default)]
struct ScreenExtras {
    notice: String,
    problem: String,
    for_call: i64,
    form: FormState,
    /// (call id, the whole number) once shown.
    whole: Option<(i64, String)>,
}

fn render_screen(
    page: &Page,
    need: Option<i64>,
    cards: &[CallCard],
    extras: ScreenExtras,
    status: StatusCode,
) -> Response {
    let body = CallsPage {
        page,
        need,
        cards: cards
            .iter()
            .map(|c| {
                let whole = extras
                    .whole
                    .as_ref()
                    .filter(|(id, _)| *id == c.call.id)
                    .map(|(_, m)| m.as_str());
                card(page, c, whole)
            })
            .collect(),
        outcomes: OUTCOMES
            .iter()
            .map(|o| (*o, outcome_label(page, o)))
            .collect(),
        notice: extras.notice,
        problem: extras.problem,
        for_call: extras.for_call,
        form: extras.form,
    };
    let mut response = html(&body);
    *response.status_mut() = status;
    response
}

async fn screen(
    state: &AppState,
    page: &Page,
    need: Option<i64>,
    extras: ScreenExtras,
    status: StatusCode,
) -> Result<Response, PageError> {
    let cards = calls::my_calls(&state.db, need, &acting(page)?, state.clock.now()).await?;
    Ok(render_screen(page, need, &cards, extras, status))
}

/// `GET /station/recruitment/calls[?need=ID]`: my waiting calls.
async fn call_screen(
    State(state): State<AppState>,
    page: Page,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let notice = match (done.done.as_deref(), done.code) {
        // Only a booking code is shown back: a link cannot put other words in the notice.
        (Some("booked"), Some(code)) if crate::domain::booking::is_booking_code(&code) => {
            page.t1("srec-done-booked", "code", code)
        }
        (Some("recorded"), _) => page.t("srec-done-recorded"),
        _ => String::new(),
    };
    let extras = ScreenExtras {
        notice,
        ..ScreenExtras::default()
    };
    screen(&state, &page, done.need, extras, StatusCode::OK).await
}

/// The need the screen was filtered by, carried in the forms.
fn need_of(form: &FormFields) -> Option<i64> {
    form.get("need").and_then(|n| n.parse().ok())
}

fn back_to_screen(need: Option<i64>, done: &str) -> Response {
    let need = need.map(|n| format!("&need={n}")).unwrap_or_default();
    Redirect::to(&format!("/station/recruitment/calls?done={done}{need}")).into_response()
}

/// `POST /station/recruitment/calls/{id}/mobile`: the whole number of the call's donor, shown
/// on this answer only (the view is audited).
async fn reveal(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let who = acting(&page)?;
    let need = need_of(&form);
    let cards = calls::my_calls(&state.db, need, &who, state.clock.now()).await?;
    let Some(donor) = cards
        .iter()
        .find(|c| c.call.id == id)
        .and_then(|c| c.call.donor.as_ref())
        .map(|d| d.donor_id)
    else {
        return Err(PageError::status(StatusCode::NOT_FOUND));
    };
    let mobile = roster::reveal_mobile(&state.db, donor, &who, state.clock.now()).await?;
    let extras = ScreenExtras {
        whole: Some((id, mobile)),
        for_call: id,
        ..ScreenExtras::default()
    };
    Ok(render_screen(&page, need, &cards, extras, StatusCode::OK))
}

/// `POST /station/recruitment/calls/{id}/outcome`: what came of the call, once.
async fn record(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let who = acting(&page)?;
    let need = need_of(&form);
    let cmd = Outcome {
        outcome: form.get("outcome").unwrap_or_default(),
        notes: form.get("notes"),
        booking_code: form.get("booking_code"),
    };
    match calls::record(&state.db, id, cmd, &who, state.clock.now()).await {
        Ok(_) => Ok(back_to_screen(need, "recorded")),
        Err(RecruitmentError::Invalid(errors)) => {
            let extras = ScreenExtras {
                problem: page.t("srec-invalid"),
                for_call: id,
                form: FormState {
                    errors: field_errors(&page, "srec", &errors),
                    values: form,
                },
                ..ScreenExtras::default()
            };
            screen(&state, &page, need, extras, StatusCode::BAD_REQUEST).await
        }
        Err(RecruitmentError::Conflict(_)) => {
            let extras = ScreenExtras {
                problem: page.t("srec-recorded-already"),
                for_call: id,
                ..ScreenExtras::default()
            };
            screen(&state, &page, need, extras, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

/// What a refused booking from a call says.
fn booking_refusal(page: &Page, err: &BookingsError) -> Option<String> {
    Some(match err {
        BookingsError::NotYetEligible { next_eligible, .. } => page.t1(
            "srec-refused-not-eligible",
            "next",
            date(page.lang, *next_eligible),
        ),
        BookingsError::Conflict { why, .. } => page.t(match why {
            Why::Full => "srec-refused-full",
            Why::Begun => "srec-refused-begun",
            Why::Duplicate => "srec-refused-duplicate",
            _ => "srec-refused-closed",
        }),
        _ => return None,
    })
}

/// `POST /station/recruitment/calls/{id}/booking`: books the donor into the slot picked and
/// records the call booked, together.
async fn book(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let who = acting(&page)?;
    let need = need_of(&form);
    let cmd = BookFromCall {
        slot: form.get("slot").unwrap_or_default(),
        notes: form.get("notes"),
    };
    let refused = |problem: String, form: FormState| ScreenExtras {
        problem,
        for_call: id,
        form,
        ..ScreenExtras::default()
    };
    match calls::book_from_call(
        &state.db,
        id,
        cmd,
        &who,
        state.http.public_url.as_deref(),
        state.clock.now(),
    )
    .await
    {
        Ok(booked) => {
            let need = need.map(|n| format!("&need={n}")).unwrap_or_default();
            Ok(Redirect::to(&format!(
                "/station/recruitment/calls?done=booked&code={}{need}",
                booked.booking.code
            ))
            .into_response())
        }
        Err(
            RecruitmentError::Invalid(errors)
            | RecruitmentError::Bookings(BookingsError::Invalid(errors)),
        ) => {
            let form = FormState {
                errors: field_errors(&page, "srec", &errors),
                values: form,
            };
            let extras = refused(page.t("srec-invalid"), form);
            screen(&state, &page, need, extras, StatusCode::BAD_REQUEST).await
        }
        Err(RecruitmentError::Bookings(e)) => match booking_refusal(&page, &e) {
            Some(problem) => {
                let extras = refused(problem, FormState::new(form));
                screen(&state, &page, need, extras, StatusCode::CONFLICT).await
            }
            None => Err(RecruitmentError::Bookings(e).into()),
        },
        Err(RecruitmentError::Conflict(_)) => {
            let extras = refused(page.t("srec-book-refused"), FormState::new(form));
            screen(&state, &page, need, extras, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}
