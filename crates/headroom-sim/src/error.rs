//! Errors of the simulator and of the ground-truth reader. Each names the
//! setting, file or row involved and ends with a hint on what to change.

use std::path::PathBuf;

use chrono::NaiveDate;

/// An error while configuring, generating, writing or reading a simulated portfolio.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A simulator setting is out of range.
    #[error("invalid sim setting `{key}` = {value}\nhint: {expected}")]
    InvalidSetting {
        /// The setting's dotted path in the TOML config (`segments.smb.churn_per_term`).
        key: String,
        /// The value given.
        value: String,
        /// The accepted range or form, written as the fix.
        expected: String,
    },
    /// A month is not written as `YYYY-MM`.
    #[error("invalid month `{value}`\nhint: write the month as YYYY-MM, for example 2023-11")]
    InvalidMonth {
        /// The text given.
        value: String,
    },
    /// A simulator config file could not be parsed.
    #[error(
        "invalid sim config {path}: {message}\nhint: print the defaults with `headroom sim --print-config` and compare"
    )]
    Config {
        /// The config file.
        path: PathBuf,
        /// The message of the TOML parser or of the schema check.
        message: String,
    },
    /// The output folder already contains files.
    #[error(
        "output folder {path} is not empty\nhint: pass --force to replace it, or choose another --out"
    )]
    OutputExists {
        /// The output folder.
        path: PathBuf,
    },
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
    /// A ground-truth file has no usable table of monthly probabilities.
    #[error("{path}: {message}\nhint: point to the truth/ folder written by `headroom sim`")]
    TruthFormat {
        /// The truth file or folder.
        path: PathBuf,
        /// The problem found.
        message: String,
    },
    /// An observation has no ground-truth row.
    #[error(
        "no ground truth for account {account_id} at {date}\nhint: the truth has one row per account and month-end while the account has a contract; score only month-end dates of active accounts"
    )]
    TruthRowMissing {
        /// The account.
        account_id: String,
        /// The observation date.
        date: NaiveDate,
    },
    /// An observation's outcome horizon reaches past the last simulated month.
    #[error(
        "the outcome of account {account_id} at {date} is not known: its horizon ends after {last_month_end}\nhint: drop observations whose horizon ends after the last simulated month, or pass your own labels"
    )]
    HorizonCensored {
        /// The account.
        account_id: String,
        /// The observation date.
        date: NaiveDate,
        /// The last simulated month-end.
        last_month_end: NaiveDate,
    },
}
