//! Village donor surveys: recording one and reading a village's history. The history is
//! append-only: a new survey never overwrites an old one, and the current survey is the latest
//! by `surveyed_on`. For the officials' entry flow (issue 14): the townships an account enters
//! surveys for ([`desk`]) and a township's villages with their current surveys
//! ([`township_entry`]).
//!
//! The rules of a survey: each count a whole number up to [`MAX_COUNT`], male and female
//! together and adding up to the total, all three age bands or none (adding up to the total),
//! those away for work and the known donors not above it (all declared on [`NewSurvey`] with
//! `validator`), the date neither in the future nor before 1949-10-01, and a total more than
//! 3x away from the current survey's only when confirmed (checked here, after the declared
//! rules, because they need the clock and the database). Every broken rule is named at once.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::village_survey;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Deserialize;

use super::{Acting, RegistryError};
use crate::domain::policy::{self, Action, Visibility};
use crate::domain::region::{Level, Region, RegionCode};
use crate::domain::survey::{MAX_COUNT, SurveyFigures, SurveySource, Violation};
use crate::error::FieldErrors;
use crate::store::audit::{self, Change};
use crate::store::regions::{self, RegionFilter};
use crate::store::surveys::{self as store, NewSurvey as SurveyRow};
use crate::validation::{self, Validate, ValidationError};

/// The most characters of `surveyed_by` and of `notes`.
const SURVEYED_BY_MAX: usize = 100;
const NOTES_MAX: usize = 2000;

/// A survey of a village, as the township's official reports it (the demo network file holds
/// these, keyed by village code).
// Each rule across figures is one schema function (one may name one field); each runs even
// when a text field is broken (so every fault is named at once) and checks itself that the
// counts are in range. Clippy takes the repeated `skip_on_field_errors = false` for a
// duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "sexes_add_up", skip_on_field_errors = false))]
#[validate(schema(function = "age_bands_add_up", skip_on_field_errors = false))]
#[validate(schema(function = "away_within_total", skip_on_field_errors = false))]
#[validate(schema(function = "donors_within_total", skip_on_field_errors = false))]
pub struct NewSurvey {
    /// Residents aged 18-60.
    #[validate(range(min = 0, max = MAX_COUNT, message = "must be a whole number between 0 and 1000000"))]
    pub eligible_total: i64,
    #[validate(range(min = 0, max = MAX_COUNT, message = "must be a whole number between 0 and 1000000"))]
    pub male: Option<i64>,
    #[validate(range(min = 0, max = MAX_COUNT, message = "must be a whole number between 0 and 1000000"))]
    pub female: Option<i64>,
    #[validate(range(min = 0, max = MAX_COUNT, message = "must be a whole number between 0 and 1000000"))]
    pub age_18_34: Option<i64>,
    #[validate(range(min = 0, max = MAX_COUNT, message = "must be a whole number between 0 and 1000000"))]
    pub age_35_54: Option<i64>,
    #[validate(range(min = 0, max = MAX_COUNT, message = "must be a whole number between 0 and 1000000"))]
    pub age_55_60: Option<i64>,
    /// Eligible residents working elsewhere.
    #[validate(range(min = 0, max = MAX_COUNT, message = "must be a whole number between 0 and 1000000"))]
    pub away_for_work: Option<i64>,
    /// People who have donated before.
    #[validate(range(min = 0, max = MAX_COUNT, message = "must be a whole number between 0 and 1000000"))]
    pub known_donors: Option<i64>,
    pub surveyed_on: NaiveDate,
    pub source: SurveySource,
    #[validate(custom(function = "surveyed_by_text"))]
    pub surveyed_by: Option<String>,
    #[validate(custom(function = "notes_text"))]
    pub notes: Option<String>,
    /// Needed when the total is more than 3x or under a third of the current survey's.
    #[serde(default)]
    pub confirm_large_change: bool,
    /// The id of the village's current survey that the figures were entered beside (`0`: the
    /// village had none). When given and another survey has become current since, nothing is
    /// recorded: [`RegistryError::SurveyOutdated`] with that survey (a form kept on a phone
    /// without signal meets a survey someone else recorded meanwhile). Absent: not checked.
    #[serde(default)]
    #[validate(range(min = 0, message = "must be the id of a survey, or 0 for none"))]
    pub based_on: Option<i64>,
}

