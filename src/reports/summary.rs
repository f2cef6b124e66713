//! The state of the network in any region, from a village to a province.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;

use super::{COVERAGE_RADIUS_KM, STALE_SURVEY_DAYS, location, nearest_active_points};
use crate::domain::point::PointStatus;
use crate::domain::region::{Region, RegionCode};
use crate::geo::Wgs84Point;
use crate::registry::regions::{self, RegionRef};
use crate::registry::{Acting, RegistryError};
use crate::store::points;
use crate::store::surveys::{self, VillageFact};

/// Villages within the coverage radius of an active point.
#[derive(Debug, Serialize, ToSchema)]
pub struct Coverage {
    pub radius_km: f64,
    /// Villages with a known location within the radius of an active point (the point may lie
    /// outside the region).
    pub villages_within: u64,
    /// Eligible donors (current surveys) of those villages.
    pub eligible_within: i64,
    /// `eligible_within` / `eligible_total`; null when nothing is surveyed.
    pub eligible_share: Option<f64>,
}

/// The network in one region.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkSummary {
    pub region: RegionRef,
    /// Village-level units in the region.
    pub villages: u64,
    pub villages_located: u64,
    pub villages_without_location: u64,
    /// Villages with at least one survey.
    pub villages_surveyed: u64,
    /// Villages whose current survey is more than 12 months old.
    pub surveys_older_than_12_months: u64,
    /// Sums over the current surveys.
    pub eligible_total: i64,
    pub away_for_work: i64,
    pub known_donors: i64,
    /// Points serving the region, by status (every status listed, zeros included).
    pub points_by_status: BTreeMap<String, u64>,
    /// Points that are not closed, by kind.
    pub points_by_kind: BTreeMap<String, u64>,
    pub coverage: Coverage,
}

/// The summary of region `code`, when the acting account may read it.
///
/// # Errors
/// [`RegistryError::Denied`] outside its reach, [`RegistryError::NotFound`] when there is no
/// such region.
pub async fn of_region(
    db: &impl ConnectionTrait,
    code: &RegionCode,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<NetworkSummary, RegistryError> {
    let region = regions::read(db, code, acting).await?;
    summarise(db, &region, now).await
}

/// The summary of `region` (whoever asks).
///
/// # Errors
/// The database fails.
pub async fn summarise(
    db: &impl ConnectionTrait,
    region: &Region,
    now: DateTime<Utc>,
) -> Result<NetworkSummary, RegistryError> {
    let (lo, hi) = region.code.subtree_bounds(region.level);
    let villages = surveys::village_facts(db, &lo, &hi).await?;
    let today = now.date_naive();
    let stale_before = today
        .checked_sub_days(Days::new(STALE_SURVEY_DAYS))
        .unwrap_or(today);

    let mut points_by_status: BTreeMap<String, u64> = PointStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    let mut points_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for (status, kind, n) in points::count_by_status_and_kind(db, &lo, &hi).await? {
        let n = u64::try_from(n).unwrap_or(0);
        *points_by_status.entry(status.clone()).or_default() += n;
        if status != PointStatus::Closed.as_str() {
            *points_by_kind.entry(kind).or_default() += n;
        }
    }

    let places: Vec<Option<Wgs84Point>> = villages.iter().map(location).collect();
    let nearest = nearest_active_points(db, &places).await?;
    let eligible = |v: &VillageFact| v.eligible_total.map_or(0, i64::from);
    let sum = |f: fn(&VillageFact) -> Option<i32>| {
        villages.iter().filter_map(f).map(i64::from).sum::<i64>()
    };
    let covered: Vec<&VillageFact> = villages
        .iter()
        .zip(&nearest)
        .filter(|(_, d)| d.is_some())
        .map(|(v, _)| v)
        .collect();
    let eligible_total: i64 = villages.iter().map(eligible).sum();
    let eligible_within: i64 = covered.iter().map(|v| eligible(v)).sum();
    let villages_located = places.iter().flatten().count() as u64;
    Ok(NetworkSummary {
        region: RegionRef::from(region),
        villages: villages.len() as u64,
        villages_located,
        villages_without_location: villages.len() as u64 - villages_located,
        villages_surveyed: villages.iter().filter(|v| v.surveyed_on.is_some()).count() as u64,
        surveys_older_than_12_months: villages
            .iter()
            .filter(|v| v.surveyed_on.is_some_and(|d| d < stale_before))
            .count() as u64,
        eligible_total,
        away_for_work: sum(|v| v.away_for_work),
        known_donors: sum(|v| v.known_donors),
        points_by_status,
        points_by_kind,
        coverage: Coverage {
            radius_km: COVERAGE_RADIUS_KM,
            villages_within: covered.len() as u64,
            eligible_within,
            eligible_share: (eligible_total > 0)
                .then(|| eligible_within as f64 / eligible_total as f64),
        },
    })
}
