//! The roster of donors who agreed to be contacted (issue 16).
//!
//! A donor is on it only with their consent, recorded with its date, channel and the words
//! agreed to; every message to them carries a link that withdraws it ([`withdraw`]), which
//! deletes their row at once: they are off every call list from that instant. Staff delete a
//! donor on request the same way ([`delete`]). The fields are the minimum a call needs: name,
//! mobile, blood group, village, last donation. Mobiles are masked in every list; one whole
//! number is shown on purpose ([`reveal_mobile`]) and that view is audited. The audit log
//! records the roster's changes without names or numbers.

use chrono::{DateTime, NaiveDate, Utc};
use entity::donor;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Acting, RecruitmentError};
use crate::auth::secret;
use crate::domain::attendance::{Abo, Rh};
use crate::domain::booking::{DONOR_LANG, MessageKind};
use crate::domain::point::{MobileNumber, mask_phone};
use crate::domain::recruitment::{BloodGroup, ConsentChannel, DonationKind};
use crate::domain::region::{Level, RegionCode};
use crate::error::FieldErrors;
use crate::store::audit::{self, Change};
use crate::store::outbox::{self, NewMessage};
use crate::store::recruitment::{self as store, DonorFields, DonorFilter};
use crate::store::regions;

/// The answer to a mobile that cannot be enrolled: it is on the roster already, perhaps in
/// another city, which is not said.
pub const MOBILE_ON_ROSTER: &str = "this mobile number cannot be enrolled: it is on the donor \
     roster already (a number is enrolled once on this service); find the donor in your area's \
     roster or ask the blood station";

/// The most donors a page lists.
pub const MAX_PAGE: u64 = 500;

/// A donor as staff enrol them (or as a check-in or a sheet row gives them).
#[derive(Debug, Clone, Default)]
pub struct NewDonor {
    pub name: String,
    pub mobile: String,
    /// `O+`, `AB-`; blank or absent when unknown.
    pub blood_group: Option<String>,
    /// The village the donor lives in (12 digits).
    pub village_code: String,
    pub last_donation_on: Option<NaiveDate>,
    /// `whole_blood` or `platelets`; required with `last_donation_on`.
    pub last_donation_kind: Option<String>,
    /// When the donor agreed; now when absent. Not in the future.
    pub consent_at: Option<DateTime<Utc>>,
    /// `check_in`, `paper`, `phone` or `online`.
    pub consent_channel: String,
    /// The words the donor agreed to; the station's standard wording when absent.
    pub consent_wording: Option<String>,
}

/// The standard consent wording (zh-CN), shown at check-in and recorded with each consent.
pub fn standard_wording() -> String {
    DONOR_LANG.t("roster-consent-wording")
}

/// A donor as staff see them: the mobile masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DonorView {
    pub id: i64,
    pub name: String,
    /// `138****5678`.
    pub mobile: String,
    pub blood_group: Option<String>,
    pub village_code: String,
    /// The village's name (empty where the division table lacks the code).
    pub village_name: String,
    pub last_donation_on: Option<NaiveDate>,
    pub last_donation_kind: Option<String>,
    pub do_not_call: bool,
    pub consent_at: DateTime<Utc>,
    pub consent_channel: String,
    pub consent_wording: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

impl From<&donor::Model> for DonorView {
    fn from(d: &donor::Model) -> Self {
        DonorView {
            id: d.id,
            name: d.name.clone(),
            mobile: mask_phone(&d.mobile),
            blood_group: group_of(d).map(|g| g.to_string()),
            village_code: d.village_code.clone(),
            village_name: String::new(),
            last_donation_on: d.last_donation_on,
            last_donation_kind: d.last_donation_kind.clone(),
            do_not_call: d.do_not_call,
            consent_at: d.consent_at,
            consent_channel: d.consent_channel.clone(),
            consent_wording: d.consent_wording.clone(),
            source: d.source.clone(),
            created_at: d.created_at,
            version: d.version,
        }
    }
}

