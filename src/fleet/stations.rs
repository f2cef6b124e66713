//! Blood stations: register, change, close.

use chrono::{DateTime, Utc};
use entity::station;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use serde::Deserialize;

use super::{FleetError, checked};
use crate::domain::booking::{DEFAULT_GROUP_REQUEST_THRESHOLD, MAX_HEADCOUNT};
use crate::domain::fleet::StationStatus;
use crate::domain::region::RegionCode;
use crate::error::FieldErrors;
use crate::geo::{Crs, Wgs84Point};
use crate::store::audit::{self, Actor, Change};
use crate::store::fleet::{self as store, StationFields};
use crate::store::regions;
use crate::validation::{self, Validate, ValidationError};
use crate::versioned::{self, Outcome};

/// A station to register (also the station of `seed-data/demo-network.json`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewStation {
    pub name: String,
    pub region_code: String,
    pub address: Option<String>,
    pub longitude: f64,
    pub latitude: f64,
    /// The datum of `longitude`/`latitude`.
    #[serde(default)]
    pub crs: Crs,
    /// Default `active`.
    pub status: Option<StationStatus>,
    /// Default 10.
    #[serde(default)]
    pub group_request_threshold: Option<i32>,
}

/// A change to a station: `None` keeps a member, `Some(None)` clears it (an error for
/// members that cannot be cleared).
#[derive(Debug, Clone, Default)]
pub struct StationPatch {
    pub name: Option<Option<String>>,
    pub region_code: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub longitude: Option<Option<f64>>,
    pub latitude: Option<Option<f64>>,
    /// The datum of a new `longitude`/`latitude`.
    pub crs: Option<Crs>,
    pub status: Option<Option<StationStatus>>,
    pub group_request_threshold: Option<Option<i32>>,
}

/// A station's fields before validation: what was asked, merged over what is stored, with
/// its field rules. The region must also exist: that needs the database and is checked after
/// them, adding to the same list.
#[derive(Validate)]
#[validate(schema(function = "location_rule", skip_on_field_errors = false))]
struct Draft {
    #[validate(required(message = "is required"), custom(function = "name_rule"))]
    name: Option<String>,
    #[validate(
        required(message = "is required"),
        custom(function = "validation::region_code")
    )]
    region_code: Option<String>,
    #[validate(custom(function = "address_rule"))]
    address: Option<String>,
    /// Checked by [`location_rule`] (its errors name `longitude` or `latitude`).
    location: Option<(f64, f64, Crs)>,
    status: StationStatus,
    #[validate(custom(function = "threshold_rule"))]
    group_request_threshold: i32,
}

/// The order the answer names broken fields in.
const FIELD_ORDER: &[&str] = &[
    "name",
    "address",
    "longitude",
    "latitude",
    "group_request_threshold",
    "region_code",
];

fn name_rule(value: &str) -> Result<(), ValidationError> {
    validation::required_text(value, 200, false)
}

fn address_rule(value: &str) -> Result<(), ValidationError> {
    validation::text(value, 500, false)
}

fn threshold_rule(value: i32) -> Result<(), ValidationError> {
    if (2..=MAX_HEADCOUNT).contains(&value) {
        Ok(())
    } else {
        Err(validation::error(
            "range",
            format!("must be between 2 and {MAX_HEADCOUNT}"),
        ))
    }
}

/// The location is given and lies in China (named `longitude` or `latitude`).
fn location_rule(draft: &Draft) -> Result<(), ValidationError> {
    match draft.location {
        None => Err(validation::across("longitude", "is required")),
        Some((lon, lat, crs)) => Wgs84Point::from_crs(lon, lat, crs)
            .map(|_| ())
            .map_err(|e| validation::across(e.field, e.message)),
    }
}

