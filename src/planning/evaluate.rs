//! Plan check: the times, totals and every broken rule of a plan, whoever wrote it (the
//! planner, a person editing a printed plan, another solver). The planner's own output goes
//! through the same function, so what it reports is what check reports.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::planning::instance::{PLAN_FORMAT, PlanInput, clock};
use crate::planning::problem::{Barrier, Problem};

/// Slack for comparing times computed in floating point, minutes.
pub const TIME_SLACK: f64 = 1e-3;

/// One stop with its times and yield.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StopPlan {
    pub site: String,
    pub name: String,
    /// From the previous place (the station or the previous stop).
    pub travel_km: f64,
    pub travel_min: f64,
    #[serde(serialize_with = "hhmm")]
    pub arrive: f64,
    /// Donation opens: after setup (the vehicle's and the site's `extra_service_min`), or at
    /// the stop's requested `start` when that is later.
    /// (Named apart from the input's `start`, so that a printed plan checks the same again.)
    #[serde(serialize_with = "hhmm")]
    pub opens: f64,
    /// Donation closes; teardown follows.
    #[serde(serialize_with = "hhmm")]
    pub closes: f64,
    #[serde(serialize_with = "hhmm")]
    pub leave: f64,
    pub expected: f64,
    pub donors: f64,
    /// Blood collected: donors x `ml_per_donor`.
    pub ml: f64,
    /// What the stop is worth in the objective (mL): the site's `value` for the day in
    /// proportion to the donors taken; `ml` when the instance gives no value.
    pub value: f64,
}

/// One vehicle's day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoutePlan {
    pub vehicle: String,
    pub date: NaiveDate,
    #[serde(serialize_with = "hhmm")]
    pub depart: f64,
    #[serde(rename = "return", serialize_with = "hhmm")]
    pub back: f64,
    pub stops: Vec<StopPlan>,
    pub km: f64,
    pub travel_min: f64,
    pub donors: f64,
    pub ml: f64,
    /// What the stops are worth (the sum of their `value`).
    pub value: f64,
    /// Travel cost in the objective's units (mL).
    pub cost_ml: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    pub routes: usize,
    pub stops: usize,
    pub donors: f64,
    pub ml: f64,
    /// What the stops are worth (equal to `ml` when the instance gives no values).
    pub value: f64,
    pub km: f64,
    pub cost_ml: f64,
    /// `value - cost_ml`: what the planner maximises.
    pub objective: f64,
}

/// A broken rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    pub kind: ViolationKind,
    /// The route (index in the plan's `routes`) and stop (index in its `stops`) to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<usize>,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    UnknownVehicle,
    UnknownSite,
    NotAPlanningDay,
    VehicleUnavailable,
    VehicleTwiceADay,
    DepartBeforeDayStart,
    LateReturn,
    OverCapacity,
    BelowMinimumDonors,
    ForbiddenStop,
    IntervalNotElapsed,
    MissingFixedStop,
}

/// A checked plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckedPlan {
    pub format: &'static str,
    pub routes: Vec<RoutePlan>,
    pub totals: Totals,
    pub violations: Vec<Violation>,
}

impl CheckedPlan {
    pub fn is_feasible(&self) -> bool {
        self.violations.is_empty()
    }
}

fn hhmm<S: serde::Serializer>(minutes: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&time_of_day(*minutes))
}

/// A time of day (minutes after midnight) as a plan prints it: `"HH:MM"`, to the minute.
pub fn time_of_day(minutes: f64) -> String {
    clock::format(minutes.round().max(0.0) as u32)
}

