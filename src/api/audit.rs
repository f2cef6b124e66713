//! `GET /api/v1/audit`: what changed in the registry, when, and (once accounts exist) by whom.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::extract::{Query, id_cursor, page_limit, paginate};
use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::store::audit::{self, AuditFilter};

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
    /// Who made the change (accounts come later; until then none).
    pub actor: Option<String>,
    /// `point`, …
    pub entity: String,
    pub entity_id: String,
    /// `create`, `update`, `close`, `delete`, `assign` or `unassign`.
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
    )
)]
async fn list_audit(
    State(state): State<AppState>,
    Query(params): Query<AuditParams>,
) -> Result<Json<AuditPage>, AppError> {
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    for (field, value) in [("entity", &params.entity), ("id", &params.id)] {
        if let Some(v) = value
            && (v.chars().count() > 64 || v.chars().any(char::is_control))
        {
            return Err(AppError::invalid(
                field,
                "must be at most 64 characters, without control characters",
            ));
        }
    }
    if params.id.is_some() && params.entity.is_none() {
        return Err(AppError::invalid(
            "id",
            "needs entity (ids are per kind of entity)",
        ));
    }
    let after_id = id_cursor(params.cursor.as_deref())?;
    let filter = AuditFilter {
        entity: params.entity,
        entity_id: params.id,
        after_id,
        limit: limit + 1,
    };
    let (rows, next_cursor) = paginate(audit::list(&state.db, &filter).await?, limit, |r| {
        r.id.to_string()
    });
    let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    Ok(Json(AuditPage {
        items: rows
            .into_iter()
            .map(|r| AuditRecord {
                id: r.id,
                at: r.at,
                actor: r.actor,
                entity: r.entity,
                entity_id: r.entity_id,
                action: r.action,
                region_code: r.region_code,
                before: parse(r.before),
                after: parse(r.after),
            })
            .collect(),
        next_cursor,
    }))
}
