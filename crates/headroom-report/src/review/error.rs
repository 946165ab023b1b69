//! Errors of the monthly review.

use headroom_features::FeatureError;
use headroom_model::ModelError;
use headroom_store::StoreError;

/// An error while building the monthly review.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// The features of a snapshot date or of the review month failed.
    #[error("failed to compute the features as of {as_of}: {source}")]
    Features {
        /// The as-of date.
        as_of: chrono::NaiveDate,
        /// The feature error.
        source: FeatureError,
    },

    /// A registered model's artifact could not be read or applied.
    #[error("the {kind} champion {version:?} cannot be used: {source}")]
    Model {
        /// The model kind.
        kind: &'static str,
        /// The registered version.
        version: String,
        /// The model error.
        source: Box<ModelError>,
    },

    /// A section of `headroom.toml` is invalid.
    #[error(transparent)]
    Config(Box<headroom_data::DataError>),

    /// A setting of the `[review]` section is out of range.
    #[error("invalid [review] setting {name} = {value}: {problem}\nhint: {hint}")]
    Setting {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: String,
        /// The problem.
        problem: &'static str,
        /// The fix.
        hint: &'static str,
    },
}
