//! Drives as a service (issue 13): one vehicle-day with its ordered stops, made from an
//! accepted plan or by hand, moved through its states (`crate::domain::drive`), and the
//! preparation checklists of its stops.
//!
//! - [`lifecycle`]: make a drive by hand ([`lifecycle::create`]) or one per route of an
//!   accepted plan ([`lifecycle::accept_plan`]), move it ([`lifecycle::transition`]: publish,
//!   start, complete, cancel with its bookings), and the reads ([`find_for`], [`list`],
//!   [`stops_in_reach`]);
//! - [`checklists`]: a station's template (read, replace), a drive's checklist, ticking items
//!   done or undone, what is due;
//! - [`signup`]: group drives at host organisations (issue 16): a host stop's sign-up goal,
//!   the contact's private sign-up link (made, replaced, revoked) and the sheet it opens;
//! - [`overview`]: what the station's drive pages read (a calendar of drives, one drive with
//!   its checklists and bookings, who a cancellation would tell).
//!
//! Each use case is one function taking a connection, its command (owned here; the API
//! converts its bodies), who acts ([`Acting`]) and `now` (the drive-day rule reads the day
//! from it, so the caller passes the settable clock's time). The rules, the audit records and
//! the transaction live here; errors are [`DrivesError`] (no HTTP), mapped to problem+json by
//! the one `From` impl in `crate::error`. Versioned changes go through
//! [`crate::versioned::update`].

pub mod checklists;
pub mod lifecycle;
pub mod overview;
pub mod signup;

use entity::{checklist_item, drive, drive_stop};
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::account::Principal;
use crate::domain::policy::{self, Action, Decision, Resource, Visibility};
use crate::domain::region::RegionCode;
use crate::error::{FieldError, FieldErrors};
use crate::store::audit::Actor;
use crate::store::drives as store;
pub use crate::store::drives::{DriveFilter, StopsAt};
use crate::versioned::Versioned;

pub use lifecycle::{Effects, NewDrive, NewStop, Transition};

