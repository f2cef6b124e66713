//! `/api/v1/appeals`, `/api/v1/chat-groups` and `/api/v1/stations/{id}/appeal-template`:
//! appeals (倡议书, issue 16) made from a station's template for a drive or one of its stops,
//! with a tracking code in their booking link; their text and QR code to download; the chat
//! groups (WeCom group robots) they are sent to, whose keys are never shown but for their last
//! 4 characters; sending; and each appeal's figures.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use entity::{appeal, chat_group};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Json as JsonBody, Path, Query, download, if_match, with_etag};
use crate::appeals::{
    self as service, Acting, Audience, Figures, Format, NewAppeal, NewGroup, Queued, SendTo,
    Template, TemplateChange,
};
use crate::auth::caller::site_origin;
use crate::domain::policy::Action;
use crate::domain::region::RegionCode;
use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::versioned::Outcome;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_template, put_template))
        .routes(routes!(list_appeals, create_appeal))
        .routes(routes!(get_appeal))
        .routes(routes!(appeal_text))
        .routes(routes!(appeal_qr_svg))
        .routes(routes!(appeal_qr_png))
        .routes(routes!(send_appeal))
        .routes(routes!(appeal_figures))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(delete_group))
}

fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

/// The record's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    pub id: i64,
}

// --- templates -----------------------------------------------------------------------------

/// The body of `PUT /api/v1/stations/{id}/appeal-template`: members left out keep their text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutTemplate {
    /// The text with `{date}`, `{place}`, `{times}`, `{who}`, `{bring}` and `{link}` (required).
    #[schema(example = "{date}，献血车到{place}（{times}）。{who}请带{bring}。预约：{link}")]
    pub body: Option<String>,
    /// What `{who}` reads as.
    pub who_may_donate: Option<String>,
    /// What `{bring}` reads as.
    pub what_to_bring: Option<String>,
}

/// A station's appeal template (the catalogue's built-in text, version 0, while it has none).
#[utoipa::path(
    get,
    path = "/stations/{id}/appeal-template",
    tag = "appeals",
    params(IdPath),
    responses(
        (status = 200, description = "The template; `ETag` carries its version (0: built in)", body = Template),
        (status = 404, description = "No such station (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn get_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Response, AppError> {
    let template = service::template(&state.db, path.id, &acting(&caller)).await?;
    Ok(with_etag(StatusCode::OK, template.version, Json(template)))
}

/// Changes a station's appeal template. Needs `If-Match` (`"0"` to replace the built-in
/// text): a stale version gets 412 with the current template.
#[utoipa::path(
    put,
    path = "/stations/{id}/appeal-template",
    tag = "appeals",
    params(IdPath, ("If-Match" = String, Header, description = "The ETag last seen, e.g. \"0\"")),
    request_body = PutTemplate,
    responses(
        (status = 200, description = "Changed; `ETag` carries the new version", body = Template),
        (status = 400, description = "Invalid fields, each named (`body`: an unknown field, no `{link}`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The version moved on: the body is the current template", body = Template),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn put_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PutTemplate>,
) -> Result<Response, AppError> {
    let acting = acting(&caller);
    let current = service::template(&state.db, path.id, &acting).await?;
    let expected = if_match(&headers, current.version).and_then(|v| {
        v.ok_or_else(|| {
            AppError::PreconditionRequired(format!(
                "send If-Match with the template's ETag (currently \"{}\") to change it",
                current.version
            ))
        })
    });
    let change = TemplateChange {
        body: body.body,
        who_may_donate: body.who_may_donate,
        what_to_bring: body.what_to_bring,
    };
    let outcome =
        service::update_template(&state.db, path.id, change, expected, &acting, Utc::now()).await?;
    Ok(match outcome {
        Outcome::Updated(t) => with_etag(StatusCode::OK, t.version, Json(t)),
        Outcome::Stale(t) => with_etag(StatusCode::PRECONDITION_FAILED, t.version, Json(t)),
    })
}

// --- appeals -------------------------------------------------------------------------------

/// An appeal as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppealView {
    pub id: i64,
    pub drive_id: i64,
    /// The stop it is for; absent for the whole drive.
    pub stop_id: Option<i64>,
    pub region_code: String,
    /// The tracking code in the link (`via=`).
    #[schema(example = "K7M3QX")]
    pub code: String,
    /// The text as rendered (zh-CN).
    pub text: String,
    /// The booking link with the code.
    pub link: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
}

impl From<appeal::Model> for AppealView {
    fn from(m: appeal::Model) -> Self {
        AppealView {
            id: m.id,
            drive_id: m.drive_id,
            stop_id: m.stop_id,
            region_code: m.region_code,
            code: m.code,
            text: m.body,
            link: m.link,
            created_at: m.created_at,
            created_by: m.created_by,
        }
    }
}

