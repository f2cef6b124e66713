//! Account operations for the command line (`donornet user …`, `donornet token …`): the
//! bootstrap of the first admin and day-to-day operations on the server itself. The same
//! rules as the API apply (usernames, passwords, regions); changes are audited as made by the
//! "command line".

use anyhow::{Context, bail};
use chrono::Utc;
use sea_orm::DatabaseConnection;

use crate::api::tokens;
use crate::api::users::{self, UserView, scopes_from, valid_username};
use crate::auth::secret;
use crate::domain::account::Role;
use crate::error::AppError;
use crate::store::accounts::{self, NewUser, User, UserChanges};
use crate::store::audit::{self, Actor, Change};

/// An API error in words for a terminal: the detail and each field's problem.
pub(crate) fn explain(err: AppError) -> anyhow::Error {
    match err {
        AppError::Validation { detail, errors } | AppError::Unprocessable { detail, errors } => {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            anyhow::anyhow!("{detail} ({})", fields.join("; "))
        }
        AppError::Internal(e) => e,
        other => anyhow::anyhow!("{other}"),
    }
}

/// The hash of a new password for `username`, under the API's rules.
async fn hashed(password: &str, username: &str) -> anyhow::Result<String> {
    if let Some(problem) = secret::password_problem(password)
        .or_else(|| secret::guessable(password, username).map(str::to_owned))
    {
        bail!("the password {problem}");
    }
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || secret::hash_password(&password)).await?
}

async fn audited(
    db: &DatabaseConnection,
    user: &User,
    action: &str,
    before: Option<&UserView>,
) -> anyhow::Result<()> {
    let after = UserView::from(user.clone());
    audit::record(
        db,
        Change {
            entity: "user",
            entity_id: user.id.to_string(),
            action,
            region_code: user.scopes.first().map(|s| s.code.to_string()),
            before,
            after: Some(&after),
            actor: Actor::command_line(),
            at: Utc::now(),
        },
    )
    .await?;
    Ok(())
}

/// Creates an account.
///
/// # Errors
/// Invalid username, role, regions or password; a taken username; database errors.
pub async fn add_user(
    db: &DatabaseConnection,
    username: &str,
    display_name: Option<&str>,
    role: &str,
    regions: &[String],
    password: &str,
) -> anyhow::Result<User> {
    let username = valid_username(username).map_err(|m| anyhow::anyhow!("username {m}"))?;
    let role: Role = role
        .parse()
        .map_err(|e: String| anyhow::anyhow!("role: {e}"))?;
    let (codes, _) = scopes_from(db, regions, role).await.map_err(explain)?;
    if accounts::find_user_by_name(db, &username).await?.is_some() {
        bail!("the username {username} is taken");
    }
    let password_hash = hashed(password, &username).await?;
    let user = accounts::insert_user(
        db,
        NewUser {
            display_name: display_name.unwrap_or(&username).trim().to_owned(),
            username,
            role,
            password_hash,
            scopes: codes,
        },
        Utc::now(),
    )
    .await?;
    audited(db, &user, "create", None).await?;
    Ok(user)
}

async fn existing(db: &DatabaseConnection, username: &str) -> anyhow::Result<User> {
    accounts::find_user_by_name(db, &username.trim().to_lowercase())
        .await?
        .with_context(|| format!("no user named {username}"))
}

async fn change(
    db: &DatabaseConnection,
    username: &str,
    changes: UserChanges,
) -> anyhow::Result<User> {
    let user = existing(db, username).await?;
    let before = UserView::from(user.clone());
    let updated = accounts::update_user(db, user.id, None, changes, Utc::now())
        .await?
        .with_context(|| format!("no user named {username}"))?;
    audited(db, &updated, "update", Some(&before)).await?;
    Ok(updated)
}

/// Disables an account: it can no longer sign in, its sessions end and its tokens stop.
///
/// # Errors
/// No such user; database errors.
pub async fn disable_user(db: &DatabaseConnection, username: &str) -> anyhow::Result<User> {
    change(
        db,
        username,
        UserChanges {
            disabled: Some(true),
            ..UserChanges::default()
        },
    )
    .await
}

/// Sets an account's password (and ends its sessions).
///
/// # Errors
/// No such user; a weak password; database errors.
pub async fn set_password(
    db: &DatabaseConnection,
    username: &str,
    password: &str,
) -> anyhow::Result<User> {
    let user = existing(db, username).await?;
    let hash = hashed(password, &user.username).await?;
    change(
        db,
        username,
        UserChanges {
            password_hash: Some(hash),
            ..UserChanges::default()
        },
    )
    .await
}

/// Lifts the sign-in lock that failed sign-ins put on an account; returns how many failures
/// were forgotten (0: it was not locked).
///
/// # Errors
/// No such user; database errors.
pub async fn unlock_user(db: &DatabaseConnection, username: &str) -> anyhow::Result<(User, u64)> {
    let user = existing(db, username).await?;
    let cleared = users::unlock(db, &user, Actor::command_line(), Utc::now())
        .await
        .map_err(explain)?;
    Ok((user, cleared))
}

/// Every account, in id order.
///
/// # Errors
/// Database errors.
pub async fn list_users(db: &DatabaseConnection) -> anyhow::Result<Vec<User>> {
    Ok(accounts::list_users(db, None, i64::MAX.unsigned_abs()).await?)
}

/// Creates an API token for `username`; returns its secret, which is not stored.
///
/// # Errors
/// No such user, a disabled user, a name in use, database errors.
pub async fn create_token(
    db: &DatabaseConnection,
    name: &str,
    username: &str,
    expires_days: Option<u32>,
) -> anyhow::Result<String> {
    let owner = existing(db, username).await?;
    if owner.disabled {
        bail!("{username} is disabled");
    }
    let name =
        tokens::token_name(name.to_owned()).map_err(|m| anyhow::anyhow!("the token name {m}"))?;
    if let Some(days) = expires_days
        && !(1..=tokens::MAX_EXPIRY_DAYS).contains(&days)
    {
        bail!(
            "--expires-days must be between 1 and {}",
            tokens::MAX_EXPIRY_DAYS
        );
    }
    let (_, secret) = tokens::issue(
        db,
        &owner,
        name,
        expires_days,
        Actor::command_line(),
        Utc::now(),
    )
    .await
    .map_err(explain)?;
    Ok(secret)
}

/// The demo admin's username (created only with the demo data).
pub const DEMO_ADMIN: &str = "demo-admin";

/// Creates the demo admin with a random password, which is returned to print once.
///
/// # Errors
/// Database errors.
pub async fn create_demo_admin(db: &DatabaseConnection) -> anyhow::Result<String> {
    let password = secret::random_hex()?[..20].to_owned();
    add_user(
        db,
        DEMO_ADMIN,
        Some("Demo administrator"),
        "admin",
        &[],
        &password,
    )
    .await?;
    Ok(password)
}
