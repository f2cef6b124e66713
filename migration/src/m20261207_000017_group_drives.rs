//! Group drives at host organisations (issue 16): a drive stop may be held at a host
//! (`host-<id>` beside `point-<id>` and `region-<code>`), with a sign-up goal and the private
//! sign-up link of the host's contact (only the token's SHA-256 is kept).
//!
//! Added as nullable columns, one `ALTER TABLE` each (SQLite takes one change per statement);
//! the link's uniqueness is an index, as SQLite cannot add a unique column in place. The host
//! is not a foreign key here for the same reason: the drive service checks it on the way in,
//! and hosts are never deleted.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DriveStops::Table)
                    .add_column(ColumnDef::new(DriveStops::HostId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DriveStops::Table)
                    .add_column(ColumnDef::new(DriveStops::SignupGoal).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DriveStops::Table)
                    .add_column(
                        ColumnDef::new(DriveStops::SignupTokenHash)
                            .string_len(64)
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // "Has this host a drive planned?" (the hosts due in a month).
        manager
            .create_index(
                Index::create()
                    .name("idx_drive_stops_host")
                    .table(DriveStops::Table)
                    .col(DriveStops::HostId)
                    .to_owned(),
            )
            .await?;
        // A link opens one stop's page.
        manager
            .create_index(
                Index::create()
                    .name("uq_drive_stops_signup_token_hash")
                    .table(DriveStops::Table)
                    .col(DriveStops::SignupTokenHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("uq_drive_stops_signup_token_hash")
                    .table(DriveStops::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_drive_stops_host")
                    .table(DriveStops::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            DriveStops::SignupTokenHash,
            DriveStops::SignupGoal,
            DriveStops::HostId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DriveStops::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum DriveStops {
    Table,
    /// The host, for stops at a host organisation (`host-<id>`).
    HostId,
    /// How many the host hopes will sign up (a host's stop only).
    SignupGoal,
    /// SHA-256 (hex) of the contact's sign-up link token; NULL: no link (or revoked).
    SignupTokenHash,
}