impl NewSurvey {
    fn figures(&self) -> SurveyFigures {
        SurveyFigures {
            eligible_total: self.eligible_total,
            male: self.male,
            female: self.female,
            age_18_34: self.age_18_34,
            age_35_54: self.age_35_54,
            age_55_60: self.age_55_60,
            away_for_work: self.away_for_work,
            known_donors: self.known_donors,
            surveyed_on: Some(self.surveyed_on),
        }
    }
}

/// A rule across figures, checked only when every count is in range (the sums mean nothing
/// otherwise; the counts out of range are named by their own rule).
fn across_figures(
    survey: &NewSurvey,
    rule: impl FnOnce(&SurveyFigures) -> Option<Violation>,
) -> Result<(), ValidationError> {
    let figures = survey.figures();
    if !figures.counts_in_range() {
        return Ok(());
    }
    match rule(&figures) {
        Some(v) => Err(validation::across(v.field, v.message)),
        None => Ok(()),
    }
}

fn sexes_add_up(survey: &NewSurvey) -> Result<(), ValidationError> {
    across_figures(survey, SurveyFigures::sexes_violation)
}

fn age_bands_add_up(survey: &NewSurvey) -> Result<(), ValidationError> {
    across_figures(survey, SurveyFigures::age_bands_violation)
}

fn away_within_total(survey: &NewSurvey) -> Result<(), ValidationError> {
    across_figures(survey, |f| f.above_total("away_for_work", f.away_for_work))
}

fn donors_within_total(survey: &NewSurvey) -> Result<(), ValidationError> {
    across_figures(survey, |f| f.above_total("known_donors", f.known_donors))
}

/// Free text as [`crate::domain::text::clean`] takes it, its message when it does not.
fn text_rule(value: &str, max: usize, multiline: bool) -> Result<(), ValidationError> {
    crate::domain::text::clean(Some(value.to_owned()), max, multiline)
        .map(drop)
        .map_err(|message| validation::error("text", message))
}

fn surveyed_by_text(value: &str) -> Result<(), ValidationError> {
    text_rule(value, SURVEYED_BY_MAX, false)
}

fn notes_text(value: &str) -> Result<(), ValidationError> {
    text_rule(value, NOTES_MAX, true)
}

/// Every rule `survey` breaks, given today's date and the village's current total (if any):
/// the declared rules, then the date and the 3x rule.
fn violations(survey: &NewSurvey, today: NaiveDate, previous_total: Option<i64>) -> FieldErrors {
    let mut errors = FieldErrors::default();
    validation::check(survey, &mut errors);
    let figures = survey.figures();
    if figures.counts_in_range() {
        let dated = figures.date_violation(today);
        let large = figures.large_change_violation(previous_total, survey.confirm_large_change);
        for v in dated.into_iter().chain(large) {
            errors.add(v.field, v.message);
        }
    }
    errors
}

/// The day a survey may be dated at most: today in China (where the officials are), not in
/// UTC, so that a survey entered at 07:00 Beijing time may carry that day's date.
pub(super) fn today(now: DateTime<Utc>) -> NaiveDate {
    crate::domain::booking::today_in_china(now)
}

