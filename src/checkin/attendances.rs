//! Attendances: the check-in screen, checking people in (booked or walk-in), recording and
//! correcting outcomes.
//!
//! When: people are checked in while the drive is `published` or `in_progress`, on the
//! drive's date (China time) or after it (results from paper forms), never before
//! ([`CheckinError::Conflict`] otherwise). Outcomes may be edited until the drive is
//! `completed`; completing a drive locks its results: from then on only admins correct them
//! ([`CheckinError::Forbidden`] for others), each correction audited (action `correct`, with
//! the record before and after). Every write is audited (entity `attendance`), mobiles masked.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{attendance, drive, drive_stop};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use validator::{Validate, ValidationError};

use super::{CheckinError, Staff, checked, status_of};
use crate::domain::account::Role;
use crate::domain::attendance::{AttendanceKind, Attended, Outcome, OutcomeRecord};
use crate::domain::booking::{BookingKind, BookingStatus, normalise_code, today_in_china};
use crate::domain::drive::{DayBound, DriveStatus};
use crate::domain::point::{MobileNumber, mask_phone};
use crate::domain::region::{Level, RegionCode};
use crate::domain::text;
use crate::error::FieldErrors;
use crate::store::attendances::{self as store, AttendanceEdit, BookingWithSlots, NewAttendance};
use crate::store::audit::{self, Change};
use crate::store::{drives, regions};
use crate::validation;
use crate::versioned::{self, Outcome as Written, Versioned};

/// Longest name kept, characters.
pub const MAX_NAME: usize = 100;

impl Versioned for attendance::Model {
    fn version(&self) -> i32 {
        self.version
    }
}

/// A check-in: booked (`booking_code`) or walk-in (`name`), with the outcome when already
/// known. Text as the client sent it; the rules trim and parse.
#[derive(Debug, Clone, Default, Validate)]
pub struct CheckIn {
    /// The booking's code: a booked check-in. Without it, a walk-in.
    pub booking_code: Option<String>,
    /// Required for a walk-in and for each person of a group booking; an individual booking's
    /// name by default.
    #[validate(custom(function = "name_text"))]
    pub name: Option<String>,
    #[validate(custom(function = "mobile_number"))]
    pub mobile: Option<String>,
    /// A 12-digit village code (it must be a village: checked against the database).
    #[validate(custom(function = "village_format"))]
    pub village_code: Option<String>,
    #[validate(custom(function = "outcome_value"))]
    pub outcome: Option<String>,
    #[validate(custom(function = "category_value"))]
    pub deferral_category: Option<String>,
    pub volume_ml: Option<i32>,
    #[validate(custom(function = "abo_value"))]
    pub abo: Option<String>,
    #[validate(custom(function = "rh_value"))]
    pub rh: Option<String>,
    /// The donor agreed, at the desk, to be contacted when blood runs short (the standard
    /// wording, `recruitment::roster::standard_wording`): they join the roster, which needs
    /// their mobile and village.
    pub consent: bool,
}

/// A change to an attendance: `None` keeps a member, `Some(None)` clears it.
#[derive(Debug, Clone, Default, Validate)]
pub struct AttendanceChange {
    #[validate(custom(function = "required_name_text"))]
    pub name: Option<String>,
    #[validate(custom(function = "village_format"))]
    pub village_code: Option<Option<String>>,
    /// Changing it drops the details the new outcome does not have (a deferral's category, a
    /// donation's volume) unless they are sent too.
    #[validate(custom(function = "outcome_value"))]
    pub outcome: Option<String>,
    #[validate(custom(function = "category_value"))]
    pub deferral_category: Option<Option<String>>,
    pub volume_ml: Option<Option<i32>>,
    #[validate(custom(function = "abo_value"))]
    pub abo: Option<Option<String>>,
    #[validate(custom(function = "rh_value"))]
    pub rh: Option<Option<String>>,
}

fn parsed<T: std::str::FromStr<Err = String>>(raw: &str) -> Result<(), ValidationError> {
    raw.trim()
        .parse::<T>()
        .map(|_| ())
        .map_err(|e| validation::error("parse", e))
}

fn outcome_value(raw: &str) -> Result<(), ValidationError> {
    parsed::<Outcome>(raw)
}

