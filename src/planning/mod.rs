//! Drive planning, pure: no database, no HTTP, no clock. Everything here takes its inputs as
//! values and returns values, so that it can be tested by hand-computed examples and run the
//! same way from the API, the command line and the benchmarks.
//!
//! - `calendar`: the lunar calendar facts turnout depends on (Spring Festival, market days);
//! - `turnout`: the expected donors at a site on a date, with every factor explained;
//! - `calibrate`: the turnout rate and decay fitted to recorded results (Poisson);
//! - `coverage`: where new points would reach the most uncovered donors (greedy max coverage);
//! - `instance`: the planning problem as one self-contained value (and JSON file);
//! - `problem`: an instance compiled for solving (indices, travel matrix, allowed days);
//! - `evaluate`: plan check: times, totals and every broken rule of any plan;
//! - `solver`: the multi-day planner (adaptive large neighbourhood search) and its reasons;
//! - `exact`: exhaustive search for tiny instances and small neighbourhoods;
//! - `synthetic`: seeded instances on a real division hierarchy, for benchmarks and tests;
//! - `assemble`: an instance from candidate sites, village surveys, the fleet and a request
//!   (one village, one site), as the API and `donornet plan --export-instance` build it.

pub mod assemble;
pub mod calendar;
pub mod calibrate;
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
