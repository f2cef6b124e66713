//! Named API tokens for scripts. The secret is shown once, at creation; only its SHA-256 is
//! stored. Everyone manages their own tokens; admins also those of the accounts they manage.

use chrono::{DateTime, TimeDelta, Utc};
use entity::api_token;
use serde::Serialize;
use utoipa::ToSchema;

use super::{AccountsError, Acting};
use crate::auth::secret;
use crate::domain::account::{Principal, Role};
use crate::domain::text;
use crate::error::FieldErrors;
use crate::store::accounts::{self, User};
use crate::store::audit::{self, Actor, Change};
use crate::store::constraint::UniqueKey;
use crate::validation::{self, Validate, ValidationError};
use sea_orm::DatabaseConnection;

/// The unique index on a user's live tokens' names (`uq_api_tokens_live_name`, migration
/// `m20261126_000005_create_accounts`). The other unique key of tokens, their hash, is not the
/// name's fault and stays a database error.
pub const LIVE_NAME_KEY: UniqueKey = UniqueKey {
    name: "uq_api_tokens_live_name",
    columns: "api_tokens.user_id, api_tokens.name",
};

/// The longest a token may be made to last.
pub const MAX_EXPIRY_DAYS: u32 = 3650;
/// The longest token name (it goes into the audit log's actor, `user (token: name)`).
pub const MAX_NAME_CHARS: usize = 50;

/// A token as listed and audited (without its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// The account the token acts as.
    pub username: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// To the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn view(model: api_token::Model, username: String) -> TokenView {
    TokenView {
        id: model.id,
        name: model.name,
        username,
        created_at: model.created_at,
        expires_at: model.expires_at,
        last_used_at: model.last_used_at,
        revoked_at: model.revoked_at,
    }
}

/// A new token for an account.
#[derive(Debug, Clone, Validate)]
pub struct IssueToken {
    /// The account the token acts as.
    pub owner: i64,
    /// What the token is for; unique among the account's live tokens.
    #[validate(custom(function = "name_rule"))]
    pub name: String,
    /// Days until it stops working (1 to [`MAX_EXPIRY_DAYS`]); never when absent.
    #[validate(custom(function = "expiry_rule"))]
    pub expires_in_days: Option<u32>,
}

fn name_rule(value: &str) -> Result<(), ValidationError> {
    token_name(value.to_owned())
        .map(|_| ())
        .map_err(|m| validation::error("name", m))
}

fn expiry_rule(days: u32) -> Result<(), ValidationError> {
    if (1..=MAX_EXPIRY_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(validation::error(
            "range",
            format!("must be between 1 and {MAX_EXPIRY_DAYS}"),
        ))
    }
}

/// Revoking a token.
#[derive(Debug, Clone, Copy)]
pub struct RevokeToken {
    pub id: i64,
}

/// A token name, cleaned, or why it is refused.
pub fn token_name(raw: String) -> Result<String, String> {
    text::clean(Some(raw), MAX_NAME_CHARS, false)?.ok_or_else(|| "must not be empty".to_owned())
}

/// May `principal` see and revoke `owner`'s tokens (their own, or an account they manage)?
fn manages(principal: &Principal, owner: &User) -> bool {
    owner.id == principal.user_id || super::manages(principal, owner)
}

/// The audit record of a token's creation or revocation, filed under its owner's first region
/// (account records are shown to admins only).
fn token_change<'a>(
    owner: &User,
    token: &api_token::Model,
    action: &'a str,
    before: Option<&'a TokenView>,
    after: Option<&'a TokenView>,
    actor: Actor,
    at: DateTime<Utc>,
) -> Change<'a, TokenView> {
    Change {
        entity: "token",
        entity_id: token.id.to_string(),
        action,
        region_code: owner.scopes.first().map(|s| s.code.to_string()),
        before,
        after,
        actor,
        at,
    }
}

