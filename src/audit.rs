//! Reading the audit log (`GET /api/v1/audit`); changes are recorded by the services that make
//! them, in their transactions.

use entity::audit_log;
use sea_orm::{ConnectionTrait, DbErr};

pub use crate::store::audit::AuditFilter;

/// The records matching `filter`, oldest first.
///
/// # Errors
/// The database fails.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
) -> Result<Vec<audit_log::Model>, DbErr> {
    crate::store::audit::list(db, filter).await
}
