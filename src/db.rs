//! Opening the database and keeping its schema current.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::{DatabaseArgs, redact_url};

/// Opens a pool on the configured database.
///
/// SQLite runs in WAL mode so that readers (the API) and one writer (an import, an edit) work
/// side by side, with a busy timeout so that a second writer waits instead of failing. The
/// pool has several connections on purpose: sea-orm's default for SQLite is one, which would
/// serialise every request behind the slowest.
///
/// # Errors
/// The database cannot be opened or reached.
pub async fn connect(args: &DatabaseArgs) -> Result<DatabaseConnection, DbErr> {
    let is_sqlite = args.database_url.starts_with("sqlite:");
    let mut options = ConnectOptions::new(args.database_url.clone());
    options
        .max_connections(
            args.db_max_connections
                .unwrap_or(if is_sqlite { 8 } else { 16 }),
        )
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    tracing::debug!(url = %redact_url(&args.database_url), "connecting to the database");
    Database::connect(options).await
}

/// Applies every pending migration.
///
/// # Errors
/// A migration failed; it is rolled back where the backend allows.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: it takes the write
/// lock up front (waiting up to the busy timeout for another writer), so that a transaction
/// that reads before it writes cannot fail half-way with a stale snapshot.
///
/// # Errors
/// The database cannot be reached, or stays locked past the busy timeout.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// On SQLite, the turn to write: writers queue here, in the process, for the one write lock,
/// so the next starts the moment the previous commits instead of sleeping in SQLite's busy
/// handler (1, 2, 5, 10… ms between tries), which leaves the lock idle under load. Hold the
/// guard until the transaction commits. `None` on PostgreSQL, whose writers lock rows, not
/// the database. One process serves one database, so one queue serves every connection.
pub async fn write_turn(db: &DatabaseConnection) -> Option<tokio::sync::MutexGuard<'static, ()>> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    match db.get_database_backend() {
        DbBackend::Sqlite => Some(TURN.lock().await),
        _ => None,
    }
}

/// `"sqlite"` or `"postgres"`, as `/health` reports it.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}
