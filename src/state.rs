//! The state every handler shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::HttpConfig;

/// Cloned into each request: the pool and the configuration (cheap clones: both are shared).
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub http: Arc<HttpConfig>,
}
