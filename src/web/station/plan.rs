//! One drive plan on the planner's pages (`/station/plans/{id}`): its progress while it is
//! made (the page reloads itself every two seconds, script or not); once done the plan on the
//! map (a colour per vehicle-day, stops numbered), a timeline per vehicle and day (drive,
//! set-up, donation, pack-up, back), the stops in order, and the sites left out with their
//! reasons (filterable). Staff who may plan the region move a stop to another day or vehicle,
//! drop one or add a site left out: every change is a token in the page's address (`e=`), the
//! plan check answers at once with the edited plan's verdict and how the objective changes
//! (`plans::show::check_edits`, no re-solve), and undo is the address without the last token.
//! The plan is accepted into drives (`drives::lifecycle::accept_plan`); its route sheets,
//! CSV and iCalendar are the API's exports (`/api/v1/plans/{id}/export`, the session's
//! cookie signs in there too), linked in the reader's language.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::plan::PlanStatus;
use crate::drives::{self, DrivesError};
use crate::geo::Crs;
use crate::planning::evaluate::{CheckedPlan, ViolationKind};
use crate::plans::PlansError;
use crate::plans::edit::{Edit, MAX_EDITS};
use crate::plans::result::{PlanResult, VEHICLE_OUTSIDE};
use crate::plans::show::{self, EditChecked, EditedPlan, ShownPlan};
use crate::state::AppState;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::forms::FormFields;
use crate::web::maps::{self, MapTiles};
use crate::web::templates::{Figure, date, html, whole};

/// The colours of vehicle-days, in turn (the map's lines and the timeline's swatches).
pub const ROUTE_COLOURS: [&str; 10] = [
    "#0b57d0", "#b3261e", "#1e7b34", "#8e24aa", "#c77700", "#00796b", "#5d4037", "#d81b60",
    "#3949ab", "#6e7781",
];

/// At most this many sites left out are listed (filter by reason for the others).
const LEFT_OUT_SHOWN: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/station/plans/{id}", get(plan_page))
        .route("/station/plans/{id}/map.json", get(plan_map))
        .route("/station/plans/{id}/accept", post(accept))
        .route("/station/plans/{id}/replan", post(replan))
}

/// What the page's address asks: the edits (`e`, in order) and the reason the list of sites
/// left out is filtered by (`reason`).
struct Asked {
    edits: Vec<Edit>,
    reason: String,
    /// The reader asked the page of a running plan not to reload itself.
    still: bool,
    /// A stop's move (or a site's addition) asked by the page's small form: `site`, `to_day`,
    /// `to_vehicle`, answered by a redirect to the address with it as the last edit.
    put: Option<Edit>,
}

fn asked(query: Option<&str>) -> Asked {
    let fields = FormFields(serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default());
    let put = match (
        fields.get("site"),
        fields.get("to_vehicle"),
        fields.get("to_day"),
    ) {
        (Some(site), Some(vehicle), Some(day)) => {
            Edit::parse(&format!("put.{site}.{vehicle}.{day}"))
        }
        _ => None,
    };
    Asked {
        edits: fields
            .all("e")
            .iter()
            .filter_map(|t| Edit::parse(t))
            .take(MAX_EDITS)
            .collect(),
        reason: fields.get("reason").unwrap_or_default(),
        still: fields.get("still").is_some(),
        put,
    }
}

