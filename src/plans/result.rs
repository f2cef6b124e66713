//! A plan's result, typed: what the planner found, as it is stored (`plans.result`, the JSON of
//! [`PlanResult`]) and as it is served (`GET /api/v1/plans/{id}`, the same struct enriched with
//! names, addresses, coordinators and townships, redacted for readers of other areas, and
//! rounded) and exported (the route sheets are made from it).
//!
//! One struct for all of them, so that a renamed or missing field is a compile error rather
//! than an empty column. The member names and their order are those the planner's output
//! ([`Solved`]) has always been stored with: rows stored before this type existed read as they
//! are, and a result stored now is byte for byte what was stored before.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::rounding::{Measure, round};
use crate::planning::evaluate::{
    CheckedPlan, RoutePlan, StopPlan, Totals, Violation, ViolationKind, time_of_day,
};
use crate::planning::instance::Instance;
use crate::planning::solver::{ReasonKind, SolveStats, Solved, StoppedBy, Unscheduled};

/// A number of a stored result. JSON has no NaN or infinity, so serde writes a non-finite
/// number as `null`; it reads back as NaN and is written again as `null`.
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// As [`number`], for a member that redaction may take out (present: `Some`).
fn some_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    number(d).map(Some)
}

/// A plan's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanResult {
    /// `donornet.plan.v1`.
    pub format: String,
    pub routes: Vec<ResultRoute>,
    pub totals: ResultTotals,
    /// Broken rules (a plan the planner returns breaks none).
    pub violations: Vec<ResultViolation>,
    /// Every candidate left out, with its reason.
    pub unscheduled: Vec<ResultUnscheduled>,
    pub solver: ResultSolver,
}

/// One vehicle's day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultRoute {
    /// The instance's vehicle id (`vehicle-<id>`), or `outside-<n>` for a reader who may not
    /// see the vehicle's station.
    pub vehicle: String,
    pub date: NaiveDate,
    /// `HH:MM`.
    pub depart: String,
    /// `HH:MM`.
    #[serde(rename = "return")]
    pub back: String,
    pub stops: Vec<ResultStop>,
    #[serde(deserialize_with = "number")]
    pub km: f64,
    #[serde(deserialize_with = "number")]
    pub travel_min: f64,
    #[serde(deserialize_with = "number")]
    pub donors: f64,
    #[serde(deserialize_with = "number")]
    pub ml: f64,
    /// What the route's stops are worth in the objective (mL; the instance's site values, else `ml`). A
    /// result stored before instance format v2 has none: served, it is `ml`.
    #[serde(
        default,
        deserialize_with = "some_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<f64>,
    /// Travel cost in mL; always stored, taken out for a vehicle outside the reader's area.
    #[serde(
        default,
        deserialize_with = "some_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub cost_ml: Option<f64>,
    /// Served only: the vehicle's name (a placeholder for a vehicle outside the reader's area).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_name: Option<String>,
    /// Served only: the vehicle's station (instance id) and its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station_name: Option<String>,
}

/// One stop, in route order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultStop {
    /// The instance's site id (`point-<id>` or `region-<code>`).
    pub site: String,
    pub name: String,
    #[serde(deserialize_with = "number")]
    pub travel_km: f64,
    #[serde(deserialize_with = "number")]
    pub travel_min: f64,
    /// `HH:MM`, as are `opens`, `closes` and `leave`.
    pub arrive: String,
    pub opens: String,
    pub closes: String,
    pub leave: String,
    #[serde(deserialize_with = "number")]
    pub expected: f64,
    #[serde(deserialize_with = "number")]
    pub donors: f64,
    #[serde(deserialize_with = "number")]
    pub ml: f64,
    /// What the stop is worth in the objective (mL; the instance's site values, else `ml`). A
    /// result stored before instance format v2 has none: served, it is `ml`.
    #[serde(
        default,
        deserialize_with = "some_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<f64>,
    /// Served only: where the stop is and whom to call (never stored).
    #[serde(flatten, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub about: Option<StopAbout>,
}

