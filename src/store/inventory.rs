//! Blood inventories and the linkage between stations (issue 17): stocks, the stations'
//! inventory and levels versions, warning levels, history, blood requests and offers.
//!
//! The moves that must not race are conditional updates, each answering whether it happened:
//! a version bump `WHERE version = ?`, a request accepted `WHERE status = 'open' AND version =
//! ?`, stock taken `WHERE units >= ? AND ml >= ?`, incoming received `WHERE incoming_units >=
//! ?`.

use crate::domain::inventory::{MAX_ML, MAX_UNITS};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    blood_offer, blood_request, inventory_history, inventory_level, inventory_stock,
    recruitment_need, station_inventory,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// A station's inventory and levels versions (both 0 before the first change).
pub async fn versions(
    db: &impl ConnectionTrait,
    station_id: i64,
) -> Result<Option<station_inventory::Model>, DbErr> {
    station_inventory::Entity::find_by_id(station_id)
        .one(db)
        .await
}

/// Which of the two versions of a station's inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionOf {
    Stock,
    Levels,
}

/// Moves the station's `which` version from `expected` to `expected + 1`; false when it was
/// not at `expected` (someone else's change came first).
pub async fn bump_version(
    db: &impl ConnectionTrait,
    station_id: i64,
    which: VersionOf,
    expected: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use station_inventory::Column as C;
    let column = match which {
        VersionOf::Stock => C::Version,
        VersionOf::Levels => C::LevelsVersion,
    };
    let bump = || {
        station_inventory::Entity::update_many()
            .col_expr(column, Expr::col(column).add(1))
            .col_expr(C::UpdatedAt, Expr::value(now))
            .filter(C::StationId.eq(station_id))
            .filter(column.eq(expected))
    };
    if bump().exec(db).await?.rows_affected > 0 {
        return Ok(true);
    }
    if expected != 0 {
        return Ok(false);
    }
    // The first change of the station: its row does not exist yet.
    let (stock, levels) = match which {
        VersionOf::Stock => (1, 0),
        VersionOf::Levels => (0, 1),
    };
    let inserted = station_inventory::Entity::insert(station_inventory::ActiveModel {
        station_id: Set(station_id),
        version: Set(stock),
        levels_version: Set(levels),
        updated_at: Set(now),
    })
    .on_conflict(OnConflict::column(C::StationId).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    if inserted > 0 {
        return Ok(true);
    }
    // Another first change (of the other version) made the row meanwhile: this version may
    // still be at 0.
    Ok(bump().exec(db).await?.rows_affected > 0)
}

/// Moves the station's stock version on, whatever it is (a dispatch or a receipt changed
/// its stock): a sheet loaded before is then stale.
pub async fn touch_stock_version(
    db: &impl ConnectionTrait,
    station_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use station_inventory::Column as C;
    let touch = || {
        station_inventory::Entity::update_many()
            .col_expr(C::Version, Expr::col(C::Version).add(1))
            .col_expr(C::UpdatedAt, Expr::value(now))
            .filter(C::StationId.eq(station_id))
    };
    if touch().exec(db).await?.rows_affected > 0 {
        return Ok(());
    }
    station_inventory::Entity::insert(station_inventory::ActiveModel {
        station_id: Set(station_id),
        version: Set(1),
        levels_version: Set(0),
        updated_at: Set(now),
    })
    .on_conflict(OnConflict::column(C::StationId).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The stocks of a station, or of every station (`None`), by station, component and group.
pub async fn stocks(
    db: &impl ConnectionTrait,
    station_id: Option<i64>,
) -> Result<Vec<inventory_stock::Model>, DbErr> {
    use inventory_stock::Column as C;
    let mut query = inventory_stock::Entity::find();
    if let Some(id) = station_id {
        query = query.filter(C::StationId.eq(id));
    }
    query
        .order_by_asc(C::StationId)
        .order_by_asc(C::Component)
        .order_by_asc(C::BloodGroup)
        .all(db)
        .await
}

pub async fn find_stock(
    db: &impl ConnectionTrait,
    station_id: i64,
    component: &str,
    group: &str,
) -> Result<Option<inventory_stock::Model>, DbErr> {
    use inventory_stock::Column as C;
    inventory_stock::Entity::find()
        .filter(C::StationId.eq(station_id))
        .filter(C::Component.eq(component))
        .filter(C::BloodGroup.eq(group))
        .one(db)
        .await
}

/// A stock as posted: units, mL and daily use.
#[derive(Debug, Clone)]
pub struct Posted {
    pub component: String,
    pub blood_group: String,
    pub units: i32,
    pub ml: i32,
    pub daily_use_units: f64,
}

/// Writes a posted stock over what was there (keeping what is on its way), or inserts it.
pub async fn put_stock(
    db: &impl ConnectionTrait,
    station_id: i64,
    posted: &Posted,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<inventory_stock::Model, DbErr> {
    use inventory_stock::Column as C;
    ensure_stock(db, station_id, &posted.component, &posted.blood_group, now).await?;
    inventory_stock::Entity::update_many()
        .col_expr(C::Units, Expr::value(posted.units))
        .col_expr(C::Ml, Expr::value(posted.ml))
        .col_expr(C::DailyUseUnits, Expr::value(posted.daily_use_units))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .col_expr(C::UpdatedBy, Expr::value(actor))
        .filter(C::StationId.eq(station_id))
        .filter(C::Component.eq(posted.component.as_str()))
        .filter(C::BloodGroup.eq(posted.blood_group.as_str()))
        .exec(db)
        .await?;
    find_stock(db, station_id, &posted.component, &posted.blood_group)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the stock just written".to_owned()))
}

/// Makes an empty stock row when there is none.
async fn ensure_stock(
    db: &impl ConnectionTrait,
    station_id: i64,
    component: &str,
    group: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use inventory_stock::Column as C;
    inventory_stock::Entity::insert(inventory_stock::ActiveModel {
        station_id: Set(station_id),
        component: Set(component.to_owned()),
        blood_group: Set(group.to_owned()),
        units: Set(0),
        ml: Set(0),
        daily_use_units: Set(0.0),
        incoming_units: Set(0),
        incoming_ml: Set(0),
        updated_at: Set(now),
        updated_by: Set(None),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([C::StationId, C::Component, C::BloodGroup])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Takes `units` and `ml` out of a stock if it holds them; false (nothing written) when not.
pub async fn take_stock(
    db: &impl ConnectionTrait,
    station_id: i64,
    component: &str,
    group: &str,
    units: i32,
    ml: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use inventory_stock::Column as C;
    let changed = inventory_stock::Entity::update_many()
        .col_expr(C::Units, Expr::col(C::Units).sub(units))
        .col_expr(C::Ml, Expr::col(C::Ml).sub(ml))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::StationId.eq(station_id))
        .filter(C::Component.eq(component))
        .filter(C::BloodGroup.eq(group))
        .filter(C::Units.gte(units))
        .filter(C::Ml.gte(ml))
        .exec(db)
        .await?
        .rows_affected;
    Ok(changed > 0)
}

/// Adds to what is on its way to a station (making its stock row when there is none); false
/// (nothing added) when that would exceed what a stock may hold.
pub async fn add_incoming(
    db: &impl ConnectionTrait,
    station_id: i64,
    component: &str,
    group: &str,
    units: i32,
    ml: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use inventory_stock::Column as C;
    ensure_stock(db, station_id, component, group, now).await?;
    let changed = inventory_stock::Entity::update_many()
        .col_expr(C::IncomingUnits, Expr::col(C::IncomingUnits).add(units))
        .col_expr(C::IncomingMl, Expr::col(C::IncomingMl).add(ml))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::StationId.eq(station_id))
        .filter(C::Component.eq(component))
        .filter(C::BloodGroup.eq(group))
        .filter(C::IncomingUnits.lte(MAX_UNITS - i64::from(units)))
        .filter(C::IncomingMl.lte(MAX_ML - i64::from(ml)))
        .exec(db)
        .await?
        .rows_affected;
    Ok(changed > 0)
}

/// Moves `units` and `ml` from what is on its way into the stock; false when less is on its
/// way (nothing written).
pub async fn receive_incoming(
    db: &impl ConnectionTrait,
    station_id: i64,
    component: &str,
    group: &str,
    units: i32,
    ml: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use inventory_stock::Column as C;
    let changed = inventory_stock::Entity::update_many()
        .col_expr(C::Units, Expr::col(C::Units).add(units))
        .col_expr(C::Ml, Expr::col(C::Ml).add(ml))
        .col_expr(C::IncomingUnits, Expr::col(C::IncomingUnits).sub(units))
        .col_expr(C::IncomingMl, Expr::col(C::IncomingMl).sub(ml))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::StationId.eq(station_id))
        .filter(C::Component.eq(component))
        .filter(C::BloodGroup.eq(group))
        .filter(C::IncomingUnits.gte(units))
        .filter(C::IncomingMl.gte(ml))
        .filter(C::Units.lte(MAX_UNITS - i64::from(units)))
        .filter(C::Ml.lte(MAX_ML - i64::from(ml)))
        .exec(db)
        .await?
        .rows_affected;
    Ok(changed > 0)
}

/// The warning levels set for a station, or for every station (`None`).
pub async fn levels(
    db: &impl ConnectionTrait,
    station_id: Option<i64>,
) -> Result<Vec<inventory_level::Model>, DbErr> {
    use inventory_level::Column as C;
    let mut query = inventory_level::Entity::find();
    if let Some(id) = station_id {
        query = query.filter(C::StationId.eq(id));
    }
    query
        .order_by_asc(C::StationId)
        .order_by_asc(C::BloodGroup)
        .all(db)
        .await
}

/// Sets a station's levels for a group.
pub async fn put_level(
    db: &impl ConnectionTrait,
    station_id: i64,
    group: &str,
    amber_days: f64,
    red_days: f64,
) -> Result<(), DbErr> {
    use inventory_level::Column as C;
    inventory_level::Entity::insert(inventory_level::ActiveModel {
        station_id: Set(station_id),
        blood_group: Set(group.to_owned()),
        amber_days: Set(amber_days),
        red_days: Set(red_days),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([C::StationId, C::BloodGroup])
            .update_columns([C::AmberDays, C::RedDays])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// One history row to append.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub station_id: i64,
    pub component: String,
    pub blood_group: String,
    pub units: i32,
    pub ml: i32,
    pub daily_use_units: f64,
    pub days_of_supply: Option<f64>,
    pub level: &'static str,
    pub reason: &'static str,
    pub offer_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
}

pub async fn insert_history(db: &impl ConnectionTrait, row: HistoryRow) -> Result<(), DbErr> {
    inventory_history::Entity::insert(inventory_history::ActiveModel {
        station_id: Set(row.station_id),
        component: Set(row.component),
        blood_group: Set(row.blood_group),
        units: Set(row.units),
        ml: Set(row.ml),
        daily_use_units: Set(row.daily_use_units),
        days_of_supply: Set(row.days_of_supply),
        level: Set(row.level.to_owned()),
        reason: Set(row.reason.to_owned()),
        offer_id: Set(row.offer_id),
        at: Set(row.at),
        actor: Set(row.actor),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// What to read of a station's history.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub component: Option<String>,
    pub blood_group: Option<String>,
    /// From this instant (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub until: Option<DateTime<Utc>>,
    pub limit: u64,
}

/// A station's history, oldest first (the chart's order).
pub async fn history(
    db: &impl ConnectionTrait,
    station_id: i64,
    filter: &HistoryFilter,
) -> Result<Vec<inventory_history::Model>, DbErr> {
    use inventory_history::Column as C;
    let mut query = inventory_history::Entity::find().filter(C::StationId.eq(station_id));
    if let Some(c) = &filter.component {
        query = query.filter(C::Component.eq(c.as_str()));
    }
    if let Some(g) = &filter.blood_group {
        query = query.filter(C::BloodGroup.eq(g.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(C::At.gte(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(C::At.lt(until));
    }
    // The newest `limit` points, returned oldest first.
    let mut newest = query
        .order_by_desc(C::At)
        .order_by_desc(C::Id)
        .limit(filter.limit)
        .all(db)
        .await?;
    newest.reverse();
    Ok(newest)
}

/// The open recruitment needs of a station (for the automatic need: one per group).
pub async fn open_needs_at(
    db: &impl ConnectionTrait,
    station_id: i64,
) -> Result<Vec<recruitment_need::Model>, DbErr> {
    use recruitment_need::Column as C;
    recruitment_need::Entity::find()
        .filter(C::StationId.eq(station_id))
        .filter(C::Status.eq("open"))
        .all(db)
        .await
}

/// A blood request as made.
#[derive(Debug, Clone)]
pub struct RequestFields {
    pub station_id: i64,
    pub component: String,
    pub blood_group: String,
    pub units: i32,
    pub ml: i32,
    pub needed_by: NaiveDate,
    pub note: Option<String>,
}

pub async fn insert_request(
    db: &impl ConnectionTrait,
    fields: RequestFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<blood_request::Model, DbErr> {
    blood_request::Entity::insert(blood_request::ActiveModel {
        station_id: Set(fields.station_id),
        component: Set(fields.component),
        blood_group: Set(fields.blood_group),
        units: Set(fields.units),
        ml: Set(fields.ml),
        needed_by: Set(fields.needed_by),
        note: Set(fields.note),
        status: Set("open".to_owned()),
        accepted_offer_id: Set(None),
        version: Set(1),
        created_at: Set(now),
        created_by: Set(actor),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

pub async fn find_request(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<blood_request::Model>, DbErr> {
    blood_request::Entity::find_by_id(id).one(db).await
}

/// Requests with these statuses (every one when empty), newest first.
pub async fn requests(
    db: &impl ConnectionTrait,
    statuses: &[&str],
    station_id: Option<i64>,
    limit: u64,
) -> Result<Vec<blood_request::Model>, DbErr> {
    use blood_request::Column as C;
    let mut query = blood_request::Entity::find();
    if !statuses.is_empty() {
        query = query.filter(C::Status.is_in(statuses.iter().copied()));
    }
    if let Some(id) = station_id {
        query = query.filter(C::StationId.eq(id));
    }
    query.order_by_desc(C::Id).limit(limit).all(db).await
}

/// Moves a request from status `from` (at version `expected` when given) to `to`, bumping its
/// version and setting its accepted offer when given; the request as written, or `None` when
/// it was not in that state (someone else's change came first).
pub async fn move_request(
    db: &impl ConnectionTrait,
    id: i64,
    from: &str,
    expected: Option<i32>,
    to: &str,
    accepted_offer: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<blood_request::Model>, DbErr> {
    use blood_request::Column as C;
    let mut update = blood_request::Entity::update_many()
        .col_expr(C::Status, Expr::value(to))
        .col_expr(C::Version, Expr::col(C::Version).add(1))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id))
        .filter(C::Status.eq(from));
    if let Some(offer) = accepted_offer {
        update = update.col_expr(C::AcceptedOfferId, Expr::value(offer));
    }
    if let Some(v) = expected {
        update = update.filter(C::Version.eq(v));
    }
    let changed = update.exec(db).await?.rows_affected;
    if changed == 0 {
        return Ok(None);
    }
    find_request(db, id).await
}

/// Holds an open request for the caller's transaction (a row lock on PostgreSQL; SQLite's
/// writers take turns anyway), so an accept or a cancel cannot pass between the check that it
/// is open and what the transaction writes; false when it is no longer open.
pub async fn hold_open_request(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use blood_request::Column as C;
    Ok(blood_request::Entity::update_many()
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id))
        .filter(C::Status.eq("open"))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// An offer as made.
#[derive(Debug, Clone)]
pub struct OfferFields {
    pub request_id: i64,
    pub station_id: i64,
    pub units: i32,
    pub ml: i32,
    pub note: Option<String>,
}

pub async fn insert_offer(
    db: &impl ConnectionTrait,
    fields: OfferFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<blood_offer::Model, DbErr> {
    blood_offer::Entity::insert(blood_offer::ActiveModel {
        request_id: Set(fields.request_id),
        station_id: Set(fields.station_id),
        units: Set(fields.units),
        ml: Set(fields.ml),
        note: Set(fields.note),
        status: Set("open".to_owned()),
        version: Set(1),
        created_at: Set(now),
        created_by: Set(actor),
        dispatched_at: Set(None),
        received_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

pub async fn find_offer(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<blood_offer::Model>, DbErr> {
    blood_offer::Entity::find_by_id(id).one(db).await
}

/// The offers of these requests, oldest first.
pub async fn offers_of(
    db: &impl ConnectionTrait,
    request_ids: &[i64],
) -> Result<Vec<blood_offer::Model>, DbErr> {
    use blood_offer::Column as C;
    if request_ids.is_empty() {
        return Ok(Vec::new());
    }
    blood_offer::Entity::find()
        .filter(C::RequestId.is_in(request_ids.iter().copied()))
        .order_by_asc(C::Id)
        .all(db)
        .await
}

/// Moves an offer from status `from` to `to`, bumping its version (and stamping a dispatch or
/// a receipt); `None` when it was not in `from`.
pub async fn move_offer(
    db: &impl ConnectionTrait,
    id: i64,
    from: &str,
    to: &str,
    now: DateTime<Utc>,
) -> Result<Option<blood_offer::Model>, DbErr> {
    use blood_offer::Column as C;
    let mut update = blood_offer::Entity::update_many()
        .col_expr(C::Status, Expr::value(to))
        .col_expr(C::Version, Expr::col(C::Version).add(1))
        .filter(C::Id.eq(id))
        .filter(C::Status.eq(from));
    match to {
        "dispatched" => update = update.col_expr(C::DispatchedAt, Expr::value(now)),
        "received" => update = update.col_expr(C::ReceivedAt, Expr::value(now)),
        _ => {}
    }
    let changed = update.exec(db).await?.rows_affected;
    if changed == 0 {
        return Ok(None);
    }
    find_offer(db, id).await
}

/// Declines every offer of a request in one of `statuses` but `except` (the accepted one, or
/// none when the request is cancelled).
pub async fn decline_offers(
    db: &impl ConnectionTrait,
    request_id: i64,
    statuses: &[&str],
    except: Option<i64>,
) -> Result<u64, DbErr> {
    use blood_offer::Column as C;
    let mut update = blood_offer::Entity::update_many()
        .col_expr(C::Status, Expr::value("declined"))
        .col_expr(C::Version, Expr::col(C::Version).add(1))
        .filter(C::RequestId.eq(request_id))
        .filter(C::Status.is_in(statuses.iter().copied()));
    if let Some(id) = except {
        update = update.filter(C::Id.ne(id));
    }
    Ok(update.exec(db).await?.rows_affected)
}
