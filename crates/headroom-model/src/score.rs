//! Vectorized scoring of a feature matrix with a model artifact.
//!
//! Imputation, standardization and the coefficients fold into one weight
//! per input column and one offset: for a value column
//! `coef * (x - mean) / std = (coef / std) * x - coef * mean / std`. A row
//! without missing values is then one dot product. Rows whose result is not
//! finite (a NaN or an infinity somewhere) take a slower path that imputes
//! the missing values, adds the missingness indicators and rejects
//! infinities with the feature, account and date.

use ndarray::{Array1, ArrayView1, ArrayView2};

use crate::artifact::ModelArtifact;
use crate::dataset::{FeatureMatrix, RowKey};
use crate::error::{ModelError, Result};
use crate::logistic::sigmoid;
use crate::preprocess::{Term, non_finite};

/// A model compiled for one column order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorer {
    names: Vec<String>,
    weights: Array1<f64>,
    fills: Vec<f64>,
    indicator_weights: Vec<f64>,
    offset: f64,
}

impl ModelArtifact {
    /// Compiles the model for data whose columns are `names`, in that order.
    ///
    /// Fails with [`ModelError::FeatureMismatch`] unless `names` contains
    /// exactly the model's input features.
    pub fn scorer(&self, names: &[String]) -> Result<Scorer> {
        let p = &self.preprocessing;
        let positions = p.align(names)?;
        let mut weights = Array1::<f64>::zeros(names.len());
        let mut fills = vec![0.0; names.len()];
        let mut indicator_weights = vec![0.0; names.len()];
        let mut offset = self.intercept;

        for (input, &c) in positions.iter().enumerate() {
            fills[c] = p.imputation[input].median.unwrap_or(0.0);
        }
        for (column, &coef) in p.columns.iter().zip(&self.coefficients) {
            let c = positions[p.input_index(&column.feature)];
            let slope = coef / column.std;
            offset -= slope * column.mean;
            match column.term {
                Term::Value => weights[c] = slope,
                Term::Missing => indicator_weights[c] = slope,
            }
        }

        Ok(Scorer {
            names: names.to_vec(),
            weights,
            fills,
            indicator_weights,
            offset,
        })
    }

    /// P(positive class) for every row of `x`, matching columns by name.
    ///
    /// Fails on a feature mismatch or an infinite value.
    pub fn predict_proba(&self, x: &FeatureMatrix) -> Result<Array1<f64>> {
        self.scorer(x.names())?.predict_proba(x.values(), x.keys())
    }
}

impl Scorer {
    /// Returns the column names this scorer expects, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Computes the log-odds of the positive class for every row.
    ///
    /// `keys` name the rows in errors. Fails when the shapes differ from the
    /// names and keys, or on an infinite value.
    pub fn logits(&self, values: ArrayView2<'_, f64>, keys: &[RowKey]) -> Result<Array1<f64>> {
        self.check_shape(values, keys)?;

        let mut z = values.dot(&self.weights);
        for (i, zi) in z.iter_mut().enumerate() {
            if zi.is_finite() {
                *zi += self.offset;
            } else {
                *zi = self.slow_logit(values.row(i), &keys[i], i)?;
            }
        }
        Ok(z)
    }

    /// P(positive class) for every row; fails like [`Scorer::logits`].
    pub fn predict_proba(
        &self,
        values: ArrayView2<'_, f64>,
        keys: &[RowKey],
    ) -> Result<Array1<f64>> {
        let mut z = self.logits(values, keys)?;
        z.mapv_inplace(sigmoid);
        Ok(z)
    }

    /// Computes the logit of a row that contains a NaN or an infinity.
    fn slow_logit(&self, row: ArrayView1<'_, f64>, key: &RowKey, i: usize) -> Result<f64> {
        let mut z = self.offset;
        for (c, &v) in row.iter().enumerate() {
            if v.is_infinite() {
                return Err(non_finite(&self.names[c], key, i, v));
            }
            z += if v.is_nan() {
                self.weights[c] * self.fills[c] + self.indicator_weights[c]
            } else {
                self.weights[c] * v
            };
        }
        Ok(z)
    }

