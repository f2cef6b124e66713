//! `AppError`, the one error type of the HTTP layer, rendered as `application/problem+json`
//! (RFC 9457).
//!
//! Handlers return `Result<T, AppError>`. Client mistakes carry a precise `detail` and, for
//! validation failures, the offending fields; server faults are logged once with their full
//! cause chain and answered with a generic detail, so nothing internal leaks to the caller.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One offending input field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    /// For uploaded sheets: the 1-based row (the header is row 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// The field's name as the client sent it (query parameter, path segment, JSON member or
    /// sheet column).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row: None,
            field: field.into(),
            message: message.into(),
        }
    }

    /// An error in one cell of an uploaded sheet.
    pub fn at_row(row: usize, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row: Some(row),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Collects every field error of a request, so that the client sees them all at once.
#[derive(Debug, Default)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Free text, cleaned by [`crate::domain::text::clean`] (line breaks only when
    /// `multiline`); an error when it is invalid, or blank and `required`.
    pub fn text(
        &mut self,
        field: &str,
        value: Option<String>,
        max_chars: usize,
        multiline: bool,
        required: bool,
    ) -> Option<String> {
        match crate::domain::text::clean(value, max_chars, multiline) {
            Ok(None) if required => {
                self.add(field, "is required");
                None
            }
            Ok(value) => value,
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// A PATCH member that cannot be cleared: absent keeps `current`; `null` is a mistake,
    /// not a clear.
    pub fn keep_or_set<T>(
        &mut self,
        field: &str,
        value: Option<Option<T>>,
        current: T,
    ) -> Option<T> {
        match value {
            None => Some(current),
            Some(None) => {
                self.add(field, "cannot be null");
                None
            }
            Some(Some(v)) => Some(v),
        }
    }

    /// `Ok` when nothing was collected, else every collected error as `invalid` makes it (a
    /// service's `Invalid` variant).
    ///
    /// # Errors
    /// `invalid` of the collected errors.
    pub fn check_with<E>(self, invalid: impl FnOnce(Vec<FieldError>) -> E) -> Result<(), E> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(invalid(self.0))
        }
    }

    /// True when `field` already has an error.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// `Ok` when nothing was added, else a 400 naming every field.
    ///
    /// # Errors
    /// [`AppError::Validation`] with the collected errors.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let fields: Vec<&str> = self.0.iter().map(|e| e.field.as_str()).collect();
        Err(AppError::Validation {
            detail: format!("invalid {}", fields.join(", ")),
            errors: self.0,
        })
    }
}

