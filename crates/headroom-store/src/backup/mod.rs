//! Portable backups of a store: JSON lines with a header line, one record a
//! line tagged by `type`, and an end line with the record count.
//!
//! The export order is fixed (snapshots by id each followed by its rows in
//! account order, outcomes, interventions, notes, models, champions,
//! decisions, each in key order), and the lines carry no export time, so
//! export, import into an empty store and export again give the same bytes.

mod export;
mod import;
mod lines;

pub use export::ExportSummary;
pub use import::{ImportMode, ImportSummary, KindCounts};
pub use lines::BACKUP_FORMAT;
