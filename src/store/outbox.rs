//! Queries over `outbox_messages`: messages are generated once (a unique `dedupe_key`,
//! inserted with `ON CONFLICT DO NOTHING`) and then delivered by the sender.

use chrono::{DateTime, Utc};
use entity::outbox_message::{self, Column, Entity as OutboxMessage};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
};

use crate::domain::booking::MessageKind;

/// A message to generate.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub dedupe_key: String,
    pub kind: MessageKind,
    pub booking_id: Option<i64>,
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
    let inserted = OutboxMessage::insert(outbox_message::ActiveModel {
        dedupe_key: Set(new.dedupe_key),
        kind: Set(new.kind.as_str().to_owned()),
        booking_id: Set(new.booking_id),
        recipient: Set(new.recipient),
        body: Set(new.body),
        status: Set("pending".to_owned()),
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

/// Pending messages due at `now`, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox_message::Model>, DbErr> {
    OutboxMessage::find()
        .filter(Column::Status.eq("pending"))
        .filter(Column::NextAttemptAt.lte(now))
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Records a delivery: only a pending message becomes sent (so two dispatchers never both
/// count one message); whether this call recorded it.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(OutboxMessage::update_many()
        .col_expr(Column::Status, Expr::value("sent"))
        .col_expr(Column::SentAt, Expr::value(now))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq("pending"))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Records a failed attempt: tried again at `retry_at`, or given up (`failed`) when `None`.
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    let mut update = OutboxMessage::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::LastError, Expr::value(error.to_owned()));
    update = match retry_at {
        Some(at) => update.col_expr(Column::NextAttemptAt, Expr::value(at)),
        None => update.col_expr(Column::Status, Expr::value("failed")),
    };
    update
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq("pending"))
        .exec(db)
        .await?;
    Ok(())
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
