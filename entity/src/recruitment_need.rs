//! `recruitment_needs`: donors of some blood groups wanted by a date at a stop or a station.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "recruitment_needs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The stop's or the station's region: whose need it is.
    pub region_code: String,
    /// `O+,O-`.
    pub blood_groups: String,
    /// `whole_blood` or `platelets`.
    pub kind: String,
    pub target: i32,
    pub needed_by: Date,
    pub stop_id: Option<i64>,
    pub station_id: Option<i64>,
    /// Where donors are asked to come (the stop's or the station's place).
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub place_name: String,
    pub notes: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<String>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::recruitment_call::Entity")]
    RecruitmentCall,
}

impl Related<super::recruitment_call::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RecruitmentCall.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