/// An RFC 9457 problem details body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type (`about:blank` or a `urn:donornet:problem:*`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// For validation problems: each offending field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a donor who gave blood too recently to book: the first day they may give again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_eligible_date: Option<chrono::NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: input that does not parse or validate; names the fields.
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 400: a request that could not be read at all (malformed JSON, wrong content type).
    #[error("{0}")]
    BadRequest(String),
    /// 422: the request is well-formed, but what it describes cannot be planned (a plan
    /// instance that is inconsistent, e.g. a travel matrix missing a site); names the field.
    #[error("{detail}")]
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 422: a password of a valid length that is too easy to guess (the username, one of the
    /// commonest passwords); names the field `password`.
    #[error("the password {0}")]
    WeakPassword(String),
    /// 401: no credentials, or credentials that are not (or no longer) valid. Answered with
    /// `WWW-Authenticate`.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller may see the resource but not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// 429: too many attempts; `Retry-After` says when to come back (seconds).
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// 404: the resource does not exist (or is outside what the caller may see).
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the request conflicts with the stored state.
    #[error("{0}")]
    Conflict(String),
    /// 409: a donor whose last donation is too recent to book this date.
    #[error(
        "the last donation recorded for this mobile was on {last_donation}; whole blood may be given again from {next_eligible} (180 days)"
    )]
    NotYetEligible {
        last_donation: chrono::NaiveDate,
        next_eligible: chrono::NaiveDate,
    },
    /// 409: a value that must be unique is taken; names the field.
    #[error("{detail}")]
    Taken { field: String, detail: String },
    /// 409: an allowance is used up (the places one mobile or address may hold through the
    /// public booking); names the field.
    #[error("{detail}")]
    Limit { field: String, detail: String },
    /// 428: a change needs `If-Match` with the version the client last saw.
    #[error("{0}")]
    PreconditionRequired(String),
    /// 413: the body is larger than the configured limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 503: the database cannot be reached.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500: a fault of ours. Logged with its cause chain; the client sees a generic detail.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A validation error on one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::Validation {
            detail: format!("invalid {field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// A 422 for an instance that cannot be planned; `prefix` names where the instance sits
    /// in the request (`""` when its fields are the request's own, `"instance."` otherwise).
    pub fn invalid_instance(prefix: &str, err: crate::planning::instance::InvalidInstance) -> Self {
        let field = format!("{prefix}{}", err.field);
        AppError::Unprocessable {
            detail: format!("the plan cannot be made: {field}: {}", err.message),
            errors: vec![FieldError::new(field, err.message)],
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unprocessable { .. } | AppError::WeakPassword(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Validation { .. } | AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_)
            | AppError::Taken { .. }
            | AppError::Limit { .. }
            | AppError::NotYetEligible { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status();
        let (kind, detail, errors) = match self {
            AppError::Validation { detail, errors } => (
                "urn:donornet:problem:validation",
                detail.clone(),
                errors.clone(),
            ),
            AppError::Unprocessable { detail, errors } => (
                "urn:donornet:problem:unplannable",
                detail.clone(),
                errors.clone(),
            ),
            AppError::WeakPassword(message) => (
                "urn:donornet:problem:weak-password",
                self.to_string(),
                vec![FieldError::new("password", message.clone())],
            ),
            AppError::Taken { field, detail } => (
                "urn:donornet:problem:taken",
                detail.clone(),
                vec![FieldError::new(field.clone(), "is already taken")],
            ),
            AppError::Limit { field, detail } => (
                "urn:donornet:problem:limit",
                detail.clone(),
                vec![FieldError::new(field.clone(), detail.clone())],
            ),
            AppError::NotYetEligible { .. } => (
                "urn:donornet:problem:not-yet-eligible",
                self.to_string(),
                vec![],
            ),
            AppError::Internal(_) => (
                "about:blank",
                "an internal error occurred; it has been logged".to_owned(),
                vec![],
            ),
            AppError::Unavailable(_) => (
                "urn:donornet:problem:unavailable",
                "the database is unreachable; try again shortly".to_owned(),
                vec![],
            ),
            other => ("about:blank", other.to_string(), vec![]),
        };
        Problem {
            kind: kind.to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
            next_eligible_date: match self {
                AppError::NotYetEligible { next_eligible, .. } => Some(*next_eligible),
                _ => None,
            },
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Internal(err) => tracing::error!(error = ?err, "request failed"),
            AppError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let status = self.status();
        let mut response = (status, Json(self.problem())).into_response();
        let headers = response.headers_mut();
        // Set after the body so it replaces the `application/json` that `Json` wrote.
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self {
            AppError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="donornet""#),
                );
            }
            AppError::TooManyRequests {
                retry_after_secs, ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if let DbErr::ConnectionAcquire(_) | DbErr::Conn(_) = err {
            return AppError::Unavailable(err.to_string());
        }
        // Collisions with concurrent requests are the client's to retry, not our fault.
        if let Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) = err.sql_err() {
            return AppError::Conflict(
                "a record this change refers to was changed or removed at the same time; try again"
                    .to_owned(),
            );
        }
        if let Some(code) = database_error_code(&err) {
            match code.as_str() {
                // PostgreSQL: serialization failure, deadlock detected.
                "40001" | "40P01" => {
                    return AppError::Conflict(
                        "the change collided with a concurrent one; try again".to_owned(),
                    );
                }
                // SQLite: busy / locked past the busy timeout.
                "5" | "6" | "517" => {
                    return AppError::Unavailable(
                        "the database stayed locked by another writer".to_owned(),
                    );
                }
                _ => {}
            }
        }
        AppError::Internal(anyhow::Error::new(err))
    }
}

impl From<crate::accounts::AccountsError> for AppError {
    fn from(err: crate::accounts::AccountsError) -> Self {
        use crate::accounts::AccountsError as E;
        match err {
            E::Invalid { detail, errors } => AppError::Validation { detail, errors },
            E::WeakPassword(message) => AppError::WeakPassword(message),
            E::Forbidden(message) => AppError::Forbidden(message),
            e @ (E::NoUser(_) | E::NoUserNamed(_) | E::NoToken(_)) => {
                AppError::NotFound(e.to_string())
            }
            e @ (E::AccountGone | E::WrongCredentials) => AppError::Unauthorized(e.to_string()),
            e @ E::Disabled(_) => AppError::Conflict(e.to_string()),
            E::UsernameTaken(_) => AppError::Taken {
                field: "username".to_owned(),
                detail: "that username is taken".to_owned(),
            },
            e @ E::TokenNameTaken => AppError::Taken {
                field: "name".to_owned(),
                detail: e.to_string(),
            },
            e @ E::Throttled { retry_after_secs } => AppError::TooManyRequests {
                detail: e.to_string(),
                retry_after_secs,
            },
            E::Db(e) => e.into(),
            E::Internal(e) => AppError::Internal(e),
        }
    }
}

/// The backend's own error code (SQLSTATE on PostgreSQL, the result code on SQLite), if any.
fn database_error_code(err: &DbErr) -> Option<String> {
    let runtime = match err {
        DbErr::Exec(e) | DbErr::Query(e) => e,
        _ => return None,
    };
    match runtime {
        sea_orm::RuntimeErr::SqlxError(sqlx) => sqlx
            .as_database_error()
            .and_then(|db| db.code())
            .map(|c| c.into_owned()),
        _ => None,
    }
}

impl From<crate::fleet::FleetError> for AppError {
    fn from(err: crate::fleet::FleetError) -> Self {
        use crate::fleet::FleetError;
        match err {
            FleetError::Invalid(errors) => AppError::Validation {
                detail: err_detail(&errors),
                errors,
            },
            FleetError::InvalidField { field, message } => AppError::invalid(&field, message),
            FleetError::PlateTaken => AppError::Taken {
                field: "plate".to_owned(),
                detail: err.to_string(),
            },
            FleetError::StationInUse { .. } => AppError::Conflict(err.to_string()),
            FleetError::NotFound(detail) => AppError::NotFound(detail),
            FleetError::Corrupt(detail) => AppError::Internal(anyhow::anyhow!(detail)),
            FleetError::Db(db) => AppError::from(db),
        }
    }
}

impl From<crate::outbox::by_hand::ByHandError> for AppError {
    fn from(err: crate::outbox::by_hand::ByHandError) -> Self {
        use crate::outbox::by_hand::ByHandError as E;
        match err {
            e @ E::NotFound(_) => AppError::NotFound(e.to_string()),
            e @ E::NotWaiting { .. } => AppError::Conflict(e.to_string()),
            E::Db(db) => AppError::from(db),
        }
    }
}

impl From<crate::audit::AuditError> for AppError {
    fn from(err: crate::audit::AuditError) -> Self {
        use crate::audit::AuditError as E;
        match err {
            E::Invalid { field, message } => AppError::invalid(&field, message),
            E::Region(e) => AppError::from(e),
            E::Db(db) => AppError::from(db),
        }
    }
}

impl From<crate::outbox::RetryError> for AppError {
    fn from(err: crate::outbox::RetryError) -> Self {
        use crate::outbox::RetryError as E;
        match err {
            e @ E::NotFound(_) => AppError::NotFound(e.to_string()),
            e @ E::NotFailed { .. } => AppError::Conflict(e.to_string()),
            E::Db(db) => AppError::from(db),
        }
    }
}

/// The detail of a validation problem: `invalid` and every field named.
/// A plan that could not be made, as problem+json: the request's fields (400), the instance
/// that cannot be planned (422), too many plans at once (429).
impl From<crate::plans::PlansError> for AppError {
    fn from(err: crate::plans::PlansError) -> Self {
        use crate::plans::PlansError as E;
        match err {
            E::Invalid(errors) => AppError::Validation {
                detail: err_detail(&errors),
                errors,
            },
            E::Instance(instance) => AppError::invalid_instance("", instance),
            E::Busy { retry_after_secs } => AppError::TooManyRequests {
                detail: "too many plans are being made; try again when one has finished".to_owned(),
                retry_after_secs,
            },
            E::NotFound(detail) => AppError::NotFound(detail),
            E::Denied(denied) => AppError::from(denied),
            E::Conflict(detail) => AppError::Conflict(detail),
            E::BeyondReach(id) => AppError::Forbidden(E::BeyondReach(id).to_string()),
            E::InlineInstance(instance) => AppError::invalid_instance("instance.", instance),
            E::Corrupt(err) => AppError::Internal(err),
            E::Db(err) => AppError::from(err),
        }
    }
}

fn err_detail(errors: &[FieldError]) -> String {
    format!("invalid {}", field_names(errors))
}

/// The fields `errors` name, comma-separated (the message of a service's `Invalid` error).
#[must_use]
pub fn field_names(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.field.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        let text = rejection.body_text();
        let field = query_field(&text).unwrap_or_else(|| "query".to_owned());
        AppError::Validation {
            detail: text,
            errors: vec![FieldError::new(field, "invalid value")],
        }
    }
}

/// The parameter a query-string error is about. axum reports the path of the failing field
/// (`…: limit: invalid digit found in string`); serde names unknown and repeated fields in
/// backticks (`unknown field `parent_code`, expected …`, `duplicate field `limit``).
fn query_field(text: &str) -> Option<String> {
    let detail = text.split_once(": ").map_or(text, |(_, rest)| rest);
    for marker in ["unknown field `", "duplicate field `", "missing field `"] {
        if let Some(rest) = detail.split_once(marker).map(|(_, r)| r) {
            return rest.split_once('`').map(|(name, _)| name.to_owned());
        }
    }
    detail
        .split_once(": ")
        .map(|(field, _)| field.trim().to_owned())
        .filter(|f| !f.is_empty() && !f.contains(' '))
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        use axum::extract::path::ErrorKind;
        let field = match &rejection {
            PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
                ErrorKind::InvalidUtf8InPathParam { key }
                | ErrorKind::ParseErrorAtKey { key, .. }
                | ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
                _ => None,
            },
            _ => None,
        };
        AppError::Validation {
            detail: rejection.body_text(),
            errors: vec![FieldError::new(
                field.unwrap_or_else(|| "path".to_owned()),
                "invalid path parameter",
            )],
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return AppError::PayloadTooLarge;
        }
        let text = rejection.body_text();
        match rejection {
            // The body is JSON but does not fit: name the member, like a validation error.
            JsonRejection::JsonDataError(_) => AppError::Validation {
                errors: vec![FieldError::new(
                    query_field(&text).unwrap_or_else(|| "body".to_owned()),
                    "invalid value",
                )],
                detail: text,
            },
            _ => AppError::BadRequest(text),
        }
    }
}

