//! A drive's life: made by hand or from an accepted plan (a draft), published (its stops'
//! booking slots open), started and completed on its day, or cancelled with every booking.
//!
//! A vehicle has at most one drive a day that is not cancelled; that is checked in the
//! creating transaction, with the vehicle's row locked (see the migration
//! `m20261126_000008_create_drives`). Every stop of a new drive gets its preparation
//! checklist in the transaction that makes the drive, from the template of the vehicle's
//! station as it is then (or the defaults).
//!
//! A drive's region holds every one of its stops ([`DrivesError::OutsideRegion`] naming the
//! stop otherwise), so that whoever may read the drive may read each stop.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{drive, drive_stop};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use serde_json::Value;

use super::{Acting, DrivesError, checked, corrupt};
use crate::bookings::Cancelled;
use crate::domain::account::Scope;
use crate::domain::booking::today_in_china;
use crate::domain::checklist::TemplateItem;
use crate::domain::drive::{self as rules, DayBound, DriveStatus};
use crate::domain::fleet::TimeOfDay;
use crate::domain::plan::PlanStatus;
use crate::domain::point::PointStatus;
use crate::domain::policy::{Action, Decision, Resource};
use crate::domain::region::{Level, RegionCode};
use crate::error::{FieldError, FieldErrors};
use crate::plans::build::SiteRef;
use crate::plans::request::PlanRequest;
use crate::store::audit::{self, Change};
use crate::store::drives as store;
use crate::store::{checklists, fleet, hosts, plans, points, regions};
use crate::validation::{self, Validate, ValidationError, across};
use crate::versioned::{self, Outcome};

/// At most this many stops on a drive made by hand.
pub const MAX_STOPS: usize = 50;

/// A drive made by hand: every field is checked and every fault named
/// (`stops[1].planned_end`, …).
#[derive(Debug, Clone, Validate)]
#[validate(schema(function = "stop_count", skip_on_field_errors = false))]
pub struct NewDrive {
    pub vehicle_id: i64,
    pub date: NaiveDate,
    /// The region the drive belongs to; default: the vehicle's station's. It must hold every
    /// stop's site.
    #[validate(custom(function = "region_code"))]
    pub region: Option<String>,
    /// In the order the vehicle visits them; 1 to [`MAX_STOPS`].
    #[validate(nested)]
    pub stops: Vec<NewStop>,
}

/// A stop of a drive made by hand.
#[derive(Debug, Clone, Validate)]
#[validate(schema(function = "ends_after_start", skip_on_field_errors = false))]
pub struct NewStop {
    /// `point-<id>`: an active point the caller may read; or `host-<id>`: a host organisation
    /// the caller may read (a group drive).
    #[validate(custom(function = "point_site"))]
    pub site: String,
    /// `HH:MM`.
    #[validate(custom(function = "time_of_day"))]
    pub planned_start: String,
    /// `HH:MM`, after `planned_start`.
    #[validate(custom(function = "time_of_day"))]
    pub planned_end: String,
    #[validate(custom(function = "zero_or_more"))]
    pub expected_donors: f64,
    /// How many the host hopes will sign up: a host's stop only, 1 to [`MAX_SIGNUP_GOAL`].
    #[validate(range(min = 1, max = 100_000, message = "must be between 1 and 100000"))]
    pub signup_goal: Option<i32>,
}

/// The largest sign-up goal taken (a host's largest headcount).
pub const MAX_SIGNUP_GOAL: i32 = 100_000;

fn region_code(raw: &str) -> Result<(), ValidationError> {
    RegionCode::parse(raw.trim())
        .map(|_| ())
        .map_err(|_| validation::error("region", "must be a 12-digit region code"))
}

fn point_site(raw: &str) -> Result<(), ValidationError> {
    match SiteRef::parse(raw.trim()) {
        Ok(SiteRef::Point(_) | SiteRef::Host(_)) => Ok(()),
        Ok(SiteRef::Region(_)) | Err(_) => {
            Err(validation::error("site", "must be point-<id> or host-<id>"))
        }
    }
}

