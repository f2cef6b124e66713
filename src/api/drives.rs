//! `/api/v1/drives`: drives (issue 6), one vehicle-day with its ordered stops, made from an
//! accepted plan (`POST /api/v1/plans/{id}/accept`, one draft drive per route) or by hand, and
//! moved through their states (`crate::domain::drive`) with `If-Match`, each move audited.
//!
//! Access follows plans ([`Resource::Plan`] by the drive's region): admins and station staff
//! within their write scope make and move drives; reading follows the read scope (township
//! officials read the drives of their county; viewers read, never write).
//!
//! A vehicle has at most one drive a day that is not cancelled; that is checked in the
//! creating transaction, with the vehicle's row locked (see the migration
//! `m20261126_000008_create_drives`).
//!
//! Publishing a drive opens its stops' booking slots (`crate::bookings::open_slots`);
//! cancelling it cancels every booking with it and answers with who was booked.
//!
//! Every stop of a new drive gets its preparation checklist (`api::checklists`) in the
//! transaction that makes the drive.
//!
//! A drive's region holds every one of its stops (422 naming the stop otherwise), so that
//! whoever may read the drive may read each stop, and no stop's records are reached through
//! a drive of another region.
//!
//! On the day, people are checked in at its stops and their outcomes recorded
//! (`api::attendances`); completing the drive locks those results (only admins correct them).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{drive, drive_stop};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, page_limit, paginate, required_if_match,
    status_filter, with_etag,
};
use crate::domain::drive::DriveStatus;
use crate::domain::point::mask_phone;
use crate::domain::policy::Action;
use crate::drives::lifecycle::{self, Made};
use crate::drives::{self, Acting, DriveFilter, Effects, NewDrive, NewStop, Transition};
use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::versioned::Outcome;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(accept_plan))
        .routes(routes!(list_drives, create_drive))
        .routes(routes!(get_drive))
        .routes(routes!(transition_drive))
}

/// One stop of a drive.
#[derive(Debug, Serialize, ToSchema)]
pub struct StopView {
    pub id: i64,
    /// 1, 2, … in the order the vehicle visits them.
    pub seq: i32,
    /// `point-12`, `host-3` or `region-<12-digit code>`.
    pub site: String,
    pub point_id: Option<i64>,
    /// The host organisation, for a group drive's stop (`host-<id>`).
    pub host_id: Option<i64>,
    /// How many the host hopes will sign up (a host's stop only).
    pub signup_goal: Option<i32>,
    /// Whether the host's contact has a live sign-up link (the token is shown once only).
    pub signup_link: bool,
    /// The site's region.
    pub region_code: String,
    pub name: String,
    /// `HH:MM`.
    #[schema(example = "09:00")]
    pub planned_start: String,
    /// `HH:MM`.
    #[schema(example = "11:30")]
    pub planned_end: String,
    pub expected_donors: f64,
}

/// Someone whose booking a cancelled drive took with it; each has been sent a cancellation
/// notice through the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookedView {
    pub stop_id: i64,
    pub code: String,
    /// The person, or the group's contact.
    pub name: String,
    /// Masked (`138****5678`).
    pub mobile: Option<String>,
    pub organisation: Option<String>,
    pub headcount: i32,
}

/// A drive with its stops.
#[derive(Debug, Serialize, ToSchema)]
pub struct DriveView {
    pub id: i64,
    /// The plan it was made from (`null` when made by hand).
    pub plan_id: Option<i64>,
    pub vehicle_id: i64,
    pub date: NaiveDate,
    pub region_code: String,
    pub status: DriveStatus,
    pub cancel_reason: Option<String>,
    /// Bumped by every change; send it back in `If-Match`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
    pub stops: Vec<StopView>,
    /// Only in the answer to a cancellation: everyone whose booking it cancelled (each sent a
    /// cancellation notice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booked: Option<Vec<BookedView>>,
}

/// One page of drives, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrivePage {
    pub items: Vec<DriveView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Who acts for the drive service: the caller, checked by the policy.
fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

