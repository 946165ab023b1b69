//! Errors of the report stage. Each names the file, setting, account or model
//! involved and gives the fix in a `hint:` line.

use std::path::PathBuf;

use chrono::NaiveDate;

/// An error while scoring a portfolio or rendering its report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading the project's tables or config failed.
    #[error(transparent)]
    Data(#[from] headroom_data::DataError),

    /// Computing the features failed.
    #[error(transparent)]
    Features(#[from] headroom_features::FeatureError),

    /// Loading or applying a model failed.
    #[error(transparent)]
    Model(Box<headroom_model::ModelError>),

    /// Reading or writing the store failed.
    #[error(transparent)]
    Store(#[from] headroom_store::StoreError),

    /// A setting has a value outside its allowed range, or two settings
    /// contradict each other.
    #[error("{0}")]
    InvalidSetting(Box<InvalidSetting>),

    /// The champion model stored in the registry cannot be read.
    #[error(
        "the {kind} champion {version} in the store cannot be used: {source}\nhint: promote another model with `headroom models promote`, or retrain with `headroom train`"
    )]
    Champion {
        /// `churn` or `expansion`.
        kind: &'static str,
        /// The champion's version.
        version: String,
        /// The reason it cannot be used.
        source: Box<headroom_model::ModelError>,
    },

    /// The project has no account active at the scoring date.
    #[error(
        "no account is active on {as_of} in {project}\nhint: pick a date inside the contracts' terms with --as-of (the data covers {coverage})"
    )]
    NoActiveAccounts {
        /// The project folder.
        project: PathBuf,
        /// The scoring date.
        as_of: NaiveDate,
        /// The span of the contract dates, in words.
        coverage: String,
    },

    /// The project has no usage rows to pick a default scoring date from.
    #[error(
        "cannot choose a scoring date for {project}: the tables hold no usage rows, and the default date is that of the latest one\nhint: import the usage export with `headroom import` (a usage file with only its header imports no rows)"
    )]
    NoDataDate {
        /// The project folder.
        project: PathBuf,
    },

    /// The requested account is not in the project.
    #[error("account {account_id:?} is not in {project}\nhint: {hint}")]
    AccountNotFound {
        /// The requested id.
        account_id: String,
        /// The project folder.
        project: PathBuf,
        /// Similar ids or the next step.
        hint: String,
    },

    /// The requested account exists but is not active at the scoring date.
    #[error(
        "account {account_id:?} is not active on {as_of}\nhint: pick a date inside one of its contracts with --as-of{last_active}"
    )]
    AccountInactive {
        /// The requested id.
        account_id: String,
        /// The scoring date.
        as_of: NaiveDate,
        /// ", e.g. 2025-06-30" when the account's last contract end is known.
        last_active: String,
    },

    /// A polars query of the report stage failed.
    #[error("failed to compute {step}: {source}")]
    Polars {
        /// The step, e.g. "the usage history".
        step: &'static str,
        /// The polars error.
        source: polars::error::PolarsError,
    },

    /// Writing a report file failed.
    #[error("failed to write {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A bad setting: where it is, its value, what is wrong and what to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSetting {
    /// The config file.
    pub path: PathBuf,
    /// The section, e.g. `segments.customer.enterprise`.
    pub section: String,
    /// The key.
    pub key: String,
    /// The value as written.
    pub value: String,
    /// The problem with the value.
    pub problem: String,
    /// The fix, in words.
    pub hint: String,
}

impl std::fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid setting in {} [{}] {} = {}: {}\nhint: {}",
            self.path.display(),
            self.section,
            self.key,
            self.value,
            self.problem,
            self.hint
        )
    }
}

impl From<headroom_model::ModelError> for ReportError {
    fn from(err: headroom_model::ModelError) -> ReportError {
        ReportError::Model(Box::new(err))
    }
}

impl ReportError {
    /// Wraps a polars error with the step that failed.
    pub(crate) fn polars(
        step: &'static str,
    ) -> impl FnOnce(polars::error::PolarsError) -> ReportError {
        move |source| ReportError::Polars { step, source }
    }
}
