//! The `regions` table: the statistical division hierarchy (province to village).
//!
//! The 12-digit code is the primary key and also encodes the hierarchy: a unit's descendants
//! are exactly the codes that share its significant prefix (2 digits for a province, 4 for a
//! city, 6 for a county, 9 for a township). Subtree queries are therefore range scans on the
//! primary key (`code BETWEEN prefix||'000…' AND prefix||'999…'`), which both backends answer
//! from the B-tree; no extra index is needed for them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Regions::Table)
                    .col(
                        ColumnDef::new(Regions::Code)
                            .string_len(12)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Regions::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Regions::Level).string_len(16).not_null())
                    .col(ColumnDef::new(Regions::ParentCode).string_len(12).null())
                    .col(ColumnDef::new(Regions::Kind).string_len(16).null())
                    .col(
                        ColumnDef::new(Regions::KindOverridden)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Regions::Longitude).double().null())
                    .col(ColumnDef::new(Regions::Latitude).double().null())
                    .col(ColumnDef::new(Regions::Population).big_integer().null())
                    .col(
                        ColumnDef::new(Regions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Regions::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_regions_parent")
                            .from(Regions::Table, Regions::ParentCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(
                        Expr::col(Regions::Level)
                            .is_in(["province", "city", "county", "township", "village"]),
                    )
                    .to_owned(),
            )
            .await?;
        // Children of a region in code order (the listing's stable order and cursor).
        manager
            .create_index(
                Index::create()
                    .name("idx_regions_parent_code")
                    .table(Regions::Table)
                    .col(Regions::ParentCode)
                    .col(Regions::Code)
                    .to_owned(),
            )
            .await?;
        // All units of one level within a subtree (e.g. every village of a county).
        manager
            .create_index(
                Index::create()
                    .name("idx_regions_level_code")
                    .table(Regions::Table)
                    .col(Regions::Level)
                    .col(Regions::Code)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Regions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
    Name,
    Level,
    ParentCode,
    Kind,
    KindOverridden,
    Longitude,
    Latitude,
    Population,
    CreatedAt,
    UpdatedAt,
}
