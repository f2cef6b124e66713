//! `donornet plan`: solve a plan instance file, or check a plan against it, without a
//! database or a server, so that any solver's output can be compared on the same problem; and
//! `--export-instance`, which writes the instance the API would solve for a plan request.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::admin::explain;
use crate::config::PlanArgs;
use crate::db;
use crate::error::AppError;
use crate::planning::instance::{Instance, PlanInput};
use crate::planning::problem::Problem;
use crate::planning::solver::{self, SolveOptions};
use crate::planning::{evaluate, exact};
use crate::plans::build;
use crate::plans::request::PlanRequest;

/// Reads and compiles an instance file.
///
/// # Errors
/// The file cannot be read, is not JSON of the format, or is inconsistent.
pub fn load(path: &Path) -> anyhow::Result<Problem> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let instance: Instance =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    // The same bounds the API keeps, so that every time and total stays finite.
    crate::plans::request::check_instance_bounds(&instance)
        .with_context(|| format!("instance {}", path.display()))?;
    Problem::new(instance).with_context(|| format!("instance {}", path.display()))
}

/// Runs `donornet plan`.
///
/// # Errors
/// Unreadable or invalid files, an unwritable output, or (with `--check`) a plan that breaks
/// a rule.
pub fn run(args: &PlanArgs) -> anyhow::Result<()> {
    let Some(instance) = &args.instance else {
        bail!("give --instance FILE.json (or --export-instance REQUEST.json)");
    };
    let problem = load(instance)?;
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
    write_out(args, &json)?;
    if broken > 0 {
        bail!("the plan breaks {broken} rule(s); see \"violations\"");
    }
    Ok(())
}

/// Writes `json` to `--out`, or to standard output.
fn write_out(args: &PlanArgs, json: &str) -> anyhow::Result<()> {
    match &args.out {
        Some(path) => {
            fs::write(path, format!("{json}\n"))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}")?;
        }
    }
    Ok(())
}

/// Runs `donornet plan --export-instance REQUEST.json`: the request (the body of
/// `POST /api/v1/plans`) and the database to the instance the API would solve, built by the
/// same function. No account is involved: every vehicle of the database may be used.
///
/// # Errors
/// An unreadable or invalid request (each wrong field named), an unknown region, an
/// unreachable database, an unwritable output.
pub async fn export_instance(args: &PlanArgs) -> anyhow::Result<()> {
    let Some(path) = &args.export_instance else {
        bail!("give --export-instance REQUEST.json");
    };
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let request: PlanRequest =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let conn = db::connect_existing(&args.db).await?;
    db::migrate(&conn)
        .await
        .context("cannot migrate the database")?;
    let built = build::build(&conn, &request, None)
        .await
        .map_err(|e| explain(e.into()))
        .with_context(|| format!("request {}", path.display()))?;
    conn.close().await?;
    if let Err(e) = built.instance.validate() {
        return Err(explain(AppError::invalid_instance("", e)))
            .with_context(|| format!("request {}", path.display()));
    }
    write_out(args, &serde_json::to_string_pretty(&built.instance)?)
}
