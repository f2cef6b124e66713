//! The bookings' commands: what a person, a group or staff ask for, as the service takes it
//! (the API converts its request bodies into these). Their field rules are declared with
//! `validator` and run by [`crate::validation::check`]; the messages and field paths are those
//! the answers always gave (`mobile`, `contact_mobile`, `slot`, `preferred_slots[1]`, …), and
//! every broken field is named at once, in the order of the command's members.
//!
//! The rules that also clean (text trimmed, a mobile or a blood type in its canonical form, a
//! slot as minutes) report through the custom functions here; the service cleans with the same
//! functions once the command is valid.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use validator::Validate;

use crate::domain::booking::{BloodType, MAX_HEADCOUNT};
use crate::domain::point::MobileNumber;
use crate::domain::region::RegionCode;
use crate::error::FieldErrors;
use crate::geo::{Crs, Wgs84Point};
use crate::validation::{self, ValidationError, ValidationErrors};

/// A person's booking of a slot (`POST /api/v1/public/stops/{id}/bookings`).
#[derive(Debug, Clone, Validate)]
pub struct PersonBooking {
    #[validate(custom(function = "person_name"))]
    pub name: String,
    /// Mainland mobile.
    #[validate(custom(function = "mobile"))]
    pub mobile: String,
    /// A, B, AB or O with + or - (`O+`, `AB型阴性`); blank for unknown.
    #[validate(custom(function = "blood_type_rule"))]
    pub blood_type: Option<String>,
    /// The slot's start, `HH:MM`.
    #[validate(custom(function = "slot_start"))]
    pub slot: String,
    /// The tracking code of the appeal whose link the donor followed (`via=CODE`); an
    /// unknown code is ignored, not an error.
    pub via: Option<String>,
}

/// A group's booking (`POST /api/v1/public/stops/{id}/group-bookings`).
#[derive(Debug, Clone, Validate)]
pub struct GroupBooking {
    #[validate(custom(function = "organisation"))]
    pub organisation: String,
    #[validate(custom(function = "person_name"))]
    pub contact_name: String,
    #[validate(custom(function = "mobile"))]
    pub contact_mobile: String,
    #[validate(custom(function = "headcount"))]
    pub headcount: i32,
    /// Slot starts the group can come at; empty for any slot not begun.
    #[validate(nested)]
    pub preferred_slots: Vec<SlotStart>,
    /// The tracking code of the appeal whose link the contact followed (`via=CODE`), as for
    /// a person's booking; an unknown code is ignored.
    pub via: Option<String>,
}

/// A move: a person's new `slot`, or a group's new `preferred_slots` (which of the two
/// depends on the booking; checked with it, see [`Move::slots_for`]).
#[derive(Debug, Clone, Default)]
pub struct Move {
    pub slot: Option<String>,
    pub preferred_slots: Option<Vec<String>>,
}

/// Staff cancel one booking, or decline a group request.
#[derive(Debug, Clone, Default, Validate)]
pub struct StaffCancel {
    /// Told to the person and kept in the audit log.
    #[validate(custom(function = "reason_rule"))]
    pub reason: Option<String>,
}

/// Staff move one booking.
#[derive(Debug, Clone, Default)]
pub struct StaffMove {
    pub slots: Move,
    /// Kept in the audit log.
    pub reason: Option<String>,
}

/// Staff confirm a group request, over these slots instead of the ones it asked for.
#[derive(Debug, Clone, Default, Validate)]
pub struct Confirm {
    #[validate(nested)]
    pub preferred_slots: Option<Vec<SlotStart>>,
}

/// One slot start, `HH:MM`, of a list (named by its index: `preferred_slots[2]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotStart(pub String);

impl From<String> for SlotStart {
    fn from(raw: String) -> Self {
        SlotStart(raw)
    }
}

