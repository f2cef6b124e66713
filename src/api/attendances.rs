//! Check-in and results (issue 6, on the day and after): staff check people in at a stop,
//! booked (quoting the booking's code) or walk-in, record what came of it (deferred with a
//! reason category, or donated with volume and blood group), and read the stop's and the
//! drive's results against the forecast. The rules of an outcome and of the results are pure
//! (`crate::domain::attendance`); the use cases (rules, transactions, audit) are
//! `crate::checkin`; the cross-drive report is `GET /api/v1/reports/results`.
//!
//! Access follows drives ([`Resource::Plan`] by the drive's region) and, for a stop's records,
//! the stop's site as well (a drive's region holds all its stops, but a caller who cannot read
//! the stop's site learns nothing of it): the check-in screen and every write are for admins
//! and station staff within their write scope; reading attendances (mobiles masked) and
//! results follows the read scope.
//!
//! When: people are checked in while the drive is `published` or `in_progress`, on the
//! drive's date (China time) or after it (results from paper forms), never before (409
//! otherwise; the clock is `AppState::clock`). Outcomes may be edited until the drive is
//! `completed`; completing a drive locks
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
use crate::api::extract::{
    Json as JsonBody, Path, Query, download, nullable, output_lang, required_if_match,
    vary_language, with_etag,
};
use crate::checkin::attendances::{self as checkin, AttendanceChange, CheckIn};
use crate::checkin::results::{self, ExportFormat, ResultsTotals};
use crate::checkin::{Staff, status_of};
use crate::domain::attendance::{
    Abo, AttendanceKind, DeferralCategory, Outcome, Rh, StopResults, VillageCount,
};
use crate::domain::drive::DriveStatus;
use crate::domain::fleet::TimeOfDay;
use crate::domain::point::mask_phone;
use crate::domain::policy::{Action, Resource};
use crate::domain::region::RegionCode;
use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::versioned::Outcome as Written;

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

/// Stop `id` and its drive, if the caller may do `action` to the drive (404 outside read
/// scope, 403 outside write scope or for roles that do not run drives).
async fn load_stop(
    state: &AppState,
    caller: &Caller,
    action: Action,
    id: i64,
) -> Result<(drive_stop::Model, drive::Model), AppError> {
    caller.require()?;
    let (stop, drive) = checkin::find_stop(&state.db, id).await?;
    authorize_drive(caller, action, &drive, || format!("stop with id {id}"))?;
    authorize_site(caller, action, &stop, || format!("stop with id {id}"))?;
    Ok((stop, drive))
}

