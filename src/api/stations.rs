//! `/api/v1/stations`: blood stations, the depots bloodmobiles leave from and return to each
//! day (issue 5). A station is a registry record of the region it lies in: who may read and
//! change it follows that region, like points. Optimistic concurrency (ETag / If-Match) and
//! GCJ-02 on the way in and out, as for points. Vehicles: `api::vehicles`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use entity::station;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, if_match, nullable, page_limit, paginate,
    region_filter, required_if_match, status_filter, with_etag,
};
use crate::domain::fleet::StationStatus;
use crate::domain::policy::{self, Action, Resource};
use crate::domain::region::RegionCode;
use crate::error::{AppError, Problem};
use crate::fleet::stations as fleet;
use crate::fleet::{FleetFilter, NewStation, StationPatch};
use crate::geo::{Crs, Wgs84Point};
use crate::state::AppState;
use crate::versioned::Outcome;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_stations, create_station))
        .routes(routes!(get_station, patch_station, close_station))
}

/// A blood station as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StationView {
    pub id: i64,
    pub name: String,
    /// The region the station lies in (it decides who may see and change the station and its
    /// vehicles).
    pub region_code: String,
    pub address: Option<String>,
    /// In the response's `crs` (WGS-84 unless `?crs=gcj02`).
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub longitude: f64,
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub latitude: f64,
    pub crs: Crs,
    pub status: StationStatus,
    /// Public group bookings above this many people are requests that hold no places until
    /// staff confirm them (default 10).
    pub group_request_threshold: i32,
    /// Bumped by every change; send it back in `If-Match`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

fn to_view(m: station::Model, crs: Crs) -> Result<StationView, AppError> {
    let (longitude, latitude) = Wgs84Point::stored(m.longitude, m.latitude).in_crs(crs);
    Ok(StationView {
        status: m
            .status
            .parse()
            .map_err(|e: String| AppError::Internal(anyhow::anyhow!("station {}: {e}", m.id)))?,
        id: m.id,
        name: m.name,
        region_code: m.region_code,
        address: m.address,
        longitude,
        latitude,
        crs,
        group_request_threshold: m.group_request_threshold,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        created_by: m.created_by,
        updated_by: m.updated_by,
    })
}

/// The body of `POST /api/v1/stations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStation {
    #[schema(example = "漯河市中心血站")]
    pub name: String,
    /// The region the station lies in (any level; usually its city or county).
    #[schema(example = "411102000000")]
    pub region_code: String,
    pub address: Option<String>,
    #[schema(example = 114.0166)]
    pub longitude: f64,
    #[schema(example = 33.5815)]
    pub latitude: f64,
    /// The datum of `longitude`/`latitude` (default `wgs84`; map apps give `gcj02`).
    #[serde(default)]
    pub crs: Crs,
    /// Default `active`.
    pub status: Option<StationStatus>,
    /// Public group bookings above this many people are requests that staff confirm
    /// (2 to 200; default 10).
    #[serde(default)]
    pub group_request_threshold: Option<i32>,
}

/// The body of `PATCH /api/v1/stations/{id}`: only the members to change; `null` clears an
/// optional member.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchStation {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, required = false)]
    pub name: Option<Option<String>>,
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
    /// `closed` only when the station has no active vehicle (409 otherwise).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = StationStatus, required = false)]
    pub status: Option<Option<StationStatus>>,
    /// Public group bookings above this many people are requests that staff confirm
    /// (2 to 200).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i32, required = false)]
    pub group_request_threshold: Option<Option<i32>>,
}

/// `?crs=` on single-station routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CrsParam {
    /// The datum of the coordinates in the response (default `wgs84`).
    pub crs: Option<Crs>,
}

/// The station's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StationPath {
    pub id: i64,
}

/// The representation with its ETag.
fn respond(status: StatusCode, view: StationView) -> Response {
    with_etag(status, view.version, Json(view))
}

async fn load(state: &AppState, id: i64) -> Result<station::Model, AppError> {
    Ok(fleet::load(&state.db, id).await?)
}

/// Asks the policy for `action` on a station (by the region it lies in): 404 outside the
/// caller's reach, 403 outside its write scope.
fn authorize(caller: &Caller, action: Action, m: &station::Model) -> Result<(), AppError> {
    let id = m.id;
    caller.authorize_at(action, m, || format!("station with id {id}"))
}

/// Loads a station the caller may do `action` to.
async fn load_for(
    state: &AppState,
    caller: &Caller,
    action: Action,
    id: i64,
) -> Result<station::Model, AppError> {
    caller.require()?;
    let model = load(state, id).await?;
    authorize(caller, action, &model)?;
    Ok(model)
}

/// Checks `action` on a region given as text (a malformed code is left to validation).
fn authorize_region(caller: &Caller, action: Action, raw: &str) -> Result<(), AppError> {
    caller.require()?;
    if let Ok(code) = RegionCode::parse(raw.trim()) {
        caller.authorize(action, Resource::Registry(Some(&code)), || {
            format!("region with code {code}")
        })?;
    }
    Ok(())
}

impl From<CreateStation> for NewStation {
    fn from(b: CreateStation) -> Self {
        NewStation {
            name: b.name,
            region_code: b.region_code,
            address: b.address,
            longitude: b.longitude,
            latitude: b.latitude,
            crs: b.crs,
            status: b.status,
            group_request_threshold: b.group_request_threshold,
        }
    }
}

impl From<PatchStation> for StationPatch {
    fn from(p: PatchStation) -> Self {
        StationPatch {
            name: p.name,
            region_code: p.region_code,
            address: p.address,
            longitude: p.longitude,
            latitude: p.latitude,
            crs: p.crs,
            status: p.status,
            group_request_threshold: p.group_request_threshold,
        }
    }
}

