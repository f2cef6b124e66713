//! `inventory_history`: what one stock stood at after a posting, a dispatch or a receipt.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "inventory_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub station_id: i64,
    pub component: String,
    pub blood_group: String,
    pub units: i32,
    pub ml: i32,
    pub daily_use_units: f64,
    /// None when the daily use is 0.
    pub days_of_supply: Option<f64>,
    /// `ok`, `amber` or `red`.
    pub level: String,
    /// `posted`, `dispatched` or `received`.
    pub reason: String,
    /// The offer a dispatch or a receipt moved.
    pub offer_id: Option<i64>,
    pub at: DateTimeUtc,
    pub actor: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
