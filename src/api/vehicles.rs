//! `/api/v1/vehicles`: bloodmobiles (issue 5). A vehicle has no region of its own: it belongs
//! to its home station, and who may read and change it follows the station's region. Plates
//! are unique (409 naming `plate`); the working window is `"HH:MM"` in the API, minutes after
//! midnight in the database. Optimistic concurrency (ETag / If-Match) as for points.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use entity::{station, vehicle};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, if_match, nullable, page_limit, paginate,
    region_filter, required_if_match, status_filter, with_etag,
};
use crate::domain::fleet::{TimeOfDay, VehicleStatus};
use crate::domain::policy::{self, Action};
use crate::error::{AppError, Problem};
use crate::fleet::stations;
use crate::fleet::vehicles::{self as fleet, VehicleAt};
use crate::fleet::{FleetFilter, NewVehicle, VehiclePatch};
use crate::state::AppState;
use crate::versioned::Outcome;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_vehicles, create_vehicle))
        .routes(routes!(get_vehicle, patch_vehicle, retire_vehicle))
}

/// A bloodmobile as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VehicleView {
    pub id: i64,
    pub name: String,
    /// Normalised: no spaces or separators, ASCII letters upper case.
    #[schema(example = "豫LD1234")]
    pub plate: String,
    /// The home station: where the vehicle leaves from and returns to each day.
    pub station_id: i64,
    /// The home station's region (read-only; it decides who may see and change the vehicle).
    pub region_code: String,
    /// Donation beds: donors are bled this many at a time.
    pub beds: i32,
    /// Crew.
    pub staff: i32,
    /// Most donors the team can take in a day.
    pub max_donors_per_day: i32,
    /// The daily working window, `"HH:MM"`: leave the station no earlier than `day_start`, be
    /// back by `day_end`.
    #[schema(example = "08:00")]
    pub day_start: String,
    #[schema(example = "17:00")]
    pub day_end: String,
    /// Minutes to set up at a stop, and to pack up after it.
    pub setup_min: i32,
    pub teardown_min: i32,
    /// Running cost, yuan per km.
    pub cost_per_km: f64,
    /// Donors one bed takes in an hour; with `beds` and `slot_minutes`, the places of each
    /// booking slot.
    pub donors_per_bed_hour: f64,
    /// The length of a booking slot at this vehicle's stops, minutes.
    pub slot_minutes: i32,
    pub status: VehicleStatus,
    pub notes: Option<String>,
    /// Bumped by every change; send it back in `If-Match`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

fn to_view(m: vehicle::Model, station: &station::Model) -> Result<VehicleView, AppError> {
    let internal = |e: String| AppError::Internal(anyhow::anyhow!("vehicle {}: {e}", m.id));
    Ok(VehicleView {
        status: m.status.parse().map_err(internal)?,
        day_start: TimeOfDay::from_minutes(m.day_start)
            .map_err(internal)?
            .to_string(),
        day_end: TimeOfDay::from_minutes(m.day_end)
            .map_err(internal)?
            .to_string(),
        region_code: station.region_code.clone(),
        id: m.id,
        name: m.name,
        plate: m.plate,
        station_id: m.station_id,
        beds: m.beds,
        staff: m.staff,
        max_donors_per_day: m.max_donors_per_day,
        setup_min: m.setup_min,
        teardown_min: m.teardown_min,
        cost_per_km: m.cost_per_km,
        donors_per_bed_hour: m.donors_per_bed_hour,
        slot_minutes: m.slot_minutes,
        notes: m.notes,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        created_by: m.created_by,
        updated_by: m.updated_by,
    })
}

/// The body of `POST /api/v1/vehicles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVehicle {
    #[schema(example = "1号采血车")]
    pub name: String,
    /// Unique; spaces, `·` and `-` are dropped and ASCII letters upper-cased.
    #[schema(example = "豫L·D1234")]
    pub plate: String,
    /// The home station; the caller must be allowed to change it.
    pub station_id: i64,
    /// 1 to 50.
    #[schema(example = 4)]
    pub beds: i32,
    /// 1 to 100.
    #[schema(example = 6)]
    pub staff: i32,
    /// 1 to 2000.
    #[schema(example = 120)]
    pub max_donors_per_day: i32,
    /// `"HH:MM"`, 00:00 to 24:00.
    #[schema(example = "08:00")]
    pub day_start: String,
    /// `"HH:MM"`, after `day_start`.
    #[schema(example = "17:00")]
    pub day_end: String,
    /// 0 to 240 minutes.
    #[schema(example = 30)]
    pub setup_min: i32,
    /// 0 to 240 minutes.
    #[schema(example = 20)]
    pub teardown_min: i32,
    /// Yuan per km, 0 to 1000.
    #[schema(example = 2.5)]
    pub cost_per_km: f64,
    /// Donors one bed takes in an hour, 0.5 to 12 (default 2).
    #[schema(example = 2.0)]
    pub donors_per_bed_hour: Option<f64>,
    /// Booking slot length, 10 to 240 minutes (default 30).
    #[schema(example = 30)]
    pub slot_minutes: Option<i32>,
    /// Default `active`.
    pub status: Option<VehicleStatus>,
    pub notes: Option<String>,
}

