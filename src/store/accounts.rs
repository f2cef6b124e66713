//! Queries over `users`, `user_scopes`, `sessions`, `api_tokens` and `login_failures`.
//!
//! The password hash is read only by [`find_credentials`] for the login check; every other
//! function returns [`User`], which has no such field, so that it cannot reach a response or a
//! log line by accident.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::api_token::{self, Entity as ApiToken};
use entity::login_failure::{self, Entity as LoginFailure};
use entity::session::{self, Entity as Session};
use entity::user::{self, Entity as UserEntity};
use entity::user_scope::{self, Entity as UserScope};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::account::{Principal, Role, Scope};
use crate::domain::region::RegionCode;

/// A user account, without its password hash.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub disabled: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl User {
    /// The caller this user is, signed in directly (`token` none) or through a token.
    pub fn principal(&self, token: Option<(i64, String)>) -> Principal {
        Principal {
            user_id: self.id,
            username: self.username.clone(),
            role: self.role,
            scopes: self.scopes.clone(),
            token,
        }
    }
}

fn to_user(model: user::Model, scopes: Vec<Scope>) -> Result<User, DbErr> {
    Ok(User {
        role: model
            .role
            .parse()
            .map_err(|e| DbErr::Type(format!("user {}: {e}", model.id)))?,
        id: model.id,
        username: model.username,
        display_name: model.display_name,
        scopes,
        disabled: model.disabled,
        version: model.version,
        created_at: model.created_at,
        updated_at: model.updated_at,
        last_login_at: model.last_login_at,
    })
}

/// The scopes of each of `user_ids`, with their regions' levels, ordered by code.
async fn scopes_of(
    db: &impl ConnectionTrait,
    user_ids: &[i64],
) -> Result<HashMap<i64, Vec<Scope>>, DbErr> {
    // One query: the scopes joined with their regions (for the levels).
    let rows = UserScope::find()
        .filter(user_scope::Column::UserId.is_in(user_ids.iter().copied()))
        .order_by_asc(user_scope::Column::RegionCode)
        .find_also_related(entity::region::Entity)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<Scope>> = HashMap::new();
    for (row, region) in rows {
        let code = RegionCode::parse(&row.region_code).map_err(|e| DbErr::Type(e.to_string()))?;
        let level = region
            .ok_or_else(|| DbErr::Custom(format!("scope region {code} is missing")))?
            .level
            .parse()
            .map_err(|e| DbErr::Type(format!("scope region {code}: {e}")))?;
        out.entry(row.user_id)
            .or_default()
            .push(Scope::new(code, level));
    }
    Ok(out)
}

async fn with_scopes(
    db: &impl ConnectionTrait,
    models: Vec<user::Model>,
) -> Result<Vec<User>, DbErr> {
    let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
    let mut scopes = scopes_of(db, &ids).await?;
    models
        .into_iter()
        .map(|m| {
            let s = scopes.remove(&m.id).unwrap_or_default();
            to_user(m, s)
        })
        .collect()
}

/// A new account's fields, validated.
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub scopes: Vec<RegionCode>,
}

