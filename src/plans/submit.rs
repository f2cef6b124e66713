//! Making a plan (`POST /api/v1/plans`): the request and the registry to an instance, compiled
//! on the blocking pool, stored `queued` and handed to [`PlanRuns`] to solve in the background.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::oneshot;

use crate::domain::policy::Visibility;
use crate::planning::problem::Problem;
use crate::planning::solver::SolveOptions;
use crate::plans::request::PlanRequest;
use crate::plans::runs::PlanRuns;
use crate::plans::{PlansError, build};
use crate::store::plans::{self as store, NewPlan};

/// A plan stored and being solved.
#[derive(Debug)]
pub struct Submitted {
    /// The plan's id.
    pub id: i64,
    /// Hears once the plan is `done` or `failed`.
    pub finished: oneshot::Receiver<()>,
}

/// Makes a plan of `request` by `created_by`, with the vehicles within `reach`: checks and
/// builds its instance, compiles it (one per core at a time), stores it and starts solving it.
///
/// # Errors
/// 429 when as many plans as this process takes are queued or running; the request's field
/// faults (400, 404 for a region out of reach); 422 for an instance that cannot be planned;
/// the database fails.
pub async fn submit(
    db: &DatabaseConnection,
    runs: &Arc<PlanRuns>,
    request: &PlanRequest,
    reach: &Visibility,
    created_by: Option<String>,
    now: DateTime<Utc>,
) -> Result<Submitted, PlansError> {
    if !runs.has_room() {
        return Err(PlansError::Busy {
            retry_after_secs: 30,
        });
    }
    let built = build::build(db, request, Some(reach)).await?;
    let instance_json = serde_json::to_string(&built.instance)
        .map_err(|e| PlansError::Corrupt(anyhow::anyhow!("instance: {e}")))?;
    let request_json = serde_json::to_string(&built.request)
        .map_err(|e| PlansError::Corrupt(anyhow::anyhow!("request: {e}")))?;
    let instance = built.instance;
    let turn = runs.compile_turn().await;
    let problem = tokio::task::spawn_blocking(move || {
        let compiled = Problem::new(instance);
        drop(turn);
        compiled
    })
    .await
    .map_err(|e| PlansError::Corrupt(anyhow::anyhow!("compiling the instance: {e}")))?
    .map_err(PlansError::Instance)?;
    let seed = i64::try_from(built.request.seed).unwrap_or(i64::MAX);
    let stored = store::insert(
        db,
        NewPlan {
            region_code: built.region.code.to_string(),
            request: request_json,
            instance: instance_json,
            seed,
            created_by,
        },
        now,
    )
    .await?;
    let id = stored.id;
    tracing::info!(plan_id = id, "plan accepted");
    let options = SolveOptions {
        seed: built.request.seed,
        iterations: built.request.iterations,
        time_limit: Duration::from_secs(built.request.time_limit_secs),
    };
    let finished = runs.start(db.clone(), id, problem, options);
    Ok(Submitted { id, finished })
}
