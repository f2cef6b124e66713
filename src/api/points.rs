//! `/api/v1/points`: donation points, with optimistic concurrency (ETag / If-Match), GCJ-02 on
//! the way in and out, map filters and a GeoJSON view.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entity::point;
use sea_orm::ConnectionTrait;
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
use crate::domain::point::{PhoneNumber, PointKind, PointStatus, mask_phone, parse_market_days};
use crate::domain::policy::{self, Action, Resource};
use crate::domain::region::RegionCode;
use crate::domain::rounding::{self, Measure};
use crate::error::{AppError, FieldError, FieldErrors as Errors, Problem};
use crate::geo::{Crs, Wgs84Point};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Change};
use crate::store::coordinators as coordinator_store;
use crate::store::points::{self as store, PointFields, PointFilter};
use crate::store::regions;

/// A point farther than this from its region's known centre gets a warning.
pub const FAR_FROM_CENTRE_KM: f64 = 15.0;
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
    let mobiles = coordinator_store::primary_mobiles(&state.db, &ids).await?;
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

/// A point's fields before validation: what the client sent, merged over what is stored.
struct Draft {
    name: Option<String>,
    kind: Option<PointKind>,
    region_code: Option<String>,
    address: Option<String>,
    location: Option<(f64, f64, Crs)>,
    status: Option<PointStatus>,
    signage_installed_on: Option<NaiveDate>,
    bloodmobile_parking: bool,
    power_hookup: bool,
    beds: Option<i32>,
    donors_per_hour: Option<i32>,
    contact_phone: Option<String>,
    notes: Option<String>,
    market_days: Option<String>,
}

fn text(
    errors: &mut Errors,
    field: &str,
    value: Option<String>,
    max: usize,
    required: bool,
) -> Option<String> {
    match crate::domain::text::clean(value, max, field == "notes") {
        Ok(None) if required => {
            errors.add(field, "is required");
            None
        }
        Ok(value) => value,
        Err(message) => {
            errors.add(field, message);
            None
        }
    }
}

fn bounded(errors: &mut Errors, field: &str, value: Option<i32>, max: i32) -> Option<i32> {
    if let Some(v) = value
        && !(0..=max).contains(&v)
    {
        errors.add(field, format!("must be between 0 and {max}"));
    }
    value
}