/// The address of the plan's page in the state `edits`, filtered by `reason`.
fn href(id: i64, edits: &[Edit], reason: &str) -> String {
    let mut pairs: Vec<(&str, String)> = edits.iter().map(|e| ("e", e.token())).collect();
    if !reason.is_empty() {
        pairs.push(("reason", reason.to_owned()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if query.is_empty() {
        format!("/station/plans/{id}")
    } else {
        format!("/station/plans/{id}?{query}")
    }
}

fn plans_error(err: PlansError) -> PageError {
    match err {
        PlansError::Denied(crate::domain::policy::Denied::Unauthenticated) => PageError::SignIn,
        PlansError::Denied(_) | PlansError::NotFound(_) => PageError::Status(StatusCode::NOT_FOUND),
        other => crate::error::AppError::from(other).into(),
    }
}

// ---------------------------------------------------------------------------------------------
// The plan as drawn: the stored result, or the edited routes as plan check timed them.

struct DrawnStop {
    site: String,
    name: String,
    township: String,
    arrive: String,
    opens: String,
    closes: String,
    leave: String,
    expected: f64,
    ml: f64,
    /// What the stop is worth (mL-equivalents; `ml` when no group is short).
    value: f64,
    lon: Option<f64>,
    lat: Option<f64>,
}

struct DrawnRoute {
    vehicle: String,
    vehicle_name: String,
    station: Option<String>,
    date: NaiveDate,
    depart: String,
    back: String,
    km: f64,
    donors: f64,
    ml: f64,
    value: f64,
    stops: Vec<DrawnStop>,
}

struct Drawn {
    routes: Vec<DrawnRoute>,
    donors: f64,
    ml: f64,
    value: f64,
    km: f64,
    stops: usize,
    objective: f64,
}

/// The stored result as drawn; a vehicle of a station outside the reader's area is named
/// `outside` (in their language).
fn drawn_from_result(result: &PlanResult, outside: &str) -> Drawn {
    Drawn {
        routes: result
            .routes
            .iter()
            .map(|r| DrawnRoute {
                vehicle: r.vehicle.clone(),
                vehicle_name: match r.vehicle_name.as_deref() {
                    Some(VEHICLE_OUTSIDE) => outside.to_owned(),
                    Some(name) => name.to_owned(),
                    None => r.vehicle.clone(),
                },
                station: r.station.clone(),
                date: r.date,
                depart: r.depart.clone(),
                back: r.back.clone(),
                km: r.km,
                donors: r.donors,
                ml: r.ml,
                value: r.value.unwrap_or(r.ml),
                stops: r
                    .stops
                    .iter()
                    .map(|s| {
                        let about = s.about.clone().unwrap_or_default();
                        DrawnStop {
                            site: s.site.clone(),
                            name: s.name.clone(),
                            township: about.township.unwrap_or_default(),
                            arrive: s.arrive.clone(),
                            opens: s.opens.clone(),
                            closes: s.closes.clone(),
                            leave: s.leave.clone(),
                            expected: s.expected,
                            ml: s.ml,
                            value: s.value.unwrap_or(s.ml),
                            lon: about.longitude,
                            lat: about.latitude,
                        }
                    })
                    .collect(),
            })
            .collect(),
        donors: result.totals.donors,
        ml: result.totals.ml,
        value: result.totals.value.unwrap_or(result.totals.ml),
        km: result.totals.km,
        stops: result.totals.stops,
        objective: result.totals.objective,
    }
}

/// The edited routes, named from the plan as shown (vehicles, townships) and placed from the
/// plan's sites.
fn drawn_from_check(shown: &ShownPlan, checked: &CheckedPlan) -> Drawn {
    let vehicle_name: HashMap<&str, &str> = shown
        .vehicles
        .iter()
        .map(|(id, name)| (id.as_str(), name.as_str()))
        .collect();
    let station_of: HashMap<&str, &str> = shown
        .vehicle_stations
        .iter()
        .map(|(v, s)| (v.as_str(), s.as_str()))
        .collect();
    let round1 = |v: f64| (v * 10.0).round() / 10.0;
    Drawn {
        routes: checked
            .routes
            .iter()
            .map(|r| DrawnRoute {
                vehicle: r.vehicle.clone(),
                vehicle_name: vehicle_name
                    .get(r.vehicle.as_str())
                    .map_or_else(|| r.vehicle.clone(), |n| (*n).to_owned()),
                station: station_of.get(r.vehicle.as_str()).map(|s| (*s).to_owned()),
                date: r.date,
                depart: crate::planning::evaluate::time_of_day(r.depart),
                back: crate::planning::evaluate::time_of_day(r.back),
                km: round1(r.km),
                donors: r.donors,
                ml: round1(r.ml),
                value: round1(r.value),
                stops: r
                    .stops
                    .iter()
                    .map(|s| {
                        let place = shown.sites.get(&s.site);
                        DrawnStop {
                            site: s.site.clone(),
                            name: s.name.clone(),
                            township: place.map(|p| p.township.clone()).unwrap_or_default(),
                            arrive: crate::planning::evaluate::time_of_day(s.arrive),
                            opens: crate::planning::evaluate::time_of_day(s.opens),
                            closes: crate::planning::evaluate::time_of_day(s.closes),
                            leave: crate::planning::evaluate::time_of_day(s.leave),
                            expected: s.expected,
                            ml: round1(s.ml),
                            value: round1(s.value),
                            lon: place.map(|p| p.lon),
                            lat: place.map(|p| p.lat),
                        }
                    })
                    .collect(),
            })
            .collect(),
        donors: checked.totals.donors,
        ml: round1(checked.totals.ml),
        value: round1(checked.totals.value),
        km: round1(checked.totals.km),
        stops: checked.totals.stops,
        objective: checked.totals.objective,
    }
}

// ---------------------------------------------------------------------------------------------
// The page

struct StopRow {
    n: usize,
    site: String,
    name: String,
    township: String,
    times: String,
    expected: String,
    ml: String,
    /// `价值 12,400` when the stop's value differs from its mL, else empty.
    value: String,
    /// The stop's forecast (where its value is explained).
    forecast: String,
    /// Where the stop is now (the move form's preselected day and vehicle).
    day: String,
    vehicle: String,
    /// Unique within the page (a site may be visited twice).
    key: String,
    drop: String,
}

struct RouteSection {
    key: String,
    colour: String,
    title: String,
    summary: String,
    stops: Vec<StopRow>,
}

/// One bar segment of the timeline.
struct Segment {
    x: u32,
    w: u32,
    class: &'static str,
    title: String,
}

struct TimelineRow {
    label: String,
    colour: String,
    y: u32,
    text_y: u32,
    segments: Vec<Segment>,
    numbers: Vec<(u32, u32, usize)>,
}

struct Tick {
    x: u32,
    label: String,
}

struct Timeline {
    width: u32,
    height: u32,
    rows: Vec<TimelineRow>,
    ticks: Vec<Tick>,
    summary: String,
}

struct LeftOut {
    name: String,
    reason: String,
    best: String,
    site: String,
}

struct ViolationRow {
    kind: String,
    place: String,
}

struct Verdict {
    feasible: bool,
    headline: String,
    violations: Vec<ViolationRow>,
    changes: Vec<Figure>,
    edits: Vec<String>,
    undo: String,
    reset: String,
}

#[derive(Template)]
#[template(path = "splan_plan.html")]
struct PlanPage<'a> {
    page: &'a Page,
    id: i64,
    title: String,
    status: &'static str,
    status_label: String,
    running: bool,
    /// A running plan's page that does not reload itself.
    still: bool,
    progress: u8,
    progress_text: String,
    error: String,
    facts: Vec<Figure>,
    figures: Vec<Figure>,
    /// Edits are possible (a done plan whose stations the reader reads).
    editable: bool,
    /// Accepting is offered: feasible, unedited.
    acceptable: bool,
    /// Drives were made from it; they begin in this month (`YYYY-MM`).
    accepted: bool,
    first_month: String,
    accept_note: String,
    edits: Vec<String>,
    verdict: Option<Verdict>,
    map_src: String,
    timeline: Option<Timeline>,
    sections: Vec<RouteSection>,
    /// Some stop's value differs from its mL: the note saying why is shown.
    valued: bool,
    reasons: Vec<(String, String, usize)>,
    reason: String,
    left_out: Vec<LeftOut>,
    left_out_total: usize,
    /// Listed of those matching the filter, when not all are.
    left_out_note: String,
    /// The days and vehicles a stop may be moved to (value, label).
    days: Vec<(String, String)>,
    vehicles: Vec<(String, String)>,
}

impl PlanPage<'_> {
    fn is_reason(&self, value: &str) -> bool {
        self.reason == value
    }
}

fn status_label(page: &Page, status: PlanStatus) -> String {
    page.t(&format!("splan-status-{}", status.as_str()))
}

fn route_key(vehicle: &str, day: NaiveDate) -> String {
    format!("{vehicle}.{day}")
}

fn short_date(page: &Page, day: NaiveDate) -> String {
    date(page.lang, day)
}

fn violation_text(page: &Page, kind: ViolationKind) -> String {
    let id = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    page.t(&format!("splan-rule-{id}"))
}

fn reason_id(reason: &crate::planning::solver::ReasonKind) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    Some(h.parse::<u32>().ok()? * 60 + m.parse::<u32>().ok()?)
}

