//! `donornet plan`: solve a plan instance file, or check a plan against it, without a
//! database or a server, so that any solver's output can be compared on the same problem.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::config::PlanArgs;
use crate::planning::instance::{Instance, PlanInput};
use crate::planning::problem::Problem;
use crate::planning::solver::{self, SolveOptions};
use crate::planning::{evaluate, exact};

/// Reads and compiles an instance file.
///
/// # Errors
/// The file cannot be read, is not JSON of the format, or is inconsistent.
pub fn load(path: &Path) -> anyhow::Result<Problem> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let instance: Instance =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Problem::new(instance).with_context(|| format!("instance {}", path.display()))
}

/// Runs `donornet plan`.
///
/// # Errors
/// Unreadable or invalid files, an unwritable output, or (with `--check`) a plan that breaks
/// a rule.
pub fn run(args: &PlanArgs) -> anyhow::Result<()> {
    let problem = load(&args.instance)?;
    let (json, broken) = match &args.check {
        Some(plan_path) => {
            let text = fs::read_to_string(plan_path)
                .with_context(|| format!("reading {}", plan_path.display()))?;
            let plan: PlanInput = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", plan_path.display()))?;
            let checked = evaluate::check(&problem, &plan);
            let broken = checked.violations.len();
            (serde_json::to_string_pretty(&checked)?, broken)
        }
        None if args.exact => {
            let (plan, _) = exact::solve(&problem)?;
            let checked = evaluate::check(&problem, &plan);
            let broken = checked.violations.len();
            (serde_json::to_string_pretty(&checked)?, broken)
        }
        None => {
            let options = SolveOptions {
                seed: args.seed,
                iterations: args.iterations,
                time_limit: Duration::from_secs(args.time_limit),
            };
            let solved = solver::solve(&problem, &options, None);
            let broken = solved.plan.violations.len();
            (serde_json::to_string_pretty(&solved)?, broken)
        }
    };
    match &args.out {
        Some(path) => {
            fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}")?;
        }
    }
    if broken > 0 {
        bail!("the plan breaks {broken} rule(s); see \"violations\"");
    }
    Ok(())
}
