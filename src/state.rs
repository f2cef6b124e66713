//! The state every handler shares.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// Where appeals to chat groups go (WeCom group robots), whatever `sender` is.
    pub wecom: Arc<crate::appeals::wecom::WeCom>,
    /// Where `now` comes from for the rules that depend on the day (a drive's date).
    pub clock: Clock,
    /// Accounts with a survey sheet upload in progress (one at a time each).
    pub sheet_uploads: Arc<OnePerAccount>,
    /// Survey sheets uploaded through the pages, kept between their preview and the
    /// official's confirmation (one per account).
    pub kept_sheets: Arc<KeptSheets>,
    /// Requests by route and status, and their latency, for `GET /metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
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

/// How long an uploaded sheet waits for its confirmation.
pub const KEPT_SHEET_TTL: Duration = Duration::from_secs(60 * 60);

/// A survey sheet uploaded through the pages and kept, as sent, until the official confirms
/// (or cancels) what its preview showed: the bytes are sent once, on a weak signal too, and
/// the confirmation imports exactly what was previewed.
#[derive(Debug, Clone)]
pub struct KeptSheet {
    pub account: i64,
    /// The region the sheet was uploaded for, as given.
    pub region: String,
    /// `csv` or `xlsx`.
    pub format: String,
    /// The file's name as the browser sent it (shown on the preview).
    pub file_name: String,
    pub bytes: Arc<Vec<u8>>,
}

/// The kept sheets by their (random) key: at most one per account (a new upload replaces the
/// account's previous one), each for at most [`KEPT_SHEET_TTL`]; so this holds at most one
/// body-limit's worth of bytes per account. In memory: a restart forgets them, and the
/// preview then asks for the file again.
#[derive(Debug, Default)]
pub struct KeptSheets {
    kept: Mutex<HashMap<String, (Instant, KeptSheet)>>,
}

impl KeptSheets {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, KeptSheet)>> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps `sheet` under `key` (a random secret), in place of the account's previous one.
    pub fn keep(&self, key: String, sheet: KeptSheet) {
        let mut kept = self.lock();
        let now = Instant::now();
        kept.retain(|_, (at, s)| {
            s.account != sheet.account && now.duration_since(*at) < KEPT_SHEET_TTL
        });
        kept.insert(key, (now, sheet));
    }

    /// The sheet kept under `key` for `account` (none for another account's key, or once it
    /// expired).
    pub fn get(&self, key: &str, account: i64) -> Option<KeptSheet> {
        let kept = self.lock();
        kept.get(key)
            .filter(|(at, s)| s.account == account && at.elapsed() < KEPT_SHEET_TTL)
            .map(|(_, s)| s.clone())
    }

    /// Forgets the sheet kept under `key` for `account`.
    pub fn forget(&self, key: &str, account: i64) {
        let mut kept = self.lock();
        if kept.get(key).is_some_and(|(_, s)| s.account == account) {
            kept.remove(key);
        }
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

    fn sheet(account: i64) -> KeptSheet {
        KeptSheet {
            account,
            region: "411103101000".to_owned(),
            format: "csv".to_owned(),
            file_name: "a.csv".to_owned(),
            bytes: Arc::new(b"x".to_vec()),
        }
    }

    #[test]
    fn a_kept_sheet_is_its_accounts_only_and_replaced_by_the_next() {
        let kept = KeptSheets::default();
        kept.keep("k1".to_owned(), sheet(7));
        kept.keep("k2".to_owned(), sheet(8));
        assert!(kept.get("k1", 7).is_some());
        assert!(
            kept.get("k1", 8).is_none(),
            "another account's key finds nothing"
        );
        kept.forget("k1", 8);
        assert!(kept.get("k1", 7).is_some(), "nor forgets it");
        kept.keep("k3".to_owned(), sheet(7));
        assert!(
            kept.get("k1", 7).is_none(),
            "replaced by the account's next upload"
        );
        assert!(kept.get("k3", 7).is_some());
        assert!(kept.get("k2", 8).is_some(), "other accounts keep theirs");
        kept.forget("k3", 7);
        assert!(kept.get("k3", 7).is_none());
    }
}
