//! `drives`: one vehicle-day, made from an accepted plan or by hand.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "drives")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The plan it was made from; `None` when made by hand.
    pub plan_id: Option<i64>,
    pub vehicle_id: i64,
    pub date: Date,
    /// The plan's region, or the region given; decides who may see the drive.
    pub region_code: String,
    /// `draft`, `published`, `in_progress`, `completed` or `cancelled`.
    pub status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub cancel_reason: Option<String>,
    /// Bumped by every change.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::plan::Entity",
        from = "Column::PlanId",
        to = "super::plan::Column::Id",
        on_update = "NoAction",
        on_delete = "Restrict"
    )]
    Plan,
    #[sea_orm(
        belongs_to = "super::vehicle::Entity",
        from = "Column::VehicleId",
        to = "super::vehicle::Column::Id",
        on_update = "NoAction",
        on_delete = "Restrict"
    )]
    Vehicle,
    #[sea_orm(has_many = "super::drive_stop::Entity")]
    DriveStop,
}

impl Related<super::drive_stop::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DriveStop.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
