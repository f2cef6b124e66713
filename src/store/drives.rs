//! Queries over `drives` and `drive_stops`. A vehicle has at most one drive a day that is
//! not cancelled: [`taken`] checks it inside the creating transaction (the schema cannot say
//! it portably; see the migration `m20261126_000008_create_drives`).

use chrono::{DateTime, NaiveDate, Utc};
use entity::drive::{self, Column, Entity as Drive};
use entity::drive_stop::{self, Entity as DriveStop};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::drive::DriveStatus;
use crate::domain::policy::Visibility;

/// A stop to record.
#[derive(Debug, Clone)]
pub struct NewStop {
    pub site_id: String,
    pub point_id: Option<i64>,
    pub region_code: String,
    pub name: String,
    /// Minutes after midnight.
    pub planned_start: i32,
    pub planned_end: i32,
    pub expected_donors: f64,
    /// The host, for a stop at a host organisation.
    pub host_id: Option<i64>,
    /// How many the host hopes will sign up.
    pub signup_goal: Option<i32>,
}

/// A drive to record, as a draft.
#[derive(Debug, Clone)]
pub struct NewDrive {
    pub plan_id: Option<i64>,
    pub vehicle_id: i64,
    pub date: NaiveDate,
    pub region_code: String,
    pub stops: Vec<NewStop>,
    pub created_by: Option<String>,
}

/// The drive that is not cancelled of `vehicle_id` on `date`, if any. Call it in the
/// transaction that inserts, before inserting.
pub async fn taken(
    db: &impl ConnectionTrait,
    vehicle_id: i64,
    date: NaiveDate,
) -> Result<Option<drive::Model>, DbErr> {
    Drive::find()
        .filter(Column::VehicleId.eq(vehicle_id))
        .filter(Column::Date.eq(date))
        .filter(Column::Status.ne(DriveStatus::Cancelled.as_str()))
        .one(db)
        .await
}

/// The days from `from` to `to` (inclusive) on which each of `vehicle_ids` has a drive that is
/// not cancelled, as (vehicle id, date).
pub async fn busy_days(
    db: &impl ConnectionTrait,
    vehicle_ids: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(i64, NaiveDate)>, DbErr> {
    if vehicle_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Drive::find()
        .filter(Column::VehicleId.is_in(vehicle_ids.iter().copied()))
        .filter(Column::Date.between(from, to))
        .filter(Column::Status.ne(DriveStatus::Cancelled.as_str()))
        .order_by_asc(Column::Date)
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.vehicle_id, d.date))
        .collect())
}

/// Whether any drive was made from plan `plan_id`.
pub async fn plan_accepted(db: &impl ConnectionTrait, plan_id: i64) -> Result<bool, DbErr> {
    Ok(Drive::find()
        .filter(Column::PlanId.eq(plan_id))
        .one(db)
        .await?
        .is_some())
}

