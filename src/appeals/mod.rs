//! Appeals and outreach (issue 16): a station's appeal template (倡议书, versioned, the
//! catalogue's text while the station has none), appeals made from it for a drive or one of
//! its stops (the rendered text, a tracking code and the booking link carrying it; the link's
//! QR code as SVG or PNG), the chat groups appeals go to through WeCom group robots (the
//! robot's key a secret: read only to send), sending an appeal to groups (one outbox message
//! per group, written once, in the transaction that is audited) and the dispatch of those
//! messages to the robots, and each appeal's figures (the groups and their messages' status,
//! the bookings it brought per hour and per township).
//!
//! Scope: an appeal lives in its drive's region, read within the read scope and made or sent
//! as drives are planned (`Resource::Plan`); a station's template is read and written as its
//! checklist template is; a chat group lives in its region like a drive's stops. Outside the
//! caller's read scope a record does not exist.

pub mod qr;
pub mod wecom;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use entity::{appeal, chat_group, drive, drive_stop, outbox_message};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde::Serialize;

use crate::domain::account::Principal;
use crate::domain::appeal::{self as rules, Fields};
use crate::domain::booking::clock;
use crate::domain::policy::{self, Action, Decision, Resource, Visibility};
use crate::domain::region::RegionCode;
use crate::error::{FieldError, FieldErrors};
use crate::i18n::Lang;
use crate::store::appeals::{self as store, GROUP_IMAGE, GROUP_MARKDOWN, GROUP_TEXT};
use crate::store::audit::{self, Actor, Change};
use crate::versioned::{self, Outcome, Versioned};

/// The language appeals are written in: they are read by donors, in Chinese (see
/// `domain::booking::DONOR_LANG`).
pub const APPEAL_LANG: Lang = crate::domain::booking::DONOR_LANG;

/// The most chat groups one send names.
pub const MAX_GROUPS_PER_SEND: usize = 50;

/// How many hours the figures count bookings for, at most (two weeks).
pub const MAX_HOURS: usize = 14 * 24;

/// Why an appeal use case refused.
#[derive(Debug, thiserror::Error)]
pub enum AppealsError {
    /// Fields that break a rule, every one named.
    #[error("invalid {}", crate::error::field_names(.0))]
    Invalid(Vec<FieldError>),
    /// The record does not exist (or lies outside what the caller may see).
    #[error("{0}")]
    NotFound(String),
    /// The policy said no; `what` names the resource.
    #[error("{decision:?}: {what}")]
    Denied { decision: Decision, what: String },
    /// The change does not fit the record's state (an appeal for a drive not published).
    #[error("{0}")]
    Conflict(String),
    /// A fault of ours (a stored row that does not read back, no randomness).
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn invalid(field: &str, message: impl Into<String>) -> AppealsError {
    AppealsError::Invalid(vec![FieldError::new(field, message)])
}

/// Who acts: the signed-in caller, checked by the policy, and the audit actor.
pub struct Acting<'a> {
    pub actor: Actor,
    principal: Option<&'a Principal>,
}

impl<'a> Acting<'a> {
    pub fn caller(principal: Option<&'a Principal>, actor: Actor) -> Self {
        Acting { actor, principal }
    }

    /// # Errors
    /// [`AppealsError::Denied`] naming the resource with `what`.
    pub fn authorize(
        &self,
        action: Action,
        resource: Resource<'_>,
        what: impl FnOnce() -> String,
    ) -> Result<(), AppealsError> {
        match policy::can(self.principal, action, resource) {
            Decision::Allow => Ok(()),
            decision => Err(AppealsError::Denied {
                decision,
                what: what(),
            }),
        }
    }

    /// Read first (outside the read scope the record does not exist), then `action`.
    fn may(
        &self,
        action: Action,
        resource: Resource<'_>,
        what: impl Fn() -> String,
    ) -> Result<(), AppealsError> {
        self.authorize(Action::Read, resource, &what)?;
        if action != Action::Read {
            self.authorize(action, resource, &what)?;
        }
        Ok(())
    }

    fn reach(&self) -> Option<Visibility> {
        self.principal.map(policy::read_scope)
    }

    fn require(&self) -> Result<(), AppealsError> {
        if self.principal.is_none() {
            return Err(AppealsError::Denied {
                decision: policy::can(None, Action::Read, Resource::Outbox),
                what: "appeals".to_owned(),
            });
        }
        Ok(())
    }

    fn username(&self) -> Option<String> {
        self.actor.name.clone()
    }
}

fn region(code: &str, what: &str) -> Result<RegionCode, AppealsError> {
    RegionCode::parse(code).map_err(|e| AppealsError::Internal(format!("{what}: {e}")))
}

// ---------------------------------------------------------------------------------------
// Templates

/// A station's appeal template as it reads: its own (version 1 and on), or the catalogue's
/// built-in text (version 0, `builtin`) while it has none.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Template {
    pub station_id: i64,
    /// The text with its named fields: `{date}`, `{place}`, `{times}`, `{who}`, `{bring}`,
    /// `{link}` (required).
    pub body: String,
    /// What `{who}` reads as.
    pub who_may_donate: String,
    /// What `{bring}` reads as.
    pub what_to_bring: String,
    /// The ETag; 0 for the built-in text.
    pub version: i32,
    /// True while the station uses the catalogue's text.
    pub builtin: bool,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    id: Option<i64>,
    #[serde(skip)]
    #[schema(ignore)]
    region_code: String,
}

