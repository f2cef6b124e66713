//! `/api/v1/outbox`: the messages to donors (booking confirmations, reminders, cancellation
//! notices) and their delivery, for admins: what was sent, what failed and why, and a run on
//! demand (the server also runs the outbox every `--outbox-interval-secs`).
//!
//! `/api/v1/outbox/by-hand`: with the `log` sender nothing leaves the station by itself;
//! staff (admins and station staff, for drives within their write scope) list the messages
//! `to_send_by_hand` with whole numbers (each listing audited), send them, and mark each sent.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use entity::outbox_message;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Path, Query, id_cursor, page_limit, paginate};
use crate::domain::account::Role;
use crate::domain::point::mask_phone;
use crate::domain::policy::{self, Action, Resource, Visibility};
use crate::error::{AppError, Problem};
use crate::outbox::{self, Run, by_hand};
use crate::state::AppState;

const STATUSES: &[&str] = &[
    "pending",
    "sent",
    "failed",
    "void",
    outbox::TO_SEND_BY_HAND,
    outbox::SUPPRESSED,
];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages))
        .routes(routes!(run_outbox))
        .routes(routes!(by_hand))
        .routes(routes!(mark_sent))
        .routes(routes!(retry_message))
}

/// A message to a donor.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    /// `confirmation`, `day_before`, `two_hours_before`, `rescheduled` or `cancellation`.
    pub kind: String,
    pub booking_id: Option<i64>,
    /// Masked.
    pub recipient: String,
    pub body: String,
    /// `pending`, `sent`, `failed` (given up), `void` (its booking was cancelled first),
    /// `to_send_by_hand` (the `log` sender: staff send it and mark it sent) or `suppressed`
    /// (beyond its recipient's daily cap for messages caused by public requests; never sent).
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<outbox_message::Model> for MessageView {
    fn from(m: outbox_message::Model) -> Self {
        MessageView {
            id: m.id,
            kind: m.kind,
            booking_id: m.booking_id,
            recipient: mask_phone(&m.recipient),
            body: m.body,
            status: m.status,
            attempts: m.attempts,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

/// One page of messages, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    pub items: Vec<MessageView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessageParams {
    /// Only this booking's messages.
    pub booking_id: Option<i64>,
    /// `pending`, `sent`, `failed`, `void`, `to_send_by_hand` or `suppressed`.
    pub status: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 500 (default 50).
    pub limit: Option<u64>,
}

fn admin(caller: &Caller) -> Result<(), AppError> {
    caller.require()?;
    caller.authorize(Action::Read, Resource::Outbox, || "the outbox".to_owned())
}

/// The outbox, newest first (admins without region bounds).
#[utoipa::path(
    get,
    path = "/outbox",
    tag = "outbox",
    params(MessageParams),
    responses(
        (status = 200, description = "A page of messages (recipients masked)", body = MessagePage),
        (status = 400, description = "Invalid parameter (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an unbounded admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<MessageParams>,
) -> Result<Json<MessagePage>, AppError> {
    admin(&caller)?;
    let limit = page_limit(params.limit, 50, 500)?;
    let status = match params.status.as_deref() {
        None => None,
        Some(s) if STATUSES.contains(&s) => Some(s),
        Some(s) => {
            return Err(AppError::invalid(
                "status",
                format!("must be one of {}, not {s:?}", STATUSES.join(", ")),
            ));
        }
    };
    let rows = outbox::list_messages(
        &state.db,
        params.booking_id,
        status,
        id_cursor(params.cursor.as_deref())?,
        limit + 1,
    )
    .await?;
    let (rows, next_cursor) = paginate(rows, limit, |m| m.id.to_string());
    Ok(Json(MessagePage {
        items: rows.into_iter().map(MessageView::from).collect(),
        next_cursor,
    }))
}

/// Runs the outbox now: writes the reminders due, hands pending messages to the sender, and
/// erases the mobiles no drive needs any more.
#[utoipa::path(
    post,
    path = "/outbox/run",
    tag = "outbox",
    responses(
        (status = 200, description = "What the run did", body = Run),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an unbounded admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn run_outbox(State(state): State<AppState>, caller: Caller) -> Result<Json<Run>, AppError> {
    admin(&caller)?;
    Ok(Json(
        outbox::run_once(
            &state.db,
            state.sender.as_ref(),
            state.wecom.as_ref(),
            state.http.public_url.as_deref(),
            Utc::now(),
        )
        .await?,
    ))
}

/// A message to send by hand, with the whole number.
#[derive(Debug, Serialize, ToSchema)]
pub struct ByHandView {
    pub id: i64,
    pub kind: String,
    pub booking_id: Option<i64>,
    pub request_id: Option<i64>,
    /// The whole mobile number, to send to.
    pub recipient: String,
    pub body: String,
    /// `to_send_by_hand`, or `sent` once marked.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<outbox_message::Model> for ByHandView {
    fn from(m: outbox_message::Model) -> Self {
        ByHandView {
            id: m.id,
            kind: m.kind,
            booking_id: m.booking_id,
            request_id: m.request_id,
            recipient: m.recipient,
            body: m.body,
            status: m.status,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

/// One page of messages to send by hand, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ByHandPage {
    pub items: Vec<ByHandView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ByHandParams {
    pub cursor: Option<String>,
    /// 1 to 500 (default 100).
    pub limit: Option<u64>,
}

/// Where the caller may handle messages by hand: admins and station staff, over the drives
/// of their write scope (403 for the other roles).
fn sender_by_hand(caller: &Caller) -> Result<Visibility, AppError> {
    let principal = caller.require()?;
    if !matches!(principal.role, Role::Admin | Role::StationStaff) {
        return Err(AppError::Forbidden(
            "only admins and station staff send messages by hand".to_owned(),
        ));
    }
    Ok(policy::write_scope(principal))
}

/// Messages waiting to be sent by hand (the `log` sender), about drives within the caller's
/// write scope, oldest first, with whole numbers. Each listing is audited (who saw which
/// messages' numbers).
#[utoipa::path(
    get,
    path = "/outbox/by-hand",
    tag = "outbox",
    params(ByHandParams),
    responses(
        (status = 200, description = "A page of messages to send, numbers whole", body = ByHandPage),
        (status = 400, description = "Invalid parameter (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or station staff", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn by_hand(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ByHandParams>,
) -> Result<Json<ByHandPage>, AppError> {
    let reach = sender_by_hand(&caller)?;
    let limit = page_limit(params.limit, 100, 500)?;
    let after = id_cursor(params.cursor.as_deref())?;
    let rows = by_hand::list(
        &state.db,
        &reach,
        after,
        limit + 1,
        caller.actor(),
        Utc::now(),
    )
    .await?;
    let more = rows.len() as u64 > limit;
    let rows: Vec<outbox_message::Model> = rows.into_iter().take(limit as usize).collect();
    let next_cursor = more
        .then(|| rows.last().map(|m| m.id.to_string()))
        .flatten();
    Ok(Json(ByHandPage {
        items: rows.into_iter().map(ByHandView::from).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MessagePath {
    pub id: i64,
}

/// Marks a message sent by hand (audited).
#[utoipa::path(
    post,
    path = "/outbox/{id}/sent",
    tag = "outbox",
    params(MessagePath),
    responses(
        (status = 200, description = "Marked sent", body = ByHandView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or station staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such message (or about a drive outside the caller's scope)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The message is not waiting to be sent by hand", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(message_id = path.id))]
async fn mark_sent(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<MessagePath>,
) -> Result<Json<ByHandView>, AppError> {
    let reach = sender_by_hand(&caller)?;
    let sent = by_hand::mark_sent(&state.db, path.id, &reach, caller.actor(), Utc::now()).await?;
    Ok(Json(ByHandView::from(sent)))
}

/// Sends a failed message again: it goes back to the queue with no attempts, and the next run
/// hands it to the sender (audited; admins of the whole outbox).
#[utoipa::path(
    post,
    path = "/outbox/{id}/retry",
    tag = "outbox",
    params(MessagePath),
    responses(
        (status = 200, description = "Queued again", body = MessageView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an unbounded admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such message", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The message is not failed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(message_id = path.id))]
async fn retry_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<MessagePath>,
) -> Result<Json<MessageView>, AppError> {
    admin(&caller)?;
    let queued = outbox::retry(&state.db, path.id, caller.actor(), Utc::now()).await?;
    Ok(Json(MessageView::from(queued)))
}
