//! The audit log's `action` column held 16 characters, which PostgreSQL enforces (SQLite does
//! not): an action name longer than that (`signup_revoke` is 13 already) would fail on
//! PostgreSQL only. Widened to 32 characters, the width of `entity` beside it. SQLite keeps the
//! declared type as it was; it never enforced the length, and cannot alter a column in place.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .modify_column(ColumnDef::new(AuditLog::Action).string_len(32).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .modify_column(ColumnDef::new(AuditLog::Action).string_len(16).not_null())
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Action,
}
