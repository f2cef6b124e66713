//! The body of `POST /api/v1/plans`, which is also the file `donornet plan --export-instance`
//! reads, and the checks that need no database.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{PlansError, all_valid};
use crate::domain::region::RegionCode;
use crate::error::FieldErrors;
use crate::planning::assemble::planning_days;
use crate::planning::calendar;
use crate::planning::instance::{Instance, InvalidInstance, MAX_DAYS, Travel};
use crate::planning::turnout::TurnoutOverrides;

/// Defaults and bounds of the request's numbers.
pub const DEFAULT_MIN_EXPECTED_DONORS: f64 = 10.0;
pub const MAX_MIN_EXPECTED_DONORS: f64 = 2000.0;
/// Whole blood: 180 days between donations.
pub const DEFAULT_MIN_DAYS_BETWEEN_VISITS: u32 = 180;
pub const MAX_MIN_DAYS_BETWEEN_VISITS: u32 = 3650;
pub const DEFAULT_TIME_LIMIT_SECS: u64 = 30;
pub const MAX_TIME_LIMIT_SECS: u64 = 120;
pub const MAX_ITERATIONS: u64 = 1_000_000;
pub const MAX_LISTED: usize = 1000;
/// Upper bounds of the numbers of a travel model and of an instance given inline. The
/// instance's own checks only require them finite and not negative; beyond these bounds the
/// planner's sums overflow to infinity (stored and answered as `null`, which breaks exports).
pub const MAX_DETOUR: f64 = 10.0;
pub const SPEED_KMH: (f64, f64) = (1.0, 300.0);
/// Half the Earth's circumference.
pub const MAX_MATRIX_KM: f64 = 20_000.0;
/// A fortnight.
pub const MAX_MATRIX_MINUTES: f64 = 20_160.0;
pub const MAX_STOP_MINUTES: f64 = 1440.0;
pub const MAX_COST_PER_KM: f64 = 1000.0;
pub const MAX_EXPECTED_DONORS: f64 = 100_000.0;
pub const MAX_ML_PER_DONOR: f64 = 10_000.0;
pub const MAX_ML_PER_YUAN: f64 = 1_000_000.0;
/// A site's `value` for a day (format v2): the most donors at the most mL each.
pub const MAX_SITE_VALUE: f64 = MAX_EXPECTED_DONORS * MAX_ML_PER_DONOR;

/// Which places may be stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Candidates {
    /// The region's active points (`point-<id>`).
    #[default]
    Points,
    /// Those, and every township and village of the region with surveyed eligible donors and
    /// no active point within 2 km (`region-<code>`; the 2,000 with the most eligible donors).
    PointsAndUnserved,
}

/// A stop the plan must make.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixedRequest {
    /// A candidate site: `point-<id>` or `region-<code>`.
    #[schema(example = "point-12")]
    pub site: String,
    pub date: NaiveDate,
    /// The vehicle (id) that must make it; any vehicle when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<i64>,
}

/// A stop the plan must not make: at `site` on `date`, or on any day without a date.
/// A host organisation the plan may stop at (a group drive, issue 16).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostRequest {
    /// The host's id (its site is `host-<id>`): in the plan's region, readable by the caller.
    #[schema(example = 3)]
    pub host: i64,
    /// The expected donors there, when agreed with the host; default: its typical headcount
    /// times the participation share (0.25). 1 to 100,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signup_goal: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForbiddenRequest {
    #[schema(example = "point-12")]
    pub site: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
}

fn default_min_expected_donors() -> f64 {
    DEFAULT_MIN_EXPECTED_DONORS
}

fn default_min_days_between_visits() -> u32 {
    DEFAULT_MIN_DAYS_BETWEEN_VISITS
}

fn default_time_limit_secs() -> u64 {
    DEFAULT_TIME_LIMIT_SECS
}

fn default_seed() -> u64 {
    1
}

