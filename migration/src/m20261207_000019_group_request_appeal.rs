//! The appeal a public group request came through (`group_requests.appeal_id`, issue 16): a
//! request above its station's threshold holds no places until staff confirm it, and the
//! booking it then becomes carries the appeal on (`bookings.appeal_id`, which group bookings
//! now record too).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Nullable, without a foreign key (as `bookings.appeal_id`): a figure, not a constraint.
        manager
            .alter_table(
                Table::alter()
                    .table(GroupRequests::Table)
                    .add_column(ColumnDef::new(GroupRequests::AppealId).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(GroupRequests::Table)
                    .drop_column(GroupRequests::AppealId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum GroupRequests {
    Table,
    AppealId,
}
