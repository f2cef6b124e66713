//! `/api/v1/plans`: drive plans (issue 5). A plan is made from a request (region, dates,
//! vehicles, rules; `crate::plans::request`), turned into a plan instance from the registry
//! (`crate::plans::build`), stored, and solved in the background; it is answered at once when
//! the planner finishes within a second (201), else 202 with its progress. Making plans is
//! for admins and station staff within their write scope; reading them follows the read
//! scope. Plans never change once done; exports render the stored result.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, output_lang, page_limit, paginate, status_filter,
    vary_language,
};
use crate::domain::plan::PlanStatus;
use crate::domain::policy::{self, Action, Resource};
use crate::domain::region::RegionCode;
use crate::domain::rounding::{self, Measure};
use crate::error::{AppError, Problem};
use crate::planning::instance::{Instance, RouteInput};
use crate::plans::export;
use crate::plans::reads::{self, PlanFilter};
use crate::plans::request::PlanRequest;
use crate::plans::result::PlanResult;
use crate::plans::show::{self, CheckAgainst, ShownPlan};
use crate::plans::{self, Submitted};
use crate::state::AppState;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;
/// How long `POST /api/v1/plans` waits for the planner before answering 202.
const ANSWER_WITHIN: Duration = Duration::from_secs(1);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans, create_plan))
        .routes(routes!(check_plan))
        .routes(routes!(get_plan))
        .routes(routes!(plan_instance))
        .routes(routes!(export_plan))
}

/// A plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub id: i64,
    pub region_code: String,
    pub status: PlanStatus,
    /// 0 to 100 (live while the plan runs).
    pub progress: u8,
    /// The plan's objective (mL collected less travel, in mL), once done; while running, the
    /// best found so far.
    pub objective: Option<f64>,
    /// Why the plan failed.
    pub error: Option<String>,
    pub seed: i64,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// The request as accepted: defaults filled in, and the vehicles used.
    #[schema(value_type = Object)]
    pub request: Value,
    /// Once done: `routes` (each `vehicle`, `vehicle_name`, `station`, `station_name`, `date`,
    /// `depart`, `return`, `km`, `donors`, `ml` and its `stops`: `site`, `name`, `township`,
    /// `address`, `longitude`, `latitude`, `coordinators`, `arrive`, `opens`, `closes`,
    /// `leave`, `expected`, `donors`, `ml`, …), `totals`, `violations`, `unscheduled` (every
    /// candidate left out, with its `reason`) and `solver` (seed, iterations, time). Coordinates
    /// are given to 7 decimals, km and mL to 0.1.
    #[schema(value_type = Object)]
    pub result: Option<Value>,
}

/// A plan accepted but not finished yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanAccepted {
    pub id: i64,
    pub status: PlanStatus,
    pub progress: u8,
}

/// A plan as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanSummaryView {
    pub id: i64,
    pub region_code: String,
    pub status: PlanStatus,
    pub progress: u8,
    pub objective: Option<f64>,
    pub seed: i64,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One page of plans, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanPage {
    pub items: Vec<PlanSummaryView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn percent(stored: i32) -> u8 {
    u8::try_from(stored.clamp(0, 100)).unwrap_or(0)
}

/// The API's representation of a plan as its reader sees it.
fn view(shown: ShownPlan) -> Result<(PlanView, Option<PlanResult>), AppError> {
    // Served as a JSON object (members in name order, as before the result was typed).
    let result_json = shown
        .result
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("plan {}: result: {e}", shown.id)))?;
    let view = PlanView {
        id: shown.id,
        region_code: shown.region_code,
        status: shown.status,
        progress: shown.progress,
        objective: shown.objective.map(|o| rounding::round(o, Measure::Ml)),
        error: shown.error,
        seed: shown.seed,
        created_by: shown.created_by,
        created_at: shown.created_at,
        finished_at: shown.finished_at,
        version: shown.version,
        request: shown.request,
        result: result_json,
    };
    Ok((view, shown.result))
}

fn with_location(status: StatusCode, id: i64, body: impl IntoResponse) -> Response {
    let mut response = (status, body).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("/api/v1/plans/{id}")) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Makes a plan: builds its instance from the registry, stores it and solves it in the