/// The donor's blood group, when both parts are known.
pub fn group_of(d: &donor::Model) -> Option<BloodGroup> {
    let abo = d.abo.as_deref()?.parse::<Abo>().ok()?;
    let rh = d.rh.as_deref()?.parse::<Rh>().ok()?;
    Some(BloodGroup { abo, rh })
}

/// What the audit log keeps of a donor: no name, no number.
#[derive(Serialize)]
struct Audited<'a> {
    village_code: &'a str,
    blood_group: Option<String>,
    last_donation_on: Option<NaiveDate>,
    last_donation_kind: Option<&'a str>,
    do_not_call: bool,
    consent_at: DateTime<Utc>,
    consent_channel: &'a str,
    source: &'a str,
}

fn audited(d: &donor::Model) -> Audited<'_> {
    Audited {
        village_code: &d.village_code,
        blood_group: group_of(d).map(|g| g.to_string()),
        last_donation_on: d.last_donation_on,
        last_donation_kind: d.last_donation_kind.as_deref(),
        do_not_call: d.do_not_call,
        consent_at: d.consent_at,
        consent_channel: &d.consent_channel,
        source: &d.source,
    }
}

async fn audit_change(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
    action: &'static str,
    before: Option<&donor::Model>,
    after: Option<&donor::Model>,
    now: DateTime<Utc>,
) -> Result<(), RecruitmentError> {
    let Some(any) = after.or(before) else {
        return Ok(());
    };
    let (before, after) = (before.map(audited), after.map(audited));
    audit::record(
        db,
        Change {
            entity: "donor",
            entity_id: any.id.to_string(),
            action,
            region_code: Some(any.village_code.clone()),
            before: before.as_ref(),
            after: after.as_ref(),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// A donor enrolled, with the token of their withdrawal link (given once: only its digest is
/// kept).
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub donor: donor::Model,
    pub withdraw_token: String,
    /// Whether the donor was on the roster before (their consent and fields renewed).
    pub renewed: bool,
}

/// The path of the page that withdraws a consent; `?t=` so message logs cut the token.
pub fn withdraw_path(token: &str) -> String {
    format!("{}{token}", crate::domain::recruitment::WITHDRAW_PATH)
}

/// Checks `cmd` into the fields to store (every fault named in `errors`).
async fn fields_of(
    db: &impl ConnectionTrait,
    cmd: &NewDonor,
    source: &str,
    now: DateTime<Utc>,
    errors: &mut FieldErrors,
) -> Result<Option<DonorFields>, RecruitmentError> {
    let name = crate::domain::text::clean(Some(cmd.name.clone()), 50, false)
        .ok()
        .flatten();
    if name.is_none() {
        errors.add("name", "is required (at most 50 characters, one line)");
    }
    let mobile = match MobileNumber::parse(&cmd.mobile) {
        Ok(m) => Some(m.as_str().to_owned()),
        Err(message) => {
            errors.add("mobile", message);
            None
        }
    };
    let group = match cmd.blood_group.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => match raw.parse::<BloodGroup>() {
            Ok(g) => Some(g),
            Err(message) => {
                errors.add("blood_group", message);
                None
            }
        },
    };
    let kind = match cmd.last_donation_kind.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => match raw.parse::<DonationKind>() {
            Ok(k) => Some(k),
            Err(message) => {
                errors.add("last_donation_kind", message);
                None
            }
        },
    };
    let today = crate::domain::booking::today_in_china(now);
    let last_donation = match (cmd.last_donation_on, kind) {
        (Some(on), _) if on > today => {
            errors.add("last_donation_on", "cannot be in the future");
            None
        }
        (Some(on), Some(kind)) => Some((on, kind)),
        (Some(_), None) => {
            if !errors.has("last_donation_kind") {
                errors.add(
                    "last_donation_kind",
                    "is required with last_donation_on (whole_blood or platelets)",
                );
            }
            None
        }
        (None, _) => None,
    };
    let consent_at = cmd.consent_at.unwrap_or(now);
    if consent_at > now {
        errors.add("consent_at", "cannot be in the future");
    } else if let Some(m) = &mobile
        && let Some(left) = store::withdrawn_at(db, &secret::digest(m)).await?
        && consent_at < left
    {
        // An older consent (a sheet imported again) does not undo a withdrawal.
        errors.add(
            "consent_at",
            format!(
                "is not after this person left the roster ({}): only a consent given since \
                 then may enrol them again",
                crate::domain::booking::today_in_china(left)
            ),
        );
    }
    let channel = match cmd.consent_channel.trim().parse::<ConsentChannel>() {
        Ok(c) => Some(c),
        Err(message) => {
            errors.add("consent_channel", message);
            None
        }
    };
    let wording = match cmd.consent_wording.as_deref().map(str::trim) {
        None | Some("") => Some(standard_wording()),
        Some(raw) => match crate::domain::text::clean(Some(raw.to_owned()), 2000, true) {
            Ok(Some(w)) => Some(w),
            _ => {
                errors.add("consent_wording", "must be at most 2000 characters");
                None
            }
        },
    };
    let mut village = None;
    match RegionCode::parse(cmd.village_code.trim()) {
        Err(message) => errors.add("village_code", message.to_string()),
        Ok(code) => match regions::find(db, &code).await? {
            Some(r) if r.level == Level::Village => village = Some(r),
            Some(_) => errors.add("village_code", format!("{code} is not a village")),
            None => errors.add("village_code", format!("no village with code {code}")),
        },
    }
    let (Some(name), Some(mobile), Some(channel), Some(wording), Some(village)) =
        (name, mobile, channel, wording, village)
    else {
        return Ok(None);
    };
    if !errors.0.is_empty() {
        return Ok(None);
    }
    Ok(Some(DonorFields {
        name,
        mobile,
        abo: group.map(|g| g.abo.as_str().to_owned()),
        rh: group.map(|g| g.rh.as_str().to_owned()),
        village_code: village.code.to_string(),
        position: village.longitude.zip(village.latitude),
        last_donation,
        consent_at,
        consent_channel: channel.as_str().to_owned(),
        consent_wording: wording,
        source: source.to_owned(),
    }))
}

