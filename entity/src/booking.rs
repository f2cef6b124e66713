//! `bookings`: a donor's or a group's places at a stop.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "bookings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What the donor quotes at check-in; unique.
    pub code: String,
    /// SHA-256 (hex) of the cancel/reschedule token.
    #[serde(skip)]
    pub token_hash: String,
    pub stop_id: i64,
    /// `individual` or `group`.
    pub kind: String,
    /// The donor, or the group's contact.
    pub name: String,
    /// Normalised mainland mobile (11 digits); erased after the retention period.
    pub mobile: Option<String>,
    /// `mobile` while active, NULL once cancelled: unique per stop.
    pub active_mobile: Option<String>,
    /// `A+`, `O-`, … when the donor knows it.
    pub blood_type: Option<String>,
    /// A group's organisation.
    pub organisation: Option<String>,
    /// 1 for a person; the group's size.
    pub headcount: i32,
    /// `active` or `cancelled`.
    pub status: String,
    pub version: i32,
    /// The client address a public booking came from (NULL when staff made or confirmed
    /// it); erased with the mobile.
    #[serde(skip)]
    pub client_address: Option<String>,
    /// The appeal whose link the public booking came through (`via=CODE`), if any.
    pub appeal_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub cancelled_at: Option<DateTimeUtc>,
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
    #[sea_orm(has_many = "super::booking_part::Entity")]
    BookingPart,
}

impl Related<super::drive_stop::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DriveStop.def()
    }
}

impl Related<super::booking_part::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BookingPart.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
