//! Proof of quality for the planner: seeded instances on the Luohe hierarchy (S, M, L, 20
//! tiny ones and 6 "wide" ones), solved by donornet, exactly (tiny and wide ones) and, when
//! their virtual environment is set up (`tools/peers/setup.sh`), by OR-Tools and PyVRP on
//! exactly the same files. Every plan, whoever made it, is scored by donornet's plan check.
//!
//! The optimum of each tiny and wide instance is proved twice: by `exact::solve` (the module
//! the planner's last step also uses, on groups of up to 3 routes and 12 sites, which covers
//! a whole tiny instance) and by the independent `tools/peers/exact_small.py` (Python standard
//! library only: `python3`, or `PLAN_BENCH_PYTHON`). Both are printed; the benchmark fails if
//! they disagree. The wide instances (14-16 sites, 4 routes) are beyond the last step's reach.
//!
//! ```sh
//! cargo bench --bench planning                 # donornet and the two exact solvers only
//! PLAN_BENCH_PEERS=1 cargo bench --bench planning   # with the peers (about 20 minutes)
//! PLAN_BENCH_ONLY=tiny cargo bench --bench planning  # the tiny and wide instances only
//! ```
//!
//! Instances are written to `target/plan-bench/` so any other solver can be run on them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::NaiveDate;
use donornet::planning::evaluate;
use donornet::planning::exact;
use donornet::planning::instance::{Instance, PlanInput};
use donornet::planning::problem::Problem;
use donornet::planning::synthetic::{self, Shape, Township};

/// The Luohe division table, kept in the repository for the tests.
const SOURCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/luohe-divisions-2023.csv"
);

fn luohe() -> Vec<Township> {
    let mut reader = csv::Reader::from_path(SOURCE).expect("the Luohe division table");
    let mut townships: BTreeMap<String, Township> = BTreeMap::new();
    let mut villages: Vec<(String, String, String)> = Vec::new();
    for row in reader.records() {
        let row = row.expect("a row");
        let (code, name, level, parent) = (&row[0], &row[1], &row[2], &row[3]);
        match level {
            "township" => {
                townships.insert(
                    code.to_owned(),
                    Township {
                        code: code.to_owned(),
                        name: name.to_owned(),
                        county: parent.to_owned(),
                        villages: Vec::new(),
                    },
                );
            }
            "village" => villages.push((code.to_owned(), name.to_owned(), parent.to_owned())),
            _ => {}
        }
    }
    for (code, name, parent) in villages {
        if let Some(t) = townships.get_mut(&parent) {
            t.villages.push((code, name));
        }
    }
    townships.into_values().collect()
}

/// Runs a command, returning (exit ok, seconds, peak RSS of the child in MB).
fn run_measured(cmd: &mut Command) -> (bool, f64, f64) {
    let started = Instant::now();
    // Reaped by wait4 below, which also reports the child's peak memory.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; status and usage are valid pointers for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    let ok = waited == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    // Linux reports ru_maxrss in kilobytes.
    (ok, seconds, usage.ru_maxrss as f64 / 1024.0)
}

struct Outcome {
    objective: Option<f64>,
    feasible: bool,
    seconds: f64,
    rss_mb: f64,
    note: String,
}

fn score(problem: &Problem, plan_path: &Path) -> (Option<f64>, bool) {
    let Ok(text) = fs::read_to_string(plan_path) else {
        return (None, false);
    };
    let Ok(plan) = serde_json::from_str::<PlanInput>(&text) else {
        return (None, false);
    };
    if plan.routes.is_empty() {
        // A peer that found nothing within its limit writes an empty plan.
        return (None, false);
    }
    let checked = evaluate::check(problem, &plan);
    (Some(checked.totals.objective), checked.is_feasible())
}

