//! Drives (issue 6): a vehicle-day (`drives`) with its ordered stops (`drive_stops`), made
//! from an accepted plan or by hand.
//!
//! A vehicle has at most one drive a day that is not cancelled. That rule is a partial unique
//! index on PostgreSQL and SQLite alike, but the schema builder cannot write the `WHERE` of
//! one portably, so it is enforced in the transaction that creates drives (checked before the
//! insert; `crate::store::drives::taken`), with the plain index below to make that check cheap.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Drives::Table)
                    .col(
                        ColumnDef::new(Drives::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Drives::PlanId).big_integer().null())
                    .col(ColumnDef::new(Drives::VehicleId).big_integer().not_null())
                    .col(ColumnDef::new(Drives::Date).date().not_null())
                    .col(ColumnDef::new(Drives::RegionCode).string_len(12).not_null())
                    .col(ColumnDef::new(Drives::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Drives::CancelReason).text().null())
                    .col(
                        ColumnDef::new(Drives::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Drives::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Drives::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Drives::CreatedBy).string_len(100).null())
                    .col(ColumnDef::new(Drives::UpdatedBy).string_len(100).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_drives_plan")
                            .from(Drives::Table, Drives::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_drives_vehicle")
                            .from(Drives::Table, Drives::VehicleId)
                            .to(Vehicles::Table, Vehicles::Id)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_drives_region")
                            .from(Drives::Table, Drives::RegionCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(Drives::Status).is_in([
                        "draft",
                        "published",
                        "in_progress",
                        "completed",
                        "cancelled",
                    ]))
                    .to_owned(),
            )
            .await?;
        // One vehicle-day (the check before inserting a drive).
        manager
            .create_index(
                Index::create()
                    .name("idx_drives_vehicle_date")
                    .table(Drives::Table)
                    .col(Drives::VehicleId)
                    .col(Drives::Date)
                    .to_owned(),
            )
            .await?;
        // The drives of a subtree (region codes are ranges), by date.
        manager
            .create_index(
                Index::create()
                    .name("idx_drives_region_date")
                    .table(Drives::Table)
                    .col(Drives::RegionCode)
                    .col(Drives::Date)
                    .to_owned(),
            )
            .await?;
        // The drives made from a plan (accepting twice is refused).
        manager
            .create_index(
                Index::create()
                    .name("idx_drives_plan")
                    .table(Drives::Table)
                    .col(Drives::PlanId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DriveStops::Table)
                    .col(
                        ColumnDef::new(DriveStops::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(DriveStops::DriveId).big_integer().not_null())
                    // 1, 2, … in the order the vehicle visits them.
                    .col(ColumnDef::new(DriveStops::Seq).integer().not_null())
                    // `point-12` or `region-<12-digit code>`, as in plans.
                    .col(ColumnDef::new(DriveStops::SiteId).string_len(40).not_null())
                    .col(ColumnDef::new(DriveStops::PointId).big_integer().null())
                    .col(
                        ColumnDef::new(DriveStops::RegionCode)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(ColumnDef::new(DriveStops::Name).string_len(200).not_null())
                    // Minutes after midnight.
                    .col(
                        ColumnDef::new(DriveStops::PlannedStart)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(DriveStops::PlannedEnd).integer().not_null())
                    .col(
                        ColumnDef::new(DriveStops::ExpectedDonors)
                            .double()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_drive_stops_drive")
                            .from(DriveStops::Table, DriveStops::DriveId)
                            .to(Drives::Table, Drives::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_drive_stops_point")
                            .from(DriveStops::Table, DriveStops::PointId)
                            .to(Points::Table, Points::Id)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_drive_stops_region")
                            .from(DriveStops::Table, DriveStops::RegionCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(DriveStops::Seq).gte(1))
                    .check(Expr::col(DriveStops::PlannedStart).between(0, 1440))
                    .check(Expr::col(DriveStops::PlannedEnd).between(0, 1440))
                    .check(Expr::col(DriveStops::ExpectedDonors).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_drive_stops_drive_seq")
                    .table(DriveStops::Table)
                    .col(DriveStops::DriveId)
                    .col(DriveStops::Seq)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DriveStops::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Drives::Table).to_owned())
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
}

#[derive(DeriveIden)]
enum Vehicles {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Points {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Drives {
    Table,
    Id,
    PlanId,
    VehicleId,
    Date,
    RegionCode,
    Status,
    CancelReason,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum DriveStops {
    Table,
    Id,
    DriveId,
    Seq,
    SiteId,
    PointId,
    RegionCode,
    Name,
    PlannedStart,
    PlannedEnd,
    ExpectedDonors,
}
