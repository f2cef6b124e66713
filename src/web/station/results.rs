//! The station's results and reports (issue 15): a drive's results against the forecast
//! (`/station/drives/{id}/results`) and a stop's (`/station/stops/{id}/results`), by stop,
//! blood group, village and deferral reason, as tables and server-drawn SVG bar charts (no
//! script, no library; each chart has its words for a screen reader and its table beside it);
//! the results report of completed drives by drive, township, season or month with its CSV and
//! XLSX downloads (`/station/reports`); and the calibration's fitted parameters month by month
//! (`/station/calibration`).
//!
//! Reads go through the services the API reads through: `checkin::results::drive_for`,
//! `stop_for` and `report_for` (the policy as `GET /api/v1/drives/{id}/report`,
//! `/stops/{id}/results` and `/reports/results` ask it: outside the reader's reach a drive or
//! stop does not exist), the downloads through `checkin::results::export` (the catalogue's
//! headers, in the reader's language), and `plans::build::calibration_history`.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::checkin::results::{
    self as service, ExportFormat, GroupBy, ReportQuery, ResultsRow, ResultsTotals,
};
use crate::domain::account::Principal;
use crate::domain::attendance::{StopResults, Tally, VillageCount};
use crate::domain::drive::DriveStatus;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::plans::build::calibration_history;
use crate::state::AppState;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::templates::{Figure, date, full_date, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/station/drives/{id}/results", get(drive_results))
        .route("/station/stops/{id}/results", get(stop_results))
        .route("/station/reports", get(reports))
        .route("/station/calibration", get(calibration))
}

/// The signed-in reader's account, or "sign in first".
fn principal(page: &Page) -> Result<&Principal, PageError> {
    page.caller.principal.as_ref().ok_or(PageError::SignIn)
}

/// A service's error as a page (404 outside the reader's reach, a fault as an apology).
fn refused(err: impl Into<AppError>) -> PageError {
    PageError::from(err.into())
}

/// `1,234`-free plain numbers: counts as they are, forecasts with one decimal.
fn decimal(v: f64) -> String {
    format!("{v:.1}")
}

fn signed(v: f64) -> String {
    if v > 0.0 {
        format!("+{v:.1}")
    } else {
        format!("{v:.1}")
    }
}

fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// A download: the bytes, their media type and the file's name.
fn download(body: Vec<u8>, format: ExportFormat, stem: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        format.file_name(stem)
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `csv` / `xlsx`; `None` for the page; `Err` for anything else.
fn format_of(raw: Option<&str>) -> Result<Option<ExportFormat>, ()> {
    match raw.map(str::trim) {
        None | Some("" | "html") => Ok(None),
        Some("csv") => Ok(Some(ExportFormat::Csv)),
        Some("xlsx") => Ok(Some(ExportFormat::Xlsx)),
        Some(_) => Err(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Charts

/// One bar of a chart.
#[derive(Debug, Clone)]
pub struct Bar {
    /// `a` (the forecast, light) or `b` (what came, dark).
    pub class: &'static str,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub value: String,
    pub value_x: u32,
    pub value_y: u32,
}

/// A row of a chart: its label and its bars (one per series).
#[derive(Debug, Clone)]
pub struct BarRow {
    pub label: String,
    pub label_y: u32,
    pub bars: Vec<Bar>,
}

/// A series, as the legend names it.
#[derive(Debug, Clone)]
pub struct Series {
    pub class: &'static str,
    pub label: String,
}

/// A horizontal bar chart drawn on the server (SVG, no script): a label per row on the left,
/// a bar per series, the figure after each bar; `summary` is what a screen reader reads.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub width: u32,
    pub height: u32,
    /// Where the bars start (the labels are right-aligned before it).
    pub left: u32,
    pub rows: Vec<BarRow>,
    pub series: Vec<Series>,
}

impl BarChart {
    const WIDTH: u32 = 560;
    const LEFT: u32 = 150;
    /// Room after the longest bar for its figure.
    const RIGHT: u32 = 56;
    const BAR: u32 = 14;
    const GAP: u32 = 10;
    /// At most this many rows.
    const MAX_ROWS: usize = 24;

    /// `rows`: a label and one value per series, with the figure shown for it.
    fn new(
        id: &str,
        title: String,
        series: Vec<Series>,
        rows: Vec<(String, Vec<(f64, String)>)>,
    ) -> Self {
        let rows = &rows[..rows.len().min(Self::MAX_ROWS)];
        let max = rows
            .iter()
            .flat_map(|(_, vs)| vs.iter().map(|(v, _)| *v))
            .fold(0.0_f64, f64::max);
        // Small figures (a rate of 0.006) fill the width too; nothing at all draws stubs.
        let max = if max > 0.0 { max } else { 1.0 };
        let room = f64::from(Self::WIDTH - Self::LEFT - Self::RIGHT);
        let per_row = Self::BAR * series.len().max(1) as u32 + Self::GAP;
        let mut summary = Vec::new();
        let drawn = rows
            .iter()
            .enumerate()
            .map(|(i, (label, values))| {
                let top = Self::GAP / 2 + i as u32 * per_row;
                let figures: Vec<String> = values
                    .iter()
                    .zip(&series)
                    .map(|((_, shown), s)| {
                        if series.len() > 1 {
                            format!("{} {shown}", s.label)
                        } else {
                            shown.clone()
                        }
                    })
                    .collect();
                summary.push(format!("{label}: {}", figures.join(", ")));
                let bars = values
                    .iter()
                    .zip(&series)
                    .enumerate()
                    .map(|(k, ((v, shown), s))| {
                        let w = ((v.max(0.0) / max) * room).round() as u32;
                        let y = top + k as u32 * Self::BAR;
                        Bar {
                            class: s.class,
                            x: Self::LEFT,
                            y,
                            w: w.max(1),
                            h: Self::BAR - 2,
                            value: shown.clone(),
                            value_x: Self::LEFT + w.max(1) + 4,
                            value_y: y + Self::BAR - 4,
                        }
                    })
                    .collect();
                let short: String = if label.chars().count() > 12 {
                    label.chars().take(11).chain(std::iter::once('…')).collect()
                } else {
                    label.clone()
                };
                BarRow {
                    label: short,
                    label_y: top + (per_row - Self::GAP) / 2 + 4,
                    bars,
                }
            })
            .collect();
        BarChart {
            id: id.to_owned(),
            title,
            summary: summary.join("; "),
            width: Self::WIDTH,
            height: (rows.len() as u32 * per_row).max(per_row) + Self::GAP / 2,
            left: Self::LEFT,
            rows: drawn,
            series,
        }
    }

    /// Where the labels end.
    pub fn label_x(&self) -> u32 {
        self.left - 6
    }
}

/// The forecast against the donors, one pair of bars per row.
fn forecast_series(page: &Page) -> Vec<Series> {
    vec![
        Series {
            class: "a",
            label: page.t("sres-series-expected"),
        },
        Series {
            class: "b",
            label: page.t("sres-series-donated"),
        },
    ]
}

fn one_series(label: String) -> Vec<Series> {
    vec![Series { class: "b", label }]
}

// ---------------------------------------------------------------------------------------------
// A drive's and a stop's results

/// A row of a breakdown table.
#[derive(Debug, Clone)]
pub struct CountRow {
    pub label: String,
    pub count: u64,
    /// A second figure (donors from a village); empty when none.
    pub second: String,
}

/// A stop in the drive's results table.
#[derive(Debug, Clone)]
pub struct StopRow {
    pub id: i64,
    pub seq: i32,
    pub name: String,
    pub expected: String,
    pub registered: u64,
    pub donated: u64,
    pub deferred: u64,
    pub total_ml: u64,
    pub error: String,
    pub recorded: bool,
}

/// What a drive's or stop's results page shows.
#[derive(Debug, Clone)]
pub struct Breakdowns {
    pub facts: Vec<Figure>,
    pub blood_groups: Vec<CountRow>,
    pub blood_chart: Option<BarChart>,
    pub villages: Vec<CountRow>,
    pub village_chart: Option<BarChart>,
    pub deferrals: Vec<CountRow>,
    pub deferral_chart: Option<BarChart>,
}

#[derive(askama::Template)]
#[template(path = "station_results.html")]
pub struct ResultsPage<'a> {
    pub page: &'a Page,
    pub title: String,
    pub status: &'static str,
    pub status_label: String,
    /// Final once the drive is completed; else a sentence saying the figures may change.
    pub locked: bool,
    pub drive_id: i64,
    /// A stop's page: its place; a drive's page: empty.
    pub stop_name: String,
    pub stops: Vec<StopRow>,
    pub stop_chart: Option<BarChart>,
    pub b: Breakdowns,
    /// The downloads (a drive's page only).
    pub csv_href: String,
    pub xlsx_href: String,
}

fn status_label(page: &Page, status: DriveStatus) -> String {
    page.t(&format!("sdrive-status-{}", status.as_str()))
}

fn blood_label(page: &Page, group: &str) -> String {
    if group == "unknown" {
        page.t("sres-blood-unknown")
    } else if let Some(rh) = group.strip_prefix("unknown") {
        format!("{}{rh}", page.t("sres-blood-unknown"))
    } else {
        group.to_owned()
    }
}

fn deferral_label(page: &Page, category: &str) -> String {
    match category {
        "low_hemoglobin" | "blood_pressure" | "weight" | "recent_illness" | "medication"
        | "recent_donation" | "travel_or_exposure" | "other" => {
            page.t(&format!("sres-deferral-{category}"))
        }
        _ => page.t("sres-deferral-unknown"),
    }
}

/// The headline figures of `t`.
fn facts(page: &Page, t: &Tally) -> Vec<Figure> {
    let totals = ResultsTotals::from(t);
    let mut out = vec![
        Figure {
            label: page.t("sres-expected"),
            value: decimal(t.expected_donors),
        },
        Figure {
            label: page.t("sres-registered"),
            value: t.registered.to_string(),
        },
        Figure {
            label: page.t("sres-donated"),
            value: t.donated.to_string(),
        },
        Figure {
            label: page.t("sres-deferred"),
            value: format!("{}（{}）", t.deferred, share(totals.deferral_rate)),
        },
        Figure {
            label: page.t("sres-total-ml"),
            value: page.t1("sres-ml", "ml", t.total_ml.to_string()),
        },
        Figure {
            label: page.t("sres-walk-ins"),
            value: t.walk_ins.to_string(),
        },
        Figure {
            label: page.t("sres-no-shows"),
            value: format!(
                "{} / {}（{}）",
                t.no_shows,
                t.booked_places,
                share(totals.no_show_rate)
            ),
        },
        Figure {
            label: page.t("sres-error"),
            value: match totals.forecast_error {
                Some(e) => format!("{}（{}）", signed(e), share(totals.relative_error)),
                None => page.t("sres-not-recorded"),
            },
        },
    ];
    if t.unrecorded_stops > 0 {
        out.push(Figure {
            label: page.t("sres-unrecorded"),
            value: page.lang.tn(
                "sres-unrecorded-value",
                &[
                    ("stops", t.unrecorded_stops.to_string().into()),
                    ("expected", decimal(t.unrecorded_expected).into()),
                ],
            ),
        });
    }
    out
}

fn breakdowns(
    page: &Page,
    tally: &Tally,
    by_blood_group: &BTreeMap<String, u64>,
    by_village: &BTreeMap<String, VillageCount>,
    names: &BTreeMap<String, String>,
    by_deferral: &BTreeMap<String, u64>,
) -> Breakdowns {
    let blood_groups: Vec<CountRow> = by_blood_group
        .iter()
        .map(|(g, n)| CountRow {
            label: blood_label(page, g),
            count: *n,
            second: String::new(),
        })
        .collect();
    let mut villages: Vec<(&String, &VillageCount)> = by_village.iter().collect();
    villages.sort_by(|a, b| {
        b.1.registered
            .cmp(&a.1.registered)
            .then(b.1.donated.cmp(&a.1.donated))
            .then(a.0.cmp(b.0))
    });
    let villages: Vec<CountRow> = villages
        .into_iter()
        .map(|(code, v)| CountRow {
            label: names.get(code).cloned().unwrap_or_else(|| {
                if code == "unknown" {
                    page.t("sres-village-unknown")
                } else {
                    code.clone()
                }
            }),
            count: v.registered,
            second: v.donated.to_string(),
        })
        .collect();
    let mut deferrals: Vec<CountRow> = by_deferral
        .iter()
        .map(|(c, n)| CountRow {
            label: deferral_label(page, c),
            count: *n,
            second: String::new(),
        })
        .collect();
    deferrals.sort_by(|a, b| b.count.cmp(&a.count).then(a.label.cmp(&b.label)));
    let counts = |rows: &[CountRow]| -> Vec<(String, Vec<(f64, String)>)> {
        rows.iter()
            .map(|r| (r.label.clone(), vec![(r.count as f64, r.count.to_string())]))
            .collect()
    };
    let blood_chart = (!blood_groups.is_empty()).then(|| {
        BarChart::new(
            "chart-blood",
            page.t("sres-by-blood-group"),
            one_series(page.t("sres-series-donated")),
            counts(&blood_groups),
        )
    });
    let village_chart = (!villages.is_empty()).then(|| {
        BarChart::new(
            "chart-village",
            page.t("sres-by-village"),
            vec![
                Series {
                    class: "a",
                    label: page.t("sres-series-registered"),
                },
                Series {
                    class: "b",
                    label: page.t("sres-series-donated"),
                },
            ],
            villages
                .iter()
                .map(|r| {
                    let donated: f64 = r.second.parse().unwrap_or(0.0);
                    (
                        r.label.clone(),
                        vec![
                            (r.count as f64, r.count.to_string()),
                            (donated, r.second.clone()),
                        ],
                    )
                })
                .collect(),
        )
    });
    let deferral_chart = (!deferrals.is_empty()).then(|| {
        BarChart::new(
            "chart-deferral",
            page.t("sres-by-deferral"),
            one_series(page.t("sres-series-deferred")),
            counts(&deferrals),
        )
    });
    Breakdowns {
        facts: facts(page, tally),
        blood_groups,
        blood_chart,
        villages,
        village_chart,
        deferrals,
        deferral_chart,
    }
}

fn stop_row(stop: &entity::drive_stop::Model, r: &StopResults) -> StopRow {
    let t = &r.tally;
    let recorded = t.unrecorded_stops == 0;
    StopRow {
        id: stop.id,
        seq: stop.seq,
        name: stop.name.clone(),
        expected: decimal(stop.expected_donors),
        registered: t.registered,
        donated: t.donated,
        deferred: t.deferred,
        total_ml: t.total_ml,
        error: t.forecast_error().map(signed).unwrap_or_default(),
        recorded,
    }
}

#[derive(Debug, Deserialize)]
struct DownloadParams {
    format: Option<String>,
}

/// `GET /station/drives/{id}/results[?format=csv|xlsx]`: the drive's results against the
/// forecast, stop by stop, by blood group, village and deferral reason; or its download
/// (one row per stop and a total row, the catalogue's headers in the reader's language).
async fn drive_results(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(params): Query<DownloadParams>,
) -> Result<Response, PageError> {
    let principal = principal(&page)?;
    let format = format_of(params.format.as_deref())
        .map_err(|()| PageError::status(StatusCode::BAD_REQUEST))?;
    let read = service::drive_for(&state.db, principal, id)
        .await
        .map_err(refused)?;
    let r = &read.results;
    if let Some(format) = format {
        let (rows, total) = r.rows(page.lang);
        let body = service::export(&rows, &total, format, page.lang).map_err(refused)?;
        return Ok(download(body, format, &format!("drive-{id}")));
    }
    let stops: Vec<StopRow> = r.stops.iter().map(|(s, sr)| stop_row(s, sr)).collect();
    let stop_chart = (!stops.is_empty()).then(|| {
        BarChart::new(
            "chart-stops",
            page.t("sres-by-stop"),
            forecast_series(&page),
            stops
                .iter()
                .map(|s| {
                    let expected: f64 = s.expected.parse().unwrap_or(0.0);
                    (
                        format!("{}. {}", s.seq, s.name),
                        vec![
                            (expected, s.expected.clone()),
                            (s.donated as f64, s.donated.to_string()),
                        ],
                    )
                })
                .collect(),
        )
    });
    let when = date(page.lang, read.drive.date);
    let body = ResultsPage {
        title: page.t1("sres-drive-title", "date", when.clone()),
        status: read.status.as_str(),
        status_label: status_label(&page, read.status),
        locked: r.locked,
        drive_id: read.drive.id,
        stop_name: String::new(),
        stops,
        stop_chart,
        b: breakdowns(
            &page,
            &r.totals,
            &r.by_blood_group,
            &read.by_village,
            &read.village_names,
            &r.by_deferral_category,
        ),
        csv_href: format!("/station/drives/{id}/results?format=csv"),
        xlsx_href: format!("/station/drives/{id}/results?format=xlsx"),
        page: &page,
    };
    Ok(html(&body))
}

/// `GET /station/stops/{id}/results`: a stop's results against its forecast, by blood group,
/// village and deferral reason.
async fn stop_results(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let principal = principal(&page)?;
    let read = service::stop_for(&state.db, principal, id)
        .await
        .map_err(refused)?;
    let r = &read.results;
    let when = date(page.lang, read.drive.date);
    let body = ResultsPage {
        title: page.lang.tn(
            "sres-stop-title",
            &[
                ("name", read.stop.name.clone().into()),
                ("date", when.clone().into()),
            ],
        ),
        status: read.status.as_str(),
        status_label: status_label(&page, read.status),
        locked: read.status == DriveStatus::Completed,
        drive_id: read.drive.id,
        stop_name: read.stop.name.clone(),
        stops: Vec::new(),
        stop_chart: None,
        b: breakdowns(
            &page,
            &r.tally,
            &r.by_blood_group,
            &r.by_village,
            &read.village_names,
            &r.by_deferral_category,
        ),
        csv_href: String::new(),
        xlsx_href: String::new(),
        page: &page,
    };
    Ok(html(&body))
}

// ---------------------------------------------------------------------------------------------
// The results report

/// A grouping to choose.
#[derive(Debug, Clone)]
pub struct GroupChoice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

/// A row of the report as the page shows it.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub label: String,
    /// The drive's results page, for a row per drive.
    pub href: String,
    pub drives: u64,
    pub stops: u64,
    pub registered: u64,
    pub donated: u64,
    pub deferred: u64,
    pub total_ml: u64,
    pub expected: String,
    pub error: String,
    pub relative: String,
    pub deferral_rate: String,
    pub no_show_rate: String,
}

#[derive(askama::Template)]
#[template(path = "station_reports.html")]
pub struct ReportsPage<'a> {
    pub page: &'a Page,
    pub groups: Vec<GroupChoice>,
    pub from: String,
    pub to: String,
    pub region: String,
    /// The regions offered for `region`.
    pub region_choices: Vec<crate::web::templates::PlaceLink>,
    /// A field's error beside it (`region`, `from`, `to`), and a sentence above the form.
    pub errors: BTreeMap<&'static str, String>,
    pub problem: String,
    /// The report, once it could be read.
    pub shown: bool,
    pub rows: Vec<ReportRow>,
    pub total: Option<ReportRow>,
    pub chart: Option<BarChart>,
    pub csv_href: String,
    pub xlsx_href: String,
}

