//! `/api/v1/users`: accounts, managed by admins (a region-bound admin manages only users bound
//! inside its regions). Accounts are disabled, never deleted, so that the audit log keeps
//! naming who did what.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, page_limit, required_if_match, with_etag,
};
use crate::auth::secret;
use crate::domain::account::{Principal, Role, Scope};
use crate::domain::policy::{self, Action, Decision, Resource, can};
use crate::domain::region::RegionCode;
use crate::domain::text;
use crate::error::{AppError, FieldError, Problem};
use crate::state::AppState;
use crate::store::accounts::{self, NewUser, User, UserChanges};
use crate::store::audit::{self, Actor, Change};
use crate::store::regions;

const DEFAULT_LIMIT: u64 = 50;
/// The most regions one account may be bound to.
const MAX_REGIONS: usize = 100;
const MAX_LIMIT: u64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, patch_user))
        .routes(routes!(unlock_user))
}

/// An account as the API shows it (never with its password or hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The regions (subtrees) the account is bound to; empty for an unbound admin.
    pub regions: Vec<String>,
    pub disabled: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            regions: u.scopes.into_iter().map(|s| s.code.to_string()).collect(),
            disabled: u.disabled,
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login_at: u.last_login_at,
        }
    }
}

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

/// A username as stored, or why it is refused.
pub fn valid_username(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_lowercase();
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    let ok_start = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if (3..=32).contains(&name.len()) && ok_chars && ok_start {
        Ok(name)
    } else {
        Err(
            "must be 3 to 32 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
                .to_owned(),
        )
    }
}

/// Region codes checked against the database, with their levels; errors name `regions[i]`.
pub async fn scopes_from(
    db: &impl sea_orm::ConnectionTrait,
    raw: &[String],
    role: Role,
) -> Result<(Vec<RegionCode>, Vec<Scope>), AppError> {
    if raw.len() > MAX_REGIONS {
        return Err(AppError::invalid(
            "regions",
            format!("at most {MAX_REGIONS} regions"),
        ));
    }
    let mut errors = Vec::new();
    let mut codes: Vec<RegionCode> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        match RegionCode::parse(r.trim()) {
            Ok(code) if !codes.contains(&code) => codes.push(code),
            Ok(_) => errors.push(FieldError::new(format!("regions[{i}]"), "is listed twice")),
            Err(e) => errors.push(FieldError::new(format!("regions[{i}]"), e.to_string())),
        }
    }
    if codes.is_empty() && errors.is_empty() && role != Role::Admin {
        errors.push(FieldError::new(
            "regions",
            format!("a {role} must be bound to at least one region"),
        ));
    }
    let levels = regions::levels_of(db, &codes.iter().collect::<Vec<_>>()).await?;
    let mut scopes = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        match levels.iter().find(|(c, _)| c == code) {
            Some((_, level)) => scopes.push(Scope::new(code.clone(), *level)),
            None => errors.push(FieldError::new(
                format!("regions[{i}]"),
                format!("no region {code}"),
            )),
        }
    }
    if errors.is_empty() {
        Ok((codes, scopes))
    } else {
        Err(AppError::Validation {
            detail: "invalid regions".to_owned(),
            errors,
        })
    }
}

fn display_name(raw: &str) -> Result<String, AppError> {
    text::clean(Some(raw.to_owned()), 100, false)
        .map_err(|m| AppError::invalid("display_name", m))?
        .ok_or_else(|| AppError::invalid("display_name", "must not be empty"))
}

/// The hash of a new password for `username`: 400 for a length out of bounds, 422 for a
/// password too easy to guess.
async fn hash(password: String, username: &str) -> Result<String, AppError> {
    if let Some(problem) = secret::password_problem(&password) {
        return Err(AppError::invalid("password", problem));
    }
    if let Some(problem) = secret::guessable(&password, username) {
        return Err(AppError::WeakPassword(problem.to_owned()));
    }
    tokio::task::spawn_blocking(move || secret::hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing: {e}")))?
        .map_err(AppError::Internal)
}

fn audit_change<'a>(
    caller: &Caller,
    user: &User,
    action: &'a str,
    before: Option<&'a UserView>,
    after: Option<&'a UserView>,
    at: DateTime<Utc>,
) -> Change<'a, UserView> {
    Change {
        entity: "user",
        entity_id: user.id.to_string(),
        action,
        region_code: user.scopes.first().map(|s| s.code.to_string()),
        before,
        after,
        actor: caller.actor(),
        at,
    }
}

