//! Donation points, and the audit log that records every change to the registry.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Points::Table)
                    .col(
                        ColumnDef::new(Points::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Points::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Points::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Points::RegionCode).string_len(12).not_null())
                    .col(ColumnDef::new(Points::Address).string_len(500).null())
                    .col(ColumnDef::new(Points::Longitude).double().not_null())
                    .col(ColumnDef::new(Points::Latitude).double().not_null())
                    .col(ColumnDef::new(Points::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Points::SignageInstalledOn).date().null())
                    .col(
                        ColumnDef::new(Points::BloodmobileParking)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Points::PowerHookup)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Points::Beds).integer().null())
                    .col(ColumnDef::new(Points::DonorsPerHour).integer().null())
                    .col(ColumnDef::new(Points::ContactPhone).string_len(32).null())
                    .col(ColumnDef::new(Points::Notes).text().null())
                    .col(
                        ColumnDef::new(Points::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Points::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Points::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Points::CreatedBy).string_len(100).null())
                    .col(ColumnDef::new(Points::UpdatedBy).string_len(100).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_points_region")
                            .from(Points::Table, Points::RegionCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(Points::Kind).is_in([
                        "township",
                        "village",
                        "donation_house",
                        "hospital",
                    ]))
                    .check(Expr::col(Points::Status).is_in([
                        "planned",
                        "active",
                        "suspended",
                        "closed",
                    ]))
                    .to_owned(),
            )
            .await?;
        // The points of a subtree (region codes are ranges), and the map's bounding boxes.
        for (name, cols) in [
            ("idx_points_region", vec![Points::RegionCode, Points::Id]),
            (
                "idx_points_location",
                vec![Points::Longitude, Points::Latitude],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Points::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(
                        ColumnDef::new(AuditLog::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditLog::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditLog::Actor).string_len(100).null())
                    .col(ColumnDef::new(AuditLog::Entity).string_len(32).not_null())
                    .col(ColumnDef::new(AuditLog::EntityId).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::Action).string_len(16).not_null())
                    .col(ColumnDef::new(AuditLog::RegionCode).string_len(12).null())
                    .col(ColumnDef::new(AuditLog::Before).text().null())
                    .col(ColumnDef::new(AuditLog::After).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_entity")
                    .table(AuditLog::Table)
                    .col(AuditLog::Entity)
                    .col(AuditLog::EntityId)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Points::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[derive(DeriveIden, Clone, Copy)]
enum Points {
    Table,
    Id,
    Name,
    Kind,
    RegionCode,
    Address,
    Longitude,
    Latitude,
    Status,
    SignageInstalledOn,
    BloodmobileParking,
    PowerHookup,
    Beds,
    DonorsPerHour,
    ContactPhone,
    Notes,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    Entity,
    EntityId,
    Action,
    RegionCode,
    Before,
    After,
}
