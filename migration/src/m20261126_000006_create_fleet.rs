//! The fleet (issue 5, drive planning): blood stations (the depots bloodmobiles leave from and
//! return to each day) and bloodmobiles; and the market-day pattern of a point's township.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Stations::Table)
                    .col(
                        ColumnDef::new(Stations::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Stations::Name).string_len(200).not_null())
                    .col(
                        ColumnDef::new(Stations::RegionCode)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Stations::Address).string_len(500).null())
                    .col(ColumnDef::new(Stations::Longitude).double().not_null())
                    .col(ColumnDef::new(Stations::Latitude).double().not_null())
                    .col(ColumnDef::new(Stations::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Stations::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Stations::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Stations::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Stations::CreatedBy).string_len(100).null())
                    .col(ColumnDef::new(Stations::UpdatedBy).string_len(100).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stations_region")
                            .from(Stations::Table, Stations::RegionCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(Stations::Status).is_in(["active", "closed"]))
                    .to_owned(),
            )
            .await?;
        // The stations of a subtree (region codes are ranges).
        manager
            .create_index(
                Index::create()
                    .name("idx_stations_region")
                    .table(Stations::Table)
                    .col(Stations::RegionCode)
                    .col(Stations::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Vehicles::Table)
                    .col(
                        ColumnDef::new(Vehicles::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Vehicles::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Vehicles::Plate).string_len(16).not_null())
                    .col(ColumnDef::new(Vehicles::StationId).big_integer().not_null())
                    .col(ColumnDef::new(Vehicles::Beds).integer().not_null())
                    .col(ColumnDef::new(Vehicles::Staff).integer().not_null())
                    .col(
                        ColumnDef::new(Vehicles::MaxDonorsPerDay)
                            .integer()
                            .not_null(),
                    )
                    // Minutes after midnight (the API shows "HH:MM").
                    .col(ColumnDef::new(Vehicles::DayStart).integer().not_null())
                    .col(ColumnDef::new(Vehicles::DayEnd).integer().not_null())
                    .col(ColumnDef::new(Vehicles::SetupMin).integer().not_null())
                    .col(ColumnDef::new(Vehicles::TeardownMin).integer().not_null())
                    // Yuan per km.
                    .col(ColumnDef::new(Vehicles::CostPerKm).double().not_null())
                    .col(ColumnDef::new(Vehicles::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Vehicles::Notes).text().null())
                    .col(
                        ColumnDef::new(Vehicles::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Vehicles::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Vehicles::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Vehicles::CreatedBy).string_len(100).null())
                    .col(ColumnDef::new(Vehicles::UpdatedBy).string_len(100).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_vehicles_station")
                            .from(Vehicles::Table, Vehicles::StationId)
                            .to(Stations::Table, Stations::Id)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(Vehicles::Status).is_in(["active", "retired"]))
                    .check(Expr::col(Vehicles::Beds).gte(1))
                    .check(Expr::col(Vehicles::Staff).gte(1))
                    .check(Expr::col(Vehicles::MaxDonorsPerDay).gte(1))
                    .check(
                        Expr::col(Vehicles::DayStart)
                            .gte(0)
                            .and(Expr::col(Vehicles::DayEnd).lte(24 * 60))
                            .and(Expr::col(Vehicles::DayEnd).gt(Expr::col(Vehicles::DayStart))),
                    )
                    .check(Expr::col(Vehicles::SetupMin).between(0, 240))
                    .check(Expr::col(Vehicles::TeardownMin).between(0, 240))
                    .check(Expr::col(Vehicles::CostPerKm).gte(0))
                    .to_owned(),
            )
            .await?;
        // One plate, one vehicle (retired ones included: the plate identifies the vehicle).
        manager
            .create_index(
                Index::create()
                    .name("uq_vehicles_plate")
                    .table(Vehicles::Table)
                    .col(Vehicles::Plate)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_vehicles_station")
                    .table(Vehicles::Table)
                    .col(Vehicles::StationId)
                    .col(Vehicles::Id)
                    .to_owned(),
            )
            .await?;

        // The township's market days, as lunar-day digits ("1,4,7").
        manager
            .alter_table(
                Table::alter()
                    .table(Points::Table)
                    .add_column(ColumnDef::new(Points::MarketDays).string_len(32).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Points::Table)
                    .drop_column(Points::MarketDays)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Vehicles::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Stations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Points {
    Table,
    MarketDays,
}

#[derive(DeriveIden)]
enum Stations {
    Table,
    Id,
    Name,
    RegionCode,
    Address,
    Longitude,
    Latitude,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum Vehicles {
    Table,
    Id,
    Name,
    Plate,
    StationId,
    Beds,
    Staff,
    MaxDonorsPerDay,
    DayStart,
    DayEnd,
    SetupMin,
    TeardownMin,
    CostPerKm,
    Status,
    Notes,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
    UpdatedBy,
}