/// A drive plan to make. Only `region`, `from` and `to` are required.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// The region to plan (12 digits, any level).
    #[schema(example = "411102000000")]
    pub region: String,
    /// The first day, and the last (inclusive): at most 60 days.
    #[schema(example = "2026-12-01")]
    pub from: NaiveDate,
    #[schema(example = "2026-12-20")]
    pub to: NaiveDate,
    /// Vehicle ids (active, at an active station). Default: every active vehicle, readable by
    /// the caller, whose station lies in the region or above it (a city's station serves its
    /// counties). The stored request lists the vehicles used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicles: Option<Vec<i64>>,
    /// `points` (default) or `points_and_unserved`.
    #[serde(default)]
    pub candidates: Candidates,
    /// Days no vehicle drives (within `from`..`to`).
    #[serde(default)]
    pub blackout_dates: Vec<NaiveDate>,
    /// A stop must expect at least this many donors (default 10; 0 to 2000).
    #[serde(default = "default_min_expected_donors")]
    pub min_expected_donors: f64,
    /// Days between two visits to the same site (default 180 for whole blood; 0 to 3650).
    #[serde(default = "default_min_days_between_visits")]
    pub min_days_between_visits: u32,
    /// Host organisations the plan may stop at (candidates beside the points); a host named
    /// in `fixed` (`host-<id>`) is one without being listed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostRequest>,
    /// Stops the plan must make.
    #[serde(default)]
    pub fixed: Vec<FixedRequest>,
    /// Stops the plan must not make.
    #[serde(default)]
    pub forbidden: Vec<ForbiddenRequest>,
    /// `{"model": "straight_line", "detour": 1.3, "speed_kmh": 40}` (default), or
    /// `{"model": "matrix", "ids": [...], "km": [[...]], "minutes": [[...]]}` over every
    /// station (`station-<id>`) and site id.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub travel: Travel,
    /// Stop the search after this many seconds (default 30; 1 to 120).
    #[serde(default = "default_time_limit_secs")]
    pub time_limit_secs: u64,
    /// The search's random seed (default 1): the same request and seed give the same plan.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Improvement iterations (default: chosen from the instance's size; 1 to 1,000,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,
    /// Turnout parameters to use instead of those in force (`rate`, `decay_km`,
    /// `catchment_km`, `weekend_factor`, `market_factor`), for this plan only.
    #[serde(default, skip_serializing_if = "TurnoutOverrides::is_empty")]
    pub turnout: TurnoutOverrides,
}

/// What the checks of [`PlanRequest::check`] establish.
#[derive(Clone, Debug)]
pub struct CheckedRequest {
    pub region: RegionCode,
    pub days: Vec<NaiveDate>,
}

