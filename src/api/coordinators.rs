//! `/api/v1/coordinators` and `/api/v1/points/{id}/coordinators`: the local people who run
//! points, and who serves where. Each point has at most one primary coordinator: naming a new
//! primary demotes the old one in the same transaction.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use entity::coordinator;
use sea_orm::error::SqlErr;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, nullable, page_limit, paginate, required_if_match,
    with_etag,
};
use crate::domain::point::{CoordinatorRole, MobileNumber, mask_phone};
use crate::domain::policy::{self, Action, Resource};
use crate::domain::region::RegionCode;
use crate::error::{AppError, FieldError, Problem};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Change};
use crate::store::coordinators::{self as store, CoordinatorFields};

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

/// Checks a coordinator's fields (every rule that needs no database).
pub(crate) fn validated(input: CoordinatorInput) -> Result<CoordinatorFields, AppError> {
    let mut errors = Vec::new();
    let mut text = |field: &str, value: Option<String>, max: usize, multiline: bool| {
        crate::domain::text::clean(value, max, multiline).unwrap_or_else(|message| {
            errors.push(FieldError::new(field, message));
            None
        })
    };
    let name = text("name", Some(input.name), 100, false);
    let wechat_id = text("wechat_id", input.wechat_id, 64, false);
    let notes = text("notes", input.notes, 2000, true);
    if name.is_none() && !errors.iter().any(|e| e.field == "name") {
        errors.push(FieldError::new("name", "is required"));
    }
    let mobile = MobileNumber::parse(&input.mobile)
        .map_err(|m| errors.push(FieldError::new("mobile", m)))
        .ok();
    let region_code = RegionCode::parse(input.region_code.trim())
        .map_err(|e| errors.push(FieldError::new("region_code", e.to_string())))
        .ok();
    match (name, mobile, region_code) {
        (Some(name), Some(mobile), Some(region_code)) if errors.is_empty() => {
            Ok(CoordinatorFields {
                name,
                mobile,
                wechat_id,
                role: input.role,
                notes,
                region_code,
            })
        }
        _ => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            Err(AppError::Validation {
                detail: format!("invalid {}", fields.join(", ")),
                errors,
            })
        }
    }
}

/// A unique-mobile clash becomes a 409 naming the field. Mobiles are unique across the whole
/// registry (every city on the deployment): the answer says so, and the same way whoever holds
/// the number, without naming or confirming that record (it may lie outside the caller's
/// read scope, where it does not exist for them).
fn mobile_clash(err: sea_orm::DbErr) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Taken {
            field: "mobile".to_owned(),
            detail: MOBILE_NOT_AVAILABLE.to_owned(),
        },
        _ => AppError::from(err),
    }
}

/// The answer to a mobile number that cannot be recorded.
pub(crate) const MOBILE_NOT_AVAILABLE: &str = "this mobile number cannot be recorded: a mobile \
     number is recorded once in the whole registry, shared by every city on this service; find \
     the person among your area's coordinators or ask the blood station";

async fn load(state: &AppState, id: i64) -> Result<coordinator::Model, AppError> {
    store::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no coordinator with id {id}")))
}

/// The policy's answer for `action` on a coordinator (by their home region).
fn authorize(caller: &Caller, action: Action, m: &coordinator::Model) -> Result<(), AppError> {
    let code = m
        .region_code
        .as_deref()
        .and_then(|c| RegionCode::parse(c).ok());
    let id = m.id;
    caller.authorize(action, Resource::Registry(code.as_ref()), || {
        format!("coordinator with id {id}")
    })
}

/// The coordinator's home region must exist, and be one the caller may `action` in.
async fn check_region(
    state: &AppState,
    caller: &Caller,
    action: Action,
    code: &RegionCode,
) -> Result<(), AppError> {
    authorize_region(caller, action, code)?;
    region_exists(&state.db, code).await
}

/// The policy's answer for `action` in a coordinator's home region.
fn authorize_region(caller: &Caller, action: Action, code: &RegionCode) -> Result<(), AppError> {
    caller.authorize(action, Resource::Registry(Some(code)), || {
        format!("region with code {code}")
    })
}

