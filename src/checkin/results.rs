//! Results: a stop's and a drive's results against the forecast, the results of completed
//! drives summed per drive, township, season or month, and their CSV/XLSX export (pure).
//!
//! Stops where nobody was checked in are unrecorded: counted apart (`unrecorded_stops`,
//! `unrecorded_expected`), never as a forecast error of -100%. Only completed drives count
//! in the report: until a drive is completed its results may still change, and completing it
//! is what locks them. A township is the one the stop's site lies in (the first nine digits
//! of its code); seasons are those of [`crate::domain::attendance::season_of`] (winter is
//! December to February).
//!
//! CSV cells that a spreadsheet would run as a formula are neutralised as in the plan exports
//! ([`crate::plans::export::cell`]); XLSX cells are typed (text stays text). Column headers,
//! season names and the total row's name come from the catalogue, in the reader's language.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use entity::{drive, drive_stop};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::attendances::attended;
use super::{CheckinError, status_of};
use crate::domain::account::Principal;
use crate::domain::attendance::{Attended, StopResults, Tally, VillageCount, season_of};
use crate::domain::drive::DriveStatus;
use crate::domain::policy::{self, Action, Decision, Resource, Visibility};
use crate::domain::region::{Level, RegionCode};
use crate::domain::rounding::{self, Measure};
use crate::i18n::Lang;
use crate::plans::export::cell;
use crate::store::attendances as store;
use crate::store::drives::{self, DriveFilter};
use crate::store::regions;

/// Results: counts, volumes, rates and the forecast error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultsTotals {
    pub stops: u64,
    /// Everyone checked in (booked and walk-in), whatever came of it.
    pub registered: u64,
    pub deferred: u64,
    /// Donors.
    pub donated: u64,
    /// The donations' volumes summed, mL.
    pub total_ml: u64,
    pub walk_ins: u64,
    /// Places on active bookings.
    pub booked_places: u64,
    /// Check-ins on a booking.
    pub booked_attended: u64,
    /// Booked places nobody came for (per stop, never below 0).
    pub no_shows: u64,
    /// `deferred / (deferred + donated)`; `null` when nobody was seen.
    pub deferral_rate: Option<f64>,
    /// `no_shows / booked_places`; `null` without bookings.
    pub no_show_rate: Option<f64>,
    /// The forecast at the recorded stops (those where someone was checked in): the stops'
    /// `expected_donors`, compared with `donated`.
    pub expected_donors: f64,
    /// `donated - expected_donors`: positive when more came than forecast; `null` when no stop
    /// has results recorded.
    pub forecast_error: Option<f64>,
    /// `forecast_error / expected_donors`; `null` when nothing was expected (or recorded).
    pub relative_error: Option<f64>,
    /// The recorded stops' `|donated - expected_donors|` summed (errors of opposite sign do
    /// not cancel).
    pub abs_error: f64,
    /// Stops where nobody was checked in: their results are unrecorded, not zero, so they
    /// take no part in the forecast error (as in calibration).
    pub unrecorded_stops: u64,
    /// The forecast at the unrecorded stops, apart.
    pub unrecorded_expected: f64,
}

impl From<&Tally> for ResultsTotals {
    fn from(t: &Tally) -> Self {
        ResultsTotals {
            stops: t.stops,
            registered: t.registered,
            deferred: t.deferred,
            donated: t.donated,
            total_ml: t.total_ml,
            walk_ins: t.walk_ins,
            booked_places: t.booked_places,
            booked_attended: t.booked_attended,
            no_shows: t.no_shows,
            deferral_rate: t.deferral_rate(),
            no_show_rate: t.no_show_rate(),
            expected_donors: t.expected_donors,
            forecast_error: t.forecast_error(),
            relative_error: t.relative_error(),
            abs_error: t.abs_error,
            unrecorded_stops: t.unrecorded_stops,
            unrecorded_expected: t.unrecorded_expected,
        }
    }
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

impl GroupBy {
    /// The name of the grouping (`drive`, `township`, …), as in file names.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Drive => "drive",
            GroupBy::Township => "township",
            GroupBy::Season => "season",
            GroupBy::Month => "month",
        }
    }
}

/// One row of a results report or export.
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