impl PlanRequest {
    /// Every rule that needs no database; every broken one is reported at once, each naming
    /// its field (`to`, `blackout_dates[2]`, `fixed[0].date`, …).
    ///
    /// # Errors
    /// [`PlansError::Invalid`], every broken field named.
    pub fn check(&self) -> Result<CheckedRequest, PlansError> {
        let mut errors = FieldErrors::default();
        let region = RegionCode::parse(self.region.trim())
            .map_err(|_| errors.add("region", "must be a 12-digit region code"))
            .ok();
        for (field, date) in [("from", self.from), ("to", self.to)] {
            if !calendar::covers(date) {
                errors.add(field, calendar::not_covered(date));
            }
        }
        for (field, message) in self.turnout.problems() {
            errors.add(&format!("turnout.{field}"), message);
        }
        let span = (self.to - self.from).num_days() + 1;
        if span < 1 {
            errors.add("to", format!("must not be before from ({})", self.from));
        } else if span > MAX_DAYS as i64 {
            errors.add(
                "to",
                format!("the plan spans {span} days; at most {MAX_DAYS}"),
            );
        }
        let in_range = |d: &NaiveDate| (self.from..=self.to).contains(d);
        for (i, d) in self.blackout_dates.iter().enumerate() {
            if !in_range(d) {
                errors.add(
                    &format!("blackout_dates[{i}]"),
                    format!("{d} is outside {} to {}", self.from, self.to),
                );
            }
        }
        let days = if errors.has("to") {
            vec![]
        } else {
            planning_days(self.from, self.to, &self.blackout_dates)
        };
        if !errors.has("to") && days.is_empty() {
            errors.add("blackout_dates", "leave no day to plan");
        }
        if !(self.min_expected_donors.is_finite()
            && (0.0..=MAX_MIN_EXPECTED_DONORS).contains(&self.min_expected_donors))
        {
            errors.add(
                "min_expected_donors",
                format!("must be between 0 and {MAX_MIN_EXPECTED_DONORS}"),
            );
        }
        if self.min_days_between_visits > MAX_MIN_DAYS_BETWEEN_VISITS {
            errors.add(
                "min_days_between_visits",
                format!("must be between 0 and {MAX_MIN_DAYS_BETWEEN_VISITS}"),
            );
        }
        if !(1..=MAX_TIME_LIMIT_SECS).contains(&self.time_limit_secs) {
            errors.add(
                "time_limit_secs",
                format!("must be between 1 and {MAX_TIME_LIMIT_SECS}"),
            );
        }
        if i64::try_from(self.seed).is_err() {
            errors.add("seed", format!("must be between 0 and {}", i64::MAX));
        }
        if self
            .iterations
            .is_some_and(|n| !(1..=MAX_ITERATIONS).contains(&n))
        {
            errors.add(
                "iterations",
                format!("must be between 1 and {MAX_ITERATIONS}"),
            );
        }
        if let Some(vehicles) = &self.vehicles {
            if vehicles.is_empty() {
                errors.add("vehicles", "name at least one vehicle, or leave it out");
            }
            for (i, id) in vehicles.iter().enumerate() {
                if vehicles[..i].contains(id) {
                    errors.add(&format!("vehicles[{i}]"), format!("repeats vehicle {id}"));
                }
            }
        }
        for (i, h) in self.hosts.iter().enumerate() {
            if self.hosts[..i].iter().any(|o| o.host == h.host) {
                errors.add(
                    &format!("hosts[{i}].host"),
                    format!("repeats host {}", h.host),
                );
            }
            if h.signup_goal.is_some_and(|g| !(1..=100_000).contains(&g)) {
                errors.add(
                    &format!("hosts[{i}].signup_goal"),
                    "must be between 1 and 100000",
                );
            }
        }
        for (field, n) in [
            ("hosts", self.hosts.len()),
            ("fixed", self.fixed.len()),
            ("forbidden", self.forbidden.len()),
        ] {
            if n > MAX_LISTED {
                errors.add(field, format!("at most {MAX_LISTED} entries"));
            }
        }
        for (i, f) in self.fixed.iter().enumerate() {
            if !errors.has("to") && !days.contains(&f.date) {
                errors.add(
                    &format!("fixed[{i}].date"),
                    format!("{} is not one of the plan's days", f.date),
                );
            }
            if let Some(v) = f.vehicle
                && self.vehicles.as_ref().is_some_and(|vs| !vs.contains(&v))
            {
                errors.add(
                    &format!("fixed[{i}].vehicle"),
                    format!("vehicle {v} is not among the plan's vehicles"),
                );
            }
        }
        if let Some((field, message)) = travel_out_of_bounds(&self.travel) {
            errors.add(&format!("travel.{field}"), message);
        }
        for (i, f) in self.forbidden.iter().enumerate() {
            if let Some(d) = f.date
                && !in_range(&d)
            {
                errors.add(
                    &format!("forbidden[{i}].date"),
                    format!("{d} is outside {} to {}", self.from, self.to),
                );
            }
        }
        all_valid(errors)?;
        Ok(CheckedRequest {
            region: region.expect("checked above"),
            days,
        })
    }
}

