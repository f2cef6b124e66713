//! Drive plans as a service, between the pure planner (`crate::planning`) and the HTTP API:
//!
//! - `request`: the body of `POST /api/v1/plans`, also read by `donornet plan
//!   --export-instance`, and its checks;
//! - `build`: the request and the database to an instance (one function for both callers);
//! - `result`: the typed plan result, as stored, served and exported;
//! - `runs`: plans solving in the background, with their progress in memory;
//! - `export`: a finished plan as CSV, iCalendar and a printable HTML route sheet;
//! - `submit`: making a plan (build, compile, store, start), for `POST /api/v1/plans`;
//! - `reads`: what the plan handlers read.

pub mod build;
pub mod export;
pub mod reads;
pub mod request;
pub mod result;
pub mod runs;
pub mod submit;

pub use submit::{Submitted, submit};
