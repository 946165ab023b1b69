//! The accuracy of one model kind on the month's matched accounts. It covers
//! the confusion matrix of the flags given at the time, the false positives
//! and negatives with their scores and reasons, and the probability metrics.
//! The rule baseline stands beside them, and the same counts repeat per
//! customer segment.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use headroom_model::evaluate::{NO_SEGMENT, RuleBaseline};
use headroom_model::metrics::{
    average_precision, brier_score, calibration_table, log_loss, roc_auc,
};
use headroom_model::{CalibrationTable, ConfusionMatrix, ModelKind};
use headroom_store::{Alert, Outcome, Reason};
use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::matching::ReviewRow;

/// The review of one model kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindReview {
    /// Churn or expansion.
    pub kind: ModelKind,
    /// Matched accounts.
    pub accounts: usize,
    /// Matched accounts with the positive outcome (churned, expanded).
    pub positives: usize,
    /// The flags given at the time against what happened.
    pub confusion: ConfusionMatrix,
    /// Share of flagged accounts with the positive outcome.
    pub precision: Option<f64>,
    /// Share of positive accounts that were flagged.
    pub recall: Option<f64>,
    /// The probability metrics, on the matched accounts a model scored.
    pub scores: ScoreMetrics,
    /// The champion's ROC-AUC on its held-out months when it was trained, the
    /// value the month's ROC-AUC is compared with.
    pub reference_roc_auc: Option<f64>,
    /// The utilization rule on the same accounts.
    pub rule: RuleReview,
    /// Flagged accounts without the positive outcome, most confident first.
    pub false_positives: Vec<Miss>,
    /// Positive accounts that were not flagged, largest ARR first.
    pub false_negatives: Vec<Miss>,
    /// The same counts and metrics per customer segment, by segment name.
    pub segments: Vec<SegmentReview>,
}

/// Probability metrics of the scores given at the time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ScoreMetrics {
    /// Matched accounts with a probability (a snapshot scored without a model
    /// has none).
    pub scored: usize,
    /// Positive accounts among them.
    pub positives: usize,
    /// ROC-AUC (`None` unless both classes are present).
    pub roc_auc: Option<f64>,
    /// Average precision (`None` without positives).
    pub average_precision: Option<f64>,
    /// Mean log loss.
    pub log_loss: Option<f64>,
    /// Brier score.
    pub brier: Option<f64>,
    /// Mean predicted probability.
    pub mean_predicted: Option<f64>,
    /// Share of the scored accounts with the positive outcome.
    pub observed_rate: Option<f64>,
    /// Predicted against observed rates in ten probability bins.
    pub calibration: Option<CalibrationTable>,
}

/// The utilization rule on the matched accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleReview {
    /// The utilization column, as of each account's snapshot date.
    pub column: String,
    /// Churn flags accounts below it, expansion above it.
    pub threshold: f64,
    /// Matched accounts with a utilization (the rest are never flagged and
    /// rank last).
    pub with_utilization: usize,
    /// The rule's flags against what happened.
    pub confusion: ConfusionMatrix,
    /// Precision of the rule's flags.
    pub precision: Option<f64>,
    /// Recall of the rule's flags.
    pub recall: Option<f64>,
    /// ROC-AUC of the rule's ranking.
    pub roc_auc: Option<f64>,
}

/// The counts and metrics of one customer segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentReview {
    /// The customer segment; `(none)` for accounts without one.
    pub segment: String,
    /// Matched accounts.
    pub accounts: usize,
    /// Positive accounts.
    pub positives: usize,
    /// The flags given at the time against what happened.
    pub confusion: ConfusionMatrix,
    /// Precision of the flags.
    pub precision: Option<f64>,
    /// Recall of the flags.
    pub recall: Option<f64>,
    /// ROC-AUC of the model's probabilities.
    pub roc_auc: Option<f64>,
    /// ROC-AUC of the rule's ranking.
    pub rule_roc_auc: Option<f64>,
}

