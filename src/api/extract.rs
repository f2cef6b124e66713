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

/// The version `If-Match` names, required to change a record: 428 without it, telling the
/// client the `what`'s current ETag (`current`).
pub fn required_if_match(headers: &HeaderMap, what: &str, current: i32) -> Result<i32, AppError> {
    if_match(headers)?.ok_or_else(|| {
        AppError::PreconditionRequired(format!(
            "send If-Match with the {what}'s ETag (currently \"{current}\") to change it"
        ))
    })
}

/// `body` with `status` and the ETag of `version`.
pub fn with_etag(status: StatusCode, version: i32, body: impl IntoResponse) -> Response {
    let mut response = (status, body).into_response();
    let tag = HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes");
    response.headers_mut().insert(header::ETAG, tag);
    response
}

/// The page size of a listing: `limit` if given (1 to `max`), else `default`.
///
/// # Errors
/// A `limit` out of range: 400 naming `limit`.
pub fn page_limit(limit: Option<u64>, default: u64, max: u64) -> Result<u64, AppError> {
    let limit = limit.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {max}"),
        ))
    }
}

/// The cursor of an id-ordered listing (the last id of the previous page).
///
/// # Errors
/// Anything else: 400 naming `cursor`.
pub fn id_cursor(cursor: Option<&str>) -> Result<Option<i64>, AppError> {
    cursor
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| AppError::invalid("cursor", "is not a cursor of this listing"))
        })
        .transpose()
}

/// Cuts `rows` (fetched with `limit + 1`) to one page and names the next page's cursor.
pub fn paginate<T>(
    mut rows: Vec<T>,
    limit: u64,
    cursor_of: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() <= limit {
        return (rows, None);
    }
    rows.truncate(limit);
    let next = rows.last().map(cursor_of);
    (rows, next)
}

/// A listing's `status` filter (comma-separated names, 400 naming `status` for an unknown one),
/// as stored names (`name`). Without one: every status of `all` but `hidden`, or, when nothing
/// is hidden, no filter at all (an empty list).
pub fn status_filter<S>(
    raw: Option<&str>,
    all: &[S],
    hidden: Option<S>,
    name: fn(S) -> &'static str,
) -> Result<Vec<&'static str>, AppError>
where
    S: Copy + PartialEq + std::str::FromStr<Err = String>,
{
    match raw.map(str::trim) {
        None | Some("") => Ok(match hidden {
            Some(hidden) => all
                .iter()
                .copied()
                .filter(|s| *s != hidden)
                .map(name)
                .collect(),
            None => Vec::new(),
        }),
        Some(raw) => raw
            .split(',')
            .map(|s| s.trim().parse::<S>().map(name))
            .collect::<Result<_, _>>()
            .map_err(|e| AppError::invalid("status", e)),
    }
}

/// `count` comma-separated finite numbers (`lon,lat`, a bounding box); 400 naming `field`.
pub fn numbers(field: &str, raw: &str, count: usize) -> Result<Vec<f64>, AppError> {
    let values: Vec<f64> = raw
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            AppError::invalid(field, format!("must be {count} comma-separated numbers"))
        })?;
    if values.len() != count || values.iter().any(|v| !v.is_finite()) {
        return Err(AppError::invalid(
            field,
            format!("must be {count} comma-separated numbers"),
        ));
    }
    Ok(values)
}
