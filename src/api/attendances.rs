//! Check-in and results (issue 6, on the day and after): staff check people in at a stop,
//! booked (quoting the booking's code) or walk-in, record what came of it (deferred with a
//! reason category, or donated with volume and blood group), and read the stop's and the
//! drive's results against the forecast. The rules of an outcome and of the results are pure
//! (`crate::domain::attendance`); the cross-drive report is `crate::api::results`.
//!
//! Access follows drives ([`Resource::Plan`] by the drive's region) and, for a stop's records,
//! the stop's site as well (a drive's region holds all its stops, but a caller who cannot read
//! the stop's site learns nothing of it): the check-in screen and every write are for admins
//! and station staff within their write scope; reading attendances (mobiles masked) and
//! results follows the read scope.
//!
//! When: people are checked in while the drive is `published` or `in_progress`, on the
//! drive's date (China time) or after it (results from paper forms), never before (409
//! otherwise; the clock is `AppState::clock`). Outcomes may be edited until the drive is `completed`; completing a drive locks
//! its results: from then on only admins correct them (403 for station staff), each
//! correction audited (action `correct`, with the record before and after). Every write is
//! audited (entity `attendance`).
//!
//! Mobiles are shown whole only on the check-in screen; every other answer (the listing, the
//! answers to writes) and the audit log mask them (`138****5678`), as bookings do.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{attendance, drive, drive_stop};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Json as JsonBody, Path, Query, nullable, required_if_match, with_etag};
use crate::api::results::ResultsRow;
use crate::domain::account::Role;
use crate::domain::attendance::{
    Abo, AttendanceKind, Attended, DeferralCategory, Outcome, OutcomeRecord, Rh, StopResults,
    Tally, VillageCount,
};
use crate::domain::booking::{BookingKind, BookingStatus, normalise_code, today_in_china};
use crate::domain::drive::{DayBound, DriveStatus};
use crate::domain::fleet::TimeOfDay;
use crate::domain::point::{MobileNumber, mask_phone};
use crate::domain::policy::{Action, Resource};
use crate::domain::region::{Level, RegionCode};
use crate::error::{AppError, FieldErrors, Problem};
use crate::state::AppState;
use crate::store::attendances::{self as store, AttendanceEdit, NewAttendance};
use crate::store::audit::{self, Change};
use crate::store::{drives, regions};

/// Longest name kept, characters.
const MAX_NAME: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check_in_screen))
        .routes(routes!(list_attendances, check_in))
        .routes(routes!(update_attendance))
        .routes(routes!(stop_results))
        .routes(routes!(drive_report))
}

/// Someone checked in at a stop.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceView {
    pub id: i64,
    pub stop_id: i64,
    /// The booking they came on (`null` for a walk-in).
    pub booking_id: Option<i64>,
    pub kind: AttendanceKind,
    pub name: String,
    /// Whole on the check-in screen; masked (`138****5678`) everywhere else.
    pub mobile: Option<String>,
    /// The village they live in (12-digit code), when given.
    pub village_code: Option<String>,
    pub outcome: Outcome,
    pub deferral_category: Option<DeferralCategory>,
    /// 200, 300 or 400, for a donation.
    pub volume_ml: Option<i32>,
    pub abo: Option<Abo>,
    pub rh: Option<Rh>,
    /// Bumped by every change; send it back in `If-Match`.
    pub version: i32,
    pub checked_in_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

fn internal(what: &str, id: i64, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{what} {id}: {e}"))
}

fn parse_opt<T: std::str::FromStr<Err = String>>(
    id: i64,
    raw: Option<&str>,
) -> Result<Option<T>, AppError> {
    raw.map(|r| r.parse::<T>().map_err(|e| internal("attendance", id, e)))
        .transpose()
}

fn to_view(m: attendance::Model, mask: bool) -> Result<AttendanceView, AppError> {
    let id = m.id;
    Ok(AttendanceView {
        id,
        stop_id: m.stop_id,
        booking_id: m.booking_id,
        kind: m
            .kind
            .parse()
            .map_err(|e: String| internal("attendance", id, e))?,
        name: m.name,
        mobile: m.mobile.map(|p| if mask { mask_phone(&p) } else { p }),
        village_code: m.village_code,
        outcome: m
            .outcome
            .parse()
            .map_err(|e: String| internal("attendance", id, e))?,
        deferral_category: parse_opt(id, m.deferral_category.as_deref())?,
        volume_ml: m.volume_ml,
        abo: parse_opt(id, m.abo.as_deref())?,
        rh: parse_opt(id, m.rh.as_deref())?,
        version: m.version,
        checked_in_at: m.checked_in_at,
        updated_at: m.updated_at,
        created_by: m.created_by,
        updated_by: m.updated_by,
    })
}

