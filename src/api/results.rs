//! `GET /api/v1/reports/results`: the results of completed drives summed per drive, per
//! township, per season or per month: donors, mL, deferral rate, no-show rate and the forecast error
//! (signed, and the sum of each stop's absolute error), as JSON, CSV or XLSX. Stops where
//! nobody was checked in are unrecorded: counted apart (`unrecorded_stops`,
//! `unrecorded_expected`), never as a forecast error of -100%.
//!
//! Only completed drives count: until a drive is completed its results may still change, and
//! completing it is what locks them. Drives are chosen by date (`from`, `to`, inclusive) and
//! by the caller's read scope (a drive is read by its region); with `region`, only the stops
//! whose site lies in that region's subtree count. A township is the one the stop's site lies
//! in (the first nine digits of its code); seasons are those of
//! [`crate::domain::attendance::season_of`] (winter is December to February).
//!
//! CSV cells that a spreadsheet would run as a formula are neutralised as in the plan exports
//! ([`crate::plans::export::cell`]); XLSX cells are typed (text stays text).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::attendances::{ResultsTotals, attended};
use crate::api::auth::Caller;
use crate::api::extract::Query;
use crate::domain::attendance::{Attended, StopResults, Tally, season_of};
use crate::domain::policy;
use crate::domain::region::{Level, RegionCode};
use crate::domain::rounding::{self, Measure};
use crate::error::{AppError, Problem};
use crate::plans::export::cell;
use crate::state::AppState;
use crate::store::attendances;
use crate::store::drives::DriveFilter;
use crate::store::regions;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(results_report))
}

/// How to group the report's rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row per completed drive, by date.
    #[default]
    Drive,
    /// One row per township (of the stops' sites), by code.
    Township,
    /// One row per season (`2026-winter` is Dec 2026 to Feb 2027), in time order.
    Season,
    /// One row per calendar month (`2026-12`), in time order.
    Month,
}

/// Parameters of the report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResultsParams {
    /// Only stops at sites in this region's subtree (12 digits); default: everything the
    /// caller reads.
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
    /// Drives on or after this date.
    pub from: Option<NaiveDate>,
    /// Drives on or before this date.
    pub to: Option<NaiveDate>,
    /// `drive` (default), `township`, `season` or `month`.
    #[param(inline)]
    pub group: Option<GroupBy>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

/// One row of the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsRow {
    /// The drive's id, the township's code, the season (`2026-winter`) or the month
    /// (`2026-12`).
    pub group: String,
    /// The drive's date, the township's name, the season's months or the month.
    pub label: String,
    /// Completed drives with a stop in the row.
    pub drives: u64,
    #[serde(flatten)]
    pub totals: ResultsTotals,
}

/// The report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsReport {
    pub group: GroupBy,
    pub region: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub rows: Vec<ResultsRow>,
    /// Every row together.
    pub totals: ResultsTotals,
    /// Completed drives counted.
    pub drives: u64,
}

struct Group {
    key: String,
    label: String,
    drives: Vec<i64>,
    tally: Tally,
}

fn season_label(key: &str) -> String {
    let (year, name) = key.split_once('-').unwrap_or((key, ""));
    let year: i32 = year.parse().unwrap_or(0);
    match name {
        "winter" => format!("Dec {year} to Feb {}", year + 1),
        "spring" => format!("Mar to May {year}"),
        "summer" => format!("Jun to Aug {year}"),
        _ => format!("Sep to Nov {year}"),
    }
}

fn township_of(code: &str) -> String {
    let prefix = &code[..Level::Township.prefix_len().min(code.len())];
    format!("{prefix:0<12}")
}