/// A refusal of the policy (`domain::policy::Denied`) as its status: 401, 403, or 404 as if
/// the resource did not exist.
impl From<crate::domain::policy::Denied> for AppError {
    fn from(denied: crate::domain::policy::Denied) -> Self {
        use crate::domain::policy::Denied;
        let detail = denied.to_string();
        match denied {
            Denied::Unauthenticated => AppError::Unauthorized(detail),
            Denied::Forbidden(_) => AppError::Forbidden(detail),
            Denied::Hidden(_) => AppError::NotFound(detail),
        }
    }
}

/// The registry's refusals as problem+json: the same fields and messages the handlers gave
/// before the service existed.
impl From<crate::registry::RegistryError> for AppError {
    fn from(err: crate::registry::RegistryError) -> Self {
        use crate::registry::RegistryError as E;
        match err {
            E::Invalid(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                AppError::Validation {
                    detail: format!("invalid {}", fields.join(", ")),
                    errors,
                }
            }
            E::InvalidField { field, message } => AppError::invalid(&field, message),
            E::NotFound(detail) => AppError::NotFound(detail),
            E::Denied { decision, what } => match decision.check(|| what) {
                Err(denied) => denied.into(),
                Ok(()) => AppError::Internal(anyhow::anyhow!("an allowed action was refused")),
            },
            E::MobileTaken => AppError::Taken {
                field: "mobile".to_owned(),
                detail: crate::registry::MOBILE_NOT_AVAILABLE.to_owned(),
            },
            err @ (E::StillServes(_) | E::Conflict(_) | E::SurveyOutdated(_)) => {
                AppError::Conflict(err.to_string())
            }
            E::BadSheet { total, errors } => AppError::Validation {
                detail: crate::registry::sheets::problems(total),
                errors,
            },
            E::Corrupt(err) | E::Internal(err) => AppError::Internal(err),
            E::Db(err) => AppError::from(err),
        }
    }
}

