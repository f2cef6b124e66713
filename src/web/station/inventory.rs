//! The blood inventory and linkage pages (issue 17), on the inventory service
//! (`crate::inventory`, the one behind `/api/v1/inventory` and the stations' stock):
//!
//! - `/station/inventory`: the board, phone first: who is short of which component and group
//!   (the level in words, not colour alone) and who can spare some; each station's stock as a
//!   compact table; the requests not yet settled with their offers and the buttons the reader
//!   may use (accept, withdraw, dispatch, receive, cancel), each a plain form post;
//! - `/station/inventory/stations/{id}`: one station: its stock sheet as a form for who may
//!   change it (version hidden, every bad field beside it), its warning levels, and the history
//!   of one component and group as a chart drawn here (days of supply, the amber and red
//!   lines) with a sentence and a table of the points; read-only for other cities' staff;
//! - `/station/inventory/requests/new` and `/station/inventory/requests/{id}`: a request's form;
//!   one request with its offers, the flow's buttons and the offer form.
//!
//! A stale or no-longer-possible change shows the current state with a notice (409), never a
//! fault. A posting or dispatch that raised a recruitment need links to the need's page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use crate::domain::booking::china;
use crate::domain::inventory::{Component, Level};
use crate::error::FieldError;
use crate::inventory::linkage::{self, NewOffer, NewRequest, OfferView, RequestView};
use crate::inventory::stock::{
    self, GroupLevels, HistoryPoint, HistoryQuery, LevelsChange, Sheet, SheetRow, StationInventory,
};
use crate::inventory::{Acting, InventoryError, Written};
use crate::state::AppState;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::forms::{FormFields, FormState, hinted_errors};
use crate::web::templates::{date, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/station/inventory", get(board_page))
        .route(
            "/station/inventory/stations/{id}",
            get(station_page).post(post_sheet),
        )
        .route("/station/inventory/stations/{id}/levels", post(post_levels))
        .route("/station/inventory/requests", post(create_request))
        .route("/station/inventory/requests/new", get(new_request_page))
        .route("/station/inventory/requests/{id}", get(request_page))
        .route("/station/inventory/requests/{id}/offers", post(make_offer))
        .route("/station/inventory/requests/{id}/accept", post(accept))
        .route("/station/inventory/requests/{id}/cancel", post(cancel))
        .route("/station/inventory/offers/{id}/withdraw", post(withdraw))
        .route("/station/inventory/offers/{id}/dispatch", post(dispatch))
        .route("/station/inventory/offers/{id}/receive", post(receive))
}

// --- who, and small things shown ---

fn acting(page: &Page) -> Result<Acting<'_>, PageError> {
    let principal = page.caller.principal.as_ref().ok_or(PageError::SignIn)?;
    Ok(Acting::caller(Some(principal), page.caller.actor()))
}

fn id_of(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(PageError::status(StatusCode::NOT_FOUND))
}

