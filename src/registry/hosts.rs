//! Host organisations (issue 16, first slice): agencies, enterprises, schools, hospitals and
//! communities that hold group drives on a timetable agreed with each of them, with their
//! contacts. Registered, changed (versioned) and read like points: scoped by the host's region
//! through the registry's policy, every write audited. Group drives at a host are drive stops
//! (`host-<id>`, see `crate::drives`); a host is due in a month when its timetable names the
//! month and no drive is planned there from the month's first day on.
//!
//! The rules: text lengths, the location in China, the region that must exist, a headcount of
//! 1 to [`MAX_HEADCOUNT`], months 1 to 12 each named once, at most [`MAX_CONTACTS`] contacts,
//! each with a name and a mainland mobile.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{host, host_contact};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use serde::Serialize;

use super::{Acting, RegistryError, Written, checked};
use crate::domain::host::{HostKind, Months};
use crate::domain::point::MobileNumber;
use crate::domain::policy::{self, Action};
use crate::domain::region::RegionCode;
use crate::error::FieldErrors as Errors;
use crate::geo::{Crs, Wgs84Point};
use crate::store::audit::{self, Change};
pub use crate::store::hosts::HostFilter;
use crate::store::hosts::{self as store, ContactFields, HostFields};
use crate::store::regions;
use crate::validation::{self, Validate, ValidationError};
use crate::versioned::{self, Outcome, Versioned};

/// A host has at most this many contacts.
pub const MAX_CONTACTS: usize = 20;
/// The largest typical headcount taken (a big enterprise's staff).
pub const MAX_HEADCOUNT: i32 = 100_000;

/// A new host, as its registrar gives it.
#[derive(Debug, Clone)]
pub struct NewHost {
    pub name: String,
    pub kind: HostKind,
    pub region_code: String,
    pub address: Option<String>,
    pub longitude: f64,
    pub latitude: f64,
    /// The datum of `longitude`/`latitude`.
    pub crs: Crs,
    pub typical_headcount: Option<i32>,
    /// Months 1 to 12, each once.
    pub preferred_months: Vec<i64>,
    pub contacts: Vec<NewContact>,
    pub notes: Option<String>,
}

/// A contact at a host. Its field rules are declared here; inside a host they are named
/// `contacts[i].mobile`.
#[derive(Debug, Clone, Validate)]
pub struct NewContact {
    #[validate(custom(function = "contact_name_rule"))]
    pub name: String,
    /// Mainland mobile: 11 digits starting with 1.
    #[validate(custom(function = "mobile_rule"))]
    pub mobile: String,
    /// What they are at the host (工会主席, 校医, …).
    #[validate(custom(function = "role_rule"))]
    pub role: Option<String>,
}

/// A change of a host: `None` keeps a member, `Some(None)` clears it (a mistake for required
/// members, named as such), `Some(Some(v))` sets it. Contacts change through their own use
/// cases ([`add_contact`], [`remove_contact`]).
#[derive(Debug, Clone, Default)]
pub struct HostChange {
    pub name: Option<Option<String>>,
    pub kind: Option<Option<HostKind>>,
    pub region_code: Option<Option<String>>,
    pub address: Option<Option<String>>,
    /// With `latitude`: a new location.
    pub longitude: Option<Option<f64>>,
    pub latitude: Option<Option<f64>>,
    pub crs: Option<Crs>,
    pub typical_headcount: Option<Option<i32>>,
    /// `Some(None)` clears the timetable.
    pub preferred_months: Option<Option<Vec<i64>>>,
    pub notes: Option<Option<String>>,
}

/// A host with its contacts (in the order they were added).
#[derive(Debug, Clone)]
pub struct HostDetail {
    pub host: host::Model,
    pub contacts: Vec<host_contact::Model>,
}

impl HostDetail {
    /// The months the host prefers, in calendar order.
    pub fn preferred_months(&self) -> Vec<u32> {
        Months::from_bits(self.host.preferred_months).list()
    }
}

