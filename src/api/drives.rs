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

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{drive, drive_stop};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, page_limit, paginate, required_if_match,
    status_filter, with_etag,
};
use crate::domain::account::Scope;
use crate::domain::booking::today_in_china;
use crate::domain::checklist::TemplateItem;
use crate::domain::drive::{self as rules, DayBound, DriveStatus};
use crate::domain::fleet::TimeOfDay;
use crate::domain::plan::PlanStatus;
use crate::domain::point::{PointStatus, mask_phone};
use crate::domain::policy::{self, Action, Resource};
use crate::domain::region::{Level, RegionCode};
use crate::error::{AppError, FieldError, FieldErrors, Problem};
use crate::plans::build::SiteRef;
use crate::state::AppState;
use crate::store::audit::{self, Change};
use crate::store::drives::{self as store, DriveFilter, NewDrive, NewStop};
use crate::store::{checklists, fleet, plans, points, regions};

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;
/// At most this many stops on a drive made by hand.
const MAX_STOPS: usize = 50;

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
    /// `point-12` or `region-<12-digit code>`.
    pub site: String,
    pub point_id: Option<i64>,
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

fn internal(id: i64, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("drive {id}: {e}"))
}

fn clock(id: i64, minutes: i32) -> Result<String, AppError> {
    Ok(TimeOfDay::from_minutes(minutes)
        .map_err(|e| internal(id, e))?
        .to_string())
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
                region_code: s.region_code,
                name: s.name,
                planned_start: clock(id, s.planned_start)?,
                planned_end: clock(id, s.planned_end)?,
                expected_donors: s.expected_donors,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(DriveView {
        id,
        plan_id: m.plan_id,
        vehicle_id: m.vehicle_id,
        date: m.date,
        region_code: m.region_code,
        status: m.status.parse().map_err(|e: String| internal(id, e))?,
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

/// The drive with the stops the caller reads: all of them, as a drive's region holds its
/// stops (drives made before that rule may not, and a stop outside the caller's read scope
/// does not exist for them).
async fn full_view(
    state: &AppState,
    caller: &Caller,
    m: drive::Model,
) -> Result<DriveView, AppError> {
    let reach = policy::read_scope(caller.require()?);
    let stops = store::stops(&state.db, m.id)
        .await?
        .into_iter()
        .filter(|s| RegionCode::parse(&s.region_code).is_ok_and(|c| reach.contains(&c)))
        .collect();
    to_view(m, stops)
}

fn region_of(m: &drive::Model) -> Result<RegionCode, AppError> {
    RegionCode::parse(&m.region_code).map_err(|e| internal(m.id, e))
}

/// Loads drive `id` if the caller may do `action` to it (404 outside read scope, 403
/// outside write scope).
pub(crate) async fn load(
    state: &AppState,
    caller: &Caller,
    action: Action,
    id: i64,
) -> Result<drive::Model, AppError> {
    caller.require()?;
    let model = store::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no drive with id {id}")))?;
    let code = region_of(&model)?;
    caller.authorize(Action::Read, Resource::Plan(&code), || {
        format!("drive with id {id}")
    })?;
    if action != Action::Read {
        caller.authorize(action, Resource::Plan(&code), || {
            format!("drive with id {id}")
        })?;
    }
    Ok(model)
}

/// Inserts `drives` in one transaction, each checked against the vehicle's other drives that
/// day (vehicle row locked) and audited; 409 naming the vehicle and date when one is taken.
/// Every stop gets its preparation checklist from the template of the vehicle's station as it
/// is now (or the defaults), in the same transaction.
async fn insert_all(
    state: &AppState,
    caller: &Caller,
    drives: Vec<NewDrive>,
) -> Result<Vec<DriveView>, AppError> {
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let plan_id = drives.first().and_then(|d| d.plan_id);
    if let Some(plan_id) = plan_id {
        plans::lock(&txn, plan_id).await?;
    }
    if let Some(plan_id) = plan_id
        && store::plan_accepted(&txn, plan_id).await?
    {
        txn.rollback().await?;
        return Err(AppError::Conflict(format!(
            "plan {plan_id} has already been accepted"
        )));
    }
    let mut out = Vec::with_capacity(drives.len());
    // Each station's checklist template, read once per transaction.
    let mut templates: HashMap<i64, Vec<TemplateItem>> = HashMap::new();
    for new in drives {
        let vehicle = fleet::lock_vehicle(&txn, new.vehicle_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no vehicle with id {}", new.vehicle_id)))?;
        if let Some(other) = store::taken(&txn, new.vehicle_id, new.date).await? {
            txn.rollback().await?;
            return Err(AppError::Conflict(format!(
                "vehicle {} already has drive {} on {} ({}); cancel it first",
                new.vehicle_id, other.id, new.date, other.status
            )));
        }
        let (drive, stops) = store::insert(&txn, new, now).await?;
        let template = match templates.entry(vehicle.station_id) {
            Entry::Occupied(found) => found.into_mut(),
            Entry::Vacant(slot) => {
                slot.insert(checklists::effective_template(&txn, vehicle.station_id).await?)
            }
        };
        checklists::insert_for_stops(&txn, template, drive.date, &stops).await?;
        audit::record(
            &txn,
            Change {
                entity: "drive",
                entity_id: drive.id.to_string(),
                action: "create",
                region_code: Some(drive.region_code.clone()),
                before: None,
                after: Some(&drive),
                actor: caller.actor(),
                at: now,
            },
        )
        .await?;
        out.push(to_view(drive, stops)?);
    }
    txn.commit().await?;
    Ok(out)
}

/// 422 naming each stop (`fields[i]` for `stops[i]`) whose site lies outside the drive's
/// region: a drive's region holds all its stops, since who may read and run the drive is
/// decided by it.
fn outside_region(scope: &Scope, stops: &[NewStop], fields: &[String]) -> Result<(), AppError> {
    let errors: Vec<FieldError> = stops
        .iter()
        .zip(fields)
        .filter(|(stop, _)| !RegionCode::parse(&stop.region_code).is_ok_and(|c| scope.contains(&c)))
        .map(|(stop, field)| {
            FieldError::new(
                field.clone(),
                format!(
                    "{} ({}) lies outside the drive's region {}: a drive's region must hold \
                     every stop",
                    stop.site_id, stop.region_code, scope.code
                ),
            )
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(AppError::Unprocessable {
        detail: format!(
            "{} stop(s) lie outside the drive's region {}",
            errors.len(),
            scope.code
        ),
        errors,
    })
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
        (status = 403, description = "Only admins and station staff accept plans, within their write scope", body = Problem, content_type = "application/problem+json"),
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
    let id = path.id;
    let plan = plans::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no plan with id {id}")))?;
    let region = RegionCode::parse(&plan.region_code)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("plan {id}: {e}")))?;
    caller.authorize(Action::Create, Resource::Plan(&region), || {
        format!("plan with id {id}")
    })?;
    if plan.status != PlanStatus::Done.as_str() {
        return Err(AppError::Conflict(format!(
            "plan {id} is {}; only a done plan can be accepted",
            plan.status
        )));
    }
    let result: Value = serde_json::from_str(plan.result.as_deref().unwrap_or("null"))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("plan {id}: stored result: {e}")))?;
    let violations = result["violations"].as_array().map_or(0, Vec::len);
    if violations > 0 {
        return Err(AppError::Conflict(format!(
            "plan {id} breaks {violations} rule(s); only a feasible plan can be accepted"
        )));
    }
    let bad = |what: String| AppError::Internal(anyhow::anyhow!("plan {id}: result: {what}"));
    let mut drives = Vec::new();
    for route in result["routes"].as_array().into_iter().flatten() {
        let vehicle_id = route["vehicle"]
            .as_str()
            .and_then(|v| v.strip_prefix("vehicle-"))
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| bad(format!("vehicle {}", route["vehicle"])))?;
        let date: NaiveDate = route["date"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| bad(format!("date {}", route["date"])))?;
        let mut stops = Vec::new();
        for stop in route["stops"].as_array().into_iter().flatten() {
            let site = stop["site"].as_str().unwrap_or("").to_owned();
            let (point_id, region_code) = match SiteRef::parse(&site).map_err(bad)? {
                SiteRef::Point(pid) => {
                    let point = points::find(&state.db, pid)
                        .await?
                        .ok_or_else(|| bad(format!("point {pid} is gone")))?;
                    (Some(pid), point.region_code)
                }
                SiteRef::Region(code) => (None, code.to_string()),
            };
            let time = |key: &str| {
                TimeOfDay::parse(stop[key].as_str().unwrap_or(""))
                    .map(TimeOfDay::minutes)
                    .map_err(bad)
            };
            stops.push(NewStop {
                site_id: site,
                point_id,
                region_code,
                name: stop["name"].as_str().unwrap_or("").to_owned(),
                planned_start: time("opens")?,
                planned_end: time("closes")?,
                expected_donors: stop["expected"].as_f64().unwrap_or(0.0),
            });
        }
        drives.push(NewDrive {
            plan_id: Some(id),
            vehicle_id,
            date,
            region_code: plan.region_code.clone(),
            stops,
            created_by: caller.username(),
        });
    }
    if drives.is_empty() {
        return Err(AppError::Conflict(format!(
            "plan {id} has no routes; there is nothing to accept"
        )));
    }
    let level = regions::find(&state.db, &region)
        .await?
        .map_or(Level::Village, |r| r.level);
    let scope = Scope::new(region.clone(), level);
    for (r, d) in drives.iter().enumerate() {
        let fields: Vec<String> = (0..d.stops.len())
            .map(|i| format!("routes[{r}].stops[{i}].site"))
            .collect();
        outside_region(&scope, &d.stops, &fields)?;
    }
    let created = insert_all(&state, &caller, drives).await?;
    tracing::info!(plan_id = id, drives = created.len(), "plan accepted");
    Ok((StatusCode::CREATED, Json(created)))
}

/// A stop of a drive made by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriveStopInput {
    /// `point-<id>`: an active point the caller may read.
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
    let mut errors = FieldErrors::default();
    // A vehicle of a station outside the caller's read scope does not exist for them: the
    // same answer as for an id nobody has, whatever its status.
    let vehicle = fleet::find_vehicle_with_station(&state.db, body.vehicle_id)
        .await?
        .filter(|(_, station)| {
            RegionCode::parse(&station.region_code).is_ok_and(|code| {
                caller
                    .authorize(Action::Read, Resource::Registry(Some(&code)), String::new)
                    .is_ok()
            })
        });
    let vehicle = match vehicle {
        Some((v, _)) if v.status != "active" => {
            errors.add("vehicle_id", format!("vehicle {} is retired", v.id));
            None
        }
        Some(found) => Some(found),
        None => {
            errors.add(
                "vehicle_id",
                format!("no vehicle with id {}", body.vehicle_id),
            );
            None
        }
    };
    let region = match body.region.as_deref().map(str::trim) {
        Some(raw) => match RegionCode::parse(raw) {
            Ok(code) => Some(code),
            Err(_) => {
                errors.add("region", "must be a 12-digit region code");
                None
            }
        },
        None => vehicle
            .as_ref()
            .and_then(|(_, station)| RegionCode::parse(&station.region_code).ok()),
    };
    let mut region_scope = None;
    if let Some(code) = &region {
        caller.authorize(Action::Create, Resource::Plan(code), || {
            format!("region with code {code}")
        })?;
        match regions::find(&state.db, code).await? {
            Some(found) => region_scope = Some(Scope::new(code.clone(), found.level)),
            None => errors.add("region", format!("no region with code {code}")),
        }
    }
    if body.stops.is_empty() {
        errors.add("stops", "name at least one stop");
    }
    if body.stops.len() > MAX_STOPS {
        errors.add("stops", format!("at most {MAX_STOPS} stops"));
    }
    let mut stops = Vec::new();
    let mut previous_end: Option<i32> = None;
    for (i, input) in body.stops.iter().enumerate() {
        let field = |name: &str| format!("stops[{i}].{name}");
        let point = match SiteRef::parse(input.site.trim()) {
            // A point outside the caller's read scope does not exist for them, whatever its
            // status.
            Ok(SiteRef::Point(pid)) => match points::find(&state.db, pid).await?.filter(|p| {
                RegionCode::parse(&p.region_code).is_ok_and(|code| {
                    caller
                        .authorize(Action::Read, Resource::Registry(Some(&code)), String::new)
                        .is_ok()
                })
            }) {
                Some(p) if p.status != PointStatus::Active.as_str() => {
                    errors.add(&field("site"), format!("point {pid} is {}", p.status));
                    None
                }
                Some(p) => Some(p),
                None => {
                    errors.add(&field("site"), format!("no point with id {pid}"));
                    None
                }
            },
            Ok(SiteRef::Region(_)) | Err(_) => {
                errors.add(&field("site"), "must be point-<id>");
                None
            }
        };
        let start = TimeOfDay::parse(&input.planned_start)
            .map_err(|e| errors.add(&field("planned_start"), e))
            .ok();
        let end = TimeOfDay::parse(&input.planned_end)
            .map_err(|e| errors.add(&field("planned_end"), e))
            .ok();
        if let (Some(start), Some(end)) = (start, end) {
            if end <= start {
                errors.add(&field("planned_end"), "must be after planned_start");
            } else if previous_end.is_some_and(|p| start.minutes() < p) {
                errors.add(
                    &field("planned_start"),
                    "must not be before the previous stop's planned_end",
                );
            }
            previous_end = Some(end.minutes());
        }
        if !input.expected_donors.is_finite() || input.expected_donors < 0.0 {
            errors.add(&field("expected_donors"), "must be zero or more");
        }
        if let (Some(p), Some(start), Some(end)) = (point, start, end) {
            stops.push(NewStop {
                site_id: format!("point-{}", p.id),
                point_id: Some(p.id),
                region_code: p.region_code,
                name: p.name,
                planned_start: start.minutes(),
                planned_end: end.minutes(),
                expected_donors: input.expected_donors,
            });
        }
    }
    errors.into_result()?;
    let region =
        region.ok_or_else(|| AppError::Internal(anyhow::anyhow!("drive without a region")))?;
    if let Some(scope) = &region_scope {
        let fields: Vec<String> = (0..stops.len())
            .map(|i| format!("stops[{i}].site"))
            .collect();
        outside_region(scope, &stops, &fields)?;
    }
    let mut created = insert_all(
        &state,
        &caller,
        vec![NewDrive {
            plan_id: None,
            vehicle_id: body.vehicle_id,
            date: body.date,
            region_code: region.to_string(),
            stops,
            created_by: caller.username(),
        }],
    )
    .await?;
    let view = created
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no drive made")))?;
    Ok(with_etag(StatusCode::CREATED, view.version, Json(view)))
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
    let reach = policy::read_scope(caller.require()?);
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
        reach: Some(reach),
        ..DriveFilter::default()
    };
    if let Some(raw) = params.region.as_deref() {
        filter.region_range = Some(crate::api::extract::region_filter(&state, &caller, raw).await?);
    }
    let (rows, next_cursor) = paginate(store::list(&state.db, &filter).await?, limit, |d| {
        d.id.to_string()
    });
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
    let model = load(&state, &caller, Action::Read, path.id).await?;
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
    let current = load(&state, &caller, Action::Update, path.id).await?;
    let expected = required_if_match(&headers, "drive", current.version)?;
    let to: DriveStatus = body
        .to
        .trim()
        .parse()
        .map_err(|e: String| AppError::invalid("to", e))?;
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if to == DriveStatus::Cancelled && reason.is_none() {
        return Err(AppError::invalid(
            "reason",
            "cancelling a drive needs a reason",
        ));
    }
    if expected != current.version {
        let view = full_view(&state, &caller, current).await?;
        return Ok(with_etag(
            StatusCode::PRECONDITION_FAILED,
            view.version,
            Json(view),
        ));
    }
    let from: DriveStatus = current
        .status
        .parse()
        .map_err(|e: String| internal(current.id, e))?;
    rules::transition(from, to, reason)
        .map_err(|e| AppError::Conflict(format!("invalid to: {e}")))?;
    let now = state.clock.now();
    rules::day_allows(DayBound::Move(to), current.date, today_in_china(now))
        .map_err(|e| AppError::Conflict(format!("invalid to: {e}")))?;
    let txn = crate::db::begin_write(&state.db).await?;
    let cancel_reason = (to == DriveStatus::Cancelled).then(|| reason.unwrap_or("").to_owned());
    let Some(written) = store::set_status_if_version(
        &txn,
        current.id,
        expected,
        to,
        cancel_reason,
        caller.username(),
        now,
    )
    .await?
    else {
        txn.rollback().await?;
        let latest = load(&state, &caller, Action::Read, current.id).await?;
        let view = full_view(&state, &caller, latest).await?;
        return Ok(with_etag(
            StatusCode::PRECONDITION_FAILED,
            view.version,
            Json(view),
        ));
    };
    audit::record(
        &txn,
        Change {
            entity: "drive",
            entity_id: written.id.to_string(),
            action: to.as_str(),
            region_code: Some(written.region_code.clone()),
            before: Some(&current),
            after: Some(&written),
            actor: caller.actor(),
            at: now,
        },
    )
    .await?;
    let stops = store::stops(&txn, written.id).await?;
    let mut booked = None;
    match to {
        DriveStatus::Published => {
            crate::bookings::open_slots(&txn, &written, &stops).await?;
        }
        DriveStatus::Cancelled => {
            let cancelled = crate::bookings::cancel_all(
                &txn,
                &written,
                &stops,
                written.cancel_reason.as_deref().unwrap_or(""),
                now,
            )
            .await?;
            booked = Some(
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
                    .collect(),
            );
        }
        _ => {}
    }
    txn.commit().await?;
    tracing::info!(drive_id = written.id, %from, %to, "drive moved");
    let mut view = to_view(written, stops)?;
    view.booked = booked;
    Ok(with_etag(StatusCode::OK, view.version, Json(view)))
}
