//! Messages sent by hand: with a sender that delivers nothing by itself (`log`), staff list
//! the messages `to_send_by_hand` with whole numbers (each listing audited, since it reveals
//! mobiles), send them, and mark each sent (audited). The reach (whose drives' messages) is
//! decided by the caller through the policy.

use chrono::{DateTime, Utc};
use entity::outbox_message;
use sea_orm::{DatabaseConnection, DbErr};

use crate::domain::policy::Visibility;
use crate::store::audit::{self, Actor, Change};
use crate::store::outbox as store;

/// Why a message could not be marked sent.
#[derive(Debug, thiserror::Error)]
pub enum ByHandError {
    /// No such message within the reach.
    #[error("no message with id {0}")]
    NotFound(i64),
    /// The message is not waiting to be sent by hand.
    #[error("message {id} is {status}, not waiting to be sent by hand")]
    NotWaiting { id: i64, status: String },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Up to `limit` messages to send by hand about drives within `reach`, after message
/// `after_id`, with whole numbers; a listing that shows any is audited as a reveal.
///
/// # Errors
/// The database fails.
pub async fn list(
    db: &DatabaseConnection,
    reach: &Visibility,
    after_id: Option<i64>,
    limit: u64,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Vec<outbox_message::Model>, DbErr> {
    let rows = store::by_hand(db, reach, after_id, limit).await?;
    if !rows.is_empty() {
        let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
        let shown = serde_json::json!({ "numbers_shown_for": ids });
        let txn = crate::db::begin_write(db).await?;
        audit::record(
            &txn,
            Change {
                entity: "outbox_message",
                entity_id: "by-hand".to_owned(),
                action: "reveal",
                region_code: None,
                before: None,
                after: Some(&shown),
                actor,
                at: now,
            },
        )
        .await?;
        txn.commit().await?;
    }
    Ok(rows)
}

/// Marks message `id` (about a drive within `reach`) sent by hand, audited.
///
/// # Errors
/// [`ByHandError::NotFound`], [`ByHandError::NotWaiting`] when it is not `to_send_by_hand`.
pub async fn mark_sent(
    db: &DatabaseConnection,
    id: i64,
    reach: &Visibility,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<outbox_message::Model, ByHandError> {
    let current = store::find_within(db, id, reach)
        .await?
        .ok_or(ByHandError::NotFound(id))?;
    let txn = crate::db::begin_write(db).await?;
    let kept = crate::domain::booking::without_token(&current.body);
    let Some(sent) = store::mark_sent_by_hand(&txn, id, &kept, now).await? else {
        txn.rollback().await?;
        return Err(ByHandError::NotWaiting {
            id,
            status: current.status,
        });
    };
    let status = |s: &str| serde_json::json!({ "status": s });
    audit::record(
        &txn,
        Change {
            entity: "outbox_message",
            entity_id: id.to_string(),
            action: "sent_by_hand",
            region_code: None,
            before: Some(&status(&current.status)),
            after: Some(&status(&sent.status)),
            actor,
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(sent)
}