/// Checks `survey` of `village` against every rule (the 3x rule against the village's current
/// survey, read on `db`); returns what to store.
///
/// # Errors
/// [`RegistryError::Invalid`] naming every broken rule, or the database fails.
pub(super) async fn check(
    db: &impl ConnectionTrait,
    village: &Region,
    survey: NewSurvey,
    today: NaiveDate,
) -> Result<SurveyRow, RegistryError> {
    let current = store::current(db, &village.code).await?;
    if let (Some(seen), Some(current)) = (survey.based_on, &current)
        && seen >= 0
        && seen != current.id
    {
        return Err(RegistryError::SurveyOutdated(Box::new(current.clone())));
    }
    let previous = current.map(|s| i64::from(s.eligible_total));
    super::checked(violations(&survey, today, previous))?;
    let figures = survey.figures();
    // The text rules passed: cleaning cannot fail.
    let clean = |value, max, multiline| {
        crate::domain::text::clean(value, max, multiline).unwrap_or_default()
    };
    Ok(SurveyRow {
        region_code: village.code.clone(),
        figures,
        surveyed_on: survey.surveyed_on,
        source: survey.source,
        surveyed_by: clean(survey.surveyed_by, SURVEYED_BY_MAX, false),
        notes: clean(survey.notes, NOTES_MAX, true),
    })
}

