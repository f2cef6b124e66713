//! Check-in and results (issue 6, on the day and after): everyone who comes to a stop is an
//! attendance, booked or walk-in, with its outcome; a stop's results are a pure sum over its
//! attendances and its booked places.
//!
//! Outcomes and what each one needs:
//!
//! | outcome      | `deferral_category` | `volume_ml`       | `abo` / `rh`   |
//! |--------------|---------------------|-------------------|----------------|
//! | `registered` | never               | never             | when known     |
//! | `deferred`   | required            | never             | when known     |
//! | `donated`    | never               | 200, 300 or 400   | when known     |
//!
//! Deferrals are temporary (a permanent deferral is a medical record, kept by the station's
//! blood management system, not here); the category says why, for the deferral rate by reason.
//!
//! Results of a stop ([`StopResults`]): everyone checked in is *registered* (whatever came of
//! it); *deferred* and *donated* count outcomes; *no-shows* are the booked places nobody
//! came for, `max(0, booked places - booked attendances)`; the deferral rate is
//! `deferred / (deferred + donated)` (of those who were seen, how many could not give), the
//! no-show rate `no_shows / booked places`; the forecast error is `donated - expected`
//! (positive: more came than forecast), relative to `expected`.
//!
//! A stop where nobody was checked in is *unrecorded*, not a stop nobody came to (its results
//! were never entered; calibration skips it for the same reason): its forecast is reported
//! apart (`unrecorded_stops`, `unrecorded_expected`) and takes no part in the forecast error,
//! which compares what was recorded with what was forecast for those stops only.
//!
//! Seasons ([`season_of`]) are the meteorological ones: winter is December to February
//! (named by the year of its December: `2026-winter` is Dec 2026 to Feb 2027), spring March
//! to May, summer June to August, autumn September to November. Winter holds the Spring
//! Festival, when those away for work are home: the season that matters most for turnout.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How someone came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceKind {
    /// On a booking (individual or group).
    Booked,
    /// Without one.
    WalkIn,
}

string_enum!(AttendanceKind {
    Booked => "booked",
    WalkIn => "walk_in",
});

/// What came of a check-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Checked in; nothing recorded yet.
    Registered,
    /// Could not give today (temporary), with a reason category.
    Deferred,
    /// Gave whole blood.
    Donated,
}

string_enum!(Outcome {
    Registered => "registered",
    Deferred => "deferred",
    Donated => "donated",
});

/// Why someone was deferred (temporarily).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeferralCategory {
    LowHemoglobin,
    BloodPressure,
    Weight,
    RecentIllness,
    Medication,
    RecentDonation,
    TravelOrExposure,
    Other,
}

string_enum!(DeferralCategory {
    LowHemoglobin => "low_hemoglobin",
    BloodPressure => "blood_pressure",
    Weight => "weight",
    RecentIllness => "recent_illness",
    Medication => "medication",
    RecentDonation => "recent_donation",
    TravelOrExposure => "travel_or_exposure",
    Other => "other",
});

/// The ABO group.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum Abo {
    A,
    B,
    AB,
    O,
}

string_enum!(Abo {
    A => "A",
    B => "B",
    AB => "AB",
    O => "O",
});

/// The Rh(D) type.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum Rh {
    #[serde(rename = "+")]
    Positive,
    #[serde(rename = "-")]
    Negative,
}

string_enum!(Rh {
    Positive => "+",
    Negative => "-",
});

/// The volumes of a whole-blood donation, mL (the database checks them too).
pub const VOLUMES_ML: [i32; 3] = [200, 300, 400];

/// An outcome with its details, as recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutcomeRecord {
    pub outcome: Option<Outcome>,
    pub deferral_category: Option<DeferralCategory>,
    pub volume_ml: Option<i32>,
    pub abo: Option<Abo>,
    pub rh: Option<Rh>,
}