fn category_value(raw: &str) -> Result<(), ValidationError> {
    parsed::<crate::domain::attendance::DeferralCategory>(raw)
}

fn abo_value(raw: &str) -> Result<(), ValidationError> {
    parsed::<crate::domain::attendance::Abo>(raw)
}

fn rh_value(raw: &str) -> Result<(), ValidationError> {
    parsed::<crate::domain::attendance::Rh>(raw)
}

/// A name as kept (cleaned text, at most [`MAX_NAME`] characters); whether one is required
/// depends on the booking, decided later.
fn name_text(raw: &str) -> Result<(), ValidationError> {
    text::clean(Some(raw.to_owned()), MAX_NAME, false)
        .map(|_| ())
        .map_err(|m| validation::error("text", m))
}

/// A new name: cleaned text, not blank.
fn required_name_text(raw: &str) -> Result<(), ValidationError> {
    match text::clean(Some(raw.to_owned()), MAX_NAME, false) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(validation::error("required", "is required")),
        Err(m) => Err(validation::error("text", m)),
    }
}

fn mobile_number(raw: &str) -> Result<(), ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(());
    }
    MobileNumber::parse(raw)
        .map(|_| ())
        .map_err(|e| validation::error("mobile", e))
}

fn village_format(raw: &str) -> Result<(), ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() || RegionCode::parse(raw).is_ok() {
        return Ok(());
    }
    Err(validation::error(
        "village",
        "must be a 12-digit village code",
    ))
}

/// An outcome's fields parsed, each fault named.
fn parse_outcome(
    errors: &mut FieldErrors,
    outcome: Option<&str>,
    category: Option<&str>,
    volume_ml: Option<i32>,
    abo: Option<&str>,
    rh: Option<&str>,
) -> OutcomeRecord {
    fn field<T: std::str::FromStr<Err = String>>(
        errors: &mut FieldErrors,
        name: &str,
        raw: Option<&str>,
    ) -> Option<T> {
        raw.and_then(|r| r.trim().parse::<T>().map_err(|e| errors.add(name, e)).ok())
    }
    OutcomeRecord {
        outcome: field(errors, "outcome", outcome),
        deferral_category: field(errors, "deferral_category", category),
        volume_ml,
        abo: field(errors, "abo", abo),
        rh: field(errors, "rh", rh),
    }
}

/// The rules across an outcome's fields, for fields without a fault of their own.
fn check_outcome(errors: &mut FieldErrors, record: &OutcomeRecord) {
    for (field, message) in record.problems() {
        if !errors.has(field) {
            errors.add(field, message);
        }
    }
}

/// A village of residence: must be a village-level region. A code that is not 12 digits was
/// named by the field rules already.
async fn village(
    db: &DatabaseConnection,
    errors: &mut FieldErrors,
    raw: Option<&str>,
) -> Result<Option<String>, CheckinError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let Ok(code) = RegionCode::parse(raw) else {
        if !errors.has("village_code") {
            errors.add("village_code", "must be a 12-digit village code");
        }
        return Ok(None);
    };
    match regions::find(db, &code).await? {
        Some(r) if r.level == Level::Village => Ok(Some(code.to_string())),
        Some(r) => {
            errors.add(
                "village_code",
                format!("{code} is a {}, not a village", r.level),
            );
            Ok(None)
        }
        None => {
            errors.add("village_code", format!("no region with code {code}"));
            Ok(None)
        }
    }
}

/// An attendance as the audit log keeps it: the mobile masked, since the log is a listing
/// too (and check-in never changes a mobile, so nothing is lost).
fn audited(m: &attendance::Model) -> attendance::Model {
    attendance::Model {
        mobile: m.mobile.as_deref().map(mask_phone),
        ..m.clone()
    }
}

fn parse_opt<T: std::str::FromStr<Err = String>>(
    id: i64,
    raw: Option<&str>,
) -> Result<Option<T>, CheckinError> {
    raw.map(|r| {
        r.parse::<T>()
            .map_err(|e| CheckinError::corrupt("attendance", id, e))
    })
    .transpose()
}

