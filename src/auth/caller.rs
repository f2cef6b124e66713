//! Who is calling, for the API and the pages alike: a bearer token (scripts) or the session
//! cookie (browsers), read by [`identify`]; the [`Caller`] every handler receives; the
//! session cookie itself; the client's address and the same-origin test behind the CSRF rule.
//! What a caller may do is [`crate::domain::policy`]'s business.

use std::net::SocketAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Utc};
use cookie::{Cookie, SameSite};
use sea_orm::DatabaseConnection;

use crate::auth::secret;
use crate::config::HttpConfig;
use crate::domain::account::Principal;
use crate::domain::policy::{self, Action, Decision, Resource};
use crate::error::AppError;
use crate::store::accounts;
use crate::store::audit::Actor;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "donornet_session";
pub use crate::accounts::sessions::{SESSION_IDLE, SESSION_LIFETIME};
/// `last_seen_at` / `last_used_at` are written at most this often per session or token.
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// How the caller signed in.
#[derive(Clone, Debug)]
pub enum Credential {
    Session {
        token_hash: String,
        csrf_token: String,
    },
    Token,
}

/// Who is calling: a signed-in principal, or nobody. Put in the request by the API's and the pages' middleware
/// ([`identify`]).
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

pub fn unauthenticated() -> AppError {
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

/// The caller of a request: its bearer token when it sends one (401 when that token is not
/// valid), else the first live session among its session cookies, else anonymous. The
/// address is left empty (see [`client_address`]).
///
/// # Errors
/// An invalid bearer token (401), or the database fails.
pub async fn identify(
    db: &DatabaseConnection,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<Caller, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        return bearer(db, value, now).await;
    }
    let mut caller = Caller::default();
    for token in session_cookies(headers) {
        caller = session(db, &token, now).await?;
        if caller.principal.is_some() {
            break;
        }
    }
    Ok(caller)
}

/// The session cookie holding `token`: HttpOnly, SameSite=Strict, `Secure` when `secure`.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::seconds(
            SESSION_LIFETIME.num_seconds(),
        ))
        .build()
}

/// The cookie that clears the session cookie.
pub fn cleared_session_cookie() -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
}

/// `Set-Cookie: cookie` appended to `headers`.
pub fn set_cookie(headers: &mut HeaderMap, cookie: &Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        headers.append(header::SET_COOKIE, value);
    }
}

async fn bearer(
    db: &DatabaseConnection,
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
    let Some((stored, user)) = accounts::find_token_by_hash(db, &secret::digest(token)).await?
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
        accounts::touch_token(db, stored.id, now).await?;
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
async fn session(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Caller, AppError> {
    let hash = secret::digest(token);
    let Some((stored, user)) = accounts::find_session_with_user(db, &hash).await? else {
        return Ok(Caller::default());
    };
    if stored.expires_at <= now || now - stored.last_seen_at >= SESSION_IDLE {
        accounts::delete_session(db, &hash).await?;
        return Ok(Caller::default());
    }
    if user.disabled {
        return Ok(Caller::default());
    }
    if now - stored.last_seen_at >= TOUCH_EVERY {
        accounts::touch_session(db, &hash, now).await?;
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
pub fn over_https(headers: &HeaderMap, http: &HttpConfig) -> bool {
    http.secure_cookies
        || forwarded(headers, http, "x-forwarded-proto")
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// This site's origin as the request reached it (`https://donors.example.cn`): the scheme of
/// [`over_https`] and the `Host` (or, behind a trusted proxy, `X-Forwarded-Host`), for links
/// in files people keep (calendars). `http://localhost` when the request names no host.
pub fn site_origin(headers: &HeaderMap, http: &HttpConfig) -> String {
    let host = forwarded(headers, http, "x-forwarded-host")
        .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = if over_https(headers, http) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// True when the request's `Origin` names this site: the scheme it is reached by (see
/// [`over_https`]) and the host the request was sent to. A page served over another scheme is
/// another origin (RFC 6454), whatever its host.
pub fn same_origin(headers: &HeaderMap, http: &HttpConfig) -> bool {
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
