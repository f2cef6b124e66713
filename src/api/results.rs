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
//! The report and its export are `crate::checkin::results`; this handler reads the
//! parameters, resolves `region` within the caller's reach and renders. Season names and the
//! downloads' headers are in the language of `lang` or `Accept-Language` (zh-CN by default).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Query, download, output_lang, region_filter, vary_language};
use crate::checkin::results::{self, ExportFormat, GroupBy, ReportQuery, ResultsReport};
use crate::domain::policy;
use crate::error::{AppError, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(results_report))
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
    /// The language of season names and the downloads' headers: `zh-CN` or `en` (default:
    /// from `Accept-Language`, else zh-CN).
    pub lang: Option<String>,
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
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let principal = caller.require()?;
    let lang = output_lang(params.lang.as_deref(), &headers)?;
    let format = match params.format.as_deref().map(str::trim).unwrap_or("json") {
        "json" => None,
        "csv" => Some(ExportFormat::Csv),
        "xlsx" => Some(ExportFormat::Xlsx),
        _ => return Err(AppError::invalid("format", "must be json, csv or xlsx")),
    };
    if let (Some(from), Some(to)) = (params.from, params.to)
        && to < from
    {
        return Err(AppError::invalid("to", "must not be before from"));
    }
    let group = params.group.unwrap_or_default();
    let range = match params.region.as_deref() {
        Some(raw) => Some(region_filter(&state, &caller, raw.trim()).await?),
        None => None,
    };
    let query = ReportQuery {
        region: params.region,
        range,
        from: params.from,
        to: params.to,
        group,
        lang,
    };
    let report = results::report(&state.db, &query, &policy::read_scope(principal)).await?;
    let Some(format) = format else {
        return Ok(vary_language(axum::Json(report).into_response()));
    };
    let body = results::export(&report.rows, &report.total_row(lang), format, lang)?;
    let stem = format!("results-by-{}", group.name());
    Ok(vary_language(download(
        body,
        format.content_type(),
        &format.file_name(&stem),
    )))
}
