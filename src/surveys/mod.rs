//! Village donor surveys: what township health officials report about each village's
//! eligible population.
//!
//! - `sheet`: the CSV/XLSX survey sheets, bytes ↔ typed rows (pure, no I/O).
//! - `roster_sheet`: the donor roster's CSV sheet (issue 16), bytes to raw rows (pure).
//! - `workbook`: bounds on an uploaded XLSX container, checked before it is read (pure).

pub mod roster_sheet;
pub mod sheet;
pub mod workbook;
