//! Accounts as a service (issue 13): users, API tokens and sign-in. The rules (usernames,
//! display names, regions, passwords, token names and lifetimes, the sign-in throttle), the
//! audit record and the transaction boundary of each use case live here; the HTTP handlers
//! (`/api/v1/users`, `/api/v1/tokens`, `/api/v1/auth/*`) and the command line (`donornet user
//! …`, `donornet token create`) call these functions with their own inputs converted into the
//! commands below, and turn [`AccountsError`] into their answers.
//!
//! - [`users`]: create, change, unlock, look up accounts;
//! - [`tokens`]: issue, list and revoke API tokens;
//! - [`sessions`]: sign in and sign out (browser sessions).

pub mod sessions;
pub mod tokens;
pub mod users;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::account::{Principal, Role};
use crate::domain::policy::{Action, Decision, Resource, can};
use crate::error::FieldError;
pub use crate::store::accounts::User;
use crate::store::audit::Actor;

pub use sessions::{SignIn, SignedIn, sign_in, sign_out};
pub use tokens::{IssueToken, RevokeToken, TokenView, issue_token, list_tokens, revoke_token};
pub use users::{
    ChangeAccount, NewAccount, Update, create_user, find_by_username, unlock, update_user,
    valid_username,
};

/// Who asks for an account change: a signed-in account (whose reach the rules check), or the
/// command line on the server itself (which may do anything).
#[derive(Clone, Debug)]
pub enum Acting<'a> {
    /// A signed-in account; `actor` is what the audit log names (with its token, if any).
    Account {
        principal: &'a Principal,
        actor: Actor,
    },
    /// `donornet user …` / `donornet token …` on the server.
    CommandLine,
}

impl Acting<'_> {
    /// Who the audit log names.
    pub fn actor(&self) -> Actor {
        match self {
            Acting::Account { actor, .. } => actor.clone(),
            Acting::CommandLine => Actor::command_line(),
        }
    }

    /// The signed-in account, if any.
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Acting::Account { principal, .. } => Some(principal),
            Acting::CommandLine => None,
        }
    }

    /// May this caller manage `user` (the command line manages everyone)?
    fn manages(&self, user: &User) -> bool {
        self.principal().is_none_or(|p| manages(p, user))
    }
}

/// Why an account use case was refused. Independent of HTTP: `crate::error` maps it into
/// `AppError` (one `From` impl), the command line words it for a terminal.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// Input that does not validate; names every offending field.
    #[error("{detail}")]
    Invalid {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// A password of a valid length that is too easy to guess (the username, one of the
    /// commonest passwords).
    #[error("the password {0}")]
    WeakPassword(String),
    /// The acting account may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such account (or not one the acting account manages).
    #[error("no user {0}")]
    NoUser(i64),
    /// No account of that name (as typed).
    #[error("no user named {0}")]
    NoUserNamed(String),
    /// No such token (or not one the acting account manages).
    #[error("no token {0}")]
    NoToken(i64),
    /// The signed-in account no longer exists.
    #[error("the account is gone")]
    AccountGone,
    /// The account is disabled.
    #[error("{0} is disabled")]
    Disabled(String),
    /// The username is in use.
    #[error("the username {0} is taken")]
    UsernameTaken(String),
    /// The owner has a live token of that name.
    #[error("this account already has a live token of that name")]
    TokenNameTaken,
    /// A wrong username or password (which of the two is not told).
    #[error("wrong username or password")]
    WrongCredentials,
    /// Too many failed sign-ins; free again after `retry_after_secs`.
    #[error("too many failed sign-ins; try again in {} minute(s)", .retry_after_secs.div_ceil(60))]
    Throttled { retry_after_secs: u64 },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// A fault of ours (hashing, randomness).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AccountsError {
    /// A validation error on one field (`invalid field: message`).
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AccountsError::Invalid {
            detail: format!("invalid {field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }
}

/// May `principal` manage `user` (everything `user` reads is within its own reach)?
pub fn manages(principal: &Principal, user: &User) -> bool {
    let account = Resource::User {
        role: user.role,
        scopes: &user.scopes,
    };
    can(Some(principal), Action::Update, account) == Decision::Allow
}

/// An account as shown to those who manage it and as recorded in the audit log (never with its
/// password or hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The regions (subtrees) the account is bound to; empty for an unbound admin.
    pub regions: Vec<String>,
    pub disabled: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            regions: u.scopes.into_iter().map(|s| s.code.to_string()).collect(),
            disabled: u.disabled,
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login_at: u.last_login_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AccountsError;
    use crate::error::AppError;

    #[test]
    fn errors_become_the_answers_the_api_gave_before() {
        let taken = AppError::from(AccountsError::UsernameTaken("wang.fang".to_owned()));
        assert_eq!(taken.status().as_u16(), 409);
        assert!(
            matches!(&taken, AppError::Taken { field, detail }
                if field == "username" && detail == "that username is taken"),
            "{taken:?}"
        );
        let throttled = AppError::from(AccountsError::Throttled {
            retry_after_secs: 61,
        });
        assert!(
            matches!(&throttled, AppError::TooManyRequests { detail, retry_after_secs: 61 }
                if detail == "too many failed sign-ins; try again in 2 minute(s)"),
            "{throttled:?}"
        );
        let invalid = AppError::from(AccountsError::invalid("password", "is too short"));
        assert!(
            matches!(&invalid, AppError::Validation { detail, errors }
                if detail == "invalid password: is too short"
                    && errors.len() == 1 && errors[0].field == "password"),
            "{invalid:?}"
        );
        assert_eq!(
            AppError::from(AccountsError::NoToken(7)).status().as_u16(),
            404
        );
        assert_eq!(
            AppError::from(AccountsError::WrongCredentials).to_string(),
            "wrong username or password"
        );
        assert_eq!(
            AppError::from(AccountsError::WeakPassword("is too common".to_owned()))
                .status()
                .as_u16(),
            422
        );
    }
}