impl ReportsPage<'_> {
    pub fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
struct ReportParams {
    group: Option<String>,
    from: Option<String>,
    to: Option<String>,
    region: Option<String>,
    format: Option<String>,
}

const GROUPS: [GroupBy; 4] = [
    GroupBy::Drive,
    GroupBy::Township,
    GroupBy::Season,
    GroupBy::Month,
];

fn report_row(row: &ResultsRow, group: GroupBy) -> ReportRow {
    let t = &row.totals;
    ReportRow {
        label: row.label.clone(),
        href: if group == GroupBy::Drive && row.group != "total" {
            format!("/station/drives/{}/results", row.group)
        } else {
            String::new()
        },
        drives: row.drives,
        stops: t.stops,
        registered: t.registered,
        donated: t.donated,
        deferred: t.deferred,
        total_ml: t.total_ml,
        expected: decimal(t.expected_donors),
        error: t.forecast_error.map(signed).unwrap_or_default(),
        relative: t.relative_error.map(|r| share(Some(r))).unwrap_or_default(),
        deferral_rate: share(t.deferral_rate),
        no_show_rate: share(t.no_show_rate),
    }
}

/// The report's address with `format` (empty: the page).
fn report_href(group: GroupBy, from: &str, to: &str, region: &str, format: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("group", group.name());
    for (k, v) in [
        ("from", from),
        ("to", to),
        ("region", region),
        ("format", format),
    ] {
        if !v.is_empty() {
            query.append_pair(k, v);
        }
    }
    format!("/station/reports?{}", query.finish())
}