/// The body of `PATCH /api/v1/vehicles/{id}`: only the members to change; `null` clears an
/// optional member.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchVehicle {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, required = false)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, required = false)]
    pub plate: Option<Option<String>>,
    /// Move the vehicle to another station (one the caller may change).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i64, required = false)]
    pub station_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i32, required = false)]
    pub beds: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i32, required = false)]
    pub staff: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i32, required = false)]
    pub max_donors_per_day: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, required = false)]
    pub day_start: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, required = false)]
    pub day_end: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i32, required = false)]
    pub setup_min: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i32, required = false)]
    pub teardown_min: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = f64, required = false)]
    pub cost_per_km: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = f64, required = false)]
    pub donors_per_bed_hour: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i32, required = false)]
    pub slot_minutes: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = VehicleStatus, required = false)]
    pub status: Option<Option<VehicleStatus>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

impl From<CreateVehicle> for NewVehicle {
    fn from(b: CreateVehicle) -> Self {
        NewVehicle {
            name: b.name,
            plate: b.plate,
            station_id: b.station_id,
            beds: b.beds,
            staff: b.staff,
            max_donors_per_day: b.max_donors_per_day,
            day_start: b.day_start,
            day_end: b.day_end,
            setup_min: b.setup_min,
            teardown_min: b.teardown_min,
            cost_per_km: b.cost_per_km,
            donors_per_bed_hour: b.donors_per_bed_hour,
            slot_minutes: b.slot_minutes,
            status: b.status,
            notes: b.notes,
        }
    }
}

impl From<PatchVehicle> for VehiclePatch {
    fn from(p: PatchVehicle) -> Self {
        VehiclePatch {
            name: p.name,
            plate: p.plate,
            station_id: p.station_id,
            beds: p.beds,
            staff: p.staff,
            max_donors_per_day: p.max_donors_per_day,
            day_start: p.day_start,
            day_end: p.day_end,
            setup_min: p.setup_min,
            teardown_min: p.teardown_min,
            cost_per_km: p.cost_per_km,
            donors_per_bed_hour: p.donors_per_bed_hour,
            slot_minutes: p.slot_minutes,
            status: p.status,
            notes: p.notes,
        }
    }
}

/// The station a vehicle is to be put at: it must exist for the caller (400 naming
/// `station_id`, the same for a station outside the caller's read scope as for none at all)
/// and be one the caller may change (403 outside its write scope).
async fn check_station(state: &AppState, caller: &Caller, id: i64) -> Result<(), AppError> {
    let station = stations::find(&state.db, id)
        .await?
        .filter(|s| authorize_station(caller, Action::Read, s).is_ok())
        .ok_or_else(|| AppError::invalid("station_id", format!("no station with id {id}")))?;
    authorize_station(caller, Action::Create, &station)
}

/// The representation with its ETag.
fn respond(
    status: StatusCode,
    m: vehicle::Model,
    station: &station::Model,
) -> Result<Response, AppError> {
    let version = m.version;
    Ok(with_etag(status, version, Json(to_view(m, station)?)))
}