impl OutcomeRecord {
    /// What is wrong with this record, field by field (empty when it is consistent). A missing
    /// outcome is `registered`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let outcome = self.outcome.unwrap_or(Outcome::Registered);
        if let Some(v) = self.volume_ml
            && !VOLUMES_ML.contains(&v)
        {
            out.push((
                "volume_ml",
                format!("must be 200, 300 or 400 (mL), got {v}"),
            ));
        }
        match outcome {
            Outcome::Registered => {
                if self.deferral_category.is_some() {
                    out.push((
                        "deferral_category",
                        "only a deferred outcome has a deferral category".to_owned(),
                    ));
                }
                if self.volume_ml.is_some() {
                    out.push((
                        "volume_ml",
                        "only a donated outcome has a volume".to_owned(),
                    ));
                }
            }
            Outcome::Deferred => {
                if self.deferral_category.is_none() {
                    out.push((
                        "deferral_category",
                        "a deferral needs its category".to_owned(),
                    ));
                }
                if self.volume_ml.is_some() {
                    out.push((
                        "volume_ml",
                        "only a donated outcome has a volume".to_owned(),
                    ));
                }
            }
            Outcome::Donated => {
                if self.volume_ml.is_none() {
                    out.push((
                        "volume_ml",
                        "a donation needs its volume: 200, 300 or 400 (mL)".to_owned(),
                    ));
                }
                if self.deferral_category.is_some() {
                    out.push((
                        "deferral_category",
                        "only a deferred outcome has a deferral category".to_owned(),
                    ));
                }
            }
        }
        out
    }
}

/// The label of a blood group for the results: `A+`, `O-`, `AB` (Rh unknown), `unknown`.
pub fn blood_group_label(abo: Option<Abo>, rh: Option<Rh>) -> String {
    match (abo, rh) {
        (Some(a), Some(r)) => format!("{a}{r}"),
        (Some(a), None) => a.to_string(),
        (None, Some(r)) => format!("unknown{r}"),
        (None, None) => "unknown".to_owned(),
    }
}

/// One attendance as the results see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Attended {
    pub kind: AttendanceKind,
    pub outcome: Outcome,
    pub volume_ml: Option<i32>,
    pub abo: Option<Abo>,
    pub rh: Option<Rh>,
    pub deferral_category: Option<DeferralCategory>,
    pub village_code: Option<String>,
}

/// Counts that add up across stops, drives, townships and seasons.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Tally {
    /// Stops counted.
    pub stops: u64,
    /// Everyone checked in (booked and walk-in), whatever came of it.
    pub registered: u64,
    pub deferred: u64,
    pub donated: u64,
    /// The sum of the donations' volumes.
    pub total_ml: u64,
    pub walk_ins: u64,
    /// Places on active bookings.
    pub booked_places: u64,
    /// Check-ins on a booking.
    pub booked_attended: u64,
    /// Booked places nobody came for: per stop `max(0, booked_places - booked_attended)`.
    pub no_shows: u64,
    /// The forecast's expected donors at the recorded stops (those where someone was checked
    /// in): what `donated` is compared with.
    pub expected_donors: f64,
    /// `sum |donated - expected|` over the recorded stops.
    pub abs_error: f64,
    /// Stops where nobody was checked in: unrecorded, left out of the forecast error.
    pub unrecorded_stops: u64,
    /// The forecast's expected donors at the unrecorded stops.
    pub unrecorded_expected: f64,
}

impl Tally {
    /// `deferred / (deferred + donated)`; `None` when nobody was seen.
    pub fn deferral_rate(&self) -> Option<f64> {
        let seen = self.deferred + self.donated;
        (seen > 0).then(|| self.deferred as f64 / seen as f64)
    }

    /// `no_shows / booked_places`; `None` without bookings.
    pub fn no_show_rate(&self) -> Option<f64> {
        (self.booked_places > 0).then(|| self.no_shows as f64 / self.booked_places as f64)
    }

    /// Stops with results recorded (someone checked in).
    pub fn recorded_stops(&self) -> u64 {
        self.stops.saturating_sub(self.unrecorded_stops)
    }

    /// `donated - expected_donors` over the recorded stops (positive: more came than
    /// forecast); `None` when no stop is recorded.
    pub fn forecast_error(&self) -> Option<f64> {
        (self.recorded_stops() > 0).then_some(self.donated as f64 - self.expected_donors)
    }

