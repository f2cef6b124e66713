//! Signing in and out with a username and password (browser sessions). The cookie, the CSRF
//! rule and who is calling are the HTTP side's (`crate::api::auth`).

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::DatabaseConnection;

use super::AccountsError;
use crate::auth::secret;
use crate::store::accounts::{self, User};

/// A session ends after this long without a request…
pub const SESSION_IDLE: TimeDelta = TimeDelta::hours(8);
/// …and this long after sign-in, whatever the activity.
pub const SESSION_LIFETIME: TimeDelta = TimeDelta::days(7);
/// Failed sign-ins are counted over this window.
pub const THROTTLE_WINDOW: TimeDelta = TimeDelta::minutes(15);

/// A sign-in attempt.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub username: String,
    pub password: String,
    /// The client's address, for the throttle.
    pub address: String,
    /// The hash of the session the client signs in from, if any: it ends.
    pub replaces: Option<String>,
}

/// A new session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The account, with this sign-in as its last.
    pub user: User,
    /// The session's secret (the cookie's value); only its digest is stored.
    pub token: String,
    /// The session's CSRF token.
    pub csrf_token: String,
}

/// Signs in: checks the throttle (5 failed attempts for a username, or 20 from one address,
/// within [`THROTTLE_WINDOW`]), then the password, and opens a session in one transaction
/// (clearing the username's failures, ending the session signed in from and the expired
/// ones). No error tells whether the username exists.
///
/// # Errors
/// A malformed username or password; too many failed attempts; wrong credentials (or a
/// disabled account); database errors.
pub async fn sign_in(
    db: &DatabaseConnection,
    cmd: SignIn,
    now: DateTime<Utc>,
) -> Result<SignedIn, AccountsError> {
    let username = cmd.username.trim().to_lowercase();
    if username.is_empty()
        || username.chars().count() > 64
        || username.chars().any(|c| c.is_control())
    {
        return Err(AccountsError::invalid(
            "username",
            "must be 1 to 64 characters, without control characters",
        ));
    }
    if cmd.password.len() > secret::MAX_PASSWORD_BYTES {
        return Err(AccountsError::invalid("password", "is too long"));
    }
    let address = cmd.address;
    let since = now - THROTTLE_WINDOW;
    // The attempt is recorded (as a failure until proven otherwise) before the others are
    // counted, so that guesses sent all at once cannot all slip under the limit.
    let attempt = accounts::record_attempt(db, &username, &address, now, since).await?;
    let recent = accounts::recent_failures(db, &username, &address, since, attempt).await?;
    let mut retry_at: Option<DateTime<Utc>> = None;
    for ((count, pivot), limit) in [
        (recent.for_user, accounts::USER_LIMIT),
        (recent.for_address, accounts::ADDRESS_LIMIT),
    ] {
        if count >= limit
            && let Some(at) = pivot
        {
            let free = at + THROTTLE_WINDOW;
            retry_at = Some(retry_at.map_or(free, |r| r.max(free)));
        }
    }
    if let Some(at) = retry_at {
        accounts::forget_attempt(db, attempt).await?;
        let secs = u64::try_from((at - now).num_seconds()).unwrap_or(0).max(1);
        tracing::warn!(%address, "sign-in throttled");
        return Err(AccountsError::Throttled {
            retry_after_secs: secs,
        });
    }
    let found = accounts::find_credentials(db, &username).await?;
    let password = cmd.password;
    let verified = tokio::task::spawn_blocking(move || match found {
        Some((user, hash)) => {
            let ok = secret::verify_password(&hash, &password);
            (ok && !user.disabled).then_some(user)
        }
        None => {
            secret::verify_against_nothing(&password);
            None
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("password check: {e}"))?;
    let Some(mut user) = verified else {
        tracing::info!(%address, "sign-in failed");
        return Err(AccountsError::WrongCredentials);
    };
    let token = secret::random_hex()?;
    let csrf_token = secret::random_hex()?;
    let txn = crate::db::begin_write(db).await?;
    accounts::clear_failures(&txn, &username).await?;
    // A browser signing in again leaves its old session behind: end it.
    if let Some(token_hash) = &cmd.replaces {
        accounts::delete_session(&txn, token_hash).await?;
    }
    accounts::record_login(&txn, user.id, now).await?;
    accounts::purge_sessions(&txn, now, now - SESSION_IDLE).await?;
    accounts::insert_session(
        &txn,
        secret::digest(&token),
        user.id,
        csrf_token.clone(),
        now,
        now + SESSION_LIFETIME,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(user_id = user.id, "signed in");
    user.last_login_at = Some(now);
    Ok(SignedIn {
        user,
        token,
        csrf_token,
    })
}

/// Ends the session whose secret hashes to `token_hash` (nothing when there is none).
///
/// # Errors
/// Database errors.
pub async fn sign_out(db: &DatabaseConnection, token_hash: &str) -> Result<(), AccountsError> {
    accounts::delete_session(db, token_hash).await?;
    Ok(())
}

/// A signed-in account changing its own password.
#[derive(Debug, Clone)]
pub struct ChangeOwnPassword {
    /// The password now, checked first.
    pub current: String,
    /// The new password, under the same rules as at creation.
    pub new: String,
}

/// Changes the signed-in account's own password after checking the current one; audited as an
/// account update, and every session of the account ends (the caller signs in again).
///
/// # Errors
/// A wrong current password ([`AccountsError::WrongCredentials`]); a new password that breaks
/// the rules (named `new_password`); the account gone; database errors.
pub async fn change_own_password(
    db: &DatabaseConnection,
    cmd: ChangeOwnPassword,
    principal: &crate::domain::account::Principal,
    actor: crate::store::audit::Actor,
    now: DateTime<Utc>,
) -> Result<User, AccountsError> {
    let found = accounts::find_credentials(db, &principal.username).await?;
    let current = cmd.current;
    let account = tokio::task::spawn_blocking(move || {
        found.and_then(|(user, hash)| secret::verify_password(&hash, &current).then_some(user))
    })
    .await
    .map_err(|e| anyhow::anyhow!("password check: {e}"))?
    .filter(|user| user.id == principal.user_id)
    .ok_or(AccountsError::WrongCredentials)?;
    let change = super::users::ChangeAccount {
        account,
        version: None,
        display_name: None,
        role: None,
        regions: None,
        disabled: None,
        password: Some(cmd.new),
    };
    let by = super::Acting::Account { principal, actor };
    match super::users::update_user(db, change, &by, now).await {
        Ok(super::users::Update::Done(user)) => Ok(user),
        Ok(super::users::Update::Stale) => Err(AccountsError::AccountGone),
        Err(AccountsError::Invalid { errors, .. }) => {
            let errors: Vec<_> = errors
                .into_iter()
                .map(|mut e| {
                    if e.field == "password" {
                        e.field = "new_password".to_owned();
                    }
                    e
                })
                .collect();
            Err(AccountsError::Invalid {
                detail: format!("invalid {}", crate::error::field_names(&errors)),
                errors,
            })
        }
        Err(e) => Err(e),
    }
}
