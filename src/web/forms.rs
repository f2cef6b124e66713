//! A posted form's fields, read as they came (`application/x-www-form-urlencoded`), so a page
//! can show them again beside its errors. Repeated names (checkboxes) keep every value.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

use super::errors::PageError;

/// At most this many bytes of form: the largest form here is a few hundred. (The pages'
/// router also sets this as its body limit, so a larger body is refused while it streams.)
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// The fields of a posted form, in order.
#[derive(Debug, Clone, Default)]
pub struct FormFields(pub Vec<(String, String)>);

impl FormFields {
    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The first value of `name` as typed (empty when absent), to show it again.
    pub fn raw(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every non-blank value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormFields {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(PageError::status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| PageError::status(StatusCode::PAYLOAD_TOO_LARGE))?;
        if body.len() > MAX_FORM_BYTES {
            return Err(PageError::status(StatusCode::PAYLOAD_TOO_LARGE));
        }
        Ok(FormFields(
            url::form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .take(200)
                .collect(),
        ))
    }
}
