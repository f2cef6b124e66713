//! `inventory_stocks`: what a station holds of one component of one ABO/Rh group.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "inventory_stocks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub station_id: i64,
    /// `whole_blood`, `red_cells`, `plasma`, `platelets` or `cryo`.
    pub component: String,
    /// `O+`, `AB-`.
    pub blood_group: String,
    /// China's units (U).
    pub units: i32,
    pub ml: i32,
    /// Average daily use, units.
    pub daily_use_units: f64,
    /// Dispatched to this station, not yet received.
    pub incoming_units: i32,
    pub incoming_ml: i32,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
