//! `station_inventories`: a station's inventory version (the ETag of a posting) and its warning
//! levels' version; no row until the first change (both version 0 then).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "station_inventories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub station_id: i64,
    pub version: i32,
    pub levels_version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
