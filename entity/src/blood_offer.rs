//! `blood_offers`: another station's answer to a blood request.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "blood_offers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub request_id: i64,
    /// The offering station.
    pub station_id: i64,
    pub units: i32,
    pub ml: i32,
    pub note: Option<String>,
    /// `open`, `accepted`, `declined`, `withdrawn`, `dispatched` or `received`.
    pub status: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub created_by: Option<String>,
    pub dispatched_at: Option<DateTimeUtc>,
    pub received_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
