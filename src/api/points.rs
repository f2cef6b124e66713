//! `/api/v1/points`: donation points, with optimistic concurrency (ETag / If-Match), GCJ-02 on
//! the way in and out, map filters and a GeoJSON view.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entity::point;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, if_match, nullable, numbers, page_limit, paginate,
    required_if_match, with_etag,
};
use crate::domain::point::{PointKind, PointStatus, mask_phone};
use crate::domain::policy::{self, Action, Resource};
use crate::domain::region::RegionCode;
use crate::domain::rounding::{self, Measure};
use crate::error::{AppError, FieldError, Problem};
use crate::geo::{Crs, Wgs84Point};
use crate::registry::points::{self as registry, NewPoint, PointChange};
use crate::registry::{Acting, Written};
use crate::state::AppState;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;
const MAX_GEOJSON_FEATURES: u64 = 10_000;
const DEFAULT_RADIUS_KM: f64 = 10.0;
const MAX_RADIUS_KM: f64 = 200.0;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_points, create_point))
        .routes(routes!(points_geojson))
        .routes(routes!(get_point, patch_point, close_point))
}

/// A donation point as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointView {
    pub id: i64,
    pub name: String,
    pub kind: PointKind,
    pub region_code: String,
    pub address: Option<String>,
    /// In the response's `crs` (WGS-84 unless `?crs=gcj02`).
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub longitude: f64,
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub latitude: f64,
    pub crs: Crs,
    pub status: PointStatus,
    pub signage_installed_on: Option<NaiveDate>,
    pub bloodmobile_parking: bool,
    pub power_hookup: bool,
    pub beds: Option<i32>,
    pub donors_per_hour: Option<i32>,
    pub contact_phone: Option<String>,
    pub notes: Option<String>,
    /// The township's market days: the last digits of the lunar days it holds a market on
    /// (`1,4,7`: lunar days 1, 4, 7, 11, 14, 17, 21, 24, 27). Turnout is higher on them.
    #[schema(example = "1,4,7")]
    pub market_days: Option<String>,
    /// Bumped by every change; send it back in `If-Match`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
    /// Distance from `near`, in km, when the listing was asked with `near`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// Things worth checking that did not stop the change (e.g. far from the region's centre).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<FieldError>,
}

fn to_view(m: point::Model, crs: Crs) -> Result<PointView, AppError> {
    let internal = |e: String| AppError::Internal(anyhow::anyhow!("point {}: {e}", m.id));
    let (longitude, latitude) = Wgs84Point::stored(m.longitude, m.latitude).in_crs(crs);
    Ok(PointView {
        kind: m.kind.parse().map_err(internal)?,
        status: m.status.parse().map_err(internal)?,
        id: m.id,
        name: m.name,
        region_code: m.region_code,
        address: m.address,
        longitude,
        latitude,
        crs,
        signage_installed_on: m.signage_installed_on,
        bloodmobile_parking: m.bloodmobile_parking,
        power_hookup: m.power_hookup,
        beds: m.beds,
        donors_per_hour: m.donors_per_hour,
        contact_phone: m.contact_phone,
        notes: m.notes,
        market_days: m.market_days,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        created_by: m.created_by,
        updated_by: m.updated_by,
        distance_km: None,
        warnings: vec![],
    })
}

/// A donation point as the public (anonymous callers) sees it: only what a donor needs, with
/// phone numbers masked. Only active points are public.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicPointView {
    pub id: i64,
    pub name: String,
    pub kind: PointKind,
    pub address: Option<String>,
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub longitude: f64,
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub latitude: f64,
    pub crs: Crs,
    /// The primary coordinator's mobile, masked (`138****5678`).
    pub coordinator_phone: Option<String>,
    /// The point's own telephone, masked.
    pub contact_phone: Option<String>,
    /// The township's market days (lunar-day digits, `1,4,7`).
    pub market_days: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::domain::rounding::ser::opt_km")]
    pub distance_km: Option<f64>,
}

/// The public form of points already in the API's form.
async fn publish(
    state: &AppState,
    points: Vec<PointView>,
) -> Result<Vec<PublicPointView>, AppError> {
    let ids: Vec<i64> = points.iter().map(|p| p.id).collect();
    let mobiles = crate::registry::coordinators::primary_mobiles(&state.db, &ids).await?;
    Ok(points
        .into_iter()
        .map(|p| PublicPointView {
            coordinator_phone: mobiles.get(&p.id).map(|m| mask_phone(m)),
            contact_phone: p.contact_phone.as_deref().map(mask_phone),
            id: p.id,
            name: p.name,
            kind: p.kind,
            address: p.address,
            longitude: p.longitude,
            latitude: p.latitude,
            crs: p.crs,
            market_days: p.market_days,
            distance_km: p.distance_km,
        })
        .collect())
}

