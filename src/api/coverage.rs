//! `GET /api/v1/coverage`: which villages lie within reach of an active donation point, which
//! do not (most eligible donors first), and where `K` new points would reach the most of
//! those left out (greedy maximum coverage, `src/planning/coverage.rs`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::Query;
use crate::domain::policy::Action;
use crate::domain::region::RegionCode;
use crate::domain::rounding::{self, Measure};
use crate::error::{AppError, Problem};
use crate::registry::{Acting, regions};
use crate::reports::coverage::{self as service, CoverageQuery, CoverageReport};
use crate::state::AppState;

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
    caller.require()?;
    let acting = Acting::caller(caller.principal.as_ref(), caller.actor());
    regions::authorize(&acting, Action::Read, &code)?;
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
    let query = CoverageQuery {
        region: code,
        radius_km,
        suggest: k,
        limit,
    };
    let report = service::report(&state.db, &query, &acting).await?;
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
