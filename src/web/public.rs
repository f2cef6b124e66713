//! The public pages (no account, phone first): the drives near me (by the phone's location or
//! a county and township picked from a list), a stop with its slots and the booking form (a
//! person or a group), the booking's own page reached by the link its confirmation gives (code
//! and token in the link; the token never shown), moving and cancelling it, and calendar
//! files. Every form works as a plain form post; refusals are explained in plain words beside
//! what to do next.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use entity::booking_slot;
use serde::Deserialize;

use super::context::Page;
use super::errors::PageError;
use super::forms::{self, FormFields, FormState};
use super::templates::{
    BookingCard, BookingForm, BookingPage, DrivesPage, SignupCard, SignupPage, StopCard, StopPage,
    TownshipOptions, date, html,
};
use crate::auth::caller::site_origin;
use crate::bookings::reads::{self, PlaceWithStops, ScheduledStop, SlotState};
use crate::bookings::{
    self as service, BookingsError, Found, GroupBooking, GroupOutcome, HolderCancelled, Limits,
    Move, PersonBooking, ScheduleQuery, SlotStart, Why,
};
use crate::domain::booking as rules;
use crate::drives::DrivesError;
use crate::drives::signup::{self, SignupSheet};
use crate::error::FieldError;
use crate::i18n::Lang;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/drives", get(schedule))
        .route("/drives/townships", get(townships))
        .route("/stops/{id}", get(stop_page))
        .route("/stops/{id}/book", post(book))
        .route("/stops/{id}/calendar.ics", get(stop_calendar))
        .route("/signup/{token}", get(signup_page))
        .route("/signup/{token}/book", post(signup_book))
        .route("/bookings/{code}", get(booking_page))
        .route("/bookings/{code}/move", post(move_booking))
        .route("/bookings/{code}/cancel", post(cancel_booking))
}

/// The schedule's choices, as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct Finder {
    county: Option<String>,
    township: Option<String>,
    /// `lon,lat` from the phone's location (filled by the page's script).
    near: Option<String>,
    /// The tracking code of the appeal whose link led here: carried to the stops' pages.
    via: Option<String>,
}

