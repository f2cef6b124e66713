//! Messages to donors: the outbox and its senders (issue 6).
//!
//! Every message (booking confirmation, the day-before and two-hours-before reminders, a
//! reschedule notice, a cancellation) is a row in `outbox_messages` with a unique
//! `dedupe_key`: confirmations, reschedules and cancellations are written in the transaction
//! that books, moves or cancels, and reminders by [`scan_reminders`], which inserts with
//! `ON CONFLICT DO NOTHING`. So each message is generated exactly once, however often the scan
//! runs and across restarts.
//!
//! [`dispatch`] hands pending messages to the configured [`Sender`] and records the outcome
//! (`sent`, or a retry with backoff, or `failed` after [`MAX_ATTEMPTS`]). A sender that only
//! hands messages to people ([`Sender::by_hand`]: the `log` sender) records them
//! `to_send_by_hand` instead: nothing has left the station until staff send each one and mark
//! it sent (`/api/v1/outbox/by-hand`).
//!
//! Messages caused by public requests beyond their recipient's daily cap are written
//! `suppressed` (see `store::outbox::enqueue_capped`) and never dispatched. Delivery is
//! at-least-once: a crash between a gateway accepting a message and the row being marked sent
//! would send it again on restart, so the webhook carries the message's `dedupe_key` as an
//! `Idempotency-Key` for the gateway to drop repeats.

pub mod by_hand;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use entity::{booking, drive_stop, outbox_message};
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;

use crate::config::OutboxConfig;
use crate::domain::booking::{self as rules, MessageFacts};
use crate::store::audit::{self, Actor, Change};
use crate::store::outbox::{self as store, NewMessage};
pub use crate::store::outbox::{SUPPRESSED, TO_SEND_BY_HAND};
use crate::store::{bookings, points};

/// Attempts before a message is given up (`failed`).
pub const MAX_ATTEMPTS: i32 = 8;
/// Messages handed to the sender per run.
const BATCH: u64 = 200;

/// The result of one delivery attempt: `Err` with what went wrong.
pub type Delivery<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Where messages go. Implement it for a new gateway and choose it in [`sender_from`].
pub trait Sender: Send + Sync {
    /// For the log.
    fn name(&self) -> &'static str;
    fn send<'a>(&'a self, message: &'a outbox_message::Model) -> Delivery<'a>;
    /// True when `send` delivers nothing itself but hands the message to staff, who send it
    /// by hand: the message is then recorded `to_send_by_hand`, not `sent`.
    fn by_hand(&self) -> bool {
        false
    }
}

/// The default: the outbox table is the record, and each message is written to the log and
/// left `to_send_by_hand` for staff who send by hand.
pub struct LogSender;

impl Sender for LogSender {
    fn name(&self) -> &'static str {
        "log"
    }

    fn by_hand(&self) -> bool {
        true
    }

    fn send<'a>(&'a self, message: &'a outbox_message::Model) -> Delivery<'a> {
        Box::pin(async move {
            tracing::info!(
                id = message.id,
                kind = %message.kind,
                recipient = %crate::domain::point::mask_phone(&message.recipient),
                // Not the link's token: logs are kept and read by more people than the outbox.
                body = %rules::without_token(&message.body),
                "message to a donor"
            );
            Ok(())
        })
    }
}

/// Posts each message as JSON to a URL.
pub struct WebhookSender {
    url: String,
    client: reqwest::Client,
}

/// What the webhook receives.
#[derive(Debug, Serialize)]
pub struct WebhookPayload<'a> {
    pub id: i64,
    pub dedupe_key: &'a str,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub body: &'a str,
    pub booking_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl WebhookSender {
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(url: String) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(StdDuration::from_secs(10))
            .build()?;
        Ok(Self { url, client })
    }
}

