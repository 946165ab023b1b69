//! Side-by-side evaluation of the model, the utilization rule and a base-rate
//! predictor, overall and per customer segment.
//!
//! The rule is what CS platforms ship as a health score: churn risk when
//! utilization is below 40%, expansion when it is above 85%. Its flag gives a
//! confusion matrix. Its score (1 - utilization for churn, utilization for
//! expansion) ranks rows, so its ROC-AUC and average precision are
//! comparable with the model's. The base-rate predictor gives every row the
//! training positive rate: the floor any model must clear on log loss and
//! Brier score.

use std::collections::BTreeMap;

use ndarray::{Array1, ArrayView1};
use serde::{Deserialize, Serialize};

use crate::dataset::RowKey;
use crate::error::{ModelError, Result};
use crate::kind::ModelKind;
use crate::metrics::{
    CalibrationTable, ConfusionMatrix, average_precision, brier_score, calibration_table, log_loss,
    roc_auc, top_decile_lift,
};

/// Segment name used for rows without a customer segment.
pub const NO_SEGMENT: &str = "(none)";

/// The utilization-threshold rule for one model kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RuleBaseline {
    /// The model kind the rule is a baseline for.
    pub kind: ModelKind,
    /// Utilization as a fraction of the entitlement (0.40 = 40%): churn flags
    /// rows below it, expansion rows above it.
    pub threshold: f64,
}

/// Scores and flags of the rule for a set of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleScores {
    /// Higher means more likely positive; rows without utilization score -inf.
    pub scores: Array1<f64>,
    /// Whether the rule flags the row; never for rows without utilization.
    pub flags: Array1<bool>,
    /// Rows without utilization (NaN).
    pub missing: usize,
}

impl RuleBaseline {
    /// Churn risk when utilization is below 40%.
    pub fn churn() -> RuleBaseline {
        RuleBaseline {
            kind: ModelKind::Churn,
            threshold: 0.40,
        }
    }

    /// Expansion opportunity when utilization is above 85%.
    pub fn expansion() -> RuleBaseline {
        RuleBaseline {
            kind: ModelKind::Expansion,
            threshold: 0.85,
        }
    }

    /// Returns the default rule of a model kind.
    pub fn for_kind(kind: ModelKind) -> RuleBaseline {
        match kind {
            ModelKind::Churn => RuleBaseline::churn(),
            ModelKind::Expansion => RuleBaseline::expansion(),
        }
    }

    /// Scores rows by utilization (a fraction; NaN when unknown).
    pub fn score(&self, utilization: ArrayView1<'_, f64>) -> RuleScores {
        let mut missing = 0;
        let mut scores = Array1::zeros(utilization.len());
        let mut flags = Array1::from_elem(utilization.len(), false);
        for (i, &u) in utilization.iter().enumerate() {
            if u.is_nan() {
                missing += 1;
                scores[i] = f64::NEG_INFINITY;
                continue;
            }
            (scores[i], flags[i]) = match self.kind {
                ModelKind::Churn => (1.0 - u, u < self.threshold),
                ModelKind::Expansion => (u, u > self.threshold),
            };
        }
        RuleScores {
            scores,
            flags,
            missing,
        }
    }
}

/// The metrics of one scorer on one set of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorerMetrics {
    /// ROC-AUC of the score (`None` with one class).
    pub roc_auc: Option<f64>,
    /// Average precision of the score (`None` without positives).
    pub average_precision: Option<f64>,
    /// Positive rate in the top-scored 10% over the overall rate.
    pub top_decile_lift: Option<f64>,
    /// Mean log loss (`None` when the score is not a probability).
    pub log_loss: Option<f64>,
    /// Brier score (`None` when the score is not a probability).
    pub brier: Option<f64>,
    /// Calibration table (`None` when the score is not a probability).
    pub calibration: Option<CalibrationTable>,
    /// Confusion matrix of the scorer's flags.
    pub confusion: ConfusionMatrix,
}

