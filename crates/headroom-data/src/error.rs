//! Errors of the data stage. Each names the file and, where there is one, the
//! line, column and value, and says what to change.

use std::path::PathBuf;

use crate::contract::TableKind;
use crate::report::Report;

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
    /// A top-level entry of the config file that no stage reads, such as a
    /// misspelled section whose settings would otherwise be ignored.
    #[error("invalid config {path}: unknown section [{name}]\nhint: {hint}")]
    UnknownConfigSection {
        /// The config file.
        path: PathBuf,
        /// The entry's name.
        name: String,
        /// The sections headroom reads, and the closest one.
        hint: String,
    },
    /// Another process holds the project's import lock.
    #[error(
        "another import into this project is running: {path} is held by {holder}\nhint: wait for that import to finish and run this one again; the lock is released when its process exits"
    )]
    ProjectLocked {
        /// The lock file.
        path: PathBuf,
        /// The lock holder's process and command, as it recorded them.
        holder: String,
    },
    /// A polars operation on an in-memory table failed.
    #[error("failed to transform a table: {source}")]
    Frame {
        /// The polars error.
        source: polars::error::PolarsError,
    },
    /// The mapping file is invalid.
    #[error("invalid mapping {path}: {message}\nhint: {hint}")]
    Mapping {
        /// The mapping file.
        path: PathBuf,
        /// What is wrong, with the key.
        message: String,
        /// What to change.
        hint: String,
    },
    /// The input has errors; `report` lists each with file, line, column and value.
    #[error("{}", report.render_errors())]
    Invalid {
        /// The full validation report, errors first.
        report: Box<Report>,
    },
    /// Amounts in several currencies would be summed or compared without rates.
    #[error(
        "cannot {purpose}: the contracts use several currencies ({}) and the mapping has no FX table\nhint: add `[currency] report = \"USD\"` and `rates = {{ EUR = 1.08, ... }}` to the mapping and import again",
        currencies.join(", ")
    )]
    MixedCurrencies {
        /// The currencies found, sorted.
        currencies: Vec<String>,
        /// What would have been done with the amounts.
        purpose: String,
    },
    /// The FX table lacks a rate for a currency that occurs in the data.
    #[error(
        "no FX rate from {currency} to the reporting currency {report}\nhint: add `{currency} = <{report} per {currency}>` under `[currency] rates` in the mapping"
    )]
    MissingFxRate {
        /// The currency without a rate.
        currency: String,
        /// The reporting currency.
        report: String,
    },
}
