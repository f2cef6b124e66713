//! The state every handler shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::HttpConfig;
use crate::plans::runs::PlanRuns;

/// Cloned into each request: the pool, the configuration and the plans being solved (cheap
/// clones: all are shared).
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub http: Arc<HttpConfig>,
    pub plans: Arc<PlanRuns>,
}
