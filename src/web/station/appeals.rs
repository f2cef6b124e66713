//! The station's appeals pages (issue 16), on the appeals service (`crate::appeals`, the one
//! behind `/api/v1/appeals`):
//!
//! - `/station/appeals`: the appeals made (of one drive with `?drive=`), and the form that
//!   makes one for a published drive or one of its stops;
//! - `/station/appeals/{id}`: the text (with a copy button), the QR code and the downloads,
//!   the form that sends it to chat groups with each message's status, and its figures: per
//!   township, and the first hours as a chart drawn here (bars per hour, the running total as
//!   a line) with the same figures in words and in a table;
//! - `/station/appeals/template`: a station's template, versioned (a stale save shows what
//!   changed meanwhile), its named fields and a preview;
//! - `/station/chat-groups`: the chat groups (a robot's key is never shown, only its last 4
//!   characters), added with the errors beside the fields, deleted after a confirmation.
//!
//! Staff (and admins) make and send appeals and keep the groups; others signed in read what
//! their regions reach and see no form. Outside the reader's reach a record does not exist.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::appeals::{
    self as service, Acting, AppealsError, Audience, Detail, Format, NewAppeal, NewGroup, SendTo,
    Template as AppealTemplate, TemplateChange,
};
use crate::auth::caller::site_origin;
use crate::domain::appeal::{self as rules, Fields};
use crate::domain::booking::china;
use crate::domain::checklist as checklist_rules;
use crate::error::FieldError;
use crate::registry::hosts::{self, HostQuery};
use crate::state::AppState;
use crate::versioned::Outcome;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::forms::{FormFields, FormState, hinted_errors};
use crate::web::templates::{ConflictRow, Figure, PlaceLink, date, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/station/appeals", get(list_page).post(create))
        .route(
            "/station/appeals/template",
            get(template_page).post(save_template),
        )
        .route("/station/appeals/{id}", get(appeal_page))
        .route("/station/appeals/{id}/send", axum::routing::post(send))
        .route("/station/appeals/{id}/text", get(text_download))
        .route("/station/appeals/{id}/qr.svg", get(svg_download))
        .route("/station/appeals/{id}/qr.png", get(png_download))
        .route("/station/chat-groups", get(groups_page).post(add_group))
        .route(
            "/station/chat-groups/{id}/delete",
            get(confirm_delete).post(delete_group),
        )
}

// --- who, and small things shown ---

/// Who acts, for the service; "sign in first" for nobody.
fn acting(page: &Page) -> Result<Acting<'_>, PageError> {
    let principal = page.caller.principal.as_ref().ok_or(PageError::SignIn)?;
    Ok(Acting::caller(Some(principal), page.caller.actor()))
}

/// An id in a path: anything else is no such record.
fn id_of(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(PageError::status(StatusCode::NOT_FOUND))
}

