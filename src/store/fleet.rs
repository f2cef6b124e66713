//! Queries over `stations` and `vehicles`. A vehicle has no region of its own: it lives where
//! its station does, so every scoped vehicle query joins its station.

use chrono::{DateTime, Utc};
use entity::station::{self, Entity as Station};
use entity::vehicle::{self, Entity as Vehicle};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};

use crate::domain::fleet::{Plate, StationStatus, TimeOfDay, VehicleStatus};
use crate::domain::policy::Visibility;
use crate::domain::region::RegionCode;
use crate::geo::Wgs84Point;

/// A station's fields as validated by the API, ready to store.
#[derive(Debug, Clone)]
pub struct StationFields {
    pub name: String,
    pub region_code: RegionCode,
    pub address: Option<String>,
    pub location: Wgs84Point,
    pub status: StationStatus,
    /// Public group bookings above this many people are requests.
    pub group_request_threshold: i32,
}

impl StationFields {
    fn apply(self, model: &mut station::ActiveModel) {
        model.name = Set(self.name);
        model.region_code = Set(self.region_code.to_string());
        model.address = Set(self.address);
        model.longitude = Set(self.location.lon());
        model.latitude = Set(self.location.lat());
        model.status = Set(self.status.as_str().to_owned());
        model.group_request_threshold = Set(self.group_request_threshold);
    }
}

/// A vehicle's fields as validated by the API, ready to store.
#[derive(Debug, Clone)]
pub struct VehicleFields {
    pub name: String,
    pub plate: Plate,
    pub station_id: i64,
    pub beds: i32,
    pub staff: i32,
    pub max_donors_per_day: i32,
    pub day_start: TimeOfDay,
    pub day_end: TimeOfDay,
    pub setup_min: i32,
    pub teardown_min: i32,
    pub cost_per_km: f64,
    pub donors_per_bed_hour: f64,
    pub slot_minutes: i32,
    pub status: VehicleStatus,
    pub notes: Option<String>,
}

impl VehicleFields {
    fn apply(self, model: &mut vehicle::ActiveModel) {
        model.name = Set(self.name);
        model.plate = Set(self.plate.as_str().to_owned());
        model.station_id = Set(self.station_id);
        model.beds = Set(self.beds);
        model.staff = Set(self.staff);
        model.max_donors_per_day = Set(self.max_donors_per_day);
        model.day_start = Set(self.day_start.minutes());
        model.day_end = Set(self.day_end.minutes());
        model.setup_min = Set(self.setup_min);
        model.teardown_min = Set(self.teardown_min);
        model.cost_per_km = Set(self.cost_per_km);
        model.donors_per_bed_hour = Set(self.donors_per_bed_hour);
        model.slot_minutes = Set(self.slot_minutes);
        model.status = Set(self.status.as_str().to_owned());
        model.notes = Set(self.notes);
    }
}

