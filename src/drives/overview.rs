//! What the station's drive pages read (issue 15): a calendar of drives with their vehicles
//! and stops ([`calendar`]), one drive with everything its page shows ([`overview`]: its stops,
//! each with its checklist and its bookings per slot, and what the reader may change), and
//! who a cancellation would tell ([`cancel_preview`]).
//!
//! Reads only. The policy decides as for the API: a drive is read like
//! [`find_for`]`(Read)` (hidden outside the reader's read scope), moved by whoever may update
//! it (admins and station staff within their write scope); an item is ticked by whoever the
//! policy lets tick its stop's items ([`Resource::ChecklistItem`]).

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{
    booking, booking_part, booking_slot, checklist_item, drive, drive_stop, group_request,
};
use sea_orm::DatabaseConnection;

use super::{Acting, DriveFilter, DrivesError, checklists, find_for, region_of, stops_in_reach};
use crate::bookings::{Cancelled, reads};
use crate::domain::booking::BookingStatus;
use crate::domain::drive::DriveStatus;
use crate::domain::policy::{Action, Resource};
use crate::domain::region::RegionCode;
use crate::store::fleet;

/// A drive's vehicle as a reader of its station sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VehicleLabel {
    pub name: String,
    pub plate: String,
}

/// The drives a calendar shows: dates (inclusive), statuses (none: all), at most `limit`.
#[derive(Debug, Clone)]
pub struct CalendarQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub statuses: Vec<DriveStatus>,
    pub limit: u64,
}

/// One drive in a calendar.
#[derive(Debug, Clone)]
pub struct CalendarDrive {
    pub drive: drive::Model,
    pub status: DriveStatus,
    /// `None` when the reader does not read the vehicle's station.
    pub vehicle: Option<VehicleLabel>,
    /// The stops the reader reads, in order.
    pub stops: Vec<drive_stop::Model>,
}

/// The drives of a calendar by date (then id), and whether there were more than its limit.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub drives: Vec<CalendarDrive>,
    pub more: bool,
}

/// The vehicles of `ids` that `acting` may see (the station's registry readable), by id.
async fn vehicles(
    db: &DatabaseConnection,
    acting: &Acting<'_>,
    ids: Vec<i64>,
) -> Result<HashMap<i64, VehicleLabel>, DrivesError> {
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        if let Some((v, station)) = fleet::find_vehicle_with_station(db, id).await?
            && acting.reads_registry(&station.region_code)
        {
            out.insert(
                id,
                VehicleLabel {
                    name: v.name,
                    plate: v.plate,
                },
            );
        }
    }
    Ok(out)
}

/// The drives between `query.from` and `query.to` (with the statuses asked for) inside what
/// `acting` reads, by date, each with its vehicle and the stops the reader reads.
///
/// # Errors
/// [`DrivesError::Corrupt`] for a stored status that does not read; the database fails.
pub async fn calendar(
    db: &DatabaseConnection,
    acting: &Acting<'_>,
    query: CalendarQuery,
) -> Result<Calendar, DrivesError> {
    let filter = DriveFilter {
        statuses: query.statuses.iter().map(|s| s.as_str()).collect(),
        from: Some(query.from),
        to: Some(query.to),
        limit: query.limit + 1,
        ..DriveFilter::default()
    };
    let mut rows = super::list(db, acting, filter).await?;
    let more = rows.len() as u64 > query.limit;
    rows.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
    rows.sort_by_key(|d| (d.date, d.id));
    let labels = vehicles(db, acting, rows.iter().map(|d| d.vehicle_id).collect()).await?;
    let mut drives = Vec::with_capacity(rows.len());
    for drive in rows {
        let stops = stops_in_reach(db, acting, drive.id).await?;
        drives.push(CalendarDrive {
            status: super::lifecycle::status_of(&drive)?,
            vehicle: labels.get(&drive.vehicle_id).cloned(),
            stops,
            drive,
        });
    }
    Ok(Calendar { drives, more })
}

