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
use crate::api::extract::{
    Json as JsonBody, Path, Query, nullable, page_limit, paginate, required_if_match, with_etag,
};
use crate::domain::policy::{self, Action, Resource, Visibility};
use crate::domain::region::{Level, Region, RegionCode, VillageKind};
use crate::error::{AppError, FieldError, Problem};
use crate::geo::{Crs, Wgs84Point};
use crate::state::AppState;
use crate::store::audit::{self, Change};
use crate::store::regions::{self as store, RegionEdit, RegionFilter};

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

/// An ancestor in a breadcrumb.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionRef {
    pub code: String,
    pub name: String,
    pub level: Level,
}

/// How many units lie below a region, per level.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct DescendantCounts {
    pub city: u64,
    pub county: u64,
    pub township: u64,
    pub village: u64,
}

/// Village-level units below a region, by kind.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct VillageKinds {
    pub village: u64,
    pub community: u64,
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

/// The path of `GET /api/v1/regions/{code}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CodePath {
    /// 12-digit division code.
    #[param(example = "411103101000", pattern = r"^[0-9]{12}$")]
    pub code: String,
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
    let reach = policy::read_scope(caller.require()?);
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
    let parent = match params.parent.as_deref() {
        None => None,
        Some(raw) => {
            let code = parse_code("parent", raw)?;
            read(&caller, &code)?;
            let parent = store::find(&state.db, &code)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no region with code {code}")))?;
            Some((code, parent.level))
        }
    };
    // The top of a bound caller's tree is the regions it is bound to.
    if let (None, None, None, Visibility::Within(scopes)) =
        (&parent, params.level, &name_contains, &reach)
    {
        let mut roots = Vec::new();
        for scope in scopes {
            if after.as_ref().is_none_or(|a| scope.code > *a)
                && let Some(region) = store::find(&state.db, &scope.code).await?
            {
                roots.push(region);
            }
        }
        roots.sort_by(|a, b| a.code.cmp(&b.code));
        roots.truncate(usize::try_from(limit + 1).unwrap_or(usize::MAX));
        let (rows, next_cursor) = paginate(roots, limit, |r| r.code.to_string());
        return Ok(Json(RegionPage {
            items: rows.into_iter().map(RegionSummary::from).collect(),
            next_cursor,
        }));
    }
    let filter = RegionFilter {
        parent,
        level: params.level,
        name_contains,
        after,
        limit: limit + 1,
        reach: Some(reach),
    };
    let (rows, next_cursor) = paginate(store::list(&state.db, &filter).await?, limit, |r| {
        r.code.to_string()
    });
    Ok(Json(RegionPage {
        items: rows.into_iter().map(RegionSummary::from).collect(),
        next_cursor,
    }))
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
    read(&caller, &code)?;
    region_detail(&state, code).await
}

/// The caller may read region `code` (else 401/404).
pub fn read(caller: &Caller, code: &RegionCode) -> Result<(), AppError> {
    caller.require()?;
    caller.authorize(Action::Read, Resource::Registry(Some(code)), || {
        format!("region with code {code}")
    })
}

