//! Queries over `coordinators` and `point_coordinators`.

use chrono::{DateTime, Utc};
use entity::coordinator::{self, Column, Entity as Coordinator};
use entity::point_coordinator::{self, Entity as PointCoordinator};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::point::{CoordinatorRole, MobileNumber};
use crate::domain::policy::Visibility;
use crate::domain::region::RegionCode;

/// A coordinator's fields as validated by the API.
#[derive(Debug, Clone)]
pub struct CoordinatorFields {
    pub name: String,
    pub mobile: MobileNumber,
    pub wechat_id: Option<String>,
    pub role: CoordinatorRole,
    pub notes: Option<String>,
    /// The home region whose officials keep this record.
    pub region_code: RegionCode,
}

impl CoordinatorFields {
    fn apply(self, model: &mut coordinator::ActiveModel) {
        model.name = Set(self.name);
        model.mobile = Set(self.mobile.as_str().to_owned());
        model.wechat_id = Set(self.wechat_id);
        model.role = Set(self.role.as_str().to_owned());
        model.notes = Set(self.notes);
        model.region_code = Set(Some(self.region_code.to_string()));
    }
}

pub async fn insert(
    db: &impl ConnectionTrait,
    fields: CoordinatorFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<coordinator::Model, DbErr> {
    let mut model = coordinator::ActiveModel {
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(actor.clone()),
        updated_by: Set(actor),
        ..Default::default()
    };
    fields.apply(&mut model);
    Coordinator::insert(model).exec_with_returning(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<coordinator::Model>, DbErr> {
    Coordinator::find_by_id(id).one(db).await
}

/// A coordinator, locked for the rest of the transaction: exclusively (so that nothing is
/// assigned to them meanwhile), or shared (so that they cannot be deleted meanwhile). Plain
/// reads on SQLite, whose write transaction already holds the database.
pub async fn find_locked(
    db: &impl ConnectionTrait,
    id: i64,
    exclusive: bool,
) -> Result<Option<coordinator::Model>, DbErr> {
    let query = Coordinator::find_by_id(id);
    let query = if exclusive {
        query.lock_exclusive()
    } else {
        query.lock_shared()
    };
    query.one(db).await
}

/// A point whose coordinators are about to change, locked (on PostgreSQL) so that two
/// assignments to one point serialise; SQLite's write transaction already does.
pub async fn lock_point(
    db: &impl ConnectionTrait,
    point_id: i64,
) -> Result<Option<entity::point::Model>, DbErr> {
    entity::point::Entity::find_by_id(point_id)
        .lock_exclusive()
        .one(db)
        .await
}

/// Writes `fields` if the coordinator is still at `expected_version`; `None` otherwise.
pub async fn update_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: i32,
    fields: CoordinatorFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<coordinator::Model>, DbErr> {
    let mut model = coordinator::ActiveModel {
        updated_at: Set(now),
        updated_by: Set(actor),
        ..Default::default()
    };
    fields.apply(&mut model);
    let result = Coordinator::update_many()
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

/// Coordinators whose name or mobile contains `q` (all when `None`), in id order.
pub async fn search(
    db: &impl ConnectionTrait,
    q: Option<&str>,
    reach: &Visibility,
    after_id: Option<i64>,
    limit: u64,
) -> Result<Vec<coordinator::Model>, DbErr> {
    let mut query = Coordinator::find();
    if let Some(condition) = super::within(Column::RegionCode, reach) {
        query = query.filter(condition);
    }
    if let Some(q) = q {
        let pattern = format!(
            "%{}%",
            crate::store::regions::escape_like(&q.to_ascii_lowercase())
        );
        query = query.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(Column::Name)))
                        .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(Expr::col(Column::Mobile).like(LikeExpr::new(pattern).escape('\\'))),
        );
    }
    if let Some(after) = after_id {
        query = query.filter(Column::Id.gt(after));
    }
    query.order_by_asc(Column::Id).limit(limit).all(db).await
}

/// Deletes a coordinator who serves no point. Returns false when they still serve one.
pub async fn delete_unassigned(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    let serving = PointCoordinator::find()
        .filter(point_coordinator::Column::CoordinatorId.eq(id))
        .count(db)
        .await?;
    if serving > 0 {
        return Ok(false);
    }
    Coordinator::delete_by_id(id).exec(db).await?;
    Ok(true)
}

/// The coordinators of a point, the primary first.
pub async fn of_point(
    db: &impl ConnectionTrait,
    point_id: i64,
) -> Result<Vec<(point_coordinator::Model, coordinator::Model)>, DbErr> {
    let links = PointCoordinator::find()
        .filter(point_coordinator::Column::PointId.eq(point_id))
        .all(db)
        .await?;
    let people = Coordinator::find()
        .filter(Column::Id.is_in(links.iter().map(|l| l.coordinator_id)))
        .all(db)
        .await?;
    let mut out: Vec<_> = links
        .into_iter()
        .filter_map(|l| {
            let person = people.iter().find(|p| p.id == l.coordinator_id)?.clone();
            Some((l, person))
        })
        .collect();
    out.sort_by_key(|(l, p)| (!l.is_primary, p.id));
    Ok(out)
}

/// Assigns a coordinator to a point (or changes whether they are its primary). A new primary
/// demotes the old one; run it in a transaction that holds the point.
pub async fn assign(
    db: &impl ConnectionTrait,
    point_id: i64,
    coordinator_id: i64,
    primary: bool,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if primary {
        PointCoordinator::update_many()
            .col_expr(point_coordinator::Column::IsPrimary, Expr::value(false))
            .filter(point_coordinator::Column::PointId.eq(point_id))
            .filter(point_coordinator::Column::CoordinatorId.ne(coordinator_id))
            .exec(db)
            .await?;
    }
    let existing = PointCoordinator::find_by_id((point_id, coordinator_id))
        .one(db)
        .await?;
    match existing {
        Some(_) => {
            PointCoordinator::update_many()
                .col_expr(point_coordinator::Column::IsPrimary, Expr::value(primary))
                .filter(point_coordinator::Column::PointId.eq(point_id))
                .filter(point_coordinator::Column::CoordinatorId.eq(coordinator_id))
                .exec(db)
                .await?;
        }
        None => {
            PointCoordinator::insert(point_coordinator::ActiveModel {
                point_id: Set(point_id),
                coordinator_id: Set(coordinator_id),
                is_primary: Set(primary),
                assigned_at: Set(now),
            })
            .exec(db)
            .await?;
        }
    }
    Ok(())
}

/// Removes a coordinator from a point. Returns whether they were assigned.
pub async fn unassign(
    db: &impl ConnectionTrait,
    point_id: i64,
    coordinator_id: i64,
) -> Result<bool, DbErr> {
    let result = PointCoordinator::delete_by_id((point_id, coordinator_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Which of `point_ids` have a primary coordinator.
pub async fn with_primary(db: &impl ConnectionTrait, point_ids: &[i64]) -> Result<Vec<i64>, DbErr> {
    let mut out = Vec::new();
    for chunk in point_ids.chunks(500) {
        let rows = PointCoordinator::find()
            .filter(point_coordinator::Column::PointId.is_in(chunk.iter().copied()))
            .filter(point_coordinator::Column::IsPrimary.eq(true))
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|r| r.point_id));
    }
    Ok(out)
}

/// The primary coordinator's mobile of each of `point_ids` that has one.
pub async fn primary_mobiles(
    db: &impl ConnectionTrait,
    point_ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, DbErr> {
    let mut out = std::collections::HashMap::new();
    for chunk in point_ids.chunks(500) {
        let links = PointCoordinator::find()
            .filter(point_coordinator::Column::PointId.is_in(chunk.iter().copied()))
            .filter(point_coordinator::Column::IsPrimary.eq(true))
            .all(db)
            .await?;
        let people = Coordinator::find()
            .filter(Column::Id.is_in(links.iter().map(|l| l.coordinator_id)))
            .all(db)
            .await?;
        for link in links {
            if let Some(person) = people.iter().find(|p| p.id == link.coordinator_id) {
                out.insert(link.point_id, person.mobile.clone());
            }
        }
    }
    Ok(out)
}