/// The first number of `travel` outside its bounds (`field` relative to the travel model), as
/// (field, message). NaN and negative numbers are left to `Instance::validate`.
pub fn travel_out_of_bounds(travel: &Travel) -> Option<(String, String)> {
    match travel {
        Travel::StraightLine { detour, speed_kmh } => {
            if *detour > MAX_DETOUR {
                return Some((
                    "detour".to_owned(),
                    format!("must be between 1 and {MAX_DETOUR}"),
                ));
            }
            let (lo, hi) = SPEED_KMH;
            if speed_kmh.is_finite() && *speed_kmh > 0.0 && !(lo..=hi).contains(speed_kmh) {
                return Some((
                    "speed_kmh".to_owned(),
                    format!("must be between {lo} and {hi}"),
                ));
            }
            None
        }
        Travel::Matrix { km, minutes, .. } => {
            for (name, matrix, max) in [
                ("km", km, MAX_MATRIX_KM),
                ("minutes", minutes, MAX_MATRIX_MINUTES),
            ] {
                for (i, row) in matrix.iter().enumerate() {
                    if let Some(j) = row.iter().position(|v| *v > max) {
                        return Some((
                            format!("{name}[{i}][{j}]"),
                            format!("must be between 0 and {max}"),
                        ));
                    }
                }
            }
            None
        }
    }
}

