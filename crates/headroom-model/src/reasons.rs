//! Reason codes: how much each model column moves an account's log-odds.
//!
//! A column's contribution is its coefficient times the row's standardized
//! value, so the contributions and the intercept add up to the logit. A
//! positive contribution raises P(positive), a negative one lowers it; zero
//! is the training mean. The report stage turns these into words.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::artifact::ModelArtifact;
use crate::dataset::{FeatureMatrix, RowKey};
use crate::error::Result;
use crate::logistic::sigmoid;
use crate::preprocess::Term;

/// One column's part in one row's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The input feature.
    pub feature: String,
    /// The model column: the value or the missingness indicator.
    pub term: Term,
    /// The row's raw feature value (`None` when missing and imputed).
    pub raw_value: Option<f64>,
    /// The standardized value the coefficient multiplies.
    pub standardized_value: f64,
    /// Coefficient times standardized value, in log-odds.
    pub contribution: f64,
}

/// The strongest contributions of one row in each direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonCodes {
    /// The row.
    pub key: RowKey,
    /// Log-odds of the positive class.
    pub logit: f64,
    /// P(positive class).
    pub probability: f64,
    /// The model intercept (the logit of a row at every training mean).
    pub intercept: f64,
    /// Largest positive contributions first.
    pub raising: Vec<Contribution>,
    /// Most negative contributions first.
    pub lowering: Vec<Contribution>,
}

impl ModelArtifact {
    /// Computes the contribution of every model column for every row (rows x model
    /// columns, in [`crate::Preprocessor::columns`] order).
    ///
    /// Fails on a feature mismatch or an infinite value.
    pub fn contributions(&self, x: &FeatureMatrix) -> Result<Array2<f64>> {
        let mut z = self.preprocessing.transform(x)?;
        for (mut column, &coef) in z.columns_mut().into_iter().zip(&self.coefficients) {
            column *= coef;
        }
        Ok(z)
    }

    /// Finds the top `k` raising and lowering contributions of every row.
    ///
    /// Fails on a feature mismatch or an infinite value.
    pub fn reason_codes(&self, x: &FeatureMatrix, k: usize) -> Result<Vec<ReasonCodes>> {
        let standardized = self.preprocessing.transform(x)?;
        let positions = self.preprocessing.align(x.names())?;
        let columns = &self.preprocessing.columns;
        let raw_columns: Vec<usize> = columns
            .iter()
            .map(|c| positions[self.preprocessing.input_index(&c.feature)])
            .collect();

        let codes = standardized
            .rows()
            .into_iter()
            .enumerate()
            .map(|(i, z_row)| {
                let values: Vec<f64> = self
                    .coefficients
                    .iter()
                    .zip(z_row.iter())
                    .take(columns.len())
                    .map(|(&coef, &z)| coef * z)
                    .collect();
                let logit = self.intercept + values.iter().sum::<f64>();
                // Only the kept contributions are built: a row has one per
                // model column, and most of them are dropped.
                let contribution = |j: usize| {
                    let raw = x.values()[[i, raw_columns[j]]];
                    Contribution {
                        feature: columns[j].feature.clone(),
                        term: columns[j].term,
                        raw_value: (!raw.is_nan()).then_some(raw),
                        standardized_value: z_row[j],
                        contribution: values[j],
                    }
                };
                let (raising, lowering) = top_k(&values, k);
                ReasonCodes {
                    key: x.keys()[i].clone(),
                    logit,
                    probability: sigmoid(logit),
                    intercept: self.intercept,
                    raising: raising.into_iter().map(contribution).collect(),
                    lowering: lowering.into_iter().map(contribution).collect(),
                }
            })
            .collect();
        Ok(codes)
    }
}

