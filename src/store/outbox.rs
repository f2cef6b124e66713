//! Queries over `outbox_messages`: messages are generated once (a unique `dedupe_key`,
//! inserted with `ON CONFLICT DO NOTHING`) and then delivered by the sender, or handed to
//! staff to send by hand (`to_send_by_hand`), or, beyond their recipient's daily cap,
//! recorded as `suppressed` and never sent.

use chrono::{DateTime, Duration, Utc};
use entity::outbox_message::{self, Column, Entity as OutboxMessage};
use entity::{booking, drive, drive_stop, group_request};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TryInsertResult,
};

use crate::domain::booking::{MessageKind, without_token};
use crate::domain::policy::Visibility;

/// A message waiting for staff to send it by hand.
pub const TO_SEND_BY_HAND: &str = "to_send_by_hand";
/// A message beyond its recipient's daily cap: recorded, never sent.
pub const SUPPRESSED: &str = "suppressed";

/// A message to generate.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub dedupe_key: String,
    pub kind: MessageKind,
    pub booking_id: Option<i64>,
    pub request_id: Option<i64>,
    pub recipient: String,
    pub body: String,
}

/// The key of a booking's message of `kind`: each is generated once per booking (a
/// reschedule notice once per version).
pub fn booking_key(booking_id: i64, kind: MessageKind, version: Option<i32>) -> String {
    match version {
        Some(v) => format!("booking:{booking_id}:{kind}:{v}"),
        None => format!("booking:{booking_id}:{kind}"),
    }
}

/// Adds a message unless one with its key exists; whether it was added.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    new: NewMessage,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    insert(db, new, "pending", now).await
}

/// Messages `recipient` was given in the 24 hours before `now` (those not suppressed or
/// voided: the ones that went, or will go, out).
pub async fn given_in_a_day(
    db: &impl ConnectionTrait,
    recipient: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    OutboxMessage::find()
        .filter(Column::Recipient.eq(recipient))
        .filter(Column::CreatedAt.gt(now - Duration::hours(24)))
        .filter(Column::Status.is_not_in([SUPPRESSED, "void"]))
        .count(db)
        .await
}

/// As [`enqueue`], but recorded as `suppressed` (never sent, so kept without the token of its
/// link) when its recipient was given `cap` messages or more in the last 24 hours (`cap` 0: no
/// cap). Whether it will be sent.
///
/// The count and the insert share the caller's transaction: on SQLite writers take turns, so
/// the cap is exact; on PostgreSQL two requests for one mobile at the same instant may each
/// see the other's message uncommitted and both go out, one over the cap.
pub async fn enqueue_capped(
    db: &impl ConnectionTrait,
    new: NewMessage,
    cap: u32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let over = cap > 0 && given_in_a_day(db, &new.recipient, now).await? >= u64::from(cap);
    let mut new = new;
    if over {
        tracing::warn!(kind = %new.kind, "message suppressed: its recipient's daily cap is reached");
        new.body = without_token(&new.body);
    }
    let status = if over { SUPPRESSED } else { "pending" };
    Ok(insert(db, new, status, now).await? && !over)
}

