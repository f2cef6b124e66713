//! `appeals`: an appeal (倡议书) made for a drive or one of its stops: the text as rendered,
//! its tracking code and the booking link carrying it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "appeals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub drive_id: i64,
    /// One stop of the drive, or `None` for the whole drive.
    pub stop_id: Option<i64>,
    /// The drive's region: the appeal's scope.
    pub region_code: String,
    /// The tracking code (`via=CODE` in the link); unique.
    pub code: String,
    /// The text as rendered when the appeal was made.
    pub body: String,
    /// The booking link with the code.
    pub link: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::drive::Entity",
        from = "Column::DriveId",
        to = "super::drive::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Drive,
}

impl Related<super::drive::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Drive.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
