//! Preparation checklists (issue 6): each blood station's template, the items of every stop of
//! a drive, ticking them done or undone, and what is due or late in a region. Rules and dates:
//! `crate::domain::checklist`.
//!
//! Items are made for every stop when the drive is made ([`super::lifecycle`]), from the
//! template of the drive's vehicle's station as it is then, or the built-in defaults;
//! replacing a template changes only drives made afterwards.
//!
//! Access (`crate::domain::policy`): a template is read like its station and replaced by
//! admins and station staff within their write scope ([`Resource::ChecklistTemplate`]). A
//! drive's checklist is read like the drive. An item is decided by its stop's region
//! ([`Resource::ChecklistItem`]): ticked by admins, station staff and township officials
//! within their write scope.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{checklist_item, checklist_template, drive, drive_stop, station};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use serde::Serialize;

use super::{Acting, DrivesError, checked, find_for, stops_in_reach};
use crate::domain::checklist::{self as rules, TemplateInput, TemplateItem};
use crate::domain::drive::DriveStatus;
use crate::domain::policy::{Action, Resource};
use crate::domain::region::RegionCode;
use crate::error::FieldErrors;
use crate::store::audit::{self, Change};
use crate::store::checklists as store;
pub use crate::store::checklists::{DueCursor, DueFilter, DueRow};
use crate::store::{drives, fleet, regions};
use crate::versioned::{self, Outcome, Versioned};

fn corrupt(what: impl std::fmt::Display) -> DrivesError {
    DrivesError::Corrupt(format!("checklists: {what}"))
}

// ---------------------------------------------------------------------------------------------
// Templates

/// Where a station's template comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateSource {
    /// The built-in defaults: the station has not written its own.
    Default,
    /// The station's own.
    Station,
}

/// One item of a template.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateEntry {
    pub seq: i32,
    pub title: String,
    pub days_before: i32,
}

/// A station's checklist template, as the audit log records it.
#[derive(Debug, Clone, Serialize)]
pub struct Template {
    pub station_id: i64,
    pub source: TemplateSource,
    /// 0 while the station uses the defaults; bumped by every replacement.
    pub version: i32,
    pub items: Vec<TemplateEntry>,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
}

impl Versioned for Template {
    fn version(&self) -> i32 {
        self.version
    }
}

fn template_of(station_id: i64, rows: &[checklist_template::Model]) -> Template {
    if rows.is_empty() {
        return Template {
            station_id,
            source: TemplateSource::Default,
            version: 0,
            items: (1..)
                .zip(rules::defaults())
                .map(|(seq, item)| TemplateEntry {
                    seq,
                    title: item.title,
                    days_before: item.days_before,
                })
                .collect(),
            updated_at: None,
            updated_by: None,
        };
    }
    Template {
        station_id,
        source: TemplateSource::Station,
        version: store::template_version(rows),
        items: rows
            .iter()
            .map(|r| TemplateEntry {
                seq: r.seq,
                title: r.title.clone(),
                days_before: r.days_before,
            })
            .collect(),
        updated_at: rows.iter().map(|r| r.updated_at).max(),
        updated_by: rows.first().and_then(|r| r.updated_by.clone()),
    }
}

/// Station `id` with its template, if `acting` may do `action` to the template (hidden
/// outside its read scope, forbidden outside its write scope).
///
/// # Errors
/// [`DrivesError::NotFound`], [`DrivesError::Denied`]; the database fails.
pub async fn template_for(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
    action: Action,
    id: i64,
) -> Result<(station::Model, Template), DrivesError> {
    let station = fleet::find_station(db, id)
        .await?
        .ok_or_else(|| DrivesError::NotFound(format!("no station with id {id}")))?;
    let code = RegionCode::parse(&station.region_code).map_err(corrupt)?;
    let what = || format!("station with id {id}");
    acting.authorize(Action::Read, Resource::ChecklistTemplate(&code), what)?;
    if action != Action::Read {
        acting.authorize(action, Resource::ChecklistTemplate(&code), what)?;
    }
    let template = template_of(station.id, &store::template(db, station.id).await?);
    Ok((station, template))
}

/// One item of a new template, as the client sent it.
#[derive(Debug, Clone, Default)]
pub struct TemplateItemInput {
    /// Required, at most 200 characters.
    pub title: Option<String>,
    /// 0 to 90.
    pub days_before: Option<i64>,
}

/// A whole new template: 1 to 20 items, in the order drives list them.
#[derive(Debug, Clone, Default)]
pub struct NewTemplate {
    pub items: Vec<TemplateItemInput>,
}