impl From<InventoryError> for PageError {
    fn from(err: InventoryError) -> Self {
        crate::error::AppError::from(err).into()
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.with_timezone(&china())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn with_status(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

fn component_name(page: &Page, c: Component) -> String {
    page.t(&format!("inv-component-{}", c.as_str()))
}

fn level_name(page: &Page, l: Level) -> String {
    page.t(&format!("inv-level-{}", l.as_str()))
}

/// Days of supply as read: `2.5 天`, or "no use" when nothing is used.
fn days_text(page: &Page, days: Option<f64>) -> String {
    match days {
        Some(d) => page.t1("sinv-days", "days", format!("{d:.1}")),
        None => page.t("sinv-days-none"),
    }
}

/// A number as typed back into a field: `2` for 2.0, `2.5`.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        v.to_string()
    }
}

fn groups() -> Vec<String> {
    crate::domain::inventory::all_groups()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The `done=` of a redirect after a change, as the sentence saying it.
fn notice(page: &Page, done: Option<&str>) -> String {
    match done {
        Some(
            d @ ("posted" | "levels" | "requested" | "offered" | "accepted" | "withdrawn"
            | "dispatched" | "received" | "cancelled"),
        ) => page.t(&format!("sinv-done-{d}")),
        _ => String::new(),
    }
}

/// The needs a change raised, from `needs=1,2` of its redirect.
fn needs_of(raw: Option<&str>) -> Vec<i64> {
    raw.unwrap_or_default()
        .split(',')
        .filter_map(|n| n.trim().parse::<i64>().ok())
        .filter(|n| *n > 0)
        .take(20)
        .collect()
}

fn needs_param(ids: impl Iterator<Item = i64>) -> String {
    let ids: Vec<String> = ids.map(|i| i.to_string()).collect();
    if ids.is_empty() {
        String::new()
    } else {
        format!("&needs={}", ids.join(","))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    done: Option<String>,
    needs: Option<String>,
}

// --- the requests, as the board and a request's page show them ---

/// A button of the flow: a form posting to `action` (with the request's version when the
/// service wants one).
struct Button {
    action: String,
    label: String,
    version: Option<i32>,
    secondary: bool,
}

struct OfferRow {
    station: String,
    amount: String,
    note: String,
    status: String,
    status_label: String,
    when: String,
    buttons: Vec<Button>,
}

struct RequestRow {
    id: i64,
    station: String,
    what: String,
    amount: String,
    needed_by: String,
    note: String,
    status: String,
    status_label: String,
    made: String,
    offers: Vec<OfferRow>,
    buttons: Vec<Button>,
    /// The reader may offer from a station of theirs (not the requester).
    may_offer: bool,
}

fn amount(page: &Page, units: i32, ml: i32) -> String {
    page.lang
        .tn("sinv-amount", &[("units", units.into()), ("ml", ml.into())])
}

fn offer_row(page: &Page, r: &RequestView, o: &OfferView) -> OfferRow {
    let mut buttons = Vec::new();
    if r.status == "open" && r.editable && o.status == "open" {
        buttons.push(Button {
            action: format!("/station/inventory/requests/{}/accept?offer={}", r.id, o.id),
            label: page.t("sinv-accept"),
            version: Some(r.version),
            secondary: false,
        });
    }
    if o.status == "open" && o.editable {
        buttons.push(Button {
            action: format!("/station/inventory/offers/{}/withdraw", o.id),
            label: page.t("sinv-withdraw"),
            version: None,
            secondary: true,
        });
    }
    if o.status == "accepted" && o.editable {
        buttons.push(Button {
            action: format!("/station/inventory/offers/{}/dispatch", o.id),
            label: page.t("sinv-dispatch"),
            version: None,
            secondary: false,
        });
    }
    if o.status == "dispatched" && r.editable {
        buttons.push(Button {
            action: format!("/station/inventory/offers/{}/receive", o.id),
            label: page.t("sinv-receive"),
            version: None,
            secondary: false,
        });
    }
    OfferRow {
        station: o.station_name.clone(),
        amount: amount(page, o.units, o.ml),
        note: o.note.clone().unwrap_or_default(),
        status: o.status.clone(),
        status_label: page.t(&format!("inv-offer-status-{}", o.status)),
        when: when(o.created_at),
        buttons,
    }
}

fn request_row(page: &Page, r: &RequestView, may_offer: bool) -> RequestRow {
    let mut buttons = Vec::new();
    if matches!(r.status.as_str(), "open" | "accepted") && r.editable {
        buttons.push(Button {
            action: format!("/station/inventory/requests/{}/cancel", r.id),
            label: page.t("sinv-cancel"),
            version: None,
            secondary: true,
        });
    }
    RequestRow {
        id: r.id,
        station: r.station_name.clone(),
        what: format!("{} {}", r.blood_group, component_name(page, r.component)),
        amount: amount(page, r.units, r.ml),
        needed_by: date(page.lang, r.needed_by),
        note: r.note.clone().unwrap_or_default(),
        status: r.status.clone(),
        status_label: page.t(&format!("inv-request-status-{}", r.status)),
        made: when(r.created_at),
        offers: r.offers.iter().map(|o| offer_row(page, r, o)).collect(),
        buttons,
        may_offer: may_offer && r.status == "open",
    }
}

// --- the board ---

struct ShortRow {
    station_id: i64,
    station: String,
    level: String,
    level_label: String,
    days: String,
    units: i32,
    /// The reader may ask for blood for this station.
    ask: Option<String>,
}

struct SpareRow {
    station_id: i64,
    station: String,
    surplus: i64,
    days: String,
}

struct BalanceRow {
    what: String,
    short: Vec<ShortRow>,
    surplus: Vec<SpareRow>,
}

/// One cell of a station's table: a group's stock of one component.
struct Cell {
    units: String,
    days: String,
    level: String,
    level_label: String,
}

struct GroupLine {
    group: String,
    cells: Vec<Option<Cell>>,
}

struct StationCard {
    id: i64,
    name: String,
    editable: bool,
    components: Vec<String>,
    lines: Vec<GroupLine>,
    short: usize,
}

#[derive(Template)]
#[template(path = "sinv_board.html")]
struct BoardPage<'a> {
    page: &'a Page,
    balances: Vec<BalanceRow>,
    stations: Vec<StationCard>,
    requests: Vec<RequestRow>,
    may_request: bool,
    notice: String,
    problem: String,
    needs: Vec<i64>,
}

fn station_card(page: &Page, s: &StationInventory) -> StationCard {
    let components: Vec<Component> = Component::ALL
        .iter()
        .copied()
        .filter(|c| s.stocks.iter().any(|st| st.component == *c))
        .collect();
    let lines = groups()
        .into_iter()
        .filter(|g| s.stocks.iter().any(|st| st.blood_group == *g))
        .map(|g| GroupLine {
            cells: components
                .iter()
                .map(|c| {
                    s.stocks
                        .iter()
                        .find(|st| st.component == *c && st.blood_group == g)
                        .map(|st| Cell {
                            units: page.t1("sinv-units", "units", st.units),
                            days: days_text(page, st.days_of_supply),
                            level: st.level.as_str().to_owned(),
                            level_label: level_name(page, st.level),
                        })
                })
                .collect(),
            group: g,
        })
        .collect();
    StationCard {
        id: s.station_id,
        name: s.station_name.clone(),
        editable: s.editable,
        components: components
            .iter()
            .map(|c| component_name(page, *c))
            .collect(),
        lines,
        short: s.stocks.iter().filter(|st| st.level != Level::Ok).count(),
    }
}

async fn render_board(
    state: &AppState,
    page: &Page,
    notice: String,
    problem: String,
    needs: Vec<i64>,
) -> Result<Response, PageError> {
    let board = stock::board(&state.db, &acting(page)?).await?;
    let editable: Vec<i64> = board
        .stations
        .iter()
        .filter(|s| s.editable)
        .map(|s| s.station_id)
        .collect();
    let balances = board
        .balances
        .iter()
        .map(|b| BalanceRow {
            what: format!("{} {}", b.blood_group, component_name(page, b.component)),
            short: b
                .short
                .iter()
                .map(|s| ShortRow {
                    station_id: s.station_id,
                    station: s.station_name.clone(),
                    level: s.level.as_str().to_owned(),
                    level_label: level_name(page, s.level),
                    days: days_text(page, s.days_of_supply),
                    units: s.units,
                    ask: editable.contains(&s.station_id).then(|| {
                        format!(
                            "/station/inventory/requests/new?station={}&component={}&group={}",
                            s.station_id,
                            b.component.as_str(),
                            urlencoding(&b.blood_group)
                        )
                    }),
                })
                .collect(),
            surplus: b
                .surplus
                .iter()
                .map(|s| SpareRow {
                    station_id: s.station_id,
                    station: s.station_name.clone(),
                    surplus: s.surplus_units,
                    days: days_text(page, s.days_of_supply),
                })
                .collect(),
        })
        .collect();
    let may_request = !editable.is_empty();
    let body = BoardPage {
        page,
        balances,
        stations: board
            .stations
            .iter()
            .map(|s| station_card(page, s))
            .collect(),
        requests: board
            .requests
            .iter()
            .map(|r| {
                let from_elsewhere = editable.iter().any(|id| *id != r.station_id);
                request_row(page, r, from_elsewhere)
            })
            .collect(),
        may_request,
        notice,
        problem,
        needs,
    };
    Ok(html(&body))
}

fn urlencoding(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

/// `GET /station/inventory`: the board.
async fn board_page(
    State(state): State<AppState>,
    page: Page,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let notice = notice(&page, done.done.as_deref());
    render_board(
        &state,
        &page,
        notice,
        String::new(),
        needs_of(done.needs.as_deref()),
    )
    .await
}

// --- one station: the sheet, the levels, the history ---

/// A row of the sheet's form: one component of one group.
struct SheetLine {
    index: usize,
    component: String,
    group: String,
    /// Shown now (for the reader without the form).
    current: Option<Cell>,
}

struct LevelLine {
    index: usize,
    group: String,
}

struct Point {
    x: String,
    y: String,
}

struct Tick {
    x: String,
    y: String,
    label: String,
}

struct Chart {
    width: u32,
    height: u32,
    left: u32,
    right: u32,
    bottom: u32,
    line: String,
    points: Vec<Point>,
    amber_y: String,
    red_y: String,
    amber_label: String,
    red_label: String,
    y_ticks: Vec<Tick>,
    x_ticks: Vec<Tick>,
    title: String,
    desc: String,
}

struct HistoryRow {
    at: String,
    units: i32,
    daily: String,
    days: String,
    level: String,
    level_label: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "sinv_station.html")]
struct StationPage<'a> {
    page: &'a Page,
    id: i64,
    name: String,
    editable: bool,
    components: Vec<(String, String)>,
    groups: Vec<String>,
    lines: Vec<SheetLine>,
    sheet: FormState,
    level_lines: Vec<LevelLine>,
    levels: FormState,
    chart_component: String,
    chart_group: String,
    chart_what: String,
    chart: Option<Chart>,
    summary: String,
    history: Vec<HistoryRow>,
    notice: String,
    problem: String,
    needs: Vec<i64>,
}

/// The lines of the sheet: every component of every group, in a fixed order (the form's
/// field `units-{i}` is line `i`).
fn sheet_lines(page: &Page, inv: &StationInventory) -> Vec<SheetLine> {
    let mut out = Vec::new();
    for c in Component::ALL {
        for g in groups() {
            let current = inv
                .stocks
                .iter()
                .find(|s| s.component == *c && s.blood_group == g)
                .map(|st| Cell {
                    units: page.t1("sinv-units", "units", st.units),
                    days: days_text(page, st.days_of_supply),
                    level: st.level.as_str().to_owned(),
                    level_label: level_name(page, st.level),
                });
            out.push(SheetLine {
                index: out.len(),
                component: c.as_str().to_owned(),
                group: g,
                current,
            });
        }
    }
    out
}

/// The sheet's form filled with the stock as it is.
fn sheet_values(inv: &StationInventory) -> FormFields {
    let mut f = FormFields::default();
    f.set("version", inv.version.to_string());
    let mut i = 0;
    for c in Component::ALL {
        for g in groups() {
            if let Some(s) = inv
                .stocks
                .iter()
                .find(|s| s.component == *c && s.blood_group == g)
            {
                f.set(&format!("units-{i}"), s.units.to_string());
                f.set(&format!("ml-{i}"), s.ml.to_string());
                f.set(&format!("daily-{i}"), number(s.daily_use_units));
            }
            i += 1;
        }
    }
    f
}

fn levels_values(version: i32, levels: &[GroupLevels]) -> FormFields {
    let mut f = FormFields::default();
    f.set("version", version.to_string());
    for (i, g) in groups().iter().enumerate() {
        if let Some(l) = levels.iter().find(|l| l.blood_group == *g) {
            f.set(&format!("amber-{i}"), number(l.amber_days));
            f.set(&format!("red-{i}"), number(l.red_days));
        }
    }
    f
}

#[derive(Debug, Default, Deserialize)]
pub struct StationQuery {
    component: Option<String>,
    group: Option<String>,
    done: Option<String>,
    needs: Option<String>,
}

const CHART_W: u32 = 360;
const CHART_H: u32 = 236;
const CHART_LEFT: u32 = 36;
const CHART_RIGHT: u32 = 344;
const CHART_TOP: u32 = 16;
const CHART_BOTTOM: u32 = 200;

fn one_decimal(v: f64) -> String {
    format!("{v:.1}")
}

/// Days of supply over time (time to scale) with the amber and red lines.
fn chart(page: &Page, points: &[HistoryPoint], levels: &GroupLevels, what: &str) -> Option<Chart> {
    let drawn: Vec<(DateTime<Utc>, f64)> = points
        .iter()
        .filter_map(|p| p.days_of_supply.map(|d| (p.at, d)))
        .collect();
    if drawn.is_empty() {
        return None;
    }
    let max = drawn
        .iter()
        .map(|(_, d)| *d)
        .fold(levels.amber_days, f64::max)
        .max(1.0);
    let mut top = 1.0_f64;
    while top < max * 1.1 {
        top = if top.to_string().starts_with('2') {
            top / 2.0 * 5.0
        } else {
            top * 2.0
        };
    }
    let first = drawn[0].0;
    let last = drawn[drawn.len() - 1].0;
    let span = (last - first).num_seconds().max(1) as f64;
    let plot_w = f64::from(CHART_RIGHT - CHART_LEFT);
    let plot_h = f64::from(CHART_BOTTOM - CHART_TOP);
    let x_of = |at: DateTime<Utc>| {
        if drawn.len() == 1 {
            f64::from(CHART_LEFT) + plot_w / 2.0
        } else {
            f64::from(CHART_LEFT) + (at - first).num_seconds() as f64 / span * plot_w
        }
    };
    let y_of = |d: f64| f64::from(CHART_BOTTOM) - d.min(top) / top * plot_h;
    let pts: Vec<Point> = drawn
        .iter()
        .map(|(at, d)| Point {
            x: one_decimal(x_of(*at)),
            y: one_decimal(y_of(*d)),
        })
        .collect();
    let line = pts
        .iter()
        .map(|p| format!("{},{}", p.x, p.y))
        .collect::<Vec<_>>()
        .join(" ");
    let y_ticks = [0.0, top / 2.0, top]
        .into_iter()
        .map(|v| Tick {
            x: (CHART_LEFT - 4).to_string(),
            y: one_decimal(y_of(v) + 4.0),
            label: number(v),
        })
        .collect();
    let day = |at: DateTime<Utc>| at.with_timezone(&china()).format("%m-%d").to_string();
    let mut x_ticks = vec![Tick {
        x: CHART_LEFT.to_string(),
        y: (CHART_BOTTOM + 20).to_string(),
        label: day(first),
    }];
    if drawn.len() > 1 && day(first) != day(last) {
        x_ticks.push(Tick {
            x: CHART_RIGHT.to_string(),
            y: (CHART_BOTTOM + 20).to_string(),
            label: day(last),
        });
    }
    Some(Chart {
        width: CHART_W,
        height: CHART_H,
        left: CHART_LEFT,
        right: CHART_RIGHT,
        bottom: CHART_BOTTOM,
        line,
        points: pts,
        amber_y: one_decimal(y_of(levels.amber_days)),
        red_y: one_decimal(y_of(levels.red_days)),
        amber_label: page.t1("sinv-chart-amber", "days", number(levels.amber_days)),
        red_label: page.t1("sinv-chart-red", "days", number(levels.red_days)),
        y_ticks,
        x_ticks,
        title: page.t1("sinv-chart-title", "what", what),
        desc: String::new(),
    })
}

/// The history in a sentence: how many records, the latest days and level, the lowest.
fn summary(page: &Page, points: &[HistoryPoint], what: &str) -> String {
    let Some(latest) = points.last() else {
        return page.t1("sinv-chart-none", "what", what);
    };
    let lowest = points
        .iter()
        .filter_map(|p| p.days_of_supply)
        .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.min(d))));
    page.lang.tn(
        "sinv-chart-summary",
        &[
            ("what", what.into()),
            ("count", (points.len() as u64).into()),
            ("latest", days_text(page, latest.days_of_supply).into()),
            ("level", level_name(page, latest.level).into()),
            ("lowest", days_text(page, lowest).into()),
        ],
    )
}