/// One stop of a drive with its checklist and its bookings.
#[derive(Debug, Clone)]
pub struct StopOverview {
    pub stop: drive_stop::Model,
    /// Its checklist, in order.
    pub items: Vec<checklist_item::Model>,
    /// Whether the reader may tick its items (the policy, as the API asks it).
    pub may_tick: bool,
    /// Its booking slots (none before the drive is published).
    pub slots: Vec<booking_slot::Model>,
    /// Its bookings, active and cancelled, oldest first.
    pub bookings: Vec<booking::Model>,
    /// Where each booking holds its places.
    pub parts: Vec<booking_part::Model>,
    /// Public group requests above the station's threshold.
    pub requests: Vec<group_request::Model>,
}

/// A drive with everything its page shows.
#[derive(Debug, Clone)]
pub struct DriveOverview {
    pub drive: drive::Model,
    pub status: DriveStatus,
    pub vehicle: Option<VehicleLabel>,
    pub stops: Vec<StopOverview>,
    /// Whether the reader may move the drive through its states (publish, start, complete,
    /// cancel), as the API's transition asks.
    pub may_move: bool,
}

/// Drive `id` as its page shows it: the stops `acting` reads, each with its checklist, slots,
/// bookings and group requests, and what the reader may change.
///
/// # Errors
/// [`DrivesError::NotFound`], [`DrivesError::Denied`] (outside the reader's read scope: not
/// found); the database fails.
pub async fn overview(
    db: &DatabaseConnection,
    acting: &Acting<'_>,
    id: i64,
) -> Result<DriveOverview, DrivesError> {
    let checklist = checklists::drive_checklist(db, acting, id).await?;
    let drive = checklist.drive;
    let code = region_of(&drive)?;
    let may_move = acting.allows(Action::Update, Resource::Plan(&code));
    let (stops, items): (Vec<_>, Vec<_>) = checklist.stops.into_iter().unzip();
    let booked = reads::of_stops(db, stops).await?;
    let stops = booked
        .into_iter()
        .zip(items)
        .map(|(b, items)| StopOverview {
            may_tick: RegionCode::parse(&b.stop.region_code)
                .is_ok_and(|c| acting.allows(Action::Update, Resource::ChecklistItem(&c))),
            items,
            stop: b.stop,
            slots: b.slots,
            bookings: b.bookings,
            parts: b.parts,
            requests: b.requests,
        })
        .collect();
    let vehicle = vehicles(db, acting, vec![drive.vehicle_id])
        .await?
        .remove(&drive.vehicle_id);
    Ok(DriveOverview {
        status: super::lifecycle::status_of(&drive)?,
        vehicle,
        stops,
        may_move,
        drive,
    })
}

/// Who a cancellation of a drive would tell, before it is made.
#[derive(Debug, Clone)]
pub struct CancelPreview {
    pub drive: drive::Model,
    pub status: DriveStatus,
    pub stops: Vec<drive_stop::Model>,
    /// Every active booking of its stops (the ones a cancellation cancels, each sent a
    /// notice), by stop, oldest first.
    pub booked: Vec<Cancelled>,
}

/// The active bookings a cancellation of drive `id` would cancel and tell, for a reader who
/// may move the drive (as [`find_for`]`(Update)`: hidden outside the read scope, forbidden
/// outside the write scope).
///
/// # Errors
/// [`DrivesError::NotFound`], [`DrivesError::Denied`]; the database fails.
pub async fn cancel_preview(
    db: &DatabaseConnection,
    acting: &Acting<'_>,
    id: i64,
) -> Result<CancelPreview, DrivesError> {
    let drive = find_for(db, acting, Action::Update, id).await?;
    let stops = super::stops(db, drive.id).await?;
    let booked = reads::of_stops(db, stops.clone())
        .await?
        .into_iter()
        .flat_map(|s| {
            let stop_id = s.stop.id;
            s.bookings
                .into_iter()
                .filter(|b| b.status == BookingStatus::Active.as_str())
                .map(move |booking| Cancelled { booking, stop_id })
        })
        .collect();
    Ok(CancelPreview {
        status: super::lifecycle::status_of(&drive)?,
        drive,
        stops,
        booked,
    })
}
