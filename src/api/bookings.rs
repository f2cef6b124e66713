//! `/api/v1/public/…`: the public schedule and booking (issue 6), anonymous; and
//! `/api/v1/drives/{id}/bookings`, the staff's list of who booked.
//!
//! Anyone may list the announced stops near a place (JSON or iCalendar), look at a stop's
//! slots, and book a place for themselves or a group. A booking answers with its code (quoted
//! at check-in) and a token, shown once, that the donor sends back in `X-Booking-Token` to
//! look at, move or cancel it. Anonymous writes are limited per client address
//! (`--booking-rate-limit` a minute; 429 with `Retry-After`), and so are the places one
//! mobile or address holds (`--booking-places-per-mobile`, `--booking-places-per-address`;
//! 409 naming the field). A group above its station's `group_request_threshold` is a request
//! (202) that holds no places until staff confirm it.
//!
//! Staff (`/api/v1/bookings/{code}/…`, `/api/v1/group-requests/{id}/…`) cancel or move one
//! booking and confirm or decline requests, within the drive's scope, with `If-Match`.
//!
//! Mobiles are masked in every answer and list here; only the check-in screen shows them.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{booking, booking_part, booking_slot, drive, drive_stop, group_request};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, output_lang, required_if_match, vary_language, with_etag,
};
use crate::auth::caller::site_origin;
use crate::bookings;
use crate::bookings::reads::{self, Held, Place, ScheduledStop};
use crate::bookings::{
    self as service, Confirm, Confirmed, GroupBooking, GroupOutcome, HolderCancelled, Limits, Move,
    OpenStop, PersonBooking, ScheduleQuery, StaffCancel, StaffMove,
};
use crate::config::HttpConfig;
use crate::domain::booking::{self as rules, BookingKind, BookingStatus, RequestStatus};
use crate::domain::point::mask_phone;
use crate::domain::policy::Action;
use crate::error::{AppError, Problem};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::versioned::Outcome;

/// The header that carries a booking's token.
pub const TOKEN_HEADER: &str = "x-booking-token";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(public_drives))
        .routes(routes!(public_stop))
        .routes(routes!(book_person))
        .routes(routes!(book_group))
        .routes(routes!(get_booking))
        .routes(routes!(cancel_booking))
        .routes(routes!(reschedule_booking))
        .routes(routes!(drive_bookings))
        .routes(routes!(staff_cancel))
        .routes(routes!(staff_reschedule))
        .routes(routes!(confirm_request))
        .routes(routes!(decline_request))
}

/// One bookable slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotView {
    /// `HH:MM`: what to send as `slot`.
    #[schema(example = "09:00")]
    pub starts: String,
    #[schema(example = "09:30")]
    pub ends: String,
    pub places: i32,
    pub places_left: i32,
    /// False once the slot has begun.
    pub open: bool,
}

/// An announced stop, as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicStopView {
    pub stop_id: i64,
    pub drive_id: i64,
    pub date: NaiveDate,
    pub name: String,
    pub address: Option<String>,
    /// WGS-84, when known.
    #[serde(serialize_with = "crate::domain::rounding::ser::opt_coordinate")]
    pub longitude: Option<f64>,
    #[serde(serialize_with = "crate::domain::rounding::ser::opt_coordinate")]
    pub latitude: Option<f64>,
    /// From `near`, when asked.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::domain::rounding::ser::opt_km"
    )]
    pub distance_km: Option<f64>,
    #[schema(example = "09:00")]
    pub opens: String,
    #[schema(example = "11:30")]
    pub closes: String,
    /// Places that may still be booked in slots that have not begun. Walk-ins are welcome
    /// too; bookings are served first.
    pub places_left: i32,
    pub slots: Vec<SlotView>,
    /// Where to `POST` a booking.
    pub book: String,
}

/// Announced stops, by date then distance.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicSchedule {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<PublicStopView>,
}

fn slot_views(
    drive_date: NaiveDate,
    slots: &[booking_slot::Model],
    now: DateTime<Utc>,
) -> Vec<SlotView> {
    reads::slot_states(drive_date, slots, now)
        .into_iter()
        .map(|s| SlotView {
            starts: s.starts,
            ends: s.ends,
            places: s.places,
            places_left: s.places_left,
            open: s.open,
        })
        .collect()
}

