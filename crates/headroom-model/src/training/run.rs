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

/// Runs [`train_model`] for each kind, each on its own thread, and returns
/// the results in the order of `kinds`.
///
/// The solver is single-threaded and the models share only the read-only
/// set, so on a machine with two cores two models take about the time of
/// one.
pub fn train_models(
    set: &TrainingSet,
    kinds: &[ModelKind],
) -> Vec<(ModelKind, Result<TrainedModel>)> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = kinds
            .iter()
            .map(|&kind| (kind, scope.spawn(move || train_model(set, kind))))
            .collect();
        handles
            .into_iter()
            .map(|(kind, handle)| {
                let trained = handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (kind, trained)
            })
            .collect()
    })
}

/// Returns whether [`train_model`] on `set` would give back the model of
/// `artifact`, without fitting one: the same headroom version, fit settings,
/// held-out window and training-data fingerprint. `fingerprint` is
/// [`training_fingerprint`] of `set` for the artifact's kind, computed once
/// for all the models compared.
///
/// `headroom retrain` skips a kind when a registered model passes this
/// check, since retraining would only fit that model again.
///
/// NOTE: `[model] scale_penalty` is not stored in the artifact, so a change
/// of that setting alone is not seen here.
///
/// Fails when a `[model]` setting is invalid or the set has no held-out
/// window that fits.
pub fn retrains_to_same_model(
    set: &TrainingSet,
    fingerprint: &str,
    artifact: &ModelArtifact,
) -> Result<bool> {
    if artifact.headroom_version != env!("CARGO_PKG_VERSION")
        || artifact.training.fingerprint != fingerprint
    {
        return Ok(false);
    }
    let params = set.config().train_params()?;
    let settings = params.settings(artifact.settings.l2_penalty, artifact.settings.threshold);
    if settings != artifact.settings {
        return Ok(false);
    }
    let window = holdout_window(set)?.map(|w| (w.first, w.last, set.config().refit));
    let held_out = artifact
        .held_out
        .as_ref()
        .map(|h| (h.first, h.last, h.refitted));
    Ok(window == held_out)
}

/// Returns the training-data fingerprint ([`crate::Dataset::fingerprint`])
/// that the model [`train_model`] saves for `kind` would carry, without
/// fitting a model.
///
/// It builds the rows and inputs `train_model` fits its saved model on: every
/// labelled row when `refit` is set or no month is held out, else the rows
/// observed up to the held-out window's `train_until`.
///
/// Fails like [`train_model`] when the set or the held-out window is empty
/// or the inputs cannot be fitted.
pub fn training_fingerprint(set: &TrainingSet, kind: ModelKind) -> Result<String> {
    let until = match holdout_window(set)? {
        Some(window) if !set.config().refit => window.train_until,
        _ => NaiveDate::MAX,
    };
    let rows = set.rows(kind, NaiveDate::MIN, until);
    if rows.is_empty() {
        return Err(empty_set());
    }
    let (_, data) = set.fit_dataset(kind, &rows)?;
    Ok(data.fingerprint())
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
    fit_model_with(set, kind, until, &set.config().train_params()?)
}

