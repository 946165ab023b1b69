//! Errors of the data stage. Each names the file and, where there is one, the
//! line, column and value, and says what to change.

use std::path::PathBuf;

use crate::contract::TableKind;

/// An error while reading, mapping, validating or writing tables.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be read or written.
    #[error("failed to access {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// polars failed to read or write a file.
    #[error("failed to read or write {path}: {source}")]
    Polars {
        /// The file.
        path: PathBuf,
        /// The polars error.
        source: polars::error::PolarsError,
    },
    /// A JSON file could not be parsed.
    #[error("invalid JSON in {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser error.
        source: serde_json::Error,
    },
    /// A normalized table does not have the contract schema.
    #[error(
        "{path}: the {table} table does not have the contract schema\n  expected: {expected}\n  found: {found}\nhint: re-run `headroom import` to rewrite the project's tables"
    )]
    SchemaMismatch {
        /// The table file.
        path: PathBuf,
        /// Which table.
        table: TableKind,
        /// The contract schema.
        expected: String,
        /// The schema in the file.
        found: String,
    },
    /// The project config has an invalid section.
    #[error(
        "invalid config {path} [{section}]: {message}\nhint: fix the value or delete the key to use its default"
    )]
    Config {
        /// The config file.
        path: PathBuf,
        /// The section (empty when the whole file failed to parse).
        section: String,
        /// What is wrong.
        message: String,
    },
}
