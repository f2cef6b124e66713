//! The demo county (`seed-data/demo-divisions.csv`, built into the binary).

use sea_orm::DatabaseConnection;

use crate::import::divisions::{self, ImportError, ImportOptions, ImportSummary, Source};
use crate::store;

/// The demo division table, fictional (codes under the unused province prefix 99).
pub const DEMO_DIVISIONS: Source<'static> = Source::Embedded {
    name: "seed-data/demo-divisions.csv",
    csv: include_bytes!("../seed-data/demo-divisions.csv"),
};

/// Loads the demo data (idempotent: a second run changes nothing).
///
/// # Errors
/// Database errors; the embedded file itself is checked by the test suite.
pub async fn load_demo(db: &DatabaseConnection) -> Result<ImportSummary, ImportError> {
    divisions::import(db, DEMO_DIVISIONS, ImportOptions::default()).await
}

/// Loads the demo data only into an empty database. Returns whether it did.
///
/// # Errors
/// As [`load_demo`].
pub async fn load_demo_if_empty(db: &DatabaseConnection) -> Result<bool, ImportError> {
    if store::regions::count(db).await? > 0 {
        return Ok(false);
    }
    load_demo(db).await?;
    Ok(true)
}
