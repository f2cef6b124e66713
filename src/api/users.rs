//! `/api/v1/users`: accounts, managed by admins (a region-bound admin manages only users bound
//! inside its regions). Accounts are disabled, never deleted, so that the audit log keeps
//! naming who did what.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::{
    self, Acting, ChangeAccount, NewAccount, Update, User, users::UnlockAccount,
};
use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, page_limit, required_if_match, with_etag,
};
use crate::domain::account::{Principal, Role};
use crate::domain::policy;
use crate::error::{AppError, Problem};
use crate::state::AppState;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, patch_user))
        .routes(routes!(unlock_user))
}

pub use crate::accounts::UserView;

/// The body of `POST /api/v1/users`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// 3 to 32 of `a-z 0-9 . _ -`, starting with a letter or digit; stored lower-case.
    #[schema(example = "wang.fang")]
    pub username: String,
    #[schema(example = "王芳")]
    pub display_name: String,
    pub role: Role,
    /// Region codes the account is bound to; required for every role but `admin`.
    #[serde(default)]
    #[schema(example = json!(["411102001000"]))]
    pub regions: Vec<String>,
    /// At least 10 characters (400 otherwise); not the username nor one of the commonest
    /// passwords (422 otherwise).
    #[schema(format = Password)]
    pub password: String,
}

/// The body of `PATCH /api/v1/users/{id}`: only the members to change.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub regions: Option<Vec<String>>,
    /// Disabling ends the account's sessions and stops its tokens.
    pub disabled: Option<bool>,
    /// A new password, under the same rules as at creation; ends the account's sessions.
    #[schema(format = Password)]
    pub password: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    pub id: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserListParams {
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// One page of accounts.
#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub next_cursor: Option<String>,
}

/// Creates an account. Admins only; a region-bound admin only inside its regions.
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or the regions are outside the admin's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The password is too easy to guess (field `password`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateUser>,
) -> Result<Response, AppError> {
    let principal = admin_only(&caller)?;
    let by = Acting::Account {
        principal,
        actor: caller.actor(),
    };
    let command = NewAccount {
        username: body.username,
        display_name: Some(body.display_name),
        role: body.role,
        regions: body.regions,
        password: body.password,
    };
    let user = accounts::create_user(&state.db, command, &by, Utc::now()).await?;
    let view = UserView::from(user);
    Ok(with_etag(StatusCode::CREATED, view.version, Json(view)))
}

/// Lists the accounts the caller manages.
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    params(UserListParams),
    responses(
        (status = 200, description = "A page of accounts", body = UserPage),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<UserListParams>,
) -> Result<Json<UserPage>, AppError> {
    let principal = admin_only(&caller)?;
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let mut after = id_cursor(params.cursor.as_deref())?;
    let mut items = Vec::new();
    let mut next_cursor = None;
    // Accounts are few; filter batches until the page is full.
    'fill: loop {
        let batch = accounts::users::list_users(&state.db, after, 500).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.id);
        for user in batch {
            if !accounts::manages(principal, &user) {
                continue;
            }
            if items.len() as u64 == limit {
                next_cursor = items.last().map(|u: &UserView| u.id.to_string());
                break 'fill;
            }
            items.push(UserView::from(user));
        }
    }
    Ok(Json(UserPage { items, next_cursor }))
}

/// The caller, if they manage accounts; 403 otherwise.
fn admin_only(caller: &Caller) -> Result<&Principal, AppError> {
    let principal = caller.require()?;
    if policy::manages_accounts(principal) {
        Ok(principal)
    } else {
        Err(AppError::Forbidden(
            "only admins manage accounts".to_owned(),
        ))
    }
}

