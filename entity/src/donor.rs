//! `donors`: the roster of donors who agreed to be contacted (issue 16). Personal information
//! kept on consent: deleted when the donor withdraws or asks.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "donors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Normalised mainland mobile (11 digits); unique.
    pub mobile: String,
    /// `A`, `B`, `AB` or `O`, when known.
    pub abo: Option<String>,
    /// `+` or `-`, when known.
    pub rh: Option<String>,
    /// The village (12-digit code) the donor lives in.
    pub village_code: String,
    /// The village's centre when the donor was enrolled or moved (for distances).
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub last_donation_on: Option<Date>,
    /// `whole_blood` or `platelets`.
    pub last_donation_kind: Option<String>,
    /// Asked not to be called again: kept (the consent stands) but never on a call list.
    pub do_not_call: bool,
    pub consent_at: DateTimeUtc,
    /// `check_in`, `paper`, `phone` or `online`.
    pub consent_channel: String,
    /// The words the donor agreed to.
    pub consent_wording: String,
    /// `check_in`, `sheet` or `staff`: how the row came.
    pub source: String,
    /// SHA-256 (hex) of the withdrawal link's token.
    #[serde(skip)]
    pub withdraw_token_hash: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<String>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