fn public_view(
    drive: &drive::Model,
    stop: &drive_stop::Model,
    place: Place,
    slots: &[booking_slot::Model],
    now: DateTime<Utc>,
) -> PublicStopView {
    let (address, place) = place;
    let slots = slot_views(drive.date, slots, now);
    let places_left = slots.iter().filter(|s| s.open).map(|s| s.places_left).sum();
    PublicStopView {
        stop_id: stop.id,
        drive_id: drive.id,
        date: drive.date,
        name: stop.name.clone(),
        address,
        longitude: place.map(|p| p.0),
        latitude: place.map(|p| p.1),
        distance_km: None,
        opens: rules::clock(stop.planned_start),
        closes: rules::clock(stop.planned_end),
        places_left,
        slots,
        book: format!("/api/v1/public/stops/{}/bookings", stop.id),
    }
}

/// The schedule's query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ScheduleParams {
    /// `lon,lat` (WGS-84): only stops within `radius_km`, nearest first on each day.
    pub near: Option<String>,
    /// With `near`: km (default 30, at most 200).
    pub radius_km: Option<f64>,
    /// First date (default today, China time).
    pub from: Option<NaiveDate>,
    /// Last date (default 30 days on; at most 92 days after `from`).
    pub to: Option<NaiveDate>,
    /// `json` (default) or `ics` (iCalendar, one event per stop).
    pub format: Option<String>,
    /// Only stops in this region (a county's or township's 12-digit code).
    pub region: Option<String>,
    /// With `format=ics`: the language of the events, `zh-CN` or `en` (default: from
    /// `Accept-Language`, else zh-CN).
    pub lang: Option<String>,
}

/// The announced stops (drives published or under way) near a place, with their slots and
/// the places left; as JSON or as an iCalendar file to subscribe to.
#[utoipa::path(
    get,
    path = "/public/drives",
    tag = "public",
    params(ScheduleParams),
    responses(
        (status = 200, description = "The stops by date, then distance", body = PublicSchedule, content_type = "application/json"),
        (status = 200, description = "With `format=ics`: an iCalendar file", body = String, content_type = "text/calendar"),
        (status = 400, description = "Invalid parameter (named)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn public_drives(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<ScheduleParams>,
) -> Result<Response, AppError> {
    let now = Utc::now();
    let lang = output_lang(params.lang.as_deref(), &headers)?;
    let query = ScheduleQuery {
        near: params.near,
        radius_km: params.radius_km,
        from: params.from,
        to: params.to,
        format: params.format,
        region: params.region,
    };
    let asked = query.checked(now).map_err(|errors| {
        errors
            .into_result()
            .err()
            .unwrap_or_else(|| AppError::Internal(anyhow::anyhow!("a refusal without a field")))
    })?;
    let found = reads::public_schedule(&state.db, &asked).await?;
    if asked.ics {
        let stops: Vec<&ScheduledStop> = found.iter().map(|(s, _)| s).collect();
        return Ok(calendar(&stops, lang, &headers, &state.http));
    }
    let items: Vec<PublicStopView> = found
        .into_iter()
        .map(|(scheduled, distance_km)| PublicStopView {
            distance_km,
            ..public_view(
                &scheduled.drive,
                &scheduled.stop,
                scheduled.place,
                &scheduled.slots,
                now,
            )
        })
        .collect();
    let (from, to) = (asked.from, asked.to);
    let schedule = PublicSchedule { from, to, items };
    Ok(Json(schedule).into_response())
}

/// The schedule as iCalendar (`bookings::calendar`), in `lang`, its events linking to the
/// stops' booking pages on this site.
fn calendar(
    stops: &[&ScheduledStop],
    lang: Lang,
    headers: &HeaderMap,
    http: &HttpConfig,
) -> Response {
    let site = site_origin(headers, http);
    let out = bookings::calendar::calendar(stops, lang, &site, Utc::now());
    let response = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"drives.ics\""),
            ),
        ],
        out,
    )
        .into_response();
    vary_language(response)
}

/// A stop's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StopPath {
    pub id: i64,
}

