//! `rate_limits`: hits per key in fixed windows, counted by the database so that every
//! instance sharing it counts together.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TryGetable};

/// Counts one hit for `key` at `now` in windows of `window`: the hits in the key's current
/// window (this one included) and when that window began. One statement (an upsert returning
/// the row), so concurrent hits, from any instance, are all counted.
pub async fn hit(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<(i32, DateTime<Utc>), DbErr> {
    let backend = db.get_database_backend();
    let cutoff = now - window;
    // A window that began at or before `cutoff` is over: the hit starts a new one.
    let (sql, values) = match backend {
        DbBackend::Postgres => (
            "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 \
                           ELSE rate_limits.hits + 1 END, \
               window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 \
                                   ELSE rate_limits.window_start END \
             RETURNING hits, window_start",
            vec![key.into(), now.into(), cutoff.into()],
        ),
        _ => (
            "INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN rate_limits.window_start <= ? THEN 1 \
                           ELSE rate_limits.hits + 1 END, \
               window_start = CASE WHEN rate_limits.window_start <= ? THEN ? \
                                   ELSE rate_limits.window_start END \
             RETURNING hits, window_start",
            vec![
                key.into(),
                now.into(),
                cutoff.into(),
                cutoff.into(),
                now.into(),
            ],
        ),
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the upsert returned no row".to_owned()))?;
    Ok((
        i32::try_get(&row, "", "hits").map_err(DbErr::from)?,
        DateTime::<Utc>::try_get(&row, "", "window_start").map_err(DbErr::from)?,
    ))
}

/// Forgets the keys whose window began before `before` (they would start afresh anyway).
pub async fn forget_before(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "DELETE FROM rate_limits WHERE window_start < $1",
        _ => "DELETE FROM rate_limits WHERE window_start < ?",
    };
    Ok(db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [before.into()],
        ))
        .await?
        .rows_affected())
}
