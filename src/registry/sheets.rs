//! The survey sheet: a township official downloads the sheet of their villages (filled in, or
//! as a template), edits it, and sends it back. The import is all or nothing: any bad row
//! rejects the file with every bad row and field listed; a dry run says what would change
//! without changing anything. Rows that repeat a recorded survey are left alone
//! (`unchanged`), rows older than the current survey need `confirm_older`. Reading the bytes
//! (CSV or XLSX) is `crate::surveys::sheet`'s (pure); resolving the villages, the survey
//! rules, the village locations and the one transaction are here.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use utoipa::ToSchema;

use super::surveys::{self, NewSurvey};
use super::{Acting, RegistryError};
use crate::domain::policy::Action;
use crate::domain::region::{Level, Region, RegionCode};
use crate::domain::survey::SurveySource;
use crate::error::FieldError;
use crate::geo::{Crs, Wgs84Point};
use crate::i18n::Lang;
use crate::store::audit::{self, Change};
use crate::store::regions::{self, RegionEdit};
use crate::store::surveys::{self as survey_store, NewSurvey as SurveyRow};
use crate::surveys::sheet::{self, ExportRow, SheetFormat};

/// At most this many problems are listed (a sheet can have tens of thousands of bad rows).
pub const MAX_LISTED_PROBLEMS: usize = 500;

/// The detail of a sheet with `total` problems.
#[must_use]
pub fn problems(total: usize) -> String {
    let listed = if total > MAX_LISTED_PROBLEMS {
        format!(" (the first {MAX_LISTED_PROBLEMS} are listed)")
    } else {
        String::new()
    };
    format!(
        "the sheet has {total} problem(s){listed}; nothing was changed. Fix every listed row and send it again"
    )
}

fn bad_sheet(mut errors: Vec<FieldError>) -> RegistryError {
    let total = errors.len();
    errors.truncate(MAX_LISTED_PROBLEMS);
    RegistryError::BadSheet { total, errors }
}

/// A sheet to import.
#[derive(Debug, Clone)]
pub struct ImportSheet {
    /// The township (or any region) the sheet is about, as given: rows that name a village by
    /// name are looked up inside it, and rows that give a code must lie inside it.
    pub region: String,
    /// The sheet as sent.
    pub bytes: Vec<u8>,
    /// The format asked for (`csv` or `xlsx`); without it, from `content_type`.
    pub format: Option<String>,
    /// The upload's declared content type (`text/csv`, the XLSX type).
    pub content_type: Option<String>,
    /// The datum of the sheet's `longitude`/`latitude` columns.
    pub crs: Crs,
    /// Check and report what would change, without changing anything.
    pub dry_run: bool,
    /// Record rows dated before their village's current survey, as history.
    pub confirm_older: bool,
}

/// What becomes of one row of the sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    /// Recorded (in a dry run: would be) as the village's new current survey.
    Recorded,
    /// Identical to a survey the village already has (such as a downloaded sheet sent back):
    /// not recorded again.
    Unchanged,
    /// Dated before the village's current survey and confirmed with `confirm_older=true`:
    /// recorded as history; the current survey stays current.
    History,
    /// Dated before the village's current survey, without `confirm_older=true`: a dry run
    /// flags it; an upload is refused until it is confirmed or removed.
    Older,
}

/// One row of the sheet and what becomes of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportedRow {
    pub row: usize,
    pub village_code: String,
    pub village_name: String,
    pub eligible_total: i64,
    pub surveyed_on: NaiveDate,
    /// The current survey's total before this one, if any.
    pub previous_total: Option<i64>,
    /// The current survey's date before this one, if any.
    pub previous_surveyed_on: Option<NaiveDate>,
    pub outcome: RowOutcome,
    /// True when the row also sets (changes) the village's location.
    pub sets_location: bool,
}

/// What an import changed, or would change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Rows recorded (`recorded` and `history`).
    pub surveys_recorded: usize,
    /// Rows identical to a survey already recorded, left alone.
    pub unchanged: usize,
    /// Rows dated before their village's current survey that need `confirm_older=true`.
    pub older: usize,
    pub locations_set: usize,
    /// Every village row of the sheet, in sheet order.
    pub rows: Vec<ImportedRow>,
}

