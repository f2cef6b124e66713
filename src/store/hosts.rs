//! Queries over `hosts` and `host_contacts`.

use chrono::{DateTime, NaiveDate, Utc};
use entity::host::{self, Column, Entity as HostEntity};
use entity::host_contact::{self, Entity as ContactEntity};
use entity::{drive, drive_stop};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::drive::DriveStatus;
use crate::domain::host::{HostKind, Months};
use crate::domain::point::MobileNumber;
use crate::domain::policy::Visibility;
use crate::domain::region::RegionCode;
use crate::geo::Wgs84Point;

/// A host's fields as validated by the service, ready to store.
#[derive(Debug, Clone)]
pub struct HostFields {
    pub name: String,
    pub kind: HostKind,
    pub region_code: RegionCode,
    pub address: Option<String>,
    pub location: Wgs84Point,
    pub typical_headcount: Option<i32>,
    pub preferred_months: Months,
    pub notes: Option<String>,
}

impl HostFields {
    fn apply(self, model: &mut host::ActiveModel) {
        model.name = Set(self.name);
        model.kind = Set(self.kind.as_str().to_owned());
        model.region_code = Set(self.region_code.to_string());
        model.address = Set(self.address);
        model.longitude = Set(self.location.lon());
        model.latitude = Set(self.location.lat());
        model.typical_headcount = Set(self.typical_headcount);
        model.preferred_months = Set(self.preferred_months.bits());
        model.notes = Set(self.notes);
    }
}

/// A contact's fields as validated by the service.
#[derive(Debug, Clone)]
pub struct ContactFields {
    pub name: String,
    pub mobile: MobileNumber,
    pub role: Option<String>,
}

/// Stores a new host (version 1).
pub async fn insert(
    db: &impl ConnectionTrait,
    fields: HostFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<host::Model, DbErr> {
    let mut model = host::ActiveModel {
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(actor.clone()),
        updated_by: Set(actor),
        ..Default::default()
    };
    fields.apply(&mut model);
    HostEntity::insert(model).exec_with_returning(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<host::Model>, DbErr> {
    HostEntity::find_by_id(id).one(db).await
}

/// Writes `fields` over host `id` if it is still at `expected_version`, bumping the version.
/// `None` when the host is gone or its version moved on.
pub async fn update_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: i32,
    fields: HostFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<host::Model>, DbErr> {
    let mut model = host::ActiveModel {
        updated_at: Set(now),
        updated_by: Set(actor),
        ..Default::default()
    };
    fields.apply(&mut model);
    let result = HostEntity::update_many()
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
pub struct HostFilter {
    /// Inclusive code range of the region subtree.
    pub region_range: Option<(String, String)>,
    pub kind: Option<HostKind>,
    /// Only hosts that prefer this month (1 to 12).
    pub month: Option<u32>,
    /// Only hosts with no drive planned from this day on: no stop there on a drive that is not
    /// cancelled, dated this day or later.
    pub unplanned_from: Option<NaiveDate>,
    /// Only ids after this one.
    pub after_id: Option<i64>,
    pub limit: Option<u64>,
    /// Only hosts inside the caller's reach (`None`: no restriction).
    pub reach: Option<Visibility>,
}

/// Hosts matching `filter`, in id order.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &HostFilter,
) -> Result<Vec<host::Model>, DbErr> {
    let mut query = HostEntity::find();
    if let Some((lo, hi)) = &filter.region_range {
        query = query.filter(Column::RegionCode.between(lo.as_str(), hi.as_str()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(Column::Kind.eq(kind.as_str()));
    }
    if let Some(month) = filter.month {
        // Bitwise AND is the same operator on SQLite and PostgreSQL.
        query = query.filter(
            Expr::col(Column::PreferredMonths)
                .bit_and(Months::bit(month))
                .ne(0),
        );
    }
    if let Some(from) = filter.unplanned_from {
        // NOT IN over a subquery that never yields NULL (stops at points have no host).
        let planned = Query::select()
            .column((drive_stop::Entity, drive_stop::Column::HostId))
            .from(drive_stop::Entity)
            .inner_join(
                drive::Entity,
                Expr::col((drive::Entity, drive::Column::Id))
                    .equals((drive_stop::Entity, drive_stop::Column::DriveId)),
            )
            .and_where(Expr::col((drive_stop::Entity, drive_stop::Column::HostId)).is_not_null())
            .and_where(
                Expr::col((drive::Entity, drive::Column::Status))
                    .ne(DriveStatus::Cancelled.as_str()),
            )
            .and_where(Expr::col((drive::Entity, drive::Column::Date)).gte(from))
            .to_owned();
        query = query.filter(Column::Id.not_in_subquery(planned));
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

/// Adds a contact to host `host_id`.
pub async fn insert_contact(
    db: &impl ConnectionTrait,
    host_id: i64,
    fields: ContactFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<host_contact::Model, DbErr> {
    let model = host_contact::ActiveModel {
        host_id: Set(host_id),
        name: Set(fields.name),
        mobile: Set(fields.mobile.as_str().to_owned()),
        role: Set(fields.role),
        created_at: Set(now),
        created_by: Set(actor),
        ..Default::default()
    };
    ContactEntity::insert(model).exec_with_returning(db).await
}

/// The contacts of host `host_id`, in the order they were added.
pub async fn contacts(
    db: &impl ConnectionTrait,
    host_id: i64,
) -> Result<Vec<host_contact::Model>, DbErr> {
    ContactEntity::find()
        .filter(host_contact::Column::HostId.eq(host_id))
        .order_by_asc(host_contact::Column::Id)
        .all(db)
        .await
}

/// The contacts of these hosts, in the order they were added.
pub async fn contacts_of(
    db: &impl ConnectionTrait,
    host_ids: &[i64],
) -> Result<Vec<host_contact::Model>, DbErr> {
    if host_ids.is_empty() {
        return Ok(Vec::new());
    }
    ContactEntity::find()
        .filter(host_contact::Column::HostId.is_in(host_ids.iter().copied()))
        .order_by_asc(host_contact::Column::Id)
        .all(db)
        .await
}

/// How many contacts host `host_id` has.
pub async fn count_contacts(db: &impl ConnectionTrait, host_id: i64) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    ContactEntity::find()
        .filter(host_contact::Column::HostId.eq(host_id))
        .count(db)
        .await
}

/// Removes contact `id` of host `host_id`; the removed row, or `None` when there was none.
pub async fn delete_contact(
    db: &impl ConnectionTrait,
    host_id: i64,
    id: i64,
) -> Result<Option<host_contact::Model>, DbErr> {
    let Some(found) = ContactEntity::find_by_id(id)
        .filter(host_contact::Column::HostId.eq(host_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    ContactEntity::delete_by_id(id).exec(db).await?;
    Ok(Some(found))
}

/// Moves host `id`'s version on (its contacts changed).
pub async fn touch(
    db: &impl ConnectionTrait,
    id: i64,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    HostEntity::update_many()
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::UpdatedBy, Expr::value(actor))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