/// Every item checked, every fault named (`items`, `items[2].title`, `items[0].days_before`).
fn validate(cmd: NewTemplate) -> Result<Vec<TemplateItem>, DrivesError> {
    let inputs = cmd
        .items
        .into_iter()
        .map(|i| TemplateInput {
            title: i.title,
            days_before: i.days_before,
        })
        .collect();
    rules::validate_template(inputs).map_err(|faults| {
        let mut errors = FieldErrors::default();
        for (field, message) in faults {
            errors.add(&field, message);
        }
        checked(errors)
            .err()
            .unwrap_or_else(|| corrupt("a template refused without a reason"))
    })
}

/// Replaces `station`'s template (`current`, expected at version `expected`) as a whole.
/// Drives made from now on get the new items; drives already made keep theirs. Audited
/// (entity `checklist_template`, id the station's).
///
/// # Errors
/// [`DrivesError::Invalid`] naming every fault; the database fails.
pub async fn replace_template(
    db: &DatabaseConnection,
    station: &station::Model,
    current: Template,
    expected: i32,
    cmd: NewTemplate,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome<Template>, DrivesError> {
    let outcome = versioned::update(
        db,
        current,
        expected,
        async |_: &Template| validate(cmd),
        async |txn: &DatabaseTransaction, _: &Template, items: Vec<TemplateItem>| {
            write_template(txn, station, expected, &items, acting, now).await
        },
        async || {
            Ok(template_of(
                station.id,
                &store::template(db, station.id).await?,
            ))
        },
    )
    .await?;
    if let Outcome::Updated(after) = &outcome {
        tracing::info!(
            station_id = station.id,
            version = after.version,
            "checklist template replaced"
        );
    }
    Ok(outcome)
}

async fn write_template(
    txn: &DatabaseTransaction,
    station: &station::Model,
    expected: i32,
    items: &[TemplateItem],
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Template>, DrivesError> {
    // The station's row, locked: two replacements of one template serialise here, and the
    // second sees the first's version.
    fleet::lock_station(txn, station.id, true).await?;
    let rows = store::template(txn, station.id).await?;
    let before = template_of(station.id, &rows);
    if before.version != expected {
        return Ok(None);
    }
    let created = rows.first().map_or_else(
        || (now, acting.username()),
        |r| (r.created_at, r.created_by.clone()),
    );
    let written = store::replace_template(
        txn,
        station.id,
        items,
        expected + 1,
        created,
        acting.username(),
        now,
    )
    .await?;
    let after = template_of(station.id, &written);
    audit::record(
        txn,
        Change {
            entity: "checklist_template",
            entity_id: station.id.to_string(),
            action: if before.source == TemplateSource::Default {
                "create"
            } else {
                "update"
            },
            region_code: Some(station.region_code.clone()),
            before: Some(&before),
            after: Some(&after),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(Some(after))
}

// ---------------------------------------------------------------------------------------------
// Items

/// A drive's checklist: the drive, and the stops `acting` reads, each with its items in order.
#[derive(Debug, Clone)]
pub struct DriveChecklist {
    pub drive: drive::Model,
    pub stops: Vec<(drive_stop::Model, Vec<checklist_item::Model>)>,
}

/// The checklist of every stop of drive `id` that `acting` reads (the drive read like
/// [`find_for`]).
///
/// # Errors
/// [`DrivesError::NotFound`], [`DrivesError::Denied`]; the database fails.
pub async fn drive_checklist(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
    id: i64,
) -> Result<DriveChecklist, DrivesError> {
    let drive = find_for(db, acting, Action::Read, id).await?;
    let stops = stops_in_reach(db, acting, drive.id).await?;
    let ids: Vec<i64> = stops.iter().map(|s| s.id).collect();
    let mut by_stop: BTreeMap<i64, Vec<checklist_item::Model>> = BTreeMap::new();
    for item in store::items_of_stops(db, &ids).await? {
        by_stop.entry(item.stop_id).or_default().push(item);
    }
    Ok(DriveChecklist {
        drive,
        stops: stops
            .into_iter()
            .map(|s| {
                let items = by_stop.remove(&s.id).unwrap_or_default();
                (s, items)
            })
            .collect(),
    })
}

/// An item with its stop and drive.
#[derive(Debug, Clone)]
pub struct ItemAt {
    pub item: checklist_item::Model,
    pub stop: drive_stop::Model,
    pub drive: drive::Model,
}

impl Versioned for ItemAt {
    fn version(&self) -> i32 {
        self.item.version
    }
}

/// Item `id` if `acting` may tick it: hidden outside its read scope (the stop's or the
/// drive's: an item of a drive the caller cannot read does not exist for them), forbidden
/// outside its write scope (or a viewer).
///
/// # Errors
/// [`DrivesError::NotFound`], [`DrivesError::Denied`]; the database fails.
pub async fn item_for(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
    id: i64,
) -> Result<ItemAt, DrivesError> {
    let (item, stop, drive) = store::find_item(db, id)
        .await?
        .ok_or_else(|| DrivesError::NotFound(format!("no checklist item with id {id}")))?;
    let code = RegionCode::parse(&stop.region_code).map_err(corrupt)?;
    let drive_code = RegionCode::parse(&drive.region_code).map_err(corrupt)?;
    let what = || format!("checklist item with id {id}");
    acting.authorize(Action::Read, Resource::Plan(&drive_code), what)?;
    acting.authorize(Action::Read, Resource::ChecklistItem(&code), what)?;
    acting.authorize(Action::Update, Resource::ChecklistItem(&code), what)?;
    Ok(ItemAt { item, stop, drive })
}

fn cancelled(drive: &drive::Model) -> Result<(), DrivesError> {
    if drive.status == DriveStatus::Cancelled.as_str() {
        return Err(DrivesError::Conflict(format!(
            "drive {} is cancelled; its checklist no longer changes",
            drive.id
        )));
    }
    Ok(())
}

/// Marks `found`'s item (expected at version `expected`) done, recording who and when, or not
/// done, clearing both. Audited (entity `checklist_item`, action `done` or `undone`). An item
/// already so is answered as it is. Refused while the drive is cancelled.
///
/// # Errors
/// [`DrivesError::Conflict`] (the drive is cancelled); the database fails.
pub async fn tick(
    db: &DatabaseConnection,
    found: ItemAt,
    expected: i32,
    done: bool,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome<checklist_item::Model>, DrivesError> {
    if found.item.version != expected {
        return Ok(Outcome::Stale(found.item));
    }
    cancelled(&found.drive)?;
    if found.item.done == done {
        return Ok(Outcome::Updated(found.item));
    }
    let id = found.item.id;
    let outcome = versioned::update(
        db,
        found,
        expected,
        async |_: &ItemAt| Ok(()),
        async |txn: &DatabaseTransaction, found: &ItemAt, ()| {
            write_tick(txn, found, expected, done, acting, now).await
        },
        async || {
            let (latest, stop, drive) = store::find_item(db, id)
                .await?
                .ok_or_else(|| DrivesError::NotFound(format!("no checklist item with id {id}")))?;
            Ok(ItemAt {
                item: latest,
                stop,
                drive,
            })
        },
    )
    .await?;
    Ok(match outcome {
        Outcome::Updated(at) => {
            tracing::info!(item_id = id, done, "checklist item ticked");
            Outcome::Updated(at.item)
        }
        Outcome::Stale(at) => Outcome::Stale(at.item),
    })
}

async fn write_tick(
    txn: &DatabaseTransaction,
    found: &ItemAt,
    expected: i32,
    done: bool,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Option<ItemAt>, DrivesError> {
    let id = found.item.id;
    // The drive's row, shared-locked: a cancellation committing meanwhile is seen here.
    let locked = drives::lock_shared(txn, found.drive.id)
        .await?
        .ok_or_else(|| DrivesError::NotFound(format!("no checklist item with id {id}")))?;
    cancelled(&locked)?;
    let Some(written) =
        store::set_done_if_version(txn, id, expected, done, acting.username(), now).await?
    else {
        return Ok(None);
    };
    audit::record(
        txn,
        Change {
            entity: "checklist_item",
            entity_id: id.to_string(),
            action: if done { "done" } else { "undone" },
            region_code: Some(found.stop.region_code.clone()),
            before: Some(&found.item),
            after: Some(&written),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(Some(ItemAt {
        item: written,
        stop: found.stop.clone(),
        drive: found.drive.clone(),
    }))
}

// ---------------------------------------------------------------------------------------------
// What is due

/// The items due or late by `filter` inside what `acting` reads (`filter.reach` is set from
/// the caller), by due date, then drive, stop and item.
///
/// # Errors
/// The database fails.
pub async fn due(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
    mut filter: DueFilter,
) -> Result<Vec<DueRow>, DrivesError> {
    let Some(reach) = acting.reach() else {
        return Ok(Vec::new());
    };
    filter.reach = Some(reach);
    Ok(store::due(db, &filter).await?)
}

/// The names of the townships `rows` lie in, by code (`None` for a township not on record).
///
/// # Errors
/// The database fails.
pub async fn township_names(
    db: &impl ConnectionTrait,
    rows: &[DueRow],
) -> Result<BTreeMap<String, Option<String>>, DrivesError> {
    let mut townships: BTreeMap<String, Option<String>> = BTreeMap::new();
    for row in rows {
        if let Some(code) = RegionCode::parse(&row.region_code)
            .ok()
            .and_then(|c| c.township())
            && !townships.contains_key(code.as_str())
        {
            let name = regions::find(db, &code).await?.map(|r| r.name);
            townships.insert(code.to_string(), name);
        }
    }
    Ok(townships)
}
