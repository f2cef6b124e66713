//! Drive plans as a service, between the pure planner (`crate::planning`) and the HTTP API:
//!
//! - `request`: the body of `POST /api/v1/plans`, also read by `donornet plan
//!   --export-instance`, and its checks;
//! - `build`: the request and the database to an instance (one function for both callers);
//! - `result`: the typed plan result, as stored, served and exported;
//! - `runs`: plans solving in the background, with their progress in memory;
//! - `export`: a finished plan as CSV, iCalendar and a printable HTML route sheet;
//! - `submit`: making a plan (build, compile, store, start), for `POST /api/v1/plans`;
//! - `reads`: what the plan handlers read;
//! - `forecast`: the turnout forecast of a site on a date, explained village by village.

pub mod build;
pub mod export;
pub mod forecast;
pub mod reads;
pub mod request;
pub mod result;
pub mod runs;
pub mod submit;

pub use submit::{Submitted, submit};

use crate::error::{FieldError, FieldErrors};
use crate::planning::instance::InvalidInstance;

/// Why a plan could not be made, without HTTP: `src/error.rs` maps it to problem+json (400
/// for the request's fields, 422 for an instance that cannot be planned, 429 when busy).
#[derive(Debug, thiserror::Error)]
pub enum PlansError {
    /// The request's fields, every broken one named.
    #[error("invalid {}", crate::error::field_names(.0))]
    Invalid(Vec<FieldError>),
    /// The instance cannot be planned (one field of it named).
    #[error("the plan cannot be made: {}: {}", .0.field, .0.message)]
    Instance(InvalidInstance),
    /// As many plans as this process takes are queued or running.
    #[error("too many plans are being made; try again when one has finished")]
    Busy { retry_after_secs: u64 },
    /// The record does not exist (or lies outside what the caller may read).
    #[error("{0}")]
    NotFound(String),
    /// A stored row that breaks the rules it was written under.
    #[error(transparent)]
    Corrupt(anyhow::Error),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl PlansError {
    /// One field's fault.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

/// `Ok` when nothing was collected, else every broken field.
fn all_valid(errors: FieldErrors) -> Result<(), PlansError> {
    errors.check_with(PlansError::Invalid)
}