impl Validate for SlotStart {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let Err(e) = slot_start(&self.0) {
            // Filed under the item itself: its path is `preferred_slots[i]`.
            errors.add("__all__", e);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn text(value: &str, max_chars: usize) -> Result<(), ValidationError> {
    match crate::domain::text::clean(Some(value.to_owned()), max_chars, false) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(validation::error("required", "is required")),
        Err(message) => Err(validation::error("text", message)),
    }
}

fn person_name(value: &str) -> Result<(), ValidationError> {
    text(value, 50)
}

fn organisation(value: &str) -> Result<(), ValidationError> {
    text(value, 200)
}

fn reason_rule(value: &str) -> Result<(), ValidationError> {
    crate::domain::text::clean(Some(value.to_owned()), 200, false)
        .map(|_| ())
        .map_err(|message| validation::error("text", message))
}

fn mobile(value: &str) -> Result<(), ValidationError> {
    MobileNumber::parse(value)
        .map(|_| ())
        .map_err(|m| validation::error("mobile", m))
}

fn blood_type_rule(value: &str) -> Result<(), ValidationError> {
    match value.trim() {
        "" => Ok(()),
        raw => BloodType::parse(raw)
            .map(|_| ())
            .map_err(|m| validation::error("blood_type", m)),
    }
}

fn slot_start(value: &str) -> Result<(), ValidationError> {
    crate::domain::fleet::TimeOfDay::parse(value)
        .map(|_| ())
        .map_err(|m| validation::error("slot", m))
}

fn headcount(value: i32) -> Result<(), ValidationError> {
    if (2..=MAX_HEADCOUNT).contains(&value) {
        return Ok(());
    }
    Err(validation::error(
        "range",
        format!("must be between 2 and {MAX_HEADCOUNT} (one person books alone)"),
    ))
}

/// Runs `cmd`'s rules; the broken fields in the order of `members` (items by index).
fn check_in_order(cmd: &impl Validate, members: &[&str], errors: &mut FieldErrors) {
    let mut found = FieldErrors::default();
    validation::check(cmd, &mut found);
    let rank = |field: &str| {
        let head = field.split(['[', '.']).next().unwrap_or(field);
        members
            .iter()
            .position(|m| *m == head)
            .unwrap_or(members.len())
    };
    found.0.sort_by_key(|e| rank(&e.field));
    errors.0.extend(found.0);
}

/// Cleaned text (trimmed); `None` when blank.
fn cleaned(value: &str, max_chars: usize) -> Option<String> {
    crate::domain::text::clean(Some(value.to_owned()), max_chars, false)
        .ok()
        .flatten()
}

/// `HH:MM` as minutes.
pub(crate) fn minutes(raw: &str) -> Option<i32> {
    crate::domain::fleet::TimeOfDay::parse(raw)
        .ok()
        .map(|t| t.minutes())
}

fn canonical_mobile(raw: &str) -> Option<String> {
    MobileNumber::parse(raw).ok().map(|m| m.as_str().to_owned())
}

/// A list's slot starts as minutes; each one that repeats an earlier one named
/// (`preferred_slots[2]`: "names a slot twice"). Items that do not parse were named by the
/// field rules and are left out.
fn distinct_slots(raw: &[SlotStart], errors: &mut FieldErrors) -> Vec<i32> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, item) in raw.iter().enumerate() {
        if let Some(m) = minutes(&item.0) {
            if out.contains(&m) {
                errors.add(&format!("preferred_slots[{i}]"), "names a slot twice");
            }
            out.push(m);
        }
    }
    out
}

/// Every field error of a list of slot starts: the format of each, then the repeats, by
/// index.
fn slot_list(raw: &[SlotStart], errors: &mut FieldErrors) -> Vec<i32> {
    let mut found = FieldErrors::default();
    validation::check(&raw.to_vec(), &mut found);
    // `validator` files a bare list's items under a name of its own: use ours.
    for e in &mut found.0 {
        if let Some(at) = e.field.find('[') {
            e.field = format!("preferred_slots{}", &e.field[at..]);
        }
    }
    let slots = distinct_slots(raw, &mut found);
    found.0.sort_by_key(|e| index_of(&e.field));
    errors.0.extend(found.0);
    slots
}

fn index_of(field: &str) -> usize {
    field
        .split_once('[')
        .and_then(|(_, rest)| rest.trim_end_matches(']').parse().ok())
        .unwrap_or(usize::MAX)
}

/// A valid person's booking, cleaned.
#[derive(Debug, Clone)]
pub struct PersonRequest {
    pub name: String,
    pub mobile: String,
    pub blood_type: Option<String>,
    /// Minutes after midnight.
    pub slot: i32,
    /// The appeal's tracking code as given (see [`PersonBooking::via`]).
    pub via: Option<String>,
}

/// A valid group's booking, cleaned.
#[derive(Debug, Clone)]
pub struct GroupRequest {
    pub organisation: String,
    pub contact_name: String,
    pub contact_mobile: String,
    pub headcount: i32,
    /// Slot starts (minutes) in order of preference; empty for any.
    pub preferred: Vec<i32>,
    /// The appeal's tracking code as given (see [`GroupBooking::via`]).
    pub via: Option<String>,
}