/// Creates a token for `cmd.owner`, audited (`create`) in the same transaction; returns it and
/// its secret, which is not stored and cannot be shown again. Who may ask (the account itself,
/// from a session; the command line, for any account) is the caller's to check.
///
/// # Errors
/// An invalid name or lifetime; the owner is gone or disabled; the owner has a live token of
/// that name; database errors.
pub async fn issue_token(
    db: &DatabaseConnection,
    cmd: IssueToken,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(TokenView, String), AccountsError> {
    // The first broken rule is the answer (the name before the lifetime), as it always was.
    let mut errors = FieldErrors::default();
    validation::check_in_order(&cmd, &mut errors, &["name", "expires_in_days"]);
    if let Some(first) = errors.0.into_iter().next() {
        return Err(AccountsError::invalid(&first.field, first.message));
    }
    let name = token_name(cmd.name).map_err(|m| AccountsError::invalid("name", m))?;
    let owner = accounts::find_user(db, cmd.owner)
        .await?
        .ok_or(AccountsError::AccountGone)?;
    if owner.disabled {
        return Err(AccountsError::Disabled(owner.username));
    }
    let secret = secret::new_api_token()?;
    let expires_at = cmd
        .expires_in_days
        .map(|d| now + TimeDelta::days(i64::from(d)));
    let txn = crate::db::begin_write(db).await?;
    let created = accounts::insert_token(
        &txn,
        owner.id,
        name,
        secret::digest(&secret),
        now,
        expires_at,
    )
    .await
    .map_err(|e| {
        if LIVE_NAME_KEY.violated_by(&e) {
            AccountsError::TokenNameTaken
        } else {
            e.into()
        }
    })?;
    let after = view(created.clone(), owner.username.clone());
    audit::record(
        &txn,
        token_change(&owner, &created, "create", None, Some(&after), actor, now),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(
        token_id = created.id,
        user_id = owner.id,
        "API token created"
    );
    Ok((after, secret))
}

/// The tokens `principal` manages: its own and, for admins, those of the accounts they
/// manage; newest first, revoked ones included.
///
/// # Errors
/// Database errors.
pub async fn list_tokens(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<TokenView>, AccountsError> {
    let everyone = principal.role == Role::Admin;
    let tokens = accounts::list_tokens(db, (!everyone).then_some(principal.user_id)).await?;
    let mut owners: std::collections::HashMap<i64, Option<User>> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for token in tokens {
        if let std::collections::hash_map::Entry::Vacant(slot) = owners.entry(token.user_id) {
            let owner = accounts::find_user(db, token.user_id).await?;
            slot.insert(owner.filter(|o| manages(principal, o)));
        }
        if let Some(Some(owner)) = owners.get(&token.user_id) {
            let username = owner.username.clone();
            out.push(view(token, username));
        }
    }
    Ok(out)
}

/// Revokes a token: it stops working at once; audited (`revoke`) in the same transaction.
/// Revoking a revoked token changes nothing.
///
/// # Errors
/// No such token (or not one the caller manages); database errors.
pub async fn revoke_token(
    db: &DatabaseConnection,
    cmd: RevokeToken,
    by: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), AccountsError> {
    let not_found = || AccountsError::NoToken(cmd.id);
    let token = accounts::find_token(db, cmd.id)
        .await?
        .ok_or_else(not_found)?;
    let owner = accounts::find_user(db, token.user_id)
        .await?
        .ok_or_else(not_found)?;
    if by.principal().is_some_and(|p| !manages(p, &owner)) {
        return Err(not_found());
    }
    let txn = crate::db::begin_write(db).await?;
    if accounts::revoke_token(&txn, token.id, now).await? {
        let before = view(token.clone(), owner.username.clone());
        let mut revoked = token.clone();
        revoked.revoked_at = Some(now);
        let after = view(revoked, owner.username.clone());
        let change = token_change(
            &owner,
            &token,
            "revoke",
            Some(&before),
            Some(&after),
            by.actor(),
            now,
        );
        audit::record(&txn, change).await?;
        tracing::info!(token_id = token.id, "API token revoked");
    }
    txn.commit().await?;
    Ok(())
}

/// Token `id`, if there is one (no access check: for readers that check it themselves).
///
/// # Errors
/// Database errors.
pub async fn find_token(
    db: &impl sea_orm::ConnectionTrait,
    id: i64,
) -> Result<Option<api_token::Model>, sea_orm::DbErr> {
    accounts::find_token(db, id).await
}

#[cfg(test)]
mod tests {
    use super::token_name;

    #[test]
    fn token_names_are_cleaned_and_bounded() {
        assert_eq!(
            token_name("  nightly ".to_owned()).as_deref(),
            Ok("nightly")
        );
        assert!(token_name("   ".to_owned()).is_err());
        assert!(token_name("n".repeat(50)).is_ok());
        assert!(token_name("n".repeat(51)).is_err());
    }
}

#[cfg(test)]
mod unique_tests {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database};

    use super::LIVE_NAME_KEY;

    /// Of the tokens' two unique keys only the live name's is "name taken"; a hash that
    /// collides is another key.
    #[tokio::test]
    async fn a_colliding_hash_is_not_a_taken_name() {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1);
        let db = Database::connect(options).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        db.execute_unprepared(
            "INSERT INTO users (id, username, display_name, role, password_hash, disabled, \
             version, created_at, updated_at) VALUES (1, 'wang.fang', 'Wang Fang', 'admin', \
             'x', false, 1, '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'); \
             INSERT INTO api_tokens (user_id, name, token_hash, created_at) \
             VALUES (1, 'cron', 'h1', '2026-12-01T00:00:00Z');",
        )
        .await
        .unwrap();
        let insert = |name: &str, hash: &str| {
            format!(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at) \
                 VALUES (1, '{name}', '{hash}', '2026-12-01T00:00:00Z')"
            )
        };
        let hash = db
            .execute_unprepared(&insert("backup", "h1"))
            .await
            .unwrap_err();
        assert!(!LIVE_NAME_KEY.violated_by(&hash), "{hash}");
        let name = db
            .execute_unprepared(&insert("cron", "h2"))
            .await
            .unwrap_err();
        assert!(LIVE_NAME_KEY.violated_by(&name), "{name}");
    }
}
