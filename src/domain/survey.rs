//! Village donor surveys: how many residents of a village are of donation age (18-60), and the
//! rules a survey must satisfy before it is recorded.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a survey's figures come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveySource {
    HouseholdRegister,
    VillageDoctor,
    CommitteeEstimate,
    Other,
}

impl SurveySource {
    pub fn as_str(self) -> &'static str {
        match self {
            SurveySource::HouseholdRegister => "household_register",
            SurveySource::VillageDoctor => "village_doctor",
            SurveySource::CommitteeEstimate => "committee_estimate",
            SurveySource::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<SurveySource> {
        [
            SurveySource::HouseholdRegister,
            SurveySource::VillageDoctor,
            SurveySource::CommitteeEstimate,
            SurveySource::Other,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A survey's figures, as entered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SurveyFigures {
    pub eligible_total: i64,
    pub male: Option<i64>,
    pub female: Option<i64>,
    pub age_18_34: Option<i64>,
    pub age_35_54: Option<i64>,
    pub age_55_60: Option<i64>,
    pub away_for_work: Option<i64>,
    pub known_donors: Option<i64>,
    pub surveyed_on: Option<NaiveDate>,
}

/// The largest count a village survey may carry (the biggest administrative villages have a
/// few tens of thousands of residents).
pub const MAX_COUNT: i64 = 1_000_000;

/// A change of the total beyond this factor (up or down) must be confirmed.
pub const LARGE_CHANGE_FACTOR: i64 = 3;

/// One broken rule: the field to blame and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: &'static str,
    pub message: String,
}

fn violation(field: &'static str, message: impl Into<String>) -> Violation {
    Violation {
        field,
        message: message.into(),
    }
}

impl SurveyFigures {
    /// Every count with the field that carries it.
    fn counts(&self) -> [(&'static str, Option<i64>); 8] {
        [
            ("eligible_total", Some(self.eligible_total)),
            ("male", self.male),
            ("female", self.female),
            ("age_18_34", self.age_18_34),
            ("age_35_54", self.age_35_54),
            ("age_55_60", self.age_55_60),
            ("away_for_work", self.away_for_work),
            ("known_donors", self.known_donors),
        ]
    }

    /// True when every count lies in `0..=MAX_COUNT`. The rules across figures mean nothing
    /// on out-of-range figures, so they are only checked when this holds (each count out of
    /// range is named by its own field rule).
    pub fn counts_in_range(&self) -> bool {
        self.counts()
            .iter()
            .all(|(_, v)| v.is_none_or(|v| (0..=MAX_COUNT).contains(&v)))
    }

    /// `male` and `female`: both or neither, adding up to `eligible_total`.
    pub fn sexes_violation(&self) -> Option<Violation> {
        let total = self.eligible_total;
        match (self.male, self.female) {
            (None, None) => None,
            (Some(m), Some(f)) if m + f == total => None,
            (Some(m), Some(f)) => Some(violation(
                "male",
                format!(
                    "male ({m}) and female ({f}) add up to {}, not eligible_total ({total})",
                    m + f
                ),
            )),
            (None, Some(_)) => Some(violation("male", "give male and female together")),
            (Some(_), None) => Some(violation("female", "give male and female together")),
        }
    }

    /// The three age bands: all or none, adding up to `eligible_total`.
    pub fn age_bands_violation(&self) -> Option<Violation> {
        let total = self.eligible_total;
        let bands = [self.age_18_34, self.age_35_54, self.age_55_60];
        let given = bands.iter().filter(|b| b.is_some()).count();
        if given == 3 {
            let sum: i64 = bands.iter().flatten().sum();
            (sum != total).then(|| {
                violation(
                    "age_18_34",
                    format!("the age bands add up to {sum}, not eligible_total ({total})"),
                )
            })
        } else if given > 0 {
            let missing = ["age_18_34", "age_35_54", "age_55_60"]
                .into_iter()
                .zip(bands)
                .find(|(_, b)| b.is_none())
                .map_or("age_18_34", |(f, _)| f);
            Some(violation(missing, "give all three age bands, or none"))
        } else {
            None
        }
    }

    /// A part of the eligible (`away_for_work`, `known_donors`, given as `field` and `value`)
    /// that is above `eligible_total`.
    pub fn above_total(&self, field: &'static str, value: Option<i64>) -> Option<Violation> {
        let total = self.eligible_total;
        value
            .is_some_and(|v| v > total)
            .then(|| violation(field, format!("cannot be above eligible_total ({total})")))
    }

    /// `surveyed_on`: given, not after `today`, not before 1949-10-01.
    pub fn date_violation(&self, today: NaiveDate) -> Option<Violation> {
        match self.surveyed_on {
            None => Some(violation("surveyed_on", "is required")),
            Some(d) if d > today => Some(violation("surveyed_on", "must not be in the future")),
            Some(d) if d < crate::domain::text::EARLIEST_DATE => {
                Some(violation("surveyed_on", "must not be before 1949-10-01"))
            }
            Some(_) => None,
        }
    }

    /// A total more than 3x away from the current survey's (`previous_total`), unless the
    /// user `confirmed` it.
    pub fn large_change_violation(
        &self,
        previous_total: Option<i64>,
        confirmed: bool,
    ) -> Option<Violation> {
        let total = self.eligible_total;
        let previous = previous_total.filter(|&p| !confirmed && is_large_change(p, total))?;
        Some(violation(
            "eligible_total",
            format!(
                "{total} is more than {LARGE_CHANGE_FACTOR}x away from the previous survey ({previous}); \
                 send \"confirm_large_change\": true if it is right"
            ),
        ))
    }
}

/// True when `new` is more than 3x or less than a third of `previous`.
pub fn is_large_change(previous: i64, new: i64) -> bool {
    if previous == 0 {
        return new > 0;
    }
    new > previous * LARGE_CHANGE_FACTOR || new * LARGE_CHANGE_FACTOR < previous
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    fn figures() -> SurveyFigures {
        SurveyFigures {
            eligible_total: 600,
            male: Some(310),
            female: Some(290),
            age_18_34: Some(200),
            age_35_54: Some(300),
            age_55_60: Some(100),
            away_for_work: Some(180),
            known_donors: Some(40),
            surveyed_on: NaiveDate::from_ymd_opt(2026, 11, 1),
        }
    }

    fn field(v: Option<Violation>) -> Option<&'static str> {
        v.map(|v| v.field)
    }

    #[test]
    fn a_consistent_survey_passes() {
        let f = figures();
        assert!(f.counts_in_range());
        assert_eq!(f.sexes_violation(), None);
        assert_eq!(f.age_bands_violation(), None);
        assert_eq!(f.above_total("away_for_work", f.away_for_work), None);
        assert_eq!(f.above_total("known_donors", f.known_donors), None);
        assert_eq!(f.date_violation(today()), None);
        assert_eq!(f.large_change_violation(Some(550), false), None);
        let bare = SurveyFigures {
            eligible_total: 10,
            surveyed_on: Some(today()),
            ..Default::default()
        };
        assert_eq!(bare.sexes_violation(), None);
        assert_eq!(bare.age_bands_violation(), None);
        assert_eq!(bare.date_violation(today()), None);
        assert_eq!(bare.large_change_violation(None, false), None);
    }

    #[test]
    fn each_rule_names_its_field() {
        let out_of_range = SurveyFigures {
            eligible_total: -1,
            ..figures()
        };
        assert!(!out_of_range.counts_in_range());
        assert!(
            !SurveyFigures {
                known_donors: Some(MAX_COUNT + 1),
                ..figures()
            }
            .counts_in_range()
        );
        let sexes = |male, female| {
            field(
                SurveyFigures {
                    male,
                    female,
                    ..figures()
                }
                .sexes_violation(),
            )
        };
        assert_eq!(sexes(Some(300), Some(290)), Some("male"));
        assert_eq!(sexes(Some(310), None), Some("female"));
        assert_eq!(sexes(None, Some(290)), Some("male"));
        assert_eq!(
            SurveyFigures {
                male: Some(300),
                ..figures()
            }
            .sexes_violation()
            .map(|v| v.message),
            Some("male (300) and female (290) add up to 590, not eligible_total (600)".to_owned())
        );
        let bands = |a, b, c| {
            field(
                SurveyFigures {
                    age_18_34: a,
                    age_35_54: b,
                    age_55_60: c,
                    ..figures()
                }
                .age_bands_violation(),
            )
        };
        assert_eq!(bands(Some(200), Some(300), Some(99)), Some("age_18_34"));
        assert_eq!(bands(Some(200), None, Some(100)), Some("age_35_54"));
        assert_eq!(bands(None, Some(300), Some(100)), Some("age_18_34"));
        assert_eq!(bands(Some(600), None, None), Some("age_35_54"));
        assert_eq!(bands(None, None, None), None);
        let f = figures();
        assert_eq!(
            field(f.above_total("away_for_work", Some(601))),
            Some("away_for_work")
        );
        assert_eq!(
            field(f.above_total("known_donors", Some(601))),
            Some("known_donors")
        );
        assert_eq!(f.above_total("known_donors", Some(600)), None);
        let date = |surveyed_on| {
            SurveyFigures {
                surveyed_on,
                ..figures()
            }
            .date_violation(today())
            .map(|v| (v.field, v.message))
        };
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2026, 11, 26)),
            Some(("surveyed_on", "must not be in the future".to_owned()))
        );
        assert_eq!(date(None), Some(("surveyed_on", "is required".to_owned())));
        assert_eq!(
            date(NaiveDate::from_ymd_opt(1949, 9, 30)),
            Some(("surveyed_on", "must not be before 1949-10-01".to_owned()))
        );
        assert_eq!(date(NaiveDate::from_ymd_opt(1949, 10, 1)), None);
    }

    #[test]
    fn large_changes_need_confirmation() {
        let f = figures();
        assert_eq!(
            field(f.large_change_violation(Some(150), false)),
            Some("eligible_total")
        );
        assert_eq!(
            field(f.large_change_violation(Some(1801), false)),
            Some("eligible_total")
        );
        assert_eq!(
            f.large_change_violation(Some(200), false),
            None,
            "exactly 3x is fine"
        );
        assert_eq!(f.large_change_violation(Some(150), true), None);
        assert!(is_large_change(0, 5));
        assert!(!is_large_change(0, 0));
    }
}