/// The coordinator's home region must exist (400 naming `region_code` otherwise).
async fn region_exists(db: &impl ConnectionTrait, code: &RegionCode) -> Result<(), AppError> {
    if crate::store::regions::find(db, code).await?.is_none() {
        return Err(AppError::invalid(
            "region_code",
            format!("no region with code {code}"),
        ));
    }
    Ok(())
}

fn audit_change<'a>(
    actor: Actor,
    m: &coordinator::Model,
    action: &'a str,
    before: Option<&'a coordinator::Model>,
    after: Option<&'a coordinator::Model>,
    at: DateTime<Utc>,
) -> Change<'a, coordinator::Model> {
    Change {
        entity: "coordinator",
        entity_id: m.id.to_string(),
        action,
        region_code: m.region_code.clone(),
        before,
        after,
        actor,
        at,
    }
}

/// Stores a validated coordinator (whose home region must exist) with its audit record,
/// inside the caller's write transaction: what `POST /api/v1/coordinators` does once the
/// caller is authorised (and what the demo network is loaded with).
pub(crate) async fn create(
    txn: &impl ConnectionTrait,
    fields: CoordinatorFields,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<coordinator::Model, AppError> {
    region_exists(txn, &fields.region_code).await?;
    let created = store::insert(txn, fields, actor.name.clone(), now)
        .await
        .map_err(mobile_clash)?;
    audit::record(
        txn,
        audit_change(actor.clone(), &created, "create", None, Some(&created), now),
    )
    .await?;
    Ok(created)
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
    let fields = validated(input)?;
    authorize_region(&caller, Action::Create, &fields.region_code)?;
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let created = create(&txn, fields, &caller.actor(), now).await?;
    txn.commit().await?;
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
        store::search(&state.db, q, &reach, after, limit + 1).await?,
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
    let m = load(&state, path.id).await?;
    authorize(&caller, Action::Read, &m)?;
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
    let current = load(&state, path.id).await?;
    authorize(&caller, Action::Update, &current)?;
    let expected = required_if_match(&headers, "coordinator", current.version)?;
    let stale = |m: coordinator::Model| -> Result<Response, AppError> {
        Ok(with_etag(
            StatusCode::PRECONDITION_FAILED,
            m.version,
            Json(to_view(m)?),
        ))
    };
    if expected != current.version {
        return stale(current);
    }
    let fields = validated(CoordinatorInput {
        name: patch.name.unwrap_or_else(|| current.name.clone()),
        mobile: patch.mobile.unwrap_or_else(|| current.mobile.clone()),
        wechat_id: patch.wechat_id.unwrap_or_else(|| current.wechat_id.clone()),
        role: match patch.role {
            Some(role) => role,
            None => to_view(current.clone())?.role,
        },
        notes: patch.notes.unwrap_or_else(|| current.notes.clone()),
        region_code: match (patch.region_code, &current.region_code) {
            (Some(code), _) => code,
            (None, Some(code)) => code.clone(),
            (None, None) => {
                return Err(AppError::invalid(
                    "region_code",
                    "this coordinator has no home region yet; send one",
                ));
            }
        },
    })?;
    if current.region_code.as_deref() != Some(fields.region_code.as_str()) {
        check_region(&state, &caller, Action::Create, &fields.region_code).await?;
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let Some(updated) =
        store::update_if_version(&txn, path.id, expected, fields, caller.username(), now)
            .await
            .map_err(mobile_clash)?
    else {
        txn.rollback().await?;
        return stale(load(&state, path.id).await?);
    };
    audit::record(
        &txn,
        audit_change(
            caller.actor(),
            &updated,
            "update",
            Some(&current),
            Some(&updated),
            now,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(with_etag(
        StatusCode::OK,
        updated.version,
        Json(to_view(updated)?),
    ))
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
    authorize(&caller, Action::Close, &load(&state, path.id).await?)?;
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    // Locked, so that an assignment cannot slip in between the count and the delete.
    let current = coordinator::Entity::find_by_id(path.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no coordinator with id {}", path.id)))?;
    if !store::delete_unassigned(&txn, path.id).await? {
        return Err(AppError::Conflict(format!(
            "{} still serves a point; unassign them from every point first",
            current.name
        )));
    }
    audit::record(
        &txn,
        audit_change(
            caller.actor(),
            &current,
            "delete",
            Some(&current),
            None,
            now,
        ),
    )
    .await?;
    txn.commit().await?;
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
async fn assignments(
    state: &AppState,
    caller: &Caller,
    point_id: i64,
) -> Result<Vec<Assignment>, AppError> {
    store::of_point(&state.db, point_id)
        .await?
        .into_iter()
        .map(|(link, person)| {
            let readable = authorize(caller, Action::Read, &person).is_ok();
            let mut view = to_view(person)?;
            if !readable {
                view.mobile = mask_phone(&view.mobile);
                view.wechat_id = None;
                view.notes = None;
                view.created_by = None;
                view.updated_by = None;
            }
            Ok(Assignment {
                coordinator: view,
                is_primary: link.is_primary,
                assigned_at: link.assigned_at,
            })
        })
        .collect()
}

/// The point, if the caller may do `action` to its coordinators.
async fn point_for(
    db: &impl sea_orm::ConnectionTrait,
    caller: &Caller,
    action: Action,
    id: i64,
) -> Result<entity::point::Model, AppError> {
    caller.require()?;
    // Locks the point's row on PostgreSQL, so that two assignments to one point serialise
    // (SQLite's write transaction already does).
    let mut query = entity::point::Entity::find_by_id(id);
    if action != Action::Read {
        query = query.lock_exclusive();
    }
    let point = query
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no point with id {id}")))?;
    let code = RegionCode::parse(&point.region_code).ok();
    caller.authorize(action, Resource::Registry(code.as_ref()), || {
        format!("point with id {id}")
    })?;
    Ok(point)
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
    point_for(&state.db, &caller, Action::Read, path.id).await?;
    Ok(Json(assignments(&state, &caller, path.id).await?))
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
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let point = point_for(&txn, &caller, Action::Update, path.id).await?;
    // Held (shared) until commit, so that the coordinator cannot be deleted meanwhile.
    let person = coordinator::Entity::find_by_id(path.coordinator_id)
        .lock_shared()
        .one(&txn)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!("no coordinator with id {}", path.coordinator_id))
        })?;
    // Anyone the caller can see may serve a point the caller keeps (a neighbouring
    // village's doctor, say).
    authorize(&caller, Action::Read, &person)?;
    assign(
        &txn,
        &point,
        path.coordinator_id,
        input.primary,
        &caller.actor(),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Json(assignments(&state, &caller, path.id).await?))
}

/// Assigns a coordinator to a point (idempotent; `primary` demotes the current primary) with
/// its audit record, inside the caller's write transaction: what the assignment route does
/// once the point and the coordinator are found, locked and authorised (and what the demo
/// network is loaded with).
pub(crate) async fn assign(
    txn: &impl ConnectionTrait,
    point: &entity::point::Model,
    coordinator_id: i64,
    primary: bool,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let before = store::of_point(txn, point.id).await?;
    store::assign(txn, point.id, coordinator_id, primary, now).await?;
    let after = store::of_point(txn, point.id).await?;
    record_assignments(txn, actor.clone(), point, "assign", &before, &after, now).await
}

type Assigned = (entity::point_coordinator::Model, coordinator::Model);

/// Audits a change of a point's coordinators: the assignments before and after.
async fn record_assignments(
    txn: &impl sea_orm::ConnectionTrait,
    actor: Actor,
    point: &entity::point::Model,
    action: &str,
    before: &[Assigned],
    after: &[Assigned],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let links = |v: &[Assigned]| -> Vec<entity::point_coordinator::Model> {
        v.iter().map(|(l, _)| l.clone()).collect()
    };
    audit::record(
        txn,
        Change {
            entity: "point_coordinators",
            entity_id: point.id.to_string(),
            action,
            region_code: Some(point.region_code.clone()),
            before: Some(&links(before)),
            after: Some(&links(after)),
            actor,
            at: now,
        },
    )
    .await?;
    Ok(())
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
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let point = point_for(&txn, &caller, Action::Update, path.id).await?;
    let before = store::of_point(&txn, path.id).await?;
    if !store::unassign(&txn, path.id, path.coordinator_id).await? {
        return Err(AppError::NotFound(format!(
            "coordinator {} does not serve point {}",
            path.coordinator_id, path.id
        )));
    }
    let after = store::of_point(&txn, path.id).await?;
    record_assignments(
        &txn,
        caller.actor(),
        &point,
        "unassign",
        &before,
        &after,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Json(assignments(&state, &caller, path.id).await?))
}
