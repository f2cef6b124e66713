//! `/api/v1/plans`: drive plans (issue 5). A plan is made from a request (region, dates,
//! vehicles, rules; `crate::plans::request`), turned into a plan instance from the registry
//! (`crate::plans::build`), stored, and solved in the background; it is answered at once when
//! the planner finishes within a second (201), else 202 with its progress. Making plans is
//! for admins and station staff within their write scope; reading them follows the read
//! scope. Plans never change once done; exports render the stored result.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use entity::plan;
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
use crate::domain::point::mask_phone;
use crate::domain::policy::{self, Action, Resource};
use crate::domain::region::RegionCode;
use crate::domain::rounding::{self, Measure};
use crate::error::{AppError, Problem};
use crate::planning::evaluate;
use crate::planning::instance::{Instance, RouteInput};
use crate::planning::problem::Problem as PlanProblem;
use crate::plans::build::{self, SiteRef};
use crate::plans::export::{self, Sheet, SheetRoute};
use crate::plans::reads::{self, PlanFilter};
use crate::plans::request::PlanRequest;
use crate::plans::result::{PlanResult, StopAbout, StopCoordinator};
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

fn status_of(m: &plan::Model) -> Result<PlanStatus, AppError> {
    m.status
        .parse()
        .map_err(|e: String| AppError::Internal(anyhow::anyhow!("plan {}: {e}", m.id)))
}

fn percent(stored: i32) -> u8 {
    u8::try_from(stored.clamp(0, 100)).unwrap_or(0)
}

/// Loads plan `id` if the caller may read it (404 otherwise).
async fn load(state: &AppState, caller: &Caller, id: i64) -> Result<plan::Model, AppError> {
    caller.require()?;
    let model = reads::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no plan with id {id}")))?;
    let code = RegionCode::parse(&model.region_code)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("plan {id}: {e}")))?;
    caller.authorize(Action::Read, Resource::Plan(&code), || {
        format!("plan with id {id}")
    })?;
    Ok(model)
}

fn parse_json<T: serde::de::DeserializeOwned>(
    id: i64,
    what: &str,
    text: &str,
) -> Result<T, AppError> {
    serde_json::from_str(text)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("plan {id}: stored {what}: {e}")))
}

/// What the people driving a plan need besides it, by site id: for stops at points their
/// address and coordinators (phones masked for coordinators outside the caller's reach, as
/// elsewhere), and for every stop its township's name. Vehicle, station and coordinates come
/// from the instance ([`PlanResult::name_things`]).
async fn about_stops(
    state: &AppState,
    caller: &Caller,
    result: &PlanResult,
) -> Result<HashMap<String, StopAbout>, AppError> {
    let sites: Vec<&str> = result
        .routes
        .iter()
        .flat_map(|r| &r.stops)
        .map(|s| s.site.as_str())
        .collect();
    let mut point_ids: Vec<i64> = sites
        .iter()
        .filter_map(|site| match SiteRef::parse(site) {
            Ok(SiteRef::Point(id)) => Some(id),
            _ => None,
        })
        .collect();
    point_ids.sort_unstable();
    point_ids.dedup();
    let mut about: HashMap<String, StopAbout> = HashMap::new();
    // The township of every stop (people know a site by its name and township, not its id).
    let mut site_region: HashMap<String, RegionCode> = HashMap::new();
    for id in point_ids {
        let Some(point) = reads::point(&state.db, id).await? else {
            continue;
        };
        if let Ok(code) = RegionCode::parse(&point.region_code) {
            site_region.insert(format!("point-{id}"), code);
        }
        let coordinators = reads::coordinators_of_point(&state.db, id)
            .await?
            .into_iter()
            .map(|(link, person)| {
                let code = person
                    .region_code
                    .as_deref()
                    .and_then(|c| RegionCode::parse(c).ok());
                let readable = caller
                    .authorize(Action::Read, Resource::Registry(code.as_ref()), String::new)
                    .is_ok();
                StopCoordinator {
                    id: person.id,
                    mobile: if readable {
                        person.mobile.clone()
                    } else {
                        mask_phone(&person.mobile)
                    },
                    name: person.name,
                    role: person.role,
                    is_primary: link.is_primary,
                }
            })
            .collect();
        about.insert(
            format!("point-{id}"),
            StopAbout {
                address: point.address,
                coordinators,
                ..StopAbout::default()
            },
        );
    }
    for site in &sites {
        if let Ok(SiteRef::Region(code)) = SiteRef::parse(site) {
            site_region.insert((*site).to_owned(), code);
        }
    }
    let mut townships: HashMap<RegionCode, Option<String>> = HashMap::new();
    for code in site_region.values() {
        let Some(township) = code.township() else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(entry) = townships.entry(township) {
            let name = reads::region_name(&state.db, entry.key()).await?;
            entry.insert(name);
        }
    }
    for (site, code) in &site_region {
        let township = code
            .township()
            .and_then(|t| townships.get(&t).cloned().flatten());
        about.entry(site.clone()).or_default().township = township;
    }
    Ok(about)
}

