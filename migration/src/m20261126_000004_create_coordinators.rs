//! Coordinators (the local people who run points) and their assignment to points.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Coordinators::Table)
                    .col(
                        ColumnDef::new(Coordinators::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Coordinators::Name)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Coordinators::Mobile)
                            .string_len(11)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Coordinators::WechatId).string_len(64).null())
                    .col(ColumnDef::new(Coordinators::Role).string_len(32).not_null())
                    .col(ColumnDef::new(Coordinators::Notes).text().null())
                    .col(
                        ColumnDef::new(Coordinators::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Coordinators::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Coordinators::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Coordinators::CreatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Coordinators::UpdatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .check(Expr::col(Coordinators::Role).is_in([
                        "village_doctor",
                        "township_health_center",
                        "village_committee",
                        "volunteer",
                        "other",
                    ]))
                    .to_owned(),
            )
            .await?;
        // One person, one record: the mobile number identifies them.
        manager
            .create_index(
                Index::create()
                    .name("uq_coordinators_mobile")
                    .table(Coordinators::Table)
                    .col(Coordinators::Mobile)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PointCoordinators::Table)
                    .col(
                        ColumnDef::new(PointCoordinators::PointId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointCoordinators::CoordinatorId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointCoordinators::IsPrimary)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(PointCoordinators::AssignedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(PointCoordinators::PointId)
                            .col(PointCoordinators::CoordinatorId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_point_coordinators_point")
                            .from(PointCoordinators::Table, PointCoordinators::PointId)
                            .to(Points::Table, Points::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_point_coordinators_coordinator")
                            .from(PointCoordinators::Table, PointCoordinators::CoordinatorId)
                            .to(Coordinators::Table, Coordinators::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_point_coordinators_coordinator")
                    .table(PointCoordinators::Table)
                    .col(PointCoordinators::CoordinatorId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PointCoordinators::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Coordinators::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Points {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Coordinators {
    Table,
    Id,
    Name,
    Mobile,
    WechatId,
    Role,
    Notes,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum PointCoordinators {
    Table,
    PointId,
    CoordinatorId,
    IsPrimary,
    AssignedAt,
}