/// An instant as staff read it, in China's time: `2026-12-01 10:00`.
fn when(at: DateTime<Utc>) -> String {
    at.with_timezone(&china())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl From<AppealsError> for PageError {
    fn from(err: AppealsError) -> Self {
        crate::error::AppError::from(err).into()
    }
}

/// Field errors beside their fields: `sapp-hint-{form}-{field}`, else the shared hints,
/// else the service's own message.
fn shown_errors(page: &Page, form: &str, errors: &[FieldError]) -> Vec<(String, String)> {
    hinted_errors(page, &format!("sapp-hint-{form}"), "", errors)
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// The `done=` of a redirect after a change, as the sentence saying it.
fn notice(page: &Page, done: Option<&str>) -> String {
    match done {
        Some(d @ ("made" | "sent" | "saved" | "added" | "deleted" | "unchanged")) => {
            page.t(&format!("sapp-done-{d}"))
        }
        _ => String::new(),
    }
}

fn with_status(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

// --- the appeals made, and the form that makes one ---

/// An appeal on the list.
struct AppealRow {
    id: i64,
    code: String,
    made: String,
    drive_date: String,
    place: String,
    /// "whole drive" or "one stop".
    scope: String,
    bookings: u64,
    people: u64,
}

/// One choice of the form: a drive's day, its whole drive and each of its stops.
struct TargetGroup {
    label: String,
    options: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "sapp_appeals.html")]
struct AppealsPage<'a> {
    page: &'a Page,
    rows: Vec<AppealRow>,
    targets: Vec<TargetGroup>,
    may_make: bool,
    /// The drive the list is narrowed to.
    drive: Option<i64>,
    form: FormState,
    notice: String,
    problem: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    drive: Option<String>,
    done: Option<String>,
}

async fn render_list(
    state: &AppState,
    page: &Page,
    drive: Option<i64>,
    form: FormState,
    notice: String,
    problem: String,
) -> Result<Response, PageError> {
    let today = checklist_rules::station_date(state.clock.now());
    let overview = service::overview(&state.db, drive, &acting(page)?, today).await?;
    let rows = overview
        .appeals
        .into_iter()
        .map(|l| AppealRow {
            id: l.appeal.id,
            code: l.appeal.code.clone(),
            made: when(l.appeal.created_at),
            drive_date: date(page.lang, l.drive_date),
            place: l.place,
            scope: page.t(if l.appeal.stop_id.is_some() {
                "sapp-scope-stop"
            } else {
                "sapp-scope-drive"
            }),
            bookings: l.bookings,
            people: l.people,
        })
        .collect();
    let targets = overview
        .drives
        .into_iter()
        .map(|o| {
            let names = o
                .stops
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join("、");
            let mut options = vec![(
                format!("d-{}", o.drive.id),
                page.t1("sapp-target-drive", "stops", names.as_str()),
            )];
            if o.stops.len() > 1 {
                options.extend(o.stops.iter().map(|s| {
                    (
                        format!("s-{}-{}", o.drive.id, s.id),
                        page.t1("sapp-target-stop", "stop", s.name.as_str()),
                    )
                }));
            }
            TargetGroup {
                label: format!("{} · #{}", date(page.lang, o.drive.date), o.drive.id),
                options,
            }
        })
        .collect();
    let body = AppealsPage {
        page,
        rows,
        targets,
        may_make: overview.may_make && page.is_staff(),
        drive,
        form,
        notice,
        problem,
    };
    Ok(html(&body))
}

/// `GET /station/appeals[?drive=]`: the appeals made, and the form.
async fn list_page(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    acting(&page)?;
    let drive = match query.drive.as_deref().filter(|d| !d.is_empty()) {
        Some(raw) => Some(id_of(raw)?),
        None => None,
    };
    let mut form = FormFields::default();
    if let Some(d) = drive {
        form.set("target", format!("d-{d}"));
    }
    let notice = notice(&page, query.done.as_deref());
    render_list(
        &state,
        &page,
        drive,
        FormState::new(form),
        notice,
        String::new(),
    )
    .await
}

/// The form's `target`: `d-{drive}` or `s-{drive}-{stop}`.
fn target_of(raw: &str) -> Option<NewAppeal> {
    let mut parts = raw.trim().split('-');
    let kind = parts.next()?;
    let drive_id = parts.next()?.parse().ok()?;
    let stop_id = match (kind, parts.next()) {
        ("d", None) => None,
        ("s", Some(stop)) => Some(stop.parse().ok()?),
        _ => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(NewAppeal { drive_id, stop_id })
}

/// `POST /station/appeals`: makes an appeal, then its page; else the list with the form's
/// problem beside the field.
async fn create(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Response, PageError> {
    let by = acting(&page)?;
    let drive = form.get("drive").and_then(|d| d.parse::<i64>().ok());
    let refuse = async |errors: Vec<(String, String)>, problem: String, status: StatusCode| {
        let state_form = FormState {
            values: form.clone(),
            errors,
        };
        render_list(&state, &page, drive, state_form, String::new(), problem)
            .await
            .map(|r| with_status(r, status))
    };
    let Some(command) = form.get("target").as_deref().and_then(target_of) else {
        return refuse(
            vec![("target".to_owned(), page.t("sapp-hint-appeal-target"))],
            page.t("refused-fields"),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let site = state
        .http
        .public_url
        .clone()
        .unwrap_or_else(|| site_origin(&headers, &state.http));
    match service::create(&state.db, command, &site, &by, state.clock.now()).await {
        Ok(appeal) => {
            Ok(Redirect::to(&format!("/station/appeals/{}?done=made", appeal.id)).into_response())
        }
        Err(AppealsError::Invalid(_)) => {
            refuse(
                vec![("target".to_owned(), page.t("sapp-hint-appeal-target"))],
                page.t("refused-fields"),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(AppealsError::Conflict(_)) => {
            refuse(
                vec![("target".to_owned(), page.t("sapp-not-published"))],
                page.t("refused-fields"),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

// --- one appeal ---

/// A chat group to tick.
struct GroupChoice {
    id: i64,
    name: String,
    audience: String,
    /// Sent to already (each group gets an appeal once).
    sent: bool,
}

/// A message to a group and how it fared.
struct SentRow {
    name: String,
    kind: String,
    status: String,
    status_label: String,
    when: String,
    error: String,
}

struct TownshipRow {
    name: String,
    bookings: u64,
    people: u64,
}

struct HourRow {
    label: String,
    bookings: u64,
    people: u64,
    cumulative: u64,
}

/// One bar of the first-hours chart (people booked in that hour).
struct ChartBar {
    x: String,
    y: String,
    w: String,
    h: String,
}

/// A label on an axis.
struct Tick {
    x: String,
    y: String,
    label: String,
}

/// The first-hours chart, drawn here as SVG.
struct Chart {
    width: u32,
    height: u32,
    bars: Vec<ChartBar>,
    /// The running total's polyline.
    line: String,
    x_ticks: Vec<Tick>,
    y_ticks: Vec<Tick>,
    /// Where the total is written, at the line's end.
    end: Tick,
    /// The plot's left, right, bottom edges (the axes).
    left: u32,
    right: u32,
    bottom: u32,
    /// `<title>` and `<desc>`.
    title: String,
    desc: String,
}

#[derive(Template)]
#[template(path = "sapp_appeal.html")]
struct AppealPage<'a> {
    page: &'a Page,
    id: i64,
    code: String,
    title: String,
    facts: Vec<Figure>,
    link: String,
    text: String,
    qr: String,
    may_send: bool,
    groups: Vec<GroupChoice>,
    sent: Vec<SentRow>,
    form: FormState,
    figures: Vec<Figure>,
    townships: Vec<TownshipRow>,
    chart: Option<Chart>,
    summary: String,
    hours: Vec<HourRow>,
    notice: String,
    problem: String,
}

/// At most this many hours are drawn and listed: the first day (the API has them all).
const CHART_HOURS: usize = 24;

fn one_decimal(v: f64) -> String {
    format!("{v:.1}")
}

/// The first hours as bars (people booked each hour) and the running total as a line, on one
/// scale (the running total is the taller).
fn chart(page: &Page, d: &Detail) -> Option<Chart> {
    let hours = &d.figures.per_hour[..d.figures.per_hour.len().min(CHART_HOURS)];
    if hours.is_empty() || d.figures.people == 0 {
        return None;
    }
    const WIDTH: u32 = 400;
    const HEIGHT: u32 = 220;
    const LEFT: u32 = 34;
    const RIGHT: u32 = 380;
    const TOP: u32 = 24;
    const BOTTOM: u32 = 190;
    let max = hours
        .iter()
        .map(|h| h.cumulative_people)
        .max()
        .unwrap_or(1)
        .max(1);
    // A round top for the scale: 1, 2, 5 × 10^n at or above the largest value.
    let mut top = 1_u64;
    while top < max {
        top = match top.to_string().chars().next() {
            Some('1') => top * 2,
            Some('2') => top / 2 * 5,
            _ => top * 2,
        };
    }
    let plot_w = f64::from(RIGHT - LEFT);
    let plot_h = f64::from(BOTTOM - TOP);
    let slot = plot_w / hours.len() as f64;
    let y_of = |v: u64| f64::from(BOTTOM) - v as f64 / top as f64 * plot_h;
    let bars = hours
        .iter()
        .enumerate()
        .filter(|(_, h)| h.people > 0)
        .map(|(i, h)| {
            let y = y_of(h.people);
            ChartBar {
                x: one_decimal(f64::from(LEFT) + i as f64 * slot + slot * 0.15),
                y: one_decimal(y),
                w: one_decimal(slot * 0.7),
                h: one_decimal(f64::from(BOTTOM) - y),
            }
        })
        .collect();
    let mut line = vec![format!("{LEFT},{BOTTOM}")];
    line.extend(hours.iter().enumerate().map(|(i, h)| {
        format!(
            "{},{}",
            one_decimal(f64::from(LEFT) + (i as f64 + 1.0) * slot),
            one_decimal(y_of(h.cumulative_people))
        )
    }));
    let every = match hours.len() {
        0..=8 => 1,
        9..=16 => 2,
        _ => 4,
    };
    let x_ticks = (0..=hours.len())
        .filter(|i| i % every == 0)
        .map(|i| Tick {
            x: one_decimal(f64::from(LEFT) + i as f64 * slot),
            y: (BOTTOM + 18).to_string(),
            label: page.t1("sapp-chart-hour-tick", "hour", i as u64),
        })
        .collect();
    let y_ticks = [0, top / 2, top]
        .into_iter()
        .map(|v| Tick {
            x: (LEFT - 4).to_string(),
            y: one_decimal(y_of(v) + 4.0),
            label: v.to_string(),
        })
        .collect();
    let last = hours.last().map_or(0, |h| h.cumulative_people);
    let end = Tick {
        x: one_decimal((f64::from(RIGHT) - 2.0).max(f64::from(LEFT))),
        y: one_decimal((y_of(last) - 6.0).max(12.0)),
        label: last.to_string(),
    };
    Some(Chart {
        width: WIDTH,
        height: HEIGHT,
        bars,
        line: line.join(" "),
        x_ticks,
        y_ticks,
        end,
        left: LEFT,
        right: RIGHT,
        bottom: BOTTOM,
        title: page.t("sapp-chart-title"),
        desc: summary(page, d),
    })
}

/// The first hours in words: "500 people in the first 4 hours; the busiest hour, 200".
fn summary(page: &Page, d: &Detail) -> String {
    let hours = &d.figures.per_hour[..d.figures.per_hour.len().min(CHART_HOURS)];
    let people = hours.last().map_or(0, |h| h.cumulative_people);
    if people == 0 {
        return page.t("sapp-chart-none");
    }
    let (busiest, most) = hours
        .iter()
        .max_by_key(|h| (h.people, std::cmp::Reverse(h.hour)))
        .map_or((0, 0), |h| (h.hour, h.people));
    page.lang.tn(
        "sapp-chart-summary",
        &[
            ("people", people.into()),
            ("hours", (hours.len() as u64).into()),
            ("busiest", (u64::from(busiest) + 1).into()),
            ("most", most.into()),
        ],
    )
}

/// The SVG of the QR code, to put inside the page (the XML declaration dropped, hidden
/// from screen readers: the figure around it says what it is).
fn inline_svg(svg: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    svg[start..].replacen("<svg", "<svg aria-hidden=\"true\" focusable=\"false\"", 1)
}

fn render_appeal(
    page: &Page,
    d: Detail,
    form: FormState,
    notice: String,
    problem: String,
) -> Response {
    let a = &d.appeal;
    let qr = service::qr::svg(&a.link)
        .map(|s| inline_svg(&s))
        .unwrap_or_default();
    let mut facts = vec![
        Figure {
            label: page.t("sapp-code"),
            value: a.code.clone(),
        },
        Figure {
            label: page.t("sapp-for"),
            value: page.t(if a.stop_id.is_some() {
                "sapp-scope-stop"
            } else {
                "sapp-scope-drive"
            }),
        },
        Figure {
            label: page.t("sapp-made"),
            value: when(a.created_at),
        },
    ];
    if let Some(by) = &a.created_by {
        facts.push(Figure {
            label: page.t("sapp-made-by"),
            value: by.clone(),
        });
    }
    let sent_ids: Vec<i64> = d.figures.groups.iter().map(|g| g.group_id).collect();
    let groups = d
        .groups
        .iter()
        .map(|g| GroupChoice {
            id: g.id,
            name: g.name.clone(),
            audience: page.t(&format!("sapp-audience-{}", g.audience)),
            sent: sent_ids.contains(&g.id),
        })
        .collect();
    let sent = d
        .figures
        .groups
        .iter()
        .map(|g| SentRow {
            name: g
                .name
                .clone()
                .unwrap_or_else(|| page.t("sapp-group-deleted")),
            kind: page.t(&format!("sapp-kind-{}", g.kind)),
            status: g.status.clone(),
            status_label: page.t(&format!("sapp-status-{}", g.status)),
            when: when(g.sent_at.unwrap_or(g.queued_at)),
            error: g.last_error.clone().unwrap_or_default(),
        })
        .collect();
    let f = &d.figures;
    let figures = vec![
        Figure {
            label: page.t("sapp-fig-bookings"),
            value: f.bookings.to_string(),
        },
        Figure {
            label: page.t("sapp-fig-active"),
            value: f.active.to_string(),
        },
        Figure {
            label: page.t("sapp-fig-people"),
            value: f.people.to_string(),
        },
    ];
    let townships = f
        .by_township
        .iter()
        .map(|t| TownshipRow {
            name: t.name.clone().unwrap_or_else(|| t.code.clone()),
            bookings: t.bookings,
            people: t.people,
        })
        .collect();
    let hours = f
        .per_hour
        .iter()
        .take(CHART_HOURS)
        .map(|h| HourRow {
            label: format!(
                "{}–{}",
                h.from.with_timezone(&china()).format("%m-%d %H:%M"),
                (h.from + Duration::hours(1))
                    .with_timezone(&china())
                    .format("%H:%M")
            ),
            bookings: h.bookings,
            people: h.people,
            cumulative: h.cumulative_people,
        })
        .collect();
    let body = AppealPage {
        page,
        id: a.id,
        code: a.code.clone(),
        title: page.lang.tn(
            "sapp-appeal-title",
            &[
                ("date", date(page.lang, d.drive_date).into()),
                ("place", d.place.clone().into()),
            ],
        ),
        facts,
        link: a.link.clone(),
        text: a.body.clone(),
        qr,
        may_send: d.may_send && page.is_staff(),
        groups,
        sent,
        form,
        figures,
        townships,
        chart: chart(page, &d),
        summary: summary(page, &d),
        hours,
        notice,
        problem,
    };
    html(&body)
}

/// `GET /station/appeals/{id}`.
async fn appeal_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let d = service::detail(&state.db, id, &acting(&page)?, state.clock.now()).await?;
    let notice = notice(&page, done.done.as_deref());
    Ok(render_appeal(
        &page,
        d,
        FormState::default(),
        notice,
        String::new(),
    ))
}

/// `POST /station/appeals/{id}/send`: the ticked groups, the text as text or markdown, with
/// the QR code or not.
async fn send(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let by = acting(&page)?;
    let ids: Vec<String> = form.all("group_ids");
    let parsed: Vec<i64> = ids.iter().filter_map(|g| g.parse().ok()).collect();
    let command = SendTo {
        group_ids: parsed,
        format: if form.get("format").as_deref() == Some("markdown") {
            Format::Markdown
        } else {
            Format::Text
        },
        with_qr: form.get("with_qr").is_some(),
    };
    match service::send(&state.db, id, command, &by, state.clock.now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/station/appeals/{id}?done=sent")).into_response()),
        Err(AppealsError::Invalid(errors)) => {
            let d = service::detail(&state.db, id, &by, state.clock.now()).await?;
            let state_form = FormState {
                values: form.clone(),
                errors: shown_errors(&page, "send", &errors),
            };
            Ok(with_status(
                render_appeal(
                    &page,
                    d,
                    state_form,
                    String::new(),
                    page.t("refused-fields"),
                ),
                StatusCode::BAD_REQUEST,
            ))
        }
        Err(other) => Err(other.into()),
    }
}

/// A file to download: its type and name.
fn download(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

async fn readable(
    state: &AppState,
    page: &Page,
    id: &str,
) -> Result<entity::appeal::Model, PageError> {
    let id = id_of(id)?;
    Ok(service::find_for(
        &state.db,
        id,
        crate::domain::policy::Action::Read,
        &acting(page)?,
    )
    .await?)
}

/// `GET /station/appeals/{id}/text`: the text to post by hand.
async fn text_download(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let a = readable(&state, &page, &id).await?;
    Ok(download(
        a.body.into_bytes(),
        "text/plain; charset=utf-8",
        &format!("appeal-{}.txt", a.code),
    ))
}

/// `GET /station/appeals/{id}/qr.svg`.
async fn svg_download(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let a = readable(&state, &page, &id).await?;
    let svg = service::qr::svg(&a.link)
        .map_err(|_| PageError::status(StatusCode::INTERNAL_SERVER_ERROR))?;
    Ok(download(
        svg.into_bytes(),
        "image/svg+xml",
        &format!("appeal-{}.svg", a.code),
    ))
}

/// `GET /station/appeals/{id}/qr.png`.
async fn png_download(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let a = readable(&state, &page, &id).await?;
    let png = service::qr::png(&a.link)
        .map_err(|_| PageError::status(StatusCode::INTERNAL_SERVER_ERROR))?;
    Ok(download(
        png,
        "image/png",
        &format!("appeal-{}.png", a.code),
    ))
}

// --- the template ---

struct StationChoice {
    id: i64,
    name: String,
}

/// A named field of the template and what it becomes.
struct Placeholder {
    name: String,
    meaning: String,
}

#[derive(Template)]
#[template(path = "sapp_template.html")]
struct TemplatePage<'a> {
    page: &'a Page,
    stations: Vec<StationChoice>,
    station: Option<i64>,
    builtin: bool,
    updated: String,
    may_edit: bool,
    form: FormState,
    placeholders: Vec<Placeholder>,
    preview: String,
    conflict: Vec<ConflictRow>,
    notice: String,
    problem: String,
}

impl TemplatePage<'_> {
    fn is_station(&self, id: &i64) -> bool {
        self.station == Some(*id)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TemplateQuery {
    station: Option<String>,
    done: Option<String>,
}

fn stored_template(t: &AppealTemplate) -> FormFields {
    FormFields::of(&[
        ("body", t.body.clone()),
        ("who_may_donate", t.who_may_donate.clone()),
        ("what_to_bring", t.what_to_bring.clone()),
        ("version", t.version.to_string()),
    ])
}

/// The template filled with an example drive, as an appeal made from it would read.
fn preview(state: &AppState, t: &AppealTemplate) -> String {
    let lang = service::APPEAL_LANG;
    let day = checklist_rules::station_date(state.clock.now()) + Duration::days(7);
    let fields = Fields {
        date: rules::day(lang, day),
        place: lang.t("sapp-sample-place"),
        times: "09:00–11:30".to_owned(),
        who: t.who_may_donate.clone(),
        bring: t.what_to_bring.clone(),
        link: "https://…/stops/1?via=K7M3QX".to_owned(),
    };
    rules::render(&t.body, &fields)
}

#[allow(clippy::too_many_arguments)]
async fn render_template(
    state: &AppState,
    page: &Page,
    station: Option<i64>,
    form: Option<FormState>,
    conflict: Vec<ConflictRow>,
    notice: String,
    problem: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let by = acting(page)?;
    let stations: Vec<StationChoice> = service::template_stations(&state.db, &by)
        .await?
        .into_iter()
        .map(|s| StationChoice {
            id: s.id,
            name: s.name,
        })
        .collect();
    let station = station.or_else(|| stations.first().map(|s| s.id));
    let current = match station {
        Some(id) => Some(service::template(&state.db, id, &by).await?),
        None => None,
    };
    let placeholders = ["date", "place", "times", "who", "bring", "link"]
        .into_iter()
        .map(|f| Placeholder {
            name: format!("{{{f}}}"),
            meaning: page.t(&format!("sapp-field-{f}")),
        })
        .collect();
    let body = TemplatePage {
        page,
        stations,
        station,
        builtin: current.as_ref().is_some_and(|t| t.builtin),
        updated: current
            .as_ref()
            .and_then(|t| {
                t.updated_at.map(|at| {
                    page.lang.tn(
                        "sapp-template-updated",
                        &[
                            ("when", when(at).into()),
                            ("who", t.updated_by.clone().unwrap_or_default().into()),
                        ],
                    )
                })
            })
            .unwrap_or_default(),
        may_edit: page.is_staff() && current.is_some(),
        form: form.unwrap_or_else(|| {
            FormState::new(current.as_ref().map(stored_template).unwrap_or_default())
        }),
        placeholders,
        preview: current
            .as_ref()
            .map(|t| preview(state, t))
            .unwrap_or_default(),
        conflict,
        notice,
        problem,
    };
    Ok(with_status(html(&body), status))
}

/// `GET /station/appeals/template[?station=]`.
async fn template_page(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<TemplateQuery>,
) -> Result<Response, PageError> {
    let station = match query.station.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(id_of(raw)?),
        None => None,
    };
    let notice = notice(&page, query.done.as_deref());
    render_template(
        &state,
        &page,
        station,
        None,
        vec![],
        notice,
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /station/appeals/template`: saves the station's template against the version the
/// form was read at; a stale one shows what is stored now beside what was typed.
async fn save_template(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    let by = acting(&page)?;
    let station = form
        .get("station")
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or(PageError::status(StatusCode::NOT_FOUND))?;
    let expected: Result<i32, AppealsError> = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppealsError::Invalid(vec![FieldError::new("version", "missing")]));
    let change = TemplateChange {
        body: Some(form.raw("body")),
        who_may_donate: Some(form.raw("who_may_donate")),
        what_to_bring: Some(form.raw("what_to_bring")),
    };
    let outcome =
        service::update_template(&state.db, station, change, expected, &by, state.clock.now())
            .await;
    match outcome {
        Ok(Outcome::Updated(_)) => Ok(Redirect::to(&format!(
            "/station/appeals/template?station={station}&done=saved"
        ))
        .into_response()),
        Ok(Outcome::Stale(current)) => {
            let now_stored = stored_template(&current);
            let conflict = ["body", "who_may_donate", "what_to_bring"]
                .into_iter()
                .filter(|f| form.raw(f).trim() != now_stored.raw(f).trim())
                .map(|f| ConflictRow {
                    label: page.t(&format!("sapp-template-{f}")),
                    mine: form.raw(f),
                    current: now_stored.raw(f),
                })
                .collect();
            let mut kept = form.clone();
            kept.set("version", current.version.to_string());
            render_template(
                &state,
                &page,
                Some(station),
                Some(FormState::new(kept)),
                conflict,
                String::new(),
                page.t("sapp-template-stale"),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(AppealsError::Invalid(errors)) => {
            render_template(
                &state,
                &page,
                Some(station),
                Some(FormState {
                    values: form.clone(),
                    errors: shown_errors(&page, "template", &errors),
                }),
                vec![],
                String::new(),
                page.t("refused-fields"),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

// --- chat groups ---

struct GroupRow {
    id: i64,
    name: String,
    region: String,
    audience: String,
    key_hint: String,
    made: String,
}

struct HostChoice {
    id: i64,
    name: String,
}

#[derive(Template)]
#[template(path = "sapp_groups.html")]
struct GroupsPage<'a> {
    page: &'a Page,
    rows: Vec<GroupRow>,
    regions: Vec<PlaceLink>,
    hosts: Vec<HostChoice>,
    may_edit: bool,
    form: FormState,
    notice: String,
    problem: String,
}

/// At most this many hosts are offered.
const HOSTS_OFFERED: u64 = 500;

async fn render_groups(
    state: &AppState,
    page: &Page,
    form: FormState,
    notice: String,
    problem: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let by = acting(page)?;
    let groups = service::list_groups(&state.db, None, &by).await?;
    let regions = super::region_choices(state, page).await?;
    let name_of = |code: &str| {
        regions
            .iter()
            .find(|r| r.code == code)
            .map_or_else(|| code.to_owned(), |r| r.name.clone())
    };
    let rows = groups
        .iter()
        .map(|g| GroupRow {
            id: g.id,
            name: g.name.clone(),
            region: name_of(&g.region_code),
            audience: page.t(&format!("sapp-audience-{}", g.audience)),
            key_hint: service::key_hint(g),
            made: when(g.created_at),
        })
        .collect();
    let may_edit = page.is_staff();
    let hosts = if may_edit {
        let reg =
            crate::registry::Acting::caller(page.caller.principal.as_ref(), page.caller.actor());
        hosts::list(
            &state.db,
            HostQuery {
                limit: HOSTS_OFFERED,
                ..HostQuery::default()
            },
            &reg,
        )
        .await?
        .into_iter()
        .map(|h| HostChoice {
            id: h.host.id,
            name: h.host.name,
        })
        .collect()
    } else {
        Vec::new()
    };
    let body = GroupsPage {
        page,
        rows,
        regions,
        hosts,
        may_edit,
        form,
        notice,
        problem,
    };
    Ok(with_status(html(&body), status))
}

/// `GET /station/chat-groups`.
async fn groups_page(
    State(state): State<AppState>,
    page: Page,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let notice = notice(&page, done.done.as_deref());
    let mut form = FormFields::default();
    form.set("audience", "coordinators".to_owned());
    render_groups(
        &state,
        &page,
        FormState::new(form),
        notice,
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /station/chat-groups`: registers a group; else the form again, the errors beside
/// the fields (the key typed is never shown back).
async fn add_group(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    let by = acting(&page)?;
    let audience = match form.get("audience").as_deref() {
        Some("host") => Audience::Host,
        _ => Audience::Coordinators,
    };
    let host_id = match audience {
        Audience::Host => form.get("host_id").and_then(|h| h.parse::<i64>().ok()),
        Audience::Coordinators => None,
    };
    let mut region_code = form.get("region_code").unwrap_or_default();
    // A host's group lives in the host's region: taken from the host when none was picked.
    if let (Some(host), true) = (host_id, region_code.is_empty()) {
        let reg =
            crate::registry::Acting::caller(page.caller.principal.as_ref(), page.caller.actor());
        if let Ok(h) = hosts::get(&state.db, host, &reg).await {
            region_code = h.host.region_code;
        }
    }
    let command = NewGroup {
        name: form.raw("name"),
        region_code,
        audience,
        host_id,
        webhook_key: form.raw("webhook_key"),
    };
    match service::create_group(&state.db, command, &by, state.clock.now()).await {
        Ok(_) => Ok(Redirect::to("/station/chat-groups?done=added").into_response()),
        Err(AppealsError::Invalid(errors)) => {
            let mut kept = form.clone();
            kept.set("webhook_key", String::new());
            render_groups(
                &state,
                &page,
                FormState {
                    values: kept,
                    errors: shown_errors(&page, "group", &errors),
                },
                String::new(),
                page.t("refused-fields"),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "sapp_group_delete.html")]
struct DeletePage<'a> {
    page: &'a Page,
    id: i64,
    name: String,
    key_hint: String,
}

/// `GET /station/chat-groups/{id}/delete`: are you sure?
async fn confirm_delete(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let by = acting(&page)?;
    let group = service::list_groups(&state.db, None, &by)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or(PageError::status(StatusCode::NOT_FOUND))?;
    Ok(html(&DeletePage {
        page: &page,
        id,
        key_hint: service::key_hint(&group),
        name: group.name,
    }))
}

/// `POST /station/chat-groups/{id}/delete`.
async fn delete_group(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    service::delete_group(&state.db, id, &acting(&page)?, state.clock.now()).await?;
    Ok(Redirect::to("/station/chat-groups?done=deleted").into_response())
}
