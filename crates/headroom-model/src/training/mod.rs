//! Training from a project's history: the labelled monthly training set,
//! training one model kind with a held-out evaluation, evaluating any model
//! on any window, and the month-by-month backtest.
//!
//! ```text
//! Tables + FeatureOptions + ModelConfig --build_training_set--> TrainingSet
//! TrainingSet --train_model(kind)--> TrainedModel (artifact with held-out metrics)
//! TrainingSet --fit_model(kind, until)--> ModelArtifact (a challenger)
//! ModelArtifact + TrainingSet --evaluate_model(from, to)--> Evaluation
//! ```

pub mod backtest;
pub mod labels;
pub mod run;
pub mod set;

pub use backtest::{BacktestMonth, BacktestReport, backtest};
pub use labels::{Label, OutcomeDates};
pub use run::{
    HoldoutWindow, MetricsSummary, ScorerSummary, TrainedModel, evaluate_model, fit_model,
    holdout_window, labelled_rows, metrics_summary, retrains_to_same_model, train_model,
    train_models, training_fingerprint,
};
pub use set::{SetSummary, TrainingSet, build_training_set, label_cutoff};
