//! Bookings as a service (issue 6): opening a published drive's slots, booking a person or a
//! group, moving and cancelling bookings, and cancelling everyone when a drive is called off.
//! Each runs in one write transaction, with its messages written to the outbox in the same
//! transaction (`crate::outbox`), so a booking and its confirmation exist together or not at
//! all.
//!
//! Capacity: places are taken with the conditional update of `store::bookings::take`, after
//! the drive's row is read with a shared lock, so a booking racing a cancellation either
//! lands before it (and is cancelled with the rest) or sees the drive cancelled.
//!
//! Abuse of the anonymous booking (issue 12): a public group above its station's
//! `group_request_threshold` is a *request* that holds no places until staff confirm it
//! ([`confirm_request`], which takes the places through the same conditional update, or
//! refuses 409 when they are gone) or decline it; the places one mobile and one client
//! address hold through the public endpoints are capped ([`Limits`]); messages caused by
//! public requests beyond a recipient's daily cap are recorded `suppressed`, never sent.
//! Staff may cancel or move any single booking within their scope (audited, the person
//! notified).
//!
//! The API hands in the service's own commands ([`commands`]: `PersonBooking`,
//! `GroupBooking`, `Move`, `StaffCancel`, `StaffMove`, `Confirm`, `ScheduleQuery`), whose field
//! rules are `validator` rules naming the fields as the answers always did; the entry points
//! that take them ([`book_person_at`], [`book_group_at`], [`holder_reschedule`],
//! [`holder_cancel`], [`staff_cancel`], [`staff_reschedule`], [`confirm`], [`decline`]) check
//! the fields first, then the `If-Match` the handler read, then the rules that need the
//! database. Staff changes to one booking go through [`crate::versioned::update`] (stale:
//! the booking as it is). What the pages show is read in [`reads`].

pub mod commands;
mod error;
pub mod reads;

pub use error::{BookingsError, Why};

pub mod calendar;
pub mod throttle;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{booking, booking_part, booking_slot, drive, drive_stop, group_request};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, SqlErr};
use serde::Serialize;

use crate::auth::secret;
use crate::domain::booking::{
    self as rules, BookingKind, BookingStatus, MessageFacts, MessageKind, RequestStatus, SlotPlan,
};
use crate::domain::drive::DriveStatus;
use crate::store::audit::{self, Actor, Change};
use crate::store::bookings::{self as store, Decision, NewBooking, NewRequest};
use crate::store::outbox::{self, NewMessage};
use crate::store::{fleet, points};
use crate::versioned::{self, Outcome, Versioned};

pub use commands::{
    Confirm, GroupBooking, GroupRequest, Move, PersonBooking, PersonRequest, Schedule,
    ScheduleQuery, SlotStart, StaffCancel, StaffMove,
};

impl Versioned for booking::Model {
    fn version(&self) -> i32 {
        self.version
    }
}

/// What the public booking may do (from `HttpConfig`; 0 turns a cap off), and where its
/// messages send the donor back to.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Places one mobile may hold through the public endpoints.
    pub places_per_mobile: u32,
    /// Places one client address may hold through the public endpoints.
    pub places_per_address: u32,
    /// Messages caused by public requests one recipient may be given in 24 hours.
    pub messages_per_day: u32,
    /// The deployment's public address (`--public-url`, `https://host`): when set, the
    /// messages written as a booking is made or moved by its holder carry the link to its page.
    pub public_url: Option<String>,
}

impl Limits {
    pub fn from_config(http: &crate::config::HttpConfig) -> Self {
        Limits {
            places_per_mobile: http.booking_places_per_mobile,
            places_per_address: http.booking_places_per_address,
            messages_per_day: http.messages_per_recipient_per_day,
            public_url: http.public_url.clone(),
        }
    }

    /// The link to the page that manages booking `code` (made or moved with `token`), when
    /// the public address is known. Only for the message written then: the token is never
    /// stored in clear.
    fn link(&self, code: &str, token: &str) -> Option<String> {
        self.public_url
            .as_deref()
            .map(|site| rules::manage_url(site, code, token))
    }
}

pub use crate::domain::donation::DONATION_INTERVAL_DAYS;
/// Attempts at a group booking whose places changed under it.
const GROUP_ATTEMPTS: usize = 3;

/// Creates the slots of every stop of `drive` (when it is published), from its vehicle's
/// beds, donors per bed-hour and slot length.
///
/// # Errors
/// The database fails.
pub async fn open_slots(
    txn: &DatabaseTransaction,
    drive: &drive::Model,
    stops: &[drive_stop::Model],
) -> Result<usize, BookingsError> {
    let vehicle = fleet::find_vehicle(txn, drive.vehicle_id)
        .await?
        .ok_or_else(|| {
            BookingsError::Internal(anyhow::anyhow!(
                "drive {}: vehicle {} is gone",
                drive.id,
                drive.vehicle_id
            ))
        })?;
    let mut made = 0;
    for stop in stops {
        let plans: Vec<SlotPlan> = rules::slots(
            stop.planned_start,
            stop.planned_end,
            vehicle.beds,
            vehicle.donors_per_bed_hour,
            vehicle.slot_minutes,
        );
        made += plans.len();
        store::create_slots(txn, stop.id, &plans).await?;
    }
    Ok(made)
}

/// Someone whose booking a cancelled drive took with it.
#[derive(Debug, Clone)]
pub struct Cancelled {
    pub booking: booking::Model,
    pub stop_id: i64,
}

/// Cancels every active booking of `drive`'s stops, voids their reminders and writes each a
/// cancellation notice with `reason`. Call it in the transaction that cancels the drive,
/// after the drive's row is updated (bookings in flight have then landed).
///
/// # Errors
/// The database fails.
pub async fn cancel_all(
    txn: &DatabaseTransaction,
    drive: &drive::Model,
    stops: &[drive_stop::Model],
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Cancelled>, BookingsError> {
    let ids: Vec<i64> = stops.iter().map(|s| s.id).collect();
    let active = store::of_stops(txn, &ids, true).await?;
    let parts = store::parts_of(txn, &active.iter().map(|b| b.id).collect::<Vec<_>>()).await?;
    let slots = store::slots_of(txn, &ids).await?;
    let mut out = Vec::with_capacity(active.len());
    for b in active {
        let Some(cancelled) = store::cancel_if_version(txn, b.id, b.version, now).await? else {
            continue;
        };
        // A cancelled booking holds no places, whatever cancelled it.
        for p in parts.iter().filter(|p| p.booking_id == b.id) {
            store::release(txn, p.slot_id, p.places).await?;
        }
        outbox::void_pending(txn, b.id).await?;
        let stop = stops
            .iter()
            .find(|s| s.id == b.stop_id)
            .expect("the booking was found by its stop");
        let first = first_start(&parts, &slots, b.id).unwrap_or(stop.planned_start);
        let open = OpenStop {
            stop: stop.clone(),
            drive: drive.clone(),
            address: address_of(txn, stop).await?,
            slots: Vec::new(),
            group_request_threshold: rules::DEFAULT_GROUP_REQUEST_THRESHOLD,
        };
        let mut facts = facts(&cancelled, &open, first);
        facts.reason = Some(reason.to_owned());
        write_message(
            txn,
            &cancelled,
            MessageKind::Cancellation,
            None,
            &facts,
            0,
            now,
        )
        .await?;
        out.push(Cancelled {
            stop_id: stop.id,
            booking: cancelled,
        });
    }
    Ok(out)
}

/// The start (minutes) of the first slot a booking holds places in.
fn first_start(
    parts: &[booking_part::Model],
    slots: &[booking_slot::Model],
    booking_id: i64,
) -> Option<i32> {
    parts
        .iter()
        .filter(|p| p.booking_id == booking_id)
        .filter_map(|p| slots.iter().find(|s| s.id == p.slot_id))
        .map(|s| s.starts)
        .min()
}

/// What a message about `booking` says. Owns its address.
pub struct Facts {
    name: String,
    code: String,
    stop: String,
    address: Option<String>,
    date: NaiveDate,
    starts: i32,
    headcount: i32,
    pub reason: Option<String>,
    /// The link to manage the booking, when known ([`Limits::link`]).
    link: Option<String>,
    /// The site's public address, when known: the withdrawal link a donor on the roster is
    /// sent is then absolute (else the path alone).
    site: Option<String>,
}

impl Facts {
    fn view(&self) -> MessageFacts<'_> {
        MessageFacts {
            name: &self.name,
            code: &self.code,
            stop: &self.stop,
            address: self.address.as_deref(),
            date: self.date,
            starts: self.starts,
            headcount: self.headcount,
            reason: self.reason.as_deref(),
            link: self.link.as_deref(),
        }
    }
}

