//! `vehicles`: bloodmobiles, each based at a station.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "vehicles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// The licence plate, normalised (no spaces or separators, ASCII letters upper case); unique.
    pub plate: String,
    /// The home station.
    pub station_id: i64,
    /// Donation beds.
    pub beds: i32,
    /// Crew.
    pub staff: i32,
    pub max_donors_per_day: i32,
    /// The daily working window, minutes after midnight: leave no earlier than `day_start`,
    /// be back by `day_end`.
    pub day_start: i32,
    pub day_end: i32,
    /// Minutes to set up at a stop and to pack up after it.
    pub setup_min: i32,
    pub teardown_min: i32,
    /// Running cost, yuan per km.
    pub cost_per_km: f64,
    /// Donors a bed takes in an hour: with `beds`, the places of a booking slot.
    pub donors_per_bed_hour: f64,
    /// The length of a booking slot, minutes.
    pub slot_minutes: i32,
    /// `active` or `retired`.
    pub status: String,
    pub notes: Option<String>,
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
        belongs_to = "super::station::Entity",
        from = "Column::StationId",
        to = "super::station::Column::Id",
        on_update = "NoAction",
        on_delete = "Restrict"
    )]
    Station,
}

impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Station.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
