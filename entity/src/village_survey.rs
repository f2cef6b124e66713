//! `village_surveys`: append-only; a village's current survey is its latest by `surveyed_on`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "village_surveys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub region_code: String,
    pub surveyed_on: Date,
    /// Residents aged 18-60.
    pub eligible_total: i32,
    pub male: Option<i32>,
    pub female: Option<i32>,
    #[sea_orm(column_name = "age_18_34")]
    pub age_18_34: Option<i32>,
    #[sea_orm(column_name = "age_35_54")]
    pub age_35_54: Option<i32>,
    #[sea_orm(column_name = "age_55_60")]
    pub age_55_60: Option<i32>,
    /// Eligible residents working elsewhere (home around Spring Festival).
    pub away_for_work: Option<i32>,
    /// People who have donated before.
    pub known_donors: Option<i32>,
    /// `household_register`, `village_doctor`, `committee_estimate` or `other`.
    pub source: String,
    pub surveyed_by: Option<String>,
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::region::Entity",
        from = "Column::RegionCode",
        to = "super::region::Column::Code",
        on_update = "NoAction",
        on_delete = "Restrict"
    )]
    Region,
}

impl ActiveModelBehavior for ActiveModel {}
