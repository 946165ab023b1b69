//! Choice of the L2 penalty and the decision threshold on time-ordered
//! validation folds.
//!
//! Each fold fits its own preprocessing on its training rows, then one model
//! per candidate penalty, and predicts its validation rows. The penalty with
//! the lowest mean validation log loss over the folds wins; of penalties
//! within a relative 1e-9 of the best, the largest (the simplest model). The
//! threshold rule is then applied to the pooled validation predictions of the
//! winning penalty; the folds' validation blocks do not overlap, so each row
//! counts once.
//!
//! A fold with more training rows than the row limit fits on an even sample
//! of them: every k-th row in row order (month-end, then account), so each month-end and
//! each part of the portfolio keeps its share. The validation rows are never
//! sampled. Within a fold each penalty's fit starts from the solution of the
//! penalty before it, which saves most of the solver's iterations.

use ndarray::Array1;
use serde::{Deserialize, Serialize};
use tracing::{debug, info};

use crate::dataset::Dataset;
use crate::error::{ModelError, Result};
use crate::evaluate::ScorerMetrics;
use crate::folds::{FoldSummary, TimeFold, time_folds};
use crate::logistic::{LogisticFit, LogisticValidParams};
use crate::metrics::{log_loss, roc_auc};
use crate::preprocess::Preprocessor;
use crate::threshold::{ThresholdChoice, ThresholdRule, choose_threshold};

/// One penalty's result on one fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldScore {
    /// 0-based fold index.
    pub fold: usize,
    /// Validation log loss.
    pub log_loss: f64,
    /// Validation ROC-AUC (`None` when the block has one class).
    pub roc_auc: Option<f64>,
    /// Whether the fold's fit converged.
    pub converged: bool,
    /// The fold fit's final gradient norm.
    pub gradient_norm: f64,
}

/// One candidate penalty's results over all folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PenaltyScore {
    /// The L2 penalty.
    pub l2_penalty: f64,
    /// Per-fold results, oldest fold first.
    pub folds: Vec<FoldScore>,
    /// Mean validation log loss over the folds (the selection criterion).
    pub mean_log_loss: f64,
    /// Mean validation ROC-AUC over the folds where it is defined.
    pub mean_roc_auc: Option<f64>,
}

/// What the selection tried and chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionReport {
    /// The folds' dates and sizes.
    pub folds: Vec<FoldSummary>,
    /// Every candidate penalty, in the order given.
    pub candidates: Vec<PenaltyScore>,
    /// The chosen penalty.
    pub chosen_penalty: f64,
    /// The rule that chose the threshold.
    pub threshold_rule: ThresholdRule,
    /// The chosen threshold and its F1 on the pooled validation rows.
    pub threshold: ThresholdChoice,
    /// Metrics of the chosen penalty on the pooled validation rows.
    pub validation: ScorerMetrics,
}

/// The validation predictions of every penalty in one fold.
struct FoldPredictions {
    labels: Array1<bool>,
    probabilities: Vec<Array1<f64>>,
    scores: Vec<FoldScore>,
}

/// Runs the selection.
///
/// Fails when the folds cannot be built, a fold's training rows lack a
/// class, or a fit fails.
pub fn select(
    data: &Dataset,
    logistic: &LogisticValidParams,
    penalties: &[f64],
    threshold_rule: ThresholdRule,
    folds: crate::folds::FoldParams,
    indicator_min_share: f64,
    max_rows: usize,
) -> Result<SelectionReport> {
    if penalties.is_empty() {
        return Err(ModelError::EmptyPenaltyGrid);
    }
    let mut folds = time_folds(data.features().keys(), folds)?;
    for fold in &mut folds {
        sample_training_rows(fold, max_rows);
    }
    let logistic = logistic.with_iteration_count(false);

    let mut per_fold = Vec::with_capacity(folds.len());
    for fold in &folds {
        per_fold.push(run_fold(
            data,
            fold,
            &logistic,
            penalties,
            indicator_min_share,
        )?);
    }

    let candidates = score_candidates(penalties, &per_fold);
    let chosen = choose_penalty(&candidates);
    let (labels, probabilities) = pool(&per_fold, chosen);
    let threshold = choose_threshold(probabilities.view(), labels.view(), threshold_rule);
    let validation =
        ScorerMetrics::for_probabilities(probabilities.view(), labels.view(), threshold.threshold);

    info!(
        penalty = penalties[chosen],
        threshold = threshold.threshold,
        "chose penalty and threshold on {} time-ordered folds",
        folds.len()
    );
    Ok(SelectionReport {
        folds: folds.iter().map(|f| f.summary).collect(),
        candidates,
        chosen_penalty: penalties[chosen],
        threshold_rule,
        threshold,
        validation,
    })
}

