//! `attendances`: everyone who came to a stop, booked or walk-in, and what came of it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "attendances")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub stop_id: i64,
    /// The booking they came on, when booked.
    pub booking_id: Option<i64>,
    /// `booked` or `walk_in`.
    pub kind: String,
    pub name: String,
    /// Normalised mainland mobile, when given.
    pub mobile: Option<String>,
    /// The village (12-digit code) they live in, when given.
    pub village_code: Option<String>,
    /// `registered` (checked in, nothing recorded yet), `deferred` or `donated`.
    pub outcome: String,
    /// For a deferral: its reason category.
    pub deferral_category: Option<String>,
    /// For a donation: 200, 300 or 400 mL.
    pub volume_ml: Option<i32>,
    /// `A`, `B`, `AB` or `O`, when known.
    pub abo: Option<String>,
    /// `+` or `-`, when known.
    pub rh: Option<String>,
    pub version: i32,
    pub checked_in_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
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
