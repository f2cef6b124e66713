//! Who is reading a page and in which language ([`Page`]), established once per request by
//! [`page_context`], which also applies the pages' CSRF rule, renders refusals as pages
//! (`errors`), and sets the security headers (a strict Content-Security-Policy: scripts,
//! styles and everything else from this site only, map tiles aside).

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use cookie::Cookie;

use super::errors::PageError;
use super::templates::ErrorPage;
use crate::auth::caller::same_origin;
use crate::auth::{Caller, Credential, client_address, identify};
use crate::config::HttpConfig;
use crate::domain::account::Role;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::state::AppState;

/// The cookie that remembers the language chosen with the switch.
pub const LANG_COOKIE: &str = "donornet_lang";

/// The reader of a page: their language, who they are signed in as (if anyone), and where
/// they are (to come back after signing in or switching language).
#[derive(Clone, Debug)]
pub struct Page {
    pub lang: Lang,
    pub caller: Caller,
    /// The path and query of this request.
    pub path: String,
    /// The request came from htmx (a partial answer will do).
    pub htmx: bool,
}

impl Page {
    /// The message `id` in the reader's language.
    pub fn t(&self, id: &str) -> String {
        self.lang.t(id)
    }

    /// The message `id` with one argument.
    pub fn t1<'a>(
        &self,
        id: &str,
        name: &'a str,
        value: impl Into<fluent_bundle::FluentValue<'a>>,
    ) -> String {
        self.lang.t1(id, name, value)
    }

    pub fn signed_in(&self) -> bool {
        self.caller.principal.is_some()
    }

    /// The signed-in username (empty for nobody).
    pub fn username(&self) -> String {
        self.caller.username().unwrap_or_default()
    }

    pub fn is_admin(&self) -> bool {
        self.caller
            .principal
            .as_ref()
            .is_some_and(|p| p.role == Role::Admin)
    }

    /// Station staff (and admins): the station's pages are their home; they plan and run
    /// drives. Others signed in may read those pages as far as their regions reach.
    pub fn is_staff(&self) -> bool {
        self.caller
            .principal
            .as_ref()
            .is_some_and(|p| matches!(p.role, Role::Admin | Role::StationStaff))
    }

    /// The session's CSRF token, for scripts that send changes (`X-CSRF-Token`).
    pub fn csrf(&self) -> String {
        match &self.caller.credential {
            Some(Credential::Session { csrf_token, .. }) => csrf_token.clone(),
            _ => String::new(),
        }
    }

    /// The address of an embedded asset (with its content hash, so it may be cached for ever).
    pub fn asset(&self, name: &str) -> String {
        super::assets::url(name)
    }

    /// The language the switch offers.
    pub fn other_lang(&self) -> Lang {
        match self.lang {
            Lang::ZhCn => Lang::English,
            Lang::English => Lang::ZhCn,
        }
    }

    /// The switch's link: the other language, then back here.
    pub fn switch_url(&self) -> String {
        format!(
            "/lang?to={}&next={}",
            self.other_lang().tag(),
            url::form_urlencoded::byte_serialize(self.path.as_bytes()).collect::<String>()
        )
    }

    /// A page for no one in particular (before the reader is known).
    fn anonymous(lang: Lang, path: String) -> Page {
        Page {
            lang,
            caller: Caller::default(),
            path,
            htmx: false,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Page>()
            .cloned()
            .ok_or(PageError::Status(StatusCode::INTERNAL_SERVER_ERROR))
    }
}

/// The reader's language: the switch's cookie, else `Accept-Language`, else Chinese.
pub fn chosen_lang(headers: &HeaderMap) -> Lang {
    let from_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == LANG_COOKIE)
        .and_then(|c| Lang::from_tag(c.value()));
    from_cookie.unwrap_or_else(|| {
        Lang::negotiate(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )
    })
}

/// Middleware of every page: the reader ([`Page`]), the CSRF rule, error pages, headers.
///
/// The CSRF rule: a change (any method but GET/HEAD/OPTIONS) that names an `Origin` must name
/// this site; a change made with a session must name this site or carry the session's token
/// in `X-CSRF-Token`. (Browsers send `Origin` with every form post; the session cookie is
/// also `SameSite=Strict`.)
pub async fn page_context(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let lang = chosen_lang(headers);
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let mut caller = match identify(&state.db, headers, Utc::now()).await {
        Ok(caller) => caller,
        // A page is no place for API tokens: a bad one reads as nobody.
        Err(AppError::Unauthorized(_)) => Caller::default(),
        Err(e) => {
            let page = Page::anonymous(lang, path);
            return finish(render_error(&page, e.into()), &state.http);
        }
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    caller.address = client_address(headers, peer, &state.http);
    let page = Page {
        lang,
        htmx: headers.contains_key("hx-request"),
        caller,
        path,
    };
    if !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) && !change_allowed(request.headers(), &page, &state.http)
    {
        return finish(
            render_error(&page, PageError::Status(StatusCode::FORBIDDEN)),
            &state.http,
        );
    }
    request.extensions_mut().insert(page.clone());
    let mut response = next.run(request).await;
    if let Some(err) = response.extensions_mut().remove::<PageError>() {
        response = render_error(&page, err);
    }
    finish(response, &state.http)
}

fn change_allowed(headers: &HeaderMap, page: &Page, http: &HttpConfig) -> bool {
    let names_origin = headers.contains_key(header::ORIGIN);
    if names_origin {
        return same_origin(headers, http);
    }
    match &page.caller.credential {
        Some(Credential::Session { csrf_token, .. }) => headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|sent| crate::auth::secret::same_secret(sent, csrf_token)),
        _ => true,
    }
}

/// An error as a page (or, for "sign in first", the way to the sign-in page).
pub fn render_error(page: &Page, err: PageError) -> Response {
    let status = err.http_status();
    let (code, message) = match err {
        PageError::SignIn => {
            let next =
                url::form_urlencoded::byte_serialize(page.path.as_bytes()).collect::<String>();
            return Redirect::to(&format!("/login?next={next}")).into_response();
        }
        PageError::Status(s) => (s, page.t(&format!("error-{}", s.as_u16()))),
        PageError::Said(s, text) => (s, text),
    };
    let title = page.t(&format!("error-{}-title", code.as_u16()));
    let body = ErrorPage {
        page,
        title: &title,
        message: &message,
    };
    (status, super::templates::html(&body)).into_response()
}

/// The headers every page carries.
pub(super) fn finish(mut response: Response, http: &HttpConfig) -> Response {
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(http)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Booking links carry their token: no page tells another site where it came from. Not
    // `no-referrer`: under it browsers send `Origin: null` with a form post, and the CSRF rule
    // then refuses every form (found by the browser tests); `same-origin` keeps the Origin
    // for this site and tells other sites nothing.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Cookie, Accept-Language"),
    );
    response
}

/// Everything from this site only; images may also come from the configured map tiles.
pub fn content_security_policy(http: &HttpConfig) -> String {
    let tiles = http.tiles.image_sources().join(" ");
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: {tiles}; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'; worker-src 'self'; manifest-src 'self'"
    )
}
