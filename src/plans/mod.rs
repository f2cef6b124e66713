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
//! - `forecast`: the turnout forecast of a site on a date, explained village by village;
//! - `value`: what a site's donors are worth when blood groups run short (the villages'
//!   blood-group mix times the groups' weights from the station's days of supply);
//! - `show`: a plan as its reader sees it (named, redacted), its routes checked, as edited on
//!   the planner's page too (`edit`), and as route sheets.

pub mod build;
pub mod edit;
pub mod export;
pub mod forecast;
pub mod reads;
pub mod request;
pub mod result;
pub mod runs;
pub mod show;
pub mod submit;
pub mod value;

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
    /// The policy refused (401, 403, or 404 as if the plan did not exist).
    #[error(transparent)]
    Denied(#[from] crate::domain::policy::Denied),
    /// The plan is not in a state that allows this (not done; no instance).
    #[error("{0}")]
    Conflict(String),
    /// Plan `0`'s instance holds stations the reader cannot read (403): the instance, and
    /// checks against it, are for those who read every station in it.
    #[error(
        "plan {0}'s instance holds the fleet of stations outside your area; it is for those \
         who read every station in it"
    )]
    BeyondReach(i64),
    /// An instance given inline (to check routes against) cannot be planned (`instance.…`).
    #[error("the instance is inconsistent: {}: {}", .0.field, .0.message)]
    InlineInstance(InvalidInstance),
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
