//! Errors of retraining and the registry commands.

use headroom_model::ModelError;
use headroom_store::StoreError;

/// An error while retraining or recording a registry decision.
#[derive(Debug, thiserror::Error)]
pub enum RetrainError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// Training or evaluating a model failed.
    #[error("failed to {action} the {kind} model: {source}")]
    Model {
        /// The failed step: "train", "evaluate".
        action: &'static str,
        /// The model kind.
        kind: &'static str,
        /// The model error.
        source: Box<ModelError>,
    },

    /// The champion's artifact in the registry cannot be read.
    #[error(
        "the {kind} champion {version:?} cannot be read: {source}\nhint: promote another model with `headroom models promote`, or roll back"
    )]
    Champion {
        /// The model kind.
        kind: &'static str,
        /// The champion's version.
        version: String,
        /// The parse error.
        source: Box<ModelError>,
    },

    /// The comparison has no metric to decide on.
    #[error("cannot compare the {kind} champion and challenger: {reason}\nhint: {hint}")]
    NoComparison {
        /// The model kind.
        kind: &'static str,
        /// The reason the comparison is impossible.
        reason: String,
        /// The step to take instead.
        hint: &'static str,
    },

    /// A file could not be written.
    #[error("failed to write {path}: {source}")]
    Io {
        /// The file or folder.
        path: std::path::PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },

    /// A section of `headroom.toml` is invalid.
    #[error(transparent)]
    Config(Box<headroom_data::DataError>),

    /// A setting of the `[retrain]` section is out of range.
    #[error(
        "invalid [retrain] setting {name} = {value}: it must be a number of 0 or more\nhint: fix the value, or delete the key to use its default"
    )]
    Setting {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: String,
    },
}
