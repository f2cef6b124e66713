//! The planning instance: everything the planner needs, as one self-contained value that can
//! be written to a JSON file and solved by any solver (`donornet plan --export-instance`,
//! `donornet plan --instance`). The format is documented in the README ("Plan instances").
//!
//! An instance is deliberately flat: expected donors are given per site and per day, already
//! forecast (with market days, weekends, the festival and recent donations folded in), so a
//! solver needs no calendar and no turnout model, only routing.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveTime, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::geo::Wgs84Point;

/// The `format` tag of an instance file, as written: version 2 (per site and day a `value`
/// beside the `expected` donors, per site `extra_service_min`).
pub const INSTANCE_FORMAT: &str = "donornet.plan-instance.v2";
/// The first version of the format, still read: as v2 without `value` and `extra_service_min`.
pub const INSTANCE_FORMAT_V1: &str = "donornet.plan-instance.v1";
/// The `format` tag of a plan (a solution) file.
pub const PLAN_FORMAT: &str = "donornet.plan.v1";

/// A planning problem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// [`INSTANCE_FORMAT`], or [`INSTANCE_FORMAT_V1`] for a file of the first version.
    pub format: String,
    #[serde(default)]
    pub name: String,
    /// The days the vehicles may drive, ascending, blackout dates already removed.
    pub days: Vec<NaiveDate>,
    pub stations: Vec<Station>,
    pub vehicles: Vec<Vehicle>,
    pub sites: Vec<Site>,
    #[serde(default)]
    pub travel: Travel,
    #[serde(default)]
    pub rules: Rules,
    /// Stops that must be in the plan.
    #[serde(default)]
    pub fixed: Vec<FixedStop>,
    /// Stops that must not be in the plan.
    #[serde(default)]
    pub forbidden: Vec<ForbiddenStop>,
}

/// A blood station: where vehicles start and end each day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Station {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub lon: f64,
    pub lat: f64,
}

/// A bloodmobile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vehicle {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The id of its home station.
    pub station: String,
    /// Donation beds: donors are bled this many at a time.
    pub beds: u32,
    /// Most donors the team can take in a day.
    pub max_donors: u32,
    /// The working window: leave the station no earlier than `day_start`, be back by `day_end`.
    #[serde(with = "clock")]
    pub day_start: u32,
    #[serde(with = "clock")]
    pub day_end: u32,
    /// Minutes to set up at a stop (sign, beds, registration desk) and to pack up after it.
    pub setup_min: f64,
    pub teardown_min: f64,
    /// Running cost, yuan per km.
    pub cost_per_km: f64,
    /// Days (among `days`) the vehicle is not available.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<NaiveDate>,
}

/// A candidate stop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    /// Expected donors of a drive here, one value per entry of `days`: the vehicle's load, the
    /// bed time and the minimum-donors rule use them.
    pub expected: Vec<f64>,
    /// v2: what a stop here is worth in the objective (mL-equivalents) when all `expected`
    /// donors are taken, one value per entry of `days`. Absent: `expected[d] x
    /// rules.ml_per_donor`. A stop that takes fewer donors (the vehicle's `max_donors`) is worth
    /// its share: `value[d] x donors / expected[d]` (0 when nobody is expected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Vec<f64>>,
    /// v2: minutes added to every stop here, on top of the vehicle's setup, the draw and the
    /// teardown (a school hall takes longer to set up than a market square). Absent: 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_service_min: Option<f64>,
    /// The last drive here before the plan, if any: no stop until `min_days_between_visits`
    /// have passed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_visit: Option<NaiveDate>,
}

/// How far and how long between two places.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum Travel {
    /// Great-circle distance times `detour`, driven at `speed_kmh`.
    StraightLine { detour: f64, speed_kmh: f64 },
    /// Road distances (km) and times (minutes) between the places named in `ids` (station and
    /// site ids), row = from, column = to.
    Matrix {
        ids: Vec<String>,
        km: Vec<Vec<f64>>,
        minutes: Vec<Vec<f64>>,
    },
}

