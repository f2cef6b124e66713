//! `/api/v1/regions`: browsing and searching the division hierarchy.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
pub use crate::api::extract::CodePath;
use crate::api::extract::{
    Json as JsonBody, Path, Query, nullable, page_limit, paginate, required_if_match, with_etag,
};
use crate::domain::policy::Action;
use crate::domain::region::{Level, Region, RegionCode, VillageKind};
use crate::error::{AppError, Problem};
use crate::geo::Crs;
use crate::registry::Acting;
use crate::registry::regions::{
    self as service, DescendantCounts, RegionChange, RegionQuery, RegionRef, VillageKinds,
};
use crate::state::AppState;
use crate::versioned::Outcome;

/// Page size when `limit` is not given, and the largest accepted.
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;
const MAX_QUERY_CHARS: usize = 50;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_regions))
        .routes(routes!(get_region, patch_region))
}

/// A region as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionSummary {
    #[schema(example = "411103101000")]
    pub code: String,
    #[schema(example = "孟庙镇")]
    pub name: String,
    pub level: Level,
    #[schema(example = "411103000000")]
    pub parent_code: Option<String>,
    /// Village-level units only: `village` or `community`.
    pub kind: Option<VillageKind>,
    /// WGS-84 longitude of the centre, when known.
    #[serde(serialize_with = "crate::domain::rounding::ser::opt_coordinate")]
    pub longitude: Option<f64>,
    /// WGS-84 latitude of the centre, when known.
    #[serde(serialize_with = "crate::domain::rounding::ser::opt_coordinate")]
    pub latitude: Option<f64>,
    pub population: Option<i64>,
}

impl From<Region> for RegionSummary {
    fn from(r: Region) -> Self {
        RegionSummary {
            code: r.code.to_string(),
            name: r.name,
            level: r.level,
            parent_code: r.parent_code.map(|p| p.to_string()),
            kind: r.kind,
            longitude: r.longitude,
            latitude: r.latitude,
            population: r.population,
        }
    }
}

/// One page of regions.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionPage {
    pub items: Vec<RegionSummary>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A region with its breadcrumb and what lies below it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionDetail {
    #[serde(flatten)]
    pub region: RegionSummary,
    /// True when `kind` was set by hand rather than derived from the name.
    pub kind_overridden: bool,
    /// From the province down to the parent.
    pub ancestors: Vec<RegionRef>,
    pub descendant_counts: DescendantCounts,
    pub village_kinds: VillageKinds,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; send it back in `If-Match` to edit the region.
    pub version: i32,
}

/// Query parameters of `GET /api/v1/regions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// The region whose children to list (12 digits). Without `level` and `q`: its direct
    /// children. With either: matching units anywhere below it. Omitted: the top-level regions,
    /// or, with `level`/`q`, the whole database.
    #[param(example = "411103000000", pattern = r"^[0-9]{12}$")]
    pub parent: Option<String>,
    /// Only units of this level, anywhere below `parent`.
    pub level: Option<Level>,
    /// A fragment of the name (literal text, at most 50 characters, ASCII case ignored),
    /// searched below `parent`.
    #[param(example = "孟庙", max_length = 50)]
    pub q: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{12}$")]
    pub cursor: Option<String>,
}

fn parse_code(field: &str, raw: &str) -> Result<RegionCode, AppError> {
    RegionCode::parse(raw).map_err(|_| AppError::invalid(field, "must be a 12-digit region code"))
}

