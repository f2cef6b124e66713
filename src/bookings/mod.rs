//! Bookings as a service (issue 6): opening a published drive's slots, booking a person or a
//! group, moving and cancelling bookings, and cancelling everyone when a drive is called off.
//! Each runs in one write transaction, with its messages written to the outbox in the same
//! transaction (`crate::outbox`), so a booking and its confirmation exist together or not at
//! all.
//!
//! Capacity: places are taken with the conditional update of `store::bookings::take`, after
//! the drive's row is read with a shared lock, so a booking racing a cancellation either
//! lands before it (and is cancelled with the rest) or sees the drive cancelled.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{booking, booking_part, booking_slot, drive, drive_stop};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, SqlErr};

use crate::auth::secret;
use crate::domain::booking::{
    self as rules, BookingKind, BookingStatus, MessageFacts, MessageKind, SlotPlan,
};
use crate::domain::drive::DriveStatus;
use crate::error::AppError;
use crate::store::bookings::{self as store, NewBooking};
use crate::store::outbox::{self, NewMessage};
use crate::store::{fleet, points};

/// Days between two whole-blood donations (China's national standard, GB 18467).
pub const DONATION_INTERVAL_DAYS: i64 = 180;
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
) -> Result<usize, AppError> {
    let vehicle = fleet::find_vehicle(txn, drive.vehicle_id)
        .await?
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
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
) -> Result<Vec<Cancelled>, AppError> {
    let ids: Vec<i64> = stops.iter().map(|s| s.id).collect();
    let active = store::of_stops(txn, &ids, true).await?;
    let parts = store::parts_of(txn, &active.iter().map(|b| b.id).collect::<Vec<_>>()).await?;
    let slots = store::slots_of(txn, &ids).await?;
    let mut out = Vec::with_capacity(active.len());
    for b in active {
        let Some(cancelled) = store::cancel_if_version(txn, b.id, b.version, now).await? else {
            continue;
        };
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
        };
        let mut facts = facts(&cancelled, &open, first);
        facts.reason = Some(reason.to_owned());
        write_message(
            txn,
            &cancelled,
            MessageKind::Cancellation,
            None,
            &facts,
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
    }
}

async fn write_message(
    db: &impl ConnectionTrait,
    booking: &booking::Model,
    kind: MessageKind,
    version: Option<i32>,
    facts: &Facts,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let Some(mobile) = &booking.mobile else {
        return Ok(());
    };
    outbox::enqueue(
        db,
        NewMessage {
            dedupe_key: outbox::booking_key(booking.id, kind, version),
            kind,
            booking_id: Some(booking.id),
            recipient: mobile.clone(),
            body: rules::message_body(kind, &facts.view()),
        },
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
}

/// Loads stop `id` for booking: 404 when there is no such stop or its drive is not announced
/// (a draft is not public), 409 when its drive is over or cancelled.
///
/// # Errors
/// As above, or the database fails.
pub async fn open_stop(db: &DatabaseConnection, id: i64) -> Result<OpenStop, AppError> {
    let not_found = || AppError::NotFound(format!("no announced stop with id {id}"));
    let (stop, drive) = store::stop_with_drive(db, id)
        .await?
        .ok_or_else(not_found)?;
    let status: DriveStatus = drive
        .status
        .parse()
        .map_err(|e: String| AppError::Internal(anyhow::anyhow!("drive {}: {e}", drive.id)))?;
    match status {
        DriveStatus::Draft => return Err(not_found()),
        DriveStatus::Completed => {
            return Err(AppError::Conflict(format!(
                "the drive of stop {id} is over; bookings are closed"
            )));
        }
        DriveStatus::Cancelled => {
            return Err(AppError::Conflict(format!(
                "the drive of stop {id} was cancelled ({})",
                drive.cancel_reason.as_deref().unwrap_or("no reason given")
            )));
        }
        DriveStatus::Published | DriveStatus::InProgress => {}
    }
    let slots = store::slots_of(db, &[stop.id]).await?;
    let address = address_of(db, &stop).await?;
    Ok(OpenStop {
        stop,
        drive,
        address,
        slots,
    })
}

/// The slot of `stop` starting at `starts` (minutes), open at `now`: 400 naming `field` when
/// there is none, 409 when it has begun.
fn open_slot<'a>(
    open: &'a OpenStop,
    starts: i32,
    field: &str,
    now: DateTime<Utc>,
) -> Result<&'a booking_slot::Model, AppError> {
    let slot = open
        .slots
        .iter()
        .find(|s| s.starts == starts)
        .ok_or_else(|| {
            let all: Vec<String> = open.slots.iter().map(|s| rules::clock(s.starts)).collect();
            AppError::invalid(
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
        return Err(AppError::Conflict(format!(
            "the {} slot has begun; choose a later one",
            rules::clock(slot.starts)
        )));
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

/// A person's booking request, validated.
#[derive(Debug, Clone)]
pub struct PersonRequest {
    pub name: String,
    pub mobile: String,
    pub blood_type: Option<String>,
    /// Minutes after midnight.
    pub slot: i32,
}

/// A group's booking request, validated.
#[derive(Debug, Clone)]
pub struct GroupRequest {
    pub organisation: String,
    pub contact_name: String,
    pub contact_mobile: String,
    pub headcount: i32,
    /// Slot starts (minutes) in order of preference; empty for any.
    pub preferred: Vec<i32>,
}

/// A booking made: the record, its parts, and the token (shown once).
#[derive(Debug, Clone)]
pub struct Made {
    pub booking: booking::Model,
    pub parts: Vec<booking_part::Model>,
    pub token: String,
}

fn conflict_on_duplicate(e: DbErr, stop_id: i64) -> AppError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(m)) if m.contains("mobile") => duplicate(stop_id),
        _ => e.into(),
    }
}