/// The address of a stop's point, for messages.
async fn address_of(
    db: &impl ConnectionTrait,
    stop: &drive_stop::Model,
) -> Result<Option<String>, DbErr> {
    Ok(match stop.point_id {
        Some(id) => points::find(db, id).await?.and_then(|p| p.address),
        None => None,
    })
}

fn facts(booking: &booking::Model, open: &OpenStop, starts: i32) -> Facts {
    Facts {
        name: booking.name.clone(),
        code: booking.code.clone(),
        stop: open.stop.name.clone(),
        address: open.address.clone(),
        date: open.drive.date,
        starts,
        headcount: booking.headcount,
        reason: None,
        link: None,
        site: None,
    }
}

/// Writes a message about `booking`; beyond `cap` messages to its recipient in 24 hours
/// (0: no cap) it is recorded `suppressed`.
async fn write_message(
    db: &impl ConnectionTrait,
    booking: &booking::Model,
    kind: MessageKind,
    version: Option<i32>,
    facts: &Facts,
    cap: u32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let Some(mobile) = &booking.mobile else {
        return Ok(());
    };
    let mut body = rules::message_body(kind, &facts.view());
    // A donor on the roster can withdraw from a link in every message.
    if let Some(line) =
        crate::recruitment::roster::withdraw_line(db, mobile, facts.site.as_deref(), now).await?
    {
        body.push_str(&line);
    }
    outbox::enqueue_capped(
        db,
        NewMessage {
            dedupe_key: outbox::booking_key(booking.id, kind, version),
            kind,
            booking_id: Some(booking.id),
            request_id: None,
            recipient: mobile.clone(),
            body,
        },
        cap,
        now,
    )
    .await?;
    Ok(())
}

/// A stop open for booking, with its drive and slots.
#[derive(Debug, Clone)]
pub struct OpenStop {
    pub stop: drive_stop::Model,
    pub drive: drive::Model,
    /// The stop's point's address, for messages.
    pub address: Option<String>,
    pub slots: Vec<booking_slot::Model>,
    /// Public groups above this many people are requests (the vehicle's station's setting).
    pub group_request_threshold: i32,
}

/// Loads stop `id` for booking: 404 when there is no such stop or its drive is not announced
/// (a draft is not public), 409 when its drive is over or cancelled.
///
/// # Errors
/// As above, or the database fails.
pub async fn open_stop(db: &DatabaseConnection, id: i64) -> Result<OpenStop, BookingsError> {
    let not_found = || BookingsError::NotFound(format!("no announced stop with id {id}"));
    let (stop, drive) = store::stop_with_drive(db, id)
        .await?
        .ok_or_else(not_found)?;
    let status: DriveStatus = drive
        .status
        .parse()
        .map_err(|e: String| BookingsError::internal(format!("drive {}: {e}", drive.id)))?;
    match status {
        DriveStatus::Draft => return Err(not_found()),
        DriveStatus::Completed => {
            return Err(BookingsError::conflict(
                Why::Closed,
                format!("the drive of stop {id} is over; bookings are closed"),
            ));
        }
        DriveStatus::Cancelled => {
            return Err(BookingsError::conflict(
                Why::Closed,
                format!(
                    "the drive of stop {id} was cancelled ({})",
                    drive.cancel_reason.as_deref().unwrap_or("no reason given")
                ),
            ));
        }
        DriveStatus::Published | DriveStatus::InProgress => {}
    }
    let slots = store::slots_of(db, &[stop.id]).await?;
    let address = address_of(db, &stop).await?;
    let group_request_threshold = fleet::find_vehicle_with_station(db, drive.vehicle_id)
        .await?
        .map_or(rules::DEFAULT_GROUP_REQUEST_THRESHOLD, |(_, s)| {
            s.group_request_threshold
        });
    Ok(OpenStop {
        stop,
        drive,
        address,
        slots,
        group_request_threshold,
    })
}

/// The slot of `stop` starting at `starts` (minutes), open at `now`: 400 naming `field` when
/// there is none, 409 when it has begun.
fn open_slot<'a>(
    open: &'a OpenStop,
    starts: i32,
    field: &str,
    now: DateTime<Utc>,
) -> Result<&'a booking_slot::Model, BookingsError> {
    let slot = open
        .slots
        .iter()
        .find(|s| s.starts == starts)
        .ok_or_else(|| {
            let all: Vec<String> = open.slots.iter().map(|s| rules::clock(s.starts)).collect();
            BookingsError::invalid(
                field,
                format!(
                    "stop {} has no slot at {}; its slots start at {}",
                    open.stop.id,
                    rules::clock(starts),
                    all.join(", ")
                ),
            )
        })?;
    if now >= rules::instant(open.drive.date, slot.starts) {
        return Err(BookingsError::conflict(
            Why::Begun,
            format!(
                "the {} slot has begun; choose a later one",
                rules::clock(slot.starts)
            ),
        ));
    }
    Ok(slot)
}

/// A mobile's next eligible date, when its last donation (recorded at a completed drive)
/// was less than [`DONATION_INTERVAL_DAYS`] before `date`.
///
/// # Errors
/// The database fails.
pub async fn next_eligible(
    db: &impl ConnectionTrait,
    mobile: &str,
    date: NaiveDate,
) -> Result<Option<(NaiveDate, NaiveDate)>, DbErr> {
    let Some(last) = store::last_donation(db, mobile).await? else {
        return Ok(None);
    };
    let next = last + Duration::days(DONATION_INTERVAL_DAYS);
    Ok((date < next).then_some((last, next)))
}

/// A booking made: the record, its parts, and the token (shown once).
#[derive(Debug, Clone)]
pub struct Made {
    pub booking: booking::Model,
    pub parts: Vec<booking_part::Model>,
    pub token: String,
}