/// Records a draft drive and its stops (numbered 1, 2, … in order).
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewDrive,
    now: DateTime<Utc>,
) -> Result<(drive::Model, Vec<drive_stop::Model>), DbErr> {
    let drive = Drive::insert(drive::ActiveModel {
        plan_id: Set(new.plan_id),
        vehicle_id: Set(new.vehicle_id),
        date: Set(new.date),
        region_code: Set(new.region_code),
        status: Set(DriveStatus::Draft.as_str().to_owned()),
        cancel_reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(new.created_by.clone()),
        updated_by: Set(new.created_by),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?;
    let mut stops = Vec::with_capacity(new.stops.len());
    for (seq, stop) in (1..).zip(new.stops) {
        let stored = DriveStop::insert(drive_stop::ActiveModel {
            drive_id: Set(drive.id),
            seq: Set(seq),
            site_id: Set(stop.site_id),
            point_id: Set(stop.point_id),
            region_code: Set(stop.region_code),
            name: Set(stop.name),
            planned_start: Set(stop.planned_start),
            planned_end: Set(stop.planned_end),
            expected_donors: Set(stop.expected_donors),
            host_id: Set(stop.host_id),
            signup_goal: Set(stop.signup_goal),
            signup_token_hash: Set(None),
            ..Default::default()
        })
        .exec_with_returning(db)
        .await?;
        stops.push(stored);
    }
    Ok((drive, stops))
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<drive::Model>, DbErr> {
    Drive::find_by_id(id).one(db).await
}

/// Drive `id`, its row share-locked until the transaction ends, so that a change waiting on
/// the drive (ticking a checklist item) sees a cancellation committed meanwhile (PostgreSQL;
/// SQLite's write transactions serialise anyway).
pub async fn lock_shared(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<drive::Model>, DbErr> {
    Drive::find_by_id(id).lock_shared().one(db).await
}

/// The stops of `drive_id`, in order.
pub async fn stops(
    db: &impl ConnectionTrait,
    drive_id: i64,
) -> Result<Vec<drive_stop::Model>, DbErr> {
    DriveStop::find()
        .filter(drive_stop::Column::DriveId.eq(drive_id))
        .order_by_asc(drive_stop::Column::Seq)
        .all(db)
        .await
}

/// Where stops were held: at one point, or at any site in a code range.
#[derive(Debug, Clone)]
pub enum StopsAt {
    Point(i64),
    /// Inclusive code range (a region's subtree).
    Range(String, String),
}

/// The stops held `at`, each with its drive, the latest drive first; at most `limit`.
pub async fn stops_at(
    db: &impl ConnectionTrait,
    at: &StopsAt,
    limit: u64,
) -> Result<Vec<(drive_stop::Model, drive::Model)>, DbErr> {
    let query = DriveStop::find().find_also_related(Drive);
    let query = match at {
        StopsAt::Point(id) => query.filter(drive_stop::Column::PointId.eq(*id)),
        StopsAt::Range(lo, hi) => query.filter(drive_stop::Column::RegionCode.between(lo, hi)),
    };
    Ok(query
        .order_by_desc(Column::Date)
        .order_by_desc(drive_stop::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(stop, drive)| Some((stop, drive?)))
        .collect())
}

/// The stops at host `host_id` (group drives), each with its drive, the latest drive first; at
/// most `limit`.
pub async fn stops_at_host(
    db: &impl ConnectionTrait,
    host_id: i64,
    limit: u64,
) -> Result<Vec<(drive_stop::Model, drive::Model)>, DbErr> {
    Ok(DriveStop::find()
        .find_also_related(Drive)
        .filter(drive_stop::Column::HostId.eq(host_id))
        .order_by_desc(Column::Date)
        .order_by_desc(drive_stop::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(stop, drive)| Some((stop, drive?)))
        .collect())
}

/// The stops at these hosts on drives that are not cancelled, dated `from` or later, each
/// with its drive, the earliest first.
pub async fn upcoming_at_hosts(
    db: &impl ConnectionTrait,
    host_ids: &[i64],
    from: NaiveDate,
) -> Result<Vec<(drive_stop::Model, drive::Model)>, DbErr> {
    if host_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(DriveStop::find()
        .find_also_related(Drive)
        .filter(drive_stop::Column::HostId.is_in(host_ids.iter().copied()))
        .filter(Column::Status.ne(DriveStatus::Cancelled.as_str()))
        .filter(Column::Date.gte(from))
        .order_by_asc(Column::Date)
        .order_by_asc(drive_stop::Column::PlannedStart)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(stop, drive)| Some((stop, drive?)))
        .collect())
}

/// Moves drive `id` to `to` if it is still at `expected` (and sets the cancel reason when
/// given); `None` when the version moved on.
pub async fn set_status_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected: i32,
    to: DriveStatus,
    cancel_reason: Option<String>,
    by: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<drive::Model>, DbErr> {
    let mut update = Drive::update_many()
        .col_expr(Column::Status, Expr::value(to.as_str()))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::UpdatedBy, Expr::value(by));
    if let Some(reason) = cancel_reason {
        update = update.col_expr(Column::CancelReason, Expr::value(reason));
    }
    let result = update
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    find(db, id).await
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct DriveFilter {
    /// Inclusive code range of the region subtree.
    pub region_range: Option<(String, String)>,
    pub statuses: Vec<&'static str>,
    /// Inclusive dates.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only ids below this one (the listing is newest first).
    pub before_id: Option<i64>,
    pub limit: u64,
    /// Only drives inside the caller's reach (`None`: no restriction).
    pub reach: Option<Visibility>,
}

/// Drives matching `filter`, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &DriveFilter,
) -> Result<Vec<drive::Model>, DbErr> {
    let mut query = Drive::find();
    if let Some((lo, hi)) = &filter.region_range {
        query = query.filter(Column::RegionCode.between(lo.as_str(), hi.as_str()));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(Column::Status.is_in(filter.statuses.iter().copied()));
    }
    if let Some(from) = filter.from {
        query = query.filter(Column::Date.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(Column::Date.lte(to));
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
        .all(db)
        .await
}

/// Stop `stop_id` of drive `drive_id`, if it is one of its stops.
pub async fn stop_of(
    db: &impl ConnectionTrait,
    drive_id: i64,
    stop_id: i64,
) -> Result<Option<drive_stop::Model>, DbErr> {
    DriveStop::find_by_id(stop_id)
        .filter(drive_stop::Column::DriveId.eq(drive_id))
        .one(db)
        .await
}

/// Moves drive `id`'s version on if it is still at `expected` (a change to one of its stops);
/// `None` when the version moved on.
pub async fn touch_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected: i32,
    by: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<drive::Model>, DbErr> {
    let result = Drive::update_many()
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::UpdatedBy, Expr::value(by))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    find(db, id).await
}

/// Sets stop `stop_id`'s sign-up goal; the stop as it is now.
pub async fn set_signup_goal(
    db: &impl ConnectionTrait,
    stop_id: i64,
    goal: Option<i32>,
) -> Result<Option<drive_stop::Model>, DbErr> {
    DriveStop::update_many()
        .col_expr(drive_stop::Column::SignupGoal, Expr::value(goal))
        .filter(drive_stop::Column::Id.eq(stop_id))
        .exec(db)
        .await?;
    DriveStop::find_by_id(stop_id).one(db).await
}

/// Sets (or, with `None`, clears) the hash of stop `stop_id`'s sign-up link token.
pub async fn set_signup_token_hash(
    db: &impl ConnectionTrait,
    stop_id: i64,
    hash: Option<String>,
) -> Result<(), DbErr> {
    DriveStop::update_many()
        .col_expr(drive_stop::Column::SignupTokenHash, Expr::value(hash))
        .filter(drive_stop::Column::Id.eq(stop_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The stop whose sign-up link token hashes to `hash`, with its drive.
pub async fn stop_by_signup_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<(drive_stop::Model, drive::Model)>, DbErr> {
    Ok(DriveStop::find()
        .find_also_related(Drive)
        .filter(drive_stop::Column::SignupTokenHash.eq(hash))
        .one(db)
        .await?
        .and_then(|(stop, drive)| Some((stop, drive?))))
}
