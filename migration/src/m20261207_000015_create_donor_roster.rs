//! One-to-one recruitment (issue 16): the roster of donors who agreed to be contacted, the
//! intervals between donations, the needs staff recruit for and the calls made for them.
//!
//! A donor's row is personal information kept on consent: it holds the minimum (name, mobile,
//! blood group, village, last donation) and the consent (when, through which channel, the
//! words agreed to). Withdrawing consent or asking for deletion deletes the row; the calls made
//! to the donor stay, without the donor, so a need's progress does not change.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Donors::Table)
                    .col(
                        ColumnDef::new(Donors::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Donors::Name).string_len(50).not_null())
                    .col(ColumnDef::new(Donors::Mobile).string_len(11).not_null())
                    .col(ColumnDef::new(Donors::Abo).string_len(2).null())
                    .col(ColumnDef::new(Donors::Rh).string_len(1).null())
                    .col(
                        ColumnDef::new(Donors::VillageCode)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Donors::Longitude).double().null())
                    .col(ColumnDef::new(Donors::Latitude).double().null())
                    .col(ColumnDef::new(Donors::LastDonationOn).date().null())
                    .col(
                        ColumnDef::new(Donors::LastDonationKind)
                            .string_len(20)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Donors::DoNotCall)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Donors::ConsentAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Donors::ConsentChannel)
                            .string_len(20)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Donors::ConsentWording).text().not_null())
                    .col(ColumnDef::new(Donors::Source).string_len(20).not_null())
                    .col(
                        ColumnDef::new(Donors::WithdrawTokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Donors::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Donors::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Donors::CreatedBy).string_len(100).null())
                    .col(
                        ColumnDef::new(Donors::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_donors_village")
                            .from(Donors::Table, Donors::VillageCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("uq_donors_mobile", vec![Donors::Mobile]),
            ("uq_donors_withdraw_token", vec![Donors::WithdrawTokenHash]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Donors::Table).unique();
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        // A call list reads the donors of a blood group in a subtree (region codes are ranges).
        manager
            .create_index(
                Index::create()
                    .name("idx_donors_group_village")
                    .table(Donors::Table)
                    .col(Donors::Abo)
                    .col(Donors::Rh)
                    .col(Donors::VillageCode)
                    .to_owned(),
            )
            .await?;
        // … and ring by ring around the stop or station: a box of latitudes first.
        manager
            .create_index(
                Index::create()
                    .name("idx_donors_group_position")
                    .table(Donors::Table)
                    .col(Donors::Abo)
                    .col(Donors::Rh)
                    .col(Donors::Latitude)
                    .col(Donors::Longitude)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_donors_village")
                    .table(Donors::Table)
                    .col(Donors::VillageCode)
                    .col(Donors::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RecruitmentRules::Table)
                    .col(
                        ColumnDef::new(RecruitmentRules::Name)
                            .string_len(60)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RecruitmentRules::Days).integer().not_null())
                    .col(
                        ColumnDef::new(RecruitmentRules::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // The national standard's intervals (GB 18467-2011, 献血者健康检查要求) and the days
        // before a donor may be called again.
        let mut insert = Query::insert();
        insert.into_table(RecruitmentRules::Table).columns([
            RecruitmentRules::Name,
            RecruitmentRules::Days,
            RecruitmentRules::UpdatedAt,
        ]);
        for (name, days) in [
            ("interval.whole_blood.whole_blood", 180),
            ("interval.whole_blood.platelets", 90),
            ("interval.platelets.platelets", 14),
            ("interval.platelets.whole_blood", 28),
            ("no_recall_days", 30),
        ] {
            insert.values_panic([name.into(), days.into(), Expr::current_timestamp()]);
        }
        manager.exec_stmt(insert.to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(RecruitmentNeeds::Table)
                    .col(
                        ColumnDef::new(RecruitmentNeeds::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentNeeds::RegionCode)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentNeeds::BloodGroups)
                            .string_len(40)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentNeeds::Kind)
                            .string_len(20)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentNeeds::Target)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RecruitmentNeeds::NeededBy).date().not_null())
                    .col(
                        ColumnDef::new(RecruitmentNeeds::StopId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentNeeds::StationId)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(RecruitmentNeeds::Longitude).double().null())
                    .col(ColumnDef::new(RecruitmentNeeds::Latitude).double().null())
                    .col(
                        ColumnDef::new(RecruitmentNeeds::PlaceName)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(RecruitmentNeeds::Notes).text().null())
                    .col(
                        ColumnDef::new(RecruitmentNeeds::Status)
                            .string_len(20)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentNeeds::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentNeeds::CreatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentNeeds::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recruitment_needs_region")
                            .from(RecruitmentNeeds::Table, RecruitmentNeeds::RegionCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recruitment_needs_stop")
                            .from(RecruitmentNeeds::Table, RecruitmentNeeds::StopId)
                            .to(DriveStops::Table, DriveStops::Id)
                            .on_delete(ForeignKeyAction::SetNull)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recruitment_needs_station")
                            .from(RecruitmentNeeds::Table, RecruitmentNeeds::StationId)
                            .to(Stations::Table, Stations::Id)
                            .on_delete(ForeignKeyAction::SetNull)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(RecruitmentNeeds::Target).between(1, 10_000))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recruitment_needs_region")
                    .table(RecruitmentNeeds::Table)
                    .col(RecruitmentNeeds::RegionCode)
                    .col(RecruitmentNeeds::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RecruitmentCalls::Table)
                    .col(
                        ColumnDef::new(RecruitmentCalls::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentCalls::NeedId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentCalls::DonorId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentCalls::Recruiter)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentCalls::AssignedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentCalls::Outcome)
                            .string_len(20)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentCalls::CalledAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentCalls::Notes)
                            .string_len(500)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RecruitmentCalls::BookingId)
                            .big_integer()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recruitment_calls_need")
                            .from(RecruitmentCalls::Table, RecruitmentCalls::NeedId)
                            .to(RecruitmentNeeds::Table, RecruitmentNeeds::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recruitment_calls_donor")
                            .from(RecruitmentCalls::Table, RecruitmentCalls::DonorId)
                            .to(Donors::Table, Donors::Id)
                            .on_delete(ForeignKeyAction::SetNull)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recruitment_calls_booking")
                            .from(RecruitmentCalls::Table, RecruitmentCalls::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::SetNull)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recruitment_calls_need")
                    .table(RecruitmentCalls::Table)
                    .col(RecruitmentCalls::NeedId)
                    .col(RecruitmentCalls::Recruiter)
                    .col(RecruitmentCalls::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recruitment_calls_donor")
                    .table(RecruitmentCalls::Table)
                    .col(RecruitmentCalls::DonorId)
                    .col(RecruitmentCalls::AssignedAt)
                    .to_owned(),
            )
            .await?;
        // A donor is on at most one list waiting for a call: two lists made at once cannot
        // both give them to a recruiter.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_recruitment_calls_open_donor \
                 ON recruitment_calls (donor_id) WHERE outcome IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RecruitmentCalls::Table.into_iden(),
            RecruitmentNeeds::Table.into_iden(),
            RecruitmentRules::Table.into_iden(),
            Donors::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Donors {
    Table,
    Id,
    Name,
    Mobile,
    Abo,
    Rh,
    VillageCode,
    Longitude,
    Latitude,
    LastDonationOn,
    LastDonationKind,
    DoNotCall,
    ConsentAt,
    ConsentChannel,
    ConsentWording,
    Source,
    WithdrawTokenHash,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
    Version,
}

#[derive(DeriveIden)]
enum RecruitmentRules {
    Table,
    Name,
    Days,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RecruitmentNeeds {
    Table,
    Id,
    RegionCode,
    /// `O+,O-`: the groups the need is for.
    BloodGroups,
    /// `whole_blood` or `platelets`.
    Kind,
    Target,
    NeededBy,
    StopId,
    StationId,
    Longitude,
    Latitude,
    PlaceName,
    Notes,
    /// `open` or `closed`.
    Status,
    CreatedAt,
    CreatedBy,
    Version,
}

#[derive(DeriveIden)]
enum RecruitmentCalls {
    Table,
    Id,
    NeedId,
    DonorId,
    Recruiter,
    AssignedAt,
    Outcome,
    CalledAt,
    Notes,
    BookingId,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum DriveStops {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Stations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
}
