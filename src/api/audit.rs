//! `GET /api/v1/audit`: what changed, when, and by whom. Admins and station staff see every
//! change inside their regions; township officials and viewers see their own changes.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Datelike, Utc};
use entity::audit_log;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::{tokens, users};
use crate::api::auth::Caller;
use crate::api::extract::{Query, id_cursor, page_limit};
use crate::audit::{self, AuditFilter};
use crate::domain::account::Principal;
use crate::domain::policy::{self, AuditScope, Visibility};
use crate::domain::region::RegionCode;
use crate::error::{AppError, Problem};
use crate::registry::{self, Acting};
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

/// The entities that are accounts, or belong to one.
const ACCOUNT_ENTITIES: &[&str] = &["user", "token"];

/// For account records: whether the account (as it is now) is one `principal` manages. Other
/// records: true.
async fn managed_account(
    state: &AppState,
    principal: &Principal,
    record: &audit_log::Model,
) -> Result<bool, AppError> {
    let Ok(id) = record.entity_id.parse::<i64>() else {
        return Ok(true);
    };
    let user_id = match record.entity.as_str() {
        "user" => Some(id),
        "token" => tokens::find_token(&state.db, id).await?.map(|t| t.user_id),
        _ => return Ok(true),
    };
    let Some(user_id) = user_id else {
        return Ok(false);
    };
    Ok(match users::find_user(&state.db, user_id).await? {
        Some(user) => user.id == principal.user_id || crate::accounts::manages(principal, &user),
        None => false,
    })
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
    for (field, value) in [
        ("entity", &params.entity),
        ("id", &params.id),
        ("user", &params.user),
    ] {
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
    for (field, at) in [("from", params.from), ("to", params.to)] {
        if at.is_some_and(|at| !(1900..=9999).contains(&at.year())) {
            return Err(AppError::invalid(
                field,
                "must lie between the years 1900 and 9999",
            ));
        }
    }
    if let (Some(from), Some(to)) = (params.from, params.to)
        && from >= to
    {
        return Err(AppError::invalid("to", "must be after from"));
    }
    let after_id = id_cursor(params.cursor.as_deref())?;
    let mut filter = AuditFilter {
        entity: params.entity,
        entity_id: params.id,
        from: params.from,
        to: params.to,
        after_id,
        limit: limit + 1,
        ..AuditFilter::default()
    };
    match policy::audit_scope(principal) {
        AuditScope::Own => filter.actor_user_id = Some(principal.user_id),
        AuditScope::Everyone(reach) => filter.reach = Some(reach),
    }
    // Changes to accounts and tokens are for those who manage accounts (and, through `Own`,
    // for whoever made them).
    let account_manager = policy::manages_accounts(principal);
    if !account_manager && filter.actor_user_id.is_none() {
        filter.exclude_entities = ACCOUNT_ENTITIES.iter().map(|e| (*e).to_owned()).collect();
    }
    if let Some(name) = params.user.as_deref().map(str::trim).map(str::to_lowercase) {
        let Some(user) = users::find_user_named(&state.db, &name).await? else {
            return Ok(Json(AuditPage {
                items: vec![],
                next_cursor: None,
            }));
        };
        if filter.actor_user_id.is_some_and(|own| own != user.id) {
            return Ok(Json(AuditPage {
                items: vec![],
                next_cursor: None,
            }));
        }
        filter.actor_user_id = Some(user.id);
    }
    if let Some(raw) = params.region.as_deref() {
        let code = RegionCode::parse(raw)
            .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))?;
        let acting = Acting::caller(caller.principal.as_ref(), caller.actor());
        let region = registry::regions::read(&state.db, &code, &acting).await?;
        filter.region_range = Some(code.subtree_bounds(region.level));
    }
    // A region-bound admin sees account changes only for accounts it manages, which a region
    // column cannot express (an account may be bound to several regions): filter here, page
    // by page.
    let check_accounts = account_manager && policy::read_scope(principal) != Visibility::All;
    let mut rows = Vec::new();
    let mut next_cursor = None;
    'fill: loop {
        let batch = audit::list(&state.db, &filter).await?;
        let full = batch.len() as u64 == filter.limit;
        let Some(last) = batch.last() else { break };
        filter.after_id = Some(last.id);
        for record in batch {
            if check_accounts && !managed_account(&state, principal, &record).await? {
                continue;
            }
            if rows.len() as u64 == limit {
                next_cursor = rows.last().map(|r: &audit_log::Model| r.id.to_string());
                break 'fill;
            }
            rows.push(record);
        }
        if !full {
            break;
        }
    }
    let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    Ok(Json(AuditPage {
        items: rows
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
        next_cursor,
    }))
}
