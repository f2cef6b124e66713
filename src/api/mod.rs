//! The HTTP API: one module per resource, each with its own `router()`, merged here with the
//! OpenAPI document, the interactive docs and the authentication middleware.

pub mod appeals;
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
pub mod hosts;
pub mod inventory;
pub mod outbox;
pub mod plans;
pub mod points;
pub mod recruitment;
pub mod regions;
pub mod reports;
pub mod results;
pub mod signups;
pub mod stations;
pub mod summary;
pub mod survey_sheets;
pub mod surveys;
pub mod talks;
pub mod tokens;
pub mod users;
pub mod vehicles;

use axum::Router;
use axum::middleware;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{FieldError, Problem};
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
        (name = "hosts", description = "Host organisations that hold group drives on a yearly timetable, and their contacts"),
        (name = "talks", description = "Publicity talks (宣讲) given in villages, townships and at host organisations"),
        (name = "recruitment", description = "One-to-one recruitment: the roster of donors who agreed to be contacted, the intervals between donations, needs for blood groups, ranked call lists split among recruiters and each call's outcome"),
        (name = "inventory", description = "Blood inventory and emergency linkage between stations: each station's stock per component and group with days of supply and warning levels, its history, the province-wide board, and blood requests answered by offers, accepted, dispatched and received"),
        (name = "appeals", description = "Appeals (倡议书) for drives with tracking codes, their QR codes, the chat groups (WeCom robots) they go to, and their figures"),
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
                .merge(hosts::router())
                .merge(talks::router())
                .merge(recruitment::router())
                .merge(inventory::router())
                .merge(appeals::router())
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
                .merge(signups::router())
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
    ("post", "/api/v1/public/roster/withdraw"),
    ("get", "/api/v1/public/signups/{token}"),
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

/// The API's routes with `/openapi.json`, `/docs` and the authentication middleware, over
/// `state`. The application (`crate::build_app`) merges it with the pages and wraps both in
/// the common middleware (`crate::http`).
pub fn router(state: AppState) -> Router {
    let (router, openapi) = routes();
    router
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        // Only on matched routes: an unknown path is 404 and a wrong method 405, whoever asks.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .with_state(state)
}