/// Checks a draft against every rule and the database; returns the fields to store and any
/// warnings.
async fn validate(
    db: &impl ConnectionTrait,
    draft: Draft,
    today: NaiveDate,
) -> Result<(PointFields, Vec<FieldError>), AppError> {
    let mut errors = Errors::default();
    let name = text(&mut errors, "name", draft.name, 200, true);
    let address = text(&mut errors, "address", draft.address, 500, false);
    let notes = text(&mut errors, "notes", draft.notes, 2000, false);
    let beds = bounded(&mut errors, "beds", draft.beds, 100);
    let donors_per_hour = bounded(&mut errors, "donors_per_hour", draft.donors_per_hour, 500);
    let contact_phone = match draft
        .contact_phone
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(raw) => PhoneNumber::parse(&raw)
            .map_err(|m| errors.add("contact_phone", m))
            .ok(),
    };
    let market_days = match draft.market_days.as_deref().map(parse_market_days) {
        None => None,
        Some(Ok(days)) => days,
        Some(Err(message)) => {
            errors.add("market_days", message);
            None
        }
    };
    if draft.signage_installed_on.is_some_and(|d| d > today) {
        errors.add("signage_installed_on", "must not be in the future");
    }
    if draft
        .signage_installed_on
        .is_some_and(|d| d < crate::domain::text::EARLIEST_DATE)
    {
        errors.add("signage_installed_on", "must not be before 1949-10-01");
    }
    if draft.kind.is_none() {
        errors.add("kind", "is required");
    }
    let status = draft.status.unwrap_or(PointStatus::Planned);
    let location = match draft.location {
        None => {
            errors.add("longitude", "is required");
            None
        }
        Some((lon, lat, crs)) => Wgs84Point::from_crs(lon, lat, crs)
            .map_err(|e| errors.add(e.field, e.message))
            .ok(),
    };
    // The region: it must exist and be of a level the kind serves.
    let mut region = None;
    match draft.region_code.as_deref().map(str::trim) {
        None | Some("") => errors.add("region_code", "is required"),
        Some(raw) => match RegionCode::parse(raw) {
            Err(_) => errors.add("region_code", "must be a 12-digit region code"),
            Ok(code) => match regions::find(db, &code).await? {
                None => errors.add("region_code", format!("no region with code {code}")),
                Some(r) => {
                    if let Some(kind) = draft.kind
                        && !kind.serves(r.level)
                    {
                        errors.add(
                            "region_code",
                            format!(
                                "a {kind} point serves {}, and {} is a {}",
                                kind.expected_levels(),
                                r.name,
                                r.level
                            ),
                        );
                    }
                    region = Some(r);
                }
            },
        },
    }
    errors.into_result()?;
    let (Some(name), Some(kind), Some(location), Some(region)) =
        (name, draft.kind, location, region)
    else {
        unreachable!("every missing field added an error above");
    };
    let mut warnings = Vec::new();
    if let (Some(lon), Some(lat)) = (region.longitude, region.latitude) {
        let km = location.distance_km(Wgs84Point::stored(lon, lat));
        if km > FAR_FROM_CENTRE_KM {
            warnings.push(FieldError::new(
                "longitude",
                format!(
                    "the point is {km:.1} km from the centre of {} (more than {FAR_FROM_CENTRE_KM} km); check the location",
                    region.name
                ),
            ));
        }
    }
    Ok((
        PointFields {
            name,
            kind,
            region_code: region.code,
            address,
            location,
            status,
            signage_installed_on: draft.signage_installed_on,
            bloodmobile_parking: draft.bloodmobile_parking,
            power_hookup: draft.power_hookup,
            beds,
            donors_per_hour,
            contact_phone,
            notes,
            market_days,
        },
        warnings,
    ))
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

async fn load(state: &AppState, id: i64) -> Result<point::Model, AppError> {
    store::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no point with id {id}")))
}