async fn insert(
    db: &impl ConnectionTrait,
    new: NewMessage,
    status: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let inserted = OutboxMessage::insert(outbox_message::ActiveModel {
        dedupe_key: Set(new.dedupe_key),
        kind: Set(new.kind.as_str().to_owned()),
        booking_id: Set(new.booking_id),
        request_id: Set(new.request_id),
        recipient: Set(new.recipient),
        body: Set(new.body),
        status: Set(status.to_owned()),
        attempts: Set(0),
        last_error: Set(None),
        created_at: Set(now),
        next_attempt_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([Column::DedupeKey])
    .exec_without_returning(db)
    .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
}

/// Voids the messages of a booking not sent yet (its reminders, once it is cancelled).
pub async fn void_pending(db: &impl ConnectionTrait, booking_id: i64) -> Result<u64, DbErr> {
    Ok(OutboxMessage::update_many()
        .col_expr(Column::Status, Expr::value("void"))
        .filter(Column::BookingId.eq(booking_id))
        .filter(Column::Status.eq("pending"))
        .filter(Column::Kind.is_in([
            MessageKind::DayBefore.as_str(),
            MessageKind::TwoHoursBefore.as_str(),
        ]))
        .exec(db)
        .await?
        .rows_affected)
}

/// How long a claimed message is this dispatcher's: another instance takes it again only
/// after this, when the one that claimed it died while sending (far longer than a delivery
/// takes: the senders time out after 10 seconds).
pub const CLAIM_LEASE: Duration = Duration::minutes(5);

/// Which pending messages a dispatcher claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Messages to donors (through the configured sender).
    Donors,
    /// Messages to chat groups (through their WeCom robots).
    Groups,
}

/// Claims up to `limit` pending messages of `queue` due at `now`, oldest first: each is
/// returned to one caller only, however many instances dispatch at once, and is not due again
/// until [`CLAIM_LEASE`] has passed (a delivery recorded meanwhile settles it).
///
/// One statement: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING *` on
/// PostgreSQL, so concurrent claimers skip each other's rows instead of waiting for them; on
/// SQLite, whose writers take turns, the same statement without the lock clause.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    queue: Queue,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox_message::Model>, DbErr> {
    let groups = super::appeals::GROUP_KINDS;
    let of_queue = match queue {
        Queue::Donors => Column::Kind.is_not_in(groups),
        Queue::Groups => Column::Kind.is_in(groups),
    };
    let due = Condition::all()
        .add(Column::Status.eq("pending"))
        .add(of_queue)
        .add(Column::NextAttemptAt.lte(now));
    let mut ids = Query::select();
    ids.column(Column::Id)
        .from(OutboxMessage)
        .cond_where(due.clone())
        .order_by(Column::Id, sea_orm::Order::Asc)
        .limit(limit);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        ids.lock_with_behavior(
            sea_orm::sea_query::LockType::Update,
            sea_orm::sea_query::LockBehavior::SkipLocked,
        );
    }
    let mut claimed = OutboxMessage::update_many()
        .col_expr(Column::NextAttemptAt, Expr::value(now + CLAIM_LEASE))
        .filter(Column::Id.in_subquery(ids))
        // Checked again on the row as it is when updated.
        .filter(due)
        .exec_with_returning(db)
        .await?;
    claimed.sort_by_key(|m| m.id);
    Ok(claimed)
}

/// Records a delivery: only a pending message becomes sent (so two dispatchers never both
/// count one message), its text from now on `body` (without the link's token); whether this
/// call recorded it.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(OutboxMessage::update_many()
        .col_expr(Column::Status, Expr::value("sent"))
        .col_expr(Column::Body, Expr::value(body.to_owned()))
        .col_expr(Column::SentAt, Expr::value(now))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq("pending"))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Hands a pending message to staff to send by hand (the `log` sender), its text from now on