    /// The forecast error relative to the forecast; `None` when nothing was expected at the
    /// recorded stops (or none is recorded).
    pub fn relative_error(&self) -> Option<f64> {
        let error = self.forecast_error()?;
        (self.expected_donors > 0.0).then(|| error / self.expected_donors)
    }

    /// Adds `other` (another stop, drive or group).
    pub fn add(&mut self, other: &Tally) {
        self.stops += other.stops;
        self.registered += other.registered;
        self.deferred += other.deferred;
        self.donated += other.donated;
        self.total_ml += other.total_ml;
        self.walk_ins += other.walk_ins;
        self.booked_places += other.booked_places;
        self.booked_attended += other.booked_attended;
        self.no_shows += other.no_shows;
        self.expected_donors += other.expected_donors;
        self.abs_error += other.abs_error;
        self.unrecorded_stops += other.unrecorded_stops;
        self.unrecorded_expected += other.unrecorded_expected;
    }
}

/// Check-ins and donations from one village (or from nowhere given).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct VillageCount {
    pub registered: u64,
    pub donated: u64,
}

/// The results of one stop.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StopResults {
    pub tally: Tally,
    /// Donors by blood group (`A+`, `O-`, `AB`, `unknown`).
    pub by_blood_group: BTreeMap<String, u64>,
    /// By village of residence (12-digit code; `unknown` when not given).
    pub by_village: BTreeMap<String, VillageCount>,
    /// Deferrals by category (`unknown` for one recorded without).
    pub by_deferral_category: BTreeMap<String, u64>,
}

impl StopResults {
    /// The results of a stop from its attendances, its booked places and its forecast.
    pub fn compute(attendances: &[Attended], booked_places: u64, expected_donors: f64) -> Self {
        let mut tally = Tally {
            stops: 1,
            booked_places,
            expected_donors,
            ..Tally::default()
        };
        let mut by_blood_group = BTreeMap::new();
        let mut by_village: BTreeMap<String, VillageCount> = BTreeMap::new();
        let mut by_deferral_category = BTreeMap::new();
        for a in attendances {
            tally.registered += 1;
            match a.kind {
                AttendanceKind::Booked => tally.booked_attended += 1,
                AttendanceKind::WalkIn => tally.walk_ins += 1,
            }
            let village = by_village
                .entry(
                    a.village_code
                        .clone()
                        .unwrap_or_else(|| "unknown".to_owned()),
                )
                .or_default();
            village.registered += 1;
            match a.outcome {
                Outcome::Registered => {}
                Outcome::Deferred => {
                    tally.deferred += 1;
                    let category = a
                        .deferral_category
                        .map_or("unknown", DeferralCategory::as_str);
                    *by_deferral_category.entry(category.to_owned()).or_insert(0) += 1;
                }
                Outcome::Donated => {
                    tally.donated += 1;
                    tally.total_ml += a.volume_ml.map_or(0, |v| u64::try_from(v).unwrap_or(0));
                    village.donated += 1;
                    *by_blood_group
                        .entry(blood_group_label(a.abo, a.rh))
                        .or_insert(0) += 1;
                }
            }
        }
        tally.no_shows = booked_places.saturating_sub(tally.booked_attended);
        if attendances.is_empty() {
            // Nothing recorded: not a stop nobody came to.
            tally.unrecorded_stops = 1;
            tally.unrecorded_expected = expected_donors;
            tally.expected_donors = 0.0;
        } else {
            tally.abs_error = (tally.donated as f64 - tally.expected_donors).abs();
        }
        StopResults {
            tally,
            by_blood_group,
            by_village,
            by_deferral_category,
        }
    }
}