/// Lists the children of a region, or searches its subtree by level and name; in code order,
/// a page at a time.
#[utoipa::path(
    get,
    path = "/regions",
    tag = "regions",
    params(ListParams),
    responses(
        (status = 200, description = "A page of regions in code order", body = RegionPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`parent` does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_regions(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<RegionPage>, AppError> {
    caller.require()?;
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let name_contains = match params.q.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(q) if q.chars().count() > MAX_QUERY_CHARS => {
            return Err(AppError::invalid(
                "q",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        Some(q) if q.chars().any(char::is_control) => {
            return Err(AppError::invalid(
                "q",
                "must not contain control characters",
            ));
        }
        Some(q) => Some(q.to_owned()),
    };
    let after = params
        .cursor
        .as_deref()
        .map(|c| parse_code("cursor", c))
        .transpose()?;
    let parent = params
        .parent
        .as_deref()
        .map(|raw| parse_code("parent", raw))
        .transpose()?;
    let query = RegionQuery {
        parent,
        level: params.level,
        name_contains,
        after,
        limit: limit + 1,
    };
    let rows = service::list(&state.db, query, &acting(&caller)).await?;
    let (rows, next_cursor) = paginate(rows, limit, |r| r.code.to_string());
    Ok(Json(RegionPage {
        items: rows.into_iter().map(RegionSummary::from).collect(),
        next_cursor,
    }))
}

fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

/// One region, its ancestors, and counts of what lies below it.
#[utoipa::path(
    get,
    path = "/regions/{code}",
    tag = "regions",
    params(CodePath),
    responses(
        (status = 200, description = "The region", body = RegionDetail),
        (status = 400, description = "The code is not 12 digits", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(code = %path.code))]
async fn get_region(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CodePath>,
) -> Result<Response, AppError> {
    let code = parse_code("code", &path.code)?;
    caller.require()?;
    service::authorize(&acting(&caller), Action::Read, &code)?;
    region_detail(&state, &code, StatusCode::OK).await
}

/// The detail of a region, with its ETag.
async fn region_detail(
    state: &AppState,
    code: &RegionCode,
    status: StatusCode,
) -> Result<Response, AppError> {
    let detail = service::detail(&state.db, code).await?;
    let region = detail.region;
    let version = region.version;
    Ok(with_etag(
        status,
        version,
        Json(RegionDetail {
            kind_overridden: region.kind_overridden,
            created_at: region.created_at,
            updated_at: region.updated_at,
            version,
            region: RegionSummary::from(region),
            ancestors: detail.ancestors,
            descendant_counts: detail.descendant_counts,
            village_kinds: detail.village_kinds,
        }),
    ))
}

/// The body of `PATCH /api/v1/regions/{code}`: only the members to change; `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRegion {
    /// With `latitude`: the centre of the township or village; `null` (both) clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>)]
    pub longitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>)]
    pub latitude: Option<Option<f64>>,
    /// The datum of `longitude`/`latitude` (default `wgs84`; map apps give `gcj02`).
    pub crs: Option<Crs>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub population: Option<Option<i64>>,
    /// Village-level units: `village` or `community`, overriding the kind derived from the
    /// name; `null` returns to the derived kind.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<VillageKind>)]
    pub kind: Option<Option<VillageKind>>,
}

/// Sets a township's or village's centre, population, or (villages) kind. Needs `If-Match`.
#[utoipa::path(
    patch,
    path = "/regions/{code}",
    tag = "regions",
    params(CodePath, ("If-Match" = String, Header, description = "The ETag last seen, e.g. \"1\"")),
    request_body = PatchRegion,
    responses(
        (status = 200, description = "Changed; `ETag` carries the new version", body = RegionDetail),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The version moved on: the body is the current region", body = RegionDetail),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(code = %path.code))]
async fn patch_region(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CodePath>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<PatchRegion>,
) -> Result<Response, AppError> {
    let code = parse_code("code", &path.code)?;
    let acting = acting(&caller);
    service::authorize(&acting, Action::Update, &code)?;
    let current = service::find(&state.db, &code).await?;
    let expected = required_if_match(&headers, "region", current.version)?;
    let status = match service::update(
        &state.db,
        current,
        patch.into(),
        expected,
        &acting,
        Utc::now(),
    )
    .await?
    {
        Outcome::Updated(_) => StatusCode::OK,
        Outcome::Stale(_) => StatusCode::PRECONDITION_FAILED,
    };
    region_detail(&state, &code, status).await
}

impl From<PatchRegion> for RegionChange {
    fn from(p: PatchRegion) -> Self {
        RegionChange {
            longitude: p.longitude,
            latitude: p.latitude,
            crs: p.crs,
            population: p.population,
            kind: p.kind,
        }
    }
}