impl ScorerMetrics {
    /// Metrics of probabilities, flagging rows at or above `threshold`.
    pub fn for_probabilities(
        probabilities: ArrayView1<'_, f64>,
        labels: ArrayView1<'_, bool>,
        threshold: f64,
    ) -> ScorerMetrics {
        ScorerMetrics {
            roc_auc: roc_auc(probabilities, labels),
            average_precision: average_precision(probabilities, labels),
            top_decile_lift: top_decile_lift(probabilities, labels),
            log_loss: log_loss(probabilities, labels),
            brier: brier_score(probabilities, labels),
            calibration: Some(calibration_table(probabilities, labels)),
            confusion: ConfusionMatrix::at_threshold(probabilities, labels, threshold),
        }
    }

    /// Metrics of a ranking score with its own flags (no probability metrics).
    pub fn for_ranking(
        scores: ArrayView1<'_, f64>,
        flags: ArrayView1<'_, bool>,
        labels: ArrayView1<'_, bool>,
    ) -> ScorerMetrics {
        ScorerMetrics {
            roc_auc: roc_auc(scores, labels),
            average_precision: average_precision(scores, labels),
            top_decile_lift: top_decile_lift(scores, labels),
            log_loss: None,
            brier: None,
            calibration: None,
            confusion: ConfusionMatrix::from_flags(flags.iter().copied(), labels),
        }
    }
}

/// Model, rule and base rate on the same rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Rows evaluated.
    pub rows: usize,
    /// Positive rows among them.
    pub positives: usize,
    /// The model's probabilities at the model threshold.
    pub model: ScorerMetrics,
    /// The utilization rule.
    pub rule: ScorerMetrics,
    /// The training base rate given to every row, at the model threshold.
    pub base_rate: ScorerMetrics,
}

impl Comparison {
    fn compute(
        input: &EvaluationInput<'_>,
        rule: &RuleScores,
        rows: Option<&[usize]>,
    ) -> Comparison {
        let pick = |v: ArrayView1<'_, f64>| -> Array1<f64> {
            match rows {
                Some(rows) => rows.iter().map(|&i| v[i]).collect(),
                None => v.to_owned(),
            }
        };
        let labels: Array1<bool> = match rows {
            Some(rows) => rows.iter().map(|&i| input.labels[i]).collect(),
            None => input.labels.to_owned(),
        };
        let flags: Array1<bool> = match rows {
            Some(rows) => rows.iter().map(|&i| rule.flags[i]).collect(),
            None => rule.flags.clone(),
        };
        let probabilities = pick(input.probabilities);
        let rule_scores = pick(rule.scores.view());
        let constant = Array1::from_elem(labels.len(), input.training_base_rate);

        Comparison {
            rows: labels.len(),
            positives: labels.iter().filter(|&&y| y).count(),
            model: ScorerMetrics::for_probabilities(
                probabilities.view(),
                labels.view(),
                input.threshold,
            ),
            rule: ScorerMetrics::for_ranking(rule_scores.view(), flags.view(), labels.view()),
            base_rate: ScorerMetrics::for_probabilities(
                constant.view(),
                labels.view(),
                input.threshold,
            ),
        }
    }

    /// Checks whether the model's ROC-AUC is above the rule's (`None` when either is undefined).
    pub fn model_beats_rule(&self) -> Option<bool> {
        Some(self.model.roc_auc? > self.rule.roc_auc?)
    }
}

/// The comparison on one customer segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentComparison {
    /// The segment name ([`NO_SEGMENT`] for rows without one).
    pub segment: String,
    /// The metrics on the segment's rows.
    pub comparison: Comparison,
}

/// The input of [`evaluate`]: labels, model probabilities, utilization and
/// keys of the same rows.
#[derive(Debug, Clone)]
pub struct EvaluationInput<'a> {
    /// The model kind (picks the rule).
    pub kind: ModelKind,
    /// `true` for the positive class.
    pub labels: ArrayView1<'a, bool>,
    /// The model's P(positive).
    pub probabilities: ArrayView1<'a, f64>,
    /// The model's decision threshold.
    pub threshold: f64,
    /// Utilization per row as a fraction (NaN when unknown).
    pub utilization: ArrayView1<'a, f64>,
    /// The positive rate of the training rows.
    pub training_base_rate: f64,
    /// Row keys, for the per-segment split.
    pub keys: &'a [RowKey],
}

