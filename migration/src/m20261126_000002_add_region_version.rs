//! `regions.version`: regions become editable (centre, population, kind), so they get the
//! same optimistic-concurrency version as points.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Regions::Table)
                    .add_column(
                        ColumnDef::new(Regions::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Regions::Table)
                    .drop_column(Regions::Version)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Version,
}