struct StationForms {
    sheet: Option<FormState>,
    levels: Option<FormState>,
}

async fn render_station(
    state: &AppState,
    page: &Page,
    id: i64,
    query: &StationQuery,
    forms: StationForms,
    notice: String,
    problem: String,
) -> Result<Response, PageError> {
    let by = acting(page)?;
    let inv = stock::get(&state.db, id, &by).await?;
    // The chart's component and group: as asked, else red cells O+ when held, else whole
    // blood O+.
    let component = query
        .component
        .as_deref()
        .and_then(|c| c.parse::<Component>().ok())
        .unwrap_or_else(|| {
            if inv
                .stocks
                .iter()
                .any(|s| s.component == Component::RedCells && s.blood_group == "O+")
            {
                Component::RedCells
            } else {
                Component::WholeBlood
            }
        });
    let group = query
        .group
        .as_deref()
        .map(str::trim)
        .filter(|g| groups().iter().any(|x| x == g))
        .unwrap_or("O+")
        .to_owned();
    let points = stock::history(
        &state.db,
        id,
        HistoryQuery {
            component: Some(component.as_str().to_owned()),
            blood_group: Some(group.clone()),
            ..Default::default()
        },
        &by,
    )
    .await?;
    let what = format!("{group} {}", component_name(page, component));
    let levels = inv
        .levels
        .iter()
        .find(|l| l.blood_group == group)
        .cloned()
        .unwrap_or(GroupLevels {
            blood_group: group.clone(),
            amber_days: crate::domain::inventory::DEFAULT_AMBER_DAYS,
            red_days: crate::domain::inventory::DEFAULT_RED_DAYS,
        });
    let summary = summary(page, &points, &what);
    let chart = chart(page, &points, &levels, &what).map(|mut c| {
        c.desc.clone_from(&summary);
        c
    });
    let history = points
        .iter()
        .rev()
        .take(60)
        .map(|p| HistoryRow {
            at: when(p.at),
            units: p.units,
            daily: number(p.daily_use_units),
            days: days_text(page, p.days_of_supply),
            level: p.level.as_str().to_owned(),
            level_label: level_name(page, p.level),
            reason: page.t(&format!("inv-reason-{}", p.reason)),
        })
        .collect();
    let body = StationPage {
        page,
        id,
        name: inv.station_name.clone(),
        editable: inv.editable,
        components: Component::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), component_name(page, *c)))
            .collect(),
        groups: groups(),
        lines: sheet_lines(page, &inv),
        sheet: forms
            .sheet
            .unwrap_or_else(|| FormState::new(sheet_values(&inv))),
        level_lines: groups()
            .into_iter()
            .enumerate()
            .map(|(index, group)| LevelLine { index, group })
            .collect(),
        levels: forms.levels.unwrap_or_else(|| {
            // The levels' own version is not on the inventory: read with the form.
            FormState::new(levels_values(-1, &inv.levels))
        }),
        chart_component: component.as_str().to_owned(),
        chart_group: group,
        chart_what: what,
        chart,
        summary,
        history,
        notice,
        problem,
        needs: needs_of(query.needs.as_deref()),
    };
    Ok(html(&body))
}

