//! Persistence: plain async functions over sea-orm, one module per aggregate.
//!
//! Functions take `&impl ConnectionTrait` so that they run on the pool or inside a caller's
//! transaction alike, and return entity models or `DbErr`; HTTP concerns stay in `api/`.

pub mod audit;
pub mod coordinators;
pub mod points;
pub mod regions;
pub mod surveys;
