//! Pure domain types and rules: no database, no HTTP, no clock.

pub mod point;
pub mod region;
pub mod survey;
pub mod text;