/// `GET /station/inventory/stations/{id}[?component=&group=]`.
async fn station_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(query): Query<StationQuery>,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let notice = notice(&page, query.done.as_deref());
    let levels = stock::levels(&state.db, id, &acting(&page)?).await?;
    let forms = StationForms {
        sheet: None,
        levels: Some(FormState::new(levels_values(
            levels.version,
            &levels.levels,
        ))),
    };
    render_station(&state, &page, id, &query, forms, notice, String::new()).await
}

/// A sheet's field errors beside the form's fields: `rows[k].units` of the posted sheet is
/// `units-{i}` of the form.
fn sheet_errors(page: &Page, lines: &[usize], errors: &[FieldError]) -> Vec<(String, String)> {
    let mut shown = Vec::new();
    for e in errors {
        let (field, name) = match e
            .field
            .strip_prefix("rows[")
            .and_then(|r| r.split_once("]."))
        {
            Some((k, name)) => {
                let i = k.parse::<usize>().ok().and_then(|k| lines.get(k).copied());
                let short = match name {
                    "daily_use_units" => "daily",
                    other => other,
                };
                match i {
                    Some(i) => (format!("{short}-{i}"), short.to_owned()),
                    None => ("sheet".to_owned(), "sheet".to_owned()),
                }
            }
            None => ("sheet".to_owned(), "sheet".to_owned()),
        };
        if shown.iter().any(|(f, _): &(String, String)| *f == field) {
            continue;
        }
        let hint = hinted_errors(
            page,
            "sinv-hint",
            "",
            &[FieldError::new(&name, e.message.clone())],
        )
        .pop()
        .map_or_else(|| e.message.clone(), |(_, h)| h);
        shown.push((field, hint));
    }
    shown
}