/// Returns the positions of the `k` largest positive and the `k` most
/// negative of `contributions`, ties in their order. Zero contributions are
/// in neither list.
fn top_k(contributions: &[f64], k: usize) -> (Vec<usize>, Vec<usize>) {
    let (mut raising, mut lowering): (Vec<usize>, Vec<usize>) = (0..contributions.len())
        .filter(|&j| contributions[j] != 0.0)
        .partition(|&j| contributions[j] > 0.0);
    raising.sort_by(|&a, &b| contributions[b].total_cmp(&contributions[a]));
    lowering.sort_by(|&a, &b| contributions[a].total_cmp(&contributions[b]));
    raising.truncate(k);
    lowering.truncate(k);
    (raising, lowering)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{hand_artifact, hand_rows};

    // Row 1: usage 0.25 -> z = (0.25 - 0.5) / 0.25 = -1, contribution -2 * -1 = 2;
    // tickets missing -> imputed 2, z = 0, contribution 0; indicator 1 ->
    // z = (1 - 0.25) / 0.5 = 1.5, contribution 1.5. Logit -1 + 2 + 1.5 = 2.5.
    // Row 2: usage 0.9 -> z = 1.6, contribution -3.2; tickets 5 -> z = 3,
    // contribution 1.5; indicator 0 -> z = -0.5, contribution -0.5.
    // Logit -1 - 3.2 + 1.5 - 0.5 = -3.2.

    #[test]
    fn contributions_are_coefficient_times_standardized_value() {
        let c = hand_artifact()
            .contributions(&hand_rows(&["usage", "tickets"]))
            .unwrap();
        let expected = [[2.0, 0.0, 1.5], [-3.2, 1.5, -0.5]];
        for (i, row) in expected.iter().enumerate() {
            for (j, want) in row.iter().enumerate() {
                assert!(
                    (c[[i, j]] - want).abs() < 1e-12,
                    "[{i}, {j}] = {}",
                    c[[i, j]]
                );
            }
        }
    }

    #[test]
    fn reason_codes_order_raising_contributions() {
        let codes = hand_artifact()
            .reason_codes(&hand_rows(&["usage", "tickets"]), 3)
            .unwrap();
        let first = &codes[0];
        assert!((first.logit - 2.5).abs() < 1e-12);
        assert!((first.probability - 0.9241418199787566).abs() < 1e-12);
        assert_eq!(first.raising.len(), 2);
        assert!(first.lowering.is_empty());

        let usage = &first.raising[0];
        assert_eq!(usage.feature, "usage");
        assert_eq!(usage.term, Term::Value);
        assert_eq!(usage.raw_value, Some(0.25));
        assert!((usage.standardized_value + 1.0).abs() < 1e-12);
        assert!((usage.contribution - 2.0).abs() < 1e-12);

        let missing = &first.raising[1];
        assert_eq!(missing.feature, "tickets");
        assert_eq!(missing.term, Term::Missing);
        assert_eq!(missing.raw_value, None);
        assert!((missing.contribution - 1.5).abs() < 1e-12);
    }

    #[test]
    fn reason_codes_keep_top_k_lowering() {
        let codes = hand_artifact()
            .reason_codes(&hand_rows(&["usage", "tickets"]), 1)
            .unwrap();
        let second = &codes[1];
        assert!((second.logit + 3.2).abs() < 1e-12);
        assert_eq!(second.lowering.len(), 1);
        assert_eq!(second.lowering[0].feature, "usage");
        assert_eq!(second.lowering[0].raw_value, Some(0.9));
        assert!((second.lowering[0].contribution + 3.2).abs() < 1e-12);
        assert_eq!(second.raising.len(), 1);
        assert_eq!(second.raising[0].raw_value, Some(5.0));
    }

    #[test]
    fn contributions_and_intercept_add_up_to_logit() {
        let model = hand_artifact();
        let x = hand_rows(&["tickets", "usage"]);
        let c = model.contributions(&x).unwrap();
        let logits = model
            .scorer(x.names())
            .unwrap()
            .logits(x.values(), x.keys())
            .unwrap();
        for i in 0..2 {
            let total = model.intercept + c.row(i).sum();
            assert!((total - logits[i]).abs() < 1e-12);
        }
    }
}
