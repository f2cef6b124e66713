//! The fleet as a service: blood stations and their bloodmobiles (issue 5), registered,
//! changed, closed and retired. Each use case takes a connection or transaction, its command
//! (owned here; the API converts its request bodies into them), the acting account and `now`;
//! it checks every rule, writes its audit record and owns its transaction boundary (creates
//! run in the caller's transaction, so that the demo seed can load a whole network in one).
//!
//! Who may do what is the caller's business (the handlers ask the policy before calling):
//! these functions trust their actor.
//!
//! Changes go through [`crate::versioned::update`]: a stale version answers
//! [`Outcome::Stale`](crate::versioned::Outcome) with the current row.

pub mod stations;
pub mod vehicles;

use crate::domain::region::RegionCode;
use crate::error::{FieldError, FieldErrors};

pub use crate::store::fleet::FleetFilter;
pub use stations::{NewStation, StationPatch};
pub use vehicles::{NewVehicle, VehiclePatch};

/// The region the policy decides a station by, and everything kept where it is (its vehicles):
/// ask `policy::can(…, Resource::Registry(station_region(&station).as_ref()))`. `None` for a
/// stored code that does not parse (reachable only by those who reach everything).
#[must_use]
pub fn station_region(station: &entity::station::Model) -> Option<RegionCode> {
    RegionCode::parse(&station.region_code).ok()
}

/// Why a fleet use case refused, independent of HTTP (`crate::error` maps it to a response).
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// Fields that break a rule, every one of them.
    #[error("invalid {}", crate::error::field_names(.0))]
    Invalid(Vec<FieldError>),
    /// One field that breaks a rule found while writing (the station of a vehicle).
    #[error("invalid {field}: {message}")]
    InvalidField { field: String, message: String },
    /// Another vehicle has this plate (anywhere in the registry).
    #[error(
        "this plate cannot be recorded: a plate is recorded once in the whole registry, shared by \
         every city on this service; find the vehicle among your stations' or ask the blood station"
    )]
    PlateTaken,
    /// A station still running vehicles cannot close.
    #[error(
        "{station} still has {active} active vehicle(s); retire them or move them to another station first"
    )]
    StationInUse { station: String, active: u64 },
    /// A record that should be there is not (gone between two reads).
    #[error("{0}")]
    NotFound(String),
    /// A stored row that does not read back (a fault of ours).
    #[error("{0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl FleetError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        FleetError::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// `Ok` when no field error was collected.
fn checked(errors: FieldErrors) -> Result<(), FleetError> {
    errors.check_with(FleetError::Invalid)
}
