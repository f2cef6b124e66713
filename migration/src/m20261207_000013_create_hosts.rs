//! Host organisations (issue 16): agencies, enterprises, schools, hospitals and communities
//! that hold group drives on a yearly timetable, and their contacts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Hosts::Table)
                    .col(
                        ColumnDef::new(Hosts::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Hosts::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Hosts::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Hosts::RegionCode).string_len(12).not_null())
                    .col(ColumnDef::new(Hosts::Address).string_len(500).null())
                    .col(ColumnDef::new(Hosts::Longitude).double().not_null())
                    .col(ColumnDef::new(Hosts::Latitude).double().not_null())
                    .col(ColumnDef::new(Hosts::TypicalHeadcount).integer().null())
                    .col(
                        ColumnDef::new(Hosts::PreferredMonths)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Hosts::Notes).text().null())
                    .col(
                        ColumnDef::new(Hosts::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Hosts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Hosts::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Hosts::CreatedBy).string_len(100).null())
                    .col(ColumnDef::new(Hosts::UpdatedBy).string_len(100).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_hosts_region")
                            .from(Hosts::Table, Hosts::RegionCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(Hosts::Kind).is_in([
                        "agency",
                        "enterprise",
                        "school",
                        "hospital",
                        "community",
                        "other",
                    ]))
                    .check(Expr::col(Hosts::PreferredMonths).between(0, 4095))
                    .to_owned(),
            )
            .await?;
        // The hosts of a subtree (region codes are ranges), in id order for the cursor.
        manager
            .create_index(
                Index::create()
                    .name("idx_hosts_region")
                    .table(Hosts::Table)
                    .col(Hosts::RegionCode)
                    .col(Hosts::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(HostContacts::Table)
                    .col(
                        ColumnDef::new(HostContacts::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(HostContacts::HostId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HostContacts::Name)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HostContacts::Mobile)
                            .string_len(11)
                            .not_null(),
                    )
                    .col(ColumnDef::new(HostContacts::Role).string_len(100).null())
                    .col(
                        ColumnDef::new(HostContacts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HostContacts::CreatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_host_contacts_host")
                            .from(HostContacts::Table, HostContacts::HostId)
                            .to(Hosts::Table, Hosts::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_host_contacts_host")
                    .table(HostContacts::Table)
                    .col(HostContacts::HostId)
                    .col(HostContacts::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(HostContacts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Hosts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Hosts {
    Table,
    Id,
    Name,
    Kind,
    RegionCode,
    Address,
    Longitude,
    Latitude,
    TypicalHeadcount,
    /// The months the host prefers, one bit each: bit `m - 1` for month `m`.
    PreferredMonths,
    Notes,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum HostContacts {
    Table,
    Id,
    HostId,
    Name,
    Mobile,
    Role,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}
