//! Coordinators: the local people who run points, and who serves where. Each point has at
//! most one primary coordinator: naming a new primary demotes the old one in the same
//! transaction. Mobiles are unique across the whole registry (every city on the deployment).

use chrono::{DateTime, Utc};
use entity::{coordinator, point, point_coordinator};
use sea_orm::error::SqlErr;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use serde::Deserialize;

use super::{Acting, RegistryError, Written};
use crate::domain::point::{CoordinatorRole, MobileNumber};
use crate::domain::policy::{Action, Visibility};
use crate::domain::region::RegionCode;
use crate::error::FieldErrors;
use crate::store::audit::{self, Actor, Change};
use crate::store::coordinators::{self as store, CoordinatorFields};
use crate::validation::{self, Validate, ValidationError};
use crate::versioned::{self, Outcome, Versioned};

/// A coordinator's fields as given (a new one, or a change merged over the stored one; the
/// demo network file holds these).
#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorInput {
    #[validate(custom(function = "name_rule"))]
    pub name: String,
    /// Mainland mobile: 11 digits starting with 1.
    #[validate(custom(function = "mobile_rule"))]
    pub mobile: String,
    #[validate(custom(function = "wechat_id_rule"))]
    pub wechat_id: Option<String>,
    pub role: CoordinatorRole,
    #[validate(custom(function = "notes_rule"))]
    pub notes: Option<String>,
    /// The home region (township or village) whose officials keep this record.
    #[validate(custom(function = "region_code_rule"))]
    pub region_code: String,
}

/// The order the answer names broken fields in.
const FIELD_ORDER: &[&str] = &["name", "wechat_id", "notes", "mobile", "region_code"];

fn name_rule(value: &str) -> Result<(), ValidationError> {
    validation::required_text(value, 100, false)
}

fn wechat_id_rule(value: &str) -> Result<(), ValidationError> {
    validation::text(value, 64, false)
}

fn notes_rule(value: &str) -> Result<(), ValidationError> {
    validation::text(value, 2000, true)
}

fn mobile_rule(value: &str) -> Result<(), ValidationError> {
    MobileNumber::parse(value)
        .map(|_| ())
        .map_err(|m| validation::error("mobile", m))
}

fn region_code_rule(value: &str) -> Result<(), ValidationError> {
    RegionCode::parse(value.trim())
        .map(|_| ())
        .map_err(|e| validation::error("region_code", e.to_string()))
}

/// A change of a coordinator: `None` keeps a member; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct CoordinatorChange {
    pub name: Option<String>,
    pub mobile: Option<String>,
    pub wechat_id: Option<Option<String>>,
    pub role: Option<CoordinatorRole>,
    pub notes: Option<Option<String>>,
    pub region_code: Option<String>,
}

/// Assign a coordinator to a point; `primary` makes them its primary (demoting the current
/// one).
#[derive(Debug, Clone, Copy)]
pub struct Assign {
    pub point_id: i64,
    pub coordinator_id: i64,
    pub primary: bool,
}

/// A coordinator serving a point, and whether the caller may read the coordinator's own
/// record (when not, show them masked).
#[derive(Debug, Clone)]
pub struct Serving {
    pub link: point_coordinator::Model,
    pub person: coordinator::Model,
    pub readable: bool,
}