/// The evaluation of a model against the rule and the base rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The model kind.
    pub kind: ModelKind,
    /// The model's decision threshold.
    pub threshold: f64,
    /// The rule used.
    pub rule: RuleBaseline,
    /// The training positive rate given to every row by the base-rate predictor.
    pub training_base_rate: f64,
    /// Rows without utilization (the rule cannot flag them and ranks them last).
    pub rule_missing_utilization: usize,
    /// All rows.
    pub overall: Comparison,
    /// One entry per segment, sorted by name.
    pub segments: Vec<SegmentComparison>,
    /// ROC-AUC of the true probabilities, when the data is simulated and they are known.
    pub oracle_roc_auc: Option<f64>,
}

impl Evaluation {
    /// Records the ROC-AUC of the simulation's true probabilities.
    pub fn with_oracle_roc_auc(mut self, auc: f64) -> Evaluation {
        self.oracle_roc_auc = Some(auc);
        self
    }
}

/// Evaluates the model, the rule and the base rate, overall and per segment.
///
/// Fails when the inputs differ in length or the threshold is outside [0, 1].
pub fn evaluate(input: &EvaluationInput<'_>) -> Result<Evaluation> {
    check_lengths(input)?;
    if !(0.0..=1.0).contains(&input.threshold) {
        return Err(ModelError::InvalidThreshold {
            value: input.threshold,
        });
    }

    let rule = RuleBaseline::for_kind(input.kind);
    let rule_scores = rule.score(input.utilization);
    let overall = Comparison::compute(input, &rule_scores, None);
    let segments = segment_rows(input.keys)
        .into_iter()
        .map(|(segment, rows)| SegmentComparison {
            segment,
            comparison: Comparison::compute(input, &rule_scores, Some(&rows)),
        })
        .collect();

    Ok(Evaluation {
        kind: input.kind,
        threshold: input.threshold,
        rule,
        training_base_rate: input.training_base_rate,
        rule_missing_utilization: rule_scores.missing,
        overall,
        segments,
        oracle_roc_auc: None,
    })
}

fn check_lengths(input: &EvaluationInput<'_>) -> Result<()> {
    let n = input.labels.len();
    for (what, found) in [
        ("model probabilities vs labels", input.probabilities.len()),
        ("utilization vs labels", input.utilization.len()),
        ("row keys vs labels", input.keys.len()),
    ] {
        if found != n {
            return Err(ModelError::ShapeMismatch {
                what,
                expected: n,
                found,
                hint: "pass probabilities, utilization and keys for the same rows as the labels",
            });
        }
    }
    Ok(())
}