/// As [`authorize_drive`], for the region of the stop's site: a stop outside the caller's read
/// scope is hidden (404) even when its drive is not.
fn authorize_site(
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
    let screen = checkin::screen(&state.db, &stop, &drive, state.clock.now()).await?;
    let bookings = screen
        .bookings
        .into_iter()
        .map(|((b, slots), checked_in)| DeskBooking {
            checked_in,
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
    Ok(Json(CheckInScreen {
        stop: stop_summary(&stop, &drive)?,
        open: screen.open,
        bookings,
        attendances: screen
            .attendances
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
    let items = checkin::at_stop(&state.db, stop.id)
        .await?
        .into_iter()
        .map(|m| to_view(m, true))
        .collect::<Result<_, _>>()?;
    Ok(Json(AttendanceList {
        stop: stop_summary(&stop, &drive)?,
        items,
    }))
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
    /// The donor agreed at the desk to be contacted when blood runs short (the standard
    /// wording): they join the donor roster (`mobile` and `village_code` then required) and
    /// are sent what they agreed to with the link that withdraws it.
    #[serde(default)]
    pub consent: bool,
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
    let mut staff = staff(&caller)?;
    staff.public_url = state.http.public_url.as_deref();
    let created = checkin::check_in(
        &state.db,
        &stop,
        &drive,
        body.into(),
        &staff,
        state.clock.now(),
    )
    .await?;
    let view = to_view(created, true)?;
    Ok(with_etag(StatusCode::CREATED, view.version, Json(view)))
}

/// Who acts, for the service.
fn staff(caller: &Caller) -> Result<Staff<'_>, AppError> {
    Ok(Staff {
        actor: caller.actor(),
        principal: caller.require()?,
        public_url: None,
    })
}

impl From<CheckInRequest> for CheckIn {
    fn from(b: CheckInRequest) -> Self {
        CheckIn {
            booking_code: b.booking_code,
            name: b.name,
            mobile: b.mobile,
            village_code: b.village_code,
            outcome: b.outcome,
            deferral_category: b.deferral_category,
            volume_ml: b.volume_ml,
            abo: b.abo,
            rh: b.rh,
            consent: b.consent,
        }
    }
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
    let (current, stop, drive) = checkin::find(&state.db, id).await?;
    authorize_drive(&caller, Action::Update, &drive, || {
        format!("attendance with id {id}")
    })?;
    authorize_site(&caller, Action::Update, &stop, || {
        format!("attendance with id {id}")
    })?;
    // Locked results answer 403 (409 once cancelled) before a missing `If-Match` does.
    checkin::editable(&drive, principal.role)?;
    let expected = required_if_match(&headers, "attendance", current.version)?;
    let outcome = checkin::update(
        &state.db,
        current,
        &drive,
        expected,
        body.into(),
        &staff(&caller)?,
        Utc::now(),
    )
    .await?;
    let (status, row) = match outcome {
        Written::Updated(row) => (StatusCode::OK, row),
        Written::Stale(row) => (StatusCode::PRECONDITION_FAILED, row),
    };
    let view = to_view(row, true)?;
    Ok(with_etag(status, view.version, Json(view)))
}

impl From<AttendanceUpdate> for AttendanceChange {
    fn from(b: AttendanceUpdate) -> Self {
        AttendanceChange {
            name: b.name,
            village_code: b.village_code,
            outcome: b.outcome,
            deferral_category: b.deferral_category,
            volume_ml: b.volume_ml,
            abo: b.abo,
            rh: b.rh,
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

/// The results of each of `stops` (of `drive`), rendered.
async fn results_of(
    state: &AppState,
    drive: &drive::Model,
    stops: &[drive_stop::Model],
) -> Result<Vec<StopResultsView>, AppError> {
    let locked = status_of(drive)? == DriveStatus::Completed;
    let results = results::of_stops(&state.db, stops).await?;
    stops
        .iter()
        .zip(results)
        .map(|(stop, r)| results_view(stop, drive, locked, r))
        .collect()
}

fn results_view(
    stop: &drive_stop::Model,
    drive: &drive::Model,
    locked: bool,
    results: StopResults,
) -> Result<StopResultsView, AppError> {
    Ok(StopResultsView {
        stop: stop_summary(stop, drive)?,
        locked,
        results: ResultsTotals::from(&results.tally),
        by_blood_group: results.by_blood_group,
        by_village: results.by_village,
        by_deferral_category: results.by_deferral_category,
    })
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
    let view = results_of(&state, &drive, std::slice::from_ref(&stop))
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
    /// The language of the downloads' headers: `zh-CN` or `en` (default: from
    /// `Accept-Language`, else zh-CN).
    pub lang: Option<String>,
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
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let principal = caller.require()?;
    let lang = output_lang(params.lang.as_deref(), &headers)?;
    let format = match params.format.as_deref().map(str::trim).unwrap_or("json") {
        "json" => None,
        "csv" => Some(ExportFormat::Csv),
        "xlsx" => Some(ExportFormat::Xlsx),
        _ => return Err(AppError::invalid("format", "must be json, csv or xlsx")),
    };
    let id = path.id;
    let drive = results::find_drive(&state.db, id).await?;
    authorize_drive(&caller, Action::Read, &drive, || {
        format!("drive with id {id}")
    })?;
    // The stops whose site the caller reads.
    let reach = crate::domain::policy::read_scope(principal);
    let report = results::of_drive(&state.db, &drive, &reach).await?;
    if let Some(format) = format {
        let (rows, total) = report.rows(lang);
        let body = results::export(&rows, &total, format, lang)?;
        return Ok(vary_language(download(
            body,
            format.content_type(),
            &format.file_name(&format!("drive-{id}")),
        )));
    }
    let status = status_of(&drive)?;
    let stops = report
        .stops
        .into_iter()
        .map(|(stop, r)| results_view(&stop, &drive, report.locked, r))
        .collect::<Result<_, _>>()?;
    Ok(Json(DriveReport {
        drive_id: drive.id,
        date: drive.date,
        status,
        region_code: drive.region_code,
        vehicle_id: drive.vehicle_id,
        locked: report.locked,
        stops,
        totals: ResultsTotals::from(&report.totals),
        by_blood_group: report.by_blood_group,
        by_deferral_category: report.by_deferral_category,
    })
    .into_response())
}
