//! `publicity_talks`: publicity talks (宣讲) given in a village or township, or at a host
//! organisation.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "publicity_talks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The village or township the talk was given in, or (with `host_id`) the host's region.
    pub region_code: String,
    pub host_id: Option<i64>,
    pub held_on: Date,
    pub speaker: String,
    /// How many people listened.
    pub audience: i32,
    /// Who they were (村民, 村医, 职工, …).
    pub audience_description: Option<String>,
    /// What was handed out or shown (倡议书, 宣传单, 展板, …).
    pub materials: String,
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<String>,
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
    #[sea_orm(
        belongs_to = "super::host::Entity",
        from = "Column::HostId",
        to = "super::host::Column::Id",
        on_update = "NoAction",
        on_delete = "Restrict"
    )]
    Host,
}

impl Related<super::region::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Region.def()
    }
}

impl Related<super::host::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Host.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
