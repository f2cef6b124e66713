//! `roster_withdrawals`: the SHA-256 of the mobile of each donor who left the roster, with
//! when, so that a consent older than that cannot enrol them again (issue 16).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "roster_withdrawals")]
pub struct Model {
    /// SHA-256 (hex) of the mobile as stored on the roster.
    #[sea_orm(primary_key, auto_increment = false)]
    #[serde(skip)]
    pub mobile_hash: String,
    pub withdrawn_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
