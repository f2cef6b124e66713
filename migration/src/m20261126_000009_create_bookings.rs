//! Bookings (issue 6): each stop of a published drive is cut into slots (`booking_slots`) whose
//! capacity comes from the vehicle's beds and donors per bed-hour; donors and groups book
//! places (`bookings`, spread over slots by `booking_parts`), and every message to a donor goes
//! through `outbox_messages`.
//!
//! Capacity is enforced by the database on both backends: a booking takes its places with one
//! conditional `UPDATE booking_slots SET booked = booked + n WHERE id = ? AND booked + n <=
//! capacity` in its transaction (a row lock on PostgreSQL, the write lock on SQLite), and the
//! `booked <= capacity` check refuses anything that slips past it.
//!
//! One active booking per mobile per stop: `active_mobile` holds the mobile while the booking
//! is active and NULL once cancelled, and (`stop_id`, `active_mobile`) is unique (NULLs never
//! collide, on either backend; a partial index would say the same but cannot be written
//! portably).
//!
//! On the day, everyone who comes is an `attendances` row (booked or walk-in), with the outcome
//! (registered, deferred with a reason category, or donated with volume and blood group).
//!
//! A message is generated once: `outbox_messages.dedupe_key` is unique, and generators insert
//! with `ON CONFLICT DO NOTHING`, so a restart re-running the reminder scan adds nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Slot settings of a vehicle (one column per statement: SQLite's ALTER TABLE).
        manager
            .alter_table(
                Table::alter()
                    .table(Vehicles::Table)
                    .add_column(
                        ColumnDef::new(Vehicles::DonorsPerBedHour)
                            .double()
                            .not_null()
                            .default(2.0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Vehicles::Table)
                    .add_column(
                        ColumnDef::new(Vehicles::SlotMinutes)
                            .integer()
                            .not_null()
                            .default(30),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BookingSlots::Table)
                    .col(
                        ColumnDef::new(BookingSlots::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(BookingSlots::StopId)
                            .big_integer()
                            .not_null(),
                    )
                    // Minutes after midnight.
                    .col(ColumnDef::new(BookingSlots::Starts).integer().not_null())
                    .col(ColumnDef::new(BookingSlots::Ends).integer().not_null())
                    .col(ColumnDef::new(BookingSlots::Capacity).integer().not_null())
                    .col(
                        ColumnDef::new(BookingSlots::Booked)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_booking_slots_stop")
                            .from(BookingSlots::Table, BookingSlots::StopId)
                            .to(DriveStops::Table, DriveStops::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(BookingSlots::Starts).between(0, 1440))
                    .check(Expr::col(BookingSlots::Ends).between(0, 1440))
                    .check(Expr::col(BookingSlots::Capacity).gte(0))
                    .check(Expr::col(BookingSlots::Booked).gte(0))
                    .check(Expr::col(BookingSlots::Booked).lte(Expr::col(BookingSlots::Capacity)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_booking_slots_stop_starts")
                    .table(BookingSlots::Table)
                    .col(BookingSlots::StopId)
                    .col(BookingSlots::Starts)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Bookings::Table)
                    .col(
                        ColumnDef::new(Bookings::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    // What the donor quotes: short, unambiguous letters and digits.
                    .col(ColumnDef::new(Bookings::Code).string_len(16).not_null())
                    // SHA-256 (hex) of the cancel/reschedule token; the token itself is
                    // shown once.
                    .col(
                        ColumnDef::new(Bookings::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Bookings::StopId).big_integer().not_null())
                    .col(ColumnDef::new(Bookings::Kind).string_len(16).not_null())
                    // The donor, or a group's contact.
                    .col(ColumnDef::new(Bookings::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Bookings::Mobile).string_len(20).null())
                    .col(ColumnDef::new(Bookings::ActiveMobile).string_len(20).null())
                    .col(ColumnDef::new(Bookings::BloodType).string_len(4).null())
                    .col(
                        ColumnDef::new(Bookings::Organisation)
                            .string_len(200)
                            .null(),
                    )
                    .col(ColumnDef::new(Bookings::Headcount).integer().not_null())
                    .col(ColumnDef::new(Bookings::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Bookings::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Bookings::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Bookings::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Bookings::CancelledAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bookings_stop")
                            .from(Bookings::Table, Bookings::StopId)
                            .to(DriveStops::Table, DriveStops::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(Bookings::Kind).is_in(["individual", "group"]))
                    .check(Expr::col(Bookings::Status).is_in(["active", "cancelled"]))
                    .check(Expr::col(Bookings::Headcount).gte(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bookings_code")
                    .table(Bookings::Table)
                    .col(Bookings::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bookings_stop_active_mobile")
                    .table(Bookings::Table)
                    .col(Bookings::StopId)
                    .col(Bookings::ActiveMobile)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // A mobile's bookings across stops (next eligible date).
        manager
            .create_index(
                Index::create()
                    .name("idx_bookings_mobile")
                    .table(Bookings::Table)
                    .col(Bookings::Mobile)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BookingParts::Table)
                    .col(
                        ColumnDef::new(BookingParts::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(BookingParts::BookingId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BookingParts::SlotId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BookingParts::Places).integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_booking_parts_booking")
                            .from(BookingParts::Table, BookingParts::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_booking_parts_slot")
                            .from(BookingParts::Table, BookingParts::SlotId)
                            .to(BookingSlots::Table, BookingSlots::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(BookingParts::Places).gte(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_booking_parts_booking_slot")
                    .table(BookingParts::Table)
                    .col(BookingParts::BookingId)
                    .col(BookingParts::SlotId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_booking_parts_slot")
                    .table(BookingParts::Table)
                    .col(BookingParts::SlotId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Attendances::Table)
                    .col(
                        ColumnDef::new(Attendances::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Attendances::StopId).big_integer().not_null())
                    .col(ColumnDef::new(Attendances::BookingId).big_integer().null())
                    .col(ColumnDef::new(Attendances::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Attendances::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Attendances::Mobile).string_len(20).null())
                    .col(
                        ColumnDef::new(Attendances::VillageCode)
                            .string_len(12)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Attendances::Outcome)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Attendances::DeferralCategory)
                            .string_len(32)
                            .null(),
                    )
                    .col(ColumnDef::new(Attendances::VolumeMl).integer().null())
                    .col(ColumnDef::new(Attendances::Abo).string_len(2).null())
                    .col(ColumnDef::new(Attendances::Rh).string_len(1).null())
                    .col(
                        ColumnDef::new(Attendances::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Attendances::CheckedInAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Attendances::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Attendances::CreatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Attendances::UpdatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attendances_stop")
                            .from(Attendances::Table, Attendances::StopId)
                            .to(DriveStops::Table, DriveStops::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attendances_booking")
                            .from(Attendances::Table, Attendances::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::SetNull)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attendances_village")
                            .from(Attendances::Table, Attendances::VillageCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(Attendances::Kind).is_in(["booked", "walk_in"]))
                    .check(Expr::col(Attendances::Outcome).is_in([
                        "registered",
                        "deferred",
                        "donated",
                    ]))
                    .check(
                        Expr::col(Attendances::VolumeMl)
                            .is_null()
                            .or(Expr::col(Attendances::VolumeMl).is_in([200, 300, 400])),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attendances_stop")
                    .table(Attendances::Table)
                    .col(Attendances::StopId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attendances_booking")
                    .table(Attendances::Table)
                    .col(Attendances::BookingId)
                    .to_owned(),
            )
            .await?;
        // A mobile's donations (next eligible date).
        manager
            .create_index(
                Index::create()
                    .name("idx_attendances_mobile")
                    .table(Attendances::Table)
                    .col(Attendances::Mobile)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OutboxMessages::Table)
                    .col(
                        ColumnDef::new(OutboxMessages::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    // `booking:<id>:<kind>`: generated once.
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
                            .from(OutboxMessages::Table, OutboxMessages::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::SetNull)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(
                        Expr::col(OutboxMessages::Status)
                            .is_in(["pending", "sent", "failed", "void"]),
                    )
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
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OutboxMessages::Table.into_iden(),
            Attendances::Table.into_iden(),
            BookingParts::Table.into_iden(),
            Bookings::Table.into_iden(),
            BookingSlots::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Vehicles::Table)
                    .drop_column(Vehicles::SlotMinutes)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Vehicles::Table)
                    .drop_column(Vehicles::DonorsPerBedHour)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Vehicles {
    Table,
    DonorsPerBedHour,
    SlotMinutes,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Attendances {
    Table,
    Id,
    StopId,
    BookingId,
    Kind,
    Name,
    Mobile,
    VillageCode,
    Outcome,
    DeferralCategory,
    VolumeMl,
    Abo,
    Rh,
    Version,
    CheckedInAt,
    UpdatedAt,
    CreatedBy,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum DriveStops {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum BookingSlots {
    Table,
    Id,
    StopId,
    Starts,
    Ends,
    Capacity,
    Booked,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    Code,
    TokenHash,
    StopId,
    Kind,
    Name,
    Mobile,
    ActiveMobile,
    BloodType,
    Organisation,
    Headcount,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
    CancelledAt,
}

#[derive(DeriveIden)]
enum BookingParts {
    Table,
    Id,
    BookingId,
    SlotId,
    Places,
}

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    Id,
    DedupeKey,
    Kind,
    BookingId,
    Recipient,
    Body,
    Status,
    Attempts,
    LastError,
    CreatedAt,
    NextAttemptAt,
    SentAt,
}