/// The detail of a region, with its ETag.
async fn region_detail(state: &AppState, code: RegionCode) -> Result<Response, AppError> {
    let region = store::find(&state.db, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no region with code {code}")))?;
    let ancestors = store::ancestors(&state.db, &code).await?;
    let mut descendant_counts = DescendantCounts::default();
    let mut village_kinds = VillageKinds::default();
    for c in store::descendant_counts(&state.db, &code, region.level).await? {
        match c.level {
            Level::Province => {}
            Level::City => descendant_counts.city += c.count,
            Level::County => descendant_counts.county += c.count,
            Level::Township => descendant_counts.township += c.count,
            Level::Village => descendant_counts.village += c.count,
        }
        match c.kind {
            Some(VillageKind::Community) => village_kinds.community += c.count,
            Some(VillageKind::Village) => village_kinds.village += c.count,
            None => {}
        }
    }
    let version = region.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        Json(RegionDetail {
            kind_overridden: region.kind_overridden,
            created_at: region.created_at,
            updated_at: region.updated_at,
            version,
            region: RegionSummary::from(region),
            ancestors: ancestors
                .into_iter()
                .map(|a| RegionRef {
                    code: a.code.to_string(),
                    name: a.name,
                    level: a.level,
                })
                .collect(),
            descendant_counts,
            village_kinds,
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
    caller.authorize(Action::Update, Resource::Registry(Some(&code)), || {
        format!("region with code {code}")
    })?;
    let current = store::find(&state.db, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no region with code {code}")))?;
    let expected = required_if_match(&headers, "region", current.version)?;
    if expected != current.version {
        let mut response = region_detail(&state, code).await?;
        *response.status_mut() = StatusCode::PRECONDITION_FAILED;
        return Ok(response);
    }
    let edit = region_edit(&current, patch)?;
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let before = store::find_model(&txn, &code).await?;
    let Some(_) = store::update_if_version(&txn, &code, expected, edit, now).await? else {
        txn.rollback().await?;
        let mut response = region_detail(&state, code).await?;
        *response.status_mut() = StatusCode::PRECONDITION_FAILED;
        return Ok(response);
    };
    let after = store::find_model(&txn, &code).await?;
    audit::record(
        &txn,
        Change {
            entity: "region",
            entity_id: code.to_string(),
            action: "update",
            region_code: Some(code.to_string()),
            before: before.as_ref(),
            after: after.as_ref(),
            actor: caller.actor(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    region_detail(&state, code).await
}

/// Checks a region PATCH against the stored region; every problem is reported at once.
fn region_edit(current: &Region, patch: PatchRegion) -> Result<RegionEdit, AppError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let editable = matches!(current.level, Level::Township | Level::Village);
    let touches_place =
        patch.longitude.is_some() || patch.latitude.is_some() || patch.population.is_some();
    if touches_place && !editable {
        errors.push(FieldError::new(
            "code",
            format!(
                "only townships and villages carry a centre and population; {} is a {}",
                current.name, current.level
            ),
        ));
    }
    let (mut longitude, mut latitude) = (current.longitude, current.latitude);
    match (patch.longitude, patch.latitude) {
        (None, None) => {
            if patch.crs.is_some() {
                errors.push(FieldError::new(
                    "crs",
                    "applies to a new longitude and latitude; send them too",
                ));
            }
        }
        (Some(None), Some(None)) => (longitude, latitude) = (None, None),
        (Some(Some(lon)), Some(Some(lat))) => {
            match Wgs84Point::from_crs(lon, lat, patch.crs.unwrap_or_default()) {
                Ok(p) => (longitude, latitude) = (Some(p.lon()), Some(p.lat())),
                Err(e) => errors.push(FieldError::new(e.field, e.message)),
            }
        }
        _ => errors.push(FieldError::new(
            "latitude",
            "longitude and latitude change together; send both",
        )),
    }
    let population = match patch.population {
        None => current.population,
        Some(None) => None,
        Some(Some(p)) if (0..=10_000_000).contains(&p) => Some(p),
        Some(Some(_)) => {
            errors.push(FieldError::new(
                "population",
                "must be between 0 and 10,000,000",
            ));
            None
        }
    };
    let (kind, kind_overridden) = match patch.kind {
        None => (current.kind, current.kind_overridden),
        Some(_) if current.level != Level::Village => {
            errors.push(FieldError::new(
                "kind",
                "only village-level units have a kind",
            ));
            (current.kind, current.kind_overridden)
        }
        Some(None) => (Some(VillageKind::from_name(&current.name)), false),
        Some(Some(kind)) => (Some(kind), true),
    };
    if !errors.is_empty() {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        return Err(AppError::Validation {
            detail: format!("invalid {}", fields.join(", ")),
            errors,
        });
    }
    Ok(RegionEdit {
        longitude,
        latitude,
        population,
        kind,
        kind_overridden,
    })
}