/// Stores a new station (version 1).
pub async fn insert_station(
    db: &impl ConnectionTrait,
    fields: StationFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<station::Model, DbErr> {
    let mut model = station::ActiveModel {
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(actor.clone()),
        updated_by: Set(actor),
        ..Default::default()
    };
    fields.apply(&mut model);
    Station::insert(model).exec_with_returning(db).await
}

pub async fn find_station(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<station::Model>, DbErr> {
    Station::find_by_id(id).one(db).await
}

/// The station, its row locked until the transaction ends: exclusively (`exclusive`) while it
/// is being closed, shared while a vehicle is put at it, so that a station cannot close under
/// a vehicle being assigned to it. (SQLite's write transactions serialise anyway.)
pub async fn lock_station(
    db: &impl ConnectionTrait,
    id: i64,
    exclusive: bool,
) -> Result<Option<station::Model>, DbErr> {
    let query = Station::find_by_id(id);
    let query = if exclusive {
        query.lock_exclusive()
    } else {
        query.lock_shared()
    };
    query.one(db).await
}

/// Writes `fields` over station `id` if it is still at `expected_version`, bumping the
/// version. `None` when the station is gone or its version moved on.
pub async fn update_station_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: i32,
    fields: StationFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<station::Model>, DbErr> {
    let mut model = station::ActiveModel {
        updated_at: Set(now),
        updated_by: Set(actor),
        ..Default::default()
    };
    fields.apply(&mut model);
    let result = Station::update_many()
        .set(model)
        .col_expr(
            station::Column::Version,
            Expr::col(station::Column::Version).add(1),
        )
        .filter(station::Column::Id.eq(id))
        .filter(station::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    find_station(db, id).await
}

/// What to list, of stations or vehicles.
#[derive(Debug, Clone, Default)]
pub struct FleetFilter {
    /// Inclusive code range of the region subtree (of the station).
    pub region_range: Option<(String, String)>,
    /// Only these statuses, as stored (`active`, `closed`, `retired`); empty: every status.
    pub statuses: Vec<&'static str>,
    /// Vehicles only: those of this station.
    pub station_id: Option<i64>,
    /// Only ids after this one.
    pub after_id: Option<i64>,
    pub limit: Option<u64>,
    /// Only records inside the caller's reach (`None`: no restriction).
    pub reach: Option<Visibility>,
}

/// Stations matching `filter`, in id order.
pub async fn list_stations(
    db: &impl ConnectionTrait,
    filter: &FleetFilter,
) -> Result<Vec<station::Model>, DbErr> {
    let mut query = Station::find();
    if let Some((lo, hi)) = &filter.region_range {
        query = query.filter(station::Column::RegionCode.between(lo.as_str(), hi.as_str()));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(station::Column::Status.is_in(filter.statuses.iter().copied()));
    }
    if let Some(after) = filter.after_id {
        query = query.filter(station::Column::Id.gt(after));
    }
    if let Some(condition) = filter
        .reach
        .as_ref()
        .and_then(|reach| super::within(station::Column::RegionCode, reach))
    {
        query = query.filter(condition);
    }
    if let Some(limit) = filter.limit {
        query = query.limit(limit);
    }
    query.order_by_asc(station::Column::Id).all(db).await
}

/// Stores a new vehicle (version 1).
pub async fn insert_vehicle(
    db: &impl ConnectionTrait,
    fields: VehicleFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<vehicle::Model, DbErr> {
    let mut model = vehicle::ActiveModel {
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(actor.clone()),
        updated_by: Set(actor),
        ..Default::default()
    };
    fields.apply(&mut model);
    Vehicle::insert(model).exec_with_returning(db).await
}

pub async fn find_vehicle(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<vehicle::Model>, DbErr> {
    Vehicle::find_by_id(id).one(db).await
}

/// The vehicle, its row locked until the transaction ends, so that two transactions making
/// drives for it serialise (PostgreSQL; SQLite's write transactions serialise anyway).
pub async fn lock_vehicle(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<vehicle::Model>, DbErr> {
    Vehicle::find_by_id(id).lock_exclusive().one(db).await
}

/// A vehicle with its station.
pub async fn find_vehicle_with_station(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(vehicle::Model, station::Model)>, DbErr> {
    Ok(Vehicle::find_by_id(id)
        .find_also_related(Station)
        .one(db)
        .await?
        .and_then(|(v, s)| Some((v, s?))))
}

/// Writes `fields` over vehicle `id` if it is still at `expected_version`, bumping the
/// version. `None` when the vehicle is gone or its version moved on.
pub async fn update_vehicle_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: i32,
    fields: VehicleFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<vehicle::Model>, DbErr> {
    let mut model = vehicle::ActiveModel {
        updated_at: Set(now),
        updated_by: Set(actor),
        ..Default::default()
    };
    fields.apply(&mut model);
    let result = Vehicle::update_many()
        .set(model)
        .col_expr(
            vehicle::Column::Version,
            Expr::col(vehicle::Column::Version).add(1),
        )
        .filter(vehicle::Column::Id.eq(id))
        .filter(vehicle::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    find_vehicle(db, id).await
}

/// Vehicles matching `filter` (region and reach by their station's region), in id order, each
/// with its station.
pub async fn list_vehicles(
    db: &impl ConnectionTrait,
    filter: &FleetFilter,
) -> Result<Vec<(vehicle::Model, station::Model)>, DbErr> {
    let mut query = Vehicle::find()
        .select_also(Station)
        .join(JoinType::InnerJoin, vehicle::Relation::Station.def());
    if let Some((lo, hi)) = &filter.region_range {
        query = query.filter(station::Column::RegionCode.between(lo.as_str(), hi.as_str()));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(vehicle::Column::Status.is_in(filter.statuses.iter().copied()));
    }
    if let Some(station_id) = filter.station_id {
        query = query.filter(vehicle::Column::StationId.eq(station_id));
    }
    if let Some(after) = filter.after_id {
        query = query.filter(vehicle::Column::Id.gt(after));
    }
    if let Some(condition) = filter
        .reach
        .as_ref()
        .and_then(|reach| super::within(station::Column::RegionCode, reach))
    {
        query = query.filter(condition);
    }
    if let Some(limit) = filter.limit {
        query = query.limit(limit);
    }
    Ok(query
        .order_by_asc(vehicle::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(v, s)| Some((v, s?)))
        .collect())
}

/// How many active vehicles a station has.
pub async fn count_active_vehicles(
    db: &impl ConnectionTrait,
    station_id: i64,
) -> Result<u64, DbErr> {
    Vehicle::find()
        .filter(vehicle::Column::StationId.eq(station_id))
        .filter(vehicle::Column::Status.eq(VehicleStatus::Active.as_str()))
        .count(db)
        .await
}

/// The stations and vehicles a drive plan of a region can use.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub stations: Vec<station::Model>,
    /// Every vehicle's `station_id` is among `stations`.
    pub vehicles: Vec<vehicle::Model>,
}

/// The active stations in the code range `[lo, hi]` (a region's subtree, e.g. from
/// `RegionCode::subtree_bounds`) and their active vehicles, in id order: the depots and the
/// bloodmobiles of a planning instance.
pub async fn active_fleet(db: &impl ConnectionTrait, lo: &str, hi: &str) -> Result<Fleet, DbErr> {
    let filter = FleetFilter {
        region_range: Some((lo.to_owned(), hi.to_owned())),
        statuses: vec![StationStatus::Active.as_str()],
        ..FleetFilter::default()
    };
    let stations = list_stations(db, &filter).await?;
    let vehicles = list_vehicles(
        db,
        &FleetFilter {
            statuses: vec![VehicleStatus::Active.as_str()],
            ..filter
        },
    )
    .await?
    .into_iter()
    // Both statuses matter: an active vehicle at a closed station does not drive.
    .filter(|(_, s)| s.status == StationStatus::Active.as_str())
    .map(|(v, _)| v)
    .collect();
    Ok(Fleet { stations, vehicles })
}
