//! Village donor surveys: what township health officials report about each village's
//! eligible population.
//!
//! - `sheet`: the CSV/XLSX survey sheets, bytes ↔ typed rows (pure, no I/O).

pub mod sheet;
