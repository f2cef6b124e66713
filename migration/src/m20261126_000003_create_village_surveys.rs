//! `village_surveys`: the append-only history of each village's eligible-donor survey.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let count = |col: VillageSurveys| ColumnDef::new(col).integer().null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(VillageSurveys::Table)
                    .col(
                        ColumnDef::new(VillageSurveys::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(VillageSurveys::RegionCode)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(ColumnDef::new(VillageSurveys::SurveyedOn).date().not_null())
                    .col(
                        ColumnDef::new(VillageSurveys::EligibleTotal)
                            .integer()
                            .not_null(),
                    )
                    .col(count(VillageSurveys::Male))
                    .col(count(VillageSurveys::Female))
                    .col(count(VillageSurveys::Age18To34))
                    .col(count(VillageSurveys::Age35To54))
                    .col(count(VillageSurveys::Age55To60))
                    .col(count(VillageSurveys::AwayForWork))
                    .col(count(VillageSurveys::KnownDonors))
                    .col(
                        ColumnDef::new(VillageSurveys::Source)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(VillageSurveys::SurveyedBy)
                            .string_len(100)
                            .null(),
                    )
                    .col(ColumnDef::new(VillageSurveys::Notes).text().null())
                    .col(
                        ColumnDef::new(VillageSurveys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(VillageSurveys::CreatedBy)
                            .string_len(100)
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_village_surveys_region")
                            .from(VillageSurveys::Table, VillageSurveys::RegionCode)
                            .to(Regions::Table, Regions::Code)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .check(Expr::col(VillageSurveys::Source).is_in([
                        "household_register",
                        "village_doctor",
                        "committee_estimate",
                        "other",
                    ]))
                    .to_owned(),
            )
            .await?;
        // A village's history in order, and a subtree's surveys as one range scan.
        manager
            .create_index(
                Index::create()
                    .name("idx_village_surveys_region_date")
                    .table(VillageSurveys::Table)
                    .col(VillageSurveys::RegionCode)
                    .col(VillageSurveys::SurveyedOn)
                    .col(VillageSurveys::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(VillageSurveys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[derive(DeriveIden, Clone, Copy)]
enum VillageSurveys {
    Table,
    Id,
    RegionCode,
    SurveyedOn,
    EligibleTotal,
    Male,
    Female,
    #[sea_orm(iden = "age_18_34")]
    Age18To34,
    #[sea_orm(iden = "age_35_54")]
    Age35To54,
    #[sea_orm(iden = "age_55_60")]
    Age55To60,
    AwayForWork,
    KnownDonors,
    Source,
    SurveyedBy,
    Notes,
    CreatedAt,
    CreatedBy,
}
