//! donornet: the rural blood-donor network of a city blood station.
//!
//! - `domain`: pure rules (division codes and levels), no I/O;
//! - `store`: persistence over sea-orm;
//! - `import`: bulk loads (the official division table);
//! - `surveys`: village donor surveys (the uploaded/downloaded survey sheets);
//! - `accounts`: users, API tokens and sign-in as a service;
//! - `checkin`: check-in, outcomes and results as a service;
//! - `drives`: drives (lifecycle) and their checklists as a service;
//! - `fleet`: stations and vehicles as a service; `versioned`: the one versioned update;
//! - `planning`: the drive planner, pure; `plans`: plans as a service (requests, background
//!   runs, exports); `registry`: regions, points and coordinators as a service; `reports`: the
//!   summary, coverage and gaps of a region as a service;
//! - `api`: axum handlers, thin, one module per resource; `web`: the pages, as thin, on the
//!   same services; `http`: the middleware around both; `i18n`: the message catalogues;
//! - `error`: the one `AppError`, rendered as problem+json; `validation`: field rules derived
//!   with `validator`, as named field errors;
//! - `config`, `db`, `telemetry`, `state`, `seed`: wiring.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod appeals;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bookings;
pub mod checkin;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod drives;
pub mod error;
pub mod fleet;
pub mod geo;
pub mod http;
pub mod i18n;
pub mod import;
pub mod inventory;
pub mod metrics;
pub mod outbox;
pub mod planfile;
pub mod planning;
pub mod plans;
pub mod recruitment;
pub mod registry;
pub mod reports;
pub mod seed;
pub mod state;
pub mod store;
pub mod surveys;
pub mod telemetry;
pub mod validation;
pub mod versioned;
pub mod web;

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

pub use config::{Cli, HttpConfig};
pub use state::AppState;

/// The application router over an open, migrated database, sending messages to the log.
pub fn build_app(db: DatabaseConnection, http: HttpConfig) -> axum::Router {
    build_app_with(db, http, Arc::new(outbox::LogSender))
}

/// The application router, with messages to donors going to `sender`.
pub fn build_app_with(
    db: DatabaseConnection,
    http: HttpConfig,
    sender: Arc<dyn outbox::Sender>,
) -> axum::Router {
    build_app_with_clock(db, http, sender, clock::Clock::system())
}

/// As [`build_app_with`], reading the time from `clock` (tests set it to a day).
pub fn build_app_with_clock(
    db: DatabaseConnection,
    http: HttpConfig,
    sender: Arc<dyn outbox::Sender>,
    clock: clock::Clock,
) -> axum::Router {
    let wecom = appeals::wecom::WeCom::new(appeals::wecom::DEFAULT_URL)
        .expect("the TLS configuration of the WeCom client");
    build_app_full(db, http, sender, Arc::new(wecom), clock)
}

/// As [`build_app_with_clock`], with appeals to chat groups posted through `wecom`.
pub fn build_app_full(
    db: DatabaseConnection,
    http: HttpConfig,
    sender: Arc<dyn outbox::Sender>,
    wecom: Arc<appeals::wecom::WeCom>,
    clock: clock::Clock,
) -> axum::Router {
    let state = AppState {
        db,
        http: Arc::new(http),
        plans: Arc::new(plans::runs::PlanRuns::default()),
        sender,
        wecom,
        clock,
        sheet_uploads: Arc::default(),
        kept_sheets: Arc::default(),
        metrics: Arc::default(),
    };
    let http = state.http.clone();
    let metrics = state.metrics.clone();
    let for_fallback = http.clone();
    let app = api::router(state.clone())
        .merge(web::router(state))
        .fallback(move |uri: Uri, headers: HeaderMap| {
            let http = for_fallback.clone();
            async move {
                if web::owns(uri.path()) {
                    web::status_page(StatusCode::NOT_FOUND, &headers, &http)
                } else {
                    error::AppError::NotFound("no such route".to_owned()).into_response()
                }
            }
        })
        .method_not_allowed_fallback(|| async { error::AppError::MethodNotAllowed });
    http::with_metrics(http::with_middleware(app, &http), metrics)
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and lets
/// in-flight requests finish.
///
/// # Errors
/// The listener fails.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address reaches handlers (login throttling) through `ConnectInfo`.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
