//! Preparation checklists (issue 6): per blood station a template (`checklist_templates`: what
//! to do how many days before a drive), and per drive stop the items made from it when the
//! drive is made (`checklist_items`), each done or not, with who and when.
//!
//! A station without template rows uses the built-in defaults (`crate::domain::checklist`).
//! All rows of one station's template carry the template's version: a replacement writes them
//! all with the next version (the template is replaced whole, never row by row). Items copy
//! their title and due date, so that editing a template changes only drives made afterwards.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChecklistTemplates::Table)
                    .col(
                        ColumnDef::new(ChecklistTemplates::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ChecklistTemplates::StationId)
                            .big_integer()
                            .not_null(),
                    )
                    // 1, 2, … in the order the station listed them.
                    .col(ColumnDef::new(ChecklistTemplates::Seq).integer().not_null())
                    .col(
                        ColumnDef::new(ChecklistTemplates::Title)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ChecklistTemplates::DaysBefore)
                            .integer()
                            .not_null(),
                    )
                    // The template's version (the same on every row of the station).
                    .col(
                        ColumnDef::new(ChecklistTemplates::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(ChecklistTemplates::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ChecklistTemplates::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ChecklistTemplates::CreatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ChecklistTemplates::UpdatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_checklist_templates_station")
                            .from(ChecklistTemplates::Table, ChecklistTemplates::StationId)
                            .to(Stations::Table, Stations::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(ChecklistTemplates::Seq).gte(1))
                    .check(Expr::col(ChecklistTemplates::DaysBefore).between(0, 90))
                    .check(Expr::col(ChecklistTemplates::Version).gte(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_checklist_templates_station_seq")
                    .table(ChecklistTemplates::Table)
                    .col(ChecklistTemplates::StationId)
                    .col(ChecklistTemplates::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChecklistItems::Table)
                    .col(
                        ColumnDef::new(ChecklistItems::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ChecklistItems::StopId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ChecklistItems::Seq).integer().not_null())
                    .col(
                        ColumnDef::new(ChecklistItems::Title)
                            .string_len(200)
                            .not_null(),
                    )
                    // The drive's date minus `days_before`.
                    .col(ColumnDef::new(ChecklistItems::DueDate).date().not_null())
                    .col(
                        ColumnDef::new(ChecklistItems::DaysBefore)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ChecklistItems::Done)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(ChecklistItems::DoneAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ChecklistItems::DoneBy)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ChecklistItems::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_checklist_items_stop")
                            .from(ChecklistItems::Table, ChecklistItems::StopId)
                            .to(DriveStops::Table, DriveStops::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(ChecklistItems::Seq).gte(1))
                    .check(Expr::col(ChecklistItems::DaysBefore).between(0, 90))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_checklist_items_stop_seq")
                    .table(ChecklistItems::Table)
                    .col(ChecklistItems::StopId)
                    .col(ChecklistItems::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // What is still to do, by due date (the due listing).
        manager
            .create_index(
                Index::create()
                    .name("idx_checklist_items_done_due")
                    .table(ChecklistItems::Table)
                    .col(ChecklistItems::Done)
                    .col(ChecklistItems::DueDate)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChecklistItems::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ChecklistTemplates::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Stations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DriveStops {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ChecklistTemplates {
    Table,
    Id,
    StationId,
    Seq,
    Title,
    DaysBefore,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum ChecklistItems {
    Table,
    Id,
    StopId,
    Seq,
    Title,
    DueDate,
    DaysBefore,
    Done,
    DoneAt,
    DoneBy,
    Version,
}
