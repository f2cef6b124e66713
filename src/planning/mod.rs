//! Drive planning, pure: no database, no HTTP, no clock. Everything here takes its inputs as
//! values and returns values, so that it can be tested by hand-computed examples and run the
//! same way from the API, the command line and the benchmarks.
//!
//! - `calendar`: the lunar calendar facts turnout depends on (Spring Festival, market days);
//! - `coverage`: where new points would reach the most uncovered donors (greedy max coverage);
//! - `turnout`: the expected donors at a site on a date, with every factor explained.

pub mod calendar;
pub mod coverage;
pub mod evaluate;
pub mod exact;
pub mod instance;
pub mod problem;
pub mod solver;
pub mod synthetic;
#[cfg(test)]
pub(crate) mod testing;
pub mod turnout;