/// Recruitment's refusals as problem+json.
impl From<crate::recruitment::RecruitmentError> for AppError {
    fn from(err: crate::recruitment::RecruitmentError) -> Self {
        use crate::recruitment::RecruitmentError as E;
        match err {
            E::Invalid(errors) => AppError::Validation {
                detail: err_detail(&errors),
                errors,
            },
            E::NotFound(detail) => AppError::NotFound(detail),
            E::Denied { decision, what } => match decision.check(|| what) {
                Err(denied) => denied.into(),
                Ok(()) => AppError::Internal(anyhow::anyhow!("an allowed action was refused")),
            },
            E::Conflict(detail) => AppError::Conflict(detail),
            E::MobileTaken => AppError::Taken {
                field: "mobile".to_owned(),
                detail: crate::recruitment::roster::MOBILE_ON_ROSTER.to_owned(),
            },
            E::Bookings(err) => AppError::from(err),
            E::TooLarge(_) => AppError::PayloadTooLarge,
            E::Internal(err) => AppError::Internal(err),
            E::Db(err) => AppError::from(err),
        }
    }
}

/// The inventory service's refusals as problem+json.
impl From<crate::inventory::InventoryError> for AppError {
    fn from(err: crate::inventory::InventoryError) -> Self {
        use crate::inventory::InventoryError as E;
        match err {
            E::Invalid(errors) => AppError::Validation {
                detail: err_detail(&errors),
                errors,
            },
            E::NotFound(detail) => AppError::NotFound(detail),
            E::Denied { decision, what } => match decision.check(|| what) {
                Err(denied) => denied.into(),
                Ok(()) => AppError::Internal(anyhow::anyhow!("an allowed action was refused")),
            },
            E::Conflict(detail) => AppError::Conflict(detail),
            E::Db(err) => AppError::from(err),
        }
    }
}

