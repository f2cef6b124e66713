//! `stations`: blood stations, the depots bloodmobiles leave from and return to each day.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "stations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// The region the station lies in; decides who may see and change it.
    pub region_code: String,
    pub address: Option<String>,
    /// WGS-84.
    pub longitude: f64,
    /// WGS-84.
    pub latitude: f64,
    /// Public group bookings above this many people are requests that staff confirm.
    pub group_request_threshold: i32,
    /// `active` or `closed`.
    pub status: String,
    /// Bumped by every change; the ETag.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::region::Entity",
        from = "Column::RegionCode",
        to = "super::region::Column::Code",
        on_update = "NoAction",
        on_delete = "Restrict"
    )]
    Region,
    #[sea_orm(has_many = "super::vehicle::Entity")]
    Vehicle,
}

impl Related<super::region::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Region.def()
    }
}

impl Related<super::vehicle::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Vehicle.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
