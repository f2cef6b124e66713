//! `checklist_items`: the preparation checklist of a drive stop, made from its station's
//! template when the drive is made.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "checklist_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub stop_id: i64,
    /// 1, 2, … in the template's order.
    pub seq: i32,
    pub title: String,
    /// The drive's date minus `days_before`.
    pub due_date: Date,
    pub days_before: i32,
    pub done: bool,
    /// When it was marked done (`None` while not done).
    pub done_at: Option<DateTimeUtc>,
    /// Who marked it done (`None` while not done).
    pub done_by: Option<String>,
    /// Bumped by every change; the ETag.
    pub version: i32,
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
