//! Blood inventory (issue 17): each station's stock per component and ABO/Rh group (units,
//! mL, average daily use, what is on its way to it), the station's inventory version (the
//! ETag of a posting) and its warning levels' version, the warning levels per group, and the
//! history every posting, dispatch and receipt appends to (the trend's chart).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn station_fk<T: IntoIden + Clone + 'static>(
    name: &str,
    table: T,
    col: T,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Stations::Table, Stations::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::NoAction)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StationInventories::Table)
                    .col(
                        ColumnDef::new(StationInventories::StationId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(StationInventories::Version)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StationInventories::LevelsVersion)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StationInventories::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut station_fk(
                        "fk_station_inventories_station",
                        StationInventories::Table,
                        StationInventories::StationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InventoryStocks::Table)
                    .col(id(InventoryStocks::Id))
                    .col(
                        ColumnDef::new(InventoryStocks::StationId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryStocks::Component)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryStocks::BloodGroup)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(ColumnDef::new(InventoryStocks::Units).integer().not_null())
                    .col(ColumnDef::new(InventoryStocks::Ml).integer().not_null())
                    .col(
                        ColumnDef::new(InventoryStocks::DailyUseUnits)
                            .double()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryStocks::IncomingUnits)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryStocks::IncomingMl)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryStocks::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryStocks::UpdatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .foreign_key(&mut station_fk(
                        "fk_inventory_stocks_station",
                        InventoryStocks::Table,
                        InventoryStocks::StationId,
                    ))
                    .check(Expr::col(InventoryStocks::Units).gte(0))
                    .check(Expr::col(InventoryStocks::Ml).gte(0))
                    .check(Expr::col(InventoryStocks::IncomingUnits).gte(0))
                    .check(Expr::col(InventoryStocks::IncomingMl).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_inventory_stocks_key")
                    .table(InventoryStocks::Table)
                    .col(InventoryStocks::StationId)
                    .col(InventoryStocks::Component)
                    .col(InventoryStocks::BloodGroup)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InventoryLevels::Table)
                    .col(id(InventoryLevels::Id))
                    .col(
                        ColumnDef::new(InventoryLevels::StationId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryLevels::BloodGroup)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryLevels::AmberDays)
                            .double()
                            .not_null(),
                    )
                    .col(ColumnDef::new(InventoryLevels::RedDays).double().not_null())
                    .foreign_key(&mut station_fk(
                        "fk_inventory_levels_station",
                        InventoryLevels::Table,
                        InventoryLevels::StationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_inventory_levels_key")
                    .table(InventoryLevels::Table)
                    .col(InventoryLevels::StationId)
                    .col(InventoryLevels::BloodGroup)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InventoryHistory::Table)
                    .col(id(InventoryHistory::Id))
                    .col(
                        ColumnDef::new(InventoryHistory::StationId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryHistory::Component)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryHistory::BloodGroup)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(ColumnDef::new(InventoryHistory::Units).integer().not_null())
                    .col(ColumnDef::new(InventoryHistory::Ml).integer().not_null())
                    .col(
                        ColumnDef::new(InventoryHistory::DailyUseUnits)
                            .double()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryHistory::DaysOfSupply)
                            .double()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(InventoryHistory::Level)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryHistory::Reason)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryHistory::OfferId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(InventoryHistory::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InventoryHistory::Actor)
                            .string_len(100)
                            .null(),
                    )
                    .foreign_key(&mut station_fk(
                        "fk_inventory_history_station",
                        InventoryHistory::Table,
                        InventoryHistory::StationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_inventory_history_station")
                    .table(InventoryHistory::Table)
                    .col(InventoryHistory::StationId)
                    .col(InventoryHistory::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            InventoryHistory::Table.into_iden(),
            InventoryLevels::Table.into_iden(),
            InventoryStocks::Table.into_iden(),
            StationInventories::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone)]
enum StationInventories {
    Table,
    StationId,
    Version,
    LevelsVersion,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum InventoryStocks {
    Table,
    Id,
    StationId,
    Component,
    BloodGroup,
    Units,
    Ml,
    DailyUseUnits,
    IncomingUnits,
    IncomingMl,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden, Clone)]
enum InventoryLevels {
    Table,
    Id,
    StationId,
    BloodGroup,
    AmberDays,
    RedDays,
}

#[derive(DeriveIden, Clone)]
enum InventoryHistory {
    Table,
    Id,
    StationId,
    Component,
    BloodGroup,
    Units,
    Ml,
    DailyUseUnits,
    DaysOfSupply,
    Level,
    Reason,
    OfferId,
    At,
    Actor,
}

#[derive(DeriveIden)]
enum Stations {
    Table,
    Id,
}