impl Default for Travel {
    fn default() -> Self {
        Travel::StraightLine {
            detour: 1.3,
            speed_kmh: 40.0,
        }
    }
}

/// The rules every plan keeps, and the value of blood against travel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// A stop must expect at least this many donors to be worth making.
    pub min_expected_donors: f64,
    /// Days between two stops at the same site (whole blood: 180).
    pub min_days_between_visits: u32,
    /// Millilitres collected per donor (whole blood: 400 mL in China's standard units).
    pub ml_per_donor: f64,
    /// How many millilitres of blood a yuan of travel is worth giving up (the objective is in
    /// millilitres: collected mL minus km x cost_per_km x ml_per_yuan).
    pub ml_per_yuan: f64,
    /// Minutes a donor occupies a bed (registration, screening and the draw overlap on the
    /// other beds): a stop lasts setup + donors x bed_minutes / beds + teardown.
    pub bed_minutes_per_donor: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            min_expected_donors: 10.0,
            min_days_between_visits: 180,
            ml_per_donor: 400.0,
            ml_per_yuan: 1.5,
            bed_minutes_per_donor: 15.0,
        }
    }
}

/// A stop the plan must make. Without `vehicle`, any vehicle may make it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedStop {
    pub site: String,
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<String>,
}

/// A stop the plan must not make: at `site` on `date`, or on any day without a date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForbiddenStop {
    pub site: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
}

/// A plan as a person or another solver writes it: which vehicle goes where on which day, in
/// order. Times are optional: a stop starts when the vehicle arrives, or at `start` if later.
///
/// Fields the planner adds to its output (arrival times, totals, reasons…) are ignored on input,
/// so a printed plan can be edited and checked again.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct PlanInput {
    #[serde(default)]
    pub format: Option<String>,
    pub routes: Vec<RouteInput>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteInput {
    pub vehicle: String,
    pub date: NaiveDate,
    /// Leave the station at this time (default: the vehicle's `day_start`).
    #[serde(default, with = "opt_clock", skip_serializing_if = "Option::is_none")]
    pub depart: Option<u32>,
    pub stops: Vec<StopInput>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StopInput {
    pub site: String,
    #[serde(default, with = "opt_clock", skip_serializing_if = "Option::is_none")]
    pub start: Option<u32>,
}

/// Why an instance cannot be planned at all, with the field to blame.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidInstance {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> InvalidInstance {
    InvalidInstance {
        field: field.into(),
        message: message.into(),
    }
}

/// Most days a plan may span.
pub const MAX_DAYS: usize = 60;