fn to_view(m: drive::Model, stops: Vec<drive_stop::Model>) -> Result<DriveView, AppError> {
    let id = m.id;
    let stops = stops
        .into_iter()
        .map(|s| {
            Ok(StopView {
                id: s.id,
                seq: s.seq,
                site: s.site_id,
                point_id: s.point_id,
                host_id: s.host_id,
                signup_goal: s.signup_goal,
                signup_link: s.signup_token_hash.is_some(),
                region_code: s.region_code,
                name: s.name,
                planned_start: lifecycle::clock(id, s.planned_start)?.to_string(),
                planned_end: lifecycle::clock(id, s.planned_end)?.to_string(),
                expected_donors: s.expected_donors,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(DriveView {
        id,
        plan_id: m.plan_id,
        vehicle_id: m.vehicle_id,
        date: m.date,
        region_code: m.region_code.clone(),
        status: lifecycle::status_of(&m)?,
        cancel_reason: m.cancel_reason,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        created_by: m.created_by,
        updated_by: m.updated_by,
        stops,
        booked: None,
    })
}

fn made_view((m, stops): Made) -> Result<DriveView, AppError> {
    to_view(m, stops)
}

/// The drive with the stops the caller reads: all of them, as a drive's region holds its
/// stops (drives made before that rule may not, and a stop outside the caller's read scope
/// does not exist for them).
async fn full_view(
    state: &AppState,
    caller: &Caller,
    m: drive::Model,
) -> Result<DriveView, AppError> {
    caller.require()?;
    let stops = drives::stops_in_reach(&state.db, &acting(caller), m.id).await?;
    to_view(m, stops)
}

/// The plan's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PlanPath {
    pub id: i64,
}

/// Accepts a done, feasible plan: one draft drive per route, with its stops (planned start
/// and end are when donation opens and closes at the stop), all in one transaction. Refused
/// when a vehicle already has a drive that day that is not cancelled, and when the plan was
/// accepted before.
#[utoipa::path(
    post,
    path = "/plans/{id}/accept",
    tag = "drives",
    params(PlanPath),
    responses(
        (status = 201, description = "The drives made, one per route", body = Vec<DriveView>),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and station staff accept plans, within their write scope, and only plans whose vehicles they read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is not done, breaks rules, was accepted before, or a vehicle already has a drive that day (named)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A stop's site lies outside the plan's region (`routes[0].stops[1].site`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(plan_id = path.id))]
async fn accept_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PlanPath>,
) -> Result<(StatusCode, Json<Vec<DriveView>>), AppError> {
    caller.require()?;
    let created = lifecycle::accept_plan(&state.db, path.id, &acting(&caller), Utc::now()).await?;
    let views = created
        .into_iter()
        .map(made_view)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((StatusCode::CREATED, Json(views)))
}

/// A stop of a drive made by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriveStopInput {
    /// `point-<id>`: an active point the caller may read; or `host-<id>`: a host organisation
    /// the caller may read (a group drive).
    #[schema(example = "point-12")]
    pub site: String,
    /// `HH:MM`.
    #[schema(example = "09:00")]
    pub planned_start: String,
    /// `HH:MM`, after `planned_start`.
    #[schema(example = "11:30")]
    pub planned_end: String,
    /// Zero or more.
    pub expected_donors: f64,
    /// A stop at a host only: how many the host hopes will sign up (1 to 100,000).
    #[serde(default)]
    pub signup_goal: Option<i32>,
}

/// The body of `POST /api/v1/drives`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDrive {
    pub vehicle_id: i64,
    pub date: NaiveDate,
    /// The region the drive belongs to (who may see it); default: the vehicle's station's.
    /// It must hold every stop's site (422 naming the stop otherwise).
    #[schema(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
    /// In the order the vehicle visits them; at least one.
    pub stops: Vec<DriveStopInput>,
}

