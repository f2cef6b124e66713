//! `POST /api/v1/surveys/import` and `GET /api/v1/surveys/export`: a township official
//! downloads the sheet of their villages (filled in, or as a template), edits it, and sends it
//! back. The upload is all or nothing: any bad row rejects the file with every bad row and
//! field listed; `?dry_run=true` says what would change without changing anything. Rows that
//! repeat a recorded survey are left alone (`unchanged`), rows older than the current survey
//! need `confirm_older=true`, and each account uploads one sheet at a time.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::Query;
use crate::api::surveys::authorize;
use crate::api::surveys::{SurveyInput, check, record};
use crate::domain::policy::Action;
use crate::domain::region::{Level, Region, RegionCode};
use crate::domain::survey::SurveySource;
use crate::error::{AppError, FieldError, Problem};
use crate::geo::{Crs, Wgs84Point};
use crate::state::AppState;
use crate::store::audit::{self, Change};
use crate::store::regions::{self, RegionEdit};
use crate::store::surveys as survey_store;
use crate::surveys::sheet::{self, ExportRow, SheetFormat};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_sheet))
        .routes(routes!(export_sheet))
}

/// Parameters of the upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// The township (or any region) the sheet is about: rows that name a village by name are
    /// looked up inside it, and rows that give a code must lie inside it.
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: String,
    /// Check and report what would change, without changing anything.
    pub dry_run: Option<bool>,
    /// Record rows dated before their village's current survey, as history (they do not
    /// become current). Without it such rows are flagged in a dry run and refused otherwise.
    pub confirm_older: Option<bool>,
    /// `csv` or `xlsx`; by default from the Content-Type.
    pub format: Option<String>,
    /// The datum of the sheet's `longitude`/`latitude` columns (default `wgs84`).
    pub crs: Option<Crs>,
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
#[derive(Debug, Serialize, ToSchema)]
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

/// What an upload changed, or would change.
#[derive(Debug, Serialize, ToSchema)]
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

/// A sheet sent as the request body, as it is (so the API docs offer a file picker).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // a schema only: the handler reads the body as bytes
pub struct SheetFile(Vec<u8>);

/// At most this many problems are listed (a sheet can have tens of thousands of bad rows).
pub const MAX_LISTED_PROBLEMS: usize = 500;

/// When a second upload by the same account may try again while the first is being read.
pub const UPLOAD_RETRY_AFTER_SECS: u64 = 5;

fn bad_sheet(mut errors: Vec<FieldError>) -> AppError {
    let total = errors.len();
    errors.truncate(MAX_LISTED_PROBLEMS);
    let listed = if total > MAX_LISTED_PROBLEMS {
        format!(" (the first {MAX_LISTED_PROBLEMS} are listed)")
    } else {
        String::new()
    };
    AppError::Validation {
        detail: format!(
            "the sheet has {total} problem(s){listed}; nothing was changed. Fix every listed row and send it again"
        ),
        errors,
    }
}

/// A row resolved and checked, ready to write.
struct Planned {
    row: usize,
    village: Region,
    /// `None` when the row repeats a recorded survey.
    survey: Option<survey_store::NewSurvey>,
    surveyed_on: NaiveDate,
    eligible_total: i64,
    previous: Option<(i64, NaiveDate)>,
    outcome: RowOutcome,
    location: Option<Wgs84Point>,
}

