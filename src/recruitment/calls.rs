//! Call lists (issue 16): a need for donors of some blood groups by a date at a stop or the
//! station, the eligible donors ranked ([`crate::domain::recruitment`]), split among
//! recruiters, each call's outcome, and the need's progress.
//!
//! Nobody is called twice within the rules' `no_recall_days` (whatever came of the call), and
//! nobody waits on two lists at once: the database refuses a second open call of a donor
//! (`uq_recruitment_calls_open_donor`), so two recruiters assigning at the same instant never
//! get the same person.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{recruitment_call, recruitment_need};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use utoipa::ToSchema;

use super::roster::group_of;
use super::{Acting, RecruitmentError};
use crate::domain::point::mask_phone;
use crate::domain::recruitment::{
    self as rules, CallOutcome, DonationKind, RING_KM, Ranked, Rules, first_in_call_order,
};
use crate::domain::region::RegionCode;
use crate::error::FieldErrors;
use crate::geo::Wgs84Point;
use crate::store::audit::{self, Change};
use crate::store::recruitment::{self as store, CandidateFilter, NeedFields};
use crate::store::{attendances, bookings, fleet, points, regions};

/// The most donors one assignment gives out.
pub const MAX_ASSIGN: usize = 500;
/// The most candidates listed at once.
pub const MAX_CANDIDATES: usize = 1000;
/// Beyond this radius (km) a call list reads every donor of its area at once.
const SEARCH_KM: f64 = 160.0;
/// The most recruiters one assignment splits among.
pub const MAX_RECRUITERS: usize = 50;

/// The rules in force.
///
/// # Errors
/// Database errors.
pub async fn rules(db: &impl ConnectionTrait) -> Result<Rules, RecruitmentError> {
    Ok(Rules::from_named(&store::rules(db).await?))
}