fn blank_to_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `GET /drives`: the announced stops of the next 30 days, all, or in the county or township
/// picked, or within 30 km of the phone.
async fn schedule(
    State(state): State<AppState>,
    page: Page,
    Query(finder): Query<Finder>,
) -> Result<Response, PageError> {
    let now = Utc::now();
    let county = blank_to_none(finder.county);
    let township = blank_to_none(finder.township)
        .filter(|t| county.as_ref().is_some_and(|c| t.starts_with(&c[..6])));
    let near = blank_to_none(finder.near);
    let query = ScheduleQuery {
        near: near.clone(),
        region: township.clone().or_else(|| county.clone()),
        ..ScheduleQuery::default()
    };
    let lang = page.lang;
    let (stops, problem, window) = match query.checked(now) {
        Ok(asked) => {
            let window = (asked.from, asked.to);
            match reads::public_schedule(&state.db, &asked).await {
                Ok(found) => (found, String::new(), window),
                Err(BookingsError::Invalid(_) | BookingsError::InvalidField { .. }) => {
                    (vec![], lang.t("drives-bad-place"), window)
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(_) => {
            let today = rules::today_in_china(now);
            (vec![], lang.t("drives-bad-place"), (today, today))
        }
    };
    let places = reads::places_with_stops(&state.db, window.0, window.1).await?;
    let townships = townships_of(&places, county.as_deref());
    let place_name = township
        .as_deref()
        .and_then(|t| townships.iter().find(|p| p.code == t))
        .or_else(|| {
            county
                .as_deref()
                .and_then(|c| places.iter().map(|(p, _)| p).find(|p| p.code == c))
        })
        .map(|p| p.name.clone());
    let heading = match (&near, place_name) {
        (Some(_), _) => lang.t("drives-heading-near"),
        (None, Some(name)) => lang.t1("drives-heading-in", "place", name),
        (None, None) => lang.t("drives-heading-all"),
    };
    let cards = stops
        .iter()
        .map(|(s, distance)| card(lang, s, *distance, now))
        .collect();
    let body = DrivesPage {
        page: &page,
        counties: places.iter().map(|(c, _)| c.clone()).collect(),
        townships,
        county: county.unwrap_or_default(),
        township: township.unwrap_or_default(),
        near: near.unwrap_or_default(),
        heading,
        stops: cards,
        problem,
        via: finder
            .via
            .as_deref()
            .and_then(crate::domain::appeal::normalize_code)
            .map(|code| format!("?via={code}"))
            .unwrap_or_default(),
    };
    Ok(html(&body))
}

fn townships_of(
    places: &[(PlaceWithStops, Vec<PlaceWithStops>)],
    county: Option<&str>,
) -> Vec<PlaceWithStops> {
    county
        .and_then(|c| places.iter().find(|(p, _)| p.code == c))
        .map(|(_, t)| t.clone())
        .unwrap_or_default()
}

/// `GET /drives/townships?county=`: the township choices of a county (htmx swaps them in).
async fn townships(
    State(state): State<AppState>,
    page: Page,
    Query(finder): Query<Finder>,
) -> Result<Response, PageError> {
    let today = rules::today_in_china(Utc::now());
    let places =
        reads::places_with_stops(&state.db, today, today + chrono::Duration::days(30)).await?;
    let county = blank_to_none(finder.county);
    let body = TownshipOptions {
        page: &page,
        townships: townships_of(&places, county.as_deref()),
        township: String::new(),
    };
    Ok(html(&body))
}

/// A stop as a card, at `now`.
fn card(
    lang: Lang,
    s: &ScheduledStop,
    distance_km: Option<f64>,
    now: chrono::DateTime<Utc>,
) -> StopCard {
    let places_left = reads::slot_states(s.drive.date, &s.slots, now)
        .iter()
        .filter(|slot| slot.open)
        .map(|slot| slot.places_left)
        .sum();
    StopCard {
        id: s.stop.id,
        date: date(lang, s.drive.date),
        name: s.stop.name.clone(),
        address: s.place.0.clone().unwrap_or_default(),
        opens: rules::clock(s.stop.planned_start),
        closes: rules::clock(s.stop.planned_end),
        places_left,
        distance: distance_km
            .map(|km| lang.t1("distance-km", "km", format!("{km:.1}")))
            .unwrap_or_default(),
    }
}

/// The stop `id` as announced (404 when it is not; a page saying bookings are closed when its
/// drive is over or cancelled).
async fn announced(state: &AppState, page: &Page, id: i64) -> Result<ScheduledStop, PageError> {
    match service::open_stop(&state.db, id).await {
        Ok(open) => {
            let place = reads::place_of(&state.db, &open.stop).await?;
            Ok(ScheduledStop {
                drive: open.drive,
                stop: open.stop,
                place,
                slots: open.slots,
            })
        }
        Err(BookingsError::Conflict { .. }) => Err(PageError::Said(
            StatusCode::CONFLICT,
            page.t("refused-closed"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The stop page's query: `via`, the tracking code of the appeal whose link was followed.
#[derive(Debug, Default, Deserialize)]
pub struct StopQuery {
    via: Option<String>,
}

/// `GET /stops/{id}`: the stop, its slots with the places left, and the booking form (which
/// carries the appeal's tracking code, `via`, when the link had one).
async fn stop_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(query): Query<StopQuery>,
) -> Result<Response, PageError> {
    let scheduled = announced(&state, &page, id).await?;
    let form = match blank_to_none(query.via) {
        Some(via) => BookingForm(FormState::new(FormFields::of(&[("via", via)]))),
        None => BookingForm::default(),
    };
    Ok(stop_form(&page, &scheduled, form, String::new()))
}

fn stop_form(page: &Page, s: &ScheduledStop, form: BookingForm, problem: String) -> Response {
    let now = Utc::now();
    let body = StopPage {
        page,
        stop: card(page.lang, s, None, now),
        slots: reads::slot_states(s.drive.date, &s.slots, now),
        form,
        problem,
    };
    html(&body)
}

/// 429 (in words) when this address has booked too often this minute (the API's limit,
/// counted in the database across every instance).
pub(super) async fn rate_limited(state: &AppState, page: &Page) -> Result<(), PageError> {
    match crate::bookings::throttle::public_request(
        &state.db,
        &page.caller.address,
        state.http.booking_rate_limit,
        chrono::Utc::now(),
    )
    .await
    {
        Err(crate::bookings::BookingsError::TooOften { .. }) => Err(PageError::Said(
            StatusCode::TOO_MANY_REQUESTS,
            page.t("refused-too-often"),
        )),
        Err(other) => Err(PageError::from(other)),
        Ok(()) => Ok(()),
    }
}

/// The sentence a refusal of a booking change reads as, and its status.
fn refusal(page: &Page, err: &BookingsError) -> Option<(StatusCode, String)> {
    let lang = page.lang;
    Some(match err {
        BookingsError::NotYetEligible {
            last_donation,
            next_eligible,
        } => (
            StatusCode::CONFLICT,
            lang.tn(
                "refused-not-eligible",
                &[
                    ("last", date(lang, *last_donation).into()),
                    ("next", date(lang, *next_eligible).into()),
                ],
            ),
        ),
        BookingsError::Conflict { why, .. } => (
            StatusCode::CONFLICT,
            lang.t(match why {
                Why::Full => "refused-full",
                Why::Begun => "refused-begun",
                Why::Duplicate => "refused-duplicate",
                Why::Closed => "refused-closed",
                Why::Cancelled => "refused-cancelled",
                Why::Changed => "refused-changed",
                Why::Other => "refused-other",
            }),
        ),
        BookingsError::Limit { .. } => (StatusCode::CONFLICT, lang.t("refused-limit")),
        _ => return None,
    })
}

/// Field errors as the booking form shows them (`hint-mobile`; see [`forms::field_errors`]).
fn field_errors(page: &Page, errors: &[FieldError]) -> Vec<(String, String)> {
    forms::field_errors(page, "", errors)
}

/// `POST /stops/{id}/book`: books a person or a group; on success, on to the booking's page
/// (its link carries the token); else the form again with what to change.
async fn book(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    rate_limited(&state, &page).await?;
    let now = Utc::now();
    let limits = Limits::from_config(&state.http);
    let address = page.caller.address.clone();
    let group = form.get("kind").as_deref() == Some("group");
    let outcome = if group {
        let headcount = form.get("headcount").unwrap_or_default();
        let parsed = headcount.parse::<i32>();
        let cmd = GroupBooking {
            organisation: form.get("organisation").unwrap_or_default(),
            contact_name: form.get("contact_name").unwrap_or_default(),
            contact_mobile: form.get("contact_mobile").unwrap_or_default(),
            headcount: parsed.clone().unwrap_or(0),
            preferred_slots: form
                .all("preferred_slots")
                .into_iter()
                .map(SlotStart)
                .collect(),
            via: form.get("via"),
        };
        service::book_group_at(&state.db, id, cmd, &address, limits, now)
            .await
            .map(|(_, outcome)| match outcome {
                GroupOutcome::Booked(made) => (made.booking.code, made.token),
                GroupOutcome::Requested { request, token } => (request.code, token),
            })
            .map_err(|e| match (e, parsed.is_err() && !headcount.is_empty()) {
                (BookingsError::Invalid(mut fields), true) => {
                    fields.retain(|f| f.field != "headcount");
                    fields.push(FieldError::new("headcount", "must be a number"));
                    BookingsError::Invalid(fields)
                }
                (e, _) => e,
            })
    } else {
        let cmd = PersonBooking {
            name: form.get("name").unwrap_or_default(),
            mobile: form.get("mobile").unwrap_or_default(),
            blood_type: form.get("blood_type"),
            slot: form.get("slot").unwrap_or_default(),
            via: form.get("via"),
        };
        service::book_person_at(&state.db, id, cmd, &address, limits, now)
            .await
            .map(|(_, made)| (made.booking.code, made.token))
    };
    match outcome {
        Ok((code, token)) => {
            tracing::info!(stop_id = id, code = %code, "booked from the page");
            Ok(
                Redirect::to(&format!("{}&done=booked", manage_link(&code, &token)))
                    .into_response(),
            )
        }
        Err(err) => {
            let (status, errors, problem) = match &err {
                BookingsError::Invalid(fields) => (
                    StatusCode::BAD_REQUEST,
                    field_errors(&page, fields),
                    page.t("refused-fields"),
                ),
                BookingsError::InvalidField { field, message } => (
                    StatusCode::BAD_REQUEST,
                    field_errors(&page, &[FieldError::new(field.as_str(), message.as_str())]),
                    page.t("refused-fields"),
                ),
                other => match refusal(&page, other) {
                    Some((status, sentence)) => (status, vec![], sentence),
                    None => return Err(err.into()),
                },
            };
            // The places as they are now, beside the form as it was typed.
            let scheduled = announced(&state, &page, id).await?;
            let mut response = stop_form(
                &page,
                &scheduled,
                BookingForm(FormState {
                    values: form,
                    errors,
                }),
                problem,
            );
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// The sign-up sheet a link's token opens (404 in words for a token that opens nothing).
async fn sheet_of(state: &AppState, page: &Page, token: &str) -> Result<SignupSheet, PageError> {
    match signup::sheet(&state.db, token).await {
        Ok(sheet) => Ok(sheet),
        Err(DrivesError::NotFound(_)) => Err(PageError::Said(
            StatusCode::NOT_FOUND,
            page.t("signup-not-found"),
        )),
        Err(e) => Err(e.into()),
    }
}

fn signup_form(
    page: &Page,
    sheet: SignupSheet,
    token: &str,
    form: BookingForm,
    problem: String,
) -> Response {
    let now = Utc::now();
    let open = sheet.open();
    let body = SignupPage {
        page,
        slots: reads::slot_states(sheet.drive.date, &sheet.slots, now),
        sheet: SignupCard {
            address: sheet.host.address.clone().unwrap_or_default(),
            host: sheet.host.name,
            date: date(page.lang, sheet.drive.date),
            opens: rules::clock(sheet.stop.planned_start),
            closes: rules::clock(sheet.stop.planned_end),
            goal: sheet.goal,
            signed_up: sheet.signed_up,
            open,
        },
        token: token.to_owned(),
        form,
        problem,
    };
    let mut response = html(&body);
    // The token is the key to the page: not kept by caches (the pages' Referrer-Policy,
    // `same-origin`, keeps it from other sites).
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /signup/{token}`: a group drive's sign-up page, from the host contact's private link:
/// the host, the stop's day and times, the goal and who signed up so far (names masked), and
/// the form where each colleague books their own place.
async fn signup_page(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let sheet = sheet_of(&state, &page, &token).await?;
    Ok(signup_form(
        &page,
        sheet,
        &token,
        BookingForm::default(),
        String::new(),
    ))
}

/// `POST /signup/{token}/book`: one colleague books their own place (the person booking of
/// the bookings service, as on a stop's page); on success, on to the booking's page; else the
/// sign-up page again with what to change.
async fn signup_book(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    rate_limited(&state, &page).await?;
    let sheet = sheet_of(&state, &page, &token).await?;
    let now = Utc::now();
    let cmd = PersonBooking {
        name: form.get("name").unwrap_or_default(),
        mobile: form.get("mobile").unwrap_or_default(),
        blood_type: form.get("blood_type"),
        slot: form.get("slot").unwrap_or_default(),
        via: None,
    };
    let limits = Limits::from_config(&state.http);
    let address = page.caller.address.clone();
    match service::book_person_at(&state.db, sheet.stop.id, cmd, &address, limits, now).await {
        Ok((_, made)) => {
            tracing::info!(stop_id = sheet.stop.id, "signed up from a host's link");
            Ok(Redirect::to(&format!(
                "{}&done=booked",
                manage_link(&made.booking.code, &made.token)
            ))
            .into_response())
        }
        Err(err) => {
            let (status, errors, problem) = match &err {
                BookingsError::Invalid(fields) => (
                    StatusCode::BAD_REQUEST,
                    field_errors(&page, fields),
                    page.t("refused-fields"),
                ),
                BookingsError::InvalidField { field, message } => (
                    StatusCode::BAD_REQUEST,
                    field_errors(&page, &[FieldError::new(field.as_str(), message.as_str())]),
                    page.t("refused-fields"),
                ),
                other => match refusal(&page, other) {
                    Some((status, sentence)) => (status, vec![], sentence),
                    None => return Err(err.into()),
                },
            };
            // The sign-ups and places as they are now, beside the form as it was typed.
            let sheet = sheet_of(&state, &page, &token).await?;
            let mut response = signup_form(
                &page,
                sheet,
                &token,
                BookingForm(FormState {
                    values: form,
                    errors,
                }),
                problem,
            );
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// The booking page's address: the code, and the token in the query (never shown on the page
/// for copying; the page says to keep the link).
fn manage_link(code: &str, token: &str) -> String {
    rules::manage_path(code, token)
}

#[derive(Debug, Default, Deserialize)]
pub struct Holder {
    /// The token the booking was made with.
    t: Option<String>,
    /// What just happened: `booked`, `moved` or `cancelled`.
    done: Option<String>,
}

/// `GET /bookings/{code}?t=`: the booking for its holder (404 in words for a wrong code or
/// token, which say no more than each other).
async fn booking_page(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(holder): Query<Holder>,
) -> Result<Response, PageError> {
    let token = holder.t.unwrap_or_default();
    let notice = match holder.done.as_deref() {
        Some("booked") => page.t("notice-booked"),
        Some("moved") => page.t("notice-moved"),
        Some("cancelled") => page.t("notice-cancelled"),
        _ => String::new(),
    };
    let found = held(&state, &page, &code, &token).await?;
    holder_page(&state, &page, found, &token, notice, String::new()).await
}

async fn held(state: &AppState, page: &Page, code: &str, token: &str) -> Result<Found, PageError> {
    match service::find_held(&state.db, code, token).await {
        Ok(found) => Ok(found),
        Err(BookingsError::NotFound(_)) => Err(PageError::Said(
            StatusCode::NOT_FOUND,
            page.t("booking-not-found"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The holder's page for what `found` names.
async fn holder_page(
    state: &AppState,
    page: &Page,
    found: Found,
    token: &str,
    notice: String,
    problem: String,
) -> Result<Response, PageError> {
    let now = Utc::now();
    let lang = page.lang;
    let (card_of_booking, stop) = match found {
        Found::Booking(b) => {
            let held = reads::held(&state.db, b, None).await?;
            let group = held.booking.kind == rules::BookingKind::Group.as_str();
            let cancelled = held.booking.status != rules::BookingStatus::Active.as_str();
            let mut held_slots: Vec<&booking_slot::Model> = held
                .parts
                .iter()
                .filter_map(|p| held.slots.iter().find(|s| s.id == p.slot_id))
                .collect();
            held_slots.sort_by_key(|s| s.starts);
            let begun = held_slots
                .first()
                .is_some_and(|s| now >= rules::instant(held.date, s.starts));
            let slots = held
                .parts
                .iter()
                .filter_map(|p| {
                    let s = held.slots.iter().find(|s| s.id == p.slot_id)?;
                    let times = format!("{}–{}", rules::clock(s.starts), rules::clock(s.ends));
                    Some(if group {
                        lang.tn(
                            "booking-slot-places",
                            &[("times", times.into()), ("count", p.places.into())],
                        )
                    } else {
                        times
                    })
                })
                .collect();
            let who = match &held.booking.organisation {
                Some(org) if group => format!("{org} · {}", held.booking.name),
                _ => held.booking.name.clone(),
            };
            (
                BookingCard {
                    code: held.booking.code.clone(),
                    who,
                    group,
                    requested: false,
                    cancelled,
                    headcount: held.booking.headcount,
                    slots,
                    starts: held_slots.iter().map(|s| rules::clock(s.starts)).collect(),
                    changeable: !cancelled && !begun,
                },
                held.stop,
            )
        }
        Found::Request(r) => {
            let (r, stop, _) = reads::request_at(&state.db, r).await?;
            let pending = r.status == rules::RequestStatus::Pending.as_str();
            (
                BookingCard {
                    code: r.code.clone(),
                    who: format!("{} · {}", r.organisation, r.contact_name),
                    group: true,
                    requested: pending,
                    cancelled: !pending,
                    headcount: r.headcount,
                    slots: vec![],
                    starts: vec![],
                    changeable: false,
                },
                stop,
            )
        }
    };
    let scheduled = reads::stop_with_all(&state.db, stop.id).await?;
    let body = BookingPage {
        page,
        stop: card(lang, &scheduled, None, now),
        slots: reads::slot_states(scheduled.drive.date, &scheduled.slots, now)
            .into_iter()
            .filter(|s: &SlotState| s.open)
            .collect(),
        booking: card_of_booking,
        token: token.to_owned(),
        notice,
        problem,
    };
    Ok(html(&body))
}

/// `POST /bookings/{code}/move`: a person to `slot`, a group over `preferred_slots`.
async fn move_booking(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    rate_limited(&state, &page).await?;
    let token = form.get("t").unwrap_or_default();
    let Found::Booking(booking) = held(&state, &page, &code, &token).await? else {
        return Err(PageError::Said(
            StatusCode::CONFLICT,
            page.t("refused-request-move"),
        ));
    };
    let wanted = if booking.kind == rules::BookingKind::Group.as_str() {
        Move {
            slot: None,
            preferred_slots: Some(form.all("preferred_slots")),
        }
    } else {
        Move {
            slot: form.get("slot"),
            preferred_slots: None,
        }
    };
    let limits = Limits::from_config(&state.http);
    let moved =
        service::holder_reschedule(&state.db, &booking, &token, &wanted, &limits, Utc::now());
    match moved.await {
        Ok(_) => Ok(Redirect::to(&format!(
            "{}&done=moved",
            manage_link(&booking.code, &token)
        ))
        .into_response()),
        Err(err) => {
            let (status, problem) = match &err {
                BookingsError::Invalid(_) | BookingsError::InvalidField { .. } => {
                    (StatusCode::BAD_REQUEST, page.t("refused-pick-slot"))
                }
                other => refusal(&page, other).ok_or(err)?,
            };
            let found = held(&state, &page, &code, &token).await?;
            let mut response =
                holder_page(&state, &page, found, &token, String::new(), problem).await?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// `POST /bookings/{code}/cancel`.
async fn cancel_booking(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    rate_limited(&state, &page).await?;
    let token = form.get("t").unwrap_or_default();
    let cap = state.http.messages_per_recipient_per_day;
    match service::holder_cancel(&state.db, &code, &token, cap, Utc::now()).await {
        Ok(done) => {
            let code = match done {
                HolderCancelled::Booking((b, _)) => b.code,
                HolderCancelled::Request(r) => r.code,
            };
            Ok(
                Redirect::to(&format!("{}&done=cancelled", manage_link(&code, &token)))
                    .into_response(),
            )
        }
        Err(BookingsError::NotFound(_)) => Err(PageError::Said(
            StatusCode::NOT_FOUND,
            page.t("booking-not-found"),
        )),
        Err(err) => {
            let (status, problem) = refusal(&page, &err).ok_or(err)?;
            let found = held(&state, &page, &code, &token).await?;
            let mut response =
                holder_page(&state, &page, found, &token, String::new(), problem).await?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// `GET /stops/{id}/calendar.ics`: the stop as a calendar event, linking back to its page.
async fn stop_calendar(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let scheduled = announced(&state, &page, id).await?;
    let site = site_origin(&headers, &state.http);
    let body = service::calendar::calendar(&[&scheduled], page.lang, &site, Utc::now());
    let disposition = format!("attachment; filename=\"stop-{id}.ics\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response())
}