impl ResultsReport {
    /// The total row of an export (`total`, named in `lang`).
    #[must_use]
    pub fn total_row(&self, lang: Lang) -> ResultsRow {
        ResultsRow {
            group: "total".to_owned(),
            label: lang.t("results-total"),
            drives: self.drives,
            totals: self.totals.clone(),
        }
    }
}

/// What the report covers.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    /// The region asked for, as given (shown back in the report).
    pub region: Option<String>,
    /// The code range of that region's subtree (the caller resolved and authorised it).
    pub range: Option<(String, String)>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub group: GroupBy,
    /// The language of the rows' labels (season names).
    pub lang: Lang,
}

struct Group {
    key: String,
    label: String,
    drives: Vec<i64>,
    tally: Tally,
}

/// A season (`2026-winter`) as its months, in `lang` (`Dec 2026 to Feb 2027`).
fn season_label(key: &str, lang: Lang) -> String {
    let (year, name) = key.split_once('-').unwrap_or((key, ""));
    let year: i32 = year.parse().unwrap_or(0);
    let id = match name {
        "winter" => "season-winter",
        "spring" => "season-spring",
        "summer" => "season-summer",
        _ => "season-autumn",
    };
    // The years as text, written as they are.
    lang.tn(
        id,
        &[
            ("year", year.to_string().into()),
            ("next", (year + 1).to_string().into()),
        ],
    )
}

fn township_of(code: &str) -> String {
    let prefix = &code[..Level::Township.prefix_len().min(code.len())];
    format!("{prefix:0<12}")
}

/// The results of each of `stops` (of `drive`), in their order.
///
/// # Errors
/// The database fails; a stored attendance does not read back.
pub async fn of_stops(
    db: &DatabaseConnection,
    stops: &[drive_stop::Model],
) -> Result<Vec<StopResults>, CheckinError> {
    let ids: Vec<i64> = stops.iter().map(|s| s.id).collect();
    let rows = store::at_stops(db, &ids).await?;
    let booked = store::booked_places(db, &ids).await?;
    let mut out = Vec::with_capacity(stops.len());
    for stop in stops {
        let here: Vec<Attended> = rows
            .iter()
            .filter(|a| a.stop_id == stop.id)
            .map(attended)
            .collect::<Result<_, _>>()?;
        out.push(StopResults::compute(
            &here,
            booked.get(&stop.id).copied().unwrap_or(0),
            stop.expected_donors,
        ));
    }
    Ok(out)
}

/// Drive `id`.
///
/// # Errors
/// [`CheckinError::NotFound`]; the database fails.
pub async fn find_drive(db: &DatabaseConnection, id: i64) -> Result<drive::Model, CheckinError> {
    drives::find(db, id)
        .await?
        .ok_or_else(|| CheckinError::NotFound(format!("no drive with id {id}")))
}

/// A drive's results: each stop the reader reads with its results, and the drive's totals.
#[derive(Debug)]
pub struct DriveResults {
    /// Final once the drive is completed.
    pub locked: bool,
    /// In visiting order.
    pub stops: Vec<(drive_stop::Model, StopResults)>,
    pub totals: Tally,
    /// Donors by blood group over the drive.
    pub by_blood_group: BTreeMap<String, u64>,
    /// Deferrals by category over the drive.
    pub by_deferral_category: BTreeMap<String, u64>,
}

impl DriveResults {
    /// The export's rows (`stop-<id>`, its name) and its `total` row.
    #[must_use]
    pub fn rows(&self, lang: Lang) -> (Vec<ResultsRow>, ResultsRow) {
        let rows = self
            .stops
            .iter()
            .map(|(stop, r)| ResultsRow {
                group: format!("stop-{}", stop.id),
                label: stop.name.clone(),
                drives: 1,
                totals: ResultsTotals::from(&r.tally),
            })
            .collect();
        let total = ResultsRow {
            group: "total".to_owned(),
            label: lang.t("results-total"),
            drives: 1,
            totals: ResultsTotals::from(&self.totals),
        };
        (rows, total)
    }
}