/// An attendance as the results count it.
///
/// # Errors
/// [`CheckinError::Corrupt`] when a stored value does not read back.
pub fn attended(m: &attendance::Model) -> Result<Attended, CheckinError> {
    let corrupt = |e: String| CheckinError::corrupt("attendance", m.id, e);
    Ok(Attended {
        kind: m.kind.parse().map_err(corrupt)?,
        outcome: m.outcome.parse().map_err(corrupt)?,
        volume_ml: m.volume_ml,
        abo: parse_opt(m.id, m.abo.as_deref())?,
        rh: parse_opt(m.id, m.rh.as_deref())?,
        deferral_category: parse_opt(m.id, m.deferral_category.as_deref())?,
        village_code: m.village_code.clone(),
    })
}

/// Stop `id` with its drive.
///
/// # Errors
/// [`CheckinError::NotFound`]; the database fails.
pub async fn find_stop(
    db: &DatabaseConnection,
    id: i64,
) -> Result<(drive_stop::Model, drive::Model), CheckinError> {
    store::find_stop(db, id)
        .await?
        .ok_or_else(|| CheckinError::NotFound(format!("no stop with id {id}")))
}

/// Attendance `id` with its stop and drive.
///
/// # Errors
/// [`CheckinError::NotFound`]; the database fails.
pub async fn find(
    db: &DatabaseConnection,
    id: i64,
) -> Result<(attendance::Model, drive_stop::Model, drive::Model), CheckinError> {
    let current = store::find(db, id)
        .await?
        .ok_or_else(|| CheckinError::NotFound(format!("no attendance with id {id}")))?;
    let (stop, drive) = store::find_stop(db, current.stop_id)
        .await?
        .ok_or_else(|| CheckinError::corrupt("attendance", id, "its stop is gone"))?;
    Ok((current, stop, drive))
}

/// The attendances of a stop, in check-in order.
///
/// # Errors
/// The database fails.
pub async fn at_stop(
    db: &DatabaseConnection,
    stop_id: i64,
) -> Result<Vec<attendance::Model>, CheckinError> {
    Ok(store::at_stop(db, stop_id).await?)
}

/// `Conflict` unless people can be checked in at `drive` now: it is published or in
/// progress, and its day (China time) has come.
///
/// # Errors
/// [`CheckinError::Conflict`] saying why not.
pub fn open_for_check_in(drive: &drive::Model, now: DateTime<Utc>) -> Result<(), CheckinError> {
    let status = status_of(drive)?;
    if matches!(status, DriveStatus::Published | DriveStatus::InProgress) {
        crate::domain::drive::day_allows(DayBound::CheckIn, drive.date, today_in_china(now))
            .map_err(CheckinError::Conflict)
    } else {
        Err(CheckinError::Conflict(format!(
            "drive {} is {status}: people are checked in while it is published or in progress",
            drive.id
        )))
    }
}

/// Whether someone of `role` may change the results of `drive` now: `Ok(true)` for a
/// correction of a completed drive's results (admins only), `Ok(false)` for an edit before
/// completion.
///
/// # Errors
/// [`CheckinError::Forbidden`] for non-admins once completed; [`CheckinError::Conflict`] once
/// cancelled.
pub fn editable(drive: &drive::Model, role: Role) -> Result<bool, CheckinError> {
    match status_of(drive)? {
        DriveStatus::Completed if role == Role::Admin => Ok(true),
        DriveStatus::Completed => Err(CheckinError::Forbidden(format!(
            "drive {} is completed: its results are locked, and only an admin corrects them",
            drive.id
        ))),
        DriveStatus::Cancelled => Err(CheckinError::Conflict(format!(
            "drive {} was cancelled",
            drive.id
        ))),
        _ => Ok(false),
    }
}

/// The check-in screen of a stop, as data: its active bookings (each with how many of its
/// people have checked in), everyone checked in so far, and whether the desk is open.
#[derive(Debug)]
pub struct Screen {
    /// Whether people can be checked in now.
    pub open: bool,
    /// Active bookings in id order, each with its slots and how many have checked in.
    pub bookings: Vec<(BookingWithSlots, u64)>,
    /// In check-in order, mobiles whole.
    pub attendances: Vec<attendance::Model>,
}

