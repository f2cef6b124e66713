//! Queries over `appeal_templates`, `appeals`, `chat_groups`, the appeals' messages to chat
//! groups in `outbox_messages`, and the bookings that came through an appeal.

use chrono::{DateTime, Utc};
use entity::{appeal, appeal_template, booking, chat_group, drive_stop, outbox_message};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
};

use crate::domain::appeal::normalize_code;
use crate::domain::policy::Visibility;

/// The kinds of the outbox messages that go to chat groups through their WeCom robot (never
/// to the donor-message sender): the appeal's text, as text or markdown, and its QR code.
pub const GROUP_TEXT: &str = "wecom_text";
pub const GROUP_MARKDOWN: &str = "wecom_markdown";
pub const GROUP_IMAGE: &str = "wecom_image";
pub const GROUP_KINDS: [&str; 3] = [GROUP_TEXT, GROUP_MARKDOWN, GROUP_IMAGE];

/// The recipient of a message to chat group `id` (the key stays in `chat_groups`).
pub fn group_recipient(id: i64) -> String {
    format!("chat_group:{id}")
}

/// The chat group a message goes to, from its recipient.
pub fn group_of(recipient: &str) -> Option<i64> {
    recipient.strip_prefix("chat_group:")?.parse().ok()
}

/// The key of appeal `appeal`'s message to group `group` (`suffix` for a second message,
/// the QR code): each is generated once.
pub fn group_key(appeal: i64, group: i64, suffix: Option<&str>) -> String {
    match suffix {
        Some(s) => format!("appeal:{appeal}:group:{group}:{s}"),
        None => format!("appeal:{appeal}:group:{group}"),
    }
}

pub async fn find_template(
    db: &impl ConnectionTrait,
    station_id: i64,
) -> Result<Option<appeal_template::Model>, DbErr> {
    appeal_template::Entity::find()
        .filter(appeal_template::Column::StationId.eq(station_id))
        .one(db)
        .await
}

/// A template's texts as validated by the service.
#[derive(Debug, Clone)]
pub struct TemplateFields {
    pub body: String,
    pub who_may_donate: String,
    pub what_to_bring: String,
}

