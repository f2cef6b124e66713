//! Proof of quality for the planner: seeded instances on the Luohe hierarchy (S, M, L and 20
//! tiny ones), solved by donornet, by the exact solver (tiny ones) and, when their virtual
//! environment is set up (`tools/peers/setup.sh`), by OR-Tools and PyVRP on exactly the same
//! files. Every plan, whoever made it, is scored by donornet's plan check.
//!
//! ```sh
//! cargo bench --bench planning                 # donornet and the exact solver only
//! PLAN_BENCH_PEERS=1 cargo bench --bench planning   # with the peers (about 20 minutes)
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
    let python = PathBuf::from("tools/peers/.venv/bin/python");
    if with_peers && !python.exists() {
        panic!(
            "PLAN_BENCH_PEERS is set but tools/peers/.venv is missing: run tools/peers/setup.sh"
        );
    }

    // Tiny instances against the exact optimum.
    println!(
        "tiny instances (donornet vs exact optimum{})",
        if with_peers { ", peers at 10 s" } else { "" }
    );
    println!(
        "{:<8} {:>5} {:>4} {:>10} {:>10} {:>8} {:>10} {:>10}",
        "instance", "sites", "days", "exact", "donornet", "time s", "OR-Tools", "PyVRP"
    );
    let mut matched = 0;
    let mut peer_matched = [0, 0];
    for i in 1..=20u64 {
        let instance = synthetic::tiny(&townships, 1000 + i);
        let path = write(&instance);
        let problem = Problem::new(instance.clone()).expect("valid");
        let (_, optimum) = exact::solve(&problem).expect("tiny");
        let ours = donornet(&bin, &problem, &path, &dir, 1);
        let got = ours.objective.unwrap_or(f64::NAN);
        if ours.feasible && got >= optimum - 1e-6 {
            matched += 1;
        }
        let (mut ort, mut pyv) = (String::from("-"), String::from("-"));
        if with_peers {
            let o = peer(&python, "ortools_solve.py", &problem, &path, &dir, 10);
            let p = peer(&python, "pyvrp_solve.py", &problem, &path, &dir, 10);
            for (k, x) in [&o, &p].into_iter().enumerate() {
                if x.feasible && x.objective.is_some_and(|v| v >= optimum - 1e-6) {
                    peer_matched[k] += 1;
                }
            }
            ort = fmt_obj(&o);
            pyv = fmt_obj(&p);
        }
        println!(
            "{:<8} {:>5} {:>4} {:>10.0} {:>10} {:>8.2} {:>10} {:>10}",
            format!("tiny-{i:02}"),
            instance.sites.len(),
            instance.days.len(),
            optimum,
            fmt_obj(&ours),
            ours.seconds,
            ort,
            pyv
        );
    }
    println!("donornet matched the optimum on {matched}/20 tiny instances");
    if with_peers {
        println!(
            "OR-Tools matched {}/20, PyVRP {}/20",
            peer_matched[0], peer_matched[1]
        );
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
        let runs: Vec<(String, Outcome, Outcome)> = if with_peers {
            limits
                .iter()
                .map(|&limit| {
                    (
                        format!("{name}@{limit}s"),
                        peer(&python, "ortools_solve.py", &problem, &path, &dir, limit),
                        peer(&python, "pyvrp_solve.py", &problem, &path, &dir, limit),
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
