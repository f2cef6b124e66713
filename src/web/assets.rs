//! The pages' stylesheet and scripts, embedded in the binary: ours (`src/web/assets/`) and
//! the front-end packages `build.rs` installs from the lockfile (htmx, Leaflet). Served from
//! `/assets/{name}` with a content hash in the address, so browsers keep them for a year.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

macro_rules! package {
    ($path:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/npm/node_modules/", $path))
    };
}

/// Every asset: its name, type and bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css", include_bytes!("assets/app.css")),
    ("app.js", "text/javascript", include_bytes!("assets/app.js")),
    ("map.js", "text/javascript", include_bytes!("assets/map.js")),
    (
        "hosts.js",
        "text/javascript",
        include_bytes!("assets/hosts.js"),
    ),
    (
        "offline.js",
        "text/javascript",
        include_bytes!("assets/offline.js"),
    ),
    (
        "appeals.js",
        "text/javascript",
        include_bytes!("assets/appeals.js"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("assets/icon.svg"),
    ),
    (
        "htmx.js",
        "text/javascript",
        package!("htmx.org/dist/htmx.min.js"),
    ),
    (
        "leaflet.js",
        "text/javascript",
        package!("leaflet/dist/leaflet.js"),
    ),
    (
        "leaflet.css",
        "text/css",
        package!("leaflet/dist/leaflet.css"),
    ),
];

struct Asset {
    content_type: &'static str,
    bytes: &'static [u8],
    hash: String,
}

static BY_NAME: LazyLock<HashMap<&'static str, Asset>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|(name, content_type, bytes)| {
            let digest = Sha256::digest(bytes);
            (
                *name,
                Asset {
                    content_type,
                    bytes,
                    hash: hex::encode(&digest[..6]),
                },
            )
        })
        .collect()
});

/// The address of asset `name`, with its hash (`/assets/app.css?v=1a2b3c4d5e6f`).
pub fn url(name: &str) -> String {
    match BY_NAME.get(name) {
        Some(asset) => format!("/assets/{name}?v={}", asset.hash),
        None => format!("/assets/{name}"),
    }
}

/// Every asset's address (what the service worker keeps at install).
pub fn all_urls() -> Vec<String> {
    ASSETS.iter().map(|(name, _, _)| url(name)).collect()
}

/// One hash over every asset: changes whenever one does (the service worker's version).
pub fn version() -> String {
    let mut digest = Sha256::new();
    for (name, _, _) in ASSETS {
        if let Some(asset) = BY_NAME.get(name) {
            digest.update(asset.hash.as_bytes());
        }
    }
    hex::encode(&digest.finalize()[..6])
}

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = BY_NAME.get(name.as_str()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        asset.bytes,
    )
        .into_response()
}
