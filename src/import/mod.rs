//! Bulk loads from files: the official division table (and the demo county, which uses the
//! same format).

pub mod divisions;
