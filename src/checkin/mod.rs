//! Check-in and results as a service (issue 6, moved here by issue 13): people checked in at a
//! stop, booked or walk-in, what came of it (outcomes, corrections after completion), and the
//! results of stops, drives and completed drives over time.
//!
//! Each use case is one function taking a connection (writes open their own transaction),
//! its command (owned here; the API converts its bodies into them), who acts ([`Staff`]) or
//! what they may read ([`Visibility`](crate::domain::policy::Visibility)), and `now`; the
//! rules, the audit record and the transaction boundary live here. Errors are
//! [`CheckinError`], which knows nothing of HTTP (`crate::error` maps it to problem+json).
//!
//! Who may act on a stop or drive is decided before calling (the handlers ask the policy);
//! the rules that depend on the drive's state (open for check-in, locked once completed,
//! corrections by admins only) are decided here.
//!
//! - [`attendances`]: the check-in screen, check in (booked or walk-in), change an outcome
//!   (through [`crate::versioned::update`]), correct completed results;
//! - [`results`]: a stop's and a drive's results, the cross-drive report, the CSV/XLSX export.

pub mod attendances;
pub mod results;

use entity::drive;
use sea_orm::DbErr;

use crate::domain::account::Principal;
use crate::domain::drive::DriveStatus;
use crate::domain::policy::{self, Action, Decision, Resource};
use crate::domain::region::RegionCode;
use crate::error::{FieldError, FieldErrors};
use crate::store::audit::Actor;

pub use attendances::{AttendanceChange, CheckIn};
pub use results::{ExportFormat, GroupBy, ReportQuery, ResultsReport, ResultsRow, ResultsTotals};

/// Why a check-in or results use case refused or failed, independent of HTTP.
#[derive(Debug, thiserror::Error)]
pub enum CheckinError {
    /// Fields that break a rule, every one named (`invalid name, outcome`).
    #[error("invalid {}", .0.iter().map(|e| e.field.as_str()).collect::<Vec<_>>().join(", "))]
    Invalid(Vec<FieldError>),
    /// One field that breaks a rule (`invalid name: a name is needed`).
    #[error("invalid {field}: {message}")]
    InvalidField { field: String, message: String },
    /// The record does not exist (or lies outside what the caller may see).
    #[error("{0}")]
    NotFound(String),
    /// The caller may see it but not do this (a completed drive's results, for non-admins).
    #[error("{0}")]
    Forbidden(String),
    /// The drive's state does not allow it, or the booking does not admit the person.
    #[error("{0}")]
    Conflict(String),
    /// A stored row that does not read back (a fault of ours).
    #[error("{0}")]
    Corrupt(String),
    /// An export could not be written (a fault of ours).
    #[error(transparent)]
    Export(anyhow::Error),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CheckinError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        CheckinError::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn corrupt(what: &str, id: i64, e: impl std::fmt::Display) -> Self {
        CheckinError::Corrupt(format!("{what} {id}: {e}"))
    }
}

/// `Ok` when nothing was collected, else every collected field.
fn checked(errors: FieldErrors) -> Result<(), CheckinError> {
    errors.check_with(CheckinError::Invalid)
}

/// Who acts: the signed-in account (its role decides corrections; its read scope which
/// bookings at other stops it may learn of) and the name the audit log records.
#[derive(Debug, Clone)]
pub struct Staff<'a> {
    pub actor: Actor,
    pub principal: &'a Principal,
    /// The site's public address (`--public-url`), for the link in the message a donor who
    /// joins the roster at check-in is sent.
    pub public_url: Option<&'a str>,
}

impl Staff<'_> {
    /// Whether this account reads the drives and stops of `region_code`.
    fn reads(&self, region_code: &str) -> bool {
        RegionCode::parse(region_code).is_ok_and(|code| {
            policy::can(Some(self.principal), Action::Read, Resource::Plan(&code))
                == Decision::Allow
        })
    }
}

/// The drive's status as stored.
///
/// # Errors
/// [`CheckinError::Corrupt`] when it does not read back.
pub fn status_of(d: &drive::Model) -> Result<DriveStatus, CheckinError> {
    d.status
        .parse()
        .map_err(|e: String| CheckinError::corrupt("drive", d.id, e))
}