fn time_of_day(raw: &str) -> Result<(), ValidationError> {
    TimeOfDay::parse(raw)
        .map(|_| ())
        .map_err(|e| validation::error("time", e))
}

fn zero_or_more(value: f64) -> Result<(), ValidationError> {
    if !value.is_finite() || value < 0.0 {
        return Err(validation::error("expected_donors", "must be zero or more"));
    }
    Ok(())
}

/// Both times of a stop, when both read.
fn times(stop: &NewStop) -> Option<(TimeOfDay, TimeOfDay)> {
    Some((
        TimeOfDay::parse(&stop.planned_start).ok()?,
        TimeOfDay::parse(&stop.planned_end).ok()?,
    ))
}

fn ends_after_start(stop: &NewStop) -> Result<(), ValidationError> {
    match times(stop) {
        Some((start, end)) if end <= start => {
            Err(across("planned_end", "must be after planned_start"))
        }
        _ => Ok(()),
    }
}

/// 1 to [`MAX_STOPS`] stops.
fn stop_count(drive: &NewDrive) -> Result<(), ValidationError> {
    if drive.stops.is_empty() {
        return Err(across("stops", "name at least one stop"));
    }
    if drive.stops.len() > MAX_STOPS {
        return Err(across("stops", format!("at most {MAX_STOPS} stops")));
    }
    Ok(())
}

/// The rule across items: each stop (with both times readable and in order) starts no
/// earlier than the previous such stop ends; every stop breaking it is named
/// (`stops[1].planned_start`). `validator`'s schema functions answer one error each, so this
/// one runs beside [`validation::check`], adding to the same list.
fn check_overlaps(drive: &NewDrive, errors: &mut FieldErrors) {
    let mut previous_end: Option<i32> = None;
    for (i, stop) in drive.stops.iter().enumerate() {
        let Some((start, end)) = times(stop) else {
            continue;
        };
        if end > start && previous_end.is_some_and(|p| start.minutes() < p) {
            errors.add(
                &format!("stops[{i}].planned_start"),
                "must not be before the previous stop's planned_end",
            );
        }
        previous_end = Some(end.minutes());
    }
}

/// Every field rule of `cmd` and the rule across its stops.
fn check_fields(cmd: &NewDrive, errors: &mut FieldErrors) {
    validation::check(cmd, errors);
    check_overlaps(cmd, errors);
}

/// A drive with its stops, as stored.
pub type Made = (drive::Model, Vec<drive_stop::Model>);