/// True when a sheet row says exactly what a recorded survey says (texts compared trimmed,
/// as they are stored).
fn repeats(input: &SurveyInput, recorded: &entity::village_survey::Model) -> bool {
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

/// Records a sheet of village surveys (CSV or XLSX, header row first): all rows or none.
///
/// Rows identical to a survey the village already has are reported `unchanged` and not
/// recorded again; rows dated before the village's current survey are recorded (as history)
/// only with `confirm_older=true`. One upload per account at a time: a second one sent while
/// the first is being read is answered 429 with `Retry-After`. An XLSX workbook is bounded
/// before it is read (parts at most 24 MB uncompressed, 48 MB together, compression at most
/// 100:1, at most 400,000 shared strings, texts at most 32,767 characters).
#[utoipa::path(
    post,
    path = "/surveys/import",
    tag = "surveys",
    params(ImportParams),
    request_body(
        description = "The sheet: a CSV file (UTF-8) or an XLSX workbook, as the request body",
        content(
            (inline(SheetFile) = "text/csv"),
            (inline(SheetFile) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ),
    ),
    responses(
        (status = 200, description = "Applied (or, with dry_run, what would be applied)", body = ImportReport),
        (status = 400, description = "Every bad row and field (`errors[].row`); nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than the body limit", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Another upload of this account is being read; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(region = %params.region))]
async fn import_sheet(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ImportParams>,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<ImportReport>, AppError> {
    // Every row must lie in `region` (checked below), so writing there covers them all.
    authorize(&caller, Action::Create, &params.region)?;
    // Taken before the body is read, so that a slow upload holds its turn too.
    let account = caller.require()?.user_id;
    let _turn =
        state
            .sheet_uploads
            .try_start(account)
            .ok_or_else(|| AppError::TooManyRequests {
                detail: "another sheet upload of this account is still being read; send this one \
                     when that one has been answered"
                    .to_owned(),
                retry_after_secs: UPLOAD_RETRY_AFTER_SECS,
            })?;
    let body = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::invalid("body", "the sheet could not be read from the request")
            }
        })?;
    let code = RegionCode::parse(&params.region)
        .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))?;
    let scope = regions::find(&state.db, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no region with code {code}")))?;
    let format = match params.format.as_deref() {
        Some("csv") => SheetFormat::Csv,
        Some("xlsx") => SheetFormat::Xlsx,
        Some(_) => return Err(AppError::invalid("format", "must be csv or xlsx")),
        None => headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|ct| SheetFormat::from_content_type_or_name(Some(ct), None))
            .ok_or_else(|| {
                AppError::invalid(
                    "format",
                    "send Content-Type text/csv or the XLSX type, or ?format=csv|xlsx",
                )
            })?,
    };
    // Reading a workbook is CPU work: off the request threads, so that other requests (and
    // `/health`) are answered meanwhile.
    let rows = tokio::task::spawn_blocking(move || sheet::parse_sheet(&body, format))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("reading the sheet: {e}")))?
        .map_err(|cells| {
            bad_sheet(
                cells
                    .into_iter()
                    .map(|c| FieldError::at_row(c.row, c.field, c.message))
                    .collect(),
            )
        })?;
    let crs = params.crs.unwrap_or_default();
    let dry_run = params.dry_run.unwrap_or(false);
    let confirm_older = params.confirm_older.unwrap_or(false);
    let (lo, hi) = code.subtree_bounds(scope.level);
    let villages: Vec<Region> = regions::villages_in(&state.db, &code, scope.level).await?;
    let by_code: HashMap<&str, &Region> = villages.iter().map(|v| (v.code.as_str(), v)).collect();
    let mut by_name: HashMap<&str, Vec<&Region>> = HashMap::new();
    for v in &villages {
        by_name.entry(v.name.as_str()).or_default().push(v);
    }

    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut planned: Vec<Planned> = Vec::new();
    let mut resolved: Vec<(usize, Region, SurveyInput, Option<Wgs84Point>)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let village = match (&row.village_code, &row.village_name) {
            (Some(raw), _) => match by_code.get(raw.as_str()) {
                Some(v) => Some(*v),
                None => {
                    let message = if raw.as_str() >= lo.as_str() && raw.as_str() <= hi.as_str() {
                        format!("{raw} is not a village-level unit of {}", scope.name)
                    } else {
                        format!("{raw} does not lie in {} ({code})", scope.name)
                    };
                    errors.push(FieldError::at_row(row.row, "village_code", message));
                    None
                }
            },
            (None, Some(name)) => match by_name.get(name.as_str()).map(Vec::as_slice) {
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
        };
        let Some(village) = village else { continue };
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
        let input = SurveyInput {
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
        match check(&txn, &village, input, now.date_naive()).await? {
            Ok(survey) => planned.push(plan(Some(survey), outcome)),
            Err(violations) => errors.extend(
                violations
                    .into_iter()
                    .map(|v| FieldError::at_row(row, v.field, v.message)),
            ),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(bad_sheet(errors));
    }
    let report_rows: Vec<ImportedRow> = planned
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
        .collect();
    let count = |outcomes: &[RowOutcome]| {
        planned
            .iter()
            .filter(|p| outcomes.contains(&p.outcome))
            .count()
    };
    let surveys_recorded = count(&[RowOutcome::Recorded, RowOutcome::History]);
    let unchanged = count(&[RowOutcome::Unchanged]);
    let older = count(&[RowOutcome::Older]);
    let locations_set = planned.iter().filter(|p| p.location.is_some()).count();
    if dry_run {
        txn.rollback().await?;
        return Ok(Json(ImportReport {
            dry_run: true,
            surveys_recorded,
            unchanged,
            older,
            locations_set,
            rows: report_rows,
        }));
    }
    planned.sort_by(|a, b| a.village.code.cmp(&b.village.code));
    for p in planned {
        if let Some(survey) = p.survey {
            record(&txn, &caller.actor(), survey, now).await?;
        }
        if let Some(place) = p.location {
            let before = regions::find_model(&txn, &p.village.code).await?;
            let version = before.as_ref().map_or(p.village.version, |b| b.version);
            let edit = RegionEdit {
                longitude: Some(place.lon()),
                latitude: Some(place.lat()),
                // Everything but the location as it is now (read under the lock).
                population: before
                    .as_ref()
                    .map_or(p.village.population, |b| b.population),
                kind: before
                    .as_ref()
                    .and_then(|b| b.kind.as_deref())
                    .and_then(|k| k.parse().ok())
                    .or(p.village.kind),
                kind_overridden: before
                    .as_ref()
                    .map_or(p.village.kind_overridden, |b| b.kind_overridden),
            };
            if regions::update_if_version(&txn, &p.village.code, version, edit, now)
                .await?
                .is_none()
            {
                return Err(AppError::Conflict(format!(
                    "{} changed while the sheet was being imported; nothing was changed, send it again",
                    p.village.name
                )));
            }
            let after = regions::find_model(&txn, &p.village.code).await?;
            audit::record(
                &txn,
                Change {
                    entity: "region",
                    entity_id: p.village.code.to_string(),
                    action: "update",
                    region_code: Some(p.village.code.to_string()),
                    before: before.as_ref(),
                    after: after.as_ref(),
                    actor: caller.actor(),
                    at: now,
                },
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(Json(ImportReport {
        dry_run: false,
        surveys_recorded,
        unchanged,
        older,
        locations_set,
        rows: report_rows,
    }))
}

/// Parameters of the download.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// Every village in this region's subtree.
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: String,
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

/// The survey sheet of a region's villages: each with its current survey, or blank to fill in.
/// The columns are exactly those the upload takes.
#[utoipa::path(
    get,
    path = "/surveys/export",
    tag = "surveys",
    params(ExportParams),
    responses(
        (status = 200, description = "The sheet (text/csv or XLSX)", content_type = "text/csv", body = String),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn export_sheet(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ExportParams>,
) -> Result<Response, AppError> {
    authorize(&caller, Action::Read, &params.region)?;
    let code = RegionCode::parse(&params.region)
        .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))?;
    let region = regions::find(&state.db, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no region with code {code}")))?;
    let xlsx = match params.format.as_deref() {
        None | Some("csv") => false,
        Some("xlsx") => true,
        Some(_) => return Err(AppError::invalid("format", "must be csv or xlsx")),
    };
    let (lo, hi) = code.subtree_bounds(region.level);
    let villages = regions::villages_in(&state.db, &code, region.level).await?;
    let current: HashMap<String, entity::village_survey::Model> =
        survey_store::current_in_range(&state.db, &lo, &hi)
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
    let (bytes, content_type, ext) = if xlsx {
        (
            sheet::write_xlsx(&rows).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        (sheet::write_csv(&rows), "text/csv; charset=utf-8", "csv")
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"surveys-{code}.{ext}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
