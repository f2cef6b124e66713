//! `outbox_messages`: every message to a donor (confirmation, reminders, cancellation), written
//! once and then delivered by the configured sender.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "outbox_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `booking:<id>:<kind>`; unique, so a message is generated once.
    pub dedupe_key: String,
    /// `confirmation`, `day_before`, `two_hours_before`, `rescheduled`, `cancellation`.
    pub kind: String,
    pub booking_id: Option<i64>,
    /// The group request it is about, for a request's messages.
    pub request_id: Option<i64>,
    pub recipient: String,
    pub body: String,
    /// `pending`, `sent`, `failed` (gave up), `void` (its booking was cancelled first),
    /// `to_send_by_hand` (the `log` sender: staff send it and mark it sent) or `suppressed`
    /// (beyond its recipient's daily cap: never sent).
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub next_attempt_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
