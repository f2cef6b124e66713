//! Queries over the roster of consenting donors (`donors`), the recruitment rules, needs and
//! calls (issue 16).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{donor, donor_withdraw_link, recruitment_call, recruitment_need, recruitment_rule};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::policy::Visibility;
use crate::domain::recruitment::{BloodGroup, CallOutcome, DonationKind};

// --- donors -------------------------------------------------------------------------------

/// A donor's fields as validated by the service, ready to store.
#[derive(Debug, Clone)]
pub struct DonorFields {
    pub name: String,
    pub mobile: String,
    pub abo: Option<String>,
    pub rh: Option<String>,
    pub village_code: String,
    pub position: Option<(f64, f64)>,
    pub last_donation: Option<(NaiveDate, DonationKind)>,
    pub consent_at: DateTime<Utc>,
    pub consent_channel: String,
    pub consent_wording: String,
    pub source: String,
}

pub async fn insert_donor(
    db: &impl ConnectionTrait,
    fields: DonorFields,
    withdraw_token_hash: String,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<donor::Model, DbErr> {
    let model = donor::ActiveModel {
        name: Set(fields.name),
        mobile: Set(fields.mobile),
        abo: Set(fields.abo),
        rh: Set(fields.rh),
        village_code: Set(fields.village_code),
        longitude: Set(fields.position.map(|p| p.0)),
        latitude: Set(fields.position.map(|p| p.1)),
        last_donation_on: Set(fields.last_donation.map(|l| l.0)),
        last_donation_kind: Set(fields.last_donation.map(|l| l.1.as_str().to_owned())),
        do_not_call: Set(false),
        consent_at: Set(fields.consent_at),
        consent_channel: Set(fields.consent_channel),
        consent_wording: Set(fields.consent_wording),
        source: Set(fields.source),
        withdraw_token_hash: Set(withdraw_token_hash),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(actor),
        version: Set(1),
        ..Default::default()
    };
    donor::Entity::insert(model).exec_with_returning(db).await
}

/// Replaces a donor's fields and consent (the same mobile enrolled again), moving the version.
pub async fn replace_donor(
    db: &impl ConnectionTrait,
    current: &donor::Model,
    fields: DonorFields,
    now: DateTime<Utc>,
) -> Result<donor::Model, DbErr> {
    // A later enrolment does not forget a later donation known before.
    let last = match (
        fields.last_donation,
        current.last_donation_on.zip(
            current
                .last_donation_kind
                .as_deref()
                .and_then(|k| k.parse::<DonationKind>().ok()),
        ),
    ) {
        (Some(new), Some(old)) => Some(if old.0 > new.0 { old } else { new }),
        (new, old) => new.or(old),
    };
    donor::Entity::update_many()
        .col_expr(donor::Column::Name, Expr::value(fields.name))
        .col_expr(donor::Column::Abo, Expr::value(fields.abo))
        .col_expr(donor::Column::Rh, Expr::value(fields.rh))
        .col_expr(donor::Column::VillageCode, Expr::value(fields.village_code))
        .col_expr(
            donor::Column::Longitude,
            Expr::value(fields.position.map(|p| p.0)),
        )
        .col_expr(
            donor::Column::Latitude,
            Expr::value(fields.position.map(|p| p.1)),
        )
        .col_expr(
            donor::Column::LastDonationOn,
            Expr::value(last.map(|l| l.0)),
        )
        .col_expr(
            donor::Column::LastDonationKind,
            Expr::value(last.map(|l| l.1.as_str().to_owned())),
        )
        .col_expr(donor::Column::ConsentAt, Expr::value(fields.consent_at))
        .col_expr(
            donor::Column::ConsentChannel,
            Expr::value(fields.consent_channel),
        )
        .col_expr(
            donor::Column::ConsentWording,
            Expr::value(fields.consent_wording),
        )
        .col_expr(donor::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            donor::Column::Version,
            Expr::col(donor::Column::Version).add(1),
        )
        .filter(donor::Column::Id.eq(current.id))
        .exec(db)
        .await?;
    find_donor(db, current.id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("donor {}", current.id)))
}

