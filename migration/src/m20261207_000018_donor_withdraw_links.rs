//! The withdrawal links in messages to donors on the roster (issue 16): every message to a
//! donor on the roster carries a link that withdraws their consent, and each link keeps
//! working until the consent is withdrawn. A donor's row keeps the digest of the link sent
//! with their consent; this table keeps the digests of the links sent with later messages
//! (booking confirmations, reminders, …). Deleted with the donor.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DonorWithdrawLinks::Table)
                    .col(
                        ColumnDef::new(DonorWithdrawLinks::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DonorWithdrawLinks::DonorId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DonorWithdrawLinks::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DonorWithdrawLinks::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_donor_withdraw_links_donor")
                            .from(DonorWithdrawLinks::Table, DonorWithdrawLinks::DonorId)
                            .to(Donors::Table, Donors::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_donor_withdraw_links_token")
                    .table(DonorWithdrawLinks::Table)
                    .col(DonorWithdrawLinks::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_donor_withdraw_links_donor")
                    .table(DonorWithdrawLinks::Table)
                    .col(DonorWithdrawLinks::DonorId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DonorWithdrawLinks::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DonorWithdrawLinks {
    Table,
    Id,
    DonorId,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Donors {
    Table,
    Id,
}
