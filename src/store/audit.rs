//! The audit log: one record per change, written in the change's own transaction.

use chrono::{DateTime, Utc};
use entity::audit_log::{self, Column, Entity as AuditLog};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;

/// What changed, for [`record`].
pub struct Change<'a, T: Serialize> {
    pub entity: &'a str,
    pub entity_id: String,
    /// `create`, `update` or `close`.
    pub action: &'a str,
    pub region_code: Option<String>,
    pub before: Option<&'a T>,
    pub after: Option<&'a T>,
    pub actor: Option<String>,
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
        actor: Set(change.actor),
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
    /// Only records newer than this id (the cursor).
    pub after_id: Option<i64>,
    pub limit: u64,
}

/// Audit records, oldest first.
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
    if let Some(after) = filter.after_id {
        query = query.filter(Column::Id.gt(after));
    }
    query
        .order_by_asc(Column::Id)
        .limit(filter.limit)
        .all(db)
        .await
}