/// A drive's label in the report: its date as people read it, with its year (a report may
/// span years).
fn row_label(lang: Lang, group: GroupBy, row: &mut ResultsRow) {
    if group == GroupBy::Drive
        && let Ok(day) = row.label.parse::<NaiveDate>()
    {
        row.label = full_date(lang, day);
    }
}

/// `GET /station/reports[?group=drive|township|season|month&from=&to=&region=&format=csv|xlsx]`:
/// the results of completed drives within the reader's reach, grouped as chosen, with their
/// total and a chart of donors against the forecast; or the CSV/XLSX download of the same
/// rows (the catalogue's headers in the reader's language).
async fn reports(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let principal = principal(&page)?;
    let field = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    let p = ReportParams {
        group: field("group"),
        from: field("from"),
        to: field("to"),
        region: field("region"),
        format: field("format"),
    };
    let lang = page.lang;
    let mut errors: BTreeMap<&'static str, String> = BTreeMap::new();
    let group = match p.group.as_deref().unwrap_or("") {
        "" | "drive" => GroupBy::Drive,
        "township" => GroupBy::Township,
        "season" => GroupBy::Season,
        "month" => GroupBy::Month,
        _ => {
            errors.insert("group", page.t("sres-bad-group"));
            GroupBy::Drive
        }
    };
    let mut day = |name: &'static str, raw: &Option<String>| -> Option<NaiveDate> {
        let raw = raw.as_deref().unwrap_or("");
        if raw.is_empty() {
            return None;
        }
        let parsed = raw.parse::<NaiveDate>().ok();
        if parsed.is_none() {
            errors.insert(name, page.t("sres-bad-date"));
        }
        parsed
    };
    let from = day("from", &p.from);
    let to = day("to", &p.to);
    let region = p.region.clone().unwrap_or_default();
    if !region.is_empty() && crate::domain::region::RegionCode::parse(&region).is_err() {
        errors.insert("region", page.t("sres-bad-region"));
    }
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        errors.insert("to", page.t("sres-bad-range"));
    }
    let format = format_of(p.format.as_deref());
    let from_s = p.from.clone().unwrap_or_default();
    let to_s = p.to.clone().unwrap_or_default();
    let region_choices = super::region_choices(&state, &page).await?;
    let mut body = ReportsPage {
        region_choices,
        groups: GROUPS
            .iter()
            .map(|g| GroupChoice {
                value: g.name(),
                label: page.t(&format!("sres-group-{}", g.name())),
                selected: *g == group,
            })
            .collect(),
        from: from_s.clone(),
        to: to_s.clone(),
        region: region.clone(),
        errors: BTreeMap::new(),
        problem: String::new(),
        shown: false,
        rows: Vec::new(),
        total: None,
        chart: None,
        csv_href: report_href(group, &from_s, &to_s, &region, "csv"),
        xlsx_href: report_href(group, &from_s, &to_s, &region, "xlsx"),
        page: &page,
    };
    if format.is_err() {
        errors.insert("format", page.t("sres-bad-format"));
    }
    if !errors.is_empty() {
        body.problem = page.t("sres-fix-filters");
        body.errors = errors;
        let mut response = html(&body);
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    }
    let query = ReportQuery {
        region: (!region.is_empty()).then(|| region.clone()),
        range: None,
        from,
        to,
        group,
        lang,
    };
    let report = match service::report_for(&state.db, principal, query).await {
        Ok(report) => report,
        Err(crate::checkin::CheckinError::NotFound(_)) => {
            // A region outside the reader's reach reads as unknown, beside its field.
            body.problem = page.t("sres-fix-filters");
            body.errors.insert("region", page.t("sres-no-region"));
            let mut response = html(&body);
            *response.status_mut() = StatusCode::NOT_FOUND;
            return Ok(response);
        }
        Err(e) => return Err(refused(e)),
    };
    if let Ok(Some(format)) = format {
        let out = service::export(&report.rows, &report.total_row(lang), format, lang)
            .map_err(refused)?;
        return Ok(download(
            out,
            format,
            &format!("results-by-{}", group.name()),
        ));
    }
    let total = report_row(&report.total_row(lang), group);
    let mut rows = report.rows;
    for row in &mut rows {
        row_label(lang, group, row);
    }
    let shown: Vec<ReportRow> = rows.iter().map(|r| report_row(r, group)).collect();
    body.chart = (!shown.is_empty()).then(|| {
        BarChart::new(
            "chart-report",
            page.t("sres-report-chart"),
            forecast_series(&page),
            rows.iter()
                .map(|r| {
                    (
                        r.label.clone(),
                        vec![
                            (r.totals.expected_donors, decimal(r.totals.expected_donors)),
                            (r.totals.donated as f64, r.totals.donated.to_string()),
                        ],
                    )
                })
                .collect(),
        )
    });
    body.total = Some(total);
    body.rows = shown;
    body.shown = true;
    Ok(html(&body))
}