/// Checks a draft against every rule and the database; every broken rule is reported at once.
async fn validate(db: &impl ConnectionTrait, draft: Draft) -> Result<StationFields, FleetError> {
    let mut errors = FieldErrors::default();
    validation::check_in_order(&draft, &mut errors, FIELD_ORDER);
    let mut region_code = None;
    if !errors.has("region_code")
        && let Some(Ok(code)) = draft
            .region_code
            .as_deref()
            .map(|r| RegionCode::parse(r.trim()))
    {
        match regions::find(db, &code).await? {
            None => errors.add("region_code", format!("no region with code {code}")),
            Some(_) => region_code = Some(code),
        }
    }
    checked(errors)?;
    // Every rule passed: clean what is stored.
    let name = crate::domain::text::clean(draft.name, 200, false)
        .ok()
        .flatten();
    let address = crate::domain::text::clean(draft.address, 500, false)
        .ok()
        .flatten();
    let location = draft
        .location
        .and_then(|(lon, lat, crs)| Wgs84Point::from_crs(lon, lat, crs).ok());
    let (Some(name), Some(region_code), Some(location)) = (name, region_code, location) else {
        unreachable!("every missing field added an error above");
    };
    Ok(StationFields {
        name,
        region_code,
        address,
        location,
        status: draft.status,
        group_request_threshold: draft.group_request_threshold,
    })
}