/// The results of `drive` at the stops whose site `reach` holds: all of them, as a drive's
/// region holds its stops (drives made before that rule may not).
///
/// # Errors
/// The database fails; a stored row does not read back.
pub async fn of_drive(
    db: &DatabaseConnection,
    drive: &drive::Model,
    reach: &Visibility,
) -> Result<DriveResults, CheckinError> {
    let stops: Vec<_> = drives::stops(db, drive.id)
        .await?
        .into_iter()
        .filter(|s| RegionCode::parse(&s.region_code).is_ok_and(|c| reach.contains(&c)))
        .collect();
    let results = of_stops(db, &stops).await?;
    let mut totals = Tally::default();
    let mut by_blood_group: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_deferral_category: BTreeMap<String, u64> = BTreeMap::new();
    for r in &results {
        totals.add(&r.tally);
        for (group, n) in &r.by_blood_group {
            *by_blood_group.entry(group.clone()).or_insert(0) += n;
        }
        for (category, n) in &r.by_deferral_category {
            *by_deferral_category.entry(category.clone()).or_insert(0) += n;
        }
    }
    Ok(DriveResults {
        locked: status_of(drive)? == DriveStatus::Completed,
        stops: stops.into_iter().zip(results).collect(),
        totals,
        by_blood_group,
        by_deferral_category,
    })
}

/// Whether `principal` reads the drives and stops of `region_code` (the API's read check on
/// a drive and on a stop's site).
fn reads_plan(principal: &Principal, region_code: &str) -> bool {
    RegionCode::parse(region_code).is_ok_and(|code| {
        policy::can(Some(principal), Action::Read, Resource::Plan(&code)) == Decision::Allow
    })
}

/// The names of the village codes in `codes` that name a region (`unknown` and codes not
/// found are left out).
async fn village_names<'a>(
    db: &DatabaseConnection,
    codes: impl Iterator<Item = &'a String>,
) -> Result<BTreeMap<String, String>, CheckinError> {
    let mut names = BTreeMap::new();
    for raw in codes {
        if names.contains_key(raw) {
            continue;
        }
        if let Ok(code) = RegionCode::parse(raw)
            && let Some(region) = regions::find(db, &code).await?
        {
            names.insert(raw.clone(), region.name);
        }
    }
    Ok(names)
}

/// A drive's results as the station's pages show them.
#[derive(Debug)]
pub struct DriveResultsRead {
    pub drive: drive::Model,
    pub status: DriveStatus,
    pub results: DriveResults,
    /// Check-ins and donors by village of residence over the drive.
    pub by_village: BTreeMap<String, VillageCount>,
    /// The villages' names, by code.
    pub village_names: BTreeMap<String, String>,
}

/// Drive `id`'s results for `principal`, as `GET /api/v1/drives/{id}/report` reads them:
/// the stops whose site the reader reads, each with its results, the drive's totals and its
/// donors by blood group, village and deferral reason.
///
/// # Errors
/// [`CheckinError::NotFound`] when there is no such drive or the reader does not read it;
/// the database fails.
pub async fn drive_for(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
) -> Result<DriveResultsRead, CheckinError> {
    let hidden = || CheckinError::NotFound(format!("no drive with id {id}"));
    let drive = drives::find(db, id).await?.ok_or_else(hidden)?;
    if !reads_plan(principal, &drive.region_code) {
        return Err(hidden());
    }
    let results = of_drive(db, &drive, &policy::read_scope(principal)).await?;
    let mut by_village: BTreeMap<String, VillageCount> = BTreeMap::new();
    for (_, r) in &results.stops {
        for (code, n) in &r.by_village {
            let v = by_village.entry(code.clone()).or_default();
            v.registered += n.registered;
            v.donated += n.donated;
        }
    }
    let village_names = village_names(db, by_village.keys()).await?;
    Ok(DriveResultsRead {
        status: status_of(&drive)?,
        drive,
        results,
        by_village,
        village_names,
    })
}

/// A stop's results as the station's pages show them.
#[derive(Debug)]
pub struct StopResultsRead {
    pub stop: drive_stop::Model,
    pub drive: drive::Model,
    pub status: DriveStatus,
    pub results: StopResults,
    /// The villages' names, by code.
    pub village_names: BTreeMap<String, String>,
}