fn donornet(bin: &Path, problem: &Problem, inst: &Path, dir: &Path, seed: u64) -> Outcome {
    let out = dir.join(format!(
        "{}.donornet.json",
        inst.file_stem().unwrap().to_string_lossy()
    ));
    let (ok, seconds, rss_mb) = run_measured(
        Command::new(bin)
            .args(["plan", "--instance"])
            .arg(inst)
            .args(["--seed", &seed.to_string(), "--out"])
            .arg(&out)
            .env("RUST_LOG", "warn"),
    );
    let (objective, feasible) = score(problem, &out);
    Outcome {
        objective,
        feasible: ok && feasible,
        seconds,
        rss_mb,
        note: String::new(),
    }
}

fn peer(
    python: &Path,
    script: &str,
    problem: &Problem,
    inst: &Path,
    dir: &Path,
    limit: u64,
) -> Outcome {
    let stem = inst.file_stem().unwrap().to_string_lossy().to_string();
    let tag = script.trim_end_matches("_solve.py");
    let out = dir.join(format!("{stem}.{tag}.json"));
    let summary = dir.join(format!("{stem}.{tag}.summary.json"));
    let _ = fs::remove_file(&out);
    let (ok, seconds, rss_mb) = run_measured(
        Command::new(python)
            .arg(Path::new("tools/peers").join(script))
            .arg(inst)
            .args(["--time-limit", &limit.to_string(), "--out"])
            .arg(&out)
            .arg("--summary")
            .arg(&summary),
    );
    let (objective, feasible) = score(problem, &out);
    let note = fs::read_to_string(&summary)
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .map(|v| {
            format!(
                "{} first {}s",
                v["status"].as_str().unwrap_or("?"),
                v["first_solution_seconds"]
                    .as_f64()
                    .map_or("-".into(), |f| format!("{f:.1}"))
            )
        })
        .unwrap_or_else(|| if ok { String::new() } else { "failed".into() });
    Outcome {
        objective,
        feasible,
        seconds,
        rss_mb,
        note,
    }
}

/// How many instances beyond the planner's last step (14-16 sites, 4 routes) are solved.
const WIDE: u64 = 6;
/// The two exact solvers must agree to this many mL (donornet keeps distances as `f32`).
const AGREE_ML: f64 = 0.01;

/// The independent optimum: `tools/peers/exact_small.py` (standard library only) on the same
/// file, its plan scored by donornet's plan check. Stops the benchmark when it cannot run.
fn exact_small(python: &Path, problem: &Problem, inst: &Path, dir: &Path) -> Outcome {
    let out = dir.join(format!(
        "{}.exact_small.json",
        inst.file_stem().unwrap().to_string_lossy()
    ));
    let _ = fs::remove_file(&out);
    let started = Instant::now();
    let run = Command::new(python)
        .arg("tools/peers/exact_small.py")
        .arg(inst)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} tools/peers/exact_small.py ({e}): the tiny instances need \
                 python3 (set PLAN_BENCH_PYTHON to another interpreter)",
                python.display()
            )
        });
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&run.stderr).trim().to_owned();
    // Its own objective, from its own evaluator: "exact: objective 126019.123 mL (DP ...".
    let reported: Option<f64> = stderr
        .split("exact: objective ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok());
    let (scored, feasible) = score(problem, &out);
    let objective = match (run.status.success() && feasible, reported, scored) {
        // Its plan, scored by donornet's plan check, must come to what it reported.
        (true, Some(r), Some(s)) if (r - s).abs() <= AGREE_ML => Some(r),
        _ => None,
    };
    Outcome {
        objective,
        feasible,
        seconds,
        rss_mb: 0.0,
        note: if objective.is_some() {
            String::new()
        } else {
            format!(
                "failed (reported {reported:?}, plan check {scored:?}, feasible {feasible}): \
                 {stderr}"
            )
        },
    }
}