/// Whether the caller may work with the roster at all (admins and station staff), for the
/// pages that show a form before anything is read or written.
///
/// # Errors
/// Denied.
pub fn may_recruit(acting: &Acting<'_>) -> Result<(), RecruitmentError> {
    acting.require_recruiter()
}

/// Checks a donor's fields as [`enrol`] would, writing nothing: every fault named (a form
/// refused for its own reasons shows these beside them at once).
///
/// # Errors
/// Invalid fields, database errors.
pub async fn check(
    db: &DatabaseConnection,
    cmd: &NewDonor,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), RecruitmentError> {
    acting.require_recruiter()?;
    let mut errors = FieldErrors::default();
    fields_of(db, cmd, "staff", now, &mut errors).await?;
    // Beyond the caller's area a village does not exist for them.
    if let Ok(code) = RegionCode::parse(cmd.village_code.trim())
        && acting.authorize(&code, String::new).is_err()
    {
        errors.0.retain(|e| e.field != "village_code");
        errors.add("village_code", format!("no village with code {code}"));
    }
    errors.check_with(RecruitmentError::Invalid)
}

/// Enrols a donor (staff, within their area): every field checked, the village must be in the
/// caller's area, a mobile already on the roster is refused (wherever it is). Writes the donor,
/// the audit record and the message telling the donor what they agreed to, with the link that
/// withdraws it, in one transaction.
///
/// # Errors
/// Denied (officials, viewers, beyond the area), invalid fields, the mobile on the roster.
pub async fn enrol(
    db: &DatabaseConnection,
    cmd: NewDonor,
    acting: &Acting<'_>,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Enrolled, RecruitmentError> {
    acting.require_recruiter()?;
    let source = if cmd.consent_channel.trim() == ConsentChannel::Paper.as_str() {
        "sheet"
    } else {
        "staff"
    };
    let mut errors = FieldErrors::default();
    let fields = fields_of(db, &cmd, source, now, &mut errors).await?;
    errors.check_with(RecruitmentError::Invalid)?;
    let fields = fields.ok_or_else(|| RecruitmentError::invalid("body", "invalid donor"))?;
    let code = RegionCode::parse(&fields.village_code)
        .map_err(|e| RecruitmentError::Internal(anyhow::anyhow!(e)))?;
    acting.authorize(&code, || format!("village with code {code}"))?;
    let txn = crate::db::begin_write(db).await?;
    if store::donor_by_mobile(&txn, &fields.mobile)
        .await?
        .is_some()
    {
        return Err(RecruitmentError::MobileTaken);
    }
    let enrolled = insert_in(&txn, fields, acting, public_url, now).await?;
    txn.commit().await?;
    Ok(enrolled)
}