/// Makes a draft drive by hand, in its own write transaction: the fields keep every rule
/// (all faults named at once), the vehicle is active and one the caller reads, the caller may
/// make drives in the region (given, or the vehicle's station's), every stop is an active
/// point the caller reads, inside that region.
///
/// # Errors
/// [`DrivesError::Invalid`], [`DrivesError::Denied`], [`DrivesError::OutsideRegion`],
/// [`DrivesError::Conflict`] (the vehicle has a drive that day); the database fails.
pub async fn create(
    db: &DatabaseConnection,
    cmd: NewDrive,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Made, DrivesError> {
    let mut errors = FieldErrors::default();
    check_fields(&cmd, &mut errors);
    // A vehicle of a station outside the caller's read scope does not exist for them: the
    // same answer as for an id nobody has, whatever its status.
    let vehicle = fleet::find_vehicle_with_station(db, cmd.vehicle_id)
        .await?
        .filter(|(_, station)| acting.reads_registry(&station.region_code));
    let vehicle = match vehicle {
        Some((v, _)) if v.status != "active" => {
            errors.add("vehicle_id", format!("vehicle {} is retired", v.id));
            None
        }
        Some(found) => Some(found),
        None => {
            errors.add(
                "vehicle_id",
                format!("no vehicle with id {}", cmd.vehicle_id),
            );
            None
        }
    };
    let region = match cmd.region.as_deref().map(str::trim) {
        // A malformed code is named by the field rules.
        Some(raw) => RegionCode::parse(raw).ok(),
        None => vehicle
            .as_ref()
            .and_then(|(_, station)| RegionCode::parse(&station.region_code).ok()),
    };
    let mut region_scope = None;
    if let Some(code) = &region {
        acting.authorize(Action::Create, Resource::Plan(code), || {
            format!("region with code {code}")
        })?;
        match regions::find(db, code).await? {
            Some(found) => region_scope = Some(Scope::new(code.clone(), found.level)),
            None => errors.add("region", format!("no region with code {code}")),
        }
    }
    let mut stops = Vec::new();
    for (i, input) in cmd.stops.iter().enumerate() {
        let field = format!("stops[{i}].site");
        // The shape of the site is a field rule; here: the point, which must be active and
        // one the caller reads (a point outside the caller's read scope does not exist for
        // them, whatever its status), or the host, which the caller reads.
        let site = match SiteRef::parse(input.site.trim()) {
            Ok(SiteRef::Point(pid)) => {
                if input.signup_goal.is_some() {
                    errors.add(
                        &format!("stops[{i}].signup_goal"),
                        "only a stop at a host (host-<id>) has a sign-up goal",
                    );
                }
                match points::find(db, pid)
                    .await?
                    .filter(|p| acting.reads_registry(&p.region_code))
                {
                    Some(p) if p.status != PointStatus::Active.as_str() => {
                        errors.add(&field, format!("point {pid} is {}", p.status));
                        None
                    }
                    Some(p) => Some((
                        format!("point-{}", p.id),
                        Some(p.id),
                        None,
                        p.region_code,
                        p.name,
                    )),
                    None => {
                        errors.add(&field, format!("no point with id {pid}"));
                        None
                    }
                }
            }
            Ok(SiteRef::Host(hid)) => match hosts::find(db, hid)
                .await?
                .filter(|h| acting.reads_registry(&h.region_code))
            {
                Some(h) => Some((
                    format!("host-{}", h.id),
                    None,
                    Some(h.id),
                    h.region_code,
                    h.name,
                )),
                None => {
                    errors.add(&field, format!("no host with id {hid}"));
                    None
                }
            },
            _ => continue,
        };
        if let (Some((site_id, point_id, host_id, region_code, name)), Some((start, end))) =
            (site, times(input))
        {
            stops.push(store::NewStop {
                site_id,
                point_id,
                region_code,
                name,
                planned_start: start.minutes(),
                planned_end: end.minutes(),
                expected_donors: input.expected_donors,
                host_id,
                signup_goal: input.signup_goal,
            });
        }
    }
    checked(errors)?;
    let region =
        region.ok_or_else(|| DrivesError::Corrupt("a drive without a region".to_owned()))?;
    if let Some(scope) = &region_scope {
        let fields: Vec<String> = (0..stops.len())
            .map(|i| format!("stops[{i}].site"))
            .collect();
        outside_region(scope, &stops, &fields)?;
    }
    let mut created = insert_all(
        db,
        acting,
        vec![store::NewDrive {
            plan_id: None,
            vehicle_id: cmd.vehicle_id,
            date: cmd.date,
            region_code: region.to_string(),
            stops,
            created_by: acting.username(),
        }],
        now,
    )
    .await?;
    created
        .pop()
        .ok_or_else(|| DrivesError::Corrupt("no drive made".to_owned()))
}

/// Accepts a done, feasible plan: one draft drive per route, with its stops (planned start
/// and end are when donation opens and closes at the stop), all in one transaction. Refused
/// when a vehicle already has a drive that day that is not cancelled, and when the plan was
/// accepted before.
///
/// # Errors
/// [`DrivesError::NotFound`], [`DrivesError::Denied`], [`DrivesError::Conflict`] (not done,
/// infeasible, empty, accepted before, a vehicle taken), [`DrivesError::OutsideRegion`]; the
/// database fails.
pub async fn accept_plan(
    db: &DatabaseConnection,
    id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Made>, DrivesError> {
    let plan = plans::find(db, id)
        .await?
        .ok_or_else(|| DrivesError::NotFound(format!("no plan with id {id}")))?;
    let region = RegionCode::parse(&plan.region_code)
        .map_err(|e| DrivesError::Corrupt(format!("plan {id}: {e}")))?;
    acting.authorize(Action::Create, Resource::Plan(&region), || {
        format!("plan with id {id}")
    })?;
    if plan.status != PlanStatus::Done.as_str() {
        return Err(DrivesError::Conflict(format!(
            "plan {id} is {}; only a done plan can be accepted",
            plan.status
        )));
    }
    let result: Value = serde_json::from_str(plan.result.as_deref().unwrap_or("null"))
        .map_err(|e| DrivesError::Corrupt(format!("plan {id}: stored result: {e}")))?;
    let violations = result["violations"].as_array().map_or(0, Vec::len);
    if violations > 0 {
        return Err(DrivesError::Conflict(format!(
            "plan {id} breaks {violations} rule(s); only a feasible plan can be accepted"
        )));
    }
    let bad = |what: String| DrivesError::Corrupt(format!("plan {id}: result: {what}"));
    // The sign-up goals the request gave its hosts: each host stop starts with its goal.
    let goals: HashMap<i64, i32> = serde_json::from_str::<PlanRequest>(&plan.request)
        .map(|r| {
            r.hosts
                .into_iter()
                .filter_map(|h| Some((h.host, h.signup_goal?)))
                .collect()
        })
        .unwrap_or_default();
    let mut drives = Vec::new();
    for route in result["routes"].as_array().into_iter().flatten() {
        let vehicle_id = route["vehicle"]
            .as_str()
            .and_then(|v| v.strip_prefix("vehicle-"))
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| bad(format!("vehicle {}", route["vehicle"])))?;
        // Drives are made only on vehicles the caller may see: a plan that uses a station's
        // vehicles outside their area is for those who read every station in it (as its
        // instance is).
        let reachable = fleet::find_vehicle_with_station(db, vehicle_id)
            .await?
            .is_some_and(|(_, station)| acting.reads_registry(&station.region_code));
        if !reachable {
            return Err(DrivesError::Denied {
                decision: Decision::Forbidden,
                what: format!("plan with id {id}"),
            });
        }
        let date: NaiveDate = route["date"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| bad(format!("date {}", route["date"])))?;
        let mut stops = Vec::new();
        for stop in route["stops"].as_array().into_iter().flatten() {
            let site = stop["site"].as_str().unwrap_or("").to_owned();
            let (point_id, host_id, region_code) = match SiteRef::parse(&site).map_err(bad)? {
                SiteRef::Point(pid) => {
                    let point = points::find(db, pid)
                        .await?
                        .ok_or_else(|| bad(format!("point {pid} is gone")))?;
                    (Some(pid), None, point.region_code)
                }
                SiteRef::Host(hid) => {
                    let host = hosts::find(db, hid)
                        .await?
                        .ok_or_else(|| bad(format!("host {hid} is gone")))?;
                    (None, Some(hid), host.region_code)
                }
                SiteRef::Region(code) => (None, None, code.to_string()),
            };
            let time = |key: &str| {
                TimeOfDay::parse(stop[key].as_str().unwrap_or(""))
                    .map(TimeOfDay::minutes)
                    .map_err(bad)
            };
            stops.push(store::NewStop {
                site_id: site,
                point_id,
                region_code,
                name: stop["name"].as_str().unwrap_or("").to_owned(),
                planned_start: time("opens")?,
                planned_end: time("closes")?,
                expected_donors: stop["expected"].as_f64().unwrap_or(0.0),
                host_id,
                signup_goal: host_id.and_then(|h| goals.get(&h).copied()),
            });
        }
        drives.push(store::NewDrive {
            plan_id: Some(id),
            vehicle_id,
            date,
            region_code: plan.region_code.clone(),
            stops,
            created_by: acting.username(),
        });
    }
    if drives.is_empty() {
        return Err(DrivesError::Conflict(format!(
            "plan {id} has no routes; there is nothing to accept"
        )));
    }
    let level = regions::find(db, &region)
        .await?
        .map_or(Level::Village, |r| r.level);
    let scope = Scope::new(region.clone(), level);
    for (r, d) in drives.iter().enumerate() {
        let fields: Vec<String> = (0..d.stops.len())
            .map(|i| format!("routes[{r}].stops[{i}].site"))
            .collect();
        outside_region(&scope, &d.stops, &fields)?;
    }
    let created = insert_all(db, acting, drives, now).await?;
    tracing::info!(plan_id = id, drives = created.len(), "plan accepted");
    Ok(created)
}

/// Inserts `drives` in one transaction, each checked against the vehicle's other drives that
/// day (vehicle row locked) and audited; a conflict naming the vehicle and date when one is
/// taken. Every stop gets its preparation checklist from the template of the vehicle's station
/// as it is now (or the defaults), in the same transaction.
async fn insert_all(
    db: &DatabaseConnection,
    acting: &Acting<'_>,
    drives: Vec<store::NewDrive>,
    now: DateTime<Utc>,
) -> Result<Vec<Made>, DrivesError> {
    let txn = crate::db::begin_write(db).await?;
    let plan_id = drives.first().and_then(|d| d.plan_id);
    if let Some(plan_id) = plan_id {
        plans::lock(&txn, plan_id).await?;
    }
    if let Some(plan_id) = plan_id
        && store::plan_accepted(&txn, plan_id).await?
    {
        txn.rollback().await?;
        return Err(DrivesError::Conflict(format!(
            "plan {plan_id} has already been accepted"
        )));
    }
    let mut out = Vec::with_capacity(drives.len());
    // Each station's checklist template, read once per transaction.
    let mut templates: HashMap<i64, Vec<TemplateItem>> = HashMap::new();
    for new in drives {
        let vehicle = fleet::lock_vehicle(&txn, new.vehicle_id)
            .await?
            .ok_or_else(|| {
                DrivesError::NotFound(format!("no vehicle with id {}", new.vehicle_id))
            })?;
        if let Some(other) = store::taken(&txn, new.vehicle_id, new.date).await? {
            txn.rollback().await?;
            return Err(DrivesError::Conflict(format!(
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
                actor: acting.actor.clone(),
                at: now,
            },
        )
        .await?;
        out.push((drive, stops));
    }
    txn.commit().await?;
    Ok(out)
}

/// Refuses, naming each stop (`fields[i]` for `stops[i]`), stops whose site lies outside the
/// drive's region: a drive's region holds all its stops, since who may read and run the drive
/// is decided by it.
fn outside_region(
    scope: &Scope,
    stops: &[store::NewStop],
    fields: &[String],
) -> Result<(), DrivesError> {
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
    Err(DrivesError::OutsideRegion {
        detail: format!(
            "{} stop(s) lie outside the drive's region {}",
            errors.len(),
            scope.code
        ),
        errors,
    })
}

/// A move of a drive to its next state.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The new status, as the client wrote it.
    pub to: String,
    /// Why: required to cancel.
    pub reason: Option<String>,
}

/// What a move did beside the drive's row: its stops, and when it was cancelled, everyone
/// whose booking it cancelled (each sent a cancellation notice).
#[derive(Debug, Clone)]
pub struct Effects {
    pub stops: Vec<drive_stop::Model>,
    pub booked: Option<Vec<Cancelled>>,
}

/// Moves `current` (expected at version `expected`) to its next state: `draft` ->
/// `published` -> `in_progress` -> `completed`, or to `cancelled` (with a reason) from any
/// state but the final ones. `in_progress` and `completed` wait for the drive's date (China
/// time, from `now`): on it or later, never before. Audited (action: the new status).
/// Publishing opens the stops' booking slots; cancelling cancels every booking and writes
/// each a notice. `Stale` carries the drive as it is, without effects.
///
/// # Errors
/// [`DrivesError::InvalidField`] (`to`, `reason`), [`DrivesError::Conflict`] (not from
/// here, or not yet); the database fails.
pub async fn transition(
    db: &DatabaseConnection,
    current: drive::Model,
    expected: i32,
    cmd: Transition,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome<(drive::Model, Option<Effects>)>, DrivesError> {
    let to: DriveStatus = cmd
        .to
        .trim()
        .parse()
        .map_err(|e: String| DrivesError::invalid("to", e))?;
    let reason = cmd
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    if to == DriveStatus::Cancelled && reason.is_none() {
        return Err(DrivesError::invalid(
            "reason",
            "cancelling a drive needs a reason",
        ));
    }
    let id = current.id;
    let from = current.status.clone();
    let outcome = versioned::update(
        db,
        (current, None),
        expected,
        async |(current, _): &(drive::Model, Option<Effects>)| {
            let from: DriveStatus = current.status.parse().map_err(|e: String| corrupt(id, e))?;
            rules::transition(from, to, reason.as_deref())
                .map_err(|e| DrivesError::Conflict(format!("invalid to: {e}")))?;
            rules::day_allows(DayBound::Move(to), current.date, today_in_china(now))
                .map_err(|e| DrivesError::Conflict(format!("invalid to: {e}")))?;
            Ok(reason)
        },
        async |txn: &DatabaseTransaction,
               (current, _): &(drive::Model, Option<Effects>),
               reason: Option<String>| {
            write_move(txn, current, expected, to, reason, acting, now).await
        },
        async || {
            let latest = store::find(db, id)
                .await?
                .ok_or_else(|| DrivesError::NotFound(format!("no drive with id {id}")))?;
            Ok((latest, None))
        },
    )
    .await?;
    if let Outcome::Updated(_) = &outcome {
        tracing::info!(drive_id = id, %from, %to, "drive moved");
    }
    Ok(outcome)
}

/// Inside the move's transaction: the conditional write, its audit record and its effects
/// on bookings; `None` when the version moved on.
async fn write_move(
    txn: &DatabaseTransaction,
    current: &drive::Model,
    expected: i32,
    to: DriveStatus,
    reason: Option<String>,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Option<(drive::Model, Option<Effects>)>, DrivesError> {
    let cancel_reason = (to == DriveStatus::Cancelled).then(|| reason.unwrap_or_default());
    let Some(written) = store::set_status_if_version(
        txn,
        current.id,
        expected,
        to,
        cancel_reason,
        acting.username(),
        now,
    )
    .await?
    else {
        return Ok(None);
    };
    audit::record(
        txn,
        Change {
            entity: "drive",
            entity_id: written.id.to_string(),
            action: to.as_str(),
            region_code: Some(written.region_code.clone()),
            before: Some(current),
            after: Some(&written),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    let stops = store::stops(txn, written.id).await?;
    let mut booked = None;
    match to {
        DriveStatus::Published => {
            crate::bookings::open_slots(txn, &written, &stops)
                .await
                .map_err(DrivesError::Bookings)?;
        }
        DriveStatus::Cancelled => {
            booked = Some(
                crate::bookings::cancel_all(
                    txn,
                    &written,
                    &stops,
                    written.cancel_reason.as_deref().unwrap_or(""),
                    now,
                )
                .await
                .map_err(DrivesError::Bookings)?,
            );
        }
        _ => {}
    }
    Ok(Some((written, Some(Effects { stops, booked }))))
}

/// The stored times of a stop as `HH:MM`.
///
/// # Errors
/// [`DrivesError::Corrupt`] for minutes that are no time of day.
pub fn clock(drive_id: i64, minutes: i32) -> Result<TimeOfDay, DrivesError> {
    TimeOfDay::from_minutes(minutes).map_err(|e| corrupt(drive_id, e))
}

/// Reads a drive's stored status.
///
/// # Errors
/// [`DrivesError::Corrupt`].
pub fn status_of(m: &drive::Model) -> Result<DriveStatus, DrivesError> {
    m.status.parse().map_err(|e: String| corrupt(m.id, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop(site: &str, start: &str, end: &str, expected: f64) -> NewStop {
        NewStop {
            site: site.to_owned(),
            planned_start: start.to_owned(),
            planned_end: end.to_owned(),
            expected_donors: expected,
            signup_goal: None,
        }
    }

    fn drive(region: Option<&str>, stops: Vec<NewStop>) -> NewDrive {
        NewDrive {
            vehicle_id: 1,
            date: NaiveDate::from_ymd_opt(2026, 12, 9).expect("a date"),
            region: region.map(str::to_owned),
            stops,
        }
    }

    fn faults(cmd: &NewDrive) -> Vec<(String, String)> {
        let mut errors = FieldErrors::default();
        check_fields(cmd, &mut errors);
        errors.0.into_iter().map(|e| (e.field, e.message)).collect()
    }

    #[test]
    fn every_field_rule_of_every_stop_is_named_by_its_path() {
        let cmd = drive(
            Some("99"),
            vec![
                stop("point-1", "9", "10:00", 1.0),
                stop("point-2", "11:00", "10:30", -1.0),
                stop("region-990101101000", "12:00", "25:00", 1.0),
            ],
        );
        let found = faults(&cmd);
        let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "region",
                "stops[0].planned_start",
                "stops[1].expected_donors",
                "stops[1].planned_end",
                "stops[2].planned_end",
                "stops[2].site",
            ]
        );
        assert!(found.contains(&("region".into(), "must be a 12-digit region code".into())));
        assert!(found.contains(&(
            "stops[1].planned_end".into(),
            "must be after planned_start".into()
        )));
        assert!(found.contains(&(
            "stops[1].expected_donors".into(),
            "must be zero or more".into()
        )));
        assert!(found.contains(&(
            "stops[2].site".into(),
            "must be point-<id> or host-<id>".into()
        )));
    }

    #[test]
    fn stops_are_counted_and_must_not_overlap() {
        assert_eq!(
            faults(&drive(None, vec![])),
            [("stops".to_owned(), "name at least one stop".to_owned())]
        );
        let many = (0..=MAX_STOPS)
            .map(|_| stop("point-1", "09:00", "10:00", 1.0))
            .collect();
        assert_eq!(
            faults(&drive(None, many))[0],
            ("stops".to_owned(), format!("at most {MAX_STOPS} stops"))
        );
        let overlapping = drive(
            None,
            vec![
                stop("point-1", "09:00", "11:00", 1.0),
                stop("point-4", "10:00", "12:00", 1.0),
                stop("point-5", "11:30", "13:00", 1.0),
            ],
        );
        let before = "must not be before the previous stop's planned_end".to_owned();
        assert_eq!(
            faults(&overlapping),
            [
                ("stops[1].planned_start".to_owned(), before.clone()),
                ("stops[2].planned_start".to_owned(), before),
            ]
        );
        let fine = drive(
            Some("990101101000"),
            vec![
                stop("point-1", "08:30", "10:00", 12.5),
                stop("point-4", "10:45", "12:30", 8.0),
            ],
        );
        assert!(faults(&fine).is_empty());
    }
}