/// The body of `POST /api/v1/appeals`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppeal {
    /// A published drive.
    pub drive_id: i64,
    /// One stop of it; absent for the whole drive.
    pub stop_id: Option<i64>,
}

/// Makes an appeal from the template of the drive's station: the text, a tracking code and
/// the booking link (on `--public-url`, else the address the request came to).
#[utoipa::path(
    post,
    path = "/appeals",
    tag = "appeals",
    request_body = CreateAppeal,
    responses(
        (status = 201, description = "Made", body = AppealView),
        (status = 400, description = "`drive_id` or `stop_id` names no drive or stop of it in reach", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The drive is outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The drive is not published", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_appeal(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateAppeal>,
) -> Result<Response, AppError> {
    let site = state
        .http
        .public_url
        .clone()
        .unwrap_or_else(|| site_origin(&headers, &state.http));
    let command = NewAppeal {
        drive_id: body.drive_id,
        stop_id: body.stop_id,
    };
    let appeal = service::create(
        &state.db,
        command,
        &site,
        &acting(&caller),
        state.clock.now(),
    )
    .await?;
    let mut response =
        (StatusCode::CREATED, Json(AppealView::from(appeal.clone()))).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("/api/v1/appeals/{}", appeal.id)) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The appeal listing's filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AppealListParams {
    /// The drive whose appeals to list.
    pub drive_id: i64,
}

