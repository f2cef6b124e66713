//! `GET /api/v1/audit`: what changed, when, and by whom. Admins and station staff see every
//! change inside their regions; township officials and viewers see their own changes.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Query, id_cursor, page_limit};
use crate::audit::{self, AuditQuery};
use crate::error::{AppError, Problem};
use crate::state::AppState;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// One change.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who made the change: the username, with the token's name when a token was used
    /// (`wang.fang (token: sync)`); absent for changes made before accounts existed.
    pub actor: Option<String>,
    /// The acting user's id.
    pub actor_user_id: Option<i64>,
    /// The API token's id, when one was used.
    pub actor_token_id: Option<i64>,
    /// `point`, …
    pub entity: String,
    pub entity_id: String,
    /// `create`, `update`, `close`, `delete`, `assign` or `unassign`; for drives their new
    /// status; `correct` for a change to a completed drive's results; `unlock` for an account
    /// whose sign-in lock an admin lifted.
    pub action: String,
    pub region_code: Option<String>,
    /// The entity before the change (absent for a creation): an object, or for
    /// `point_coordinators` the list of assignments.
    pub before: Option<serde_json::Value>,
    /// The entity after the change (absent for a deletion).
    pub after: Option<serde_json::Value>,
}

/// One page of changes, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only changes to this kind of entity (`point`, …).
    pub entity: Option<String>,
    /// Only changes to this entity (with `entity`).
    pub id: Option<String>,
    /// Only changes of this action (`create`, `update`, …).
    pub action: Option<String>,
    /// Only changes made by this user (username).
    pub user: Option<String>,
    /// Only changes to records in this region's subtree (12-digit code).
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
    /// Only changes at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only changes before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Lists recorded changes, oldest first.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of changes", body = AuditPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region` does not exist (or is outside the caller's regions)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AuditParams>,
) -> Result<Json<AuditPage>, AppError> {
    let principal = caller.require()?;
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let query = AuditQuery {
        entity: params.entity,
        entity_id: params.id,
        action: params.action,
        user: params.user,
        region: params.region,
        from: params.from,
        to: params.to,
        cursor: id_cursor(params.cursor.as_deref())?,
        limit,
        newest_first: false,
    };
    let page = audit::read(&state.db, query, principal, caller.actor()).await?;
    let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    Ok(Json(AuditPage {
        items: page
            .records
            .into_iter()
            .map(|r| AuditRecord {
                id: r.id,
                at: r.at,
                actor: r.actor,
                actor_user_id: r.actor_user_id,
                actor_token_id: r.actor_token_id,
                entity: r.entity,
                entity_id: r.entity_id,
                action: r.action,
                region_code: r.region_code,
                before: parse(r.before),
                after: parse(r.after),
            })
            .collect(),
        next_cursor: page.next_cursor.map(|id| id.to_string()),
    }))
}