/// An attendance as the audit log keeps it: the mobile masked, since the log is a listing
/// too (and check-in never changes a mobile, so nothing is lost).
fn audited(m: &attendance::Model) -> attendance::Model {
    attendance::Model {
        mobile: m.mobile.as_deref().map(mask_phone),
        ..m.clone()
    }
}

/// An attendance as the results count it.
pub(crate) fn attended(m: &attendance::Model) -> Result<Attended, AppError> {
    Ok(Attended {
        kind: m
            .kind
            .parse()
            .map_err(|e: String| internal("attendance", m.id, e))?,
        outcome: m
            .outcome
            .parse()
            .map_err(|e: String| internal("attendance", m.id, e))?,
        volume_ml: m.volume_ml,
        abo: parse_opt(m.id, m.abo.as_deref())?,
        rh: parse_opt(m.id, m.rh.as_deref())?,
        deferral_category: parse_opt(m.id, m.deferral_category.as_deref())?,
        village_code: m.village_code.clone(),
    })
}

fn status_of(d: &drive::Model) -> Result<DriveStatus, AppError> {
    d.status
        .parse()
        .map_err(|e: String| internal("drive", d.id, e))
}

/// Stop `id` and its drive, if the caller may do `action` to the drive (404 outside read
/// scope, 403 outside write scope or for roles that do not run drives).
async fn load_stop(
    state: &AppState,
    caller: &Caller,
    action: Action,
    id: i64,
) -> Result<(drive_stop::Model, drive::Model), AppError> {
    caller.require()?;
    let (stop, drive) = store::find_stop(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no stop with id {id}")))?;
    authorize_drive(caller, action, &drive, || format!("stop with id {id}"))?;
    authorize_site(caller, action, &stop, || format!("stop with id {id}"))?;
    Ok((stop, drive))
}

/// As [`authorize_drive`], for the region of the stop's site: a stop outside the caller's read
/// scope is hidden (404) even when its drive is not.
pub(crate) fn authorize_site(
    caller: &Caller,
    action: Action,
    stop: &drive_stop::Model,
    what: impl Fn() -> String,
) -> Result<(), AppError> {
    let code = RegionCode::parse(&stop.region_code).map_err(|e| internal("stop", stop.id, e))?;
    caller.authorize(Action::Read, Resource::Plan(&code), &what)?;
    if action != Action::Read {
        caller.authorize(action, Resource::Plan(&code), &what)?;
    }
    Ok(())
}

fn authorize_drive(
    caller: &Caller,
    action: Action,
    drive: &drive::Model,
    what: impl Fn() -> String,
) -> Result<(), AppError> {
    let code = RegionCode::parse(&drive.region_code).map_err(|e| internal("drive", drive.id, e))?;
    caller.authorize(Action::Read, Resource::Plan(&code), &what)?;
    if action != Action::Read {
        caller.authorize(action, Resource::Plan(&code), &what)?;
    }
    Ok(())
}

fn clock(minutes: i32) -> String {
    TimeOfDay::from_minutes(minutes).map_or_else(|_| minutes.to_string(), |t| t.to_string())
}

/// The stop, as the check-in screen and the results show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StopSummary {
    pub id: i64,
    pub drive_id: i64,
    pub drive_status: DriveStatus,
    pub date: NaiveDate,
    pub seq: i32,
    /// `point-12` or `region-<12-digit code>`.
    pub site: String,
    pub name: String,
    pub region_code: String,
    /// `HH:MM`.
    pub planned_start: String,
    /// `HH:MM`.
    pub planned_end: String,
    /// The forecast when the drive was made.
    pub expected_donors: f64,
}

fn stop_summary(stop: &drive_stop::Model, drive: &drive::Model) -> Result<StopSummary, AppError> {
    Ok(StopSummary {
        id: stop.id,
        drive_id: drive.id,
        drive_status: status_of(drive)?,
        date: drive.date,
        seq: stop.seq,
        site: stop.site_id.clone(),
        name: stop.name.clone(),
        region_code: stop.region_code.clone(),
        planned_start: clock(stop.planned_start),
        planned_end: clock(stop.planned_end),
        expected_donors: stop.expected_donors,
    })
}

/// An active booking at the stop, for the desk.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeskBooking {
    pub id: i64,
    /// What the donor quotes: send it as `booking_code` to check them in.
    pub code: String,
    /// `individual` or `group`.
    pub kind: String,
    /// The donor, or the group's contact.
    pub name: String,
    /// Whole: the desk calls people.
    pub mobile: Option<String>,
    pub organisation: Option<String>,
    /// `A+`, `O-`, … when the donor said.
    pub blood_type: Option<String>,
    /// Places: 1 for a person, the group's size.
    pub headcount: i32,
    /// The slots its places are in (`HH:MM-HH:MM`), earliest first.
    pub slots: Vec<String>,
    /// How many of its people have checked in.
    pub checked_in: u64,
}