/// A host's fields before validation: what the client sent, merged over what is stored.
#[allow(clippy::duplicated_attributes)]
#[derive(Validate)]
#[validate(
    schema(function = "location_rule", skip_on_field_errors = false),
    schema(function = "months_rule", skip_on_field_errors = false),
    schema(function = "contacts_rule", skip_on_field_errors = false)
)]
struct Draft {
    #[validate(required(message = "is required"), custom(function = "name_rule"))]
    name: Option<String>,
    #[validate(required(message = "is required"))]
    kind: Option<HostKind>,
    #[validate(
        required(message = "is required"),
        custom(function = "validation::region_code")
    )]
    region_code: Option<String>,
    #[validate(custom(function = "address_rule"))]
    address: Option<String>,
    /// Checked by [`location_rule`] (its errors name `longitude` or `latitude`).
    location: Option<(f64, f64, Crs)>,
    #[validate(range(min = 1, max = 100_000, message = "must be between 1 and 100000"))]
    typical_headcount: Option<i32>,
    /// Checked by [`months_rule`] (its errors name `preferred_months[i]`).
    preferred_months: Vec<i64>,
    #[validate(custom(function = "notes_rule"))]
    notes: Option<String>,
    /// New contacts (on creation only); their number is checked by [`contacts_rule`].
    #[validate(nested)]
    contacts: Vec<NewContact>,
}

fn name_rule(value: &str) -> Result<(), ValidationError> {
    validation::required_text(value, 200, false)
}

fn contact_name_rule(value: &str) -> Result<(), ValidationError> {
    validation::required_text(value, 100, false)
}

fn role_rule(value: &str) -> Result<(), ValidationError> {
    validation::text(value, 100, false)
}

fn address_rule(value: &str) -> Result<(), ValidationError> {
    validation::text(value, 500, false)
}

fn notes_rule(value: &str) -> Result<(), ValidationError> {
    validation::text(value, 2000, true)
}

/// The coordinators' rule: a mainland mobile.
fn mobile_rule(value: &str) -> Result<(), ValidationError> {
    MobileNumber::parse(value)
        .map(|_| ())
        .map_err(|m| validation::error("mobile", m))
}

/// The location is given and lies in China.
fn location_rule(draft: &Draft) -> Result<(), ValidationError> {
    match draft.location {
        None => Err(validation::across("longitude", "is required")),
        Some((lon, lat, crs)) => Wgs84Point::from_crs(lon, lat, crs)
            .map(|_| ())
            .map_err(|e| validation::across(e.field, e.message)),
    }
}

/// Each month is 1 to 12 and named once (the first fault named by its index).
fn months_rule(draft: &Draft) -> Result<(), ValidationError> {
    for (i, month) in draft.preferred_months.iter().enumerate() {
        let field = format!("preferred_months[{i}]");
        if !(1..=12).contains(month) {
            return Err(validation::across(field, "must be a month, 1 to 12"));
        }
        if draft.preferred_months[..i].contains(month) {
            return Err(validation::across(
                field,
                format!("names month {month} twice"),
            ));
        }
    }
    Ok(())
}

fn contacts_rule(draft: &Draft) -> Result<(), ValidationError> {
    if draft.contacts.len() > MAX_CONTACTS {
        return Err(validation::across(
            "contacts",
            format!("at most {MAX_CONTACTS} contacts"),
        ));
    }
    Ok(())
}

fn clean(value: Option<String>, max: usize, multiline: bool) -> Option<String> {
    crate::domain::text::clean(value, max, multiline)
        .ok()
        .flatten()
}

/// A checked contact's fields, cleaned.
fn contact_fields(contact: NewContact) -> Option<ContactFields> {
    Some(ContactFields {
        name: clean(Some(contact.name), 100, false)?,
        mobile: MobileNumber::parse(&contact.mobile).ok()?,
        role: clean(contact.role, 100, false),
    })
}

