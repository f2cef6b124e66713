//! `chat_groups`: chat groups (coordinators' or a host's) that appeals are sent to through a
//! WeCom group robot. The robot's key is a secret: it is read only to send.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "chat_groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub region_code: String,
    /// `coordinators` or `host`.
    pub audience: String,
    /// The host whose group it is (`audience` = `host`).
    pub host_id: Option<i64>,
    /// The group robot's webhook key. Never serialised.
    #[serde(skip)]
    pub webhook_key: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
