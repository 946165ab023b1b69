//! The month-by-month backtest: for each month-end of a range, train on the
//! rows whose labels were known at that date, score the accounts observed at
//! it, and compare with the rule and the base rate once the horizon is over.

use chrono::NaiveDate;
use ndarray::Array1;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::artifact::TrainingSummary;
use crate::error::Result;
use crate::evaluate::{Comparison, Evaluation, RuleBaseline, ScorerMetrics};
use crate::kind::ModelKind;
use crate::metrics::{
    ConfusionMatrix, average_precision, brier_score, calibration_table, log_loss, roc_auc,
    top_decile_lift,
};
use crate::train::TrainValidParams;
use crate::training::run::{evaluate_model, fit_model_with};
use crate::training::set::{TrainingSet, label_cutoff};

/// One backtested month-end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestMonth {
    /// The month-end scored.
    pub month_end: NaiveDate,
    /// The model trained on rows observed on or before this date, one horizon
    /// before `month_end`.
    pub trained_until: NaiveDate,
    /// The rows the model trained on.
    pub training: TrainingSummary,
    /// The chosen L2 penalty.
    pub l2_penalty: f64,
    /// The chosen decision threshold.
    pub threshold: f64,
    /// Whether the fit converged.
    pub converged: bool,
    /// Model, rule and base rate on the month-end's rows.
    pub evaluation: Evaluation,
}

/// A month-end of the range that was not backtested, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedMonth {
    /// The month-end.
    pub month_end: NaiveDate,
    /// Why it was skipped.
    pub reason: String,
}

/// The backtest of one model kind over a range of month-ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    /// The model kind.
    pub kind: ModelKind,
    /// The backtested month-ends, in order.
    pub months: Vec<BacktestMonth>,
    /// Month-ends of the range that were not backtested.
    pub skipped: Vec<SkippedMonth>,
    /// Model, rule and base rate over the rows of every backtested month
    /// together, each row flagged at its own month's threshold and given its
    /// own month's training base rate; `None` when no month was backtested.
    pub pooled: Option<Comparison>,
}

