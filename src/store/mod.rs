//! Persistence: plain async functions over sea-orm, one module per aggregate.
//!
//! Functions take `&impl ConnectionTrait` so that they run on the pool or inside a caller's
//! transaction alike, and return entity models or `DbErr`; HTTP concerns stay in `api/`.

pub mod accounts;
pub mod appeals;
pub mod attendances;
pub mod audit;
pub mod bookings;
pub mod checklists;
pub mod constraint;
pub mod coordinators;
pub mod drives;
pub mod fleet;
pub mod hosts;
pub mod inventory;
pub mod outbox;
pub mod plans;
pub mod points;
pub mod rate_limits;
pub mod recruitment;
pub mod regions;
pub mod status_counts;
pub mod surveys;
pub mod talks;

use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition};

use crate::domain::policy::Visibility;

/// The SQL form of a caller's reach over a region-code column: the union of its subtrees'
/// code ranges (primary-key or index range scans); `None` when it reaches everything.
pub fn within(column: impl ColumnTrait, reach: &Visibility) -> Option<Condition> {
    match reach {
        Visibility::All => None,
        Visibility::Within(scopes) if scopes.is_empty() => {
            Some(Condition::all().add(SimpleExpr::from(Expr::cust("1 = 0"))))
        }
        Visibility::Within(scopes) => Some(scopes.iter().fold(Condition::any(), |any, scope| {
            let (lo, hi) = scope.bounds();
            any.add(column.between(lo, hi))
        })),
    }
}
