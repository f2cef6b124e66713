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
    /// Every rule the figures break, given today's date, the eligible total of the village's
    /// current survey (if any), and whether the user confirmed a large change.
    pub fn violations(
        &self,
        today: NaiveDate,
        previous_total: Option<i64>,
        confirmed: bool,
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        let counts = [
            ("eligible_total", Some(self.eligible_total)),
            ("male", self.male),
            ("female", self.female),
            ("age_18_34", self.age_18_34),
            ("age_35_54", self.age_35_54),
            ("age_55_60", self.age_55_60),
            ("away_for_work", self.away_for_work),
            ("known_donors", self.known_donors),
        ];
        for (field, value) in counts {
            if let Some(v) = value
                && !(0..=MAX_COUNT).contains(&v)
            {
                out.push(violation(
                    field,
                    format!("must be a whole number between 0 and {MAX_COUNT}"),
                ));
            }
        }
        if !out.is_empty() {
            return out; // the sums below mean nothing on out-of-range figures
        }
        let total = self.eligible_total;
        match (self.male, self.female) {
            (None, None) => {}
            (Some(m), Some(f)) if m + f == total => {}
            (Some(m), Some(f)) => out.push(violation(
                "male",
                format!(
                    "male ({m}) and female ({f}) add up to {}, not eligible_total ({total})",
                    m + f
                ),
            )),
            (None, Some(_)) => out.push(violation("male", "give male and female together")),
            (Some(_), None) => out.push(violation("female", "give male and female together")),
        }
        let bands = [self.age_18_34, self.age_35_54, self.age_55_60];
        let given = bands.iter().filter(|b| b.is_some()).count();
        if given == 3 {
            let sum: i64 = bands.iter().flatten().sum();
            if sum != total {
                out.push(violation(
                    "age_18_34",
                    format!("the age bands add up to {sum}, not eligible_total ({total})"),
                ));
            }
        } else if given > 0 {
            let missing = ["age_18_34", "age_35_54", "age_55_60"]
                .into_iter()
                .zip(bands)
                .find(|(_, b)| b.is_none())
                .map_or("age_18_34", |(f, _)| f);
            out.push(violation(missing, "give all three age bands, or none"));
        }
        for (field, value) in [
            ("away_for_work", self.away_for_work),
            ("known_donors", self.known_donors),
        ] {
            if value.is_some_and(|v| v > total) {
                out.push(violation(
                    field,
                    format!("cannot be above eligible_total ({total})"),
                ));
            }
        }
        match self.surveyed_on {
            None => out.push(violation("surveyed_on", "is required")),
            Some(d) if d > today => out.push(violation("surveyed_on", "must not be in the future")),
            Some(d) if d < crate::domain::text::EARLIEST_DATE => {
                out.push(violation("surveyed_on", "must not be before 1949-10-01"));
            }
            Some(_) => {}
        }
        if let Some(previous) = previous_total
            && !confirmed
            && is_large_change(previous, total)
        {
            out.push(violation(
                "eligible_total",
                format!(
                    "{total} is more than {LARGE_CHANGE_FACTOR}x away from the previous survey ({previous}); \
                     send \"confirm_large_change\": true if it is right"
                ),
            ));
        }
        out
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

    fn fields(v: &[Violation]) -> Vec<&str> {
        v.iter().map(|v| v.field).collect()
    }

    #[test]
    fn a_consistent_survey_passes() {
        assert!(figures().violations(today(), Some(550), false).is_empty());
        assert!(
            SurveyFigures {
                eligible_total: 10,
                surveyed_on: Some(today()),
                ..Default::default()
            }
            .violations(today(), None, false)
            .is_empty()
        );
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases: Vec<(SurveyFigures, &str)> = vec![
            (
                SurveyFigures {
                    eligible_total: -1,
                    ..figures()
                },
                "eligible_total",
            ),
            (
                SurveyFigures {
                    male: Some(300),
                    ..figures()
                },
                "male",
            ),
            (
                SurveyFigures {
                    female: None,
                    ..figures()
                },
                "female",
            ),
            (
                SurveyFigures {
                    age_55_60: Some(99),
                    ..figures()
                },
                "age_18_34",
            ),
            (
                SurveyFigures {
                    age_35_54: None,
                    ..figures()
                },
                "age_35_54",
            ),
            (
                SurveyFigures {
                    away_for_work: Some(601),
                    ..figures()
                },
                "away_for_work",
            ),
            (
                SurveyFigures {
                    known_donors: Some(601),
                    ..figures()
                },
                "known_donors",
            ),
            (
                SurveyFigures {
                    surveyed_on: NaiveDate::from_ymd_opt(2026, 11, 26),
                    ..figures()
                },
                "surveyed_on",
            ),
            (
                SurveyFigures {
                    surveyed_on: None,
                    ..figures()
                },
                "surveyed_on",
            ),
        ];
        for (f, field) in cases {
            assert_eq!(
                fields(&f.violations(today(), None, false)),
                [field],
                "{f:?}"
            );
        }
    }

    #[test]
    fn large_changes_need_confirmation() {
        assert_eq!(
            fields(&figures().violations(today(), Some(150), false)),
            ["eligible_total"]
        );
        assert_eq!(
            fields(&figures().violations(today(), Some(1801), false)),
            ["eligible_total"]
        );
        assert!(
            figures().violations(today(), Some(200), false).is_empty(),
            "exactly 3x is fine"
        );
        assert!(figures().violations(today(), Some(150), true).is_empty());
        assert!(is_large_change(0, 5));
        assert!(!is_large_change(0, 0));
    }
}
