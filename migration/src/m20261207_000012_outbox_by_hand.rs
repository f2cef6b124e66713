//! Outbox statuses for delivery by hand and for the per-recipient cap (issue 12):
//! `to_send_by_hand` (the `log` sender hands messages to staff, who send them and mark them
//! sent) and `suppressed` (a message beyond the daily cap for its recipient: recorded, never
//! sent); and `request_id`, the group request a message is about.
//!
//! The status check cannot be altered in place on SQLite, so the table is rebuilt: a new table
//! with the new check, the rows copied in id order (their ids are renumbered in that order;
//! nothing refers to a message's id), the old table dropped, the new one renamed. `down` does
//! the same with the old check, turning `to_send_by_hand` back into `sent` (what the `log`
//! sender recorded before) and `suppressed` into `void`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD: &[&str] = &["pending", "sent", "failed", "void"];
const NEW: &[&str] = &[
    "pending",
    "sent",
    "failed",
    "void",
    "to_send_by_hand",
    "suppressed",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, NEW, true, Expr::col(OutboxMessages::Status)).await?;
        // What the per-recipient cap counts.
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_messages_recipient_created")
                    .table(OutboxMessages::Table)
                    .col(OutboxMessages::Recipient)
                    .col(OutboxMessages::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let status = Expr::case(
            Expr::col(OutboxMessages::Status).eq("to_send_by_hand"),
            "sent",
        )
        .case(Expr::col(OutboxMessages::Status).eq("suppressed"), "void")
        .finally(Expr::col(OutboxMessages::Status));
        rebuild(manager, OLD, false, status.into()).await
    }
}

/// Rebuilds `outbox_messages` with `statuses` allowed (and `request_id` when `with_request`),
/// its rows' statuses as `status` gives them. In one transaction of its own (a savepoint on
/// PostgreSQL, whose migrations run in one): on SQLite every statement then runs on one
/// connection, which sees the table it dropped as dropped.
async fn rebuild(
    outer: &SchemaManager<'_>,
    statuses: &[&str],
    with_request: bool,
    status: SimpleExpr,
) -> Result<(), DbErr> {
    let manager = outer.begin().await?;
    let mut table = Table::create();
    table
        .table(Next::Table)
        .col(
            ColumnDef::new(OutboxMessages::Id)
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(
            ColumnDef::new(OutboxMessages::DedupeKey)
                .string_len(100)
                .not_null(),
        )
        .col(
            ColumnDef::new(OutboxMessages::Kind)
                .string_len(32)
                .not_null(),
        )
        .col(
            ColumnDef::new(OutboxMessages::BookingId)
                .big_integer()
                .null(),
        )
        .col(
            ColumnDef::new(OutboxMessages::Recipient)
                .string_len(20)
                .not_null(),
        )
        .col(ColumnDef::new(OutboxMessages::Body).text().not_null())
        .col(
            ColumnDef::new(OutboxMessages::Status)
                .string_len(16)
                .not_null(),
        )
        .col(
            ColumnDef::new(OutboxMessages::Attempts)
                .integer()
                .not_null()
                .default(0),
        )
        .col(ColumnDef::new(OutboxMessages::LastError).text().null())
        .col(
            ColumnDef::new(OutboxMessages::CreatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(OutboxMessages::NextAttemptAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(OutboxMessages::SentAt)
                .timestamp_with_time_zone()
                .null(),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_outbox_messages_booking")
                .from(Next::Table, OutboxMessages::BookingId)
                .to(Bookings::Table, Bookings::Id)
                .on_delete(ForeignKeyAction::SetNull)
                .on_update(ForeignKeyAction::NoAction),
        )
        .check(Expr::col(OutboxMessages::Status).is_in(statuses.iter().copied()));
    if with_request {
        table
            .col(
                ColumnDef::new(OutboxMessages::RequestId)
                    .big_integer()
                    .null(),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_outbox_messages_request")
                    .from(Next::Table, OutboxMessages::RequestId)
                    .to(GroupRequests::Table, GroupRequests::Id)
                    .on_delete(ForeignKeyAction::SetNull)
                    .on_update(ForeignKeyAction::NoAction),
            );
    }
    manager.create_table(table.to_owned()).await?;

    let copied = [
        OutboxMessages::DedupeKey,
        OutboxMessages::Kind,
        OutboxMessages::BookingId,
        OutboxMessages::Recipient,
        OutboxMessages::Body,
        OutboxMessages::Status,
        OutboxMessages::Attempts,
        OutboxMessages::LastError,
        OutboxMessages::CreatedAt,
        OutboxMessages::NextAttemptAt,
        OutboxMessages::SentAt,
    ];
    let mut select = Query::select();
    for column in copied {
        match column {
            OutboxMessages::Status => {
                select.expr(status.clone());
            }
            other => {
                select.column(other);
            }
        }
    }
    select
        .from(OutboxMessages::Table)
        .order_by(OutboxMessages::Id, Order::Asc);
    let insert = Query::insert()
        .into_table(Next::Table)
        .columns(copied)
        .select_from(select)
        .map_err(|e| DbErr::Migration(e.to_string()))?
        .to_owned();
    manager.exec_stmt(insert).await?;

    manager
        .drop_table(Table::drop().table(OutboxMessages::Table).to_owned())
        .await?;
    manager
        .rename_table(
            Table::rename()
                .table(Next::Table, OutboxMessages::Table)
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("idx_outbox_messages_dedupe_key")
                .table(OutboxMessages::Table)
                .col(OutboxMessages::DedupeKey)
                .unique()
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("idx_outbox_messages_status_next")
                .table(OutboxMessages::Table)
                .col(OutboxMessages::Status)
                .col(OutboxMessages::NextAttemptAt)
                .to_owned(),
        )
        .await?;
    manager.commit().await
}

#[derive(DeriveIden, Clone, Copy)]
enum OutboxMessages {
    Table,
    Id,
    DedupeKey,
    Kind,
    BookingId,
    RequestId,
    Recipient,
    Body,
    Status,
    Attempts,
    LastError,
    CreatedAt,
    NextAttemptAt,
    SentAt,
}

#[derive(DeriveIden)]
enum Next {
    #[sea_orm(iden = "outbox_messages_next")]
    Table,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum GroupRequests {
    Table,
    Id,
}