impl PersonBooking {
    /// Checks every field and cleans them.
    ///
    /// # Errors
    /// Every broken field, in the order of the members.
    pub fn checked(self) -> Result<PersonRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        check_in_order(
            &self,
            &["name", "mobile", "blood_type", "slot"],
            &mut errors,
        );
        if !errors.0.is_empty() {
            return Err(errors);
        }
        let blood_type = match self.blood_type.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => BloodType::parse(raw).ok().map(|b| b.as_str().to_owned()),
        };
        match (
            cleaned(&self.name, 50),
            canonical_mobile(&self.mobile),
            minutes(&self.slot),
        ) {
            (Some(name), Some(mobile), Some(slot)) => Ok(PersonRequest {
                name,
                mobile,
                blood_type,
                slot,
                via: self.via,
            }),
            _ => unreachable!("the field rules passed"),
        }
    }
}

impl GroupBooking {
    /// Checks every field (each preferred slot named by its index) and cleans them.
    ///
    /// # Errors
    /// Every broken field, in the order of the members.
    pub fn checked(self) -> Result<GroupRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        check_in_order(
            &self,
            &[
                "organisation",
                "contact_name",
                "contact_mobile",
                "headcount",
                "preferred_slots",
            ],
            &mut errors,
        );
        let preferred = distinct_slots(&self.preferred_slots, &mut errors);
        if !errors.0.is_empty() {
            // The repeats after the other `preferred_slots` faults, by index, as before.
            let (slots, mut rest): (Vec<_>, Vec<_>) = errors
                .0
                .into_iter()
                .partition(|e| e.field.starts_with("preferred_slots["));
            let mut slots = slots;
            slots.sort_by_key(|e| index_of(&e.field));
            rest.extend(slots);
            return Err(FieldErrors(rest));
        }
        match (
            cleaned(&self.organisation, 200),
            cleaned(&self.contact_name, 50),
            canonical_mobile(&self.contact_mobile),
        ) {
            (Some(organisation), Some(contact_name), Some(contact_mobile)) => Ok(GroupRequest {
                organisation,
                contact_name,
                contact_mobile,
                headcount: self.headcount,
                preferred,
                via: self.via,
            }),
            _ => unreachable!("the field rules passed"),
        }
    }
}

impl Move {
    /// The slots asked for, as minutes, for a booking of `kind`: a person's `slot` (required;
    /// `preferred_slots` refused), a group's `preferred_slots` (`slot` refused).
    ///
    /// # Errors
    /// Every broken field.
    pub fn slots_for(&self, individual: bool) -> Result<Vec<i32>, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut slots = Vec::new();
        if individual {
            if self.preferred_slots.is_some() {
                errors.add("preferred_slots", "is for group bookings; send slot");
            }
            match self.slot.as_deref() {
                Some(raw) => match slot_start(raw) {
                    Ok(()) => slots.extend(minutes(raw)),
                    Err(e) => errors.add("slot", e.message.unwrap_or_default()),
                },
                None => errors.add("slot", "is required"),
            }
        } else {
            if self.slot.is_some() {
                errors.add("slot", "is for one person; send preferred_slots");
            }
            let raw: Vec<SlotStart> = self
                .preferred_slots
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(SlotStart)
                .collect();
            slots = slot_list(&raw, &mut errors);
        }
        if errors.0.is_empty() {
            Ok(slots)
        } else {
            Err(errors)
        }
    }
}

impl StaffCancel {
    /// The reason, cleaned; `None` when blank.
    ///
    /// # Errors
    /// A reason too long or with control characters (`reason`).
    pub fn checked(self) -> Result<Option<String>, FieldErrors> {
        let mut errors = FieldErrors::default();
        validation::check(&self, &mut errors);
        if !errors.0.is_empty() {
            return Err(errors);
        }
        Ok(self.reason.as_deref().and_then(|r| cleaned(r, 200)))
    }
}

impl Confirm {
    /// The slots to spread the group over, as minutes (`None`: those it asked for).
    ///
    /// # Errors
    /// Each bad or repeated slot, named by its index.
    pub fn checked(self) -> Result<Option<Vec<i32>>, FieldErrors> {
        let Some(raw) = self.preferred_slots else {
            return Ok(None);
        };
        let mut errors = FieldErrors::default();
        let slots = slot_list(&raw, &mut errors);
        if errors.0.is_empty() {
            Ok(Some(slots))
        } else {
            Err(errors)
        }
    }
}

