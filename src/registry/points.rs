//! Donation points: registering, changing and closing them. The rules: text lengths, the
//! phone and market-day formats, the bounds of the signage date, the region that must exist
//! and be of a level the point's kind serves; a point more than [`FAR_FROM_CENTRE_KM`] from
//! its region's centre is stored with a warning.

use chrono::{DateTime, NaiveDate, Utc};
use entity::point;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use serde::Deserialize;

use super::{Acting, RegistryError, Written, checked};
use crate::domain::point::{PhoneNumber, PointKind, PointStatus, parse_market_days};
use crate::domain::policy::Action;
use crate::domain::region::RegionCode;
use crate::error::{FieldError, FieldErrors as Errors};
use crate::geo::{Crs, Wgs84Point};
use crate::store::audit::{self, Change};
pub use crate::store::points::PointFilter;
use crate::store::points::{self as store, PointFields};
use crate::store::regions;
use crate::validation::{self, Validate, ValidationError};
use crate::versioned::{self, Outcome, Versioned};

/// A point farther than this from its region's known centre gets a warning.
pub const FAR_FROM_CENTRE_KM: f64 = 15.0;

/// A new point, as its registrar gives it (the demo network file holds these).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPoint {
    pub name: String,
    pub kind: PointKind,
    pub region_code: String,
    pub address: Option<String>,
    pub longitude: f64,
    pub latitude: f64,
    /// The datum of `longitude`/`latitude`.
    #[serde(default)]
    pub crs: Crs,
    /// Default `planned`.
    pub status: Option<PointStatus>,
    pub signage_installed_on: Option<NaiveDate>,
    #[serde(default)]
    pub bloodmobile_parking: bool,
    #[serde(default)]
    pub power_hookup: bool,
    pub beds: Option<i32>,
    pub donors_per_hour: Option<i32>,
    pub contact_phone: Option<String>,
    pub notes: Option<String>,
    /// Lunar-day digits, `1,4,7`; blank for none.
    pub market_days: Option<String>,
}

/// A change of a point: `None` keeps a member, `Some(None)` clears it (a mistake for required
/// members, named as such), `Some(Some(v))` sets it.
#[derive(Debug, Clone, Default)]
pub struct PointChange {
    pub name: Option<Option<String>>,
    pub kind: Option<Option<PointKind>>,
    pub region_code: Option<Option<String>>,
    pub address: Option<Option<String>>,
    /// With `latitude`: a new location.
    pub longitude: Option<Option<f64>>,
    pub latitude: Option<Option<f64>>,
    /// The datum of the new `longitude`/`latitude`.
    pub crs: Option<Crs>,
    pub status: Option<Option<PointStatus>>,
    pub signage_installed_on: Option<Option<NaiveDate>>,
    pub bloodmobile_parking: Option<Option<bool>>,
    pub power_hookup: Option<Option<bool>>,
    pub beds: Option<Option<i32>>,
    pub donors_per_hour: Option<Option<i32>>,
    pub contact_phone: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub market_days: Option<Option<String>>,
}

/// A stored point and the things worth checking that did not stop the change.
#[derive(Debug, Clone)]
pub struct Checked {
    pub point: point::Model,
    pub warnings: Vec<FieldError>,
}

/// A point's fields before validation: what the client sent, merged over what is stored.
/// The field rules are declared here; the region's (it exists, the kind serves its level) need
/// the database and run after them, adding to the same list.
// Two rules across fields, each run whatever the field rules found (clippy takes their
// repeated `skip_on_field_errors = false` for a duplicated attribute).
#[allow(clippy::duplicated_attributes)]
#[derive(Validate)]
#[validate(
    schema(function = "signage_rule", skip_on_field_errors = false),
    schema(function = "location_rule", skip_on_field_errors = false)
)]
struct Draft {
    #[validate(required(message = "is required"), custom(function = "name_rule"))]
    name: Option<String>,
    #[validate(required(message = "is required"))]
    kind: Option<PointKind>,
    #[validate(
        required(message = "is required"),
        custom(function = "validation::region_code")
    )]
    region_code: Option<String>,
    #[validate(custom(function = "address_rule"))]
    address: Option<String>,
    /// Checked by [`location_rule`] (its errors name `longitude` or `latitude`).
    location: Option<(f64, f64, Crs)>,
    status: Option<PointStatus>,
    /// Checked by [`signage_rule`].
    signage_installed_on: Option<NaiveDate>,
    bloodmobile_parking: bool,
    power_hookup: bool,
    #[validate(range(min = 0, max = 100, message = "must be between 0 and 100"))]
    beds: Option<i32>,
    #[validate(range(min = 0, max = 500, message = "must be between 0 and 500"))]
    donors_per_hour: Option<i32>,
    #[validate(custom(function = "phone_rule"))]
    contact_phone: Option<String>,
    #[validate(custom(function = "notes_rule"))]
    notes: Option<String>,
    #[validate(custom(function = "market_days_rule"))]
    market_days: Option<String>,
    /// The day the change is made (the signage date may not be later).
    today: NaiveDate,
}

