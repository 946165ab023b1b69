//! Choice of the decision threshold: a row is flagged when its probability is
//! at least the threshold.

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// The rule that chooses the decision threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule", content = "value")]
pub enum ThresholdRule {
    /// The threshold with the highest F1 on the validation predictions; of
    /// equal F1, the higher threshold (fewer flags).
    MaxF1,
    /// A fixed probability.
    Fixed(f64),
    /// The threshold that flags the given share of validation rows (for a
    /// team that can work a fixed share of the portfolio).
    FlagShare(f64),
}

impl ThresholdRule {
    /// Fails when a fixed threshold or share lies outside [0, 1].
    pub fn check(self) -> Result<ThresholdRule> {
        match self {
            ThresholdRule::Fixed(t) | ThresholdRule::FlagShare(t) if !(0.0..=1.0).contains(&t) => {
                Err(ModelError::InvalidThreshold { value: t })
            }
            rule => Ok(rule),
        }
    }

    /// Checks whether the rule needs validation predictions.
    pub fn needs_validation(self) -> bool {
        !matches!(self, ThresholdRule::Fixed(_))
    }
}

/// A chosen threshold and the F1 it gives on the data it was chosen on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdChoice {
    /// The threshold.
    pub threshold: f64,
    /// F1 at the threshold on the choosing data (`None` when undefined).
    pub f1: Option<f64>,
}

/// Applies a rule to probabilities and labels.
///
/// Without positive rows, [`ThresholdRule::MaxF1`] has nothing to maximize
/// and returns 0.5.
pub fn choose_threshold(
    probabilities: ArrayView1<'_, f64>,
    labels: ArrayView1<'_, bool>,
    rule: ThresholdRule,
) -> ThresholdChoice {
    let threshold = match rule {
        ThresholdRule::Fixed(t) => t,
        ThresholdRule::MaxF1 => max_f1_threshold(probabilities, labels).unwrap_or(0.5),
        ThresholdRule::FlagShare(share) => flag_share_threshold(probabilities, share),
    };
    let f1 = crate::metrics::ConfusionMatrix::at_threshold(probabilities, labels, threshold).f1();
    ThresholdChoice { threshold, f1 }
}

/// Finds the probability value that maximizes F1 when rows at or above it are
/// flagged; ties go to the higher threshold. `None` without positive rows.
pub fn max_f1_threshold(
    probabilities: ArrayView1<'_, f64>,
    labels: ArrayView1<'_, bool>,
) -> Option<f64> {
    let n_pos = labels.iter().filter(|&&y| y).count();
    if n_pos == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));

    let mut best: Option<(f64, f64)> = None;
    let mut tp = 0usize;
    let mut flagged = 0usize;
    let mut start = 0;
    while start < order.len() {
        let value = probabilities[order[start]];
        while start < order.len() && probabilities[order[start]] == value {
            tp += usize::from(labels[order[start]]);
            flagged += 1;
            start += 1;
        }
        // F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (flagged + positives).
        let f1 = 2.0 * tp as f64 / (flagged + n_pos) as f64;
        if best.is_none_or(|(best_f1, _)| f1 > best_f1) {
            best = Some((f1, value));
        }
    }
    best.map(|(_, threshold)| threshold)
}

/// Finds the lowest threshold that flags at most `ceil(share * n)` rows; a tie
/// group that would overshoot is left out. When even the top group is too
/// large, the threshold lies just above the top probability (capped at 1.0).
fn flag_share_threshold(probabilities: ArrayView1<'_, f64>, share: f64) -> f64 {
    let n = probabilities.len();
    let budget = (share * n as f64).ceil() as usize;
    let mut sorted: Vec<f64> = probabilities.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));

    let mut threshold = None;
    let mut start = 0;
    while start < n {
        let value = sorted[start];
        let mut end = start;
        while end < n && sorted[end] == value {
            end += 1;
        }
        if end > budget {
            break;
        }
        threshold = Some(value);
        start = end;
    }
    threshold.unwrap_or_else(|| sorted.first().map_or(1.0, |top| top.next_up().min(1.0)))
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn max_f1_threshold_on_fixture() {
        // 3 positives. Flagging p >= t: t=0.9 F1 2/4, t=0.8 2/5, t=0.7 4/6,
        // t=0.6 6/7 (best), t=0.5 6/8, t=0.4 6/9.
        let p = array![0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
        let y = array![true, false, true, true, false, false];
        let choice = choose_threshold(p.view(), y.view(), ThresholdRule::MaxF1);
        assert_eq!(choice.threshold, 0.6);
        assert!((choice.f1.unwrap() - 6.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn max_f1_tie_goes_to_higher_threshold() {
        // 2 positives. t=0.9: 2/3; t=0.8: 2/4; t=0.7: 2/5; t=0.6: 4/6 = 2/3.
        let p = array![0.9, 0.8, 0.7, 0.6];
        let y = array![true, false, false, true];
        assert_eq!(max_f1_threshold(p.view(), y.view()), Some(0.9));
    }

    #[test]
    fn max_f1_treats_tied_probabilities_as_one_cut() {
        // Rows tied at 0.7 are flagged together: t=0.7 flags 3 (1 positive)
        // F1 2/5; t=0.2 flags 4 (2 positives) F1 4/6 (best).
        let p = array![0.7, 0.7, 0.7, 0.2];
        let y = array![false, true, false, true];
        assert_eq!(max_f1_threshold(p.view(), y.view()), Some(0.2));
    }

    #[test]
    fn max_f1_without_positives_falls_back_to_half() {
        let p = array![0.7, 0.2];
        let y = array![false, false];
        assert_eq!(max_f1_threshold(p.view(), y.view()), None);
        assert_eq!(
            choose_threshold(p.view(), y.view(), ThresholdRule::MaxF1).threshold,
            0.5
        );
    }

    #[test]
    fn flag_share_leaves_out_overshooting_tie_group() {
        // Budget ceil(0.4 * 5) = 2: 0.9 fits, the 0.8 pair would make 3.
        let p = array![0.9, 0.8, 0.8, 0.5, 0.1];
        let y = array![true, false, true, false, false];
        let choice = choose_threshold(p.view(), y.view(), ThresholdRule::FlagShare(0.4));
        assert_eq!(choice.threshold, 0.9);
        let choice = choose_threshold(p.view(), y.view(), ThresholdRule::FlagShare(0.6));
        assert_eq!(choice.threshold, 0.8);
    }

    #[test]
    fn flag_share_of_zero_flags_nothing() {
        let p = array![0.9, 0.5];
        let y = array![true, false];
        let t = choose_threshold(p.view(), y.view(), ThresholdRule::FlagShare(0.0)).threshold;
        assert!(t > 0.9, "{t}");
        assert!(t <= 1.0, "{t}");
    }

    #[test]
    fn fixed_threshold_outside_unit_interval_is_rejected() {
        let err = ThresholdRule::Fixed(1.5).check().unwrap_err();
        assert!(matches!(err, ModelError::InvalidThreshold { value } if value == 1.5));
    }
}
