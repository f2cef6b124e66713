//! `drive_stops`: the ordered stops of a drive.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "drive_stops")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub drive_id: i64,
    /// 1, 2, … in the order the vehicle visits them.
    pub seq: i32,
    /// `point-12`, `host-3` or `region-<12-digit code>`.
    pub site_id: String,
    /// The point, for sites that are points.
    pub point_id: Option<i64>,
    /// The site's region.
    pub region_code: String,
    pub name: String,
    /// Minutes after midnight.
    pub planned_start: i32,
    /// Minutes after midnight.
    pub planned_end: i32,
    pub expected_donors: f64,
    /// The host organisation, for sites that are hosts (a group drive).
    pub host_id: Option<i64>,
    /// How many the host hopes will sign up (a host's stop only).
    pub signup_goal: Option<i32>,
    /// SHA-256 (hex) of the host contact's sign-up link token; `None`: no live link.
    #[serde(skip)]
    pub signup_token_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::drive::Entity",
        from = "Column::DriveId",
        to = "super::drive::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Drive,
    #[sea_orm(has_many = "super::checklist_item::Entity")]
    ChecklistItem,
}

impl Related<super::drive::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Drive.def()
    }
}

impl Related<super::checklist_item::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ChecklistItem.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