async fn replace_scopes(
    db: &impl ConnectionTrait,
    user_id: i64,
    scopes: &[RegionCode],
) -> Result<(), DbErr> {
    UserScope::delete_many()
        .filter(user_scope::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if !scopes.is_empty() {
        UserScope::insert_many(scopes.iter().map(|code| user_scope::ActiveModel {
            user_id: Set(user_id),
            region_code: Set(code.as_str().to_owned()),
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

pub async fn insert_user(
    db: &impl ConnectionTrait,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<User, DbErr> {
    let model = UserEntity::insert(user::ActiveModel {
        username: Set(new.username),
        display_name: Set(new.display_name),
        role: Set(new.role.as_str().to_owned()),
        password_hash: Set(new.password_hash),
        disabled: Set(false),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?;
    replace_scopes(db, model.id, &new.scopes).await?;
    let mut users = with_scopes(db, vec![model]).await?;
    Ok(users.remove(0))
}

pub async fn find_user(db: &impl ConnectionTrait, id: i64) -> Result<Option<User>, DbErr> {
    match UserEntity::find_by_id(id).one(db).await? {
        Some(model) => Ok(with_scopes(db, vec![model]).await?.pop()),
        None => Ok(None),
    }
}

pub async fn find_user_by_name(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<User>, DbErr> {
    match UserEntity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?
    {
        Some(model) => Ok(with_scopes(db, vec![model]).await?.pop()),
        None => Ok(None),
    }
}

/// The account and its password hash, for checking a login.
pub async fn find_credentials(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<(User, String)>, DbErr> {
    match UserEntity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?
    {
        Some(model) => {
            let hash = model.password_hash.clone();
            let user = with_scopes(db, vec![model]).await?.pop();
            Ok(user.map(|u| (u, hash)))
        }
        None => Ok(None),
    }
}

/// Users by id, after `after_id`, at most `limit`.
pub async fn list_users(
    db: &impl ConnectionTrait,
    after_id: Option<i64>,
    limit: u64,
) -> Result<Vec<User>, DbErr> {
    let mut query = UserEntity::find().order_by_asc(user::Column::Id);
    if let Some(after) = after_id {
        query = query.filter(user::Column::Id.gt(after));
    }
    let models = query.limit(limit).all(db).await?;
    with_scopes(db, models).await
}

pub async fn count_users(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    UserEntity::find().count(db).await
}

/// What an update of an account may change; `None` keeps the stored value.
#[derive(Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub scopes: Option<Vec<RegionCode>>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

/// Applies `changes` if the account is still at `expected_version` (any version when `None`);
/// `None` when it moved on or is gone. Disabling an account or changing its password ends its
/// sessions; disabling also stops its tokens (they are checked against the account).
pub async fn update_user(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: Option<i32>,
    changes: UserChanges,
    now: DateTime<Utc>,
) -> Result<Option<User>, DbErr> {
    let mut update = UserEntity::update_many()
        .col_expr(
            user::Column::Version,
            Expr::col(user::Column::Version).add(1),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id));
    if let Some(version) = expected_version {
        update = update.filter(user::Column::Version.eq(version));
    }
    if let Some(name) = &changes.display_name {
        update = update.col_expr(user::Column::DisplayName, Expr::value(name.clone()));
    }
    if let Some(role) = changes.role {
        update = update.col_expr(user::Column::Role, Expr::value(role.as_str()));
    }
    if let Some(disabled) = changes.disabled {
        update = update.col_expr(user::Column::Disabled, Expr::value(disabled));
    }
    if let Some(hash) = &changes.password_hash {
        update = update.col_expr(user::Column::PasswordHash, Expr::value(hash.clone()));
    }
    if update.exec(db).await?.rows_affected == 0 {
        return Ok(None);
    }
    if let Some(scopes) = &changes.scopes {
        replace_scopes(db, id, scopes).await?;
    }
    if changes.disabled == Some(true) || changes.password_hash.is_some() {
        Session::delete_many()
            .filter(session::Column::UserId.eq(id))
            .exec(db)
            .await?;
    }
    find_user(db, id).await
}

pub async fn record_login(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    UserEntity::update_many()
        .col_expr(user::Column::LastLoginAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

// --- sessions ---

pub async fn insert_session(
    db: &impl ConnectionTrait,
    token_hash: String,
    user_id: i64,
    csrf_token: String,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Session::insert(session::ActiveModel {
        token_hash: Set(token_hash),
        user_id: Set(user_id),
        csrf_token: Set(csrf_token),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expires_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn touch_session(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Session::update_many()
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::Column::TokenHash.eq(token_hash))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_session(db: &impl ConnectionTrait, token_hash: &str) -> Result<(), DbErr> {
    Session::delete_by_id(token_hash.to_owned())
        .exec(db)
        .await?;
    Ok(())
}

/// Removes sessions past their absolute end or idle for longer than `idle_since`.
pub async fn purge_sessions(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    idle_since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(Session::delete_many()
        .filter(
            session::Column::ExpiresAt
                .lte(now)
                .or(session::Column::LastSeenAt.lt(idle_since)),
        )
        .exec(db)
        .await?
        .rows_affected)
}

// --- API tokens ---

pub async fn insert_token(
    db: &impl ConnectionTrait,
    user_id: i64,
    name: String,
    token_hash: String,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<api_token::Model, DbErr> {
    ApiToken::insert(api_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name),
        token_hash: Set(token_hash),
        created_at: Set(now),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

/// The token with this digest and its account (two queries in all, with the scopes): the
/// work of authenticating every scripted request.
pub async fn find_token_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<(api_token::Model, User)>, DbErr> {
    let found = ApiToken::find()
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .find_also_related(UserEntity)
        .one(db)
        .await?;
    with_owner(db, found).await
}

/// The session with this digest and its account.
pub async fn find_session_with_user(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<(session::Model, User)>, DbErr> {
    let found = Session::find_by_id(token_hash.to_owned())
        .find_also_related(UserEntity)
        .one(db)
        .await?;
    with_owner(db, found).await
}

/// A credential found with its account row, completed with the account's scopes.
async fn with_owner<T>(
    db: &impl ConnectionTrait,
    found: Option<(T, Option<user::Model>)>,
) -> Result<Option<(T, User)>, DbErr> {
    let Some((credential, Some(owner))) = found else {
        return Ok(None);
    };
    let user = with_scopes(db, vec![owner]).await?.pop();
    Ok(user.map(|u| (credential, u)))
}

pub async fn find_token(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<api_token::Model>, DbErr> {
    ApiToken::find_by_id(id).one(db).await
}

/// Tokens of `user_id` (all users' when `None`), newest first, revoked ones included.
pub async fn list_tokens(
    db: &impl ConnectionTrait,
    user_id: Option<i64>,
) -> Result<Vec<api_token::Model>, DbErr> {
    let mut query = ApiToken::find().order_by_desc(api_token::Column::Id);
    if let Some(user) = user_id {
        query = query.filter(api_token::Column::UserId.eq(user));
    }
    query.all(db).await
}

/// Marks a token revoked; false when it already was.
pub async fn revoke_token(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(ApiToken::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

pub async fn touch_token(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    ApiToken::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

// --- login throttling ---

/// Failed logins since `since`: for the username and for the address, each with the time of
/// its oldest failure in the window (when the window frees up again).
pub struct RecentFailures {
    pub for_user: (u64, Option<DateTime<Utc>>),
    pub for_address: (u64, Option<DateTime<Utc>>),
}

/// Attempts other than `attempt_id` count: a login records its attempt first (see
/// [`record_attempt`]), so that simultaneous guesses see each other.
pub async fn recent_failures(
    db: &impl ConnectionTrait,
    username: &str,
    address: &str,
    since: DateTime<Utc>,
    attempt_id: i64,
) -> Result<RecentFailures, DbErr> {
    async fn window(
        db: &impl ConnectionTrait,
        column: login_failure::Column,
        value: &str,
        since: DateTime<Utc>,
        keep_newest: u64,
        attempt_id: i64,
    ) -> Result<(u64, Option<DateTime<Utc>>), DbErr> {
        let base = LoginFailure::find()
            .filter(column.eq(value))
            .filter(login_failure::Column::Id.ne(attempt_id))
            .filter(login_failure::Column::At.gt(since));
        let count = base.clone().count(db).await?;
        // The failure whose expiry brings the count back under the limit: the
        // `keep_newest`-th newest.
        let pivot = base
            .order_by_desc(login_failure::Column::At)
            .offset(keep_newest.saturating_sub(1))
            .one(db)
            .await?
            .map(|f| f.at);
        Ok((count, pivot))
    }
    Ok(RecentFailures {
        for_user: window(
            db,
            login_failure::Column::Username,
            username,
            since,
            USER_LIMIT,
            attempt_id,
        )
        .await?,
        for_address: window(
            db,
            login_failure::Column::Address,
            address,
            since,
            ADDRESS_LIMIT,
            attempt_id,
        )
        .await?,
    })
}

/// The times of the failed logins since `since` of each of `usernames`, newest first.
pub async fn failures_since(
    db: &impl ConnectionTrait,
    usernames: &[String],
    since: DateTime<Utc>,
) -> Result<HashMap<String, Vec<DateTime<Utc>>>, DbErr> {
    let mut out: HashMap<String, Vec<DateTime<Utc>>> = HashMap::new();
    if usernames.is_empty() {
        return Ok(out);
    }
    let rows = LoginFailure::find()
        .filter(login_failure::Column::Username.is_in(usernames.iter().cloned()))
        .filter(login_failure::Column::At.gt(since))
        .order_by_desc(login_failure::Column::At)
        .all(db)
        .await?;
    for row in rows {
        out.entry(row.username).or_default().push(row.at);
    }
    Ok(out)
}

/// Failed logins allowed per username, and per client address, in the window.
pub const USER_LIMIT: u64 = 5;
pub const ADDRESS_LIMIT: u64 = 20;

/// Records a sign-in attempt as a failure until it proves otherwise (then
/// [`forget_attempt`] or [`clear_failures`]); forgets attempts older than `forget_before`.
/// Returns the attempt's id.
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    username: &str,
    address: &str,
    now: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> Result<i64, DbErr> {
    LoginFailure::delete_many()
        .filter(login_failure::Column::At.lte(forget_before))
        .exec(db)
        .await?;
    let result = LoginFailure::insert(login_failure::ActiveModel {
        username: Set(username.to_owned()),
        address: Set(address.to_owned()),
        at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(result.last_insert_id)
}

/// Drops one attempt (a refused one: it was never tried).
pub async fn forget_attempt(db: &impl ConnectionTrait, attempt_id: i64) -> Result<(), DbErr> {
    LoginFailure::delete_by_id(attempt_id).exec(db).await?;
    Ok(())
}

/// Forgets a username's failures: after a successful login, or when an admin lifts the lock
/// they put on it. Returns how many were forgotten.
pub async fn clear_failures(db: &impl ConnectionTrait, username: &str) -> Result<u64, DbErr> {
    let result = LoginFailure::delete_many()
        .filter(login_failure::Column::Username.eq(username))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