/// The body of `POST /api/v1/points`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePoint {
    #[schema(example = "孟庙镇献血点")]
    pub name: String,
    pub kind: PointKind,
    /// The township or village the point serves.
    #[schema(example = "411103101000")]
    pub region_code: String,
    pub address: Option<String>,
    #[schema(example = 114.0795)]
    pub longitude: f64,
    #[schema(example = 33.5004)]
    pub latitude: f64,
    /// The datum of `longitude`/`latitude` (default `wgs84`; map apps give `gcj02`).
    #[serde(default)]
    pub crs: Crs,
    /// Default `planned`.
    pub status: Option<PointStatus>,
    pub signage_installed_on: Option<NaiveDate>,
    #[serde(default)]
    pub bloodmobile_parking: bool,
    #[serde(default)]
    pub power_hookup: bool,
    pub beds: Option<i32>,
    pub donors_per_hour: Option<i32>,
    pub contact_phone: Option<String>,
    pub notes: Option<String>,
    /// The township's market days: the last digit of each lunar day it holds a market on,
    /// one digit each, separated by commas (`1,4,7`); blank or absent for none.
    #[schema(example = "1,4,7")]
    pub market_days: Option<String>,
}

/// The body of `PATCH /api/v1/points/{id}`: only the members to change; `null` clears an
/// optional member.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchPoint {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, required = false)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = PointKind, required = false)]
    pub kind: Option<Option<PointKind>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, required = false)]
    pub region_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// With `latitude`: a new location.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = f64, required = false)]
    pub longitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = f64, required = false)]
    pub latitude: Option<Option<f64>>,
    /// The datum of the new `longitude`/`latitude`.
    pub crs: Option<Crs>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = PointStatus, required = false)]
    pub status: Option<Option<PointStatus>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub signage_installed_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = bool, required = false)]
    pub bloodmobile_parking: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = bool, required = false)]
    pub power_hookup: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub beds: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub donors_per_hour: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub contact_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "1,4,7")]
    pub market_days: Option<Option<String>>,
}

/// `?crs=` on single-point routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CrsParam {
    /// The datum of the coordinates in the response (default `wgs84`).
    pub crs: Option<Crs>,
}

/// The point's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PointPath {
    pub id: i64,
}

/// The representation with its ETag.
fn respond(status: StatusCode, view: PointView) -> Response {
    with_etag(status, view.version, Json(view))
}

/// Who acts for the registry service: the caller, checked by the policy.
fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

impl From<CreatePoint> for NewPoint {
    fn from(body: CreatePoint) -> Self {
        NewPoint {
            name: body.name,
            kind: body.kind,
            region_code: body.region_code,
            address: body.address,
            longitude: body.longitude,
            latitude: body.latitude,
            crs: body.crs,
            status: body.status,
            signage_installed_on: body.signage_installed_on,
            bloodmobile_parking: body.bloodmobile_parking,
            power_hookup: body.power_hookup,
            beds: body.beds,
            donors_per_hour: body.donors_per_hour,
            contact_phone: body.contact_phone,
            notes: body.notes,
            market_days: body.market_days,
        }
    }
}

impl From<PatchPoint> for PointChange {
    fn from(patch: PatchPoint) -> Self {
        PointChange {
            name: patch.name,
            kind: patch.kind,
            region_code: patch.region_code,
            address: patch.address,
            longitude: patch.longitude,
            latitude: patch.latitude,
            crs: patch.crs,
            status: patch.status,
            signage_installed_on: patch.signage_installed_on,
            bloodmobile_parking: patch.bloodmobile_parking,
            power_hookup: patch.power_hookup,
            beds: patch.beds,
            donors_per_hour: patch.donors_per_hour,
            contact_phone: patch.contact_phone,
            notes: patch.notes,
            market_days: patch.market_days,
        }
    }
}

