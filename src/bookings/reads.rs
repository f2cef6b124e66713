//! What the bookings' pages and answers read: the announced stops with their slots and
//! places, a booking with its stop and slots, a drive's bookings and requests per stop. The
//! queries are `store`'s; these gather them (a few queries, whatever the number of stops) into
//! values the API renders.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    booking, booking_part, booking_slot, drive, drive_stop, group_request, point, region,
};
use sea_orm::DatabaseConnection;

use super::BookingsError;
use super::commands::Schedule;
use crate::domain::booking as rules;
use crate::geo::{Crs, Wgs84Point};
use crate::store::bookings as store;
use crate::store::{hosts, points, regions};

/// Where a stop is: its point's address, and its point's place or its region's centre
/// (WGS-84 longitude, latitude).
pub type Place = (Option<String>, Option<(f64, f64)>);

/// An announced stop with its drive, place and slots.
#[derive(Debug, Clone)]
pub struct ScheduledStop {
    pub drive: drive::Model,
    pub stop: drive_stop::Model,
    pub place: Place,
    pub slots: Vec<booking_slot::Model>,
}

/// The stops of drives published or under way from `from` to `to`, with their places and
/// slots, in the store's order.
///
/// # Errors
/// The database fails.
pub async fn schedule(
    db: &DatabaseConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ScheduledStop>, BookingsError> {
    let drives = store::open_drives(db, from, to).await?;
    let stop_ids: Vec<i64> = drives
        .iter()
        .flat_map(|(_, stops)| stops.iter().map(|s| s.id))
        .collect();
    let slots = store::slots_of(db, &stop_ids).await?;
    let all_stops: Vec<&drive_stop::Model> = drives.iter().flat_map(|(_, s)| s).collect();
    let mut places = places_of(db, &all_stops).await?;
    let mut out = Vec::with_capacity(all_stops.len());
    for (drive, stops) in &drives {
        for stop in stops {
            out.push(ScheduledStop {
                drive: drive.clone(),
                stop: stop.clone(),
                place: places.remove(&stop.id).unwrap_or((None, None)),
                slots: slots
                    .iter()
                    .filter(|s| s.stop_id == stop.id)
                    .cloned()
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// The announced stops `schedule` asks for (a group drive's stop at a host is not announced:
/// its colleagues sign up through the host contact's link), with how far each is from its `near` (km,
/// rounded to 10 m; `None` without `near`): within the radius only, by date, then distance,
/// then opening time and stop.
///
/// # Errors
/// The database fails.
pub async fn public_schedule(
    db: &DatabaseConnection,
    schedule: &Schedule,
) -> Result<Vec<(ScheduledStop, Option<f64>)>, BookingsError> {
    let within = match &schedule.region {
        Some(code) => {
            let region = regions::find(db, code)
                .await?
                .ok_or_else(|| BookingsError::invalid("region", "no such region"))?;
            Some(code.subtree_bounds(region.level))
        }
        None => None,
    };
    let mut out = Vec::new();
    for stop in self::schedule(db, schedule.from, schedule.to).await? {
        // A group drive's stop (at a host) is for its colleagues, who sign up through the host
        // contact's private link: it is not announced to the public.
        if stop.stop.host_id.is_some() {
            continue;
        }
        if let Some((lo, hi)) = &within
            && !(lo.as_str()..=hi.as_str()).contains(&stop.stop.region_code.as_str())
        {
            continue;
        }
        let mut distance = None;
        if let Some((centre, radius)) = schedule.near {
            let Some((lon, lat)) = stop.place.1 else {
                continue;
            };
            let Ok(at) = Wgs84Point::from_crs(lon, lat, Crs::Wgs84) else {
                continue;
            };
            let km = centre.distance_km(at);
            if km > radius {
                continue;
            }
            distance = Some((km * 100.0).round() / 100.0);
        }
        out.push((stop, distance));
    }
    out.sort_by(|(a, da), (b, db)| {
        a.drive
            .date
            .cmp(&b.drive.date)
            .then(da.unwrap_or(0.0).total_cmp(&db.unwrap_or(0.0)))
            .then(a.stop.planned_start.cmp(&b.stop.planned_start))
            .then(a.stop.id.cmp(&b.stop.id))
    });
    Ok(out)
}

/// A slot as donors see it: its times, places and whether it can still be booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotState {
    pub id: i64,
    /// `HH:MM`.
    pub starts: String,
    pub ends: String,
    pub places: i32,
    pub places_left: i32,
    /// Not begun at `now`.
    pub open: bool,
}

/// The slots of a stop on `date` as donors see them at `now` (slots cut to no places, never
/// offered, left out).
pub fn slot_states(
    date: NaiveDate,
    slots: &[booking_slot::Model],
    now: DateTime<Utc>,
) -> Vec<SlotState> {
    slots
        .iter()
        .filter(|s| s.capacity > 0)
        .map(|s| SlotState {
            id: s.id,
            starts: rules::clock(s.starts),
            ends: rules::clock(s.ends),
            places: s.capacity,
            places_left: (s.capacity - s.booked).max(0),
            open: now < rules::instant(date, s.starts),
        })
        .collect()
}

/// A county or township with announced stops, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceWithStops {
    pub code: String,
    pub name: String,
    pub stops: usize,
}

/// The counties with stops announced from `from` to `to`, each with its townships that have
/// some, by code: what a donor picks from instead of typing a place.
///
/// # Errors
/// The database fails.
pub async fn places_with_stops(
    db: &DatabaseConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(PlaceWithStops, Vec<PlaceWithStops>)>, BookingsError> {
    let mut counties: std::collections::BTreeMap<String, (usize, HashMap<String, usize>)> =
        std::collections::BTreeMap::new();
    for (_, stops) in store::open_drives(db, from, to).await? {
        // Group drives' stops are not announced (see `public_schedule`).
        for stop in stops.iter().filter(|s| s.host_id.is_none()) {
            let code = &stop.region_code;
            if code.len() != 12 {
                continue;
            }
            let county = format!("{}000000", &code[..6]);
            let entry = counties.entry(county).or_default();
            entry.0 += 1;
            if &code[6..9] != "000" {
                *entry.1.entry(format!("{}000", &code[..9])).or_default() += 1;
            }
        }
    }
    let codes: Vec<String> = counties
        .iter()
        .flat_map(|(c, (_, t))| std::iter::once(c.clone()).chain(t.keys().cloned()))
        .collect();
    let names: HashMap<String, String> = regions::find_models(db, &codes)
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect();
    let named = |code: &str, stops: usize| PlaceWithStops {
        code: code.to_owned(),
        name: names.get(code).cloned().unwrap_or_else(|| code.to_owned()),
        stops,
    };
    Ok(counties
        .iter()
        .map(|(county, (count, townships))| {
            let mut towns: Vec<PlaceWithStops> =
                townships.iter().map(|(t, n)| named(t, *n)).collect();
            towns.sort_by(|a, b| a.code.cmp(&b.code));
            (named(county, *count), towns)
        })
        .collect())
}

/// Stop `stop_id` with its drive, place and slots, whatever its drive's state (a booking's
/// page shows its stop after the drive is over).
///
/// # Errors
/// No such stop (404), or the database fails.
pub async fn stop_with_all(
    db: &DatabaseConnection,
    stop_id: i64,
) -> Result<ScheduledStop, BookingsError> {
    let (stop, drive) = store::stop_with_drive(db, stop_id)
        .await?
        .ok_or_else(|| BookingsError::NotFound(format!("no stop with id {stop_id}")))?;
    let slots = store::slots_of(db, &[stop.id]).await?;
    let place = place_of(db, &stop).await?;
    Ok(ScheduledStop {
        drive,
        stop,
        place,
        slots,
    })
}

/// Where one stop is.
///
/// # Errors
/// The database fails.
pub async fn place_of(
    db: &DatabaseConnection,
    stop: &drive_stop::Model,
) -> Result<Place, BookingsError> {
    Ok(places_of(db, &[stop])
        .await?
        .remove(&stop.id)
        .unwrap_or((None, None)))
}

/// Where each of `stops` is, by stop id: two queries, whatever the number of stops.
async fn places_of(
    db: &DatabaseConnection,
    stops: &[&drive_stop::Model],
) -> Result<HashMap<i64, Place>, BookingsError> {
    let point_ids: Vec<i64> = stops.iter().filter_map(|s| s.point_id).collect();
    let points: HashMap<i64, point::Model> = points::find_many(db, &point_ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    // A group drive's stop is at its host (few per page: one read each).
    let mut at_hosts: HashMap<i64, Place> = HashMap::new();
    for id in stops.iter().filter_map(|s| s.host_id) {
        if let Some(h) = hosts::find(db, id).await? {
            at_hosts.insert(id, (h.address, Some((h.longitude, h.latitude))));
        }
    }
    let codes: Vec<String> = stops
        .iter()
        .filter(|s| s.point_id.is_none())
        .map(|s| s.region_code.clone())
        .collect();
    let regions: HashMap<String, region::Model> = regions::find_models(db, &codes)
        .await?
        .into_iter()
        .map(|r| (r.code.clone(), r))
        .collect();
    Ok(stops
        .iter()
        .map(|s| {
            let at_host = s.host_id.and_then(|id| at_hosts.get(&id)).cloned();
            let place = match s.point_id.and_then(|id| points.get(&id)) {
                Some(p) => (p.address.clone(), Some((p.longitude, p.latitude))),
                None if at_host.is_some() => at_host.unwrap_or((None, None)),
                None => (
                    None,
                    regions
                        .get(&s.region_code)
                        .and_then(|r| r.longitude.zip(r.latitude)),
                ),
            };
            (s.id, place)
        })
        .collect())
}

/// A booking with what its view shows: its parts, its stop's slots, the stop and the date.
#[derive(Debug, Clone)]
pub struct Held {
    pub booking: booking::Model,
    pub parts: Vec<booking_part::Model>,
    pub slots: Vec<booking_slot::Model>,
    pub stop: drive_stop::Model,
    pub date: NaiveDate,
}

/// `booking` with its stop, slots and parts (`parts` when given: those it held before a
/// cancellation).
///
/// # Errors
/// The database fails, or the booking's stop is gone (a fault).
pub async fn held(
    db: &DatabaseConnection,
    booking: booking::Model,
    parts: Option<Vec<booking_part::Model>>,
) -> Result<Held, BookingsError> {
    let (stop, drive) = store::stop_with_drive(db, booking.stop_id)
        .await?
        .ok_or_else(|| BookingsError::internal(format!("booking {}: no stop", booking.id)))?;
    let parts = match parts {
        Some(p) => p,
        None => store::parts_of(db, &[booking.id]).await?,
    };
    let slots = store::slots_of(db, &[stop.id]).await?;
    Ok(Held {
        booking,
        parts,
        slots,
        stop,
        date: drive.date,
    })
}

/// A group request with its stop and the drive's date.
///
/// # Errors
/// The database fails, or the request's stop is gone (a fault).
pub async fn request_at(
    db: &DatabaseConnection,
    request: group_request::Model,
) -> Result<(group_request::Model, drive_stop::Model, NaiveDate), BookingsError> {
    let (stop, drive) = store::stop_with_drive(db, request.stop_id)
        .await?
        .ok_or_else(|| BookingsError::internal(format!("request {}: no stop", request.id)))?;
    Ok((request, stop, drive.date))
}

/// A booking by its code (normalised) with its drive: what staff look up before changing it.
///
/// # Errors
/// The database fails.
pub async fn booking_with_drive(
    db: &DatabaseConnection,
    code: &str,
) -> Result<Option<(booking::Model, drive::Model)>, BookingsError> {
    let Some(b) = store::find_by_code(db, &rules::normalise_code(code)).await? else {
        return Ok(None);
    };
    Ok(store::stop_with_drive(db, b.stop_id)
        .await?
        .map(|(_, drive)| (b, drive)))
}

/// A group request by its id with its drive.
///
/// # Errors
/// The database fails.
pub async fn request_with_drive(
    db: &DatabaseConnection,
    id: i64,
) -> Result<Option<(group_request::Model, drive::Model)>, BookingsError> {
    let Some(r) = store::find_request(db, id).await? else {
        return Ok(None);
    };
    Ok(store::stop_with_drive(db, r.stop_id)
        .await?
        .map(|(_, drive)| (r, drive)))
}

/// One stop's bookings (active and cancelled), slots and group requests.
#[derive(Debug, Clone)]
pub struct StopBookings {
    pub stop: drive_stop::Model,
    pub slots: Vec<booking_slot::Model>,
    pub bookings: Vec<booking::Model>,
    /// The parts of every booking of the stop.
    pub parts: Vec<booking_part::Model>,
    pub requests: Vec<group_request::Model>,
}

/// The bookings of `stops` (a drive's), per stop, in the order of `stops`.
///
/// # Errors
/// The database fails.
pub async fn of_stops(
    db: &DatabaseConnection,
    stops: Vec<drive_stop::Model>,
) -> Result<Vec<StopBookings>, BookingsError> {
    let ids: Vec<i64> = stops.iter().map(|s| s.id).collect();
    let slots = store::slots_of(db, &ids).await?;
    let all = store::of_stops(db, &ids, false).await?;
    let parts = store::parts_of(db, &all.iter().map(|b| b.id).collect::<Vec<_>>()).await?;
    let requests = store::requests_of_stops(db, &ids).await?;
    Ok(stops
        .into_iter()
        .map(|stop| {
            let bookings: Vec<booking::Model> = all
                .iter()
                .filter(|b| b.stop_id == stop.id)
                .cloned()
                .collect();
            StopBookings {
                slots: slots
                    .iter()
                    .filter(|s| s.stop_id == stop.id)
                    .cloned()
                    .collect(),
                parts: parts
                    .iter()
                    .filter(|p| bookings.iter().any(|b| b.id == p.booking_id))
                    .cloned()
                    .collect(),
                bookings,
                requests: requests
                    .iter()
                    .filter(|r| r.stop_id == stop.id)
                    .cloned()
                    .collect(),
                stop,
            }
        })
        .collect())
}