/// Checks a coordinator's fields (every rule that needs no database).
///
/// # Errors
/// [`RegistryError::Invalid`] naming every broken field.
pub fn validated(input: CoordinatorInput) -> Result<CoordinatorFields, RegistryError> {
    let mut errors = FieldErrors::default();
    validation::check_in_order(&input, &mut errors, FIELD_ORDER);
    // A blank name has always been named after the other texts' faults.
    if let Some(at) = errors
        .0
        .iter()
        .position(|e| e.field == "name" && e.message == "is required")
    {
        let required = errors.0.remove(at);
        let after = errors
            .0
            .iter()
            .rposition(|e| e.field == "wechat_id" || e.field == "notes")
            .map_or(at, |last| last + 1);
        errors.0.insert(after, required);
    }
    if !errors.0.is_empty() {
        return Err(RegistryError::Invalid(errors.0));
    }
    // Every rule passed: clean and parse what is stored.
    let text = |value: Option<String>, max: usize, multiline: bool| {
        crate::domain::text::clean(value, max, multiline)
            .ok()
            .flatten()
    };
    let name = text(Some(input.name), 100, false);
    let wechat_id = text(input.wechat_id, 64, false);
    let notes = text(input.notes, 2000, true);
    let mobile = MobileNumber::parse(&input.mobile).ok();
    let region_code = RegionCode::parse(input.region_code.trim()).ok();
    match (name, mobile, region_code) {
        (Some(name), Some(mobile), Some(region_code)) => Ok(CoordinatorFields {
            name,
            mobile,
            wechat_id,
            role: input.role,
            notes,
            region_code,
        }),
        _ => unreachable!("every missing field added an error above"),
    }
}

/// A unique-mobile clash, the same whoever holds the number, without naming or confirming that
/// record (it may lie outside the caller's read scope, where it does not exist for them).
fn mobile_clash(err: DbErr) -> RegistryError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => RegistryError::MobileTaken,
        _ => RegistryError::Db(err),
    }
}

/// The coordinator with `id`.
///
/// # Errors
/// [`RegistryError::NotFound`] when there is none.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<coordinator::Model, RegistryError> {
    store::find(db, id)
        .await?
        .ok_or_else(|| RegistryError::not_found(format!("coordinator with id {id}")))
}

/// The policy's answer for `action` on a coordinator (by their home region).
///
/// # Errors
/// [`RegistryError::Denied`].
pub fn authorize(
    acting: &Acting<'_>,
    action: Action,
    m: &coordinator::Model,
) -> Result<(), RegistryError> {
    let code = m
        .region_code
        .as_deref()
        .and_then(|c| RegionCode::parse(c).ok());
    let id = m.id;
    acting.authorize(action, code.as_ref(), || {
        format!("coordinator with id {id}")
    })
}

/// The coordinator with `id`, if `acting` may do `action` to them.
///
/// # Errors
/// Not found, denied, or the database fails.
pub async fn find_for(
    db: &impl ConnectionTrait,
    id: i64,
    action: Action,
    acting: &Acting<'_>,
) -> Result<coordinator::Model, RegistryError> {
    let m = find(db, id).await?;
    authorize(acting, action, &m)?;
    Ok(m)
}

/// The policy's answer for `action` in a coordinator's home region.
fn authorize_region(
    acting: &Acting<'_>,
    action: Action,
    code: &RegionCode,
) -> Result<(), RegistryError> {
    acting.authorize(action, Some(code), || format!("region with code {code}"))
}

/// The coordinator's home region must exist (invalid `region_code` otherwise).
async fn region_exists(db: &impl ConnectionTrait, code: &RegionCode) -> Result<(), RegistryError> {
    if crate::store::regions::find(db, code).await?.is_none() {
        return Err(RegistryError::invalid(
            "region_code",
            format!("no region with code {code}"),
        ));
    }
    Ok(())
}

fn audit_change<'a>(
    actor: Actor,
    m: &coordinator::Model,
    action: &'a str,
    before: Option<&'a coordinator::Model>,
    after: Option<&'a coordinator::Model>,
    at: DateTime<Utc>,
) -> Change<'a, coordinator::Model> {
    Change {
        entity: "coordinator",
        entity_id: m.id.to_string(),
        action,
        region_code: m.region_code.clone(),
        before,
        after,
        actor,
        at,
    }
}