/// A drive's appeals, oldest first.
#[utoipa::path(
    get,
    path = "/appeals",
    tag = "appeals",
    params(AppealListParams),
    responses(
        (status = 200, description = "The drive's appeals", body = Vec<AppealView>),
        (status = 404, description = "No such drive (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_appeals(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AppealListParams>,
) -> Result<Response, AppError> {
    let appeals = service::list_for_drive(&state.db, params.drive_id, &acting(&caller)).await?;
    let items: Vec<AppealView> = appeals.into_iter().map(AppealView::from).collect();
    Ok(Json(items).into_response())
}

/// One appeal.
#[utoipa::path(
    get,
    path = "/appeals/{id}",
    tag = "appeals",
    params(IdPath),
    responses(
        (status = 200, description = "The appeal", body = AppealView),
        (status = 404, description = "No such appeal (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(appeal_id = path.id))]
async fn get_appeal(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Response, AppError> {
    let appeal = service::find_for(&state.db, path.id, Action::Read, &acting(&caller)).await?;
    Ok(Json(AppealView::from(appeal)).into_response())
}

/// The appeal's text to post by hand (`text/plain`, UTF-8).
#[utoipa::path(
    get,
    path = "/appeals/{id}/text",
    tag = "appeals",
    params(IdPath),
    responses(
        (status = 200, description = "The text", content_type = "text/plain; charset=utf-8", body = String),
        (status = 404, description = "No such appeal", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(appeal_id = path.id))]
async fn appeal_text(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Response, AppError> {
    let appeal = service::find_for(&state.db, path.id, Action::Read, &acting(&caller)).await?;
    Ok(download(
        appeal.body.into_bytes(),
        "text/plain; charset=utf-8",
        &format!("appeal-{}.txt", appeal.code),
    ))
}

/// The QR code of the appeal's booking link, as SVG.
#[utoipa::path(
    get,
    path = "/appeals/{id}/qr.svg",
    tag = "appeals",
    params(IdPath),
    responses(
        (status = 200, description = "The QR code", content_type = "image/svg+xml", body = String),
        (status = 404, description = "No such appeal", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(appeal_id = path.id))]
async fn appeal_qr_svg(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Response, AppError> {
    let appeal = service::find_for(&state.db, path.id, Action::Read, &acting(&caller)).await?;
    let svg = service::qr::svg(&appeal.link).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    Ok(download(
        svg.into_bytes(),
        "image/svg+xml",
        &format!("appeal-{}.svg", appeal.code),
    ))
}

/// The QR code of the appeal's booking link, as PNG.
#[utoipa::path(
    get,
    path = "/appeals/{id}/qr.png",
    tag = "appeals",
    params(IdPath),
    responses(
        (status = 200, description = "The QR code", content_type = "image/png", body = Vec<u8>),
        (status = 404, description = "No such appeal", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(appeal_id = path.id))]
async fn appeal_qr_png(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Response, AppError> {
    let appeal = service::find_for(&state.db, path.id, Action::Read, &acting(&caller)).await?;
    let png = service::qr::png(&appeal.link).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    Ok(download(
        png,
        "image/png",
        &format!("appeal-{}.png", appeal.code),
    ))
}

/// The body of `POST /api/v1/appeals/{id}/send`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// The chat groups (1 to 50).
    pub group_ids: Vec<i64>,
    /// `text` (default) or `markdown`.
    #[serde(default)]
    pub format: Format,
    /// Also send the link's QR code as an image.
    #[serde(default)]
    pub with_qr: bool,
}

/// What a send did.
#[derive(Debug, Serialize, ToSchema)]
pub struct SendView {
    /// Per group: whether a message was queued now (false: it had been sent before).
    pub groups: Vec<Queued>,
}

/// Sends an appeal to chat groups through their WeCom robots: one message per group, each
/// written once however often this is asked; the outbox posts them.
#[utoipa::path(
    post,
    path = "/appeals/{id}/send",
    tag = "appeals",
    params(IdPath),
    request_body = SendBody,
    responses(
        (status = 202, description = "Queued", body = SendView),
        (status = 400, description = "`group_ids` empty, too many, or naming a group not in reach (`group_ids[1]`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The appeal is outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such appeal", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(appeal_id = path.id))]
async fn send_appeal(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    JsonBody(body): JsonBody<SendBody>,
) -> Result<Response, AppError> {
    let command = SendTo {
        group_ids: body.group_ids,
        format: body.format,
        with_qr: body.with_qr,
    };
    let groups = service::send(
        &state.db,
        path.id,
        command,
        &acting(&caller),
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(SendView { groups })).into_response())
}

/// An appeal's figures: the groups it went to and how, the bookings it brought per hour since
/// it was made (with the cumulative curve) and per township.
#[utoipa::path(
    get,
    path = "/appeals/{id}/figures",
    tag = "appeals",
    params(IdPath),
    responses(
        (status = 200, description = "The figures", body = Figures),
        (status = 404, description = "No such appeal", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(appeal_id = path.id))]
async fn appeal_figures(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Response, AppError> {
    let figures = service::figures(&state.db, path.id, &acting(&caller), state.clock.now()).await?;
    Ok(Json(figures).into_response())
}

// --- chat groups -------------------------------------------------------------------------

/// A chat group as the API shows it: never its key, only the key's last 4 characters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupView {
    pub id: i64,
    pub name: String,
    pub region_code: String,
    pub audience: String,
    pub host_id: Option<i64>,
    /// `…` and the key's last 4 characters.
    #[schema(example = "…9f3a")]
    pub key_hint: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
}

impl From<chat_group::Model> for GroupView {
    fn from(m: chat_group::Model) -> Self {
        GroupView {
            key_hint: service::key_hint(&m),
            id: m.id,
            name: m.name,
            region_code: m.region_code,
            audience: m.audience,
            host_id: m.host_id,
            created_at: m.created_at,
            created_by: m.created_by,
        }
    }
}

/// The body of `POST /api/v1/chat-groups`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    #[schema(example = "东岭镇村医群")]
    pub name: String,
    /// The area it serves (12-digit code); a host's group: the host's region.
    pub region_code: String,
    /// `coordinators` or `host`.
    pub audience: Audience,
    /// The host, for a host's group.
    pub host_id: Option<i64>,
    /// The group robot's key (the `key=` of its webhook address). Stored, never shown again.
    pub webhook_key: String,
}

impl std::fmt::Debug for CreateGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateGroup")
            .field("name", &self.name)
            .field("region_code", &self.region_code)
            .field("audience", &self.audience)
            .field("host_id", &self.host_id)
            .finish_non_exhaustive()
    }
}

/// Registers a chat group and its robot's key.
#[utoipa::path(
    post,
    path = "/chat-groups",
    tag = "appeals",
    request_body = CreateGroup,
    responses(
        (status = 201, description = "Registered (the key shown only as its last 4 characters)", body = GroupView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The region is outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_group(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateGroup>,
) -> Result<Response, AppError> {
    let command = NewGroup {
        name: body.name,
        region_code: body.region_code,
        audience: body.audience,
        host_id: body.host_id,
        webhook_key: body.webhook_key,
    };
    let group =
        service::create_group(&state.db, command, &acting(&caller), state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(GroupView::from(group))).into_response())
}

/// The chat group listing's filter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GroupListParams {
    /// Groups in this region or below (12-digit code).
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
}

/// The chat groups in the caller's reach, by id.
#[utoipa::path(
    get,
    path = "/chat-groups",
    tag = "appeals",
    params(GroupListParams),
    responses(
        (status = 200, description = "The groups", body = Vec<GroupView>),
        (status = 404, description = "`region` outside the caller's reach", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_groups(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<GroupListParams>,
) -> Result<Response, AppError> {
    let region = params
        .region
        .as_deref()
        .map(|raw| {
            RegionCode::parse(raw)
                .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))
        })
        .transpose()?;
    let groups = service::list_groups(&state.db, region, &acting(&caller)).await?;
    let items: Vec<GroupView> = groups.into_iter().map(GroupView::from).collect();
    Ok(Json(items).into_response())
}

/// Deletes a chat group (audited; its key with it).
#[utoipa::path(
    delete,
    path = "/chat-groups/{id}",
    tag = "appeals",
    params(IdPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Outside the caller's write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(group_id = path.id))]
async fn delete_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<StatusCode, AppError> {
    service::delete_group(&state.db, path.id, &acting(&caller), state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
