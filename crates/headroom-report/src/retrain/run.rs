//! `headroom retrain`: train a challenger on all outcomes to date, score it and
//! the champion on the same held-out months, and let the rule decide.
//!
//! The held-out months are the latest `[model] holdout_months` labelled
//! month-ends of the training set. The challenger's numbers are those of the
//! model `train_model` fitted on the rows whose labels were known when the
//! window began, so the window is out of sample for it. The champion is scored
//! as it is. When its training rows reach into the window, it has seen some of
//! those outcomes, which favors it, and the comparison records that.
//!
//! When the data and settings have not changed since a registered model was
//! trained, retraining would fit that model again; `headroom retrain` checks
//! that first with [`already_trained`] and skips the kind.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use headroom_model::training::{
    HoldoutWindow, TrainedModel, TrainingSet, evaluate_model, holdout_window, metrics_summary,
    retrains_to_same_model, train_model, train_models, training_fingerprint,
};
use headroom_model::{ModelArtifact, ModelKind};
use headroom_store::{ModelStatus, NewModel, Store};

use super::decide::{Recorded, WindowMetrics, record};
use super::{RetrainError, RetrainSettings};
use crate::review::store_kind;

/// The result of retraining one kind.
#[derive(Debug, Clone, PartialEq)]
pub enum RetrainResult {
    /// The challenger was registered, compared and promoted or rejected.
    Decided(Recorded),
    /// The challenger's version is already registered: the data and
    /// settings have not changed since it was trained, so nothing was
    /// recorded.
    AlreadyRegistered {
        /// The registered model's status.
        status: ModelStatus,
    },
}

/// The comparison of one kind's challenger with its champion.
#[derive(Debug, Clone, PartialEq)]
pub struct KindRetrain {
    /// Churn or expansion.
    pub kind: ModelKind,
    /// The challenger's version.
    pub version: String,
    /// The file the challenger's artifact was saved to; `None` when it was
    /// already registered.
    pub saved: Option<PathBuf>,
    /// The challenger's metrics on the held-out months.
    pub challenger: WindowMetrics,
    /// The champion's metrics on the same months; `None` without a champion.
    pub champion: Option<WindowMetrics>,
    /// The registry entries written.
    pub result: RetrainResult,
}

/// A registered model that a retrain would fit again: its training data and
/// settings are those of the current set.
#[derive(Debug, Clone, PartialEq)]
pub struct AlreadyTrained {
    /// Churn or expansion.
    pub kind: ModelKind,
    /// The registered model's version.
    pub version: String,
    /// Its status in the registry.
    pub status: ModelStatus,
    /// Its training-data fingerprint (`sha256:<hex>`).
    pub fingerprint: String,
    /// First and last observation date of its training rows.
    pub trained_on: (NaiveDate, NaiveDate),
}

/// Returns the registered model of `kind` that training on `set` would give
/// back, checking the champion first. Such a model has the same
/// training-data fingerprint, settings and held-out window. Returns `None`
/// when every registered model differs.
///
/// Fails when the registry cannot be read, a setting is invalid or the set's
/// inputs cannot be fitted. An unreadable artifact counts as different.
pub fn already_trained(
    set: &TrainingSet,
    kind: ModelKind,
    store: &Store,
) -> Result<Option<AlreadyTrained>, RetrainError> {
    let mut records = store.models(Some(store_kind(kind)))?;
    if records.is_empty() {
        return Ok(None);
    }
    records.sort_by_key(|r| r.status != ModelStatus::Champion);
    let fingerprint =
        training_fingerprint(set, kind).map_err(|source| model_error("train", kind, source))?;

    for record in records {
        let origin = PathBuf::from(format!("{}:{}", kind.name(), record.version));
        let Ok(artifact) = ModelArtifact::from_json(&record.artifact_json, &origin) else {
            continue;
        };
        let same = retrains_to_same_model(set, &fingerprint, &artifact)
            .map_err(|source| model_error("train", kind, source))?;
        if same {
            return Ok(Some(AlreadyTrained {
                kind,
                version: record.version,
                status: record.status,
                fingerprint,
                trained_on: (
                    artifact.training.first_observation,
                    artifact.training.last_observation,
                ),
            }));
        }
    }
    Ok(None)
}

/// Trains a challenger of `kind` on `set`, compares it with the store's
/// champion on the set's held-out months, saves it into `models_dir` and
/// records the decision.
///
/// Fails when the set has no held-out months, when training or evaluation
/// fails, when the champion cannot be read, or when the rule cannot compare.
pub fn retrain_kind(
    set: &TrainingSet,
    kind: ModelKind,
    store: &Store,
    models_dir: &Path,
    settings: &RetrainSettings,
    now: DateTime<Utc>,
) -> Result<KindRetrain, RetrainError> {
    let trained = train_model(set, kind).map_err(|source| model_error("train", kind, source))?;
    compare_and_record(&trained, set, store, models_dir, settings, now)
}

