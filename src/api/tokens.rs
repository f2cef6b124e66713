//! `/api/v1/tokens`: named API tokens for scripts. The secret is shown once, at creation; only
//! its SHA-256 is stored. Everyone manages their own tokens; admins also those of the accounts
//! they manage.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::{self, Acting, IssueToken, RevokeToken};
use crate::api::auth::{Caller, Credential};
use crate::api::extract::{Json as JsonBody, Path};
use crate::error::{AppError, Problem};
use crate::state::AppState;

pub use crate::accounts::TokenView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
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
    let command = IssueToken {
        owner: principal.user_id,
        name: body.name,
        expires_in_days: body.expires_in_days,
    };
    let (token, secret) =
        accounts::issue_token(&state.db, command, caller.actor(), Utc::now()).await?;
    let response = CreatedToken { token, secret };
    Ok((StatusCode::CREATED, Json(response)).into_response())
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
    Ok(Json(accounts::list_tokens(&state.db, principal).await?))
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
    let by = Acting::Account {
        principal,
        actor: caller.actor(),
    };
    accounts::revoke_token(&state.db, RevokeToken { id: path.id }, &by, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