/// An announced stop with its slots.
#[utoipa::path(
    get,
    path = "/public/stops/{id}",
    tag = "public",
    params(StopPath),
    responses(
        (status = 200, description = "The stop", body = PublicStopView),
        (status = 404, description = "No announced stop with this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Its drive is over or cancelled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(stop_id = path.id))]
async fn public_stop(
    State(state): State<AppState>,
    Path(path): Path<StopPath>,
) -> Result<Json<PublicStopView>, AppError> {
    let open = service::open_stop(&state.db, path.id).await?;
    let place = reads::place_of(&state.db, &open.stop).await?;
    Ok(Json(public_view(
        &open.drive,
        &open.stop,
        place,
        &open.slots,
        Utc::now(),
    )))
}

/// 429 when this address has booked too often this minute (counted in the database, so
/// across every instance).
async fn rate_limit(state: &AppState, caller: &Caller) -> Result<(), AppError> {
    service::throttle::public_request(
        &state.db,
        &caller.address,
        state.http.booking_rate_limit,
        Utc::now(),
    )
    .await?;
    Ok(())
}

/// The body of `POST /api/v1/public/stops/{id}/bookings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    #[schema(example = "张三")]
    pub name: String,
    /// Mainland mobile: the confirmation and reminders go there.
    #[schema(example = "13800001234")]
    pub mobile: String,
    /// When known: A, B, AB or O, with + or - (`O+`, `AB型阴性`).
    pub blood_type: Option<String>,
    /// The slot's start, `HH:MM`.
    #[schema(example = "09:30")]
    pub slot: String,
    /// The tracking code of the appeal whose link brought the donor (`via=` in the link):
    /// the booking records the appeal. An unknown code is ignored.
    #[schema(example = "K7M3QX")]
    pub via: Option<String>,
}

/// The body of `POST /api/v1/public/stops/{id}/group-bookings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    /// The company, school or village committee.
    #[schema(example = "城关镇中学")]
    pub organisation: String,
    pub contact_name: String,
    /// The contact's mainland mobile: the confirmation and reminders go there.
    pub contact_mobile: String,
    /// 2 to 200 people.
    pub headcount: i32,
    /// Slot starts (`HH:MM`) the group can come at; the group is spread evenly over them.
    /// Empty or absent: any slot that has not begun.
    #[serde(default)]
    pub preferred_slots: Vec<String>,
    /// The tracking code of the appeal whose link brought the group (`via=` in the link):
    /// the booking (or the request, and the booking it becomes) records the appeal. An
    /// unknown code is ignored.
    #[schema(example = "K7M3QX")]
    pub via: Option<String>,
}

impl From<PersonBody> for PersonBooking {
    fn from(b: PersonBody) -> Self {
        PersonBooking {
            name: b.name,
            mobile: b.mobile,
            blood_type: b.blood_type,
            slot: b.slot,
            via: b.via,
        }
    }
}

impl From<GroupBody> for GroupBooking {
    fn from(b: GroupBody) -> Self {
        GroupBooking {
            organisation: b.organisation,
            contact_name: b.contact_name,
            contact_mobile: b.contact_mobile,
            headcount: b.headcount,
            preferred_slots: b.preferred_slots.into_iter().map(Into::into).collect(),
            via: b.via,
        }
    }
}

/// A booking as its holder (or staff) sees it; the mobile masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingView {
    /// Quote it at check-in.
    #[schema(example = "7K3MZQ2D")]
    pub code: String,
    /// Only in the answer that made the booking: send it in `X-Booking-Token` to look at,
    /// move or cancel the booking. It is not stored and cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub kind: BookingKind,
    pub status: BookingStatus,
    pub stop_id: i64,
    pub stop_name: String,
    pub date: NaiveDate,
    pub name: String,
    /// Masked (`138****1234`).
    pub mobile: Option<String>,
    pub blood_type: Option<String>,
    pub organisation: Option<String>,
    pub headcount: i32,
    /// Where its places are.
    pub slots: Vec<BookedSlot>,
    /// A group request's preferred slots (`requested`, `declined`); empty for any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requested_slots: Vec<String>,
    /// Why staff declined a request, or cancelled the booking, when they said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Bumped by every change: staff send it in `If-Match` to cancel or move the booking.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// A group request as its contact sees it: a booking `requested` (no places yet), `declined`,
/// or `cancelled` (withdrawn).
fn request_as_booking(
    r: group_request::Model,
    token: Option<String>,
    stop: &drive_stop::Model,
    date: NaiveDate,
) -> Result<BookingView, AppError> {
    let internal = |e: String| AppError::Internal(anyhow::anyhow!("request {}: {e}", r.id));
    let status = match r.status.parse().map_err(internal)? {
        RequestStatus::Pending => BookingStatus::Requested,
        RequestStatus::Declined => BookingStatus::Declined,
        RequestStatus::Withdrawn | RequestStatus::Confirmed => BookingStatus::Cancelled,
    };
    Ok(BookingView {
        code: r.code,
        token,
        kind: BookingKind::Group,
        status,
        stop_id: stop.id,
        stop_name: stop.name.clone(),
        date,
        name: r.contact_name,
        mobile: r.mobile.as_deref().map(mask_phone),
        blood_type: None,
        organisation: Some(r.organisation),
        headcount: r.headcount,
        slots: Vec::new(),
        requested_slots: r
            .preferred
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        reason: r.reason,
        version: r.version,
        created_at: r.created_at,
        cancelled_at: (status == BookingStatus::Cancelled).then_some(r.updated_at),
    })
}

