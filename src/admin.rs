//! Account operations for the command line (`donornet user …`, `donornet token …`): the
//! bootstrap of the first admin and day-to-day operations on the server itself. The same
//! rules as the API apply (usernames, passwords, regions); changes are audited as made by the
//! "command line".

use chrono::Utc;
use sea_orm::DatabaseConnection;

use crate::accounts::users::{ChangeAccount, UnlockAccount};
use crate::accounts::{self, AccountsError, Acting, IssueToken, NewAccount, Update};
use crate::auth::secret;
use crate::domain::account::Role;
use crate::error::AppError;
use crate::store::accounts::User;

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

/// How a field is named on the command line.
fn option_name(field: &str) -> String {
    match field {
        "password" => "the password".to_owned(),
        "name" => "the token name".to_owned(),
        "expires_in_days" => "--expires-days".to_owned(),
        "username" | "display_name" => field.to_owned(),
        other => format!("{other}:"),
    }
}

/// An accounts error in words for a terminal.
fn say(err: AccountsError) -> anyhow::Error {
    match err {
        AccountsError::Invalid { errors, .. } if errors.len() == 1 => {
            let e = &errors[0];
            anyhow::anyhow!("{} {}", option_name(&e.field), e.message)
        }
        AccountsError::Invalid { detail, errors } => {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            anyhow::anyhow!("{detail} ({})", fields.join("; "))
        }
        AccountsError::Internal(e) => e,
        AccountsError::Db(e) => e.into(),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Creates an account (audited as made by the command line).
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
    let role: Role = role
        .parse()
        .map_err(|e: String| anyhow::anyhow!("role: {e}"))?;
    let command = NewAccount {
        username: username.to_owned(),
        display_name: display_name.map(str::to_owned),
        role,
        regions: regions.to_vec(),
        password: password.to_owned(),
    };
    accounts::create_user(db, command, &Acting::CommandLine, Utc::now())
        .await
        .map_err(say)
}

/// Changes the account named `username`, whatever its version.
async fn change(
    db: &DatabaseConnection,
    username: &str,
    edit: impl FnOnce(&mut ChangeAccount),
) -> anyhow::Result<User> {
    let account = accounts::find_by_username(db, username)
        .await
        .map_err(say)?;
    let mut command = ChangeAccount {
        account,
        version: None,
        display_name: None,
        role: None,
        regions: None,
        disabled: None,
        password: None,
    };
    edit(&mut command);
    match accounts::update_user(db, command, &Acting::CommandLine, Utc::now())
        .await
        .map_err(say)?
    {
        Update::Done(user) => Ok(user),
        Update::Stale => Err(anyhow::anyhow!("no user named {username}")),
    }
}

/// Disables an account: it can no longer sign in, its sessions end and its tokens stop.
///
/// # Errors
/// No such user; database errors.
pub async fn disable_user(db: &DatabaseConnection, username: &str) -> anyhow::Result<User> {
    change(db, username, |c| c.disabled = Some(true)).await
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
    change(db, username, |c| c.password = Some(password.to_owned())).await
}

/// Lifts the sign-in lock that failed sign-ins put on an account; returns how many failures
/// were forgotten (0: it was not locked).
///
/// # Errors
/// No such user; database errors.
pub async fn unlock_user(db: &DatabaseConnection, username: &str) -> anyhow::Result<(User, u64)> {
    let user = accounts::find_by_username(db, username)
        .await
        .map_err(say)?;
    accounts::unlock(
        db,
        UnlockAccount { id: user.id },
        &Acting::CommandLine,
        Utc::now(),
    )
    .await
    .map_err(say)
}

/// Every account, in id order.
///
/// # Errors
/// Database errors.
pub async fn list_users(db: &DatabaseConnection) -> anyhow::Result<Vec<User>> {
    accounts::users::list_all(db).await.map_err(say)
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
    let owner = accounts::find_by_username(db, username)
        .await
        .map_err(say)?;
    let command = IssueToken {
        owner: owner.id,
        name: name.to_owned(),
        expires_in_days: expires_days,
    };
    let (_, secret) = accounts::issue_token(db, command, Acting::CommandLine.actor(), Utc::now())
        .await
        .map_err(say)?;
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
