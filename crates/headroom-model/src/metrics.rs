//! Classification metrics: ROC-AUC, average precision, log loss, Brier score,
//! lift, a calibration table and the confusion matrix at a threshold.
//!
//! Every metric takes scores (or probabilities) and boolean labels (`true` is
//! the positive class) of the same length, and returns `None` where it is
//! undefined (no rows, or a class missing for the ranking metrics). Scores may
//! be infinite (the rule baseline ranks rows without utilization last) but
//! must not be NaN.

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

/// Probabilities are clipped to `[LOG_LOSS_EPS, 1 - LOG_LOSS_EPS]` before the
/// log loss, so a confident mistake costs about 34.5 nats, not infinity.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// The number of equal-width bins of the calibration table.
pub const CALIBRATION_BINS: usize = 10;

/// Row positions sorted by descending score (ties keep row order).
fn descending_order(scores: ArrayView1<'_, f64>) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

fn count_positives(labels: ArrayView1<'_, bool>) -> usize {
    labels.iter().filter(|&&y| y).count()
}

/// Area under the ROC curve: the probability that a random positive row
/// scores above a random negative one, counting ties as one half.
///
/// Computed from the Mann-Whitney U statistic with average ranks for tied
/// scores. `None` unless both classes are present.
pub fn roc_auc(scores: ArrayView1<'_, f64>, labels: ArrayView1<'_, bool>) -> Option<f64> {
    assert_eq!(
        scores.len(),
        labels.len(),
        "scores and labels differ in length"
    );
    let n_pos = count_positives(labels);
    let n_neg = labels.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }

    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));

    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start..end (1-based start+1..=end) share their mean.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let positives = order[start..end].iter().filter(|&&i| labels[i]).count();
        positive_rank_sum += mean_rank * positives as f64;
        start = end;
    }

    let (p, n) = (n_pos as f64, n_neg as f64);
    Some((positive_rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Average precision: the precision at each distinct score threshold,
/// weighted by the recall gained there (the step-wise area under the
/// precision-recall curve, as scikit-learn computes it). `None` without
/// positive rows.
pub fn average_precision(scores: ArrayView1<'_, f64>, labels: ArrayView1<'_, bool>) -> Option<f64> {
    assert_eq!(
        scores.len(),
        labels.len(),
        "scores and labels differ in length"
    );
    let n_pos = count_positives(labels);
    if n_pos == 0 {
        return None;
    }

    let order = descending_order(scores);
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut previous_recall = 0.0;
    let mut ap = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            if labels[order[end]] {
                tp += 1;
            } else {
                fp += 1;
            }
            end += 1;
        }
        let recall = tp as f64 / n_pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - previous_recall) * precision;
        previous_recall = recall;
        start = end;
    }
    Some(ap)
}

