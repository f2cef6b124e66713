//! `points`: donation points (township and village points, donation houses, hospitals).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "points")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// `township`, `village`, `donation_house` or `hospital`.
    pub kind: String,
    pub region_code: String,
    pub address: Option<String>,
    /// WGS-84.
    pub longitude: f64,
    /// WGS-84.
    pub latitude: f64,
    /// `planned`, `active`, `suspended` or `closed`.
    pub status: String,
    pub signage_installed_on: Option<Date>,
    pub bloodmobile_parking: bool,
    pub power_hookup: bool,
    pub beds: Option<i32>,
    pub donors_per_hour: Option<i32>,
    pub contact_phone: Option<String>,
    pub notes: Option<String>,
    /// The township's market days: the last digits of the lunar days it holds a market on,
    /// `1,4,7` (days 1, 4, 7, 11, 14, …).
    pub market_days: Option<String>,
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