/// Registers a coordinator (in its own write transaction): valid fields, a home region the
/// caller may create in and that exists, a mobile not yet recorded.
///
/// # Errors
/// Invalid fields, denied, the mobile taken, or the database fails.
pub async fn create(
    db: &DatabaseConnection,
    command: CoordinatorInput,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<coordinator::Model, RegistryError> {
    let fields = validated(command)?;
    authorize_region(acting, Action::Create, &fields.region_code)?;
    let txn = crate::db::begin_write(db).await?;
    let created = create_in(&txn, fields, acting, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Stores a validated coordinator (whose home region must exist) with its audit record,
/// inside the caller's write transaction, once the caller is authorised (what the demo
/// network is loaded with).
///
/// # Errors
/// The home region does not exist, the mobile is taken, or the database fails.
pub async fn create_in(
    txn: &impl ConnectionTrait,
    fields: CoordinatorFields,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<coordinator::Model, RegistryError> {
    region_exists(txn, &fields.region_code).await?;
    let created = store::insert(txn, fields, acting.username(), now)
        .await
        .map_err(mobile_clash)?;
    audit::record(
        txn,
        audit_change(
            acting.actor.clone(),
            &created,
            "create",
            None,
            Some(&created),
            now,
        ),
    )
    .await?;
    Ok(created)
}

/// Changes `current` (which the caller may update, read at version `expected`): the change is
/// merged over it and checked; a new home region must exist and be one the caller may create
/// in. `Stale` with the current row when the version moved on.
///
/// # Errors
/// Invalid fields, denied, the mobile taken, or the database fails.
pub async fn update(
    db: &DatabaseConnection,
    current: &coordinator::Model,
    expected: i32,
    command: CoordinatorChange,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Written<coordinator::Model, coordinator::Model>, RegistryError> {
    let prepare = async |current: &coordinator::Model| {
        let fields = validated(CoordinatorInput {
            name: command.name.unwrap_or_else(|| current.name.clone()),
            mobile: command.mobile.unwrap_or_else(|| current.mobile.clone()),
            wechat_id: command
                .wechat_id
                .unwrap_or_else(|| current.wechat_id.clone()),
            role: match command.role {
                Some(role) => role,
                None => current.role.parse().map_err(|e: String| {
                    RegistryError::Corrupt(anyhow::anyhow!("coordinator {}: {e}", current.id))
                })?,
            },
            notes: command.notes.unwrap_or_else(|| current.notes.clone()),
            region_code: match (command.region_code, &current.region_code) {
                (Some(code), _) => code,
                (None, Some(code)) => code.clone(),
                (None, None) => {
                    return Err(RegistryError::invalid(
                        "region_code",
                        "this coordinator has no home region yet; send one",
                    ));
                }
            },
        })?;
        if current.region_code.as_deref() != Some(fields.region_code.as_str()) {
            authorize_region(acting, Action::Create, &fields.region_code)?;
            region_exists(db, &fields.region_code).await?;
        }
        Ok(fields)
    };
    let write = async |txn: &DatabaseTransaction, current: &coordinator::Model, fields| {
        let updated =
            store::update_if_version(txn, current.id, expected, fields, acting.username(), now)
                .await
                .map_err(mobile_clash)?;
        if let Some(updated) = &updated {
            audit::record(
                txn,
                audit_change(
                    acting.actor.clone(),
                    updated,
                    "update",
                    Some(current),
                    Some(updated),
                    now,
                ),
            )
            .await?;
        }
        Ok(updated)
    };
    let reload = async || find(db, current.id).await;
    Ok(
        match versioned::update(db, current.clone(), expected, prepare, write, reload).await? {
            Outcome::Updated(updated) => Written::Done(updated),
            Outcome::Stale(latest) => Written::Stale(latest),
        },
    )
}

impl Versioned for coordinator::Model {
    fn version(&self) -> i32 {
        self.version
    }
}

/// Deletes a coordinator who serves no point (unassign them first), if the caller may close
/// their record. Returns the deleted row.
///
/// # Errors
/// Not found, denied, still serving a point, or the database fails.
pub async fn delete(
    db: &DatabaseConnection,
    id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<coordinator::Model, RegistryError> {
    find_for(db, id, Action::Close, acting).await?;
    let txn = crate::db::begin_write(db).await?;
    // Locked, so that an assignment cannot slip in between the count and the delete.
    let current = store::find_locked(&txn, id, true)
        .await?
        .ok_or_else(|| RegistryError::not_found(format!("coordinator with id {id}")))?;
    if !store::delete_unassigned(&txn, id).await? {
        return Err(RegistryError::StillServes(current.name));
    }
    audit::record(
        &txn,
        audit_change(
            acting.actor.clone(),
            &current,
            "delete",
            Some(&current),
            None,
            now,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(current)
}

/// The point, if the caller may do `action` to its coordinators (locked for changes).
async fn point_for(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
    action: Action,
    id: i64,
) -> Result<point::Model, RegistryError> {
    let point = if action == Action::Read {
        crate::store::points::find(db, id).await?
    } else {
        store::lock_point(db, id).await?
    }
    .ok_or_else(|| RegistryError::not_found(format!("point with id {id}")))?;
    let code = RegionCode::parse(&point.region_code).ok();
    acting.authorize(action, code.as_ref(), || format!("point with id {id}"))?;
    Ok(point)
}

/// Who serves a point, the primary first, each marked readable or not by the caller.
async fn serving(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
    point_id: i64,
) -> Result<Vec<Serving>, RegistryError> {
    Ok(store::of_point(db, point_id)
        .await?
        .into_iter()
        .map(|(link, person)| Serving {
            readable: authorize(acting, Action::Read, &person).is_ok(),
            link,
            person,
        })
        .collect())
}

/// The coordinators of a point the caller may read.
///
/// # Errors
/// Not found, denied, or the database fails.
pub async fn of_point(
    db: &impl ConnectionTrait,
    point_id: i64,
    acting: &Acting<'_>,
) -> Result<Vec<Serving>, RegistryError> {
    point_for(db, acting, Action::Read, point_id).await?;
    serving(db, acting, point_id).await
}

/// Assigns a coordinator to a point (idempotent): the caller may change the point and read the
/// coordinator (a neighbouring village's doctor may serve a point the caller keeps). Returns
/// who serves the point after the change.
///
/// # Errors
/// Point or coordinator not found, denied, or the database fails.
pub async fn assign(
    db: &DatabaseConnection,
    command: Assign,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Serving>, RegistryError> {
    let txn = crate::db::begin_write(db).await?;
    let point = point_for(&txn, acting, Action::Update, command.point_id).await?;
    // Held (shared) until commit, so that the coordinator cannot be deleted meanwhile.
    let person = store::find_locked(&txn, command.coordinator_id, false)
        .await?
        .ok_or_else(|| {
            RegistryError::not_found(format!("coordinator with id {}", command.coordinator_id))
        })?;
    authorize(acting, Action::Read, &person)?;
    assign_in(&txn, &point, command, acting, now).await?;
    txn.commit().await?;
    serving(db, acting, command.point_id).await
}

/// Assigns a coordinator to `point` (idempotent; `primary` demotes the current primary) with
/// its audit record, inside the caller's write transaction, once the point and the coordinator
/// are found, locked and authorised (what the demo network is loaded with).
///
/// # Errors
/// The database fails.
pub async fn assign_in(
    txn: &impl ConnectionTrait,
    point: &point::Model,
    command: Assign,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), RegistryError> {
    let before = store::of_point(txn, point.id).await?;
    store::assign(txn, point.id, command.coordinator_id, command.primary, now).await?;
    let after = store::of_point(txn, point.id).await?;
    record_assignments(
        txn,
        acting.actor.clone(),
        point,
        "assign",
        &before,
        &after,
        now,
    )
    .await
}

/// Registers a new coordinator and assigns them to a point, in one transaction (both or
/// neither): the caller may change the point and create coordinators in the new one's home
/// region; `primary` makes them the point's primary (demoting the current one). Returns who
/// serves the point after the change.
///
/// # Errors
/// Invalid fields, the point not found, denied, the mobile taken, or the database fails.
pub async fn add_to_point(
    db: &DatabaseConnection,
    point_id: i64,
    command: CoordinatorInput,
    primary: bool,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Serving>, RegistryError> {
    // The point first: outside the caller's reach it does not exist, whatever was typed.
    let point = crate::store::points::find(db, point_id)
        .await?
        .ok_or_else(|| RegistryError::not_found(format!("point with id {point_id}")))?;
    let code = RegionCode::parse(&point.region_code).ok();
    acting.authorize(Action::Update, code.as_ref(), || {
        format!("point with id {point_id}")
    })?;
    let fields = validated(command)?;
    authorize_region(acting, Action::Create, &fields.region_code)?;
    let txn = crate::db::begin_write(db).await?;
    let point = point_for(&txn, acting, Action::Update, point_id).await?;
    let created = create_in(&txn, fields, acting, now).await?;
    let assign = Assign {
        point_id,
        coordinator_id: created.id,
        primary,
    };
    assign_in(&txn, &point, assign, acting, now).await?;
    txn.commit().await?;
    serving(db, acting, point_id).await
}

/// Removes a coordinator from a point the caller may change. Returns who serves the point
/// after the change.
///
/// # Errors
/// The point not found or the coordinator not serving it, denied, or the database fails.
pub async fn unassign(
    db: &DatabaseConnection,
    point_id: i64,
    coordinator_id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Serving>, RegistryError> {
    let txn = crate::db::begin_write(db).await?;
    let point = point_for(&txn, acting, Action::Update, point_id).await?;
    let before = store::of_point(&txn, point_id).await?;
    if !store::unassign(&txn, point_id, coordinator_id).await? {
        return Err(RegistryError::NotFound(format!(
            "coordinator {coordinator_id} does not serve point {point_id}"
        )));
    }
    let after = store::of_point(&txn, point_id).await?;
    record_assignments(
        &txn,
        acting.actor.clone(),
        &point,
        "unassign",
        &before,
        &after,
        now,
    )
    .await?;
    txn.commit().await?;
    serving(db, acting, point_id).await
}

type Assigned = (point_coordinator::Model, coordinator::Model);

/// Audits a change of a point's coordinators: the assignments before and after.
async fn record_assignments(
    txn: &impl ConnectionTrait,
    actor: Actor,
    point: &point::Model,
    action: &str,
    before: &[Assigned],
    after: &[Assigned],
    now: DateTime<Utc>,
) -> Result<(), RegistryError> {
    let links = |v: &[Assigned]| -> Vec<point_coordinator::Model> {
        v.iter().map(|(l, _)| l.clone()).collect()
    };
    audit::record(
        txn,
        Change {
            entity: "point_coordinators",
            entity_id: point.id.to_string(),
            action,
            region_code: Some(point.region_code.clone()),
            before: Some(&links(before)),
            after: Some(&links(after)),
            actor,
            at: now,
        },
    )
    .await?;
    Ok(())
}
/// The coordinators within `reach` whose name or mobile number holds `q` (all when `None`),
/// after `after_id`, at most `limit`, by id.
///
/// # Errors
/// The database fails.
pub async fn search(
    db: &impl ConnectionTrait,
    q: Option<&str>,
    reach: &Visibility,
    after_id: Option<i64>,
    limit: u64,
) -> Result<Vec<coordinator::Model>, DbErr> {
    store::search(db, q, reach, after_id, limit).await
}

/// The mobile number of each of these points' primary coordinator, by point id.
///
/// # Errors
/// The database fails.
pub async fn primary_mobiles(
    db: &impl ConnectionTrait,
    point_ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, DbErr> {
    store::primary_mobiles(db, point_ids).await
}
