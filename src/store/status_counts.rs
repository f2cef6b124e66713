//! Rows by status of the tables whose queues and totals an operator watches (`/metrics`).

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QuerySelect};

/// `(status, rows)` of an entity with a `status` column, one entry per status present.
async fn by_status<E: EntityTrait>(
    db: &impl ConnectionTrait,
    status: E::Column,
    id: E::Column,
) -> Result<Vec<(String, i64)>, DbErr> {
    E::find()
        .select_only()
        .column(status)
        .column_as(id.count(), "n")
        .group_by(status)
        .into_tuple()
        .all(db)
        .await
}

pub async fn plans(db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbErr> {
    use entity::plan::{Column, Entity};
    by_status::<Entity>(db, Column::Status, Column::Id).await
}

pub async fn outbox(db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbErr> {
    use entity::outbox_message::{Column, Entity};
    by_status::<Entity>(db, Column::Status, Column::Id).await
}

pub async fn bookings(db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbErr> {
    use entity::booking::{Column, Entity};
    by_status::<Entity>(db, Column::Status, Column::Id).await
}
