//! `/api/v1/coordinators` and `/api/v1/points/{id}/coordinators`: the local people who run
//! points, and who serves where. Each point has at most one primary coordinator: naming a new
//! primary demotes the old one in the same transaction.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use entity::coordinator;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, nullable, page_limit, paginate, required_if_match,
    with_etag,
};
use crate::domain::point::{CoordinatorRole, mask_phone};
use crate::domain::policy::{self, Action};
use crate::error::{AppError, Problem};
use crate::registry::coordinators::{self as registry, Assign, CoordinatorChange, Serving};
use crate::registry::{Acting, Written};
use crate::state::AppState;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_coordinators, create_coordinator))
        .routes(routes!(
            get_coordinator,
            patch_coordinator,
            delete_coordinator
        ))
        .routes(routes!(point_coordinators))
        .routes(routes!(assign_coordinator, unassign_coordinator))
}

/// A coordinator.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoordinatorView {
    pub id: i64,
    pub name: String,
    pub mobile: String,
    pub wechat_id: Option<String>,
    pub role: CoordinatorRole,
    pub notes: Option<String>,
    /// The home region (usually the township) whose officials keep this record; absent only
    /// for records made before regions were recorded.
    pub region_code: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

fn to_view(m: coordinator::Model) -> Result<CoordinatorView, AppError> {
    Ok(CoordinatorView {
        role: m.role.parse().map_err(|e: String| {
            AppError::Internal(anyhow::anyhow!("coordinator {}: {e}", m.id))
        })?,
        id: m.id,
        name: m.name,
        mobile: m.mobile,
        wechat_id: m.wechat_id,
        notes: m.notes,
        region_code: m.region_code,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        created_by: m.created_by,
        updated_by: m.updated_by,
    })
}

/// The body of `POST /api/v1/coordinators`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorInput {
    #[schema(example = "王建国")]
    pub name: String,
    /// Mainland mobile: 11 digits starting with 1.
    #[schema(example = "13812345678")]
    pub mobile: String,
    pub wechat_id: Option<String>,
    pub role: CoordinatorRole,
    pub notes: Option<String>,
    /// The home region (township or village) whose officials keep this record.
    #[schema(example = "411102001000")]
    pub region_code: String,
}

/// The body of `PATCH /api/v1/coordinators/{id}`; `null` clears an optional member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorPatch {
    pub name: Option<String>,
    pub mobile: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub wechat_id: Option<Option<String>>,
    pub role: Option<CoordinatorRole>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    pub region_code: Option<String>,
}

/// Who acts for the registry service: the caller, checked by the policy.
fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

impl From<CoordinatorInput> for registry::CoordinatorInput {
    fn from(input: CoordinatorInput) -> Self {
        registry::CoordinatorInput {
            name: input.name,
            mobile: input.mobile,
            wechat_id: input.wechat_id,
            role: input.role,
            notes: input.notes,
            region_code: input.region_code,
        }
    }
}

impl From<CoordinatorPatch> for CoordinatorChange {
    fn from(patch: CoordinatorPatch) -> Self {
        CoordinatorChange {
            name: patch.name,
            mobile: patch.mobile,
            wechat_id: patch.wechat_id,
            role: patch.role,
            notes: patch.notes,
            region_code: patch.region_code,
        }
    }
}

/// Registers a coordinator.
#[utoipa::path(
    post,
    path = "/coordinators",
    tag = "coordinators",
    request_body = CoordinatorInput,
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = CoordinatorView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The mobile number belongs to another coordinator", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_coordinator(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<CoordinatorInput>,
) -> Result<Response, AppError> {
    caller.require()?;
    let created = registry::create(&state.db, input.into(), &acting(&caller), Utc::now()).await?;
    Ok(with_etag(
        StatusCode::CREATED,
        created.version,
        Json(to_view(created)?),
    ))
}

/// Search parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// A fragment of the name or the mobile number.
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A page of coordinators.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoordinatorPage {
    pub items: Vec<CoordinatorView>,
    pub next_cursor: Option<String>,
}

