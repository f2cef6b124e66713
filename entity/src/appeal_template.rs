//! `appeal_templates`: a blood station's appeal (倡议书) template, the text with its named
//! fields; a station without one uses the built-in text of the catalogue.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "appeal_templates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique: one template per station.
    pub station_id: i64,
    /// The text with `{date}`, `{place}`, `{times}`, `{who}`, `{bring}` and `{link}`.
    pub body: String,
    /// What `{who}` reads as.
    pub who_may_donate: String,
    /// What `{bring}` reads as.
    pub what_to_bring: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::station::Entity",
        from = "Column::StationId",
        to = "super::station::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Station,
}

impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Station.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
