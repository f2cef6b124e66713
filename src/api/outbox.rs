//! `/api/v1/outbox`: the messages to donors (booking confirmations, reminders, cancellation
//! notices) and their delivery, for admins: what was sent, what failed and why, and a run on
//! demand (the server also runs the outbox every `--outbox-interval-secs`).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use entity::outbox_message;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Query, id_cursor, page_limit, paginate};
use crate::domain::point::mask_phone;
use crate::domain::policy::{Action, Resource};
use crate::error::{AppError, Problem};
use crate::outbox::{self, Run};
use crate::state::AppState;
use crate::store::outbox as store;

const STATUSES: &[&str] = &["pending", "sent", "failed", "void"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages))
        .routes(routes!(run_outbox))
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
    /// `pending`, `sent`, `failed` (given up) or `void` (its booking was cancelled first).
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
    /// `pending`, `sent`, `failed` or `void`.
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
    let rows = store::list(
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
        outbox::run_once(&state.db, state.sender.as_ref(), Utc::now()).await?,
    ))
}
