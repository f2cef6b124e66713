//! The HTTP API: one module per resource, each with its own `router()`, merged here with the
//! OpenAPI document, the interactive docs and the middleware stack.

pub mod attendances;
pub mod audit;
pub mod auth;
pub mod bookings;
pub mod checklists;
pub mod coordinators;
pub mod coverage;
pub mod drives;
pub mod extract;
pub mod forecast;
pub mod health;
pub mod outbox;
pub mod plans;
pub mod points;
pub mod regions;
pub mod reports;
pub mod results;
pub mod stations;
pub mod summary;
pub mod survey_sheets;
pub mod surveys;
pub mod tokens;
pub mod users;
pub mod vehicles;

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

use crate::config::HttpConfig;
use crate::error::{AppError, FieldError, Problem};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "donornet",
        description = "The rural blood-donor network of a city blood station: regions, donation points, village donor surveys and bloodmobile drives.",
    ),
    components(schemas(Problem, FieldError, points::PublicPointPage, points::PublicPointView)),
    tags(
        (name = "health", description = "Service status"),
        (name = "regions", description = "The statistical division hierarchy, province to village"),
        (name = "points", description = "Donation points: where people give blood or meet the bloodmobile"),
        (name = "coordinators", description = "The local people who run points, and who serves where"),
        (name = "surveys", description = "Eligible-donor surveys of villages (append-only history)"),
        (name = "stations", description = "Blood stations: the depots bloodmobiles leave from and return to each day"),
        (name = "vehicles", description = "Bloodmobiles: beds, crew, capacity, working window and running cost"),
        (name = "plans", description = "Drive planning: turnout forecasts, plans (made in the background), plan checks and exports"),
        (name = "drives", description = "Drives: a vehicle-day with its stops, made from an accepted plan or by hand, and its states from draft to completed or cancelled"),
        (name = "checklists", description = "Preparation checklists: each station's template (or the defaults), the items of every stop of a drive done or not with who and when, and what is due or late per township"),
        (name = "public", description = "For donors, no sign-in: the schedule of announced stops (JSON or iCalendar), and booking a place alone or as a group; a booking is looked at, moved or cancelled with its code and token"),
        (name = "outbox", description = "Messages to donors (confirmations, reminders, cancellations) and their delivery"),
        (name = "results", description = "On the day and after: check-in (booked or walk-in), outcomes (deferred, donated), stop and drive results against the forecast, and results reports (JSON, CSV, XLSX)"),
        (name = "reports", description = "What to fix next, per region; CSV downloads"),
        (name = "audit", description = "Every change to the registry"),
        (name = "auth", description = "Signing in and out (browser sessions)"),
        (name = "users", description = "Accounts, roles and the regions they are bound to"),
        (name = "tokens", description = "API tokens for scripts"),
    )
)]
struct ApiDoc;

/// The routes and their OpenAPI document, before state and middleware.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .nest(
            "/api/v1",
            regions::router()
                .merge(auth::router())
                .merge(users::router())
                .merge(tokens::router())
                .merge(points::router())
                .merge(coordinators::router())
                .merge(surveys::router())
                .merge(survey_sheets::router())
                .merge(summary::router())
                .merge(reports::router())
                .merge(coverage::router())
                .merge(stations::router())
                .merge(vehicles::router())
                .merge(forecast::router())
                .merge(plans::router())
                .merge(drives::router())
                .merge(attendances::router())
                .merge(results::router())
                .merge(bookings::router())
                .merge(outbox::router())
                .merge(checklists::router())
                .merge(audit::router()),
        )
        .split_for_parts()
        .pipe_security()
}

/// Operations anyone may call; credentials, when sent, are still honoured (a signed-in caller
/// listing points gets the full records).
const PUBLIC_OPERATIONS: &[(&str, &str)] = &[
    ("get", "/health"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/points"),
    ("get", "/api/v1/points.geojson"),
    ("get", "/api/v1/points/{id}"),
    ("get", "/api/v1/public/drives"),
    ("get", "/api/v1/public/stops/{id}"),
    ("post", "/api/v1/public/stops/{id}/bookings"),
    ("post", "/api/v1/public/stops/{id}/group-bookings"),
    ("get", "/api/v1/public/bookings/{code}"),
    ("post", "/api/v1/public/bookings/{code}/cancel"),
    ("post", "/api/v1/public/bookings/{code}/reschedule"),
];

trait PipeSecurity {
    fn pipe_security(self) -> Self;
}

impl PipeSecurity for (Router<AppState>, utoipa::openapi::OpenApi) {
    fn pipe_security(mut self) -> Self {
        declare_security(&mut self.1);
        self
    }
}

/// A documented problem+json response.
fn problem_response(
    description: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::response::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            crate::error::PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// The two ways to authenticate, and on every operation which of them it needs: an API token
/// or a session cookie; for the public operations, either or none.
fn declare_security(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::{
        ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
    };
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "token",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("dn_ followed by 64 hex digits")
                .description(Some(
                    "An API token (POST /api/v1/tokens or `donornet token create`), sent as \
                     `Authorization: Bearer dn_…`.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            auth::SESSION_COOKIE,
            "The browser session cookie set by POST /api/v1/auth/login. Changes made with it \
             also need an `Origin` header naming this site, or the session's CSRF token in \
             `X-CSRF-Token`.",
        ))),
    );
    let signed_in = || {
        vec![
            SecurityRequirement::new("token", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]
    };
    for (path, item) in &mut openapi.paths.paths {
        let operations = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let mut security = signed_in();
            let public = PUBLIC_OPERATIONS.contains(&(method, path.as_str()));
            if public {
                security.insert(0, SecurityRequirement::default());
            }
            operation.security = Some(security);
            let responses = &mut operation.responses.responses;
            if !public {
                responses.entry("401".to_owned()).or_insert_with(|| {
                    problem_response(
                        "No credentials, or a bad, revoked or expired token (`WWW-Authenticate` says how to authenticate)",
                    )
                });
            }
            if method != "get" && !path.starts_with("/api/v1/auth/") {
                responses.entry("403".to_owned()).or_insert_with(|| {
                    problem_response(
                        "Outside what the caller may change (it may read it), or a change sent with the session cookie without a matching `Origin` or `X-CSRF-Token`",
                    )
                });
            }
        }
    }
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// The whole application: routes, `/openapi.json`, `/docs`, error fallbacks and middleware.
pub fn build_router(state: AppState) -> Router {
    let (router, openapi) = routes();
    let http = state.http.clone();
    let router = router
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .fallback(|| async { AppError::NotFound("no such route".to_owned()) })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        // Only on matched routes: an unknown path is 404 and a wrong method 405, whoever asks.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .with_state(state);
    with_middleware(router, &http)
}

/// The middleware stack around every route (innermost first).
fn with_middleware(router: Router, http: &HttpConfig) -> Router {
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
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        );
        let request = Request::get("/slow").body(Body::empty()).unwrap();
        let (status, content_type, body) = call(with_middleware(slow, &http), request).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(body["status"], 503);
        assert!(
            body["detail"].as_str().unwrap().contains("too long"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_generic_500_problem() {
        let boom = Router::new().route(
            "/boom",
            get(|| async {
                if true {
                    panic!("secret internals");
                }
                "unreachable"
            }),
        );
        let request = Request::get("/boom").body(Body::empty()).unwrap();
        let (status, content_type, body) =
            call(with_middleware(boom, &HttpConfig::default()), request).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(content_type, "application/problem+json");
        assert!(!body.to_string().contains("secret"), "{body}");
    }
}