fn duplicate(stop_id: i64) -> AppError {
    AppError::Conflict(format!(
        "this mobile already has an active booking at stop {stop_id}; change or cancel it with its code and token"
    ))
}

/// Refuses a mobile that gave blood too recently. (One that booked here already is refused
/// by the unique index on `(stop_id, active_mobile)` when its booking is inserted.)
async fn admissible(
    db: &DatabaseConnection,
    open: &OpenStop,
    mobile: &str,
) -> Result<(), AppError> {
    if let Some((last, next)) = next_eligible(db, mobile, open.drive.date).await? {
        return Err(AppError::NotYetEligible {
            last_donation: last,
            next_eligible: next,
        });
    }
    Ok(())
}

fn new_secrets() -> Result<(String, String), AppError> {
    let mut bytes = [0u8; rules::CODE_LEN];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(anyhow::anyhow!("random: {e}")))?;
    let token = secret::random_hex().map_err(AppError::Internal)?;
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
    now: DateTime<Utc>,
) -> Result<Made, AppError> {
    let slot = open_slot(open, request.slot, "slot", now)?;
    admissible(db, open, &request.mobile).await?;
    let (code, token) = new_secrets()?;
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    still_open(&txn, open).await?;
    if !store::take(&txn, slot.id, 1).await? {
        txn.rollback().await?;
        return Err(full(open, slot, db).await);
    }
    let (booking, parts) = store::insert(
        &txn,
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
        },
        now,
    )
    .await
    .map_err(|e| conflict_on_duplicate(e, open.stop.id))?;
    let facts = facts(&booking, open, slot.starts);
    write_message(&txn, &booking, MessageKind::Confirmation, None, &facts, now).await?;
    txn.commit().await?;
    Ok(Made {
        booking,
        parts,
        token,
    })
}

/// 409 naming the full slot and where places are left.
async fn full(open: &OpenStop, slot: &booking_slot::Model, db: &DatabaseConnection) -> AppError {
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
    AppError::Conflict(if left.is_empty() {
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
    })
}

/// Inside a booking's transaction: the drive is still open (read with a shared lock).
async fn still_open(txn: &DatabaseTransaction, open: &OpenStop) -> Result<(), AppError> {
    // A shared row lock: a cancellation (which updates the row) waits for the bookings in
    // flight and then sees them; on SQLite write transactions are serial anyway.
    let drive = crate::store::drives::lock_shared(txn, open.drive.id).await?;
    let open_now = drive.map(|d| d.status).as_deref().is_some_and(|s| {
        s == DriveStatus::Published.as_str() || s == DriveStatus::InProgress.as_str()
    });
    if !open_now {
        return Err(AppError::Conflict(format!(
            "the drive of stop {} is no longer taking bookings",
            open.stop.id
        )));
    }
    Ok(())
}

/// The slots a group may use: its preferred ones that have not begun (all that have not
/// begun when it named none), checked against the stop.
fn group_slots<'a>(
    open: &'a OpenStop,
    preferred: &[i32],
    now: DateTime<Utc>,
) -> Result<Vec<&'a booking_slot::Model>, AppError> {
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
) -> Result<Vec<(i64, i32)>, AppError> {
    let left: Vec<i32> = chosen.iter().map(|s| s.capacity - s.booked).collect();
    let spread = rules::spread(headcount, &left).map_err(|available| {
        AppError::Conflict(format!(
            "{headcount} places asked for, {available} left in the chosen slots"
        ))
    })?;
    Ok(chosen
        .iter()
        .zip(spread)
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| (s.id, n))
        .collect())
}