/// Stop `id`'s results for `principal`, as `GET /api/v1/stops/{id}/results` reads them (a
/// stop is read when its drive and its site are).
///
/// # Errors
/// [`CheckinError::NotFound`] when there is no such stop or the reader does not read it;
/// the database fails.
pub async fn stop_for(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
) -> Result<StopResultsRead, CheckinError> {
    let hidden = || CheckinError::NotFound(format!("no stop with id {id}"));
    let (stop, drive) = store::find_stop(db, id).await?.ok_or_else(hidden)?;
    if !reads_plan(principal, &drive.region_code) || !reads_plan(principal, &stop.region_code) {
        return Err(hidden());
    }
    let results = of_stops(db, std::slice::from_ref(&stop))
        .await?
        .pop()
        .unwrap_or_default();
    let village_names = village_names(db, results.by_village.keys()).await?;
    Ok(StopResultsRead {
        status: status_of(&drive)?,
        stop,
        drive,
        results,
        village_names,
    })
}

/// The results report for `principal`, as `GET /api/v1/reports/results` answers it: `region`
/// (12 digits, as typed) is resolved within what the reader reads, then [`report`] runs over
/// the reader's read scope.
///
/// # Errors
/// [`CheckinError::InvalidField`] naming `region` (malformed) or `to` (before `from`);
/// [`CheckinError::NotFound`] when the region does not exist or the reader does not read it;
/// the database fails.
pub async fn report_for(
    db: &DatabaseConnection,
    principal: &Principal,
    mut query: ReportQuery,
) -> Result<ResultsReport, CheckinError> {
    if let (Some(from), Some(to)) = (query.from, query.to)
        && to < from
    {
        return Err(CheckinError::invalid("to", "must not be before from"));
    }
    query.range = None;
    if let Some(raw) = query
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        let code = RegionCode::parse(raw)
            .map_err(|_| CheckinError::invalid("region", "must be a 12-digit region code"))?;
        let hidden = || CheckinError::NotFound(format!("no region with code {code}"));
        if policy::can(
            Some(principal),
            Action::Read,
            Resource::Registry(Some(&code)),
        ) != Decision::Allow
        {
            return Err(hidden());
        }
        query.range = Some(
            regions::subtree_range(db, &code)
                .await?
                .ok_or_else(hidden)?,
        );
        query.region = Some(code.to_string());
    } else {
        query.region = None;
    }
    report(db, &query, &policy::read_scope(principal)).await
}

