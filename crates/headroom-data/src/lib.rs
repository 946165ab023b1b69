//! The data contract: the six tables headroom reads, the mapping files that adapt
//! foreign exports to them, and the import and validation that turn a folder of
//! CSV or Parquet files into checked, typed polars tables for the feature stage.

pub mod contract;
pub mod error;
pub mod project;
pub mod tables;

pub use contract::{ColumnKind, ColumnSpec, TableKind};
pub use error::DataError;
pub use project::ProjectConfig;
pub use tables::{Rollup, Tables, TablesMeta};