/// Fits like [`fit_model`] with the given parameters.
pub(crate) fn fit_model_with(
    set: &TrainingSet,
    kind: ModelKind,
    until: NaiveDate,
    params: &crate::train::TrainValidParams,
) -> Result<ModelArtifact> {
    let rows = set.rows(kind, NaiveDate::MIN, until);
    if rows.is_empty() {
        return Err(empty_set());
    }
    let (spec, data) = set.fit_dataset(kind, &rows)?;

    let mut artifact = params.train(&data)?;
    artifact.inputs = Some(spec);
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
    let (spec, data) = set.fit_dataset(kind, &rows)?;
    let params = set.config().train_params()?;

    let penalty = if params.scales_penalty() {
        let evaluated_rows = evaluated
            .training
            .fit_rows
            .unwrap_or(evaluated.training.rows);
        evaluated.settings.l2_penalty * evaluated_rows as f64 / params.fitted_rows(&data) as f64
    } else {
        evaluated.settings.l2_penalty
    };
    let mut artifact = params.fit_from_model(&data, penalty, evaluated.threshold(), evaluated)?;
    artifact.selection = evaluated.selection.clone();
    artifact.inputs = Some(spec);
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

#[cfg(test)]
mod tests {
    use polars::prelude::{DataFrame, DataType, IntoColumn, NamedFrom, Series};

    use super::*;
    use crate::config::ModelConfig;
    use crate::logistic::FitWarning;
    use crate::separation::Separation;
    use crate::testutil::{date, history, month_end};

    /// 24 month-ends from January 2022 to December 2023. With a 180-day
    /// horizon the label cutoff is 2023-07-04, so January 2022 to June 2023
    /// (18 month-ends) are labelled. Three are held out (April to June
    /// 2023), and the evaluated model trains up to 2022-11-01 (October 2022
    /// and before). One fold validates on August and September 2022.
    fn config() -> ModelConfig {
        ModelConfig {
            holdout_months: 3,
            folds: 1,
            fold_months: 2,
            ..ModelConfig::default()
        }
    }

    fn set_with(config: &ModelConfig) -> TrainingSet {
        let h = history(300, 24, 7);
        TrainingSet::from_panel(&h.panel, &h.outcomes, h.history_end, config).unwrap()
    }

    fn set() -> TrainingSet {
        set_with(&config())
    }

    #[test]
    fn holdout_window_is_latest_labelled_month_ends() {
        let window = holdout_window(&set()).unwrap().unwrap();
        assert_eq!(window.first, date(2023, 4, 30));
        assert_eq!(window.last, date(2023, 6, 30));
        // 2023-04-30 - 180 days = 2022-11-01.
        assert_eq!(window.train_until, date(2022, 11, 1));
    }

    #[test]
    fn no_holdout_when_holdout_months_is_zero() {
        let set = set_with(&ModelConfig {
            holdout_months: 0,
            ..config()
        });
        assert_eq!(holdout_window(&set).unwrap(), None);
        let trained = train_model(&set, ModelKind::Churn).unwrap();
        assert_eq!(trained.artifact.metrics, None);
        assert_eq!(trained.artifact.held_out, None);
        assert_eq!(trained.artifact.training.last_observation, month_end(17));
    }

    #[test]
    fn holdout_longer_than_history_is_rejected() {
        // 16 held-out month-ends start in March 2022; one horizon earlier is
        // before the first labelled month-end, January 2022.
        let set = set_with(&ModelConfig {
            holdout_months: 16,
            ..config()
        });
        let err = holdout_window(&set).unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::HoldoutTooLong {
                    holdout_months: 16,
                    first_labelled,
                    ..
                } if first_labelled == date(2022, 1, 31)
            ),
            "{err}"
        );
    }

    #[test]
    fn churn_probability_falls_as_utilization_rises() {
        // The fixture is shuffled and imbalanced; "churned" must still be
        // the positive class, so low utilization gets the higher probability.
        let trained = train_model(&set(), ModelKind::Churn).unwrap();
        let model = &trained.artifact;
        assert_eq!(model.positive_class, "churned");
        let column = model
            .preprocessing
            .columns
            .iter()
            .position(|c| c.name == "util_primary_3m")
            .unwrap();
        assert!(model.coefficients[column] < 0.0, "{:?}", model.coefficients);

        // Two accounts alike but for utilization, inside and outside the
        // renewal window.
        for days in [45.0, 300.0] {
            let row = |account, utilization| crate::testutil::PanelRow {
                account,
                as_of: date(2024, 1, 31),
                segment: Some("smb"),
                utilization,
                days_to_renewal: days,
            };
            let table = crate::testutil::panel(&[row("low", 0.2), row("high", 0.9)]);
            let p = model
                .predict_proba(&model.feature_matrix(&table).unwrap())
                .unwrap();
            assert!(p[0] > p[1], "{days} days to renewal: {p}");
        }

        let share = model.training.positives as f64 / model.training.rows as f64;
        assert!(share < 0.15, "positives are {share} of the rows");
    }

    #[test]
    fn evaluated_model_trains_before_the_holdout() {
        let trained = train_model(&set(), ModelKind::Churn).unwrap();
        let held_out = trained.artifact.held_out.as_ref().unwrap();
        assert_eq!(held_out.trained_until, date(2022, 11, 1));
        assert_eq!(held_out.training.last_observation, date(2022, 10, 31));
        assert!(held_out.refitted);
        let evaluated = trained.evaluated.as_ref().unwrap();
        assert_eq!(evaluated.training, held_out.training);
    }

    #[test]
    fn saved_model_is_refitted_on_all_rows() {
        let set = set();
        let trained = train_model(&set, ModelKind::Churn).unwrap();
        let all = set.rows(ModelKind::Churn, NaiveDate::MIN, NaiveDate::MAX);
        assert_eq!(trained.artifact.training.rows, all.len());
        assert_eq!(
            trained.artifact.training.last_observation,
            date(2023, 6, 30)
        );
    }

    #[test]
    fn refitted_penalty_keeps_penalty_times_rows() {
        // A fixed prior means penalty x rows is the same for the evaluated
        // model and the refit.
        let trained = train_model(&set(), ModelKind::Churn).unwrap();
        let evaluated = trained.evaluated.unwrap();
        let product = |m: &ModelArtifact| m.settings.l2_penalty * m.training.rows as f64;
        assert!((product(&trained.artifact) - product(&evaluated)).abs() < 1e-9);
    }

    #[test]
    fn without_refit_saved_model_is_the_evaluated_one() {
        let set = set_with(&ModelConfig {
            refit: false,
            ..config()
        });
        let trained = train_model(&set, ModelKind::Churn).unwrap();
        let held_out = trained.artifact.held_out.as_ref().unwrap();
        assert!(!held_out.refitted);
        assert_eq!(trained.artifact.training, held_out.training);
        assert_eq!(
            trained.artifact.coefficients,
            trained.evaluated.as_ref().unwrap().coefficients
        );
    }

    #[test]
    fn training_fingerprint_matches_saved_model() {
        for refit in [true, false] {
            let set = set_with(&ModelConfig { refit, ..config() });
            let trained = train_model(&set, ModelKind::Churn).unwrap();
            assert_eq!(
                training_fingerprint(&set, ModelKind::Churn).unwrap(),
                trained.artifact.training.fingerprint,
                "refit = {refit}"
            );
        }
    }

    /// Checks `artifact` against `set` as `headroom retrain` does.
    fn same_model(set: &TrainingSet, artifact: &ModelArtifact) -> bool {
        let fingerprint = training_fingerprint(set, artifact.kind).unwrap();
        retrains_to_same_model(set, &fingerprint, artifact).unwrap()
    }

    #[test]
    fn retrain_on_same_set_gives_same_model() {
        let set = set();
        let trained = train_model(&set, ModelKind::Churn).unwrap();
        assert!(same_model(&set, &trained.artifact));
    }

    #[test]
    fn retrain_with_other_settings_or_rows_differs() {
        let trained = train_model(&set(), ModelKind::Churn).unwrap();
        let other_penalties = set_with(&ModelConfig {
            penalties: vec![0.5],
            ..config()
        });
        let longer_holdout = set_with(&ModelConfig {
            holdout_months: 4,
            ..config()
        });
        let h = history(300, 24, 8);
        let other_rows =
            TrainingSet::from_panel(&h.panel, &h.outcomes, h.history_end, &config()).unwrap();
        for (case, set) in [
            ("penalties", other_penalties),
            ("holdout", longer_holdout),
            ("rows", other_rows),
        ] {
            assert!(!same_model(&set, &trained.artifact), "{case}");
        }
    }

    #[test]
    fn artifact_carries_inputs_and_profile() {
        let trained = train_model(&set(), ModelKind::Churn).unwrap();
        let model = &trained.artifact;
        let spec = model.inputs.as_ref().unwrap();
        assert_eq!(spec.names(), model.preprocessing.features);
        let profile = model.input_profile.as_ref().unwrap();
        assert_eq!(profile.rows, model.training.rows);
        assert_eq!(profile.inputs.len(), model.preprocessing.features.len());
        let path = std::path::Path::new("churn.json");
        assert_eq!(
            &ModelArtifact::from_json(&model.to_json(), path).unwrap(),
            model
        );
    }

    #[test]
    fn holdout_metrics_cover_the_window_rows() {
        let set = set();
        let trained = train_model(&set, ModelKind::Churn).unwrap();
        let evaluation = trained.evaluation().unwrap();
        let rows = set.rows(ModelKind::Churn, date(2023, 4, 30), date(2023, 6, 30));
        let positives = set
            .labels(ModelKind::Churn, &rows)
            .iter()
            .filter(|&&y| y)
            .count();
        assert_eq!(evaluation.overall.rows, rows.len());
        assert_eq!(evaluation.overall.positives, positives);
        assert_eq!(evaluation.segments.len(), 3);
    }

    #[test]
    fn evaluation_matches_scoring_the_window() {
        let set = set();
        let trained = train_model(&set, ModelKind::Expansion).unwrap();
        let (from, to) = (date(2023, 1, 31), date(2023, 2, 28));
        let evaluation = evaluate_model(&trained.artifact, &set, from, to).unwrap();

        let rows = set.rows(ModelKind::Expansion, from, to);
        let x = set.matrix(&trained.artifact.input_spec(), &rows).unwrap();
        let p = trained.artifact.predict_proba(&x).unwrap();
        let labels = set.labels(ModelKind::Expansion, &rows);
        let expected = crate::metrics::brier_score(p.view(), labels.view());
        assert_eq!(evaluation.overall.model.brier, expected);
    }

    #[test]
    fn empty_evaluation_window_is_rejected() {
        let set = set();
        let trained = train_model(&set, ModelKind::Churn).unwrap();
        let err = evaluate_model(
            &trained.artifact,
            &set,
            date(2030, 1, 1),
            date(2030, 12, 31),
        )
        .unwrap_err();
        assert!(matches!(err, ModelError::Empty { .. }), "{err}");
    }

    #[test]
    fn training_without_churn_names_the_missing_class() {
        let h = history(50, 24, 7);
        let none = h.outcomes.head(Some(0));
        let set = TrainingSet::from_panel(&h.panel, &none, h.history_end, &config()).unwrap();
        let err = fit_model(&set, ModelKind::Churn, NaiveDate::MAX).unwrap_err();
        let rows = set
            .rows(ModelKind::Churn, NaiveDate::MIN, NaiveDate::MAX)
            .len();
        assert!(
            matches!(err, ModelError::OneClass { missing: "churned", rows: r, .. } if r == rows),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains(&format!("none of the {rows} labelled rows is churned"))
        );
    }

    #[test]
    fn non_positive_penalty_is_rejected() {
        for penalty in [0.0, -0.01] {
            let set = set_with(&ModelConfig {
                penalties: vec![penalty],
                ..config()
            });
            let err = train_model(&set, ModelKind::Churn).unwrap_err();
            assert!(
                matches!(err, ModelError::NonPositivePenalty { value } if value == penalty),
                "{err}"
            );
        }
    }

    /// Replaces `util_primary_3m` in the row of `account` at `as_of`.
    fn with_value(panel: &DataFrame, account: &str, as_of: NaiveDate, value: f64) -> DataFrame {
        let accounts = panel.column("account_id").unwrap().str().unwrap().clone();
        let dates = panel.column("as_of").unwrap().date().unwrap().clone();
        let utilization = panel.column("util_primary_3m").unwrap().f64().unwrap();
        let replaced: Vec<Option<f64>> = utilization
            .iter()
            .zip(accounts.iter().zip(dates.as_date_iter()))
            .map(|(v, (a, d))| {
                if a == Some(account) && d == Some(as_of) {
                    Some(value)
                } else {
                    v
                }
            })
            .collect();
        let mut out = panel.clone();
        out.with_column(Series::new("util_primary_3m".into(), replaced).into_column())
            .unwrap();
        out
    }

    #[test]
    fn infinite_feature_names_column_and_account() {
        let h = history(100, 24, 7);
        let panel = with_value(&h.panel, "acct-007", date(2022, 3, 31), f64::INFINITY);
        let set = TrainingSet::from_panel(&panel, &h.outcomes, h.history_end, &config()).unwrap();
        let err = fit_model(&set, ModelKind::Churn, NaiveDate::MAX).unwrap_err();
        match &err {
            ModelError::NonFiniteValue {
                feature,
                account_id,
                observed,
                value,
                ..
            } => {
                assert_eq!(feature, "util_primary_3m");
                assert_eq!(account_id, "acct-007");
                assert_eq!(*observed, date(2022, 3, 31));
                assert_eq!(*value, f64::INFINITY);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn separating_feature_is_reported() {
        // util_primary_3m is set to 0 on every churned row and 1 elsewhere:
        // it alone separates the classes.
        let h = history(200, 24, 7);
        let base =
            TrainingSet::from_panel(&h.panel, &h.outcomes, h.history_end, &config()).unwrap();
        let rows = base.rows(ModelKind::Churn, NaiveDate::MIN, NaiveDate::MAX);
        let labels = base.labels(ModelKind::Churn, &rows);
        let mut panel = h.panel.clone();
        for (&i, churned) in rows.iter().zip(labels) {
            let key = &base.keys()[i];
            panel = with_value(
                &panel,
                &key.account_id,
                key.observed,
                if churned { 0.0 } else { 1.0 },
            );
        }
        let no_interactions = ModelConfig {
            renewal_interactions: Vec::new(),
            categorical: Vec::new(),
            penalties: vec![1e-3],
            threshold: crate::config::ThresholdSetting::Fixed(0.5),
            ..config()
        };
        let set =
            TrainingSet::from_panel(&panel, &h.outcomes, h.history_end, &no_interactions).unwrap();
        let model = fit_model(&set, ModelKind::Churn, NaiveDate::MAX).unwrap();
        let separation = model.fit.warnings.iter().find_map(|w| match w {
            FitWarning::Separation(s) => Some(s.clone()),
            _ => None,
        });
        match separation {
            Some(Separation::Feature {
                column, complete, ..
            }) => {
                assert_eq!(column, "util_primary_3m");
                assert!(complete);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn feature_table_without_a_model_column_is_rejected() {
        let h = history(100, 24, 7);
        let set = TrainingSet::from_panel(&h.panel, &h.outcomes, h.history_end, &config()).unwrap();
        let model = fit_model(&set, ModelKind::Churn, NaiveDate::MAX).unwrap();
        let table = h.panel.drop("days_to_renewal").unwrap();
        let err = model.feature_matrix(&table).unwrap_err();
        assert!(
            matches!(err, ModelError::Column { ref column, .. } if column == "days_to_renewal"),
            "{err}"
        );
    }

    #[test]
    fn text_in_a_numeric_model_column_is_rejected() {
        let h = history(100, 24, 7);
        let set = TrainingSet::from_panel(&h.panel, &h.outcomes, h.history_end, &config()).unwrap();
        let model = fit_model(&set, ModelKind::Churn, NaiveDate::MAX).unwrap();
        let mut table = h.panel.clone();
        let text = table
            .column("util_primary_3m")
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        table.with_column(text).unwrap();
        let err = model.feature_matrix(&table).unwrap_err();
        assert!(
            matches!(err, ModelError::Column { ref column, .. } if column == "util_primary_3m"),
            "{err}"
        );
    }
}