/// Loads an account the caller may see: themselves, or one they manage. Whether another
/// account exists is not told to those who manage none (403 either way).
async fn visible(state: &AppState, caller: &Caller, id: i64) -> Result<User, AppError> {
    let principal = caller.require()?;
    if id != principal.user_id {
        admin_only(caller)?;
    }
    match accounts::users::find_user(&state.db, id).await? {
        Some(u) if u.id == principal.user_id || accounts::manages(principal, &u) => Ok(u),
        _ => Err(AppError::NotFound(format!("no user {id}"))),
    }
}

/// One account (any user may read their own).
#[utoipa::path(
    get,
    path = "/users/{id}",
    tag = "users",
    params(UserPath),
    responses(
        (status = 200, description = "The account; `ETag` carries the version", body = UserView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account (or not one the caller manages)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<UserPath>,
) -> Result<Response, AppError> {
    let user = visible(&state, &caller, path.id).await?;
    Ok(with_etag(
        StatusCode::OK,
        user.version,
        Json(UserView::from(user)),
    ))
}

/// Changes an account: display name, role, regions, disabled, password. Admins only; needs
/// `If-Match`. An admin cannot disable or demote themselves.
#[utoipa::path(
    patch,
    path = "/users/{id}",
    tag = "users",
    params(UserPath, ("If-Match" = String, Header, description = "The ETag last seen")),
    request_body = PatchUser,
    responses(
        (status = 200, description = "Changed", body = UserView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The version moved on: the body is the current account", body = UserView),
        (status = 422, description = "The password is too easy to guess (field `password`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn patch_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<UserPath>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<PatchUser>,
) -> Result<Response, AppError> {
    let current = visible(&state, &caller, path.id).await?;
    let principal = admin_only(&caller)?;
    if !accounts::manages(principal, &current) {
        return Err(AppError::NotFound(format!("no user {}", path.id)));
    }
    let expected = required_if_match(&headers, "account", current.version)?;
    if expected != current.version {
        return Ok(with_etag(
            StatusCode::PRECONDITION_FAILED,
            current.version,
            Json(UserView::from(current)),
        ));
    }
    let by = Acting::Account {
        principal,
        actor: caller.actor(),
    };
    let command = ChangeAccount {
        account: current,
        version: Some(expected),
        display_name: patch.display_name,
        role: patch.role,
        regions: patch.regions,
        disabled: patch.disabled,
        password: patch.password,
    };
    match accounts::update_user(&state.db, command, &by, Utc::now()).await? {
        Update::Done(updated) => {
            let after = UserView::from(updated);
            Ok(with_etag(StatusCode::OK, after.version, Json(after)))
        }
        Update::Stale => {
            let fresh = visible(&state, &caller, path.id).await?;
            Ok(with_etag(
                StatusCode::PRECONDITION_FAILED,
                fresh.version,
                Json(UserView::from(fresh)),
            ))
        }
    }
}

/// What lifting a sign-in lock did.
#[derive(Serialize, ToSchema)]
pub struct UnlockView {
    pub user: UserView,
    /// The failed sign-ins forgotten (0: the account was not locked).
    pub cleared_failures: u64,
}

/// Lifts the sign-in lock on an account: after 5 failed sign-ins for a username within 15
/// minutes its owner is refused too, even with the right password; an admin who manages the
/// account may let them in at once. Audited. (Failures counted against a client address are
/// not lifted: they are not the account's.)
#[utoipa::path(
    post,
    path = "/users/{id}/unlock",
    tag = "users",
    params(UserPath),
    responses(
        (status = 200, description = "The lock is lifted (or there was none)", body = UnlockView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account (or not one the caller manages)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn unlock_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<UserPath>,
) -> Result<Json<UnlockView>, AppError> {
    let principal = admin_only(&caller)?;
    let by = Acting::Account {
        principal,
        actor: caller.actor(),
    };
    let (user, cleared_failures) =
        accounts::unlock(&state.db, UnlockAccount { id: path.id }, &by, Utc::now()).await?;
    Ok(Json(UnlockView {
        user: UserView::from(user),
        cleared_failures,
    }))
}