/// background. Answered 201 with the plan when the planner finishes within a second, else
/// 202 with its progress (poll `Location`).
///
/// The same request and seed give the same plan (unless the time limit stops the search).
#[utoipa::path(
    post,
    path = "/plans",
    tag = "plans",
    request_body = PlanRequest,
    responses(
        (status = 201, description = "Planned within a second; `Location` names the plan", body = PlanView),
        (status = 202, description = "Accepted and being planned; poll `Location`", body = PlanAccepted),
        (status = 400, description = "Invalid fields, each named (`to`, `vehicles[2]`, `fixed[0].site`, …)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and station staff make plans, within their write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The region is outside what the caller may read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The instance cannot be planned (e.g. `travel.km` does not cover every site); names the field", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many plans are queued or running; `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_plan(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<PlanRequest>,
) -> Result<Response, AppError> {
    let principal = caller.require()?;
    if let Ok(code) = RegionCode::parse(body.region.trim()) {
        caller.authorize(Action::Create, Resource::Plan(&code), || {
            format!("region with code {code}")
        })?;
    }
    let reach = policy::read_scope(principal);
    let Submitted { id, finished } = plans::submit(
        &state.db,
        &state.plans,
        &body,
        &reach,
        caller.username(),
        Utc::now(),
    )
    .await?;
    if tokio::time::timeout(ANSWER_WITHIN, finished).await.is_ok() {
        let shown = show::show(&state.db, &state.plans, caller.principal.as_ref(), id).await?;
        let (plan, _) = view(shown)?;
        return Ok(with_location(StatusCode::CREATED, id, Json(plan)));
    }
    let live = state.plans.progress(id);
    Ok(with_location(
        StatusCode::ACCEPTED,
        id,
        Json(PlanAccepted {
            id,
            status: live.map_or(PlanStatus::Queued, |p| p.status),
            progress: live.map_or(0, |p| p.percent),
        }),
    ))
}

/// Filters of the plan listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Plans of this region or anything below it (12-digit code).
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
    /// Comma-separated statuses (`queued`, `running`, `done`, `failed`); default: all.
    pub status: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists the plans the caller may read, newest first.
#[utoipa::path(
    get,
    path = "/plans",
    tag = "plans",
    params(ListParams),
    responses(
        (status = 200, description = "A page of plans, newest first", body = PlanPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region` does not exist (or is outside what the caller may read)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_plans(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<PlanPage>, AppError> {
    let reach = policy::read_scope(caller.require()?);
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let statuses = status_filter(
        params.status.as_deref(),
        PlanStatus::ALL,
        None,
        PlanStatus::as_str,
    )?;
    let mut filter = PlanFilter {
        statuses,
        before_id: id_cursor(params.cursor.as_deref())?,
        limit: limit + 1,
        reach: Some(reach),
        ..PlanFilter::default()
    };
    if let Some(raw) = params.region.as_deref() {
        filter.region_range = Some(crate::api::extract::region_filter(&state, &caller, raw).await?);
    }
    let (rows, next_cursor) = paginate(reads::list(&state.db, &filter).await?, limit, |p| {
        p.id.to_string()
    });
    let items =
        rows.into_iter()
            .map(|p| {
                let mut status: PlanStatus = p.status.parse().map_err(|e: String| {
                    AppError::Internal(anyhow::anyhow!("plan {}: {e}", p.id))
                })?;
                let mut progress = percent(p.progress);
                if let Some(live) = state.plans.progress(p.id)
                    && !status.is_finished()
                {
                    status = live.status;
                    progress = live.percent;
                }
                Ok(PlanSummaryView {
                    id: p.id,
                    region_code: p.region_code,
                    status,
                    progress,
                    objective: p.objective.map(|o| rounding::round(o, Measure::Ml)),
                    seed: p.seed,
                    created_by: p.created_by,
                    created_at: p.created_at,
                    finished_at: p.finished_at,
                })
            })
            .collect::<Result<_, AppError>>()?;
    Ok(Json(PlanPage { items, next_cursor }))
}

/// The plan's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PlanPath {
    pub id: i64,
}

/// One plan: its status and progress, the request, and once done the result, each stop with
/// its address and coordinators.
#[utoipa::path(
    get,
    path = "/plans/{id}",
    tag = "plans",
    params(PlanPath),
    responses(
        (status = 200, description = "The plan", body = PlanView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(plan_id = path.id))]
async fn get_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PlanPath>,
) -> Result<Json<PlanView>, AppError> {
    let shown = show::show(&state.db, &state.plans, caller.principal.as_ref(), path.id).await?;
    Ok(Json(view(shown)?.0))
}

/// The plan instance the plan solved (format `donornet.plan-instance.v2`; a plan stored before
/// v2 has a v1 one): any solver can be run on exactly the same problem (`donornet plan
/// --instance FILE`).
#[utoipa::path(
    get,
    path = "/plans/{id}/instance",
    tag = "plans",
    params(PlanPath),
    responses(
        (status = 200, description = "The instance", body = Object),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The instance holds stations (and their vehicles) outside the caller's read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan has no instance", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(plan_id = path.id))]
async fn plan_instance(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PlanPath>,
) -> Result<Response, AppError> {
    let text = show::instance_text(&state.db, caller.principal.as_ref(), path.id).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response())
}

/// Export parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv` (a row per stop), `ics` (iCalendar, an event per stop) or `html` (a printable
    /// route sheet, a page per vehicle-day).
    #[param(example = "html")]
    pub format: String,
    /// The language of the file's headers and words: `zh-CN` or `en` (default: from
    /// `Accept-Language`, else zh-CN).
    pub lang: Option<String>,
}