/// The timeline: a row per vehicle-day, from the earliest departure to the latest return.
fn timeline(page: &Page, drawn: &Drawn, colours: &HashMap<String, String>) -> Option<Timeline> {
    const LABEL: u32 = 330;
    const WIDTH: u32 = 1100;
    const ROW: u32 = 30;
    const TOP: u32 = 24;
    let start = drawn
        .routes
        .iter()
        .filter_map(|r| minutes(&r.depart))
        .min()?
        / 60
        * 60;
    let end = drawn
        .routes
        .iter()
        .filter_map(|r| minutes(&r.back))
        .max()?
        .div_ceil(60)
        * 60;
    let span = end.saturating_sub(start).max(60);
    let room = WIDTH - LABEL - 10;
    let x = |t: u32| LABEL + (t.saturating_sub(start)) * room / span;
    let ticks = (start / 60..=end / 60)
        .map(|h| Tick {
            x: x(h * 60),
            label: format!("{h:02}:00"),
        })
        .collect();
    let mut rows = Vec::new();
    for (i, r) in drawn.routes.iter().enumerate() {
        let y = TOP + i as u32 * ROW;
        let mut segments = Vec::new();
        let mut numbers = Vec::new();
        let mut at = minutes(&r.depart).unwrap_or(start);
        let mut push = |from: u32, to: u32, class: &'static str, title: String| {
            if to > from {
                segments.push(Segment {
                    x: x(from),
                    w: (x(to) - x(from)).max(1),
                    class,
                    title,
                });
            }
        };
        for (n, s) in r.stops.iter().enumerate() {
            let (Some(arrive), Some(opens), Some(closes), Some(leave)) = (
                minutes(&s.arrive),
                minutes(&s.opens),
                minutes(&s.closes),
                minutes(&s.leave),
            ) else {
                continue;
            };
            push(
                at,
                arrive,
                "tl-drive",
                page.t1("splan-tl-drive-to", "name", s.name.clone()),
            );
            push(
                arrive,
                opens,
                "tl-setup",
                page.t1("splan-tl-setup", "name", s.name.clone()),
            );
            push(
                opens,
                closes,
                "tl-donate",
                page.lang.tn(
                    "splan-tl-donate",
                    &[
                        ("name", s.name.clone().into()),
                        ("from", s.opens.clone().into()),
                        ("to", s.closes.clone().into()),
                    ],
                ),
            );
            push(
                closes,
                leave,
                "tl-packup",
                page.t1("splan-tl-packup", "name", s.name.clone()),
            );
            numbers.push(((x(opens) + x(closes)) / 2, y + 15, n + 1));
            at = leave;
        }
        if let Some(back) = minutes(&r.back) {
            push(at, back, "tl-back", page.t("splan-tl-back"));
        }
        rows.push(TimelineRow {
            label: format!("{} · {}", short_date(page, r.date), r.vehicle_name),
            colour: colours
                .get(&route_key(&r.vehicle, r.date))
                .cloned()
                .unwrap_or_default(),
            y,
            text_y: y + 15,
            segments,
            numbers,
        });
    }
    let summary = drawn
        .routes
        .iter()
        .map(|r| {
            format!(
                "{} {} {}–{}",
                short_date(page, r.date),
                r.vehicle_name,
                r.depart,
                r.back
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Some(Timeline {
        width: WIDTH,
        height: TOP + rows.len() as u32 * ROW + 4,
        rows,
        ticks,
        summary,
    })
}

fn colours_of(drawn: &Drawn) -> HashMap<String, String> {
    drawn
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                route_key(&r.vehicle, r.date),
                ROUTE_COLOURS[i % ROUTE_COLOURS.len()].to_owned(),
            )
        })
        .collect()
}