/// The public schedule's query (`GET /api/v1/public/drives`).
#[derive(Debug, Clone, Default)]
pub struct ScheduleQuery {
    /// `lon,lat` (WGS-84): only stops within `radius_km`.
    pub near: Option<String>,
    /// With `near`: km (default 30, at most 200).
    pub radius_km: Option<f64>,
    /// First date (default today, China time).
    pub from: Option<NaiveDate>,
    /// Last date (default 30 days on; at most 92 days after `from`).
    pub to: Option<NaiveDate>,
    /// `json` (default) or `ics`.
    pub format: Option<String>,
    /// Only stops in this region (a county's or township's 12-digit code, say).
    pub region: Option<String>,
}

const DEFAULT_RADIUS_KM: f64 = 30.0;
const MAX_RADIUS_KM: f64 = 200.0;
const DEFAULT_DAYS: i64 = 30;
const MAX_DAYS: i64 = 92;

/// The schedule's query with its defaults filled in: what the rules check. (Two rules across
/// fields, each naming its own field, so both are told at once.)
#[allow(clippy::duplicated_attributes)]
#[derive(Debug, Clone, Validate)]
#[validate(schema(function = "window_rule", skip_on_field_errors = false))]
#[validate(schema(function = "radius_rule", skip_on_field_errors = false))]
struct Window {
    #[validate(custom(function = "format_rule"))]
    format: Option<String>,
    from: NaiveDate,
    to: NaiveDate,
    #[validate(custom(function = "near_rule"))]
    near: Option<String>,
    radius_km: Option<f64>,
    #[validate(custom(function = "validation::region_code"))]
    region: Option<String>,
}

fn format_rule(value: &str) -> Result<(), ValidationError> {
    match value {
        "json" | "ics" => Ok(()),
        other => Err(validation::error(
            "format",
            format!("must be json or ics, not {other:?}"),
        )),
    }
}

fn window_rule(w: &Window) -> Result<(), ValidationError> {
    if w.to < w.from {
        return Err(validation::across("to", "must not be before from"));
    }
    if (w.to - w.from).num_days() > MAX_DAYS {
        return Err(validation::across(
            "to",
            format!("must be at most {MAX_DAYS} days after from"),
        ));
    }
    Ok(())
}

fn radius_rule(w: &Window) -> Result<(), ValidationError> {
    match (&w.near, w.radius_km) {
        (None, Some(_)) => Err(validation::across("radius_km", "applies with near=lon,lat")),
        (Some(_), radius) => {
            let radius = radius.unwrap_or(DEFAULT_RADIUS_KM);
            if radius > 0.0 && radius <= MAX_RADIUS_KM {
                Ok(())
            } else {
                Err(validation::across(
                    "radius_km",
                    format!("must be above 0 and at most {MAX_RADIUS_KM}"),
                ))
            }
        }
        (None, None) => Ok(()),
    }
}

/// `lon,lat` in WGS-84.
fn centre(raw: &str) -> Option<Wgs84Point> {
    let values: Vec<f64> = raw
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    match values[..] {
        [lon, lat] if lon.is_finite() && lat.is_finite() => {
            Wgs84Point::from_crs(lon, lat, Crs::Wgs84).ok()
        }
        _ => None,
    }
}

fn near_rule(value: &str) -> Result<(), ValidationError> {
    centre(value)
        .map(|_| ())
        .ok_or_else(|| validation::error("near", "must be lon,lat in WGS-84"))
}

/// A checked schedule query.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// As an iCalendar file.
    pub ics: bool,
    /// Only stops within this many km of this place.
    pub near: Option<(Wgs84Point, f64)>,
    /// Only stops in this region.
    pub region: Option<RegionCode>,
}