impl Sender for WebhookSender {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(&'a self, message: &'a outbox_message::Model) -> Delivery<'a> {
        Box::pin(async move {
            let payload = WebhookPayload {
                id: message.id,
                dedupe_key: &message.dedupe_key,
                kind: &message.kind,
                recipient: &message.recipient,
                body: &message.body,
                booking_id: message.booking_id,
                created_at: message.created_at,
            };
            let response = self
                .client
                .post(&self.url)
                .header("Idempotency-Key", &message.dedupe_key)
                .json(&payload)
                .send()
                .await
                .map_err(|e| format!("webhook: {e}"))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(format!("webhook answered {}", response.status()))
            }
        })
    }
}

/// The sender the configuration names.
///
/// # Errors
/// A webhook without a URL, or a URL that is not `http://`.
pub fn sender_from(config: &OutboxConfig) -> anyhow::Result<Arc<dyn Sender>> {
    match config.outbox_sender.as_str() {
        "webhook" => {
            let url = config
                .outbox_webhook_url
                .clone()
                .ok_or_else(|| anyhow::anyhow!("--outbox-webhook-url is required"))?;
            let parsed = url::Url::parse(&url)
                .map_err(|e| anyhow::anyhow!("--outbox-webhook-url {url:?}: {e}"))?;
            anyhow::ensure!(
                parsed.scheme() == "http",
                "--outbox-webhook-url must be an http:// URL (TLS is for a proxy in front)"
            );
            Ok(Arc::new(WebhookSender::new(url)?))
        }
        _ => Ok(Arc::new(LogSender)),
    }
}

/// The facts of a booking's messages.
pub async fn facts_for<'a>(
    db: &impl sea_orm::ConnectionTrait,
    booking: &'a booking::Model,
    stop: &'a drive_stop::Model,
    date: chrono::NaiveDate,
    starts: i32,
    address: &'a mut Option<String>,
) -> Result<MessageFacts<'a>, DbErr> {
    if let Some(point_id) = stop.point_id {
        *address = points::find(db, point_id).await?.and_then(|p| p.address);
    }
    Ok(MessageFacts {
        name: &booking.name,
        code: &booking.code,
        stop: &stop.name,
        address: address.as_deref(),
        date,
        starts,
        headcount: booking.headcount,
        reason: None,
        // Reminders: the token is not known after the booking was made.
        link: None,
    })
}

/// Writes the reminders due at `now` that were not written before; how many were written.
///
/// A reminder to a donor on the roster ends with a link that withdraws their consent (absolute
/// when `public_url`, the site's public address, is known); each reminder is written in a
/// transaction of its own with its link, so a reminder written before leaves no link behind.
///
/// # Errors
/// The database fails.
pub async fn scan_reminders(
    db: &DatabaseConnection,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let today = rules::today_in_china(now);
    let active = bookings::active_between(db, today, today + Duration::days(1)).await?;
    let ids: Vec<i64> = active.iter().map(|(b, _, _)| b.id).collect();
    let parts = bookings::parts_of(db, &ids).await?;
    let stop_ids: Vec<i64> = active.iter().map(|(_, s, _)| s.id).collect();
    let slots = bookings::slots_of(db, &stop_ids).await?;
    let mut written = 0;
    for (booking, stop, date) in &active {
        let Some(mobile) = &booking.mobile else {
            continue;
        };
        let Some(first) = parts
            .iter()
            .filter(|p| p.booking_id == booking.id)
            .filter_map(|p| slots.iter().find(|s| s.id == p.slot_id))
            .map(|s| s.starts)
            .min()
        else {
            continue;
        };
        let starts = rules::instant(*date, first);
        let Some(kind) = rules::reminder_due(starts, booking.created_at, now) else {
            continue;
        };
        let mut address = None;
        let facts = facts_for(db, booking, stop, *date, first, &mut address).await?;
        let txn = crate::db::begin_write(db).await?;
        let mut body = rules::message_body(kind, &facts);
        if let Some(line) =
            crate::recruitment::roster::withdraw_line(&txn, mobile, public_url, now).await?
        {
            body.push_str(&line);
        }
        let added = store::enqueue(
            &txn,
            NewMessage {
                dedupe_key: store::booking_key(booking.id, kind, None),
                kind,
                booking_id: Some(booking.id),
                request_id: None,
                recipient: mobile.clone(),
                body,
            },
            now,
        )
        .await?;
        if added {
            txn.commit().await?;
        } else {
            txn.rollback().await?;
        }
        written += usize::from(added);
    }
    Ok(written)
}

