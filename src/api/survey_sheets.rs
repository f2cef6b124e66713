//! `POST /api/v1/surveys/import` and `GET /api/v1/surveys/export`: a township official
//! downloads the sheet of their villages (filled in, or as a template), edits it, and sends it
//! back. The upload is all or nothing: any bad row rejects the file with every bad row and
//! field listed; `?dry_run=true` says what would change without changing anything.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
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
    /// `csv` or `xlsx`; by default from the Content-Type.
    pub format: Option<String>,
    /// The datum of the sheet's `longitude`/`latitude` columns (default `wgs84`).
    pub crs: Option<Crs>,
}

/// One row that would be (or was) applied.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedRow {
    pub row: usize,
    pub village_code: String,
    pub village_name: String,
    pub eligible_total: i64,
    /// The current survey's total before this one, if any.
    pub previous_total: Option<i64>,
    /// True when the row also sets the village's location.
    pub sets_location: bool,
}

/// What an upload changed, or would change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    pub surveys_recorded: usize,
    pub locations_set: usize,
    pub rows: Vec<ImportedRow>,
}

/// At most this many problems are listed (a sheet can have tens of thousands of bad rows).
pub const MAX_LISTED_PROBLEMS: usize = 500;

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
    survey: survey_store::NewSurvey,
    previous_total: Option<i64>,
    location: Option<Wgs84Point>,
}

/// Records a sheet of village surveys (CSV or XLSX, header row first): all rows or none.
#[utoipa::path(
    post,
    path = "/surveys/import",
    tag = "surveys",
    params(ImportParams),
    request_body(content = String, description = "The sheet: text/csv (UTF-8) or an XLSX workbook", content_type = "text/csv"),
    responses(
        (status = 200, description = "Applied (or, with dry_run, what would be applied)", body = ImportReport),
        (status = 400, description = "Every bad row and field (`errors[].row`); nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(region = %params.region))]
async fn import_sheet(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportReport>, AppError> {
    // Every row must lie in `region` (checked below), so writing there covers them all.
    authorize(&caller, Action::Create, &params.region)?;
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
    let rows = sheet::parse_sheet(&body, format).map_err(|cells| {
        bad_sheet(
            cells
                .into_iter()
                .map(|c| FieldError::at_row(c.row, c.field, c.message))
                .collect(),
        )
    })?;
    let crs = params.crs.unwrap_or_default();
    let dry_run = params.dry_run.unwrap_or(false);
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
                        format!("no village of {} is named {name}", scope.name),
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
    // Lock every village of the sheet (in code order) before reading their current surveys, so
    // that the 3x rule compares with what is really current at commit.
    let codes: Vec<RegionCode> = resolved.iter().map(|(_, v, _, _)| v.code.clone()).collect();
    regions::lock(&txn, &codes).await?;
    for (row, village, input, location) in resolved {
        let previous_total = survey_store::current(&txn, &village.code)
            .await?
            .map(|s| i64::from(s.eligible_total));
        match check(&txn, &village, input, now.date_naive()).await? {
            Ok(survey) => planned.push(Planned {
                row,
                village,
                survey,
                previous_total,
                location,
            }),
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
            eligible_total: p.survey.figures.eligible_total,
            previous_total: p.previous_total,
            sets_location: p.location.is_some(),
        })
        .collect();
    let locations_set = planned.iter().filter(|p| p.location.is_some()).count();
    if dry_run {
        txn.rollback().await?;
        return Ok(Json(ImportReport {
            dry_run: true,
            surveys_recorded: planned.len(),
            locations_set,
            rows: report_rows,
        }));
    }
    planned.sort_by(|a, b| a.village.code.cmp(&b.village.code));
    for p in planned {
        record(&txn, &caller.actor(), p.survey, now).await?;
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
        surveys_recorded: report_rows.len(),
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
