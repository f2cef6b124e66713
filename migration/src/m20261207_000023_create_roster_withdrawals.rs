//! Withdrawals from the donor roster (issue 16): the SHA-256 of the mobile of each donor who
//! withdrew their consent or asked to be deleted, with when. It is kept so that an older
//! consent (a paper sheet imported again, a form typed from it) cannot put them back; a
//! consent given after the withdrawal (at a check-in, on a new sheet) still enrols them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RosterWithdrawals::Table)
                    .col(
                        ColumnDef::new(RosterWithdrawals::MobileHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RosterWithdrawals::WithdrawnAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RosterWithdrawals::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RosterWithdrawals {
    Table,
    MobileHash,
    WithdrawnAt,
}