/// The stations of `instance` (instance ids, `station-<id>`) the caller cannot read: for them
/// they do not exist, and neither do their vehicles.
async fn hidden_stations(
    state: &AppState,
    caller: &Caller,
    instance: &Instance,
) -> Result<HashSet<String>, AppError> {
    let mut hidden = HashSet::new();
    for station in &instance.stations {
        let readable = match station
            .id
            .strip_prefix("station-")
            .and_then(|n| n.parse::<i64>().ok())
        {
            Some(id) => match reads::station(&state.db, id).await? {
                Some(s) => caller.authorize_at(Action::Read, &s, String::new).is_ok(),
                None => false,
            },
            None => false,
        };
        if !readable {
            hidden.insert(station.id.clone());
        }
    }
    Ok(hidden)
}

/// Takes the vehicles of the stations in `hidden` out of the request's `vehicles` (the ids of
/// the vehicles used).
fn redact_request(instance: &Instance, hidden: &HashSet<String>, request: &mut Value) {
    if hidden.is_empty() {
        return;
    }
    let hidden_ids: HashSet<i64> = instance
        .vehicles
        .iter()
        .filter(|v| hidden.contains(&v.station))
        .filter_map(|v| v.id.strip_prefix("vehicle-")?.parse().ok())
        .collect();
    if let Some(ids) = request.get_mut("vehicles").and_then(Value::as_array_mut) {
        ids.retain(|id| id.as_i64().is_none_or(|id| !hidden_ids.contains(&id)));
    }
}

/// 403 for a plan whose instance holds stations the caller cannot read.
fn instance_beyond_reach(id: i64) -> AppError {
    AppError::Forbidden(format!(
        "plan {id}'s instance holds the fleet of stations outside your area; it is for those \
         who read every station in it"
    ))
}

/// The API's representation of a stored plan.
async fn view(state: &AppState, caller: &Caller, m: plan::Model) -> Result<PlanView, AppError> {
    Ok(view_and_result(state, caller, m).await?.0)
}

/// The API's representation of a stored plan, and its result as served (named, redacted for
/// the caller, rounded), which the view carries as JSON.
async fn view_and_result(
    state: &AppState,
    caller: &Caller,
    m: plan::Model,
) -> Result<(PlanView, Option<PlanResult>), AppError> {
    let mut status = status_of(&m)?;
    let mut progress = percent(m.progress);
    let mut objective = m.objective;
    if let Some(live) = state.plans.progress(m.id)
        && !status.is_finished()
    {
        status = live.status;
        progress = live.percent;
        objective = live.best_objective;
    }
    let instance: Option<Instance> = match &m.instance {
        Some(text) => Some(parse_json(m.id, "instance", text)?),
        None => None,
    };
    let hidden = match &instance {
        Some(instance) => hidden_stations(state, caller, instance).await?,
        None => HashSet::new(),
    };
    let result = match (&m.result, &instance) {
        (Some(result), Some(instance)) => {
            let mut result: PlanResult = parse_json(m.id, "result", result)?;
            let about = about_stops(state, caller, &result).await?;
            result.name_things(instance, &about);
            result.redact(instance, &hidden);
            result.round();
            Some(result)
        }
        _ => None,
    };
    // Served as a JSON object (members in name order, as before the result was typed).
    let result_json = result
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("plan {}: result: {e}", m.id)))?;
    let mut request: Value = parse_json(m.id, "request", &m.request)?;
    if let Some(instance) = &instance {
        redact_request(instance, &hidden, &mut request);
    }
    let view = PlanView {
        id: m.id,
        region_code: m.region_code,
        status,
        progress,
        objective: objective.map(|o| rounding::round(o, Measure::Ml)),
        error: m.error,
        seed: m.seed,
        created_by: m.created_by,
        created_at: m.created_at,
        finished_at: m.finished_at,
        version: m.version,
        request,
        result: result_json,
    };
    Ok((view, result))
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
        let model = reads::find(&state.db, id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("plan {id} vanished")))?;
        let plan = view(&state, &caller, model).await?;
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
    let model = load(&state, &caller, path.id).await?;
    Ok(Json(view(&state, &caller, model).await?))
}

