//! The audit log: one record per change, written in the change's own transaction.

use chrono::{DateTime, Utc};
use entity::audit_log::{self, Column, Entity as AuditLog};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;

use crate::domain::policy::Visibility;

/// Who made a change: the name shown (`alice`, `alice (token: sync)`), the user and the token.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub name: Option<String>,
    pub user_id: Option<i64>,
    pub token_id: Option<i64>,
}

impl Actor {
    /// Changes made from the command line on the server itself.
    pub fn command_line() -> Self {
        Actor {
            name: Some("command line".to_owned()),
            ..Actor::default()
        }
    }

    /// The demo data (`seed-data/`), loaded by `serve` into an empty database or by
    /// `donornet seed-demo`.
    pub fn demo_data() -> Self {
        Actor {
            name: Some("demo data".to_owned()),
            ..Actor::default()
        }
    }
}

/// What changed, for [`record`].
pub struct Change<'a, T: Serialize> {
    pub entity: &'a str,
    pub entity_id: String,
    /// `create`, `update` or `close`.
    pub action: &'a str,
    pub region_code: Option<String>,
    pub before: Option<&'a T>,
    pub after: Option<&'a T>,
    pub actor: Actor,
    pub at: DateTime<Utc>,
}

/// Writes one audit record. Call it inside the transaction of the change it describes.
pub async fn record<T: Serialize>(
    db: &impl ConnectionTrait,
    change: Change<'_, T>,
) -> Result<(), DbErr> {
    let json = |v: Option<&T>| {
        v.map(|v| serde_json::to_string(v).map_err(|e| DbErr::Custom(format!("audit JSON: {e}"))))
            .transpose()
    };
    AuditLog::insert(audit_log::ActiveModel {
        at: Set(change.at),
        actor: Set(change.actor.name),
        actor_user_id: Set(change.actor.user_id),
        actor_token_id: Set(change.actor.token_id),
        entity: Set(change.entity.to_owned()),
        entity_id: Set(change.entity_id),
        action: Set(change.action.to_owned()),
        region_code: Set(change.region_code),
        before: Set(json(change.before)?),
        after: Set(json(change.after)?),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Filters of [`list`].
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Only changes of this action (`create`, `update`, …).
    pub action: Option<String>,
    /// Never changes to these kinds of entity.
    pub exclude_entities: Vec<String>,
    /// Only changes made by this user.
    pub actor_user_id: Option<i64>,
    /// Only changes to records in this inclusive region-code range.
    pub region_range: Option<(String, String)>,
    /// Only changes to records inside the caller's reach (`None`: no restriction).
    pub reach: Option<Visibility>,
    /// Only changes at or after this instant…
    pub from: Option<DateTime<Utc>>,
    /// …and before this one.
    pub to: Option<DateTime<Utc>>,
    /// Only records newer than this id (the cursor, oldest first).
    pub after_id: Option<i64>,
    /// Only records older than this id (the cursor, newest first).
    pub before_id: Option<i64>,
    /// Newest first (else oldest first).
    pub newest_first: bool,
    pub limit: u64,
}

/// Audit records, oldest first (newest first with `newest_first`).
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
) -> Result<Vec<audit_log::Model>, DbErr> {
    let mut query = AuditLog::find();
    if let Some(entity) = &filter.entity {
        query = query.filter(Column::Entity.eq(entity.as_str()));
    }
    if let Some(id) = &filter.entity_id {
        query = query.filter(Column::EntityId.eq(id.as_str()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(Column::Action.eq(action.as_str()));
    }
    if !filter.exclude_entities.is_empty() {
        query = query
            .filter(Column::Entity.is_not_in(filter.exclude_entities.iter().map(String::as_str)));
    }
    if let Some(user) = filter.actor_user_id {
        query = query.filter(Column::ActorUserId.eq(user));
    }
    if let Some((lo, hi)) = &filter.region_range {
        query = query.filter(Column::RegionCode.between(lo.as_str(), hi.as_str()));
    }
    if let Some(condition) = filter
        .reach
        .as_ref()
        .and_then(|reach| super::within(Column::RegionCode, reach))
    {
        query = query.filter(condition);
    }
    if let Some(from) = filter.from {
        query = query.filter(Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(Column::At.lt(to));
    }
    if let Some(after) = filter.after_id {
        query = query.filter(Column::Id.gt(after));
    }
    if let Some(before) = filter.before_id {
        query = query.filter(Column::Id.lt(before));
    }
    query = if filter.newest_first {
        query.order_by_desc(Column::Id)
    } else {
        query.order_by_asc(Column::Id)
    };
    query.limit(filter.limit).all(db).await
}