/// The check-in screen of `stop` (of `drive`) at `now`.
///
/// # Errors
/// The database fails; a stored drive status does not read back.
pub async fn screen(
    db: &DatabaseConnection,
    stop: &drive_stop::Model,
    drive: &drive::Model,
    now: DateTime<Utc>,
) -> Result<Screen, CheckinError> {
    let rows = store::at_stop(db, stop.id).await?;
    let mut checked_in: BTreeMap<i64, u64> = BTreeMap::new();
    for a in &rows {
        if let Some(b) = a.booking_id {
            *checked_in.entry(b).or_insert(0) += 1;
        }
    }
    let bookings = store::active_bookings_at(db, stop.id)
        .await?
        .into_iter()
        .map(|b| {
            let n = checked_in.get(&b.0.id).copied().unwrap_or(0);
            (b, n)
        })
        .collect();
    let status = status_of(drive)?;
    Ok(Screen {
        open: matches!(status, DriveStatus::Published | DriveStatus::InProgress)
            && open_for_check_in(drive, now).is_ok(),
        bookings,
        attendances: rows,
    })
}

/// Checks someone in at `stop` (of `drive`): booked (`booking_code`; an individual booking's
/// name and mobile by default; a group booking admits up to its headcount, each with a
/// `name`) or walk-in (`name`, `mobile` optional), with the village of residence and the
/// outcome when already known. In one write transaction with its audit record.
///
/// # Errors
/// [`CheckinError::Invalid`] naming every faulty field (faults in the request before whether
/// the booking admits them); [`CheckinError::Conflict`] when the drive is not open, the
/// booking is cancelled, for another stop or fully checked in, or the mobile was checked in
/// here already; the database fails.
pub async fn check_in(
    db: &DatabaseConnection,
    stop: &drive_stop::Model,
    drive: &drive::Model,
    cmd: CheckIn,
    staff: &Staff<'_>,
    now: DateTime<Utc>,
) -> Result<attendance::Model, CheckinError> {
    open_for_check_in(drive, now)?;
    let mut errors = FieldErrors::default();
    validation::check(&cmd, &mut errors);
    let record = parse_outcome(
        &mut FieldErrors::default(),
        cmd.outcome.as_deref(),
        cmd.deferral_category.as_deref(),
        cmd.volume_ml,
        cmd.abo.as_deref(),
        cmd.rh.as_deref(),
    );
    check_outcome(&mut errors, &record);
    let mobile = cmd
        .mobile
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .and_then(|m| MobileNumber::parse(m).ok());
    let village_code = village(db, &mut errors, cmd.village_code.as_deref()).await?;
    // The name as kept (its faults were named by the field rules).
    let name = text::clean(cmd.name.clone(), MAX_NAME, false)
        .ok()
        .flatten();
    let name_required = |errors: &mut FieldErrors, required: bool| {
        if required && name.is_none() && !errors.has("name") {
            errors.add("name", "is required");
        }
        name.clone()
    };
    // As the donor reads it out: case, spaces and hyphens do not matter.
    let code = cmd
        .booking_code
        .as_deref()
        .map(normalise_code)
        .filter(|c| !c.is_empty());
    let txn = crate::db::begin_write(db).await?;
    // The drive again, its row share-locked: a check-in lands before the drive is completed or
    // cancelled, or sees that it was.
    let drive = drives::lock_shared(&txn, drive.id)
        .await?
        .ok_or_else(|| CheckinError::NotFound(format!("no stop with id {}", stop.id)))?;
    open_for_check_in(&drive, now)?;
    let (kind, booking_id, name, mobile) = match &code {
        None => {
            let name = name_required(&mut errors, true);
            (
                AttendanceKind::WalkIn,
                None,
                name,
                mobile.map(|m| m.as_str().to_owned()),
            )
        }
        Some(code) => {
            // A booking at a stop beyond the caller's read scope does not exist for them: the
            // same answer as for a code nobody has, not "for another stop (id)".
            let booking = match store::lock_booking_by_code(&txn, code).await? {
                Some(b) if b.stop_id != stop.id => {
                    let visible = match store::find_stop(&txn, b.stop_id).await? {
                        Some((s, d)) => staff.reads(&d.region_code) && staff.reads(&s.region_code),
                        None => false,
                    };
                    visible.then_some(b)
                }
                found => found,
            };
            let Some(booking) = booking else {
                errors.add("booking_code", format!("no booking with code {code}"));
                return Err(CheckinError::Invalid(errors.0));
            };
            // Each person of a group needs their own name; a person's booking names them.
            let group = booking.kind == BookingKind::Group.as_str();
            let name = name_required(&mut errors, group)
                .or_else(|| (!group).then(|| booking.name.clone()));
            let mobile = match mobile {
                Some(m) => Some(m.as_str().to_owned()),
                None if !group => booking.mobile.clone(),
                None => None,
            };
            // Faults in the request first (400), then whether the booking admits them (409).
            checked(std::mem::take(&mut errors))?;
            if booking.stop_id != stop.id {
                return Err(CheckinError::Conflict(format!(
                    "booking {code} is for another stop ({}), not stop {}",
                    booking.stop_id, stop.id
                )));
            }
            if booking.status != BookingStatus::Active.as_str() {
                return Err(CheckinError::Conflict(format!(
                    "booking {code} is {}",
                    booking.status
                )));
            }
            let done = store::count_for_booking(&txn, booking.id).await?;
            if done >= u64::try_from(booking.headcount).unwrap_or(0) {
                return Err(CheckinError::Conflict(format!(
                    "booking {code} is fully checked in ({done} of {})",
                    booking.headcount
                )));
            }
            (AttendanceKind::Booked, Some(booking.id), name, mobile)
        }
    };
    if cmd.consent {
        if mobile.is_none() && !errors.has("mobile") {
            errors.add("mobile", "is required to join the roster (consent)");
        }
        if village_code.is_none() && !errors.has("village_code") {
            errors.add("village_code", "is required to join the roster (consent)");
        }
    }
    checked(errors)?;
    let name = name.ok_or_else(|| CheckinError::invalid("name", "a name is needed"))?;
    // One person, one check-in a stop: a mobile seen here already is the same person.
    if let Some(mobile) = &mobile
        && let Some(earlier) = store::with_mobile_at(&txn, stop.id, mobile).await?
    {
        return Err(CheckinError::Conflict(format!(
            "this mobile was checked in at stop {} already (attendance {}); correct that record instead",
            stop.id, earlier.id
        )));
    }
    let created = store::insert(
        &txn,
        NewAttendance {
            stop_id: stop.id,
            booking_id,
            kind,
            name,
            mobile,
            village_code,
            outcome: record.outcome.unwrap_or(Outcome::Registered),
            deferral_category: record.deferral_category.map(|c| c.as_str().to_owned()),
            volume_ml: record.volume_ml,
            abo: record.abo.map(|a| a.as_str().to_owned()),
            rh: record.rh.map(|r| r.as_str().to_owned()),
            by: staff.actor.name.clone(),
        },
        now,
    )
    .await?;
    audit::record(
        &txn,
        Change {
            entity: "attendance",
            entity_id: created.id.to_string(),
            action: "create",
            region_code: Some(drive.region_code.clone()),
            before: None,
            after: Some(&audited(&created)),
            actor: staff.actor.clone(),
            at: now,
        },
    )
    .await?;
    on_roster(&txn, &created, drive.date, cmd.consent, staff, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Records an outcome or corrects `current` (of `drive`), expected at version `expected`.
/// Until the drive is completed its staff edit; once completed only admins correct it,
/// audited as `correct` with the record before and after. Every field is checked before the
/// version (a faulty change is refused even when stale).
///
/// # Errors
/// [`CheckinError::Forbidden`] / [`CheckinError::Conflict`] as [`editable`];
/// [`CheckinError::Invalid`] naming every faulty field; the database fails.
pub async fn update(
    db: &DatabaseConnection,
    current: attendance::Model,
    drive: &drive::Model,
    expected: i32,
    change: AttendanceChange,
    staff: &Staff<'_>,
    now: DateTime<Utc>,
) -> Result<Written<attendance::Model>, CheckinError> {
    let role = staff.principal.role;
    editable(drive, role)?;
    let id = current.id;
    let edit = merge(db, &current, change, staff).await?;
    versioned::update(
        db,
        current,
        expected,
        async |_: &attendance::Model| Ok(edit),
        async |txn: &DatabaseTransaction, current: &attendance::Model, edit: AttendanceEdit| {
            // The drive again, share-locked: an edit lands before the drive is completed, or
            // is a correction of its final results.
            let drive = drives::lock_shared(txn, drive.id)
                .await?
                .ok_or_else(|| CheckinError::NotFound(format!("no attendance with id {id}")))?;
            let correcting = editable(&drive, role)?;
            let Some(written) = store::update_if_version(txn, id, expected, edit, now).await?
            else {
                return Ok(None);
            };
            audit::record(
                txn,
                Change {
                    entity: "attendance",
                    entity_id: id.to_string(),
                    action: if correcting { "correct" } else { "update" },
                    region_code: Some(drive.region_code.clone()),
                    before: Some(&audited(current)),
                    after: Some(&audited(&written)),
                    actor: staff.actor.clone(),
                    at: now,
                },
            )
            .await?;
            on_roster(txn, &written, drive.date, false, staff, now).await?;
            if correcting {
                tracing::info!(
                    attendance_id = id,
                    drive_id = drive.id,
                    "completed results corrected"
                );
            }
            Ok(Some(written))
        },
        async || {
            store::find(db, id)
                .await?
                .ok_or_else(|| CheckinError::NotFound(format!("no attendance with id {id}")))
        },
    )
    .await
}

/// The roster after a check-in or an outcome: a donor who consented joins it (or renews their
/// consent), and a donation is recorded as the last of a donor on it.
async fn on_roster(
    txn: &impl sea_orm::ConnectionTrait,
    attendance: &attendance::Model,
    day: chrono::NaiveDate,
    consent: bool,
    staff: &Staff<'_>,
    now: DateTime<Utc>,
) -> Result<(), CheckinError> {
    use crate::domain::recruitment::DonationKind;
    use crate::recruitment::{Acting, RecruitmentError, roster};
    let donated = attendance.outcome == Outcome::Donated.as_str();
    let Some(mobile) = attendance.mobile.as_deref() else {
        return Ok(());
    };
    let failed = |e: RecruitmentError| match e {
        RecruitmentError::Db(e) => CheckinError::Db(e),
        RecruitmentError::Invalid(errors) => CheckinError::Invalid(errors),
        other => CheckinError::Corrupt(format!("roster: {other}")),
    };
    if consent && let Some(village_code) = &attendance.village_code {
        let blood_group = attendance
            .abo
            .as_deref()
            .zip(attendance.rh.as_deref())
            .map(|(a, r)| format!("{a}{r}"));
        roster::enrol_at_check_in(
            txn,
            roster::NewDonor {
                name: attendance.name.clone(),
                mobile: mobile.to_owned(),
                blood_group,
                village_code: village_code.clone(),
                last_donation_on: donated.then_some(day),
                last_donation_kind: donated.then(|| DonationKind::WholeBlood.as_str().to_owned()),
                consent_at: Some(now),
                consent_channel: crate::domain::recruitment::ConsentChannel::CheckIn
                    .as_str()
                    .to_owned(),
                consent_wording: None,
            },
            &Acting::trusted(staff.actor.clone()),
            staff.public_url,
            now,
        )
        .await
        .map_err(failed)?;
    } else if donated {
        roster::record_donation(txn, mobile, day, DonationKind::WholeBlood, now)
            .await
            .map_err(failed)?;
    }
    Ok(())
}

/// `change` over `current`, checked: every faulty field named at once.
async fn merge(
    db: &DatabaseConnection,
    current: &attendance::Model,
    change: AttendanceChange,
    staff: &Staff<'_>,
) -> Result<AttendanceEdit, CheckinError> {
    let mut errors = FieldErrors::default();
    validation::check(&change, &mut errors);
    let given = |v: &Option<Option<String>>, old: &Option<String>| match v {
        Some(new) => new.clone(),
        None => old.clone(),
    };
    let outcome_raw = change
        .outcome
        .clone()
        .unwrap_or_else(|| current.outcome.clone());
    let mut category = given(&change.deferral_category, &current.deferral_category);
    let mut volume = change.volume_ml.unwrap_or(current.volume_ml);
    let record_outcome: Option<Outcome> = outcome_raw.trim().parse().ok();
    if change.outcome.is_some() {
        if change.deferral_category.is_none() && record_outcome != Some(Outcome::Deferred) {
            category = None;
        }
        if change.volume_ml.is_none() && record_outcome != Some(Outcome::Donated) {
            volume = None;
        }
    }
    let abo = given(&change.abo, &current.abo);
    let rh = given(&change.rh, &current.rh);
    // The merged values parsed; what was sent was checked by the field rules already, so
    // only stored values that do not read back add here.
    let mut merged = FieldErrors::default();
    let record = parse_outcome(
        &mut merged,
        Some(&outcome_raw),
        category.as_deref(),
        volume,
        abo.as_deref(),
        rh.as_deref(),
    );
    for e in merged.0 {
        if !errors.has(&e.field) {
            errors.0.push(e);
        }
    }
    check_outcome(&mut errors, &record);
    let name = match &change.name {
        Some(raw) => text::clean(Some(raw.clone()), MAX_NAME, false)
            .ok()
            .flatten(),
        None => Some(current.name.clone()),
    };
    let village_code = match &change.village_code {
        Some(raw) => village(db, &mut errors, raw.as_deref()).await?,
        None => current.village_code.clone(),
    };
    checked(errors)?;
    Ok(AttendanceEdit {
        name: name.unwrap_or_else(|| current.name.clone()),
        village_code,
        outcome: record.outcome.unwrap_or(Outcome::Registered),
        deferral_category: record.deferral_category.map(|c| c.as_str().to_owned()),
        volume_ml: record.volume_ml,
        abo: record.abo.map(|a| a.as_str().to_owned()),
        rh: record.rh.map(|r| r.as_str().to_owned()),
        by: staff.actor.name.clone(),
    })
}

// ---------------------------------------------------------------------------------------------
// The desk (the station's check-in pages): the same use cases with the policy asked here, as
// the API's handlers ask it before calling.

/// `NotFound` unless `staff` reads `region_code`; `Forbidden` unless they may also `action` it.
fn authorize(
    staff: &Staff<'_>,
    action: crate::domain::policy::Action,
    region_code: &str,
    what: &str,
) -> Result<(), CheckinError> {
    use crate::domain::policy::{self, Action, Decision, Resource};
    let Ok(code) = RegionCode::parse(region_code) else {
        return Err(CheckinError::NotFound(format!("no {what}")));
    };
    let can = |a: Action| policy::can(Some(staff.principal), a, Resource::Plan(&code));
    if can(Action::Read) != Decision::Allow {
        return Err(CheckinError::NotFound(format!("no {what}")));
    }
    if action != Action::Read && can(action) != Decision::Allow {
        return Err(CheckinError::Forbidden(format!(
            "only the station's staff of this region check people in ({what})"
        )));
    }
    Ok(())
}

/// The policy for `action` on `stop` of `drive`: the drive's region and the stop's site.
fn authorize_stop(
    staff: &Staff<'_>,
    action: crate::domain::policy::Action,
    stop: &drive_stop::Model,
    drive: &drive::Model,
) -> Result<(), CheckinError> {
    let what = format!("stop with id {}", stop.id);
    authorize(staff, action, &drive.region_code, &what)?;
    authorize(staff, action, &stop.region_code, &what)
}

/// A stop's check-in desk: the stop, its drive, the check-in screen and its results so far
/// against the forecast.
#[derive(Debug)]
pub struct Desk {
    pub stop: drive_stop::Model,
    pub drive: drive::Model,
    pub screen: Screen,
    pub results: crate::domain::attendance::StopResults,
}

/// The check-in desk of stop `id` for `staff` (who must be able to check people in there, as
/// for the API's check-in screen): 404 outside their read scope, 403 outside their write scope.
///
/// # Errors
/// [`CheckinError::NotFound`], [`CheckinError::Forbidden`]; the database fails.
pub async fn desk(
    db: &DatabaseConnection,
    id: i64,
    staff: &Staff<'_>,
    now: DateTime<Utc>,
) -> Result<Desk, CheckinError> {
    let (stop, drive) = find_stop(db, id).await?;
    authorize_stop(staff, crate::domain::policy::Action::Update, &stop, &drive)?;
    let screen = screen(db, &stop, &drive, now).await?;
    let attended = screen
        .attendances
        .iter()
        .map(attended)
        .collect::<Result<Vec<_>, _>>()?;
    let places: u64 = screen
        .bookings
        .iter()
        .map(|((b, _), _)| u64::try_from(b.headcount).unwrap_or(0))
        .sum();
    let results =
        crate::domain::attendance::StopResults::compute(&attended, places, stop.expected_donors);
    Ok(Desk {
        stop,
        drive,
        screen,
        results,
    })
}

/// Checks someone in at stop `id` ([`check_in`]) for `staff`, who must be able to (as the API
/// asks before calling it).
///
/// # Errors
/// As [`check_in`]; [`CheckinError::NotFound`] / [`CheckinError::Forbidden`] by the policy.
pub async fn check_in_at(
    db: &DatabaseConnection,
    id: i64,
    cmd: CheckIn,
    staff: &Staff<'_>,
    now: DateTime<Utc>,
) -> Result<attendance::Model, CheckinError> {
    let (stop, drive) = find_stop(db, id).await?;
    authorize_stop(staff, crate::domain::policy::Action::Create, &stop, &drive)?;
    check_in(db, &stop, &drive, cmd, staff, now).await
}

/// Records an outcome of attendance `id` at stop `stop_id` ([`update`]) at version
/// `expected`, for `staff`, who must be able to (as the API asks before calling it).
///
/// # Errors
/// As [`update`]; [`CheckinError::NotFound`] for an attendance of another stop, or by the
/// policy as [`CheckinError::Forbidden`].
pub async fn record_outcome(
    db: &DatabaseConnection,
    stop_id: i64,
    id: i64,
    expected: i32,
    change: AttendanceChange,
    staff: &Staff<'_>,
    now: DateTime<Utc>,
) -> Result<Written<attendance::Model>, CheckinError> {
    let (current, stop, drive) = find(db, id).await?;
    if stop.id != stop_id {
        return Err(CheckinError::NotFound(format!(
            "no attendance with id {id} at stop {stop_id}"
        )));
    }
    authorize_stop(staff, crate::domain::policy::Action::Update, &stop, &drive)?;
    update(db, current, &drive, expected, change, staff, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(cmd: &impl Validate) -> Vec<(String, String)> {
        let mut errors = FieldErrors::default();
        validation::check(cmd, &mut errors);
        errors.0.into_iter().map(|e| (e.field, e.message)).collect()
    }

    #[test]
    fn check_in_field_rules_name_every_faulty_field() {
        let cmd = CheckIn {
            name: Some("x".repeat(MAX_NAME + 1)),
            mobile: Some("12345".to_owned()),
            village_code: Some("99".to_owned()),
            outcome: Some("fainted".to_owned()),
            abo: Some("C".to_owned()),
            rh: Some("positive".to_owned()),
            ..CheckIn::default()
        };
        let fields: Vec<String> = faults(&cmd).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["abo", "mobile", "name", "outcome", "rh", "village_code"]
        );
        let village = faults(&cmd)
            .into_iter()
            .find(|(f, _)| f == "village_code")
            .unwrap();
        assert_eq!(village.1, "must be a 12-digit village code");
    }

    #[test]
    fn blank_values_are_absent_and_a_walk_in_name_is_required_later() {
        let cmd = CheckIn {
            name: Some("  ".to_owned()),
            mobile: Some(" ".to_owned()),
            village_code: Some(String::new()),
            ..CheckIn::default()
        };
        assert!(faults(&cmd).is_empty());
    }

    #[test]
    fn a_changed_name_may_not_be_blank_and_cleared_members_pass() {
        let change = AttendanceChange {
            name: Some(" ".to_owned()),
            village_code: Some(None),
            deferral_category: Some(Some("tired".to_owned())),
            abo: Some(None),
            ..AttendanceChange::default()
        };
        let found = faults(&change);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[1], ("name".to_owned(), "is required".to_owned()));
        assert_eq!(found[0].0, "deferral_category");
    }

    #[test]
    fn outcome_rules_across_fields_skip_fields_with_their_own_fault() {
        let mut errors = FieldErrors::default();
        errors.add("deferral_category", "unknown");
        let record = OutcomeRecord {
            outcome: Some(Outcome::Deferred),
            deferral_category: None,
            volume_ml: Some(250),
            abo: None,
            rh: None,
        };
        check_outcome(&mut errors, &record);
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["deferral_category", "volume_ml"]);
    }
}