/// The drive and checklist services' refusals as problem+json: the same fields, messages and
/// statuses the handlers gave before the service existed.
impl From<crate::drives::DrivesError> for AppError {
    fn from(err: crate::drives::DrivesError) -> Self {
        use crate::drives::DrivesError as E;
        match err {
            E::Invalid(errors) => AppError::Validation {
                detail: err_detail(&errors),
                errors,
            },
            E::InvalidField { field, message } => AppError::invalid(&field, message),
            E::OutsideRegion { detail, errors } => AppError::Unprocessable { detail, errors },
            E::NotFound(detail) => AppError::NotFound(detail),
            E::Denied { decision, what } => match decision.check(|| what) {
                Err(denied) => denied.into(),
                Ok(()) => AppError::Internal(anyhow::anyhow!("an allowed action was refused")),
            },
            E::Conflict(detail) => AppError::Conflict(detail),
            E::Corrupt(detail) => AppError::Internal(anyhow::anyhow!(detail)),
            E::Bookings(err) => err.into(),
            E::Db(err) => AppError::from(err),
        }
    }
}

/// The appeals service's refusals as problem+json.
impl From<crate::appeals::AppealsError> for AppError {
    fn from(err: crate::appeals::AppealsError) -> Self {
        use crate::appeals::AppealsError as E;
        match err {
            E::Invalid(errors) => AppError::Validation {
                detail: err_detail(&errors),
                errors,
            },
            E::NotFound(detail) => AppError::NotFound(detail),
            E::Denied { decision, what } => match decision.check(|| what) {
                Err(denied) => denied.into(),
                Ok(()) => AppError::Internal(anyhow::anyhow!("an allowed action was refused")),
            },
            E::Conflict(detail) => AppError::Conflict(detail),
            E::Internal(detail) => AppError::Internal(anyhow::anyhow!(detail)),
            E::Db(err) => AppError::from(err),
        }
    }
}