/// What a served stop says besides the plan: where it is and whom to call.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StopAbout {
    /// The site's coordinates, when the instance has the site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// The point's or host's address (`null` for a village or an unknown site).
    pub address: Option<String>,
    /// The point's coordinators (none for a village).
    pub coordinators: Vec<StopCoordinator>,
    /// The name of the township the site lies in, when known.
    pub township: Option<String>,
}

/// A coordinator of a stop's point, as the reader may see them (phone masked outside reach).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StopCoordinator {
    pub id: i64,
    pub name: String,
    pub mobile: String,
    pub role: String,
    pub is_primary: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultTotals {
    pub routes: usize,
    pub stops: usize,
    #[serde(deserialize_with = "number")]
    pub donors: f64,
    #[serde(deserialize_with = "number")]
    pub ml: f64,
    /// What the stops are worth in the objective (mL; the instance's site values, else `ml`). A
    /// result stored before instance format v2 has none: served, it is `ml`.
    #[serde(
        default,
        deserialize_with = "some_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub km: f64,
    #[serde(deserialize_with = "number")]
    pub cost_ml: f64,
    /// `value - cost_ml`: what the planner maximises.
    #[serde(deserialize_with = "number")]
    pub objective: f64,
}

/// A broken rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultViolation {
    pub kind: ViolationKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<usize>,
    pub message: String,
}

/// A candidate left out, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultUnscheduled {
    pub site: String,
    pub name: String,
    pub reason: ReasonKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_date: Option<NaiveDate>,
    #[serde(deserialize_with = "number")]
    pub best_expected: f64,
}

/// What the search did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultSolver {
    pub seed: u64,
    pub iterations: u64,
    pub iteration_budget: u64,
    pub stopped_by: StoppedBy,
    #[serde(deserialize_with = "number")]
    pub seconds: f64,
    #[serde(deserialize_with = "number")]
    pub construction_objective: f64,
}

impl From<&StopPlan> for ResultStop {
    fn from(s: &StopPlan) -> Self {
        ResultStop {
            site: s.site.clone(),
            name: s.name.clone(),
            travel_km: s.travel_km,
            travel_min: s.travel_min,
            arrive: time_of_day(s.arrive),
            opens: time_of_day(s.opens),
            closes: time_of_day(s.closes),
            leave: time_of_day(s.leave),
            expected: s.expected,
            donors: s.donors,
            ml: s.ml,
            value: Some(s.value),
            about: None,
        }
    }
}

impl From<&RoutePlan> for ResultRoute {
    fn from(r: &RoutePlan) -> Self {
        ResultRoute {
            vehicle: r.vehicle.clone(),
            date: r.date,
            depart: time_of_day(r.depart),
            back: time_of_day(r.back),
            stops: r.stops.iter().map(ResultStop::from).collect(),
            km: r.km,
            travel_min: r.travel_min,
            donors: r.donors,
            ml: r.ml,
            value: Some(r.value),
            cost_ml: Some(r.cost_ml),
            vehicle_name: None,
            station: None,
            station_name: None,
        }
    }
}

impl From<&Totals> for ResultTotals {
    fn from(t: &Totals) -> Self {
        ResultTotals {
            routes: t.routes,
            stops: t.stops,
            donors: t.donors,
            ml: t.ml,
            value: Some(t.value),
            km: t.km,
            cost_ml: t.cost_ml,
            objective: t.objective,
        }
    }
}

impl From<&Violation> for ResultViolation {
    fn from(v: &Violation) -> Self {
        ResultViolation {
            kind: v.kind,
            route: v.route,
            stop: v.stop,
            message: v.message.clone(),
        }
    }
}

impl From<&Unscheduled> for ResultUnscheduled {
    fn from(u: &Unscheduled) -> Self {
        ResultUnscheduled {
            site: u.site.clone(),
            name: u.name.clone(),
            reason: u.reason,
            message: u.message.clone(),
            best_date: u.best_date,
            best_expected: u.best_expected,
        }
    }
}

