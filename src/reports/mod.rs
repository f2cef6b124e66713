//! Reports over the registry as a service: the summary of the network in a region
//! ([`summary`]), the coverage of its villages with suggested new points ([`coverage`]) and
//! what a township official should fix next ([`gaps`]), and what a region's map draws
//! ([`map`], for the official's pages). Each is one function taking the
//! database, the region (read through `registry::regions::read`, so within the acting
//! account's reach), its options and `now`, and returning the report as a value; errors are
//! [`RegistryError`]s (no HTTP). The handlers in `src/api/summary.rs`, `coverage.rs` and
//! `reports.rs` check the parameters, call one function and render (JSON, GeoJSON, CSV).

pub mod coverage;
pub mod gaps;
pub mod map;
pub mod operations;
pub mod summary;

use sea_orm::ConnectionTrait;

use crate::domain::point::PointStatus;
use crate::geo::Wgs84Point;
use crate::geo::coverage::SiteIndex;
use crate::registry::RegistryError;
use crate::store::points;
use crate::store::surveys::VillageFact;

/// The radius within which a village counts as covered by an active point.
pub const COVERAGE_RADIUS_KM: f64 = 5.0;
/// A current survey older than this many days is stale.
pub const STALE_SURVEY_DAYS: u64 = 365;

/// For each place, the distance in km to the nearest active point within
/// [`COVERAGE_RADIUS_KM`] (wherever the point is registered), or `None`: beyond the radius, or
/// the place has no known location.
///
/// # Errors
/// The database fails.
pub async fn nearest_active_points(
    db: &impl ConnectionTrait,
    places: &[Option<Wgs84Point>],
) -> Result<Vec<Option<f64>>, RegistryError> {
    nearest_active_points_within(db, places, COVERAGE_RADIUS_KM).await
}

/// As [`nearest_active_points`], within `radius_km`.
///
/// # Errors
/// The database fails.
pub async fn nearest_active_points_within(
    db: &impl ConnectionTrait,
    places: &[Option<Wgs84Point>],
    radius_km: f64,
) -> Result<Vec<Option<f64>>, RegistryError> {
    let Some(bounds) = places
        .iter()
        .flatten()
        .fold(None, |b: Option<(f64, f64, f64, f64)>, p| {
            let (a, c, d, e) = b.unwrap_or((p.lon(), p.lat(), p.lon(), p.lat()));
            Some((
                a.min(p.lon()),
                c.min(p.lat()),
                d.max(p.lon()),
                e.max(p.lat()),
            ))
        })
    else {
        return Ok(vec![None; places.len()]);
    };
    // The places' box, grown by the radius on every side.
    let (min_lon, _, _, max_lat) = Wgs84Point::stored(bounds.0, bounds.3).bounding_box(radius_km);
    let (_, min_lat, max_lon, _) = Wgs84Point::stored(bounds.2, bounds.1).bounding_box(radius_km);
    let active = points::locations(
        db,
        &[PointStatus::Active],
        (min_lon, min_lat, max_lon, max_lat),
    )
    .await?;
    let index = SiteIndex::new(
        active
            .into_iter()
            .map(|(lon, lat)| Wgs84Point::stored(lon, lat))
            .collect(),
    );
    Ok(places
        .iter()
        .map(|place| place.and_then(|p| index.nearest_within(p, radius_km)))
        .collect())
}

/// Where a village is, when known.
#[must_use]
pub fn location(v: &VillageFact) -> Option<Wgs84Point> {
    Some(Wgs84Point::stored(v.longitude?, v.latitude?))
}