impl ScheduleQuery {
    /// The defaults filled in (`from` today in China at `now`, `to` 30 days on) and every
    /// field checked.
    ///
    /// # Errors
    /// Every broken field: `format`, `to`, `radius_km`, `near`, `region`.
    pub fn checked(self, now: DateTime<Utc>) -> Result<Schedule, FieldErrors> {
        let from = self
            .from
            .unwrap_or_else(|| crate::domain::booking::today_in_china(now));
        let window = Window {
            format: self.format,
            from,
            to: self.to.unwrap_or(from + Duration::days(DEFAULT_DAYS)),
            near: self.near,
            radius_km: self.radius_km,
            region: self.region,
        };
        let mut errors = FieldErrors::default();
        check_in_order(
            &window,
            &["format", "to", "radius_km", "near", "region"],
            &mut errors,
        );
        if !errors.0.is_empty() {
            return Err(errors);
        }
        Ok(Schedule {
            from: window.from,
            to: window.to,
            ics: window.format.as_deref() == Some("ics"),
            near: window
                .near
                .as_deref()
                .and_then(centre)
                .map(|c| (c, window.radius_km.unwrap_or(DEFAULT_RADIUS_KM))),
            region: window
                .region
                .as_deref()
                .and_then(|c| RegionCode::parse(c.trim()).ok()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &FieldErrors) -> Vec<&str> {
        errors.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_person_hears_of_every_field_at_once_in_the_order_of_the_form() {
        let bad = PersonBooking {
            name: " ".into(),
            mobile: "12345".into(),
            blood_type: Some("C".into()),
            slot: "9am".into(),
            via: None,
        };
        let errors = bad.checked().unwrap_err();
        assert_eq!(fields(&errors), ["name", "mobile", "blood_type", "slot"]);
        assert_eq!(errors.0[0].message, "is required");
        let good = PersonBooking {
            name: " 张三 ".into(),
            mobile: "138 0000 0001".into(),
            blood_type: Some(" ".into()),
            slot: "09:30".into(),
            via: Some("ABC234".into()),
        }
        .checked()
        .unwrap();
        assert_eq!(good.name, "张三");
        assert_eq!(good.mobile, "13800000001");
        assert_eq!(good.blood_type, None);
        assert_eq!(good.slot, 9 * 60 + 30);
    }

    #[test]
    fn a_group_names_each_bad_or_repeated_slot_by_its_index() {
        let group = |headcount, slots: &[&str]| GroupBooking {
            organisation: "城关镇中学".into(),
            contact_name: "王老师".into(),
            contact_mobile: "13900000003".into(),
            headcount,
            preferred_slots: slots.iter().map(|s| SlotStart((*s).to_owned())).collect(),
            via: None,
        };
        let errors = group(1, &["25:00", "09:00", "09:00", "09:00"])
            .checked()
            .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "headcount",
                "preferred_slots[0]",
                "preferred_slots[2]",
                "preferred_slots[3]"
            ]
        );
        assert_eq!(
            errors.0[0].message,
            format!("must be between 2 and {MAX_HEADCOUNT} (one person books alone)")
        );
        assert_eq!(errors.0[2].message, "names a slot twice");
        let ok = group(2, &["09:30", "09:00"]).checked().unwrap();
        assert_eq!(ok.preferred, [570, 540]);
    }

    #[test]
    fn a_move_asks_for_what_fits_the_booking() {
        let person = Move {
            slot: None,
            preferred_slots: Some(vec![]),
        };
        let errors = person.slots_for(true).unwrap_err();
        assert_eq!(fields(&errors), ["preferred_slots", "slot"]);
        let group = Move {
            slot: Some("09:00".into()),
            preferred_slots: Some(vec!["09:00".into(), "9".into()]),
        };
        let errors = group.slots_for(false).unwrap_err();
        assert_eq!(fields(&errors), ["slot", "preferred_slots[1]"]);
        let long = StaffCancel {
            reason: Some("x".repeat(201)),
        };
        assert_eq!(fields(&long.checked().unwrap_err()), ["reason"]);
    }

    #[test]
    fn a_schedule_query_names_each_fault() {
        let now = Utc::now();
        let faults = |q: ScheduleQuery| {
            q.checked(now)
                .unwrap_err()
                .0
                .into_iter()
                .map(|e| (e.field, e.message))
                .collect::<Vec<_>>()
        };
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
        assert_eq!(
            faults(ScheduleQuery {
                format: Some("xml".into()),
                from: day("2027-01-10"),
                to: day("2027-01-01"),
                radius_km: Some(300.0),
                near: Some("abc".into()),
                region: Some("12345".into()),
            }),
            [
                ("format", "must be json or ics, not \"xml\""),
                ("to", "must not be before from"),
                ("radius_km", "must be above 0 and at most 200"),
                ("near", "must be lon,lat in WGS-84"),
                ("region", "must be a 12-digit region code"),
            ]
            .map(|(f, m)| (f.to_owned(), m.to_owned()))
        );
        assert_eq!(
            faults(ScheduleQuery {
                radius_km: Some(3.0),
                ..ScheduleQuery::default()
            })[0]
                .0,
            "radius_km"
        );
        let ok = ScheduleQuery {
            near: Some("114.0687, 33.5162".into()),
            format: Some("ics".into()),
            ..ScheduleQuery::default()
        }
        .checked(now)
        .unwrap();
        assert!(ok.ics);
        assert_eq!((ok.to - ok.from).num_days(), 30);
        assert_eq!(ok.near.map(|(_, r)| r), Some(30.0));
    }
}
