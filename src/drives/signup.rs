//! Group drives at host organisations (issue 16): a stop at a host (`host-<id>`) has a sign-up
//! goal, and the host's contact a private link to the stop's sign-up page, where colleagues
//! book their own places (the bookings service's person booking: one person per booking) and
//! the contact watches the sign-ups against the goal.
//!
//! The link's token is random (256 bits) and shown once, when made; only its SHA-256 is
//! stored on the stop. Making a link again replaces it (the old link no longer opens the
//! page), revoking clears it; either way an old token finds nothing (404). Setting the goal is
//! a versioned change of the drive (its `If-Match`, its version moved on); every change here
//! is audited as a change of the stop (the token never in the record).

use chrono::{DateTime, Utc};
use entity::{booking_slot, drive, drive_stop, host};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use super::{Acting, DrivesError, find_for};
use crate::auth::secret;
use crate::domain::booking::BookingKind;
use crate::domain::drive::DriveStatus;
use crate::domain::host::mask_name;
use crate::domain::policy::Action;
use crate::store::audit::{self, Change};
use crate::store::drives as store;
use crate::store::{bookings, hosts};
use crate::versioned::{self, Outcome};

use super::lifecycle::{MAX_SIGNUP_GOAL, status_of};

/// A drive with one of its stops, as changed.
pub type StopOfDrive = (drive::Model, drive_stop::Model);

/// Stop `stop_id` of `drive`, a stop at a host whose drive can still take sign-ups (not
/// completed or cancelled).
async fn host_stop(
    db: &impl sea_orm::ConnectionTrait,
    drive: &drive::Model,
    stop_id: i64,
) -> Result<drive_stop::Model, DrivesError> {
    let stop = store::stop_of(db, drive.id, stop_id)
        .await?
        .ok_or_else(|| {
            DrivesError::NotFound(format!("no stop with id {stop_id} on drive {}", drive.id))
        })?;
    if stop.host_id.is_none() {
        return Err(DrivesError::Conflict(format!(
            "stop {stop_id} is at {}, not at a host: only a group drive's stop has a sign-up \
             goal and link",
            stop.site_id
        )));
    }
    if status_of(drive)?.is_final() {
        return Err(DrivesError::Conflict(format!(
            "drive {} is {}; its sign-ups are closed",
            drive.id, drive.status
        )));
    }
    Ok(stop)
}