impl Instance {
    /// Checks the instance is consistent: ids unique and resolvable, one expected value per
    /// day, days ascending, windows and numbers sensible. Both versions of the format are
    /// accepted; a v1 instance must not carry the fields v2 added.
    ///
    /// # Errors
    /// The first problem found, naming its field.
    pub fn validate(&self) -> Result<(), InvalidInstance> {
        let v1 = self.format == INSTANCE_FORMAT_V1;
        if self.format != INSTANCE_FORMAT && !v1 {
            return Err(invalid(
                "format",
                format!(
                    "expected {INSTANCE_FORMAT:?} (or {INSTANCE_FORMAT_V1:?}), got {:?}",
                    self.format
                ),
            ));
        }
        if self.days.is_empty() || self.days.len() > MAX_DAYS {
            return Err(invalid("days", format!("between 1 and {MAX_DAYS} days")));
        }
        if self.days.windows(2).any(|w| w[0] >= w[1]) {
            return Err(invalid("days", "must be ascending without repeats"));
        }
        if self
            .days
            .last()
            .is_some_and(|last| (*last - self.days[0]).num_days() >= MAX_DAYS as i64 * 2)
        {
            return Err(invalid("days", "span at most 120 calendar days"));
        }
        let finite = |v: f64| v.is_finite();
        let place = |field: String, lon: f64, lat: f64| {
            if Wgs84Point::from_crs(lon, lat, crate::geo::Crs::Wgs84).is_err() {
                Err(invalid(field, "must be a WGS-84 position inside China"))
            } else {
                Ok(())
            }
        };
        unique(self.stations.iter().map(|s| s.id.as_str()), "stations")?;
        for (i, s) in self.stations.iter().enumerate() {
            place(format!("stations[{i}]"), s.lon, s.lat)?;
        }
        if self.vehicles.is_empty() {
            return Err(invalid("vehicles", "at least one vehicle"));
        }
        unique(self.vehicles.iter().map(|v| v.id.as_str()), "vehicles")?;
        for (i, v) in self.vehicles.iter().enumerate() {
            let field = |f: &str| format!("vehicles[{i}].{f}");
            if !self.stations.iter().any(|s| s.id == v.station) {
                return Err(invalid(field("station"), "no such station"));
            }
            if v.beds == 0 {
                return Err(invalid(field("beds"), "at least 1"));
            }
            if v.max_donors == 0 {
                return Err(invalid(field("max_donors"), "at least 1"));
            }
            if v.day_start >= v.day_end {
                return Err(invalid(field("day_end"), "must be after day_start"));
            }
            for (name, value) in [
                ("setup_min", v.setup_min),
                ("teardown_min", v.teardown_min),
                ("cost_per_km", v.cost_per_km),
            ] {
                if !finite(value) || value < 0.0 {
                    return Err(invalid(field(name), "a finite number, 0 or more"));
                }
            }
        }
        unique(self.sites.iter().map(|s| s.id.as_str()), "sites")?;
        for (i, s) in self.sites.iter().enumerate() {
            place(format!("sites[{i}]"), s.lon, s.lat)?;
            if self.stations.iter().any(|st| st.id == s.id) {
                return Err(invalid(
                    format!("sites[{i}].id"),
                    "a station already has this id",
                ));
            }
            if s.expected.len() != self.days.len() {
                return Err(invalid(
                    format!("sites[{i}].expected"),
                    format!("one value per day ({})", self.days.len()),
                ));
            }
            if s.expected.iter().any(|&e| !finite(e) || e < 0.0) {
                return Err(invalid(
                    format!("sites[{i}].expected"),
                    "finite numbers, 0 or more",
                ));
            }
            if let Some(value) = &s.value {
                if v1 {
                    return Err(invalid(
                        format!("sites[{i}].value"),
                        format!("not part of {INSTANCE_FORMAT_V1:?}; use {INSTANCE_FORMAT:?}"),
                    ));
                }
                if value.len() != self.days.len() {
                    return Err(invalid(
                        format!("sites[{i}].value"),
                        format!("one value per day ({})", self.days.len()),
                    ));
                }
                if let Some(d) = value.iter().position(|&x| !finite(x) || x < 0.0) {
                    return Err(invalid(
                        format!("sites[{i}].value[{d}]"),
                        "a finite number, 0 or more",
                    ));
                }
            }
            if let Some(extra) = s.extra_service_min {
                let field = format!("sites[{i}].extra_service_min");
                if v1 {
                    return Err(invalid(
                        field,
                        format!("not part of {INSTANCE_FORMAT_V1:?}; use {INSTANCE_FORMAT:?}"),
                    ));
                }
                if !finite(extra) || extra < 0.0 {
                    return Err(invalid(field, "a finite number, 0 or more"));
                }
            }
        }
        let r = &self.rules;
        for (name, value, low) in [
            ("min_expected_donors", r.min_expected_donors, 0.0),
            ("ml_per_donor", r.ml_per_donor, 0.0),
            ("ml_per_yuan", r.ml_per_yuan, 0.0),
            ("bed_minutes_per_donor", r.bed_minutes_per_donor, 0.0),
        ] {
            if !finite(value) || value < low {
                return Err(invalid(
                    format!("rules.{name}"),
                    "a finite number, 0 or more",
                ));
            }
        }
        match &self.travel {
            Travel::StraightLine { detour, speed_kmh } => {
                if !finite(*detour) || *detour < 1.0 {
                    return Err(invalid("travel.detour", "a number, 1 or more"));
                }
                if !finite(*speed_kmh) || *speed_kmh <= 0.0 {
                    return Err(invalid("travel.speed_kmh", "a positive number"));
                }
            }
            Travel::Matrix { ids, km, minutes } => {
                unique(ids.iter().map(String::as_str), "travel.ids")?;
                let n = ids.len();
                // When both matrices agree on a size, a list of another length is the fault
                // of `ids`, not of the matrices.
                let side = |m: &Vec<Vec<f64>>| {
                    let rows = m.len();
                    m.iter().all(|row| row.len() == rows).then_some(rows)
                };
                if let (Some(rows), Some(other)) = (side(km), side(minutes))
                    && rows == other
                    && rows != n
                {
                    return Err(invalid(
                        "travel.ids",
                        format!(
                            "{rows} ids expected, one per row and column of travel.km and \
                             travel.minutes; got {n}"
                        ),
                    ));
                }
                let square = |m: &Vec<Vec<f64>>| {
                    m.len() == n
                        && m.iter().all(|row| {
                            row.len() == n && row.iter().all(|v| finite(*v) && *v >= 0.0)
                        })
                };
                if !square(km) {
                    return Err(invalid(
                        "travel.km",
                        format!("{n} x {n} non-negative numbers"),
                    ));
                }
                if !square(minutes) {
                    return Err(invalid(
                        "travel.minutes",
                        format!("{n} x {n} non-negative numbers"),
                    ));
                }
                let known: std::collections::HashSet<&str> =
                    ids.iter().map(String::as_str).collect();
                let missing = self
                    .stations
                    .iter()
                    .map(|s| s.id.as_str())
                    .chain(self.sites.iter().map(|s| s.id.as_str()))
                    .find(|id| !known.contains(id));
                if let Some(id) = missing {
                    return Err(invalid(
                        "travel.ids",
                        format!("{id:?} is not in the matrix"),
                    ));
                }
            }
        }
        let site_ids: std::collections::HashSet<&str> =
            self.sites.iter().map(|s| s.id.as_str()).collect();
        for (i, f) in self.fixed.iter().enumerate() {
            if !site_ids.contains(f.site.as_str()) {
                return Err(invalid(format!("fixed[{i}].site"), "no such site"));
            }
            if !self.days.contains(&f.date) {
                return Err(invalid(format!("fixed[{i}].date"), "not a planning day"));
            }
            if let Some(v) = &f.vehicle
                && !self.vehicles.iter().any(|x| &x.id == v)
            {
                return Err(invalid(format!("fixed[{i}].vehicle"), "no such vehicle"));
            }
        }
        for (i, f) in self.forbidden.iter().enumerate() {
            if !site_ids.contains(f.site.as_str()) {
                return Err(invalid(format!("forbidden[{i}].site"), "no such site"));
            }
        }
        Ok(())
    }
}

