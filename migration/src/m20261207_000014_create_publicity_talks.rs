//! Publicity talks (宣讲, issue 16): a talk given in a village or township, or at a host
//! organisation, logged with its date, speaker, audience and materials.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PublicityTalks::Table)
                    .col(
                        ColumnDef::new(PublicityTalks::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PublicityTalks::RegionCode)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(ColumnDef::new(PublicityTalks::HostId).big_integer().null())
                    .col(ColumnDef::new(PublicityTalks::HeldOn).date().not_null())
                    .col(
                        ColumnDef::new(PublicityTalks::Speaker)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PublicityTalks::Audience)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PublicityTalks::AudienceDescription)
                            .string_len(200)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(PublicityTalks::Materials)
                            .string_len(500)
                            .not_null(),
                    )
                    .col(ColumnDef::new(PublicityTalks::Notes).text().null())
                    .col(
                        ColumnDef::new(PublicityTalks::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PublicityTalks::CreatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_publicity_talks_region")
                            .from(PublicityTalks::Table, PublicityTalks::RegionCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_publicity_talks_host")
                            .from(PublicityTalks::Table, PublicityTalks::HostId)
                            .to(Hosts::Table, Hosts::Id)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(PublicityTalks::Audience).between(1, 100_000))
                    .to_owned(),
            )
            .await?;
        // The talks of a subtree (region codes are ranges), newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_publicity_talks_region")
                    .table(PublicityTalks::Table)
                    .col(PublicityTalks::RegionCode)
                    .col(PublicityTalks::HeldOn)
                    .col(PublicityTalks::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_publicity_talks_host")
                    .table(PublicityTalks::Table)
                    .col(PublicityTalks::HostId)
                    .col(PublicityTalks::HeldOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PublicityTalks::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PublicityTalks {
    Table,
    Id,
    /// The village or township, or the host's region.
    RegionCode,
    HostId,
    HeldOn,
    Speaker,
    /// A head count.
    Audience,
    AudienceDescription,
    Materials,
    Notes,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Hosts {
    Table,
    Id,
}
