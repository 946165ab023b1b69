//! Imputation, missingness indicators, constant-column removal and
//! standardization, fitted on training rows and stored with the model.
//!
//! The rules, applied per input feature on the training rows:
//! - NaN is a missing value; an infinite value is an error naming the row.
//! - A feature missing in every training row is dropped.
//! - Missing values are replaced by the median of the feature's present
//!   training values (the mean of the two middle values for an even count).
//! - When at least `indicator_min_share` of the training rows miss the
//!   feature, a 0/1 column `<feature>:missing` is added after it, so the model
//!   can learn that absence itself carries information.
//! - A column that is constant after imputation is dropped, with a note.
//! - Every remaining column is standardized with the training mean and the
//!   population standard deviation (divisor n).

use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};
use tracing::{debug, info};

use crate::dataset::{FeatureMatrix, RowKey};
use crate::error::{ModelError, Result};

/// The suffix of a missingness indicator column's name.
pub const MISSING_SUFFIX: &str = ":missing";

/// The transform of an input feature that a model column contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Term {
    /// The feature's value, with missing values imputed.
    Value,
    /// 1 when the feature is missing, else 0.
    Missing,
}

/// The filling of one input feature's missing values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imputation {
    /// The input feature.
    pub feature: String,
    /// Share of training rows where the feature is missing.
    pub missing_share: f64,
    /// The median of the present training values (`None` when all are missing).
    pub median: Option<f64>,
    /// Whether a `<feature>:missing` indicator column was added.
    pub indicator: bool,
}

/// The reason an input feature's value column was left out of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum DropReason {
    /// Missing in every training row.
    AllMissing,
    /// The same value in every training row after imputation.
    Constant {
        /// The constant value.
        value: f64,
    },
}

/// A dropped value column, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedFeature {
    /// The input feature.
    pub feature: String,
    /// The reason it was dropped.
    #[serde(flatten)]
    pub reason: DropReason,
}

impl std::fmt::Display for DroppedFeature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.reason {
            DropReason::AllMissing => write!(f, "{} (missing in every training row)", self.feature),
            DropReason::Constant { value } => {
                write!(
                    f,
                    "{} (constant {} in the training rows)",
                    self.feature, value
                )
            }
        }
    }
}

/// One column of the model's design matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelColumn {
    /// The column name: the feature, or `<feature>:missing`.
    pub name: String,
    /// The input feature it comes from.
    pub feature: String,
    /// Value or missingness indicator.
    pub term: Term,
    /// Training mean after imputation.
    pub mean: f64,
    /// Training standard deviation after imputation (population, divisor n).
    pub std: f64,
}

/// The fitted preprocessing: input features in order, their imputation, the
/// dropped columns and the standardized model columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    /// The input features, in the order the model reads them.
    pub features: Vec<String>,
    /// One entry per input feature, in the same order.
    pub imputation: Vec<Imputation>,
    /// Value columns left out of the model.
    pub dropped: Vec<DroppedFeature>,
    /// The model columns, in coefficient order.
    pub columns: Vec<ModelColumn>,
}

/// Statistics of one input column over the training rows.
struct ColumnStats {
    missing: usize,
    median: Option<f64>,
    min: f64,
    max: f64,
}

