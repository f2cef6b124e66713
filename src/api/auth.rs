//! Signing in: browser sessions (`/api/v1/auth/*`), bearer tokens, the CSRF rule, and the
//! [`Caller`] every handler receives. What a caller may do is [`crate::domain::policy`]'s
//! business; this module only establishes who is calling.
//!
//! - `Authorization: Bearer dn_…` (scripts): the token must exist, be neither revoked nor
//!   expired, and belong to an enabled user; otherwise 401.
//! - The `donornet_session` cookie (browsers): HttpOnly, SameSite=Strict, `Secure` when
//!   configured; sessions end after 8 hours idle or 7 days in all. A state-changing request
//!   with the cookie must also carry an `Origin` that matches the scheme and host it was sent
//!   to, or the session's CSRF token in `X-CSRF-Token`; otherwise 403.
//! - Neither: anonymous. Anonymous writes are refused with 401 before any handler runs.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::UserView;
use crate::accounts::sessions::{self, SignIn, SignedIn};
use crate::api::extract::Json as JsonBody;
use crate::auth::secret;
use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::store::accounts;

pub const CSRF_HEADER: &str = "x-csrf-token";
pub use crate::accounts::sessions::{SESSION_IDLE, SESSION_LIFETIME, THROTTLE_WINDOW};
pub use crate::auth::caller::{
    Caller, Credential, SESSION_COOKIE, client_address, decide, over_https, same_origin,
};
use crate::auth::caller::{
    cleared_session_cookie, identify, session_cookie, set_cookie, unauthenticated,
};

/// Writes that need no credentials.
const ANONYMOUS_WRITES: &[&str] = &["/api/v1/auth/login", "/api/v1/auth/logout"];
/// Everything under it is for anyone (the public schedule and booking).
const PUBLIC_PREFIX: &str = "/api/v1/public/";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// Middleware: establishes the [`Caller`] of every request (see the module documentation).
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    // Health, the OpenAPI document and the docs are public and must answer even when the
    // database (which holds the credentials) does not.
    if !request.uri().path().starts_with("/api/") {
        return Ok(next.run(request).await);
    }
    let now = Utc::now();
    let mut caller = identify(&state.db, request.headers(), now).await?;
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    caller.address = client_address(request.headers(), peer, &state.http);
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if unsafe_method {
        match &caller.credential {
            None if !ANONYMOUS_WRITES.contains(&request.uri().path())
                && !request.uri().path().starts_with(PUBLIC_PREFIX)
                && is_operation(request.method(), request.extensions().get::<MatchedPath>()) =>
            {
                return Err(unauthenticated());
            }
            Some(Credential::Session { csrf_token, .. })
                if !same_origin(request.headers(), &state.http)
                    && !request
                        .headers()
                        .get(CSRF_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|sent| secret::same_secret(sent, csrf_token)) =>
            {
                return Err(AppError::Forbidden(
                    "a change made with a session cookie needs an Origin header matching this \
                     site, or the session's CSRF token in X-CSRF-Token"
                        .to_owned(),
                ));
            }
            _ => {}
        }
    }
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// True when the API has this method on this route (else the router answers 405, which says
/// more than a 401 would).
fn is_operation(method: &Method, route: Option<&MatchedPath>) -> bool {
    static OPERATIONS: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    let operations = OPERATIONS.get_or_init(|| {
        let doc = crate::api::openapi();
        let mut out = std::collections::HashSet::new();
        for (path, item) in &doc.paths.paths {
            for (name, present) in [
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ] {
                if present {
                    out.insert(format!("{name} {path}"));
                }
            }
        }
        out
    });
    route.is_none_or(|r| operations.contains(&format!("{method} {}", r.as_str())))
}

/// The body of `POST /api/v1/auth/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "wang.fang")]
    pub username: String,
    #[schema(format = Password)]
    pub password: String,
}

/// A signed-in session.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub user: UserView,
    /// How this caller signed in: `session` or `token`.
    pub via: String,
    /// For sessions: send it in `X-CSRF-Token` with changes from pages that cannot send a
    /// matching `Origin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

/// Signs in with a username and password, and sets the session cookie.
///
/// After 5 failed attempts for a username, or 20 from one address, within 15 minutes, the
/// answer is 429 with `Retry-After`. No answer tells whether the username exists.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; `Set-Cookie` carries the session", body = SessionView),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn login(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Response, AppError> {
    let replaces = match &caller.credential {
        Some(Credential::Session { token_hash, .. }) => Some(token_hash.clone()),
        _ => None,
    };
    let command = SignIn {
        username: body.username,
        password: body.password,
        address: caller.address,
        replaces,
    };
    let SignedIn {
        user,
        token,
        csrf_token,
    } = sessions::sign_in(&state.db, command, Utc::now()).await?;
    let secure = over_https(&headers, &state.http);
    let cookie = session_cookie(token, secure);
    let mut response = Json(SessionView {
        user: UserView::from(user),
        via: "session".to_owned(),
        csrf_token: Some(csrf_token),
    })
    .into_response();
    set_cookie(response.headers_mut(), &cookie);
    Ok(response)
}

/// Ends the session (and clears its cookie). Without a session it does nothing.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    responses((status = 204, description = "Signed out"))
)]
async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    if let Some(Credential::Session { token_hash, .. }) = &caller.credential {
        sessions::sign_out(&state.db, token_hash).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let cookie = cleared_session_cookie();
    set_cookie(response.headers_mut(), &cookie);
    Ok(response)
}

/// The signed-in caller.
#[utoipa::path(
    get,
    path = "/auth/me",
    tag = "auth",
    responses(
        (status = 200, description = "Who is signed in", body = SessionView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<SessionView>, AppError> {
    let principal = caller.require()?;
    let user = accounts::find_user(&state.db, principal.user_id)
        .await?
        .ok_or_else(unauthenticated)?;
    let (via, csrf_token) = match &caller.credential {
        Some(Credential::Session { csrf_token, .. }) => ("session", Some(csrf_token.clone())),
        _ => ("token", None),
    };
    Ok(Json(SessionView {
        user: UserView::from(user),
        via: via.to_owned(),
        csrf_token,
    }))
}
