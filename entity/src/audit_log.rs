//! `audit_log`: one row per change to the registry, written in the change's transaction.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// Who made the change: the username, with the token's name when a token was used
    /// (`alice (token: nightly-sync)`); none for changes made before accounts existed.
    pub actor: Option<String>,
    pub actor_user_id: Option<i64>,
    pub actor_token_id: Option<i64>,
    /// `point`, `region`, …
    pub entity: String,
    pub entity_id: String,
    /// `create`, `update` or `close`.
    pub action: String,
    /// The region the entity belongs to, for scoped listings.
    pub region_code: Option<String>,
    /// JSON of the entity before the change (none for a creation).
    pub before: Option<String>,
    /// JSON of the entity after the change.
    pub after: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
