//! Plans being solved, in the background: at most one per core at a time (the others wait,
//! `queued`), each on the blocking thread pool, with its progress kept in memory (the
//! database row is written when a plan starts and when it finishes, not on every report).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::DatabaseConnection;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tracing::Instrument;

use crate::domain::plan::PlanStatus;
use crate::planning::problem::Problem;
use crate::planning::solver::{self, SolveOptions};
use crate::plans::result::PlanResult;
use crate::store::plans as store;

/// A plan's live progress.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    pub status: PlanStatus,
    /// 0 to 100: the larger of the iterations done and the time limit used.
    pub percent: u8,
    /// The best objective found so far (mL).
    pub best_objective: Option<f64>,
}

/// The plans of this process that have not finished.
pub struct PlanRuns {
    live: Mutex<HashMap<i64, Progress>>,
    permits: Arc<Semaphore>,
    /// Compiling an instance (its travel matrix: up to 128 MB) and checking a plan against
    /// it happen in the request, one per core at a time, so that concurrent requests cannot
    /// add up to gigabytes.
    compiling: Arc<Semaphore>,
    /// Most plans queued or running at once: each waiting plan holds its compiled problem
    /// (up to 128 MB), so the queue is bounded.
    max_unfinished: usize,
}

/// Plans that may be queued or running at once, per plan solved in parallel.
pub const UNFINISHED_PER_CORE: usize = 4;

impl Default for PlanRuns {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        PlanRuns::new(cores)
    }
}

impl PlanRuns {
    /// Runs at most `parallel` plans at once.
    pub fn new(parallel: usize) -> Self {
        PlanRuns {
            live: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(parallel.max(1))),
            compiling: Arc::new(Semaphore::new(parallel.max(1))),
            max_unfinished: parallel.max(1) * UNFINISHED_PER_CORE,
        }
    }

    /// False when as many plans as this process takes are queued or running: a new one is
    /// refused (429) rather than held in memory.
    pub fn has_room(&self) -> bool {
        self.live
            .lock()
            .map_or(true, |live| live.len() < self.max_unfinished)
    }

    /// Waits for a turn to compile an instance or check a plan; the turn lasts as long as the
    /// permit.
    pub async fn compile_turn(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.compiling).acquire_owned().await.ok()
    }

    /// The live progress of plan `id`, while this process is solving it.
    pub fn progress(&self, id: i64) -> Option<Progress> {
        self.live.lock().ok()?.get(&id).copied()
    }

    fn set(&self, id: i64, progress: Progress) {
        if let Ok(mut live) = self.live.lock() {
            live.insert(id, progress);
        }
    }

    fn forget(&self, id: i64) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(&id);
        }
    }

    /// Solves plan `id` (already stored, queued) in the background and records its result.
    /// The receiver hears once the row says `done` or `failed`.
    pub fn start(
        self: &Arc<Self>,
        db: DatabaseConnection,
        id: i64,
        problem: Problem,
        options: SolveOptions,
    ) -> oneshot::Receiver<()> {
        let (finished, heard) = oneshot::channel();
        self.set(
            id,
            Progress {
                status: PlanStatus::Queued,
                percent: 0,
                best_objective: None,
            },
        );
        let runs = Arc::clone(self);
        let span = tracing::info_span!("plan", plan_id = id);
        tokio::spawn(
            async move {
                runs.run(&db, id, problem, options).await;
                runs.forget(id);
                let _ = finished.send(());
            }
            .instrument(span),
        );
        heard
    }

    async fn run(
        self: &Arc<Self>,
        db: &DatabaseConnection,
        id: i64,
        problem: Problem,
        options: SolveOptions,
    ) {
        let Ok(_permit) = Arc::clone(&self.permits).acquire_owned().await else {
            return;
        };
        if let Err(e) = store::set_running(db, id).await {
            tracing::error!(error = %e, "cannot mark the plan running");
        }
        self.set(
            id,
            Progress {
                status: PlanStatus::Running,
                percent: 0,
                best_objective: None,
            },
        );
        let runs = Arc::clone(self);
        let span = tracing::Span::current();
        let solved = tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let started = Instant::now();
                let limit = options.time_limit.max(Duration::from_millis(1));
                let mut report = |done: u64, budget: u64, best: f64| {
                    let by_iterations = done as f64 / budget.max(1) as f64;
                    let by_time = started.elapsed().as_secs_f64() / limit.as_secs_f64();
                    let share = by_iterations.max(by_time).clamp(0.0, 0.99);
                    runs.set(
                        id,
                        Progress {
                            status: PlanStatus::Running,
                            percent: (share * 100.0) as u8,
                            best_objective: Some(best),
                        },
                    );
                };
                let solved = solver::solve(&problem, &options, Some(&mut report));
                PlanResult::from(&solved)
                    .to_stored()
                    .map(|json| (json, solved.plan.totals.objective))
            })
        })
        .await;
        let now = Utc::now();
        let written = match solved {
            Ok(Ok((json, objective))) => {
                tracing::info!(objective, "plan solved");
                store::set_done(db, id, json, objective, now).await
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot serialise the plan");
                store::set_failed(db, id, "the plan could not be recorded".to_owned(), now).await
            }
            Err(e) => {
                tracing::error!(error = %e, "the planner stopped");
                store::set_failed(db, id, "the planner stopped unexpectedly".to_owned(), now).await
            }
        };
        if let Err(e) = written {
            tracing::error!(error = %e, "cannot record the plan's outcome");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_bounded() {
        let runs = PlanRuns::new(2);
        let queued = Progress {
            status: PlanStatus::Queued,
            percent: 0,
            best_objective: None,
        };
        for id in 0..(2 * UNFINISHED_PER_CORE as i64) {
            assert!(runs.has_room(), "{id}");
            runs.set(id, queued);
        }
        assert!(!runs.has_room());
        runs.forget(0);
        assert!(runs.has_room());
    }
}