fn conflict_on_duplicate(e: DbErr, stop_id: i64) -> BookingsError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(m)) if m.contains("mobile") => duplicate(stop_id),
        _ => e.into(),
    }
}

fn duplicate(stop_id: i64) -> BookingsError {
    BookingsError::conflict(
        Why::Duplicate,
        format!(
            "this mobile already has an active booking at stop {stop_id}; change or cancel it with its code and token"
        ),
    )
}

/// Refuses a mobile that gave blood too recently. (One that booked here already is refused
/// by the unique index on `(stop_id, active_mobile)` when its booking is inserted.)
async fn admissible(
    db: &impl ConnectionTrait,
    open: &OpenStop,
    mobile: &str,
) -> Result<(), BookingsError> {
    if let Some((last, next)) = next_eligible(db, mobile, open.drive.date).await? {
        return Err(BookingsError::NotYetEligible {
            last_donation: last,
            next_eligible: next,
        });
    }
    Ok(())
}

fn new_secrets() -> Result<(String, String), BookingsError> {
    let mut bytes = [0u8; rules::CODE_LEN];
    getrandom::fill(&mut bytes).map_err(|e| BookingsError::internal(format!("random: {e}")))?;
    let token = secret::random_hex().map_err(BookingsError::Internal)?;
    Ok((rules::booking_code(&bytes), token))
}