/// The check-in screen of a stop.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInScreen {
    pub stop: StopSummary,
    /// Whether people can be checked in now (the drive is published or in progress, and its
    /// day has come).
    pub open: bool,
    pub bookings: Vec<DeskBooking>,
    /// Everyone checked in so far, mobiles whole, in check-in order.
    pub attendances: Vec<AttendanceView>,
}

/// The stop's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StopPath {
    pub id: i64,
}

/// The check-in screen: the stop, its active bookings (mobiles whole) with how many of each
/// have checked in, and everyone checked in so far. For the staff running the drive.
#[utoipa::path(
    get,
    path = "/stops/{id}/check-in",
    tag = "results",
    params(StopPath),
    responses(
        (status = 200, description = "The stop, its bookings and attendances", body = CheckInScreen),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and station staff check people in, within their write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such stop (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(stop_id = path.id))]
async fn check_in_screen(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StopPath>,
) -> Result<Json<CheckInScreen>, AppError> {
    let (stop, drive) = load_stop(&state, &caller, Action::Update, path.id).await?;
    let rows = store::at_stop(&state.db, stop.id).await?;
    let mut checked: BTreeMap<i64, u64> = BTreeMap::new();
    for a in &rows {
        if let Some(b) = a.booking_id {
            *checked.entry(b).or_insert(0) += 1;
        }
    }
    let bookings = store::active_bookings_at(&state.db, stop.id)
        .await?
        .into_iter()
        .map(|(b, slots)| DeskBooking {
            checked_in: checked.get(&b.id).copied().unwrap_or(0),
            id: b.id,
            code: b.code,
            kind: b.kind,
            name: b.name,
            mobile: b.mobile,
            organisation: b.organisation,
            blood_type: b.blood_type,
            headcount: b.headcount,
            slots: slots
                .iter()
                .map(|(_, s)| format!("{}-{}", clock(s.starts), clock(s.ends)))
                .collect(),
        })
        .collect();
    let status = status_of(&drive)?;
    Ok(Json(CheckInScreen {
        stop: stop_summary(&stop, &drive)?,
        open: matches!(status, DriveStatus::Published | DriveStatus::InProgress)
            && open_for_check_in(&drive, state.clock.now()).is_ok(),
        bookings,
        attendances: rows
            .into_iter()
            .map(|m| to_view(m, false))
            .collect::<Result<_, _>>()?,
    }))
}

/// The attendances of a stop.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceList {
    pub stop: StopSummary,
    /// In check-in order, mobiles masked.
    pub items: Vec<AttendanceView>,
}

/// Everyone checked in at a stop, mobiles masked (`138****5678`).
#[utoipa::path(
    get,
    path = "/stops/{id}/attendances",
    tag = "results",
    params(StopPath),
    responses(
        (status = 200, description = "The attendances, in check-in order, mobiles masked", body = AttendanceList),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such stop (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(stop_id = path.id))]
async fn list_attendances(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StopPath>,
) -> Result<Json<AttendanceList>, AppError> {
    let (stop, drive) = load_stop(&state, &caller, Action::Read, path.id).await?;
    let items = store::at_stop(&state.db, stop.id)
        .await?
        .into_iter()
        .map(|m| to_view(m, true))
        .collect::<Result<_, _>>()?;
    Ok(Json(AttendanceList {
        stop: stop_summary(&stop, &drive)?,
        items,
    }))
}

/// 409 unless people can be checked in at `drive` now: it is published or in progress, and
/// its day (China time) has come.
fn open_for_check_in(drive: &drive::Model, now: DateTime<Utc>) -> Result<(), AppError> {
    let status = status_of(drive)?;
    if matches!(status, DriveStatus::Published | DriveStatus::InProgress) {
        crate::domain::drive::day_allows(DayBound::CheckIn, drive.date, today_in_china(now))
            .map_err(AppError::Conflict)
    } else {
        Err(AppError::Conflict(format!(
            "drive {} is {status}: people are checked in while it is published or in progress",
            drive.id
        )))
    }
}

/// Whether someone of `role` may change the results of `drive` now: `Ok(true)` for a
/// correction of a completed drive's results (admins only: 403 for others), 409 once
/// cancelled.
fn editable(drive: &drive::Model, role: Role) -> Result<bool, AppError> {
    match status_of(drive)? {
        DriveStatus::Completed if role == Role::Admin => Ok(true),
        DriveStatus::Completed => Err(AppError::Forbidden(format!(
            "drive {} is completed: its results are locked, and only an admin corrects them",
            drive.id
        ))),
        DriveStatus::Cancelled => Err(AppError::Conflict(format!(
            "drive {} was cancelled",
            drive.id
        ))),
        _ => Ok(false),
    }
}