/// Times and yield of vehicle `v`'s route through `sites` (site indices) on day `d`, leaving
/// at `depart` (or the day's start), each stop starting no earlier than its requested start.
pub fn route_plan(
    problem: &Problem,
    v: usize,
    d: usize,
    depart: Option<f64>,
    stops: &[(usize, Option<f64>)],
) -> RoutePlan {
    let vehicle = &problem.vehicles[v];
    let instance = &problem.instance;
    let depart = depart.unwrap_or(vehicle.day_start);
    let mut t = depart;
    let mut at = vehicle.station;
    let mut out = Vec::with_capacity(stops.len());
    let (mut km, mut travel_min, mut donors_sum, mut worth_sum) = (0.0, 0.0, 0.0, 0.0);
    for &(s, requested) in stops {
        let node = problem.node(s);
        let leg_km = problem.km(at, node);
        let leg_min = problem.minutes(at, node);
        let arrive = t + leg_min;
        let ready = arrive + vehicle.setup + problem.extra[s];
        let start = requested.map_or(ready, |r| r.max(ready));
        let donors = problem.donors(v, s, d);
        let end = start + donors * problem.bed_minutes / vehicle.beds;
        let leave = end + vehicle.teardown;
        km += leg_km;
        travel_min += leg_min;
        donors_sum += donors;
        let worth = problem.worth_of(s, d, donors);
        worth_sum += worth;
        let site = &instance.sites[s];
        out.push(StopPlan {
            site: site.id.clone(),
            name: site.name.clone(),
            travel_km: leg_km,
            travel_min: leg_min,
            arrive,
            opens: start,
            closes: end,
            leave,
            expected: problem.expected[s][d],
            donors,
            ml: donors * problem.ml_per_donor,
            value: worth,
        });
        t = leave;
        at = node;
    }
    if !stops.is_empty() {
        km += problem.km(at, vehicle.station);
        travel_min += problem.minutes(at, vehicle.station);
        t += problem.minutes(at, vehicle.station);
    }
    let cost_ml = km * vehicle.ml_per_km;
    RoutePlan {
        vehicle: instance.vehicles[v].id.clone(),
        date: instance.days[d],
        depart,
        back: t,
        stops: out,
        km,
        travel_min,
        donors: donors_sum,
        ml: donors_sum * problem.ml_per_donor,
        value: worth_sum,
        cost_ml,
    }
}