/// Makes a draft drive by hand. Every field is checked and every fault named
/// (`stops[1].planned_end`, …).
#[utoipa::path(
    post,
    path = "/drives",
    tag = "drives",
    request_body = CreateDrive,
    responses(
        (status = 201, description = "The drive made; `ETag` carries the version", body = DriveView),
        (status = 400, description = "Invalid fields, each named (`vehicle_id`, `stops[1].planned_end`, …)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and station staff make drives, within their write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The region is outside what the caller may read", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The vehicle already has a drive that day", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A stop's site lies outside the drive's region (`stops[0].site`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_drive(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateDrive>,
) -> Result<Response, AppError> {
    caller.require()?;
    let made = lifecycle::create(&state.db, body.into(), &acting(&caller), Utc::now()).await?;
    let view = made_view(made)?;
    Ok(with_etag(StatusCode::CREATED, view.version, Json(view)))
}

impl From<DriveStopInput> for NewStop {
    fn from(body: DriveStopInput) -> Self {
        NewStop {
            site: body.site,
            planned_start: body.planned_start,
            planned_end: body.planned_end,
            expected_donors: body.expected_donors,
            signup_goal: body.signup_goal,
        }
    }
}

impl From<CreateDrive> for NewDrive {
    fn from(body: CreateDrive) -> Self {
        NewDrive {
            vehicle_id: body.vehicle_id,
            date: body.date,
            region: body.region,
            stops: body.stops.into_iter().map(NewStop::from).collect(),
        }
    }
}

/// Filters of the drive listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Drives of this region or anything below it (12-digit code).
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
    /// Drives on or after this date.
    pub from: Option<NaiveDate>,
    /// Drives on or before this date.
    pub to: Option<NaiveDate>,
    /// Comma-separated statuses (`draft`, `published`, `in_progress`, `completed`,
    /// `cancelled`); default: all.
    pub status: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists the drives the caller may read, newest first, with their stops.
#[utoipa::path(
    get,
    path = "/drives",
    tag = "drives",
    params(ListParams),
    responses(
        (status = 200, description = "A page of drives, newest first", body = DrivePage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region` does not exist (or is outside what the caller may read)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_drives(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<DrivePage>, AppError> {
    caller.require()?;
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let statuses = status_filter(
        params.status.as_deref(),
        DriveStatus::ALL,
        None,
        DriveStatus::as_str,
    )?;
    if let (Some(from), Some(to)) = (params.from, params.to)
        && to < from
    {
        return Err(AppError::invalid("to", "must not be before from"));
    }
    let mut filter = DriveFilter {
        statuses,
        from: params.from,
        to: params.to,
        before_id: id_cursor(params.cursor.as_deref())?,
        limit: limit + 1,
        ..DriveFilter::default()
    };
    if let Some(raw) = params.region.as_deref() {
        filter.region_range = Some(crate::api::extract::region_filter(&state, &caller, raw).await?);
    }
    let rows = drives::list(&state.db, &acting(&caller), filter).await?;
    let (rows, next_cursor) = paginate(rows, limit, |d| d.id.to_string());
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(full_view(&state, &caller, row).await?);
    }
    Ok(Json(DrivePage { items, next_cursor }))
}

/// The drive's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DrivePath {
    pub id: i64,
}

/// One drive with its stops; `ETag` carries the version.
#[utoipa::path(
    get,
    path = "/drives/{id}",
    tag = "drives",
    params(DrivePath),
    responses(
        (status = 200, description = "The drive; `ETag` carries the version", body = DriveView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such drive (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(drive_id = path.id))]
async fn get_drive(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<DrivePath>,
) -> Result<Response, AppError> {
    caller.require()?;
    let model = drives::find_for(&state.db, &acting(&caller), Action::Read, path.id).await?;
    let view = full_view(&state, &caller, model).await?;
    Ok(with_etag(StatusCode::OK, view.version, Json(view)))
}

/// The body of a transition.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// The new status.
    pub to: String,
    /// Why: required to cancel.
    pub reason: Option<String>,
}

/// Moves a drive to its next state: `draft` -> `published` -> `in_progress` -> `completed`,
/// or to `cancelled` (with a `reason`) from any state but the final ones. `in_progress` and
/// `completed` wait for the drive's date (China time): on it, or later for a past drive whose
/// results come from paper forms; never before. Needs `If-Match`
/// with the version last seen; each move is audited (entity `drive`, action the new status).
/// Publishing opens the stops' booking slots. Cancelling cancels every booking, writes each a
/// cancellation notice, and answers with everyone who was booked (`booked`, mobiles masked).
#[utoipa::path(
    post,
    path = "/drives/{id}/transition",
    tag = "drives",
    params(DrivePath, ("If-Match" = String, Header, description = "The ETag last seen, e.g. \"3\"")),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "Moved; `ETag` carries the new version (and `booked` when cancelled)", body = DriveView),
        (status = 400, description = "Unknown `to`, or cancelling without a `reason`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and station staff move drives, within their write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such drive (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The drive cannot go to `to` from its current state, or not yet: it is started and completed on its date (China time) or later, never before", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The version moved on: the body is the current drive", body = DriveView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(drive_id = path.id))]
async fn transition_drive(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<DrivePath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<TransitionRequest>,
) -> Result<Response, AppError> {
    caller.require()?;
    let acting = acting(&caller);
    let current = drives::find_for(&state.db, &acting, Action::Update, path.id).await?;
    let expected = required_if_match(&headers, "drive", current.version)?;
    let command = Transition {
        to: body.to,
        reason: body.reason,
    };
    let now = state.clock.now();
    match lifecycle::transition(&state.db, current, expected, command, &acting, now).await? {
        Outcome::Updated((written, effects)) => {
            let Effects { stops, booked } = effects.unwrap_or(Effects {
                stops: Vec::new(),
                booked: None,
            });
            let mut view = to_view(written, stops)?;
            view.booked = booked.map(|cancelled| {
                cancelled
                    .into_iter()
                    .map(|c| BookedView {
                        stop_id: c.stop_id,
                        code: c.booking.code,
                        name: c.booking.name,
                        mobile: c.booking.mobile.as_deref().map(mask_phone),
                        organisation: c.booking.organisation,
                        headcount: c.booking.headcount,
                    })
                    .collect()
            });
            Ok(with_etag(StatusCode::OK, view.version, Json(view)))
        }
        Outcome::Stale((latest, _)) => {
            let view = full_view(&state, &caller, latest).await?;
            Ok(with_etag(
                StatusCode::PRECONDITION_FAILED,
                view.version,
                Json(view),
            ))
        }
    }
}
