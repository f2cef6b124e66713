//! Accounts: creating, changing and unlocking them, under the same rules from the API and the
//! command line. Accounts are disabled, never deleted, so that the audit log keeps naming who
//! did what.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{AccountsError, Acting, UserView};
use crate::auth::secret;
use crate::domain::account::{Principal, Role, Scope};
use crate::domain::policy::{Action, Decision, Resource, can};
use crate::domain::region::RegionCode;
use crate::domain::text;
use crate::error::FieldError;
use crate::store::accounts::{self, NewUser, User, UserChanges};
use crate::store::audit::{self, Actor, Change};
use crate::store::constraint::UniqueKey;
use crate::store::regions;

/// The most regions one account may be bound to.
pub const MAX_REGIONS: usize = 100;
/// The longest display name.
const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// 3 to 32 of `a-z 0-9 . _ -`, starting with a letter or digit; stored lower-case.
    pub username: String,
    /// The name people read; the username when absent.
    pub display_name: Option<String>,
    pub role: Role,
    /// Region codes the account is bound to; required for every role but `admin`.
    pub regions: Vec<String>,
    /// At least 10 characters; not the username nor one of the commonest passwords.
    pub password: String,
}

/// Changes to an account: only the members to change.
#[derive(Debug, Clone)]
pub struct ChangeAccount {
    /// The account as read before the change.
    pub account: User,
    /// The version the change was made against; `None` changes whatever is stored.
    pub version: Option<i32>,
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub regions: Option<Vec<String>>,
    /// Disabling ends the account's sessions and stops its tokens.
    pub disabled: Option<bool>,
    /// A new password, under the same rules as at creation; ends the account's sessions.
    pub password: Option<String>,
}

/// What a change did.
#[derive(Debug, Clone)]
pub enum Update {
    /// The account as changed.
    Done(User),
    /// The stored version moved on since `version`: nothing was changed.
    Stale,
}

/// Lifting the sign-in lock of an account.
#[derive(Debug, Clone, Copy)]
pub struct UnlockAccount {
    pub id: i64,
}

/// A username as stored, or why it is refused.
pub fn valid_username(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_lowercase();
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    let ok_start = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if (3..=32).contains(&name.len()) && ok_chars && ok_start {
        Ok(name)
    } else {
        Err(
            "must be 3 to 32 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
                .to_owned(),
        )
    }
}

/// Region codes checked against the database, with their levels; errors name `regions[i]`.
async fn scopes_from(
    db: &impl ConnectionTrait,
    raw: &[String],
    role: Role,
) -> Result<(Vec<RegionCode>, Vec<Scope>), AccountsError> {
    if raw.len() > MAX_REGIONS {
        return Err(AccountsError::invalid(
            "regions",
            format!("at most {MAX_REGIONS} regions"),
        ));
    }
    let mut errors = Vec::new();
    let mut codes: Vec<RegionCode> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        match RegionCode::parse(r.trim()) {
            Ok(code) if !codes.contains(&code) => codes.push(code),
            Ok(_) => errors.push(FieldError::new(format!("regions[{i}]"), "is listed twice")),
            Err(e) => errors.push(FieldError::new(format!("regions[{i}]"), e.to_string())),
        }
    }
    if codes.is_empty() && errors.is_empty() && role != Role::Admin {
        errors.push(FieldError::new(
            "regions",
            format!("a {role} must be bound to at least one region"),
        ));
    }
    let levels = regions::levels_of(db, &codes.iter().collect::<Vec<_>>()).await?;
    let mut scopes = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        match levels.iter().find(|(c, _)| c == code) {
            Some((_, level)) => scopes.push(Scope::new(code.clone(), *level)),
            None => errors.push(FieldError::new(
                format!("regions[{i}]"),
                format!("no region {code}"),
            )),
        }
    }
    if errors.is_empty() {
        Ok((codes, scopes))
    } else {
        Err(AccountsError::Invalid {
            detail: "invalid regions".to_owned(),
            errors,
        })
    }
}

fn display_name(raw: &str) -> Result<String, AccountsError> {
    text::clean(Some(raw.to_owned()), MAX_DISPLAY_NAME_CHARS, false)
        .map_err(|m| AccountsError::invalid("display_name", m))?
        .ok_or_else(|| AccountsError::invalid("display_name", "must not be empty"))
}

/// The hash of a new password for `username`: invalid for a length out of bounds, weak for a
/// password too easy to guess.
async fn hash(password: String, username: &str) -> Result<String, AccountsError> {
    if let Some(problem) = secret::password_problem(&password) {
        return Err(AccountsError::invalid("password", problem));
    }
    if let Some(problem) = secret::guessable(&password, username) {
        return Err(AccountsError::WeakPassword(problem.to_owned()));
    }
    tokio::task::spawn_blocking(move || secret::hash_password(&password))
        .await
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))?
        .map_err(AccountsError::Internal)
}

