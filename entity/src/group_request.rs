//! `group_requests`: a public group booking above its station's threshold, holding no places
//! until staff confirm it (it then becomes a booking with the same code and token) or decline
//! it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "group_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What the contact quotes; unique, and the booking's code once confirmed.
    pub code: String,
    /// SHA-256 (hex) of the token; the booking's once confirmed.
    #[serde(skip)]
    pub token_hash: String,
    pub stop_id: i64,
    pub organisation: String,
    pub contact_name: String,
    /// Normalised mainland mobile; erased after the retention period.
    pub mobile: Option<String>,
    pub headcount: i32,
    /// Slot starts (`HH:MM`, comma-separated) in order of preference; empty for any.
    pub preferred: String,
    /// `pending`, `confirmed`, `declined` or `withdrawn`.
    pub status: String,
    /// The booking it became.
    pub booking_id: Option<i64>,
    /// Where the request came from; erased with the mobile.
    #[serde(skip)]
    pub client_address: Option<String>,
    /// Why it was declined, when staff said.
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    /// Who confirmed or declined it.
    pub decided_by: Option<String>,
    /// The appeal whose link the request came through (`via=`), carried on to the booking.
    pub appeal_id: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::drive_stop::Entity",
        from = "Column::StopId",
        to = "super::drive_stop::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    DriveStop,
}

impl Related<super::drive_stop::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DriveStop.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
