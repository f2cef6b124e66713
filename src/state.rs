//! The state every handler shares.

use std::sync::Arc;

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
}
