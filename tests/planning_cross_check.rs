//! The planner's plans, and deliberately broken ones, scored by two independent evaluators:
//! donornet's plan check and `tools/peers/evaluate.py` (written separately from the README's
//! description of the format, standard-library Python). They must agree on the objective and
//! on whether a plan keeps every rule. (The synthetic instances are format v1, which the
//! evaluator reads.) And on tiny instances of format v2, where what a stop is worth differs
//! from its donors, the planner reaches the exact solver's optimum.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::NaiveDate;
use donornet::planning::instance::{ForbiddenStop, Instance, PlanInput, RouteInput, StopInput};
use donornet::planning::problem::Problem;
use donornet::planning::solver::{self, SolveOptions};
use donornet::planning::synthetic::{self, Shape, Township};
use donornet::planning::{evaluate, exact};

fn hierarchy() -> Vec<Township> {
    (0..5)
        .map(|t| Township {
            code: format!("41110310{t}000"),
            name: format!("乡镇{t}"),
            county: format!("41110{}", t % 2),
            villages: (1..=12)
                .map(|v| (format!("41110310{t}{v:03}"), format!("村{t}-{v}")))
                .collect(),
        })
        .collect()
}

fn python_score(dir: &Path, instance: &Instance, plan: &PlanInput) -> (f64, bool) {
    let inst_path = dir.join("instance.json");
    let plan_path = dir.join("plan.json");
    std::fs::write(&inst_path, serde_json::to_string(instance).unwrap()).unwrap();
    std::fs::write(&plan_path, serde_json::to_string(plan).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/peers/evaluate.py"))
        .arg(&inst_path)
        .arg(&plan_path)
        .arg("--json")
        .output()
        .expect("python3 runs (the peers' evaluator is standard-library Python)");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (
        report["objective"].as_f64().expect("an objective"),
        report["feasible"].as_bool().expect("feasible"),
    )
}

fn as_input(plan: &evaluate::CheckedPlan) -> PlanInput {
    PlanInput {
        format: None,
        routes: plan
            .routes
            .iter()
            .map(|r| RouteInput {
                vehicle: r.vehicle.clone(),
                date: r.date,
                depart: None,
                stops: r
                    .stops
                    .iter()
                    .map(|s| StopInput {
                        site: s.site.clone(),
                        start: None,
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[test]
fn plan_check_and_the_independent_evaluator_agree() {
    let dir = tempfile::tempdir().unwrap();
    for seed in 0..4u64 {
        let mut instance = synthetic::generate(
            &hierarchy(),
            &Shape {
                name: format!("cross-{seed}"),
                sites: 40,
                days: 4,
                vehicles: 2,
                first_day: NaiveDate::from_ymd_opt(2027, 1, 20).unwrap(),
                seed,
            },
        );
        instance.vehicles[1].unavailable = vec![instance.days[1]];
        instance.vehicles[1].max_donors = 90;
        instance.forbidden.push(ForbiddenStop {
            site: instance.sites[3].id.clone(),
            date: None,
        });
        instance.sites[5].last_visit = Some(instance.days[0] - chrono::Days::new(50));
        if seed % 2 == 1 {
            instance.rules.min_days_between_visits = 2;
        }
        let problem = Problem::new(instance.clone()).unwrap();
        let solved = solver::solve(
            &problem,
            &SolveOptions {
                seed,
                iterations: Some(500),
                time_limit: Duration::from_secs(60),
            },
            None,
        );
        assert!(solved.plan.is_feasible(), "{:?}", solved.plan.violations);
        assert!(solved.plan.totals.stops > 5);
        let plan = as_input(&solved.plan);
        let (objective, feasible) = python_score(dir.path(), &instance, &plan);
        assert!(
            feasible,
            "seed {seed}: the Python evaluator finds a broken rule"
        );
        let ours = solved.plan.totals.objective;
        assert!(
            (objective - ours).abs() <= 1e-6 * ours.abs(),
            "seed {seed}: {objective} vs {ours}"
        );

        // Broken on purpose: the forbidden site added to the first route, and a stop pushed
        // to 16:30. Both evaluators must object, and still agree on the objective.
        let mut broken = plan.clone();
        broken.routes[0].stops.push(StopInput {
            site: instance.sites[3].id.clone(),
            start: None,
        });
        broken.routes[0].stops[0].start = Some(16 * 60 + 30);
        let checked = evaluate::check(&problem, &broken);
        let (objective, feasible) = python_score(dir.path(), &instance, &broken);
        assert!(!checked.is_feasible());
        assert!(!feasible);
        assert!((objective - checked.totals.objective).abs() <= 1e-6 * objective.abs());
    }
}

#[test]
fn on_tiny_v2_instances_the_planner_reaches_the_exact_optimum() {
    let townships = hierarchy();
    for seed in 100..108u64 {
        let instance = synthetic::with_values(synthetic::tiny(&townships, seed), seed);
        assert_eq!(instance.format, "donornet.plan-instance.v2");
        // Values and load differ: some stop is worth other than its donors' mL.
        assert!(instance.sites.iter().any(|s| {
            s.value.as_ref().is_some_and(|v| {
                v.iter()
                    .zip(&s.expected)
                    .any(|(v, e)| (v - e * instance.rules.ml_per_donor).abs() > 1.0)
            })
        }));
        let problem = Problem::new(instance).unwrap();
        let (plan, optimum) = exact::solve(&problem).unwrap();
        let checked = evaluate::check(&problem, &plan);
        assert!(checked.is_feasible(), "{:?}", checked.violations);
        assert!(
            (checked.totals.objective - optimum).abs() <= 1e-6 * optimum.abs().max(1.0),
            "seed {seed}: the exact plan checks at {} against {optimum}",
            checked.totals.objective
        );
        let solved = solver::solve(&problem, &SolveOptions::default(), None);
        assert!(solved.plan.is_feasible(), "{:?}", solved.plan.violations);
        assert!(
            solved.plan.totals.objective >= optimum - 1e-6,
            "seed {seed}: {} < {optimum}",
            solved.plan.totals.objective
        );
    }
}
