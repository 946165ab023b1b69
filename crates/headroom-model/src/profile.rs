//! The training distribution of each model input, stored with the model, and
//! the population stability index (PSI) of current inputs against it.
//!
//! Each input's present training values are cut at their deciles. The bins
//! are `(-inf, e1], (e1, e2], ..., (ek, +inf)` for the distinct decile edges
//! `e1 < ... < ek` (fewer than nine when values repeat, as for counts and 0/1
//! inputs), plus one bin for missing values. The profile stores the share of
//! training rows in each bin.
//!
//! PSI sums `(current - training) * ln(current / training)` over the bins,
//! with every share raised to at least [`PSI_SHARE_FLOOR`] so that an empty
//! bin gives a large but finite term. A common reading: below 0.1 stable,
//! 0.1 to 0.25 a moderate shift, above 0.25 a major shift.

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use crate::dataset::FeatureMatrix;
use crate::error::{ModelError, Result};

/// The smallest share a bin counts with in the PSI.
pub const PSI_SHARE_FLOOR: f64 = 1e-4;

/// The training distribution of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputDistribution {
    /// The input name.
    pub feature: String,
    /// Distinct decile edges of the present training values, ascending.
    pub edges: Vec<f64>,
    /// Share of training rows in each bin: `edges.len() + 1` value bins, in
    /// order.
    pub shares: Vec<f64>,
    /// Share of training rows where the input is missing.
    pub missing_share: f64,
}

/// The training distribution of every model input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputProfile {
    /// Training rows profiled.
    pub rows: usize,
    /// One entry per input, in the model's input order.
    pub inputs: Vec<InputDistribution>,
}

/// The stability of one input: its PSI and the current share per bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputStability {
    /// The input name.
    pub feature: String,
    /// The population stability index against training.
    pub psi: f64,
    /// Share of current rows in each value bin.
    pub shares: Vec<f64>,
    /// Share of current rows where the input is missing.
    pub missing_share: f64,
}

impl InputProfile {
    /// Profiles every column of a training matrix.
    pub fn fit(x: &FeatureMatrix) -> InputProfile {
        let inputs = x
            .names()
            .iter()
            .zip(x.values().columns())
            .map(|(name, values)| InputDistribution::fit(name, values))
            .collect();
        InputProfile {
            rows: x.n_rows(),
            inputs,
        }
    }

    /// Computes the PSI of every profiled input on current rows, matching
    /// columns by name.
    ///
    /// Fails with [`ModelError::FeatureMismatch`] when the matrix lacks a
    /// profiled input or has one the profile does not know, and with
    /// [`ModelError::Empty`] when it has no rows.
    pub fn stability(&self, x: &FeatureMatrix) -> Result<Vec<InputStability>> {
        self.check_names(x.names())?;
        if x.n_rows() == 0 {
            return Err(ModelError::Empty {
                what: "matrix of current inputs".to_owned(),
                hint: "compute the features of at least one account",
            });
        }
        Ok(self
            .inputs
            .iter()
            .map(|input| {
                let values = x.column(&input.feature).expect("names checked above");
                input.stability(values)
            })
            .collect())
    }

    fn check_names(&self, names: &[String]) -> Result<()> {
        let known: Vec<&str> = self.inputs.iter().map(|i| i.feature.as_str()).collect();
        let missing: Vec<String> = known
            .iter()
            .filter(|k| !names.iter().any(|n| n == *k))
            .map(|k| (*k).to_owned())
            .collect();
        let extra: Vec<String> = names
            .iter()
            .filter(|n| !known.contains(&n.as_str()))
            .cloned()
            .collect();
        if missing.is_empty() && extra.is_empty() {
            return Ok(());
        }
        Err(ModelError::FeatureMismatch { missing, extra })
    }
}

impl InputDistribution {
    /// Profiles one column; NaN is a missing value.
    pub fn fit(feature: &str, values: ArrayView1<'_, f64>) -> InputDistribution {
        let mut present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        present.sort_unstable_by(f64::total_cmp);
        let edges = decile_edges(&present);
        let (shares, missing_share) = bin_shares(&edges, values);
        InputDistribution {
            feature: feature.to_owned(),
            edges,
            shares,
            missing_share,
        }
    }

    /// Computes the PSI of current values against this distribution.
    pub fn stability(&self, values: ArrayView1<'_, f64>) -> InputStability {
        let (shares, missing_share) = bin_shares(&self.edges, values);
        let expected = self.shares.iter().chain([&self.missing_share]);
        let actual = shares.iter().chain([&missing_share]);
        let psi = expected
            .zip(actual)
            .map(|(&e, &a)| {
                let (e, a) = (e.max(PSI_SHARE_FLOOR), a.max(PSI_SHARE_FLOOR));
                (a - e) * (a / e).ln()
            })
            .sum();
        InputStability {
            feature: self.feature.clone(),
            psi,
            shares,
            missing_share,
        }
    }

