//! Summaries of registered models for `headroom models list` and `show`,
//! read from each model's artifact.

use chrono::{DateTime, NaiveDate, Utc};
use headroom_model::ModelArtifact;
use headroom_store::{ModelKind, ModelRecord, ModelStatus};
use serde::{Deserialize, Serialize};

/// Held-out metrics of a model, as training measured them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldOutMetrics {
    /// Held-out rows.
    pub rows: usize,
    /// Positive held-out rows.
    pub positives: usize,
    /// ROC-AUC of the model.
    pub roc_auc: Option<f64>,
    /// Mean log loss of the model.
    pub log_loss: Option<f64>,
    /// Brier score of the model.
    pub brier: Option<f64>,
    /// ROC-AUC of the utilization rule on the same rows.
    pub rule_roc_auc: Option<f64>,
}

/// A registered model in a few numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// Churn or expansion.
    pub kind: ModelKind,
    /// The registered version.
    pub version: String,
    /// The model's state in the registry.
    pub status: ModelStatus,
    /// When it was trained.
    pub trained_at: DateTime<Utc>,
    /// First and last observation dates of its training rows.
    pub training_window: Option<(NaiveDate, NaiveDate)>,
    /// Training rows.
    pub training_rows: Option<usize>,
    /// Input features.
    pub inputs: Option<usize>,
    /// The decision threshold.
    pub threshold: Option<f64>,
    /// The held-out metrics, when training measured them.
    pub held_out: Option<HeldOutMetrics>,
    /// The artifact's parse error, when it cannot be read.
    pub unreadable: Option<String>,
}

/// Summarizes a registered model; an artifact that cannot be parsed gives a
/// summary with `unreadable` set and the artifact's fields empty.
pub fn summarize(record: &ModelRecord) -> ModelSummary {
    let origin = std::path::PathBuf::from(format!("{}:{}", record.kind, record.version));
    let parsed = ModelArtifact::from_json(&record.artifact_json, &origin);
    let mut summary = ModelSummary {
        kind: record.kind,
        version: record.version.clone(),
        status: record.status,
        trained_at: record.trained_at,
        training_window: None,
        training_rows: None,
        inputs: None,
        threshold: None,
        held_out: None,
        unreadable: None,
    };
    match parsed {
        Ok(artifact) => {
            summary.training_window = Some((
                artifact.training.first_observation,
                artifact.training.last_observation,
            ));
            summary.training_rows = Some(artifact.training.rows);
            summary.inputs = Some(artifact.feature_names().len());
            summary.threshold = Some(artifact.threshold());
            summary.held_out = held_out(&artifact);
        }
        Err(err) => summary.unreadable = Some(err.to_string()),
    }
    summary
}

/// Reads the held-out metrics an artifact carries.
pub fn held_out(artifact: &ModelArtifact) -> Option<HeldOutMetrics> {
    let overall = &artifact.metrics.as_ref()?.overall;
    Some(HeldOutMetrics {
        rows: overall.rows,
        positives: overall.positives,
        roc_auc: overall.model.roc_auc,
        log_loss: overall.model.log_loss,
        brier: overall.model.brier,
        rule_roc_auc: overall.rule.roc_auc,
    })
}