/// Trains a challenger of each kind on `set`, the kinds on threads of their
/// own ([`train_models`]), and returns the results in the order of `kinds`.
pub fn train_challengers(
    set: &TrainingSet,
    kinds: &[ModelKind],
) -> Vec<(ModelKind, Result<TrainedModel, RetrainError>)> {
    train_models(set, kinds)
        .into_iter()
        .map(|(kind, trained)| {
            (
                kind,
                trained.map_err(|source| model_error("train", kind, source)),
            )
        })
        .collect()
}

/// Compares a trained challenger with the champion on the held-out months of
/// `comparison`, then saves and records it.
///
/// `retrain_kind` passes the set the challenger trained on. A test can pass
/// another set over the same months, such as the real labels for a challenger
/// trained on shuffled ones.
pub fn compare_and_record(
    trained: &TrainedModel,
    comparison: &TrainingSet,
    store: &Store,
    models_dir: &Path,
    settings: &RetrainSettings,
    now: DateTime<Utc>,
) -> Result<KindRetrain, RetrainError> {
    settings.check()?;
    let artifact = &trained.artifact;
    let kind = artifact.kind;
    let window = comparison_window(comparison, kind)?;

    let evaluated = trained.evaluated.as_ref().unwrap_or(artifact);
    let version = artifact.version();
    let challenger = window_metrics(&version, evaluated, comparison, &window, false)?;
    let champion = match read_champion(store, kind)? {
        Some((version, artifact)) => {
            Some(champion_metrics(&version, &artifact, comparison, &window)?)
        }
        None => None,
    };

    if let Some(stored) = store.model(store_kind(kind), &version)? {
        return Ok(KindRetrain {
            kind,
            version,
            saved: None,
            challenger,
            champion,
            result: RetrainResult::AlreadyRegistered {
                status: stored.status,
            },
        });
    }

    let saved = save(artifact, models_dir)?;
    let new = NewModel {
        version: version.clone(),
        kind: store_kind(kind),
        artifact_json: artifact.to_json(),
        trained_at: now,
        metrics: serde_json::to_value(metrics_summary(artifact))
            .expect("a metrics summary serializes"),
    };
    let recorded = record(store, new, &challenger, champion.as_ref(), settings, now)?;
    Ok(KindRetrain {
        kind,
        version,
        saved: Some(saved),
        challenger,
        champion,
        result: RetrainResult::Decided(recorded),
    })
}

fn comparison_window(set: &TrainingSet, kind: ModelKind) -> Result<HoldoutWindow, RetrainError> {
    let window = holdout_window(set).map_err(|source| model_error("evaluate", kind, source))?;
    window.ok_or_else(|| RetrainError::NoComparison {
        kind: kind.name(),
        reason: "[model] holdout_months is 0, so no month is held out".to_string(),
        hint: "set [model] holdout_months to the number of recent months to compare on, such as 6",
    })
}

/// Scores a model on the window and keeps its metrics.
fn window_metrics(
    version: &str,
    artifact: &ModelArtifact,
    set: &TrainingSet,
    window: &HoldoutWindow,
    trained_on_window: bool,
) -> Result<WindowMetrics, RetrainError> {
    let evaluation = evaluate_model(artifact, set, window.first, window.last)
        .map_err(|source| model_error("evaluate", artifact.kind, source))?;
    Ok(WindowMetrics::from_evaluation(
        version,
        window.first,
        window.last,
        &evaluation,
        trained_on_window,
    ))
}

/// Reads the store's champion of `kind`: its version and artifact; `None`
/// without one.
fn read_champion(
    store: &Store,
    kind: ModelKind,
) -> Result<Option<(String, ModelArtifact)>, RetrainError> {
    let Some(record) = store.champion(store_kind(kind))? else {
        return Ok(None);
    };
    let origin = PathBuf::from(format!("{}:{}", kind.name(), record.version));
    let artifact = ModelArtifact::from_json(&record.artifact_json, &origin).map_err(|source| {
        RetrainError::Champion {
            kind: kind.name(),
            version: record.version.clone(),
            source: Box::new(source),
        }
    })?;
    Ok(Some((record.version, artifact)))
}

/// Scores the champion on the window.
fn champion_metrics(
    version: &str,
    artifact: &ModelArtifact,
    set: &TrainingSet,
    window: &HoldoutWindow,
) -> Result<WindowMetrics, RetrainError> {
    let trained_on_window = artifact.training.last_observation >= window.first;
    window_metrics(version, artifact, set, window, trained_on_window)
}

/// Writes the challenger's artifact as `PROJECT/models/<kind>-<version>.json`.
fn save(artifact: &ModelArtifact, models_dir: &Path) -> Result<PathBuf, RetrainError> {
    std::fs::create_dir_all(models_dir).map_err(|source| RetrainError::Io {
        path: models_dir.to_path_buf(),
        source,
    })?;
    let path = models_dir.join(artifact.file_name());
    artifact
        .save(&path)
        .map_err(|source| model_error("save", artifact.kind, source))?;
    Ok(path)
}

fn model_error(
    action: &'static str,
    kind: ModelKind,
    source: headroom_model::ModelError,
) -> RetrainError {
    RetrainError::Model {
        action,
        kind: kind.name(),
        source: Box::new(source),
    }
}