/// A false positive or false negative, with the scores headroom gave at the
/// time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Miss {
    /// The account.
    pub account_id: String,
    /// The customer segment.
    pub customer_segment: Option<String>,
    /// The account's outcomes in the month.
    pub outcomes: Vec<Outcome>,
    /// The date of the first outcome.
    pub outcome_date: NaiveDate,
    /// The snapshot date.
    pub as_of: NaiveDate,
    /// The probability given then.
    pub probability: Option<f64>,
    /// The usage health segment given then.
    pub health_segment: String,
    /// ARR then, in the reporting currency.
    pub arr: f64,
    /// The reasons given then, strongest first.
    pub reasons: Vec<Reason>,
    /// The alerts raised then.
    pub alerts: Vec<Alert>,
}

/// One matched account seen by one model kind.
struct KindRow<'a> {
    row: &'a ReviewRow,
    positive: bool,
    flagged: bool,
    probability: Option<f64>,
    utilization: f64,
}

/// Reviews one kind on the matched rows. `utilization` gives each row's
/// utilization as of its snapshot date (NaN when unknown), in row order.
pub fn review_kind(
    kind: ModelKind,
    rows: &[ReviewRow],
    utilization: &[f64],
    rule_column: &str,
    reference_roc_auc: Option<f64>,
) -> KindReview {
    let kind_rows: Vec<KindRow> = rows
        .iter()
        .zip(utilization)
        .map(|(row, &utilization)| kind_row(kind, row, utilization))
        .collect();
    let rule = RuleBaseline::for_kind(kind);

    let all: Vec<&KindRow> = kind_rows.iter().collect();
    let confusion = confusion(&all);
    let mut segments: BTreeMap<String, Vec<&KindRow>> = BTreeMap::new();
    for kind_row in &kind_rows {
        let segment = kind_row
            .row
            .scored
            .customer_segment
            .clone()
            .unwrap_or_else(|| NO_SEGMENT.to_string());
        segments.entry(segment).or_default().push(kind_row);
    }

    KindReview {
        kind,
        accounts: kind_rows.len(),
        positives: kind_rows.iter().filter(|r| r.positive).count(),
        precision: confusion.precision(),
        recall: confusion.recall(),
        confusion,
        scores: score_metrics(&kind_rows),
        reference_roc_auc,
        rule: rule_review(&kind_rows, rule, rule_column),
        false_positives: misses(
            &kind_rows,
            |r| r.flagged && !r.positive,
            MissOrder::Probability,
        ),
        false_negatives: misses(&kind_rows, |r| r.positive && !r.flagged, MissOrder::Arr),
        segments: segments
            .into_iter()
            .map(|(segment, members)| segment_review(segment, &members, rule))
            .collect(),
    }
}

fn kind_row(kind: ModelKind, row: &ReviewRow, utilization: f64) -> KindRow<'_> {
    match kind {
        ModelKind::Churn => KindRow {
            row,
            positive: row.churned,
            flagged: row.scored.flagged_churn,
            probability: row.scored.p_churn,
            utilization,
        },
        ModelKind::Expansion => KindRow {
            row,
            positive: row.expanded,
            flagged: row.scored.flagged_expansion,
            probability: row.scored.p_expansion,
            utilization,
        },
    }
}

fn confusion(rows: &[&KindRow]) -> ConfusionMatrix {
    let labels: Array1<bool> = rows.iter().map(|r| r.positive).collect();
    ConfusionMatrix::from_flags(rows.iter().map(|r| r.flagged), labels.view())
}

