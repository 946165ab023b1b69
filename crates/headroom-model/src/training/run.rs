//! Training one model kind on a training set, with an honest evaluation on
//! the most recent month-ends, and evaluating any model on any window.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::artifact::{HeldOut, ModelArtifact};
use crate::dataset::RowKey;
use crate::error::{ModelError, Result};
use crate::evaluate::{Evaluation, EvaluationInput, evaluate};
use crate::kind::ModelKind;
use crate::profile::InputProfile;
use crate::training::set::{TrainingSet, label_cutoff};

/// The held-out month-ends and the training rows the evaluated model may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldoutWindow {
    /// First held-out month-end.
    pub first: NaiveDate,
    /// Last held-out month-end.
    pub last: NaiveDate,
    /// The evaluated model trains on rows observed on or before this date,
    /// one horizon before `first`: the rows whose labels were known when the
    /// held-out window began, as they would be in production.
    pub train_until: NaiveDate,
}

/// A trained model and, when one ran, its held-out evaluation.
#[derive(Debug, Clone)]
pub struct TrainedModel {
    /// The model to save and register. Its `metrics` and `held_out` carry the
    /// evaluation.
    pub artifact: ModelArtifact,
    /// The model that was evaluated on the held-out window: the saved one
    /// unless it was refitted on every labelled row.
    pub evaluated: Option<ModelArtifact>,
}

impl TrainedModel {
    /// Returns the held-out evaluation, when one ran.
    pub fn evaluation(&self) -> Option<&Evaluation> {
        self.artifact.metrics.as_ref()
    }
}

/// Returns the held-out window of a set: the latest `holdout_months`
/// labelled month-ends; `None` when `holdout_months` is 0.
///
/// Fails with [`ModelError::HoldoutTooLong`] when no labelled month-end lies
/// a horizon before the window, and with [`ModelError::Empty`] when the set
/// has no rows.
pub fn holdout_window(set: &TrainingSet) -> Result<Option<HoldoutWindow>> {
    let config = set.config();
    if config.holdout_months == 0 {
        return Ok(None);
    }
    let dates = set.observation_dates();
    let (Some(&first_labelled), Some(&last)) = (dates.first(), dates.last()) else {
        return Err(empty_set());
    };
    let held = (config.holdout_months as usize).min(dates.len());
    let first = dates[dates.len() - held];
    let train_until = label_cutoff(first, config.horizon_days);
    if train_until < first_labelled {
        return Err(ModelError::HoldoutTooLong {
            holdout_months: config.holdout_months,
            first_held_out: first,
            train_until,
            horizon_days: config.horizon_days,
            first_labelled,
        });
    }
    Ok(Some(HoldoutWindow {
        first,
        last,
        train_until,
    }))
}

/// Trains one model kind as `headroom train` does.
///
/// With a held-out window: fits a model (penalty and threshold chosen on
/// time-ordered folds) on the rows observed up to the window's
/// `train_until`, evaluates it on the window, then, when `refit` is set,
/// refits on every labelled row with the chosen penalty and threshold.
/// Without one: fits on every labelled row.
///
/// Fails when a class is missing, the history is too short for the folds or
/// the held-out window, a feature holds an infinity, or separation is
/// rejected.
pub fn train_model(set: &TrainingSet, kind: ModelKind) -> Result<TrainedModel> {
    let Some(window) = holdout_window(set)? else {
        let artifact = fit_model(set, kind, NaiveDate::MAX)?;
        return Ok(TrainedModel {
            artifact,
            evaluated: None,
        });
    };

    let evaluated = fit_model(set, kind, window.train_until)?;
    let evaluation = evaluate_model(&evaluated, set, window.first, window.last)?;
    let refit = set.config().refit;
    let mut artifact = if refit {
        refit_model(set, kind, &evaluated)?
    } else {
        evaluated.clone()
    };

    artifact.metrics = Some(evaluation);
    artifact.held_out = Some(HeldOut {
        first: window.first,
        last: window.last,
        trained_until: window.train_until,
        training: evaluated.training.clone(),
        fit: evaluated.fit.clone(),
        refitted: refit,
    });
    Ok(TrainedModel {
        artifact,
        evaluated: Some(evaluated),
    })
}

/// Fits a model of `kind` on the rows observed on or before `until`: the
/// input spec and profile are fitted on those rows, and the penalty and
/// threshold chosen on time-ordered folds when the settings ask for it.
///
/// The retraining of a challenger uses this with `until` one horizon before
/// the window it is compared on.
///
/// Fails like [`train_model`], and with [`ModelError::Empty`] when no row is
/// observed on or before `until`.
pub fn fit_model(set: &TrainingSet, kind: ModelKind, until: NaiveDate) -> Result<ModelArtifact> {
    let rows = set.rows(kind, NaiveDate::MIN, until);
    if rows.is_empty() {
        return Err(empty_set());
    }
    let spec = set.fit_inputs(&rows)?;
    let data = set.dataset(kind, &spec, &rows)?;
    let params = set.config().train_params()?;

    let mut artifact = params.train(&data)?;
    artifact.inputs = Some(spec);
    artifact.input_profile = Some(InputProfile::fit(data.features()));
    info!(
        model = %kind,
        rows = data.n_rows(),
        positives = data.n_positive(),
        until = %until,
        "trained a model"
    );
    Ok(artifact)
}

