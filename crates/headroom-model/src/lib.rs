//! The modelling stage: logistic churn and expansion models on numeric
//! feature matrices, their evaluation against the usage-threshold rules,
//! reason codes and the JSON model artifact.
//!
//! It takes a [`Dataset`] (features as of each observation date, one boolean
//! label per row, keys with account, date and segment) and hands the report
//! stage a [`ModelArtifact`] that scores, explains and describes itself.
//!
//! ```text
//! Dataset --TrainParams::check()?.train()--> ModelArtifact --save/load--> JSON
//!                                                 |--predict_proba(FeatureMatrix)--> P(positive)
//!                                                 |--reason_codes(FeatureMatrix, k)--> ReasonCodes
//! probabilities + labels + utilization --evaluate()--> Evaluation (model, rule, base rate)
//! ```

pub mod artifact;
pub mod config;
pub mod dataset;
pub mod error;
pub mod evaluate;
pub mod folds;
pub mod frame;
pub mod inputs;
pub mod kind;
pub mod logistic;
pub mod metrics;
pub mod preprocess;
pub mod profile;
pub mod reasons;
pub mod score;
pub mod select;
pub mod separation;
pub mod threshold;
pub mod train;
pub mod training;

#[cfg(test)]
mod testutil;

pub use artifact::{FORMAT_VERSION, HeldOut, ModelArtifact, ModelSettings, TrainingSummary};
pub use config::{ClassWeightSetting, ModelConfig, ThresholdSetting};
pub use dataset::{Dataset, FeatureMatrix, RowKey};
pub use error::{ModelError, Result};
pub use evaluate::{
    Comparison, Evaluation, EvaluationInput, RuleBaseline, RuleScores, ScorerMetrics,
    SegmentComparison, evaluate,
};
pub use folds::{FoldParams, FoldSummary, TimeFold, time_folds};
pub use frame::{KeyColumns, labels_from_frame};
pub use inputs::{CategoryInputs, InputSpec, WindowInput};
pub use kind::ModelKind;
pub use linfa::ParamGuard;
pub use logistic::{
    AppliedWeights, ClassWeight, FitReport, FitWarning, LogisticFit, LogisticParams,
    LogisticValidParams,
};
pub use metrics::{CalibrationBin, CalibrationTable, ConfusionMatrix};
pub use preprocess::{DropReason, DroppedFeature, Imputation, ModelColumn, Preprocessor, Term};
pub use profile::{InputDistribution, InputProfile, InputStability};
pub use reasons::{Contribution, ReasonCodes};
pub use score::Scorer;
pub use select::{FoldScore, PenaltyScore, SelectionReport};
pub use separation::{Separation, Side};
pub use threshold::{ThresholdChoice, ThresholdRule};
pub use train::{SeparationPolicy, TrainParams, TrainValidParams};
pub use training::{
    SetSummary, TrainedModel, TrainingSet, build_training_set, evaluate_model, fit_model,
    train_model,
};
