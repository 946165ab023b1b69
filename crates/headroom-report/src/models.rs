//! The champion models scoring uses, read from the store's registry, and
//! what their held-out metrics say about them.

use std::path::Path;

use headroom_model::{CalibrationTable, KeyColumns, ModelArtifact, ModelKind, ReasonCodes};
use headroom_store::Store;
use ndarray::Array1;
use polars::prelude::*;
use serde::Serialize;

use crate::error::ReportError;
use crate::settings::PrioritySettings;

/// A champion model ready to score, with its flag threshold.
#[derive(Debug, Clone)]
pub struct LoadedModel {
    /// The registry version.
    pub version: String,
    /// The artifact.
    pub artifact: ModelArtifact,
    /// The probability at or above which an account is flagged: the
    /// `[priority]` override, else the artifact's threshold.
    pub threshold: f64,
    /// What the held-out metrics say.
    pub quality: ModelQuality,
}

/// A model's held-out metrics in brief, and the report's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelQuality {
    /// Churn or expansion.
    pub kind: ModelKind,
    /// The registry version.
    pub version: String,
    /// First and last observation date of the training rows.
    pub trained_from: chrono::NaiveDate,
    /// Last observation date of the training rows.
    pub trained_to: chrono::NaiveDate,
    /// Training rows.
    pub training_rows: usize,
    /// Held-out ROC-AUC of the model.
    pub roc_auc: Option<f64>,
    /// Held-out ROC-AUC of the utilization rule on the same rows.
    pub rule_roc_auc: Option<f64>,
    /// Held-out top-decile lift of the model.
    pub lift: Option<f64>,
    /// Held-out top-decile lift of the rule.
    pub rule_lift: Option<f64>,
    /// Held-out rows and positives.
    pub held_out_rows: Option<usize>,
    /// Positive rows among the held-out rows.
    pub held_out_positives: Option<usize>,
    /// The held-out calibration table of the model.
    pub calibration: Option<CalibrationTable>,
    /// The flag threshold used.
    pub threshold: f64,
    /// Whether the report warns that the model is weak or unverified.
    pub weak: bool,
    /// The verdict in words.
    pub verdict: String,
}

/// The churn and expansion champions, each absent when the registry has none.
#[derive(Debug, Clone, Default)]
pub struct Champions {
    /// The churn champion.
    pub churn: Option<LoadedModel>,
    /// The expansion champion.
    pub expansion: Option<LoadedModel>,
}

impl Champions {
    /// Reads both champions from the store's registry.
    ///
    /// Fails when a champion's artifact does not parse or is of the other kind.
    pub fn load(store: &Store, settings: &PrioritySettings) -> Result<Champions, ReportError> {
        Ok(Champions {
            churn: load_one(store, ModelKind::Churn, settings)?,
            expansion: load_one(store, ModelKind::Expansion, settings)?,
        })
    }

    /// Wraps artifacts that come from elsewhere than the registry (tests,
    /// the demo) with the settings' thresholds.
    pub fn from_artifacts(
        churn: Option<(String, ModelArtifact)>,
        expansion: Option<(String, ModelArtifact)>,
        settings: &PrioritySettings,
    ) -> Champions {
        let wrap = |(version, artifact): (String, ModelArtifact)| wrap(version, artifact, settings);
        Champions {
            churn: churn.map(wrap),
            expansion: expansion.map(wrap),
        }
    }

    /// The model of a kind.
    pub fn get(&self, kind: ModelKind) -> Option<&LoadedModel> {
        match kind {
            ModelKind::Churn => self.churn.as_ref(),
            ModelKind::Expansion => self.expansion.as_ref(),
        }
    }
}

fn load_one(
    store: &Store,
    kind: ModelKind,
    settings: &PrioritySettings,
) -> Result<Option<LoadedModel>, ReportError> {
    let store_kind = match kind {
        ModelKind::Churn => headroom_store::ModelKind::Churn,
        ModelKind::Expansion => headroom_store::ModelKind::Expansion,
    };
    let Some(record) = store.champion(store_kind)? else {
        return Ok(None);
    };

    let label = format!("store registry {} {}", kind.name(), record.version);
    let artifact =
        ModelArtifact::from_json(&record.artifact_json, Path::new(&label)).map_err(|source| {
            ReportError::Champion {
                kind: kind.name(),
                version: record.version.clone(),
                source,
            }
        })?;
    if artifact.kind != kind {
        return Err(ReportError::Champion {
            kind: kind.name(),
            version: record.version.clone(),
            source: headroom_model::ModelError::InvalidArtifact {
                path: label.into(),
                reason: format!("the artifact is a {} model", artifact.kind),
            },
        });
    }
    Ok(Some(wrap(record.version, artifact, settings)))
}

