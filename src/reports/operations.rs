//! What an operator watches across every instance sharing the database: plans, outbox
//! messages and bookings by status (`GET /metrics` reads it at each scrape).

use sea_orm::{ConnectionTrait, DbErr};

use crate::store::status_counts;

/// Rows by status, as the database holds them now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub plans: Vec<(String, i64)>,
    pub outbox: Vec<(String, i64)>,
    pub bookings: Vec<(String, i64)>,
}

/// Reads the counts (three grouped counts; no rows are read).
///
/// # Errors
/// The database cannot be read.
pub async fn counts(db: &impl ConnectionTrait) -> Result<Counts, DbErr> {
    Ok(Counts {
        plans: status_counts::plans(db).await?,
        outbox: status_counts::outbox(db).await?,
        bookings: status_counts::bookings(db).await?,
    })
}