async fn record_stop(
    txn: &DatabaseTransaction,
    drive: &drive::Model,
    action: &str,
    before: &drive_stop::Model,
    after: &drive_stop::Model,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), DrivesError> {
    audit::record(
        txn,
        Change {
            entity: "drive_stop",
            entity_id: after.id.to_string(),
            action,
            region_code: Some(drive.region_code.clone()),
            before: Some(before),
            after: Some(after),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// Sets (or, with `None`, clears) the sign-up goal of stop `stop_id` of drive `current`
/// (which the caller may update, read at version `expected`): 1 to [`MAX_SIGNUP_GOAL`], on a
/// stop at a host of a drive not over. The drive's version moves on. `Stale` with the drive
/// and the stop as they are when someone else's change won.
///
/// # Errors
/// [`DrivesError::InvalidField`] (`signup_goal`), [`DrivesError::NotFound`] (no such stop on
/// the drive), [`DrivesError::Conflict`] (not a host's stop, the drive over); the database
/// fails.
pub async fn set_goal(
    db: &DatabaseConnection,
    current: drive::Model,
    expected: i32,
    stop_id: i64,
    goal: Option<i32>,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome<StopOfDrive>, DrivesError> {
    if goal.is_some_and(|g| !(1..=MAX_SIGNUP_GOAL).contains(&g)) {
        return Err(DrivesError::invalid(
            "signup_goal",
            format!("must be between 1 and {MAX_SIGNUP_GOAL}"),
        ));
    }
    let stop = host_stop(db, &current, stop_id).await?;
    let drive_id = current.id;
    versioned::update(
        db,
        (current, stop),
        expected,
        async |_: &StopOfDrive| Ok::<_, DrivesError>(()),
        async |txn: &DatabaseTransaction, (drive, before): &StopOfDrive, ()| {
            let Some(written) =
                store::touch_if_version(txn, drive.id, expected, acting.username(), now).await?
            else {
                return Ok(None);
            };
            let after = store::set_signup_goal(txn, before.id, goal)
                .await?
                .ok_or_else(|| DrivesError::NotFound(format!("no stop with id {stop_id}")))?;
            record_stop(txn, &written, "signup_goal", before, &after, acting, now).await?;
            Ok(Some((written, after)))
        },
        async || {
            let drive = store::find(db, drive_id)
                .await?
                .ok_or_else(|| DrivesError::NotFound(format!("no drive with id {drive_id}")))?;
            let stop = store::stop_of(db, drive_id, stop_id)
                .await?
                .ok_or_else(|| DrivesError::NotFound(format!("no stop with id {stop_id}")))?;
            Ok((drive, stop))
        },
    )
    .await
}

/// Makes a new private sign-up link for stop `stop_id` of drive `drive_id` (which the caller
/// may update): a random token, returned this once; only its SHA-256 is stored. A link made
/// before stops opening the page. Audited (`signup_link`).
///
/// # Errors
/// As [`set_goal`] (no field); the random source or the database fails.
pub async fn make_link(
    db: &DatabaseConnection,
    drive_id: i64,
    stop_id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(drive_stop::Model, String), DrivesError> {
    let drive = find_for(db, acting, Action::Update, drive_id).await?;
    let before = host_stop(db, &drive, stop_id).await?;
    let token =
        secret::random_hex().map_err(|e| DrivesError::Corrupt(format!("no sign-up token: {e}")))?;
    let txn = crate::db::begin_write(db).await?;
    store::set_signup_token_hash(&txn, stop_id, Some(secret::digest(&token))).await?;
    let after = store::stop_of(&txn, drive_id, stop_id)
        .await?
        .ok_or_else(|| DrivesError::NotFound(format!("no stop with id {stop_id}")))?;
    record_stop(&txn, &drive, "signup_link", &before, &after, acting, now).await?;
    txn.commit().await?;
    Ok((after, token))
}

/// Revokes stop `stop_id`'s sign-up link (the page no longer opens). Audited
/// (`signup_revoke`).
///
/// # Errors
/// [`DrivesError::NotFound`] (no such stop, or no live link), as [`make_link`].
pub async fn revoke_link(
    db: &DatabaseConnection,
    drive_id: i64,
    stop_id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), DrivesError> {
    let drive = find_for(db, acting, Action::Update, drive_id).await?;
    let before = store::stop_of(db, drive_id, stop_id)
        .await?
        .filter(|s| s.signup_token_hash.is_some())
        .ok_or_else(|| {
            DrivesError::NotFound(format!(
                "no sign-up link for stop {stop_id} of drive {drive_id}"
            ))
        })?;
    let txn = crate::db::begin_write(db).await?;
    store::set_signup_token_hash(&txn, stop_id, None).await?;
    let mut after = before.clone();
    after.signup_token_hash = None;
    record_stop(&txn, &drive, "signup_revoke", &before, &after, acting, now).await?;
    txn.commit().await?;
    Ok(())
}

/// What the sign-up page of a host's stop shows: the host, the stop and its drive, the goal
/// and the colleagues signed up so far (active individual bookings; names masked, no
/// mobiles).
#[derive(Debug, Clone)]
pub struct SignupSheet {
    pub host: host::Model,
    pub drive: drive::Model,
    pub stop: drive_stop::Model,
    pub goal: Option<i32>,
    /// Masked names, in the order they signed up.
    pub signed_up: Vec<String>,
    /// The stop's booking slots (none before the drive is published).
    pub slots: Vec<booking_slot::Model>,
}

impl SignupSheet {
    /// Whether colleagues can sign up now (the drive published; the booking service decides
    /// the rest: slots begun, full).
    pub fn open(&self) -> bool {
        self.drive.status == DriveStatus::Published.as_str()
    }
}

/// The sign-up sheet a link's `token` opens; `NotFound` for a token that opens nothing (never
/// made, replaced or revoked), which says no more than that.
///
/// # Errors
/// [`DrivesError::NotFound`]; the database fails.
pub async fn sheet(db: &DatabaseConnection, token: &str) -> Result<SignupSheet, DrivesError> {
    let not_found = || DrivesError::NotFound("no such sign-up link".to_owned());
    let token = token.trim();
    if token.is_empty() {
        return Err(not_found());
    }
    let (stop, drive) = store::stop_by_signup_hash(db, &secret::digest(token))
        .await?
        .ok_or_else(not_found)?;
    let host = match stop.host_id {
        Some(id) => hosts::find(db, id).await?,
        None => None,
    }
    .ok_or_else(not_found)?;
    let signed_up = bookings::of_stops(db, &[stop.id], true)
        .await?
        .into_iter()
        .filter(|b| b.kind == BookingKind::Individual.as_str())
        .map(|b| mask_name(&b.name))
        .collect();
    let slots = bookings::slots_of(db, &[stop.id]).await?;
    Ok(SignupSheet {
        host,
        slots,
        goal: stop.signup_goal,
        drive,
        stop,
        signed_up,
    })
}

/// A group drive at a host as the host's page shows it: the stop with its drive, how many
/// have signed up (active bookings of one person each), and whether the reader may set its
/// goal and make or revoke its link (admins and station staff within their write scope, as
/// the API asks).
#[derive(Debug, Clone)]
pub struct HostStop {
    pub drive: drive::Model,
    pub stop: drive_stop::Model,
    pub signed_up: usize,
    pub may_update: bool,
}

/// The group drives at host `host_id` that `acting` reads, the latest first, at most
/// `limit` (the caller has read the host already).
///
/// # Errors
/// The database fails.
pub async fn at_host(
    db: &DatabaseConnection,
    acting: &Acting<'_>,
    host_id: i64,
    limit: u64,
) -> Result<Vec<HostStop>, DrivesError> {
    let Some(reach) = acting.reach() else {
        return Ok(Vec::new());
    };
    let held: Vec<(drive_stop::Model, drive::Model)> = store::stops_at_host(db, host_id, limit)
        .await?
        .into_iter()
        .filter(|(_, drive)| {
            crate::domain::region::RegionCode::parse(&drive.region_code)
                .is_ok_and(|c| reach.contains(&c))
        })
        .collect();
    let ids: Vec<i64> = held.iter().map(|(stop, _)| stop.id).collect();
    let booked = bookings::of_stops(db, &ids, true).await?;
    Ok(held
        .into_iter()
        .map(|(stop, drive)| {
            let signed_up = booked
                .iter()
                .filter(|b| b.stop_id == stop.id && b.kind == BookingKind::Individual.as_str())
                .count();
            let may_update = super::region_of(&drive).is_ok_and(|code| {
                acting.allows(Action::Update, crate::domain::policy::Resource::Plan(&code))
            });
            HostStop {
                drive,
                stop,
                signed_up,
                may_update,
            }
        })
        .collect())
}

/// The next group drive at each of these hosts that `acting` reads: the earliest stop on a
/// drive not cancelled, dated `from` or later; hosts with none are left out.
///
/// # Errors
/// The database fails.
pub async fn next_at_hosts(
    db: &DatabaseConnection,
    acting: &Acting<'_>,
    host_ids: &[i64],
    from: chrono::NaiveDate,
) -> Result<Vec<(i64, drive::Model, drive_stop::Model)>, DrivesError> {
    let Some(reach) = acting.reach() else {
        return Ok(Vec::new());
    };
    let mut next: Vec<(i64, drive::Model, drive_stop::Model)> = Vec::new();
    for (stop, drive) in store::upcoming_at_hosts(db, host_ids, from).await? {
        let Some(host_id) = stop.host_id else {
            continue;
        };
        let seen = crate::domain::region::RegionCode::parse(&drive.region_code)
            .is_ok_and(|c| reach.contains(&c));
        if seen && !next.iter().any(|(h, _, _)| *h == host_id) {
            next.push((host_id, drive, stop));
        }
    }
    Ok(next)
}