impl From<&SolveStats> for ResultSolver {
    fn from(s: &SolveStats) -> Self {
        ResultSolver {
            seed: s.seed,
            iterations: s.iterations,
            iteration_budget: s.iteration_budget,
            stopped_by: s.stopped_by,
            seconds: s.seconds,
            construction_objective: s.construction_objective,
        }
    }
}

impl From<&Solved> for PlanResult {
    fn from(solved: &Solved) -> Self {
        let CheckedPlan {
            format,
            routes,
            totals,
            violations,
        } = &solved.plan;
        PlanResult {
            format: (*format).to_owned(),
            routes: routes.iter().map(ResultRoute::from).collect(),
            totals: ResultTotals::from(totals),
            violations: violations.iter().map(ResultViolation::from).collect(),
            unscheduled: solved
                .unscheduled
                .iter()
                .map(ResultUnscheduled::from)
                .collect(),
            solver: ResultSolver::from(&solved.solver),
        }
    }
}

/// What a route's `vehicle_name` says for a vehicle of a station outside the reader's area.
pub const VEHICLE_OUTSIDE: &str = "vehicle outside your area";

/// What replaces a rule's message that names a vehicle outside the reader's area.
const RULE_OUTSIDE: &str = "a rule is broken by a vehicle outside your area";

