//! Extractors whose rejections are `AppError`s, so that malformed input comes out as
//! problem+json naming what was wrong, like every other error.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};

use crate::error::AppError;

/// `axum::extract::Query`, rejecting with a 400 problem that names the parameter.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path`, rejecting with a 400 problem.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// `axum::Json`, rejecting with a 400 (or 413) problem.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

/// For PATCH bodies: `Some(None)` for an explicit `null` (clear), `Some(Some(v))` for a value,
/// `None` when the member is absent (leave alone). Use with `#[serde(default)]`.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The version named by `If-Match` (`"3"`, `W/"3"` or `3`), if the header is there.
///
/// # Errors
/// A header that names no version: 400 naming `If-Match`.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i32>, AppError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or("").trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
    raw.parse::<i32>()
        .map(Some)
        .map_err(|_| AppError::invalid("If-Match", "must be the ETag last received, e.g. \"3\""))
}

/// `body` with `status` and the ETag of `version`.
pub fn with_etag(status: StatusCode, version: i32, body: impl IntoResponse) -> Response {
    let mut response = (status, body).into_response();
    let tag = HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes");
    response.headers_mut().insert(header::ETAG, tag);
    response
}
