//! Errors of the feature stage. Each names the table and the values involved
//! and says what to change.

use chrono::NaiveDate;
use polars::error::PolarsError;

/// An error while computing features.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// A polars query failed; `step` names the part of the pipeline.
    #[error("failed to compute {step}: {source}")]
    Polars {
        /// The pipeline step, e.g. "the monthly usage panel".
        step: &'static str,
        /// The polars error.
        source: PolarsError,
    },

    /// The data stage failed: ARR cannot be converted into one currency (the
    /// contracts mix currencies without an FX table, or a currency has no
    /// rate), or the usage file cannot be read.
    #[error(transparent)]
    Data(#[from] headroom_data::DataError),

    /// An FX rate is zero, negative or not a number.
    #[error(
        "invalid FX rate {rate} for {currency}\nhint: an FX rate is a positive number of reporting-currency units per 1 {currency}"
    )]
    InvalidFxRate {
        /// The currency.
        currency: String,
        /// The rate as given.
        rate: f64,
    },

    /// Two entitlement or metric names map to the same feature column name.
    #[error(
        "{what} names {first:?} and {second:?} both give feature columns named {column:?}\nhint: rename one of them in the mapping so that they differ in letters or digits"
    )]
    NameCollision {
        /// "entitlement" or "usage metric".
        what: &'static str,
        /// The first name.
        first: String,
        /// The second name.
        second: String,
        /// The column suffix both give.
        column: String,
    },

    /// An entitlement or metric name gives a column that a summary feature
    /// already uses.
    #[error(
        "{what} {name:?} gives the feature column {column:?}, which a summary feature already uses\nhint: rename the {what} in the mapping"
    )]
    ReservedName {
        /// "entitlement" or "usage metric".
        what: &'static str,
        /// The name.
        name: String,
        /// The clashing column.
        column: String,
    },

    /// A date range contains no month end.
    #[error(
        "no month end lies between {from} and {to}\nhint: give a range that includes the last day of at least one month, with the start before the end"
    )]
    EmptyRange {
        /// The start of the range.
        from: NaiveDate,
        /// The end of the range.
        to: NaiveDate,
    },

    /// The as-of date reads a month of usage that the project does not have:
    /// every account would count that month as zero usage.
    #[error(
        "no usage is imported for {month}, the month that features as of {as_of} read: {found} as zero usage\nhint: import the exports that hold the usage up to {month} (`headroom import EXPORTS_DIR --out PROJECT`){earlier}",
        found = match last_usage {
            Some(date) => format!(
                "the latest usage row is dated {date}, so every account would count the months after {} up to {month}",
                date.format("%Y-%m")
            ),
            None => format!("the project has no usage rows, so every account would count {month}"),
        },
        earlier = match latest_as_of {
            Some(date) => format!(", or pass --as-of {date} or earlier"),
            None => String::new(),
        }
    )]
    UsageNotImported {
        /// The requested as-of date.
        as_of: NaiveDate,
        /// The month the as-of date reads, as YYYY-MM.
        month: String,
        /// The date of the latest usage row, if any.
        last_usage: Option<NaiveDate>,
        /// The end of the last month with usage: the latest month-end as-of
        /// date whose month has usage rows.
        latest_as_of: Option<NaiveDate>,
    },

    /// The as-of date reads a month before the first month of usage: every
    /// account would be scored from its contract alone.
    #[error(
        "no usage is imported for {month}, the month that features as of {as_of} read: the earliest usage row is dated {first_usage}, so no account has usage to measure\nhint: pass --as-of {earliest_as_of} or later, or import the exports that hold the usage of {month}"
    )]
    UsageNotStarted {
        /// The requested as-of date.
        as_of: NaiveDate,
        /// The month the as-of date reads, as YYYY-MM.
        month: String,
        /// The date of the earliest usage row.
        first_usage: NaiveDate,
        /// The end of the first month with usage: the earliest month-end
        /// as-of date whose month has usage rows.
        earliest_as_of: NaiveDate,
    },

    /// The configured primary entitlement is not an entitlement of any contract.
    #[error(
        "the primary entitlement {name:?} set in [features] is not an entitlement of any contract (known: {})\nhint: set primary_entitlement to one of the known names or remove it",
        known.join(", ")
    )]
    UnknownPrimaryEntitlement {
        /// The configured name.
        name: String,
        /// The non-boolean entitlement names in the tables.
        known: Vec<String>,
    },

    /// The accounts table lists an account more than once.
    #[error(
        "accounts table: account_id {account_id:?} is on {rows} rows\nhint: keep one row per account; re-run `headroom import` to validate the export"
    )]
    DuplicateAccount {
        /// The repeated id.
        account_id: String,
        /// How many rows carry it.
        rows: usize,
    },

    /// The usage table has two rows for one account, metric and date.
    #[error(
        "usage table: account_id {account_id:?}, metric {metric:?}, date {date} is on more than one row\nhint: keep one row per account, metric and date; re-run `headroom import` to validate the export"
    )]
    DuplicateUsage {
        /// The account.
        account_id: String,
        /// The metric.
        metric: String,
        /// The date.
        date: NaiveDate,
    },
}

/// Adds the pipeline step to a polars error.
pub(crate) trait StepContext<T> {
    /// Wraps a polars error as [`FeatureError::Polars`] naming `step`.
    fn step(self, step: &'static str) -> Result<T, FeatureError>;
}

impl<T> StepContext<T> for Result<T, PolarsError> {
    fn step(self, step: &'static str) -> Result<T, FeatureError> {
        self.map_err(|source| FeatureError::Polars { step, source })
    }
}