/// Checks a draft against every rule and the database; the fields to store and the contacts
/// to add.
async fn validate(
    db: &impl ConnectionTrait,
    draft: Draft,
) -> Result<(HostFields, Vec<ContactFields>), RegistryError> {
    let mut errors = Errors::default();
    validation::check(&draft, &mut errors);
    let mut region = None;
    if !errors.has("region_code")
        && let Some(Ok(code)) = draft
            .region_code
            .as_deref()
            .map(|r| RegionCode::parse(r.trim()))
    {
        match regions::find(db, &code).await? {
            None => errors.add("region_code", format!("no region with code {code}")),
            Some(r) => region = Some(r),
        }
    }
    checked(errors)?;
    let location = draft
        .location
        .and_then(|(lon, lat, crs)| Wgs84Point::from_crs(lon, lat, crs).ok());
    let months: Vec<u32> = draft
        .preferred_months
        .iter()
        .filter_map(|m| u32::try_from(*m).ok())
        .collect();
    let contacts: Option<Vec<ContactFields>> =
        draft.contacts.into_iter().map(contact_fields).collect();
    let (Some(name), Some(kind), Some(location), Some(region), Some(contacts)) = (
        clean(draft.name, 200, false),
        draft.kind,
        location,
        region,
        contacts,
    ) else {
        unreachable!("every missing field added an error above");
    };
    Ok((
        HostFields {
            name,
            kind,
            region_code: region.code,
            address: clean(draft.address, 500, false),
            location,
            typical_headcount: draft.typical_headcount,
            preferred_months: Months::of(&months),
            notes: clean(draft.notes, 2000, true),
        },
        contacts,
    ))
}

/// The host with `id`, if `acting` may do `action` to it (not found outside its reach,
/// denied outside its write scope).
///
/// # Errors
/// Not found, denied, or the database fails.
pub async fn find_for(
    db: &impl ConnectionTrait,
    id: i64,
    action: Action,
    acting: &Acting<'_>,
) -> Result<host::Model, RegistryError> {
    let what = || format!("host with id {id}");
    let model = store::find(db, id)
        .await?
        .ok_or_else(|| RegistryError::not_found(what()))?;
    let code = RegionCode::parse(&model.region_code).ok();
    // Outside the read scope it does not exist, whatever the action.
    acting.authorize(Action::Read, code.as_ref(), what)?;
    if action != Action::Read {
        acting.authorize(action, code.as_ref(), what)?;
    }
    Ok(model)
}

/// Host `id` with its contacts, if `acting` may read it.
///
/// # Errors
/// Not found (also outside its reach), or the database fails.
pub async fn get(
    db: &impl ConnectionTrait,
    id: i64,
    acting: &Acting<'_>,
) -> Result<HostDetail, RegistryError> {
    let host = find_for(db, id, Action::Read, acting).await?;
    with_contacts(db, host).await
}

async fn with_contacts(
    db: &impl ConnectionTrait,
    host: host::Model,
) -> Result<HostDetail, RegistryError> {
    let contacts = store::contacts(db, host.id).await?;
    Ok(HostDetail { host, contacts })
}

/// What to list: hosts in a region's subtree (default: everywhere the caller reads), of a
/// kind, preferring a month; a page after a host's id.
#[derive(Debug, Clone, Default)]
pub struct HostQuery {
    pub region: Option<RegionCode>,
    pub kind: Option<HostKind>,
    /// 1 to 12.
    pub month: Option<u32>,
    /// Only hosts with no drive planned from this day on (a drive not cancelled with a stop at
    /// the host, dated this day or later): "due" in a month is its timetable naming the month
    /// and no drive planned from the month's first day.
    pub unplanned_from: Option<NaiveDate>,
    pub after_id: Option<i64>,
    pub limit: u64,
}

