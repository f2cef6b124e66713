//! Bloodmobiles: register, change, retire. A vehicle lives at its home station; plates are
//! unique across the whole registry.

use chrono::{DateTime, Utc};
use entity::{station, vehicle};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use serde::Deserialize;

use super::{FleetError, checked};
use crate::domain::fleet::{self, Plate, StationStatus, TimeOfDay, VehicleStatus};
use crate::error::FieldErrors;
use crate::store::audit::{self, Actor, Change};
use crate::store::constraint::UniqueKey;
use crate::store::fleet::{self as store, VehicleFields};
use crate::validation::{self, Validate, ValidationError};
use crate::versioned::{self, Outcome};

/// The unique index on `vehicles.plate` (migration `m20261126_000006_create_fleet`).
pub const PLATE_KEY: UniqueKey = UniqueKey {
    name: "uq_vehicles_plate",
    columns: "vehicles.plate",
};

/// A vehicle to register (also the vehicles of `seed-data/demo-network.json`, with the
/// station's id added).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewVehicle {
    pub name: String,
    /// Spaces, `·` and `-` are dropped and ASCII letters upper-cased.
    pub plate: String,
    pub station_id: i64,
    pub beds: i32,
    pub staff: i32,
    pub max_donors_per_day: i32,
    /// `"HH:MM"`.
    pub day_start: String,
    pub day_end: String,
    pub setup_min: i32,
    pub teardown_min: i32,
    pub cost_per_km: f64,
    /// Default [`fleet::DEFAULT_DONORS_PER_BED_HOUR`].
    pub donors_per_bed_hour: Option<f64>,
    /// Default [`fleet::DEFAULT_SLOT_MINUTES`].
    pub slot_minutes: Option<i32>,
    /// Default `active`.
    pub status: Option<VehicleStatus>,
    pub notes: Option<String>,
}

/// A change to a vehicle: `None` keeps a member, `Some(None)` clears it (an error for
/// members that cannot be cleared).
#[derive(Debug, Clone, Default)]
pub struct VehiclePatch {
    pub name: Option<Option<String>>,
    pub plate: Option<Option<String>>,
    pub station_id: Option<Option<i64>>,
    pub beds: Option<Option<i32>>,
    pub staff: Option<Option<i32>>,
    pub max_donors_per_day: Option<Option<i32>>,
    pub day_start: Option<Option<String>>,
    pub day_end: Option<Option<String>>,
    pub setup_min: Option<Option<i32>>,
    pub teardown_min: Option<Option<i32>>,
    pub cost_per_km: Option<Option<f64>>,
    pub donors_per_bed_hour: Option<Option<f64>>,
    pub slot_minutes: Option<Option<i32>>,
    pub status: Option<Option<VehicleStatus>>,
    pub notes: Option<Option<String>>,
}

/// A vehicle with its home station.
pub type VehicleAt = (vehicle::Model, station::Model);

/// The vehicle as asked (for a change: merged over what is stored), before validation, with
/// its field rules. The station's (it exists, an active vehicle needs an active station) need
/// the database and are checked when writing.
#[derive(Validate)]
#[validate(schema(function = "day_rule", skip_on_field_errors = false))]
struct Draft {
    #[validate(custom(function = "name_rule"))]
    name: String,
    #[validate(custom(function = "plate_rule"))]
    plate: String,
    station_id: i64,
    #[validate(custom(function = "beds_rule"))]
    beds: i32,
    #[validate(custom(function = "staff_rule"))]
    staff: i32,
    #[validate(custom(function = "max_donors_rule"))]
    max_donors_per_day: i32,
    #[validate(custom(function = "time_rule"))]
    day_start: String,
    #[validate(custom(function = "time_rule"))]
    day_end: String,
    #[validate(custom(function = "setup_rule"))]
    setup_min: i32,
    #[validate(custom(function = "setup_rule"))]
    teardown_min: i32,
    #[validate(custom(function = "cost_rule"))]
    cost_per_km: f64,
    #[validate(custom(function = "donors_per_bed_hour_rule"))]
    donors_per_bed_hour: f64,
    #[validate(custom(function = "slot_rule"))]
    slot_minutes: i32,
    status: VehicleStatus,
    #[validate(custom(function = "notes_rule"))]
    notes: Option<String>,
}

/// The order the answer names broken fields in.
const FIELD_ORDER: &[&str] = &[
    "name",
    "notes",
    "plate",
    "beds",
    "staff",
    "max_donors_per_day",
    "setup_min",
    "teardown_min",
    "slot_minutes",
    "cost_per_km",
    "donors_per_bed_hour",
    "day_start",
    "day_end",
];

fn name_rule(value: &str) -> Result<(), ValidationError> {
    validation::required_text(value, 100, false)
}