/// A value that differs from the mL by a visible amount (half a mL or more).
fn differs(value: f64, ml: f64) -> bool {
    (value - ml).abs() >= 0.5
}

fn one(v: f64) -> String {
    format!("{v:.1}")
}

fn signed(v: f64) -> String {
    if v > 0.05 {
        format!("+{v:.1}")
    } else if v < -0.05 {
        format!("{v:.1}")
    } else {
        "±0".to_owned()
    }
}

fn verdict(
    page: &Page,
    shown: &ShownPlan,
    checked: &EditChecked,
    reason: &str,
    drawn: &Drawn,
) -> Verdict {
    let id = shown.id;
    let after = &checked.after;
    let before = &checked.before;
    let feasible = after.violations.is_empty();
    let violations = after
        .violations
        .iter()
        .map(|v| {
            let route = v.route.and_then(|r| drawn.routes.get(r));
            let mut place = route
                .map(|r| format!("{} · {}", short_date(page, r.date), r.vehicle_name))
                .unwrap_or_default();
            if let (Some(r), Some(s)) = (route, v.stop)
                && let Some(stop) = r.stops.get(s)
            {
                place = format!("{place} · {}. {}", s + 1, stop.name);
            }
            ViolationRow {
                kind: violation_text(page, v.kind),
                place,
            }
        })
        .collect();
    let applied = &checked.applied;
    let undo = href(id, &applied[..applied.len().saturating_sub(1)], reason);
    Verdict {
        feasible,
        headline: if feasible {
            page.t("splan-check-feasible")
        } else {
            page.t1("splan-check-broken", "count", after.violations.len())
        },
        violations,
        changes: vec![
            Figure {
                label: page.t("splan-change-objective"),
                value: format!(
                    "{} mL",
                    signed(after.totals.objective - before.totals.objective)
                ),
            },
            Figure {
                label: page.t("splan-change-donors"),
                value: signed(after.totals.donors - before.totals.donors),
            },
            Figure {
                label: page.t("splan-change-km"),
                value: format!("{} km", signed(after.totals.km - before.totals.km)),
            },
            Figure {
                label: page.t("splan-change-stops"),
                value: signed(after.totals.stops as f64 - before.totals.stops as f64),
            },
        ],
        edits: applied.iter().map(|e| describe(page, shown, e)).collect(),
        undo,
        reset: href(id, &[], reason),
    }
}