/// The hosts `acting` may read that match `query`, in id order, with their contacts.
///
/// # Errors
/// Anonymous callers are denied; a region outside the caller's reach or unknown is not found.
pub async fn list(
    db: &impl ConnectionTrait,
    query: HostQuery,
    acting: &Acting<'_>,
) -> Result<Vec<HostDetail>, RegistryError> {
    acting.require(|| "hosts".to_owned())?;
    let mut filter = HostFilter {
        kind: query.kind,
        month: query.month,
        unplanned_from: query.unplanned_from,
        after_id: query.after_id,
        limit: Some(query.limit),
        reach: acting.principal.map(policy::read_scope),
        ..HostFilter::default()
    };
    if let Some(code) = &query.region {
        let what = || format!("region with code {code}");
        acting.authorize(Action::Read, Some(code), what)?;
        let region = regions::find(db, code)
            .await?
            .ok_or_else(|| RegistryError::not_found(what()))?;
        filter.region_range = Some(code.subtree_bounds(region.level));
    }
    let hosts = store::list(db, &filter).await?;
    let ids: Vec<i64> = hosts.iter().map(|h| h.id).collect();
    let mut contacts = store::contacts_of(db, &ids).await?;
    Ok(hosts
        .into_iter()
        .map(|host| {
            let (mine, rest) = contacts.drain(..).partition(|c| c.host_id == host.id);
            contacts = rest;
            HostDetail {
                host,
                contacts: mine,
            }
        })
        .collect())
}

