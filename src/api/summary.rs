//! `GET /api/v1/regions/{code}/summary`: the state of the network in any region, from a
//! village to a province.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{Days, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::extract::Path;
use crate::api::regions::{CodePath, RegionRef};
use crate::domain::point::PointStatus;
use crate::domain::region::{Region, RegionCode};
use crate::error::{AppError, Problem};
use crate::geo::Wgs84Point;
use crate::geo::coverage::SiteIndex;
use crate::state::AppState;
use crate::store::points;
use crate::store::regions;
use crate::store::surveys::{self, VillageFact};

/// The radius within which a village counts as covered by an active point.
pub const COVERAGE_RADIUS_KM: f64 = 5.0;
/// A current survey older than this many days is stale.
pub const STALE_SURVEY_DAYS: u64 = 365;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(region_summary))
}

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

/// For each place, the distance in km to the nearest active point within
/// [`COVERAGE_RADIUS_KM`] (wherever the point is registered), or `None`: beyond the radius, or
/// the place has no known location.
pub async fn nearest_active_points(
    state: &AppState,
    places: &[Option<Wgs84Point>],
) -> Result<Vec<Option<f64>>, AppError> {
    nearest_active_points_within(state, places, COVERAGE_RADIUS_KM).await
}

/// As [`nearest_active_points`], within `radius_km`.
pub async fn nearest_active_points_within(
    state: &AppState,
    places: &[Option<Wgs84Point>],
    radius_km: f64,
) -> Result<Vec<Option<f64>>, AppError> {
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
        &state.db,
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
pub fn location(v: &VillageFact) -> Option<Wgs84Point> {
    Some(Wgs84Point::stored(v.longitude?, v.latitude?))
}

/// Computes the summary of `region`.
pub async fn summarise(state: &AppState, region: &Region) -> Result<NetworkSummary, AppError> {
    let (lo, hi) = region.code.subtree_bounds(region.level);
    let villages = surveys::village_facts(&state.db, &lo, &hi).await?;
    let today = Utc::now().date_naive();
    let stale_before = today
        .checked_sub_days(Days::new(STALE_SURVEY_DAYS))
        .unwrap_or(today);

    let mut points_by_status: BTreeMap<String, u64> = PointStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    let mut points_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for (status, kind, n) in points::count_by_status_and_kind(&state.db, &lo, &hi).await? {
        let n = u64::try_from(n).unwrap_or(0);
        *points_by_status.entry(status.clone()).or_default() += n;
        if status != PointStatus::Closed.as_str() {
            *points_by_kind.entry(kind).or_default() += n;
        }
    }

    let places: Vec<Option<Wgs84Point>> = villages.iter().map(location).collect();
    let nearest = nearest_active_points(state, &places).await?;
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
        region: RegionRef {
            code: region.code.to_string(),
            name: region.name.clone(),
            level: region.level,
        },
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

/// The network in a region: villages, surveys, eligible donors, points and coverage.
#[utoipa::path(
    get,
    path = "/regions/{code}/summary",
    tag = "regions",
    params(CodePath),
    responses(
        (status = 200, description = "The summary", body = NetworkSummary),
        (status = 400, description = "Malformed code", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(code = %path.code))]
async fn region_summary(
    State(state): State<AppState>,
    caller: crate::api::auth::Caller,
    Path(path): Path<CodePath>,
) -> Result<Json<NetworkSummary>, AppError> {
    let code = RegionCode::parse(&path.code)
        .map_err(|_| AppError::invalid("code", "must be a 12-digit region code"))?;
    crate::api::regions::read(&caller, &code)?;
    let region = regions::find(&state.db, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no region with code {code}")))?;
    Ok(Json(summarise(&state, &region).await?))
}
