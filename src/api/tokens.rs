//! `/api/v1/tokens`: named API tokens for scripts. The secret is shown once, at creation; only
//! its SHA-256 is stored. Everyone manages their own tokens; admins also those of the accounts
//! they manage.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use entity::api_token;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::{Caller, Credential};
use crate::api::extract::{Json as JsonBody, Path};
use crate::auth::secret;
use crate::domain::account::Principal;
use crate::domain::text;
use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::store::accounts::{self, User};
use crate::store::audit::{self, Actor, Change};

/// The longest a token may be made to last.
pub const MAX_EXPIRY_DAYS: u32 = 3650;
/// The longest token name (it goes into the audit log's actor, `user (token: name)`).
pub const MAX_NAME_CHARS: usize = 50;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// A token as listed (without its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// The account the token acts as.
    pub username: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// To the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new token, with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: TokenView,
    /// Send as `Authorization: Bearer <token>`. It cannot be shown again.
    #[schema(example = "dn_3f1c…")]
    pub secret: String,
}

/// The body of `POST /api/v1/tokens`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for; unique among the account's live tokens.
    #[schema(example = "nightly survey sync")]
    pub name: String,
    /// Days until it stops working (1 to 3650); never when absent.
    pub expires_in_days: Option<u32>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    pub id: i64,
}

fn view(model: api_token::Model, username: String) -> TokenView {
    TokenView {
        id: model.id,
        name: model.name,
        username,
        created_at: model.created_at,
        expires_at: model.expires_at,
        last_used_at: model.last_used_at,
        revoked_at: model.revoked_at,
    }
}

/// May `principal` see and revoke `owner`'s tokens (their own, or an account they manage)?
fn manages(principal: &Principal, owner: &User) -> bool {
    owner.id == principal.user_id || crate::api::users::manages(principal, owner)
}

/// Creates a token for the signed-in account; the answer holds its secret, which is not stored
/// and cannot be shown again. Only a browser session (someone who knows the password) can do
/// this, so that a leaked token cannot mint others that outlive its revocation; `donornet
/// token create` on the server makes tokens for any account.
#[utoipa::path(
    post,
    path = "/tokens",
    tag = "tokens",
    request_body = CreateToken,
    responses(
        (status = 201, description = "Created; `secret` is shown only now", body = CreatedToken),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Called with an API token: tokens are made from a session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account already has a live token of that name", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateToken>,
) -> Result<Response, AppError> {
    let principal = caller.require()?;
    if !matches!(caller.credential, Some(Credential::Session { .. })) {
        return Err(AppError::Forbidden(
            "API tokens are created from a signed-in session (or with `donornet token create`), \
             not with another token"
                .to_owned(),
        ));
    }
    let name = token_name(body.name).map_err(|m| AppError::invalid("name", m))?;
    if let Some(days) = body.expires_in_days
        && !(1..=MAX_EXPIRY_DAYS).contains(&days)
    {
        return Err(AppError::invalid(
            "expires_in_days",
            format!("must be between 1 and {MAX_EXPIRY_DAYS}"),
        ));
    }
    let owner = accounts::find_user(&state.db, principal.user_id)
        .await?
        .ok_or_else(|| AppError::Unauthorized("the account is gone".to_owned()))?;
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let (created, secret) = issue(
        &txn,
        &owner,
        name,
        body.expires_in_days,
        caller.actor(),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(
        token_id = created.id,
        user_id = owner.id,
        "API token created"
    );
    let response = CreatedToken {
        token: view(created, owner.username),
        secret,
    };
    Ok((StatusCode::CREATED, Json(response)).into_response())
}

/// Creates a token for `owner`; returns it and its secret. Shared with the command line.
///
/// # Errors
/// 409 naming `name` when the owner has a live token of that name.
pub async fn issue(
    db: &impl sea_orm::ConnectionTrait,
    owner: &User,
    name: String,
    expires_in_days: Option<u32>,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(api_token::Model, String), AppError> {
    let secret = secret::new_api_token()?;
    let expires_at = expires_in_days.map(|d| now + TimeDelta::days(i64::from(d)));
    let created =
        accounts::insert_token(db, owner.id, name, secret::digest(&secret), now, expires_at)
            .await
            .map_err(|e| match e.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::Taken {
                    field: "name".to_owned(),
                    detail: "this account already has a live token of that name".to_owned(),
                },
                _ => e.into(),
            })?;
    let after = view(created.clone(), owner.username.clone());
    audit::record(
        db,
        token_change(owner, &created, "create", None, Some(&after), actor, now),
    )
    .await?;
    Ok((created, secret))
}

/// A token name, cleaned, or why it is refused.
pub fn token_name(raw: String) -> Result<String, String> {
    text::clean(Some(raw), MAX_NAME_CHARS, false)?.ok_or_else(|| "must not be empty".to_owned())
}

/// The audit record of a token's creation or revocation, filed under its owner's first region
/// (account records are shown to admins only).
fn token_change<'a>(
    owner: &User,
    token: &api_token::Model,
    action: &'a str,
    before: Option<&'a TokenView>,
    after: Option<&'a TokenView>,
    actor: Actor,
    at: DateTime<Utc>,
) -> Change<'a, TokenView> {
    Change {
        entity: "token",
        entity_id: token.id.to_string(),
        action,
        region_code: owner.scopes.first().map(|s| s.code.to_string()),
        before,
        after,
        actor,
        at,
    }
}

/// Lists the caller's tokens and, for admins, those of the accounts they manage; newest first,
/// revoked ones included.
#[utoipa::path(
    get,
    path = "/tokens",
    tag = "tokens",
    responses(
        (status = 200, description = "Tokens, without their secrets", body = Vec<TokenView>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenView>>, AppError> {
    let principal = caller.require()?;
    let everyone = principal.role == crate::domain::account::Role::Admin;
    let tokens = accounts::list_tokens(&state.db, (!everyone).then_some(principal.user_id)).await?;
    let mut owners: std::collections::HashMap<i64, Option<User>> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for token in tokens {
        if let std::collections::hash_map::Entry::Vacant(slot) = owners.entry(token.user_id) {
            let owner = accounts::find_user(&state.db, token.user_id).await?;
            slot.insert(owner.filter(|o| manages(principal, o)));
        }
        if let Some(Some(owner)) = owners.get(&token.user_id) {
            let username = owner.username.clone();
            out.push(view(token, username));
        }
    }
    Ok(Json(out))
}

/// Revokes a token: it stops working at once. Revoking a revoked token changes nothing.
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    tag = "tokens",
    params(TokenPath),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token (or not the caller's to manage)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<TokenPath>,
) -> Result<StatusCode, AppError> {
    let principal = caller.require()?;
    let not_found = || AppError::NotFound(format!("no token {}", path.id));
    let token = accounts::find_token(&state.db, path.id)
        .await?
        .ok_or_else(not_found)?;
    let owner = accounts::find_user(&state.db, token.user_id)
        .await?
        .ok_or_else(not_found)?;
    if !manages(principal, &owner) {
        return Err(not_found());
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    if accounts::revoke_token(&txn, token.id, now).await? {
        let before = view(token.clone(), owner.username.clone());
        let mut revoked = token.clone();
        revoked.revoked_at = Some(now);
        let after = view(revoked, owner.username.clone());
        let change = token_change(
            &owner,
            &token,
            "revoke",
            Some(&before),
            Some(&after),
            caller.actor(),
            now,
        );
        audit::record(&txn, change).await?;
        tracing::info!(token_id = token.id, "API token revoked");
    }
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
