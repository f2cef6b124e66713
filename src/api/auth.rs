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
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::UserView;
use crate::accounts::sessions::{self, SignIn, SignedIn};
use crate::api::extract::Json as JsonBody;
use crate::auth::secret;
use crate::config::HttpConfig;
use crate::domain::account::Principal;
use crate::domain::policy::{self, Action, Decision, Resource};
use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::store::accounts;
use crate::store::audit::Actor;

pub const SESSION_COOKIE: &str = "donornet_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub use crate::accounts::sessions::{SESSION_IDLE, SESSION_LIFETIME, THROTTLE_WINDOW};
/// `last_seen_at` / `last_used_at` are written at most this often per session or token.
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

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

/// How the caller signed in.
#[derive(Clone, Debug)]
pub enum Credential {
    Session {
        token_hash: String,
        csrf_token: String,
    },
    Token,
}

/// Who is calling: a signed-in principal, or nobody. Put in the request by [`authenticate`].
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub principal: Option<Principal>,
    pub credential: Option<Credential>,
    /// The client's address (see [`client_address`]), for throttling.
    pub address: String,
}

impl Caller {
    /// The signed-in principal, or 401.
    pub fn require(&self) -> Result<&Principal, AppError> {
        self.principal.as_ref().ok_or_else(unauthenticated)
    }

    /// Asks the policy; `what` names the resource in a 404 (`point 7`).
    pub fn authorize(
        &self,
        action: Action,
        resource: Resource<'_>,
        what: impl FnOnce() -> String,
    ) -> Result<(), AppError> {
        decide(policy::can(self.principal.as_ref(), action, resource), what)
    }

    /// Asks the policy for `action` on a record kept where `station` is (by the station's
    /// region, `fleet::station_region`); `what` names the record in a 404 or 403.
    pub fn authorize_at(
        &self,
        action: Action,
        station: &entity::station::Model,
        what: impl FnOnce() -> String,
    ) -> Result<(), AppError> {
        let code = crate::fleet::station_region(station);
        self.authorize(action, Resource::Registry(code.as_ref()), what)
    }

    /// Who the audit log names for this caller's changes.
    pub fn actor(&self) -> Actor {
        match &self.principal {
            Some(p) => Actor {
                name: Some(p.actor()),
                user_id: Some(p.user_id),
                token_id: p.token.as_ref().map(|t| t.0),
            },
            None => Actor::default(),
        }
    }

    /// The username for `created_by` / `updated_by`.
    pub fn username(&self) -> Option<String> {
        self.principal.as_ref().map(Principal::actor)
    }
}

/// A policy decision as an HTTP outcome: [`Decision::check`] (the rule, in the domain)
/// mapped by `From<Denied> for AppError` (`crate::error`).
pub fn decide(decision: Decision, what: impl FnOnce() -> String) -> Result<(), AppError> {
    decision.check(what).map_err(AppError::from)
}

fn unauthenticated() -> AppError {
    AppError::from(policy::Denied::Unauthenticated)
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default())
    }
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
    let headers = request.headers();
    let mut caller = if let Some(value) = headers.get(header::AUTHORIZATION) {
        bearer(&state, value, now).await?
    } else {
        let mut caller = Caller::default();
        for token in session_cookies(headers) {
            caller = session(&state, &token, now).await?;
            if caller.principal.is_some() {
                break;
            }
        }
        caller
    };
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

async fn bearer(
    state: &AppState,
    value: &HeaderValue,
    now: DateTime<Utc>,
) -> Result<Caller, AppError> {
    let invalid = || {
        AppError::Unauthorized(
            "the API token is not valid (unknown, revoked or expired)".to_owned(),
        )
    };
    let raw = value.to_str().map_err(|_| invalid())?;
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            AppError::Unauthorized("only `Authorization: Bearer dn_…` is understood".to_owned())
        })?;
    if !token.starts_with(secret::TOKEN_PREFIX) || token.len() > 200 {
        return Err(invalid());
    }
    let Some((stored, user)) =
        accounts::find_token_by_hash(&state.db, &secret::digest(token)).await?
    else {
        return Err(invalid());
    };
    if stored.revoked_at.is_some() || stored.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid());
    }
    if user.disabled {
        return Err(invalid());
    }
    if stored.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY) {
        accounts::touch_token(&state.db, stored.id, now).await?;
    }
    Ok(Caller {
        principal: Some(user.principal(Some((stored.id, stored.name)))),
        credential: Some(Credential::Token),
        address: String::new(),
    })
}

