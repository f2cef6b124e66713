//! Drive plans (issue 5): one row per `POST /api/v1/plans`, holding the request, the instance
//! built from it, and once the planner has finished, its result. Progress while a plan runs
//! lives in memory; the row records queued, running, done or failed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .col(
                        ColumnDef::new(Plans::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Plans::RegionCode).string_len(12).not_null())
                    .col(ColumnDef::new(Plans::Status).string_len(16).not_null())
                    // JSON documents, as text (both backends).
                    .col(ColumnDef::new(Plans::Request).text().not_null())
                    .col(ColumnDef::new(Plans::Instance).text().null())
                    .col(ColumnDef::new(Plans::Result).text().null())
                    .col(ColumnDef::new(Plans::Error).text().null())
                    // 0 to 100; the live figure of a running plan is kept in memory.
                    .col(
                        ColumnDef::new(Plans::Progress)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Plans::Objective).double().null())
                    .col(ColumnDef::new(Plans::Seed).big_integer().not_null())
                    .col(ColumnDef::new(Plans::CreatedBy).string_len(100).null())
                    .col(
                        ColumnDef::new(Plans::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Plans::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Plans::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plans_region")
                            .from(Plans::Table, Plans::RegionCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(Plans::Status).is_in(["queued", "running", "done", "failed"]))
                    .check(Expr::col(Plans::Progress).between(0, 100))
                    .check(Expr::col(Plans::Seed).gte(0))
                    .to_owned(),
            )
            .await?;
        // The plans of a subtree (region codes are ranges), newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_plans_region")
                    .table(Plans::Table)
                    .col(Plans::RegionCode)
                    .col(Plans::Id)
                    .to_owned(),
            )
            .await?;
        // The unfinished plans a restart must mark failed.
        manager
            .create_index(
                Index::create()
                    .name("idx_plans_status")
                    .table(Plans::Table)
                    .col(Plans::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Plans::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    RegionCode,
    Status,
    Request,
    Instance,
    Result,
    Error,
    Progress,
    Objective,
    Seed,
    CreatedBy,
    CreatedAt,
    FinishedAt,
    Version,
}
