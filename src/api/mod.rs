//! The HTTP API: one module per resource, each with its own `router()`, merged here with the
//! OpenAPI document, the interactive docs and the middleware stack.

pub mod extract;
pub mod health;
pub mod regions;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{AppError, FieldError, Problem};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "donornet",
        description = "The rural blood-donor network of a city blood station: regions, donation points, village donor surveys and bloodmobile drives.",
    ),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "health", description = "Service status"),
        (name = "regions", description = "The statistical division hierarchy, province to village"),
    )
)]
struct ApiDoc;

/// The routes and their OpenAPI document, before state and middleware.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .nest("/api/v1", regions::router())
        .split_for_parts()
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// The whole application: routes, `/openapi.json`, `/docs`, error fallbacks and middleware.
pub fn build_router(state: AppState) -> Router {
    let (router, openapi) = routes();
    let body_limit = state.http.body_limit;
    let timeout = state.http.request_timeout();
    router
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .fallback(|| async { AppError::NotFound("no such route".to_owned()) })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .with_state(state)
        // Innermost first. Bodies are limited twice: by Content-Length before anything is
        // read (tower-http), and while streaming for extractors (axum).
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(body_limit))
        // A request that runs too long is the server's problem, not the client's: 503.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        // Outside the layers above, so that their bare error responses become problems too.
        .layer(middleware::from_fn(problem_for_foreign_errors))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
}

/// A span per request with the method and the *matched* route: low cardinality, and no
/// personal data from paths or query strings.
fn request_span(request: &Request<Body>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", MatchedPath::as_str);
    tracing::info_span!("request", method = %request.method(), route)
}

/// Error responses not made by our handlers (a timeout's empty 503, the body limit's
/// plain-text 413, a missing docs asset) get the same problem+json body as every other error.
async fn problem_for_foreign_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // JSON error bodies are ours on purpose (problems, and `/health`'s 503 status body).
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|ct| ct.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct == crate::error::PROBLEM_JSON);
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let reason = status.canonical_reason().unwrap_or("Error");
    let problem = Problem {
        kind: "about:blank".to_owned(),
        title: reason.to_owned(),
        status: status.as_u16(),
        detail: match status {
            StatusCode::SERVICE_UNAVAILABLE => "the request took too long; try again".to_owned(),
            StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than the limit".to_owned(),
            _ => reason.to_lowercase(),
        },
        errors: vec![],
    };
    let (mut parts, _) = response.into_parts();
    for stale in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
    ] {
        parts.headers.remove(stale);
    }
    let mut out = (status, axum::Json(problem)).into_response();
    // Keep what the original response said beyond its body (`Allow`, `Retry-After`, …).
    for (name, value) in &parts.headers {
        out.headers_mut().insert(name, value.clone());
    }
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::error::PROBLEM_JSON),
    );
    out
}
