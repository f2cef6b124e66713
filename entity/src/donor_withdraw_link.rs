//! `donor_withdraw_links`: the withdrawal links sent with messages to a donor on the roster
//! after their consent (issue 16); each works until the consent is withdrawn. Deleted with
//! the donor.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "donor_withdraw_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub donor_id: i64,
    /// SHA-256 (hex) of the link's token.
    #[serde(skip)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
