//! The middleware around every route, the API's and the pages' alike (innermost first): body
//! limits, compression, the request timeout, panics caught, foreign error bodies replaced by
//! ours, and a tracing span per request.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};

use crate::config::HttpConfig;
use crate::error::{AppError, Problem};
use crate::metrics::Metrics;

/// The middleware stack around every route (innermost first).
pub fn with_middleware(router: Router, http: &HttpConfig) -> Router {
    router
        // Bodies are limited twice: by Content-Length before anything is read (tower-http),
        // and while streaming for extractors (axum).
        .layer(DefaultBodyLimit::max(http.body_limit))
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(http.body_limit))
        // A request that runs too long is the server's problem, not the client's: 503.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            http.request_timeout(),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        // Outside the layers above, so that their bare error responses become problems (or,
        // for pages, error pages) too.
        .layer(middleware::from_fn_with_state(
            Arc::new(http.clone()),
            body_for_foreign_errors,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
}

/// Counts every answered request, by method, matched route and status, and times it (outside
/// every other layer, so timeouts, panics and refusals by the limits are counted too).
pub fn with_metrics(router: Router, metrics: Arc<Metrics>) -> Router {
    router.layer(middleware::from_fn_with_state(metrics, track))
}

async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    // Any token is a valid method: unknown ones are counted together, so that a client
    // cannot grow the label set (and the server's memory) at will.
    let method = match request.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_owned(),
        _ => "other".to_owned(),
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
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
/// plain-text 413, a missing docs asset) get the same problem+json body as every other error,
/// or on a page's address an error page.
async fn body_for_foreign_errors(
    State(http): State<Arc<HttpConfig>>,
    request: Request,
    next: Next,
) -> Response {
    let page = crate::web::owns(request.uri().path());
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let status = response.status();
    // JSON and HTML error bodies are ours on purpose (problems, error pages, and `/health`'s
    // 503 status body).
    let ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|ct| ct.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/json")
                || ct == crate::error::PROBLEM_JSON
                || ct.starts_with("text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || ours {
        return response;
    }
    if page {
        let mut out = crate::web::status_page(status, &headers, &http);
        for (name, value) in response.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                out.headers_mut().insert(name, value.clone());
            }
        }
        return out;
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
        next_eligible_date: None,
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::with_middleware;
    use crate::config::HttpConfig;

    async fn call(
        router: Router,
        request: Request<Body>,
    ) -> (StatusCode, String, serde_json::Value) {
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            content_type,
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    #[tokio::test]
    async fn a_request_past_the_timeout_is_a_503_problem() {
        let http = HttpConfig {
            request_timeout_secs: 1,
            ..HttpConfig::default()
        };
        let slow = Router::new().route(
            "/api/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        );
        let request = Request::get("/api/slow").body(Body::empty()).unwrap();
        let (status, content_type, body) =
            call(with_middleware(slow.clone(), &http), request).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(body["status"], 503);
        assert!(
            body["detail"].as_str().unwrap().contains("too long"),
            "{body}"
        );
        // On a page's address, the same timeout is a page in the reader's language.
        let page = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        );
        let request = Request::get("/slow").body(Body::empty()).unwrap();
        let response = with_middleware(page, &http).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(
            String::from_utf8_lossy(&bytes).contains("系统正忙"),
            "a Chinese error page"
        );
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_generic_500_problem() {
        let boom = Router::new().route(
            "/api/boom",
            get(|| async {
                if true {
                    panic!("secret internals");
                }
                "unreachable"
            }),
        );
        let request = Request::get("/api/boom").body(Body::empty()).unwrap();
        let (status, content_type, body) =
            call(with_middleware(boom, &HttpConfig::default()), request).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(content_type, "application/problem+json");
        assert!(!body.to_string().contains("secret"), "{body}");
    }
}
