//! `/api/v1/hosts`: host organisations of group drives (issue 16) and their contacts, with
//! optimistic concurrency (ETag / If-Match) and GCJ-02 on the way in and out. Scoped like
//! points: outside the caller's read scope a host does not exist.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entity::host_contact;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, nullable, page_limit, paginate, required_if_match,
    with_etag,
};
use crate::domain::host::HostKind;
use crate::domain::policy::Action;
use crate::domain::region::RegionCode;
use crate::error::{AppError, Problem};
use crate::geo::{Crs, Wgs84Point};
use crate::registry::hosts::{
    self as registry, HostChange, HostDetail, HostQuery, NewContact, NewHost,
};
use crate::registry::{Acting, Written};
use crate::state::AppState;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_hosts, create_host))
        .routes(routes!(get_host, patch_host))
        .routes(routes!(list_contacts, add_contact))
        .routes(routes!(remove_contact))
}

/// A contact at a host.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HostContactView {
    pub id: i64,
    pub name: String,
    pub mobile: String,
    pub role: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
}

impl From<host_contact::Model> for HostContactView {
    fn from(m: host_contact::Model) -> Self {
        HostContactView {
            id: m.id,
            name: m.name,
            mobile: m.mobile,
            role: m.role,
            created_at: m.created_at,
            created_by: m.created_by,
        }
    }
}

/// A host organisation as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HostView {
    pub id: i64,
    pub name: String,
    pub kind: HostKind,
    pub region_code: String,
    pub address: Option<String>,
    /// In the response's `crs` (WGS-84 unless `?crs=gcj02`).
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub longitude: f64,
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub latitude: f64,
    pub crs: Crs,
    pub typical_headcount: Option<i32>,
    /// The months it prefers for its drives (its yearly timetable), in calendar order.
    #[schema(example = json!([3, 9]))]
    pub preferred_months: Vec<u32>,
    pub notes: Option<String>,
    /// In the order they were added.
    pub contacts: Vec<HostContactView>,
    /// Bumped by every change (also to its contacts); send it back in `If-Match`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

fn to_view(detail: HostDetail, crs: Crs) -> Result<HostView, AppError> {
    let preferred_months = detail.preferred_months();
    let m = detail.host;
    let kind = m
        .kind
        .parse()
        .map_err(|e: String| AppError::Internal(anyhow::anyhow!("host {}: {e}", m.id)))?;
    let (longitude, latitude) = Wgs84Point::stored(m.longitude, m.latitude).in_crs(crs);
    Ok(HostView {
        id: m.id,
        name: m.name,
        kind,
        region_code: m.region_code,
        address: m.address,
        longitude,
        latitude,
        crs,
        typical_headcount: m.typical_headcount,
        preferred_months,
        notes: m.notes,
        contacts: detail.contacts.into_iter().map(Into::into).collect(),
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        created_by: m.created_by,
        updated_by: m.updated_by,
    })
}

/// A contact as sent (`POST /api/v1/hosts` and `POST /api/v1/hosts/{id}/contacts`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHostContact {
    #[schema(example = "王敏")]
    pub name: String,
    /// Mainland mobile: 11 digits starting with 1.
    #[schema(example = "13812345678")]
    pub mobile: String,
    #[schema(example = "工会主席")]
    pub role: Option<String>,
}

impl From<CreateHostContact> for NewContact {
    fn from(body: CreateHostContact) -> Self {
        NewContact {
            name: body.name,
            mobile: body.mobile,
            role: body.role,
        }
    }
}

/// The body of `POST /api/v1/hosts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHost {
    #[schema(example = "东岭镇中心小学")]
    pub name: String,
    pub kind: HostKind,
    /// The region it lies in.
    #[schema(example = "990101101000")]
    pub region_code: String,
    pub address: Option<String>,
    #[schema(example = 114.0259)]
    pub longitude: f64,
    #[schema(example = 33.6588)]
    pub latitude: f64,
    /// The datum of `longitude`/`latitude` (default `wgs84`; map apps give `gcj02`).
    #[serde(default)]
    pub crs: Crs,
    /// 1 to 100,000.
    pub typical_headcount: Option<i32>,
    /// Months 1 to 12, each once.
    #[serde(default)]
    #[schema(example = json!([3, 9]))]
    pub preferred_months: Vec<i64>,
    /// At most 20.
    #[serde(default)]
    pub contacts: Vec<CreateHostContact>,
    pub notes: Option<String>,
}

