//! Opening the database and keeping its schema current.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::{DatabaseArgs, redact_url};

/// Whether opening a SQLite database may create its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// `serve` and `migrate`: as the URL says (the default URL's `mode=rwc` creates it).
    AsTheUrlSays,
    /// Every other command: a missing file is an error, whatever the URL's `mode`, so that a
    /// command run in the wrong folder does not leave an empty database there.
    Never,
}

/// The file a SQLite URL names, or `None` for another database or an in-memory one.
///
/// # Errors
/// A SQLite URL that does not parse.
pub fn sqlite_file(url: &str) -> Result<Option<PathBuf>, DbErr> {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(None);
    };
    // Parsed by sqlx itself, so that the file is the one it would open.
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbErr::Custom(format!("the SQLite URL: {e}")))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path == ":memory:"
        || url::form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "mode" && v == "memory");
    Ok((!in_memory).then(|| options.get_filename().to_path_buf()))
}

/// Opens a pool on an existing database, never creating one (see [`Create::Never`]).
///
/// # Errors
/// The SQLite file does not exist (the message names the database and says how to make it),
/// or the database cannot be opened or reached.
pub async fn connect_existing(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    if let Some(file) = sqlite_file(&args.database_url)?
        && !file.exists()
    {
        anyhow::bail!(
            "database {} does not exist; run `donornet serve` or `donornet migrate` first \
             (or give --database-url)",
            redact_url(&args.database_url)
        );
    }
    connect_with(args, Create::Never).await.map_err(|e| {
        anyhow::Error::new(e).context(format!(
            "cannot open the database {}",
            redact_url(&args.database_url)
        ))
    })
}

/// Opens a pool on the configured database, creating a SQLite file when the URL says so.
///
/// # Errors
/// The database cannot be opened or reached.
pub async fn connect(args: &DatabaseArgs) -> Result<DatabaseConnection, DbErr> {
    connect_with(args, Create::AsTheUrlSays).await
}

/// Opens a pool on the configured database.
///
/// SQLite runs in WAL mode so that readers (the API) and one writer (an import, an edit) work
/// side by side, with a busy timeout so that a second writer waits instead of failing. The
/// pool has several connections on purpose: sea-orm's default for SQLite is one, which would
/// serialise every request behind the slowest.
///
/// # Errors
/// The database cannot be opened or reached.
pub async fn connect_with(
    args: &DatabaseArgs,
    create: Create,
) -> Result<DatabaseConnection, DbErr> {
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
        .map_sqlx_sqlite_opts(move |opts| {
            let opts = match create {
                Create::AsTheUrlSays => opts,
                Create::Never => opts.create_if_missing(false),
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_a_sqlite_url_names_is_found_and_memory_and_postgres_have_none() {
        let file = |url: &str| sqlite_file(url).unwrap();
        assert_eq!(
            file(crate::config::DEFAULT_DATABASE_URL),
            Some(PathBuf::from("donornet.db"))
        );
        assert_eq!(
            file("sqlite:///var/lib/donornet/main.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/donornet/main.db"))
        );
        assert_eq!(
            file("sqlite://my%20data.db"),
            Some(PathBuf::from("my data.db"))
        );
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("sqlite://shared?mode=memory"), None);
        assert_eq!(file("postgres://app:secret@db.example/donornet"), None);
        assert!(sqlite_file("sqlite://x.db?colour=blue").is_err());
    }
}
