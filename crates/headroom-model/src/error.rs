//! Errors of the modelling stage. Each names the feature, the row's account and
//! observation date, or the file involved, and says what to change.

use std::path::PathBuf;

use chrono::NaiveDate;

/// An error while building a data set, fitting, selecting, scoring or storing a
/// model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The L2 penalty is zero, negative or not finite.
    #[error(
        "invalid L2 penalty {value}: it must be a positive, finite number\nhint: use a value such as 0.001; larger values shrink the coefficients more"
    )]
    NonPositivePenalty {
        /// The rejected penalty.
        value: f64,
    },
    /// The list of candidate penalties is empty.
    #[error(
        "no candidate L2 penalties to choose from\nhint: give at least one penalty, such as 0.001"
    )]
    EmptyPenaltyGrid,
    /// A decision threshold outside [0, 1].
    #[error(
        "invalid decision threshold {value}: it must lie between 0 and 1\nhint: use a probability such as 0.5"
    )]
    InvalidThreshold {
        /// The rejected threshold.
        value: f64,
    },
    /// The iteration cap is zero.
    #[error(
        "invalid iteration cap 0: the solver needs at least one iteration\nhint: use a cap such as 500"
    )]
    ZeroIterationCap,
    /// The gradient tolerance is zero, negative or not finite.
    #[error(
        "invalid gradient tolerance {value}: it must be a positive, finite number\nhint: use a value such as 1e-5"
    )]
    InvalidTolerance {
        /// The rejected tolerance.
        value: f64,
    },
    /// The share of missing values that adds a missingness indicator is outside (0, 1].
    #[error(
        "invalid missing-indicator share {value}: it must lie in (0, 1]\nhint: use a share such as 0.05 (5% of training rows missing)"
    )]
    InvalidIndicatorShare {
        /// The rejected share.
        value: f64,
    },
    /// A class weight of zero.
    #[error(
        "invalid positive-class weight 0: each positive row must count at least once\nhint: use 1 for no weighting or an integer such as 10"
    )]
    ZeroClassWeight,
    /// A `[model]` setting that cannot work.
    #[error("invalid [model] setting {name} = {value}: {reason}\nhint: {hint}")]
    InvalidSetting {
        /// The setting.
        name: &'static str,
        /// The rejected value.
        value: String,
        /// Why it is rejected.
        reason: &'static str,
        /// What to use instead.
        hint: &'static str,
    },
    /// Fold settings that cannot produce a validation fold.
    #[error("invalid fold setting {name} = {value}: {reason}\nhint: {hint}")]
    InvalidFoldSetting {
        /// The setting.
        name: &'static str,
        /// The rejected value.
        value: i64,
        /// Why it is rejected.
        reason: &'static str,
        /// What to use instead.
        hint: &'static str,
    },
    /// Two inputs that must have the same length or shape do not.
    #[error("{what}: expected {expected}, found {found}\nhint: {hint}")]
    ShapeMismatch {
        /// What was compared.
        what: &'static str,
        /// The expected size.
        expected: usize,
        /// The size found.
        found: usize,
        /// What to change.
        hint: &'static str,
    },
    /// The same feature name appears twice.
    #[error(
        "feature {name:?} appears twice in the feature list\nhint: give every column a unique name"
    )]
    DuplicateFeature {
        /// The repeated name.
        name: String,
    },
    /// A data set without rows.
    #[error("the {what} has no rows\nhint: {hint}")]
    Empty {
        /// The data set or fold that is empty.
        what: String,
        /// What to change.
        hint: &'static str,
    },
    /// Training rows of only one class.
    #[error(
        "cannot fit the {model} model: none of the {rows} labelled rows is {missing}\nhint: widen the training window so that it contains both {positive} and {negative} rows"
    )]
    OneClass {
        /// The model kind (churn, expansion).
        model: &'static str,
        /// The class without rows ("churned", "not churned", ...).
        missing: &'static str,
        /// How many labelled rows there are.
        rows: usize,
        /// The positive class name.
        positive: &'static str,
        /// The negative class name.
        negative: &'static str,
    },
    /// An infinite value in a feature (NaN is a missing value and is imputed).
    #[error(
        "feature {feature:?} is {value} for account {account_id:?} observed on {observed} (row {row})\nhint: fix the feature computation; write a missing value as NaN or null, never as an infinity"
    )]
    NonFiniteValue {
        /// The feature (column) name.
        feature: String,
        /// The row's account.
        account_id: String,
        /// The row's observation date.
        observed: NaiveDate,
        /// The 1-based row number in the feature matrix.
        row: usize,
        /// The value found.
        value: f64,
    },
    /// A non-finite value in a standardized design matrix handed straight to
    /// the solver.
    #[error(
        "the design matrix holds {value} at row {row}, column {column}\nhint: impute and standardize the features first (fitting a model from a data set does this)"
    )]
    NonFiniteDesign {
        /// 1-based row.
        row: usize,
        /// 1-based column.
        column: usize,
        /// The value found.
        value: f64,
    },
    /// Every feature was dropped as constant or entirely missing.
    #[error(
        "no usable features: all {count} features are constant or missing in the training rows ({dropped})\nhint: check that the feature table has values that differ between accounts"
    )]
    NoUsableFeatures {
        /// How many features there were.
        count: usize,
        /// The dropped features, comma separated.
        dropped: String,
    },
    /// A feature separates the classes perfectly and the policy rejects it.
    #[error(
        "{separation}\nhint: a feature that alone predicts the outcome perfectly usually leaks the label; remove it, or allow separation to keep it with the penalty bounding its coefficient"
    )]
    Separation {
        /// What was found.
        separation: crate::separation::Separation,
    },
    /// The feature names of the data do not match the model.
    #[error(
        "the features do not match the model: missing {missing:?}, unexpected {extra:?}\nhint: compute the features with the same headroom version that trained the model, or retrain it"
    )]
    FeatureMismatch {
        /// Features the model needs that the data lacks.
        missing: Vec<String>,
        /// Features in the data that the model does not know.
        extra: Vec<String>,
    },
    /// A model artifact written by a newer headroom.
    #[error(
        "{path}: model format version {found} is newer than this headroom supports ({supported})\nhint: upgrade headroom, or retrain the model with this version"
    )]
    UnsupportedFormatVersion {
        /// The artifact file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A model artifact whose fields do not fit together.
    #[error(
        "invalid model file {path}: {reason}\nhint: the file was edited or damaged; retrain to write it again"
    )]
    InvalidArtifact {
        /// The artifact file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
    /// A model artifact could not be read or written.
    #[error("failed to access model file {path}: {source}")]
    Io {
        /// The artifact file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A model artifact is not valid JSON of the expected shape.
    #[error(
        "invalid model file {path}: {source}\nhint: the file is damaged or not a headroom model; retrain to write it again"
    )]
    Json {
        /// The artifact file.
        path: PathBuf,
        /// The parser error.
        source: serde_json::Error,
    },
    /// Too little history for the time-ordered validation folds.
    #[error(
        "not enough history for {folds} validation folds of {validation_dates} observation dates each with a {gap_days}-day gap: {reason}\nhint: lower folds or fold_months in the [model] section, or give it a single penalty and a fixed threshold (no selection)"
    )]
    NotEnoughHistory {
        /// Requested folds.
        folds: usize,
        /// Observation dates per validation fold.
        validation_dates: usize,
        /// Days between the last training date and the first validation date.
        gap_days: i64,
        /// What is short.
        reason: String,
    },
    /// A validation fold's training rows hold only one class.
    #[error(
        "validation fold {fold} trains on {rows} rows observed {train_first} to {train_last} and none of them is {missing}\nhint: lower folds in the [model] section so the earliest fold trains on more history, or give it a single penalty and a fixed threshold (no selection)"
    )]
    FoldOneClass {
        /// 1-based fold number, oldest first.
        fold: usize,
        /// Training rows of the fold.
        rows: usize,
        /// First training observation date.
        train_first: NaiveDate,
        /// Last training observation date.
        train_last: NaiveDate,
        /// The class without rows.
        missing: &'static str,
    },
    /// The feature pipeline failed while building a training set.
    #[error("failed to compute the training features: {source}")]
    Features {
        /// The feature-stage error.
        #[source]
        source: headroom_features::FeatureError,
    },
    /// The tables hold no history to train on.
    #[error(
        "cannot build a training set: {reason}\nhint: import usage and outcomes covering at least the warm-up months plus the horizon (about a year at the defaults)"
    )]
    NoHistory {
        /// What is missing.
        reason: String,
    },
    /// The held-out window leaves no month-end to train on.
    #[error(
        "cannot hold out {holdout_months} month-ends from {first_held_out}: the evaluated model may only train on rows observed on or before {train_until} (one {horizon_days}-day horizon earlier), and the first labelled month-end is {first_labelled}\nhint: lower holdout_months in the [model] section, or set it to 0 to train on everything without a held-out evaluation"
    )]
    HoldoutTooLong {
        /// The requested held-out month-ends.
        holdout_months: u32,
        /// The first held-out month-end.
        first_held_out: NaiveDate,
        /// The last observation date the evaluated model may train on.
        train_until: NaiveDate,
        /// The horizon in days.
        horizon_days: u32,
        /// The first labelled month-end.
        first_labelled: NaiveDate,
    },
    /// linfa-logistic failed to fit.
    #[error("logistic regression fit failed: {source}")]
    Fit {
        /// The linfa-logistic error.
        #[source]
        source: linfa_logistic::error::Error,
    },
    /// A polars column could not be read as a feature or key.
    #[error("column {column:?}: {message}\nhint: {hint}")]
    Column {
        /// The column name.
        column: String,
        /// What is wrong.
        message: String,
        /// What to change.
        hint: &'static str,
    },
}

/// The result type of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
