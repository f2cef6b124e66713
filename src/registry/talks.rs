//! Publicity talks (宣讲, issue 16): a talk given in a village or township, or at a host
//! organisation, logged with its date, speaker, audience and materials. Recorded, listed and
//! deleted like points are registered and closed: scoped by the talk's region through the
//! registry's policy (a talk at a host is in the host's region), every write audited.
//!
//! The rules: the speaker and the materials are given, the audience is a head count of 1 to
//! [`MAX_AUDIENCE`], the talk was held on or before today in China (where it was given), and it
//! is about a village or township (`region_code`) or a host (`host_id`, whose region it takes).

use chrono::{DateTime, NaiveDate, Utc};
use entity::publicity_talk;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{Acting, RegistryError, checked};
use crate::domain::policy::{self, Action, Decision};
use crate::domain::region::{Level, RegionCode};
use crate::error::FieldErrors as Errors;
use crate::store::audit::{self, Change};
use crate::store::regions;
pub use crate::store::talks::TalkCursor;
use crate::store::talks::{self as store, TalkFields, TalkFilter};
use crate::validation::{self, Validate, ValidationError};

/// The largest audience taken (a whole enterprise's staff in a hall).
pub const MAX_AUDIENCE: i64 = 100_000;

/// A talk as its recorder gives it: about a village or township (`region_code`), or at a host
/// (`host_id`; `region_code` may then be left out, and if given must be the host's region).
#[derive(Debug, Clone, Validate)]
#[validate(schema(function = "place_rule", skip_on_field_errors = false))]
pub struct NewTalk {
    #[validate(custom(function = "validation::region_code"))]
    pub region_code: Option<String>,
    #[validate(range(min = 1, message = "must be a host's id"))]
    pub host_id: Option<i64>,
    /// On or before today in China; checked by the service (it needs the clock).
    pub held_on: NaiveDate,
    #[validate(custom(function = "speaker_rule"))]
    pub speaker: String,
    /// How many people listened.
    #[validate(range(min = 1, max = 100_000, message = "must be between 1 and 100000"))]
    pub audience: i64,
    /// Who they were (村民, 村医, 职工, …).
    #[validate(custom(function = "audience_description_rule"))]
    pub audience_description: Option<String>,
    /// What was handed out or shown (倡议书, 宣传单, 展板, …).
    #[validate(custom(function = "materials_rule"))]
    pub materials: String,
    #[validate(custom(function = "notes_rule"))]
    pub notes: Option<String>,
}

fn speaker_rule(value: &str) -> Result<(), ValidationError> {
    validation::required_text(value, 100, false)
}

fn audience_description_rule(value: &str) -> Result<(), ValidationError> {
    validation::text(value, 200, false)
}

fn materials_rule(value: &str) -> Result<(), ValidationError> {
    validation::required_text(value, 500, false)
}

fn notes_rule(value: &str) -> Result<(), ValidationError> {
    validation::text(value, 2000, true)
}

/// A talk is about a village or township, or a host: one of them is given.
fn place_rule(talk: &NewTalk) -> Result<(), ValidationError> {
    if talk.region_code.is_none() && talk.host_id.is_none() {
        return Err(validation::across(
            "region_code",
            "is required: the village or township of the talk, or host_id",
        ));
    }
    Ok(())
}

fn clean(value: Option<String>, max: usize, multiline: bool) -> Option<String> {
    crate::domain::text::clean(value, max, multiline)
        .ok()
        .flatten()
}

/// The latest day a talk may be held on: today in China (where the talks are given), not in
/// UTC, whose date is still yesterday's until 08:00 there.
fn today(now: DateTime<Utc>) -> NaiveDate {
    crate::domain::booking::today_in_china(now)
}