/// Stores a checked survey in an open transaction, with its audit record.
pub(super) async fn insert(
    txn: &impl ConnectionTrait,
    survey: SurveyRow,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<village_survey::Model, RegistryError> {
    let created = store::insert(txn, survey, acting.username(), now).await?;
    audit::record(
        txn,
        Change {
            entity: "survey",
            entity_id: created.id.to_string(),
            action: "create",
            region_code: Some(created.region_code.clone()),
            before: None,
            after: Some(&created),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(created)
}

/// May `acting` do `action` to the surveys of the region given as text? Anonymous callers
/// may do nothing; a malformed code is left to validation.
///
/// # Errors
/// [`RegistryError::Denied`].
pub fn authorize(acting: &Acting<'_>, action: Action, raw: &str) -> Result<(), RegistryError> {
    acting.require(|| format!("surveys of {}", raw.trim()))?;
    if let Ok(code) = RegionCode::parse(raw.trim()) {
        acting.authorize(action, Some(&code), || format!("region with code {code}"))?;
    }
    Ok(())
}

/// The village with code `raw`, which must exist and be village-level (`code` names the
/// field).
///
/// # Errors
/// Invalid or unknown code, not a village, or the database fails.
pub async fn village(db: &impl ConnectionTrait, raw: &str) -> Result<Region, RegistryError> {
    let code = RegionCode::parse(raw)
        .map_err(|_| RegistryError::invalid("code", "must be a 12-digit region code"))?;
    let region = regions::find(db, &code)
        .await?
        .ok_or_else(|| RegistryError::not_found(format!("region with code {code}")))?;
    if region.level != Level::Village {
        return Err(RegistryError::invalid(
            "code",
            format!(
                "surveys are recorded for village-level units; {} is a {}",
                region.name, region.level
            ),
        ));
    }
    Ok(region)
}

/// A recorded survey, and whether it became the village's current one (a survey dated before
/// the current one is history).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub survey: village_survey::Model,
    pub current: bool,
}

/// Records a survey of the village with code `village` (in its own write transaction): the
/// caller may create surveys there, the village exists and is village-level, the survey keeps
/// every rule.
///
/// # Errors
/// Denied, invalid code or fields (every one named), no such region, or the database fails.
pub async fn record(
    db: &DatabaseConnection,
    village: &str,
    survey: NewSurvey,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Recorded, RegistryError> {
    authorize(acting, Action::Create, village)?;
    let village = self::village(db, village).await?;
    let txn = crate::db::begin_write(db).await?;
    let created = record_village(&txn, &village, survey, acting, now).await?;
    let current = store::current(&txn, &village.code)
        .await?
        .is_some_and(|c| c.id == created.id);
    txn.commit().await?;
    Ok(Recorded {
        survey: created,
        current,
    })
}

/// [`record`] inside the caller's write transaction (what the demo network is loaded with).
///
/// # Errors
/// As [`record`].
pub async fn record_in(
    txn: &impl ConnectionTrait,
    village: &str,
    survey: NewSurvey,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<village_survey::Model, RegistryError> {
    authorize(acting, Action::Create, village)?;
    let village = self::village(txn, village).await?;
    record_village(txn, &village, survey, acting, now).await
}

async fn record_village(
    txn: &impl ConnectionTrait,
    village: &Region,
    survey: NewSurvey,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<village_survey::Model, RegistryError> {
    // Checked inside the transaction, with the village locked (PostgreSQL; SQLite's write
    // transaction is exclusive already), so that the "previous survey" the 3x rule compares
    // with cannot change under us.
    regions::lock(txn, std::slice::from_ref(&village.code)).await?;
    let row = check(txn, village, survey, today(now)).await?;
    insert(txn, row, acting, now).await
}

/// The survey history of the village with code `village`, the current survey first.
///
/// # Errors
/// Denied, invalid code, no such region, not a village, or the database fails.
pub async fn history(
    db: &impl ConnectionTrait,
    village: &str,
    acting: &Acting<'_>,
) -> Result<Vec<village_survey::Model>, RegistryError> {
    authorize(acting, Action::Read, village)?;
    let village = self::village(db, village).await?;
    Ok(store::history(db, &village.code).await?)
}

/// At most this many townships are offered by [`desk`] (an unbound admin reaches every
/// township of the database; an official one or a few).
pub const MAX_DESK_TOWNSHIPS: u64 = 1000;

/// A village of a township's entry flow, with its current survey (if any).
#[derive(Debug, Clone)]
pub struct EntryVillage {
    pub village: Region,
    pub current: Option<village_survey::Model>,
}

/// A township's village-level units in code order, each with its current survey: what the
/// survey entry flow walks through, one village after the other.
#[derive(Debug, Clone)]
pub struct TownshipEntry {
    pub township: Region,
    pub villages: Vec<EntryVillage>,
}

impl TownshipEntry {
    /// Where `code` is in the flow (0-based), if it is one of the township's villages.
    #[must_use]
    pub fn position(&self, code: &str) -> Option<usize> {
        self.villages
            .iter()
            .position(|v| v.village.code.as_str() == code)
    }
}

/// The townships where the acting account records surveys and, for the township asked for
/// (or the only one it has), that township's entry flow.
#[derive(Debug, Clone)]
pub struct SurveyDesk {
    /// In code order, at most [`MAX_DESK_TOWNSHIPS`].
    pub townships: Vec<Region>,
    pub chosen: Option<TownshipEntry>,
}

/// The townships where `acting` may record surveys (its write scope), in code order.
async fn desk_townships(
    db: &impl ConnectionTrait,
    acting: &Acting<'_>,
) -> Result<Vec<Region>, RegistryError> {
    acting.require(|| "surveys".to_owned())?;
    let reach = match (acting.trusted, acting.principal) {
        (true, _) => Visibility::All,
        (false, Some(principal)) => policy::write_scope(principal),
        (false, None) => Visibility::Within(vec![]),
    };
    let filter = RegionFilter {
        level: Some(Level::Township),
        limit: MAX_DESK_TOWNSHIPS,
        reach: Some(reach),
        ..RegionFilter::default()
    };
    Ok(regions::list(db, &filter).await?)
}

/// The survey desk of `acting`: the townships where it records surveys, and the entry flow of
/// `township` (a code, as given) or, when none is asked for and it has only one, of that one.
///
/// # Errors
/// As [`township_entry`]; nobody signed in is denied.
pub async fn desk(
    db: &impl ConnectionTrait,
    township: Option<&str>,
    acting: &Acting<'_>,
) -> Result<SurveyDesk, RegistryError> {
    let townships = desk_townships(db, acting).await?;
    let wanted = match (township, townships.as_slice()) {
        (Some(code), _) => Some(code.to_owned()),
        (None, [only]) => Some(only.code.to_string()),
        (None, _) => None,
    };
    let chosen = match wanted {
        Some(code) => Some(township_entry(db, &code, acting).await?),
        None => None,
    };
    Ok(SurveyDesk { townships, chosen })
}

/// The entry flow of the township that `raw` names (a township, or a village of it): its
/// village-level units in code order with their current surveys. Asked as recording a survey
/// in that township is (the policy's [`Action::Create`]), since the flow is for entering.
///
/// # Errors
/// Denied; an invalid code, or one above township level (`code`); no such region; or the
/// database fails.
pub async fn township_entry(
    db: &impl ConnectionTrait,
    raw: &str,
    acting: &Acting<'_>,
) -> Result<TownshipEntry, RegistryError> {
    let code = RegionCode::parse(raw.trim())
        .map_err(|_| RegistryError::invalid("code", "must be a 12-digit region code"))?;
    let township_code = code.township().ok_or_else(|| {
        RegistryError::invalid("code", "surveys are entered township by township")
    })?;
    authorize(acting, Action::Create, township_code.as_str())?;
    let township = regions::find(db, &township_code)
        .await?
        .ok_or_else(|| RegistryError::not_found(format!("region with code {township_code}")))?;
    if township.level != Level::Township {
        return Err(RegistryError::invalid(
            "code",
            format!("{} is a {}, not a township", township.name, township.level),
        ));
    }
    let villages = regions::villages_in(db, &township.code, Level::Township).await?;
    let (lo, hi) = township.code.subtree_bounds(Level::Township);
    let mut current: HashMap<String, village_survey::Model> = store::current_in_range(db, &lo, &hi)
        .await?
        .into_iter()
        .map(|s| (s.region_code.clone(), s))
        .collect();
    let villages = villages
        .into_iter()
        .map(|village| EntryVillage {
            current: current.remove(village.code.as_str()),
            village,
        })
        .collect();
    Ok(TownshipEntry { township, villages })
}

/// A stored survey's source (a fault of ours when it does not read back).
///
/// # Errors
/// [`RegistryError::Corrupt`].
pub fn source_of(survey: &village_survey::Model) -> Result<SurveySource, RegistryError> {
    SurveySource::parse(&survey.source).ok_or_else(|| {
        RegistryError::Corrupt(anyhow::anyhow!(
            "survey {}: stored source {:?}",
            survey.id,
            survey.source
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    fn survey() -> NewSurvey {
        NewSurvey {
            eligible_total: 600,
            male: Some(310),
            female: Some(290),
            age_18_34: Some(200),
            age_35_54: Some(300),
            age_55_60: Some(100),
            away_for_work: Some(180),
            known_donors: Some(40),
            surveyed_on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            source: SurveySource::VillageDoctor,
            surveyed_by: Some(" 李医生 ".into()),
            notes: Some("line one\nline two".into()),
            confirm_large_change: false,
            based_on: None,
        }
    }

    fn broken(s: &NewSurvey, previous: Option<i64>) -> Vec<(String, String)> {
        violations(s, today(), previous)
            .0
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    fn fields(s: &NewSurvey, previous: Option<i64>) -> Vec<String> {
        broken(s, previous).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn the_count_message_names_max_count() {
        assert_eq!(MAX_COUNT, 1_000_000, "the range message says 1000000");
    }

    #[test]
    fn a_consistent_survey_passes() {
        assert!(broken(&survey(), Some(550)).is_empty());
        let bare = NewSurvey {
            eligible_total: 10,
            male: None,
            female: None,
            age_18_34: None,
            age_35_54: None,
            age_55_60: None,
            away_for_work: None,
            known_donors: None,
            surveyed_on: today(),
            surveyed_by: None,
            notes: None,
            ..survey()
        };
        assert!(broken(&bare, None).is_empty());
    }

    #[test]
    fn each_rule_names_its_field_with_its_message() {
        let count = "must be a whole number between 0 and 1000000";
        let cases: Vec<(NewSurvey, &str, &str)> = vec![
            (
                NewSurvey {
                    eligible_total: -1,
                    ..survey()
                },
                "eligible_total",
                count,
            ),
            (
                NewSurvey {
                    known_donors: Some(1_000_001),
                    ..survey()
                },
                "known_donors",
                count,
            ),
            (
                NewSurvey {
                    male: Some(300),
                    ..survey()
                },
                "male",
                "male (300) and female (290) add up to 590, not eligible_total (600)",
            ),
            (
                NewSurvey {
                    female: None,
                    ..survey()
                },
                "female",
                "give male and female together",
            ),
            (
                NewSurvey {
                    age_55_60: Some(99),
                    ..survey()
                },
                "age_18_34",
                "the age bands add up to 599, not eligible_total (600)",
            ),
            (
                NewSurvey {
                    age_35_54: None,
                    ..survey()
                },
                "age_35_54",
                "give all three age bands, or none",
            ),
            (
                NewSurvey {
                    away_for_work: Some(601),
                    ..survey()
                },
                "away_for_work",
                "cannot be above eligible_total (600)",
            ),
            (
                NewSurvey {
                    known_donors: Some(601),
                    ..survey()
                },
                "known_donors",
                "cannot be above eligible_total (600)",
            ),
            (
                NewSurvey {
                    surveyed_on: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
                    ..survey()
                },
                "surveyed_on",
                "must not be in the future",
            ),
            (
                NewSurvey {
                    surveyed_on: NaiveDate::from_ymd_opt(1949, 9, 30).unwrap(),
                    ..survey()
                },
                "surveyed_on",
                "must not be before 1949-10-01",
            ),
            (
                NewSurvey {
                    surveyed_by: Some("x".repeat(101)),
                    ..survey()
                },
                "surveyed_by",
                "must be at most 100 characters",
            ),
            (
                NewSurvey {
                    surveyed_by: Some("a\nb".into()),
                    ..survey()
                },
                "surveyed_by",
                "must not contain control characters or line breaks",
            ),
            (
                NewSurvey {
                    notes: Some("a\u{0}b".into()),
                    ..survey()
                },
                "notes",
                "must not contain control characters other than line breaks and tabs",
            ),
        ];
        for (s, field, message) in cases {
            assert_eq!(
                broken(&s, None),
                [(field.to_owned(), message.to_owned())],
                "{s:?}"
            );
        }
    }

    #[test]
    fn every_fault_is_named_at_once_but_sums_of_out_of_range_figures_are_not() {
        let many = NewSurvey {
            male: Some(300),
            age_35_54: None,
            known_donors: Some(601),
            surveyed_on: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            notes: Some("a\u{0}b".into()),
            ..survey()
        };
        let mut found = fields(&many, Some(100));
        found.sort();
        assert_eq!(
            found,
            [
                "age_35_54",
                "eligible_total",
                "known_donors",
                "male",
                "notes",
                "surveyed_on"
            ]
        );
        // A negative total: the sums, the date and the 3x rule are not checked, the text is.
        let out_of_range = NewSurvey {
            eligible_total: -5,
            male: Some(1),
            surveyed_on: NaiveDate::from_ymd_opt(1900, 1, 1).unwrap(),
            surveyed_by: Some("x".repeat(101)),
            ..survey()
        };
        let mut found = fields(&out_of_range, Some(100));
        found.sort();
        assert_eq!(found, ["eligible_total", "surveyed_by"]);
    }

    #[test]
    fn large_changes_need_confirmation() {
        assert_eq!(fields(&survey(), Some(150)), ["eligible_total"]);
        assert!(
            broken(&survey(), Some(150))[0]
                .1
                .contains("send \"confirm_large_change\": true")
        );
        assert_eq!(fields(&survey(), Some(1801)), ["eligible_total"]);
        assert!(
            fields(&survey(), Some(200)).is_empty(),
            "exactly 3x is fine"
        );
        let confirmed = NewSurvey {
            confirm_large_change: true,
            ..survey()
        };
        assert!(fields(&confirmed, Some(150)).is_empty());
    }
}
