//! The state every handler shares.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use governor::DefaultKeyedRateLimiter;

use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::config::HttpConfig;
use crate::outbox::Sender;
use crate::plans::runs::PlanRuns;

/// Cloned into each request: the pool, the configuration and the plans being solved (cheap
/// clones: all are shared).
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub http: Arc<HttpConfig>,
    pub plans: Arc<PlanRuns>,
    /// Where messages to donors go (`POST /api/v1/outbox/run` uses it too).
    pub sender: Arc<dyn Sender>,
    /// Anonymous bookings per client address (`None`: no limit).
    pub booking_limiter: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// Where `now` comes from for the rules that depend on the day (a drive's date).
    pub clock: Clock,
    /// Accounts with a survey sheet upload in progress (one at a time each).
    pub sheet_uploads: Arc<OnePerAccount>,
}

/// At most one piece of some work per account at a time: [`OnePerAccount::try_start`] gives a
/// [`Slot`] that frees itself when dropped (also when the request is cancelled or panics).
#[derive(Debug, Default)]
pub struct OnePerAccount {
    busy: Mutex<HashSet<i64>>,
}

impl OnePerAccount {
    /// A slot for `account`, or `None` while the account holds one already.
    pub fn try_start(self: &Arc<Self>, account: i64) -> Option<Slot> {
        let mut busy = self
            .busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        busy.insert(account).then(|| Slot {
            owner: Arc::clone(self),
            account,
        })
    }
}

/// An account's turn; dropping it ends the turn.
#[derive(Debug)]
pub struct Slot {
    owner: Arc<OnePerAccount>,
    account: i64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut busy = self
            .owner
            .busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        busy.remove(&self.account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_slot_per_account_freed_on_drop() {
        let slots = Arc::new(OnePerAccount::default());
        let first = slots.try_start(7).expect("free");
        assert!(slots.try_start(7).is_none(), "the same account waits");
        let other = slots.try_start(8).expect("another account is not held up");
        drop(first);
        assert!(
            slots.try_start(7).is_some(),
            "free again after the first ended"
        );
        drop(other);
    }
}