    /// Returns the 0-based value bin of a present value.
    pub fn bin(&self, value: f64) -> usize {
        self.edges.partition_point(|&edge| edge < value)
    }
}

/// Picks the distinct values at the 10th to 90th percentiles of sorted
/// values, by the nearest-rank rule (the value at position ceil(q n) in
/// 1-based order).
fn decile_edges(sorted: &[f64]) -> Vec<f64> {
    let n = sorted.len();
    let mut edges: Vec<f64> = Vec::with_capacity(9);
    if n == 0 {
        return edges;
    }
    for decile in 1..=9 {
        let rank = (decile * n).div_ceil(10).max(1);
        let edge = sorted[rank - 1];
        if edges.last() != Some(&edge) {
            edges.push(edge);
        }
    }
    edges
}

/// Counts the share of all rows in each value bin, and the missing share.
fn bin_shares(edges: &[f64], values: ArrayView1<'_, f64>) -> (Vec<f64>, f64) {
    let mut counts = vec![0usize; edges.len() + 1];
    let mut missing = 0usize;
    for &v in values {
        if v.is_nan() {
            missing += 1;
        } else {
            counts[edges.partition_point(|&edge| edge < v)] += 1;
        }
    }
    let total = values.len().max(1) as f64;
    let shares = counts.iter().map(|&c| c as f64 / total).collect();
    (shares, missing as f64 / total)
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};

    use super::*;
    use crate::testutil::{keys, names};

    #[test]
    fn deciles_of_one_to_twenty() {
        // Nearest rank over 1..=20: ceil(0.1 * 20) = 2 -> 2, ceil(0.2 * 20) =
        // 4 -> 4, ... ceil(0.9 * 20) = 18 -> 18.
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        let profile = InputDistribution::fit("x", ArrayView1::from(&values));
        assert_eq!(
            profile.edges,
            vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0]
        );
        // Bins (-inf, 2], (2, 4], ..., (18, inf): two values each.
        assert_eq!(profile.shares, vec![0.1; 10]);
        assert_eq!(profile.missing_share, 0.0);
    }

    #[test]
    fn repeated_values_merge_edges() {
        // Seven zeros and three ones: deciles 1..7 are 0 and 8, 9 are 1, so
        // the edges are [0, 1] and the bins (-inf, 0], (0, 1], (1, inf).
        let values = array![0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        let profile = InputDistribution::fit("flag", values.view());
        assert_eq!(profile.edges, vec![0.0, 1.0]);
        assert_eq!(profile.shares, vec![0.7, 0.3, 0.0]);
    }

    #[test]
    fn missing_values_get_their_own_share() {
        let values = array![1.0, f64::NAN, 3.0, f64::NAN];
        let profile = InputDistribution::fit("x", values.view());
        assert_eq!(profile.missing_share, 0.5);
        assert!((profile.shares.iter().sum::<f64>() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn same_distribution_has_zero_psi() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        let profile = InputDistribution::fit("x", ArrayView1::from(&values));
        let stability = profile.stability(ArrayView1::from(&values));
        assert_eq!(stability.psi, 0.0);
    }

    #[test]
    fn psi_of_shifted_values_matches_hand_sum() {
        // Training 1..=20 puts 0.1 in each of 10 bins. Current values 11..=20
        // fill bins (10, 12] .. (18, inf) with 0.2 each (11,12 | 13,14 | ...
        // | 19,20) and leave five bins empty (floored at 1e-4).
        // PSI = 5 * (0.2 - 0.1) ln 2 + 5 * (1e-4 - 0.1) ln(1e-4 / 0.1).
        let training: Vec<f64> = (1..=20).map(f64::from).collect();
        let current: Vec<f64> = (11..=20).map(f64::from).collect();
        let profile = InputDistribution::fit("x", ArrayView1::from(&training));
        let stability = profile.stability(ArrayView1::from(&current));
        let expected = 5.0 * 0.1 * 2f64.ln() + 5.0 * (1e-4 - 0.1) * (1e-4f64 / 0.1).ln();
        assert!(
            (stability.psi - expected).abs() < 1e-12,
            "{}",
            stability.psi
        );
    }

    #[test]
    fn stability_rejects_unknown_inputs() {
        let x = FeatureMatrix::new(
            Array2::from_shape_vec((2, 1), vec![1.0, 2.0]).unwrap(),
            names(&["usage"]),
            keys(2),
        )
        .unwrap();
        let profile = InputProfile::fit(&x);
        let other = FeatureMatrix::new(
            Array2::from_shape_vec((2, 1), vec![1.0, 2.0]).unwrap(),
            names(&["seats"]),
            keys(2),
        )
        .unwrap();
        let err = profile.stability(&other).unwrap_err();
        match err {
            ModelError::FeatureMismatch { missing, extra } => {
                assert_eq!(missing, names(&["usage"]));
                assert_eq!(extra, names(&["seats"]));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