/// Books a group, spread evenly over its preferred slots.
///
/// # Errors
/// 409 when the slots have too few places (naming how many), or as [`book_person`].
pub async fn book_group(
    db: &DatabaseConnection,
    open: &OpenStop,
    request: GroupRequest,
    now: DateTime<Utc>,
) -> Result<Made, AppError> {
    group_slots(open, &request.preferred, now)?;
    let (code, token) = new_secrets()?;
    for _ in 0..GROUP_ATTEMPTS {
        let _turn = crate::db::write_turn(db).await;
        let txn = crate::db::begin_write(db).await?;
        still_open(&txn, open).await?;
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
            },
            now,
        )
        .await
        .map_err(|e| conflict_on_duplicate(e, open.stop.id))?;
        let first =
            first_start(&stored_parts, &fresh.slots, booking.id).unwrap_or(open.stop.planned_start);
        let facts = facts(&booking, open, first);
        write_message(&txn, &booking, MessageKind::Confirmation, None, &facts, now).await?;
        txn.commit().await?;
        return Ok(Made {
            booking,
            parts: stored_parts,
            token,
        });
    }
    Err(AppError::Conflict(
        "the places changed while booking; try again".to_owned(),
    ))
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
) -> Result<booking::Model, AppError> {
    let code = rules::normalise_code(code);
    let not_found = || AppError::NotFound(format!("no booking {code} with this token"));
    let booking = store::find_by_code(db, &code)
        .await?
        .ok_or_else(not_found)?;
    if !secret::same_secret(&secret::digest(token.trim()), &booking.token_hash) {
        return Err(not_found());
    }
    Ok(booking)
}

/// An active booking whose first slot has not begun, with its stop, its parts and that
/// slot's start: what cancelling or moving needs. 409 otherwise (`verb`: what cannot be done).
async fn changeable(
    db: &DatabaseConnection,
    booking: &booking::Model,
    verb: &str,
    now: DateTime<Utc>,
) -> Result<(OpenStop, Vec<booking_part::Model>, i32), AppError> {
    if booking.status == BookingStatus::Cancelled.as_str() {
        return Err(AppError::Conflict(format!(
            "booking {} is cancelled; it can no longer be {verb}",
            booking.code
        )));
    }
    let open = open_stop(db, booking.stop_id).await?;
    let parts = store::parts_of(db, &[booking.id]).await?;
    let first = first_start(&parts, &open.slots, booking.id).unwrap_or(open.stop.planned_start);
    if now >= rules::instant(open.drive.date, first) {
        return Err(AppError::Conflict(format!(
            "booking {}'s slot has begun; it can no longer be {verb}",
            booking.code
        )));
    }
    Ok((open, parts, first))
}

/// Cancels a booking (by its donor): its places return, its reminders are voided, and a
/// cancellation notice is written.
///
/// # Errors
/// 409 when already cancelled or its first slot has begun.
pub async fn cancel(
    db: &DatabaseConnection,
    booking: &booking::Model,
    now: DateTime<Utc>,
) -> Result<booking::Model, AppError> {
    let (open, parts, first) = changeable(db, booking, "cancelled", now).await?;
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    let Some(cancelled) = store::cancel_if_version(&txn, booking.id, booking.version, now).await?
    else {
        txn.rollback().await?;
        return Err(AppError::Conflict(format!(
            "booking {} changed meanwhile; look it up again",
            booking.code
        )));
    };
    for p in &parts {
        store::release(&txn, p.slot_id, p.places).await?;
    }
    outbox::void_pending(&txn, booking.id).await?;
    let facts = facts(&cancelled, &open, first);
    write_message(
        &txn,
        &cancelled,
        MessageKind::Cancellation,
        None,
        &facts,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(cancelled)
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
    now: DateTime<Utc>,
) -> Result<(booking::Model, Vec<booking_part::Model>), AppError> {
    let (open, old, _) = changeable(db, booking, "moved", now).await?;
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    still_open(&txn, &open).await?;
    // Release first inside the transaction, then take: the places the booking held count as
    // free for its own move, and if the new slots are full everything rolls back.
    for p in &old {
        store::release(&txn, p.slot_id, p.places).await?;
    }
    let fresh = OpenStop {
        slots: store::slots_of(&txn, &[open.stop.id]).await?,
        ..open.clone()
    };
    let parts: Vec<(i64, i32)> = if booking.kind == BookingKind::Individual.as_str() {
        let starts = *slots
            .first()
            .ok_or_else(|| AppError::invalid("slot", "is required"))?;
        let slot = open_slot(&fresh, starts, "slot", now)?;
        vec![(slot.id, 1)]
    } else {
        spread_over(&group_slots(&fresh, slots, now)?, booking.headcount)?
    };
    for (slot_id, n) in &parts {
        if !store::take(&txn, *slot_id, *n).await? {
            txn.rollback().await?;
            let slot = fresh
                .slots
                .iter()
                .find(|s| s.id == *slot_id)
                .expect("chosen from these slots");
            return Err(full(&open, slot, db).await);
        }
    }
    let Some((moved, new_parts)) =
        store::replace_parts_if_version(&txn, booking.id, booking.version, &parts, now).await?
    else {
        txn.rollback().await?;
        return Err(AppError::Conflict(format!(
            "booking {} changed meanwhile; look it up again",
            booking.code
        )));
    };
    let starts = first_start(&new_parts, &fresh.slots, moved.id).unwrap_or(open.stop.planned_start);
    let facts = facts(&moved, &open, starts);
    write_message(
        &txn,
        &moved,
        MessageKind::Rescheduled,
        Some(moved.version),
        &facts,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((moved, new_parts))
}
