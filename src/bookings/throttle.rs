//! The public booking limit per client address, counted in the database so that it holds
//! across every instance sharing it (a province's instances behind a load balancer).

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;

use super::BookingsError;
use crate::store::rate_limits;

/// The window the limit counts in.
pub const WINDOW: Duration = Duration::minutes(1);

/// Counts one anonymous booking request (new, cancel, move) from `address` at `now`; refuses it
/// when it is beyond `per_minute` in the address's current minute. `per_minute` 0: no limit.
///
/// # Errors
/// [`BookingsError::TooOften`] with the seconds until the window ends; the database fails.
pub async fn public_request(
    db: &impl ConnectionTrait,
    address: &str,
    per_minute: u32,
    now: DateTime<Utc>,
) -> Result<(), BookingsError> {
    if per_minute == 0 {
        return Ok(());
    }
    // Addresses are at most 45 characters (IPv6); the key stays within its column anyway.
    let key: String = format!("booking:{address}").chars().take(120).collect();
    let (hits, since) = rate_limits::hit(db, &key, now, WINDOW).await?;
    if i64::from(hits) <= i64::from(per_minute) {
        return Ok(());
    }
    let left = (since + WINDOW - now).num_milliseconds().max(1);
    let retry_after_secs = u64::try_from((left + 999) / 1000).unwrap_or(1).max(1);
    tracing::warn!(%address, "booking rate limit");
    Err(BookingsError::TooOften { retry_after_secs })
}

/// Forgets counts older than an hour (the outbox run calls it).
///
/// # Errors
/// The database fails.
pub async fn forget_old(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    rate_limits::forget_before(db, now - Duration::hours(1)).await
}
