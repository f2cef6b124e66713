//! Appeals and outreach (issue 16): a station's appeal template, appeals (倡议书) made for a
//! drive or one of its stops with a tracking code, the chat groups they are sent to through
//! WeCom group robots, and the appeal a public booking came through (`bookings.appeal_id`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AppealTemplates::Table)
                    .col(
                        ColumnDef::new(AppealTemplates::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AppealTemplates::StationId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AppealTemplates::Body).text().not_null())
                    .col(
                        ColumnDef::new(AppealTemplates::WhoMayDonate)
                            .string_len(500)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AppealTemplates::WhatToBring)
                            .string_len(500)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AppealTemplates::Version)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AppealTemplates::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AppealTemplates::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AppealTemplates::UpdatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appeal_templates_station")
                            .from(AppealTemplates::Table, AppealTemplates::StationId)
                            .to(Stations::Table, Stations::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        // One template per station.
        manager
            .create_index(
                Index::create()
                    .name("uq_appeal_templates_station")
                    .table(AppealTemplates::Table)
                    .col(AppealTemplates::StationId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Appeals::Table)
                    .col(
                        ColumnDef::new(Appeals::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Appeals::DriveId).big_integer().not_null())
                    .col(ColumnDef::new(Appeals::StopId).big_integer().null())
                    .col(
                        ColumnDef::new(Appeals::RegionCode)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Appeals::Code).string_len(16).not_null())
                    .col(ColumnDef::new(Appeals::Body).text().not_null())
                    .col(ColumnDef::new(Appeals::Link).string_len(500).not_null())
                    .col(
                        ColumnDef::new(Appeals::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Appeals::CreatedBy).string_len(100).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appeals_drive")
                            .from(Appeals::Table, Appeals::DriveId)
                            .to(Drives::Table, Drives::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appeals_stop")
                            .from(Appeals::Table, Appeals::StopId)
                            .to(DriveStops::Table, DriveStops::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_appeals_code")
                    .table(Appeals::Table)
                    .col(Appeals::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_appeals_drive")
                    .table(Appeals::Table)
                    .col(Appeals::DriveId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChatGroups::Table)
                    .col(
                        ColumnDef::new(ChatGroups::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ChatGroups::Name).string_len(100).not_null())
                    .col(
                        ColumnDef::new(ChatGroups::RegionCode)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ChatGroups::Audience)
                            .string_len(20)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ChatGroups::HostId).big_integer().null())
                    .col(
                        ColumnDef::new(ChatGroups::WebhookKey)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ChatGroups::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ChatGroups::CreatedBy).string_len(100).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_groups_region")
                            .from(ChatGroups::Table, ChatGroups::RegionCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_groups_host")
                            .from(ChatGroups::Table, ChatGroups::HostId)
                            .to(Hosts::Table, Hosts::Id)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_groups_region")
                    .table(ChatGroups::Table)
                    .col(ChatGroups::RegionCode)
                    .to_owned(),
            )
            .await?;
        // Nullable, without a foreign key: SQLite cannot add one to an existing table. The
        // appeal a booking came through is a figure, not a constraint.
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .add_column(ColumnDef::new(Bookings::AppealId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bookings_appeal")
                    .table(Bookings::Table)
                    .col(Bookings::AppealId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_bookings_appeal")
                    .table(Bookings::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .drop_column(Bookings::AppealId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ChatGroups::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Appeals::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AppealTemplates::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AppealTemplates {
    Table,
    Id,
    StationId,
    /// The text with its named fields (`{date}`, `{place}`, `{times}`, `{who}`, `{bring}`,
    /// `{link}`).
    Body,
    WhoMayDonate,
    WhatToBring,
    Version,
    CreatedAt,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum Appeals {
    Table,
    Id,
    DriveId,
    /// One stop of the drive, or NULL for the whole drive.
    StopId,
    /// The drive's region (its scope).
    RegionCode,
    /// The tracking code in the booking link.
    Code,
    /// The rendered text.
    Body,
    Link,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum ChatGroups {
    Table,
    Id,
    Name,
    RegionCode,
    /// `coordinators` or `host`.
    Audience,
    HostId,
    /// The group robot's key (a secret: never returned, logged or audited).
    WebhookKey,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    AppealId,
}

#[derive(DeriveIden)]
enum Stations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Drives {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DriveStops {
    Table,
    Id,
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