/// Books one person into a slot.
///
/// # Errors
/// 409 when the slot is full, begun, the mobile booked this stop already or gave blood too
/// recently, or the drive was cancelled meanwhile; 400 for an unknown slot.
pub async fn book_person(
    db: &DatabaseConnection,
    open: &OpenStop,
    request: PersonRequest,
    address: &str,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<Made, BookingsError> {
    let slot = open_slot(open, request.slot, "slot", now)?;
    admissible(db, open, &request.mobile).await?;
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    let made = person_in(&txn, open, slot, request, Some(address), limits, now).await?;
    txn.commit().await?;
    Ok(made)
}

/// A person booked by staff inside the caller's write transaction (a recruiter booking a
/// donor on the phone, `recruitment::calls::book_from_call`): the fields checked, the slot
/// open, the 180-day rule, the place taken by the conditional update, the booking with no
/// client address (staff bookings count against no public cap), its confirmation message
/// (with the manage link when `public_url` is known), and the audit record as `actor`'s
/// booking. The caller commits; on an error it drops the transaction, so nothing is written.
///
/// # Errors
/// Invalid fields (400); as [`book_person`].
pub async fn book_person_in(
    txn: &DatabaseTransaction,
    open: &OpenStop,
    cmd: PersonBooking,
    actor: &Actor,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Made, BookingsError> {
    let request = cmd.checked().map_err(invalid)?;
    let slot = open_slot(open, request.slot, "slot", now)?;
    admissible(txn, open, &request.mobile).await?;
    let limits = Limits {
        public_url: public_url.map(str::to_owned),
        ..Limits::default()
    };
    let made = person_in(txn, open, slot, request, None, &limits, now).await?;
    audit::record(
        txn,
        Change {
            entity: "booking",
            entity_id: made.booking.id.to_string(),
            action: "staff_book",
            region_code: Some(open.drive.region_code.clone()),
            before: None,
            after: Some(&audited(
                &made.booking.code,
                &made.booking.status,
                made.booking.headcount,
                &made.parts,
                &open.slots,
                None,
            )),
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(made)
}

/// The writes of a person's booking inside `txn`: the drive still open, the public caps (for
/// a public booking from `address`), the place, the booking and its confirmation.
async fn person_in(
    txn: &DatabaseTransaction,
    open: &OpenStop,
    slot: &booking_slot::Model,
    request: PersonRequest,
    address: Option<&str>,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<Made, BookingsError> {
    let (code, token) = new_secrets()?;
    still_open(txn, open).await?;
    if let Some(address) = address {
        within_allowance(txn, &request.mobile, "mobile", address, 1, limits).await?;
    }
    // The appeal the link came through, when its code is one of this stop's appeals; any
    // other code is ignored (a link passed on, a typo): it is a figure, not a condition.
    let appeal_id = match request.via.as_deref() {
        Some(via) => crate::store::appeals::attributed(txn, via, &open.stop).await?,
        None => None,
    };
    if !store::take(txn, slot.id, 1).await? {
        return Err(full(open, slot, txn).await);
    }
    let (booking, parts) = store::insert(
        txn,
        NewBooking {
            code,
            token_hash: secret::digest(&token),
            stop_id: open.stop.id,
            kind: BookingKind::Individual,
            name: request.name,
            mobile: request.mobile,
            blood_type: request.blood_type,
            organisation: None,
            parts: vec![(slot.id, 1)],
            client_address: address.map(str::to_owned),
            appeal_id,
        },
        now,
    )
    .await
    .map_err(|e| conflict_on_duplicate(e, open.stop.id))?;
    let facts = Facts {
        link: limits.link(&booking.code, &token),
        site: limits.public_url.clone(),
        ..facts(&booking, open, slot.starts)
    };
    write_message(
        txn,
        &booking,
        MessageKind::Confirmation,
        None,
        &facts,
        limits.messages_per_day,
        now,
    )
    .await?;
    Ok(Made {
        booking,
        parts,
        token,
    })
}

/// 409 naming the field when `adding` places would take what `mobile` (reported as `field`)
/// or `address` holds through the public endpoints over its cap. Counted inside the booking's
/// write transaction: on SQLite writers take turns, so the cap is exact; on PostgreSQL two
/// bookings by one mobile at the same instant may both pass.
async fn within_allowance(
    txn: &DatabaseTransaction,
    mobile: &str,
    field: &str,
    address: &str,
    adding: i32,
    limits: &Limits,
) -> Result<(), BookingsError> {
    if limits.places_per_mobile > 0 {
        let held = store::public_places_held(txn, Some(mobile), None).await?;
        let cap = i64::from(limits.places_per_mobile);
        if held + i64::from(adding) > cap {
            return Err(BookingsError::Limit {
                field: field.to_owned(),
                detail: format!(
                    "this mobile holds {held} place(s) through public booking; at most {cap} at once (cancel one first, or ask the blood station)"
                ),
            });
        }
    }
    if limits.places_per_address > 0 {
        let held = store::public_places_held(txn, None, Some(address)).await?;
        let cap = i64::from(limits.places_per_address);
        if held + i64::from(adding) > cap {
            return Err(BookingsError::Limit {
                field: "client_address".to_owned(),
                detail: format!(
                    "bookings from this network address hold {held} place(s); at most {cap} at once (ask the blood station)"
                ),
            });
        }
    }
    Ok(())
}

/// 409 naming the full slot and where places are left.
async fn full(
    open: &OpenStop,
    slot: &booking_slot::Model,
    db: &impl ConnectionTrait,
) -> BookingsError {
    let left = store::slots_of(db, &[open.stop.id])
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.capacity > s.booked)
        .map(|s| {
            format!(
                "{} ({} left)",
                rules::clock(s.starts),
                s.capacity - s.booked
            )
        })
        .collect::<Vec<_>>();
    BookingsError::conflict(
        Why::Full,
        if left.is_empty() {
            format!(
                "the {} slot is full, and so is stop {}; walk-ins are welcome on the day",
                rules::clock(slot.starts),
                open.stop.id
            )
        } else {
            format!(
                "the {} slot is full; places are left at {}",
                rules::clock(slot.starts),
                left.join(", ")
            )
        },
    )
}

/// Inside a booking's transaction: the drive is still open (read with a shared lock).
async fn still_open(txn: &DatabaseTransaction, open: &OpenStop) -> Result<(), BookingsError> {
    // A shared row lock: a cancellation (which updates the row) waits for the bookings in
    // flight and then sees them; on SQLite write transactions are serial anyway.
    let drive = crate::store::drives::lock_shared(txn, open.drive.id).await?;
    let open_now = drive.map(|d| d.status).as_deref().is_some_and(|s| {
        s == DriveStatus::Published.as_str() || s == DriveStatus::InProgress.as_str()
    });
    if !open_now {
        return Err(BookingsError::conflict(
            Why::Closed,
            format!(
                "the drive of stop {} is no longer taking bookings",
                open.stop.id
            ),
        ));
    }
    Ok(())
}

/// The slots a group may use: its preferred ones that have not begun (all that have not
/// begun when it named none), checked against the stop.
fn group_slots<'a>(
    open: &'a OpenStop,
    preferred: &[i32],
    now: DateTime<Utc>,
) -> Result<Vec<&'a booking_slot::Model>, BookingsError> {
    if preferred.is_empty() {
        return Ok(open
            .slots
            .iter()
            .filter(|s| now < rules::instant(open.drive.date, s.starts))
            .collect());
    }
    preferred
        .iter()
        .enumerate()
        .map(|(i, starts)| open_slot(open, *starts, &format!("preferred_slots[{i}]"), now))
        .collect()
}

/// `headcount` places spread over `chosen` slots (`rules::spread`), as (slot id, places)
/// parts; 409 naming how many places are left when there are too few.
fn spread_over(
    chosen: &[&booking_slot::Model],
    headcount: i32,
) -> Result<Vec<(i64, i32)>, BookingsError> {
    let left: Vec<i32> = chosen.iter().map(|s| s.capacity - s.booked).collect();
    let spread = rules::spread(headcount, &left).map_err(|available| {
        BookingsError::conflict(
            Why::Full,
            format!("{headcount} places asked for, {available} left in the chosen slots"),
        )
    })?;
    Ok(chosen
        .iter()
        .zip(spread)
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| (s.id, n))
        .collect())
}

/// What a public group booking became.
#[derive(Debug, Clone)]
pub enum GroupOutcome {
    /// Booked at once (up to the station's threshold).
    Booked(Made),
    /// Above the threshold: a request holding no places, and its token (shown once).
    Requested {
        request: group_request::Model,
        token: String,
    },
}

/// Books a group, spread evenly over its preferred slots; above the station's
/// `group_request_threshold`, records a request instead (no places held until staff confirm
/// it). Either way, 409 when the chosen slots have too few places now.
///
/// # Errors
/// 409 when the slots have too few places (naming how many), the contact has a pending
/// request at this stop, or an allowance is used up (naming the field); or as
/// [`book_person`].
pub async fn book_group(
    db: &DatabaseConnection,
    open: &OpenStop,
    request: GroupRequest,
    address: &str,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<GroupOutcome, BookingsError> {
    let chosen = group_slots(open, &request.preferred, now)?;
    spread_over(&chosen, request.headcount)?;
    let (code, token) = new_secrets()?;
    if request.headcount > open.group_request_threshold {
        let stored = request_places(db, open, request, code, &token, address, limits, now).await?;
        return Ok(GroupOutcome::Requested {
            request: stored,
            token,
        });
    }
    for _ in 0..GROUP_ATTEMPTS {
        let _turn = crate::db::write_turn(db).await;
        let txn = crate::db::begin_write(db).await?;
        still_open(&txn, open).await?;
        within_allowance(
            &txn,
            &request.contact_mobile,
            "contact_mobile",
            address,
            request.headcount,
            limits,
        )
        .await?;
        // The appeal the link came through, as for a person (a figure, not a condition).
        let appeal_id = match request.via.as_deref() {
            Some(via) => crate::store::appeals::attributed(&txn, via, &open.stop).await?,
            None => None,
        };
        // Fresh counts, inside the transaction.
        let fresh = OpenStop {
            slots: store::slots_of(&txn, &[open.stop.id]).await?,
            ..open.clone()
        };
        let parts = spread_over(
            &group_slots(&fresh, &request.preferred, now)?,
            request.headcount,
        )?;
        let mut all_taken = true;
        for (slot_id, n) in &parts {
            if !store::take(&txn, *slot_id, *n).await? {
                all_taken = false;
                break;
            }
        }
        if !all_taken {
            // Someone took places between our read and our update (PostgreSQL): again.
            txn.rollback().await?;
            continue;
        }
        let (booking, stored_parts) = store::insert(
            &txn,
            NewBooking {
                code: code.clone(),
                token_hash: secret::digest(&token),
                stop_id: open.stop.id,
                kind: BookingKind::Group,
                name: request.contact_name.clone(),
                mobile: request.contact_mobile.clone(),
                blood_type: None,
                organisation: Some(request.organisation.clone()),
                parts,
                client_address: Some(address.to_owned()),
                appeal_id,
            },
            now,
        )
        .await
        .map_err(|e| conflict_on_duplicate(e, open.stop.id))?;
        let first =
            first_start(&stored_parts, &fresh.slots, booking.id).unwrap_or(open.stop.planned_start);
        let facts = Facts {
            link: limits.link(&booking.code, &token),
            site: limits.public_url.clone(),
            ..facts(&booking, open, first)
        };
        write_message(
            &txn,
            &booking,
            MessageKind::Confirmation,
            None,
            &facts,
            limits.messages_per_day,
            now,
        )
        .await?;
        txn.commit().await?;
        return Ok(GroupOutcome::Booked(Made {
            booking,
            parts: stored_parts,
            token,
        }));
    }
    Err(BookingsError::conflict(
        Why::Changed,
        "the places changed while booking; try again".to_owned(),
    ))
}

/// Records a group request (no places taken) and tells its contact it was received.
#[allow(clippy::too_many_arguments)]
async fn request_places(
    db: &DatabaseConnection,
    open: &OpenStop,
    request: GroupRequest,
    code: String,
    token: &str,
    address: &str,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<group_request::Model, BookingsError> {
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    still_open(&txn, open).await?;
    if store::has_pending_request(&txn, open.stop.id, &request.contact_mobile).await? {
        return Err(BookingsError::Limit {
            field: "contact_mobile".to_owned(),
            detail: format!(
                "this mobile already has a group request at stop {} waiting for the blood station",
                open.stop.id
            ),
        });
    }
    let preferred: Vec<String> = request.preferred.iter().map(|m| rules::clock(*m)).collect();
    let appeal_id = match request.via.as_deref() {
        Some(via) => crate::store::appeals::attributed(&txn, via, &open.stop).await?,
        None => None,
    };
    let stored = store::insert_request(
        &txn,
        NewRequest {
            code,
            token_hash: secret::digest(token),
            stop_id: open.stop.id,
            organisation: request.organisation,
            contact_name: request.contact_name,
            mobile: request.contact_mobile,
            headcount: request.headcount,
            preferred: preferred.join(","),
            client_address: Some(address.to_owned()),
            appeal_id,
        },
        now,
    )
    .await?;
    write_request_message(
        &txn,
        &stored,
        open,
        MessageKind::RequestReceived,
        limits.link(&stored.code, token),
        limits.messages_per_day,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(stored)
}

/// Writes a message about a group request to its contact (with `link` to its page when
/// known: only as it is received).
async fn write_request_message(
    db: &impl ConnectionTrait,
    request: &group_request::Model,
    open: &OpenStop,
    kind: MessageKind,
    link: Option<String>,
    cap: u32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let Some(mobile) = &request.mobile else {
        return Ok(());
    };
    let facts = Facts {
        name: request.contact_name.clone(),
        code: request.code.clone(),
        stop: open.stop.name.clone(),
        address: open.address.clone(),
        date: open.drive.date,
        starts: open.stop.planned_start,
        headcount: request.headcount,
        reason: request.reason.clone(),
        link,
        site: None,
    };
    let mut body = rules::message_body(kind, &facts.view());
    if let Some(line) = crate::recruitment::roster::withdraw_line(db, mobile, None, now).await? {
        body.push_str(&line);
    }
    outbox::enqueue_capped(
        db,
        NewMessage {
            dedupe_key: format!("request:{}:{kind}", request.id),
            kind,
            booking_id: None,
            request_id: Some(request.id),
            recipient: mobile.clone(),
            body,
        },
        cap,
        now,
    )
    .await?;
    Ok(())
}

/// The slot starts a request prefers, as minutes.
pub fn preferred_of(request: &group_request::Model) -> Vec<i32> {
    request
        .preferred
        .split(',')
        .filter(|s| !s.is_empty())
        .filter_map(|s| crate::domain::fleet::TimeOfDay::parse(s).ok())
        .map(|t| t.minutes())
        .collect()
}

/// What the audit log records of a booking or request staff changed (no mobile).
#[derive(Debug, Serialize)]
struct Audited<'a> {
    code: &'a str,
    status: &'a str,
    headcount: i32,
    /// (slot start, places).
    slots: Vec<(String, i32)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

fn audited<'a>(
    code: &'a str,
    status: &'a str,
    headcount: i32,
    parts: &[booking_part::Model],
    slots: &[booking_slot::Model],
    reason: Option<&'a str>,
) -> Audited<'a> {
    let mut placed: Vec<(i32, i32)> = parts
        .iter()
        .filter_map(|p| {
            slots
                .iter()
                .find(|s| s.id == p.slot_id)
                .map(|s| (s.starts, p.places))
        })
        .collect();
    placed.sort_unstable();
    Audited {
        code,
        status,
        headcount,
        slots: placed
            .into_iter()
            .map(|(s, n)| (rules::clock(s), n))
            .collect(),
        reason,
    }
}

/// One audit record of a staff change to a booking or a request.
struct Audit<'a> {
    entity: &'a str,
    id: i64,
    action: &'a str,
    region: &'a str,
    actor: &'a Actor,
}

impl Audit<'_> {
    async fn record(
        &self,
        txn: &DatabaseTransaction,
        before: &Audited<'_>,
        after: &Audited<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        audit::record(
            txn,
            Change {
                entity: self.entity,
                entity_id: self.id.to_string(),
                action: self.action,
                region_code: Some(self.region.to_owned()),
                before: Some(before),
                after: Some(after),
                actor: self.actor.clone(),
                at: now,
            },
        )
        .await
    }
}

