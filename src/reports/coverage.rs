//! Which villages lie within reach of an active donation point, which do not (most eligible
//! donors first), and where `K` new points would reach the most of those left out (greedy
//! maximum coverage, `planning::coverage`).

use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;

use super::{location, nearest_active_points_within};
use crate::domain::region::{Level, RegionCode};
use crate::geo::Wgs84Point;
use crate::planning::coverage::{Demand, greedy_max_coverage};
use crate::registry::regions;
use crate::registry::{Acting, RegistryError};
use crate::store::regions::{self as region_store, RegionFilter};
use crate::store::surveys;

/// What to report: a village is covered when an active point lies within `radius_km`;
/// `suggest` new point locations; at most `limit` uncovered villages listed.
#[derive(Debug, Clone)]
pub struct CoverageQuery {
    pub region: RegionCode,
    pub radius_km: f64,
    pub suggest: usize,
    pub limit: usize,
}

/// A village out of reach.
#[derive(Debug, Serialize, ToSchema)]
pub struct UncoveredVillage {
    pub code: String,
    pub name: String,
    /// From the current survey (0 when never surveyed).
    pub eligible_total: i64,
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub longitude: f64,
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub latitude: f64,
}

/// A suggested new point.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    /// 1 for the first pick.
    pub rank: usize,
    /// The township or village to put it in (at its recorded centre).
    pub code: String,
    pub name: String,
    pub level: Level,
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub longitude: f64,
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub latitude: f64,
    /// Eligible donors newly within reach with this pick (after the earlier picks).
    pub gain_eligible: i64,
    /// The villages newly within reach.
    pub covers: Vec<String>,
}

/// The coverage of a region's villages.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageReport {
    pub region_code: String,
    pub radius_km: f64,
    pub villages: u64,
    /// Villages with no recorded centre: their coverage is unknown.
    pub villages_without_location: u64,
    pub villages_covered: u64,
    /// Eligible donors in all villages (current surveys).
    pub eligible_total: i64,
    pub eligible_covered: i64,
    pub villages_uncovered: u64,
    /// Located uncovered villages, most eligible first, at most `limit`.
    pub uncovered: Vec<UncoveredVillage>,
    pub suggestions: Vec<Suggestion>,
}

/// The coverage report of `query.region`, when the acting account may read it.
///
/// # Errors
/// [`RegistryError::Denied`] outside its reach, [`RegistryError::NotFound`] when there is no
/// such region.
pub async fn report(
    db: &impl ConnectionTrait,
    query: &CoverageQuery,
    acting: &Acting<'_>,
) -> Result<CoverageReport, RegistryError> {
    let CoverageQuery {
        region: code,
        radius_km,
        suggest: k,
        limit,
    } = query;
    let (radius_km, k, limit) = (*radius_km, *k, *limit);
    let region = regions::read(db, code, acting).await?;
    let (lo, hi) = code.subtree_bounds(region.level);
    let villages = surveys::village_facts(db, &lo, &hi).await?;
    let places: Vec<Option<Wgs84Point>> = villages.iter().map(location).collect();
    let nearest = nearest_active_points_within(db, &places, radius_km).await?;
    let eligible = |i: usize| villages[i].eligible_total.map_or(0, i64::from);

    // Uncovered and located: the demands of the greedy.
    let mut uncovered: Vec<usize> = (0..villages.len())
        .filter(|i| places[*i].is_some() && nearest[*i].is_none())
        .collect();
    uncovered.sort_by(|a, b| {
        eligible(*b)
            .cmp(&eligible(*a))
            .then_with(|| villages[*a].code.cmp(&villages[*b].code))
    });

    // Candidates: the region itself if a township, the townships below it, and the villages,
    // wherever a centre is recorded; in code order (ties go to the lower code).
    let mut candidates: Vec<(String, String, Level, Wgs84Point)> = Vec::new();
    if k > 0 {
        let mut townships = region_store::list(
            db,
            &RegionFilter {
                parent: Some((code.clone(), region.level)),
                level: Some(Level::Township),
                name_contains: None,
                after: None,
                limit: 1_000_000,
                reach: None,
            },
        )
        .await?;
        if region.level == Level::Township {
            townships.push(region.clone());
        }
        for t in townships {
            if let (Some(lon), Some(lat)) = (t.longitude, t.latitude) {
                candidates.push((
                    t.code.to_string(),
                    t.name,
                    Level::Township,
                    Wgs84Point::stored(lon, lat),
                ));
            }
        }
        for (v, place) in villages.iter().zip(&places) {
            if let Some(place) = place {
                candidates.push((v.code.clone(), v.name.clone(), Level::Village, *place));
            }
        }
        candidates.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let demands: Vec<Demand> = uncovered
        .iter()
        .map(|i| Demand {
            location: places[*i].expect("located"),
            weight: eligible(*i) as f64,
        })
        .collect();
    let locations: Vec<Wgs84Point> = candidates.iter().map(|c| c.3).collect();
    let suggestions: Vec<Suggestion> = greedy_max_coverage(&demands, &locations, radius_km, k)
        .into_iter()
        .enumerate()
        .map(|(n, pick)| {
            let (c_code, name, level, place) = &candidates[pick.candidate];
            let mut covers: Vec<String> = pick
                .covers
                .iter()
                .map(|d| villages[uncovered[*d]].code.clone())
                .collect();
            covers.sort();
            Suggestion {
                rank: n + 1,
                code: c_code.clone(),
                name: name.clone(),
                level: *level,
                longitude: place.lon(),
                latitude: place.lat(),
                gain_eligible: pick.gain.round() as i64,
                covers,
            }
        })
        .collect();

    let covered = (0..villages.len()).filter(|i| nearest[*i].is_some());
    Ok(CoverageReport {
        region_code: code.to_string(),
        radius_km,
        villages: villages.len() as u64,
        villages_without_location: places.iter().filter(|p| p.is_none()).count() as u64,
        villages_covered: covered.clone().count() as u64,
        eligible_total: (0..villages.len()).map(eligible).sum(),
        eligible_covered: covered.map(eligible).sum(),
        villages_uncovered: uncovered.len() as u64,
        uncovered: uncovered
            .iter()
            .take(limit)
            .map(|i| {
                let place = places[*i].expect("located");
                UncoveredVillage {
                    code: villages[*i].code.clone(),
                    name: villages[*i].name.clone(),
                    eligible_total: eligible(*i),
                    longitude: place.lon(),
                    latitude: place.lat(),
                }
            })
            .collect(),
        suggestions,
    })
}
