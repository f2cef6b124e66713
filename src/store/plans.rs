//! Queries over `plans`: a row per drive plan, written when the plan is accepted and again
//! when it starts and finishes (never on every progress report: live progress is in memory).

use chrono::{DateTime, Utc};
use entity::plan::{self, Column, Entity as Plan};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::plan::PlanStatus;
use crate::domain::policy::Visibility;

/// A plan to record.
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub region_code: String,
    /// JSON.
    pub request: String,
    /// JSON.
    pub instance: String,
    pub seed: i64,
    pub created_by: Option<String>,
}

/// Records an accepted plan, queued.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewPlan,
    now: DateTime<Utc>,
) -> Result<plan::Model, DbErr> {
    Plan::insert(plan::ActiveModel {
        region_code: Set(new.region_code),
        status: Set(PlanStatus::Queued.as_str().to_owned()),
        request: Set(new.request),
        instance: Set(Some(new.instance)),
        result: Set(None),
        error: Set(None),
        progress: Set(0),
        objective: Set(None),
        seed: Set(new.seed),
        created_by: Set(new.created_by),
        created_at: Set(now),
        finished_at: Set(None),
        version: Set(1),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<plan::Model>, DbErr> {
    Plan::find_by_id(id).one(db).await
}

/// The plan, its row locked until the transaction ends (accepting a plan twice at once:
/// the second waits, then sees the first's drives; SQLite's write transactions serialise
/// anyway).
pub async fn lock(db: &impl ConnectionTrait, id: i64) -> Result<Option<plan::Model>, DbErr> {
    Plan::find_by_id(id).lock_exclusive().one(db).await
}

/// Marks a queued plan running.
pub async fn set_running(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    Plan::update_many()
        .col_expr(Column::Status, Expr::value(PlanStatus::Running.as_str()))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(PlanStatus::Queued.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a finished plan's result.
pub async fn set_done(
    db: &impl ConnectionTrait,
    id: i64,
    result: String,
    objective: f64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Plan::update_many()
        .col_expr(Column::Status, Expr::value(PlanStatus::Done.as_str()))
        .col_expr(Column::Result, Expr::value(result))
        .col_expr(Column::Objective, Expr::value(objective))
        .col_expr(Column::Progress, Expr::value(100))
        .col_expr(Column::FinishedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records why a plan failed.
pub async fn set_failed(
    db: &impl ConnectionTrait,
    id: i64,
    error: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Plan::update_many()
        .col_expr(Column::Status, Expr::value(PlanStatus::Failed.as_str()))
        .col_expr(Column::Error, Expr::value(error))
        .col_expr(Column::FinishedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The error of plans a restart interrupted.
pub const INTERRUPTED: &str = "interrupted by a restart";

/// Marks every plan still queued or running failed ("interrupted by a restart"): at start-up,
/// no planner is running yet, so such a plan's process is gone. Returns how many.
pub async fn fail_interrupted(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let result = Plan::update_many()
        .col_expr(Column::Status, Expr::value(PlanStatus::Failed.as_str()))
        .col_expr(Column::Error, Expr::value(INTERRUPTED))
        .col_expr(Column::FinishedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Status.is_in([PlanStatus::Queued.as_str(), PlanStatus::Running.as_str()]))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// A plan as listed (without its documents).
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct PlanSummary {
    pub id: i64,
    pub region_code: String,
    pub status: String,
    pub progress: i32,
    pub objective: Option<f64>,
    pub seed: i64,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    /// Inclusive code range of the region subtree.
    pub region_range: Option<(String, String)>,
    pub statuses: Vec<&'static str>,
    /// Only ids below this one (the listing is newest first).
    pub before_id: Option<i64>,
    pub limit: u64,
    /// Only plans inside the caller's reach (`None`: no restriction).
    pub reach: Option<Visibility>,
}

/// Plans matching `filter`, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &PlanFilter,
) -> Result<Vec<PlanSummary>, DbErr> {
    let mut query = Plan::find().select_only().columns([
        Column::Id,
        Column::RegionCode,
        Column::Status,
        Column::Progress,
        Column::Objective,
        Column::Seed,
        Column::CreatedBy,
        Column::CreatedAt,
        Column::FinishedAt,
    ]);
    if let Some((lo, hi)) = &filter.region_range {
        query = query.filter(Column::RegionCode.between(lo.as_str(), hi.as_str()));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(Column::Status.is_in(filter.statuses.iter().copied()));
    }
    if let Some(before) = filter.before_id {
        query = query.filter(Column::Id.lt(before));
    }
    if let Some(condition) = filter
        .reach
        .as_ref()
        .and_then(|reach| super::within(Column::RegionCode, reach))
    {
        query = query.filter(condition);
    }
    query
        .order_by_desc(Column::Id)
        .limit(filter.limit)
        .into_model::<PlanSummary>()
        .all(db)
        .await
}
