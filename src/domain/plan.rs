//! Drive plans: where a plan is in its life.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a plan is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Accepted, waiting for a free planner.
    Queued,
    /// Being solved (`progress` moves).
    Running,
    /// Solved: the result is there.
    Done,
    /// Not solved: `error` says why (e.g. interrupted by a restart).
    Failed,
}

string_enum!(PlanStatus {
    Queued => "queued",
    Running => "running",
    Done => "done",
    Failed => "failed",
});

impl PlanStatus {
    /// True once the plan will not change any more.
    pub fn is_finished(self) -> bool {
        matches!(self, PlanStatus::Done | PlanStatus::Failed)
    }
}