/// Registers a host with its first contacts (in one write transaction): the caller may create
/// in the region given, the fields keep every rule.
///
/// # Errors
/// Denied, invalid fields (every one named), or the database fails.
pub async fn create(
    db: &DatabaseConnection,
    command: NewHost,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<HostDetail, RegistryError> {
    super::points::authorize_region(acting, Action::Create, &command.region_code)?;
    let draft = Draft {
        name: Some(command.name),
        kind: Some(command.kind),
        region_code: Some(command.region_code),
        address: command.address,
        location: Some((command.longitude, command.latitude, command.crs)),
        typical_headcount: command.typical_headcount,
        preferred_months: command.preferred_months,
        notes: command.notes,
        contacts: command.contacts,
    };
    let (fields, contacts) = validate(db, draft).await?;
    let txn = crate::db::begin_write(db).await?;
    let host = store::insert(&txn, fields, acting.username(), now).await?;
    record(
        &txn,
        acting,
        "host",
        host.id,
        "create",
        &host.region_code,
        None,
        Some(&host),
        now,
    )
    .await?;
    let mut added = Vec::with_capacity(contacts.len());
    for contact in contacts {
        let row = store::insert_contact(&txn, host.id, contact, acting.username(), now).await?;
        record(
            &txn,
            acting,
            "host_contact",
            row.id,
            "create",
            &host.region_code,
            None,
            Some(&row),
            now,
        )
        .await?;
        added.push(row);
    }
    txn.commit().await?;
    Ok(HostDetail {
        host,
        contacts: added,
    })
}

/// One audit record.
#[allow(clippy::too_many_arguments)]
async fn record<T: Serialize>(
    txn: &DatabaseTransaction,
    acting: &Acting<'_>,
    entity: &str,
    id: i64,
    action: &str,
    region_code: &str,
    before: Option<&T>,
    after: Option<&T>,
    now: DateTime<Utc>,
) -> Result<(), RegistryError> {
    audit::record(
        txn,
        Change {
            entity,
            entity_id: id.to_string(),
            action,
            region_code: Some(region_code.to_owned()),
            before,
            after,
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// Changes `current` (which the caller may update, read at version `expected`): the change is
/// merged over it and checked like a new host; moving it to another region needs the right to
/// create there. `Stale` with the current host when someone else's change won meanwhile.
///
/// # Errors
/// Denied, invalid fields, or the database fails.
pub async fn update(
    db: &DatabaseConnection,
    current: &host::Model,
    expected: i32,
    command: HostChange,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Written<HostDetail, HostDetail>, RegistryError> {
    let prepare = async |current: &host::Model| {
        let draft = merge(current, command)?;
        if let Some(region) = draft.region_code.as_deref()
            && region.trim() != current.region_code
        {
            super::points::authorize_region(acting, Action::Create, region)?;
        }
        let (fields, _) = validate(db, draft).await?;
        Ok(fields)
    };
    let write = async |txn: &DatabaseTransaction, current: &host::Model, fields| {
        let written =
            store::update_if_version(txn, current.id, expected, fields, acting.username(), now)
                .await?;
        if let Some(written) = &written {
            record(
                txn,
                acting,
                "host",
                written.id,
                "update",
                &written.region_code,
                Some(current),
                Some(written),
                now,
            )
            .await?;
        }
        Ok(written)
    };
    let reload = async || find_for(db, current.id, Action::Read, acting).await;
    Ok(
        match versioned::update(db, current.clone(), expected, prepare, write, reload).await? {
            Outcome::Updated(host) => Written::Done(with_contacts(db, host).await?),
            Outcome::Stale(latest) => Written::Stale(with_contacts(db, latest).await?),
        },
    )
}

/// Applies a change over the stored host.
fn merge(current: &host::Model, change: HostChange) -> Result<Draft, RegistryError> {
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
    let kind = match current.kind.parse::<HostKind>() {
        Ok(kind) => required(&mut errors, "kind", change.kind, kind),
        Err(e) => {
            return Err(RegistryError::Corrupt(anyhow::anyhow!(
                "host {}: {e}",
                current.id
            )));
        }
    };
    let location = super::points::changed_location(
        (change.longitude, change.latitude, change.crs),
        (current.longitude, current.latitude),
        &mut errors,
    );
    let stored_months = || {
        Months::from_bits(current.preferred_months)
            .list()
            .into_iter()
            .map(i64::from)
            .collect()
    };
    let draft = Draft {
        name: required(&mut errors, "name", change.name, current.name.clone()),
        kind,
        region_code: required(
            &mut errors,
            "region_code",
            change.region_code,
            current.region_code.clone(),
        ),
        address: change.address.unwrap_or_else(|| current.address.clone()),
        location,
        typical_headcount: change
            .typical_headcount
            .unwrap_or(current.typical_headcount),
        preferred_months: match change.preferred_months {
            None => stored_months(),
            Some(months) => months.unwrap_or_default(),
        },
        notes: change.notes.unwrap_or_else(|| current.notes.clone()),
        contacts: Vec::new(),
    };
    checked(errors)?;
    Ok(draft)
}

impl Versioned for host::Model {
    fn version(&self) -> i32 {
        self.version
    }
}

/// Adds a contact to host `host_id` (which the caller may update): the host's version moves
/// on, as its representation changed.
///
/// # Errors
/// Not found, denied, invalid fields (`name`, `mobile`, `role`), too many contacts, or the
/// database fails.
pub async fn add_contact(
    db: &DatabaseConnection,
    host_id: i64,
    command: NewContact,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<host_contact::Model, RegistryError> {
    let host = find_for(db, host_id, Action::Update, acting).await?;
    let mut errors = Errors::default();
    validation::check(&command, &mut errors);
    checked(errors)?;
    let Some(fields) = contact_fields(command) else {
        unreachable!("a contact that passed its rules reads");
    };
    let txn = crate::db::begin_write(db).await?;
    // The host's version moves on first: that write holds the host's row until the commit, so
    // two contacts added at once are counted one after the other (never 21 of 20).
    store::touch(&txn, host_id, acting.username(), now).await?;
    if store::count_contacts(&txn, host_id).await? >= MAX_CONTACTS as u64 {
        txn.rollback().await?;
        return Err(RegistryError::Conflict(format!(
            "the host has {MAX_CONTACTS} contacts already, the most it may have; remove one first"
        )));
    }
    let row = store::insert_contact(&txn, host_id, fields, acting.username(), now).await?;
    record(
        &txn,
        acting,
        "host_contact",
        row.id,
        "create",
        &host.region_code,
        None,
        Some(&row),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Removes contact `contact_id` of host `host_id` (which the caller may update); the host's
/// version moves on.
///
/// # Errors
/// Not found (the host, or no such contact at it), denied, or the database fails.
pub async fn remove_contact(
    db: &DatabaseConnection,
    host_id: i64,
    contact_id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), RegistryError> {
    let host = find_for(db, host_id, Action::Update, acting).await?;
    let txn = crate::db::begin_write(db).await?;
    let Some(removed) = store::delete_contact(&txn, host_id, contact_id).await? else {
        return Err(RegistryError::not_found(format!(
            "contact with id {contact_id} at host {host_id}"
        )));
    };
    store::touch(&txn, host_id, acting.username(), now).await?;
    record(
        &txn,
        acting,
        "host_contact",
        removed.id,
        "delete",
        &host.region_code,
        Some(&removed),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