/// Registers a bloodmobile at a station.
#[utoipa::path(
    post,
    path = "/vehicles",
    tag = "vehicles",
    request_body = CreateVehicle,
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = VehicleView),
        (status = 400, description = "Invalid fields, each named (an unknown or closed station names `station_id`; a station outside what the caller may read is unknown to it)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another vehicle has this plate", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_vehicle(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateVehicle>,
) -> Result<Response, AppError> {
    caller.require()?;
    check_station(&state, &caller, body.station_id).await?;
    let now = Utc::now();
    let (created, station) = fleet::register(&state.db, body.into(), &caller.actor(), now).await?;
    let location = format!("/api/v1/vehicles/{}", created.id);
    let mut response = respond(StatusCode::CREATED, created, &station)?;
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Filters of the vehicle listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Vehicles of stations in this region or anything below it (12-digit code).
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
    /// Vehicles of this station.
    pub station: Option<i64>,
    /// Comma-separated statuses; default: `active`.
    #[param(example = "active,retired")]
    pub status: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of vehicles.
#[derive(Debug, Serialize, ToSchema)]
pub struct VehiclePage {
    pub items: Vec<VehicleView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Lists the vehicles the caller may read: by their station's region subtree, station and
/// status, in id order.
#[utoipa::path(
    get,
    path = "/vehicles",
    tag = "vehicles",
    params(ListParams),
    responses(
        (status = 200, description = "A page of vehicles in id order", body = VehiclePage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region` or `station` does not exist (or is outside what the caller may read)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_vehicles(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<VehiclePage>, AppError> {
    let reach = policy::read_scope(caller.require()?);
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let mut filter = FleetFilter {
        statuses: status_filter(
            params.status.as_deref(),
            VehicleStatus::ALL,
            Some(VehicleStatus::Retired),
            VehicleStatus::as_str,
        )?,
        after_id: id_cursor(params.cursor.as_deref())?,
        limit: Some(limit + 1),
        reach: Some(reach),
        ..FleetFilter::default()
    };
    if let Some(raw) = params.region.as_deref() {
        filter.region_range = Some(region_filter(&state, &caller, raw).await?);
    }
    if let Some(id) = params.station {
        let station = stations::find(&state.db, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no station with id {id}")))?;
        authorize_station(&caller, Action::Read, &station)?;
        filter.station_id = Some(id);
    }
    let (rows, next_cursor) = paginate(fleet::list(&state.db, &filter).await?, limit, |(v, _)| {
        v.id.to_string()
    });
    Ok(Json(VehiclePage {
        items: rows
            .into_iter()
            .map(|(v, s)| to_view(v, &s))
            .collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

/// The vehicle's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VehiclePath {
    pub id: i64,
}

/// Loads a vehicle and its station, if the caller may do `action` to the vehicle (by the
/// station's region: 404 outside its reach, 403 outside its write scope).
async fn load_for(
    state: &AppState,
    caller: &Caller,
    action: Action,
    id: i64,
) -> Result<(vehicle::Model, station::Model), AppError> {
    caller.require()?;
    let (vehicle, station) = load(state, id).await?;
    caller.authorize_at(action, &station, || format!("vehicle with id {id}"))?;
    Ok((vehicle, station))
}

async fn load(state: &AppState, id: i64) -> Result<(vehicle::Model, station::Model), AppError> {
    Ok(fleet::load(&state.db, id).await?)
}

/// One vehicle.
#[utoipa::path(
    get,
    path = "/vehicles/{id}",
    tag = "vehicles",
    params(VehiclePath),
    responses(
        (status = 200, description = "The vehicle; `ETag` carries the version", body = VehicleView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such vehicle", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_vehicle(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<VehiclePath>,
) -> Result<Response, AppError> {
    let (vehicle, station) = load_for(&state, &caller, Action::Read, path.id).await?;
    respond(StatusCode::OK, vehicle, &station)
}

/// Changes a vehicle. Needs `If-Match` with the version last seen: a stale version gets 412
/// with the current vehicle, so the client can merge and retry.
#[utoipa::path(
    patch,
    path = "/vehicles/{id}",
    tag = "vehicles",
    params(VehiclePath, ("If-Match" = String, Header, description = "The ETag last seen, e.g. \"3\"")),
    request_body = PatchVehicle,
    responses(
        (status = 200, description = "Changed; `ETag` carries the new version", body = VehicleView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such vehicle", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another vehicle has this plate", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The version moved on: the body is the current vehicle", body = VehicleView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(vehicle_id = path.id))]
async fn patch_vehicle(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<VehiclePath>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<PatchVehicle>,
) -> Result<Response, AppError> {
    let current = load_for(&state, &caller, Action::Update, path.id).await?;
    let expected = required_if_match(&headers, "vehicle", current.0.version)?;
    if expected == current.0.version
        && let Some(Some(station_id)) = patch.station_id
        && station_id != current.0.station_id
    {
        check_station(&state, &caller, station_id).await?;
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
    render(outcome)
}

/// 200 with the vehicle as it now is, or 412 with the current one.
fn render(outcome: Outcome<VehicleAt>) -> Result<Response, AppError> {
    match outcome {
        Outcome::Updated((m, station)) => respond(StatusCode::OK, m, &station),
        Outcome::Stale((m, station)) => respond(StatusCode::PRECONDITION_FAILED, m, &station),
    }
}

/// Retires a vehicle: its status becomes `retired`; it is kept, with its history and plate,
/// and never planned. `If-Match` is honoured when sent.
#[utoipa::path(
    delete,
    path = "/vehicles/{id}",
    tag = "vehicles",
    params(VehiclePath),
    responses(
        (status = 200, description = "Retired; the vehicle as it now is", body = VehicleView),
        (status = 400, description = "Malformed id or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such vehicle", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` named an old version: the body is the current vehicle", body = VehicleView),
    )
)]
#[tracing::instrument(skip_all, fields(vehicle_id = path.id))]
async fn retire_vehicle(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<VehiclePath>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let current = load_for(&state, &caller, Action::Close, path.id).await?;
    let expected = if_match(&headers, current.0.version)?.unwrap_or(current.0.version);
    let outcome = fleet::retire(&state.db, current, expected, &caller.actor(), Utc::now()).await?;
    render(outcome)
}

/// Asks the policy for `action` on `station` itself.
fn authorize_station(
    caller: &Caller,
    action: Action,
    station: &entity::station::Model,
) -> Result<(), AppError> {
    let id = station.id;
    caller.authorize_at(action, station, || format!("station with id {id}"))
}