/// Refits on every labelled row with the threshold `evaluated` chose and its
/// penalty (scaled to the rows, as the settings ask), keeping its selection
/// report.
fn refit_model(
    set: &TrainingSet,
    kind: ModelKind,
    evaluated: &ModelArtifact,
) -> Result<ModelArtifact> {
    let rows = set.rows(kind, NaiveDate::MIN, NaiveDate::MAX);
    let spec = set.fit_inputs(&rows)?;
    let data = set.dataset(kind, &spec, &rows)?;
    let params = set.config().train_params()?;

    let penalty = if params.scales_penalty() {
        evaluated.settings.l2_penalty * evaluated.training.rows as f64 / data.n_rows() as f64
    } else {
        evaluated.settings.l2_penalty
    };
    let mut artifact = params.fit(&data, penalty, evaluated.threshold())?;
    artifact.selection = evaluated.selection.clone();
    artifact.inputs = Some(spec);
    artifact.input_profile = Some(InputProfile::fit(data.features()));
    Ok(artifact)
}

/// Evaluates a model on the rows of a set observed from `from` to `to` (both
/// included), against the utilization rule and the training base rate,
/// overall and per customer segment.
///
/// The champion and a challenger can be compared on the same recent months
/// this way, whatever inputs each was trained with.
///
/// Fails when the window holds no row, the set lacks a column the model
/// reads, or a feature holds an infinity.
pub fn evaluate_model(
    artifact: &ModelArtifact,
    set: &TrainingSet,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Evaluation> {
    let rows = set.rows(artifact.kind, from, to);
    if rows.is_empty() {
        return Err(ModelError::Empty {
            what: format!("evaluation window {from} to {to}"),
            hint: "choose month-ends whose horizon is over; the set summary gives the label cutoff",
        });
    }
    let x = set.matrix(&artifact.input_spec(), &rows)?;
    let probabilities = artifact.predict_proba(&x)?;
    let labels = set.labels(artifact.kind, &rows);
    let utilization = set.column(&set.config().rule_utilization, &rows);
    let keys: &[RowKey] = x.keys();

    let training = &artifact.training;
    let input = EvaluationInput {
        kind: artifact.kind,
        labels: labels.view(),
        probabilities: probabilities.view(),
        threshold: artifact.threshold(),
        utilization: utilization.view(),
        training_base_rate: training.positives as f64 / training.rows.max(1) as f64,
        keys,
    };
    evaluate(&input)
}

/// The held-out rows of a window: key and label of each, for scoring them
/// with another scorer (such as a simulation's true probabilities).
pub fn labelled_rows(
    set: &TrainingSet,
    kind: ModelKind,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(RowKey, bool)> {
    let rows = set.rows(kind, from, to);
    let labels = set.labels(kind, &rows);
    rows.iter()
        .zip(labels)
        .map(|(&i, label)| (set.keys()[i].clone(), label))
        .collect()
}

fn empty_set() -> ModelError {
    ModelError::Empty {
        what: "training set".to_owned(),
        hint: "import more history: the set needs month-ends whose horizon is over",
    }
}

/// The headline metrics of one scorer, as registered with a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorerSummary {
    /// ROC-AUC.
    pub roc_auc: Option<f64>,
    /// Average precision (PR-AUC).
    pub average_precision: Option<f64>,
    /// Mean log loss.
    pub log_loss: Option<f64>,
    /// Brier score.
    pub brier: Option<f64>,
    /// Top-decile lift.
    pub top_decile_lift: Option<f64>,
    /// Precision of the flags.
    pub precision: Option<f64>,
    /// Recall of the flags.
    pub recall: Option<f64>,
}

impl ScorerSummary {
    fn of(metrics: &crate::evaluate::ScorerMetrics) -> ScorerSummary {
        ScorerSummary {
            roc_auc: metrics.roc_auc,
            average_precision: metrics.average_precision,
            log_loss: metrics.log_loss,
            brier: metrics.brier,
            top_decile_lift: metrics.top_decile_lift,
            precision: metrics.confusion.precision(),
            recall: metrics.confusion.recall(),
        }
    }
}

/// The held-out metrics of a model in short, as registered in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsSummary {
    /// First held-out observation date.
    pub first: NaiveDate,
    /// Last held-out observation date.
    pub last: NaiveDate,
    /// Held-out rows.
    pub rows: usize,
    /// Positive held-out rows.
    pub positives: usize,
    /// The decision threshold.
    pub threshold: f64,
    /// The model.
    pub model: ScorerSummary,
    /// The utilization rule.
    pub rule: ScorerSummary,
    /// The training base rate.
    pub base_rate: ScorerSummary,
    /// ROC-AUC of a simulation's true probabilities on the same rows.
    pub oracle_roc_auc: Option<f64>,
}

/// Summarizes a model's held-out metrics; `None` when it has none.
pub fn metrics_summary(artifact: &ModelArtifact) -> Option<MetricsSummary> {
    let (evaluation, held_out) = (artifact.metrics.as_ref()?, artifact.held_out.as_ref()?);
    let overall = &evaluation.overall;
    Some(MetricsSummary {
        first: held_out.first,
        last: held_out.last,
        rows: overall.rows,
        positives: overall.positives,
        threshold: evaluation.threshold,
        model: ScorerSummary::of(&overall.model),
        rule: ScorerSummary::of(&overall.rule),
        base_rate: ScorerSummary::of(&overall.base_rate),
        oracle_roc_auc: evaluation.oracle_roc_auc,
    })
}