fn segment_rows(keys: &[RowKey]) -> BTreeMap<String, Vec<usize>> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, key) in keys.iter().enumerate() {
        let name = key.segment.clone().unwrap_or_else(|| NO_SEGMENT.to_owned());
        groups.entry(name).or_default().push(i);
    }
    groups
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::testutil::date;

    #[test]
    fn churn_rule_flags_low_utilization() {
        let rule = RuleBaseline::churn().score(array![0.2, 0.5, f64::NAN, 0.39, 0.4].view());
        assert_eq!(rule.flags, array![true, false, false, true, false]);
        assert_eq!(rule.missing, 1);
        assert!((rule.scores[0] - 0.8).abs() < 1e-12);
        assert_eq!(rule.scores[2], f64::NEG_INFINITY);
    }

    #[test]
    fn expansion_rule_flags_high_utilization() {
        let rule = RuleBaseline::expansion().score(array![0.9, 0.85, 0.86, 0.2].view());
        assert_eq!(rule.flags, array![true, false, true, false]);
        assert_eq!(rule.scores, array![0.9, 0.85, 0.86, 0.2]);
    }

    fn keys() -> Vec<RowKey> {
        [
            "smb",
            "smb",
            "smb",
            "enterprise",
            "enterprise",
            "enterprise",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| RowKey::new(format!("a{i}"), date(2024, 1, 31), Some(*s)))
        .collect()
    }

    fn evaluation() -> Evaluation {
        let labels = array![true, false, false, true, false, true];
        let probabilities = array![0.8, 0.3, 0.6, 0.7, 0.2, 0.1];
        let utilization = array![0.2, 0.3, 0.9, 0.5, 0.45, 0.35];
        let keys = keys();
        let input = EvaluationInput {
            kind: ModelKind::Churn,
            labels: labels.view(),
            probabilities: probabilities.view(),
            threshold: 0.5,
            utilization: utilization.view(),
            training_base_rate: 0.3,
            keys: &keys,
        };
        evaluate(&input).unwrap()
    }

    #[test]
    fn model_metrics_overall() {
        // Positives score 0.8, 0.7, 0.1 and negatives 0.3, 0.6, 0.2: 0.8 and
        // 0.7 beat all three negatives, 0.1 none -> 6 of 9 pairs.
        let e = evaluation();
        assert!((e.overall.model.roc_auc.unwrap() - 6.0 / 9.0).abs() < 1e-12);
        assert_eq!(e.overall.model.confusion.true_positives, 2);
        assert_eq!(e.overall.model.confusion.false_positives, 1);
    }

    #[test]
    fn rule_metrics_overall() {
        // Rule scores 1 - u: positives 0.8, 0.5, 0.65; negatives 0.7, 0.1,
        // 0.55. Pairs won: 0.8 beats 3, 0.5 beats 1, 0.65 beats 2 -> 6/9.
        // Flags (u < 0.4): rows 0, 1, 5 -> TP 2 (rows 0, 5), FP 1.
        let e = evaluation();
        assert!((e.overall.rule.roc_auc.unwrap() - 6.0 / 9.0).abs() < 1e-12);
        assert_eq!(e.overall.rule.confusion.true_positives, 2);
        assert_eq!(e.overall.rule.confusion.false_positives, 1);
        assert_eq!(e.overall.rule.log_loss, None);
    }

    #[test]
    fn base_rate_ranks_nothing() {
        // A constant score ties every pair: AUC 0.5. Brier with p = 0.3 and
        // 3 of 6 positive: (3 * 0.49 + 3 * 0.09) / 6 = 0.29.
        let e = evaluation();
        assert_eq!(e.overall.base_rate.roc_auc, Some(0.5));
        assert!((e.overall.base_rate.brier.unwrap() - 0.29).abs() < 1e-12);
        assert_eq!(e.overall.base_rate.confusion.flagged(), 0);
    }

    #[test]
    fn segments_are_evaluated_separately_in_name_order() {
        let e = evaluation();
        let segments: Vec<&str> = e.segments.iter().map(|s| s.segment.as_str()).collect();
        assert_eq!(segments, ["enterprise", "smb"]);
        // enterprise: positives 0.7, 0.1 vs negative 0.2 -> 1 of 2 pairs.
        assert_eq!(e.segments[0].comparison.model.roc_auc, Some(0.5));
        assert_eq!(e.segments[0].comparison.rows, 3);
        assert_eq!(e.segments[1].comparison.positives, 1);
    }

    #[test]
    fn oracle_auc_is_recorded() {
        assert_eq!(
            evaluation().with_oracle_roc_auc(0.91).oracle_roc_auc,
            Some(0.91)
        );
    }

    #[test]
    fn model_beats_rule_compares_roc_auc() {
        // Both 6/9 overall: not better.
        assert_eq!(evaluation().overall.model_beats_rule(), Some(false));
    }

    #[test]
    fn mismatched_lengths_are_rejected() {
        let labels = array![true, false];
        let probabilities = array![0.8];
        let utilization = array![0.2, 0.3];
        let keys = keys();
        let input = EvaluationInput {
            kind: ModelKind::Churn,
            labels: labels.view(),
            probabilities: probabilities.view(),
            threshold: 0.5,
            utilization: utilization.view(),
            training_base_rate: 0.3,
            keys: &keys[..2],
        };
        let err = evaluate(&input).unwrap_err();
        assert!(matches!(
            err,
            ModelError::ShapeMismatch {
                expected: 2,
                found: 1,
                ..
            }
        ));
    }
}