fn unique<'a>(ids: impl Iterator<Item = &'a str>, field: &str) -> Result<(), InvalidInstance> {
    let mut seen = HashMap::new();
    for (i, id) in ids.enumerate() {
        if id.is_empty() {
            return Err(invalid(format!("{field}[{i}].id"), "must not be empty"));
        }
        if let Some(first) = seen.insert(id, i) {
            return Err(invalid(
                format!("{field}[{i}].id"),
                format!("{id:?} repeats {field}[{first}]"),
            ));
        }
    }
    Ok(())
}

/// Times of day as `"HH:MM"`, held as minutes after midnight.
pub(crate) mod clock {
    use super::*;

    pub fn format(minutes: u32) -> String {
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }

    pub fn parse(s: &str) -> Result<u32, String> {
        if s == "24:00" {
            return Ok(24 * 60);
        }
        NaiveTime::parse_from_str(s, "%H:%M")
            .map(|t| t.hour() * 60 + t.minute())
            .map_err(|_| format!("expected a time of day as HH:MM, got {s:?}"))
    }

    pub fn serialize<S: Serializer>(minutes: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*minutes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

pub(crate) mod opt_clock {
    use super::*;

    pub fn serialize<S: Serializer>(minutes: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
        match minutes {
            Some(m) => s.serialize_str(&clock::format(*m)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| clock::parse(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planning::testing::{site, with_matrix};

    fn two_days() -> Instance {
        with_matrix(
            2,
            vec![site("A", &[40.0, 60.0]), site("B", &[20.0, 30.0])],
            &[("st", "A", 5.0, 10.0), ("st", "B", 5.0, 10.0)],
        )
    }

    fn refused(instance: &Instance) -> InvalidInstance {
        instance.validate().expect_err("refused")
    }

    #[test]
    fn a_v2_instance_with_values_and_extra_minutes_is_valid_and_reads_back() {
        let mut instance = two_days();
        instance.sites[1].value = Some(vec![24_000.0, 0.0]);
        instance.sites[1].extra_service_min = Some(25.0);
        instance.validate().unwrap();
        let json = serde_json::to_value(&instance).unwrap();
        assert_eq!(json["format"], "donornet.plan-instance.v2");
        assert_eq!(
            json["sites"][1]["value"],
            serde_json::json!([24_000.0, 0.0])
        );
        assert_eq!(json["sites"][1]["extra_service_min"], 25.0);
        // Absent fields are not written.
        assert!(json["sites"][0].get("value").is_none());
        assert!(json["sites"][0].get("extra_service_min").is_none());
        let back: Instance = serde_json::from_value(json).unwrap();
        assert_eq!(back, instance);
    }

    #[test]
    fn v2_fields_are_checked_naming_the_field() {
        let mut instance = two_days();
        instance.sites[1].value = Some(vec![1.0]);
        let e = refused(&instance);
        assert_eq!(e.field, "sites[1].value");
        assert!(e.message.contains("one value per day (2)"), "{}", e.message);
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            instance.sites[1].value = Some(vec![1.0, bad]);
            assert_eq!(refused(&instance).field, "sites[1].value[1]");
        }
        instance.sites[1].value = None;
        for bad in [-0.5, f64::NAN] {
            instance.sites[0].extra_service_min = Some(bad);
            assert_eq!(refused(&instance).field, "sites[0].extra_service_min");
        }
        instance.sites[0].extra_service_min = Some(0.0);
        instance.validate().unwrap();
    }

    #[test]
    fn v1_is_still_read_but_without_the_v2_fields() {
        let mut instance = two_days();
        instance.format = INSTANCE_FORMAT_V1.to_owned();
        instance.validate().unwrap();
        let json = serde_json::to_string(&instance).unwrap();
        let read: Instance = serde_json::from_str(&json).unwrap();
        read.validate().unwrap();
        let mut with_value = instance.clone();
        with_value.sites[1].value = Some(vec![1.0, 2.0]);
        let e = refused(&with_value);
        assert_eq!(e.field, "sites[1].value");
        assert!(e.message.contains("v1"), "{}", e.message);
        let mut with_extra = instance.clone();
        with_extra.sites[0].extra_service_min = Some(10.0);
        assert_eq!(refused(&with_extra).field, "sites[0].extra_service_min");
        let mut other = instance;
        other.format = "donornet.plan-instance.v3".to_owned();
        assert_eq!(refused(&other).field, "format");
    }
}