/// The results of completed drives matching `query` within `reach`, grouped as asked, with
/// their total.
///
/// # Errors
/// The database fails; a stored attendance does not read back.
pub async fn report(
    db: &DatabaseConnection,
    query: &ReportQuery,
    reach: &Visibility,
) -> Result<ResultsReport, CheckinError> {
    let group = query.group;
    let drives = store::completed_drives(
        db,
        &DriveFilter {
            from: query.from,
            to: query.to,
            reach: Some(reach.clone()),
            ..DriveFilter::default()
        },
    )
    .await?;
    // A stop counts when its site is in `region` and in the caller's read scope (a drive's
    // region holds its stops; drives made before that rule may not).
    let in_range = |code: &str| {
        query
            .range
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
    let rows = store::at_stops(db, &stop_ids).await?;
    let booked = store::booked_places(db, &stop_ids).await?;
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
                    let label = season_label(&key, query.lang);
                    (key, label)
                }
                GroupBy::Township => {
                    let key = township_of(&stop.region_code);
                    if !names.contains_key(&key) {
                        let name = match RegionCode::parse(&key) {
                            Ok(code) => regions::find(db, &code).await?.map(|r| r.name),
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
        region: query.region.clone(),
        from: query.from,
        to: query.to,
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

/// The file formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    /// The export's media type.
    #[must_use]
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    /// The file name of an export named `stem`.
    #[must_use]
    pub fn file_name(self, stem: &str) -> String {
        match self {
            ExportFormat::Csv => format!("{stem}.csv"),
            ExportFormat::Xlsx => format!("{stem}.xlsx"),
        }
    }
}

/// The columns of the CSV and XLSX exports, in order; each header is the catalogue's
/// `results-col-<column>`.
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

/// The headers of [`COLUMNS`] in `lang`.
fn headers(lang: Lang) -> [String; COLUMNS.len()] {
    COLUMNS.map(|c| lang.t(&format!("results-col-{c}")))
}

fn csv(rows: &[ResultsRow], total: &ResultsRow, lang: Lang) -> Result<Vec<u8>, csv::Error> {
    // A UTF-8 byte-order mark, so that Excel opens the Chinese names correctly.
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer.write_record(headers(lang))?;
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
            writer.write_record(&record)?;
        }
        writer.flush()?;
    }
    Ok(out)
}

fn xlsx(rows: &[ResultsRow], total: &ResultsRow, lang: Lang) -> Result<Vec<u8>, XlsxError> {
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
    sheet.set_name(lang.t("results-sheet"))?;
    for (c, header) in (0u16..).zip(headers(lang)) {
        // A Chinese character is about two columns wide.
        let width: usize = header
            .chars()
            .map(|ch| if ch.is_ascii() { 1 } else { 2 })
            .sum();
        sheet.set_column_width(c, width.max(10) as f64 + 2.0)?;
        sheet.write_string_with_format(0, c, header, &bold)?;
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

/// The rows and their total row (last) as a CSV or XLSX file's bytes, one column per member
/// of [`ResultsTotals`] after `group`, `label` and `drives`, headed in `lang`.
///
/// # Errors
/// [`CheckinError::Export`] when the file cannot be written (a fault of ours).
pub fn export(
    rows: &[ResultsRow],
    total: &ResultsRow,
    format: ExportFormat,
    lang: Lang,
) -> Result<Vec<u8>, CheckinError> {
    match format {
        ExportFormat::Csv => csv(rows, total, lang).map_err(|e| CheckinError::Export(e.into())),
        ExportFormat::Xlsx => xlsx(rows, total, lang)
            .map_err(|e| CheckinError::Export(anyhow::anyhow!("results XLSX: {e}"))),
    }
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
        let total = report.total_row(Lang::ZhCn);
        let out = export(&report.rows, &total, ExportFormat::Csv, Lang::ZhCn).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("'=HYPERLINK"), "{out}");
        assert!(
            out.lines().last().unwrap().starts_with("total,合计,"),
            "{out}"
        );
        assert!(
            out.starts_with("\u{feff}分组,名称,出车次数,站点数,登记人数,"),
            "{out}"
        );
        let total = report.total_row(Lang::English);
        let out = export(&report.rows, &total, ExportFormat::Csv, Lang::English).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with("\u{feff}Group,Name,Drives,Stops,Registered,"),
            "{out}"
        );
        assert!(
            out.lines().last().unwrap().starts_with("total,Total,"),
            "{out}"
        );
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
        let out = export(
            std::slice::from_ref(&row),
            &row,
            ExportFormat::Csv,
            Lang::English,
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        let mut reader = csv::Reader::from_reader(out.trim_start_matches('\u{feff}').as_bytes());
        let header = reader.headers().unwrap().clone();
        let record = reader.records().next().unwrap().unwrap();
        let at = |name: &str| &record[header.iter().position(|h| h == name).unwrap()];
        assert_eq!(at("Deferral rate"), "0.167");
        assert_eq!(at("Expected donors"), "16.43");
        assert_eq!(at("Forecast error"), "-0.67");
        assert_eq!(at("Drives"), "1");
    }

    #[test]
    fn xlsx_exports_are_workbooks() {
        let row = ResultsRow {
            group: "t".to_owned(),
            label: "x".to_owned(),
            drives: 1,
            totals: ResultsTotals::from(&Tally::default()),
        };
        let out = export(
            std::slice::from_ref(&row),
            &row,
            ExportFormat::Xlsx,
            Lang::ZhCn,
        )
        .unwrap();
        assert!(out.starts_with(b"PK"), "a zip container");
    }

    #[test]
    fn townships_are_the_first_nine_digits() {
        assert_eq!(township_of("990101101201"), "990101101000");
        assert_eq!(township_of("990101103000"), "990101103000");
    }

    #[test]
    fn seasons_read_as_months() {
        assert_eq!(
            season_label("2026-winter", Lang::English),
            "Dec 2026 to Feb 2027"
        );
        assert_eq!(
            season_label("2027-summer", Lang::English),
            "Jun to Aug 2027"
        );
        assert_eq!(
            season_label("2026-winter", Lang::ZhCn),
            "2026年12月至2027年2月"
        );
        assert_eq!(season_label("2027-autumn", Lang::ZhCn), "2027年9月至11月");
    }
}
