//! Blood inventory and emergency linkage between stations as a service (issue 17).
//!
//! - [`stock`]: each station posts its stock per component and ABO/Rh group (units, mL,
//!   average daily use) as a sheet with `If-Match`; days of supply and warning levels
//!   ([`crate::domain::inventory`]); the levels per group; the history every change appends
//!   to; the province-wide board; the planner's [`supply_by_group`]; and the recruitment need
//!   a red level raises by itself.
//! - [`linkage`]: a station requests blood, others offer, the requester accepts one offer (a
//!   conditional update on the request's version), the offering station dispatches (its stock
//!   down, the requester's incoming up, in one transaction) and the requester receives.
//!
//! Every admin and station staff member of the deployment reads every station's figures
//! (the board is province-wide); a station's figures, requests and offers are changed only by
//! callers whose write scope holds the station's region (`Resource::Inventory`). Township
//! officials and viewers are refused (403). Every change is audited in its transaction.

pub mod linkage;
pub mod stock;

use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::account::{Principal, Role};
use crate::domain::policy::{self, Action, Decision, Resource};
use crate::domain::region::RegionCode;
use crate::error::FieldError;
use crate::store::audit::Actor;

pub use stock::{GroupSupply, supply_by_group};

/// Why an inventory use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// Fields that break a rule, every one named (`rows[2].units`).
    #[error("invalid {}", crate::error::field_names(.0))]
    Invalid(Vec<FieldError>),
    /// The record does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The policy said no; `what` names the resource.
    #[error("{decision:?}: {what}")]
    Denied { decision: Decision, what: String },
    /// The state does not allow it (a request no longer open, stock short now).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl InventoryError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        InventoryError::Invalid(vec![FieldError::new(field, message)])
    }
}

/// How a versioned change ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Written<T> {
    /// Written: the record as it now is.
    Done(T),
    /// The version expected was not the current one: the record as it now is (412).
    Stale(T),
}

/// Who acts: the audit actor and the signed-in principal the policy checks (none for a
/// trusted internal call: the command line, the demo data).
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

    /// The policy's answer for `action` on the inventory of a station in `region`.
    fn authorize(
        &self,
        action: Action,
        region: &str,
        what: impl FnOnce() -> String,
    ) -> Result<(), InventoryError> {
        if self.trusted {
            return Ok(());
        }
        let decision = match RegionCode::parse(region) {
            Ok(code) => policy::can(self.principal, action, Resource::Inventory(&code)),
            Err(_) if self.principal.is_none() => Decision::Unauthenticated,
            Err(_) => Decision::Forbidden,
        };
        match decision {
            Decision::Allow => Ok(()),
            decision => Err(InventoryError::Denied {
                decision,
                what: what(),
            }),
        }
    }

    /// Anyone who reads the board: admins and station staff (of any region).
    fn require_reader(&self) -> Result<(), InventoryError> {
        if self.trusted {
            return Ok(());
        }
        match self.principal {
            None => Err(InventoryError::Denied {
                decision: Decision::Unauthenticated,
                what: "the blood inventory".to_owned(),
            }),
            Some(p) if matches!(p.role, Role::Admin | Role::StationStaff) => Ok(()),
            Some(_) => Err(InventoryError::Denied {
                decision: Decision::Forbidden,
                what: "the blood inventory".to_owned(),
            }),
        }
    }

    /// Whether the caller may change the figures of a station in `region` (for pages: which
    /// stations to offer a form for).
    pub fn may_edit(&self, region: &str) -> bool {
        self.authorize(Action::Update, region, String::new).is_ok()
    }

    fn username(&self) -> Option<String> {
        self.actor.name.clone()
    }
}

/// The station, which must exist, and that the caller may act on as `action`.
async fn station_for(
    db: &impl ConnectionTrait,
    station_id: i64,
    action: Action,
    acting: &Acting<'_>,
) -> Result<entity::station::Model, InventoryError> {
    acting.require_reader()?;
    let station = crate::store::fleet::find_station(db, station_id)
        .await?
        .ok_or_else(|| InventoryError::NotFound(format!("no station with id {station_id}")))?;
    acting.authorize(action, &station.region_code, || {
        format!("the inventory of station {station_id}")
    })?;
    Ok(station)
}

/// The station as a field of a command: it must exist, and the caller must be able to change
/// its figures (`field` names it in the error).
async fn own_station(
    db: &impl ConnectionTrait,
    field: &str,
    station_id: i64,
    acting: &Acting<'_>,
) -> Result<entity::station::Model, InventoryError> {
    acting.require_reader()?;
    let station = crate::store::fleet::find_station(db, station_id)
        .await?
        .ok_or_else(|| {
            InventoryError::invalid(field, format!("no station with id {station_id}"))
        })?;
    acting.authorize(Action::Update, &station.region_code, || {
        format!("the inventory of station {station_id}")
    })?;
    if station.status != "active" {
        return Err(InventoryError::invalid(
            field,
            format!("station {station_id} is closed"),
        ));
    }
    Ok(station)
}