/// A row resolved and checked, ready to write.
struct Planned {
    row: usize,
    village: Region,
    /// `None` when the row repeats a recorded survey.
    survey: Option<SurveyRow>,
    surveyed_on: NaiveDate,
    eligible_total: i64,
    previous: Option<(i64, NaiveDate)>,
    outcome: RowOutcome,
    location: Option<Wgs84Point>,
}

/// True when a sheet row says exactly what a recorded survey says (texts compared trimmed,
/// as they are stored).
fn repeats(input: &NewSurvey, recorded: &entity::village_survey::Model) -> bool {
    let count = |v: Option<i64>, r: Option<i32>| v == r.map(i64::from);
    let text = |v: &Option<String>, r: &Option<String>| {
        let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty());
        v == r.as_deref()
    };
    input.eligible_total == i64::from(recorded.eligible_total)
        && count(input.male, recorded.male)
        && count(input.female, recorded.female)
        && count(input.age_18_34, recorded.age_18_34)
        && count(input.age_35_54, recorded.age_35_54)
        && count(input.age_55_60, recorded.age_55_60)
        && count(input.away_for_work, recorded.away_for_work)
        && count(input.known_donors, recorded.known_donors)
        && input.surveyed_on == recorded.surveyed_on
        && input.source.as_str() == recorded.source
        && text(&input.surveyed_by, &recorded.surveyed_by)
        && text(&input.notes, &recorded.notes)
}

/// True when `place` is where the village already is (to the 7 decimals places are given in,
/// about a centimetre), so sending back a downloaded sheet does not rewrite every location.
fn same_place(lon: Option<f64>, lat: Option<f64>, place: &Wgs84Point) -> bool {
    let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-7);
    close(lon, place.lon()) && close(lat, place.lat())
}

/// The region given as text (`region` names the field), which must exist.
async fn region(db: &impl ConnectionTrait, raw: &str) -> Result<Region, RegistryError> {
    let code = RegionCode::parse(raw)
        .map_err(|_| RegistryError::invalid("region", "must be a 12-digit region code"))?;
    regions::find(db, &code)
        .await?
        .ok_or_else(|| RegistryError::not_found(format!("region with code {code}")))
}

/// The villages of `scope`, by code and by name.
struct Villages<'a> {
    by_code: HashMap<&'a str, &'a Region>,
    by_name: HashMap<&'a str, Vec<&'a Region>>,
}

impl<'a> Villages<'a> {
    fn new(villages: &'a [Region]) -> Self {
        let by_code = villages.iter().map(|v| (v.code.as_str(), v)).collect();
        let mut by_name: HashMap<&str, Vec<&Region>> = HashMap::new();
        for v in villages {
            by_name.entry(v.name.as_str()).or_default().push(v);
        }
        Villages { by_code, by_name }
    }

    /// The village a row names (by code, else by name), or the row's error.
    fn resolve(
        &self,
        row: &sheet::SheetRow,
        scope: &Region,
        errors: &mut Vec<FieldError>,
    ) -> Option<&'a Region> {
        match (&row.village_code, &row.village_name) {
            (Some(raw), _) => match self.by_code.get(raw.as_str()) {
                Some(v) => Some(*v),
                None => {
                    let (lo, hi) = scope.code.subtree_bounds(scope.level);
                    let message = if raw.as_str() >= lo.as_str() && raw.as_str() <= hi.as_str() {
                        format!("{raw} is not a village-level unit of {}", scope.name)
                    } else {
                        format!("{raw} does not lie in {} ({})", scope.name, scope.code)
                    };
                    errors.push(FieldError::at_row(row.row, "village_code", message));
                    None
                }
            },
            (None, Some(name)) => match self.by_name.get(name.as_str()).map(Vec::as_slice) {
                Some([v]) => Some(*v),
                Some(several) => {
                    errors.push(FieldError::at_row(
                        row.row,
                        "village_name",
                        format!(
                            "{} villages of {} are named {name}; give the village_code",
                            several.len(),
                            scope.name
                        ),
                    ));
                    None
                }
                None => {
                    errors.push(FieldError::at_row(
                        row.row,
                        "village_name",
                        format!(
                            "no village of {} is named {}",
                            scope.name,
                            sheet::quote_bounded(name)
                        ),
                    ));
                    None
                }
            },
            (None, None) => None, // the sheet parser reports it
        }
    }
}

