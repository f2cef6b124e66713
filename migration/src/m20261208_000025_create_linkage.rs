//! Emergency linkage between stations (issue 17): a station's request for blood of a
//! component and group by a date, and other stations' offers answering it. The requester
//! accepts one offer (a conditional update on the request's version, so two accepts cannot
//! both win); the offering station dispatches it and the requester receives it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BloodRequests::Table)
                    .col(
                        ColumnDef::new(BloodRequests::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(BloodRequests::StationId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BloodRequests::Component)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BloodRequests::BloodGroup)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(ColumnDef::new(BloodRequests::Units).integer().not_null())
                    .col(ColumnDef::new(BloodRequests::Ml).integer().not_null())
                    .col(ColumnDef::new(BloodRequests::NeededBy).date().not_null())
                    .col(ColumnDef::new(BloodRequests::Note).text().null())
                    .col(
                        ColumnDef::new(BloodRequests::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BloodRequests::AcceptedOfferId)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(BloodRequests::Version).integer().not_null())
                    .col(
                        ColumnDef::new(BloodRequests::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BloodRequests::CreatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(BloodRequests::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_blood_requests_station")
                            .from(BloodRequests::Table, BloodRequests::StationId)
                            .to(Stations::Table, Stations::Id)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(BloodRequests::Units).gt(0))
                    .check(Expr::col(BloodRequests::Ml).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_blood_requests_status")
                    .table(BloodRequests::Table)
                    .col(BloodRequests::Status)
                    .col(BloodRequests::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BloodOffers::Table)
                    .col(
                        ColumnDef::new(BloodOffers::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(BloodOffers::RequestId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BloodOffers::StationId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BloodOffers::Units).integer().not_null())
                    .col(ColumnDef::new(BloodOffers::Ml).integer().not_null())
                    .col(ColumnDef::new(BloodOffers::Note).text().null())
                    .col(
                        ColumnDef::new(BloodOffers::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(BloodOffers::Version).integer().not_null())
                    .col(
                        ColumnDef::new(BloodOffers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BloodOffers::CreatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(BloodOffers::DispatchedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(BloodOffers::ReceivedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_blood_offers_request")
                            .from(BloodOffers::Table, BloodOffers::RequestId)
                            .to(BloodRequests::Table, BloodRequests::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_blood_offers_station")
                            .from(BloodOffers::Table, BloodOffers::StationId)
                            .to(Stations::Table, Stations::Id)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(BloodOffers::Units).gt(0))
                    .check(Expr::col(BloodOffers::Ml).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_blood_offers_request")
                    .table(BloodOffers::Table)
                    .col(BloodOffers::RequestId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BloodOffers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(BloodRequests::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum BloodRequests {
    Table,
    Id,
    StationId,
    Component,
    BloodGroup,
    Units,
    Ml,
    NeededBy,
    Note,
    Status,
    AcceptedOfferId,
    Version,
    CreatedAt,
    CreatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BloodOffers {
    Table,
    Id,
    RequestId,
    StationId,
    Units,
    Ml,
    Note,
    Status,
    Version,
    CreatedAt,
    CreatedBy,
    DispatchedAt,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Stations {
    Table,
    Id,
}
