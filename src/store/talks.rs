//! Queries over `publicity_talks`.

use chrono::{DateTime, NaiveDate, Utc};
use entity::publicity_talk::{self, Column, Entity as TalkEntity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::domain::policy::Visibility;
use crate::domain::region::RegionCode;

/// A talk's fields as validated by the service, ready to store.
#[derive(Debug, Clone)]
pub struct TalkFields {
    pub region_code: RegionCode,
    pub host_id: Option<i64>,
    pub held_on: NaiveDate,
    pub speaker: String,
    pub audience: i32,
    pub audience_description: Option<String>,
    pub materials: String,
    pub notes: Option<String>,
}

/// Stores a new talk.
pub async fn insert(
    db: &impl ConnectionTrait,
    fields: TalkFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<publicity_talk::Model, DbErr> {
    let model = publicity_talk::ActiveModel {
        region_code: Set(fields.region_code.to_string()),
        host_id: Set(fields.host_id),
        held_on: Set(fields.held_on),
        speaker: Set(fields.speaker),
        audience: Set(fields.audience),
        audience_description: Set(fields.audience_description),
        materials: Set(fields.materials),
        notes: Set(fields.notes),
        created_at: Set(now),
        created_by: Set(actor),
        ..Default::default()
    };
    TalkEntity::insert(model).exec_with_returning(db).await
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<publicity_talk::Model>, DbErr> {
    TalkEntity::find_by_id(id).one(db).await
}

/// Removes talk `id`; whether there was one.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    Ok(TalkEntity::delete_by_id(id).exec(db).await?.rows_affected > 0)
}

/// Where a page of talks starts: after this talk in newest-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TalkCursor {
    pub held_on: NaiveDate,
    pub id: i64,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct TalkFilter {
    /// Inclusive code range of the region subtree.
    pub region_range: Option<(String, String)>,
    pub host_id: Option<i64>,
    /// Held on or after this day.
    pub from: Option<NaiveDate>,
    /// Held on or before this day.
    pub to: Option<NaiveDate>,
    pub after: Option<TalkCursor>,
    pub limit: Option<u64>,
    /// Only talks inside the caller's reach (`None`: no restriction).
    pub reach: Option<Visibility>,
}

/// Talks matching `filter`, newest first (by the day held, then the latest recorded).
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &TalkFilter,
) -> Result<Vec<publicity_talk::Model>, DbErr> {
    let mut query = TalkEntity::find();
    if let Some((lo, hi)) = &filter.region_range {
        query = query.filter(Column::RegionCode.between(lo.as_str(), hi.as_str()));
    }
    if let Some(host) = filter.host_id {
        query = query.filter(Column::HostId.eq(host));
    }
    if let Some(from) = filter.from {
        query = query.filter(Column::HeldOn.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(Column::HeldOn.lte(to));
    }
    if let Some(after) = filter.after {
        query = query.filter(
            Condition::any().add(Column::HeldOn.lt(after.held_on)).add(
                Condition::all()
                    .add(Column::HeldOn.eq(after.held_on))
                    .add(Column::Id.lt(after.id)),
            ),
        );
    }
    if let Some(condition) = filter
        .reach
        .as_ref()
        .and_then(|reach| super::within(Column::RegionCode, reach))
    {
        query = query.filter(condition);
    }
    if let Some(limit) = filter.limit {
        query = query.limit(limit);
    }
    query
        .order_by_desc(Column::HeldOn)
        .order_by_desc(Column::Id)
        .all(db)
        .await
}
