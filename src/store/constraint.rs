//! Which constraint a failed write broke, on SQLite and PostgreSQL alike, so that a service
//! can turn a unique violation into an error naming the right field (a plate already taken)
//! instead of guessing from "some unique violation".
//!
//! PostgreSQL names the violated constraint or unique index (`uq_vehicles_plate`); SQLite
//! names only the columns (`UNIQUE constraint failed: vehicles.plate`). A [`UniqueKey`] knows
//! both spellings of one key.

use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// A unique constraint or index as each backend reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqueKey {
    /// The constraint's or index's name, as the migration gives it (PostgreSQL reports it).
    pub name: &'static str,
    /// Its columns as SQLite reports them: `table.column`, comma-and-space separated.
    pub columns: &'static str,
}

impl UniqueKey {
    /// True when `err` is a unique violation of this key.
    pub fn violated_by(&self, err: &DbErr) -> bool {
        match unique_violation(err) {
            Some(Violated::Name(name)) => name == self.name,
            Some(Violated::Columns(columns)) => columns == self.columns,
            None => false,
        }
    }
}

/// What a backend says a unique violation was about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violated {
    /// The constraint's or index's name (PostgreSQL).
    Name(String),
    /// The columns, `table.column[, table.column…]` (SQLite).
    Columns(String),
}

/// The unique constraint `err` violates, if it is a unique violation.
pub fn unique_violation(err: &DbErr) -> Option<Violated> {
    let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err() else {
        return None;
    };
    if let Some(name) = constraint_name(err) {
        return Some(Violated::Name(name));
    }
    sqlite_columns(&message).map(|c| Violated::Columns(c.to_owned()))
}

/// The constraint the database error names (PostgreSQL fills it in; SQLite does not).
fn constraint_name(err: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx))) =
        err
    else {
        return None;
    };
    sqlx.as_database_error()
        .and_then(|db| db.constraint())
        .map(str::to_owned)
}

/// The columns of SQLite's `UNIQUE constraint failed: vehicles.plate` (anywhere in the text).
fn sqlite_columns(message: &str) -> Option<&str> {
    const MARKER: &str = "UNIQUE constraint failed: ";
    let (_, rest) = message.split_once(MARKER)?;
    let columns = rest.split(['\n', '(']).next().unwrap_or(rest).trim();
    (!columns.is_empty()).then_some(columns)
}

#[cfg(test)]
mod tests {
    use super::sqlite_columns;

    #[test]
    fn sqlite_messages_name_their_columns() {
        for (message, columns) in [
            (
                "error returned from database: (code: 2067) UNIQUE constraint failed: vehicles.plate",
                Some("vehicles.plate"),
            ),
            (
                "UNIQUE constraint failed: drives.vehicle_id, drives.date",
                Some("drives.vehicle_id, drives.date"),
            ),
            ("NOT NULL constraint failed: vehicles.plate", None),
        ] {
            assert_eq!(sqlite_columns(message), columns, "{message}");
        }
    }
}