/// The session cookies sent (a browser may hold a stale one beside a fresh one; at most a
/// few are tried).
fn session_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(|c| c.name() == SESSION_COOKIE && !c.value().is_empty())
        .map(|c| c.value().to_owned())
        .take(3)
        .collect()
}

/// The caller of a session cookie; anonymous when the session is unknown or over (a browser
/// holding a stale cookie can still read public pages and sign in again).
async fn session(state: &AppState, token: &str, now: DateTime<Utc>) -> Result<Caller, AppError> {
    let hash = secret::digest(token);
    let Some((stored, user)) = accounts::find_session_with_user(&state.db, &hash).await? else {
        return Ok(Caller::default());
    };
    if stored.expires_at <= now || now - stored.last_seen_at >= SESSION_IDLE {
        accounts::delete_session(&state.db, &hash).await?;
        return Ok(Caller::default());
    }
    if user.disabled {
        return Ok(Caller::default());
    }
    if now - stored.last_seen_at >= TOUCH_EVERY {
        accounts::touch_session(&state.db, &hash, now).await?;
    }
    Ok(Caller {
        principal: Some(user.principal(None)),
        credential: Some(Credential::Session {
            token_hash: hash,
            csrf_token: stored.csrf_token,
        }),
        address: String::new(),
    })
}

/// True when users reach this server over HTTPS: it is told so (`--secure-cookies`), or a
/// trusted proxy says this request came over HTTPS (`X-Forwarded-Proto: https`).
fn over_https(headers: &HeaderMap, http: &HttpConfig) -> bool {
    http.secure_cookies
        || forwarded(headers, http, "x-forwarded-proto")
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// True when the request's `Origin` names this site: the scheme it is reached by (see
/// [`over_https`]) and the host the request was sent to. A page served over another scheme is
/// another origin (RFC 6454), whatever its host.
fn same_origin(headers: &HeaderMap, http: &HttpConfig) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = forwarded(headers, http, "x-forwarded-host")
        .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()));
    let Some(host) = host else {
        return false;
    };
    let Ok(origin) = url::Url::parse(origin) else {
        return false;
    };
    let scheme = if over_https(headers, http) {
        "https"
    } else {
        "http"
    };
    if origin.scheme() != scheme {
        return false;
    }
    let origin_host = match (origin.host_str(), origin.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => return false,
    };
    origin_host.eq_ignore_ascii_case(host)
}

/// A forwarded header's last value, when the configuration says to trust the proxy.
fn forwarded<'h>(headers: &'h HeaderMap, http: &HttpConfig, name: &str) -> Option<&'h str> {
    if !http.trust_forwarded {
        return None;
    }
    // The last value of the last header line: the one the trusted proxy appended, whether it
    // appends to the client's line or adds a line of its own.
    headers
        .get_all(name)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The client's address: the peer, or behind a trusted proxy the address it forwarded.
pub fn client_address(
    parts_headers: &HeaderMap,
    peer: Option<SocketAddr>,
    http: &HttpConfig,
) -> String {
    // Only a well-formed address is taken from the header (it is stored for throttling).
    forwarded(parts_headers, http, "x-forwarded-for")
        .and_then(|v| v.parse::<std::net::IpAddr>().ok())
        .or_else(|| peer.map(|p| p.ip()))
        // `::ffff:1.2.3.4` and `1.2.3.4` are one client.
        .map(|ip| ip.to_canonical().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
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
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::seconds(
            SESSION_LIFETIME.num_seconds(),
        ))
        .build();
    let mut response = Json(SessionView {
        user: UserView::from(user),
        via: "session".to_owned(),
        csrf_token: Some(csrf_token),
    })
    .into_response();
    set_cookie(&mut response, &cookie);
    Ok(response)
}

fn set_cookie(response: &mut Response, cookie: &Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
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
    let cookie = Cookie::build((SESSION_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    set_cookie(&mut response, &cookie);
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
