//! `coordinators`: the local people who run points (often the village doctor).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "coordinators")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Mainland mobile, 11 digits; unique.
    pub mobile: String,
    pub wechat_id: Option<String>,
    /// `village_doctor`, `township_health_center`, `village_committee`, `volunteer`, `other`.
    pub role: String,
    pub notes: Option<String>,
    /// The home region (usually the township) whose officials keep this record.
    pub region_code: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