pub async fn find_donor(db: &impl ConnectionTrait, id: i64) -> Result<Option<donor::Model>, DbErr> {
    donor::Entity::find_by_id(id).one(db).await
}

pub async fn donor_by_mobile(
    db: &impl ConnectionTrait,
    mobile: &str,
) -> Result<Option<donor::Model>, DbErr> {
    donor::Entity::find()
        .filter(donor::Column::Mobile.eq(mobile))
        .one(db)
        .await
}

/// The donor a withdrawal link's digest belongs to: the link sent with their consent, or one
/// sent with a later message.
pub async fn donor_by_withdraw_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<donor::Model>, DbErr> {
    if let Some(d) = donor::Entity::find()
        .filter(donor::Column::WithdrawTokenHash.eq(hash))
        .one(db)
        .await?
    {
        return Ok(Some(d));
    }
    let Some(link) = donor_withdraw_link::Entity::find()
        .filter(donor_withdraw_link::Column::TokenHash.eq(hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    find_donor(db, link.donor_id).await
}

/// Keeps the digest of a withdrawal link sent with a message to donor `donor_id`.
pub async fn add_withdraw_link(
    db: &impl ConnectionTrait,
    donor_id: i64,
    hash: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    donor_withdraw_link::Entity::insert(donor_withdraw_link::ActiveModel {
        donor_id: Set(donor_id),
        token_hash: Set(hash),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Removes donor `id` (their calls stay, without them; their links go); whether there was
/// one.
pub async fn delete_donor(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    // Not left to the foreign key's cascade alone: the links go whatever the connection's
    // foreign-key setting.
    donor_withdraw_link::Entity::delete_many()
        .filter(donor_withdraw_link::Column::DonorId.eq(id))
        .exec(db)
        .await?;
    Ok(donor::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Records that the donor whose mobile has the digest `mobile_hash` left the roster at `at`
/// (a later withdrawal of the same mobile replaces an earlier one).
pub async fn record_withdrawal(
    db: &impl ConnectionTrait,
    mobile_hash: String,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    entity::roster_withdrawal::Entity::delete_by_id(mobile_hash.clone())
        .exec(db)
        .await?;
    entity::roster_withdrawal::ActiveModel {
        mobile_hash: Set(mobile_hash),
        withdrawn_at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// When the donor whose mobile has the digest `mobile_hash` last left the roster, if ever.
pub async fn withdrawn_at(
    db: &impl ConnectionTrait,
    mobile_hash: &str,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(
        entity::roster_withdrawal::Entity::find_by_id(mobile_hash.to_owned())
            .one(db)
            .await?
            .map(|w| w.withdrawn_at),
    )
}

/// Records a donation of `kind` on `on` for the donor with `mobile`, unless a later one is
/// known; whether a donor was changed.
pub async fn record_donation(
    db: &impl ConnectionTrait,
    mobile: &str,
    on: NaiveDate,
    kind: DonationKind,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let changed = donor::Entity::update_many()
        .col_expr(donor::Column::LastDonationOn, Expr::value(on))
        .col_expr(donor::Column::LastDonationKind, Expr::value(kind.as_str()))
        .col_expr(donor::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            donor::Column::Version,
            Expr::col(donor::Column::Version).add(1),
        )
        .filter(donor::Column::Mobile.eq(mobile))
        .filter(
            Condition::any()
                .add(donor::Column::LastDonationOn.is_null())
                .add(donor::Column::LastDonationOn.lte(on)),
        )
        .exec(db)
        .await?;
    Ok(changed.rows_affected > 0)
}

pub async fn set_do_not_call(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    donor::Entity::update_many()
        .col_expr(donor::Column::DoNotCall, Expr::value(true))
        .col_expr(donor::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            donor::Column::Version,
            Expr::col(donor::Column::Version).add(1),
        )
        .filter(donor::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// What roster rows to list.
#[derive(Debug, Clone, Default)]
pub struct DonorFilter {
    /// Inclusive code range of the villages' subtree.
    pub region_range: Option<(String, String)>,
    pub group: Option<BloodGroup>,
    /// Ids above this one.
    pub after: Option<i64>,
    pub limit: u64,
    pub reach: Option<Visibility>,
}

/// Donors matching `filter`, by id.
pub async fn list_donors(
    db: &impl ConnectionTrait,
    filter: &DonorFilter,
) -> Result<Vec<donor::Model>, DbErr> {
    let mut query = donor::Entity::find();
    if let Some((lo, hi)) = &filter.region_range {
        query = query.filter(donor::Column::VillageCode.between(lo.as_str(), hi.as_str()));
    }
    if let Some(group) = filter.group {
        query = query
            .filter(donor::Column::Abo.eq(group.abo.as_str()))
            .filter(donor::Column::Rh.eq(group.rh.as_str()));
    }
    if let Some(after) = filter.after {
        query = query.filter(donor::Column::Id.gt(after));
    }
    if let Some(condition) = filter
        .reach
        .as_ref()
        .and_then(|reach| super::within(donor::Column::VillageCode, reach))
    {
        query = query.filter(condition);
    }
    query
        .order_by_asc(donor::Column::Id)
        .limit(filter.limit)
        .all(db)
        .await
}

pub async fn donors_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<donor::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    donor::Entity::find()
        .filter(donor::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// A donor as a call list ranks them.
#[derive(Debug, Clone, FromQueryResult)]
pub struct CandidateRow {
    pub id: i64,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub last_donation_on: Option<NaiveDate>,
}

/// Who a call list may take.
#[derive(Debug, Clone)]
pub struct CandidateFilter {
    pub region_range: (String, String),
    pub groups: Vec<BloodGroup>,
    /// Per kind of last donation, the latest day it may have been on.
    pub latest_last_donation: Vec<(DonationKind, NaiveDate)>,
    /// Donors called on or after this instant are left out.
    pub called_since: DateTime<Utc>,
    /// Only donors placed inside this box (min_lon, min_lat, max_lon, max_lat).
    pub within: Option<(f64, f64, f64, f64)>,
}

/// The donors a need may call: of its groups, in its region, eligible by their last donation,
/// not asked to be left alone, not waiting on a list and not called since `called_since`.
pub async fn candidates(
    db: &impl ConnectionTrait,
    filter: &CandidateFilter,
) -> Result<Vec<CandidateRow>, DbErr> {
    let mut groups = Condition::any();
    for g in &filter.groups {
        groups = groups.add(
            Condition::all()
                .add(donor::Column::Abo.eq(g.abo.as_str()))
                .add(donor::Column::Rh.eq(g.rh.as_str())),
        );
    }
    let mut eligible = Condition::any().add(donor::Column::LastDonationOn.is_null());
    for (kind, latest) in &filter.latest_last_donation {
        eligible = eligible.add(
            Condition::all()
                .add(donor::Column::LastDonationKind.eq(kind.as_str()))
                .add(donor::Column::LastDonationOn.lte(*latest)),
        );
    }
    let busy = Query::select()
        .column(recruitment_call::Column::DonorId)
        .from(recruitment_call::Entity)
        .cond_where(
            Condition::all()
                .add(recruitment_call::Column::DonorId.is_not_null())
                .add(
                    Condition::any()
                        .add(recruitment_call::Column::Outcome.is_null())
                        .add(recruitment_call::Column::CalledAt.gte(filter.called_since)),
                ),
        )
        .to_owned();
    let mut query = donor::Entity::find();
    if let Some((w, s, e, n)) = filter.within {
        query = query
            .filter(donor::Column::Latitude.between(s, n))
            .filter(donor::Column::Longitude.between(w, e));
    }
    query
        .select_only()
        .column(donor::Column::Id)
        .column(donor::Column::Longitude)
        .column(donor::Column::Latitude)
        .column(donor::Column::LastDonationOn)
        .filter(groups)
        .filter(donor::Column::VillageCode.between(
            filter.region_range.0.as_str(),
            filter.region_range.1.as_str(),
        ))
        .filter(donor::Column::DoNotCall.eq(false))
        .filter(eligible)
        .filter(donor::Column::Id.not_in_subquery(busy))
        .into_model::<CandidateRow>()
        .all(db)
        .await
}

// --- rules --------------------------------------------------------------------------------

pub async fn rules(db: &impl ConnectionTrait) -> Result<BTreeMap<String, i32>, DbErr> {
    Ok(recruitment_rule::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.name, r.days))
        .collect())
}

pub async fn put_rule(
    db: &impl ConnectionTrait,
    name: &str,
    days: i32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    recruitment_rule::Entity::insert(recruitment_rule::ActiveModel {
        name: Set(name.to_owned()),
        days: Set(days),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(recruitment_rule::Column::Name)
            .update_columns([
                recruitment_rule::Column::Days,
                recruitment_rule::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

// --- needs --------------------------------------------------------------------------------

/// A need's fields as validated by the service.
#[derive(Debug, Clone)]
pub struct NeedFields {
    pub region_code: String,
    pub blood_groups: String,
    pub kind: DonationKind,
    pub target: i32,
    pub needed_by: NaiveDate,
    pub stop_id: Option<i64>,
    pub station_id: Option<i64>,
    pub position: Option<(f64, f64)>,
    pub place_name: String,
    pub notes: Option<String>,
}

pub async fn insert_need(
    db: &impl ConnectionTrait,
    fields: NeedFields,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<recruitment_need::Model, DbErr> {
    recruitment_need::Entity::insert(recruitment_need::ActiveModel {
        region_code: Set(fields.region_code),
        blood_groups: Set(fields.blood_groups),
        kind: Set(fields.kind.as_str().to_owned()),
        target: Set(fields.target),
        needed_by: Set(fields.needed_by),
        stop_id: Set(fields.stop_id),
        station_id: Set(fields.station_id),
        longitude: Set(fields.position.map(|p| p.0)),
        latitude: Set(fields.position.map(|p| p.1)),
        place_name: Set(fields.place_name),
        notes: Set(fields.notes),
        status: Set("open".to_owned()),
        created_at: Set(now),
        created_by: Set(actor),
        version: Set(1),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

pub async fn find_need(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<recruitment_need::Model>, DbErr> {
    recruitment_need::Entity::find_by_id(id).one(db).await
}

/// Closes or reopens a need if its version is `version`; whether it was.
pub async fn set_need_status(
    db: &impl ConnectionTrait,
    id: i64,
    version: i32,
    status: &str,
) -> Result<bool, DbErr> {
    let done = recruitment_need::Entity::update_many()
        .col_expr(recruitment_need::Column::Status, Expr::value(status))
        .col_expr(
            recruitment_need::Column::Version,
            Expr::col(recruitment_need::Column::Version).add(1),
        )
        .filter(recruitment_need::Column::Id.eq(id))
        .filter(recruitment_need::Column::Version.eq(version))
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}

/// Needs inside `reach`, newest first, below id `before`.
pub async fn list_needs(
    db: &impl ConnectionTrait,
    reach: Option<&Visibility>,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<recruitment_need::Model>, DbErr> {
    let mut query = recruitment_need::Entity::find();
    if let Some(condition) =
        reach.and_then(|r| super::within(recruitment_need::Column::RegionCode, r))
    {
        query = query.filter(condition);
    }
    if let Some(before) = before {
        query = query.filter(recruitment_need::Column::Id.lt(before));
    }
    query
        .order_by_desc(recruitment_need::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

// --- calls --------------------------------------------------------------------------------

/// Gives `donor_id` to `recruiter` for need `need_id`, unless the donor waits on a list
/// already; the call, when made.
pub async fn assign(
    db: &impl ConnectionTrait,
    need_id: i64,
    donor_id: i64,
    recruiter: &str,
    now: DateTime<Utc>,
) -> Result<Option<recruitment_call::Model>, DbErr> {
    let inserted = recruitment_call::Entity::insert(recruitment_call::ActiveModel {
        need_id: Set(need_id),
        donor_id: Set(Some(donor_id)),
        recruiter: Set(recruiter.to_owned()),
        assigned_at: Set(now),
        ..Default::default()
    })
    // No conflict target: the conflict to skip is the partial unique index on open calls
    // (`uq_recruitment_calls_open_donor`), which PostgreSQL would only infer with its predicate.
    .on_conflict(OnConflict::new().do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    if inserted == 0 {
        return Ok(None);
    }
    recruitment_call::Entity::find()
        .filter(recruitment_call::Column::NeedId.eq(need_id))
        .filter(recruitment_call::Column::DonorId.eq(donor_id))
        .filter(recruitment_call::Column::Outcome.is_null())
        .one(db)
        .await
}

pub async fn find_call(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<recruitment_call::Model>, DbErr> {
    recruitment_call::Entity::find_by_id(id).one(db).await
}

/// Records a call's outcome if none was recorded; whether it was.
pub async fn record_outcome(
    db: &impl ConnectionTrait,
    id: i64,
    outcome: CallOutcome,
    notes: Option<String>,
    booking_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = recruitment_call::Entity::update_many()
        .col_expr(
            recruitment_call::Column::Outcome,
            Expr::value(outcome.as_str()),
        )
        .col_expr(recruitment_call::Column::CalledAt, Expr::value(now))
        .col_expr(recruitment_call::Column::Notes, Expr::value(notes))
        .col_expr(recruitment_call::Column::BookingId, Expr::value(booking_id))
        .filter(recruitment_call::Column::Id.eq(id))
        .filter(recruitment_call::Column::Outcome.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}

/// Calls of need `need_id` (of one recruiter), open ones first, then by id.
pub async fn calls_of(
    db: &impl ConnectionTrait,
    need_id: i64,
    recruiter: Option<&str>,
    limit: u64,
) -> Result<Vec<recruitment_call::Model>, DbErr> {
    let mut query =
        recruitment_call::Entity::find().filter(recruitment_call::Column::NeedId.eq(need_id));
    if let Some(r) = recruiter {
        query = query.filter(recruitment_call::Column::Recruiter.eq(r));
    }
    query
        .order_by_asc(Expr::col(recruitment_call::Column::Outcome).is_not_null())
        .order_by_asc(recruitment_call::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// `recruiter`'s calls not yet made, of open needs (or of need `need_id` only, whatever its
/// status), oldest first.
pub async fn waiting_calls(
    db: &impl ConnectionTrait,
    recruiter: &str,
    need_id: Option<i64>,
    limit: u64,
) -> Result<Vec<recruitment_call::Model>, DbErr> {
    let mut query = recruitment_call::Entity::find()
        .filter(recruitment_call::Column::Recruiter.eq(recruiter))
        .filter(recruitment_call::Column::Outcome.is_null());
    query = match need_id {
        Some(id) => query.filter(recruitment_call::Column::NeedId.eq(id)),
        None => query.filter(
            recruitment_call::Column::NeedId.in_subquery(
                Query::select()
                    .column(recruitment_need::Column::Id)
                    .from(recruitment_need::Entity)
                    .and_where(Expr::col(recruitment_need::Column::Status).eq("open"))
                    .to_owned(),
            ),
        ),
    };
    query
        .order_by_asc(recruitment_call::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many calls of need `need_id` have each outcome (`None`: not yet called), by recruiter.
#[derive(Debug, Clone, FromQueryResult)]
pub struct OutcomeCount {
    pub recruiter: String,
    pub outcome: Option<String>,
    pub calls: i64,
}

pub async fn outcome_counts(
    db: &impl ConnectionTrait,
    need_id: i64,
) -> Result<Vec<OutcomeCount>, DbErr> {
    recruitment_call::Entity::find()
        .select_only()
        .column(recruitment_call::Column::Recruiter)
        .column(recruitment_call::Column::Outcome)
        .column_as(recruitment_call::Column::Id.count(), "calls")
        .filter(recruitment_call::Column::NeedId.eq(need_id))
        .group_by(recruitment_call::Column::Recruiter)
        .group_by(recruitment_call::Column::Outcome)
        .into_model::<OutcomeCount>()
        .all(db)
        .await
}

/// Replaces the digest of donor `id`'s withdrawal link.
pub async fn set_withdraw_hash(
    db: &impl ConnectionTrait,
    id: i64,
    hash: &str,
) -> Result<(), DbErr> {
    donor::Entity::update_many()
        .col_expr(donor::Column::WithdrawTokenHash, Expr::value(hash))
        .filter(donor::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