// ---------------------------------------------------------------------------------------------
// Calibration

/// The calibration at the end of a month.
#[derive(Debug, Clone)]
pub struct CalibrationRow {
    /// `2026年12月`.
    pub month: String,
    pub new_stops: usize,
    pub stops: usize,
    pub fitted: bool,
    pub source: String,
    pub rate: String,
    pub decay_km: String,
}

#[derive(askama::Template)]
#[template(path = "station_calibration.html")]
pub struct CalibrationPage<'a> {
    pub page: &'a Page,
    pub facts: Vec<Figure>,
    /// Why the defaults stand, or how the fit was made.
    pub how: String,
    pub rows: Vec<CalibrationRow>,
    pub rate_chart: Option<BarChart>,
    pub decay_chart: Option<BarChart>,
}

/// `GET /station/calibration`: the turnout model's rate and decay as fitted to the recorded
/// results of completed drives, month by month (the last is what the forecast uses now).
async fn calibration(State(state): State<AppState>, page: Page) -> Result<Response, PageError> {
    principal(&page)?;
    let history = calibration_history(&state.db).await.map_err(refused)?;
    let defaults = crate::planning::turnout::TurnoutParams::default();
    let min = crate::planning::calibrate::MIN_STOPS;
    let lang = page.lang;
    let month = |d: NaiveDate| {
        lang.tn(
            "sdrive-month",
            &[
                ("year", chrono::Datelike::year(&d).to_string().into()),
                ("month", chrono::Datelike::month(&d).into()),
                (
                    "monthname",
                    page.t(&format!("month-{}", chrono::Datelike::month(&d)))
                        .into(),
                ),
            ],
        )
    };
    let rows: Vec<CalibrationRow> = history
        .iter()
        .map(|c| {
            let fitted = c.calibration.source == "fitted";
            CalibrationRow {
                month: month(c.through),
                new_stops: c.new_stops,
                stops: c.calibration.stops,
                fitted,
                source: page.t(if fitted {
                    "sres-cal-fitted"
                } else {
                    "sres-cal-defaults"
                }),
                rate: format!("{:.4}", c.calibration.rate),
                decay_km: format!("{:.2}", c.calibration.decay_km),
            }
        })
        .collect();
    let (rate, decay, stops, fitted) =
        history
            .last()
            .map_or((defaults.rate, defaults.decay_km, 0, false), |c| {
                (
                    c.calibration.rate,
                    c.calibration.decay_km,
                    c.calibration.stops,
                    c.calibration.source == "fitted",
                )
            });
    let how = if fitted {
        page.t1("sres-cal-how-fitted", "stops", stops.to_string())
    } else {
        lang.tn(
            "sres-cal-how-defaults",
            &[
                ("stops", stops.to_string().into()),
                ("min", min.to_string().into()),
            ],
        )
    };
    let facts = vec![
        Figure {
            label: page.t("sres-cal-source"),
            value: page.t(if fitted {
                "sres-cal-fitted"
            } else {
                "sres-cal-defaults"
            }),
        },
        Figure {
            label: page.t("sres-cal-rate"),
            value: format!("{rate:.4}"),
        },
        Figure {
            label: page.t("sres-cal-decay"),
            value: page.t1("sres-km", "km", format!("{decay:.2}")),
        },
        Figure {
            label: page.t("sres-cal-stops"),
            value: stops.to_string(),
        },
        Figure {
            label: page.t("sres-cal-default-values"),
            value: lang.tn(
                "sres-cal-default-value",
                &[
                    ("rate", format!("{:.4}", defaults.rate).into()),
                    ("decay", format!("{:.2}", defaults.decay_km).into()),
                ],
            ),
        },
    ];
    let chart = |id: &str,
                 title: String,
                 label: String,
                 pick: &dyn Fn(&CalibrationRow) -> (f64, String)| {
        (!rows.is_empty()).then(|| {
            BarChart::new(
                id,
                title,
                one_series(label),
                rows.iter()
                    .map(|r| (r.month.clone(), vec![pick(r)]))
                    .collect(),
            )
        })
    };
    let rate_chart = chart(
        "chart-rate",
        page.t("sres-cal-rate-chart"),
        page.t("sres-cal-rate"),
        &|r| (r.rate.parse().unwrap_or(0.0), r.rate.clone()),
    );
    let decay_chart = chart(
        "chart-decay",
        page.t("sres-cal-decay-chart"),
        page.t("sres-cal-decay"),
        &|r| (r.decay_km.parse().unwrap_or(0.0), r.decay_km.clone()),
    );
    let body = CalibrationPage {
        page: &page,
        facts,
        how,
        rows,
        rate_chart,
        decay_chart,
    };
    Ok(html(&body))
}