fn taken(err: sea_orm::DbErr) -> AppError {
    if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
        AppError::Taken {
            field: "username".to_owned(),
            detail: "that username is taken".to_owned(),
        }
    } else {
        err.into()
    }
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
    admin_only(&caller)?;
    let username = valid_username(&body.username).map_err(|m| AppError::invalid("username", m))?;
    let name = display_name(&body.display_name)?;
    let (codes, scopes) = scopes_from(&state.db, &body.regions, body.role).await?;
    let account = Resource::User {
        role: body.role,
        scopes: &scopes,
    };
    if can(caller.principal.as_ref(), Action::Create, account) != Decision::Allow {
        return Err(AppError::Forbidden(
            "you may only create accounts that read nothing beyond your own regions (a \
             township official reads its whole county)"
                .to_owned(),
        ));
    }
    let password_hash = hash(body.password, &username).await?;
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let user = accounts::insert_user(
        &txn,
        NewUser {
            username,
            display_name: name,
            role: body.role,
            password_hash,
            scopes: codes,
        },
        now,
    )
    .await
    .map_err(taken)?;
    let view = UserView::from(user.clone());
    audit::record(
        &txn,
        audit_change(&caller, &user, "create", None, Some(&view), now),
    )
    .await?;
    txn.commit().await?;
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
        let batch = accounts::list_users(&state.db, after, 500).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.id);
        for user in batch {
            if !manages(principal, &user) {
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

/// May `principal` manage `user` (everything `user` reads is within its own reach)?
pub fn manages(principal: &Principal, user: &User) -> bool {
    let account = Resource::User {
        role: user.role,
        scopes: &user.scopes,
    };
    can(Some(principal), Action::Update, account) == Decision::Allow
}

/// Loads an account the caller may see: themselves, or one they manage. Whether another
/// account exists is not told to those who manage none (403 either way).
async fn visible(state: &AppState, caller: &Caller, id: i64) -> Result<User, AppError> {
    let principal = caller.require()?;
    if id != principal.user_id {
        admin_only(caller)?;
    }
    match accounts::find_user(&state.db, id).await? {
        Some(u) if u.id == principal.user_id || manages(principal, &u) => Ok(u),
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
    if !manages(principal, &current) {
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
    let myself = current.id == principal.user_id;
    if myself && patch.disabled == Some(true) {
        return Err(AppError::invalid(
            "disabled",
            "you cannot disable your own account",
        ));
    }
    if myself && patch.role.is_some_and(|r| r != Role::Admin) {
        return Err(AppError::invalid(
            "role",
            "you cannot take the admin role from yourself",
        ));
    }
    let role = patch.role.unwrap_or(current.role);
    let mut changes = UserChanges {
        display_name: patch
            .display_name
            .as_deref()
            .map(display_name)
            .transpose()?,
        role: patch.role,
        disabled: patch.disabled,
        ..UserChanges::default()
    };
    let scopes = if let Some(raw) = &patch.regions {
        let (codes, scopes) = scopes_from(&state.db, raw, role).await?;
        let sorted = |v: &[Scope]| {
            let mut codes: Vec<String> = v.iter().map(|s| s.code.to_string()).collect();
            codes.sort();
            codes
        };
        if myself && sorted(&scopes) != sorted(&current.scopes) {
            return Err(AppError::invalid(
                "regions",
                "you cannot change your own regions",
            ));
        }
        changes.scopes = Some(codes);
        scopes
    } else if role != Role::Admin && current.scopes.is_empty() {
        return Err(AppError::invalid(
            "regions",
            format!("a {role} must be bound to at least one region"),
        ));
    } else {
        current.scopes.clone()
    };
    // What the account becomes must stay within the admin's reach too (a viewer made a
    // township official would read its whole county).
    let becomes = Resource::User {
        role,
        scopes: &scopes,
    };
    if can(Some(principal), Action::Update, becomes) != Decision::Allow {
        return Err(AppError::Forbidden(
            "you may only make accounts that read nothing beyond your own regions (a township \
             official reads its whole county)"
                .to_owned(),
        ));
    }
    if let Some(password) = patch.password {
        changes.password_hash = Some(hash(password, &current.username).await?);
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let Some(updated) =
        accounts::update_user(&txn, current.id, Some(expected), changes, now).await?
    else {
        txn.rollback().await?;
        let fresh = visible(&state, &caller, path.id).await?;
        return Ok(with_etag(
            StatusCode::PRECONDITION_FAILED,
            fresh.version,
            Json(UserView::from(fresh)),
        ));
    };
    let before = UserView::from(current);
    let after = UserView::from(updated.clone());
    audit::record(
        &txn,
        audit_change(
            &caller,
            &updated,
            "update",
            Some(&before),
            Some(&after),
            now,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(with_etag(StatusCode::OK, after.version, Json(after)))
}

/// What lifting a sign-in lock did.
#[derive(Serialize, ToSchema)]
pub struct UnlockView {
    pub user: UserView,
    /// The failed sign-ins forgotten (0: the account was not locked).
    pub cleared_failures: u64,
}

/// Lifts the lock that failed sign-ins put on `user`'s username (see the login throttle), in
/// one transaction with its audit record (action `unlock`). The lock on a client address is
/// not the account's and stays. Shared by the API and `donornet user unlock`.
///
/// # Errors
/// Database errors.
pub async fn unlock(
    db: &sea_orm::DatabaseConnection,
    user: &User,
    actor: Actor,
    at: DateTime<Utc>,
) -> Result<u64, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let cleared = accounts::clear_failures(&txn, &user.username).await?;
    let view = UserView::from(user.clone());
    audit::record(
        &txn,
        Change {
            entity: "user",
            entity_id: user.id.to_string(),
            action: "unlock",
            region_code: user.scopes.first().map(|s| s.code.to_string()),
            before: None,
            after: Some(&view),
            actor,
            at,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(cleared)
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
    let user = match accounts::find_user(&state.db, path.id).await? {
        Some(u) if u.id == principal.user_id || manages(principal, &u) => u,
        _ => return Err(AppError::NotFound(format!("no user {}", path.id))),
    };
    let cleared_failures = unlock(&state.db, &user, caller.actor(), Utc::now()).await?;
    Ok(Json(UnlockView {
        user: UserView::from(user),
        cleared_failures,
    }))
}
