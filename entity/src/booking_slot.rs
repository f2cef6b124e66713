//! `booking_slots`: the bookable time slots of a published drive's stop.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "booking_slots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub stop_id: i64,
    /// Minutes after midnight.
    pub starts: i32,
    /// Minutes after midnight.
    pub ends: i32,
    /// Places that may be booked (the database refuses `booked > capacity`).
    pub capacity: i32,
    pub booked: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::drive_stop::Entity",
        from = "Column::StopId",
        to = "super::drive_stop::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    DriveStop,
}

impl Related<super::drive_stop::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DriveStop.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