/// Registers a donation point.
#[utoipa::path(
    post,
    path = "/points",
    tag = "points",
    request_body = CreatePoint,
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = PointView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_point(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreatePoint>,
) -> Result<Response, AppError> {
    caller.require()?;
    let crs = body.crs;
    let created = registry::create(&state.db, body.into(), &acting(&caller), Utc::now()).await?;
    let mut view = to_view(created.point, crs)?;
    view.warnings = created.warnings;
    let location = format!("/api/v1/points/{}", view.id);
    let mut response = respond(StatusCode::CREATED, view);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// One point.
#[utoipa::path(
    get,
    path = "/points/{id}",
    tag = "points",
    params(PointPath, CrsParam),
    responses(
        (status = 200, description = "The point; `ETag` carries the version. Anonymous callers get a `PublicPointView` of an active point (others are 404).", body = PointView),
        (status = 400, description = "Malformed id or crs", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such point", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_point(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PointPath>,
    Query(params): Query<CrsParam>,
) -> Result<Response, AppError> {
    let crs = params.crs.unwrap_or_default();
    if caller.principal.is_none() {
        let model = registry::find(&state.db, path.id).await?;
        if model.status != PointStatus::Active.as_str() {
            return Err(AppError::NotFound(format!("no point with id {}", path.id)));
        }
        let public = publish(&state, vec![to_view(model, crs)?]).await?;
        return Ok(Json(public.into_iter().next()).into_response());
    }
    let model = registry::find_for(&state.db, path.id, Action::Read, &acting(&caller)).await?;
    Ok(respond(StatusCode::OK, to_view(model, crs)?))
}

/// Changes a point. Needs `If-Match` with the version last seen: a stale version gets 412 with
/// the current point, so the client can merge and retry.
#[utoipa::path(
    patch,
    path = "/points/{id}",
    tag = "points",
    params(PointPath, CrsParam, ("If-Match" = String, Header, description = "The ETag last seen, e.g. \"3\"")),
    request_body = PatchPoint,
    responses(
        (status = 200, description = "Changed; `ETag` carries the new version", body = PointView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such point", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The version moved on: the body is the current point", body = PointView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(point_id = path.id))]
async fn patch_point(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PointPath>,
    Query(params): Query<CrsParam>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<PatchPoint>,
) -> Result<Response, AppError> {
    let crs = params.crs.unwrap_or_default();
    let acting = acting(&caller);
    let current = registry::find_for(&state.db, path.id, Action::Update, &acting).await?;
    let expected = required_if_match(&headers, "point", current.version)?;
    let written = registry::update(
        &state.db,
        &current,
        expected,
        patch.into(),
        &acting,
        Utc::now(),
    )
    .await?;
    Ok(match written {
        Written::Done(updated) => {
            let mut view = to_view(updated.point, crs)?;
            view.warnings = updated.warnings;
            respond(StatusCode::OK, view)
        }
        Written::Stale(latest) => respond(StatusCode::PRECONDITION_FAILED, to_view(latest, crs)?),
    })
}

/// Closes a point: its status becomes `closed`; it is kept, with its history. `If-Match` is
/// honoured when sent.
#[utoipa::path(
    delete,
    path = "/points/{id}",
    tag = "points",
    params(PointPath, CrsParam),
    responses(
        (status = 200, description = "Closed; the point as it now is", body = PointView),
        (status = 400, description = "Malformed id, crs or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such point", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` named an old version: the body is the current point", body = PointView),
    )
)]
#[tracing::instrument(skip_all, fields(point_id = path.id))]
async fn close_point(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PointPath>,
    Query(params): Query<CrsParam>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let crs = params.crs.unwrap_or_default();
    let acting = acting(&caller);
    let current = registry::find_for(&state.db, path.id, Action::Close, &acting).await?;
    let expected = if_match(&headers, current.version)?.unwrap_or(current.version);
    Ok(
        match registry::close(&state.db, &current, expected, &acting, Utc::now()).await? {
            Written::Done(closed) => respond(StatusCode::OK, to_view(closed, crs)?),
            Written::Stale(latest) => {
                respond(StatusCode::PRECONDITION_FAILED, to_view(latest, crs)?)
            }
        },
    )
}

/// Filters of the point listings.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Points serving this region or anything below it (12-digit code).
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
    /// Comma-separated statuses; default: every status but `closed`.
    #[param(example = "active,planned")]
    pub status: Option<String>,
    pub kind: Option<PointKind>,
    /// `minLon,minLat,maxLon,maxLat`, in `crs`.
    #[param(example = "113.9,33.4,114.2,33.7")]
    pub bbox: Option<String>,
    /// `lon,lat` in `crs`: only points within `radius_km`, nearest first.
    #[param(example = "114.0795,33.5004")]
    pub near: Option<String>,
    /// With `near`: the radius in km (default 10, at most 200).
    pub radius_km: Option<f64>,
    /// Datum of `bbox`, `near` and the coordinates in the response (default `wgs84`).
    pub crs: Option<Crs>,
    /// Page size, 1 to 500 (default 50); GeoJSON: up to 10,000 (default 10,000).
    #[param(minimum = 1)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of points.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointPage {
    pub items: Vec<PointView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Runs a listing: the page, and the cursor of the next one.
async fn query_points(
    state: &AppState,
    caller: &Caller,
    params: ListParams,
    default_limit: u64,
    max_limit: u64,
) -> Result<(Vec<PointView>, Option<String>), AppError> {
    let crs = params.crs.unwrap_or_default();
    let limit = page_limit(params.limit, default_limit, max_limit)?;
    let mut filter = crate::registry::points::PointFilter::default();
    // The public sees active points anywhere; signed-in callers see every status in their reach.
    let public = caller.principal.is_none();
    filter.reach = caller.principal.as_ref().map(policy::read_scope);
    if let Some(raw) = params.region.as_deref() {
        let code = RegionCode::parse(raw)
            .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))?;
        if !public {
            caller.authorize(Action::Read, Resource::Registry(Some(&code)), || {
                format!("region with code {code}")
            })?;
        }
        let region = crate::registry::regions::get(&state.db, &code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no region with code {code}")))?;
        filter.region_range = Some(code.subtree_bounds(region.level));
    }
    filter.statuses = match params.status.as_deref() {
        None | Some("") => PointStatus::ALL
            .iter()
            .copied()
            .filter(|s| *s != PointStatus::Closed)
            .collect(),
        Some(raw) => raw
            .split(',')
            .map(|s| s.trim().parse::<PointStatus>())
            .collect::<Result<_, _>>()
            .map_err(|e| AppError::invalid("status", e))?,
    };
    if public {
        filter.statuses = vec![PointStatus::Active];
    }
    filter.kind = params.kind;
    if let Some(raw) = params.bbox.as_deref() {
        let v = numbers("bbox", raw, 4)?;
        let corner = |lon, lat| {
            Wgs84Point::from_crs(lon, lat, crs).map_err(|e| AppError::invalid("bbox", e.message))
        };
        let (sw, ne) = (corner(v[0], v[1])?, corner(v[2], v[3])?);
        if sw.lon() >= ne.lon() || sw.lat() >= ne.lat() {
            return Err(AppError::invalid(
                "bbox",
                "must be minLon,minLat,maxLon,maxLat with min < max",
            ));
        }
        filter.bbox = Some((sw.lon(), sw.lat(), ne.lon(), ne.lat()));
    }
    let near = match params.near.as_deref() {
        None => {
            if params.radius_km.is_some() {
                return Err(AppError::invalid("radius_km", "applies with near=lon,lat"));
            }
            None
        }
        Some(raw) => {
            let v = numbers("near", raw, 2)?;
            let centre = Wgs84Point::from_crs(v[0], v[1], crs)
                .map_err(|e| AppError::invalid("near", e.message))?;
            let radius = params.radius_km.unwrap_or(DEFAULT_RADIUS_KM);
            if !(radius > 0.0 && radius <= MAX_RADIUS_KM) {
                return Err(AppError::invalid(
                    "radius_km",
                    format!("must be above 0 and at most {MAX_RADIUS_KM}"),
                ));
            }
            Some((centre, radius))
        }
    };
    match near {
        None => {
            filter.after_id = id_cursor(params.cursor.as_deref())?;
            filter.limit = Some(limit + 1);
            let (rows, next) = paginate(
                crate::registry::points::list(&state.db, &filter).await?,
                limit,
                |r| r.id.to_string(),
            );
            let items = rows
                .into_iter()
                .map(|m| to_view(m, crs))
                .collect::<Result<_, _>>()?;
            Ok((items, next))
        }
        Some((centre, radius)) => {
            // The radius's bounding box in SQL (an index range), the exact distance here.
            let (min_lon, min_lat, max_lon, max_lat) = centre.bounding_box(radius);
            filter.bbox = Some(match filter.bbox {
                None => (min_lon, min_lat, max_lon, max_lat),
                Some((a, b, c, d)) => (
                    a.max(min_lon),
                    b.max(min_lat),
                    c.min(max_lon),
                    d.min(max_lat),
                ),
            });
            let after = params
                .cursor
                .as_deref()
                .map(|c| {
                    c.split_once('~')
                        .and_then(|(d, id)| Some((d.parse::<u64>().ok()?, id.parse::<i64>().ok()?)))
                        .ok_or_else(|| {
                            AppError::invalid("cursor", "is not a cursor of this listing")
                        })
                })
                .transpose()?;
            // Distances in whole millimetres make a total order that survives the cursor.
            let mut hits: Vec<(u64, point::Model)> =
                crate::registry::points::list(&state.db, &filter)
                    .await?
                    .into_iter()
                    .filter_map(|m| {
                        let km = centre.distance_km(Wgs84Point::stored(m.longitude, m.latitude));
                        (km <= radius).then(|| ((km * 1_000_000.0).round() as u64, m))
                    })
                    .filter(|(mm, m)| after.is_none_or(|a| (*mm, m.id) > a))
                    .collect();
            hits.sort_by_key(|(mm, m)| (*mm, m.id));
            let next = (hits.len() as u64 > limit).then(|| {
                hits.truncate(limit as usize);
                hits.last().map(|(mm, m)| format!("{mm}~{}", m.id))
            });
            let items = hits
                .into_iter()
                .map(|(mm, m)| {
                    let mut view = to_view(m, crs)?;
                    view.distance_km = Some(mm as f64 / 1_000_000.0);
                    Ok(view)
                })
                .collect::<Result<_, AppError>>()?;
            Ok((items, next.flatten()))
        }
    }
}

/// Lists points: by region subtree, status, kind, bounding box, or nearest first around a place.
#[utoipa::path(
    get,
    path = "/points",
    tag = "points",
    params(ListParams),
    responses(
        (status = 200, description = "A page of points (id order, or nearest first with `near`). Anonymous callers get only active points, as a `PublicPointPage` (no internal fields, phones masked).", body = PointPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region` does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_points(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Response, AppError> {
    let (items, next_cursor) =
        query_points(&state, &caller, params, DEFAULT_LIMIT, MAX_LIMIT).await?;
    if caller.principal.is_none() {
        let items = publish(&state, items).await?;
        return Ok(Json(PublicPointPage { items, next_cursor }).into_response());
    }
    Ok(Json(PointPage { items, next_cursor }).into_response())
}

/// One page of points as the public sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicPointPage {
    pub items: Vec<PublicPointView>,
    pub next_cursor: Option<String>,
}

/// The same listing as an RFC 7946 GeoJSON FeatureCollection (WGS-84 always, as RFC 7946
/// requires), for GIS tools.
#[utoipa::path(
    get,
    path = "/points.geojson",
    tag = "points",
    params(ListParams),
    responses(
        (status = 200, description = "A FeatureCollection of Point features; `next_cursor` (a foreign member) when more remain", content_type = "application/geo+json", body = Object),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region` does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn points_geojson(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Response, AppError> {
    if params.crs == Some(Crs::Gcj02) {
        return Err(AppError::invalid(
            "crs",
            "GeoJSON is WGS-84 by definition (RFC 7946)",
        ));
    }
    let (items, next_cursor) = query_points(
        &state,
        &caller,
        params,
        MAX_GEOJSON_FEATURES,
        MAX_GEOJSON_FEATURES,
    )
    .await?;
    let located: Vec<(i64, f64, f64, serde_json::Value)> = if caller.principal.is_none() {
        publish(&state, items)
            .await?
            .into_iter()
            .map(|p| {
                (
                    p.id,
                    p.longitude,
                    p.latitude,
                    serde_json::to_value(&p).unwrap_or_default(),
                )
            })
            .collect()
    } else {
        items
            .into_iter()
            .map(|p| {
                (
                    p.id,
                    p.longitude,
                    p.latitude,
                    serde_json::to_value(&p).unwrap_or_default(),
                )
            })
            .collect()
    };
    let features: Vec<serde_json::Value> = located
        .into_iter()
        .map(|(id, longitude, latitude, mut properties)| {
            let geometry = json!({"type": "Point", "coordinates": [
                rounding::round(longitude, Measure::Coordinate),
                rounding::round(latitude, Measure::Coordinate),
            ]});
            if let Some(map) = properties.as_object_mut() {
                for coordinate in ["longitude", "latitude", "crs"] {
                    map.remove(coordinate);
                }
            }
            json!({"type": "Feature", "id": id, "geometry": geometry, "properties": properties})
        })
        .collect();
    let mut body = json!({"type": "FeatureCollection", "features": features});
    if let Some(next) = next_cursor {
        body["next_cursor"] = json!(next);
    }
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    Ok(response)
}