async fn insert_in(
    txn: &impl ConnectionTrait,
    fields: DonorFields,
    acting: &Acting<'_>,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Enrolled, RecruitmentError> {
    let token = secret::random_hex().map_err(RecruitmentError::Internal)?;
    let donor =
        store::insert_donor(txn, fields, secret::digest(&token), acting.username(), now).await?;
    audit_change(txn, acting, "create", None, Some(&donor), now).await?;
    tell_consent(txn, &donor, &token, public_url, now).await?;
    Ok(Enrolled {
        donor,
        withdraw_token: token,
        renewed: false,
    })
}

/// The message confirming a consent, with the withdrawal link; once per consent given.
async fn tell_consent(
    txn: &impl ConnectionTrait,
    donor: &donor::Model,
    token: &str,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), RecruitmentError> {
    let link = format!(
        "{}{}",
        public_url.unwrap_or_default().trim_end_matches('/'),
        withdraw_path(token)
    );
    let body = DONOR_LANG.tn(
        "sms-roster-consent",
        &[
            ("name", donor.name.as_str().into()),
            ("link", link.as_str().into()),
        ],
    );
    outbox::enqueue(
        txn,
        NewMessage {
            dedupe_key: format!(
                "donor:{}:consent:{}",
                donor.id,
                donor.consent_at.timestamp()
            ),
            kind: MessageKind::RosterConsent,
            booking_id: None,
            request_id: None,
            recipient: donor.mobile.clone(),
            body,
        },
        now,
    )
    .await?;
    Ok(())
}