/// Stores station `station_id`'s first template (version 1); `None` when it has one already
/// (another change came first).
pub async fn insert_template(
    db: &impl ConnectionTrait,
    station_id: i64,
    fields: TemplateFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<appeal_template::Model>, DbErr> {
    let inserted = appeal_template::Entity::insert(appeal_template::ActiveModel {
        station_id: Set(station_id),
        body: Set(fields.body),
        who_may_donate: Set(fields.who_may_donate),
        what_to_bring: Set(fields.what_to_bring),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        updated_by: Set(actor),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([appeal_template::Column::StationId])
    .exec_without_returning(db)
    .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Ok(None);
    }
    find_template(db, station_id).await
}

/// Writes template `id` if it is still at version `expected`; the template as written, or
/// `None` when the version had moved on.
pub async fn update_template_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected: i32,
    fields: TemplateFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<appeal_template::Model>, DbErr> {
    use appeal_template::Column as C;
    let changed = appeal_template::Entity::update_many()
        .col_expr(C::Body, Expr::value(fields.body))
        .col_expr(C::WhoMayDonate, Expr::value(fields.who_may_donate))
        .col_expr(C::WhatToBring, Expr::value(fields.what_to_bring))
        .col_expr(C::Version, Expr::value(expected + 1))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .col_expr(C::UpdatedBy, Expr::value(actor))
        .filter(C::Id.eq(id))
        .filter(C::Version.eq(expected))
        .exec(db)
        .await?
        .rows_affected;
    if changed == 0 {
        return Ok(None);
    }
    appeal_template::Entity::find_by_id(id).one(db).await
}

/// An appeal to store.
#[derive(Debug, Clone)]
pub struct NewAppeal {
    pub drive_id: i64,
    pub stop_id: Option<i64>,
    pub region_code: String,
    pub code: String,
    pub body: String,
    pub link: String,
}

/// Stores an appeal; `None` when its code is taken (draw another).
pub async fn insert_appeal(
    db: &impl ConnectionTrait,
    new: NewAppeal,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<appeal::Model>, DbErr> {
    let code = new.code.clone();
    let inserted = appeal::Entity::insert(appeal::ActiveModel {
        drive_id: Set(new.drive_id),
        stop_id: Set(new.stop_id),
        region_code: Set(new.region_code),
        code: Set(new.code),
        body: Set(new.body),
        link: Set(new.link),
        created_at: Set(now),
        created_by: Set(actor),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([appeal::Column::Code])
    .exec_without_returning(db)
    .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Ok(None);
    }
    appeal::Entity::find()
        .filter(appeal::Column::Code.eq(code))
        .one(db)
        .await
}

pub async fn find_appeal(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<appeal::Model>, DbErr> {
    appeal::Entity::find_by_id(id).one(db).await
}

/// The appeals of drive `drive_id`, oldest first.
pub async fn appeals_of_drive(
    db: &impl ConnectionTrait,
    drive_id: i64,
) -> Result<Vec<appeal::Model>, DbErr> {
    appeal::Entity::find()
        .filter(appeal::Column::DriveId.eq(drive_id))
        .order_by_asc(appeal::Column::Id)
        .all(db)
        .await
}

/// The appeals within `reach` (`None`: all), newest first, at most `limit`.
pub async fn list_appeals(
    db: &impl ConnectionTrait,
    reach: Option<&Visibility>,
    limit: u64,
) -> Result<Vec<appeal::Model>, DbErr> {
    let mut query = appeal::Entity::find();
    if let Some(condition) = reach.and_then(|r| super::within(appeal::Column::RegionCode, r)) {
        query = query.filter(condition);
    }
    query
        .order_by_desc(appeal::Column::CreatedAt)
        .order_by_desc(appeal::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many bookings each of `ids` brought, and the people they are for (a person's booking
/// one, a group's its headcount): `(appeal_id, bookings, people)`.
pub async fn booked_counts(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<(i64, i64, i64)>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Option<i64>, i64, Option<i64>)> = booking::Entity::find()
        .select_only()
        .column(booking::Column::AppealId)
        .column_as(booking::Column::Id.count(), "bookings")
        // SUM of an integer column: a BIGINT on PostgreSQL, an integer on SQLite.
        .column_as(booking::Column::Headcount.sum(), "people")
        .filter(booking::Column::AppealId.is_in(ids.iter().copied()))
        .group_by(booking::Column::AppealId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n, people)| id.map(|id| (id, n, people.unwrap_or(n))))
        .collect())
}

/// The appeal a booking at `stop` made through a link with `via` came through: an appeal with
/// that code for the stop's drive (for the whole drive, or this stop). Any other code: `None`.
pub async fn attributed(
    db: &impl ConnectionTrait,
    via: &str,
    stop: &drive_stop::Model,
) -> Result<Option<i64>, DbErr> {
    let Some(code) = normalize_code(via) else {
        return Ok(None);
    };
    let found = appeal::Entity::find()
        .filter(appeal::Column::Code.eq(code))
        .filter(appeal::Column::DriveId.eq(stop.drive_id))
        .one(db)
        .await?;
    Ok(found
        .filter(|a| a.stop_id.is_none_or(|s| s == stop.id))
        .map(|a| a.id))
}

/// The active and cancelled bookings appeal `appeal_id` brought, oldest first, with the
/// region of their stop.
pub async fn bookings_of(
    db: &impl ConnectionTrait,
    appeal_id: i64,
) -> Result<Vec<(booking::Model, Option<drive_stop::Model>)>, DbErr> {
    booking::Entity::find()
        .filter(booking::Column::AppealId.eq(appeal_id))
        .find_also_related(drive_stop::Entity)
        .order_by_asc(booking::Column::CreatedAt)
        .order_by_asc(booking::Column::Id)
        .all(db)
        .await
}

/// A chat group to store.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub name: String,
    pub region_code: String,
    pub audience: String,
    pub host_id: Option<i64>,
    pub webhook_key: String,
}

pub async fn insert_group(
    db: &impl ConnectionTrait,
    new: NewGroup,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<chat_group::Model, DbErr> {
    chat_group::Entity::insert(chat_group::ActiveModel {
        name: Set(new.name),
        region_code: Set(new.region_code),
        audience: Set(new.audience),
        host_id: Set(new.host_id),
        webhook_key: Set(new.webhook_key),
        created_at: Set(now),
        created_by: Set(actor),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

pub async fn find_group(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<chat_group::Model>, DbErr> {
    chat_group::Entity::find_by_id(id).one(db).await
}

/// Chat groups within `reach` (`None`: all), in a region's subtree when given, by id.
pub async fn list_groups(
    db: &impl ConnectionTrait,
    reach: Option<&Visibility>,
    region_range: Option<(String, String)>,
) -> Result<Vec<chat_group::Model>, DbErr> {
    let mut query = chat_group::Entity::find();
    if let Some(condition) = reach.and_then(|r| super::within(chat_group::Column::RegionCode, r)) {
        query = query.filter(condition);
    }
    if let Some((lo, hi)) = region_range {
        query = query.filter(chat_group::Column::RegionCode.between(lo, hi));
    }
    query.order_by_asc(chat_group::Column::Id).all(db).await
}

/// Removes chat group `id`; whether there was one.
pub async fn delete_group(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    Ok(chat_group::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Adds a message to a chat group unless one with its key exists; whether it was added.
pub async fn enqueue_group_message(
    db: &impl ConnectionTrait,
    dedupe_key: String,
    kind: &str,
    group_id: i64,
    body: String,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let inserted = outbox_message::Entity::insert(outbox_message::ActiveModel {
        dedupe_key: Set(dedupe_key),
        kind: Set(kind.to_owned()),
        booking_id: Set(None),
        request_id: Set(None),
        recipient: Set(group_recipient(group_id)),
        body: Set(body),
        status: Set("pending".to_owned()),
        attempts: Set(0),
        last_error: Set(None),
        created_at: Set(now),
        next_attempt_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([outbox_message::Column::DedupeKey])
    .exec_without_returning(db)
    .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
}

/// The messages appeal `appeal_id` was sent to chat groups with, by id.
pub async fn group_messages_of(
    db: &impl ConnectionTrait,
    appeal_id: i64,
) -> Result<Vec<outbox_message::Model>, DbErr> {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::DedupeKey.starts_with(format!("appeal:{appeal_id}:group:")))
        .filter(outbox_message::Column::Kind.is_in(GROUP_KINDS))
        .order_by_asc(outbox_message::Column::Id)
        .all(db)
        .await
}