/// Mean negative log-likelihood of the labels under the probabilities,
/// clipped at [`LOG_LOSS_EPS`]. `None` for no rows.
pub fn log_loss(probabilities: ArrayView1<'_, f64>, labels: ArrayView1<'_, bool>) -> Option<f64> {
    assert_eq!(
        probabilities.len(),
        labels.len(),
        "probabilities and labels differ in length"
    );
    if labels.is_empty() {
        return None;
    }
    let total: f64 = probabilities
        .iter()
        .zip(labels.iter())
        .map(|(&p, &y)| {
            let p = p.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    Some(total / labels.len() as f64)
}

/// Brier score: the mean squared difference between probability and label
/// (1 positive, 0 negative). `None` for no rows.
pub fn brier_score(
    probabilities: ArrayView1<'_, f64>,
    labels: ArrayView1<'_, bool>,
) -> Option<f64> {
    assert_eq!(
        probabilities.len(),
        labels.len(),
        "probabilities and labels differ in length"
    );
    if labels.is_empty() {
        return None;
    }
    let total: f64 = probabilities
        .iter()
        .zip(labels.iter())
        .map(|(&p, &y)| (p - f64::from(u8::from(y))).powi(2))
        .sum();
    Some(total / labels.len() as f64)
}

/// The positive rate among the top-scored `share` of rows divided by the
/// overall positive rate. The top set has `ceil(share * n)` rows. When the
/// cut falls inside a group of tied scores, the group contributes its
/// positive rate times the places left, which is the expected count under a
/// random tie break. `None` without rows or positives, or for a share outside (0, 1].
pub fn lift(scores: ArrayView1<'_, f64>, labels: ArrayView1<'_, bool>, share: f64) -> Option<f64> {
    assert_eq!(
        scores.len(),
        labels.len(),
        "scores and labels differ in length"
    );
    let n = labels.len();
    let n_pos = count_positives(labels);
    if n == 0 || n_pos == 0 || !(share > 0.0 && share <= 1.0) {
        return None;
    }

    let k = ((share * n as f64).ceil() as usize).clamp(1, n);
    let order = descending_order(scores);
    let mut expected_positives = 0.0;
    let mut taken = 0;
    let mut start = 0;
    while taken < k {
        let mut end = start;
        while end < n && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let group = &order[start..end];
        let positives = group.iter().filter(|&&i| labels[i]).count() as f64;
        let places = (k - taken).min(group.len());
        expected_positives += positives * places as f64 / group.len() as f64;
        taken += places;
        start = end;
    }

    let top_rate = expected_positives / k as f64;
    let base_rate = n_pos as f64 / n as f64;
    Some(top_rate / base_rate)
}

/// [`lift`] for the top 10% of rows.
pub fn top_decile_lift(scores: ArrayView1<'_, f64>, labels: ArrayView1<'_, bool>) -> Option<f64> {
    lift(scores, labels, 0.1)
}

/// One bin of the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of the bin (inclusive).
    pub lower: f64,
    /// Upper edge of the bin (exclusive, except 1.0 for the last bin).
    pub upper: f64,
    /// Rows whose probability falls in the bin.
    pub count: usize,
    /// Mean predicted probability of those rows (`None` when empty).
    pub mean_predicted: Option<f64>,
    /// Share of those rows that are positive (`None` when empty).
    pub observed_rate: Option<f64>,
}

/// Predicted versus observed positive rates in [`CALIBRATION_BINS`]
/// equal-width probability bins `[0, 0.1), [0.1, 0.2), ..., [0.9, 1.0]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationTable {
    /// The bins, lowest probabilities first.
    pub bins: Vec<CalibrationBin>,
}

impl CalibrationTable {
    /// Computes the expected calibration error: the mean absolute gap between
    /// predicted and observed rates, weighted by bin counts. `None` for no rows.
    pub fn expected_calibration_error(&self) -> Option<f64> {
        let total: usize = self.bins.iter().map(|b| b.count).sum();
        if total == 0 {
            return None;
        }
        let gap: f64 = self
            .bins
            .iter()
            .filter_map(|b| Some(b.count as f64 * (b.mean_predicted? - b.observed_rate?).abs()))
            .sum();
        Some(gap / total as f64)
    }
}

/// Builds the calibration table of probabilities against labels.
pub fn calibration_table(
    probabilities: ArrayView1<'_, f64>,
    labels: ArrayView1<'_, bool>,
) -> CalibrationTable {
    assert_eq!(
        probabilities.len(),
        labels.len(),
        "probabilities and labels differ in length"
    );
    let mut sums = [0.0f64; CALIBRATION_BINS];
    let mut positives = [0usize; CALIBRATION_BINS];
    let mut counts = [0usize; CALIBRATION_BINS];
    for (&p, &y) in probabilities.iter().zip(labels.iter()) {
        let bin =
            ((p * CALIBRATION_BINS as f64).floor().max(0.0) as usize).min(CALIBRATION_BINS - 1);
        sums[bin] += p;
        positives[bin] += usize::from(y);
        counts[bin] += 1;
    }

    let bins = (0..CALIBRATION_BINS)
        .map(|b| {
            let count = counts[b];
            let mean = |total: f64| (count > 0).then(|| total / count as f64);
            CalibrationBin {
                lower: b as f64 / CALIBRATION_BINS as f64,
                upper: (b + 1) as f64 / CALIBRATION_BINS as f64,
                count,
                mean_predicted: mean(sums[b]),
                observed_rate: mean(positives[b] as f64),
            }
        })
        .collect();
    CalibrationTable { bins }
}

