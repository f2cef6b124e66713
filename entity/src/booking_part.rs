//! `booking_parts`: how many of a booking's places are in which slot.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "booking_parts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub booking_id: i64,
    pub slot_id: i64,
    pub places: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::booking::Entity",
        from = "Column::BookingId",
        to = "super::booking::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Booking,
    #[sea_orm(
        belongs_to = "super::booking_slot::Entity",
        from = "Column::SlotId",
        to = "super::booking_slot::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    BookingSlot,
}

impl Related<super::booking::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Booking.def()
    }
}

impl Related<super::booking_slot::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BookingSlot.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
