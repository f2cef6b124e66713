//! `blood_requests`: a station asks the others for blood of a component and group.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "blood_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The requesting station.
    pub station_id: i64,
    pub component: String,
    pub blood_group: String,
    pub units: i32,
    pub ml: i32,
    pub needed_by: Date,
    pub note: Option<String>,
    /// `open`, `accepted`, `dispatched`, `received` or `cancelled`.
    pub status: String,
    pub accepted_offer_id: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub created_by: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
