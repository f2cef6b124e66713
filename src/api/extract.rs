//! Extractors whose rejections are `AppError`s, so that malformed input comes out as
//! problem+json naming what was wrong, like every other error.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};

use crate::error::AppError;
use crate::i18n::Lang;

/// `axum::extract::Query`, rejecting with a 400 problem that names the parameter.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path`, rejecting with a 400 problem.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// The path of the routes under `/api/v1/regions/{code}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CodePath {
    /// 12-digit division code.
    #[param(example = "411103101000", pattern = r"^[0-9]{12}$")]
    pub code: String,
}

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

/// What `If-Match` says about the record whose current version is `current`: `None` without
/// the header; `Some(current)` when it matches (`*`, or a listed entity-tag naming that version:
/// `"3"`, `W/"3"`, or a bare `3`); otherwise `Some` of a version that is not `current`, for the
/// caller's 412 (RFC 9110 §13.1.1: a well-formed entity-tag the server never issued, such as
/// `"stale-0"`, simply matches nothing).
///
/// # Errors
/// A header that is not `*` or a list of entity-tags: 400 naming `If-Match`.
pub fn if_match(headers: &HeaderMap, current: i32) -> Result<Option<i32>, AppError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let malformed = || AppError::invalid("If-Match", "must be the ETag last received, e.g. \"3\"");
    let raw = value.to_str().map_err(|_| malformed())?.trim();
    if raw == "*" {
        return Ok(Some(current));
    }
    let mut tags = 0;
    let mut named = None;
    for tag in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let version = entity_tag_version(tag).ok_or_else(malformed)?;
        if version == Some(current) {
            return Ok(Some(current));
        }
        tags += 1;
        named = named.or(version);
    }
    if tags == 0 {
        return Err(malformed());
    }
    // Tags this server never issued match nothing.
    Ok(Some(named.unwrap_or(NO_VERSION)))
}

/// A version no record has (versions start at 0): what a tag naming none of them matches.
const NO_VERSION: i32 = -1;

/// `None` when `tag` is not a well-formed entity-tag (RFC 9110 §8.8.3); otherwise `Some` of
/// the version it names, or `Some(None)` for a tag this server never issues. A bare number
/// (no quotes) is read as a version too, as it always was, for requests made by hand.
fn entity_tag_version(tag: &str) -> Option<Option<i32>> {
    if !tag.is_empty() && tag.bytes().all(|b| b.is_ascii_digit()) {
        return Some(tag.parse::<i32>().ok());
    }
    let opaque = tag.strip_prefix("W/").unwrap_or(tag);
    let inner = opaque.strip_prefix('"')?.strip_suffix('"')?;
    // etagc = %x21 / %x23-7E / obs-text
    if !inner
        .bytes()
        .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
    {
        return None;
    }
    let ours = !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit());
    Some(if ours {
        inner.parse::<i32>().ok()
    } else {
        None
    })
}

/// The version `If-Match` names, required to change a record: 428 without it, telling the
/// client the `what`'s current ETag (`current`). A version other than `current` means 412.
pub fn required_if_match(headers: &HeaderMap, what: &str, current: i32) -> Result<i32, AppError> {
    if_match(headers, current)?.ok_or_else(|| {
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

/// A `region` filter of a listing: the code range of that region's subtree
/// ([`crate::store::regions::subtree_range`]), once the caller may read there (404 when not,
/// or when the region does not exist; 400 naming `region` when the code is malformed).
pub async fn region_filter(
    state: &crate::state::AppState,
    caller: &crate::api::auth::Caller,
    raw: &str,
) -> Result<(String, String), AppError> {
    use crate::domain::policy::{Action, Resource};
    use crate::domain::region::RegionCode;
    let code = RegionCode::parse(raw)
        .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))?;
    caller.authorize(Action::Read, Resource::Registry(Some(&code)), || {
        format!("region with code {code}")
    })?;
    crate::store::regions::subtree_range(&state.db, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no region with code {code}")))
}

/// The language of what a response writes for people (file headers, route sheets, calendar
/// descriptions, season names): the `lang` query parameter (`zh-CN` or `en`) when given, else
/// the best of `Accept-Language`, else zh-CN.
///
/// # Errors
/// A `lang` other than those: 400 naming `lang`.
pub fn output_lang(lang: Option<&str>, headers: &HeaderMap) -> Result<Lang, AppError> {
    match lang.map(str::trim) {
        Some(tag) => {
            Lang::from_tag(tag).ok_or_else(|| AppError::invalid("lang", "must be zh-CN or en"))
        }
        None => Ok(Lang::negotiate(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )),
    }
}

/// Marks `response` as depending on `Accept-Language`, for caches.
pub fn vary_language(mut response: Response) -> Response {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-language"));
    response
}

/// `body` as a download of `content_type` named `filename` (`Content-Disposition:
/// attachment`).
pub fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn entity_tags_are_read_as_rfc_9110_writes_them() {
        assert_eq!(entity_tag_version("\"3\""), Some(Some(3)));
        assert_eq!(entity_tag_version("W/\"3\""), Some(Some(3)));
        assert_eq!(entity_tag_version("3"), Some(Some(3)));
        assert_eq!(entity_tag_version("\"stale-0\""), Some(None));
        assert_eq!(entity_tag_version("\"\""), Some(None));
        assert_eq!(entity_tag_version("\"99999999999\""), Some(None));
        assert_eq!(entity_tag_version("stale-0"), None);
        assert_eq!(entity_tag_version("\"a b\""), None);
        assert_eq!(entity_tag_version("\"3"), None);
        assert_eq!(entity_tag_version("W/3"), None);
    }

    #[test]
    fn if_match_matches_the_current_version_or_names_another() {
        assert_eq!(if_match(&HeaderMap::new(), 2).unwrap(), None);
        assert_eq!(if_match(&with("\"2\""), 2).unwrap(), Some(2));
        assert_eq!(if_match(&with("*"), 2).unwrap(), Some(2));
        assert_eq!(if_match(&with("\"1\", W/\"2\""), 2).unwrap(), Some(2));
        assert_eq!(if_match(&with("\"1\""), 2).unwrap(), Some(1));
        let foreign = if_match(&with("\"stale-0\""), 2).unwrap().unwrap();
        assert_ne!(foreign, 2);
        assert!(if_match(&with("stale-0"), 2).is_err());
        assert!(if_match(&with(" , "), 2).is_err());
        assert_eq!(
            required_if_match(&with("\"stale-0\""), "point", 0).ok(),
            Some(-1)
        );
    }
}
