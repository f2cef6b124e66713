//! `GET /health`: liveness and database reachability.

use axum::Json;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::backend_name;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database cannot be reached.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub database: &'static str,
    /// The donornet version.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
}

/// Reports whether the service and its database are up.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses(
        (status = 200, description = "Service and database are up", body = Health),
        (status = 503, description = "The database is unreachable", body = Health),
    )
)]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    // A short bound: an unreachable database must not keep a health check waiting for the
    // pool's acquire timeout.
    let up = tokio::time::timeout(Duration::from_secs(2), state.db.ping())
        .await
        .is_ok_and(|ping| ping.is_ok());
    let body = Health {
        status: if up { "ok" } else { "unavailable" },
        database: backend_name(&state.db),
        version: env!("CARGO_PKG_VERSION"),
    };
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