/// Counts of a thresholded classifier against the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConfusionMatrix {
    /// Flagged and positive.
    pub true_positives: usize,
    /// Flagged and negative.
    pub false_positives: usize,
    /// Not flagged and negative.
    pub true_negatives: usize,
    /// Not flagged and positive.
    pub false_negatives: usize,
}

impl ConfusionMatrix {
    /// Counts flags (`true` = flagged as positive) against labels.
    pub fn from_flags(
        flags: impl IntoIterator<Item = bool>,
        labels: ArrayView1<'_, bool>,
    ) -> ConfusionMatrix {
        let mut m = ConfusionMatrix::default();
        for (flag, &y) in flags.into_iter().zip(labels.iter()) {
            match (flag, y) {
                (true, true) => m.true_positives += 1,
                (true, false) => m.false_positives += 1,
                (false, false) => m.true_negatives += 1,
                (false, true) => m.false_negatives += 1,
            }
        }
        m
    }

    /// Flags rows whose probability is at least `threshold`.
    pub fn at_threshold(
        probabilities: ArrayView1<'_, f64>,
        labels: ArrayView1<'_, bool>,
        threshold: f64,
    ) -> ConfusionMatrix {
        assert_eq!(
            probabilities.len(),
            labels.len(),
            "probabilities and labels differ in length"
        );
        ConfusionMatrix::from_flags(probabilities.iter().map(|&p| p >= threshold), labels)
    }

    /// Returns the number of rows counted.
    pub fn total(&self) -> usize {
        self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
    }

    /// Flagged rows.
    pub fn flagged(&self) -> usize {
        self.true_positives + self.false_positives
    }

    /// TP / (TP + FP); `None` when nothing is flagged.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.true_positives, self.flagged())
    }

    /// TP / (TP + FN); `None` without positive rows.
    pub fn recall(&self) -> Option<f64> {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// 2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall.
    /// `None` when there is neither a flag nor a positive row.
    pub fn f1(&self) -> Option<f64> {
        let tp2 = 2 * self.true_positives;
        ratio(tp2, tp2 + self.false_positives + self.false_negatives)
    }

    /// (TP + TN) / all; `None` for no rows.
    pub fn accuracy(&self) -> Option<f64> {
        ratio(self.true_positives + self.true_negatives, self.total())
    }

    /// FP / (FP + TN); `None` without negative rows.
    pub fn false_positive_rate(&self) -> Option<f64> {
        ratio(
            self.false_positives,
            self.false_positives + self.true_negatives,
        )
    }
}