/// A check-in: booked (`booking_code`) or walk-in (`name`), with the outcome when already
/// known.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInRequest {
    /// The booking's code: a booked check-in. Without it, a walk-in.
    pub booking_code: Option<String>,
    /// Required for a walk-in and for each person of a group booking; an individual booking's
    /// name by default.
    pub name: Option<String>,
    /// Mainland mobile (11 digits); an individual booking's by default.
    pub mobile: Option<String>,
    /// The village they live in: a 12-digit village code.
    #[schema(pattern = r"^[0-9]{12}$")]
    pub village_code: Option<String>,
    /// `registered` (default), `deferred` or `donated`.
    pub outcome: Option<String>,
    /// With `deferred`: `low_hemoglobin`, `blood_pressure`, `weight`, `recent_illness`,
    /// `medication`, `recent_donation`, `travel_or_exposure` or `other`.
    pub deferral_category: Option<String>,
    /// With `donated`: 200, 300 or 400.
    pub volume_ml: Option<i32>,
    /// `A`, `B`, `AB` or `O`, when known.
    pub abo: Option<String>,
    /// `+` or `-`, when known.
    pub rh: Option<String>,
}

/// An outcome's fields parsed, each fault named.
fn parse_outcome(
    errors: &mut FieldErrors,
    outcome: Option<&str>,
    category: Option<&str>,
    volume_ml: Option<i32>,
    abo: Option<&str>,
    rh: Option<&str>,
) -> OutcomeRecord {
    fn field<T: std::str::FromStr<Err = String>>(
        errors: &mut FieldErrors,
        name: &str,
        raw: Option<&str>,
    ) -> Option<T> {
        raw.and_then(|r| r.trim().parse::<T>().map_err(|e| errors.add(name, e)).ok())
    }
    OutcomeRecord {
        outcome: field(errors, "outcome", outcome),
        deferral_category: field(errors, "deferral_category", category),
        volume_ml,
        abo: field(errors, "abo", abo),
        rh: field(errors, "rh", rh),
    }
}

fn check_outcome(errors: &mut FieldErrors, record: &OutcomeRecord) {
    for (field, message) in record.problems() {
        if !errors.has(field) {
            errors.add(field, message);
        }
    }
}

/// A village of residence: must be a village-level region.
async fn village(
    state: &AppState,
    errors: &mut FieldErrors,
    raw: Option<&str>,
) -> Result<Option<String>, AppError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let Ok(code) = RegionCode::parse(raw) else {
        errors.add("village_code", "must be a 12-digit village code");
        return Ok(None);
    };
    match regions::find(&state.db, &code).await? {
        Some(r) if r.level == Level::Village => Ok(Some(code.to_string())),
        Some(r) => {
            errors.add(
                "village_code",
                format!("{code} is a {}, not a village", r.level),
            );
            Ok(None)
        }
        None => {
            errors.add("village_code", format!("no region with code {code}"));
            Ok(None)
        }
    }
}