/// A finished plan as a file: CSV (one row per stop: date, vehicle, order, site, name,
/// address, times, expected donors, coordinator and phone), iCalendar (RFC 5545, one event per
/// stop, China Standard Time, stable UIDs) or a printable HTML route sheet (a page per
/// vehicle-day with stops, addresses, coordinators and phones, times and expected donors).
/// Headers and words are in the language of `lang` or `Accept-Language` (zh-CN by default).
#[utoipa::path(
    get,
    path = "/plans/{id}/export",
    tag = "plans",
    params(PlanPath, ExportParams),
    responses(
        (status = 200, description = "The file (`text/csv`, `text/calendar` or `text/html`), with `Content-Disposition`", content(
            (String = "text/csv"),
            (String = "text/calendar"),
            (String = "text/html"),
        )),
        (status = 400, description = "Unknown format or language", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is not done", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(plan_id = path.id))]
async fn export_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PlanPath>,
    Query(params): Query<ExportParams>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (content_type, extension, disposition) = match params.format.as_str() {
        "csv" => ("text/csv; charset=utf-8", "csv", "attachment"),
        "ics" => ("text/calendar; charset=utf-8", "ics", "attachment"),
        "html" => ("text/html; charset=utf-8", "html", "inline"),
        _ => return Err(AppError::invalid("format", "must be csv, ics or html")),
    };
    let lang = output_lang(params.lang.as_deref(), &headers)?;
    let id = path.id;
    let sheet = show::sheet(&state.db, &state.plans, caller.principal.as_ref(), id).await?;
    let body = match extension {
        "csv" => export::csv(&sheet, lang)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("plan {id}: csv: {e}")))?,
        "ics" => export::ics(&sheet, lang).into_bytes(),
        _ => export::html(&sheet, lang).into_bytes(),
    };
    let disposition = format!("{disposition}; filename=\"plan-{id}.{extension}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(vary_language(response))
}

/// The body of `POST /api/v1/plans/check`: a plan's routes, and the problem they are checked
/// against: a stored plan's instance (`plan_id`) or an instance given inline (`instance`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// A plan whose instance to check against.
    pub plan_id: Option<i64>,
    /// Or an instance (format `donornet.plan-instance.v2`, or v1).
    #[schema(value_type = Object)]
    pub instance: Option<Box<Instance>>,
    /// `donornet.plan.v1`, optional.
    pub format: Option<String>,
    /// Routes as the planner prints them (or edited): `vehicle`, `date`, optional `depart`,
    /// and `stops` (`site`, optional `start`); other members are ignored, so a plan's
    /// `result.routes` can be sent back as they are.
    #[schema(value_type = Vec<Object>)]
    pub routes: Vec<RouteInput>,
}

/// Checks a plan, hand-edited or from any solver: its times, totals and every broken rule.
/// Broken rules are the answer, not an error: 200 with `feasible: false`.
#[utoipa::path(
    post,
    path = "/plans/check",
    tag = "plans",
    request_body = CheckRequest,
    responses(
        (status = 200, description = "`feasible`, `routes` with times, `totals`, `violations`", body = Object),
        (status = 400, description = "Malformed body, or neither/both of `plan_id` and `instance`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The plan's instance holds stations (and their vehicles) outside the caller's read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan has no instance", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The inline instance is inconsistent; names the field (`instance.…`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn check_plan(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CheckRequest>,
) -> Result<Json<Value>, AppError> {
    caller.require()?;
    if let Some(format) = &body.format
        && format != crate::planning::instance::PLAN_FORMAT
    {
        return Err(AppError::invalid(
            "format",
            format!("must be {}", crate::planning::instance::PLAN_FORMAT),
        ));
    }
    let against = match (body.plan_id, body.instance) {
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "instance",
                "give plan_id or instance, not both",
            ));
        }
        (None, None) => {
            return Err(AppError::invalid(
                "plan_id",
                "give plan_id (a stored plan) or instance",
            ));
        }
        (Some(id), None) => CheckAgainst::Plan(id),
        (None, Some(instance)) => CheckAgainst::Inline(instance),
    };
    let plan = crate::planning::instance::PlanInput {
        format: body.format,
        routes: body.routes,
    };
    let checked = show::check(
        &state.db,
        &state.plans,
        caller.principal.as_ref(),
        against,
        plan,
    )
    .await?;
    let feasible = checked.is_feasible();
    let mut out = serde_json::to_value(&checked)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("plan check: {e}")))?;
    out["feasible"] = json!(feasible);
    rounding::round_json(&mut out);
    Ok(Json(out))
}
