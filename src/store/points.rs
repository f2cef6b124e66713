//! Queries over `points`.

use chrono::{DateTime, NaiveDate, Utc};
use entity::point::{self, Column, Entity as PointEntity};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::calendar::MarketDays;
use crate::domain::point::{PhoneNumber, PointKind, PointStatus};
use crate::domain::policy::Visibility;
use crate::domain::region::RegionCode;
use crate::geo::Wgs84Point;

/// A point's fields as validated by the API, ready to store.
#[derive(Debug, Clone)]
pub struct PointFields {
    pub name: String,
    pub kind: PointKind,
    pub region_code: RegionCode,
    pub address: Option<String>,
    pub location: Wgs84Point,
    pub status: PointStatus,
    pub signage_installed_on: Option<NaiveDate>,
    pub bloodmobile_parking: bool,
    pub power_hookup: bool,
    pub beds: Option<i32>,
    pub donors_per_hour: Option<i32>,
    pub contact_phone: Option<PhoneNumber>,
    pub notes: Option<String>,
    pub market_days: Option<MarketDays>,
}

impl PointFields {
    fn apply(self, model: &mut point::ActiveModel) {
        model.name = Set(self.name);
        model.kind = Set(self.kind.as_str().to_owned());
        model.region_code = Set(self.region_code.to_string());
        model.address = Set(self.address);
        model.longitude = Set(self.location.lon());
        model.latitude = Set(self.location.lat());
        model.status = Set(self.status.as_str().to_owned());
        model.signage_installed_on = Set(self.signage_installed_on);
        model.bloodmobile_parking = Set(self.bloodmobile_parking);
        model.power_hookup = Set(self.power_hookup);
        model.beds = Set(self.beds);
        model.donors_per_hour = Set(self.donors_per_hour);
        model.contact_phone = Set(self.contact_phone.map(|p| p.as_str().to_owned()));
        model.notes = Set(self.notes);
        model.market_days = Set(self.market_days.map(|m| m.to_string()));
    }
}

/// Stores a new point (version 1).
pub async fn insert(
    db: &impl ConnectionTrait,
    fields: PointFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<point::Model, DbErr> {
    let mut model = point::ActiveModel {
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(actor.clone()),
        updated_by: Set(actor),
        ..Default::default()
    };
    fields.apply(&mut model);
    PointEntity::insert(model).exec_with_returning(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<point::Model>, DbErr> {
    PointEntity::find_by_id(id).one(db).await
}

/// The points with these ids (in no particular order; missing ones left out).
pub async fn find_many(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<point::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    PointEntity::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// Writes `fields` over point `id` if it is still at `expected_version`, bumping the version.
/// Returns the new row, or `None` when the point is gone or its version moved on (someone
/// else's change won).
pub async fn update_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: i32,
    fields: PointFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<point::Model>, DbErr> {
    let mut model = point::ActiveModel {
        updated_at: Set(now),
        updated_by: Set(actor),
        ..Default::default()
    };
    fields.apply(&mut model);
    let result = PointEntity::update_many()
        .set(model)
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    find(db, id).await
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct PointFilter {
    /// Inclusive code range of the region subtree.
    pub region_range: Option<(String, String)>,
    /// Only these statuses (empty: every status).
    pub statuses: Vec<PointStatus>,
    pub kind: Option<PointKind>,
    /// (min_lon, min_lat, max_lon, max_lat), WGS-84.
    pub bbox: Option<(f64, f64, f64, f64)>,
    /// Only ids after this one.
    pub after_id: Option<i64>,
    pub limit: Option<u64>,
    /// Only points inside the caller's reach (`None`: no restriction).
    pub reach: Option<Visibility>,
}

/// Points matching `filter`, in id order.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &PointFilter,
) -> Result<Vec<point::Model>, DbErr> {
    let mut query = PointEntity::find();
    if let Some((lo, hi)) = &filter.region_range {
        query = query.filter(Column::RegionCode.between(lo.as_str(), hi.as_str()));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(Column::Kind.eq(kind.as_str()));
    }
    if let Some((min_lon, min_lat, max_lon, max_lat)) = filter.bbox {
        query = query
            .filter(Column::Longitude.between(min_lon, max_lon))
            .filter(Column::Latitude.between(min_lat, max_lat));
    }
    if let Some(after) = filter.after_id {
        query = query.filter(Column::Id.gt(after));
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
    query.order_by_asc(Column::Id).all(db).await
}

/// The WGS-84 locations of the points in `bbox` (min_lon, min_lat, max_lon, max_lat) with one
/// of `statuses`: only the two columns, for coverage computations over thousands of points.
pub async fn locations(
    db: &impl ConnectionTrait,
    statuses: &[PointStatus],
    bbox: (f64, f64, f64, f64),
) -> Result<Vec<(f64, f64)>, DbErr> {
    let (min_lon, min_lat, max_lon, max_lat) = bbox;
    PointEntity::find()
        .select_only()
        .column(Column::Longitude)
        .column(Column::Latitude)
        .filter(Column::Status.is_in(statuses.iter().map(|s| s.as_str())))
        .filter(Column::Longitude.between(min_lon, max_lon))
        .filter(Column::Latitude.between(min_lat, max_lat))
        .into_tuple::<(f64, f64)>()
        .all(db)
        .await
}

/// How many points serve the code range `[lo, hi]`, by status and kind.
pub async fn count_by_status_and_kind(
    db: &impl ConnectionTrait,
    lo: &str,
    hi: &str,
) -> Result<Vec<(String, String, i64)>, DbErr> {
    PointEntity::find()
        .select_only()
        .column(Column::Status)
        .column(Column::Kind)
        .column_as(Column::Id.count(), "n")
        .filter(Column::RegionCode.between(lo, hi))
        .group_by(Column::Status)
        .group_by(Column::Kind)
        .into_tuple::<(String, String, i64)>()
        .all(db)
        .await
}