/// The bounds an instance given inline (`POST /api/v1/plans/check`) keeps beyond
/// `Instance::validate`, so that every time and total the check answers stays finite.
///
/// # Errors
/// The first number out of bounds, naming its field.
pub fn check_instance_bounds(instance: &Instance) -> Result<(), InvalidInstance> {
    let out = |field: String, max: f64| InvalidInstance {
        field,
        message: format!("must be between 0 and {max}"),
    };
    for (i, v) in instance.vehicles.iter().enumerate() {
        for (name, value, max) in [
            ("setup_min", v.setup_min, MAX_STOP_MINUTES),
            ("teardown_min", v.teardown_min, MAX_STOP_MINUTES),
            ("cost_per_km", v.cost_per_km, MAX_COST_PER_KM),
        ] {
            if value > max {
                return Err(out(format!("vehicles[{i}].{name}"), max));
            }
        }
    }
    for (i, s) in instance.sites.iter().enumerate() {
        if let Some(d) = s.expected.iter().position(|e| *e > MAX_EXPECTED_DONORS) {
            return Err(out(
                format!("sites[{i}].expected[{d}]"),
                MAX_EXPECTED_DONORS,
            ));
        }
        if let Some(d) = s.value.iter().flatten().position(|v| *v > MAX_SITE_VALUE) {
            return Err(out(format!("sites[{i}].value[{d}]"), MAX_SITE_VALUE));
        }
        if s.extra_service_min.is_some_and(|m| m > MAX_STOP_MINUTES) {
            return Err(out(
                format!("sites[{i}].extra_service_min"),
                MAX_STOP_MINUTES,
            ));
        }
    }
    let r = &instance.rules;
    for (name, value, max) in [
        (
            "min_expected_donors",
            r.min_expected_donors,
            MAX_EXPECTED_DONORS,
        ),
        ("ml_per_donor", r.ml_per_donor, MAX_ML_PER_DONOR),
        ("ml_per_yuan", r.ml_per_yuan, MAX_ML_PER_YUAN),
        (
            "bed_minutes_per_donor",
            r.bed_minutes_per_donor,
            MAX_STOP_MINUTES,
        ),
    ] {
        if value > max {
            return Err(out(format!("rules.{name}"), max));
        }
    }
    if let Some((field, message)) = travel_out_of_bounds(&instance.travel) {
        return Err(InvalidInstance {
            field: format!("travel.{field}"),
            message,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: serde_json::Value) -> PlanRequest {
        serde_json::from_value(body).unwrap()
    }

    fn fields(r: &PlanRequest) -> Vec<String> {
        match r.check() {
            Ok(_) => vec![],
            Err(PlansError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn defaults_fill_in() {
        let r = request(
            serde_json::json!({"region": "411102000000", "from": "2026-12-01", "to": "2026-12-20"}),
        );
        assert_eq!(r.candidates, Candidates::Points);
        assert_eq!(r.min_expected_donors, 10.0);
        assert_eq!(r.min_days_between_visits, 180);
        assert_eq!(r.time_limit_secs, 30);
        assert_eq!(r.seed, 1);
        assert_eq!(r.travel, Travel::default());
        let checked = r.check().unwrap();
        assert_eq!(checked.days.len(), 20);
    }

    #[test]
    fn every_broken_rule_names_its_field() {
        let r = request(serde_json::json!({
            "region": "4111", "from": "2026-12-01", "to": "2027-02-01",
            "min_expected_donors": -1, "time_limit_secs": 0, "iterations": 0,
            "vehicles": [3, 3], "blackout_dates": ["2027-03-01"]
        }));
        assert_eq!(
            fields(&r),
            [
                "region",
                "to",
                "blackout_dates[0]",
                "min_expected_donors",
                "time_limit_secs",
                "iterations",
                "vehicles[1]"
            ]
        );
        let r = request(serde_json::json!({
            "region": "411102000000", "from": "2026-12-05", "to": "2026-12-01"
        }));
        assert_eq!(fields(&r), ["to"]);
        let r = request(serde_json::json!({
            "region": "411102000000", "from": "2026-12-01", "to": "2026-12-02",
            "blackout_dates": ["2026-12-01", "2026-12-02"]
        }));
        assert_eq!(fields(&r), ["blackout_dates"]);
        let r = request(serde_json::json!({
            "region": "411102000000", "from": "2026-12-01", "to": "2026-12-03",
            "blackout_dates": ["2026-12-02"], "vehicles": [1],
            "fixed": [{"site": "point-1", "date": "2026-12-02"},
                      {"site": "point-1", "date": "2026-12-03", "vehicle": 2}],
            "forbidden": [{"site": "point-1", "date": "2026-12-09"}]
        }));
        assert_eq!(
            fields(&r),
            ["fixed[0].date", "fixed[1].vehicle", "forbidden[0].date"]
        );
        // Sixty days is the most.
        let r = request(serde_json::json!({
            "region": "411102000000", "from": "2026-12-01", "to": "2027-01-29"
        }));
        assert_eq!(fields(&r), Vec::<String>::new());
        let r = request(serde_json::json!({
            "region": "411102000000", "from": "2026-12-01", "to": "2027-01-30"
        }));
        assert_eq!(fields(&r), ["to"]);
    }

    #[test]
    fn dates_outside_the_lunar_calendar_are_refused() {
        let r = request(serde_json::json!({
            "region": "411102000000", "from": "9999-12-01", "to": "9999-12-03"
        }));
        assert_eq!(fields(&r), ["from", "to"]);
        let r = request(serde_json::json!({
            "region": "411102000000", "from": "2101-01-20", "to": "2101-02-03"
        }));
        assert_eq!(fields(&r), ["to"]);
        let r = request(serde_json::json!({
            "region": "411102000000", "from": "1900-12-30", "to": "1901-01-03"
        }));
        assert_eq!(fields(&r), ["from", "to"]);
    }

    #[test]
    fn travel_numbers_are_bounded() {
        for (travel, field) in [
            (
                serde_json::json!({"model": "straight_line", "detour": 1e308, "speed_kmh": 40}),
                "travel.detour",
            ),
            (
                serde_json::json!({"model": "straight_line", "detour": 1.3, "speed_kmh": 1e-300}),
                "travel.speed_kmh",
            ),
            (
                serde_json::json!({"model": "matrix", "ids": ["a", "b"],
                                   "km": [[0, 1], [1e308, 0]], "minutes": [[0, 1], [1, 0]]}),
                "travel.km[1][0]",
            ),
            (
                serde_json::json!({"model": "matrix", "ids": ["a", "b"],
                                   "km": [[0, 1], [1, 0]], "minutes": [[0, 1e300], [1, 0]]}),
                "travel.minutes[0][1]",
            ),
        ] {
            let r = request(serde_json::json!({
                "region": "411102000000", "from": "2026-12-01", "to": "2026-12-03",
                "travel": travel
            }));
            assert_eq!(fields(&r), [field]);
        }
    }
}