/// Records a talk (in one write transaction, with its audit record): the caller may create in
/// the talk's region (the village or township given, or the host's region); the fields keep
/// every rule. A host beyond the caller's reach does not exist.
///
/// # Errors
/// Denied, not found (the host), invalid fields (every one named), or the database fails.
pub async fn record(
    db: &DatabaseConnection,
    command: NewTalk,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<publicity_talk::Model, RegistryError> {
    acting.require(|| "publicity talks".to_owned())?;
    let mut errors = Errors::default();
    validation::check(&command, &mut errors);
    let given = command
        .region_code
        .as_deref()
        .and_then(|raw| RegionCode::parse(raw.trim()).ok());
    let mut region = None;
    match command.host_id {
        Some(host_id) if !errors.has("host_id") => {
            // Outside the read scope the host does not exist (404); outside the write scope
            // the caller may not record there (403).
            let host = super::hosts::find_for(db, host_id, Action::Create, acting)
                .await
                .map_err(|e| match e {
                    RegistryError::NotFound(_)
                    | RegistryError::Denied {
                        decision: Decision::Hidden,
                        ..
                    } => RegistryError::not_found(format!("host with id {host_id} (host_id)")),
                    other => other,
                })?;
            match &given {
                Some(code) if code.to_string() != host.region_code => errors.add(
                    "region_code",
                    format!(
                        "must be the host's region, {}, or left out",
                        host.region_code
                    ),
                ),
                _ => {}
            }
            region = RegionCode::parse(&host.region_code).ok();
        }
        Some(_) => {}
        None => {
            if let Some(code) = &given {
                acting.authorize(Action::Create, Some(code), || {
                    format!("region with code {code}")
                })?;
                if !errors.has("region_code") {
                    match regions::find(db, code).await? {
                        None => errors.add("region_code", format!("no region with code {code}")),
                        Some(found) if matches!(found.level, Level::Village | Level::Township) => {
                            region = Some(found.code);
                        }
                        Some(found) => errors.add(
                            "region_code",
                            format!(
                                "must be a village or township (or give host_id); {code} is a {}",
                                found.level.as_str()
                            ),
                        ),
                    }
                }
            }
        }
    }
    let today = today(now);
    if command.held_on > today {
        errors.add(
            "held_on",
            format!("cannot be in the future (today in China is {today})"),
        );
    }
    checked(errors)?;
    let (Some(region_code), Some(speaker), Some(materials), Ok(audience)) = (
        region,
        clean(Some(command.speaker), 100, false),
        clean(Some(command.materials), 500, false),
        i32::try_from(command.audience),
    ) else {
        unreachable!("every missing field added an error above");
    };
    let fields = TalkFields {
        region_code,
        host_id: command.host_id,
        held_on: command.held_on,
        speaker,
        audience,
        audience_description: clean(command.audience_description, 200, false),
        materials,
        notes: clean(command.notes, 2000, true),
    };
    let txn = crate::db::begin_write(db).await?;
    let talk = store::insert(&txn, fields, acting.username(), now).await?;
    audit::record(
        &txn,
        Change {
            entity: "publicity_talk",
            entity_id: talk.id.to_string(),
            action: "create",
            region_code: Some(talk.region_code.clone()),
            before: None,
            after: Some(&talk),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(talk)
}

/// What to list: talks in a region's subtree (default: everywhere the caller reads), at a
/// host, held between two days (inclusive); a page after a talk.
#[derive(Debug, Clone, Default)]
pub struct TalkQuery {
    pub region: Option<RegionCode>,
    pub host_id: Option<i64>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after: Option<TalkCursor>,
    pub limit: u64,
}

/// The talks `acting` may read that match `query`, newest first (by the day held, then the
/// latest recorded).
///
/// # Errors
/// Anonymous callers are denied; a region or host outside the caller's reach or unknown is
/// not found; `to` before `from` is invalid.
pub async fn list(
    db: &impl ConnectionTrait,
    query: TalkQuery,
    acting: &Acting<'_>,
) -> Result<Vec<publicity_talk::Model>, RegistryError> {
    acting.require(|| "publicity talks".to_owned())?;
    if let (Some(from), Some(to)) = (query.from, query.to)
        && to < from
    {
        return Err(RegistryError::invalid("to", "is before from"));
    }
    let mut filter = TalkFilter {
        host_id: query.host_id,
        from: query.from,
        to: query.to,
        after: query.after,
        limit: Some(query.limit),
        reach: acting.principal.map(policy::read_scope),
        ..TalkFilter::default()
    };
    if let Some(code) = &query.region {
        let what = || format!("region with code {code}");
        acting.authorize(Action::Read, Some(code), what)?;
        let region = regions::find(db, code)
            .await?
            .ok_or_else(|| RegistryError::not_found(what()))?;
        filter.region_range = Some(code.subtree_bounds(region.level));
    }
    if let Some(host_id) = query.host_id {
        super::hosts::find_for(db, host_id, Action::Read, acting).await?;
    }
    Ok(store::list(db, &filter).await?)
}

/// Deletes talk `id` (which the caller may close in its region), with an audit record of
/// what it was.
///
/// # Errors
/// Not found (also outside the caller's reach), denied, or the database fails.
pub async fn delete(
    db: &DatabaseConnection,
    id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), RegistryError> {
    let what = || format!("publicity talk with id {id}");
    let talk = store::find(db, id)
        .await?
        .ok_or_else(|| RegistryError::not_found(what()))?;
    let code = RegionCode::parse(&talk.region_code).ok();
    // Outside the read scope it does not exist.
    acting.authorize(Action::Read, code.as_ref(), what)?;
    acting.authorize(Action::Close, code.as_ref(), what)?;
    let txn = crate::db::begin_write(db).await?;
    if !store::delete(&txn, id).await? {
        return Err(RegistryError::not_found(what()));
    }
    audit::record(
        &txn,
        Change {
            entity: "publicity_talk",
            entity_id: id.to_string(),
            action: "delete",
            region_code: Some(talk.region_code.clone()),
            before: Some(&talk),
            after: None,
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