impl From<CreateHost> for NewHost {
    fn from(body: CreateHost) -> Self {
        NewHost {
            name: body.name,
            kind: body.kind,
            region_code: body.region_code,
            address: body.address,
            longitude: body.longitude,
            latitude: body.latitude,
            crs: body.crs,
            typical_headcount: body.typical_headcount,
            preferred_months: body.preferred_months,
            contacts: body.contacts.into_iter().map(Into::into).collect(),
            notes: body.notes,
        }
    }
}

/// The body of `PATCH /api/v1/hosts/{id}`: only the members to change; `null` clears an
/// optional member. Contacts change through `/api/v1/hosts/{id}/contacts`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchHost {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, required = false)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = HostKind, required = false)]
    pub kind: Option<Option<HostKind>>,
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
    #[schema(value_type = Option<i32>)]
    pub typical_headcount: Option<Option<i32>>,
    /// The whole timetable; `null` or `[]` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<i64>>)]
    pub preferred_months: Option<Option<Vec<i64>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

impl From<PatchHost> for HostChange {
    fn from(patch: PatchHost) -> Self {
        HostChange {
            name: patch.name,
            kind: patch.kind,
            region_code: patch.region_code,
            address: patch.address,
            longitude: patch.longitude,
            latitude: patch.latitude,
            crs: patch.crs,
            typical_headcount: patch.typical_headcount,
            preferred_months: patch.preferred_months,
            notes: patch.notes,
        }
    }
}

/// `?crs=` on single-host routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HostCrsParam {
    /// The datum of the coordinates in the response (default `wgs84`).
    pub crs: Option<Crs>,
}

/// The host's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct HostPath {
    pub id: i64,
}

/// The path of one contact.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct HostContactPath {
    /// The host.
    pub id: i64,
    pub contact_id: i64,
}

fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

fn respond(status: StatusCode, view: HostView) -> Response {
    with_etag(status, view.version, Json(view))
}

/// Registers a host organisation, with its first contacts.
#[utoipa::path(
    post,
    path = "/hosts",
    tag = "hosts",
    request_body = CreateHost,
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = HostView),
        (status = 400, description = "Invalid fields, each named (`contacts[0].mobile`, `preferred_months[1]`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The region is outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_host(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateHost>,
) -> Result<Response, AppError> {
    caller.require()?;
    let crs = body.crs;
    let created = registry::create(&state.db, body.into(), &acting(&caller), Utc::now()).await?;
    let view = to_view(created, crs)?;
    let location = format!("/api/v1/hosts/{}", view.id);
    let mut response = respond(StatusCode::CREATED, view);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// One host, with its contacts.
#[utoipa::path(
    get,
    path = "/hosts/{id}",
    tag = "hosts",
    params(HostPath, HostCrsParam),
    responses(
        (status = 200, description = "The host; `ETag` carries the version", body = HostView),
        (status = 404, description = "No such host (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_host(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HostPath>,
    Query(params): Query<HostCrsParam>,
) -> Result<Response, AppError> {
    let detail = registry::get(&state.db, path.id, &acting(&caller)).await?;
    Ok(respond(
        StatusCode::OK,
        to_view(detail, params.crs.unwrap_or_default())?,
    ))
}

/// Changes a host. Needs `If-Match` with the version last seen: a stale version gets 412 with
/// the current host.
#[utoipa::path(
    patch,
    path = "/hosts/{id}",
    tag = "hosts",
    params(HostPath, HostCrsParam, ("If-Match" = String, Header, description = "The ETag last seen, e.g. \"3\"")),
    request_body = PatchHost,
    responses(
        (status = 200, description = "Changed; `ETag` carries the new version", body = HostView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such host", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The version moved on: the body is the current host", body = HostView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(host_id = path.id))]
async fn patch_host(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HostPath>,
    Query(params): Query<HostCrsParam>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<PatchHost>,
) -> Result<Response, AppError> {
    let crs = params.crs.unwrap_or_default();
    let acting = acting(&caller);
    let current = registry::find_for(&state.db, path.id, Action::Update, &acting).await?;
    let expected = required_if_match(&headers, "host", current.version)?;
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
        Written::Done(updated) => respond(StatusCode::OK, to_view(updated, crs)?),
        Written::Stale(latest) => respond(StatusCode::PRECONDITION_FAILED, to_view(latest, crs)?),
    })
}