/// An edit in words, naming the site and the vehicle.
fn describe(page: &Page, shown: &ShownPlan, edit: &Edit) -> String {
    let site_name = |site: &str| {
        shown
            .sites
            .get(site)
            .map_or_else(|| site.to_owned(), |s| s.name.clone())
    };
    match edit {
        Edit::Put {
            site,
            vehicle,
            date: day,
        } => page.lang.tn(
            "splan-edit-put",
            &[
                ("site", site_name(site).into()),
                (
                    "vehicle",
                    shown
                        .vehicles
                        .iter()
                        .find(|(id, _)| id == vehicle)
                        .map_or_else(|| vehicle.clone(), |(_, n)| n.clone())
                        .into(),
                ),
                ("date", short_date(page, *day).into()),
            ],
        ),
        Edit::Drop { site } => page.t1("splan-edit-drop", "site", site_name(site)),
    }
}

async fn plan_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let asked = asked(query.as_deref());
    if let Some(put) = asked.put {
        // The small move (or add) form: its edit joins the address's, and the page shows them.
        let mut edits = asked.edits;
        edits.push(put);
        let to = format!("{}#verdict", href(id, &edits, &asked.reason));
        return Ok(Redirect::to(&to).into_response());
    }
    let reader = page.caller.principal.as_ref();
    let EditedPlan {
        plan: shown,
        checked,
    } = show::show_edited(&state.db, &state.plans, reader, id, &asked.edits)
        .await
        .map_err(plans_error)?;
    let may_plan = shown.may_plan;
    let done = shown.status == PlanStatus::Done;
    let editable = shown.editable;
    let edits: Vec<Edit> = checked
        .as_ref()
        .map(|c| c.applied.clone())
        .unwrap_or_default();
    let drawn = match (&checked, &shown.result) {
        (Some(c), _) if !c.applied.is_empty() => Some(drawn_from_check(&shown, &c.after)),
        (_, Some(result)) => Some(drawn_from_result(result, &page.t("splan-vehicle-outside"))),
        _ => None,
    };
    let title = if shown.title.is_empty() {
        page.t1("splan-title", "id", id)
    } else {
        shown.title.clone()
    };
    let mut facts = vec![
        Figure {
            label: page.t("splan-made-by"),
            value: shown.created_by.clone().unwrap_or_default(),
        },
        Figure {
            label: page.t("splan-days"),
            value: match (shown.days.first(), shown.days.last()) {
                (Some(a), Some(b)) => {
                    format!("{} – {}", short_date(&page, *a), short_date(&page, *b))
                }
                _ => String::new(),
            },
        },
        Figure {
            label: page.t("splan-vehicles"),
            value: if shown.vehicles.is_empty() {
                // The plan's vehicles belong to stations the reader does not read.
                page.t("splan-vehicles-outside")
            } else {
                shown
                    .vehicles
                    .iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            },
        },
    ];
    if let Some(c) = shown.request.get("candidates").and_then(|c| c.as_str()) {
        facts.push(Figure {
            label: page.t("splan-candidates"),
            value: page.t(&format!("splan-candidates-{c}")),
        });
    }
    let mut figures = Vec::new();
    let mut sections = Vec::new();
    let mut timeline_view = None;
    let mut valued = false;
    if let Some(drawn) = &drawn {
        valued = differs(drawn.value, drawn.ml);
        figures = vec![
            Figure {
                label: page.t("splan-objective"),
                value: format!("{} mL", one(drawn.objective)),
            },
            Figure {
                label: page.t("splan-ml"),
                value: format!("{} mL", one(drawn.ml)),
            },
        ];
        if valued {
            figures.push(Figure {
                label: page.t("sval-plan-value"),
                value: page.t1("sval-plan-value-ml", "ml", whole(drawn.value)),
            });
        }
        figures.extend([
            Figure {
                label: page.t("splan-donors"),
                value: format!("{:.0}", drawn.donors),
            },
            Figure {
                label: page.t("splan-km"),
                value: format!("{} km", one(drawn.km)),
            },
            Figure {
                label: page.t("splan-stops"),
                value: drawn.stops.to_string(),
            },
            Figure {
                label: page.t("splan-routes"),
                value: drawn.routes.len().to_string(),
            },
        ]);
        let colours = colours_of(drawn);
        timeline_view = timeline(&page, drawn, &colours);
        for r in &drawn.routes {
            let key = route_key(&r.vehicle, r.date);
            sections.push(RouteSection {
                colour: colours.get(&key).cloned().unwrap_or_default(),
                title: format!("{} · {}", short_date(&page, r.date), r.vehicle_name),
                summary: {
                    let summary = page.lang.tn(
                        "splan-route-summary",
                        &[
                            ("depart", r.depart.clone().into()),
                            ("back", r.back.clone().into()),
                            ("km", one(r.km).into()),
                            ("donors", format!("{:.0}", r.donors).into()),
                            ("ml", one(r.ml).into()),
                        ],
                    );
                    if differs(r.value, r.ml) {
                        let value = page.t1("sval-route-value", "ml", whole(r.value));
                        format!("{summary} · {value}")
                    } else {
                        summary
                    }
                },
                stops: r
                    .stops
                    .iter()
                    .enumerate()
                    .map(|(n, s)| StopRow {
                        n: n + 1,
                        site: s.site.clone(),
                        name: s.name.clone(),
                        township: s.township.clone(),
                        times: format!("{}–{}", s.opens, s.closes),
                        expected: one(s.expected),
                        ml: one(s.ml),
                        value: if differs(s.value, s.ml) {
                            page.t1("sval-stop-value", "ml", whole(s.value))
                        } else {
                            String::new()
                        },
                        forecast: format!("/station/forecast?site={}&date={}", s.site, r.date),
                        day: r.date.to_string(),
                        vehicle: r.vehicle.clone(),
                        key: format!("{}-{}-{}", r.vehicle, r.date, n + 1),
                        drop: Edit::Drop {
                            site: s.site.clone(),
                        }
                        .token(),
                    })
                    .collect(),
                key,
            });
        }
    }
    // The sites left out: by the stored result; an edit that adds one takes it off the list.
    let on_plan: Vec<&str> = drawn
        .iter()
        .flat_map(|d| &d.routes)
        .flat_map(|r| &r.stops)
        .map(|s| s.site.as_str())
        .collect();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut left_out = Vec::new();
    let mut left_out_total = 0;
    if let Some(result) = &shown.result {
        for u in &result.unscheduled {
            if on_plan.contains(&u.site.as_str()) {
                continue;
            }
            left_out_total += 1;
            let id = reason_id(&u.reason);
            *reasons.entry(id.clone()).or_default() += 1;
            if (!asked.reason.is_empty() && asked.reason != id) || left_out.len() >= LEFT_OUT_SHOWN
            {
                continue;
            }
            left_out.push(LeftOut {
                name: u.name.clone(),
                reason: page.t(&format!("splan-reason-{id}")),
                best: match u.best_date {
                    Some(day) => page.lang.tn(
                        "splan-best",
                        &[
                            ("date", short_date(&page, day).into()),
                            ("count", one(u.best_expected).into()),
                        ],
                    ),
                    None => String::new(),
                },
                site: u.site.clone(),
            });
        }
    }
    // Dropped sites come back to the list, as left out by hand.
    for e in &edits {
        if let Edit::Drop { site } = e
            && !on_plan.contains(&site.as_str())
            && let Some(place) = shown.sites.get(site)
        {
            left_out_total += 1;
            *reasons.entry("dropped".to_owned()).or_default() += 1;
            if (asked.reason.is_empty() || asked.reason == "dropped")
                && left_out.len() < LEFT_OUT_SHOWN
            {
                left_out.push(LeftOut {
                    name: place.name.clone(),
                    reason: page.t("splan-reason-dropped"),
                    best: String::new(),
                    site: site.clone(),
                });
            }
        }
    }
    let feasible_stored = shown
        .result
        .as_ref()
        .is_some_and(|r| r.violations.is_empty());
    let acceptable = may_plan
        && done
        && feasible_stored
        && edits.is_empty()
        && !shown.accepted
        && !shown.beyond_reach;
    let accept_note = if shown.accepted {
        page.t("splan-accepted")
    } else if !may_plan || !done {
        String::new()
    } else if !edits.is_empty() {
        page.t("splan-accept-edited")
    } else if !feasible_stored {
        page.t("splan-accept-infeasible")
    } else {
        String::new()
    };
    let verdict_view = checked
        .as_ref()
        .filter(|c| !c.applied.is_empty())
        .zip(drawn.as_ref())
        .map(|(c, d)| verdict(&page, &shown, c, &asked.reason, d));
    let running = !shown.status.is_finished();
    let body = PlanPage {
        page: &page,
        id,
        title,
        status: shown.status.as_str(),
        status_label: status_label(&page, shown.status),
        running,
        still: asked.still,
        progress: shown.progress,
        progress_text: page.t1("splan-progress", "percent", shown.progress),
        error: shown.error.clone().unwrap_or_default(),
        facts,
        figures,
        editable,
        acceptable,
        accepted: shown.accepted,
        first_month: shown
            .days
            .first()
            .map(|d| d.format("%Y-%m").to_string())
            .unwrap_or_default(),
        accept_note,
        edits: edits.iter().map(Edit::token).collect(),
        verdict: verdict_view,
        map_src: {
            let query = href(id, &edits, "");
            match query.split_once('?') {
                Some((_, q)) => format!("/station/plans/{id}/map.json?{q}"),
                None => format!("/station/plans/{id}/map.json"),
            }
        },
        timeline: timeline_view,
        sections,
        valued,
        reasons: reasons
            .into_iter()
            .map(|(id, n)| {
                let label = page.t(&format!("splan-reason-{id}"));
                (id, label, n)
            })
            .collect(),
        reason: asked.reason.clone(),
        left_out_note: if left_out.len() >= LEFT_OUT_SHOWN {
            page.t1("splan-left-out-capped", "count", LEFT_OUT_SHOWN)
        } else {
            String::new()
        },
        left_out,
        left_out_total,
        days: shown
            .days
            .iter()
            .map(|d| (d.to_string(), short_date(&page, *d)))
            .collect(),
        vehicles: shown
            .vehicles
            .iter()
            .map(|(id, name)| (id.clone(), name.clone()))
            .collect(),
    };
    let mut response = html(&body);
    if running && !asked.still {
        // Staff watch a plan being made; the page (script or not) asks again in two seconds
        // (unless they asked it to keep still).
        response
            .headers_mut()
            .insert(header::REFRESH, HeaderValue::from_static("2"));
    }
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// The map's data

