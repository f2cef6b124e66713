//! The web app: pages for people, served by the same binary as the API. Server-rendered HTML
//! from askama templates (`src/web/templates/`, checked at compile time), enhanced with htmx
//! where it helps; every form also works as a plain form post. Pages are thin like the API's
//! handlers: read the request, call one service function, render. Every word comes from the
//! catalogue (`crate::i18n`) in the reader's language: Chinese unless they switch or their
//! browser asks for English.
//!
//! - `context`: the reader ([`Page`]), the CSRF rule, error pages, security headers;
//! - `errors`: refusals and faults as pages; `forms`: a posted form's fields;
//! - `templates`: one template per page; `assets`: the stylesheet and scripts, embedded;
//! - `public`: the public schedule and booking (no account); `account`: signing in and out;
//! - `offline`: the service worker, the manifest and the page of what waits on the phone.
//! - `surveys`: the township official's village surveys (the entry flow, the survey sheet).
//! - `official`: the township official's pages (my township, points and their map, a point's
//!   page); `admin`: creating an official's account.
//! - `hosts`: host organisations and publicity talks (issue 16), for officials and staff.
//! - `station`: the blood station staff's pages (the network map, planning, drives, check-in,
//!   results and reports, administration), desktop first.

mod account;
mod admin;
mod assets;
mod context;
mod errors;
mod forms;
mod hosts;
mod maps;
mod official;
mod offline;
mod public;
mod roster;
mod station;
mod surveys;
mod templates;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use cookie::{Cookie, SameSite};
use serde::Deserialize;

pub use context::{LANG_COOKIE, Page, chosen_lang, content_security_policy};

use crate::state::AppState;

/// The pages, with their middleware, over `state`.
pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(home))
        .route("/lang", get(switch_language))
        .merge(public::routes())
        .merge(roster::routes())
        .merge(account::routes())
        .merge(offline::routes())
        .merge(surveys::routes(state.http.body_limit))
        .merge(official::routes())
        .merge(admin::routes())
        .merge(station::routes(state.http.body_limit))
        .merge(hosts::routes())
        .layer(DefaultBodyLimit::max(forms::MAX_FORM_BYTES))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            context::page_context,
        ));
    // Assets need no reader: no session lookup for them.
    pages
        .route("/assets/{name}", get(assets::serve))
        .merge(offline::static_routes())
        .with_state(state)
}

/// True for the paths the pages own (everything but the API and its documents).
pub fn owns(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path == "/api"
        || path == "/openapi.json"
        || path.starts_with("/docs")
        || path == "/health"
        || path.starts_with("/health/"))
}

/// `/`: signed-in people to their work (station staff to the network map, others to their
/// township), everyone else to the public schedule (which links to signing in).
async fn home(page: Page) -> Redirect {
    if page.is_staff() {
        Redirect::to("/station/map")
    } else if page.signed_in() {
        Redirect::to("/township")
    } else {
        Redirect::to("/drives")
    }
}

#[derive(Debug, Deserialize)]
struct Switch {
    to: Option<String>,
    next: Option<String>,
}

/// `GET /lang?to=en&next=/drives`: remembers the language for a year and goes back.
async fn switch_language(Query(switch): Query<Switch>) -> Response {
    let lang = switch
        .to
        .as_deref()
        .and_then(crate::i18n::Lang::from_tag)
        .unwrap_or_default();
    let next = switch
        .next
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\"))
        .unwrap_or_else(|| "/".to_owned());
    let cookie = Cookie::build((LANG_COOKIE, lang.tag()))
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(365))
        .build();
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// An error page for `status` (404 for an address no page has, 413, 503…) in the reader's
/// language, for errors not made by the pages themselves.
pub fn status_page(
    status: StatusCode,
    headers: &HeaderMap,
    http: &crate::config::HttpConfig,
) -> Response {
    let page = Page {
        lang: chosen_lang(headers),
        caller: crate::auth::Caller::default(),
        path: "/".to_owned(),
        htmx: false,
    };
    context::finish(
        context::render_error(&page, errors::PageError::status(status)),
        http,
    )
}