/// Replaces the rules (admins without region bounds: they hold for the whole service).
///
/// # Errors
/// Denied, values out of range (each named).
pub async fn set_rules(
    db: &DatabaseConnection,
    new: Rules,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Rules, RecruitmentError> {
    if !acting.trusted {
        let allowed = acting.principal.is_some_and(|p| {
            p.role == crate::domain::account::Role::Admin
                && crate::domain::policy::read_scope(p) == crate::domain::policy::Visibility::All
        });
        if !allowed {
            return Err(RecruitmentError::Denied {
                decision: if acting.principal.is_some() {
                    crate::domain::policy::Decision::Forbidden
                } else {
                    crate::domain::policy::Decision::Unauthenticated
                },
                what: "the recruitment rules".to_owned(),
            });
        }
    }
    let mut errors = FieldErrors::default();
    for (field, message) in new.problems() {
        errors.add(field, message);
    }
    errors.check_with(RecruitmentError::Invalid)?;
    let txn = crate::db::begin_write(db).await?;
    let before = rules(&txn).await?;
    for (name, days) in new.named() {
        store::put_rule(&txn, name, days, now).await?;
    }
    audit::record(
        &txn,
        Change {
            entity: "recruitment_rules",
            entity_id: "rules".to_owned(),
            action: "update",
            region_code: None,
            before: Some(&before),
            after: Some(&new),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(new)
}

/// A need as staff state it.
#[derive(Debug, Clone, Default)]
pub struct NewNeed {
    /// The area whose donors are called (a city, county or township in the caller's area).
    pub region_code: String,
    /// `O+`, or several: `O+,O-`.
    pub blood_groups: String,
    /// `whole_blood` (default) or `platelets`.
    pub kind: Option<String>,
    /// How many donors are wanted (1 to 10,000).
    pub target: i64,
    /// The day donors are wanted by (today or later).
    pub needed_by: NaiveDate,
    /// Where they are asked to come: a drive stop, or a station (one of them).
    pub stop_id: Option<i64>,
    pub station_id: Option<i64>,
    pub notes: Option<String>,
}

/// Records a need (staff within their area).
///
/// # Errors
/// Denied, invalid fields (each named), an unknown stop, station or region.
pub async fn create_need(
    db: &DatabaseConnection,
    cmd: NewNeed,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<recruitment_need::Model, RecruitmentError> {
    acting.require_recruiter()?;
    let mut errors = FieldErrors::default();
    let groups = match rules::parse_groups(&cmd.blood_groups) {
        Ok(g) => Some(g),
        Err(m) => {
            errors.add("blood_groups", m);
            None
        }
    };
    let kind = match cmd.kind.as_deref().map(str::trim) {
        None | Some("") => Some(DonationKind::WholeBlood),
        Some(raw) => match raw.parse::<DonationKind>() {
            Ok(k) => Some(k),
            Err(m) => {
                errors.add("kind", m);
                None
            }
        },
    };
    let target = i32::try_from(cmd.target)
        .ok()
        .filter(|t| (1..=10_000).contains(t));
    if target.is_none() {
        errors.add("target", "must be between 1 and 10000");
    }
    let today = crate::domain::booking::today_in_china(now);
    if cmd.needed_by < today {
        errors.add(
            "needed_by",
            format!("cannot be in the past (today in China is {today})"),
        );
    }
    let notes = match crate::domain::text::clean(cmd.notes.clone(), 1000, true) {
        Ok(n) => n,
        Err(_) => {
            errors.add("notes", "must be at most 1000 characters");
            None
        }
    };
    let mut region = None;
    match RegionCode::parse(cmd.region_code.trim()) {
        Err(m) => errors.add("region_code", m.to_string()),
        Ok(code) => {
            acting.authorize(&code, || format!("region with code {code}"))?;
            match regions::find(db, &code).await? {
                None => errors.add("region_code", format!("no region with code {code}")),
                Some(r) => region = Some(r),
            }
        }
    }
    // Where donors come: the stop (its point, else its region's centre) or the station.
    let mut place: Option<(String, Option<(f64, f64)>)> = None;
    match (cmd.stop_id, cmd.station_id) {
        (Some(_), Some(_)) | (None, None) => errors.add(
            "stop_id",
            "give one of stop_id (a drive stop) or station_id (the station donors come to)",
        ),
        (Some(stop_id), None) => match attendances::find_stop(db, stop_id).await? {
            Some((stop, drive)) if visible(acting, &stop.region_code) => {
                let position = match stop.point_id {
                    Some(p) => points::find(db, p)
                        .await?
                        .map(|p| (p.longitude, p.latitude)),
                    None => None,
                };
                let position = match position {
                    Some(p) => Some(p),
                    None => match RegionCode::parse(&stop.region_code) {
                        Ok(code) => regions::find(db, &code)
                            .await?
                            .and_then(|r| r.longitude.zip(r.latitude)),
                        Err(_) => None,
                    },
                };
                if drive.date < today {
                    errors.add("stop_id", "the stop's day has passed");
                }
                place = Some((format!("{} {}", drive.date, stop.name), position));
            }
            _ => errors.add("stop_id", format!("no drive stop with id {stop_id}")),
        },
        (None, Some(station_id)) => match fleet::find_station(db, station_id).await? {
            Some(s) if visible(acting, &s.region_code) => {
                place = Some((s.name.clone(), Some((s.longitude, s.latitude))));
            }
            _ => errors.add("station_id", format!("no station with id {station_id}")),
        },
    }
    errors.check_with(RecruitmentError::Invalid)?;
    let (Some(groups), Some(kind), Some(target), Some(region), Some((place_name, position))) =
        (groups, kind, target, region, place)
    else {
        return Err(RecruitmentError::invalid("body", "invalid need"));
    };
    let fields = NeedFields {
        region_code: region.code.to_string(),
        blood_groups: rules::groups_text(&groups),
        kind,
        target,
        needed_by: cmd.needed_by,
        stop_id: cmd.stop_id,
        station_id: cmd.station_id,
        position,
        place_name,
        notes,
    };
    let txn = crate::db::begin_write(db).await?;
    let need = store::insert_need(&txn, fields, acting.username(), now).await?;
    audit::record(
        &txn,
        Change {
            entity: "recruitment_need",
            entity_id: need.id.to_string(),
            action: "create",
            region_code: Some(need.region_code.clone()),
            before: None,
            after: Some(&need),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(need)
}

fn visible(acting: &Acting<'_>, region: &str) -> bool {
    acting.trusted
        || RegionCode::parse(region)
            .ok()
            .is_some_and(|code| acting.authorize(&code, String::new).is_ok())
}

/// Need `id` if the caller may see it; beyond their area it does not exist.
async fn need_for(
    db: &impl ConnectionTrait,
    id: i64,
    acting: &Acting<'_>,
) -> Result<recruitment_need::Model, RecruitmentError> {
    acting.require_recruiter()?;
    let what = || format!("need with id {id}");
    let need = store::find_need(db, id)
        .await?
        .ok_or_else(|| RecruitmentError::not_found(what()))?;
    if !visible(acting, &need.region_code) {
        return Err(RecruitmentError::not_found(what()));
    }
    Ok(need)
}

/// A need with its progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NeedView {
    pub id: i64,
    pub region_code: String,
    pub blood_groups: String,
    pub kind: String,
    pub target: i32,
    pub needed_by: NaiveDate,
    pub stop_id: Option<i64>,
    pub station_id: Option<i64>,
    pub place_name: String,
    pub notes: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub version: i32,
    pub progress: Progress,
}

/// How far a need has come.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Progress {
    /// Donors who agreed and were booked, against the target.
    pub booked: i64,
    pub target: i32,
    /// Calls given out and not yet made.
    pub waiting: i64,
    /// Calls made, by outcome.
    pub outcomes: BTreeMap<String, i64>,
    /// Per recruiter: calls given, made, booked.
    pub recruiters: Vec<RecruiterProgress>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct RecruiterProgress {
    pub recruiter: String,
    pub assigned: i64,
    pub called: i64,
    pub booked: i64,
}

async fn progress_of(
    db: &impl ConnectionTrait,
    need: &recruitment_need::Model,
) -> Result<Progress, RecruitmentError> {
    let mut progress = Progress {
        target: need.target,
        ..Progress::default()
    };
    let mut by_recruiter: BTreeMap<String, RecruiterProgress> = BTreeMap::new();
    for row in store::outcome_counts(db, need.id).await? {
        let entry = by_recruiter
            .entry(row.recruiter.clone())
            .or_insert_with(|| RecruiterProgress {
                recruiter: row.recruiter.clone(),
                ..RecruiterProgress::default()
            });
        entry.assigned += row.calls;
        match row.outcome {
            None => progress.waiting += row.calls,
            Some(outcome) => {
                entry.called += row.calls;
                if outcome == CallOutcome::Booked.as_str() {
                    entry.booked += row.calls;
                    progress.booked += row.calls;
                }
                *progress.outcomes.entry(outcome).or_default() += row.calls;
            }
        }
    }
    progress.recruiters = by_recruiter.into_values().collect();
    Ok(progress)
}

async fn view_of(
    db: &impl ConnectionTrait,
    need: recruitment_need::Model,
) -> Result<NeedView, RecruitmentError> {
    let progress = progress_of(db, &need).await?;
    Ok(NeedView {
        id: need.id,
        region_code: need.region_code,
        blood_groups: need.blood_groups,
        kind: need.kind,
        target: need.target,
        needed_by: need.needed_by,
        stop_id: need.stop_id,
        station_id: need.station_id,
        place_name: need.place_name,
        notes: need.notes,
        status: need.status,
        created_at: need.created_at,
        created_by: need.created_by,
        version: need.version,
        progress,
    })
}

/// Need `id` with its progress.
///
/// # Errors
/// Not found (or beyond the caller's area), denied.
pub async fn get_need(
    db: &DatabaseConnection,
    id: i64,
    acting: &Acting<'_>,
) -> Result<NeedView, RecruitmentError> {
    let need = need_for(db, id, acting).await?;
    view_of(db, need).await
}

/// The needs the caller may see, newest first, with their progress.
///
/// # Errors
/// Denied.
pub async fn list_needs(
    db: &DatabaseConnection,
    before: Option<i64>,
    limit: u64,
    acting: &Acting<'_>,
) -> Result<Vec<NeedView>, RecruitmentError> {
    acting.require_recruiter()?;
    let reach = acting.reach();
    let needs = store::list_needs(db, reach.as_ref(), before, limit.clamp(1, 100)).await?;
    let mut out = Vec::with_capacity(needs.len());
    for need in needs {
        out.push(view_of(db, need).await?);
    }
    Ok(out)
}

/// Closes (`open: false`) or reopens a need at version `version` (`None`: whatever it is).
///
/// # Errors
/// Not found, denied, stale (409 with the current version named).
pub async fn set_open(
    db: &DatabaseConnection,
    id: i64,
    open: bool,
    version: Option<i32>,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<NeedView, RecruitmentError> {
    let need = need_for(db, id, acting).await?;
    let status = if open { "open" } else { "closed" };
    let txn = crate::db::begin_write(db).await?;
    if !store::set_need_status(&txn, id, version.unwrap_or(need.version), status).await? {
        return Err(RecruitmentError::Conflict(format!(
            "need {id} changed meanwhile (now version {}); read it again",
            need.version
        )));
    }
    let after = store::find_need(&txn, id)
        .await?
        .ok_or_else(|| RecruitmentError::not_found(format!("need with id {id}")))?;
    audit::record(
        &txn,
        Change {
            entity: "recruitment_need",
            entity_id: id.to_string(),
            action: if open { "reopen" } else { "close" },
            region_code: Some(need.region_code.clone()),
            before: Some(&need),
            after: Some(&after),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    view_of(db, after).await
}

/// A donor on a call list: masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Candidate {
    pub donor_id: i64,
    pub name: String,
    pub mobile: String,
    pub blood_group: Option<String>,
    pub village_code: String,
    /// Km to where the need asks donors to come, when both places are known.
    pub distance_km: Option<f64>,
    pub last_donation_on: Option<NaiveDate>,
    pub last_donation_kind: Option<String>,
}

/// The day a need's donors would give: the stop's day, else the day it is needed by, but not
/// before today.
async fn donation_day(
    db: &impl ConnectionTrait,
    need: &recruitment_need::Model,
    now: DateTime<Utc>,
) -> Result<NaiveDate, RecruitmentError> {
    let today = crate::domain::booking::today_in_china(now);
    let day = match need.stop_id {
        Some(stop_id) => attendances::find_stop(db, stop_id)
            .await?
            .map_or(need.needed_by, |(_, drive)| drive.date),
        None => need.needed_by,
    };
    Ok(day.max(today))
}

/// The first `limit` donors a need may call, in call order (ids and distances).
async fn ranked(
    db: &impl ConnectionTrait,
    need: &recruitment_need::Model,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<Ranked>, RecruitmentError> {
    let rules = rules(db).await?;
    let kind = need
        .kind
        .parse::<DonationKind>()
        .map_err(|e| RecruitmentError::Internal(anyhow::anyhow!(e)))?;
    let groups = rules::parse_groups(&need.blood_groups)
        .map_err(|e| RecruitmentError::Internal(anyhow::anyhow!(e)))?;
    let code = RegionCode::parse(&need.region_code)
        .map_err(|e| RecruitmentError::Internal(anyhow::anyhow!(e)))?;
    let region = regions::find(db, &code)
        .await?
        .ok_or_else(|| RecruitmentError::not_found(format!("region with code {code}")))?;
    let day = donation_day(db, need, now).await?;
    let mut filter = CandidateFilter {
        region_range: code.subtree_bounds(region.level),
        groups,
        latest_last_donation: DonationKind::ALL
            .iter()
            .map(|last| (*last, rules.latest_last_donation(*last, kind, day)))
            .collect(),
        called_since: now - Duration::days(i64::from(rules.no_recall_days)),
        within: None,
    };
    let place = need
        .longitude
        .zip(need.latitude)
        .map(|(lon, lat)| Wgs84Point::stored(lon, lat));
    let rank = |rows: Vec<store::CandidateRow>| -> Vec<Ranked> {
        rows.into_iter()
            .map(|r| Ranked {
                id: r.id,
                distance_km: place
                    .zip(r.longitude.zip(r.latitude))
                    .map(|(p, (lon, lat))| p.distance_km(Wgs84Point::stored(lon, lat))),
                last_donation_on: r.last_donation_on,
            })
            .collect()
    };
    // Ring by ring: the donors in a box around the place, keeping the rings wholly inside it;
    // when they are enough, the first in call order are among them. Else a box twice as wide,
    // and at last everyone (donors of villages with no centre come after every ring).
    if let Some(place) = place {
        let mut radius = 2.0 * RING_KM;
        while radius <= SEARCH_KM {
            filter.within = Some(place.bounding_box(radius));
            let inside: Vec<Ranked> = rank(store::candidates(db, &filter).await?)
                .into_iter()
                .filter(|r| r.distance_km.is_some_and(|km| km < radius))
                .collect();
            if inside.len() >= limit {
                return Ok(first_in_call_order(inside, limit));
            }
            radius *= 2.0;
        }
        filter.within = None;
    }
    let donors = rank(store::candidates(db, &filter).await?);
    Ok(first_in_call_order(donors, limit))
}

/// The donors a need would call next, in call order, masked (nobody is assigned).
///
/// # Errors
/// Not found (or beyond the caller's area), denied.
pub async fn candidates(
    db: &DatabaseConnection,
    id: i64,
    limit: usize,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Candidate>, RecruitmentError> {
    let need = need_for(db, id, acting).await?;
    let ranked = ranked(db, &need, limit.clamp(1, MAX_CANDIDATES), now).await?;
    candidates_of(db, &ranked).await
}

async fn candidates_of(
    db: &impl ConnectionTrait,
    ranked: &[Ranked],
) -> Result<Vec<Candidate>, RecruitmentError> {
    let ids: Vec<i64> = ranked.iter().map(|r| r.id).collect();
    let donors = donors_by_id(db, &ids).await?;
    Ok(ranked
        .iter()
        .filter_map(|r| Some(candidate(donors.get(&r.id)?, r.distance_km)))
        .collect())
}

/// The donors with these ids, by id.
async fn donors_by_id(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, entity::donor::Model>, RecruitmentError> {
    Ok(store::donors_by_ids(db, ids)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect())
}

/// A donor as a call list shows them: the mobile masked, the distance to 100 m.
fn candidate(d: &entity::donor::Model, distance_km: Option<f64>) -> Candidate {
    Candidate {
        donor_id: d.id,
        name: d.name.clone(),
        mobile: mask_phone(&d.mobile),
        blood_group: group_of(d).map(|g| g.to_string()),
        village_code: d.village_code.clone(),
        distance_km: distance_km.map(|km| (km * 10.0).round() / 10.0),
        last_donation_on: d.last_donation_on,
        last_donation_kind: d.last_donation_kind.clone(),
    }
}

/// An assignment: how many donors, split among which recruiters (usernames of staff who may
/// recruit in the need's area).
#[derive(Debug, Clone, Default)]
pub struct Assign {
    pub count: i64,
    pub recruiters: Vec<String>,
}

/// Gives the next `count` donors of a need's list to its recruiters in turn (the first donor to
/// the first recruiter, the second to the second, …). A donor taken meanwhile by another list
/// is skipped; the calls made are returned.
///
/// # Errors
/// Not found, denied, a closed need, invalid count or recruiters.
pub async fn assign(
    db: &DatabaseConnection,
    id: i64,
    cmd: Assign,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<recruitment_call::Model>, RecruitmentError> {
    let need = need_for(db, id, acting).await?;
    if need.status != "open" {
        return Err(RecruitmentError::Conflict(format!(
            "need {id} is closed; reopen it to give out calls"
        )));
    }
    let mut errors = FieldErrors::default();
    let count = usize::try_from(cmd.count)
        .ok()
        .filter(|c| (1..=MAX_ASSIGN).contains(c));
    if count.is_none() {
        errors.add("count", format!("must be between 1 and {MAX_ASSIGN}"));
    }
    let mut recruiters: Vec<String> = Vec::new();
    for r in &cmd.recruiters {
        let r = r.trim().to_owned();
        if !r.is_empty() && !recruiters.contains(&r) {
            recruiters.push(r);
        }
    }
    if recruiters.is_empty() || recruiters.len() > MAX_RECRUITERS {
        errors.add(
            "recruiters",
            format!("give 1 to {MAX_RECRUITERS} usernames of staff who recruit in this area"),
        );
    }
    let code = RegionCode::parse(&need.region_code)
        .map_err(|e| RecruitmentError::Internal(anyhow::anyhow!(e)))?;
    for (i, name) in recruiters.iter().enumerate() {
        let ok = match crate::store::accounts::find_user_by_name(db, name).await? {
            Some(user) => {
                !user.disabled
                    && crate::domain::policy::can(
                        Some(&user.principal(None)),
                        crate::domain::policy::Action::Read,
                        crate::domain::policy::Resource::Recruitment(&code),
                    ) == crate::domain::policy::Decision::Allow
            }
            None => false,
        };
        if !ok {
            errors.add(
                &format!("recruiters[{i}]"),
                format!("{name:?} is not an active account that may recruit in this area"),
            );
        }
    }
    errors.check_with(RecruitmentError::Invalid)?;
    let count = count.unwrap_or(1);
    let ranked = ranked(db, &need, count, now).await?;
    let txn = crate::db::begin_write(db).await?;
    let mut made = Vec::with_capacity(ranked.len());
    for donor in &ranked {
        let recruiter = &recruiters[made.len() % recruiters.len()];
        if let Some(call) = store::assign(&txn, need.id, donor.id, recruiter, now).await? {
            made.push(call);
        }
    }
    audit::record(
        &txn,
        Change {
            entity: "recruitment_need",
            entity_id: need.id.to_string(),
            action: "assign",
            region_code: Some(need.region_code.clone()),
            before: None,
            after: Some(&serde_json::json!({
                "calls": made.len(),
                "recruiters": recruiters,
            })),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(made)
}

/// A call as its recruiter sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallView {
    pub id: i64,
    pub need_id: i64,
    pub recruiter: String,
    pub assigned_at: DateTime<Utc>,
    pub outcome: Option<String>,
    pub called_at: Option<DateTime<Utc>>,
    pub notes: Option<String>,
    pub booking_id: Option<i64>,
    /// The donor, masked; `None` once they withdrew or were deleted.
    pub donor: Option<Candidate>,
}

/// The calls of need `id` (only `recruiter`'s when given), waiting ones first.
///
/// # Errors
/// Not found (or beyond the caller's area), denied.
pub async fn calls(
    db: &DatabaseConnection,
    id: i64,
    recruiter: Option<&str>,
    acting: &Acting<'_>,
) -> Result<Vec<CallView>, RecruitmentError> {
    let need = need_for(db, id, acting).await?;
    let calls = store::calls_of(db, need.id, recruiter, 2000).await?;
    views_of(db, &need, calls).await
}

/// Calls of `need` as their recruiters see them, donors masked.
async fn views_of(
    db: &impl ConnectionTrait,
    need: &recruitment_need::Model,
    calls: Vec<recruitment_call::Model>,
) -> Result<Vec<CallView>, RecruitmentError> {
    let place = need
        .longitude
        .zip(need.latitude)
        .map(|(lon, lat)| Wgs84Point::stored(lon, lat));
    let ids: Vec<i64> = calls.iter().filter_map(|c| c.donor_id).collect();
    let donors = donors_by_id(db, &ids).await?;
    Ok(calls
        .into_iter()
        .map(|c| {
            let donor = c.donor_id.and_then(|id| donors.get(&id)).map(|d| {
                let at = d.longitude.zip(d.latitude);
                let km = place
                    .zip(at)
                    .map(|(p, (lon, lat))| p.distance_km(Wgs84Point::stored(lon, lat)));
                candidate(d, km)
            });
            CallView {
                id: c.id,
                need_id: c.need_id,
                recruiter: c.recruiter,
                assigned_at: c.assigned_at,
                outcome: c.outcome,
                called_at: c.called_at,
                notes: c.notes,
                booking_id: c.booking_id,
                donor,
            }
        })
        .collect())
}

/// What came of a call, as the recruiter records it.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub outcome: String,
    pub notes: Option<String>,
    /// With `booked`: the code of the booking made for the donor (at any stop), which is
    /// linked to the call.
    pub booking_code: Option<String>,
}

/// Call `call_id` with its need, if the caller may see the need; beyond their area the call
/// does not exist.
async fn call_for(
    db: &impl ConnectionTrait,
    call_id: i64,
    acting: &Acting<'_>,
) -> Result<(recruitment_call::Model, recruitment_need::Model), RecruitmentError> {
    let what = || format!("call with id {call_id}");
    let call = store::find_call(db, call_id)
        .await?
        .ok_or_else(|| RecruitmentError::not_found(what()))?;
    let need = need_for(db, call.need_id, acting)
        .await
        .map_err(|e| match e {
            RecruitmentError::NotFound(_) => RecruitmentError::not_found(what()),
            other => other,
        })?;
    Ok((call, need))
}

/// Records what came of call `call_id` (once: a recorded call is a conflict). `do_not_call`
/// also takes the donor off every future list.
///
/// # Errors
/// Not found, denied, invalid fields, conflict.
pub async fn record(
    db: &DatabaseConnection,
    call_id: i64,
    cmd: Outcome,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<recruitment_call::Model, RecruitmentError> {
    let what = || format!("call with id {call_id}");
    let (call, need) = call_for(db, call_id, acting).await?;
    let mut errors = FieldErrors::default();
    let outcome = match cmd.outcome.trim().parse::<CallOutcome>() {
        Ok(o) => Some(o),
        Err(m) => {
            errors.add("outcome", m);
            None
        }
    };
    let notes = match crate::domain::text::clean(cmd.notes.clone(), 500, true) {
        Ok(n) => n,
        Err(_) => {
            errors.add("notes", "must be at most 500 characters");
            None
        }
    };
    let donor = match call.donor_id {
        Some(id) => store::find_donor(db, id).await?,
        None => None,
    };
    let mut booking_id = None;
    match (outcome, cmd.booking_code.as_deref().map(str::trim)) {
        (Some(CallOutcome::Booked), None | Some("")) => errors.add(
            "booking_code",
            "is required with booked: the code of the booking made for the donor",
        ),
        (Some(CallOutcome::Booked), Some(code)) => match bookings::find_by_code(db, code).await? {
            Some(b)
                if b.status == "active"
                    && donor
                        .as_ref()
                        .is_some_and(|d| b.mobile.as_deref() == Some(&d.mobile)) =>
            {
                booking_id = Some(b.id);
            }
            _ => errors.add(
                "booking_code",
                "must be the code of an active booking made with this donor's mobile",
            ),
        },
        (_, Some(code)) if !code.is_empty() => {
            errors.add("booking_code", "is only taken with the outcome booked")
        }
        _ => {}
    }
    errors.check_with(RecruitmentError::Invalid)?;
    let Some(outcome) = outcome else {
        return Err(RecruitmentError::invalid("outcome", "is required"));
    };
    let txn = crate::db::begin_write(db).await?;
    if !store::record_outcome(&txn, call.id, outcome, notes, booking_id, now).await? {
        return Err(RecruitmentError::Conflict(format!(
            "call {call_id} was recorded already"
        )));
    }
    if outcome == CallOutcome::DoNotCall
        && let Some(d) = &donor
    {
        store::set_do_not_call(&txn, d.id, now).await?;
    }
    let after = store::find_call(&txn, call.id)
        .await?
        .ok_or_else(|| RecruitmentError::not_found(what()))?;
    audit::record(
        &txn,
        Change {
            entity: "recruitment_call",
            entity_id: call.id.to_string(),
            action: "record",
            region_code: Some(need.region_code.clone()),
            before: Some(&call),
            after: Some(&after),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// A booking made from a call: the start (`HH:MM`) of a free slot at the need's stop, and a
/// note on the call.
#[derive(Debug, Clone, Default)]
pub struct BookFromCall {
    pub slot: String,
    pub notes: Option<String>,
}

/// A call recorded `booked` with the booking made for its donor.
#[derive(Debug, Clone)]
pub struct BookedCall {
    pub call: recruitment_call::Model,
    pub booking: entity::booking::Model,
}

/// Books the donor of call `call_id` into a slot of the need's drive stop (a person booking
/// with the donor's name, whole mobile and blood group, made by the recruiter, with its
/// confirmation message) and records the call as `booked`, linked to that booking: one write
/// transaction, audited (the booking as the recruiter's, the call's outcome). A full or begun
/// slot, the 180-day rule or a call recorded meanwhile writes nothing.
///
/// # Errors
/// Not found, denied; invalid slot or notes; conflict: the call was recorded already, the need
/// is not at a drive stop, the donor withdrew; the bookings' refusals (`Bookings`: the slot
/// full or begun, the drive not open, the donor gave blood too recently, booked there already).
pub async fn book_from_call(
    db: &DatabaseConnection,
    call_id: i64,
    cmd: BookFromCall,
    acting: &Acting<'_>,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<BookedCall, RecruitmentError> {
    let (call, need) = call_for(db, call_id, acting).await?;
    if call.outcome.is_some() {
        return Err(RecruitmentError::Conflict(format!(
            "call {call_id} was recorded already"
        )));
    }
    let notes = crate::domain::text::clean(cmd.notes.clone(), 500, true)
        .map_err(|_| RecruitmentError::invalid("notes", "must be at most 500 characters"))?;
    let Some(stop_id) = need.stop_id else {
        return Err(RecruitmentError::Conflict(format!(
            "need {} asks donors to the station, not to a drive stop: book them there and \
             record the call with the booking's code",
            need.id
        )));
    };
    let donor = match call.donor_id {
        Some(id) => store::find_donor(db, id).await?,
        None => None,
    }
    .ok_or_else(|| {
        RecruitmentError::Conflict(format!(
            "the donor of call {call_id} has left the roster; they cannot be booked from it"
        ))
    })?;
    let open = crate::bookings::open_stop(db, stop_id)
        .await
        .map_err(|e| match e {
            crate::bookings::BookingsError::NotFound(_) => RecruitmentError::Conflict(format!(
                "the drive of stop {stop_id} is not published yet; it takes no bookings"
            )),
            other => RecruitmentError::Bookings(other),
        })?;
    let booking = crate::bookings::PersonBooking {
        name: donor.name.clone(),
        mobile: donor.mobile.clone(),
        blood_type: group_of(&donor).map(|g| g.to_string()),
        slot: cmd.slot.trim().to_owned(),
        via: None,
    };
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    let made =
        crate::bookings::book_person_in(&txn, &open, booking, &acting.actor, public_url, now)
            .await
            .map_err(RecruitmentError::Bookings)?;
    let recorded = store::record_outcome(
        &txn,
        call.id,
        CallOutcome::Booked,
        notes,
        Some(made.booking.id),
        now,
    )
    .await?;
    if !recorded {
        // Dropping the transaction rolls the booking back with it.
        return Err(RecruitmentError::Conflict(format!(
            "call {call_id} was recorded already"
        )));
    }
    let after = store::find_call(&txn, call.id)
        .await?
        .ok_or_else(|| RecruitmentError::not_found(format!("call with id {call_id}")))?;
    audit::record(
        &txn,
        Change {
            entity: "recruitment_call",
            entity_id: call.id.to_string(),
            action: "book",
            region_code: Some(need.region_code.clone()),
            before: Some(&call),
            after: Some(&after),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(BookedCall {
        call: after,
        booking: made.booking,
    })
}

/// A slot with places left at a need's stop, offered on the call screen.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FreeSlot {
    /// `HH:MM`, as a booking names it.
    pub starts: String,
    pub ends: String,
    pub left: i32,
}

/// A waiting call on the recruiter's screen: the call (donor masked), its need, and the free
/// slots of the need's stop when its drive takes bookings (else none).
#[derive(Debug, Clone)]
pub struct CallCard {
    pub call: CallView,
    pub need: recruitment_need::Model,
    pub slots: Vec<FreeSlot>,
}

/// The most calls the screen shows at once.
pub const MAX_SCREEN: u64 = 200;

/// The caller's calls not yet made: of every open need they may see, or of need `need` only
/// (404 beyond their area), oldest first, with the free slots of each need's stop.
///
/// # Errors
/// Denied, not found.
pub async fn my_calls(
    db: &DatabaseConnection,
    need: Option<i64>,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<CallCard>, RecruitmentError> {
    acting.require_recruiter()?;
    if let Some(id) = need {
        need_for(db, id, acting).await?;
    }
    let Some(me) = acting.username() else {
        return Ok(vec![]);
    };
    let calls = store::waiting_calls(db, &me, need, MAX_SCREEN).await?;
    let mut by_need: BTreeMap<i64, Vec<recruitment_call::Model>> = BTreeMap::new();
    for c in calls {
        by_need.entry(c.need_id).or_default().push(c);
    }
    let mut slots_at: HashMap<i64, Vec<FreeSlot>> = HashMap::new();
    let mut cards = Vec::new();
    for (need_id, calls) in by_need {
        let Some(need) = store::find_need(db, need_id).await? else {
            continue;
        };
        if !visible(acting, &need.region_code) {
            continue;
        }
        let slots = match need.stop_id {
            Some(stop) => {
                if let Some(known) = slots_at.get(&stop) {
                    known.clone()
                } else {
                    let free = free_slots(db, stop, now).await?;
                    slots_at.insert(stop, free.clone());
                    free
                }
            }
            None => vec![],
        };
        for call in views_of(db, &need, calls).await? {
            cards.push(CallCard {
                call,
                need: need.clone(),
                slots: slots.clone(),
            });
        }
    }
    cards.sort_by_key(|c| c.call.id);
    Ok(cards)
}

/// The slots of stop `stop` with places left that have not begun, when its drive takes
/// bookings (published or under way); none otherwise.
async fn free_slots(
    db: &DatabaseConnection,
    stop: i64,
    now: DateTime<Utc>,
) -> Result<Vec<FreeSlot>, RecruitmentError> {
    use crate::domain::booking::{clock, instant};
    let open = match crate::bookings::open_stop(db, stop).await {
        Ok(open) => open,
        Err(crate::bookings::BookingsError::Db(e)) => return Err(e.into()),
        Err(_) => return Ok(vec![]),
    };
    let mut slots: Vec<FreeSlot> = open
        .slots
        .iter()
        .filter(|s| s.capacity > s.booked && now < instant(open.drive.date, s.starts))
        .map(|s| FreeSlot {
            starts: clock(s.starts),
            ends: clock(s.ends),
            left: s.capacity - s.booked,
        })
        .collect();
    slots.sort_by(|a, b| a.starts.cmp(&b.starts));
    Ok(slots)
}

/// An account that may be given calls of a need.
#[derive(Debug, Clone)]
pub struct Recruiter {
    pub username: String,
    pub display_name: String,
}

/// The active accounts that may recruit in need `id`'s area (admins and station staff whose
/// regions reach it), by username: whom its calls may be given to.
///
/// # Errors
/// Not found (or beyond the caller's area), denied.
pub async fn recruiters(
    db: &DatabaseConnection,
    id: i64,
    acting: &Acting<'_>,
) -> Result<Vec<Recruiter>, RecruitmentError> {
    let need = need_for(db, id, acting).await?;
    let code = RegionCode::parse(&need.region_code)
        .map_err(|e| RecruitmentError::Internal(anyhow::anyhow!(e)))?;
    let mut out: Vec<Recruiter> = crate::store::accounts::list_users(db, None, 5000)
        .await?
        .into_iter()
        .filter(|u| {
            !u.disabled
                && crate::domain::policy::can(
                    Some(&u.principal(None)),
                    crate::domain::policy::Action::Read,
                    crate::domain::policy::Resource::Recruitment(&code),
                ) == crate::domain::policy::Decision::Allow
        })
        .map(|u| Recruiter {
            username: u.username,
            display_name: u.display_name,
        })
        .collect();
    out.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(out)
}

/// Where a new need may ask donors to come: the stations and the stops of drives from today
/// on (not cancelled or completed) inside the caller's area, as (id, name) pairs.
#[derive(Debug, Clone, Default)]
pub struct NeedPlaces {
    pub stations: Vec<(i64, String)>,
    pub stops: Vec<(i64, NaiveDate, String)>,
}

/// The places a need may name (see [`NeedPlaces`]).
///
/// # Errors
/// Denied.
pub async fn need_places(
    db: &DatabaseConnection,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<NeedPlaces, RecruitmentError> {
    use crate::domain::drive::DriveStatus;
    acting.require_recruiter()?;
    let reach = acting.reach();
    let stations = fleet::list_stations(
        db,
        &fleet::FleetFilter {
            statuses: vec!["active"],
            limit: Some(500),
            reach: reach.clone(),
            ..fleet::FleetFilter::default()
        },
    )
    .await?
    .into_iter()
    .map(|s| (s.id, s.name))
    .collect();
    let today = crate::domain::booking::today_in_china(now);
    let drives = crate::store::drives::list(
        db,
        &crate::store::drives::DriveFilter {
            statuses: vec![
                DriveStatus::Draft.as_str(),
                DriveStatus::Published.as_str(),
                DriveStatus::InProgress.as_str(),
            ],
            from: Some(today),
            limit: 200,
            reach,
            ..crate::store::drives::DriveFilter::default()
        },
    )
    .await?;
    let mut stops = Vec::new();
    for drive in drives {
        for stop in crate::store::drives::stops(db, drive.id).await? {
            stops.push((stop.id, drive.date, stop.name));
        }
    }
    stops.sort_by_key(|a| (a.1, a.0));
    Ok(NeedPlaces { stations, stops })
}
