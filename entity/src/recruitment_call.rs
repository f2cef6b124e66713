//! `recruitment_calls`: a donor given to a recruiter to call for a need, and what came of it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "recruitment_calls")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub need_id: i64,
    /// NULL once the donor withdrew or was deleted.
    pub donor_id: Option<i64>,
    /// The recruiter's username.
    pub recruiter: String,
    pub assigned_at: DateTimeUtc,
    /// NULL until called: `booked`, `declined`, `no_answer`, `not_eligible`, `do_not_call`.
    pub outcome: Option<String>,
    pub called_at: Option<DateTimeUtc>,
    pub notes: Option<String>,
    /// The booking made from the call.
    pub booking_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::recruitment_need::Entity",
        from = "Column::NeedId",
        to = "super::recruitment_need::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    RecruitmentNeed,
}

impl Related<super::recruitment_need::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RecruitmentNeed.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