fn notes_rule(value: &str) -> Result<(), ValidationError> {
    validation::text(value, 2000, true)
}

fn plate_rule(value: &str) -> Result<(), ValidationError> {
    Plate::parse(value)
        .map(|_| ())
        .map_err(|m| validation::error("plate", m))
}

fn time_rule(value: &str) -> Result<(), ValidationError> {
    TimeOfDay::parse(value)
        .map(|_| ())
        .map_err(|m| validation::error("time", m))
}

/// `value` within `(min, max)`, inclusive.
fn between(value: i32, (min, max): (i32, i32)) -> Result<(), ValidationError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(validation::error(
            "range",
            format!("must be between {min} and {max}"),
        ))
    }
}

fn beds_rule(value: i32) -> Result<(), ValidationError> {
    between(value, fleet::BEDS)
}

fn staff_rule(value: i32) -> Result<(), ValidationError> {
    between(value, fleet::STAFF)
}

fn max_donors_rule(value: i32) -> Result<(), ValidationError> {
    between(value, fleet::MAX_DONORS_PER_DAY)
}

fn setup_rule(value: i32) -> Result<(), ValidationError> {
    between(value, fleet::SETUP_MINUTES)
}

fn slot_rule(value: i32) -> Result<(), ValidationError> {
    between(value, fleet::SLOT_MINUTES)
}

fn cost_rule(value: f64) -> Result<(), ValidationError> {
    let (min, max) = fleet::COST_PER_KM;
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(validation::error(
            "range",
            format!("must be between {min} and {max} (yuan per km)"),
        ))
    }
}

fn donors_per_bed_hour_rule(value: f64) -> Result<(), ValidationError> {
    let (min, max) = fleet::DONORS_PER_BED_HOUR;
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(validation::error(
            "range",
            format!("must be between {min} and {max}"),
        ))
    }
}

/// The day ends after it starts (when both times are valid).
fn day_rule(draft: &Draft) -> Result<(), ValidationError> {
    if let (Ok(start), Ok(end)) = (
        TimeOfDay::parse(&draft.day_start),
        TimeOfDay::parse(&draft.day_end),
    ) && end <= start
    {
        return Err(validation::across(
            "day_end",
            format!("must be after day_start ({start})"),
        ));
    }
    Ok(())
}

impl From<NewVehicle> for Draft {
    fn from(b: NewVehicle) -> Self {
        Draft {
            name: b.name,
            plate: b.plate,
            station_id: b.station_id,
            beds: b.beds,
            staff: b.staff,
            max_donors_per_day: b.max_donors_per_day,
            day_start: b.day_start,
            day_end: b.day_end,
            setup_min: b.setup_min,
            teardown_min: b.teardown_min,
            cost_per_km: b.cost_per_km,
            donors_per_bed_hour: b
                .donors_per_bed_hour
                .unwrap_or(fleet::DEFAULT_DONORS_PER_BED_HOUR),
            slot_minutes: b.slot_minutes.unwrap_or(fleet::DEFAULT_SLOT_MINUTES),
            status: b.status.unwrap_or(VehicleStatus::Active),
            notes: b.notes,
        }
    }
}

/// Checks every rule that needs no database; every broken one is reported at once.
fn validate(draft: Draft) -> Result<VehicleFields, FleetError> {
    let mut errors = FieldErrors::default();
    validation::check_in_order(&draft, &mut errors, FIELD_ORDER);
    checked(errors)?;
    // Every rule passed: clean and parse what is stored.
    let name = crate::domain::text::clean(Some(draft.name), 100, false)
        .ok()
        .flatten();
    let notes = crate::domain::text::clean(draft.notes, 2000, true)
        .ok()
        .flatten();
    let plate = Plate::parse(&draft.plate).ok();
    let day_start = TimeOfDay::parse(&draft.day_start).ok();
    let day_end = TimeOfDay::parse(&draft.day_end).ok();
    let (Some(name), Some(plate), Some(day_start), Some(day_end)) =
        (name, plate, day_start, day_end)
    else {
        unreachable!("every missing field added an error above");
    };
    Ok(VehicleFields {
        name,
        plate,
        station_id: draft.station_id,
        beds: draft.beds,
        staff: draft.staff,
        max_donors_per_day: draft.max_donors_per_day,
        day_start,
        day_end,
        setup_min: draft.setup_min,
        teardown_min: draft.teardown_min,
        cost_per_km: draft.cost_per_km,
        donors_per_bed_hour: draft.donors_per_bed_hour,
        slot_minutes: draft.slot_minutes,
        status: draft.status,
        notes,
    })
}

/// A clash on the plate's unique index is [`FleetError::PlateTaken`]; the plate is unique
/// across the whole registry, and the answer is the same whoever holds it (without naming or
/// confirming that record, which may lie outside the caller's read scope).
fn plate_clash(err: DbErr) -> FleetError {
    if PLATE_KEY.violated_by(&err) {
        FleetError::PlateTaken
    } else {
        FleetError::Db(err)
    }
}