impl Versioned for Template {
    fn version(&self) -> i32 {
        self.version
    }
}

/// The built-in template of the catalogue, with the named fields in it.
fn builtin_template(station_id: i64, region_code: String) -> Template {
    let lang = APPEAL_LANG;
    let field = |name: &str| format!("{{{name}}}");
    let body = lang.tn(
        "appeal-default-body",
        &[
            ("date", field("date").into()),
            ("place", field("place").into()),
            ("times", field("times").into()),
            ("who", field("who").into()),
            ("bring", field("bring").into()),
            ("link", field("link").into()),
        ],
    );
    Template {
        station_id,
        body,
        who_may_donate: lang.t("appeal-default-who"),
        what_to_bring: lang.t("appeal-default-bring"),
        version: 0,
        builtin: true,
        updated_at: None,
        updated_by: None,
        id: None,
        region_code,
    }
}

async fn template_of(
    db: &impl ConnectionTrait,
    station: &entity::station::Model,
) -> Result<Template, AppealsError> {
    Ok(match store::find_template(db, station.id).await? {
        Some(t) => Template {
            station_id: t.station_id,
            body: t.body,
            who_may_donate: t.who_may_donate,
            what_to_bring: t.what_to_bring,
            version: t.version,
            builtin: false,
            updated_at: Some(t.updated_at),
            updated_by: t.updated_by,
            id: Some(t.id),
            region_code: station.region_code.clone(),
        },
        None => builtin_template(station.id, station.region_code.clone()),
    })
}

async fn station_for(
    db: &impl ConnectionTrait,
    station_id: i64,
    action: Action,
    acting: &Acting<'_>,
) -> Result<entity::station::Model, AppealsError> {
    let what = || format!("station with id {station_id}");
    let station = crate::store::fleet::find_station(db, station_id)
        .await?
        .ok_or_else(|| AppealsError::NotFound(what()))?;
    let code = region(&station.region_code, "station")?;
    acting.may(action, Resource::ChecklistTemplate(&code), what)?;
    Ok(station)
}

/// Station `station_id`'s appeal template (the built-in one while it has none).
///
/// # Errors
/// Not found (also outside the caller's reach); the database fails.
pub async fn template(
    db: &impl ConnectionTrait,
    station_id: i64,
    acting: &Acting<'_>,
) -> Result<Template, AppealsError> {
    acting.require()?;
    let station = station_for(db, station_id, Action::Read, acting).await?;
    template_of(db, &station).await
}

/// A change to a template: the members given replace the current ones.
#[derive(Debug, Clone, Default)]
pub struct TemplateChange {
    pub body: Option<String>,
    pub who_may_donate: Option<String>,
    pub what_to_bring: Option<String>,
}

