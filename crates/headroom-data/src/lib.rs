//! The data contract: the six tables headroom reads, the mapping files that adapt
//! foreign exports to them, and the import and validation that turn a folder of
//! CSV or Parquet files into checked, typed polars tables for the feature stage.
//!
//! Start with [`load`] (validate and keep the report) or [`import`] (validate and
//! write `PROJECT/tables/`); later stages read the result with
//! [`Tables::read_project`] and sum money with [`arr_in_reporting_currency`].

mod build;
pub mod cell;
mod checks;
mod columns;
pub mod contract;
pub mod currency;
mod derive;
pub mod error;
pub mod import;
mod keys;
pub mod lock;
pub mod mapping;
mod overage;
pub mod project;
pub mod read;
pub mod report;
pub mod rollup;
pub mod table_file;
pub mod tables;
pub mod usage;
mod value_map;

pub use checks::latest_event_date;
pub use contract::{ColumnKind, ColumnSpec, TableKind};
pub use currency::{
    arr_in_reporting_currency, contracts_in_reporting_currency, reporting_currency,
    to_reporting_currency,
};
pub use error::DataError;
pub use import::{Loaded, import, load};
pub use lock::ImportLock;
pub use mapping::Mapping;
pub use project::ProjectConfig;
pub use report::{Check, Issue, Location, Report, Severity};
pub use rollup::usage_by_month;
pub use table_file::{RowOrigin, TableFile, load_table_file};
pub use tables::{Rollup, Tables, TablesMeta};
pub use usage::Usage;