/// Imports a sheet of village surveys (CSV or XLSX, header row first): all rows or none, in
/// one write transaction with an audit record per survey and per location set (rolled back
/// when `dry_run`). Rows identical to a survey the village already has are `unchanged`; rows
/// dated before the village's current survey are recorded (as history) only with
/// `confirm_older`.
///
/// # Errors
/// Denied; an invalid or unknown region or format; [`RegistryError::BadSheet`] with every bad
/// row and field (nothing changed); [`RegistryError::Conflict`] when a village changed
/// meanwhile; or the database fails.
pub async fn import(
    db: &DatabaseConnection,
    command: ImportSheet,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<ImportReport, RegistryError> {
    // Every row must lie in `region` (checked below), so writing there covers them all.
    surveys::authorize(acting, Action::Create, &command.region)?;
    let scope = region(db, &command.region).await?;
    let format = match command.format.as_deref() {
        Some("csv") => SheetFormat::Csv,
        Some("xlsx") => SheetFormat::Xlsx,
        Some(_) => return Err(RegistryError::invalid("format", "must be csv or xlsx")),
        None => command
            .content_type
            .as_deref()
            .and_then(|ct| SheetFormat::from_content_type_or_name(Some(ct), None))
            .ok_or_else(|| {
                RegistryError::invalid(
                    "format",
                    "send Content-Type text/csv or the XLSX type, or ?format=csv|xlsx",
                )
            })?,
    };
    // Reading a workbook is CPU work: off the async threads, so that other requests (and
    // `/health`) are answered meanwhile.
    let bytes = command.bytes;
    let rows = tokio::task::spawn_blocking(move || sheet::parse_sheet(&bytes, format))
        .await
        .map_err(|e| RegistryError::Internal(anyhow::anyhow!("reading the sheet: {e}")))?
        .map_err(|cells| {
            bad_sheet(
                cells
                    .into_iter()
                    .map(|c| FieldError::at_row(c.row, c.field, c.message))
                    .collect(),
            )
        })?;
    let (crs, dry_run, confirm_older) = (command.crs, command.dry_run, command.confirm_older);
    let villages: Vec<Region> = regions::villages_in(db, &scope.code, scope.level).await?;
    let lookup = Villages::new(&villages);

    let txn = crate::db::begin_write(db).await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut planned: Vec<Planned> = Vec::new();
    let mut resolved: Vec<(usize, Region, NewSurvey, Option<Wgs84Point>)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let Some(village) = lookup.resolve(&row, &scope, &mut errors) else {
            continue;
        };
        if let Some(first) = seen.insert(village.code.to_string(), row.row) {
            errors.push(FieldError::at_row(
                row.row,
                "village_code",
                format!("{} is already on row {first}", village.name),
            ));
            continue;
        }
        let location = match (row.longitude, row.latitude) {
            (Some(lon), Some(lat)) => match Wgs84Point::from_crs(lon, lat, crs) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.push(FieldError::at_row(row.row, e.field, e.message));
                    None
                }
            },
            _ => None,
        };
        let Some(source) = SurveySource::parse(&row.source) else {
            errors.push(FieldError::at_row(row.row, "source", "unknown source"));
            continue;
        };
        let input = NewSurvey {
            eligible_total: row.eligible_total,
            male: row.male,
            female: row.female,
            age_18_34: row.age_18_34,
            age_35_54: row.age_35_54,
            age_55_60: row.age_55_60,
            away_for_work: row.away_for_work,
            known_donors: row.known_donors,
            surveyed_on: row.surveyed_on,
            source,
            surveyed_by: row.surveyed_by,
            notes: row.notes,
            confirm_large_change: row.confirm_large_change,
            based_on: None,
        };
        resolved.push((row.row, village.clone(), input, location));
    }
    // Lock every village of the sheet (in code order) before reading their surveys, so that
    // the 3x rule and the comparisons below see what is really current at commit.
    let codes: Vec<RegionCode> = resolved.iter().map(|(_, v, _, _)| v.code.clone()).collect();
    regions::lock(&txn, &codes).await?;
    for (row, village, input, location) in resolved {
        let history = survey_store::history(&txn, &village.code).await?;
        let previous = history
            .first()
            .map(|s| (i64::from(s.eligible_total), s.surveyed_on));
        let location = location.filter(|p| !same_place(village.longitude, village.latitude, p));
        let (surveyed_on, eligible_total) = (input.surveyed_on, input.eligible_total);
        let plan = |survey, outcome| Planned {
            row,
            village: village.clone(),
            survey,
            surveyed_on,
            eligible_total,
            previous,
            outcome,
            location,
        };
        if history.iter().any(|s| repeats(&input, s)) {
            planned.push(plan(None, RowOutcome::Unchanged));
            continue;
        }
        let outcome = match previous {
            Some((_, current_on)) if surveyed_on < current_on => {
                if confirm_older {
                    RowOutcome::History
                } else {
                    if !dry_run {
                        errors.push(FieldError::at_row(
                            row,
                            "surveyed_on",
                            format!(
                                "{surveyed_on} is before the current survey of {} \
                                 ({current_on}): it would be recorded as history only; send \
                                 confirm_older=true to record it, or remove the row",
                                village.name
                            ),
                        ));
                    }
                    RowOutcome::Older
                }
            }
            _ => RowOutcome::Recorded,
        };
        match surveys::check(&txn, &village, input, surveys::today(now)).await {
            Ok(survey) => planned.push(plan(Some(survey), outcome)),
            Err(RegistryError::Invalid(violations)) => errors.extend(
                violations
                    .into_iter()
                    .map(|v| FieldError::at_row(row, v.field, v.message)),
            ),
            Err(other) => return Err(other),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(bad_sheet(errors));
    }
    let report = report(&planned, dry_run);
    if dry_run {
        txn.rollback().await?;
        return Ok(report);
    }
    planned.sort_by(|a, b| a.village.code.cmp(&b.village.code));
    for p in planned {
        if let Some(survey) = p.survey {
            surveys::insert(&txn, survey, acting, now).await?;
        }
        if let Some(place) = p.location {
            set_location(&txn, &p.village, place, acting, now).await?;
        }
    }
    txn.commit().await?;
    Ok(report)
}