/// Station `station_id`'s template as the station edits it, expected at version `expected`
/// (0: the built-in text, which the first change replaces): the fields are checked first
/// (400 naming each, even when stale), then the version (`Outcome::Stale` with the current
/// template), then written and audited in one transaction.
///
/// # Errors
/// Not found, denied, invalid fields; the database fails.
pub async fn update_template<E: From<AppealsError>>(
    db: &DatabaseConnection,
    station_id: i64,
    change: TemplateChange,
    expected: Result<i32, E>,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome<Template>, E> {
    let (station, current, fields) = checked_change(db, station_id, change, acting).await?;
    let expected = expected?;
    Ok(write_template(db, &station, current, fields, expected, acting, now).await?)
}

async fn checked_change(
    db: &DatabaseConnection,
    station_id: i64,
    change: TemplateChange,
    acting: &Acting<'_>,
) -> Result<(entity::station::Model, Template, store::TemplateFields), AppealsError> {
    acting.require()?;
    let station = station_for(db, station_id, Action::Update, acting).await?;
    let current = template_of(db, &station).await?;
    let mut errors = FieldErrors::default();
    let body = change.body.unwrap_or_else(|| current.body.clone());
    if let Err(message) = rules::check_body(&body) {
        errors.add("body", message);
    }
    let text = |errors: &mut FieldErrors, field: &str, value: String| -> String {
        match crate::domain::text::clean(Some(value), 500, false) {
            Ok(Some(v)) => v,
            Ok(None) => {
                errors.add(field, "is required");
                String::new()
            }
            Err(message) => {
                errors.add(field, message);
                String::new()
            }
        }
    };
    let who = text(
        &mut errors,
        "who_may_donate",
        change
            .who_may_donate
            .unwrap_or_else(|| current.who_may_donate.clone()),
    );
    let bring = text(
        &mut errors,
        "what_to_bring",
        change
            .what_to_bring
            .unwrap_or_else(|| current.what_to_bring.clone()),
    );
    errors.check_with(AppealsError::Invalid)?;
    let fields = store::TemplateFields {
        body,
        who_may_donate: who,
        what_to_bring: bring,
    };
    Ok((station, current, fields))
}

async fn write_template(
    db: &DatabaseConnection,
    station: &entity::station::Model,
    current: Template,
    fields: store::TemplateFields,
    expected: i32,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome<Template>, AppealsError> {
    let prepare = async |_: &Template| Ok::<_, AppealsError>(fields);
    let write = async |txn: &sea_orm::DatabaseTransaction,
                       current: &Template,
                       fields: store::TemplateFields|
           -> Result<Option<Template>, AppealsError> {
        let written = match current.id {
            None => {
                store::insert_template(txn, current.station_id, fields, acting.username(), now)
                    .await?
            }
            Some(id) => {
                store::update_template_if_version(
                    txn,
                    id,
                    current.version,
                    fields,
                    acting.username(),
                    now,
                )
                .await?
            }
        };
        let Some(written) = written else {
            return Ok(None);
        };
        let after = Template {
            station_id: written.station_id,
            body: written.body,
            who_may_donate: written.who_may_donate,
            what_to_bring: written.what_to_bring,
            version: written.version,
            builtin: false,
            updated_at: Some(written.updated_at),
            updated_by: written.updated_by,
            id: Some(written.id),
            region_code: current.region_code.clone(),
        };
        audit::record(
            txn,
            Change {
                entity: "appeal_template",
                entity_id: current.station_id.to_string(),
                action: "update",
                region_code: Some(current.region_code.clone()),
                before: Some(current),
                after: Some(&after),
                actor: acting.actor.clone(),
                at: now,
            },
        )
        .await?;
        Ok(Some(after))
    };
    let reload = async || template_of(db, station).await;
    versioned::update(db, current, expected, prepare, write, reload).await
}

// ---------------------------------------------------------------------------------------
// Appeals

/// An appeal to make: for drive `drive_id`, or one stop of it.
#[derive(Debug, Clone)]
pub struct NewAppeal {
    pub drive_id: i64,
    pub stop_id: Option<i64>,
}

async fn drive_for(
    db: &impl ConnectionTrait,
    drive_id: i64,
    action: Action,
    acting: &Acting<'_>,
    field: Option<&str>,
) -> Result<drive::Model, AppealsError> {
    let what = || format!("drive with id {drive_id}");
    let hidden = || match field {
        Some(f) => invalid(f, format!("no drive with id {drive_id}")),
        None => AppealsError::NotFound(what()),
    };
    let drive = crate::store::drives::find(db, drive_id)
        .await?
        .ok_or_else(hidden)?;
    let code = region(&drive.region_code, "drive")?;
    match acting.may(action, Resource::Plan(&code), what) {
        Err(AppealsError::Denied {
            decision: Decision::Hidden,
            ..
        }) => Err(hidden()),
        other => other.map(|()| drive),
    }
}

/// The appeal's fields: the day, the place(s) and times of the stops it is for, the
/// template's texts, the link.
fn fields_for(
    drive: &drive::Model,
    stops: &[drive_stop::Model],
    template: &Template,
    link: String,
) -> Fields {
    let lang = APPEAL_LANG;
    let separator = lang.t("appeal-list-separator");
    let place = stops
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join("、");
    let times = match stops {
        [one] => format!("{}–{}", clock(one.planned_start), clock(one.planned_end)),
        many => many
            .iter()
            .map(|s| {
                lang.tn(
                    "appeal-stop-times",
                    &[
                        ("place", s.name.clone().into()),
                        ("start", clock(s.planned_start).into()),
                        ("end", clock(s.planned_end).into()),
                    ],
                )
            })
            .collect::<Vec<_>>()
            .join(&separator),
    };
    Fields {
        date: rules::day(lang, drive.date),
        place,
        times,
        who: template.who_may_donate.clone(),
        bring: template.what_to_bring.clone(),
        link,
    }
}

/// Makes an appeal for a published drive (or one of its stops) from the template of the
/// drive's station: the text rendered, a new tracking code (random, unique) and the booking
/// link on `site` (`https://host`) carrying it: the stop's page for one stop, the schedule for
/// a drive of several. Audited in the transaction that stores it.
///
/// # Errors
/// Denied; the drive not found (400 naming `drive_id`) or not published (409); a stop not of
/// the drive (400 naming `stop_id`); the database fails.
pub async fn create(
    db: &DatabaseConnection,
    command: NewAppeal,
    site: &str,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<appeal::Model, AppealsError> {
    acting.require()?;
    let drive = drive_for(
        db,
        command.drive_id,
        Action::Create,
        acting,
        Some("drive_id"),
    )
    .await?;
    let all = crate::store::drives::stops(db, drive.id).await?;
    let stops: Vec<drive_stop::Model> = match command.stop_id {
        Some(id) => match all.iter().find(|s| s.id == id) {
            Some(stop) => vec![stop.clone()],
            None => {
                return Err(invalid(
                    "stop_id",
                    format!("is not a stop of drive {}", drive.id),
                ));
            }
        },
        None => all,
    };
    if drive.status != "published" {
        return Err(AppealsError::Conflict(format!(
            "drive {} is {}: appeals are made for published drives, whose slots can be booked",
            drive.id, drive.status
        )));
    }
    let vehicle = crate::store::fleet::find_vehicle(db, drive.vehicle_id)
        .await?
        .ok_or_else(|| AppealsError::Internal(format!("drive {}: no vehicle", drive.id)))?;
    let station = crate::store::fleet::find_station(db, vehicle.station_id)
        .await?
        .ok_or_else(|| AppealsError::Internal(format!("vehicle {}: no station", vehicle.id)))?;
    let template = template_of(db, &station).await?;
    let site = site.trim_end_matches('/');
    let txn = crate::db::begin_write(db).await?;
    let mut made = None;
    // A clash of 6 random characters is rare; a few draws make it vanishingly so.
    for _ in 0..5 {
        let mut random = [0_u8; 32];
        getrandom::fill(&mut random).map_err(|e| AppealsError::Internal(format!("random: {e}")))?;
        let Some(code) = rules::code_from(&random) else {
            continue;
        };
        let link = match stops.as_slice() {
            [one] => format!("{site}/stops/{}?via={code}", one.id),
            _ => format!("{site}/drives?via={code}"),
        };
        let body = rules::render(
            &template.body,
            &fields_for(&drive, &stops, &template, link.clone()),
        );
        made = store::insert_appeal(
            &txn,
            store::NewAppeal {
                drive_id: drive.id,
                stop_id: command.stop_id,
                region_code: drive.region_code.clone(),
                code,
                body,
                link,
            },
            acting.username(),
            now,
        )
        .await?;
        if made.is_some() {
            break;
        }
    }
    let Some(appeal) = made else {
        return Err(AppealsError::Internal("no free tracking code".to_owned()));
    };
    audit::record(
        &txn,
        Change {
            entity: "appeal",
            entity_id: appeal.id.to_string(),
            action: "create",
            region_code: Some(appeal.region_code.clone()),
            before: None,
            after: Some(&appeal),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(appeal)
}

/// Appeal `id` if `acting` may do `action` to it (not found outside the read scope).
///
/// # Errors
/// Not found, denied; the database fails.
pub async fn find_for(
    db: &impl ConnectionTrait,
    id: i64,
    action: Action,
    acting: &Acting<'_>,
) -> Result<appeal::Model, AppealsError> {
    acting.require()?;
    let what = || format!("appeal with id {id}");
    let appeal = store::find_appeal(db, id)
        .await?
        .ok_or_else(|| AppealsError::NotFound(what()))?;
    let code = region(&appeal.region_code, "appeal")?;
    acting.may(action, Resource::Plan(&code), what)?;
    Ok(appeal)
}

/// The appeals of drive `drive_id`, oldest first.
///
/// # Errors
/// The drive not found (also outside the caller's reach); the database fails.
pub async fn list_for_drive(
    db: &impl ConnectionTrait,
    drive_id: i64,
    acting: &Acting<'_>,
) -> Result<Vec<appeal::Model>, AppealsError> {
    acting.require()?;
    drive_for(db, drive_id, Action::Read, acting, None).await?;
    Ok(store::appeals_of_drive(db, drive_id).await?)
}

// ---------------------------------------------------------------------------------------
// Chat groups

/// Who a chat group is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The coordinators' (village doctors') group of an area.
    Coordinators,
    /// A host organisation's group.
    Host,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Coordinators => "coordinators",
            Audience::Host => "host",
        }
    }
}

/// A chat group to register.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub name: String,
    pub region_code: String,
    pub audience: Audience,
    pub host_id: Option<i64>,
    /// The group robot's webhook key (`key=` of its webhook address).
    pub webhook_key: String,
}

/// The last 4 characters of a group's key, all that is ever shown of it.
pub fn key_hint(group: &chat_group::Model) -> String {
    let chars: Vec<char> = group.webhook_key.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("…{tail}")
}

/// Registers a chat group in a region the caller plans drives for (a host's group at that
/// host, in its region); audited without its key.
///
/// # Errors
/// Denied; invalid fields (every one named; a host outside reach is named as unknown); the
/// database fails.
pub async fn create_group(
    db: &DatabaseConnection,
    command: NewGroup,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<chat_group::Model, AppealsError> {
    acting.require()?;
    let mut errors = FieldErrors::default();
    let name = match crate::domain::text::clean(Some(command.name), 100, false) {
        Ok(Some(name)) => name,
        Ok(None) => {
            errors.add("name", "is required");
            String::new()
        }
        Err(message) => {
            errors.add("name", message);
            String::new()
        }
    };
    let key = robot_key(&command.webhook_key);
    if !(8..=200).contains(&key.len())
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        errors.add(
            "webhook_key",
            "must be the robot's key: 8 to 200 letters, digits, - or _",
        );
    }
    let code = RegionCode::parse(command.region_code.trim()).ok();
    match &code {
        None => errors.add("region_code", "must be a 12-digit region code"),
        Some(code) => {
            let what = || format!("region with code {code}");
            acting.may(Action::Create, Resource::Plan(code), what)?;
            if crate::store::regions::find(db, code).await?.is_none() {
                errors.add("region_code", format!("no region with code {code}"));
            }
        }
    }
    match (command.audience, command.host_id) {
        (Audience::Host, None) => errors.add("host_id", "is required for a host's group"),
        (Audience::Coordinators, Some(_)) => {
            errors.add("host_id", "is only for a host's group (audience host)");
        }
        (Audience::Host, Some(host_id)) => {
            let host = crate::store::hosts::find(db, host_id).await?;
            let readable = host.as_ref().is_some_and(|h| {
                RegionCode::parse(&h.region_code).is_ok_and(|c| {
                    acting
                        .authorize(Action::Read, Resource::Registry(Some(&c)), String::new)
                        .is_ok()
                })
            });
            match host {
                Some(h) if readable => {
                    if code.as_ref().is_some_and(|c| c.as_str() != h.region_code) {
                        errors.add(
                            "region_code",
                            format!("must be the host's region, {}", h.region_code),
                        );
                    }
                }
                _ => errors.add("host_id", format!("no host with id {host_id}")),
            }
        }
        (Audience::Coordinators, None) => {}
    }
    errors.check_with(AppealsError::Invalid)?;
    let Some(code) = code else {
        unreachable!("a missing region added an error");
    };
    let txn = crate::db::begin_write(db).await?;
    let group = store::insert_group(
        &txn,
        store::NewGroup {
            name,
            region_code: code.to_string(),
            audience: command.audience.as_str().to_owned(),
            host_id: command.host_id,
            webhook_key: key,
        },
        acting.username(),
        now,
    )
    .await?;
    // The model serialises without its key.
    audit::record(
        &txn,
        Change {
            entity: "chat_group",
            entity_id: group.id.to_string(),
            action: "create",
            region_code: Some(group.region_code.clone()),
            before: None,
            after: Some(&group),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(group)
}

/// The chat groups `acting` reads, in a region's subtree when given, by id.
///
/// # Errors
/// The region outside the caller's reach or unknown: not found; the database fails.
pub async fn list_groups(
    db: &impl ConnectionTrait,
    region: Option<RegionCode>,
    acting: &Acting<'_>,
) -> Result<Vec<chat_group::Model>, AppealsError> {
    acting.require()?;
    let mut range = None;
    if let Some(code) = &region {
        let what = || format!("region with code {code}");
        acting.may(Action::Read, Resource::Plan(code), what)?;
        let found = crate::store::regions::find(db, code)
            .await?
            .ok_or_else(|| AppealsError::NotFound(what()))?;
        range = Some(code.subtree_bounds(found.level));
    }
    Ok(store::list_groups(db, acting.reach().as_ref(), range).await?)
}

async fn group_for(
    db: &impl ConnectionTrait,
    id: i64,
    action: Action,
    acting: &Acting<'_>,
) -> Result<chat_group::Model, AppealsError> {
    let what = || format!("chat group with id {id}");
    let group = store::find_group(db, id)
        .await?
        .ok_or_else(|| AppealsError::NotFound(what()))?;
    let code = region(&group.region_code, "chat group")?;
    acting.may(action, Resource::Plan(&code), what)?;
    Ok(group)
}

/// Deletes chat group `id` (its messages already written stay, and fail to send).
///
/// # Errors
/// Not found (also outside reach), denied; the database fails.
pub async fn delete_group(
    db: &DatabaseConnection,
    id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), AppealsError> {
    acting.require()?;
    let group = group_for(db, id, Action::Close, acting).await?;
    let txn = crate::db::begin_write(db).await?;
    if !store::delete_group(&txn, id).await? {
        return Err(AppealsError::NotFound(format!("chat group with id {id}")));
    }
    audit::record(
        &txn,
        Change {
            entity: "chat_group",
            entity_id: id.to_string(),
            action: "delete",
            region_code: Some(group.region_code.clone()),
            before: Some(&group),
            after: None,
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Sending

/// How the text goes to a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Text,
    Markdown,
}

/// Send an appeal to chat groups.
#[derive(Debug, Clone)]
pub struct SendTo {
    pub group_ids: Vec<i64>,
    pub format: Format,
    /// Also send the link's QR code (a PNG image message).
    pub with_qr: bool,
}

/// What a send did for one group.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub group_id: i64,
    /// False when the appeal had been sent to this group before (each goes once).
    pub queued: bool,
}

/// Sends appeal `id` to chat groups: one outbox message per group (and one more for the QR
/// code), each written once whatever how often it is asked (`appeal:<id>:group:<gid>`), in
/// the transaction that records the send in the audit log. Dispatch ([`dispatch`]) posts them
/// to the groups' robots.
///
/// # Errors
/// Not found, denied; invalid `group_ids` (none, too many, a group unknown or outside reach,
/// each named); the database fails.
pub async fn send(
    db: &DatabaseConnection,
    id: i64,
    command: SendTo,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Queued>, AppealsError> {
    let appeal = find_for(db, id, Action::Update, acting).await?;
    let mut errors = FieldErrors::default();
    if command.group_ids.is_empty() {
        errors.add("group_ids", "must name at least one chat group");
    }
    if command.group_ids.len() > MAX_GROUPS_PER_SEND {
        errors.add(
            "group_ids",
            format!("at most {MAX_GROUPS_PER_SEND} groups at once"),
        );
    }
    let mut groups = Vec::new();
    for (i, gid) in command.group_ids.iter().enumerate() {
        match group_for(db, *gid, Action::Read, acting).await {
            Ok(group) => {
                if !groups.iter().any(|g: &chat_group::Model| g.id == group.id) {
                    groups.push(group);
                }
            }
            Err(AppealsError::NotFound(_) | AppealsError::Denied { .. }) => {
                errors.add(
                    &format!("group_ids[{i}]"),
                    format!("no chat group with id {gid}"),
                );
            }
            Err(other) => return Err(other),
        }
    }
    errors.check_with(AppealsError::Invalid)?;
    let kind = match command.format {
        Format::Text => GROUP_TEXT,
        Format::Markdown => GROUP_MARKDOWN,
    };
    let txn = crate::db::begin_write(db).await?;
    let mut out = Vec::new();
    for group in &groups {
        let queued = store::enqueue_group_message(
            &txn,
            store::group_key(appeal.id, group.id, None),
            kind,
            group.id,
            appeal.body.clone(),
            now,
        )
        .await?;
        if command.with_qr {
            store::enqueue_group_message(
                &txn,
                store::group_key(appeal.id, group.id, Some("qr")),
                GROUP_IMAGE,
                group.id,
                appeal.link.clone(),
                now,
            )
            .await?;
        }
        out.push(Queued {
            group_id: group.id,
            queued,
        });
    }
    audit::record(
        &txn,
        Change {
            entity: "appeal",
            entity_id: appeal.id.to_string(),
            action: "send",
            region_code: Some(appeal.region_code.clone()),
            before: None,
            after: Some(&serde_json::json!({
                "groups": out.iter().map(|q| q.group_id).collect::<Vec<_>>(),
                "queued": out.iter().filter(|q| q.queued).map(|q| q.group_id).collect::<Vec<_>>(),
                "format": kind,
                "with_qr": command.with_qr,
            })),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

/// The JSON a WeCom group robot takes for a message of `kind` with `body` (the text, or for
/// the QR code the link it encodes).
///
/// # Errors
/// The QR code cannot be made (a link too long for one).
pub fn payload(kind: &str, body: &str) -> Result<serde_json::Value, String> {
    use base64::Engine as _;
    use md5::Digest as _;
    Ok(match kind {
        GROUP_MARKDOWN => serde_json::json!({"msgtype": "markdown", "markdown": {"content": body}}),
        GROUP_IMAGE => {
            let png = qr::png(body).map_err(|e| format!("QR code: {e}"))?;
            serde_json::json!({
                "msgtype": "image",
                "image": {
                    "base64": base64::engine::general_purpose::STANDARD.encode(&png),
                    "md5": hex::encode(md5::Md5::digest(&png)),
                }
            })
        }
        _ => serde_json::json!({"msgtype": "text", "text": {"content": body}}),
    })
}

/// Messages handed to the robots per run.
const BATCH: u64 = 200;

/// Posts the messages to chat groups due at `now` to their groups' robots through `wecom`
/// (never through the donor-message sender): a `sent`, or a retry with the outbox's backoff,
/// or `failed` after `outbox::MAX_ATTEMPTS` (an answer with `errcode` other than 0 is a
/// failure; a group deleted meanwhile fails at once).
///
/// # Errors
/// The database fails.
pub async fn dispatch(
    db: &DatabaseConnection,
    wecom: &wecom::WeCom,
    now: DateTime<Utc>,
) -> Result<crate::outbox::Dispatched, DbErr> {
    let mut out = crate::outbox::Dispatched::default();
    let mut claimed = 0;
    // A few at a time, as the outbox does (`outbox::CLAIM_CHUNK`): a claim never outlives its
    // lease.
    let mut chunk = Vec::new();
    loop {
        if chunk.is_empty() {
            if claimed >= BATCH {
                break;
            }
            chunk = crate::store::outbox::claim_due(
                db,
                crate::store::outbox::Queue::Groups,
                now,
                crate::outbox::CLAIM_CHUNK,
            )
            .await?;
            if chunk.is_empty() {
                break;
            }
            claimed += chunk.len() as u64;
            chunk.reverse();
        }
        let Some(message) = chunk.pop() else {
            break;
        };
        match deliver(db, wecom, &message).await? {
            Ok(()) => {
                if crate::store::outbox::mark_sent(db, message.id, &message.body, Utc::now())
                    .await?
                {
                    out.sent += 1;
                }
            }
            Err((error, retry)) => {
                let attempts = message.attempts + 1;
                let retry_at = (retry && attempts < crate::outbox::MAX_ATTEMPTS)
                    .then(|| Utc::now() + Duration::seconds(30 * (1 << attempts.min(10))));
                tracing::warn!(id = message.id, attempts, %error, "message to a chat group not delivered");
                crate::store::outbox::mark_failed(db, message.id, &error, retry_at, &message.body)
                    .await?;
                out.failed += 1;
            }
        }
    }
    Ok(out)
}

/// One message to its group: `Err` with what went wrong and whether to try again.
async fn deliver(
    db: &DatabaseConnection,
    wecom: &wecom::WeCom,
    message: &outbox_message::Model,
) -> Result<Result<(), (String, bool)>, DbErr> {
    let Some(group_id) = store::group_of(&message.recipient) else {
        return Ok(Err(("not a chat group's message".to_owned(), false)));
    };
    let Some(group) = store::find_group(db, group_id).await? else {
        return Ok(Err((format!("chat group {group_id} was deleted"), false)));
    };
    let payload = match payload(&message.kind, &message.body) {
        Ok(p) => p,
        Err(e) => return Ok(Err((e, false))),
    };
    Ok(wecom
        .post(&group.webhook_key, &payload)
        .await
        .map_err(|e| (e, true)))
}

// ---------------------------------------------------------------------------------------
// Figures

/// A group an appeal was sent to, and how its message fared.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupSent {
    pub group_id: i64,
    /// `None` when the group was deleted since.
    pub name: Option<String>,
    /// `wecom_text`, `wecom_markdown` or `wecom_image` (the QR code).
    pub kind: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Bookings an appeal brought in one hour since it was made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hour {
    /// Hours since the appeal was made (0: the first hour).
    pub hour: u32,
    pub from: DateTime<Utc>,
    pub bookings: u64,
    /// Bookings from the appeal's making to the end of this hour.
    pub cumulative: u64,
    /// The people those bookings are for: one for a person, a group's headcount.
    pub people: u64,
    /// People from the appeal's making to the end of this hour (the curve the page draws).
    pub cumulative_people: u64,
}

/// Bookings an appeal brought in a township.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Township {
    /// The township of the stop booked (the stop's region code where it has none).
    pub code: String,
    pub name: Option<String>,
    pub bookings: u64,
    /// The people those bookings are for (a group counts its headcount).
    pub people: u64,
}

/// An appeal's figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub appeal_id: i64,
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub groups: Vec<GroupSent>,
    /// Every booking made through its link (cancelled ones too).
    pub bookings: u64,
    /// Of those, the ones still active.
    pub active: u64,
    /// The people all those bookings are for: one for a person's booking, its headcount for a
    /// group's (a group is one booking of many people).
    pub people: u64,
    /// Per hour from its making to now (at most two weeks): the cumulative curve to draw.
    pub per_hour: Vec<Hour>,
    pub by_township: Vec<Township>,
}

/// Appeal `id`'s figures at `now`.
///
/// # Errors
/// Not found (also outside reach); the database fails.
pub async fn figures(
    db: &impl ConnectionTrait,
    id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Figures, AppealsError> {
    let appeal = find_for(db, id, Action::Read, acting).await?;
    let mut groups = Vec::new();
    for m in store::group_messages_of(db, appeal.id).await? {
        let group_id = store::group_of(&m.recipient).unwrap_or_default();
        let name = store::find_group(db, group_id).await?.map(|g| g.name);
        groups.push(GroupSent {
            group_id,
            name,
            kind: m.kind,
            status: m.status,
            attempts: m.attempts,
            last_error: m.last_error,
            queued_at: m.created_at,
            sent_at: m.sent_at,
        });
    }
    let booked = store::bookings_of(db, appeal.id).await?;
    let start = appeal.created_at;
    let hours = usize::try_from(((now - start).num_hours() + 1).max(1))
        .unwrap_or(MAX_HOURS)
        .min(MAX_HOURS);
    let times: Vec<i64> = booked
        .iter()
        .map(|(b, _)| b.created_at.timestamp())
        .collect();
    let weighted: Vec<(i64, u64)> = booked
        .iter()
        .map(|(b, _)| (b.created_at.timestamp(), headcount(b)))
        .collect();
    let counts = rules::per_hour(start.timestamp(), &times, hours);
    let people = rules::per_hour_weighted(start.timestamp(), &weighted, hours);
    let per_hour = counts
        .iter()
        .zip(rules::cumulative(&counts))
        .zip(people.iter().zip(rules::cumulative(&people)))
        .enumerate()
        .map(|(h, ((n, total), (p, p_total)))| Hour {
            hour: u32::try_from(h).unwrap_or(u32::MAX),
            from: start + Duration::hours(i64::try_from(h).unwrap_or(0)),
            bookings: *n,
            cumulative: total,
            people: *p,
            cumulative_people: p_total,
        })
        .collect();
    let mut by_code: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (booking, stop) in &booked {
        let code = stop
            .as_ref()
            .map(|s| {
                RegionCode::parse(&s.region_code)
                    .ok()
                    .and_then(|c| c.township())
                    .map_or_else(|| s.region_code.clone(), |t| t.to_string())
            })
            .unwrap_or_default();
        let entry = by_code.entry(code).or_default();
        entry.0 += 1;
        entry.1 += headcount(booking);
    }
    let mut by_township = Vec::new();
    for (code, (bookings, people)) in by_code {
        let name = match RegionCode::parse(&code) {
            Ok(c) => crate::store::regions::find(db, &c).await?.map(|r| r.name),
            Err(_) => None,
        };
        by_township.push(Township {
            code,
            name,
            bookings,
            people,
        });
    }
    Ok(Figures {
        appeal_id: appeal.id,
        code: appeal.code,
        created_at: appeal.created_at,
        groups,
        bookings: booked.len() as u64,
        active: booked.iter().filter(|(b, _)| b.status == "active").count() as u64,
        people: booked.iter().map(|(b, _)| headcount(b)).sum(),
        per_hour,
        by_township,
    })
}

/// The people a booking is for: one for a person's, its headcount for a group's.
fn headcount(booking: &entity::booking::Model) -> u64 {
    u64::try_from(booking.headcount).unwrap_or(0).max(1)
}

// ---------------------------------------------------------------------------------------
// What the station's pages read

/// An appeal as the station's list shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub appeal: appeal::Model,
    pub drive_date: chrono::NaiveDate,
    /// The stop's name, or the drive's stops' names.
    pub place: String,
    pub bookings: u64,
    /// The people those bookings are for (a group's headcount).
    pub people: u64,
}

/// A published drive an appeal may be made for, with its stops.
#[derive(Debug, Clone)]
pub struct Offered {
    pub drive: drive::Model,
    pub stops: Vec<drive_stop::Model>,
}

/// What `/station/appeals` shows: the appeals made (of one drive when asked), newest first,
/// and the published drives from `today` on an appeal may be made for (those the caller may
/// plan; none for a reader who may not).
#[derive(Debug, Clone)]
pub struct Overview {
    pub appeals: Vec<Listed>,
    pub drives: Vec<Offered>,
    /// The caller may make appeals (plans drives somewhere).
    pub may_make: bool,
}

/// At most this many appeals and drives on the list.
pub const LISTED: u64 = 200;

/// The station's appeals page: appeals within the caller's reach (of drive `drive_id` only,
/// when given: not found outside reach), and the drives to make one for.
///
/// # Errors
/// Anonymous: denied; the drive not found; the database fails.
pub async fn overview(
    db: &impl ConnectionTrait,
    drive_id: Option<i64>,
    acting: &Acting<'_>,
    today: chrono::NaiveDate,
) -> Result<Overview, AppealsError> {
    acting.require()?;
    let reach = acting.reach();
    let made = match drive_id {
        Some(id) => {
            drive_for(db, id, Action::Read, acting, None).await?;
            let mut all = store::appeals_of_drive(db, id).await?;
            all.reverse();
            all
        }
        None => store::list_appeals(db, reach.as_ref(), LISTED).await?,
    };
    let ids: Vec<i64> = made.iter().map(|a| a.id).collect();
    let counts = store::booked_counts(db, &ids).await?;
    let mut appeals = Vec::with_capacity(made.len());
    let mut drives_seen: BTreeMap<i64, (drive::Model, Vec<drive_stop::Model>)> = BTreeMap::new();
    for a in made {
        if !drives_seen.contains_key(&a.drive_id) {
            let Some(d) = crate::store::drives::find(db, a.drive_id).await? else {
                continue;
            };
            let stops = crate::store::drives::stops(db, d.id).await?;
            drives_seen.insert(d.id, (d, stops));
        }
        let Some((d, stops)) = drives_seen.get(&a.drive_id) else {
            continue;
        };
        let place = match a.stop_id {
            Some(sid) => stops
                .iter()
                .find(|s| s.id == sid)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            None => stops
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
        };
        let (bookings, people) =
            counts
                .iter()
                .find(|(id, _, _)| *id == a.id)
                .map_or((0, 0), |(_, n, p)| {
                    (
                        u64::try_from(*n).unwrap_or(0),
                        u64::try_from(*p).unwrap_or(0),
                    )
                });
        appeals.push(Listed {
            drive_date: d.date,
            place,
            bookings,
            people,
            appeal: a,
        });
    }
    let mut drives = Vec::new();
    let may_make = acting.principal.is_some_and(|p| {
        matches!(
            p.role,
            crate::domain::account::Role::Admin | crate::domain::account::Role::StationStaff
        )
    });
    if may_make {
        let filter = crate::store::drives::DriveFilter {
            statuses: vec!["published"],
            from: Some(today),
            limit: LISTED,
            reach: reach.clone(),
            ..Default::default()
        };
        for d in crate::store::drives::list(db, &filter).await? {
            if drive_id.is_some_and(|id| id != d.id) {
                continue;
            }
            let Ok(code) = RegionCode::parse(&d.region_code) else {
                continue;
            };
            if acting
                .authorize(Action::Create, Resource::Plan(&code), String::new)
                .is_err()
            {
                continue;
            }
            let stops = crate::store::drives::stops(db, d.id).await?;
            drives.push(Offered { drive: d, stops });
        }
        drives.sort_by_key(|o| (o.drive.date, o.drive.id));
    }
    Ok(Overview {
        appeals,
        drives,
        may_make,
    })
}

/// What an appeal's page shows: the appeal, its drive's day and place, its figures, the chat
/// groups it may be sent to, and whether the caller may send it.
#[derive(Debug, Clone)]
pub struct Detail {
    pub appeal: appeal::Model,
    pub drive_date: chrono::NaiveDate,
    pub place: String,
    pub figures: Figures,
    /// The chat groups in the caller's reach (to send to).
    pub groups: Vec<chat_group::Model>,
    pub may_send: bool,
}

/// Appeal `id` as its page shows it, at `now`.
///
/// # Errors
/// Not found (also outside reach); the database fails.
pub async fn detail(
    db: &impl ConnectionTrait,
    id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Detail, AppealsError> {
    let appeal = find_for(db, id, Action::Read, acting).await?;
    let figures = figures(db, id, acting, now).await?;
    let drive = crate::store::drives::find(db, appeal.drive_id)
        .await?
        .ok_or_else(|| AppealsError::Internal(format!("appeal {id}: no drive")))?;
    let stops = crate::store::drives::stops(db, drive.id).await?;
    let place = stops
        .iter()
        .filter(|s| appeal.stop_id.is_none_or(|sid| sid == s.id))
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join("、");
    let code = region(&appeal.region_code, "appeal")?;
    let may_send = acting
        .authorize(Action::Update, Resource::Plan(&code), String::new)
        .is_ok();
    let groups = if may_send {
        store::list_groups(db, acting.reach().as_ref(), None).await?
    } else {
        Vec::new()
    };
    Ok(Detail {
        appeal,
        drive_date: drive.date,
        place,
        figures,
        groups,
        may_send,
    })
}

/// The stations whose appeal template the caller reads, by id.
///
/// # Errors
/// Anonymous: denied; the database fails.
pub async fn template_stations(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
) -> Result<Vec<entity::station::Model>, AppealsError> {
    acting.require()?;
    let filter = crate::store::fleet::FleetFilter {
        statuses: vec!["active"],
        limit: Some(LISTED),
        reach: acting.reach(),
        ..Default::default()
    };
    Ok(crate::store::fleet::list_stations(db, &filter).await?)
}

/// The robot's key from what was pasted: the key itself, or the robot's webhook address
/// (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`), whose `key` it takes.
pub fn robot_key(raw: &str) -> String {
    let raw = raw.trim();
    match raw.split_once('?') {
        Some((_, query)) if raw.contains("://") => query
            .split('&')
            .find_map(|pair| pair.strip_prefix("key="))
            .unwrap_or(raw)
            .to_owned(),
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::robot_key;

    #[test]
    fn a_webhook_address_gives_its_key() {
        assert_eq!(robot_key(" abcd-1234_EFGH "), "abcd-1234_EFGH");
        assert_eq!(
            robot_key("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd-1234&x=1"),
            "abcd-1234"
        );
        // An address without a key stays as pasted, and is refused as a key.
        assert_eq!(
            robot_key("https://example.com/?a=b"),
            "https://example.com/?a=b"
        );
    }
}
