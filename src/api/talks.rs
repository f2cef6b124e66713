//! `/api/v1/talks`: publicity talks (宣讲, issue 16) given in a village or township, or at a
//! host organisation. Scoped like points: outside the caller's read scope a talk (or the host
//! it names) does not exist.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entity::publicity_talk;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Json as JsonBody, Path, Query, page_limit, paginate};
use crate::domain::region::RegionCode;
use crate::error::{AppError, Problem};
use crate::registry::Acting;
use crate::registry::talks::{self as registry, NewTalk, TalkCursor, TalkQuery};
use crate::state::AppState;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_talks, record_talk))
        .routes(routes!(delete_talk))
}

/// A publicity talk as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TalkView {
    pub id: i64,
    /// The village or township, or the host's region.
    pub region_code: String,
    /// The host it was given at, if any.
    pub host_id: Option<i64>,
    pub held_on: NaiveDate,
    pub speaker: String,
    /// How many people listened.
    pub audience: i32,
    pub audience_description: Option<String>,
    pub materials: String,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
}

impl From<publicity_talk::Model> for TalkView {
    fn from(m: publicity_talk::Model) -> Self {
        TalkView {
            id: m.id,
            region_code: m.region_code,
            host_id: m.host_id,
            held_on: m.held_on,
            speaker: m.speaker,
            audience: m.audience,
            audience_description: m.audience_description,
            materials: m.materials,
            notes: m.notes,
            created_at: m.created_at,
            created_by: m.created_by,
        }
    }
}

/// The body of `POST /api/v1/talks`: about a village or township (`region_code`), or at a
/// host (`host_id`; then `region_code` may be left out, or must be the host's region).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTalk {
    /// A village or township (12-digit code).
    #[schema(example = "990101101202")]
    pub region_code: Option<String>,
    pub host_id: Option<i64>,
    /// On or before today in China.
    #[schema(example = "2026-12-01")]
    pub held_on: NaiveDate,
    #[schema(example = "张医生（村医）")]
    pub speaker: String,
    /// A head count, 1 to 100,000.
    #[schema(example = 45)]
    pub audience: i64,
    #[schema(example = "村民、外出返乡青年")]
    pub audience_description: Option<String>,
    #[schema(example = "倡议书、宣传单、展板")]
    pub materials: String,
    pub notes: Option<String>,
}

impl From<CreateTalk> for NewTalk {
    fn from(body: CreateTalk) -> Self {
        NewTalk {
            region_code: body.region_code,
            host_id: body.host_id,
            held_on: body.held_on,
            speaker: body.speaker,
            audience: body.audience,
            audience_description: body.audience_description,
            materials: body.materials,
            notes: body.notes,
        }
    }
}

/// The talk's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TalkPath {
    pub id: i64,
}

fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

/// Records a publicity talk.
#[utoipa::path(
    post,
    path = "/talks",
    tag = "talks",
    request_body = CreateTalk,
    responses(
        (status = 201, description = "Recorded", body = TalkView),
        (status = 400, description = "Invalid fields, each named (`held_on`, `audience`, `region_code`, …)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The region (or the host's) is outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`host_id` names no host in the caller's reach", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn record_talk(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateTalk>,
) -> Result<Response, AppError> {
    caller.require()?;
    let talk =
        registry::record(&state.db, body.into(), &acting(&caller), state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(TalkView::from(talk))).into_response())
}

/// Filters of the talk listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TalkListParams {
    /// Talks in this region or anything below it (12-digit code).
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
    /// Talks at this host.
    pub host_id: Option<i64>,
    /// Held on or after this day.
    pub from: Option<NaiveDate>,
    /// Held on or before this day.
    pub to: Option<NaiveDate>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of talks.
#[derive(Debug, Serialize, ToSchema)]
pub struct TalkPage {
    pub items: Vec<TalkView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A cursor is the last talk's day and id, `YYYY-MM-DD.id`.
fn talk_cursor(raw: Option<&str>) -> Result<Option<TalkCursor>, AppError> {
    raw.map(|raw| {
        raw.split_once('.')
            .and_then(|(day, id)| {
                Some(TalkCursor {
                    held_on: day.parse().ok()?,
                    id: id.parse().ok()?,
                })
            })
            .ok_or_else(|| AppError::invalid("cursor", "is not a cursor of this listing"))
    })
    .transpose()
}

/// Lists the talks in the caller's reach, newest first: by region subtree, host and the days
/// they were held on.
#[utoipa::path(
    get,
    path = "/talks",
    tag = "talks",
    params(TalkListParams),
    responses(
        (status = 200, description = "A page of talks, newest first (by the day held)", body = TalkPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region` or `host_id` does not exist or is outside the caller's reach", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_talks(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TalkListParams>,
) -> Result<Response, AppError> {
    caller.require()?;
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let region = params
        .region
        .as_deref()
        .map(|raw| {
            RegionCode::parse(raw)
                .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))
        })
        .transpose()?;
    let query = TalkQuery {
        region,
        host_id: params.host_id,
        from: params.from,
        to: params.to,
        after: talk_cursor(params.cursor.as_deref())?,
        limit: limit + 1,
    };
    let (rows, next_cursor) = paginate(
        registry::list(&state.db, query, &acting(&caller)).await?,
        limit,
        |t| format!("{}.{}", t.held_on, t.id),
    );
    let items = rows.into_iter().map(TalkView::from).collect();
    Ok(Json(TalkPage { items, next_cursor }).into_response())
}

/// Deletes a talk recorded by mistake (audited with what it was).
#[utoipa::path(
    delete,
    path = "/talks/{id}",
    tag = "talks",
    params(TalkPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such talk (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(talk_id = path.id))]
async fn delete_talk(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<TalkPath>,
) -> Result<StatusCode, AppError> {
    caller.require()?;
    registry::delete(&state.db, path.id, &acting(&caller), state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