#[derive(Serialize)]
struct MapStop {
    n: usize,
    lon: f64,
    lat: f64,
    label: String,
}

#[derive(Serialize)]
struct MapRoute {
    colour: String,
    label: String,
    /// Station, stops, station (the line drawn).
    path: Vec<[f64; 2]>,
    stops: Vec<MapStop>,
}

#[derive(Serialize)]
struct MapStation {
    name: String,
    lon: f64,
    lat: f64,
}

#[derive(Serialize)]
struct PlanMap {
    crs: Crs,
    tiles: Vec<MapTiles>,
    stations: Vec<MapStation>,
    routes: Vec<MapRoute>,
}

/// `GET /station/plans/{id}/map.json[?e=…]`: the plan (as edited) for `map.js`.
async fn plan_map(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let asked = asked(query.as_deref());
    let reader = page.caller.principal.as_ref();
    let EditedPlan {
        plan: shown,
        checked,
    } = show::show_edited(&state.db, &state.plans, reader, id, &asked.edits)
        .await
        .map_err(plans_error)?;
    let drawn = match &checked {
        Some(c) if !c.applied.is_empty() => Some(drawn_from_check(&shown, &c.after)),
        _ => shown
            .result
            .as_ref()
            .map(|r| drawn_from_result(r, &page.t("splan-vehicle-outside"))),
    };
    let crs = if state.http.tiles.gcj02() {
        Crs::Gcj02
    } else {
        Crs::Wgs84
    };
    let placed = |lon: f64, lat: f64| {
        let (x, y) = maps::shown(lon, lat, crs);
        [y, x]
    };
    let mut routes = Vec::new();
    if let Some(drawn) = &drawn {
        let colours = colours_of(drawn);
        for r in &drawn.routes {
            let home = r
                .station
                .as_ref()
                .and_then(|s| shown.stations.iter().find(|x| &x.0 == s))
                .map(|s| placed(s.2, s.3));
            let stops: Vec<MapStop> = r
                .stops
                .iter()
                .enumerate()
                .filter_map(|(n, s)| {
                    let [lat, lon] = placed(s.lon?, s.lat?);
                    Some(MapStop {
                        n: n + 1,
                        lon,
                        lat,
                        label: page.lang.tn(
                            "splan-map-stop",
                            &[
                                ("n", (n + 1).into()),
                                ("name", s.name.clone().into()),
                                ("from", s.opens.clone().into()),
                                ("to", s.closes.clone().into()),
                                ("count", one(s.expected).into()),
                            ],
                        ),
                    })
                })
                .collect();
            let mut path: Vec<[f64; 2]> = home.into_iter().collect();
            path.extend(stops.iter().map(|s| [s.lat, s.lon]));
            path.extend(home);
            routes.push(MapRoute {
                colour: colours
                    .get(&route_key(&r.vehicle, r.date))
                    .cloned()
                    .unwrap_or_default(),
                label: format!("{} · {}", short_date(&page, r.date), r.vehicle_name),
                path,
                stops,
            });
        }
    }
    let data = PlanMap {
        crs,
        tiles: maps::tiles(&state.http.tiles),
        stations: shown
            .stations
            .iter()
            .map(|s| {
                let [lat, lon] = placed(s.2, s.3);
                MapStation {
                    name: s.1.clone(),
                    lon,
                    lat,
                }
            })
            .collect(),
        routes,
    };
    let mut response = axum::Json(data).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// Accepting, exporting

/// `POST /station/plans/{id}/replan`: a new plan of this plan's request with the page's edits
/// as its rules (each put a fixed stop, each drop a forbidden site), and the reader goes to its
/// page. The edits come as the form's `e` fields, as on the plan's page.
async fn replan(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let edits: Vec<Edit> = form
        .all("e")
        .iter()
        .filter_map(|t| Edit::parse(t))
        .take(MAX_EDITS)
        .collect();
    if edits.is_empty() {
        return Ok(Redirect::to(&href(id, &[], "")).into_response());
    }
    match show::replan(
        &state.db,
        &state.plans,
        page.caller.principal.as_ref(),
        id,
        &edits,
        page.caller.username(),
        state.clock.now(),
    )
    .await
    {
        Ok(submitted) => {
            Ok(Redirect::to(&format!("/station/plans/{}", submitted.id)).into_response())
        }
        Err(PlansError::Busy { .. }) => Err(PageError::Said(
            StatusCode::TOO_MANY_REQUESTS,
            page.t("splan-busy"),
        )),
        Err(PlansError::Invalid(_) | PlansError::Instance(_)) => Err(PageError::Said(
            StatusCode::UNPROCESSABLE_ENTITY,
            page.t("splan-replan-refused"),
        )),
        Err(e) => Err(plans_error(e)),
    }
}

/// `POST /station/plans/{id}/accept`: the plan's routes become drives (planned), and the
/// reader goes to the drives' calendar at the plan's first day.
async fn accept(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    _form: FormFields,
) -> Result<Response, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let acting = drives::Acting::caller(page.caller.principal.as_ref(), page.caller.actor());
    match drives::lifecycle::accept_plan(&state.db, id, &acting, state.clock.now()).await {
        Ok(made) => {
            let first = made.iter().map(|(drive, _)| drive.date).min();
            let to = match first {
                Some(day) => format!("/station/drives?month={}", day.format("%Y-%m")),
                None => "/station/drives".to_owned(),
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(DrivesError::Conflict(_)) => Err(PageError::Said(
            StatusCode::CONFLICT,
            page.t("splan-accept-refused"),
        )),
        Err(e) => Err(e.into()),
    }
}