/// The plan instance the plan solved (format `donornet.plan-instance.v1`): any solver can be
/// run on exactly the same problem (`donornet plan --instance FILE`).
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
    let model = load(&state, &caller, path.id).await?;
    let text = model
        .instance
        .ok_or_else(|| AppError::Conflict(format!("plan {} has no instance", path.id)))?;
    // The instance is the whole problem, the fleet's stations, plates and costs with it: only
    // for those who read every station in it.
    let instance: Instance = parse_json(path.id, "instance", &text)?;
    if !hidden_stations(&state, &caller, &instance)
        .await?
        .is_empty()
    {
        return Err(instance_beyond_reach(path.id));
    }
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
    let model = load(&state, &caller, path.id).await?;
    let id = model.id;
    let finished_at = model.finished_at;
    if status_of(&model)? != PlanStatus::Done {
        return Err(AppError::Conflict(format!(
            "plan {id} is {}; only a done plan can be exported",
            model.status
        )));
    }
    let title = match model.instance.as_deref() {
        Some(text) => parse_json::<Instance>(id, "instance", text)?.name,
        None => String::new(),
    };
    let (plan, result) = view_and_result(&state, &caller, model).await?;
    let result =
        result.ok_or_else(|| AppError::Internal(anyhow::anyhow!("plan {id}: no result")))?;
    let sheet = Sheet {
        plan_id: id,
        title,
        finished_at: finished_at.unwrap_or(plan.created_at),
        routes: result.routes.iter().map(SheetRoute::from).collect(),
    };
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
    /// Or an instance (format `donornet.plan-instance.v1`).
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
    let (instance, prefix) = match (body.plan_id, body.instance) {
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
        (Some(id), None) => {
            let model = load(&state, &caller, id).await?;
            let text = model
                .instance
                .ok_or_else(|| AppError::Conflict(format!("plan {id} has no instance")))?;
            let instance = parse_json::<Instance>(id, "instance", &text)?;
            // Checking against the instance answers with its fleet's data: as for the
            // instance itself, only for those who read every station in it.
            if !hidden_stations(&state, &caller, &instance)
                .await?
                .is_empty()
            {
                return Err(instance_beyond_reach(id));
            }
            (instance, None)
        }
        (None, Some(instance)) => {
            if instance.sites.len() + instance.stations.len() > build::MAX_PLACES {
                return Err(AppError::invalid(
                    "instance.sites",
                    format!("at most {} stations and sites", build::MAX_PLACES),
                ));
            }
            crate::plans::request::check_instance_bounds(&instance)
                .map_err(|e| AppError::invalid_instance("instance.", e))?;
            (*instance, Some("instance."))
        }
    };
    let plan = crate::planning::instance::PlanInput {
        format: body.format,
        routes: body.routes,
    };
    let turn = state.plans.compile_turn().await;
    let checked = tokio::task::spawn_blocking(move || {
        let checked = PlanProblem::new(instance).map(|problem| evaluate::check(&problem, &plan));
        drop(turn);
        checked
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("plan check: {e}")))?;
    let checked = match (checked, prefix) {
        (Ok(checked), _) => checked,
        (Err(e), Some(prefix)) => return Err(AppError::invalid_instance(prefix, e)),
        (Err(e), None) => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "stored instance is invalid: {e}"
            )));
        }
    };
    let feasible = checked.is_feasible();
    let mut out = serde_json::to_value(&checked)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("plan check: {e}")))?;
    out["feasible"] = json!(feasible);
    rounding::round_json(&mut out);
    Ok(Json(out))
}
