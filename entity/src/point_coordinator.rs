//! `point_coordinators`: which coordinators serve which point; at most one primary per point.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "point_coordinators")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub point_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub coordinator_id: i64,
    pub is_primary: bool,
    pub assigned_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