fn run_fold(
    data: &Dataset,
    fold: &TimeFold,
    logistic: &LogisticValidParams,
    penalties: &[f64],
    indicator_min_share: f64,
) -> Result<FoldPredictions> {
    let train = data.select_rows(&fold.train);
    let validation = data.select_rows(&fold.validation);
    check_fold_classes(&train, fold)?;

    let preprocessor = Preprocessor::fit(train.features(), indicator_min_share)?;
    let x_train = preprocessor.transform(train.features())?;
    let x_validation = preprocessor.transform(validation.features())?;

    let mut probabilities = Vec::with_capacity(penalties.len());
    let mut scores = Vec::with_capacity(penalties.len());
    let mut previous: Option<LogisticFit> = None;
    for &penalty in penalties {
        let fit = logistic.with_penalty(penalty)?.fit_from(
            x_train.view(),
            train.labels(),
            previous.as_ref(),
        )?;
        let p = fit.predict_proba(x_validation.view());
        let score = FoldScore {
            fold: fold.index,
            log_loss: log_loss(p.view(), validation.labels())
                .expect("a validation block has rows because its dates come from them"),
            roc_auc: roc_auc(p.view(), validation.labels()),
            converged: fit.report.converged,
            gradient_norm: fit.report.gradient_norm,
        };
        debug!(fold = fold.index, penalty, log_loss = score.log_loss, auc = ?score.roc_auc, "fold fit");
        probabilities.push(p);
        scores.push(score);
        previous = Some(fit);
    }

    Ok(FoldPredictions {
        labels: validation.labels().to_owned(),
        probabilities,
        scores,
    })
}

/// Keeps every k-th training row of a fold with more than `max_rows`, the
/// smallest k that brings it to `max_rows` or fewer.
fn sample_training_rows(fold: &mut TimeFold, max_rows: usize) {
    let rows = fold.train.len();
    if rows <= max_rows || max_rows == 0 {
        return;
    }
    let step = rows.div_ceil(max_rows);
    fold.train = fold.train.iter().copied().step_by(step).collect();
    fold.summary.fit_rows = Some(fold.train.len());
    debug!(
        fold = fold.index,
        rows,
        sampled = fold.train.len(),
        "sampled the fold's training rows"
    );
}

fn check_fold_classes(train: &Dataset, fold: &TimeFold) -> Result<()> {
    let positives = train.n_positive();
    let missing = if positives == 0 {
        train.kind().positive_class()
    } else if positives == train.n_rows() {
        train.kind().negative_class()
    } else {
        return Ok(());
    };
    Err(ModelError::FoldOneClass {
        fold: fold.index + 1,
        rows: train.n_rows(),
        train_first: fold.summary.train_first,
        train_last: fold.summary.train_last,
        missing,
    })
}

fn score_candidates(penalties: &[f64], per_fold: &[FoldPredictions]) -> Vec<PenaltyScore> {
    penalties
        .iter()
        .enumerate()
        .map(|(k, &penalty)| {
            let folds: Vec<FoldScore> = per_fold.iter().map(|f| f.scores[k].clone()).collect();
            let mean_log_loss = folds.iter().map(|f| f.log_loss).sum::<f64>() / folds.len() as f64;
            let aucs: Vec<f64> = folds.iter().filter_map(|f| f.roc_auc).collect();
            let mean_roc_auc =
                (!aucs.is_empty()).then(|| aucs.iter().sum::<f64>() / aucs.len() as f64);
            PenaltyScore {
                l2_penalty: penalty,
                folds,
                mean_log_loss,
                mean_roc_auc,
            }
        })
        .collect()
}

/// The index of the largest penalty whose mean log loss is within a relative
/// 1e-9 of the lowest.
fn choose_penalty(candidates: &[PenaltyScore]) -> usize {
    let best = candidates
        .iter()
        .map(|c| c.mean_log_loss)
        .fold(f64::INFINITY, f64::min);
    let limit = best + best.abs() * 1e-9;
    candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.mean_log_loss <= limit)
        .max_by(|(_, a), (_, b)| a.l2_penalty.total_cmp(&b.l2_penalty))
        .map(|(k, _)| k)
        .expect("at least one candidate has a finite log loss")
}

fn pool(per_fold: &[FoldPredictions], k: usize) -> (Array1<bool>, Array1<f64>) {
    let labels = per_fold
        .iter()
        .flat_map(|f| f.labels.iter().copied())
        .collect();
    let probabilities = per_fold
        .iter()
        .flat_map(|f| f.probabilities[k].iter().copied())
        .collect();
    (labels, probabilities)
}