/// Loads a point the caller may do `action` to (404 outside its reach, 403 outside its write
/// scope).
async fn load_for(
    state: &AppState,
    caller: &Caller,
    action: Action,
    id: i64,
) -> Result<point::Model, AppError> {
    let model = load(state, id).await?;
    let code = RegionCode::parse(&model.region_code).ok();
    caller.authorize(action, Resource::Registry(code.as_ref()), || {
        format!("point with id {id}")
    })?;
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

/// Validates a new point and stores it with its audit record, inside the caller's write
/// transaction: what `POST /api/v1/points` does once the caller is authorised (and what the
/// demo network is loaded with). Returns the point and the warnings.
pub(crate) async fn create(
    txn: &impl ConnectionTrait,
    body: CreatePoint,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(point::Model, Vec<FieldError>), AppError> {
    let draft = Draft {
        name: Some(body.name),
        kind: Some(body.kind),
        region_code: Some(body.region_code),
        address: body.address,
        location: Some((body.longitude, body.latitude, body.crs)),
        status: body.status,
        signage_installed_on: body.signage_installed_on,
        bloodmobile_parking: body.bloodmobile_parking,
        power_hookup: body.power_hookup,
        beds: body.beds,
        donors_per_hour: body.donors_per_hour,
        contact_phone: body.contact_phone,
        notes: body.notes,
        market_days: body.market_days,
    };
    let (fields, warnings) = validate(txn, draft, now.date_naive()).await?;
    let created = store::insert(txn, fields, actor.name.clone(), now).await?;
    audit::record(
        txn,
        Change {
            entity: "point",
            entity_id: created.id.to_string(),
            action: "create",
            region_code: Some(created.region_code.clone()),
            before: None,
            after: Some(&created),
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok((created, warnings))
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
    authorize_region(&caller, Action::Create, &body.region_code)?;
    let now = Utc::now();
    let crs = body.crs;
    let txn = crate::db::begin_write(&state.db).await?;
    let (created, warnings) = create(&txn, body, &caller.actor(), now).await?;
    txn.commit().await?;
    let mut view = to_view(created, crs)?;
    view.warnings = warnings;
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
        let model = load(&state, path.id).await?;
        if model.status != PointStatus::Active.as_str() {
            return Err(AppError::NotFound(format!("no point with id {}", path.id)));
        }
        let public = publish(&state, vec![to_view(model, crs)?]).await?;
        return Ok(Json(public.into_iter().next()).into_response());
    }
    let model = load_for(&state, &caller, Action::Read, path.id).await?;
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
    let current = load_for(&state, &caller, Action::Update, path.id).await?;
    let expected = required_if_match(&headers, "point", current.version)?;
    if expected != current.version {
        return Ok(respond(
            StatusCode::PRECONDITION_FAILED,
            to_view(current, crs)?,
        ));
    }
    let draft = merge(&current, patch)?;
    if let Some(region) = draft.region_code.as_deref()
        && region != current.region_code
    {
        authorize_region(&caller, Action::Create, region)?;
    }
    let now = Utc::now();
    let (fields, mut warnings) = validate(&state.db, draft, now.date_naive()).await?;
    // Warn about the distance only when this change moved the point or its region.
    if fields.location == Wgs84Point::stored(current.longitude, current.latitude)
        && fields.region_code.as_str() == current.region_code
    {
        warnings.clear();
    }
    let updated =
        match write_change(&state, &caller, &current, expected, fields, "update", now).await? {
            Ok(updated) => updated,
            Err(latest) => {
                return Ok(respond(
                    StatusCode::PRECONDITION_FAILED,
                    to_view(latest, crs)?,
                ));
            }
        };
    let mut view = to_view(updated, crs)?;
    view.warnings = warnings;
    Ok(respond(StatusCode::OK, view))
}

/// Applies a PATCH body over the stored point.
fn merge(current: &point::Model, patch: PatchPoint) -> Result<Draft, AppError> {
    let mut errors = Errors::default();
    // A required member sent as null is a mistake, not a clear.
    fn required<T>(
        errors: &mut Errors,
        field: &str,
        value: Option<Option<T>>,
        current: T,
    ) -> Option<T> {
        match value {
            None => Some(current),
            Some(None) => {
                errors.add(field, "cannot be null");
                None
            }
            Some(Some(v)) => Some(v),
        }
    }
    let optional = |value: Option<Option<String>>, current: &Option<String>| {
        value.unwrap_or_else(|| current.clone())
    };
    let stored = stored_fields(current)?;
    let kind = required(&mut errors, "kind", patch.kind, stored.kind);
    let status = required(&mut errors, "status", patch.status, stored.status);
    let location = match (patch.longitude, patch.latitude) {
        (None, None) => {
            if patch.crs.is_some() {
                errors.add(
                    "crs",
                    "applies to a new longitude and latitude; send them too",
                );
            }
            Some((current.longitude, current.latitude, Crs::Wgs84))
        }
        (Some(Some(lon)), Some(Some(lat))) => Some((lon, lat, patch.crs.unwrap_or_default())),
        (Some(None), _) | (_, Some(None)) => {
            errors.add("longitude", "cannot be null");
            None
        }
        _ => {
            errors.add(
                "latitude",
                "longitude and latitude change together; send both",
            );
            None
        }
    };
    let draft = Draft {
        name: required(&mut errors, "name", patch.name, current.name.clone()),
        region_code: required(
            &mut errors,
            "region_code",
            patch.region_code,
            current.region_code.clone(),
        ),
        kind,
        status,
        location,
        address: optional(patch.address, &current.address),
        signage_installed_on: patch
            .signage_installed_on
            .unwrap_or(current.signage_installed_on),
        bloodmobile_parking: required(
            &mut errors,
            "bloodmobile_parking",
            patch.bloodmobile_parking,
            current.bloodmobile_parking,
        )
        .unwrap_or(current.bloodmobile_parking),
        power_hookup: required(
            &mut errors,
            "power_hookup",
            patch.power_hookup,
            current.power_hookup,
        )
        .unwrap_or(current.power_hookup),
        beds: patch.beds.unwrap_or(current.beds),
        donors_per_hour: patch.donors_per_hour.unwrap_or(current.donors_per_hour),
        contact_phone: optional(patch.contact_phone, &current.contact_phone),
        notes: optional(patch.notes, &current.notes),
        market_days: optional(patch.market_days, &current.market_days),
    };
    errors.into_result()?;
    Ok(draft)
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
    let current = load_for(&state, &caller, Action::Close, path.id).await?;
    let expected = if_match(&headers, current.version)?.unwrap_or(current.version);
    if expected != current.version {
        return Ok(respond(
            StatusCode::PRECONDITION_FAILED,
            to_view(current, crs)?,
        ));
    }
    if current.status == PointStatus::Closed.as_str() {
        return Ok(respond(StatusCode::OK, to_view(current, crs)?));
    }
    let now = Utc::now();
    let mut fields = stored_fields(&current)?;
    fields.status = PointStatus::Closed;
    let closed =
        match write_change(&state, &caller, &current, expected, fields, "close", now).await? {
            Ok(closed) => closed,
            Err(latest) => {
                return Ok(respond(
                    StatusCode::PRECONDITION_FAILED,
                    to_view(latest, crs)?,
                ));
            }
        };
    Ok(respond(StatusCode::OK, to_view(closed, crs)?))
}

/// Writes `fields` over `current` if it is still at `expected`, with its audit record, in one
/// transaction. `Err(latest)` when someone else's change won between our read and our write.
async fn write_change(
    state: &AppState,
    caller: &Caller,
    current: &point::Model,
    expected: i32,
    fields: PointFields,
    action: &str,
    now: DateTime<Utc>,
) -> Result<Result<point::Model, point::Model>, AppError> {
    let txn = crate::db::begin_write(&state.db).await?;
    let Some(written) =
        store::update_if_version(&txn, current.id, expected, fields, caller.username(), now)
            .await?
    else {
        txn.rollback().await?;
        return Ok(Err(load(state, current.id).await?));
    };
    audit::record(
        &txn,
        Change {
            entity: "point",
            entity_id: written.id.to_string(),
            action,
            region_code: Some(written.region_code.clone()),
            before: Some(current),
            after: Some(&written),
            actor: caller.actor(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(written))
}

/// The stored fields of a point, unchanged (for changes that touch one field).
fn stored_fields(m: &point::Model) -> Result<PointFields, AppError> {
    let internal = |e: String| AppError::Internal(anyhow::anyhow!("point {}: {e}", m.id));
    Ok(PointFields {
        name: m.name.clone(),
        kind: m.kind.parse().map_err(internal)?,
        region_code: RegionCode::parse(&m.region_code).map_err(|e| internal(e.to_string()))?,
        address: m.address.clone(),
        location: Wgs84Point::stored(m.longitude, m.latitude),
        status: m.status.parse().map_err(internal)?,
        signage_installed_on: m.signage_installed_on,
        bloodmobile_parking: m.bloodmobile_parking,
        power_hookup: m.power_hookup,
        beds: m.beds,
        donors_per_hour: m.donors_per_hour,
        contact_phone: m
            .contact_phone
            .as_deref()
            .and_then(|p| PhoneNumber::parse(p).ok()),
        notes: m.notes.clone(),
        market_days: m
            .market_days
            .as_deref()
            .and_then(|d| parse_market_days(d).ok().flatten()),
    })
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
    let mut filter = PointFilter::default();
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
        let region = regions::find(&state.db, &code)
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
            let (rows, next) = paginate(store::list(&state.db, &filter).await?, limit, |r| {
                r.id.to_string()
            });
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
            let mut hits: Vec<(u64, point::Model)> = store::list(&state.db, &filter)
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
