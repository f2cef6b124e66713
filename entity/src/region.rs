//! `regions`: one row per unit of the statistical division hierarchy.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "regions")]
pub struct Model {
    /// The 12-digit statistical division code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    /// `province`, `city`, `county`, `township` or `village`.
    pub level: String,
    pub parent_code: Option<String>,
    /// For village-level units: `village` or `community`.
    pub kind: Option<String>,
    /// True when someone set `kind` by hand; imports then leave it alone.
    pub kind_overridden: bool,
    /// WGS-84 longitude of the unit's centre, when known.
    pub longitude: Option<f64>,
    /// WGS-84 latitude of the unit's centre, when known.
    pub latitude: Option<f64>,
    pub population: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Bumped by every change; the ETag.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "Entity",
        from = "Column::ParentCode",
        to = "Column::Code",
        on_update = "NoAction",
        on_delete = "Restrict"
    )]
    Parent,
}

impl ActiveModelBehavior for ActiveModel {}