/// Registers a blood station.
#[utoipa::path(
    post,
    path = "/stations",
    tag = "stations",
    request_body = CreateStation,
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = StationView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region_code` is outside what the caller may read", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_station(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateStation>,
) -> Result<Response, AppError> {
    authorize_region(&caller, Action::Create, &body.region_code)?;
    let now = Utc::now();
    let crs = body.crs;
    let created = fleet::register(&state.db, body.into(), &caller.actor(), now).await?;
    let view = to_view(created, crs)?;
    let location = format!("/api/v1/stations/{}", view.id);
    let mut response = respond(StatusCode::CREATED, view);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Filters of the station listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Stations in this region or anything below it (12-digit code).
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
    /// Comma-separated statuses; default: `active`.
    #[param(example = "active,closed")]
    pub status: Option<String>,
    /// Datum of the coordinates in the response (default `wgs84`).
    pub crs: Option<Crs>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of stations.
#[derive(Debug, Serialize, ToSchema)]
pub struct StationPage {
    pub items: Vec<StationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Lists the stations the caller may read: by region subtree and status, in id order.
#[utoipa::path(
    get,
    path = "/stations",
    tag = "stations",
    params(ListParams),
    responses(
        (status = 200, description = "A page of stations in id order", body = StationPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region` does not exist (or is outside what the caller may read)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_stations(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<StationPage>, AppError> {
    let reach = policy::read_scope(caller.require()?);
    let crs = params.crs.unwrap_or_default();
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let mut filter = FleetFilter {
        statuses: status_filter(
            params.status.as_deref(),
            StationStatus::ALL,
            Some(StationStatus::Closed),
            StationStatus::as_str,
        )?,
        after_id: id_cursor(params.cursor.as_deref())?,
        limit: Some(limit + 1),
        reach: Some(reach),
        ..FleetFilter::default()
    };
    if let Some(raw) = params.region.as_deref() {
        filter.region_range = Some(region_filter(&state, &caller, raw).await?);
    }
    let (rows, next_cursor) = paginate(fleet::list(&state.db, &filter).await?, limit, |r| {
        r.id.to_string()
    });
    Ok(Json(StationPage {
        items: rows
            .into_iter()
            .map(|m| to_view(m, crs))
            .collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

/// One station.
#[utoipa::path(
    get,
    path = "/stations/{id}",
    tag = "stations",
    params(StationPath, CrsParam),
    responses(
        (status = 200, description = "The station; `ETag` carries the version", body = StationView),
        (status = 400, description = "Malformed id or crs", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_station(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StationPath>,
    Query(params): Query<CrsParam>,
) -> Result<Response, AppError> {
    let model = load_for(&state, &caller, Action::Read, path.id).await?;
    Ok(respond(
        StatusCode::OK,
        to_view(model, params.crs.unwrap_or_default())?,
    ))
}

/// Changes a station. Needs `If-Match` with the version last seen: a stale version gets 412
/// with the current station, so the client can merge and retry.
#[utoipa::path(
    patch,
    path = "/stations/{id}",
    tag = "stations",
    params(StationPath, CrsParam, ("If-Match" = String, Header, description = "The ETag last seen, e.g. \"3\"")),
    request_body = PatchStation,
    responses(
        (status = 200, description = "Changed; `ETag` carries the new version", body = StationView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`status: closed` while the station still has active vehicles", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The version moved on: the body is the current station", body = StationView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn patch_station(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StationPath>,
    Query(params): Query<CrsParam>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<PatchStation>,
) -> Result<Response, AppError> {
    let crs = params.crs.unwrap_or_default();
    let current = load_for(&state, &caller, Action::Update, path.id).await?;
    let expected = required_if_match(&headers, "station", current.version)?;
    if expected == current.version
        && let Some(region) = patch.region_code.as_ref().and_then(|r| r.as_deref())
        && region != current.region_code
    {
        authorize_region(&caller, Action::Create, region)?;
    }
    let outcome = fleet::update(
        &state.db,
        current,
        expected,
        patch.into(),
        &caller.actor(),
        Utc::now(),
    )
    .await?;
    render(outcome, crs)
}

/// 200 with the station as it now is, or 412 with the current one.
fn render(outcome: Outcome<station::Model>, crs: Crs) -> Result<Response, AppError> {
    Ok(match outcome {
        Outcome::Updated(m) => respond(StatusCode::OK, to_view(m, crs)?),
        Outcome::Stale(m) => respond(StatusCode::PRECONDITION_FAILED, to_view(m, crs)?),
    })
}

/// Closes a station: its status becomes `closed`; it is kept, with its history. Its vehicles
/// must be retired or moved to another station first (409 otherwise). `If-Match` is honoured
/// when sent.
#[utoipa::path(
    delete,
    path = "/stations/{id}",
    tag = "stations",
    params(StationPath, CrsParam),
    responses(
        (status = 200, description = "Closed; the station as it now is", body = StationView),
        (status = 400, description = "Malformed id, crs or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The station still has active vehicles", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` named an old version: the body is the current station", body = StationView),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn close_station(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StationPath>,
    Query(params): Query<CrsParam>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let crs = params.crs.unwrap_or_default();
    let current = load_for(&state, &caller, Action::Close, path.id).await?;
    let expected = if_match(&headers, current.version)?.unwrap_or(current.version);
    let outcome = fleet::close(&state.db, current, expected, &caller.actor(), Utc::now()).await?;
    render(outcome, crs)
}
