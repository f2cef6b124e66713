//! The one versioned update: load, If-Match, merge, validate, write `WHERE version = ?`,
//! audit, and "stale: here is the current row".
//!
//! Every versioned record (a `version` column bumped by each change, sent as the `ETag`) is
//! changed the same way:
//!
//! 1. the caller loads the row (and authorises the change) and passes it in with the version
//!    the client expects (its `If-Match`);
//! 2. when that version is not the row's, the answer is [`Outcome::Stale`] with the row as it
//!    is, and nothing runs;
//! 3. `prepare` merges the change over the row and validates it (it may read the database);
//!    its error ends the update;
//! 4. one write transaction runs `write`: the conditional `UPDATE … WHERE id = ? AND version =
//!    ?` and, in the same transaction, the audit record; `write` answers `None` when no row
//!    matched (someone else's change won between our read and our write);
//! 5. on `None` the transaction is rolled back and `reload` fetches the row as it now is, for
//!    [`Outcome::Stale`]; otherwise it commits and the answer is [`Outcome::Updated`].
//!
//! The helper knows nothing about HTTP: a handler renders `Updated` as 200 with the new ETag
//! and `Stale` as 412 with the current row. See `fleet::stations::update` for a use.

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};

/// A row with an optimistic-concurrency version.
pub trait Versioned {
    /// The version stored with the row (what its `ETag` carries).
    fn version(&self) -> i32;
}

impl Versioned for entity::station::Model {
    fn version(&self) -> i32 {
        self.version
    }
}

impl Versioned for entity::vehicle::Model {
    fn version(&self) -> i32 {
        self.version
    }
}

/// A row shown with another it is read with (a vehicle with its station): versioned by the
/// first.
impl<T: Versioned, U> Versioned for (T, U) {
    fn version(&self) -> i32 {
        self.0.version()
    }
}

/// How a versioned update ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// Written (or nothing needed writing): the row as it now is.
    Updated(T),
    /// The expected version was not the current one: the row as it now is, to show the client
    /// (412) so that it can merge and retry.
    Stale(T),
}

/// Runs one versioned update of `current`, expected at version `expected` (see the module
/// documentation for the steps).
///
/// # Errors
/// What `prepare`, `write` or `reload` return; the database fails opening or committing the
/// transaction.
pub async fn update<T, D, E>(
    db: &DatabaseConnection,
    current: T,
    expected: i32,
    prepare: impl AsyncFnOnce(&T) -> Result<D, E>,
    write: impl AsyncFnOnce(&DatabaseTransaction, &T, D) -> Result<Option<T>, E>,
    reload: impl AsyncFnOnce() -> Result<T, E>,
) -> Result<Outcome<T>, E>
where
    T: Versioned,
    E: From<DbErr>,
{
    if current.version() != expected {
        return Ok(Outcome::Stale(current));
    }
    let draft = prepare(&current).await?;
    let txn = crate::db::begin_write(db).await?;
    match write(&txn, &current, draft).await? {
        Some(written) => {
            txn.commit().await?;
            Ok(Outcome::Updated(written))
        }
        None => {
            txn.rollback().await?;
            Ok(Outcome::Stale(reload().await?))
        }
    }
}