impl Preprocessor {
    /// Fits the preprocessing on training rows.
    ///
    /// Fails on an infinite value (naming the feature and row) and when no
    /// column is left.
    pub fn fit(x: &FeatureMatrix, indicator_min_share: f64) -> Result<Preprocessor> {
        let n = x.n_rows();
        let all_values = x.values();
        let mut imputation = Vec::with_capacity(x.n_features());
        let mut dropped = Vec::new();
        let mut columns = Vec::with_capacity(x.n_features());

        for (j, feature) in x.names().iter().enumerate() {
            let values = all_values.column(j);
            let stats = column_stats(values, feature, x.keys())?;
            let missing_share = if n == 0 {
                0.0
            } else {
                stats.missing as f64 / n as f64
            };
            let indicator =
                stats.missing > 0 && stats.missing < n && missing_share >= indicator_min_share;

            match stats.median {
                None => dropped.push(DroppedFeature {
                    feature: feature.clone(),
                    reason: DropReason::AllMissing,
                }),
                Some(median) if stats.min == stats.max => dropped.push(DroppedFeature {
                    feature: feature.clone(),
                    reason: DropReason::Constant { value: median },
                }),
                Some(median) => {
                    columns.push(value_column(values, feature, median));
                }
            }
            if indicator {
                columns.push(indicator_column(values, feature));
            }

            imputation.push(Imputation {
                feature: feature.clone(),
                missing_share,
                median: stats.median,
                indicator,
            });
        }

        log_dropped(&dropped);
        if columns.is_empty() {
            return Err(ModelError::NoUsableFeatures {
                count: x.n_features(),
                dropped: dropped
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(Preprocessor {
            features: x.names().to_vec(),
            imputation,
            dropped,
            columns,
        })
    }

    /// Returns the model column names, in coefficient order.
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// Finds the position of each of the model's input features in `names`.
    ///
    /// Fails with [`ModelError::FeatureMismatch`] when `names` lacks a model
    /// feature or has one the model does not know.
    pub fn align(&self, names: &[String]) -> Result<Vec<usize>> {
        let missing: Vec<String> = self
            .features
            .iter()
            .filter(|f| !names.contains(f))
            .cloned()
            .collect();
        let extra: Vec<String> = names
            .iter()
            .filter(|n| !self.features.contains(n))
            .cloned()
            .collect();
        if !missing.is_empty() || !extra.is_empty() {
            return Err(ModelError::FeatureMismatch { missing, extra });
        }

        let positions = self
            .features
            .iter()
            .map(|f| names.iter().position(|n| n == f).expect("checked above"))
            .collect();
        Ok(positions)
    }

    /// Imputes and standardizes a matrix into the model's columns.
    ///
    /// Columns are matched by name. Fails on a feature mismatch, on an
    /// infinite input value, and on a value whose standardized form overflows.
    pub fn transform(&self, x: &FeatureMatrix) -> Result<Array2<f64>> {
        let positions = self.align(x.names())?;
        let values = x.values();
        check_no_infinity(values, x.names(), x.keys())?;

        let mut out = Array2::<f64>::zeros((x.n_rows(), self.columns.len()));
        for (k, column) in self.columns.iter().enumerate() {
            let input = self.input_index(&column.feature);
            let raw = values.column(positions[input]);
            let fill = self.imputation[input].median.unwrap_or(0.0);
            let mut target = out.column_mut(k);
            for (i, &v) in raw.iter().enumerate() {
                let filled = match column.term {
                    Term::Value if v.is_nan() => fill,
                    Term::Value => v,
                    Term::Missing => f64::from(u8::from(v.is_nan())),
                };
                let z = (filled - column.mean) / column.std;
                if !z.is_finite() {
                    return Err(non_finite(&column.feature, &x.keys()[i], i, v));
                }
                target[i] = z;
            }
        }
        Ok(out)
    }

    /// Returns the position of an input feature in [`Preprocessor::features`].
    pub(crate) fn input_index(&self, feature: &str) -> usize {
        self.features
            .iter()
            .position(|f| f == feature)
            .expect("model columns come from input features")
    }
}

/// Counts missing values and finds the median, minimum and maximum of the
/// present values of one column; fails on an infinity.
fn column_stats(
    values: ArrayView1<'_, f64>,
    feature: &str,
    keys: &[RowKey],
) -> Result<ColumnStats> {
    let mut present = Vec::with_capacity(values.len());
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, &v) in values.iter().enumerate() {
        if v.is_infinite() {
            return Err(non_finite(feature, &keys[i], i, v));
        }
        if !v.is_nan() {
            present.push(v);
            min = min.min(v);
            max = max.max(v);
        }
    }

    let missing = values.len() - present.len();
    if present.is_empty() {
        return Ok(ColumnStats {
            missing,
            median: None,
            min: f64::NAN,
            max: f64::NAN,
        });
    }
    Ok(ColumnStats {
        missing,
        median: Some(median(&mut present)),
        min,
        max,
    })
}

/// Returns the median of non-empty values, found by selection rather than a
/// full sort. Reorders `values`.
fn median(values: &mut [f64]) -> f64 {
    let odd = values.len() % 2 == 1;
    let mid = values.len() / 2;
    let (below, &mut upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    if odd {
        upper
    } else {
        // The lower middle value is the largest of the values below `mid`.
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

fn value_column(values: ArrayView1<'_, f64>, feature: &str, median: f64) -> ModelColumn {
    let (mean, std) = mean_std(values.iter().map(|&v| if v.is_nan() { median } else { v }));
    ModelColumn {
        name: feature.to_owned(),
        feature: feature.to_owned(),
        term: Term::Value,
        mean,
        std,
    }
}

fn indicator_column(values: ArrayView1<'_, f64>, feature: &str) -> ModelColumn {
    let (mean, std) = mean_std(values.iter().map(|&v| f64::from(u8::from(v.is_nan()))));
    ModelColumn {
        name: format!("{feature}{MISSING_SUFFIX}"),
        feature: feature.to_owned(),
        term: Term::Missing,
        mean,
        std,
    }
}

/// Mean and population standard deviation, in two passes for accuracy.
fn mean_std(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (sum, count) = values
        .clone()
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    let mean = sum / count as f64;
    let squares: f64 = values.map(|v| (v - mean) * (v - mean)).sum();
    (mean, (squares / count as f64).sqrt())
}

fn check_no_infinity(values: ArrayView2<'_, f64>, names: &[String], keys: &[RowKey]) -> Result<()> {
    for (i, row) in values.rows().into_iter().enumerate() {
        if let Some(j) = row.iter().position(|v| v.is_infinite()) {
            return Err(non_finite(&names[j], &keys[i], i, row[j]));
        }
    }
    Ok(())
}

/// Builds the error for a non-finite value at 0-based row `i`.
pub(crate) fn non_finite(feature: &str, key: &RowKey, i: usize, value: f64) -> ModelError {
    ModelError::NonFiniteValue {
        feature: feature.to_owned(),
        account_id: key.account_id.clone(),
        observed: key.observed,
        row: i + 1,
        value,
    }
}

fn log_dropped(dropped: &[DroppedFeature]) {
    for d in dropped {
        info!(feature = %d.feature, "dropped feature: {d}");
    }
    debug!(count = dropped.len(), "features dropped before fitting");
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::testutil::{date, keys, names};

    fn matrix(values: ndarray::Array2<f64>, list: &[&str]) -> FeatureMatrix {
        let n = values.nrows();
        FeatureMatrix::new(values, names(list), keys(n)).unwrap()
    }

    #[test]
    fn median_of_odd_count_is_middle_value() {
        assert_eq!(median(&mut [9.0, 1.0, 4.0]), 4.0);
    }

    #[test]
    fn median_of_even_count_is_mean_of_middles() {
        assert_eq!(median(&mut [9.0, 6.0, 1.0, 4.0]), 5.0);
        assert_eq!(median(&mut [2.0, 8.0, 3.0, 3.0, 7.0, 1.0]), 3.0);
    }

    #[test]
    fn missing_values_take_training_median() {
        // Present values 1, 3, 8 -> median 3; the NaN row becomes 3.
        let x = matrix(array![[1.0], [f64::NAN], [3.0], [8.0]], &["usage"]);
        let p = Preprocessor::fit(&x, 0.5).unwrap();
        assert_eq!(p.imputation[0].median, Some(3.0));
        assert_eq!(p.imputation[0].missing_share, 0.25);
    }

    #[test]
    fn standardization_uses_training_mean_and_population_std() {
        // Imputed column 1, 3, 3, 8: mean 15/4 = 3.75; squared deviations
        // 7.5625 + 0.5625 + 0.5625 + 18.0625 = 26.75; std = sqrt(26.75/4).
        let x = matrix(array![[1.0], [f64::NAN], [3.0], [8.0]], &["usage"]);
        let p = Preprocessor::fit(&x, 0.5).unwrap();
        let column = &p.columns[0];
        assert!((column.mean - 3.75).abs() < 1e-12);
        assert!((column.std - (26.75f64 / 4.0).sqrt()).abs() < 1e-12);

        let z = p.transform(&x).unwrap();
        assert!((z[[1, 0]] - (3.0 - 3.75) / column.std).abs() < 1e-12);
    }

    #[test]
    fn indicator_added_when_share_reaches_minimum() {
        // 1 of 4 rows missing = 25% >= 5%.
        let x = matrix(array![[1.0], [f64::NAN], [3.0], [8.0]], &["usage"]);
        let p = Preprocessor::fit(&x, 0.05).unwrap();
        assert_eq!(p.column_names(), names(&["usage", "usage:missing"]));
        assert!(p.imputation[0].indicator);

        let z = p.transform(&x).unwrap();
        // Indicator 0, 1, 0, 0: mean 0.25, std sqrt(0.1875).
        let std = 0.1875f64.sqrt();
        assert!((z[[1, 1]] - 0.75 / std).abs() < 1e-12);
        assert!((z[[0, 1]] + 0.25 / std).abs() < 1e-12);
    }

    #[test]
    fn indicator_skipped_below_minimum_share() {
        // 1 of 4 rows missing = 25% < 30%.
        let x = matrix(array![[1.0], [f64::NAN], [3.0], [8.0]], &["usage"]);
        let p = Preprocessor::fit(&x, 0.30).unwrap();
        assert_eq!(p.column_names(), names(&["usage"]));
    }

    #[test]
    fn constant_column_is_dropped_with_note() {
        let x = matrix(
            array![[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]],
            &["usage", "plan"],
        );
        let p = Preprocessor::fit(&x, 0.05).unwrap();
        assert_eq!(p.column_names(), names(&["usage"]));
        assert_eq!(
            p.dropped,
            vec![DroppedFeature {
                feature: "plan".to_owned(),
                reason: DropReason::Constant { value: 5.0 },
            }]
        );
        assert_eq!(
            p.dropped[0].to_string(),
            "plan (constant 5 in the training rows)"
        );
    }

    #[test]
    fn constant_value_with_missing_rows_keeps_indicator() {
        // Present values are all 1; whether the value is missing still varies.
        let x = matrix(
            array![[1.0, 0.0], [f64::NAN, 1.0], [1.0, 2.0], [f64::NAN, 3.0]],
            &["flag", "usage"],
        );
        let p = Preprocessor::fit(&x, 0.05).unwrap();
        assert_eq!(p.column_names(), names(&["flag:missing", "usage"]));
        assert_eq!(p.dropped[0].reason, DropReason::Constant { value: 1.0 });
    }

    #[test]
    fn all_missing_column_is_dropped() {
        let x = matrix(array![[1.0, f64::NAN], [2.0, f64::NAN]], &["usage", "nps"]);
        let p = Preprocessor::fit(&x, 0.05).unwrap();
        assert_eq!(p.column_names(), names(&["usage"]));
        assert_eq!(p.dropped[0].reason, DropReason::AllMissing);
        assert_eq!(p.imputation[1].median, None);
    }

    #[test]
    fn no_usable_column_is_an_error() {
        let x = matrix(array![[5.0, f64::NAN], [5.0, f64::NAN]], &["plan", "nps"]);
        let err = Preprocessor::fit(&x, 0.05).unwrap_err();
        assert!(matches!(err, ModelError::NoUsableFeatures { count: 2, .. }));
        assert!(err.to_string().contains("plan (constant 5"));
    }

    #[test]
    fn infinity_in_training_rows_names_account_and_date() {
        let values = array![[1.0], [f64::INFINITY], [3.0]];
        let row_keys = vec![
            RowKey::new("acme", date(2024, 1, 31), None),
            RowKey::new("globex", date(2024, 2, 29), Some("smb")),
            RowKey::new("initech", date(2024, 3, 31), None),
        ];
        let x = FeatureMatrix::new(values, names(&["usage"]), row_keys).unwrap();
        let err = Preprocessor::fit(&x, 0.05).unwrap_err();
        match err {
            ModelError::NonFiniteValue {
                feature,
                account_id,
                observed,
                row,
                value,
            } => {
                assert_eq!(feature, "usage");
                assert_eq!(account_id, "globex");
                assert_eq!(observed, date(2024, 2, 29));
                assert_eq!(row, 2);
                assert_eq!(value, f64::INFINITY);
            }
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn infinity_at_transform_is_rejected() {
        let train = matrix(array![[1.0], [2.0], [3.0]], &["usage"]);
        let p = Preprocessor::fit(&train, 0.05).unwrap();
        let scoring = matrix(array![[1.0], [f64::NEG_INFINITY]], &["usage"]);
        let err = p.transform(&scoring).unwrap_err();
        assert!(
            matches!(err, ModelError::NonFiniteValue { row: 2, ref account_id, .. } if account_id == "a1")
        );
    }

    #[test]
    fn overflowing_standardized_value_is_rejected() {
        // (1e308 - 0.5) / 0.5 overflows to infinity.
        let train = matrix(array![[0.0], [1.0]], &["usage"]);
        let p = Preprocessor::fit(&train, 0.05).unwrap();
        let scoring = matrix(array![[1e308]], &["usage"]);
        let err = p.transform(&scoring).unwrap_err();
        assert!(matches!(err, ModelError::NonFiniteValue { row: 1, value, .. } if value == 1e308));
    }

    #[test]
    fn transform_matches_columns_by_name() {
        let train = matrix(array![[1.0, 10.0], [2.0, 20.0], [3.0, 60.0]], &["a", "b"]);
        let p = Preprocessor::fit(&train, 0.05).unwrap();
        let reordered = matrix(array![[10.0, 1.0], [20.0, 2.0], [60.0, 3.0]], &["b", "a"]);
        assert_eq!(
            p.transform(&reordered).unwrap(),
            p.transform(&train).unwrap()
        );
    }

    #[test]
    fn align_names_missing_and_extra_features() {
        let train = matrix(array![[1.0, 10.0], [2.0, 20.0]], &["a", "b"]);
        let p = Preprocessor::fit(&train, 0.05).unwrap();
        let err = p.align(&names(&["a", "c", "d"])).unwrap_err();
        match err {
            ModelError::FeatureMismatch { missing, extra } => {
                assert_eq!(missing, names(&["b"]));
                assert_eq!(extra, names(&["c", "d"]));
            }
            other => panic!("unexpected error {other:?}"),
        }
    }
}
