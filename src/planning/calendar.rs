//! The lunar calendar facts turnout needs (Spring Festival, market days) live in
//! [`crate::domain::calendar`]; re-exported here for the planner.

pub use crate::domain::calendar::*;