/// Checks `plan` against `problem`: computes every route and lists every broken rule.
pub fn check(problem: &Problem, plan: &PlanInput) -> CheckedPlan {
    let instance = &problem.instance;
    let mut violations = Vec::new();
    let mut routes = Vec::new();
    let mut used: HashMap<(usize, usize), usize> = HashMap::new();
    // Stops per site: (day, route, stop).
    let mut visits: BTreeMap<usize, Vec<(usize, usize, usize)>> = BTreeMap::new();
    let mut fixed_made = vec![false; problem.fixed.len()];
    let flag = |violations: &mut Vec<Violation>, kind, route, stop, message: String| {
        violations.push(Violation {
            kind,
            route: Some(route),
            stop,
            message,
        });
    };
    for (r, route) in plan.routes.iter().enumerate() {
        let Some(v) = problem.vehicle(&route.vehicle) else {
            flag(
                &mut violations,
                ViolationKind::UnknownVehicle,
                r,
                None,
                format!("no vehicle {:?}", route.vehicle),
            );
            continue;
        };
        let Some(d) = problem.day(route.date) else {
            flag(
                &mut violations,
                ViolationKind::NotAPlanningDay,
                r,
                None,
                format!("{} is not one of the plan's days", route.date),
            );
            continue;
        };
        let vehicle = &problem.vehicles[v];
        let vehicle_name = &instance.vehicles[v].id;
        if !vehicle.available[d] {
            flag(
                &mut violations,
                ViolationKind::VehicleUnavailable,
                r,
                None,
                format!("{vehicle_name} is not available on {}", route.date),
            );
        }
        if let Some(first) = used.insert((v, d), r) {
            flag(
                &mut violations,
                ViolationKind::VehicleTwiceADay,
                r,
                None,
                format!(
                    "{vehicle_name} already has a route on {} (route {first})",
                    route.date
                ),
            );
        }
        let depart = route.depart.map(f64::from);
        if depart.is_some_and(|t| t < vehicle.day_start) {
            flag(
                &mut violations,
                ViolationKind::DepartBeforeDayStart,
                r,
                None,
                format!(
                    "leaves before the working day starts at {}",
                    clock::format(vehicle.day_start as u32)
                ),
            );
        }
        let mut stops = Vec::with_capacity(route.stops.len());
        for (i, stop) in route.stops.iter().enumerate() {
            match problem.site(&stop.site) {
                Some(s) => stops.push((s, stop.start.map(f64::from), i)),
                None => flag(
                    &mut violations,
                    ViolationKind::UnknownSite,
                    r,
                    Some(i),
                    format!("no candidate site {:?}", stop.site),
                ),
            }
        }
        let known: Vec<(usize, Option<f64>)> = stops.iter().map(|&(s, t, _)| (s, t)).collect();
        let planned = route_plan(problem, v, d, depart, &known);
        if planned.back > vehicle.day_end + TIME_SLACK {
            flag(
                &mut violations,
                ViolationKind::LateReturn,
                r,
                None,
                format!(
                    "back at {}, after the working day ends at {}",
                    clock::format(planned.back.round() as u32),
                    clock::format(vehicle.day_end as u32)
                ),
            );
        }
        if planned.donors > vehicle.max_donors + 1e-9 {
            flag(
                &mut violations,
                ViolationKind::OverCapacity,
                r,
                None,
                format!(
                    "{:.1} donors expected, more than the {} {vehicle_name} can take in a day",
                    planned.donors, vehicle.max_donors
                ),
            );
        }
        for &(s, _, i) in &stops {
            let site = &instance.sites[s];
            match problem.barrier[s][d] {
                Some(Barrier::BelowMinimum) => flag(
                    &mut violations,
                    ViolationKind::BelowMinimumDonors,
                    r,
                    Some(i),
                    format!(
                        "{} expects {:.1} donors on {}, below the minimum of {}",
                        site.id,
                        problem.expected[s][d],
                        route.date,
                        instance.rules.min_expected_donors
                    ),
                ),
                Some(Barrier::Forbidden) => flag(
                    &mut violations,
                    ViolationKind::ForbiddenStop,
                    r,
                    Some(i),
                    format!("{} is forbidden on {}", site.id, route.date),
                ),
                Some(Barrier::Interval) => flag(
                    &mut violations,
                    ViolationKind::IntervalNotElapsed,
                    r,
                    Some(i),
                    format!(
                        "{} was last visited on {}, less than {} days before {}",
                        site.id,
                        site.last_visit.map(|d| d.to_string()).unwrap_or_default(),
                        problem.min_gap,
                        route.date
                    ),
                ),
                None => {}
            }
            visits.entry(s).or_default().push((d, r, i));
            for (k, &(fs, fd, fv)) in problem.fixed.iter().enumerate() {
                if fs == s && fd == d && fv.is_none_or(|fv| fv == v) {
                    fixed_made[k] = true;
                }
            }
        }
        routes.push(planned);
    }
    for (s, mut stops) in visits {
        stops.sort_unstable();
        for pair in stops.windows(2) {
            let ((d1, _, _), (d2, r2, i2)) = (pair[0], pair[1]);
            if !problem.far_enough(d1, d2) {
                flag(
                    &mut violations,
                    ViolationKind::IntervalNotElapsed,
                    r2,
                    Some(i2),
                    format!(
                        "{} is visited on {} and again on {}, less than {} days apart",
                        instance.sites[s].id, instance.days[d1], instance.days[d2], problem.min_gap
                    ),
                );
            }
        }
    }
    for (k, made) in fixed_made.into_iter().enumerate() {
        if !made {
            let f = &instance.fixed[k];
            violations.push(Violation {
                kind: ViolationKind::MissingFixedStop,
                route: None,
                stop: None,
                message: format!(
                    "the fixed stop at {} on {}{} is missing",
                    f.site,
                    f.date,
                    f.vehicle
                        .as_ref()
                        .map(|v| format!(" by {v}"))
                        .unwrap_or_default()
                ),
            });
        }
    }
    let totals = totals(&routes);
    CheckedPlan {
        format: PLAN_FORMAT,
        routes,
        totals,
        violations,
    }
}

