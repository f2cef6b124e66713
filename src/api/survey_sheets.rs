//! `POST /api/v1/surveys/import` and `GET /api/v1/surveys/export`: a township official
//! downloads the sheet of their villages (filled in, or as a template; headed in Chinese unless
//! English is asked for), edits it, and sends it back (headed in either language). The upload is all or nothing: any bad row rejects the file with every bad row and
//! field listed; `?dry_run=true` says what would change without changing anything. Rows that
//! repeat a recorded survey are left alone (`unchanged`), rows older than the current survey
//! need `confirm_older=true`, and each account uploads one sheet at a time.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Query, output_lang, vary_language};
use crate::domain::policy::Action;
use crate::error::{AppError, Problem};
use crate::geo::Crs;
use crate::registry::Acting;
use crate::registry::sheets::{self, ExportSheet, ImportReport, ImportSheet};
use crate::registry::surveys;
use crate::state::AppState;
use crate::surveys::sheet::SheetFormat;

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

/// A sheet sent as the request body, as it is (so the API docs offer a file picker).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // a schema only: the handler reads the body as bytes
pub struct SheetFile(Vec<u8>);

/// When a second upload by the same account may try again while the first is being read.
pub const UPLOAD_RETRY_AFTER_SECS: u64 = 5;

/// Who acts for the registry service: the caller, checked by the policy.
fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
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
    // Asked before the upload turn is taken and the body read, so that a caller who may not
    // import there learns so first.
    let acting = acting(&caller);
    surveys::authorize(&acting, Action::Create, &params.region)?;
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
    let command = ImportSheet {
        region: params.region,
        bytes: body.into(),
        format: params.format,
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        crs: params.crs.unwrap_or_default(),
        dry_run: params.dry_run.unwrap_or(false),
        confirm_older: params.confirm_older.unwrap_or(false),
    };
    let report = sheets::import(&state.db, command, &acting, Utc::now()).await?;
    Ok(Json(report))
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
    /// The language of the headers and sources: `zh-CN` or `en` (default: from
    /// `Accept-Language`, else zh-CN). The upload reads either.
    pub lang: Option<String>,
}

/// The survey sheet of a region's villages: each with its current survey, or blank to fill in.
/// The columns are exactly those the upload takes; headed in Chinese by default, in English
/// with `lang=en` or `Accept-Language: en`.
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
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let command = ExportSheet {
        region: params.region,
        format: params.format,
        lang: output_lang(params.lang.as_deref(), &headers)?,
    };
    let file = sheets::export(&state.db, command, &acting(&caller)).await?;
    let (content_type, ext) = match file.format {
        SheetFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        SheetFormat::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let code = file.region;
    let bytes = file.bytes;
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"surveys-{code}.{ext}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(vary_language(response))
}
