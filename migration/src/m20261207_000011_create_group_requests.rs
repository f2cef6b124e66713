//! Large public group bookings become requests (issue 12): a group above its station's
//! `group_request_threshold` holds no places until staff confirm it (`group_requests`; the
//! booking it becomes is then an ordinary `bookings` row with the request's code and token).
//! `bookings.client_address` records the address a public booking came from, so that the
//! places one mobile or one address holds through the public endpoints can be capped; it is
//! NULL for bookings staff made or confirmed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Stations::Table)
                    .add_column(
                        ColumnDef::new(Stations::GroupRequestThreshold)
                            .integer()
                            .not_null()
                            .default(10),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .add_column(
                        ColumnDef::new(Bookings::ClientAddress)
                            .string_len(64)
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupRequests::Table)
                    .col(
                        ColumnDef::new(GroupRequests::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(GroupRequests::Code)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupRequests::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupRequests::StopId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupRequests::Organisation)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupRequests::ContactName)
                            .string_len(100)
                            .not_null(),
                    )
                    // Erased with the bookings' mobiles.
                    .col(ColumnDef::new(GroupRequests::Mobile).string_len(20).null())
                    .col(
                        ColumnDef::new(GroupRequests::Headcount)
                            .integer()
                            .not_null(),
                    )
                    // Slot starts (`HH:MM`, comma-separated) in order of preference; empty
                    // for any.
                    .col(
                        ColumnDef::new(GroupRequests::Preferred)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupRequests::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupRequests::BookingId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(GroupRequests::ClientAddress)
                            .string_len(64)
                            .null(),
                    )
                    .col(ColumnDef::new(GroupRequests::Reason).text().null())
                    .col(
                        ColumnDef::new(GroupRequests::DecidedBy)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(GroupRequests::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(GroupRequests::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupRequests::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_requests_stop")
                            .from(GroupRequests::Table, GroupRequests::StopId)
                            .to(DriveStops::Table, DriveStops::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_requests_booking")
                            .from(GroupRequests::Table, GroupRequests::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::SetNull)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(GroupRequests::Status).is_in([
                        "pending",
                        "confirmed",
                        "declined",
                        "withdrawn",
                    ]))
                    .check(Expr::col(GroupRequests::Headcount).gte(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_requests_code")
                    .table(GroupRequests::Table)
                    .col(GroupRequests::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_requests_stop")
                    .table(GroupRequests::Table)
                    .col(GroupRequests::StopId)
                    .to_owned(),
            )
            .await?;
        // The places one address holds through the public endpoints (those of one mobile
        // use `idx_bookings_mobile`).
        manager
            .create_index(
                Index::create()
                    .name("idx_bookings_client_address")
                    .table(Bookings::Table)
                    .col(Bookings::ClientAddress)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_bookings_client_address")
                    .table(Bookings::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(GroupRequests::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .drop_column(Bookings::ClientAddress)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Stations::Table)
                    .drop_column(Stations::GroupRequestThreshold)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Stations {
    Table,
    GroupRequestThreshold,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    ClientAddress,
}

#[derive(DeriveIden)]
enum DriveStops {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum GroupRequests {
    Table,
    Id,
    Code,
    TokenHash,
    StopId,
    Organisation,
    ContactName,
    Mobile,
    Headcount,
    Preferred,
    Status,
    BookingId,
    ClientAddress,
    Reason,
    DecidedBy,
    Version,
    CreatedAt,
    UpdatedAt,
}