impl PlanResult {
    /// Reads a stored result.
    ///
    /// # Errors
    /// The text is not a stored plan result.
    pub fn from_stored(text: &str) -> Result<PlanResult, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The text to store.
    ///
    /// # Errors
    /// Only if serialising fails (it does not for this type).
    pub fn to_stored(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Names what the plan refers to by id: each route's vehicle, its station and the
    /// station's name (from `instance`), and each stop's coordinates (from `instance`), address,
    /// coordinators and township (`about`, by site id; a site not there gets no address, no
    /// coordinators and no township).
    pub fn name_things(&mut self, instance: &Instance, about: &HashMap<String, StopAbout>) {
        for route in &mut self.routes {
            if let Some(v) = instance.vehicles.iter().find(|v| v.id == route.vehicle) {
                route.vehicle_name = Some(v.name.clone());
                route.station = Some(v.station.clone());
                if let Some(s) = instance.stations.iter().find(|s| s.id == v.station) {
                    route.station_name = Some(s.name.clone());
                }
            }
            for stop in &mut route.stops {
                let mut known = about.get(&stop.site).cloned().unwrap_or_default();
                if let Some(s) = instance.sites.iter().find(|s| s.id == stop.site) {
                    known.longitude = Some(s.lon);
                    known.latitude = Some(s.lat);
                }
                stop.about = Some(known);
            }
        }
    }

    /// Takes out what names the stations in `hidden` (instance ids) and their vehicles: the
    /// route's vehicle becomes `outside-1`, `outside-2`, … (one per vehicle, in the instance's
    /// order), its name a placeholder, and its station, station name and cost go; messages of
    /// broken rules that name such a vehicle are replaced. Times, stops and donors stay: the
    /// reader may see what comes to their area, not whose vehicle it is.
    pub fn redact(&mut self, instance: &Instance, hidden: &HashSet<String>) {
        if hidden.is_empty() {
            return;
        }
        let aliases: HashMap<&str, String> = instance
            .vehicles
            .iter()
            .filter(|v| hidden.contains(&v.station))
            .enumerate()
            .map(|(i, v)| (v.id.as_str(), format!("outside-{}", i + 1)))
            .collect();
        for route in &mut self.routes {
            if let Some(alias) = aliases.get(route.vehicle.as_str()) {
                route.vehicle.clone_from(alias);
                route.vehicle_name = Some(VEHICLE_OUTSIDE.to_owned());
                route.station = None;
                route.station_name = None;
                route.cost_ml = None;
            }
        }
        for v in &mut self.violations {
            if aliases.keys().any(|id| v.message.contains(id)) {
                v.message = RULE_OUTSIDE.to_owned();
            }
        }
    }

    /// Rounds every measured number to what its measure means (coordinates to 7 decimals, km
    /// and mL to 0.1), as numbers leave the service; the stored result keeps every bit. A
    /// result stored before instance format v2 gets its `value`s here: its `ml`s.
    pub fn round(&mut self) {
        let km = |x: &mut f64| *x = round(*x, Measure::Km);
        let ml = |x: &mut f64| *x = round(*x, Measure::Ml);
        let coordinate = |x: &mut f64| *x = round(*x, Measure::Coordinate);
        for route in &mut self.routes {
            km(&mut route.km);
            ml(&mut route.ml);
            ml(route.value.get_or_insert(route.ml));
            route.cost_ml.iter_mut().for_each(ml);
            for stop in &mut route.stops {
                km(&mut stop.travel_km);
                ml(&mut stop.ml);
                ml(stop.value.get_or_insert(stop.ml));
                if let Some(about) = &mut stop.about {
                    about.longitude.iter_mut().for_each(coordinate);
                    about.latitude.iter_mut().for_each(coordinate);
                }
            }
        }
        let t = &mut self.totals;
        ml(&mut t.ml);
        ml(t.value.get_or_insert(t.ml));
        km(&mut t.km);
        ml(&mut t.cost_ml);
        ml(&mut t.objective);
        ml(&mut self.solver.construction_objective);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::rounding::round_json;
    use crate::planning::problem::Problem;
    use crate::planning::solver::{self, SolveOptions};
    use crate::planning::testing::{site, with_matrix};

    fn solved() -> Solved {
        let mut instance = with_matrix(
            2,
            vec![
                site("point-1", &[30.333333, 12.0]),
                site("region-411102001001", &[40.1, 45.7]),
                site("point-3", &[0.5, 0.5]),
            ],
            &[
                ("st", "point-1", 12.345678, 20.0),
                ("st", "region-411102001001", 23.456789, 35.0),
                ("point-1", "region-411102001001", 7.777777, 11.0),
                ("st", "point-3", 900.0, 900.0),
            ],
        );
        instance.sites[0].lon = 114.012_345_678_9;
        instance.sites[0].lat = 33.500_400_000_000_006;
        let problem = Problem::new(instance).expect("a valid instance");
        let options = SolveOptions {
            seed: 3,
            iterations: Some(200),
            time_limit: Duration::from_secs(60),
        };
        solver::solve(&problem, &options, None)
    }

    #[test]
    fn a_result_is_stored_exactly_as_the_planners_output_was() {
        let solved = solved();
        assert!(!solved.plan.routes.is_empty());
        assert!(!solved.unscheduled.is_empty());
        let stored = PlanResult::from(&solved).to_stored().unwrap();
        assert_eq!(stored, serde_json::to_string(&solved).unwrap());
        // Read back, it is what reading the text as untyped JSON gave (serde_json reads
        // floats to the nearest few bits either way).
        let again = PlanResult::from_stored(&stored).unwrap();
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::from_str::<serde_json::Value>(&stored).unwrap()
        );
    }

    #[test]
    fn non_finite_numbers_read_back_as_they_were_written() {
        let mut result = PlanResult::from(&solved());
        result.routes[0].stops[0].expected = f64::NAN;
        result.totals.km = f64::INFINITY;
        let stored = result.to_stored().unwrap();
        let again = PlanResult::from_stored(&stored).unwrap();
        assert!(again.routes[0].stops[0].expected.is_nan());
        assert!(again.totals.km.is_nan());
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::from_str::<serde_json::Value>(&stored).unwrap()
        );
    }

    #[test]
    fn a_result_stored_before_values_is_served_with_its_ml_as_value() {
        let mut stored: serde_json::Value =
            serde_json::from_str(&PlanResult::from(&solved()).to_stored().unwrap()).unwrap();
        assert!(stored["totals"]["value"].is_number());
        stored["totals"].as_object_mut().unwrap().remove("value");
        for route in stored["routes"].as_array_mut().unwrap() {
            route.as_object_mut().unwrap().remove("value");
            for stop in route["stops"].as_array_mut().unwrap() {
                stop.as_object_mut().unwrap().remove("value");
            }
        }
        let mut old = PlanResult::from_stored(&stored.to_string()).unwrap();
        assert_eq!(old.totals.value, None);
        old.round();
        assert_eq!(old.totals.value, Some(old.totals.ml));
        let route = &old.routes[0];
        assert_eq!(route.value, Some(route.ml));
        assert_eq!(route.stops[0].value, Some(route.stops[0].ml));
    }