/// The bookings service's refusals as problem+json: the same fields, messages and statuses
/// the handlers gave before the service had its own error.
impl From<crate::bookings::BookingsError> for AppError {
    fn from(err: crate::bookings::BookingsError) -> Self {
        use crate::bookings::BookingsError as E;
        match err {
            E::Invalid(errors) => AppError::Validation {
                detail: err_detail(&errors),
                errors,
            },
            E::InvalidField { field, message } => AppError::invalid(&field, message),
            E::NotFound(detail) => AppError::NotFound(detail),
            E::Conflict { detail, .. } => AppError::Conflict(detail),
            E::Limit { field, detail } => AppError::Limit { field, detail },
            E::TooOften { retry_after_secs } => AppError::TooManyRequests {
                detail: err.to_string(),
                retry_after_secs,
            },
            E::NotYetEligible {
                last_donation,
                next_eligible,
            } => AppError::NotYetEligible {
                last_donation,
                next_eligible,
            },
            E::Internal(err) => AppError::Internal(err),
            E::Db(err) => AppError::from(err),
        }
    }
}

/// Check-in's and results' refusals as problem+json: the same fields and messages the
/// handlers gave before the service existed.
impl From<crate::checkin::CheckinError> for AppError {
    fn from(err: crate::checkin::CheckinError) -> Self {
        use crate::checkin::CheckinError as E;
        match err {
            E::Invalid(errors) => AppError::Validation {
                detail: err_detail(&errors),
                errors,
            },
            E::InvalidField { field, message } => AppError::invalid(&field, message),
            E::NotFound(detail) => AppError::NotFound(detail),
            E::Forbidden(detail) => AppError::Forbidden(detail),
            E::Conflict(detail) => AppError::Conflict(detail),
            E::Corrupt(detail) => AppError::Internal(anyhow::anyhow!(detail)),
            E::Export(err) => AppError::Internal(err),
            E::Db(err) => AppError::from(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::query_field;

    #[test]
    fn query_errors_name_their_parameter() {
        for (text, field) in [
            (
                "Failed to deserialize query string: limit: invalid digit found in string",
                Some("limit"),
            ),
            (
                "Failed to deserialize query string: unknown field `parent_code`, expected one of `parent`, `level`",
                Some("parent_code"),
            ),
            (
                "Failed to deserialize query string: duplicate field `limit`",
                Some("limit"),
            ),
            ("Failed to deserialize query string: something odd", None),
        ] {
            assert_eq!(query_field(text).as_deref(), field, "{text}");
        }
    }
}
