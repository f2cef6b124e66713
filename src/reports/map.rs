//! What a region's map draws, for the township official's pages: the townships (their
//! centres), the villages (centres and eligible donors of their current survey) and the points
//! (every status) of the region, and the coverage radius around active points. Coordinates are
//! WGS-84 as stored; the page shifts them for GCJ-02 tiles.

use entity::point;
use sea_orm::ConnectionTrait;

use super::COVERAGE_RADIUS_KM;
use crate::domain::point::PointStatus;
use crate::domain::region::{Level, Region, RegionCode};
use crate::registry::regions;
use crate::registry::{Acting, RegistryError};
use crate::store::points::{self, PointFilter};
use crate::store::regions::{self as region_store, RegionFilter};
use crate::store::surveys::{self, VillageFact};

/// At most this many townships are drawn (a county has a few dozen).
const MAX_TOWNSHIPS: u64 = 500;

/// A region's map.
#[derive(Debug)]
pub struct RegionMap {
    pub region: Region,
    /// The townships in the region (the region itself when it is one), in code order.
    pub townships: Vec<Region>,
    /// Every village-level unit in the region with its current survey, in code order.
    pub villages: Vec<VillageFact>,
    /// Every point serving the region or a unit below it, closed ones included, in id order.
    pub points: Vec<point::Model>,
    /// Active points cover the villages within this radius.
    pub radius_km: f64,
}

/// The map of region `code`, when the acting account may read it.
///
/// # Errors
/// [`RegistryError::Denied`] outside its reach, [`RegistryError::NotFound`] when there is no
/// such region, or the database fails.
pub async fn of_region(
    db: &impl ConnectionTrait,
    code: &RegionCode,
    acting: &Acting<'_>,
) -> Result<RegionMap, RegistryError> {
    let region = regions::read(db, code, acting).await?;
    let (lo, hi) = code.subtree_bounds(region.level);
    let townships = match region.level {
        Level::Township => vec![region.clone()],
        Level::Village => vec![],
        _ => {
            region_store::list(
                db,
                &RegionFilter {
                    parent: Some((code.clone(), region.level)),
                    level: Some(Level::Township),
                    name_contains: None,
                    after: None,
                    limit: MAX_TOWNSHIPS,
                    reach: None,
                },
            )
            .await?
        }
    };
    let villages = surveys::village_facts(db, &lo, &hi).await?;
    let points = points::list(
        db,
        &PointFilter {
            region_range: Some((lo, hi)),
            statuses: PointStatus::ALL.to_vec(),
            ..PointFilter::default()
        },
    )
    .await?;
    Ok(RegionMap {
        region,
        townships,
        villages,
        points,
        radius_km: COVERAGE_RADIUS_KM,
    })
}