/// Inside the write's transaction: the station, locked (shared) until commit so that it
/// cannot close meanwhile, and still active if the vehicle is to be.
async fn station_for_write(
    txn: &impl ConnectionTrait,
    fields: &VehicleFields,
) -> Result<station::Model, FleetError> {
    let station = store::lock_station(txn, fields.station_id, false)
        .await?
        .ok_or_else(|| {
            FleetError::invalid(
                "station_id",
                format!("no station with id {}", fields.station_id),
            )
        })?;
    if fields.status == VehicleStatus::Active && station.status != StationStatus::Active.as_str() {
        return Err(FleetError::invalid(
            "station_id",
            format!(
                "{} is closed; an active vehicle needs an active station",
                station.name
            ),
        ));
    }
    Ok(station)
}

/// Registers a vehicle at its station, with its audit record, inside the caller's write
/// transaction. Returns the vehicle and its station.
///
/// # Errors
/// [`FleetError::Invalid`] naming every broken field; [`FleetError::InvalidField`] for an
/// unknown or closed station; [`FleetError::PlateTaken`]; the database fails.
pub async fn create(
    txn: &impl ConnectionTrait,
    cmd: NewVehicle,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<VehicleAt, FleetError> {
    let fields = validate(cmd.into())?;
    let station = station_for_write(txn, &fields).await?;
    let created = store::insert_vehicle(txn, fields, actor.name.clone(), now)
        .await
        .map_err(plate_clash)?;
    audit::record(
        txn,
        audit_change(
            actor.clone(),
            &created,
            &station,
            "create",
            None,
            Some(&created),
            now,
        ),
    )
    .await?;
    Ok((created, station))
}

/// Registers a vehicle in a write transaction of its own (see [`create`]).
///
/// # Errors
/// As [`create`].
pub async fn register(
    db: &DatabaseConnection,
    cmd: NewVehicle,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<VehicleAt, FleetError> {
    let txn = crate::db::begin_write(db).await?;
    let created = create(&txn, cmd, actor, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes `current` (a vehicle with its station, expected at version `expected`) by `patch`.
/// Moving it to another station is for the caller to authorise before.
///
/// # Errors
/// As [`create`].
pub async fn update(
    db: &DatabaseConnection,
    current: VehicleAt,
    expected: i32,
    patch: VehiclePatch,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Outcome<VehicleAt>, FleetError> {
    let id = current.0.id;
    versioned::update(
        db,
        current,
        expected,
        async |(current, _): &VehicleAt| validate(merge(current, patch)?),
        async |txn: &DatabaseTransaction, (current, _): &VehicleAt, fields: VehicleFields| {
            write(txn, current, expected, fields, actor, "update", now).await
        },
        async || load(db, id).await,
    )
    .await
}

/// Retires `current` (expected at version `expected`): its status becomes `retired`; it is
/// kept, with its history and plate, and never planned. A retired vehicle is answered as it
/// is.
///
/// # Errors
/// The database fails.
pub async fn retire(
    db: &DatabaseConnection,
    current: VehicleAt,
    expected: i32,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Outcome<VehicleAt>, FleetError> {
    if current.0.version == expected && current.0.status == VehicleStatus::Retired.as_str() {
        return Ok(Outcome::Updated(current));
    }
    let id = current.0.id;
    versioned::update(
        db,
        current,
        expected,
        async |(current, _): &VehicleAt| {
            Ok(VehicleFields {
                status: VehicleStatus::Retired,
                ..stored_fields(current)?
            })
        },
        async |txn: &DatabaseTransaction, (current, _): &VehicleAt, fields: VehicleFields| {
            write(txn, current, expected, fields, actor, "close", now).await
        },
        async || load(db, id).await,
    )
    .await
}

/// Loads a vehicle with its station.
///
/// # Errors
/// [`FleetError::NotFound`]; the database fails.
pub async fn load(db: &impl ConnectionTrait, id: i64) -> Result<VehicleAt, FleetError> {
    store::find_vehicle_with_station(db, id)
        .await?
        .ok_or_else(|| FleetError::NotFound(format!("no vehicle with id {id}")))
}

/// Applies a patch over the stored vehicle.
fn merge(current: &vehicle::Model, patch: VehiclePatch) -> Result<Draft, FleetError> {
    let mut errors = FieldErrors::default();
    let corrupt = |e: String| FleetError::Corrupt(format!("vehicle {}: {e}", current.id));
    let clock = |minutes| {
        TimeOfDay::from_minutes(minutes)
            .map(|t| t.to_string())
            .map_err(corrupt)
    };
    let stored_status: VehicleStatus = current.status.parse().map_err(corrupt)?;
    let (stored_start, stored_end) = (clock(current.day_start)?, clock(current.day_end)?);
    let e = &mut errors;
    let draft = Draft {
        name: keep(e, "name", patch.name, current.name.clone()),
        plate: keep(e, "plate", patch.plate, current.plate.clone()),
        station_id: keep(e, "station_id", patch.station_id, current.station_id),
        beds: keep(e, "beds", patch.beds, current.beds),
        staff: keep(e, "staff", patch.staff, current.staff),
        max_donors_per_day: keep(
            e,
            "max_donors_per_day",
            patch.max_donors_per_day,
            current.max_donors_per_day,
        ),
        day_start: keep(e, "day_start", patch.day_start, stored_start),
        day_end: keep(e, "day_end", patch.day_end, stored_end),
        setup_min: keep(e, "setup_min", patch.setup_min, current.setup_min),
        teardown_min: keep(e, "teardown_min", patch.teardown_min, current.teardown_min),
        cost_per_km: keep(e, "cost_per_km", patch.cost_per_km, current.cost_per_km),
        donors_per_bed_hour: keep(
            e,
            "donors_per_bed_hour",
            patch.donors_per_bed_hour,
            current.donors_per_bed_hour,
        ),
        slot_minutes: keep(e, "slot_minutes", patch.slot_minutes, current.slot_minutes),
        status: keep(e, "status", patch.status, stored_status),
        notes: patch.notes.unwrap_or_else(|| current.notes.clone()),
    };
    checked(errors)?;
    Ok(draft)
}

/// A member that cannot be cleared: absent keeps the stored value, `null` is an error (the
/// stored value stands in meanwhile, so that validation can go on and report everything).
fn keep<T: Clone>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<Option<T>>,
    current: T,
) -> T {
    errors
        .keep_or_set(field, value, current.clone())
        .unwrap_or(current)
}

/// The stored fields of a vehicle, unchanged.
fn stored_fields(m: &vehicle::Model) -> Result<VehicleFields, FleetError> {
    let corrupt = |e: String| FleetError::Corrupt(format!("vehicle {}: {e}", m.id));
    Ok(VehicleFields {
        name: m.name.clone(),
        plate: Plate::parse(&m.plate).map_err(corrupt)?,
        station_id: m.station_id,
        beds: m.beds,
        staff: m.staff,
        max_donors_per_day: m.max_donors_per_day,
        day_start: TimeOfDay::from_minutes(m.day_start).map_err(corrupt)?,
        day_end: TimeOfDay::from_minutes(m.day_end).map_err(corrupt)?,
        setup_min: m.setup_min,
        teardown_min: m.teardown_min,
        cost_per_km: m.cost_per_km,
        donors_per_bed_hour: m.donors_per_bed_hour,
        slot_minutes: m.slot_minutes,
        status: m.status.parse().map_err(corrupt)?,
        notes: m.notes.clone(),
    })
}

/// Inside the update's transaction: writes `fields` over `current` if it is still at
/// `expected`, with its audit record.
async fn write(
    txn: &DatabaseTransaction,
    current: &vehicle::Model,
    expected: i32,
    fields: VehicleFields,
    actor: &Actor,
    action: &str,
    now: DateTime<Utc>,
) -> Result<Option<VehicleAt>, FleetError> {
    let station = station_for_write(txn, &fields).await?;
    let Some(written) = store::update_vehicle_if_version(
        txn,
        current.id,
        expected,
        fields,
        actor.name.clone(),
        now,
    )
    .await
    .map_err(plate_clash)?
    else {
        return Ok(None);
    };
    audit::record(
        txn,
        audit_change(
            actor.clone(),
            &written,
            &station,
            action,
            Some(current),
            Some(&written),
            now,
        ),
    )
    .await?;
    Ok(Some((written, station)))
}

fn audit_change<'a>(
    actor: Actor,
    m: &vehicle::Model,
    station: &station::Model,
    action: &'a str,
    before: Option<&'a vehicle::Model>,
    after: Option<&'a vehicle::Model>,
    at: DateTime<Utc>,
) -> Change<'a, vehicle::Model> {
    Change {
        entity: "vehicle",
        entity_id: m.id.to_string(),
        action,
        region_code: Some(station.region_code.clone()),
        before,
        after,
        actor,
        at,
    }
}
/// The vehicles matching `filter`, each with its station, by id.
///
/// # Errors
/// The database fails.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &super::FleetFilter,
) -> Result<Vec<(vehicle::Model, station::Model)>, DbErr> {
    store::list_vehicles(db, filter).await
}

/// Vehicle `id` with its station, if there is one.
///
/// # Errors
/// The database fails.
pub async fn find_with_station(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(vehicle::Model, station::Model)>, DbErr> {
    store::find_vehicle_with_station(db, id).await
}
