//! A posted form's fields, read as they came (`application/x-www-form-urlencoded`), so a page
//! can show them again beside its errors ([`FormState`]). Repeated names (checkboxes) keep
//! every value. The services' field errors become the catalogue's hints ([`field_errors`]).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

use super::context::Page;
use super::errors::PageError;
use crate::error::FieldError;

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

    /// Sets `name` to `value` (the first of that name; added when absent).
    pub fn set(&mut self, name: &str, value: String) {
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some(field) => field.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
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

impl FormFields {
    /// Fields given as pairs (a stored record shown in its form).
    pub fn of(pairs: &[(&str, String)]) -> Self {
        FormFields(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }
}

/// Field errors as a form shows them: the catalogue's hint for the field of this form
/// (`hint-{form}-{field}`, e.g. `hint-point-name`), else its hint for the field in general
/// (`hint-mobile`), else the service's message. `regions[0]` is shown at `regions`.
pub fn field_errors(page: &Page, form: &str, errors: &[FieldError]) -> Vec<(String, String)> {
    let mut shown: Vec<(String, String)> = Vec::new();
    for e in errors {
        let field = e.field.split('[').next().unwrap_or(&e.field).to_owned();
        if shown.iter().any(|(f, _)| *f == field) {
            continue;
        }
        let mut ids = Vec::with_capacity(2);
        if !form.is_empty() {
            ids.push(format!("hint-{form}-{field}"));
        }
        ids.push(format!("hint-{field}"));
        // `t` answers the id itself for a message the catalogue does not hold.
        let hint = ids
            .iter()
            .map(|id| (page.t(id), id))
            .find(|(text, id)| text != *id)
            .map_or_else(|| e.message.clone(), |(text, _)| text);
        shown.push((field, hint));
    }
    shown
}

/// Field errors beside their fields, for a page with hints of its own: `{own}-{field}` from
/// the catalogue, else the shared hints of form `shared` (as [`field_errors`] finds them),
/// else the service's own message. `stops[2]` shows at `stops`; each field once.
pub fn hinted_errors(
    page: &Page,
    own: &str,
    shared: &str,
    errors: &[FieldError],
) -> Vec<(String, String)> {
    let mut shown: Vec<(String, String)> = Vec::new();
    for e in errors {
        let field = e.field.split('[').next().unwrap_or(&e.field).to_owned();
        if shown.iter().any(|(f, _)| *f == field) {
            continue;
        }
        let id = format!("{own}-{field}");
        let text = page.t(&id);
        let text = if text == id {
            field_errors(page, shared, std::slice::from_ref(e))
                .pop()
                .map_or_else(|| e.message.clone(), |(_, text)| text)
        } else {
            text
        };
        shown.push((field, text));
    }
    shown
}

/// A form as typed (or as stored, before any change), with the errors beside its fields.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    pub values: FormFields,
    /// Field name to the sentence shown beside it.
    pub errors: Vec<(String, String)>,
}

impl FormState {
    pub fn new(values: FormFields) -> Self {
        FormState {
            values,
            errors: vec![],
        }
    }

    /// The value of `name` as typed.
    pub fn value(&self, name: &str) -> String {
        self.values.raw(name)
    }

    pub fn error(&self, name: &str) -> String {
        self.errors
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }

    pub fn has_error(&self, name: &str) -> bool {
        self.errors.iter().any(|(f, _)| f == name)
    }

    /// True when the field `name` holds `value` (a select's option, a ticked checkbox).
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.values.all(name).iter().any(|v| v == value)
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