/// Checks someone in at a stop: booked (`booking_code`; an individual booking's name and
/// mobile by default; a group booking admits up to its headcount, each with a `name`) or
/// walk-in (`name`, `mobile` optional), with the village of residence and the outcome when
/// already known. Only while the drive is published or in progress. Audited.
#[utoipa::path(
    post,
    path = "/stops/{id}/attendances",
    tag = "results",
    params(StopPath),
    request_body = CheckInRequest,
    responses(
        (status = 201, description = "Checked in; `ETag` carries the version", body = AttendanceView),
        (status = 400, description = "Invalid fields, each named (`name`, `mobile`, `village_code`, `outcome`, `deferral_category`, `volume_ml`, `abo`, `rh`, `booking_code`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and station staff check people in, within their write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such stop (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The drive is not published or in progress; the booking is cancelled, for another stop, or fully checked in; or the mobile was checked in here already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(stop_id = path.id))]
async fn check_in(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StopPath>,
    JsonBody(body): JsonBody<CheckInRequest>,
) -> Result<Response, AppError> {
    let (stop, drive) = load_stop(&state, &caller, Action::Create, path.id).await?;
    let now = state.clock.now();
    open_for_check_in(&drive, now)?;
    let mut errors = FieldErrors::default();
    let record = parse_outcome(
        &mut errors,
        body.outcome.as_deref(),
        body.deferral_category.as_deref(),
        body.volume_ml,
        body.abo.as_deref(),
        body.rh.as_deref(),
    );
    check_outcome(&mut errors, &record);
    let mobile = body
        .mobile
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .and_then(|m| {
            MobileNumber::parse(m)
                .map_err(|e| errors.add("mobile", e))
                .ok()
        });
    let village_code = village(&state, &mut errors, body.village_code.as_deref()).await?;
    // As the donor reads it out: case, spaces and hyphens do not matter.
    let code = body
        .booking_code
        .as_deref()
        .map(normalise_code)
        .filter(|c| !c.is_empty());
    let txn = crate::db::begin_write(&state.db).await?;
    // The drive again, its row share-locked: a check-in lands before the drive is completed or
    // cancelled, or sees that it was.
    let drive = drives::lock_shared(&txn, drive.id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no stop with id {}", stop.id)))?;
    open_for_check_in(&drive, now)?;
    let (kind, booking_id, name, mobile) = match &code {
        None => {
            let name = errors.text("name", body.name.clone(), MAX_NAME, false, true);
            (
                AttendanceKind::WalkIn,
                None,
                name,
                mobile.map(|m| m.as_str().to_owned()),
            )
        }
        Some(code) => {
            // A booking at a stop beyond the caller's read scope does not exist for them: the
            // same answer as for a code nobody has, not "for another stop (id)".
            let booking = match store::lock_booking_by_code(&txn, code).await? {
                Some(b) if b.stop_id != stop.id => {
                    let visible = match store::find_stop(&txn, b.stop_id).await? {
                        Some((s, d)) => {
                            authorize_drive(&caller, Action::Read, &d, String::new).is_ok()
                                && authorize_site(&caller, Action::Read, &s, String::new).is_ok()
                        }
                        None => false,
                    };
                    visible.then_some(b)
                }
                found => found,
            };
            let Some(booking) = booking else {
                errors.add("booking_code", format!("no booking with code {code}"));
                return Err(errors
                    .into_result()
                    .err()
                    .unwrap_or_else(|| AppError::invalid("booking_code", "no such booking")));
            };
            // Each person of a group needs their own name; a person's booking names them.
            let group = booking.kind == BookingKind::Group.as_str();
            let name = errors
                .text("name", body.name.clone(), MAX_NAME, false, group)
                .or_else(|| (!group).then(|| booking.name.clone()));
            let mobile = match mobile {
                Some(m) => Some(m.as_str().to_owned()),
                None if !group => booking.mobile.clone(),
                None => None,
            };
            // Faults in the request first (400), then whether the booking admits them (409).
            std::mem::take(&mut errors).into_result()?;
            if booking.stop_id != stop.id {
                return Err(AppError::Conflict(format!(
                    "booking {code} is for another stop ({}), not stop {}",
                    booking.stop_id, stop.id
                )));
            }
            if booking.status != BookingStatus::Active.as_str() {
                return Err(AppError::Conflict(format!(
                    "booking {code} is {}",
                    booking.status
                )));
            }
            let done = store::count_for_booking(&txn, booking.id).await?;
            if done >= u64::try_from(booking.headcount).unwrap_or(0) {
                return Err(AppError::Conflict(format!(
                    "booking {code} is fully checked in ({done} of {})",
                    booking.headcount
                )));
            }
            (AttendanceKind::Booked, Some(booking.id), name, mobile)
        }
    };
    errors.into_result()?;
    let name = name.ok_or_else(|| AppError::invalid("name", "a name is needed"))?;
    // One person, one check-in a stop: a mobile seen here already is the same person.
    if let Some(mobile) = &mobile
        && let Some(earlier) = store::with_mobile_at(&txn, stop.id, mobile).await?
    {
        return Err(AppError::Conflict(format!(
            "this mobile was checked in at stop {} already (attendance {}); correct that record instead",
            stop.id, earlier.id
        )));
    }
    let created = store::insert(
        &txn,
        NewAttendance {
            stop_id: stop.id,
            booking_id,
            kind,
            name,
            mobile,
            village_code,
            outcome: record.outcome.unwrap_or(Outcome::Registered),
            deferral_category: record.deferral_category.map(|c| c.as_str().to_owned()),
            volume_ml: record.volume_ml,
            abo: record.abo.map(|a| a.as_str().to_owned()),
            rh: record.rh.map(|r| r.as_str().to_owned()),
            by: caller.username(),
        },
        now,
    )
    .await?;
    audit::record(
        &txn,
        Change {
            entity: "attendance",
            entity_id: created.id.to_string(),
            action: "create",
            region_code: Some(drive.region_code.clone()),
            before: None,
            after: Some(&audited(&created)),
            actor: caller.actor(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    let view = to_view(created, true)?;
    Ok(with_etag(StatusCode::CREATED, view.version, Json(view)))
}

/// The attendance's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttendancePath {
    pub id: i64,
}

/// Changes to an attendance; absent members stay as they are, `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceUpdate {
    pub name: Option<String>,
    /// A 12-digit village code, or `null` to clear.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub village_code: Option<Option<String>>,
    /// `registered`, `deferred` or `donated`. Changing it drops the details the new outcome
    /// does not have (a deferral's category, a donation's volume) unless sent.
    pub outcome: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub deferral_category: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub volume_ml: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub abo: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub rh: Option<Option<String>>,
}

/// Records an outcome or corrects an attendance (`If-Match` with the version last seen).
/// Until the drive is completed, admins and station staff of the drive's region edit; once it
/// is completed its results are locked and only admins correct them (station staff get 403),
/// audited as `correct` with the record before and after.
#[utoipa::path(
    patch,
    path = "/attendances/{id}",
    tag = "results",
    params(AttendancePath, ("If-Match" = String, Header, description = "The ETag last seen, e.g. \"3\"")),
    request_body = AttendanceUpdate,
    responses(
        (status = 200, description = "Changed; `ETag` carries the new version", body = AttendanceView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff of the drive's region; or the drive is completed and the caller is not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such attendance (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The drive was cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The version moved on: the body is the current attendance", body = AttendanceView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(attendance_id = path.id))]
async fn update_attendance(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<AttendancePath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AttendanceUpdate>,
) -> Result<Response, AppError> {
    let principal = caller.require()?;
    let id = path.id;
    let current = store::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no attendance with id {id}")))?;
    let (stop, drive) = store::find_stop(&state.db, current.stop_id)
        .await?
        .ok_or_else(|| internal("attendance", id, "its stop is gone"))?;
    authorize_drive(&caller, Action::Update, &drive, || {
        format!("attendance with id {id}")
    })?;
    authorize_site(&caller, Action::Update, &stop, || {
        format!("attendance with id {id}")
    })?;
    editable(&drive, principal.role)?;
    let expected = required_if_match(&headers, "attendance", current.version)?;

    let mut errors = FieldErrors::default();
    let given = |v: &Option<Option<String>>, old: &Option<String>| match v {
        Some(new) => new.clone(),
        None => old.clone(),
    };
    let outcome_raw = body
        .outcome
        .clone()
        .unwrap_or_else(|| current.outcome.clone());
    let mut category = given(&body.deferral_category, &current.deferral_category);
    let mut volume = body.volume_ml.unwrap_or(current.volume_ml);
    let record_outcome: Option<Outcome> = outcome_raw.trim().parse().ok();
    if body.outcome.is_some() {
        if body.deferral_category.is_none() && record_outcome != Some(Outcome::Deferred) {
            category = None;
        }
        if body.volume_ml.is_none() && record_outcome != Some(Outcome::Donated) {
            volume = None;
        }
    }
    let abo = given(&body.abo, &current.abo);
    let rh = given(&body.rh, &current.rh);
    let record = parse_outcome(
        &mut errors,
        Some(&outcome_raw),
        category.as_deref(),
        volume,
        abo.as_deref(),
        rh.as_deref(),
    );
    check_outcome(&mut errors, &record);
    let name = match &body.name {
        Some(raw) => errors.text("name", Some(raw.clone()), MAX_NAME, false, true),
        None => Some(current.name.clone()),
    };
    let village_code = match &body.village_code {
        Some(raw) => village(&state, &mut errors, raw.as_deref()).await?,
        None => current.village_code.clone(),
    };
    errors.into_result()?;
    if expected != current.version {
        let view = to_view(current, true)?;
        return Ok(with_etag(
            StatusCode::PRECONDITION_FAILED,
            view.version,
            Json(view),
        ));
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    // The drive again, share-locked: an edit lands before the drive is completed, or is a
    // correction of its final results.
    let drive = drives::lock_shared(&txn, drive.id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no attendance with id {id}")))?;
    let correcting = editable(&drive, principal.role)?;
    let Some(written) = store::update_if_version(
        &txn,
        id,
        expected,
        AttendanceEdit {
            name: name.unwrap_or_else(|| current.name.clone()),
            village_code,
            outcome: record.outcome.unwrap_or(Outcome::Registered),
            deferral_category: record.deferral_category.map(|c| c.as_str().to_owned()),
            volume_ml: record.volume_ml,
            abo: record.abo.map(|a| a.as_str().to_owned()),
            rh: record.rh.map(|r| r.as_str().to_owned()),
            by: caller.username(),
        },
        now,
    )
    .await?
    else {
        txn.rollback().await?;
        let latest = store::find(&state.db, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no attendance with id {id}")))?;
        let view = to_view(latest, true)?;
        return Ok(with_etag(
            StatusCode::PRECONDITION_FAILED,
            view.version,
            Json(view),
        ));
    };
    audit::record(
        &txn,
        Change {
            entity: "attendance",
            entity_id: id.to_string(),
            action: if correcting { "correct" } else { "update" },
            region_code: Some(drive.region_code.clone()),
            before: Some(&audited(&current)),
            after: Some(&audited(&written)),
            actor: caller.actor(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    if correcting {
        tracing::info!(
            attendance_id = id,
            drive_id = drive.id,
            "completed results corrected"
        );
    }
    let view = to_view(written, true)?;
    Ok(with_etag(StatusCode::OK, view.version, Json(view)))
}

/// Results: counts, volumes, rates and the forecast error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultsTotals {
    pub stops: u64,
    /// Everyone checked in (booked and walk-in), whatever came of it.
    pub registered: u64,
    pub deferred: u64,
    /// Donors.
    pub donated: u64,
    /// The donations' volumes summed, mL.
    pub total_ml: u64,
    pub walk_ins: u64,
    /// Places on active bookings.
    pub booked_places: u64,
    /// Check-ins on a booking.
    pub booked_attended: u64,
    /// Booked places nobody came for (per stop, never below 0).
    pub no_shows: u64,
    /// `deferred / (deferred + donated)`; `null` when nobody was seen.
    pub deferral_rate: Option<f64>,
    /// `no_shows / booked_places`; `null` without bookings.
    pub no_show_rate: Option<f64>,
    /// The forecast at the recorded stops (those where someone was checked in): the stops'
    /// `expected_donors`, compared with `donated`.
    pub expected_donors: f64,
    /// `donated - expected_donors`: positive when more came than forecast; `null` when no stop
    /// has results recorded.
    pub forecast_error: Option<f64>,
    /// `forecast_error / expected_donors`; `null` when nothing was expected (or recorded).
    pub relative_error: Option<f64>,
    /// The recorded stops' `|donated - expected_donors|` summed (errors of opposite sign do
    /// not cancel).
    pub abs_error: f64,
    /// Stops where nobody was checked in: their results are unrecorded, not zero, so they
    /// take no part in the forecast error (as in calibration).
    pub unrecorded_stops: u64,
    /// The forecast at the unrecorded stops, apart.
    pub unrecorded_expected: f64,
}

impl From<&Tally> for ResultsTotals {
    fn from(t: &Tally) -> Self {
        ResultsTotals {
            stops: t.stops,
            registered: t.registered,
            deferred: t.deferred,
            donated: t.donated,
            total_ml: t.total_ml,
            walk_ins: t.walk_ins,
            booked_places: t.booked_places,
            booked_attended: t.booked_attended,
            no_shows: t.no_shows,
            deferral_rate: t.deferral_rate(),
            no_show_rate: t.no_show_rate(),
            expected_donors: t.expected_donors,
            forecast_error: t.forecast_error(),
            relative_error: t.relative_error(),
            abs_error: t.abs_error,
            unrecorded_stops: t.unrecorded_stops,
            unrecorded_expected: t.unrecorded_expected,
        }
    }
}

/// The results of one stop.
#[derive(Debug, Serialize, ToSchema)]
pub struct StopResultsView {
    pub stop: StopSummary,
    /// Final once the drive is completed.
    pub locked: bool,
    pub results: ResultsTotals,
    /// Donors by blood group (`A+`, `O-`, `AB` when Rh is unknown, `unknown`).
    pub by_blood_group: BTreeMap<String, u64>,
    /// Check-ins and donors by village of residence (12-digit code, `unknown` when not
    /// given).
    pub by_village: BTreeMap<String, VillageCount>,
    /// Deferrals by category (`low_hemoglobin`, …).
    pub by_deferral_category: BTreeMap<String, u64>,
}

/// The results of each of `stops` (of `drive`), from the database.
pub(crate) async fn results_of(
    state: &AppState,
    drive: &drive::Model,
    stops: &[drive_stop::Model],
) -> Result<Vec<(StopResultsView, StopResults)>, AppError> {
    let ids: Vec<i64> = stops.iter().map(|s| s.id).collect();
    let rows = store::at_stops(&state.db, &ids).await?;
    let booked = store::booked_places(&state.db, &ids).await?;
    let locked = status_of(drive)? == DriveStatus::Completed;
    let mut out = Vec::with_capacity(stops.len());
    for stop in stops {
        let here: Vec<Attended> = rows
            .iter()
            .filter(|a| a.stop_id == stop.id)
            .map(attended)
            .collect::<Result<_, _>>()?;
        let results = StopResults::compute(
            &here,
            booked.get(&stop.id).copied().unwrap_or(0),
            stop.expected_donors,
        );
        out.push((
            StopResultsView {
                stop: stop_summary(stop, drive)?,
                locked,
                results: ResultsTotals::from(&results.tally),
                by_blood_group: results.by_blood_group.clone(),
                by_village: results.by_village.clone(),
                by_deferral_category: results.by_deferral_category.clone(),
            },
            results,
        ));
    }
    Ok(out)
}

/// A stop's results: registered, deferred, donated, total mL, by blood group and village,
/// booked places and no-shows, and its forecast against the donors who came.
#[utoipa::path(
    get,
    path = "/stops/{id}/results",
    tag = "results",
    params(StopPath),
    responses(
        (status = 200, description = "The stop's results", body = StopResultsView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such stop (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(stop_id = path.id))]
async fn stop_results(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StopPath>,
) -> Result<Json<StopResultsView>, AppError> {
    let (stop, drive) = load_stop(&state, &caller, Action::Read, path.id).await?;
    let (view, _) = results_of(&state, &drive, std::slice::from_ref(&stop))
        .await?
        .pop()
        .ok_or_else(|| internal("stop", stop.id, "no results"))?;
    Ok(Json(view))
}

/// A drive's report: each stop's forecast against its results, and the drive's totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct DriveReport {
    pub drive_id: i64,
    pub date: NaiveDate,
    pub status: DriveStatus,
    pub region_code: String,
    pub vehicle_id: i64,
    /// Final once the drive is completed.
    pub locked: bool,
    /// In visiting order.
    pub stops: Vec<StopResultsView>,
    pub totals: ResultsTotals,
    /// Donors by blood group over the drive.
    pub by_blood_group: BTreeMap<String, u64>,
    /// Deferrals by category over the drive.
    pub by_deferral_category: BTreeMap<String, u64>,
}

/// The drive's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DrivePath {
    pub id: i64,
}

/// How to answer a drive's report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DriveReportParams {
    /// `json` (default), or `csv` / `xlsx`: one row per stop (`stop-<id>`, its name) with the
    /// columns of the results report, and a `total` row.
    pub format: Option<String>,
}

/// The forecast against the actual donors at each stop of a drive (error and relative
/// error), with each stop's results and the drive's totals; as JSON, CSV or XLSX.
#[utoipa::path(
    get,
    path = "/drives/{id}/report",
    tag = "results",
    params(DrivePath, DriveReportParams),
    responses(
        (status = 200, description = "The drive's report (JSON), or its CSV (text/csv) or XLSX download", body = DriveReport),
        (status = 400, description = "Malformed id, or a `format` other than json, csv or xlsx", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such drive (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(drive_id = path.id))]
async fn drive_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<DrivePath>,
    Query(params): Query<DriveReportParams>,
) -> Result<Response, AppError> {
    caller.require()?;
    let format = params.format.as_deref().map(str::trim).unwrap_or("json");
    if !matches!(format, "json" | "csv" | "xlsx") {
        return Err(AppError::invalid("format", "must be json, csv or xlsx"));
    }
    let id = path.id;
    let drive = crate::store::drives::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no drive with id {id}")))?;
    authorize_drive(&caller, Action::Read, &drive, || {
        format!("drive with id {id}")
    })?;
    // The stops whose site the caller reads: all of them, as a drive's region holds its stops
    // (drives made before that rule may not).
    let reach = crate::domain::policy::read_scope(caller.require()?);
    let stops: Vec<_> = crate::store::drives::stops(&state.db, id)
        .await?
        .into_iter()
        .filter(|s| RegionCode::parse(&s.region_code).is_ok_and(|c| reach.contains(&c)))
        .collect();
    let results = results_of(&state, &drive, &stops).await?;
    let mut totals = Tally::default();
    let mut by_blood_group: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_deferral_category: BTreeMap<String, u64> = BTreeMap::new();
    for (_, r) in &results {
        totals.add(&r.tally);
        for (group, n) in &r.by_blood_group {
            *by_blood_group.entry(group.clone()).or_insert(0) += n;
        }
        for (category, n) in &r.by_deferral_category {
            *by_deferral_category.entry(category.clone()).or_insert(0) += n;
        }
    }
    let status = status_of(&drive)?;
    if format != "json" {
        let rows: Vec<ResultsRow> = results
            .iter()
            .map(|(v, _)| ResultsRow {
                group: format!("stop-{}", v.stop.id),
                label: v.stop.name.clone(),
                drives: 1,
                totals: v.results.clone(),
            })
            .collect();
        let total = ResultsRow {
            group: "total".to_owned(),
            label: String::new(),
            drives: 1,
            totals: ResultsTotals::from(&totals),
        };
        return crate::api::results::export(&rows, &total, format, &format!("drive-{id}"));
    }
    Ok(Json(DriveReport {
        drive_id: drive.id,
        date: drive.date,
        status,
        region_code: drive.region_code,
        vehicle_id: drive.vehicle_id,
        locked: status == DriveStatus::Completed,
        stops: results.into_iter().map(|(v, _)| v).collect(),
        totals: ResultsTotals::from(&totals),
        by_blood_group,
        by_deferral_category,
    })
    .into_response())
}
