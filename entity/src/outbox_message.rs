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
    pub recipient: String,
    pub body: String,
    /// `pending`, `sent`, `failed` (gave up) or `void` (its booking was cancelled first).
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