pub fn totals(routes: &[RoutePlan]) -> Totals {
    let mut t = Totals::default();
    for r in routes.iter().filter(|r| !r.stops.is_empty()) {
        t.routes += 1;
        t.stops += r.stops.len();
        t.donors += r.donors;
        t.ml += r.ml;
        t.value += r.value;
        t.km += r.km;
        t.cost_ml += r.cost_ml;
    }
    t.objective = t.value - t.cost_ml;
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planning::instance::{self, FixedStop, RouteInput, StopInput};
    use crate::planning::testing::{day, site, vehicle, with_matrix};

    fn approx(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-3, "{a} != {b}");
    }

    /// Station -> A 20 km / 30 min, A -> B 10 km / 15 min, B -> station 20 km / 30 min.
    fn two_sites() -> crate::planning::instance::Instance {
        with_matrix(
            3,
            vec![
                site("A", &[40.0, 40.0, 40.0]),
                site("B", &[20.0, 5.0, 20.0]),
            ],
            &[
                ("st", "A", 20.0, 30.0),
                ("A", "B", 10.0, 15.0),
                ("st", "B", 20.0, 30.0),
            ],
        )
    }

    fn route(vehicle: &str, d: u32, stops: &[&str]) -> RouteInput {
        RouteInput {
            vehicle: vehicle.to_owned(),
            date: day(d),
            depart: None,
            stops: stops
                .iter()
                .map(|s| StopInput {
                    site: (*s).to_owned(),
                    start: None,
                })
                .collect(),
        }
    }

    fn plan(routes: Vec<RouteInput>) -> PlanInput {
        PlanInput {
            format: None,
            routes,
        }
    }

    fn kinds(checked: &CheckedPlan) -> Vec<ViolationKind> {
        checked.violations.iter().map(|v| v.kind).collect()
    }

    #[test]
    fn times_and_totals_are_computed_leg_by_leg() {
        let problem = Problem::new(two_sites()).unwrap();
        let checked = check(&problem, &plan(vec![route("v1", 1, &["A", "B"])]));
        assert!(checked.is_feasible(), "{:?}", checked.violations);
        let r = &checked.routes[0];
        let (a, b) = (&r.stops[0], &r.stops[1]);
        // 08:00 + 30 = 08:30 arrive; +20 setup = 08:50 opens; 40 donors x 15 / 5 = 120 min:
        // closes 10:50; +10 teardown: leaves 11:00.
        approx(a.arrive, 8.0 * 60.0 + 30.0);
        approx(a.opens, 8.0 * 60.0 + 50.0);
        approx(a.closes, 10.0 * 60.0 + 50.0);
        approx(a.leave, 11.0 * 60.0);
        // 11:15 arrive, 11:35 opens, 20 donors: 60 min, closes 12:35, leaves 12:45, back 13:15.
        approx(b.arrive, 11.0 * 60.0 + 15.0);
        approx(b.opens, 11.0 * 60.0 + 35.0);
        approx(b.closes, 12.0 * 60.0 + 35.0);
        approx(r.back, 13.0 * 60.0 + 15.0);
        approx(r.km, 50.0);
        // 60 donors x 400 mL; 50 km x 3 yuan x 1.5 mL per yuan.
        approx(checked.totals.ml, 24_000.0);
        approx(checked.totals.cost_ml, 225.0);
        approx(checked.totals.objective, 23_775.0);
        // The printed times read as HH:MM.
        let json = serde_json::to_value(&checked).unwrap();
        assert_eq!(json["routes"][0]["stops"][1]["opens"], "11:35");
        assert_eq!(json["routes"][0]["return"], "13:15");
    }

    #[test]
    fn a_requested_start_delays_the_stop_and_the_rest_of_the_day() {
        let problem = Problem::new(two_sites()).unwrap();
        let mut r = route("v1", 1, &["A", "B"]);
        r.stops[1].start = Some(14 * 60);
        let checked = check(&problem, &plan(vec![r]));
        let b = &checked.routes[0].stops[1];
        approx(b.opens, 14.0 * 60.0);
        approx(checked.routes[0].back, 15.0 * 60.0 + 40.0);
        assert!(checked.is_feasible());
        // A start earlier than the team can be ready is moved to when it is ready.
        let mut r = route("v1", 1, &["A"]);
        r.stops[0].start = Some(8 * 60);
        let checked = check(&problem, &plan(vec![r]));
        approx(checked.routes[0].stops[0].opens, 8.0 * 60.0 + 50.0);
    }

    #[test]
    fn a_printed_plan_checks_the_same_again() {
        let problem = Problem::new(two_sites()).unwrap();
        let first = check(&problem, &plan(vec![route("v1", 1, &["A", "B"])]));
        let printed = serde_json::to_string(&first).unwrap();
        let again: PlanInput = serde_json::from_str(&printed).unwrap();
        let second = check(&problem, &again);
        assert_eq!(first, second);
    }

    #[test]
    fn every_kind_of_broken_rule_is_reported() {
        let mut instance = two_sites();
        instance.vehicles.push(crate::planning::instance::Vehicle {
            unavailable: vec![day(2)],
            ..vehicle("v2")
        });
        instance.sites.push(site("C", &[30.0, 30.0, 30.0]));
        instance.sites.push(site("D", &[30.0, 30.0, 30.0]));
        instance.sites[3].last_visit = Some(day(1) - chrono::Days::new(100));
        if let crate::planning::instance::Travel::Matrix { ids, km, minutes } = &mut instance.travel
        {
            ids.extend(["C".to_owned(), "D".to_owned()]);
            for m in [&mut *km, &mut *minutes] {
                for row in m.iter_mut() {
                    row.extend([10.0, 10.0]);
                }
                m.push(vec![10.0; 5]);
                m.push(vec![10.0; 5]);
                m[3][3] = 0.0;
                m[4][4] = 0.0;
            }
        }
        instance.forbidden.push(instance::ForbiddenStop {
            site: "C".to_owned(),
            date: Some(day(3)),
        });
        instance.fixed.push(FixedStop {
            site: "A".to_owned(),
            date: day(3),
            vehicle: Some("v1".to_owned()),
        });
        let problem = Problem::new(instance).unwrap();
        let late = RouteInput {
            depart: Some(16 * 60),
            ..route("v1", 1, &["A"])
        };
        let early = RouteInput {
            depart: Some(7 * 60),
            ..route("v2", 3, &["A"])
        };
        let checked = check(
            &problem,
            &plan(vec![
                route("nobody", 1, &["A"]),
                route("v1", 9, &["A"]),
                route("v2", 2, &["C"]),
                late,
                route("v1", 1, &["zz"]),
                route("v1", 2, &["B"]),
                route("v1", 3, &["C", "D"]),
                early,
            ]),
        );
        let kinds = kinds(&checked);
        use ViolationKind::*;
        for expected in [
            UnknownVehicle,
            NotAPlanningDay,
            VehicleUnavailable,
            LateReturn,
            UnknownSite,
            VehicleTwiceADay,
            BelowMinimumDonors,
            ForbiddenStop,
            IntervalNotElapsed,
            DepartBeforeDayStart,
            MissingFixedStop,
        ] {
            assert!(
                kinds.contains(&expected),
                "{expected:?} missing from {kinds:?}"
            );
        }
        // A visited on day 1 (route 3) and again on day 3 (route 7): too soon.
        assert!(
            checked
                .violations
                .iter()
                .any(|v| v.kind == IntervalNotElapsed
                    && v.route == Some(7)
                    && v.message.contains("again"))
        );
        // D's last visit was 100 days before the plan.
        assert!(
            checked
                .violations
                .iter()
                .any(|v| v.kind == IntervalNotElapsed && v.route == Some(6) && v.stop == Some(1))
        );
    }

    #[test]
    fn a_v2_stop_is_worth_its_value_in_proportion_and_stays_its_extra_minutes() {
        let mut instance = two_sites();
        instance.vehicles[0].max_donors = 30;
        // A: worth 1,000 mL a donor on day 1 (a shortage bonus), B: 15 more minutes a stop.
        instance.sites[0].value = Some(vec![40_000.0, 16_000.0, 16_000.0]);
        instance.sites[1].extra_service_min = Some(15.0);
        let problem = Problem::new(instance).unwrap();
        let checked = check(
            &problem,
            &plan(vec![route("v1", 1, &["A"]), route("v1", 3, &["B"])]),
        );
        assert!(checked.is_feasible(), "{:?}", checked.violations);
        let (a, b) = (&checked.routes[0].stops[0], &checked.routes[1].stops[0]);
        // A takes 30 of its 40 expected donors: 3/4 of its value; the draw lasts 30 x 15 / 5.
        approx(a.donors, 30.0);
        approx(a.ml, 12_000.0);
        approx(a.value, 30_000.0);
        approx(a.opens, 8.0 * 60.0 + 50.0);
        approx(a.closes, 10.0 * 60.0 + 20.0);
        // B has no value: worth its mL. It opens 20 + 15 minutes after it arrives at 08:30.
        approx(b.value, 8_000.0);
        approx(b.opens, 9.0 * 60.0 + 5.0);
        approx(b.closes, 10.0 * 60.0 + 5.0);
        approx(checked.routes[1].back, 10.0 * 60.0 + 45.0);
        approx(checked.routes[0].value, 30_000.0);
        approx(checked.totals.ml, 20_000.0);
        approx(checked.totals.value, 38_000.0);
        // 80 km x 3 yuan x 1.5 mL a yuan.
        approx(checked.totals.cost_ml, 360.0);
        approx(checked.totals.objective, 37_640.0);
        let json = serde_json::to_value(&checked).unwrap();
        assert_eq!(json["routes"][0]["stops"][0]["value"], 30_000.0);
        assert_eq!(json["totals"]["value"], 38_000.0);
        // Nobody expected: worth nothing, whatever the value.
        let mut instance = two_sites();
        instance.sites[0].expected[0] = 0.0;
        instance.sites[0].value = Some(vec![5_000.0, 1.0, 1.0]);
        let problem = Problem::new(instance).unwrap();
        approx(problem.worth(0, 0, 0), 0.0);
        approx(problem.worth(0, 0, 1), 1.0);
    }

    #[test]
    fn without_values_the_worth_is_the_millilitres_exactly() {
        let problem = Problem::new(two_sites()).unwrap();
        let checked = check(&problem, &plan(vec![route("v1", 1, &["A", "B"])]));
        for stop in &checked.routes[0].stops {
            assert_eq!(stop.value, stop.ml);
        }
        assert_eq!(checked.totals.value, checked.totals.ml);
    }

    #[test]
    fn too_many_donors_for_a_day_is_over_capacity() {
        let mut instance = two_sites();
        instance.vehicles[0].max_donors = 50;
        let problem = Problem::new(instance).unwrap();
        let checked = check(&problem, &plan(vec![route("v1", 1, &["A", "B"])]));
        assert_eq!(kinds(&checked), vec![ViolationKind::OverCapacity]);
        // A single stop is capped at what the vehicle takes, so it alone is fine.
        let single = check(&problem, &plan(vec![route("v1", 1, &["A"])]));
        assert!(single.is_feasible());
    }
}