/// `POST /station/inventory/stations/{id}`: the sheet, then the station's page; else the form
/// again with every bad field beside it and nothing written.
async fn post_sheet(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let by = acting(&page)?;
    // Lines with anything typed are posted; a blank field of such a line is 0.
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut i = 0;
    for c in Component::ALL {
        for g in groups() {
            let names = [
                format!("units-{i}"),
                format!("ml-{i}"),
                format!("daily-{i}"),
            ];
            if names.iter().any(|n| form.get(n).is_some()) {
                let int = |n: &str, errors: &mut Vec<(String, String)>| -> i64 {
                    match form.get(n) {
                        None => 0,
                        Some(v) => v.parse::<i64>().unwrap_or_else(|_| {
                            errors.push((n.to_owned(), page.t("sinv-hint-whole-number")));
                            0
                        }),
                    }
                };
                let units = int(&names[0], &mut errors);
                let ml = int(&names[1], &mut errors);
                let daily = match form.get(&names[2]) {
                    None => 0.0,
                    Some(v) => v.parse::<f64>().unwrap_or_else(|_| {
                        errors.push((names[2].clone(), page.t("sinv-hint-number")));
                        0.0
                    }),
                };
                rows.push(SheetRow {
                    component: c.as_str().to_owned(),
                    blood_group: g.clone(),
                    units,
                    ml,
                    daily_use_units: daily,
                });
                lines.push(i);
            }
            i += 1;
        }
    }
    let version = form.get("version").and_then(|v| v.parse::<i32>().ok());
    let refuse = async |errors: Vec<(String, String)>, problem: String, status: StatusCode| {
        let sheet = FormState {
            values: form.clone(),
            errors,
        };
        let levels = stock::levels(&state.db, id, &by).await?;
        let forms = StationForms {
            sheet: Some(sheet),
            levels: Some(FormState::new(levels_values(
                levels.version,
                &levels.levels,
            ))),
        };
        render_station(
            &state,
            &page,
            id,
            &StationQuery::default(),
            forms,
            String::new(),
            problem,
        )
        .await
        .map(|r| with_status(r, status))
    };
    if !errors.is_empty() {
        return refuse(errors, page.t("refused-fields"), StatusCode::BAD_REQUEST).await;
    }
    let Some(version) = version else {
        return refuse(vec![], page.t("sinv-stale"), StatusCode::CONFLICT).await;
    };
    match stock::post(
        &state.db,
        id,
        Sheet { rows },
        version,
        &by,
        state.clock.now(),
    )
    .await
    {
        Ok(Written::Done(result)) => Ok(Redirect::to(&format!(
            "/station/inventory/stations/{id}?done=posted{}",
            needs_param(result.needs_raised.iter().map(|n| n.need_id))
        ))
        .into_response()),
        Ok(Written::Stale(_)) => {
            let levels = stock::levels(&state.db, id, &by).await?;
            let forms = StationForms {
                sheet: None,
                levels: Some(FormState::new(levels_values(
                    levels.version,
                    &levels.levels,
                ))),
            };
            render_station(
                &state,
                &page,
                id,
                &StationQuery::default(),
                forms,
                String::new(),
                page.t("sinv-stale"),
            )
            .await
            .map(|r| with_status(r, StatusCode::CONFLICT))
        }
        Err(InventoryError::Invalid(errs)) => {
            let shown = sheet_errors(&page, &lines, &errs);
            refuse(shown, page.t("refused-fields"), StatusCode::BAD_REQUEST).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /station/inventory/stations/{id}/levels`: every group's amber and red days.
async fn post_levels(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let by = acting(&page)?;
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut levels = Vec::new();
    for (i, g) in groups().into_iter().enumerate() {
        let mut read = |name: String| match form.get(&name).map(|v| v.parse::<f64>()) {
            Some(Ok(v)) => v,
            _ => {
                errors.push((name, page.t("sinv-hint-number")));
                0.0
            }
        };
        let amber_days = read(format!("amber-{i}"));
        let red_days = read(format!("red-{i}"));
        levels.push(GroupLevels {
            blood_group: g,
            amber_days,
            red_days,
        });
    }
    let version = form.get("version").and_then(|v| v.parse::<i32>().ok());
    let refuse = async |errors: Vec<(String, String)>, problem: String, status: StatusCode| {
        let forms = StationForms {
            sheet: None,
            levels: Some(FormState {
                values: form.clone(),
                errors,
            }),
        };
        render_station(
            &state,
            &page,
            id,
            &StationQuery::default(),
            forms,
            String::new(),
            problem,
        )
        .await
        .map(|r| with_status(r, status))
    };
    if !errors.is_empty() {
        return refuse(errors, page.t("refused-fields"), StatusCode::BAD_REQUEST).await;
    }
    let Some(version) = version else {
        return refuse(vec![], page.t("sinv-stale"), StatusCode::CONFLICT).await;
    };
    match stock::set_levels(
        &state.db,
        id,
        LevelsChange { levels },
        version,
        &by,
        state.clock.now(),
    )
    .await
    {
        Ok(Written::Done(_)) => Ok(Redirect::to(&format!(
            "/station/inventory/stations/{id}?done=levels"
        ))
        .into_response()),
        Ok(Written::Stale(current)) => {
            let forms = StationForms {
                sheet: None,
                levels: Some(FormState::new(levels_values(
                    current.version,
                    &current.levels,
                ))),
            };
            render_station(
                &state,
                &page,
                id,
                &StationQuery::default(),
                forms,
                String::new(),
                page.t("sinv-stale"),
            )
            .await
            .map(|r| with_status(r, StatusCode::CONFLICT))
        }
        Err(InventoryError::Invalid(errs)) => {
            let shown = errs
                .iter()
                .map(|e| {
                    let field = e
                        .field
                        .strip_prefix("levels[")
                        .and_then(|r| r.split_once("]."))
                        .map_or_else(
                            || "levels".to_owned(),
                            |(i, name)| {
                                let short = name.strip_suffix("_days").unwrap_or(name);
                                format!("{short}-{i}")
                            },
                        );
                    (field, e.message.clone())
                })
                .map(|(field, message)| {
                    let key = format!("sinv-hint-{}", field.split('-').next().unwrap_or_default());
                    let hint = page.t(&key);
                    (field, if hint == key { message } else { hint })
                })
                .collect();
            refuse(shown, page.t("refused-fields"), StatusCode::BAD_REQUEST).await
        }
        Err(other) => Err(other.into()),
    }
}

// --- requests ---

#[derive(Template)]
#[template(path = "sinv_request_new.html")]
struct NewRequestPage<'a> {
    page: &'a Page,
    stations: Vec<(i64, String)>,
    components: Vec<(String, String)>,
    groups: Vec<String>,
    form: FormState,
    problem: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    station: Option<String>,
    component: Option<String>,
    group: Option<String>,
}

async fn render_new(
    state: &AppState,
    page: &Page,
    form: FormState,
    problem: String,
) -> Result<Response, PageError> {
    let board = stock::board(&state.db, &acting(page)?).await?;
    let body = NewRequestPage {
        page,
        stations: board
            .stations
            .iter()
            .filter(|s| s.editable)
            .map(|s| (s.station_id, s.station_name.clone()))
            .collect(),
        components: Component::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), component_name(page, *c)))
            .collect(),
        groups: groups(),
        form,
        problem,
    };
    Ok(html(&body))
}

/// `GET /station/inventory/requests/new[?station=&component=&group=]`.
async fn new_request_page(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<NewQuery>,
) -> Result<Response, PageError> {
    let mut f = FormFields::default();
    f.set("station_id", query.station.unwrap_or_default());
    f.set(
        "component",
        query.component.unwrap_or_else(|| "red_cells".to_owned()),
    );
    f.set(
        "blood_group",
        query.group.unwrap_or_else(|| "O+".to_owned()),
    );
    f.set("ml", "0".to_owned());
    render_new(&state, &page, FormState::new(f), String::new()).await
}

/// A request's or an offer's field errors beside their fields (the form's own names).
fn field_hints(page: &Page, errors: &[FieldError]) -> Vec<(String, String)> {
    hinted_errors(page, "sinv-hint", "", errors)
}

/// `POST /station/inventory/requests`: makes a request, then its page.
async fn create_request(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    let by = acting(&page)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut int = |name: &str, default: Option<i64>| match form.get(name) {
        None if default.is_some() => default.unwrap_or_default(),
        v => v.and_then(|v| v.parse::<i64>().ok()).unwrap_or_else(|| {
            errors.push(FieldError::new(name, "not a whole number"));
            0
        }),
    };
    let station_id = int("station_id", None);
    let units = int("units", None);
    let ml = int("ml", Some(0));
    let needed_by = form
        .get("needed_by")
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
    if needed_by.is_none() {
        errors.push(FieldError::new("needed_by", "not a date"));
    }
    if !errors.is_empty() {
        let shown = field_hints(&page, &errors);
        return render_new(
            &state,
            &page,
            FormState {
                values: form.clone(),
                errors: shown,
            },
            page.t("refused-fields"),
        )
        .await
        .map(|r| with_status(r, StatusCode::BAD_REQUEST));
    }
    let cmd = NewRequest {
        station_id,
        component: form.raw("component"),
        blood_group: form.get("blood_group").unwrap_or_default(),
        units,
        ml,
        needed_by: needed_by.unwrap_or_default(),
        note: form.get("note"),
    };
    match linkage::create_request(&state.db, cmd, &by, state.clock.now()).await {
        Ok(r) => Ok(Redirect::to(&format!(
            "/station/inventory/requests/{}?done=requested",
            r.id
        ))
        .into_response()),
        Err(InventoryError::Invalid(errs)) => render_new(
            &state,
            &page,
            FormState {
                values: form.clone(),
                errors: field_hints(&page, &errs),
            },
            page.t("refused-fields"),
        )
        .await
        .map(|r| with_status(r, StatusCode::BAD_REQUEST)),
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "sinv_request.html")]
struct RequestPage<'a> {
    page: &'a Page,
    request: RequestRow,
    /// Stations the reader may offer from.
    stations: Vec<(i64, String)>,
    offer: FormState,
    notice: String,
    problem: String,
    needs: Vec<i64>,
}

async fn render_request(
    state: &AppState,
    page: &Page,
    id: i64,
    offer: FormState,
    notice: String,
    problem: String,
    needs: Vec<i64>,
) -> Result<Response, PageError> {
    let by = acting(page)?;
    let r = linkage::get_request(&state.db, id, &by).await?;
    // The stations to offer from: only while the request is open.
    let stations: Vec<(i64, String)> = if r.status == "open" {
        stock::board(&state.db, &by)
            .await?
            .stations
            .iter()
            .filter(|s| s.editable && s.station_id != r.station_id)
            .map(|s| (s.station_id, s.station_name.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let body = RequestPage {
        page,
        request: request_row(page, &r, !stations.is_empty()),
        stations,
        offer,
        notice,
        problem,
        needs,
    };
    Ok(html(&body))
}

/// `GET /station/inventory/requests/{id}`.
async fn request_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let notice = notice(&page, done.done.as_deref());
    let mut offer = FormFields::default();
    offer.set("ml", "0".to_owned());
    render_request(
        &state,
        &page,
        id,
        FormState::new(offer),
        notice,
        String::new(),
        needs_of(done.needs.as_deref()),
    )
    .await
}

/// The request's page as it now is, with the refusal's sentence (409).
async fn conflict(state: &AppState, page: &Page, id: i64) -> Result<Response, PageError> {
    render_request(
        state,
        page,
        id,
        FormState::default(),
        String::new(),
        page.t("sinv-stale"),
        Vec::new(),
    )
    .await
    .map(|r| with_status(r, StatusCode::CONFLICT))
}

/// After a change, where to go: the board when it was made there, else the request's page.
fn back(form: &FormFields, request: i64, done: &str, needs: &str) -> Response {
    let to = if form.get("back").as_deref() == Some("board") {
        format!("/station/inventory?done={done}{needs}")
    } else {
        format!("/station/inventory/requests/{request}?done={done}{needs}")
    };
    Redirect::to(&to).into_response()
}

/// `POST /station/inventory/requests/{id}/offers`.
async fn make_offer(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let by = acting(&page)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut int = |name: &str, default: Option<i64>| match form.get(name) {
        None if default.is_some() => default.unwrap_or_default(),
        v => v.and_then(|v| v.parse::<i64>().ok()).unwrap_or_else(|| {
            errors.push(FieldError::new(name, "not a whole number"));
            0
        }),
    };
    let cmd = NewOffer {
        station_id: int("station_id", None),
        units: int("units", None),
        ml: int("ml", Some(0)),
        note: form.get("note"),
    };
    let refuse = async |errors: Vec<FieldError>| {
        render_request(
            &state,
            &page,
            id,
            FormState {
                values: form.clone(),
                errors: field_hints(&page, &errors),
            },
            String::new(),
            page.t("refused-fields"),
            Vec::new(),
        )
        .await
        .map(|r| with_status(r, StatusCode::BAD_REQUEST))
    };
    if !errors.is_empty() {
        return refuse(errors).await;
    }
    match linkage::make_offer(&state.db, id, cmd, &by, state.clock.now()).await {
        Ok(_) => Ok(back(&form, id, "offered", "")),
        Err(InventoryError::Invalid(errs)) => refuse(errs).await,
        Err(InventoryError::Conflict(_)) => conflict(&state, &page, id).await,
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct OfferParam {
    offer: Option<String>,
}

/// `POST /station/inventory/requests/{id}/accept?offer=`: with the request's version.
async fn accept(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(q): Query<OfferParam>,
    form: FormFields,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let offer = id_of(&q.offer.or_else(|| form.get("offer")).unwrap_or_default())?;
    let by = acting(&page)?;
    let Some(version) = form.get("version").and_then(|v| v.parse::<i32>().ok()) else {
        return conflict(&state, &page, id).await;
    };
    match linkage::accept(&state.db, id, offer, version, &by, state.clock.now()).await {
        Ok(Written::Done(_)) => Ok(back(&form, id, "accepted", "")),
        Ok(Written::Stale(_)) | Err(InventoryError::Conflict(_) | InventoryError::Invalid(_)) => {
            conflict(&state, &page, id).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /station/inventory/requests/{id}/cancel`.
async fn cancel(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let by = acting(&page)?;
    match linkage::cancel_request(&state.db, id, &by, state.clock.now()).await {
        Ok(_) => Ok(back(&form, id, "cancelled", "")),
        Err(InventoryError::Conflict(_)) => conflict(&state, &page, id).await,
        Err(other) => Err(other.into()),
    }
}

/// The request an offer belongs to, from the form (for the answer after the change).
fn request_of(form: &FormFields) -> Result<i64, PageError> {
    id_of(&form.get("request").unwrap_or_default())
}

/// `POST /station/inventory/offers/{id}/withdraw`.
async fn withdraw(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let by = acting(&page)?;
    match linkage::withdraw_offer(&state.db, id, &by, state.clock.now()).await {
        Ok(r) => Ok(back(&form, r.id, "withdrawn", "")),
        Err(InventoryError::Conflict(_)) => conflict(&state, &page, request_of(&form)?).await,
        Err(other) => Err(other.into()),
    }
}

/// `POST /station/inventory/offers/{id}/dispatch`: a need it raised is linked after.
async fn dispatch(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let by = acting(&page)?;
    match linkage::dispatch(&state.db, id, &by, state.clock.now()).await {
        Ok(m) => Ok(back(
            &form,
            m.request.id,
            "dispatched",
            &needs_param(m.needs_raised.iter().map(|n| n.need_id)),
        )),
        Err(InventoryError::Conflict(_) | InventoryError::Invalid(_)) => {
            conflict(&state, &page, request_of(&form)?).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /station/inventory/offers/{id}/receive`.
async fn receive(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let by = acting(&page)?;
    match linkage::receive(&state.db, id, &by, state.clock.now()).await {
        Ok(m) => Ok(back(
            &form,
            m.request.id,
            "received",
            &needs_param(m.needs_raised.iter().map(|n| n.need_id)),
        )),
        Err(InventoryError::Conflict(_)) => conflict(&state, &page, request_of(&form)?).await,
        Err(other) => Err(other.into()),
    }
}
