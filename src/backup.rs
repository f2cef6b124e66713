//! `donornet backup FILE`: a consistent copy of the whole database while `serve` keeps running.
//!
//! - SQLite: `VACUUM INTO`, which reads one snapshot of the database (writers carry on, in WAL
//!   mode) and writes a compact SQLite file. Restoring is copying that file into place while
//!   donornet is stopped, or pointing `--database-url` at it.
//! - PostgreSQL: `pg_dump --format=custom` (one snapshot too), restored with `pg_restore` into
//!   an empty database (README, "Backups").
//!
//! The copy is written beside `FILE` under a temporary name and renamed when it is complete,
//! so a failed or interrupted backup never leaves a file that looks like a backup. An existing
//! `FILE` is never overwritten.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub file: PathBuf,
    pub bytes: u64,
    /// `sqlite` or `pg_dump`.
    pub method: &'static str,
}

/// Backs up the database `conn` (opened on `url`) to `file`. `pg_dump` is the program run for
/// PostgreSQL (a path, or a name looked up on the `PATH`).
///
/// # Errors
/// `file` exists or its folder does not; the database cannot be read; `pg_dump` is missing or
/// fails (its message is passed on).
pub async fn backup(
    conn: &DatabaseConnection,
    url: &str,
    file: &Path,
    pg_dump: &str,
) -> anyhow::Result<Written> {
    if file.exists() {
        bail!(
            "{} already exists; a backup never overwrites a file (move it or pick another name)",
            file.display()
        );
    }
    let partial = partial_name(file)?;
    let _ = std::fs::remove_file(&partial);
    let method = match conn.get_database_backend() {
        DbBackend::Sqlite => {
            let into = partial
                .to_str()
                .context("the backup file's path must be valid UTF-8")?
                .to_owned();
            let done = conn
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "VACUUM INTO ?",
                    [into.into()],
                ))
                .await;
            if let Err(e) = done {
                let _ = std::fs::remove_file(&partial);
                return Err(e).context("SQLite could not write the copy");
            }
            "sqlite"
        }
        DbBackend::Postgres => {
            // The password goes in the environment, not on the command line (which every
            // local user can read).
            let (url, password) = without_password(url);
            let mut command = Command::new(pg_dump);
            if let Some(password) = password {
                command.env("PGPASSWORD", password);
            }
            let out = command
                .arg("--format=custom")
                .arg("--no-owner")
                .arg("--file")
                .arg(&partial)
                .arg("--dbname")
                .arg(&url)
                .output()
                .with_context(|| {
                    format!(
                        "could not run {pg_dump:?}: install PostgreSQL's client programs \
                         (Debian: postgresql-client) or name the program with --pg-dump"
                    )
                })?;
            if !out.status.success() {
                let _ = std::fs::remove_file(&partial);
                bail!(
                    "pg_dump failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            "pg_dump"
        }
        other => bail!("backups of {other:?} databases are not supported"),
    };
    // A hard link fails when the name has been taken meanwhile, where a rename would replace it.
    std::fs::hard_link(&partial, file)
        .with_context(|| format!("could not name the copy {}", file.display()))?;
    let _ = std::fs::remove_file(&partial);
    let bytes = std::fs::metadata(file)?.len();
    Ok(Written {
        file: file.to_path_buf(),
        bytes,
        method,
    })
}

/// The URL without its password, and the password (percent-decoded).
fn without_password(url: &str) -> (String, Option<String>) {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let password = parsed.password().map(percent_decoded);
            let _ = parsed.set_password(None);
            (parsed.to_string(), password)
        }
        _ => (url.to_owned(), None),
    }
}

/// `%XX` escapes decoded (a URL's password is percent-encoded; `+` stays `+`).
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `FILE.partial` in the same folder (so the final rename stays on one file system).
fn partial_name(file: &Path) -> anyhow::Result<PathBuf> {
    let name = file
        .file_name()
        .with_context(|| format!("{} is not a file name", file.display()))?;
    let folder = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        bail!("the folder {} does not exist", folder.display());
    }
    let mut partial = name.to_os_string();
    partial.push(".partial");
    Ok(folder.join(partial))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let (url, password) = without_password("postgres://ops:p%40ss+w%2Frd@db:5432/donornet");
        assert_eq!(url, "postgres://ops@db:5432/donornet");
        assert_eq!(password.as_deref(), Some("p@ss+w/rd"));
        let (url, password) = without_password("postgres://postgres@127.0.0.1/donornet");
        assert_eq!(url, "postgres://postgres@127.0.0.1/donornet");
        assert_eq!(password, None);
    }
}