fn ratio(numerator: usize, denominator: usize) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, array};

    use super::*;

    /// Scores with ties and their labels.
    fn tied() -> (Array1<f64>, Array1<bool>) {
        let s = array![0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.4, 0.3, 0.2, 0.2, 0.1];
        let y = [1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0].map(|v| v == 1);
        (s, Array1::from(y.to_vec()))
    }

    /// Probabilities away from 0, 1 and the bin edges, and their labels.
    fn probabilities() -> (Array1<f64>, Array1<bool>) {
        let p = array![
            0.05, 0.12, 0.18, 0.33, 0.41, 0.47, 0.52, 0.66, 0.71, 0.88, 0.93, 0.97, 0.15, 0.25,
            0.35, 0.45
        ];
        let y = [0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0].map(|v| v == 1);
        (p, Array1::from(y.to_vec()))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn roc_auc_with_ties_matches_sklearn() {
        // scikit-learn 1.9.1 roc_auc_score(y, s).
        let (s, y) = tied();
        let auc = roc_auc(s.view(), y.view()).unwrap();
        assert!(close(auc, 0.7857142857142858), "{auc}");
    }

    #[test]
    fn roc_auc_of_probabilities_matches_sklearn() {
        // scikit-learn 1.9.1 roc_auc_score.
        let (p, y) = probabilities();
        assert!(close(roc_auc(p.view(), y.view()).unwrap(), 0.796875));
    }

    #[test]
    fn roc_auc_of_constant_score_is_half() {
        let y = array![true, false, false, true];
        assert_eq!(
            roc_auc(Array1::from_elem(4, 0.3).view(), y.view()),
            Some(0.5)
        );
    }

    #[test]
    fn roc_auc_needs_both_classes() {
        let y = array![false, false];
        assert_eq!(roc_auc(array![0.1, 0.2].view(), y.view()), None);
    }

    #[test]
    fn roc_auc_ranks_negative_infinity_last() {
        // The positive scores -inf, below both negatives: AUC 0.
        let s = array![f64::NEG_INFINITY, 0.1, 0.2];
        let y = array![true, false, false];
        assert_eq!(roc_auc(s.view(), y.view()), Some(0.0));
    }

    #[test]
    fn average_precision_with_ties_matches_sklearn() {
        // scikit-learn 1.9.1 average_precision_score(y, s).
        let (s, y) = tied();
        let ap = average_precision(s.view(), y.view()).unwrap();
        assert!(close(ap, 0.7087301587301588), "{ap}");
    }

    #[test]
    fn average_precision_of_probabilities_matches_sklearn() {
        // scikit-learn 1.9.1 average_precision_score.
        let (p, y) = probabilities();
        assert!(close(
            average_precision(p.view(), y.view()).unwrap(),
            0.8269230769230769
        ));
    }

    #[test]
    fn log_loss_matches_sklearn() {
        // scikit-learn 1.9.1 log_loss(y, p).
        let (p, y) = probabilities();
        assert!(close(
            log_loss(p.view(), y.view()).unwrap(),
            0.5285574199193419
        ));
    }

    #[test]
    fn log_loss_clips_certain_mistakes() {
        // p = 0 for a positive row costs -ln(1e-15) = 34.538776394910684.
        let loss = log_loss(array![0.0].view(), array![true].view()).unwrap();
        assert!((loss - 34.538776394910684).abs() < 1e-9, "{loss}");
    }

    #[test]
    fn brier_score_matches_sklearn() {
        // scikit-learn 1.9.1 brier_score_loss(y, p).
        let (p, y) = probabilities();
        assert!(close(
            brier_score(p.view(), y.view()).unwrap(),
            0.18421875000000001
        ));
    }

    #[test]
    fn calibration_table_matches_sklearn() {
        // scikit-learn 1.9.1 calibration_curve(y, p, n_bins=10,
        // strategy="uniform"); every bin is occupied here.
        let (p, y) = probabilities();
        let table = calibration_table(p.view(), y.view());
        let observed = [0.0, 1.0 / 3.0, 0.0, 0.5, 1.0 / 3.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        let predicted = [
            0.05,
            0.15,
            0.25,
            0.33999999999999997,
            0.4433333333333333,
            0.52,
            0.66,
            0.71,
            0.88,
            0.95,
        ];
        let counts = [1, 3, 1, 2, 3, 1, 1, 1, 1, 2];
        for (b, bin) in table.bins.iter().enumerate() {
            assert_eq!(bin.count, counts[b], "bin {b}");
            assert!(close(bin.observed_rate.unwrap(), observed[b]), "bin {b}");
            assert!(close(bin.mean_predicted.unwrap(), predicted[b]), "bin {b}");
        }
    }

    #[test]
    fn calibration_last_bin_includes_one() {
        let table = calibration_table(array![1.0, 0.0].view(), array![true, false].view());
        assert_eq!(table.bins[9].count, 1);
        assert_eq!(table.bins[0].count, 1);
        assert_eq!(table.bins[5].count, 0);
        assert_eq!(table.bins[5].mean_predicted, None);
    }

    #[test]
    fn expected_calibration_error_weights_bins_by_count() {
        // Bin [0.1, 0.2) contains 0.15 (negative), a gap of 0.15. Bin
        // [0.9, 1.0] contains 0.95 twice (both positive), a gap of 0.05 each.
        // ECE = (0.15 + 2 * 0.05) / 3.
        let p = array![0.15, 0.95, 0.95];
        let y = array![false, true, true];
        let ece = calibration_table(p.view(), y.view())
            .expected_calibration_error()
            .unwrap();
        assert!(close(ece, 0.25 / 3.0), "{ece}");
    }

    #[test]
    fn top_decile_lift_without_ties() {
        // 20 rows, 4 positives (base rate 0.2); the top 2 rows hold 1
        // positive: rate 0.5, lift 0.5 / 0.2 = 2.5.
        let s: Array1<f64> = (0..20).map(|i| 1.0 - i as f64 / 20.0).collect();
        let mut y = Array1::from_elem(20, false);
        for i in [1, 5, 9, 13] {
            y[i] = true;
        }
        assert!(close(top_decile_lift(s.view(), y.view()).unwrap(), 2.5));
    }

    #[test]
    fn lift_splits_tie_group_at_the_cut() {
        // 10 rows, top 10% = 1 row; the top score 0.9 is shared by 4 rows of
        // which 1 is positive: expected positives 1 * 1/4 = 0.25, top rate
        // 0.25, base rate 2/10: lift 1.25.
        let s = array![0.9, 0.9, 0.9, 0.9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0];
        let y = array![
            false, true, false, false, false, true, false, false, false, false
        ];
        assert!(close(top_decile_lift(s.view(), y.view()).unwrap(), 1.25));
    }

    #[test]
    fn lift_rounds_top_set_up() {
        // 15 rows: top 10% = ceil(1.5) = 2 rows.
        let s: Array1<f64> = (0..15).map(|i| -(i as f64)).collect();
        let mut y = Array1::from_elem(15, false);
        y[0] = true;
        y[14] = true;
        // Top 2 hold 1 positive: 0.5 / (2/15) = 3.75.
        assert!(close(top_decile_lift(s.view(), y.view()).unwrap(), 3.75));
    }

    #[test]
    fn confusion_matrix_counts_at_threshold() {
        // Flag p >= 0.5: flagged 0.52, 0.66, 0.71, 0.88, 0.93, 0.97 -> TP 5
        // (0.71 is negative), FP 1; positives below 0.5: 0.18, 0.41, 0.35 -> FN 3.
        let (p, y) = probabilities();
        let m = ConfusionMatrix::at_threshold(p.view(), y.view(), 0.5);
        assert_eq!(m.true_positives, 5);
        assert_eq!(m.false_positives, 1);
        assert_eq!(m.false_negatives, 3);
        assert_eq!(m.true_negatives, 7);
    }

    #[test]
    fn confusion_matrix_rates() {
        let (p, y) = probabilities();
        let m = ConfusionMatrix::at_threshold(p.view(), y.view(), 0.5);
        // precision 5/6, recall 5/8, F1 = 10 / (10 + 1 + 3) = 5/7, accuracy 12/16.
        assert!(close(m.precision().unwrap(), 5.0 / 6.0));
        assert!(close(m.recall().unwrap(), 5.0 / 8.0));
        assert!(close(m.f1().unwrap(), 5.0 / 7.0));
        assert!(close(m.accuracy().unwrap(), 0.75));
        assert!(close(m.false_positive_rate().unwrap(), 1.0 / 8.0));
    }

    #[test]
    fn precision_undefined_without_flags() {
        let m =
            ConfusionMatrix::at_threshold(array![0.1, 0.2].view(), array![true, false].view(), 0.5);
        assert_eq!(m.precision(), None);
        assert_eq!(m.recall(), Some(0.0));
        assert_eq!(m.f1(), Some(0.0));
    }

    #[test]
    fn metrics_of_no_rows_are_undefined() {
        let empty_p: Array1<f64> = Array1::zeros(0);
        let empty_y: Array1<bool> = Array1::from_elem(0, false);
        assert_eq!(log_loss(empty_p.view(), empty_y.view()), None);
        assert_eq!(brier_score(empty_p.view(), empty_y.view()), None);
        assert_eq!(average_precision(empty_p.view(), empty_y.view()), None);
        assert_eq!(top_decile_lift(empty_p.view(), empty_y.view()), None);
    }
}