/// Places a booking holds in one slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookedSlot {
    #[schema(example = "09:30")]
    pub starts: String,
    pub places: i32,
}

fn booking_view(
    b: booking::Model,
    token: Option<String>,
    parts: &[booking_part::Model],
    slots: &[booking_slot::Model],
    stop: &drive_stop::Model,
    date: NaiveDate,
) -> Result<BookingView, AppError> {
    let internal = |e: String| AppError::Internal(anyhow::anyhow!("booking {}: {e}", b.id));
    let mut booked: Vec<(i32, i32)> = parts
        .iter()
        .filter(|p| p.booking_id == b.id)
        .filter_map(|p| {
            slots
                .iter()
                .find(|s| s.id == p.slot_id)
                .map(|s| (s.starts, p.places))
        })
        .collect();
    booked.sort_unstable();
    Ok(BookingView {
        kind: b.kind.parse().map_err(internal)?,
        status: b.status.parse().map_err(internal)?,
        code: b.code,
        token,
        stop_id: stop.id,
        stop_name: stop.name.clone(),
        date,
        name: b.name,
        mobile: b.mobile.as_deref().map(mask_phone),
        blood_type: b.blood_type,
        organisation: b.organisation,
        headcount: b.headcount,
        slots: booked
            .into_iter()
            .map(|(starts, places)| BookedSlot {
                starts: rules::clock(starts),
                places,
            })
            .collect(),
        requested_slots: Vec::new(),
        reason: None,
        version: b.version,
        created_at: b.created_at,
        cancelled_at: b.cancelled_at,
    })
}

fn made_view(open: &OpenStop, made: service::Made) -> Result<Response, AppError> {
    // The slots as loaded before booking: their starts are all the view needs.
    let view = booking_view(
        made.booking,
        Some(made.token),
        &made.parts,
        &open.slots,
        &open.stop,
        open.drive.date,
    )?;
    let location = format!("/api/v1/public/bookings/{}", view.code);
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Books one person into a slot. One active booking per mobile per stop; a mobile whose last
/// recorded donation is less than 180 days before the stop is told its next eligible date
/// (409, `next_eligible_date`).
#[utoipa::path(
    post,
    path = "/public/stops/{id}/bookings",
    tag = "public",
    params(StopPath),
    request_body = PersonBody,
    responses(
        (status = 201, description = "Booked: the code and, once, the token", body = BookingView),
        (status = 400, description = "Invalid member (named), or no such slot", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No announced stop with this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slot is full or has begun, the mobile has booked this stop, it gave blood too recently (`next_eligible_date`), the places the mobile (`mobile`) or address (`client_address`) holds would pass their cap, or the drive is over or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many bookings from this address; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(stop_id = path.id))]
async fn book_person(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StopPath>,
    JsonBody(body): JsonBody<PersonBody>,
) -> Result<Response, AppError> {
    rate_limit(&state, &caller).await?;
    let (open, made) = service::book_person_at(
        &state.db,
        path.id,
        body.into(),
        &caller.address,
        Limits::from_config(&state.http),
        Utc::now(),
    )
    .await?;
    tracing::info!(stop_id = open.stop.id, code = %made.booking.code, "booked");
    made_view(&open, made)
}

/// Books a group: its headcount spread evenly over its preferred slots (or over every slot
/// that has not begun). All or nothing: 409 naming how many places are left when too few.
/// A group above its station's `group_request_threshold` (10 unless the station says
/// otherwise) is a request instead (202, status `requested`): it holds no places until the
/// blood station confirms it, and its contact is told either way.
#[utoipa::path(
    post,
    path = "/public/stops/{id}/group-bookings",
    tag = "public",
    params(StopPath),
    request_body = GroupBody,
    responses(
        (status = 201, description = "Booked: the code, the token (once), and the places per slot", body = BookingView),
        (status = 202, description = "Above the station's threshold: a request (`requested`), holding no places until staff confirm it; the code and the token (once)", body = BookingView),
        (status = 400, description = "Invalid member (named), or no such slot", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No announced stop with this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too few places left, a slot has begun, the contact's mobile has booked this stop or has a pending request there, the places the mobile (`contact_mobile`) or address (`client_address`) holds would pass their cap, or the drive is over or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many bookings from this address; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(stop_id = path.id))]
async fn book_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StopPath>,
    JsonBody(body): JsonBody<GroupBody>,
) -> Result<Response, AppError> {
    rate_limit(&state, &caller).await?;
    let (open, outcome) = service::book_group_at(
        &state.db,
        path.id,
        body.into(),
        &caller.address,
        Limits::from_config(&state.http),
        Utc::now(),
    )
    .await?;
    match outcome {
        GroupOutcome::Booked(made) => {
            tracing::info!(stop_id = open.stop.id, code = %made.booking.code, headcount = made.booking.headcount, "group booked");
            made_view(&open, made)
        }
        GroupOutcome::Requested { request, token } => {
            tracing::info!(stop_id = open.stop.id, code = %request.code, headcount = request.headcount, "group request");
            let view = request_as_booking(request, Some(token), &open.stop, open.drive.date)?;
            let location = format!("/api/v1/public/bookings/{}", view.code);
            let mut response = (StatusCode::ACCEPTED, Json(view)).into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            Ok(response)
        }
    }
}

/// A booking's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CodePath {
    /// The booking code (case and hyphens do not matter).
    pub code: String,
}

fn token(headers: &HeaderMap) -> Result<String, AppError> {
    headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| {
            AppError::invalid(
                "X-Booking-Token",
                "send the token the booking was made with",
            )
        })
}