    fn check_shape(&self, values: ArrayView2<'_, f64>, keys: &[RowKey]) -> Result<()> {
        let mismatch = |what, expected, found| ModelError::ShapeMismatch {
            what,
            expected,
            found,
            hint: "pass the matrix with the column names and row keys it was built with",
        };
        if values.ncols() != self.names.len() {
            return Err(mismatch(
                "matrix columns vs scorer names",
                self.names.len(),
                values.ncols(),
            ));
        }
        if values.nrows() != keys.len() {
            return Err(mismatch(
                "row keys vs matrix rows",
                values.nrows(),
                keys.len(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::testutil::{churn_panel, hand_artifact, hand_rows, keys, names};
    use crate::{ParamGuard, ThresholdRule, TrainParams};

    #[test]
    fn hand_model_probabilities() {
        // Logits 2.5 and -3.2 (worked out in the reason-code tests).
        let p = hand_artifact()
            .predict_proba(&hand_rows(&["usage", "tickets"]))
            .unwrap();
        assert!((p[0] - 0.9241418199787566).abs() < 1e-12);
        assert!((p[1] - 0.039165722796764356).abs() < 1e-12);
    }

    #[test]
    fn column_order_does_not_change_scores() {
        let model = hand_artifact();
        let a = model
            .predict_proba(&hand_rows(&["usage", "tickets"]))
            .unwrap();
        let b = model
            .predict_proba(&hand_rows(&["tickets", "usage"]))
            .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn scorer_matches_standardized_fit() {
        let data = churn_panel(40, 6, 9);
        let model = TrainParams::default()
            .l2_penalty(1e-3)
            .threshold(ThresholdRule::Fixed(0.5))
            .check()
            .unwrap()
            .train(&data)
            .unwrap();
        let z = model.preprocessing.transform(data.features()).unwrap();
        let coefficients = ndarray::Array1::from(model.coefficients.clone());
        let expected = (z.dot(&coefficients) + model.intercept).mapv(sigmoid);
        let got = model.predict_proba(data.features()).unwrap();
        for (a, b) in got.iter().zip(expected.iter()) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn missing_value_in_dropped_feature_is_ignored() {
        let mut model = hand_artifact();
        model.preprocessing.features.push("plan".to_owned());
        model
            .preprocessing
            .imputation
            .push(crate::preprocess::Imputation {
                feature: "plan".to_owned(),
                missing_share: 0.0,
                median: Some(1.0),
                indicator: false,
            });
        let x = FeatureMatrix::new(
            array![[0.25, f64::NAN, f64::NAN]],
            names(&["usage", "tickets", "plan"]),
            keys(1),
        )
        .unwrap();
        let p = model.predict_proba(&x).unwrap();
        assert!((p[0] - 0.9241418199787566).abs() < 1e-12);
    }

    #[test]
    fn infinity_names_feature_and_account() {
        let x = FeatureMatrix::new(
            array![[0.5, 1.0], [f64::INFINITY, 1.0]],
            names(&["usage", "tickets"]),
            keys(2),
        )
        .unwrap();
        let err = hand_artifact().predict_proba(&x).unwrap_err();
        match err {
            ModelError::NonFiniteValue {
                feature,
                account_id,
                row,
                ..
            } => {
                assert_eq!(feature, "usage");
                assert_eq!(account_id, "a1");
                assert_eq!(row, 2);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn extra_and_missing_features_are_rejected() {
        let x = FeatureMatrix::new(array![[0.5, 1.0]], names(&["usage", "nps"]), keys(1)).unwrap();
        let err = hand_artifact().predict_proba(&x).unwrap_err();
        match err {
            ModelError::FeatureMismatch { missing, extra } => {
                assert_eq!(missing, names(&["tickets"]));
                assert_eq!(extra, names(&["nps"]));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn key_count_must_match_rows() {
        let model = hand_artifact();
        let scorer = model.scorer(&names(&["usage", "tickets"])).unwrap();
        let err = scorer
            .predict_proba(array![[0.5, 1.0]].view(), &keys(2))
            .unwrap_err();
        assert!(matches!(
            err,
            ModelError::ShapeMismatch {
                expected: 1,
                found: 2,
                ..
            }
        ));
    }
}