/// The audit record of a change to `user`, filed under its first region.
fn change<'a>(
    user: &User,
    action: &'a str,
    before: Option<&'a UserView>,
    after: Option<&'a UserView>,
    actor: Actor,
    at: DateTime<Utc>,
) -> Change<'a, UserView> {
    Change {
        entity: "user",
        entity_id: user.id.to_string(),
        action,
        region_code: user.scopes.first().map(|s| s.code.to_string()),
        before,
        after,
        actor,
        at,
    }
}

/// The unique index on `users.username` (migration `m20261126_000005_create_accounts`).
pub const USERNAME_KEY: UniqueKey = UniqueKey {
    name: "uq_users_username",
    columns: "users.username",
};

/// A write's error: "username taken" only when it broke [`USERNAME_KEY`]; any other unique
/// violation stays a database error (it is not the username's fault).
fn taken(err: sea_orm::DbErr, username: &str) -> AccountsError {
    if USERNAME_KEY.violated_by(&err) {
        AccountsError::UsernameTaken(username.to_owned())
    } else {
        err.into()
    }
}

/// Creates an account, audited (`create`) in the same transaction. A signed-in account may
/// only create accounts that read nothing beyond its own regions.
///
/// # Errors
/// Invalid username, display name, regions or password; a weak password; a region-bound
/// caller reaching beyond its regions; a taken username; database errors.
pub async fn create_user(
    db: &DatabaseConnection,
    cmd: NewAccount,
    by: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<User, AccountsError> {
    let username =
        valid_username(&cmd.username).map_err(|m| AccountsError::invalid("username", m))?;
    let name = display_name(cmd.display_name.as_deref().unwrap_or(&username))?;
    let (codes, scopes) = scopes_from(db, &cmd.regions, cmd.role).await?;
    if let Some(principal) = by.principal() {
        let account = Resource::User {
            role: cmd.role,
            scopes: &scopes,
        };
        if can(Some(principal), Action::Create, account) != Decision::Allow {
            return Err(AccountsError::Forbidden(
                "you may only create accounts that read nothing beyond your own regions (a \
                 township official reads its whole county)"
                    .to_owned(),
            ));
        }
    }
    let password_hash = hash(cmd.password, &username).await?;
    let txn = crate::db::begin_write(db).await?;
    let user = accounts::insert_user(
        &txn,
        NewUser {
            username: username.clone(),
            display_name: name,
            role: cmd.role,
            password_hash,
            scopes: codes,
        },
        now,
    )
    .await
    .map_err(|e| taken(e, &username))?;
    let view = UserView::from(user.clone());
    audit::record(
        &txn,
        change(&user, "create", None, Some(&view), by.actor(), now),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Changes an account, audited (`update`, before and after) in the same transaction. A
/// signed-in account cannot disable or demote itself nor change its own regions, and may only
/// make accounts that read nothing beyond its own regions.
///
/// # Errors
/// Invalid fields; a weak password; a change beyond the caller's reach; database errors.
pub async fn update_user(
    db: &DatabaseConnection,
    cmd: ChangeAccount,
    by: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Update, AccountsError> {
    let current = cmd.account;
    let myself = by.principal().is_some_and(|p| p.user_id == current.id);
    if myself && cmd.disabled == Some(true) {
        return Err(AccountsError::invalid(
            "disabled",
            "you cannot disable your own account",
        ));
    }
    if myself && cmd.role.is_some_and(|r| r != Role::Admin) {
        return Err(AccountsError::invalid(
            "role",
            "you cannot take the admin role from yourself",
        ));
    }
    let role = cmd.role.unwrap_or(current.role);
    let mut changes = UserChanges {
        display_name: cmd.display_name.as_deref().map(display_name).transpose()?,
        role: cmd.role,
        disabled: cmd.disabled,
        ..UserChanges::default()
    };
    let scopes = if let Some(raw) = &cmd.regions {
        let (codes, scopes) = scopes_from(db, raw, role).await?;
        let sorted = |v: &[Scope]| {
            let mut codes: Vec<String> = v.iter().map(|s| s.code.to_string()).collect();
            codes.sort();
            codes
        };
        if myself && sorted(&scopes) != sorted(&current.scopes) {
            return Err(AccountsError::invalid(
                "regions",
                "you cannot change your own regions",
            ));
        }
        changes.scopes = Some(codes);
        scopes
    } else if role != Role::Admin && current.scopes.is_empty() {
        return Err(AccountsError::invalid(
            "regions",
            format!("a {role} must be bound to at least one region"),
        ));
    } else {
        current.scopes.clone()
    };
    // What the account becomes must stay within the admin's reach too (a viewer made a
    // township official would read its whole county). Changing nothing but one's own password
    // needs no such right: every account may do that.
    let own_password_only = myself
        && cmd.display_name.is_none()
        && cmd.role.is_none()
        && cmd.regions.is_none()
        && cmd.disabled.is_none();
    if let Some(principal) = by.principal().filter(|_| !own_password_only) {
        let becomes = Resource::User {
            role,
            scopes: &scopes,
        };
        if can(Some(principal), Action::Update, becomes) != Decision::Allow {
            return Err(AccountsError::Forbidden(
                "you may only make accounts that read nothing beyond your own regions (a \
                 township official reads its whole county)"
                    .to_owned(),
            ));
        }
    }
    if let Some(password) = cmd.password {
        changes.password_hash = Some(hash(password, &current.username).await?);
    }
    let txn = crate::db::begin_write(db).await?;
    let Some(updated) = accounts::update_user(&txn, current.id, cmd.version, changes, now).await?
    else {
        txn.rollback().await?;
        return Ok(Update::Stale);
    };
    let before = UserView::from(current);
    let after = UserView::from(updated.clone());
    audit::record(
        &txn,
        change(
            &updated,
            "update",
            Some(&before),
            Some(&after),
            by.actor(),
            now,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(Update::Done(updated))
}

/// Lifts the lock that failed sign-ins put on an account's username (see the sign-in
/// throttle), in one transaction with its audit record (action `unlock`); returns the account
/// and how many failures were forgotten (0: it was not locked). The lock on a client address
/// is not the account's and stays. A signed-in caller may unlock itself and the accounts it
/// manages.
///
/// # Errors
/// No such account (or not one the caller manages); database errors.
pub async fn unlock(
    db: &DatabaseConnection,
    cmd: UnlockAccount,
    by: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(User, u64), AccountsError> {
    let user = match accounts::find_user(db, cmd.id).await? {
        Some(u) if by.principal().is_some_and(|p| p.user_id == u.id) || by.manages(&u) => u,
        _ => return Err(AccountsError::NoUser(cmd.id)),
    };
    let txn = crate::db::begin_write(db).await?;
    let cleared = accounts::clear_failures(&txn, &user.username).await?;
    let view = UserView::from(user.clone());
    audit::record(
        &txn,
        change(&user, "unlock", None, Some(&view), by.actor(), now),
    )
    .await?;
    txn.commit().await?;
    Ok((user, cleared))
}

/// The account named `username` (as typed: trimmed, any case).
///
/// # Errors
/// No such account; database errors.
pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<User, AccountsError> {
    accounts::find_user_by_name(db, &username.trim().to_lowercase())
        .await?
        .ok_or_else(|| AccountsError::NoUserNamed(username.to_owned()))
}

/// Every account, in id order.
///
/// # Errors
/// Database errors.
pub async fn list_all(db: &impl ConnectionTrait) -> Result<Vec<User>, AccountsError> {
    Ok(accounts::list_users(db, None, i64::MAX.unsigned_abs()).await?)
}

/// Account `id`, if there is one (no access check: for readers that check it themselves).
///
/// # Errors
/// Database errors.
pub async fn find_user(db: &impl ConnectionTrait, id: i64) -> Result<Option<User>, sea_orm::DbErr> {
    accounts::find_user(db, id).await
}

/// The account named exactly `username` (already lower-cased), if there is one.
///
/// # Errors
/// Database errors.
pub async fn find_user_named(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<User>, sea_orm::DbErr> {
    accounts::find_user_by_name(db, username).await
}

/// At most `limit` accounts after `after_id`, in id order.
///
/// # Errors
/// Database errors.
pub async fn list_users(
    db: &impl ConnectionTrait,
    after_id: Option<i64>,
    limit: u64,
) -> Result<Vec<User>, sea_orm::DbErr> {
    accounts::list_users(db, after_id, limit).await
}

/// An account as the admin's pages show it: with its regions' names and its sign-in lock.
#[derive(Debug, Clone)]
pub struct ManagedAccount {
    pub user: User,
    /// Each region it is bound to: its code and name (the code again when it is not stored).
    pub regions: Vec<(String, String)>,
    /// Failed sign-ins for its username within the throttle's window.
    pub failures: u64,
    /// When the lock those failures put on its sign-in lifts, while there is one.
    pub locked_until: Option<DateTime<Utc>>,
}

/// The signed-in account if it manages accounts; the command line manages every account.
fn account_manager<'a>(by: &'a Acting<'_>) -> Result<Option<&'a Principal>, AccountsError> {
    match by.principal() {
        Some(p) if !crate::domain::policy::manages_accounts(p) => Err(AccountsError::Forbidden(
            "only admins manage accounts".to_owned(),
        )),
        principal => Ok(principal),
    }
}

/// `users` with their regions' names and sign-in locks at `now`.
async fn with_details(
    db: &impl ConnectionTrait,
    users: Vec<User>,
    now: DateTime<Utc>,
) -> Result<Vec<ManagedAccount>, AccountsError> {
    let mut codes: Vec<String> = users
        .iter()
        .flat_map(|u| u.scopes.iter().map(|s| s.code.to_string()))
        .collect();
    codes.sort();
    codes.dedup();
    let names = regions::find_models(db, &codes).await?;
    let usernames: Vec<String> = users.iter().map(|u| u.username.clone()).collect();
    let failures =
        accounts::failures_since(db, &usernames, now - super::sessions::THROTTLE_WINDOW).await?;
    Ok(users
        .into_iter()
        .map(|user| {
            let regions = user
                .scopes
                .iter()
                .map(|s| {
                    let code = s.code.to_string();
                    let name = names
                        .iter()
                        .find(|r| r.code == code)
                        .map_or_else(|| code.clone(), |r| r.name.clone());
                    (code, name)
                })
                .collect();
            let times = failures.get(&user.username).map_or(&[][..], Vec::as_slice);
            let limit = usize::try_from(accounts::USER_LIMIT).unwrap_or(usize::MAX);
            let locked_until = times
                .get(limit.saturating_sub(1))
                .map(|pivot| *pivot + super::sessions::THROTTLE_WINDOW);
            ManagedAccount {
                user,
                regions,
                failures: times.len() as u64,
                locked_until,
            }
        })
        .collect())
}

/// The accounts the acting admin manages (every one for the command line), in id order, with
/// their regions and sign-in locks at `now`.
///
/// # Errors
/// [`AccountsError::Forbidden`] for an account that manages none; database errors.
pub async fn managed_accounts(
    db: &impl ConnectionTrait,
    by: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<ManagedAccount>, AccountsError> {
    account_manager(by)?;
    let users: Vec<User> = list_all(db)
        .await?
        .into_iter()
        .filter(|u| by.manages(u))
        .collect();
    with_details(db, users, now).await
}

/// Account `id`, when the acting admin manages it, with its regions and sign-in lock at
/// `now`.
///
/// # Errors
/// [`AccountsError::Forbidden`] for an account that manages none; [`AccountsError::NoUser`]
/// when there is no such account or it is not one the acting admin manages; database errors.
pub async fn managed_account(
    db: &impl ConnectionTrait,
    id: i64,
    by: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<ManagedAccount, AccountsError> {
    account_manager(by)?;
    let user = match accounts::find_user(db, id).await? {
        Some(u) if by.manages(&u) => u,
        _ => return Err(AccountsError::NoUser(id)),
    };
    with_details(db, vec![user], now)
        .await?
        .pop()
        .ok_or(AccountsError::NoUser(id))
}

#[cfg(test)]
mod tests {
    use super::valid_username;

    #[test]
    fn usernames_are_lower_case_and_of_a_few_characters() {
        assert_eq!(valid_username("  Wang.Fang ").as_deref(), Ok("wang.fang"));
        assert_eq!(valid_username("a_1-b").as_deref(), Ok("a_1-b"));
        for bad in [
            "ab",
            ".abc",
            "-abc",
            "wang fang",
            "王芳abc",
            &"a".repeat(33),
        ] {
            assert!(valid_username(bad).is_err(), "{bad:?}");
        }
        assert!(valid_username(&"a".repeat(32)).is_ok());
    }
}

#[cfg(test)]
mod unique_tests {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database};

    use super::{AccountsError, taken};

    /// A table with the username's key and another unique column: only the username's
    /// violation is "username taken".
    #[tokio::test]
    async fn only_the_username_key_is_reported_as_username_taken() {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1);
        let db = Database::connect(options).await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL, \
             email TEXT NOT NULL UNIQUE); \
             CREATE UNIQUE INDEX uq_users_username ON users (username); \
             INSERT INTO users (username, email) VALUES ('wang.fang', 'a@example.org');",
        )
        .await
        .unwrap();
        let other = db
            .execute_unprepared(
                "INSERT INTO users (username, email) VALUES ('li.na', 'a@example.org')",
            )
            .await
            .unwrap_err();
        assert!(
            matches!(taken(other, "li.na"), AccountsError::Db(_)),
            "another unique key is not the username's"
        );
        let same = db
            .execute_unprepared(
                "INSERT INTO users (username, email) VALUES ('wang.fang', 'b@example.org')",
            )
            .await
            .unwrap_err();
        assert!(matches!(
            taken(same, "wang.fang"),
            AccountsError::UsernameTaken(name) if name == "wang.fang"
        ));
    }
}
