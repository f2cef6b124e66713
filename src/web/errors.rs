//! Refusals and faults as pages, in one place (as `AppError` renders problem+json for the
//! API). A handler returns a [`PageError`]; its response carries the error, not yet rendered,
//! and the pages' middleware (`context::page_context`) renders it in the reader's language:
//! a sentence for people, never a stack of field names or a database message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// Why a page cannot be shown or a form not taken.
#[derive(Debug, Clone)]
pub enum PageError {
    /// Sign in first, then come back here.
    SignIn,
    /// The catalogue's sentence for this status (`error-404`, …).
    Status(StatusCode),
    /// A status with a sentence already in the reader's language.
    Said(StatusCode, String),
}

impl PageError {
    pub fn status(status: StatusCode) -> Self {
        PageError::Status(status)
    }

    /// The HTTP status the page is sent with.
    pub fn http_status(&self) -> StatusCode {
        match self {
            PageError::SignIn => StatusCode::SEE_OTHER,
            PageError::Status(s) | PageError::Said(s, _) => *s,
        }
    }
}

/// The API's errors as pages: who is not signed in is sent to sign in; a record outside the
/// reader's reach reads as not found (the service already says 404 for those); a fault is
/// logged and shown as a plain apology.
impl From<AppError> for PageError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Unauthorized(_) => PageError::SignIn,
            AppError::Internal(e) => {
                tracing::error!(error = %e, "page failed");
                PageError::Status(StatusCode::INTERNAL_SERVER_ERROR)
            }
            other => PageError::Status(other.status()),
        }
    }
}

impl From<crate::bookings::BookingsError> for PageError {
    fn from(err: crate::bookings::BookingsError) -> Self {
        AppError::from(err).into()
    }
}

impl From<crate::recruitment::RecruitmentError> for PageError {
    fn from(err: crate::recruitment::RecruitmentError) -> Self {
        AppError::from(err).into()
    }
}

impl From<crate::registry::RegistryError> for PageError {
    fn from(err: crate::registry::RegistryError) -> Self {
        AppError::from(err).into()
    }
}

impl From<crate::drives::DrivesError> for PageError {
    fn from(err: crate::drives::DrivesError) -> Self {
        AppError::from(err).into()
    }
}

impl From<crate::checkin::CheckinError> for PageError {
    fn from(err: crate::checkin::CheckinError) -> Self {
        AppError::from(err).into()
    }
}

impl From<crate::accounts::AccountsError> for PageError {
    fn from(err: crate::accounts::AccountsError) -> Self {
        AppError::from(err).into()
    }
}

impl From<crate::outbox::RetryError> for PageError {
    fn from(err: crate::outbox::RetryError) -> Self {
        AppError::from(err).into()
    }
}

impl From<crate::outbox::by_hand::ByHandError> for PageError {
    fn from(err: crate::outbox::by_hand::ByHandError) -> Self {
        AppError::from(err).into()
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(err: sea_orm::DbErr) -> Self {
        AppError::from(err).into()
    }
}

/// The error travels in the response's extensions to the middleware that renders it.
impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = self.http_status().into_response();
        response.extensions_mut().insert(self);
        response
    }
}
