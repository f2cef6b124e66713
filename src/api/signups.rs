//! Group drives at host organisations (issue 16): staff set a host stop's sign-up goal and
//! make (or replace, or revoke) the private sign-up link of the host's contact; the link's
//! public JSON gives the goal and how many have signed up. The page the link opens is
//! `/signup/{token}` (`crate::web::public`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use entity::drive_stop;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Json as JsonBody, Path, required_if_match, with_etag};
use crate::domain::booking as rules;
use crate::domain::policy::Action;
use crate::drives::signup::{self, StopOfDrive};
use crate::drives::{self, Acting};
use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::versioned::Outcome;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_goal))
        .routes(routes!(make_link, revoke_link))
        .routes(routes!(public_signup))
}

fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

/// A stop of a drive.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StopPath {
    /// The drive.
    pub id: i64,
    pub stop_id: i64,
}

/// The body of `PUT /api/v1/drives/{id}/stops/{stop_id}/signup-goal`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalBody {
    /// 1 to 100,000; `null` clears it.
    #[schema(example = 60)]
    pub signup_goal: Option<i32>,
}

/// A group drive's stop: its goal and whether a sign-up link is live.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignupStopView {
    pub drive_id: i64,
    /// The drive's version (the `ETag`): send it back in `If-Match`.
    pub drive_version: i32,
    pub stop_id: i64,
    /// `host-<id>`.
    pub site: String,
    pub host_id: Option<i64>,
    pub signup_goal: Option<i32>,
    /// Whether the host's contact has a live sign-up link.
    pub signup_link: bool,
}

fn stop_view((drive, stop): StopOfDrive) -> SignupStopView {
    SignupStopView {
        drive_id: drive.id,
        drive_version: drive.version,
        stop_id: stop.id,
        site: stop.site_id,
        host_id: stop.host_id,
        signup_goal: stop.signup_goal,
        signup_link: stop.signup_token_hash.is_some(),
    }
}

/// Sets (or clears) the sign-up goal of a stop at a host. A change of the drive: needs
/// `If-Match` with the drive's version, which moves on; audited.
#[utoipa::path(
    put,
    path = "/drives/{id}/stops/{stop_id}/signup-goal",
    tag = "drives",
    params(StopPath, ("If-Match" = String, Header, description = "The drive's ETag last seen, e.g. \"3\"")),
    request_body = GoalBody,
    responses(
        (status = 200, description = "Set; `ETag` carries the drive's new version", body = SignupStopView),
        (status = 400, description = "`signup_goal` out of range", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such drive or stop (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a stop at a host, or the drive is completed or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The drive's version moved on: the body is the stop as it is", body = SignupStopView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(drive_id = path.id, stop_id = path.stop_id))]
async fn set_goal(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StopPath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<GoalBody>,
) -> Result<Response, AppError> {
    caller.require()?;
    let acting = acting(&caller);
    let current = drives::find_for(&state.db, &acting, Action::Update, path.id).await?;
    let expected = required_if_match(&headers, "drive", current.version)?;
    let now = state.clock.now();
    let outcome = signup::set_goal(
        &state.db,
        current,
        expected,
        path.stop_id,
        body.signup_goal,
        &acting,
        now,
    )
    .await?;
    Ok(match outcome {
        Outcome::Updated(done) => {
            let view = stop_view(done);
            with_etag(StatusCode::OK, view.drive_version, Json(view))
        }
        Outcome::Stale(latest) => {
            let view = stop_view(latest);
            with_etag(
                StatusCode::PRECONDITION_FAILED,
                view.drive_version,
                Json(view),
            )
        }
    })
}

/// A new sign-up link: the token is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignupLinkView {
    pub stop_id: i64,
    /// Give it to the host's contact; only its SHA-256 is kept.
    pub token: String,
    /// The page it opens (`/signup/<token>`), on this server.
    pub url: String,
    /// The public JSON of the sign-ups.
    pub api: String,
}

/// Makes the private sign-up link of a stop at a host, for the host's contact: a random
/// token returned once. A link made before stops working (404). Audited.
#[utoipa::path(
    post,
    path = "/drives/{id}/stops/{stop_id}/signup-link",
    tag = "drives",
    params(StopPath),
    responses(
        (status = 201, description = "Made; the token is not shown again", body = SignupLinkView),
        (status = 403, description = "Outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such drive or stop (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a stop at a host, or the drive is completed or cancelled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(drive_id = path.id, stop_id = path.stop_id))]
async fn make_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StopPath>,
) -> Result<Response, AppError> {
    caller.require()?;
    let (stop, token): (drive_stop::Model, String) = signup::make_link(
        &state.db,
        path.id,
        path.stop_id,
        &acting(&caller),
        state.clock.now(),
    )
    .await?;
    let view = SignupLinkView {
        stop_id: stop.id,
        url: format!("/signup/{token}"),
        api: format!("/api/v1/public/signups/{token}"),
        token,
    };
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Revokes the sign-up link of a stop: the page no longer opens (404). Audited.
#[utoipa::path(
    delete,
    path = "/drives/{id}/stops/{stop_id}/signup-link",
    tag = "drives",
    params(StopPath),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such drive or stop, or no live link", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(drive_id = path.id, stop_id = path.stop_id))]
async fn revoke_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StopPath>,
) -> Result<StatusCode, AppError> {
    caller.require()?;
    signup::revoke_link(
        &state.db,
        path.id,
        path.stop_id,
        &acting(&caller),
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The link's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The token of the sign-up link.
    pub token: String,
}

/// The sign-ups of a group drive's stop, as its link shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicSignupView {
    #[schema(example = "东岭镇中心小学")]
    pub host: String,
    pub address: Option<String>,
    pub date: NaiveDate,
    /// `HH:MM`.
    #[schema(example = "09:00")]
    pub planned_start: String,
    #[schema(example = "11:30")]
    pub planned_end: String,
    /// `draft`, `published`, `in_progress`, `completed` or `cancelled`: colleagues sign up
    /// while it is `published`.
    pub drive_status: String,
    pub signup_goal: Option<i32>,
    /// How many have signed up (active bookings of one person each).
    pub signed_up: usize,
    /// Their names, masked (`张**`), in the order they signed up.
    pub names: Vec<String>,
    /// The page where colleagues sign up.
    pub page: String,
}

/// A group drive's sign-ups against its goal, for the host's contact (no sign-in: the link's
/// token is the key; a replaced or revoked token is 404).
#[utoipa::path(
    get,
    path = "/public/signups/{token}",
    tag = "public",
    params(TokenPath),
    responses(
        (status = 200, description = "The stop, its goal and the sign-ups", body = PublicSignupView),
        (status = 404, description = "No such link (never made, replaced or revoked)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn public_signup(
    State(state): State<AppState>,
    Path(path): Path<TokenPath>,
) -> Result<Response, AppError> {
    let sheet = signup::sheet(&state.db, &path.token).await?;
    let view = PublicSignupView {
        host: sheet.host.name.clone(),
        address: sheet.host.address.clone(),
        date: sheet.drive.date,
        planned_start: rules::clock(sheet.stop.planned_start),
        planned_end: rules::clock(sheet.stop.planned_end),
        drive_status: sheet.drive.status.clone(),
        signup_goal: sheet.goal,
        signed_up: sheet.signed_up.len(),
        names: sheet.signed_up,
        page: format!("/signup/{}", path.token.trim()),
    };
    let mut response = Json(view).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