/// The order the answer names broken fields in.
const FIELD_ORDER: &[&str] = &[
    "name",
    "address",
    "notes",
    "beds",
    "donors_per_hour",
    "contact_phone",
    "market_days",
    "signage_installed_on",
    "kind",
    "longitude",
    "latitude",
    "region_code",
];

fn name_rule(value: &str) -> Result<(), ValidationError> {
    validation::required_text(value, 200, false)
}

fn address_rule(value: &str) -> Result<(), ValidationError> {
    validation::text(value, 500, false)
}

fn notes_rule(value: &str) -> Result<(), ValidationError> {
    validation::text(value, 2000, true)
}

fn phone_rule(value: &str) -> Result<(), ValidationError> {
    match value.trim() {
        "" => Ok(()),
        raw => PhoneNumber::parse(raw)
            .map(|_| ())
            .map_err(|m| validation::error("phone", m)),
    }
}

fn market_days_rule(value: &str) -> Result<(), ValidationError> {
    parse_market_days(value)
        .map(|_| ())
        .map_err(|m| validation::error("market_days", m))
}

/// The signage date lies between 1949-10-01 and today.
fn signage_rule(draft: &Draft) -> Result<(), ValidationError> {
    match draft.signage_installed_on {
        Some(d) if d > draft.today => Err(validation::across(
            "signage_installed_on",
            "must not be in the future",
        )),
        Some(d) if d < crate::domain::text::EARLIEST_DATE => Err(validation::across(
            "signage_installed_on",
            "must not be before 1949-10-01",
        )),
        _ => Ok(()),
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

/// Checks a draft against every rule and the database; returns the fields to store and any
/// warnings.
async fn validate(
    db: &impl ConnectionTrait,
    draft: Draft,
) -> Result<(PointFields, Vec<FieldError>), RegistryError> {
    let mut errors = Errors::default();
    validation::check_in_order(&draft, &mut errors, FIELD_ORDER);
    // The region: it must exist and be of a level the kind serves.
    let mut region = None;
    if !errors.has("region_code")
        && let Some(Ok(code)) = draft
            .region_code
            .as_deref()
            .map(|r| RegionCode::parse(r.trim()))
    {
        match regions::find(db, &code).await? {
            None => errors.add("region_code", format!("no region with code {code}")),
            Some(r) => {
                if let Some(kind) = draft.kind
                    && !kind.serves(r.level)
                {
                    errors.add(
                        "region_code",
                        format!(
                            "a {kind} point serves {}, and {} is a {}",
                            kind.expected_levels(),
                            r.name,
                            r.level
                        ),
                    );
                }
                region = Some(r);
            }
        }
    }
    checked(errors)?;
    // Every rule passed: clean what is stored.
    let clean = |value: Option<String>, max, multiline| {
        crate::domain::text::clean(value, max, multiline)
            .ok()
            .flatten()
    };
    let name = clean(draft.name, 200, false);
    let address = clean(draft.address, 500, false);
    let notes = clean(draft.notes, 2000, true);
    let contact_phone = draft
        .contact_phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .and_then(|p| PhoneNumber::parse(p).ok());
    let market_days = draft
        .market_days
        .as_deref()
        .and_then(|d| parse_market_days(d).ok().flatten());
    let location = draft
        .location
        .and_then(|(lon, lat, crs)| Wgs84Point::from_crs(lon, lat, crs).ok());
    let status = draft.status.unwrap_or(PointStatus::Planned);
    let (beds, donors_per_hour) = (draft.beds, draft.donors_per_hour);
    let (Some(name), Some(kind), Some(location), Some(region)) =
        (name, draft.kind, location, region)
    else {
        unreachable!("every missing field added an error above");
    };
    let mut warnings = Vec::new();
    if let (Some(lon), Some(lat)) = (region.longitude, region.latitude) {
        let km = location.distance_km(Wgs84Point::stored(lon, lat));
        if km > FAR_FROM_CENTRE_KM {
            warnings.push(FieldError::new(
                "longitude",
                format!(
                    "the point is {km:.1} km from the centre of {} (more than {FAR_FROM_CENTRE_KM} km); check the location",
                    region.name
                ),
            ));
        }
    }
    Ok((
        PointFields {
            name,
            kind,
            region_code: region.code,
            address,
            location,
            status,
            signage_installed_on: draft.signage_installed_on,
            bloodmobile_parking: draft.bloodmobile_parking,
            power_hookup: draft.power_hookup,
            beds,
            donors_per_hour,
            contact_phone,
            notes,
            market_days,
        },
        warnings,
    ))
}

/// The point with `id`.
///
/// # Errors
/// [`RegistryError::NotFound`] when there is none.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<point::Model, RegistryError> {
    store::find(db, id)
        .await?
        .ok_or_else(|| RegistryError::not_found(format!("point with id {id}")))
}

/// The point with `id`, if `acting` may do `action` to it (not found outside its reach,
/// denied outside its write scope).
///
/// # Errors
/// Not found, denied, or the database fails.
pub async fn find_for(
    db: &impl ConnectionTrait,
    id: i64,
    action: Action,
    acting: &Acting<'_>,
) -> Result<point::Model, RegistryError> {
    let model = find(db, id).await?;
    let code = RegionCode::parse(&model.region_code).ok();
    acting.authorize(action, code.as_ref(), || format!("point with id {id}"))?;
    Ok(model)
}

/// A point as its page shows it: the point, the region it serves and who serves it.
#[derive(Debug, Clone)]
pub struct PointDetail {
    pub point: point::Model,
    /// The region it serves (`None` only for a row whose region has gone: never, by the
    /// foreign key).
    pub region: Option<crate::domain::region::Region>,
    /// Its coordinators, the primary first.
    pub coordinators: Vec<super::coordinators::Serving>,
    /// Whether `acting` may change it (else the page only shows it).
    pub may_update: bool,
}

/// Point `id` with its region and coordinators, if `acting` may read it.
///
/// # Errors
/// Not found (also outside its reach), or the database fails.
pub async fn detail(
    db: &impl ConnectionTrait,
    id: i64,
    acting: &Acting<'_>,
) -> Result<PointDetail, RegistryError> {
    let point = find_for(db, id, Action::Read, acting).await?;
    let code = RegionCode::parse(&point.region_code).ok();
    let region = match &code {
        Some(code) => regions::find(db, code).await?,
        None => None,
    };
    let may_update = acting
        .authorize(Action::Update, code.as_ref(), String::new)
        .is_ok();
    let coordinators = super::coordinators::of_point(db, id, acting).await?;
    Ok(PointDetail {
        point,
        region,
        coordinators,
        may_update,
    })
}

/// May `acting` do `action` in the region given as text? (A malformed code is left to
/// validation.)
///
/// # Errors
/// [`RegistryError::Denied`].
pub fn authorize_region(
    acting: &Acting<'_>,
    action: Action,
    raw: &str,
) -> Result<(), RegistryError> {
    if let Ok(code) = RegionCode::parse(raw.trim()) {
        acting.authorize(action, Some(&code), || format!("region with code {code}"))?;
    }
    Ok(())
}

/// Registers a point (in its own write transaction): the caller may create points in the
/// region given, the fields keep every rule; returns the point and its warnings.
///
/// # Errors
/// Denied, invalid fields (every one named), or the database fails.
pub async fn create(
    db: &DatabaseConnection,
    command: NewPoint,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Checked, RegistryError> {
    authorize_region(acting, Action::Create, &command.region_code)?;
    let txn = crate::db::begin_write(db).await?;
    let created = create_in(&txn, command, acting, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// [`create`] inside the caller's write transaction, once the caller is authorised (what the
/// demo network is loaded with).
///
/// # Errors
/// Invalid fields, or the database fails.
pub async fn create_in(
    txn: &impl ConnectionTrait,
    command: NewPoint,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Checked, RegistryError> {
    let draft = Draft {
        name: Some(command.name),
        kind: Some(command.kind),
        region_code: Some(command.region_code),
        address: command.address,
        location: Some((command.longitude, command.latitude, command.crs)),
        status: command.status,
        signage_installed_on: command.signage_installed_on,
        bloodmobile_parking: command.bloodmobile_parking,
        power_hookup: command.power_hookup,
        beds: command.beds,
        donors_per_hour: command.donors_per_hour,
        contact_phone: command.contact_phone,
        notes: command.notes,
        market_days: command.market_days,
        today: now.date_naive(),
    };
    let (fields, warnings) = validate(txn, draft).await?;
    let created = store::insert(txn, fields, acting.username(), now).await?;
    audit::record(
        txn,
        Change {
            entity: "point",
            entity_id: created.id.to_string(),
            action: "create",
            region_code: Some(created.region_code.clone()),
            before: None,
            after: Some(&created),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(Checked {
        point: created,
        warnings,
    })
}

/// The position a change leaves a record at: the `current` one (WGS-84) when the change sends
/// neither longitude nor latitude, else the new pair in the change's `crs`; a null or a lone
/// coordinate is named in `errors` (shared by points and hosts, which move the same way).
pub(crate) fn changed_location(
    (longitude, latitude, crs): (Option<Option<f64>>, Option<Option<f64>>, Option<Crs>),
    current: (f64, f64),
    errors: &mut Errors,
) -> Option<(f64, f64, Crs)> {
    match (longitude, latitude) {
        (None, None) => {
            if crs.is_some() {
                errors.add(
                    "crs",
                    "applies to a new longitude and latitude; send them too",
                );
            }
            Some((current.0, current.1, Crs::Wgs84))
        }
        (Some(Some(lon)), Some(Some(lat))) => Some((lon, lat, crs.unwrap_or_default())),
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
    }
}

/// Changes `current` (which the caller may update, read at version `expected`): the change is
/// merged over it and checked like a new point; moving it to another region needs the right to
/// create points there. The distance warning comes only when the change moved the point or its
/// region. `Stale` with the current row when someone else's change won meanwhile.
///
/// # Errors
/// Denied, invalid fields, or the database fails.
pub async fn update(
    db: &DatabaseConnection,
    current: &point::Model,
    expected: i32,
    command: PointChange,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Written<Checked, point::Model>, RegistryError> {
    let mut warnings = Vec::new();
    let prepare = async |current: &point::Model| {
        let draft = merge(current, command, now.date_naive())?;
        if let Some(region) = draft.region_code.as_deref()
            && region != current.region_code
        {
            authorize_region(acting, Action::Create, region)?;
        }
        let (fields, found) = validate(db, draft).await?;
        // The distance warning only when the change moved the point or its region.
        if fields.location != Wgs84Point::stored(current.longitude, current.latitude)
            || fields.region_code.as_str() != current.region_code
        {
            warnings = found;
        }
        Ok(fields)
    };
    Ok(
        match write_change(db, acting, current, expected, prepare, "update", now).await? {
            Written::Done(point) => Written::Done(Checked { point, warnings }),
            Written::Stale(latest) => Written::Stale(latest),
        },
    )
}

/// Closes `current` (which the caller may close, read at version `expected`): its status
/// becomes `closed`; it is kept, with its history. Closing a closed point changes nothing.
///
/// # Errors
/// The database fails.
pub async fn close(
    db: &DatabaseConnection,
    current: &point::Model,
    expected: i32,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Written<point::Model, point::Model>, RegistryError> {
    if expected == current.version && current.status == PointStatus::Closed.as_str() {
        return Ok(Written::Done(current.clone()));
    }
    let prepare = async |current: &point::Model| {
        let mut fields = stored_fields(current)?;
        fields.status = PointStatus::Closed;
        Ok(fields)
    };
    write_change(db, acting, current, expected, prepare, "close", now).await
}

/// Applies a change over the stored point.
fn merge(
    current: &point::Model,
    change: PointChange,
    today: NaiveDate,
) -> Result<Draft, RegistryError> {
    let mut errors = Errors::default();
    // A required member sent as null is a mistake, not a clear.
    fn required<T>(
        errors: &mut Errors,
        field: &str,
        value: Option<Option<T>>,
        current: T,
    ) -> Option<T> {
        match value {
            None => Some(current),
            Some(None) => {
                errors.add(field, "cannot be null");
                None
            }
            Some(Some(v)) => Some(v),
        }
    }
    let optional = |value: Option<Option<String>>, current: &Option<String>| {
        value.unwrap_or_else(|| current.clone())
    };
    let stored = stored_fields(current)?;
    let kind = required(&mut errors, "kind", change.kind, stored.kind);
    let status = required(&mut errors, "status", change.status, stored.status);
    let location = changed_location(
        (change.longitude, change.latitude, change.crs),
        (current.longitude, current.latitude),
        &mut errors,
    );
    let draft = Draft {
        name: required(&mut errors, "name", change.name, current.name.clone()),
        region_code: required(
            &mut errors,
            "region_code",
            change.region_code,
            current.region_code.clone(),
        ),
        kind,
        status,
        location,
        address: optional(change.address, &current.address),
        signage_installed_on: change
            .signage_installed_on
            .unwrap_or(current.signage_installed_on),
        bloodmobile_parking: required(
            &mut errors,
            "bloodmobile_parking",
            change.bloodmobile_parking,
            current.bloodmobile_parking,
        )
        .unwrap_or(current.bloodmobile_parking),
        power_hookup: required(
            &mut errors,
            "power_hookup",
            change.power_hookup,
            current.power_hookup,
        )
        .unwrap_or(current.power_hookup),
        beds: change.beds.unwrap_or(current.beds),
        donors_per_hour: change.donors_per_hour.unwrap_or(current.donors_per_hour),
        contact_phone: optional(change.contact_phone, &current.contact_phone),
        notes: optional(change.notes, &current.notes),
        market_days: optional(change.market_days, &current.market_days),
        today,
    };
    checked(errors)?;
    Ok(draft)
}

/// Writes the fields `prepare` makes of `current` if it is still at `expected`, with its audit
/// record, in one transaction (`versioned::update`). `Stale(latest)` when the version moved on.
async fn write_change(
    db: &DatabaseConnection,
    acting: &Acting<'_>,
    current: &point::Model,
    expected: i32,
    prepare: impl AsyncFnOnce(&point::Model) -> Result<PointFields, RegistryError>,
    action: &str,
    now: DateTime<Utc>,
) -> Result<Written<point::Model, point::Model>, RegistryError> {
    let write = async |txn: &DatabaseTransaction, current: &point::Model, fields| {
        let written =
            store::update_if_version(txn, current.id, expected, fields, acting.username(), now)
                .await?;
        if let Some(written) = &written {
            audit::record(
                txn,
                Change {
                    entity: "point",
                    entity_id: written.id.to_string(),
                    action,
                    region_code: Some(written.region_code.clone()),
                    before: Some(current),
                    after: Some(written),
                    actor: acting.actor.clone(),
                    at: now,
                },
            )
            .await?;
        }
        Ok(written)
    };
    let reload = async || find(db, current.id).await;
    Ok(
        match versioned::update(db, current.clone(), expected, prepare, write, reload).await? {
            Outcome::Updated(point) => Written::Done(point),
            Outcome::Stale(latest) => Written::Stale(latest),
        },
    )
}

impl Versioned for point::Model {
    fn version(&self) -> i32 {
        self.version
    }
}

/// The stored fields of a point, unchanged (for changes that touch one field).
fn stored_fields(m: &point::Model) -> Result<PointFields, RegistryError> {
    let internal = |e: String| RegistryError::Corrupt(anyhow::anyhow!("point {}: {e}", m.id));
    Ok(PointFields {
        name: m.name.clone(),
        kind: m.kind.parse().map_err(internal)?,
        region_code: RegionCode::parse(&m.region_code).map_err(|e| internal(e.to_string()))?,
        address: m.address.clone(),
        location: Wgs84Point::stored(m.longitude, m.latitude),
        status: m.status.parse().map_err(internal)?,
        signage_installed_on: m.signage_installed_on,
        bloodmobile_parking: m.bloodmobile_parking,
        power_hookup: m.power_hookup,
        beds: m.beds,
        donors_per_hour: m.donors_per_hour,
        contact_phone: m
            .contact_phone
            .as_deref()
            .and_then(|p| PhoneNumber::parse(p).ok()),
        notes: m.notes.clone(),
        market_days: m
            .market_days
            .as_deref()
            .and_then(|d| parse_market_days(d).ok().flatten()),
    })
}
/// Point `id`, if there is one (no access check: for readers that check it themselves).
///
/// # Errors
/// The database fails.
pub async fn get(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<point::Model>, sea_orm::DbErr> {
    store::find(db, id).await
}

/// The points matching `filter`.
///
/// # Errors
/// The database fails.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &PointFilter,
) -> Result<Vec<point::Model>, sea_orm::DbErr> {
    store::list(db, filter).await
}