/// Why a drive or checklist use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum DrivesError {
    /// Fields that break a rule, every one named (`invalid vehicle_id, stops[1].planned_end`).
    #[error("invalid {}", crate::error::field_names(.0))]
    Invalid(Vec<FieldError>),
    /// One field that breaks a rule (`invalid to: …`).
    #[error("invalid {field}: {message}")]
    InvalidField { field: String, message: String },
    /// Stops whose site lies outside the drive's region, each named.
    #[error("{detail}")]
    OutsideRegion {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The record does not exist (or lies outside what the caller may see).
    #[error("{0}")]
    NotFound(String),
    /// The policy said no; `what` names the resource (`drive with id 7`).
    #[error("{decision:?}: {what}")]
    Denied { decision: Decision, what: String },
    /// The change does not fit the record's state (a plan accepted twice, a vehicle taken
    /// that day, a move the drive cannot make now, a cancelled drive's checklist).
    #[error("{0}")]
    Conflict(String),
    /// A stored row that does not read back (a fault of ours).
    #[error("{0}")]
    Corrupt(String),
    /// What the bookings service answered (opening slots, cancelling bookings with a drive).
    #[error(transparent)]
    Bookings(#[from] crate::bookings::BookingsError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl DrivesError {
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        DrivesError::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// `Ok` when nothing was collected, else every collected field.
fn checked(errors: FieldErrors) -> Result<(), DrivesError> {
    errors.check_with(DrivesError::Invalid)
}

/// Who acts: the name the audit log and `created_by`/`updated_by` record, and whose rights
/// the policy checks.
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

    /// The policy's answer for `action` on `resource`.
    ///
    /// # Errors
    /// [`DrivesError::Denied`] naming the resource with `what`.
    pub fn authorize(
        &self,
        action: Action,
        resource: Resource<'_>,
        what: impl FnOnce() -> String,
    ) -> Result<(), DrivesError> {
        if self.trusted {
            return Ok(());
        }
        match policy::can(self.principal, action, resource) {
            Decision::Allow => Ok(()),
            decision => Err(DrivesError::Denied {
                decision,
                what: what(),
            }),
        }
    }

    /// True when the policy allows `action` on `resource`.
    fn allows(&self, action: Action, resource: Resource<'_>) -> bool {
        self.trusted || policy::can(self.principal, action, resource) == Decision::Allow
    }

    /// Where the caller reads (`None`: anonymous; everything for a trusted load).
    fn reach(&self) -> Option<Visibility> {
        if self.trusted {
            return Some(Visibility::All);
        }
        self.principal.map(policy::read_scope)
    }

    /// Whether the caller may read the registry of the region given as text.
    fn reads_registry(&self, code: &str) -> bool {
        RegionCode::parse(code)
            .is_ok_and(|c| self.allows(Action::Read, Resource::Registry(Some(&c))))
    }

    fn username(&self) -> Option<String> {
        self.actor.name.clone()
    }
}

impl Versioned for drive::Model {
    fn version(&self) -> i32 {
        self.version
    }
}

impl Versioned for checklist_item::Model {
    fn version(&self) -> i32 {
        self.version
    }
}

fn corrupt(id: i64, e: impl std::fmt::Display) -> DrivesError {
    DrivesError::Corrupt(format!("drive {id}: {e}"))
}

fn region_of(m: &drive::Model) -> Result<RegionCode, DrivesError> {
    RegionCode::parse(&m.region_code).map_err(|e| corrupt(m.id, e))
}

/// Drive `id` if `acting` may do `action` to it (hidden outside its read scope, forbidden
/// outside its write scope).
///
/// # Errors
/// [`DrivesError::NotFound`], [`DrivesError::Denied`]; the database fails.
pub async fn find_for(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
    action: Action,
    id: i64,
) -> Result<drive::Model, DrivesError> {
    let model = store::find(db, id)
        .await?
        .ok_or_else(|| DrivesError::NotFound(format!("no drive with id {id}")))?;
    let code = region_of(&model)?;
    acting.authorize(Action::Read, Resource::Plan(&code), || {
        format!("drive with id {id}")
    })?;
    if action != Action::Read {
        acting.authorize(action, Resource::Plan(&code), || {
            format!("drive with id {id}")
        })?;
    }
    Ok(model)
}

/// The stops of `drive_id` that `acting` reads: all of them, as a drive's region holds its
/// stops (drives made before that rule may not, and a stop outside the caller's read scope
/// does not exist for them). None for an anonymous caller.
///
/// # Errors
/// The database fails.
pub async fn stops_in_reach(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
    drive_id: i64,
) -> Result<Vec<drive_stop::Model>, DrivesError> {
    let Some(reach) = acting.reach() else {
        return Ok(Vec::new());
    };
    Ok(store::stops(db, drive_id)
        .await?
        .into_iter()
        .filter(|s| RegionCode::parse(&s.region_code).is_ok_and(|c| reach.contains(&c)))
        .collect())
}

/// The drives matching `filter` inside what `acting` reads, newest first (`filter.reach` is
/// set from the caller).
///
/// # Errors
/// The database fails.
pub async fn list(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
    mut filter: DriveFilter,
) -> Result<Vec<drive::Model>, DrivesError> {
    let Some(reach) = acting.reach() else {
        return Ok(Vec::new());
    };
    filter.reach = Some(reach);
    Ok(store::list(db, &filter).await?)
}

/// The stops held `at` (a point, or the sites in a region's subtree) that `acting` reads,
/// each with its drive, the latest first; at most `limit`. None for an anonymous caller.
///
/// # Errors
/// The database fails.
pub async fn held_at(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
    at: &StopsAt,
    limit: u64,
) -> Result<Vec<(drive_stop::Model, drive::Model)>, DrivesError> {
    let Some(reach) = acting.reach() else {
        return Ok(Vec::new());
    };
    Ok(store::stops_at(db, at, limit)
        .await?
        .into_iter()
        .filter(|(stop, drive)| {
            [&stop.region_code, &drive.region_code]
                .iter()
                .all(|c| RegionCode::parse(c).is_ok_and(|c| reach.contains(&c)))
        })
        .collect())
}

/// All the stops of drive `drive_id`, in order (for a caller already allowed to read it).
///
/// # Errors
/// The database fails.
pub async fn stops(
    db: &impl ConnectionTrait,
    drive_id: i64,
) -> Result<Vec<drive_stop::Model>, DbErr> {
    store::stops(db, drive_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_every_field_in_order() {
        let err = DrivesError::Invalid(vec![
            FieldError::new("vehicle_id", "no vehicle with id 9"),
            FieldError::new("stops[1].planned_end", "must be after planned_start"),
        ]);
        assert_eq!(err.to_string(), "invalid vehicle_id, stops[1].planned_end");
    }
}
