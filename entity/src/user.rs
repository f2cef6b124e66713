//! `users`: people who sign in (station staff, township officials, admins, viewers).

use sea_orm::entity::prelude::*;

/// `Debug` is derived for sea-orm; the password hash never leaves the store (see
/// `donornet::store::accounts::User`, which has no such field).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Lower-case, unique.
    pub username: String,
    pub display_name: String,
    /// `admin`, `station_staff`, `township_official` or `viewer`.
    pub role: String,
    /// An argon2id PHC string.
    pub password_hash: String,
    pub disabled: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