async fn compute(
    state: &AppState,
    caller: &Caller,
    params: &ResultsParams,
    group: GroupBy,
) -> Result<ResultsReport, AppError> {
    let reach = policy::read_scope(caller.require()?);
    let drive_reach = reach.clone();
    let range = match params.region.as_deref() {
        Some(raw) => Some(crate::api::extract::region_filter(state, caller, raw.trim()).await?),
        None => None,
    };
    let drives = attendances::completed_drives(
        &state.db,
        &DriveFilter {
            from: params.from,
            to: params.to,
            reach: Some(drive_reach),
            ..DriveFilter::default()
        },
    )
    .await?;
    // A stop counts when its site is in `region` and in the caller's read scope (a drive's
    // region holds its stops; drives made before that rule may not).
    let in_range = |code: &str| {
        range
            .as_ref()
            .is_none_or(|(lo, hi)| (lo.as_str()..=hi.as_str()).contains(&code))
            && RegionCode::parse(code).is_ok_and(|c| reach.contains(&c))
    };
    let stop_ids: Vec<i64> = drives
        .iter()
        .flat_map(|(_, stops)| stops.iter())
        .filter(|s| in_range(&s.region_code))
        .map(|s| s.id)
        .collect();
    let rows = attendances::at_stops(&state.db, &stop_ids).await?;
    let booked = attendances::booked_places(&state.db, &stop_ids).await?;
    let mut by_stop: HashMap<i64, Vec<Attended>> = HashMap::new();
    for a in &rows {
        by_stop.entry(a.stop_id).or_default().push(attended(a)?);
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut total = Tally::default();
    let mut counted: Vec<i64> = Vec::new();
    for (drive, stops) in &drives {
        for stop in stops.iter().filter(|s| in_range(&s.region_code)) {
            let results = StopResults::compute(
                by_stop.get(&stop.id).map_or(&[][..], Vec::as_slice),
                booked.get(&stop.id).copied().unwrap_or(0),
                stop.expected_donors,
            );
            let (key, label) = match group {
                GroupBy::Drive => (drive.id.to_string(), drive.date.to_string()),
                GroupBy::Month => {
                    let key = drive.date.format("%Y-%m").to_string();
                    (key.clone(), key)
                }
                GroupBy::Season => {
                    let key = season_of(drive.date);
                    let label = season_label(&key);
                    (key, label)
                }
                GroupBy::Township => {
                    let key = township_of(&stop.region_code);
                    if !names.contains_key(&key) {
                        let name = match RegionCode::parse(&key) {
                            Ok(code) => regions::find(&state.db, &code).await?.map(|r| r.name),
                            Err(_) => None,
                        };
                        names.insert(key.clone(), name.unwrap_or_else(|| key.clone()));
                    }
                    let label = names[&key].clone();
                    (key, label)
                }
            };
            let at = *index.entry(key.clone()).or_insert_with(|| {
                groups.push(Group {
                    key,
                    label,
                    drives: Vec::new(),
                    tally: Tally::default(),
                });
                groups.len() - 1
            });
            let g = &mut groups[at];
            g.tally.add(&results.tally);
            if !g.drives.contains(&drive.id) {
                g.drives.push(drive.id);
            }
            total.add(&results.tally);
            if counted.last() != Some(&drive.id) {
                counted.push(drive.id);
            }
        }
    }
    if group == GroupBy::Township {
        groups.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(ResultsReport {
        group,
        region: params.region.clone(),
        from: params.from,
        to: params.to,
        rows: groups
            .into_iter()
            .map(|g| ResultsRow {
                group: g.key,
                label: g.label,
                drives: g.drives.len() as u64,
                totals: ResultsTotals::from(&g.tally),
            })
            .collect(),
        totals: ResultsTotals::from(&total),
        drives: counted.len() as u64,
    })
}

/// The columns of the CSV and XLSX exports, in order.
const COLUMNS: [&str; 20] = [
    "group",
    "label",
    "drives",
    "stops",
    "registered",
    "deferred",
    "donated",
    "total_ml",
    "walk_ins",
    "booked_places",
    "booked_attended",
    "no_shows",
    "deferral_rate",
    "no_show_rate",
    "expected_donors",
    "forecast_error",
    "relative_error",
    "abs_error",
    "unrecorded_stops",
    "unrecorded_expected",
];

enum Value {
    Text(String),
    Number(f64),
    Blank,
}

fn values(row: &ResultsRow) -> Vec<Value> {
    let t = &row.totals;
    let n = |v: u64| Value::Number(v as f64);
    let opt = |v: Option<f64>| v.map_or(Value::Blank, Value::Number);
    vec![
        Value::Text(row.group.clone()),
        Value::Text(row.label.clone()),
        n(row.drives),
        n(t.stops),
        n(t.registered),
        n(t.deferred),
        n(t.donated),
        n(t.total_ml),
        n(t.walk_ins),
        n(t.booked_places),
        n(t.booked_attended),
        n(t.no_shows),
        opt(t.deferral_rate),
        opt(t.no_show_rate),
        Value::Number(t.expected_donors),
        opt(t.forecast_error),
        opt(t.relative_error),
        Value::Number(t.abs_error),
        n(t.unrecorded_stops),
        Value::Number(t.unrecorded_expected),
    ]
}

/// The total row of an export.
fn total_row(report: &ResultsReport) -> ResultsRow {
    ResultsRow {
        group: "total".to_owned(),
        label: String::new(),
        drives: report.drives,
        totals: report.totals.clone(),
    }
}

/// How a column's numbers are shown: rates as shares (`0.0%` in the XLSX, 3 decimals in the
/// CSV), forecasts with 2 decimals; counts as they are.
fn measure_of(column: &str) -> Option<Measure> {
    if column.ends_with("_rate") || column == "relative_error" {
        Some(Measure::Rate)
    } else if matches!(
        column,
        "expected_donors" | "forecast_error" | "abs_error" | "unrecorded_expected"
    ) {
        Some(Measure::Forecast)
    } else {
        None
    }
}

fn csv(rows: &[ResultsRow], total: &ResultsRow) -> Result<Vec<u8>, AppError> {
    // A UTF-8 byte-order mark, so that Excel opens the Chinese names correctly.
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        let fail = |e: csv::Error| AppError::Internal(e.into());
        writer.write_record(COLUMNS).map_err(fail)?;
        for row in rows.iter().chain(std::iter::once(total)) {
            let record: Vec<String> = values(row)
                .into_iter()
                .zip(COLUMNS)
                .map(|(v, name)| match v {
                    Value::Text(s) => cell(&s),
                    // Rounded as the XLSX shows them: no `0.16666666666666666`.
                    Value::Number(f) => rounding::csv_number(f, measure_of(name)),
                    Value::Blank => String::new(),
                })
                .collect();
            writer.write_record(&record).map_err(fail)?;
        }
        writer.flush().map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(out)
}

fn xlsx(rows: &[ResultsRow], total: &ResultsRow) -> Result<Vec<u8>, XlsxError> {
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let share = Format::new().set_num_format("0.0%");
    let decimal = Format::new().set_num_format("0.00");
    let count = Format::new();
    // Rates as percentages, forecasts with two decimals; the cells keep the exact numbers.
    let format_of = |name: &str| match measure_of(name) {
        Some(Measure::Rate) => &share,
        Some(_) => &decimal,
        None => &count,
    };
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("results")?;
    for (c, name) in (0u16..).zip(COLUMNS) {
        sheet.write_string_with_format(0, c, name, &bold)?;
        sheet.set_column_width(c, name.len().max(10) as f64 + 2.0)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (r, row) in (1u32..).zip(rows.iter().chain(std::iter::once(total))) {
        for ((c, name), value) in (0u16..).zip(COLUMNS).zip(values(row)) {
            match value {
                Value::Text(s) => {
                    sheet.write_string_with_format(r, c, s, &text)?;
                }
                Value::Number(f) => {
                    sheet.write_number_with_format(r, c, f, format_of(name))?;
                }
                Value::Blank => {}
            }
        }
    }
    workbook.save_to_buffer()
}

fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The results of completed drives, per drive, township or season: donors, mL, deferral rate,
/// no-show rate and forecast error (signed, and the sum of the stops' absolute errors), with a
/// total. As JSON, CSV (`format=csv`) or XLSX (`format=xlsx`); the downloads end with a
/// `total` row.
#[utoipa::path(
    get,
    path = "/reports/results",
    tag = "results",
    params(ResultsParams),
    responses(
        (status = 200, description = "The report (JSON), or its CSV (text/csv) or XLSX download", body = ResultsReport),
        (status = 400, description = "Invalid parameter (`region`, `to`, `group`, `format`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region` does not exist (or is outside what the caller may read)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn results_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ResultsParams>,
) -> Result<Response, AppError> {
    caller.require()?;
    let format = params.format.as_deref().map(str::trim).unwrap_or("json");
    if !matches!(format, "json" | "csv" | "xlsx") {
        return Err(AppError::invalid("format", "must be json, csv or xlsx"));
    }
    if let (Some(from), Some(to)) = (params.from, params.to)
        && to < from
    {
        return Err(AppError::invalid("to", "must not be before from"));
    }
    let group = params.group.unwrap_or_default();
    let report = compute(&state, &caller, &params, group).await?;
    let name = match group {
        GroupBy::Drive => "drive",
        GroupBy::Township => "township",
        GroupBy::Season => "season",
        GroupBy::Month => "month",
    };
    if format == "json" {
        return Ok(axum::Json(report).into_response());
    }
    let total = total_row(&report);
    export(&report.rows, &total, format, &format!("results-by-{name}"))
}

/// `format` (`csv` or `xlsx`) must be checked by the caller: the rows and their total row as
/// a download named `stem.csv` or `stem.xlsx`.
pub(crate) fn export(
    rows: &[ResultsRow],
    total: &ResultsRow,
    format: &str,
    stem: &str,
) -> Result<Response, AppError> {
    Ok(if format == "csv" {
        download(
            csv(rows, total)?,
            "text/csv; charset=utf-8",
            &format!("{stem}.csv"),
        )
    } else {
        download(
            xlsx(rows, total)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("results XLSX: {e}")))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &format!("{stem}.xlsx"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_look_like_formulas_are_neutralised() {
        let totals = ResultsTotals::from(&Tally::default());
        let report = ResultsReport {
            group: GroupBy::Township,
            region: None,
            from: None,
            to: None,
            rows: vec![ResultsRow {
                group: "990101101000".to_owned(),
                label: "=HYPERLINK(\"http://x\")".to_owned(),
                drives: 1,
                totals: totals.clone(),
            }],
            totals,
            drives: 1,
        };
        let out = String::from_utf8(csv(&report.rows, &total_row(&report)).unwrap()).unwrap();
        assert!(out.contains("'=HYPERLINK"), "{out}");
        assert!(out.lines().last().unwrap().starts_with("total,"), "{out}");
    }

    #[test]
    fn csv_rates_and_forecasts_are_rounded_as_the_xlsx_shows_them() {
        let mut totals = ResultsTotals::from(&Tally::default());
        totals.deferral_rate = Some(1.0 / 6.0);
        totals.expected_donors = 16.428163158292122;
        totals.forecast_error = Some(-2.0 / 3.0);
        let row = ResultsRow {
            group: "t".to_owned(),
            label: String::new(),
            drives: 1,
            totals,
        };
        let out = String::from_utf8(csv(std::slice::from_ref(&row), &row).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(out.trim_start_matches('\u{feff}').as_bytes());
        let header = reader.headers().unwrap().clone();
        let record = reader.records().next().unwrap().unwrap();
        let at = |name: &str| &record[header.iter().position(|h| h == name).unwrap()];
        assert_eq!(at("deferral_rate"), "0.167");
        assert_eq!(at("expected_donors"), "16.43");
        assert_eq!(at("forecast_error"), "-0.67");
        assert_eq!(at("drives"), "1");
    }

    #[test]
    fn townships_are_the_first_nine_digits() {
        assert_eq!(township_of("990101101201"), "990101101000");
        assert_eq!(township_of("990101103000"), "990101103000");
    }

    #[test]
    fn seasons_read_as_months() {
        assert_eq!(season_label("2026-winter"), "Dec 2026 to Feb 2027");
        assert_eq!(season_label("2027-summer"), "Jun to Aug 2027");
    }
}
