//! Service status for people and machines: `GET /health` (liveness and database
//! reachability, with the version), `GET /livez` and `GET /readyz` for a load balancer, and
//! `GET /metrics` for Prometheus.

use axum::Json;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::backend_name;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(livez))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
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

/// Liveness: the process answers requests. Reads nothing, so a slow or unreachable database
/// never makes a load balancer restart a healthy process.
#[utoipa::path(
    get,
    path = "/livez",
    tag = "health",
    responses((status = 200, description = "The process answers", body = String, content_type = "text/plain"))
)]
async fn livez() -> &'static str {
    "ok"
}

/// Readiness: this instance can serve, its database answering within 2 seconds. A load
/// balancer sends requests only to instances that are ready.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = String, content_type = "text/plain"),
        (status = 503, description = "The database is unreachable", body = String, content_type = "text/plain"),
    )
)]
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let up = tokio::time::timeout(Duration::from_secs(2), state.db.ping())
        .await
        .is_ok_and(|ping| ping.is_ok());
    if up {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// Prometheus metrics in the text format (0.0.4): requests by route and status with their
/// latency (this instance's), and plans, outbox messages and bookings by status (the
/// database's, the same from every instance). Needs `--metrics-token` set and sent as a bearer
/// token; without it configured, 404.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "text/plain"),
        (status = 401, description = "Missing or wrong bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Metrics are not enabled (no --metrics-token)", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let Some(token) = &state.http.metrics_token else {
        return Err(AppError::NotFound("no such route".to_owned()));
    };
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !token.matches(offered.trim()) {
        return Err(AppError::Unauthorized(
            "send the metrics token as `Authorization: Bearer …`".to_owned(),
        ));
    }
    let counts = crate::reports::operations::counts(&state.db).await?;
    let body = state.metrics.render(&counts);
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], body).into_response())
}