/// Registers a station, with its audit record, inside the caller's write transaction.
///
/// # Errors
/// [`FleetError::Invalid`] naming every broken field; the database fails.
pub async fn create(
    txn: &impl ConnectionTrait,
    cmd: NewStation,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<station::Model, FleetError> {
    let fields = validate(
        txn,
        Draft {
            name: Some(cmd.name),
            region_code: Some(cmd.region_code),
            address: cmd.address,
            location: Some((cmd.longitude, cmd.latitude, cmd.crs)),
            status: cmd.status.unwrap_or(StationStatus::Active),
            group_request_threshold: cmd
                .group_request_threshold
                .unwrap_or(DEFAULT_GROUP_REQUEST_THRESHOLD),
        },
    )
    .await?;
    let created = store::insert_station(txn, fields, actor.name.clone(), now).await?;
    audit::record(
        txn,
        audit_change(actor.clone(), &created, "create", None, Some(&created), now),
    )
    .await?;
    Ok(created)
}

/// Registers a station in a write transaction of its own (see [`create`]).
///
/// # Errors
/// As [`create`].
pub async fn register(
    db: &DatabaseConnection,
    cmd: NewStation,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<station::Model, FleetError> {
    let txn = crate::db::begin_write(db).await?;
    let created = create(&txn, cmd, actor, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes `current` (expected at version `expected`) by `patch`. Closing (`status: closed`)
/// needs the station to have no active vehicle.
///
/// # Errors
/// [`FleetError::Invalid`] naming every broken field; [`FleetError::StationInUse`]; the
/// database fails.
pub async fn update(
    db: &DatabaseConnection,
    current: station::Model,
    expected: i32,
    patch: StationPatch,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Outcome<station::Model>, FleetError> {
    let id = current.id;
    versioned::update(
        db,
        current,
        expected,
        async |current: &station::Model| validate(db, merge(current, patch)?).await,
        async |txn: &DatabaseTransaction, current: &station::Model, fields: StationFields| {
            write(txn, current, expected, fields, actor, "update", now).await
        },
        async || load(db, id).await,
    )
    .await
}

/// Closes `current` (expected at version `expected`): its status becomes `closed`; it is
/// kept, with its history. Its vehicles must be retired or moved first. A closed station is
/// answered as it is.
///
/// # Errors
/// [`FleetError::StationInUse`]; the database fails.
pub async fn close(
    db: &DatabaseConnection,
    current: station::Model,
    expected: i32,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Outcome<station::Model>, FleetError> {
    if current.version == expected && current.status == StationStatus::Closed.as_str() {
        return Ok(Outcome::Updated(current));
    }
    let id = current.id;
    versioned::update(
        db,
        current,
        expected,
        async |current: &station::Model| {
            Ok(StationFields {
                status: StationStatus::Closed,
                ..stored_fields(current)?
            })
        },
        async |txn: &DatabaseTransaction, current: &station::Model, fields: StationFields| {
            write(txn, current, expected, fields, actor, "close", now).await
        },
        async || load(db, id).await,
    )
    .await
}

/// Loads a station.
///
/// # Errors
/// [`FleetError::NotFound`]; the database fails.
pub async fn load(db: &impl ConnectionTrait, id: i64) -> Result<station::Model, FleetError> {
    store::find_station(db, id)
        .await?
        .ok_or_else(|| FleetError::NotFound(format!("no station with id {id}")))
}

/// Applies a patch over the stored station.
fn merge(current: &station::Model, patch: StationPatch) -> Result<Draft, FleetError> {
    let mut errors = FieldErrors::default();
    let stored_status = current
        .status
        .parse()
        .map_err(|e: String| FleetError::Corrupt(format!("station {}: {e}", current.id)))?;
    let location = match (patch.longitude, patch.latitude) {
        (None, None) => {
            if patch.crs.is_some() {
                errors.add(
                    "crs",
                    "applies to a new longitude and latitude; send them too",
                );
            }
            Some((current.longitude, current.latitude, Crs::Wgs84))
        }
        (Some(Some(lon)), Some(Some(lat))) => Some((lon, lat, patch.crs.unwrap_or_default())),
        (Some(None), _) | (_, Some(None)) => {
            errors.add("longitude", "cannot be null");
            None
        }
        _ => {
            errors.add(
                "latitude",
                "longitude and latitude change together; send both",
            );
            None
        }
    };
    let draft = Draft {
        name: errors.keep_or_set("name", patch.name, current.name.clone()),
        region_code: errors.keep_or_set(
            "region_code",
            patch.region_code,
            current.region_code.clone(),
        ),
        address: patch.address.unwrap_or_else(|| current.address.clone()),
        location,
        status: errors
            .keep_or_set("status", patch.status, stored_status)
            .unwrap_or(stored_status),
        group_request_threshold: errors
            .keep_or_set(
                "group_request_threshold",
                patch.group_request_threshold,
                current.group_request_threshold,
            )
            .unwrap_or(current.group_request_threshold),
    };
    checked(errors)?;
    Ok(draft)
}

/// The stored fields of a station, unchanged.
fn stored_fields(m: &station::Model) -> Result<StationFields, FleetError> {
    let corrupt = |e: String| FleetError::Corrupt(format!("station {}: {e}", m.id));
    Ok(StationFields {
        name: m.name.clone(),
        region_code: RegionCode::parse(&m.region_code).map_err(|e| corrupt(e.to_string()))?,
        address: m.address.clone(),
        location: Wgs84Point::stored(m.longitude, m.latitude),
        status: m.status.parse().map_err(corrupt)?,
        group_request_threshold: m.group_request_threshold,
    })
}

/// Inside the update's transaction: writes `fields` over `current` if it is still at
/// `expected`, with its audit record. Closing a station that still has active vehicles is
/// refused: the station's row is locked first, so that no vehicle can be put at it between
/// the count and the write.
async fn write(
    txn: &DatabaseTransaction,
    current: &station::Model,
    expected: i32,
    fields: StationFields,
    actor: &Actor,
    action: &str,
    now: DateTime<Utc>,
) -> Result<Option<station::Model>, FleetError> {
    if fields.status == StationStatus::Closed {
        store::lock_station(txn, current.id, true).await?;
        let active = store::count_active_vehicles(txn, current.id).await?;
        if active > 0 {
            return Err(FleetError::StationInUse {
                station: current.name.clone(),
                active,
            });
        }
    }
    let Some(written) = store::update_station_if_version(
        txn,
        current.id,
        expected,
        fields,
        actor.name.clone(),
        now,
    )
    .await?
    else {
        return Ok(None);
    };
    audit::record(
        txn,
        audit_change(
            actor.clone(),
            &written,
            action,
            Some(current),
            Some(&written),
            now,
        ),
    )
    .await?;
    Ok(Some(written))
}

fn audit_change<'a>(
    actor: Actor,
    m: &station::Model,
    action: &'a str,
    before: Option<&'a station::Model>,
    after: Option<&'a station::Model>,
    at: DateTime<Utc>,
) -> Change<'a, station::Model> {
    Change {
        entity: "station",
        entity_id: m.id.to_string(),
        action,
        region_code: Some(m.region_code.clone()),
        before,
        after,
        actor,
        at,
    }
}
/// Station `id`, if there is one.
///
/// # Errors
/// The database fails.
pub async fn find(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<station::Model>, sea_orm::DbErr> {
    store::find_station(db, id).await
}

/// The stations matching `filter`, by id.
///
/// # Errors
/// The database fails.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &super::FleetFilter,
) -> Result<Vec<station::Model>, sea_orm::DbErr> {
    store::list_stations(db, filter).await
}