fn score_metrics(rows: &[KindRow]) -> ScoreMetrics {
    let scored: Vec<(f64, bool)> = rows
        .iter()
        .filter_map(|r| Some((r.probability?, r.positive)))
        .collect();
    if scored.is_empty() {
        return ScoreMetrics::default();
    }
    let probabilities: Array1<f64> = scored.iter().map(|(p, _)| *p).collect();
    let labels: Array1<bool> = scored.iter().map(|(_, y)| *y).collect();
    let positives = labels.iter().filter(|&&y| y).count();
    let n = scored.len() as f64;

    ScoreMetrics {
        scored: scored.len(),
        positives,
        roc_auc: roc_auc(probabilities.view(), labels.view()),
        average_precision: average_precision(probabilities.view(), labels.view()),
        log_loss: log_loss(probabilities.view(), labels.view()),
        brier: brier_score(probabilities.view(), labels.view()),
        mean_predicted: Some(probabilities.sum() / n),
        observed_rate: Some(positives as f64 / n),
        calibration: Some(calibration_table(probabilities.view(), labels.view())),
    }
}

fn rule_review(rows: &[KindRow], rule: RuleBaseline, column: &str) -> RuleReview {
    let utilization: Array1<f64> = rows.iter().map(|r| r.utilization).collect();
    let labels: Array1<bool> = rows.iter().map(|r| r.positive).collect();
    let scores = rule.score(utilization.view());
    let confusion = ConfusionMatrix::from_flags(scores.flags.iter().copied(), labels.view());
    RuleReview {
        column: column.to_string(),
        threshold: rule.threshold,
        with_utilization: rows.len() - scores.missing,
        precision: confusion.precision(),
        recall: confusion.recall(),
        confusion,
        roc_auc: roc_auc(scores.scores.view(), labels.view()),
    }
}

fn segment_review(segment: String, rows: &[&KindRow], rule: RuleBaseline) -> SegmentReview {
    let confusion = confusion(rows);
    let labels: Array1<bool> = rows.iter().map(|r| r.positive).collect();
    let utilization: Array1<f64> = rows.iter().map(|r| r.utilization).collect();
    let rule_scores = rule.score(utilization.view());

    let scored: Vec<(f64, bool)> = rows
        .iter()
        .filter_map(|r| Some((r.probability?, r.positive)))
        .collect();
    let probabilities: Array1<f64> = scored.iter().map(|(p, _)| *p).collect();
    let scored_labels: Array1<bool> = scored.iter().map(|(_, y)| *y).collect();

    SegmentReview {
        segment,
        accounts: rows.len(),
        positives: labels.iter().filter(|&&y| y).count(),
        precision: confusion.precision(),
        recall: confusion.recall(),
        confusion,
        roc_auc: roc_auc(probabilities.view(), scored_labels.view()),
        rule_roc_auc: roc_auc(rule_scores.scores.view(), labels.view()),
    }
}

#[derive(Clone, Copy)]
enum MissOrder {
    /// Highest probability first, then account id.
    Probability,
    /// Largest ARR first, then account id.
    Arr,
}

fn misses(rows: &[KindRow], keep: impl Fn(&KindRow) -> bool, order: MissOrder) -> Vec<Miss> {
    let mut selected: Vec<&KindRow> = rows.iter().filter(|r| keep(r)).collect();
    selected.sort_by(|a, b| {
        let primary = match order {
            MissOrder::Probability => b
                .probability
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&a.probability.unwrap_or(f64::NEG_INFINITY)),
            MissOrder::Arr => b.row.scored.arr.total_cmp(&a.row.scored.arr),
        };
        primary.then_with(|| a.row.account_id.cmp(&b.row.account_id))
    });
    selected
        .into_iter()
        .map(|r| Miss {
            account_id: r.row.account_id.clone(),
            customer_segment: r.row.scored.customer_segment.clone(),
            outcomes: r.row.outcomes.clone(),
            outcome_date: r.row.outcome_date,
            as_of: r.row.as_of,
            probability: r.probability,
            health_segment: r.row.scored.health_segment.clone(),
            arr: r.row.scored.arr,
            reasons: r.row.scored.reasons.clone(),
            alerts: r.row.scored.alerts.clone(),
        })
        .collect()
}