/// Backtests `kind` on the month-ends from `from` to `to` (both included).
///
/// A month-end whose horizon is not over, that was not observed, or whose
/// training fails (too little history for the folds, one class) is skipped
/// with the reason. The monthly fits skip the separation probe and the
/// iteration count, which only the saved model reports. Fails only when the
/// settings are invalid.
pub fn backtest(
    set: &TrainingSet,
    kind: ModelKind,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BacktestReport> {
    let params = set.config().train_params()?.without_diagnostics();
    let labelled = set.observation_dates();
    let cutoff = set.summary().label_cutoff;
    let mut months = Vec::new();
    let mut skipped = Vec::new();
    let mut pooled_rows = Vec::new();

    for month_end in headroom_features::month_ends(from, to) {
        if month_end > cutoff {
            skipped.push(SkippedMonth {
                month_end,
                reason: format!(
                    "its {}-day horizon ends after the history ({})",
                    set.config().horizon_days,
                    set.summary().history_end
                ),
            });
            continue;
        }
        if !labelled.contains(&month_end) {
            skipped.push(SkippedMonth {
                month_end,
                reason: "no labelled rows observed on this date (before the warm-up or the history window)"
                    .to_owned(),
            });
            continue;
        }
        match backtest_month(set, kind, month_end, &params) {
            Ok((month, scored)) => {
                months.push(month);
                pooled_rows.push(scored);
            }
            Err(err) => {
                warn!(model = %kind, %month_end, "skipped a backtest month: {err}");
                skipped.push(SkippedMonth {
                    month_end,
                    reason: first_line(&err.to_string()),
                });
            }
        }
    }

    let pooled = pool(kind, &pooled_rows);
    Ok(BacktestReport {
        kind,
        months,
        skipped,
        pooled,
    })
}

fn backtest_month(
    set: &TrainingSet,
    kind: ModelKind,
    month_end: NaiveDate,
    params: &TrainValidParams,
) -> Result<(BacktestMonth, MonthRows)> {
    let trained_until = label_cutoff(month_end, set.config().horizon_days);
    let artifact = fit_model_with(set, kind, trained_until, params)?;
    let evaluation = evaluate_model(&artifact, set, month_end, month_end)?;

    let rows = set.rows(kind, month_end, month_end);
    let x = set.matrix(&artifact.input_spec(), &rows)?;
    let training = &artifact.training;
    let scored = MonthRows {
        labels: set.labels(kind, &rows).to_vec(),
        probabilities: artifact.predict_proba(&x)?.to_vec(),
        utilization: set.column(&set.config().rule_utilization, &rows).to_vec(),
        threshold: artifact.threshold(),
        base_rate: training.positives as f64 / training.rows.max(1) as f64,
    };
    info!(
        model = %kind,
        %month_end,
        auc = ?evaluation.overall.model.roc_auc,
        rule_auc = ?evaluation.overall.rule.roc_auc,
        "backtested a month"
    );
    let month = BacktestMonth {
        month_end,
        trained_until,
        l2_penalty: artifact.settings.l2_penalty,
        threshold: artifact.threshold(),
        converged: artifact.fit.converged,
        training: artifact.training,
        evaluation,
    };
    Ok((month, scored))
}

/// The scored rows of one month, kept for the pooled metrics.
struct MonthRows {
    labels: Vec<bool>,
    probabilities: Vec<f64>,
    utilization: Vec<f64>,
    threshold: f64,
    base_rate: f64,
}

/// Pools the months' rows: probabilities, flags and base rates as each
/// month's model gave them.
fn pool(kind: ModelKind, months: &[MonthRows]) -> Option<Comparison> {
    if months.is_empty() {
        return None;
    }
    let mut labels = Vec::new();
    let mut probabilities = Vec::new();
    let mut flags = Vec::new();
    let mut base_rates = Vec::new();
    let mut utilization = Vec::new();
    for month in months {
        labels.extend(&month.labels);
        flags.extend(month.probabilities.iter().map(|&p| p >= month.threshold));
        probabilities.extend(&month.probabilities);
        base_rates.extend(std::iter::repeat_n(month.base_rate, month.labels.len()));
        utilization.extend(&month.utilization);
    }

    let labels = Array1::from(labels);
    let probabilities = Array1::from(probabilities);
    let base_rates = Array1::from(base_rates);
    let rule = RuleBaseline::for_kind(kind).score(Array1::from(utilization).view());
    let no_flags = vec![false; labels.len()];
    Some(Comparison {
        rows: labels.len(),
        positives: labels.iter().filter(|&&y| y).count(),
        model: probability_metrics(&probabilities, &labels, &flags),
        rule: ScorerMetrics::for_ranking(rule.scores.view(), rule.flags.view(), labels.view()),
        base_rate: probability_metrics(&base_rates, &labels, &no_flags),
    })
}

fn probability_metrics(p: &Array1<f64>, labels: &Array1<bool>, flags: &[bool]) -> ScorerMetrics {
    ScorerMetrics {
        roc_auc: roc_auc(p.view(), labels.view()),
        average_precision: average_precision(p.view(), labels.view()),
        top_decile_lift: top_decile_lift(p.view(), labels.view()),
        log_loss: log_loss(p.view(), labels.view()),
        brier: brier_score(p.view(), labels.view()),
        calibration: Some(calibration_table(p.view(), labels.view())),
        confusion: ConfusionMatrix::from_flags(flags.iter().copied(), labels.view()),
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;
    use crate::testutil::{date, history};

    /// 24 month-ends from January 2022; labels are known up to June 2023.
    fn set() -> TrainingSet {
        let h = history(300, 24, 7);
        let config = ModelConfig {
            folds: 1,
            fold_months: 2,
            ..ModelConfig::default()
        };
        TrainingSet::from_panel(&h.panel, &h.outcomes, h.history_end, &config).unwrap()
    }

    #[test]
    fn each_month_trains_one_horizon_earlier() {
        let report = backtest(
            &set(),
            ModelKind::Churn,
            date(2023, 4, 1),
            date(2023, 6, 30),
        )
        .unwrap();
        let months: Vec<NaiveDate> = report.months.iter().map(|m| m.month_end).collect();
        assert_eq!(
            months,
            vec![date(2023, 4, 30), date(2023, 5, 31), date(2023, 6, 30)]
        );
        for month in &report.months {
            assert_eq!(month.trained_until, label_cutoff(month.month_end, 180));
            assert!(month.training.last_observation <= month.trained_until);
        }
        // 2023-06-30 - 180 days = 2023-01-01: December 2022 is the last
        // month-end trained on.
        assert_eq!(
            report.months[2].training.last_observation,
            date(2022, 12, 31)
        );
    }

    #[test]
    fn unfinished_months_are_skipped_with_reason() {
        let report = backtest(
            &set(),
            ModelKind::Churn,
            date(2023, 6, 1),
            date(2023, 8, 31),
        )
        .unwrap();
        assert_eq!(report.months.len(), 1);
        let skipped: Vec<NaiveDate> = report.skipped.iter().map(|s| s.month_end).collect();
        assert_eq!(skipped, vec![date(2023, 7, 31), date(2023, 8, 31)]);
        assert_eq!(
            report.skipped[0].reason,
            "its 180-day horizon ends after the history (2023-12-31)"
        );
    }

    #[test]
    fn month_without_enough_history_is_skipped() {
        // In March 2022 no row is observed 180 days earlier.
        let report = backtest(
            &set(),
            ModelKind::Churn,
            date(2022, 3, 1),
            date(2022, 3, 31),
        )
        .unwrap();
        assert!(report.months.is_empty());
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.pooled, None);
    }

    #[test]
    fn pooled_metrics_cover_every_month() {
        let report = backtest(
            &set(),
            ModelKind::Expansion,
            date(2023, 4, 1),
            date(2023, 6, 30),
        )
        .unwrap();
        let rows: usize = report
            .months
            .iter()
            .map(|m| m.evaluation.overall.rows)
            .sum();
        let positives: usize = report
            .months
            .iter()
            .map(|m| m.evaluation.overall.positives)
            .sum();
        let pooled = report.pooled.as_ref().unwrap();
        assert_eq!(pooled.rows, rows);
        assert_eq!(pooled.positives, positives);
        let flagged: usize = report
            .months
            .iter()
            .map(|m| m.evaluation.overall.model.confusion.flagged())
            .sum();
        assert_eq!(pooled.model.confusion.flagged(), flagged);
    }
}
