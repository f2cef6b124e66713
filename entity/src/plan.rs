//! `plans`: drive plans, each with its request, the instance built from it and the result.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The region planned; decides who may see the plan.
    pub region_code: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// The request as accepted, defaults filled in (JSON).
    #[sea_orm(column_type = "Text")]
    pub request: String,
    /// The instance solved (JSON, format `donornet.plan-instance.v1`).
    #[sea_orm(column_type = "Text", nullable)]
    pub instance: Option<String>,
    /// The planner's result (JSON), once done.
    #[sea_orm(column_type = "Text", nullable)]
    pub result: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    /// 0 to 100, as last recorded (live progress is kept in memory).
    pub progress: i32,
    /// The plan's objective (mL), once done.
    pub objective: Option<f64>,
    pub seed: i64,
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// Bumped by every change.
    pub version: i32,
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
}

impl Related<super::region::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Region.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
