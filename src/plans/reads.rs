//! What the plan handlers read: plans, and for naming a plan's stops and hiding the stations
//! a caller cannot read, the points, coordinators, regions and stations they name.

use entity::{coordinator, host, plan, point, point_coordinator, station};
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::region::RegionCode;
use crate::store;

pub use crate::store::plans::{PlanFilter, PlanSummary};

/// Plan `id`, if there is one.
///
/// # Errors
/// The database fails.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<plan::Model>, DbErr> {
    store::plans::find(db, id).await
}

/// The plans matching `filter`, newest first.
///
/// # Errors
/// The database fails.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &PlanFilter,
) -> Result<Vec<PlanSummary>, DbErr> {
    store::plans::list(db, filter).await
}

/// Point `id` (a plan's stop), if there is one.
///
/// # Errors
/// The database fails.
pub async fn point(db: &impl ConnectionTrait, id: i64) -> Result<Option<point::Model>, DbErr> {
    store::points::find(db, id).await
}

/// Host organisation `id` (a plan's group-drive stop), if there is one.
///
/// # Errors
/// The database fails.
pub async fn host(db: &impl ConnectionTrait, id: i64) -> Result<Option<host::Model>, DbErr> {
    store::hosts::find(db, id).await
}

/// The coordinators of point `id`, each with its link.
///
/// # Errors
/// The database fails.
pub async fn coordinators_of_point(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Vec<(point_coordinator::Model, coordinator::Model)>, DbErr> {
    store::coordinators::of_point(db, id).await
}

/// The name of region `code`, if there is one.
///
/// # Errors
/// The database fails.
pub async fn region_name(
    db: &impl ConnectionTrait,
    code: &RegionCode,
) -> Result<Option<String>, DbErr> {
    Ok(store::regions::find(db, code).await?.map(|r| r.name))
}

/// Station `id`, if there is one.
///
/// # Errors
/// The database fails.
pub async fn station(db: &impl ConnectionTrait, id: i64) -> Result<Option<station::Model>, DbErr> {
    store::fleet::find_station(db, id).await
}
