//! Reading the audit log (`GET /api/v1/audit`, the admin's audit page); changes are recorded
//! by the services that make them, in their transactions.
//!
//! [`read`] is the one reading with its rules: admins and station staff see every change
//! inside their regions, township officials and viewers their own; changes to accounts and
//! tokens only those who manage accounts (a region-bound admin: of the accounts it manages).

use chrono::{DateTime, Datelike, Utc};
use entity::audit_log;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::accounts::{tokens, users};
use crate::domain::account::Principal;
use crate::domain::policy::{self, AuditScope, Visibility};
use crate::domain::region::RegionCode;
use crate::registry::{self, RegistryError};
use crate::store::audit::Actor;
pub use crate::store::audit::AuditFilter;

/// The records matching `filter`, oldest first (newest first with `newest_first`).
///
/// # Errors
/// The database fails.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
) -> Result<Vec<audit_log::Model>, DbErr> {
    crate::store::audit::list(db, filter).await
}

/// What to read of the audit log (see [`read`]).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only changes to this kind of entity (`point`, …).
    pub entity: Option<String>,
    /// Only changes to this entity (with `entity`).
    pub entity_id: Option<String>,
    /// Only changes of this action (`create`, `update`, …).
    pub action: Option<String>,
    /// Only changes made by this user (username, any case).
    pub user: Option<String>,
    /// Only changes to records in this region's subtree (a 12-digit code).
    pub region: Option<String>,
    /// Only changes at or after this instant…
    pub from: Option<DateTime<Utc>>,
    /// …and before this one.
    pub to: Option<DateTime<Utc>>,
    /// The last record of the page before (the cursor).
    pub cursor: Option<i64>,
    /// At most this many records.
    pub limit: u64,
    /// Newest first (else oldest first).
    pub newest_first: bool,
}

/// One page of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditPage {
    pub records: Vec<audit_log::Model>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<i64>,
}

/// Why the audit log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A filter that does not validate.
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    /// The region filter is not one the reader reaches (or does not exist).
    #[error(transparent)]
    Region(#[from] RegistryError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn invalid(field: &str, message: &str) -> AuditError {
    AuditError::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

/// The entities that are accounts, or belong to one.
const ACCOUNT_ENTITIES: &[&str] = &["user", "token"];

/// For account records: whether the account (as it is now) is one `principal` manages. Other
/// records: true.
async fn managed_account(
    db: &DatabaseConnection,
    principal: &Principal,
    record: &audit_log::Model,
) -> Result<bool, DbErr> {
    let Ok(id) = record.entity_id.parse::<i64>() else {
        return Ok(true);
    };
    let user_id = match record.entity.as_str() {
        "user" => Some(id),
        "token" => tokens::find_token(db, id).await?.map(|t| t.user_id),
        _ => return Ok(true),
    };
    let Some(user_id) = user_id else {
        return Ok(false);
    };
    Ok(match users::find_user(db, user_id).await? {
        Some(user) => user.id == principal.user_id || crate::accounts::manages(principal, &user),
        None => false,
    })
}

/// The changes `principal` may see that match `query`, a page at a time.
///
/// # Errors
/// [`AuditError::Invalid`] for a filter that does not validate (the first one named);
/// [`AuditError::Region`] when the region is out of the reader's reach or does not exist;
/// database errors.
pub async fn read(
    db: &DatabaseConnection,
    query: AuditQuery,
    principal: &Principal,
    actor: Actor,
) -> Result<AuditPage, AuditError> {
    for (field, value) in [
        ("entity", &query.entity),
        ("id", &query.entity_id),
        ("user", &query.user),
        ("action", &query.action),
    ] {
        if let Some(v) = value
            && (v.chars().count() > 64 || v.chars().any(char::is_control))
        {
            return Err(invalid(
                field,
                "must be at most 64 characters, without control characters",
            ));
        }
    }
    if query.entity_id.is_some() && query.entity.is_none() {
        return Err(invalid("id", "needs entity (ids are per kind of entity)"));
    }
    for (field, at) in [("from", query.from), ("to", query.to)] {
        if at.is_some_and(|at| !(1900..=9999).contains(&at.year())) {
            return Err(invalid(field, "must lie between the years 1900 and 9999"));
        }
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from >= to
    {
        return Err(invalid("to", "must be after from"));
    }
    let empty = AuditPage::default();
    let limit = query.limit.max(1);
    let mut filter = AuditFilter {
        entity: query.entity,
        entity_id: query.entity_id,
        action: query.action,
        from: query.from,
        to: query.to,
        newest_first: query.newest_first,
        limit: limit + 1,
        ..AuditFilter::default()
    };
    if query.newest_first {
        filter.before_id = query.cursor;
    } else {
        filter.after_id = query.cursor;
    }
    match policy::audit_scope(principal) {
        AuditScope::Own => filter.actor_user_id = Some(principal.user_id),
        AuditScope::Everyone(reach) => filter.reach = Some(reach),
    }
    // Changes to accounts and tokens are for those who manage accounts (and, through `Own`,
    // for whoever made them).
    let account_manager = policy::manages_accounts(principal);
    if !account_manager && filter.actor_user_id.is_none() {
        filter.exclude_entities = ACCOUNT_ENTITIES.iter().map(|e| (*e).to_owned()).collect();
    }
    if let Some(name) = query.user.as_deref().map(str::trim).map(str::to_lowercase) {
        let Some(user) = users::find_user_named(db, &name).await? else {
            return Ok(empty);
        };
        if filter.actor_user_id.is_some_and(|own| own != user.id) {
            return Ok(empty);
        }
        filter.actor_user_id = Some(user.id);
    }
    if let Some(raw) = query.region.as_deref() {
        let code = RegionCode::parse(raw)
            .map_err(|_| invalid("region", "must be a 12-digit region code"))?;
        let acting = registry::Acting::caller(Some(principal), actor);
        let region = registry::regions::read(db, &code, &acting).await?;
        filter.region_range = Some(code.subtree_bounds(region.level));
    }
    // A region-bound admin sees account changes only for accounts it manages, which a region
    // column cannot express (an account may be bound to several regions): filter here, page
    // by page.
    let check_accounts = account_manager && policy::read_scope(principal) != Visibility::All;
    let mut records = Vec::new();
    let mut next_cursor = None;
    'fill: loop {
        let batch = list(db, &filter).await?;
        let full = batch.len() as u64 == filter.limit;
        let Some(last) = batch.last() else { break };
        if filter.newest_first {
            filter.before_id = Some(last.id);
        } else {
            filter.after_id = Some(last.id);
        }
        for record in batch {
            if check_accounts && !managed_account(db, principal, &record).await? {
                continue;
            }
            if records.len() as u64 == limit {
                next_cursor = records.last().map(|r: &audit_log::Model| r.id);
                break 'fill;
            }
            records.push(record);
        }
        if !full {
            break;
        }
    }
    Ok(AuditPage {
        records,
        next_cursor,
    })
}