/// The season `date` falls in: `2026-winter` (Dec 2026 to Feb 2027), `2027-spring`
/// (Mar to May), `2027-summer` (Jun to Aug), `2027-autumn` (Sep to Nov).
pub fn season_of(date: NaiveDate) -> String {
    let (year, name) = match date.month() {
        12 => (date.year(), "winter"),
        1 | 2 => (date.year() - 1, "winter"),
        3..=5 => (date.year(), "spring"),
        6..=8 => (date.year(), "summer"),
        _ => (date.year(), "autumn"),
    };
    format!("{year}-{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn walk_in(
        outcome: Outcome,
        volume: Option<i32>,
        abo: Option<Abo>,
        rh: Option<Rh>,
    ) -> Attended {
        Attended {
            kind: AttendanceKind::WalkIn,
            outcome,
            volume_ml: volume,
            abo,
            rh,
            deferral_category: None,
            village_code: None,
        }
    }

    #[test]
    fn each_outcome_asks_for_exactly_its_details() {
        let ok = |r: OutcomeRecord| assert!(r.problems().is_empty(), "{r:?}: {:?}", r.problems());
        let bad = |r: OutcomeRecord, field: &str| {
            let problems = r.problems();
            assert!(
                problems.iter().any(|(f, _)| *f == field),
                "{r:?} should name {field}: {problems:?}"
            );
        };
        ok(OutcomeRecord::default());
        ok(OutcomeRecord {
            outcome: Some(Outcome::Deferred),
            deferral_category: Some(DeferralCategory::LowHemoglobin),
            ..Default::default()
        });
        for v in VOLUMES_ML {
            ok(OutcomeRecord {
                outcome: Some(Outcome::Donated),
                volume_ml: Some(v),
                abo: Some(Abo::O),
                rh: Some(Rh::Negative),
                ..Default::default()
            });
        }
        bad(
            OutcomeRecord {
                outcome: Some(Outcome::Deferred),
                ..Default::default()
            },
            "deferral_category",
        );
        bad(
            OutcomeRecord {
                outcome: Some(Outcome::Donated),
                ..Default::default()
            },
            "volume_ml",
        );
        bad(
            OutcomeRecord {
                outcome: Some(Outcome::Donated),
                volume_ml: Some(250),
                ..Default::default()
            },
            "volume_ml",
        );
        bad(
            OutcomeRecord {
                outcome: Some(Outcome::Donated),
                volume_ml: Some(400),
                deferral_category: Some(DeferralCategory::Weight),
                ..Default::default()
            },
            "deferral_category",
        );
        bad(
            OutcomeRecord {
                volume_ml: Some(200),
                ..Default::default()
            },
            "volume_ml",
        );
        bad(
            OutcomeRecord {
                outcome: Some(Outcome::Registered),
                deferral_category: Some(DeferralCategory::Other),
                ..Default::default()
            },
            "deferral_category",
        );
    }

    #[test]
    fn a_stops_results_add_up_by_hand() {
        // 3 booked places: 2 came (one donated 400 mL A+, one deferred); 3 walk-ins: one
        // donated 200 mL with no blood group, one 300 mL A+ from village V, one only registered.
        let mut booked_donor = walk_in(
            Outcome::Donated,
            Some(400),
            Some(Abo::A),
            Some(Rh::Positive),
        );
        booked_donor.kind = AttendanceKind::Booked;
        let mut booked_deferred = walk_in(Outcome::Deferred, None, None, None);
        booked_deferred.kind = AttendanceKind::Booked;
        booked_deferred.deferral_category = Some(DeferralCategory::Weight);
        let mut from_v = walk_in(
            Outcome::Donated,
            Some(300),
            Some(Abo::A),
            Some(Rh::Positive),
        );
        from_v.village_code = Some("990101101201".to_owned());
        let all = vec![
            booked_donor,
            booked_deferred,
            walk_in(Outcome::Donated, Some(200), None, None),
            from_v,
            walk_in(Outcome::Registered, None, None, None),
        ];
        let r = StopResults::compute(&all, 3, 4.0);
        let t = &r.tally;
        assert_eq!(t.registered, 5);
        assert_eq!(t.deferred, 1);
        assert_eq!(t.donated, 3);
        assert_eq!(t.total_ml, 900);
        assert_eq!(t.walk_ins, 3);
        assert_eq!(t.booked_attended, 2);
        assert_eq!(t.no_shows, 1);
        assert_eq!(t.deferral_rate(), Some(0.25));
        assert_eq!(t.no_show_rate(), Some(1.0 / 3.0));
        assert_eq!(t.forecast_error(), Some(-1.0));
        assert_eq!(t.relative_error(), Some(-0.25));
        assert_eq!(t.unrecorded_stops, 0);
        assert_eq!(t.abs_error, 1.0);
        assert_eq!(r.by_blood_group.get("A+"), Some(&2));
        assert_eq!(r.by_blood_group.get("unknown"), Some(&1));
        assert_eq!(
            r.by_deferral_category,
            BTreeMap::from([("weight".to_owned(), 1)])
        );
        assert_eq!(
            r.by_village["990101101201"],
            VillageCount {
                registered: 1,
                donated: 1
            }
        );
        assert_eq!(
            r.by_village["unknown"],
            VillageCount {
                registered: 4,
                donated: 2
            }
        );
    }

    #[test]
    fn no_shows_never_go_negative_and_rates_need_a_denominator() {
        let r = StopResults::compute(&[], 0, 0.0);
        assert_eq!(r.tally.no_shows, 0);
        assert_eq!(r.tally.deferral_rate(), None);
        assert_eq!(r.tally.no_show_rate(), None);
        assert_eq!(r.tally.relative_error(), None);
        let mut more = walk_in(Outcome::Registered, None, None, None);
        more.kind = AttendanceKind::Booked;
        let r = StopResults::compute(&[more.clone(), more], 1, 0.0);
        assert_eq!(r.tally.no_shows, 0);
    }

    #[test]
    fn tallies_sum_and_absolute_errors_do_not_cancel() {
        let a = StopResults::compute(&[walk_in(Outcome::Donated, Some(400), None, None)], 2, 3.0);
        let b = StopResults::compute(
            &[
                walk_in(Outcome::Donated, Some(200), None, None),
                walk_in(Outcome::Donated, Some(200), None, None),
            ],
            0,
            0.5,
        );
        let mut sum = a.tally.clone();
        sum.add(&b.tally);
        assert_eq!(sum.stops, 2);
        assert_eq!(sum.donated, 3);
        assert_eq!(sum.total_ml, 800);
        assert_eq!(sum.no_shows, 2);
        assert_eq!(sum.forecast_error(), Some(-0.5)); // 3 - 3.5
        assert_eq!(sum.abs_error, 3.5); // |1 - 3| + |2 - 0.5|
        assert_eq!(sum.no_show_rate(), Some(1.0));
    }

    #[test]
    fn blood_groups_are_labelled_even_when_half_known() {
        assert_eq!(blood_group_label(Some(Abo::AB), Some(Rh::Negative)), "AB-");
        assert_eq!(blood_group_label(Some(Abo::O), None), "O");
        assert_eq!(blood_group_label(None, Some(Rh::Positive)), "unknown+");
        assert_eq!(blood_group_label(None, None), "unknown");
    }

    #[test]
    fn seasons_are_meteorological_and_winter_is_named_by_its_december() {
        assert_eq!(season_of(date(2026, 12, 1)), "2026-winter");
        assert_eq!(season_of(date(2027, 2, 28)), "2026-winter");
        assert_eq!(season_of(date(2027, 3, 1)), "2027-spring");
        assert_eq!(season_of(date(2027, 8, 31)), "2027-summer");
        assert_eq!(season_of(date(2027, 11, 30)), "2027-autumn");
    }

    proptest::proptest! {
        /// Whatever the attendances: registered is everyone, outcomes never exceed it, no-shows
        /// are never negative nor more than the places, rates are shares, and the stops'
        /// tallies add up to the tally of all of them at once.
        #[test]
        fn results_are_consistent_and_add_up(
            people in proptest::collection::vec((0u8..2, 0u8..3, 0usize..3, 0u8..2), 0..40),
            places in 0u64..20,
            split in 0usize..40,
        ) {
            let all: Vec<Attended> = people
                .iter()
                .map(|&(kind, outcome, volume, abo)| Attended {
                    kind: if kind == 0 { AttendanceKind::Booked } else { AttendanceKind::WalkIn },
                    outcome: Outcome::ALL[usize::from(outcome)],
                    volume_ml: (outcome == 2).then_some(VOLUMES_ML[volume]),
                    abo: (abo == 1).then_some(Abo::O),
                    rh: None,
                    deferral_category: (outcome == 1).then_some(DeferralCategory::Other),
                    village_code: None,
                })
                .collect();
            let r = StopResults::compute(&all, places, 5.0);
            let t = &r.tally;
            proptest::prop_assert_eq!(t.registered, all.len() as u64);
            proptest::prop_assert_eq!(t.booked_attended + t.walk_ins, t.registered);
            proptest::prop_assert!(t.deferred + t.donated <= t.registered);
            proptest::prop_assert!(t.no_shows <= places);
            proptest::prop_assert_eq!(r.by_blood_group.values().sum::<u64>(), t.donated);
            proptest::prop_assert_eq!(r.by_deferral_category.values().sum::<u64>(), t.deferred);
            for rate in [t.deferral_rate(), t.no_show_rate()].into_iter().flatten() {
                proptest::prop_assert!((0.0..=1.0).contains(&rate));
            }
            let (a, b) = all.split_at(split.min(all.len()));
            let mut sum = StopResults::compute(a, 0, 2.0).tally;
            sum.add(&StopResults::compute(b, 0, 3.0).tally);
            proptest::prop_assert_eq!(sum.registered, t.registered);
            proptest::prop_assert_eq!(sum.donated, t.donated);
            proptest::prop_assert_eq!(sum.total_ml, t.total_ml);
            // Every stop's forecast is counted once, recorded or not.
            proptest::prop_assert!(
                (sum.expected_donors + sum.unrecorded_expected - 5.0).abs() < 1e-9
            );
            if !a.is_empty() && !b.is_empty() {
                let (s, t) = (sum.forecast_error().unwrap(), t.forecast_error().unwrap());
                proptest::prop_assert!((s - t).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn a_stop_where_nobody_was_checked_in_is_unrecorded_not_a_miss() {
        let empty = StopResults::compute(&[], 4, 12.0);
        let t = &empty.tally;
        assert_eq!(t.stops, 1);
        assert_eq!(t.unrecorded_stops, 1);
        assert_eq!(t.unrecorded_expected, 12.0);
        assert_eq!(t.expected_donors, 0.0);
        assert_eq!(t.forecast_error(), None);
        assert_eq!(t.relative_error(), None);
        assert_eq!(t.abs_error, 0.0);
        // Beside a recorded stop, the error is the recorded stop's alone: 3 - 5, not
        // 3 - 17 nor an abs_error of 2 + 12.
        let three: Vec<Attended> = (0..3)
            .map(|_| walk_in(Outcome::Donated, Some(400), None, None))
            .collect();
        let mut sum = StopResults::compute(&three, 0, 5.0).tally;
        sum.add(t);
        assert_eq!(sum.stops, 2);
        assert_eq!(sum.recorded_stops(), 1);
        assert_eq!(sum.expected_donors, 5.0);
        assert_eq!(sum.unrecorded_expected, 12.0);
        assert_eq!(sum.forecast_error(), Some(-2.0));
        assert_eq!(sum.relative_error(), Some(-0.4));
        assert_eq!(sum.abs_error, 2.0);
    }

    #[test]
    fn enums_round_trip_as_text() {
        for &c in DeferralCategory::ALL {
            assert_eq!(c.as_str().parse::<DeferralCategory>(), Ok(c));
        }
        for &a in Abo::ALL {
            assert_eq!(a.as_str().parse::<Abo>(), Ok(a));
        }
        assert_eq!("+".parse::<Rh>(), Ok(Rh::Positive));
        assert!("pos".parse::<Rh>().is_err());
        assert_eq!(
            "walk_in".parse::<AttendanceKind>(),
            Ok(AttendanceKind::WalkIn)
        );
    }
}
