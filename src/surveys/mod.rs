//! Village donor surveys: what township health officials report about each village's
//! eligible population.
//!
//! - `sheet`: the CSV/XLSX survey sheets, bytes ↔ typed rows (pure, no I/O).
//! - `workbook`: bounds on an uploaded XLSX container, checked before it is read (pure).

pub mod sheet;
pub mod workbook;
