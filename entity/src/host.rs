//! `hosts`: host organisations that hold group drives (agencies, enterprises, schools,
//! hospitals, communities).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "hosts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// `agency`, `enterprise`, `school`, `hospital`, `community` or `other`.
    pub kind: String,
    pub region_code: String,
    pub address: Option<String>,
    /// WGS-84.
    pub longitude: f64,
    /// WGS-84.
    pub latitude: f64,
    /// How many people usually take part in one of its drives.
    pub typical_headcount: Option<i32>,
    /// The months it prefers, one bit each: bit `m - 1` for month `m` (0: none given).
    pub preferred_months: i32,
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
        belongs_to = "super::region::Entity",
        from = "Column::RegionCode",
        to = "super::region::Column::Code",
        on_update = "NoAction",
        on_delete = "Restrict"
    )]
    Region,
    #[sea_orm(has_many = "super::host_contact::Entity")]
    HostContact,
}

impl Related<super::region::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Region.def()
    }
}

impl Related<super::host_contact::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::HostContact.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