/// Confirms a pending group request (at the version read): its places are taken through
/// the same conditional update as any booking (spread over `preferred`, or the request's own
/// preferences when `None`), and it becomes a booking with the request's code and token; the
/// contact is told. Audited.
///
/// # Errors
/// 409 when too few places are left (naming how many), the request is no longer pending or
/// changed meanwhile, or the drive is closed.
pub async fn confirm_request(
    db: &DatabaseConnection,
    request: &group_request::Model,
    preferred: Option<Vec<i32>>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(group_request::Model, Made), BookingsError> {
    pending(request, "confirmed")?;
    let Some(mobile) = request.mobile.clone() else {
        return Err(BookingsError::conflict(
            Why::Other,
            format!("group request {} has no mobile any more", request.code),
        ));
    };
    let open = open_stop(db, request.stop_id).await?;
    let preferred = preferred.unwrap_or_else(|| preferred_of(request));
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    still_open(&txn, &open).await?;
    let fresh = OpenStop {
        slots: store::slots_of(&txn, &[open.stop.id]).await?,
        ..open.clone()
    };
    let parts = spread_over(&group_slots(&fresh, &preferred, now)?, request.headcount)?;
    for (slot_id, n) in &parts {
        if !store::take(&txn, *slot_id, *n).await? {
            txn.rollback().await?;
            return Err(BookingsError::conflict(
                Why::Changed,
                "the places changed while confirming; try again".to_owned(),
            ));
        }
    }
    let (booking, stored_parts) = store::insert(
        &txn,
        NewBooking {
            code: request.code.clone(),
            token_hash: request.token_hash.clone(),
            stop_id: open.stop.id,
            kind: BookingKind::Group,
            name: request.contact_name.clone(),
            mobile,
            blood_type: None,
            organisation: Some(request.organisation.clone()),
            parts,
            client_address: None,
            // The appeal the request came through: the booking it becomes counts for it.
            appeal_id: request.appeal_id,
        },
        now,
    )
    .await
    .map_err(|e| conflict_on_duplicate(e, open.stop.id))?;
    let Some(decided) = store::decide_request_if_version(
        &txn,
        request.id,
        request.version,
        Decision {
            status: RequestStatus::Confirmed,
            booking_id: Some(booking.id),
            reason: None,
            decided_by: actor.name.clone(),
        },
        now,
    )
    .await?
    else {
        txn.rollback().await?;
        return Err(changed_meanwhile(&request.code));
    };
    let first =
        first_start(&stored_parts, &fresh.slots, booking.id).unwrap_or(open.stop.planned_start);
    write_message(
        &txn,
        &booking,
        MessageKind::Confirmation,
        None,
        &facts(&booking, &open, first),
        0,
        now,
    )
    .await?;
    Audit {
        entity: "group_request",
        id: request.id,
        action: "confirm",
        region: &open.drive.region_code,
        actor,
    }
    .record(
        &txn,
        &audited(
            &request.code,
            &request.status,
            request.headcount,
            &[],
            &[],
            None,
        ),
        &audited(
            &decided.code,
            &decided.status,
            decided.headcount,
            &stored_parts,
            &fresh.slots,
            None,
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((
        decided,
        Made {
            booking,
            parts: stored_parts,
            token: String::new(),
        },
    ))
}

/// Declines a pending group request (at the version read), with `reason` told to the
/// contact. Audited.
///
/// # Errors
/// 409 when it is no longer pending or changed meanwhile.
pub async fn decline_request(
    db: &DatabaseConnection,
    request: &group_request::Model,
    reason: Option<String>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<group_request::Model, BookingsError> {
    pending(request, "declined")?;
    let (stop, drive) = store::stop_with_drive(db, request.stop_id)
        .await?
        .ok_or_else(|| BookingsError::NotFound(format!("no group request {}", request.code)))?;
    let open = OpenStop {
        address: address_of(db, &stop).await?,
        stop,
        drive,
        slots: Vec::new(),
        group_request_threshold: rules::DEFAULT_GROUP_REQUEST_THRESHOLD,
    };
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    let Some(decided) = store::decide_request_if_version(
        &txn,
        request.id,
        request.version,
        Decision {
            status: RequestStatus::Declined,
            booking_id: None,
            reason: reason.clone(),
            decided_by: actor.name.clone(),
        },
        now,
    )
    .await?
    else {
        txn.rollback().await?;
        return Err(changed_meanwhile(&request.code));
    };
    write_request_message(
        &txn,
        &decided,
        &open,
        MessageKind::RequestDeclined,
        None,
        0,
        now,
    )
    .await?;
    Audit {
        entity: "group_request",
        id: request.id,
        action: "decline",
        region: &open.drive.region_code,
        actor,
    }
    .record(
        &txn,
        &audited(
            &request.code,
            &request.status,
            request.headcount,
            &[],
            &[],
            None,
        ),
        &audited(
            &decided.code,
            &decided.status,
            decided.headcount,
            &[],
            &[],
            reason.as_deref(),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(decided)
}

fn pending(request: &group_request::Model, verb: &str) -> Result<(), BookingsError> {
    if request.status != RequestStatus::Pending.as_str() {
        return Err(BookingsError::conflict(
            Why::Other,
            format!(
                "group request {} is {}; it can no longer be {verb}",
                request.code, request.status
            ),
        ));
    }
    Ok(())
}

fn changed_meanwhile(code: &str) -> BookingsError {
    BookingsError::conflict(
        Why::Changed,
        format!("{code} changed meanwhile; look it up again"),
    )
}

/// A booking found by its code, when `token` is its token (404 otherwise: a wrong token
/// says no more than a wrong code).
///
/// # Errors
/// As above, or the database fails.
pub async fn by_code_and_token(
    db: &DatabaseConnection,
    code: &str,
    token: &str,
) -> Result<booking::Model, BookingsError> {
    let code = rules::normalise_code(code);
    let not_found = || BookingsError::NotFound(format!("no booking {code} with this token"));
    let booking = store::find_by_code(db, &code)
        .await?
        .ok_or_else(not_found)?;
    if !secret::same_secret(&secret::digest(token.trim()), &booking.token_hash) {
        return Err(not_found());
    }
    Ok(booking)
}

/// A group request found by its code, when `token` is its token; `None` otherwise (a
/// request's contact looks it up with the code and token of the booking it may become).
///
/// # Errors
/// The database fails.
pub async fn request_by_code_and_token(
    db: &DatabaseConnection,
    code: &str,
    token: &str,
) -> Result<Option<group_request::Model>, BookingsError> {
    let code = rules::normalise_code(code);
    Ok(store::find_request_by_code(db, &code)
        .await?
        .filter(|r| secret::same_secret(&secret::digest(token.trim()), &r.token_hash)))
}

/// Withdraws a pending group request (by its contact, with the token).
///
/// # Errors
/// 409 when staff decided it already or it changed meanwhile.
pub async fn withdraw_request(
    db: &DatabaseConnection,
    request: &group_request::Model,
    now: DateTime<Utc>,
) -> Result<group_request::Model, BookingsError> {
    pending(request, "withdrawn")?;
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    let Some(withdrawn) = store::decide_request_if_version(
        &txn,
        request.id,
        request.version,
        Decision {
            status: RequestStatus::Withdrawn,
            booking_id: None,
            reason: None,
            decided_by: None,
        },
        now,
    )
    .await?
    else {
        txn.rollback().await?;
        return Err(changed_meanwhile(&request.code));
    };
    txn.commit().await?;
    Ok(withdrawn)
}

/// An active booking whose first slot has not begun, with its stop, its parts and that
/// slot's start: what cancelling or moving needs. 409 otherwise (`verb`: what cannot be done).
async fn changeable(
    db: &DatabaseConnection,
    booking: &booking::Model,
    verb: &str,
    now: DateTime<Utc>,
) -> Result<(OpenStop, Vec<booking_part::Model>, i32), BookingsError> {
    if booking.status == BookingStatus::Cancelled.as_str() {
        return Err(BookingsError::conflict(
            Why::Cancelled,
            format!(
                "booking {} is cancelled; it can no longer be {verb}",
                booking.code
            ),
        ));
    }
    let open = open_stop(db, booking.stop_id).await?;
    let parts = store::parts_of(db, &[booking.id]).await?;
    let first = first_start(&parts, &open.slots, booking.id).unwrap_or(open.stop.planned_start);
    if now >= rules::instant(open.drive.date, first) {
        return Err(BookingsError::conflict(
            Why::Begun,
            format!(
                "booking {}'s slot has begun; it can no longer be {verb}",
                booking.code
            ),
        ));
    }
    Ok((open, parts, first))
}

/// Who cancels or moves a booking: its holder (with the token; messages capped at `cap` a
/// day for the recipient; a move's notice carries `link` to the booking's page when known) or
/// staff (audited; the notice names the station and `reason`).
#[derive(Debug, Clone)]
pub enum By {
    Holder {
        cap: u32,
        link: Option<String>,
        /// The site's public address, when known (the withdrawal link of a donor on the
        /// roster is then absolute).
        site: Option<String>,
    },
    Staff {
        actor: Actor,
        reason: Option<String>,
    },
}

impl By {
    fn cap(&self) -> u32 {
        match self {
            By::Holder { cap, .. } => *cap,
            By::Staff { .. } => 0,
        }
    }
}

/// Cancels a booking (by its holder or by staff): its places return, its reminders are
/// voided, and a cancellation notice is written; staff cancellations are audited.
///
/// # Errors
/// 409 when already cancelled or its first slot has begun.
pub async fn cancel(
    db: &DatabaseConnection,
    booking: &booking::Model,
    by: &By,
    now: DateTime<Utc>,
) -> Result<booking::Model, BookingsError> {
    let (open, parts, first) = changeable(db, booking, "cancelled", now).await?;
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    let Some(cancelled) = cancel_in(&txn, booking, &open, &parts, first, by, now).await? else {
        txn.rollback().await?;
        return Err(changed_meanwhile(&format!("booking {}", booking.code)));
    };
    txn.commit().await?;
    Ok(cancelled)
}

/// Cancels `booking` (at its version) in `txn`; `None` when its version moved on.
async fn cancel_in(
    txn: &DatabaseTransaction,
    booking: &booking::Model,
    open: &OpenStop,
    parts: &[booking_part::Model],
    first: i32,
    by: &By,
    now: DateTime<Utc>,
) -> Result<Option<booking::Model>, BookingsError> {
    let Some(cancelled) = store::cancel_if_version(txn, booking.id, booking.version, now).await?
    else {
        return Ok(None);
    };
    for p in parts {
        store::release(txn, p.slot_id, p.places).await?;
    }
    outbox::void_pending(txn, booking.id).await?;
    let mut facts = facts(&cancelled, open, first);
    let kind = match by {
        By::Holder { .. } => MessageKind::Cancellation,
        By::Staff { reason, .. } => {
            facts.reason.clone_from(reason);
            MessageKind::CancelledByStation
        }
    };
    write_message(txn, &cancelled, kind, None, &facts, by.cap(), now).await?;
    if let By::Staff { actor, reason } = by {
        Audit {
            entity: "booking",
            id: booking.id,
            action: "cancel",
            region: &open.drive.region_code,
            actor,
        }
        .record(
            txn,
            &audited(
                &booking.code,
                &booking.status,
                booking.headcount,
                parts,
                &open.slots,
                None,
            ),
            &audited(
                &cancelled.code,
                &cancelled.status,
                cancelled.headcount,
                &[],
                &[],
                reason.as_deref(),
            ),
            now,
        )
        .await?;
    }
    Ok(Some(cancelled))
}

/// Moves a booking: a person to `slot`, a group over `preferred` (spread again). In one
/// transaction the old places are given back and the new taken, so the booking's own places
/// count as free for its move, and when the new slots are full nothing changes.
///
/// # Errors
/// 409 when the new slots lack places or have begun; 400 for unknown slots.
pub async fn reschedule(
    db: &DatabaseConnection,
    booking: &booking::Model,
    slots: &[i32],
    by: &By,
    now: DateTime<Utc>,
) -> Result<(booking::Model, Vec<booking_part::Model>), BookingsError> {
    let (open, old, _) = changeable(db, booking, "moved", now).await?;
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    match reschedule_in(&txn, db, booking, &open, &old, slots, by, now).await {
        Ok(Some(moved)) => {
            txn.commit().await?;
            Ok(moved)
        }
        Ok(None) => {
            txn.rollback().await?;
            Err(changed_meanwhile(&format!("booking {}", booking.code)))
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// Moves `booking` (at its version) in `txn`; `None` when its version moved on. The caller
/// rolls back on an error.
#[allow(clippy::too_many_arguments)]
async fn reschedule_in(
    txn: &DatabaseTransaction,
    db: &DatabaseConnection,
    booking: &booking::Model,
    open: &OpenStop,
    old: &[booking_part::Model],
    slots: &[i32],
    by: &By,
    now: DateTime<Utc>,
) -> Result<Option<(booking::Model, Vec<booking_part::Model>)>, BookingsError> {
    still_open(txn, open).await?;
    // Release first inside the transaction, then take: the places the booking held count as
    // free for its own move, and if the new slots are full everything rolls back.
    for p in old {
        store::release(txn, p.slot_id, p.places).await?;
    }
    let fresh = OpenStop {
        slots: store::slots_of(txn, &[open.stop.id]).await?,
        ..open.clone()
    };
    let parts: Vec<(i64, i32)> = if booking.kind == BookingKind::Individual.as_str() {
        let starts = *slots
            .first()
            .ok_or_else(|| BookingsError::invalid("slot", "is required"))?;
        let slot = open_slot(&fresh, starts, "slot", now)?;
        vec![(slot.id, 1)]
    } else {
        spread_over(&group_slots(&fresh, slots, now)?, booking.headcount)?
    };
    for (slot_id, n) in &parts {
        if !store::take(txn, *slot_id, *n).await? {
            let slot = fresh
                .slots
                .iter()
                .find(|s| s.id == *slot_id)
                .expect("chosen from these slots");
            // Read outside the transaction: the places as they are without this move.
            return Err(full(open, slot, db).await);
        }
    }
    let Some((moved, new_parts)) =
        store::replace_parts_if_version(txn, booking.id, booking.version, &parts, now).await?
    else {
        return Ok(None);
    };
    let starts = first_start(&new_parts, &fresh.slots, moved.id).unwrap_or(open.stop.planned_start);
    let (link, site) = match by {
        By::Holder { link, site, .. } => (link.clone(), site.clone()),
        By::Staff { .. } => (None, None),
    };
    let facts = Facts {
        link,
        site,
        ..facts(&moved, open, starts)
    };
    write_message(
        txn,
        &moved,
        MessageKind::Rescheduled,
        Some(moved.version),
        &facts,
        by.cap(),
        now,
    )
    .await?;
    if let By::Staff { actor, reason } = by {
        Audit {
            entity: "booking",
            id: booking.id,
            action: "move",
            region: &open.drive.region_code,
            actor,
        }
        .record(
            txn,
            &audited(
                &booking.code,
                &booking.status,
                booking.headcount,
                old,
                &open.slots,
                None,
            ),
            &audited(
                &moved.code,
                &moved.status,
                moved.headcount,
                &new_parts,
                &fresh.slots,
                reason.as_deref(),
            ),
            now,
        )
        .await?;
    }
    Ok(Some((moved, new_parts)))
}

/// A booking with its parts: what a versioned staff change answers (the row and where its
/// places are, or were before a cancellation).
pub type WithParts = (booking::Model, Vec<booking_part::Model>);

async fn with_parts(db: &DatabaseConnection, code: &str) -> Result<WithParts, BookingsError> {
    let booking = store::find_by_code(db, code)
        .await?
        .ok_or_else(|| BookingsError::NotFound(format!("no booking {code}")))?;
    let parts = store::parts_of(db, &[booking.id]).await?;
    Ok((booking, parts))
}

/// Fields first (400), then the version (the `If-Match` as read, carrying the caller's own
/// error when it was missing or malformed: the service does not know it).
fn fields_then_version<T, E: From<BookingsError>>(
    fields: Result<T, crate::error::FieldErrors>,
    expected: Result<i32, E>,
) -> Result<(T, i32), E> {
    let fields = fields.map_err(|errors| E::from(invalid(errors)))?;
    Ok((fields, expected?))
}

/// The refusal naming every field of `errors` (not empty).
fn invalid(errors: crate::error::FieldErrors) -> BookingsError {
    errors.into()
}

/// Staff cancel `current` (expected at version `expected`, the `If-Match` as read) through
/// [`versioned::update`]: as the holder's cancellation, with the reason told to the person,
/// audited. [`Outcome::Stale`] with the booking as it is when the version moved on; the
/// cancelled booking comes with the parts it held.
///
/// # Errors
/// An invalid reason (400), then `expected`'s error (428), then 409 when already cancelled or
/// begun; the database fails.
pub async fn staff_cancel<E: From<BookingsError>>(
    db: &DatabaseConnection,
    current: booking::Model,
    cmd: StaffCancel,
    expected: Result<i32, E>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Outcome<WithParts>, E> {
    let (reason, expected) = fields_then_version(cmd.checked(), expected)?;
    let by = By::Staff {
        actor: actor.clone(),
        reason,
    };
    let code = current.code.clone();
    let done: Result<_, BookingsError> = async {
        let parts = store::parts_of(db, &[current.id]).await?;
        let _turn = crate::db::write_turn(db).await;
        versioned::update(
            db,
            (current, parts),
            expected,
            async |(booking, _): &WithParts| changeable(db, booking, "cancelled", now).await,
            async |txn: &DatabaseTransaction, (booking, _): &WithParts, (open, parts, first)| {
                Ok(cancel_in(txn, booking, &open, &parts, first, &by, now)
                    .await?
                    .map(|cancelled| (cancelled, parts)))
            },
            async || with_parts(db, &code).await,
        )
        .await
    }
    .await;
    done.map_err(E::from)
}

/// Staff move `current` (expected at version `expected`) through [`versioned::update`]: as
/// the holder's move, the person told and the change audited.
///
/// # Errors
/// Invalid or unknown slots or reason (400), then `expected`'s error (428), then 409 when
/// cancelled, begun, or the new slots are full; the database fails.
pub async fn staff_reschedule<E: From<BookingsError>>(
    db: &DatabaseConnection,
    current: booking::Model,
    cmd: StaffMove,
    expected: Result<i32, E>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Outcome<WithParts>, E> {
    let individual = current.kind == BookingKind::Individual.as_str();
    let slots = cmd
        .slots
        .slots_for(individual)
        .map_err(|errors| E::from(invalid(errors)))?;
    let (reason, expected) =
        fields_then_version(StaffCancel { reason: cmd.reason }.checked(), expected)?;
    let by = By::Staff {
        actor: actor.clone(),
        reason,
    };
    let code = current.code.clone();
    let done: Result<_, BookingsError> = async {
        let parts = store::parts_of(db, &[current.id]).await?;
        let _turn = crate::db::write_turn(db).await;
        versioned::update(
            db,
            (current, parts),
            expected,
            async |(booking, _): &WithParts| changeable(db, booking, "moved", now).await,
            async |txn: &DatabaseTransaction, (booking, _): &WithParts, (open, old, _)| {
                reschedule_in(txn, db, booking, &open, &old, &slots, &by, now).await
            },
            async || with_parts(db, &code).await,
        )
        .await
    }
    .await;
    done.map_err(E::from)
}

/// The holder moves their booking (found with `token`, its token) to `wanted`'s slots; the
/// notice carries the link to the booking's page when `limits` know the public address.
///
/// # Errors
/// Invalid or unknown slots (400, every one named); as [`reschedule`].
pub async fn holder_reschedule(
    db: &DatabaseConnection,
    booking: &booking::Model,
    token: &str,
    wanted: &Move,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<WithParts, BookingsError> {
    let individual = booking.kind == BookingKind::Individual.as_str();
    let slots = wanted.slots_for(individual).map_err(invalid)?;
    let by = By::Holder {
        cap: limits.messages_per_day,
        link: limits.link(&booking.code, token.trim()),
        site: limits.public_url.clone(),
    };
    reschedule(db, booking, &slots, &by, now).await
}

/// Books a person at stop `stop_id`: the fields checked (every one named), then the stop
/// opened, then [`book_person`]. Answers the stop as opened, for the view.
///
/// # Errors
/// Invalid fields (400); as [`open_stop`] and [`book_person`].
pub async fn book_person_at(
    db: &DatabaseConnection,
    stop_id: i64,
    cmd: PersonBooking,
    address: &str,
    limits: Limits,
    now: DateTime<Utc>,
) -> Result<(OpenStop, Made), BookingsError> {
    let request = cmd.checked().map_err(invalid)?;
    let open = open_stop(db, stop_id).await?;
    let made = book_person(db, &open, request, address, &limits, now).await?;
    Ok((open, made))
}

/// Books a group at stop `stop_id`: the fields checked, the stop opened, then
/// [`book_group`].
///
/// # Errors
/// Invalid fields (400); as [`open_stop`] and [`book_group`].
pub async fn book_group_at(
    db: &DatabaseConnection,
    stop_id: i64,
    cmd: GroupBooking,
    address: &str,
    limits: Limits,
    now: DateTime<Utc>,
) -> Result<(OpenStop, GroupOutcome), BookingsError> {
    let request = cmd.checked().map_err(invalid)?;
    let open = open_stop(db, stop_id).await?;
    let outcome = book_group(db, &open, request, address, &limits, now).await?;
    Ok((open, outcome))
}

/// What confirming a group request came to.
#[derive(Debug, Clone)]
pub enum Confirmed {
    /// The request decided, and the booking it became.
    Done(Box<(group_request::Model, Made)>),
    /// The expected version was not the request's: the request as it is.
    Stale(Box<group_request::Model>),
}

/// Staff confirm `request` (expected at version `expected`, the `If-Match` as read) over
/// `cmd`'s slots or its own; see [`confirm_request`].
///
/// # Errors
/// Invalid slots (400), then `expected`'s error (428); as [`confirm_request`].
pub async fn confirm<E: From<BookingsError>>(
    db: &DatabaseConnection,
    request: group_request::Model,
    cmd: Confirm,
    expected: Result<i32, E>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Confirmed, E> {
    let (preferred, expected) = fields_then_version(cmd.checked(), expected)?;
    if expected != request.version {
        return Ok(Confirmed::Stale(Box::new(request)));
    }
    let (decided, made) = confirm_request(db, &request, preferred, actor, now).await?;
    Ok(Confirmed::Done(Box::new((decided, made))))
}

/// Staff decline `request` (expected at version `expected`) with `cmd`'s reason; see
/// [`decline_request`].
///
/// # Errors
/// An invalid reason (400), then `expected`'s error (428); as [`decline_request`].
pub async fn decline<E: From<BookingsError>>(
    db: &DatabaseConnection,
    request: group_request::Model,
    cmd: StaffCancel,
    expected: Result<i32, E>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Outcome<group_request::Model>, E> {
    let (reason, expected) = fields_then_version(cmd.checked(), expected)?;
    if expected != request.version {
        return Ok(Outcome::Stale(request));
    }
    Ok(Outcome::Updated(
        decline_request(db, &request, reason, actor, now).await?,
    ))
}

/// What the holder's code and token name: a booking, or a group request not (yet) a booking.
#[derive(Debug, Clone)]
pub enum Found {
    Booking(booking::Model),
    Request(group_request::Model),
}

/// The booking, else the group request, that `code` and `token` name (404 as for a booking
/// when neither).
///
/// # Errors
/// As above, or the database fails.
pub async fn find_held(
    db: &DatabaseConnection,
    code: &str,
    token: &str,
) -> Result<Found, BookingsError> {
    match by_code_and_token(db, code, token).await {
        Err(BookingsError::NotFound(m)) => {
            match request_by_code_and_token(db, code, token).await? {
                Some(r) => Ok(Found::Request(r)),
                None => Err(BookingsError::NotFound(m)),
            }
        }
        found => Ok(Found::Booking(found?)),
    }
}

/// What the holder's cancellation came to.
#[derive(Debug, Clone)]
pub enum HolderCancelled {
    /// A booking cancelled, with the parts it held.
    Booking(WithParts),
    /// A pending group request withdrawn.
    Request(group_request::Model),
}

/// The holder cancels what `code` and `token` name: a booking (its places returned) or a
/// pending group request (withdrawn).
///
/// # Errors
/// 404 when they name nothing; as [`cancel`] and [`withdraw_request`].
pub async fn holder_cancel(
    db: &DatabaseConnection,
    code: &str,
    token: &str,
    cap: u32,
    now: DateTime<Utc>,
) -> Result<HolderCancelled, BookingsError> {
    match find_held(db, code, token).await? {
        Found::Request(r) => Ok(HolderCancelled::Request(
            withdraw_request(db, &r, now).await?,
        )),
        Found::Booking(b) => {
            let parts = store::parts_of(db, &[b.id]).await?;
            let cancelled = cancel(
                db,
                &b,
                &By::Holder {
                    cap,
                    link: None,
                    site: None,
                },
                now,
            )
            .await?;
            Ok(HolderCancelled::Booking((cancelled, parts)))
        }
    }
}