/// Lists coordinators, optionally searching names and mobile numbers.
#[utoipa::path(
    get,
    path = "/coordinators",
    tag = "coordinators",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of coordinators in id order", body = CoordinatorPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_coordinators(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<SearchParams>,
) -> Result<Json<CoordinatorPage>, AppError> {
    let reach = policy::read_scope(caller.require()?);
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let q = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 50 || q.chars().any(char::is_control)) {
        return Err(AppError::invalid(
            "q",
            "must be at most 50 characters, without control characters",
        ));
    }
    let after = id_cursor(params.cursor.as_deref())?;
    let (rows, next_cursor) = paginate(
        registry::search(&state.db, q, &reach, after, limit + 1).await?,
        limit,
        |r| r.id.to_string(),
    );
    Ok(Json(CoordinatorPage {
        items: rows.into_iter().map(to_view).collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

/// A coordinator's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CoordinatorPath {
    pub id: i64,
}

/// One coordinator.
#[utoipa::path(
    get,
    path = "/coordinators/{id}",
    tag = "coordinators",
    params(CoordinatorPath),
    responses(
        (status = 200, description = "The coordinator; `ETag` carries the version", body = CoordinatorView),
        (status = 404, description = "No such coordinator", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_coordinator(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CoordinatorPath>,
) -> Result<Response, AppError> {
    caller.require()?;
    let m = registry::find_for(&state.db, path.id, Action::Read, &acting(&caller)).await?;
    Ok(with_etag(StatusCode::OK, m.version, Json(to_view(m)?)))
}

/// Changes a coordinator. Needs `If-Match`.
#[utoipa::path(
    patch,
    path = "/coordinators/{id}",
    tag = "coordinators",
    params(CoordinatorPath, ("If-Match" = String, Header, description = "The ETag last seen")),
    request_body = CoordinatorPatch,
    responses(
        (status = 200, description = "Changed", body = CoordinatorView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The mobile number belongs to another coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The version moved on: the body is the current coordinator", body = CoordinatorView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn patch_coordinator(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CoordinatorPath>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<CoordinatorPatch>,
) -> Result<Response, AppError> {
    caller.require()?;
    let acting = acting(&caller);
    let current = registry::find_for(&state.db, path.id, Action::Update, &acting).await?;
    let expected = required_if_match(&headers, "coordinator", current.version)?;
    let (status, row) = match registry::update(
        &state.db,
        &current,
        expected,
        patch.into(),
        &acting,
        Utc::now(),
    )
    .await?
    {
        Written::Done(updated) => (StatusCode::OK, updated),
        Written::Stale(latest) => (StatusCode::PRECONDITION_FAILED, latest),
    };
    Ok(with_etag(status, row.version, Json(to_view(row)?)))
}

/// Deletes a coordinator who serves no point (unassign them first: 409 otherwise).
#[utoipa::path(
    delete,
    path = "/coordinators/{id}",
    tag = "coordinators",
    params(CoordinatorPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The coordinator still serves a point", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn delete_coordinator(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CoordinatorPath>,
) -> Result<Response, AppError> {
    caller.require()?;
    registry::delete(&state.db, path.id, &acting(&caller), Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A coordinator serving a point.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assignment {
    #[serde(flatten)]
    pub coordinator: CoordinatorView,
    pub is_primary: bool,
    pub assigned_at: DateTime<Utc>,
}

/// A point's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PointPath {
    pub id: i64,
}

/// The path of one assignment.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AssignmentPath {
    /// The point.
    pub id: i64,
    pub coordinator_id: i64,
}

/// Who serves a point. Coordinators the caller may not read themselves (homed in another
/// county, say) show with their phone masked and without WeChat id, notes or authorship.
fn assignments(serving: Vec<Serving>) -> Result<Vec<Assignment>, AppError> {
    serving
        .into_iter()
        .map(|s| {
            let mut view = to_view(s.person)?;
            if !s.readable {
                view.mobile = mask_phone(&view.mobile);
                view.wechat_id = None;
                view.notes = None;
                view.created_by = None;
                view.updated_by = None;
            }
            Ok(Assignment {
                coordinator: view,
                is_primary: s.link.is_primary,
                assigned_at: s.link.assigned_at,
            })
        })
        .collect()
}

/// The coordinators of a point, the primary first.
#[utoipa::path(
    get,
    path = "/points/{id}/coordinators",
    tag = "coordinators",
    params(PointPath),
    responses(
        (status = 200, description = "Who serves the point", body = [Assignment]),
        (status = 404, description = "No such point", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn point_coordinators(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PointPath>,
) -> Result<Json<Vec<Assignment>>, AppError> {
    caller.require()?;
    let serving = registry::of_point(&state.db, path.id, &acting(&caller)).await?;
    Ok(Json(assignments(serving)?))
}

/// The body of an assignment.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// Make them the point's primary coordinator (demoting the current one).
    #[serde(default)]
    pub primary: bool,
}

/// Assigns a coordinator to a point (idempotent); `"primary": true` makes them its primary.
#[utoipa::path(
    put,
    path = "/points/{id}/coordinators/{coordinator_id}",
    tag = "coordinators",
    params(AssignmentPath),
    request_body = AssignInput,
    responses(
        (status = 200, description = "The point's coordinators after the change", body = [Assignment]),
        (status = 404, description = "No such point or coordinator", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn assign_coordinator(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<AssignmentPath>,
    JsonBody(input): JsonBody<AssignInput>,
) -> Result<Json<Vec<Assignment>>, AppError> {
    caller.require()?;
    let command = Assign {
        point_id: path.id,
        coordinator_id: path.coordinator_id,
        primary: input.primary,
    };
    let serving = registry::assign(&state.db, command, &acting(&caller), Utc::now()).await?;
    Ok(Json(assignments(serving)?))
}

/// Removes a coordinator from a point.
#[utoipa::path(
    delete,
    path = "/points/{id}/coordinators/{coordinator_id}",
    tag = "coordinators",
    params(AssignmentPath),
    responses(
        (status = 200, description = "The point's coordinators after the change", body = [Assignment]),
        (status = 404, description = "No such point, or the coordinator does not serve it", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn unassign_coordinator(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<AssignmentPath>,
) -> Result<Json<Vec<Assignment>>, AppError> {
    caller.require()?;
    let serving = registry::unassign(
        &state.db,
        path.id,
        path.coordinator_id,
        &acting(&caller),
        Utc::now(),
    )
    .await?;
    Ok(Json(assignments(serving)?))
}
