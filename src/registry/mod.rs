//! The registry as a service (issue 13): donation points and their coordinators. Each use
//! case is one function taking a connection (or, for the `*_in` forms, the caller's write
//! transaction), a command owned by this module, the acting account ([`Acting`]) and `now`;
//! it checks the rules, asks the policy, writes the rows with their audit records in one
//! transaction and returns the stored rows, or a [`RegistryError`] that knows nothing of HTTP
//! (`crate::error` maps it to problem+json).
//!
//! - [`points`]: create, change and close a point (the kind-fits-level rule, the date bounds,
//!   the 15 km warning);
//! - [`coordinators`]: create, change and delete coordinators, assign them to points;
//! - [`hosts`]: host organisations of group drives (issue 16) and their contacts;
//! - [`talks`]: publicity talks (宣讲) given in villages, townships and at hosts (issue 16);
//! - [`surveys`]: record a village's donor survey, read its history;
//! - [`sheets`]: the survey sheet of a region's villages, downloaded and imported (all rows
//!   or none);
//! - [`regions`]: the scoped read of a region, listing, detail and the versioned change.

pub mod coordinators;
pub mod hosts;
pub mod points;
pub mod regions;
pub mod sheets;
pub mod surveys;
pub mod talks;

use sea_orm::DbErr;

use crate::domain::account::Principal;
use crate::domain::policy::{self, Action, Decision, Resource};
use crate::domain::region::RegionCode;
use crate::error::{FieldError, FieldErrors};
use crate::store::audit::Actor;

/// The answer to a mobile number that cannot be recorded.
pub const MOBILE_NOT_AVAILABLE: &str = "this mobile number cannot be recorded: a mobile \
     number is recorded once in the whole registry, shared by every city on this service; find \
     the person among your area's coordinators or ask the blood station";

/// Why a registry use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Fields that break a rule, every one named (`invalid name, kind`).
    #[error("invalid {}", .0.iter().map(|e| e.field.as_str()).collect::<Vec<_>>().join(", "))]
    Invalid(Vec<FieldError>),
    /// One field that breaks a rule (`invalid region_code: no region with code …`).
    #[error("invalid {field}: {message}")]
    InvalidField { field: String, message: String },
    /// The record does not exist (or lies outside what the caller may see).
    #[error("{0}")]
    NotFound(String),
    /// The policy said no; `what` names the resource (`point with id 7`).
    #[error("{decision:?}: {what}")]
    Denied { decision: Decision, what: String },
    /// The mobile number is recorded already (somewhere in the whole registry).
    #[error("{MOBILE_NOT_AVAILABLE}")]
    MobileTaken,
    /// The coordinator (named) still serves a point.
    #[error("{0} still serves a point; unassign them from every point first")]
    StillServes(String),
    /// An uploaded survey sheet with problems: `total` of them, the first
    /// [`sheets::MAX_LISTED_PROBLEMS`] listed (each with its row); nothing was changed.
    #[error("{}", sheets::problems(*total))]
    BadSheet {
        total: usize,
        errors: Vec<FieldError>,
    },
    /// The stored state changed under the use case (a village moved while its sheet was
    /// imported); nothing was changed, the client may send it again.
    #[error("{0}")]
    Conflict(String),
    /// The survey was entered beside another current survey than the village has now
    /// ([`surveys::NewSurvey::based_on`]); nothing was recorded. The current survey is here.
    #[error(
        "another survey of this village (id {}, {} people, surveyed on {}) became current after \
         the one this survey was based on; send based_on: {} to record it anyway",
        .0.id, .0.eligible_total, .0.surveyed_on, .0.id
    )]
    SurveyOutdated(Box<entity::village_survey::Model>),
    /// A stored row that does not read back (a fault of ours).
    #[error(transparent)]
    Corrupt(anyhow::Error),
    /// A fault of ours that is not the database's (a sheet reader that failed, a workbook that
    /// could not be written).
    #[error(transparent)]
    Internal(anyhow::Error),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl RegistryError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        RegistryError::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn not_found(what: impl std::fmt::Display) -> Self {
        RegistryError::NotFound(format!("no {what}"))
    }
}

/// `Ok` when nothing was collected, else every collected field.
fn checked(errors: FieldErrors) -> Result<(), RegistryError> {
    errors.check_with(RegistryError::Invalid)
}

/// The outcome of a versioned change: written, or refused because the row moved on (with the
/// row as it now is).
#[derive(Debug)]
pub enum Written<T, M> {
    Done(T),
    Stale(M),
}

/// Who acts: the name the audit log and `created_by`/`updated_by` record, and whose rights
/// the policy checks (none for trusted internal loads such as the demo data).
#[derive(Debug, Clone)]
pub struct Acting<'a> {
    pub actor: Actor,
    principal: Option<&'a Principal>,
    trusted: bool,
}

impl<'a> Acting<'a> {
    /// A signed-in (or anonymous) caller, checked by the policy.
    pub fn caller(principal: Option<&'a Principal>, actor: Actor) -> Self {
        Acting {
            actor,
            principal,
            trusted: false,
        }
    }

    /// An internal load (the demo data): every rule applies, the policy is not asked.
    pub fn trusted(actor: Actor) -> Self {
        Acting {
            actor,
            principal: None,
            trusted: true,
        }
    }

    /// Anyone signed in (or a trusted load); `what` names the resource.
    fn require(&self, what: impl FnOnce() -> String) -> Result<(), RegistryError> {
        if self.trusted || self.principal.is_some() {
            return Ok(());
        }
        Err(RegistryError::Denied {
            decision: Decision::Unauthenticated,
            what: what(),
        })
    }

    /// The policy's answer for `action` in the registry of `region`.
    fn authorize(
        &self,
        action: Action,
        region: Option<&RegionCode>,
        what: impl FnOnce() -> String,
    ) -> Result<(), RegistryError> {
        if self.trusted {
            return Ok(());
        }
        match policy::can(self.principal, action, Resource::Registry(region)) {
            Decision::Allow => Ok(()),
            decision => Err(RegistryError::Denied {
                decision,
                what: what(),
            }),
        }
    }

    fn username(&self) -> Option<String> {
        self.actor.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_every_field_once_in_order() {
        let err = RegistryError::Invalid(vec![
            FieldError::new("name", "is required"),
            FieldError::new("kind", "is required"),
        ]);
        assert_eq!(err.to_string(), "invalid name, kind");
    }

    #[test]
    fn trusted_loads_pass_the_policy_and_anonymous_callers_do_not() {
        let code = RegionCode::parse("990101000000").expect("a valid code");
        let trusted = Acting::trusted(Actor::demo_data());
        assert!(
            trusted
                .authorize(Action::Create, Some(&code), || "x".to_owned())
                .is_ok()
        );
        let anonymous = Acting::caller(None, Actor::default());
        assert!(matches!(
            anonymous.authorize(Action::Create, Some(&code), || "x".to_owned()),
            Err(RegistryError::Denied { .. })
        ));
    }
}