fn fmt_obj(o: &Outcome) -> String {
    match o.objective {
        Some(v) if o.feasible => format!("{v:.0}"),
        Some(v) => format!("{v:.0} (infeasible)"),
        None => "none".into(),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_donornet"));
    let dir = PathBuf::from("target/plan-bench");
    fs::create_dir_all(&dir).expect("target/plan-bench");
    let townships = luohe();
    let first_day = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let write = |instance: &Instance| {
        let path = dir.join(format!("{}.json", instance.name));
        fs::write(&path, serde_json::to_string_pretty(instance).expect("json")).expect("write");
        path
    };
    let with_peers = std::env::var_os("PLAN_BENCH_PEERS").is_some();
    if with_peers && !Path::new("tools/peers/.venv/bin/python").exists() {
        panic!(
            "PLAN_BENCH_PEERS is set but tools/peers/.venv is missing: run tools/peers/setup.sh"
        );
    }

    // Tiny instances against the exact optimum, proved twice: by donornet's exact solver (the
    // module the planner's last step also uses) and by the independent exact_small.py.
    let python =
        std::env::var_os("PLAN_BENCH_PYTHON").map_or_else(|| "python3".into(), PathBuf::from);
    println!(
        "tiny instances (donornet vs the exact optimum, proved by donornet's exact solver and by \
         tools/peers/exact_small.py{})",
        if with_peers { "; peers at 10 s" } else { "" }
    );
    println!(
        "{:<8} {:>5} {:>4} {:>6} {:>6} {:>10} {:>8} {:>10} {:>8} {:>10} {:>8} {:>10} {:>10}",
        "instance",
        "sites",
        "days",
        "routes",
        "whole",
        "exact",
        "s",
        "exact.py",
        "s",
        "donornet",
        "s",
        "OR-Tools",
        "PyVRP"
    );
    let instances: Vec<Instance> = (1..=20u64)
        .map(|i| {
            let mut instance = synthetic::tiny(&townships, 1000 + i);
            instance.name = format!("tiny-{i:02}");
            instance
        })
        .chain((1..=WIDE).map(|i| {
            let mut instance = synthetic::tiny_wide(&townships, 2000 + i);
            instance.name = format!("wide-{i:02}");
            instance
        }))
        .collect();
    let mut matched = [0usize; 2];
    let mut peer_matched = [[0usize; 2]; 2];
    let mut disagreements = Vec::new();
    for instance in &instances {
        let wide = instance.name.starts_with("wide");
        let path = write(instance);
        let problem = Problem::new(instance.clone()).expect("valid");
        let started = Instant::now();
        let (_, optimum) = exact::solve(&problem).expect("a tiny instance");
        let exact_s = started.elapsed().as_secs_f64();
        let independent = exact_small(&python, &problem, &path, &dir);
        if independent
            .objective
            .is_none_or(|v| (v - optimum).abs() > AGREE_ML)
        {
            disagreements.push(format!(
                "{}: exact::solve {optimum:.3} mL, exact_small.py {}",
                instance.name,
                independent
                    .objective
                    .map_or(independent.note.clone(), |v| format!("{v:.3} mL"))
            ));
        }
        let ours = donornet(&bin, &problem, &path, &dir, 1);
        let got = ours.objective.unwrap_or(f64::NAN);
        if ours.feasible && got >= optimum - 1e-6 {
            matched[usize::from(wide)] += 1;
        }
        let (mut ort, mut pyv) = (String::from("-"), String::from("-"));
        if with_peers {
            let venv = Path::new("tools/peers/.venv/bin/python");
            let o = peer(venv, "ortools_solve.py", &problem, &path, &dir, 10);
            let p = peer(venv, "pyvrp_solve.py", &problem, &path, &dir, 10);
            for (k, x) in [&o, &p].into_iter().enumerate() {
                if x.feasible && x.objective.is_some_and(|v| v >= optimum - 1e-6) {
                    peer_matched[usize::from(wide)][k] += 1;
                }
            }
            ort = fmt_obj(&o);
            pyv = fmt_obj(&p);
        }
        let routes = instance.days.len() * instance.vehicles.len();
        // Whether the planner's last step (groups of up to 3 routes and 12 sites, re-planned
        // exactly) could take the whole instance at once.
        let whole = routes <= 3 && instance.sites.len() <= 12;
        println!(
            "{:<8} {:>5} {:>4} {:>6} {:>6} {:>10.1} {:>8.2} {:>10} {:>8.2} {:>10} {:>8.2} {:>10} {:>10}",
            instance.name,
            instance.sites.len(),
            instance.days.len(),
            routes,
            if whole { "yes" } else { "no" },
            optimum,
            exact_s,
            independent
                .objective
                .map_or_else(|| independent.note.clone(), |v| format!("{v:.1}")),
            independent.seconds,
            fmt_obj(&ours),
            ours.seconds,
            ort,
            pyv
        );
    }
    println!(
        "donornet matched the optimum on {}/20 tiny instances and {}/{WIDE} wide ones",
        matched[0], matched[1]
    );
    if with_peers {
        println!(
            "OR-Tools matched {}/20 and {}/{WIDE}, PyVRP {}/20 and {}/{WIDE}",
            peer_matched[0][0], peer_matched[1][0], peer_matched[0][1], peer_matched[1][1]
        );
    }
    assert!(
        disagreements.is_empty(),
        "THE TWO EXACT SOLVERS DISAGREE (tolerance {AGREE_ML} mL):\n{}",
        disagreements.join("\n")
    );
    println!(
        "the two exact solvers agree on all {} instances (within {AGREE_ML} mL)",
        instances.len()
    );
    if std::env::var("PLAN_BENCH_ONLY").is_ok_and(|only| only == "tiny") {
        return;
    }

    println!();
    println!(
        "{:<8} {:>5} {:>4} {:>3} | {:>10} {:>7} {:>7} | {:>10} {:>7} {:>7} {:<16} | {:>10} {:>7} {:>7} {:<16} | {:>7} {:>7}",
        "inst",
        "sites",
        "days",
        "veh",
        "donornet",
        "s",
        "MB",
        "OR-Tools",
        "s",
        "MB",
        "",
        "PyVRP",
        "s",
        "MB",
        "",
        "d/ORT",
        "d/PyVRP"
    );
    // Peers' time limits per instance: 30 s everywhere, and 180 s on L too.
    let shapes: [(&str, usize, usize, usize, &[u64]); 3] = [
        ("S", 86, 10, 1, &[30]),
        ("M", 300, 20, 2, &[30]),
        ("L", usize::MAX, 30, 3, &[30, 180]),
    ];
    for (name, sites, days, vehicles, limits) in shapes {
        let instance = synthetic::generate(
            &townships,
            &Shape {
                name: name.to_owned(),
                sites,
                days,
                vehicles,
                first_day,
                seed: 7,
            },
        );
        let path = write(&instance);
        let problem = Problem::new(instance.clone()).expect("valid");
        let ours = donornet(&bin, &problem, &path, &dir, 1);
        let none = || Outcome {
            objective: None,
            feasible: false,
            seconds: 0.0,
            rss_mb: 0.0,
            note: "not run".into(),
        };
        let venv = Path::new("tools/peers/.venv/bin/python");
        let runs: Vec<(String, Outcome, Outcome)> = if with_peers {
            limits
                .iter()
                .map(|&limit| {
                    (
                        format!("{name}@{limit}s"),
                        peer(venv, "ortools_solve.py", &problem, &path, &dir, limit),
                        peer(venv, "pyvrp_solve.py", &problem, &path, &dir, limit),
                    )
                })
                .collect()
        } else {
            vec![(name.to_owned(), none(), none())]
        };
        for (label, ort, pyv) in runs {
            let ratio = |o: &Outcome| match (ours.objective, o.objective) {
                (Some(a), Some(b)) if o.feasible && b > 0.0 => format!("{:.3}", a / b),
                _ => "-".into(),
            };
            println!(
                "{:<8} {:>5} {:>4} {:>3} | {:>10} {:>7.2} {:>7.0} | {:>10} {:>7.1} {:>7.0} {:<16} | {:>10} {:>7.1} {:>7.0} {:<16} | {:>7} {:>7}",
                label,
                instance.sites.len(),
                instance.days.len(),
                vehicles,
                fmt_obj(&ours),
                ours.seconds,
                ours.rss_mb,
                fmt_obj(&ort),
                ort.seconds,
                ort.rss_mb,
                ort.note,
                fmt_obj(&pyv),
                pyv.seconds,
                pyv.rss_mb,
                pyv.note,
                ratio(&ort),
                ratio(&pyv),
            );
        }
    }
}