    #[test]
    fn rounding_the_struct_rounds_what_rounding_by_member_name_rounds() {
        let mut result = PlanResult::from(&solved());
        let mut about = HashMap::new();
        about.insert(
            "point-1".to_owned(),
            StopAbout {
                address: Some("人民路 1 号".to_owned()),
                coordinators: vec![StopCoordinator {
                    id: 4,
                    name: "李医生".to_owned(),
                    mobile: "138****1234".to_owned(),
                    role: "村医".to_owned(),
                    is_primary: true,
                }],
                township: Some("东岭镇".to_owned()),
                ..StopAbout::default()
            },
        );
        // Coordinates come from the instance the plan solved.
        let problem_instance = {
            let mut i = with_matrix(2, vec![site("point-1", &[1.0, 1.0])], &[]);
            i.sites[0].lon = 114.012_345_678_9;
            i.sites[0].lat = 33.500_400_000_000_006;
            i
        };
        result.name_things(&problem_instance, &about);
        let mut by_name = serde_json::to_value(&result).unwrap();
        round_json(&mut by_name);
        result.round();
        assert_eq!(serde_json::to_value(&result).unwrap(), by_name);
        let stop = serde_json::to_value(&result.routes[0].stops[0]).unwrap();
        assert!(stop.get("address").is_some(), "{stop}");
    }

    #[test]
    fn a_stored_result_has_no_served_members() {
        let value = serde_json::to_value(PlanResult::from(&solved())).unwrap();
        let route = &value["routes"][0];
        for member in ["vehicle_name", "station", "station_name"] {
            assert!(route.get(member).is_none(), "{member}");
        }
        assert!(route.get("cost_ml").is_some());
        for member in ["address", "coordinators", "township", "longitude"] {
            assert!(route["stops"][0].get(member).is_none(), "{member}");
        }
    }

    #[test]
    fn naming_fills_every_stop_and_redaction_hides_the_vehicle() {
        let mut instance = with_matrix(2, vec![site("point-1", &[1.0, 1.0])], &[]);
        instance.vehicles[0].name = "1号车".to_owned();
        let mut result = PlanResult::from(&solved());
        result.violations.push(ResultViolation {
            kind: ViolationKind::LateReturn,
            route: Some(0),
            stop: None,
            message: "v1 returns late".to_owned(),
        });
        result.name_things(&instance, &HashMap::new());
        let route = &result.routes[0];
        assert_eq!(route.vehicle_name.as_deref(), Some("1号车"));
        assert_eq!(route.station.as_deref(), Some("st"));
        assert_eq!(route.station_name.as_deref(), Some("station"));
        for stop in &route.stops {
            let about = stop.about.as_ref().unwrap();
            assert_eq!((&about.address, about.coordinators.len()), (&None, 0));
        }
        let shown = serde_json::to_value(&result.routes[0].stops[0]).unwrap();
        assert_eq!(shown["address"], serde_json::Value::Null);
        assert_eq!(shown["coordinators"], serde_json::json!([]));

        result.redact(&instance, &HashSet::new());
        assert_eq!(result.routes[0].vehicle, "v1");
        result.redact(&instance, &HashSet::from(["st".to_owned()]));
        let route = &result.routes[0];
        assert_eq!(route.vehicle, "outside-1");
        assert_eq!(route.vehicle_name.as_deref(), Some(VEHICLE_OUTSIDE));
        assert_eq!((&route.station, &route.station_name), (&None, &None));
        assert_eq!(route.cost_ml, None);
        assert_eq!(result.violations.last().unwrap().message, RULE_OUTSIDE);
        let shown = serde_json::to_value(&result.routes[0]).unwrap();
        assert!(shown.get("cost_ml").is_none() && shown.get("station").is_none());
    }
}