/// Filters of the host listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HostListParams {
    /// Hosts in this region or anything below it (12-digit code).
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
    pub kind: Option<HostKind>,
    /// Hosts that prefer this month (1 to 12).
    #[param(minimum = 1, maximum = 12)]
    pub month: Option<u32>,
    /// `YYYY-MM`: hosts due that month: their timetable names it and no drive is planned there
    /// (no drive that is not cancelled has a stop at the host dated in that month or later).
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2027-03")]
    pub due: Option<String>,
    /// Datum of the coordinates in the response (default `wgs84`).
    pub crs: Option<Crs>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of hosts.
#[derive(Debug, Serialize, ToSchema)]
pub struct HostPage {
    pub items: Vec<HostView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The month of `due=YYYY-MM`, and its first day.
fn due_month(raw: &str) -> Result<(u32, NaiveDate), AppError> {
    let invalid = || AppError::invalid("due", "must be a month as YYYY-MM");
    let (year, month) = raw.split_once('-').ok_or_else(invalid)?;
    if year.len() != 4 || month.len() != 2 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let month = month
        .parse::<u32>()
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(invalid)?;
    let first = year
        .parse::<i32>()
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, month, 1))
        .ok_or_else(invalid)?;
    Ok((month, first))
}

/// Lists hosts in the caller's reach: by region subtree, kind, a preferred month, or those due
/// in a month.
#[utoipa::path(
    get,
    path = "/hosts",
    tag = "hosts",
    params(HostListParams),
    responses(
        (status = 200, description = "A page of hosts, in id order", body = HostPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region` does not exist or is outside the caller's reach", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_hosts(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HostListParams>,
) -> Result<Response, AppError> {
    caller.require()?;
    let crs = params.crs.unwrap_or_default();
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let region = params
        .region
        .as_deref()
        .map(|raw| {
            RegionCode::parse(raw)
                .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))
        })
        .transpose()?;
    let mut unplanned_from = None;
    let month = match (params.month, params.due.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "due",
                "give either month or due, not both",
            ));
        }
        (Some(m), None) if !(1..=12).contains(&m) => {
            return Err(AppError::invalid("month", "must be a month, 1 to 12"));
        }
        (Some(m), None) => Some(m),
        (None, Some(raw)) => {
            let (month, first) = due_month(raw)?;
            unplanned_from = Some(first);
            Some(month)
        }
        (None, None) => None,
    };
    let query = HostQuery {
        region,
        kind: params.kind,
        month,
        unplanned_from,
        after_id: id_cursor(params.cursor.as_deref())?,
        limit: limit + 1,
    };
    let (rows, next_cursor) = paginate(
        registry::list(&state.db, query, &acting(&caller)).await?,
        limit,
        |r| r.host.id.to_string(),
    );
    let items = rows
        .into_iter()
        .map(|d| to_view(d, crs))
        .collect::<Result<_, _>>()?;
    Ok(Json(HostPage { items, next_cursor }).into_response())
}

/// The contacts of a host, in the order they were added.
#[utoipa::path(
    get,
    path = "/hosts/{id}/contacts",
    tag = "hosts",
    params(HostPath),
    responses(
        (status = 200, description = "Its contacts", body = [HostContactView]),
        (status = 404, description = "No such host", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_contacts(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HostPath>,
) -> Result<Json<Vec<HostContactView>>, AppError> {
    let detail = registry::get(&state.db, path.id, &acting(&caller)).await?;
    Ok(Json(detail.contacts.into_iter().map(Into::into).collect()))
}

/// Adds a contact to a host (the host's version moves on).
#[utoipa::path(
    post,
    path = "/hosts/{id}/contacts",
    tag = "hosts",
    params(HostPath),
    request_body = CreateHostContact,
    responses(
        (status = 201, description = "Added", body = HostContactView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such host", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The host has the most contacts it may have", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(host_id = path.id))]
async fn add_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HostPath>,
    JsonBody(body): JsonBody<CreateHostContact>,
) -> Result<Response, AppError> {
    let added = registry::add_contact(
        &state.db,
        path.id,
        body.into(),
        &acting(&caller),
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(HostContactView::from(added))).into_response())
}

/// Removes a contact from a host (the host's version moves on).
#[utoipa::path(
    delete,
    path = "/hosts/{id}/contacts/{contact_id}",
    tag = "hosts",
    params(HostContactPath),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such host, or no such contact at it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(host_id = path.id))]
async fn remove_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HostContactPath>,
) -> Result<StatusCode, AppError> {
    registry::remove_contact(
        &state.db,
        path.id,
        path.contact_id,
        &acting(&caller),
        Utc::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