async fn holder_view(
    state: &AppState,
    b: booking::Model,
    parts: Option<Vec<booking_part::Model>>,
) -> Result<BookingView, AppError> {
    let Held {
        booking,
        parts,
        slots,
        stop,
        date,
    } = reads::held(&state.db, b, parts).await?;
    booking_view(booking, None, &parts, &slots, &stop, date)
}

/// A group request as its contact sees it.
async fn request_holder_view(
    state: &AppState,
    r: group_request::Model,
) -> Result<BookingView, AppError> {
    let (r, stop, date) = reads::request_at(&state.db, r).await?;
    request_as_booking(r, None, &stop, date)
}

/// A booking, for its holder (`X-Booking-Token`).
#[utoipa::path(
    get,
    path = "/public/bookings/{code}",
    tag = "public",
    params(CodePath, ("X-Booking-Token" = String, Header, description = "The token given when booking")),
    responses(
        (status = 200, description = "The booking", body = BookingView),
        (status = 400, description = "No token sent", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No booking with this code and token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn get_booking(
    State(state): State<AppState>,
    Path(path): Path<CodePath>,
    headers: HeaderMap,
) -> Result<Json<BookingView>, AppError> {
    let token = token(&headers)?;
    let view = match service::find_held(&state.db, &path.code, &token).await? {
        service::Found::Booking(b) => holder_view(&state, b, None).await?,
        service::Found::Request(r) => request_holder_view(&state, r).await?,
    };
    Ok(Json(view))
}

/// Cancels a booking (`X-Booking-Token`): its places return to the slot, its reminders are
/// dropped, and a cancellation notice is sent.
#[utoipa::path(
    post,
    path = "/public/bookings/{code}/cancel",
    tag = "public",
    params(CodePath, ("X-Booking-Token" = String, Header, description = "The token given when booking")),
    responses(
        (status = 200, description = "Cancelled", body = BookingView),
        (status = 400, description = "No token sent", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No booking with this code and token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled, or its slot has begun", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many bookings from this address; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn cancel_booking(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CodePath>,
    headers: HeaderMap,
) -> Result<Json<BookingView>, AppError> {
    rate_limit(&state, &caller).await?;
    let token = token(&headers)?;
    let cap = state.http.messages_per_recipient_per_day;
    match service::holder_cancel(&state.db, &path.code, &token, cap, Utc::now()).await? {
        HolderCancelled::Request(withdrawn) => {
            Ok(Json(request_holder_view(&state, withdrawn).await?))
        }
        HolderCancelled::Booking((cancelled, parts)) => {
            tracing::info!(code = %cancelled.code, "booking cancelled");
            Ok(Json(holder_view(&state, cancelled, Some(parts)).await?))
        }
    }
}

/// The body of `POST /api/v1/public/bookings/{code}/reschedule`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    /// A person's new slot, `HH:MM`.
    pub slot: Option<String>,
    /// A group's new slots, spread over again (empty: any slot not begun).
    pub preferred_slots: Option<Vec<String>>,
}

impl From<RescheduleBody> for Move {
    fn from(b: RescheduleBody) -> Self {
        Move {
            slot: b.slot,
            preferred_slots: b.preferred_slots,
        }
    }
}

/// Moves a booking (`X-Booking-Token`) to another slot of its stop (a group: over other
/// slots). Its old places count as free for the move; when the new slots are full nothing
/// changes.
#[utoipa::path(
    post,
    path = "/public/bookings/{code}/reschedule",
    tag = "public",
    params(CodePath, ("X-Booking-Token" = String, Header, description = "The token given when booking")),
    request_body = RescheduleBody,
    responses(
        (status = 200, description = "Moved", body = BookingView),
        (status = 400, description = "No token, or an invalid or unknown slot (named)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No booking with this code and token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled, begun, or the new slots are full", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many bookings from this address; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn reschedule_booking(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CodePath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RescheduleBody>,
) -> Result<Json<BookingView>, AppError> {
    rate_limit(&state, &caller).await?;
    let token = token(&headers)?;
    let b = service::by_code_and_token(&state.db, &path.code, &token).await?;
    let limits = Limits::from_config(&state.http);
    let (moved, parts) =
        service::holder_reschedule(&state.db, &b, &token, &body.into(), &limits, Utc::now())
            .await?;
    tracing::info!(code = %moved.code, "booking moved");
    Ok(Json(holder_view(&state, moved, Some(parts)).await?))
}

/// A drive's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DrivePath {
    pub id: i64,
}

/// Who booked a drive's stops, per stop, with slot fill (mobiles masked; the check-in screen
/// shows them).
#[derive(Debug, Serialize, ToSchema)]
pub struct DriveBookings {
    pub drive_id: i64,
    pub stops: Vec<StopBookings>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StopBookings {
    pub stop_id: i64,
    pub name: String,
    pub slots: Vec<SlotView>,
    /// Places held by active bookings.
    pub booked: i32,
    pub bookings: Vec<BookingView>,
    /// Public group requests (above the station's threshold), pending ones holding no places:
    /// confirm or decline them at `/api/v1/group-requests/{id}/…`.
    pub requests: Vec<RequestView>,
}

/// A public group request, as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    pub id: i64,
    pub code: String,
    pub status: RequestStatus,
    pub stop_id: i64,
    pub organisation: String,
    pub contact_name: String,
    /// Masked.
    pub mobile: Option<String>,
    pub headcount: i32,
    /// In order of preference; empty for any slot.
    pub preferred_slots: Vec<String>,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    /// Send it in `If-Match` to confirm or decline.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn request_view_for_staff(r: group_request::Model) -> Result<RequestView, AppError> {
    Ok(RequestView {
        status: r
            .status
            .parse()
            .map_err(|e: String| AppError::Internal(anyhow::anyhow!("request {}: {e}", r.id)))?,
        id: r.id,
        preferred_slots: r
            .preferred
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        code: r.code,
        stop_id: r.stop_id,
        organisation: r.organisation,
        contact_name: r.contact_name,
        mobile: r.mobile.as_deref().map(mask_phone),
        headcount: r.headcount,
        reason: r.reason,
        decided_by: r.decided_by,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// The bookings of a drive, active and cancelled, per stop (read scope of the drive's region).
#[utoipa::path(
    get,
    path = "/drives/{id}/bookings",
    tag = "drives",
    params(DrivePath),
    responses(
        (status = 200, description = "Per stop: slots and bookings", body = DriveBookings),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such drive (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(drive_id = path.id))]
async fn drive_bookings(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<DrivePath>,
) -> Result<Json<DriveBookings>, AppError> {
    caller.require()?;
    let acting = crate::drives::Acting::caller(caller.principal.as_ref(), caller.actor());
    let drive = crate::drives::find_for(&state.db, &acting, Action::Read, path.id).await?;
    let stops = crate::drives::stops(&state.db, drive.id).await?;
    let now = Utc::now();
    let mut out = Vec::with_capacity(stops.len());
    for stop in reads::of_stops(&state.db, stops).await? {
        let bookings = stop
            .bookings
            .into_iter()
            .map(|b| booking_view(b, None, &stop.parts, &stop.slots, &stop.stop, drive.date))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(StopBookings {
            stop_id: stop.stop.id,
            name: stop.stop.name.clone(),
            booked: bookings
                .iter()
                .filter(|b| b.status == BookingStatus::Active)
                .map(|b| b.headcount)
                .sum(),
            slots: slot_views(drive.date, &stop.slots, now),
            bookings,
            requests: stop
                .requests
                .into_iter()
                .map(request_view_for_staff)
                .collect::<Result<Vec<_>, _>>()?,
        });
    }
    Ok(Json(DriveBookings {
        drive_id: drive.id,
        stops: out,
    }))
}

/// A booking's path, for staff.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StaffCodePath {
    /// The booking code (case and hyphens do not matter).
    pub code: String,
}

/// A booking by its code, with its drive, when the caller may change the drive (404 as if it
/// did not exist when the drive is beyond the caller's reach).
async fn staff_booking(
    state: &AppState,
    caller: &Caller,
    raw: &str,
) -> Result<(booking::Model, drive::Model), AppError> {
    caller.require()?;
    let code = rules::normalise_code(raw);
    let not_found = || AppError::NotFound(format!("no booking {code}"));
    let (b, drive) = reads::booking_with_drive(&state.db, &code)
        .await?
        .ok_or_else(not_found)?;
    let acting = crate::drives::Acting::caller(caller.principal.as_ref(), caller.actor());
    let drive = crate::drives::find_for(&state.db, &acting, Action::Update, drive.id)
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::NotFound(_) => not_found(),
            other => other,
        })?;
    Ok((b, drive))
}

/// The body of a staff cancellation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffCancelBody {
    /// Told to the person (`已由献血站取消（…）`) and kept in the audit log.
    pub reason: Option<String>,
}

impl From<StaffCancelBody> for StaffCancel {
    fn from(b: StaffCancelBody) -> Self {
        StaffCancel { reason: b.reason }
    }
}

/// A versioned staff change's answer: 200 with the booking and its new ETag, or 412 with the
/// booking as it is.
async fn staff_answer(
    state: &AppState,
    outcome: Outcome<service::WithParts>,
    done: &str,
) -> Result<Response, AppError> {
    let (status, (b, parts)) = match outcome {
        Outcome::Updated(changed) => {
            tracing::info!(code = %changed.0.code, "{done}");
            (StatusCode::OK, changed)
        }
        Outcome::Stale(current) => (StatusCode::PRECONDITION_FAILED, current),
    };
    let version = b.version;
    let view = holder_view(state, b, Some(parts)).await?;
    Ok(with_etag(status, version, Json(view)))
}

/// Cancels one booking (staff, within the drive's scope; `If-Match` with the booking's
/// version): its places return, its reminders are dropped, the person is told (with the
/// reason), and the change is audited.
#[utoipa::path(
    post,
    path = "/bookings/{code}/cancel",
    tag = "drives",
    params(StaffCodePath),
    request_body = StaffCancelBody,
    responses(
        (status = 200, description = "Cancelled", body = BookingView),
        (status = 400, description = "Invalid reason or If-Match (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May read the drive, not change it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled, or its slot has begun", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` named an old version: the body is the booking as it is", body = BookingView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn staff_cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StaffCodePath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<StaffCancelBody>,
) -> Result<Response, AppError> {
    let (b, _) = staff_booking(&state, &caller, &path.code).await?;
    let expected = required_if_match(&headers, "booking", b.version);
    let outcome = service::staff_cancel(
        &state.db,
        b,
        body.into(),
        expected,
        &caller.actor(),
        Utc::now(),
    )
    .await?;
    staff_answer(&state, outcome, "booking cancelled by staff").await
}

/// The body of a staff move.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffRescheduleBody {
    /// A person's new slot, `HH:MM`.
    pub slot: Option<String>,
    /// A group's new slots, spread over again (empty: any slot not begun).
    pub preferred_slots: Option<Vec<String>>,
    /// Kept in the audit log.
    pub reason: Option<String>,
}

impl From<StaffRescheduleBody> for StaffMove {
    fn from(b: StaffRescheduleBody) -> Self {
        StaffMove {
            slots: Move {
                slot: b.slot,
                preferred_slots: b.preferred_slots,
            },
            reason: b.reason,
        }
    }
}

/// Moves one booking to other slots of its stop (staff, within the drive's scope;
/// `If-Match`): as the holder's move, the person told and the change audited.
#[utoipa::path(
    post,
    path = "/bookings/{code}/reschedule",
    tag = "drives",
    params(StaffCodePath),
    request_body = StaffRescheduleBody,
    responses(
        (status = 200, description = "Moved", body = BookingView),
        (status = 400, description = "An invalid or unknown slot, reason or If-Match (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May read the drive, not change it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled, begun, or the new slots are full", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` named an old version: the body is the booking as it is", body = BookingView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn staff_reschedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StaffCodePath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<StaffRescheduleBody>,
) -> Result<Response, AppError> {
    let (b, _) = staff_booking(&state, &caller, &path.code).await?;
    let expected = required_if_match(&headers, "booking", b.version);
    let outcome = service::staff_reschedule(
        &state.db,
        b,
        body.into(),
        expected,
        &caller.actor(),
        Utc::now(),
    )
    .await?;
    staff_answer(&state, outcome, "booking moved by staff").await
}

/// A group request's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RequestPath {
    pub id: i64,
}

/// A group request, when the caller may change its drive (404 otherwise).
async fn staff_request(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<group_request::Model, AppError> {
    caller.require()?;
    let not_found = || AppError::NotFound(format!("no group request with id {id}"));
    let (r, drive) = reads::request_with_drive(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    let acting = crate::drives::Acting::caller(caller.principal.as_ref(), caller.actor());
    crate::drives::find_for(&state.db, &acting, Action::Update, drive.id)
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::NotFound(_) => not_found(),
            other => other,
        })?;
    Ok(r)
}

fn stale_request(r: group_request::Model) -> Result<Response, AppError> {
    let version = r.version;
    Ok(with_etag(
        StatusCode::PRECONDITION_FAILED,
        version,
        Json(request_view_for_staff(r)?),
    ))
}

/// The body of a confirmation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// Slots to spread the group over instead of those it asked for (empty: any slot not
    /// begun).
    pub preferred_slots: Option<Vec<String>>,
}

impl From<ConfirmBody> for Confirm {
    fn from(b: ConfirmBody) -> Self {
        Confirm {
            preferred_slots: b
                .preferred_slots
                .map(|slots| slots.into_iter().map(Into::into).collect()),
        }
    }
}

/// Confirms a group request (staff, within the drive's scope; `If-Match` with the request's
/// version): its places are taken now, all or nothing, through the same check as any
/// booking (409 naming how many are left when too few), it becomes a booking with the
/// request's code and token, the contact is told, and the change is audited.
#[utoipa::path(
    post,
    path = "/group-requests/{id}/confirm",
    tag = "drives",
    params(RequestPath),
    request_body = ConfirmBody,
    responses(
        (status = 200, description = "Confirmed: the booking it became", body = BookingView),
        (status = 400, description = "An invalid or unknown slot or If-Match (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May read the drive, not change it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too few places left, a slot has begun, the request was decided or withdrawn, or the drive is closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` named an old version: the body is the request as it is", body = RequestView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(request_id = path.id))]
async fn confirm_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RequestPath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ConfirmBody>,
) -> Result<Response, AppError> {
    let r = staff_request(&state, &caller, path.id).await?;
    let expected = required_if_match(&headers, "group request", r.version);
    let confirmed = service::confirm(
        &state.db,
        r,
        body.into(),
        expected,
        &caller.actor(),
        Utc::now(),
    )
    .await?;
    let (decided, made) = match confirmed {
        Confirmed::Done(done) => *done,
        Confirmed::Stale(r) => return stale_request(*r),
    };
    tracing::info!(code = %decided.code, headcount = decided.headcount, "group request confirmed");
    let version = made.booking.version;
    let view = holder_view(&state, made.booking, Some(made.parts)).await?;
    Ok(with_etag(StatusCode::OK, version, Json(view)))
}

/// Declines a group request (staff, within the drive's scope; `If-Match`): the contact is
/// told (with the reason), and the change is audited.
#[utoipa::path(
    post,
    path = "/group-requests/{id}/decline",
    tag = "drives",
    params(RequestPath),
    request_body = StaffCancelBody,
    responses(
        (status = 200, description = "Declined", body = RequestView),
        (status = 400, description = "Invalid reason or If-Match (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May read the drive, not change it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request was decided or withdrawn already", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` named an old version: the body is the request as it is", body = RequestView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(request_id = path.id))]
async fn decline_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RequestPath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<StaffCancelBody>,
) -> Result<Response, AppError> {
    let r = staff_request(&state, &caller, path.id).await?;
    let expected = required_if_match(&headers, "group request", r.version);
    let decided = match service::decline(
        &state.db,
        r,
        body.into(),
        expected,
        &caller.actor(),
        Utc::now(),
    )
    .await?
    {
        Outcome::Updated(decided) => decided,
        Outcome::Stale(r) => return stale_request(r),
    };
    let version = decided.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        Json(request_view_for_staff(decided)?),
    ))
}