/// What the planned rows change.
fn report(planned: &[Planned], dry_run: bool) -> ImportReport {
    let count = |outcomes: &[RowOutcome]| {
        planned
            .iter()
            .filter(|p| outcomes.contains(&p.outcome))
            .count()
    };
    ImportReport {
        dry_run,
        surveys_recorded: count(&[RowOutcome::Recorded, RowOutcome::History]),
        unchanged: count(&[RowOutcome::Unchanged]),
        older: count(&[RowOutcome::Older]),
        locations_set: planned.iter().filter(|p| p.location.is_some()).count(),
        rows: planned
            .iter()
            .map(|p| ImportedRow {
                row: p.row,
                village_code: p.village.code.to_string(),
                village_name: p.village.name.clone(),
                eligible_total: p.eligible_total,
                surveyed_on: p.surveyed_on,
                previous_total: p.previous.map(|(total, _)| total),
                previous_surveyed_on: p.previous.map(|(_, on)| on),
                outcome: p.outcome,
                sets_location: p.location.is_some(),
            })
            .collect(),
    }
}

/// Moves `village` to `place` in the import's transaction, with its audit record. The village
/// is locked, so its version read here is the one written over; the write is still
/// conditional on it.
async fn set_location(
    txn: &impl ConnectionTrait,
    village: &Region,
    place: Wgs84Point,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), RegistryError> {
    let before = regions::find_model(txn, &village.code).await?;
    let version = before.as_ref().map_or(village.version, |b| b.version);
    let edit = RegionEdit {
        longitude: Some(place.lon()),
        latitude: Some(place.lat()),
        // Everything but the location as it is now (read under the lock).
        population: before.as_ref().map_or(village.population, |b| b.population),
        kind: before
            .as_ref()
            .and_then(|b| b.kind.as_deref())
            .and_then(|k| k.parse().ok())
            .or(village.kind),
        kind_overridden: before
            .as_ref()
            .map_or(village.kind_overridden, |b| b.kind_overridden),
    };
    if regions::update_if_version(txn, &village.code, version, edit, now)
        .await?
        .is_none()
    {
        return Err(RegistryError::Conflict(format!(
            "{} changed while the sheet was being imported; nothing was changed, send it again",
            village.name
        )));
    }
    let after = regions::find_model(txn, &village.code).await?;
    audit::record(
        txn,
        Change {
            entity: "region",
            entity_id: village.code.to_string(),
            action: "update",
            region_code: Some(village.code.to_string()),
            before: before.as_ref(),
            after: after.as_ref(),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// A sheet to download: every village in `region`'s subtree.
#[derive(Debug, Clone)]
pub struct ExportSheet {
    /// The region, as given.
    pub region: String,
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
    /// The language of its headers and sources (an official reads Chinese by default).
    pub lang: Lang,
}

/// A downloaded sheet: its region, format and bytes.
#[derive(Debug, Clone)]
pub struct SheetFile {
    pub region: RegionCode,
    pub format: SheetFormat,
    pub bytes: Vec<u8>,
}

/// The survey sheet of a region's villages: each with its current survey, or blank to fill
/// in, headed in the command's language. The columns are exactly those [`import`] takes (in
/// either language).
///
/// # Errors
/// Denied, an invalid or unknown region or format, or the database fails.
pub async fn export(
    db: &impl ConnectionTrait,
    command: ExportSheet,
    acting: &Acting<'_>,
) -> Result<SheetFile, RegistryError> {
    surveys::authorize(acting, Action::Read, &command.region)?;
    let region = region(db, &command.region).await?;
    let format = match command.format.as_deref() {
        None | Some("csv") => SheetFormat::Csv,
        Some("xlsx") => SheetFormat::Xlsx,
        Some(_) => return Err(RegistryError::invalid("format", "must be csv or xlsx")),
    };
    let code = region.code.clone();
    let (lo, hi) = code.subtree_bounds(region.level);
    let villages = regions::villages_in(db, &code, region.level).await?;
    let current: HashMap<String, entity::village_survey::Model> =
        survey_store::current_in_range(db, &lo, &hi)
            .await?
            .into_iter()
            .map(|s| (s.region_code.clone(), s))
            .collect();
    let rows: Vec<ExportRow> = villages
        .iter()
        .filter(|v| v.level == Level::Village)
        .map(|v| {
            let s = current.get(v.code.as_str());
            let n =
                |f: fn(&entity::village_survey::Model) -> Option<i32>| s.and_then(f).map(i64::from);
            ExportRow {
                village_code: v.code.to_string(),
                village_name: v.name.clone(),
                eligible_total: s.map(|s| i64::from(s.eligible_total)),
                male: n(|s| s.male),
                female: n(|s| s.female),
                age_18_34: n(|s| s.age_18_34),
                age_35_54: n(|s| s.age_35_54),
                age_55_60: n(|s| s.age_55_60),
                away_for_work: n(|s| s.away_for_work),
                known_donors: n(|s| s.known_donors),
                surveyed_on: s.map(|s| s.surveyed_on),
                source: s.map(|s| s.source.clone()),
                surveyed_by: s.and_then(|s| s.surveyed_by.clone()),
                notes: s.and_then(|s| s.notes.clone()),
                longitude: v.longitude,
                latitude: v.latitude,
            }
        })
        .collect();
    let bytes = match format {
        SheetFormat::Xlsx => sheet::write_xlsx(&rows, command.lang)
            .map_err(|e| RegistryError::Internal(anyhow::anyhow!(e)))?,
        SheetFormat::Csv => sheet::write_csv(&rows, command.lang),
    };
    Ok(SheetFile {
        region: code,
        format,
        bytes,
    })
}
