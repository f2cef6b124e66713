//! Working on a weak signal: the service worker (`/sw.js`, from `assets/sw.js` with the
//! assets' hashed addresses filled in), the web app manifest (installable), the page shown
//! when a page was never kept (`/offline`), and `/sync`, where `offline.js` lists what waits on
//! the phone and what the server refused. The queue itself lives in the browser (IndexedDB);
//! the server sees each kept form as an ordinary form post, checked like any other (a stale
//! version is refused and shown "mine / current").

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::context::Page;
use super::templates::{OfflinePage, SyncPage, html};
use crate::state::AppState;

const SERVICE_WORKER: &str = include_str!("assets/sw.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/offline", get(offline_page))
        .route("/sync", get(sync_page))
}

/// Routes that need no reader (no session lookup).
pub fn static_routes() -> Router<AppState> {
    Router::new()
        .route("/sw.js", get(service_worker))
        .route("/manifest.webmanifest", get(manifest))
}

/// `GET /sw.js`: always revalidated, so a new release's worker replaces the old one.
async fn service_worker() -> Response {
    let assets = super::assets::all_urls();
    let list = serde_json::to_string(&assets).unwrap_or_else(|_| "[]".to_owned());
    let body = SERVICE_WORKER
        .replace("__VERSION__", &super::assets::version())
        .replace("__ASSETS__", &list);
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// `GET /manifest.webmanifest`: installable, opening on the official's township.
async fn manifest(headers: axum::http::HeaderMap) -> Response {
    let lang = super::context::chosen_lang(&headers);
    let body = serde_json::json!({
        "name": lang.t("app-name"),
        "short_name": lang.t("app-short-name"),
        "description": lang.t("app-description"),
        "lang": lang.tag(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b3261e",
        "icons": [
            {"src": super::assets::url("icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}
        ]
    });
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/manifest+json"),
        )],
        body.to_string(),
    )
        .into_response()
}

async fn offline_page(page: Page) -> Response {
    html(&OfflinePage { page: &page })
}

async fn sync_page(page: Page) -> Response {
    html(&SyncPage { page: &page })
}
