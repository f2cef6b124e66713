//! `GET /api/v1/coverage`: which villages lie within reach of an active donation point, which
//! do not (most eligible donors first), and where `K` new points would reach the most of
//! those left out (greedy maximum coverage, `src/planning/coverage.rs`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::Query;
use crate::api::regions::read;
use crate::api::summary::{location, nearest_active_points_within};
use crate::domain::region::{Level, RegionCode};
use crate::domain::rounding::{self, Measure};
use crate::error::{AppError, Problem};
use crate::geo::Wgs84Point;
use crate::planning::coverage::{Demand, greedy_max_coverage};
use crate::state::AppState;
use crate::store::regions::{self, RegionFilter};
use crate::store::surveys;

const DEFAULT_RADIUS_KM: f64 = 5.0;
const MAX_RADIUS_KM: f64 = 50.0;
const MAX_SUGGEST: usize = 50;
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(coverage))
}

/// Parameters of `GET /api/v1/coverage`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CoverageParams {
    /// The region (12-digit code) whose villages to look at.
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: String,
    /// A village is covered when an active point lies within this distance (default 5, at
    /// most 50 km).
    pub radius_km: Option<f64>,
    /// How many new point locations to suggest (0 to 50, default 0), chosen among the
    /// region's townships and villages.
    pub suggest: Option<usize>,
    /// How many uncovered villages to list (1 to 10,000, default 100).
    pub limit: Option<usize>,
    /// `json` (default) or `geojson`: uncovered villages and suggestions as features.
    pub format: Option<String>,
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

/// Which villages are within reach of an active point; which are not, most eligible donors
/// first; and, with `suggest=K`, where K new points would bring the most of them within reach.
#[utoipa::path(
    get,
    path = "/coverage",
    tag = "reports",
    params(CoverageParams),
    responses(
        (status = 200, description = "The report (JSON), or with `format=geojson` a FeatureCollection of uncovered villages and suggestions", body = CoverageReport),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region (or outside the caller's)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(region = %params.region))]
async fn coverage(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<CoverageParams>,
) -> Result<Response, AppError> {
    let code = RegionCode::parse(&params.region)
        .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))?;
    read(&caller, &code)?;
    let radius_km = params.radius_km.unwrap_or(DEFAULT_RADIUS_KM);
    if !(radius_km > 0.0 && radius_km <= MAX_RADIUS_KM) {
        return Err(AppError::invalid(
            "radius_km",
            format!("must be above 0 and at most {MAX_RADIUS_KM}"),
        ));
    }
    let k = params.suggest.unwrap_or(0);
    if k > MAX_SUGGEST {
        return Err(AppError::invalid(
            "suggest",
            format!("must be at most {MAX_SUGGEST}"),
        ));
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let geojson = match params.format.as_deref() {
        None | Some("json") => false,
        Some("geojson") => true,
        Some(_) => return Err(AppError::invalid("format", "must be json or geojson")),
    };
    let region = regions::find(&state.db, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no region with code {code}")))?;
    let (lo, hi) = code.subtree_bounds(region.level);
    let villages = surveys::village_facts(&state.db, &lo, &hi).await?;
    let places: Vec<Option<Wgs84Point>> = villages.iter().map(location).collect();
    let nearest = nearest_active_points_within(&state, &places, radius_km).await?;
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
        let mut townships = regions::list(
            &state.db,
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
    let report = CoverageReport {
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
    };
    if !geojson {
        return Ok(Json(report).into_response());
    }
    let point = |lon: f64, lat: f64| {
        let (lon, lat) = (
            rounding::round(lon, Measure::Coordinate),
            rounding::round(lat, Measure::Coordinate),
        );
        json!({"type": "Point", "coordinates": [lon, lat]})
    };
    let mut features: Vec<serde_json::Value> = report
        .uncovered
        .iter()
        .map(|v| {
            json!({"type": "Feature", "geometry": point(v.longitude, v.latitude),
                   "properties": {"kind": "uncovered", "code": v.code, "name": v.name, "eligible_total": v.eligible_total}})
        })
        .collect();
    features.extend(report.suggestions.iter().map(|s| {
        json!({"type": "Feature", "geometry": point(s.longitude, s.latitude),
               "properties": {"kind": "suggestion", "rank": s.rank, "code": s.code, "name": s.name,
                              "level": s.level, "gain_eligible": s.gain_eligible, "covers": s.covers}})
    }));
    let mut response =
        Json(json!({"type": "FeatureCollection", "features": features})).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    Ok(response)
}
