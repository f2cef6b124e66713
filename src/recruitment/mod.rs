//! One-to-one recruitment as a service (issue 16): the roster of donors who agreed to be
//! contacted, and the call lists staff work through when a blood group runs short.
//!
//! - [`roster`]: enrol a donor with their consent (by staff, from a check-in, from a sheet),
//!   list them masked, show one whole number (audited), delete on request, withdraw through
//!   the link every message carries;
//! - [`calls`]: the rules (intervals between donations, days between calls), needs, the ranked
//!   list of eligible donors, splitting it among recruiters, each call's outcome, progress.
//!
//! The roster is personal information kept on consent (China's personal information law):
//! only admins and station staff of the donor's area see it (`Resource::Recruitment`), a
//! mobile is masked unless one is asked for (and that view is audited), and the audit log
//! records what changed without the donor's name or number, so a deletion leaves none behind.

pub mod calls;
pub mod roster;

use sea_orm::DbErr;

use crate::domain::account::Principal;
use crate::domain::policy::{self, Decision, Resource};
use crate::domain::region::RegionCode;
use crate::error::FieldError;
use crate::store::audit::Actor;

/// Why a recruitment use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RecruitmentError {
    /// Fields that break a rule, every one named.
    #[error("invalid {}", .0.iter().map(|e| e.field.as_str()).collect::<Vec<_>>().join(", "))]
    Invalid(Vec<FieldError>),
    /// The record does not exist (or lies outside what the caller may see).
    #[error("{0}")]
    NotFound(String),
    /// The policy said no; `what` names the resource.
    #[error("{decision:?}: {what}")]
    Denied { decision: Decision, what: String },
    /// The state does not allow it (a call already recorded, a need closed).
    #[error("{0}")]
    Conflict(String),
    /// A sheet larger than its limits (bytes or rows), refused before any row is read.
    #[error("{0}")]
    TooLarge(String),
    /// The mobile is on the roster already, perhaps beyond the caller's reach.
    #[error("{}", roster::MOBILE_ON_ROSTER)]
    MobileTaken,
    /// A booking made from a call was refused (a full or begun slot, the 180-day rule, …).
    #[error(transparent)]
    Bookings(crate::bookings::BookingsError),
    #[error(transparent)]
    Internal(anyhow::Error),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl RecruitmentError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        RecruitmentError::Invalid(vec![FieldError::new(field, message)])
    }

    fn not_found(what: impl std::fmt::Display) -> Self {
        RecruitmentError::NotFound(format!("no {what}"))
    }
}

/// Who acts: the audit actor and the signed-in principal the policy checks (none for a trusted
/// internal call: a check-in already authorized, the demo data).
#[derive(Debug, Clone)]
pub struct Acting<'a> {
    pub actor: Actor,
    principal: Option<&'a Principal>,
    trusted: bool,
}

impl<'a> Acting<'a> {
    pub fn caller(principal: Option<&'a Principal>, actor: Actor) -> Self {
        Acting {
            actor,
            principal,
            trusted: false,
        }
    }

    pub fn trusted(actor: Actor) -> Self {
        Acting {
            actor,
            principal: None,
            trusted: true,
        }
    }

    /// The policy's answer for recruitment in `region` (reading and writing alike).
    fn authorize(
        &self,
        region: &RegionCode,
        what: impl FnOnce() -> String,
    ) -> Result<(), RecruitmentError> {
        if self.trusted {
            return Ok(());
        }
        match policy::can(
            self.principal,
            policy::Action::Read,
            Resource::Recruitment(region),
        ) {
            Decision::Allow => Ok(()),
            decision => Err(RecruitmentError::Denied {
                decision,
                what: what(),
            }),
        }
    }

    /// Anyone signed in who may recruit somewhere (admins and station staff).
    fn require_recruiter(&self) -> Result<(), RecruitmentError> {
        if self.trusted {
            return Ok(());
        }
        match self.principal {
            None => Err(RecruitmentError::Denied {
                decision: Decision::Unauthenticated,
                what: "the donor roster".to_owned(),
            }),
            Some(p)
                if matches!(
                    p.role,
                    crate::domain::account::Role::Admin
                        | crate::domain::account::Role::StationStaff
                ) =>
            {
                Ok(())
            }
            Some(_) => Err(RecruitmentError::Denied {
                decision: Decision::Forbidden,
                what: "the donor roster".to_owned(),
            }),
        }
    }

    fn reach(&self) -> Option<policy::Visibility> {
        self.principal.map(policy::write_scope)
    }

    fn username(&self) -> Option<String> {
        self.actor.name.clone()
    }
}