/// The line a message to `recipient` ends with when they are on the roster: the link that
/// withdraws their consent ("withdrawable at any time from a link in every message"). Each
/// message gets a link of its own, kept (as a digest) until the consent is withdrawn, so every
/// link a donor was ever sent works. `None` for anyone not on the roster. Written in the
/// caller's transaction, with the message.
///
/// # Errors
/// Database errors.
pub async fn withdraw_line(
    txn: &impl ConnectionTrait,
    recipient: &str,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<String>, sea_orm::DbErr> {
    let Some(donor) = store::donor_by_mobile(txn, recipient).await? else {
        return Ok(None);
    };
    let token = secret::random_hex().map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    store::add_withdraw_link(txn, donor.id, secret::digest(&token), now).await?;
    let link = format!(
        "{}{}",
        public_url.unwrap_or_default().trim_end_matches('/'),
        withdraw_path(&token)
    );
    Ok(Some(DONOR_LANG.t1(
        "sms-roster-withdraw-line",
        "link",
        link.as_str(),
    )))
}

/// Enrols the donor of a check-in who consented there (inside the check-in's transaction; the
/// check-in was authorized): a new donor, or the same mobile's consent and fields renewed.
///
/// # Errors
/// Invalid fields (a check-in without a mobile or village cannot enrol), database errors.
pub async fn enrol_at_check_in(
    txn: &impl ConnectionTrait,
    cmd: NewDonor,
    acting: &Acting<'_>,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Enrolled, RecruitmentError> {
    let mut errors = FieldErrors::default();
    let fields = fields_of(txn, &cmd, "check_in", now, &mut errors).await?;
    errors.check_with(RecruitmentError::Invalid)?;
    let fields = fields.ok_or_else(|| RecruitmentError::invalid("consent", "invalid donor"))?;
    match store::donor_by_mobile(txn, &fields.mobile).await? {
        None => insert_in(txn, fields, acting, public_url, now).await,
        Some(current) => {
            let donor = store::replace_donor(txn, &current, fields, now).await?;
            audit_change(txn, acting, "consent", Some(&current), Some(&donor), now).await?;
            // The renewed consent's message carries a new link; the old one stops working.
            let token = secret::random_hex().map_err(RecruitmentError::Internal)?;
            crate::store::recruitment::set_withdraw_hash(txn, donor.id, &secret::digest(&token))
                .await?;
            tell_consent(txn, &donor, &token, public_url, now).await?;
            Ok(Enrolled {
                donor,
                withdraw_token: token,
                renewed: true,
            })
        }
    }
}

/// Records a donation (a check-in's outcome) on the roster, when the donor is on it.
///
/// # Errors
/// Database errors.
pub async fn record_donation(
    txn: &impl ConnectionTrait,
    mobile: &str,
    on: NaiveDate,
    kind: DonationKind,
    now: DateTime<Utc>,
) -> Result<bool, RecruitmentError> {
    Ok(store::record_donation(txn, mobile, on, kind, now).await?)
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct RosterQuery {
    pub region: Option<RegionCode>,
    pub blood_group: Option<String>,
    pub after: Option<i64>,
    pub limit: u64,
}

/// The donors the caller may see, masked, by id.
///
/// # Errors
/// Denied, an unknown region or group.
pub async fn list(
    db: &DatabaseConnection,
    query: RosterQuery,
    acting: &Acting<'_>,
) -> Result<Vec<DonorView>, RecruitmentError> {
    acting.require_recruiter()?;
    let mut filter = DonorFilter {
        after: query.after,
        limit: query.limit.clamp(1, MAX_PAGE),
        reach: acting.reach(),
        ..DonorFilter::default()
    };
    if let Some(raw) = query
        .blood_group
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        filter.group = Some(
            raw.parse::<BloodGroup>()
                .map_err(|m| RecruitmentError::invalid("blood_group", m))?,
        );
    }
    if let Some(code) = &query.region {
        acting.authorize(code, || format!("region with code {code}"))?;
        let region = regions::find(db, code)
            .await?
            .ok_or_else(|| RecruitmentError::not_found(format!("region with code {code}")))?;
        filter.region_range = Some(code.subtree_bounds(region.level));
    }
    let views = store::list_donors(db, &filter)
        .await?
        .iter()
        .map(DonorView::from)
        .collect();
    Ok(with_village_names(db, views).await?)
}

/// The views with their villages' names, read in one query.
async fn with_village_names(
    db: &impl ConnectionTrait,
    mut views: Vec<DonorView>,
) -> Result<Vec<DonorView>, sea_orm::DbErr> {
    let codes: std::collections::BTreeSet<String> =
        views.iter().map(|v| v.village_code.clone()).collect();
    let codes: Vec<String> = codes.into_iter().collect();
    let names: std::collections::HashMap<String, String> = regions::find_models(db, &codes)
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect();
    for view in &mut views {
        if let Some(name) = names.get(&view.village_code) {
            view.village_name.clone_from(name);
        }
    }
    Ok(views)
}

/// Donor `id` if the caller may see them; beyond their area they do not exist.
async fn find_for(
    db: &impl ConnectionTrait,
    id: i64,
    acting: &Acting<'_>,
) -> Result<donor::Model, RecruitmentError> {
    acting.require_recruiter()?;
    let what = || format!("donor with id {id}");
    let donor = store::find_donor(db, id)
        .await?
        .ok_or_else(|| RecruitmentError::not_found(what()))?;
    let code = RegionCode::parse(&donor.village_code)
        .map_err(|e| RecruitmentError::Internal(anyhow::anyhow!(e)))?;
    acting.authorize(&code, what).map_err(|e| match e {
        RecruitmentError::Denied { .. } => RecruitmentError::not_found(what()),
        other => other,
    })?;
    Ok(donor)
}

/// Donor `id`, masked.
///
/// # Errors
/// Not found (or beyond the caller's area), denied.
pub async fn get(
    db: &DatabaseConnection,
    id: i64,
    acting: &Acting<'_>,
) -> Result<DonorView, RecruitmentError> {
    let view = DonorView::from(&find_for(db, id, acting).await?);
    let mut named = with_village_names(db, vec![view]).await?;
    Ok(named.remove(0))
}

/// Donor `id`'s whole mobile, for a call; the view is audited (who, when, whose).
///
/// # Errors
/// Not found (or beyond the caller's area), denied.
pub async fn reveal_mobile(
    db: &DatabaseConnection,
    id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<String, RecruitmentError> {
    let donor = find_for(db, id, acting).await?;
    let txn = crate::db::begin_write(db).await?;
    audit::record(
        &txn,
        Change::<()> {
            entity: "donor",
            entity_id: donor.id.to_string(),
            action: "view_mobile",
            region_code: Some(donor.village_code.clone()),
            before: None,
            after: None,
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(donor.mobile)
}

/// Deletes donor `id` on their request (staff act for them): the row goes, their calls stay
/// without them.
///
/// # Errors
/// Not found (or beyond the caller's area), denied.
pub async fn delete(
    db: &DatabaseConnection,
    id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), RecruitmentError> {
    let donor = find_for(db, id, acting).await?;
    let txn = crate::db::begin_write(db).await?;
    if !store::delete_donor(&txn, donor.id).await? {
        return Err(RecruitmentError::not_found(format!("donor with id {id}")));
    }
    store::record_withdrawal(&txn, secret::digest(&donor.mobile), now).await?;
    audit_change(&txn, acting, "delete", Some(&donor), None, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Withdraws the consent the link's `token` belongs to: the donor is deleted at once (off
/// every list). An unknown or used token is not found.
///
/// # Errors
/// Not found, database errors.
pub async fn withdraw(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), RecruitmentError> {
    let what = "consent for this link (it was withdrawn already, or the link is not whole)";
    if !secret::is_random_hex(token) {
        return Err(RecruitmentError::not_found(what));
    }
    let txn = crate::db::begin_write(db).await?;
    let donor = store::donor_by_withdraw_hash(&txn, &secret::digest(token))
        .await?
        .ok_or_else(|| RecruitmentError::not_found(what))?;
    store::delete_donor(&txn, donor.id).await?;
    store::record_withdrawal(&txn, secret::digest(&donor.mobile), now).await?;
    let acting = Acting::trusted(crate::store::audit::Actor {
        name: Some("donor (withdrawal link)".to_owned()),
        ..crate::store::audit::Actor::default()
    });
    audit_change(&txn, &acting, "withdraw", Some(&donor), None, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Whether `token` is a live withdrawal link (for the page that asks to confirm).
///
/// # Errors
/// Database errors.
pub async fn withdraw_link_live(
    db: &DatabaseConnection,
    token: &str,
) -> Result<bool, RecruitmentError> {
    if !secret::is_random_hex(token) {
        return Ok(false);
    }
    Ok(store::donor_by_withdraw_hash(db, &secret::digest(token))
        .await?
        .is_some())
}

/// What a roster sheet did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SheetImported {
    /// Donors new on the roster.
    pub added: usize,
    /// Donors on the roster before (the same mobile) whose fields and consent were renewed.
    pub updated: usize,
}

/// The sheet's column a service field's error belongs to.
fn sheet_field(field: &str) -> &'static str {
    use crate::surveys::roster_sheet::Column;
    match field {
        "name" => Column::Name.field(),
        "mobile" => Column::Mobile.field(),
        "village_code" => Column::Village.field(),
        "last_donation_on" => Column::LastDonation.field(),
        "last_donation_kind" => Column::Kind.field(),
        "consent_at" => Column::ConsentedOn.field(),
        "consent_channel" => Column::Channel.field(),
        // `abo`, `blood_group`
        "rh" => Column::Rh.field(),
        _ => Column::Abo.field(),
    }
}

/// The most faults a refused sheet lists (the answer says how many there were).
pub const MAX_LISTED_SHEET_FAULTS: usize = 200;

/// Imports a roster sheet (`surveys::roster_sheet`: a UTF-8 CSV, one donor who agreed on paper
/// or on the phone a row): every row is checked (its fields as [`enrol`] checks them, its
/// village inside the caller's area, its mobile once in the sheet and not on another area's
/// roster) and then either every row is written in ONE transaction, or nothing is and the
/// answer names every bad row and column. A mobile on the roster already (in the caller's
/// area) is updated, not added twice; a donor whose consent is new is sent what they agreed
/// to, with the link that withdraws it. A village beyond the caller's area reads as no
/// village at all.
///
/// # Errors
/// Denied (officials, viewers); [`RecruitmentError::TooLarge`] beyond
/// [`crate::surveys::roster_sheet::MAX_SHEET_BYTES`]; [`RecruitmentError::Invalid`] with every
/// fault, each with its row (the header is row 1).
pub async fn import_sheet(
    db: &DatabaseConnection,
    bytes: &[u8],
    acting: &Acting<'_>,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<SheetImported, RecruitmentError> {
    use crate::error::FieldError;
    use crate::surveys::roster_sheet::{self as sheet, Column};
    acting.require_recruiter()?;
    if bytes.len() > sheet::MAX_SHEET_BYTES {
        return Err(RecruitmentError::TooLarge(format!(
            "the sheet is larger than {} bytes",
            sheet::MAX_SHEET_BYTES
        )));
    }
    let rows = sheet::read(bytes).map_err(RecruitmentError::Invalid)?;
    if rows.is_empty() {
        return Err(RecruitmentError::invalid("sheet", "has no donor rows"));
    }
    let today = crate::domain::booking::today_in_china(now);
    let txn = crate::db::begin_write(db).await?;
    let mut faults: Vec<FieldError> = Vec::new();
    let mut checked: Vec<(usize, DonorFields)> = Vec::with_capacity(rows.len());
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for r in &rows {
        let mut errors = FieldErrors::default();
        let abo = r.get(Column::Abo).to_uppercase();
        let rh = sheet::rh(r.get(Column::Rh));
        let blood_group = match (abo.is_empty(), rh.is_empty()) {
            (true, true) => None,
            (false, true) => {
                errors.add("rh", "is required with abo (+ or -, 阳性 or 阴性)");
                None
            }
            (true, false) => {
                errors.add("abo", "is required with rh (A, B, AB or O)");
                None
            }
            (false, false) => match abo.parse::<Abo>() {
                Err(_) => {
                    errors.add("abo", format!("{abo:?} is not A, B, AB or O"));
                    None
                }
                Ok(_) if rh.parse::<Rh>().is_err() => {
                    errors.add("rh", "must be + or - (阳性 or 阴性)");
                    None
                }
                Ok(_) => Some(format!("{abo}{rh}")),
            },
        };
        let mut date_of = |column: Column| -> Option<NaiveDate> {
            let raw = r.get(column);
            if raw.is_empty() {
                return None;
            }
            let parsed = sheet::date(raw);
            if parsed.is_none() {
                errors.add(column.field(), "must be a date such as 2026-12-01");
            }
            parsed
        };
        let last_donation_on = date_of(Column::LastDonation);
        let consented_on = date_of(Column::ConsentedOn);
        if r.get(Column::ConsentedOn).is_empty() {
            errors.add("consent_at", "is required: the date the donor agreed");
        }
        if consented_on.is_some_and(|d| d > today) {
            errors.add("consent_at", "cannot be in the future");
        }
        let cmd = NewDonor {
            name: r.get(Column::Name).to_owned(),
            mobile: r.get(Column::Mobile).to_owned(),
            blood_group,
            village_code: r.get(Column::Village).to_owned(),
            last_donation_on,
            last_donation_kind: Some(sheet::kind(r.get(Column::Kind))).filter(|k| !k.is_empty()),
            consent_at: consented_on.map(|d| crate::domain::booking::instant(d, 0)),
            consent_channel: sheet::channel(r.get(Column::Channel)),
            consent_wording: None,
        };
        let fields = fields_of(&txn, &cmd, "sheet", now, &mut errors).await?;
        // Beyond the caller's area a village (or any region) does not exist for them: the
        // same words as for a code nobody has.
        if let Ok(code) = RegionCode::parse(cmd.village_code.trim())
            && acting.authorize(&code, String::new).is_err()
        {
            errors.0.retain(|e| e.field != "village_code");
            errors.add("village_code", format!("no village with code {code}"));
        }
        if let Ok(mobile) = MobileNumber::parse(&cmd.mobile) {
            match seen.get(mobile.as_str()) {
                Some(first) => errors.add(
                    "mobile",
                    format!("this mobile is on row {first} of the sheet already"),
                ),
                None => {
                    seen.insert(mobile.as_str().to_owned(), r.row);
                }
            }
            if !errors.has("mobile")
                && let Some(current) = store::donor_by_mobile(&txn, mobile.as_str()).await?
            {
                let reach = RegionCode::parse(&current.village_code)
                    .is_ok_and(|code| acting.authorize(&code, String::new).is_ok());
                if !reach {
                    errors.add("mobile", MOBILE_ON_ROSTER);
                }
            }
        }
        let mut named: Vec<&str> = Vec::new();
        for e in errors.0 {
            let field = sheet_field(&e.field);
            if named.contains(&field) {
                continue;
            }
            named.push(field);
            faults.push(FieldError::at_row(r.row, field, e.message));
        }
        if let Some(fields) = fields.filter(|_| named.is_empty()) {
            checked.push((r.row, fields));
        }
    }
    if !faults.is_empty() {
        txn.rollback().await?;
        // Row by row, each row's columns in the sheet's order.
        let position = |field: &str| {
            Column::ALL
                .iter()
                .position(|c| c.field() == field)
                .map_or(0, |p| p + 1)
        };
        faults.sort_by_key(|e| (e.row, position(&e.field)));
        let total = faults.len();
        faults.truncate(MAX_LISTED_SHEET_FAULTS);
        if total > MAX_LISTED_SHEET_FAULTS {
            faults.push(FieldError::new(
                "sheet",
                format!("{total} problems in all; the first {MAX_LISTED_SHEET_FAULTS} are listed"),
            ));
        }
        return Err(RecruitmentError::Invalid(faults));
    }
    let mut done = SheetImported::default();
    for (_, fields) in checked {
        match store::donor_by_mobile(&txn, &fields.mobile).await? {
            None => {
                insert_in(&txn, fields, acting, public_url, now).await?;
                done.added += 1;
            }
            Some(current) => {
                let renewed_consent = current.consent_at != fields.consent_at;
                let donor = store::replace_donor(&txn, &current, fields, now).await?;
                audit_change(&txn, acting, "update", Some(&current), Some(&donor), now).await?;
                if renewed_consent {
                    // A new consent's message carries a new link.
                    let token = secret::random_hex().map_err(RecruitmentError::Internal)?;
                    store::set_withdraw_hash(&txn, donor.id, &secret::digest(&token)).await?;
                    tell_consent(&txn, &donor, &token, public_url, now).await?;
                }
                done.updated += 1;
            }
        }
    }
    txn.commit().await?;
    Ok(done)
}