/// `body` (its links made whole); whether this call did.
pub async fn mark_by_hand(db: &impl ConnectionTrait, id: i64, body: &str) -> Result<bool, DbErr> {
    Ok(OutboxMessage::update_many()
        .col_expr(Column::Status, Expr::value(TO_SEND_BY_HAND))
        .col_expr(Column::Body, Expr::value(body.to_owned()))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq("pending"))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Records that staff sent a message by hand: only a message waiting for that becomes sent,
/// its text from now on `body` (without the link's token); the message as it now is, or
/// `None` when it was not waiting.
pub async fn mark_sent_by_hand(
    db: &impl ConnectionTrait,
    id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Option<outbox_message::Model>, DbErr> {
    let changed = OutboxMessage::update_many()
        .col_expr(Column::Status, Expr::value("sent"))
        .col_expr(Column::Body, Expr::value(body.to_owned()))
        .col_expr(Column::SentAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(TO_SEND_BY_HAND))
        .exec(db)
        .await?
        .rows_affected;
    if changed == 0 {
        return Ok(None);
    }
    OutboxMessage::find_by_id(id).one(db).await
}

/// The condition "the message is about a booking or a request at a stop of a drive within
/// `reach`" (`None`: every message).
fn about_drives_within(reach: &Visibility) -> Option<Condition> {
    let region = super::within(drive::Column::RegionCode, reach)?;
    let stops = Query::select()
        .column((drive_stop::Entity, drive_stop::Column::Id))
        .from(drive_stop::Entity)
        .inner_join(
            drive::Entity,
            Expr::col((drive::Entity, drive::Column::Id))
                .equals((drive_stop::Entity, drive_stop::Column::DriveId)),
        )
        .cond_where(region)
        .to_owned();
    let bookings = Query::select()
        .column(booking::Column::Id)
        .from(booking::Entity)
        .and_where(booking::Column::StopId.in_subquery(stops.clone()))
        .to_owned();
    let requests = Query::select()
        .column(group_request::Column::Id)
        .from(group_request::Entity)
        .and_where(group_request::Column::StopId.in_subquery(stops))
        .to_owned();
    Some(
        Condition::any()
            .add(Column::BookingId.in_subquery(bookings))
            .add(Column::RequestId.in_subquery(requests)),
    )
}

/// Messages waiting to be sent by hand about drives within `reach`, oldest first.
pub async fn by_hand(
    db: &impl ConnectionTrait,
    reach: &Visibility,
    after_id: Option<i64>,
    limit: u64,
) -> Result<Vec<outbox_message::Model>, DbErr> {
    let mut query = OutboxMessage::find().filter(Column::Status.eq(TO_SEND_BY_HAND));
    if let Some(condition) = about_drives_within(reach) {
        query = query.filter(condition);
    }
    if let Some(after) = after_id {
        query = query.filter(Column::Id.gt(after));
    }
    query.order_by_asc(Column::Id).limit(limit).all(db).await
}

/// Message `id` if it is about a drive within `reach`.
pub async fn find_within(
    db: &impl ConnectionTrait,
    id: i64,
    reach: &Visibility,
) -> Result<Option<outbox_message::Model>, DbErr> {
    let mut query = OutboxMessage::find_by_id(id);
    if let Some(condition) = about_drives_within(reach) {
        query = query.filter(condition);
    }
    query.one(db).await
}

/// Records a failed attempt: tried again at `retry_at`, or given up (`failed`, its text from
/// now on `given_up_body`, without the link's token) when `None`.
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    given_up_body: &str,
) -> Result<(), DbErr> {
    let mut update = OutboxMessage::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::LastError, Expr::value(error.to_owned()));
    update = match retry_at {
        Some(at) => update.col_expr(Column::NextAttemptAt, Expr::value(at)),
        None => update
            .col_expr(Column::Status, Expr::value("failed"))
            .col_expr(Column::Body, Expr::value(given_up_body.to_owned())),
    };
    update
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq("pending"))
        .exec(db)
        .await?;
    Ok(())
}

/// Puts a failed message back in line: `pending`, due at `now`, its attempts counted afresh
/// (its last error kept until the next attempt); the message as it now is, or `None` when it
/// was not failed.
pub async fn retry_failed(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<outbox_message::Model>, DbErr> {
    let changed = OutboxMessage::update_many()
        .col_expr(Column::Status, Expr::value("pending"))
        .col_expr(Column::Attempts, Expr::value(0))
        .col_expr(Column::NextAttemptAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq("failed"))
        .exec(db)
        .await?
        .rows_affected;
    if changed == 0 {
        return Ok(None);
    }
    OutboxMessage::find_by_id(id).one(db).await
}

/// Message `id`, if there is one.
pub async fn find(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<outbox_message::Model>, DbErr> {
    OutboxMessage::find_by_id(id).one(db).await
}

/// Messages, newest first, optionally of one booking or status.
pub async fn list(
    db: &impl ConnectionTrait,
    booking_id: Option<i64>,
    status: Option<&str>,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<outbox_message::Model>, DbErr> {
    let mut query = OutboxMessage::find();
    if let Some(id) = booking_id {
        query = query.filter(Column::BookingId.eq(id));
    }
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status));
    }
    if let Some(before) = before_id {
        query = query.filter(Column::Id.lt(before));
    }
    query.order_by_desc(Column::Id).limit(limit).all(db).await
}