fn wrap(version: String, artifact: ModelArtifact, settings: &PrioritySettings) -> LoadedModel {
    let threshold = match artifact.kind {
        ModelKind::Churn => settings.churn_threshold,
        ModelKind::Expansion => settings.expansion_threshold,
    }
    .unwrap_or_else(|| artifact.threshold());
    let quality = judge(&version, &artifact, threshold, settings.weak_model_auc);
    LoadedModel {
        version,
        artifact,
        threshold,
        quality,
    }
}

/// Reads the held-out metrics and words the verdict: weak when the ROC-AUC is
/// under `weak_auc` or not above the rule's, unverified without metrics.
fn judge(version: &str, artifact: &ModelArtifact, threshold: f64, weak_auc: f64) -> ModelQuality {
    let overall = artifact.metrics.as_ref().map(|m| &m.overall);
    let roc_auc = overall.and_then(|o| o.model.roc_auc);
    let rule_roc_auc = overall.and_then(|o| o.rule.roc_auc);
    let kind = artifact.kind;

    let (weak, verdict) = match (roc_auc, rule_roc_auc) {
        (None, _) => (
            true,
            format!(
                "the {kind} model has no held-out metrics stored with it, so its probabilities are unverified"
            ),
        ),
        (Some(auc), _) if auc < weak_auc => (
            true,
            format!(
                "the {kind} model is weak: held-out ROC-AUC {auc:.2} (0.5 is chance){}; treat its probabilities and reasons as rough",
                rule_roc_auc.map_or(String::new(), |r| format!(", usage rule {r:.2}"))
            ),
        ),
        (Some(auc), Some(rule)) if auc <= rule => (
            true,
            format!(
                "the {kind} model does not beat the usage rule on held-out months (ROC-AUC {auc:.2} against {rule:.2}); the segments are the better guide"
            ),
        ),
        (Some(auc), rule) => (
            false,
            format!(
                "the {kind} model ranks well on held-out months: ROC-AUC {auc:.2}{}",
                rule.map_or(String::new(), |r| format!(
                    " against {r:.2} for the usage rule"
                ))
            ),
        ),
    };

    ModelQuality {
        kind,
        version: version.to_string(),
        trained_from: artifact.training.first_observation,
        trained_to: artifact.training.last_observation,
        training_rows: artifact.training.rows,
        roc_auc,
        rule_roc_auc,
        lift: overall.and_then(|o| o.model.top_decile_lift),
        rule_lift: overall.and_then(|o| o.rule.top_decile_lift),
        held_out_rows: overall.map(|o| o.rows),
        held_out_positives: overall.map(|o| o.positives),
        calibration: overall.and_then(|o| o.model.calibration.clone()),
        threshold,
        weak,
        verdict,
    }
}

/// One model's scores for every row of the feature table.
#[derive(Debug, Clone)]
pub struct ModelScores {
    /// P(positive) per row.
    pub probabilities: Array1<f64>,
    /// Reason codes per row.
    pub reasons: Vec<ReasonCodes>,
    /// Model inputs the feature table lacks, scored as missing for every account.
    pub missing_inputs: Vec<String>,
}

/// Scores the feature table with a model, keeping `k` reasons per direction.
///
/// Inputs the table lacks (an entitlement no active contract has any more)
/// are added as missing values, which the model imputes, and listed in
/// [`ModelScores::missing_inputs`]. Fails on an infinite input value.
pub fn apply(
    model: &LoadedModel,
    features: &DataFrame,
    k: usize,
) -> Result<ModelScores, ReportError> {
    let names = model.artifact.feature_names().to_vec();
    let mut table = features.clone();
    let mut missing_inputs = Vec::new();
    for name in &names {
        if table.column(name).is_err() {
            missing_inputs.push(name.clone());
            let nulls = Series::full_null(name.as_str().into(), table.height(), &DataType::Float64);
            table
                .with_column(nulls.into())
                .map_err(ReportError::polars("a missing model input"))?;
        }
    }

    let keys = KeyColumns {
        account_id: "account_id",
        observed: "as_of",
        segment: Some("segment"),
    };
    let matrix = headroom_model::FeatureMatrix::from_frame(&table, &names, &keys)?;
    let probabilities = model.artifact.predict_proba(&matrix)?;
    let reasons = model.artifact.reason_codes(&matrix, k)?;
    Ok(ModelScores {
        probabilities,
        reasons,
        missing_inputs,
    })
}