/// What one dispatch run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Dispatched {
    pub sent: usize,
    pub failed: usize,
    /// Handed to staff to send by hand (the `log` sender).
    pub by_hand: usize,
}

/// Sends the pending messages due at `now`, each claimed first (see `store::outbox::claim_due`),
/// so that instances dispatching at once never send one message twice.
///
/// # Errors
/// The database fails.
pub async fn dispatch(
    db: &DatabaseConnection,
    sender: &dyn Sender,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Dispatched, DbErr> {
    let mut out = Dispatched::default();
    let mut claimed = 0;
    // A few at a time, so that a claim never outlives its lease (`store::outbox::CLAIM_LEASE`)
    // even when every delivery runs to the sender's timeout.
    while claimed < BATCH {
        let chunk = store::claim_due(db, store::Queue::Donors, now, CLAIM_CHUNK).await?;
        if chunk.is_empty() {
            break;
        }
        claimed += chunk.len() as u64;
        deliver_chunk(db, sender, public_url, chunk, &mut out).await?;
    }
    Ok(out)
}

/// Messages claimed at once by a dispatcher: 10 deliveries at the senders' 10-second timeout
/// take 100 seconds, well within a claim's 5 minutes.
pub const CLAIM_CHUNK: u64 = 10;

async fn deliver_chunk(
    db: &DatabaseConnection,
    sender: &dyn Sender,
    public_url: Option<&str>,
    chunk: Vec<entity::outbox_message::Model>,
    out: &mut Dispatched,
) -> Result<(), DbErr> {
    for mut message in chunk {
        // A withdrawal link written where the public address was not known leaves whole.
        message.body = crate::domain::recruitment::with_site(&message.body, public_url);
        match sender.send(&message).await {
            Ok(()) if sender.by_hand() => {
                if store::mark_by_hand(db, message.id, &message.body).await? {
                    out.by_hand += 1;
                }
            }
            Ok(()) => {
                let kept = rules::without_token(&message.body);
                if store::mark_sent(db, message.id, &kept, Utc::now()).await? {
                    out.sent += 1;
                }
            }
            Err(error) => {
                let attempts = message.attempts + 1;
                let retry_at = (attempts < MAX_ATTEMPTS)
                    .then(|| Utc::now() + Duration::seconds(30 * (1 << attempts.min(10))));
                tracing::warn!(id = message.id, attempts, %error, sender = sender.name(), "message not delivered");
                let kept = rules::without_token(&message.body);
                store::mark_failed(db, message.id, &error, retry_at, &kept).await?;
                out.failed += 1;
            }
        }
    }
    Ok(())
}

/// Days after a drive that its bookings' mobiles are kept (messages sent, check-in done,
/// a month for follow-up calls).
pub const KEEP_BOOKING_MOBILES_DAYS: i64 = 30;

/// Erases the mobiles no drive needs any more (see `store::bookings::erase_mobiles`): those of
/// bookings [`KEEP_BOOKING_MOBILES_DAYS`] after their drive, and those of attendances once the
/// 180-day donation interval has passed.
///
/// # Errors
/// The database fails.
pub async fn erase_old_mobiles(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let today = rules::today_in_china(now);
    bookings::erase_mobiles(
        db,
        today - Duration::days(KEEP_BOOKING_MOBILES_DAYS),
        today - Duration::days(crate::domain::donation::DONATION_INTERVAL_DAYS),
    )
    .await
}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Run {
    /// Reminders written (each is written once, however often the outbox runs).
    pub reminders: usize,
    pub dispatched: Dispatched,
    /// Appeals' messages to chat groups, posted to their WeCom robots.
    pub to_groups: Dispatched,
    /// Rows whose mobile was erased because no drive needs it any more.
    pub erased: u64,
}

/// One run: write the reminders due, send what is pending (messages to donors through
/// `sender`, appeals to chat groups through `groups`, whatever `sender` is), erase the mobiles
/// no drive needs.
///
/// # Errors
/// The database fails.
pub async fn run_once(
    db: &DatabaseConnection,
    sender: &dyn Sender,
    groups: &crate::appeals::wecom::WeCom,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Run, DbErr> {
    let reminders = scan_reminders(db, public_url, now).await?;
    let dispatched = dispatch(db, sender, public_url, now).await?;
    let to_groups = crate::appeals::dispatch(db, groups, now).await?;
    let erased = erase_old_mobiles(db, now).await?;
    crate::bookings::throttle::forget_old(db, Utc::now()).await?;
    Ok(Run {
        reminders,
        dispatched,
        to_groups,
        erased,
    })
}

/// Runs the outbox every `interval` until the process stops.
pub fn spawn(
    db: DatabaseConnection,
    sender: Arc<dyn Sender>,
    groups: Arc<crate::appeals::wecom::WeCom>,
    public_url: Option<String>,
    interval: StdDuration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match run_once(
                &db,
                sender.as_ref(),
                groups.as_ref(),
                public_url.as_deref(),
                Utc::now(),
            )
            .await
            {
                Ok(run) if run != Run::default() => {
                    tracing::info!(
                        reminders = run.reminders,
                        sent = run.dispatched.sent,
                        failed = run.dispatched.failed,
                        by_hand = run.dispatched.by_hand,
                        to_groups = run.to_groups.sent,
                        to_groups_failed = run.to_groups.failed,
                        erased = run.erased,
                        "outbox run"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox run failed"),
            }
        }
    })
}

/// At most `limit` messages (of `booking_id`, with `status`, before `before_id` when given),
/// newest first, their links without tokens.
///
/// # Errors
/// The database fails.
pub async fn list_messages(
    db: &impl sea_orm::ConnectionTrait,
    booking_id: Option<i64>,
    status: Option<&str>,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<outbox_message::Model>, DbErr> {
    let mut messages = store::list(db, booking_id, status, before_id, limit).await?;
    // The listing is for watching the outbox, not for opening donors' bookings.
    for message in &mut messages {
        message.body = rules::without_token(&message.body);
    }
    Ok(messages)
}

/// Why a message could not be sent again.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    /// No such message.
    #[error("no message with id {0}")]
    NotFound(i64),
    /// Only a message given up (`failed`) is sent again.
    #[error("message {id} is {status}, not failed")]
    NotFailed { id: i64, status: String },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Sends a failed message again: it becomes `pending`, due at `now`, with its attempts
/// counted afresh, so the next run hands it to the sender; audited (`retry`) in the same
/// transaction. Who may (admins of the whole outbox, as for its listing) is the caller's to
/// check.
///
/// # Errors
/// [`RetryError::NotFound`], [`RetryError::NotFailed`] when it is not `failed`; the database
/// fails.
pub async fn retry(
    db: &DatabaseConnection,
    id: i64,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<outbox_message::Model, RetryError> {
    let current = store::find(db, id).await?.ok_or(RetryError::NotFound(id))?;
    let txn = crate::db::begin_write(db).await?;
    let Some(queued) = store::retry_failed(&txn, id, now).await? else {
        txn.rollback().await?;
        return Err(RetryError::NotFailed {
            id,
            status: current.status,
        });
    };
    let state = |m: &outbox_message::Model| {
        serde_json::json!({
            "status": m.status,
            "attempts": m.attempts,
            "last_error": m.last_error,
        })
    };
    audit::record(
        &txn,
        Change {
            entity: "outbox_message",
            entity_id: id.to_string(),
            action: "retry",
            region_code: None,
            before: Some(&state(&current)),
            after: Some(&state(&queued)),
            actor,
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    let mut queued = queued;
    queued.body = rules::without_token(&queued.body);
    Ok(queued)
}
