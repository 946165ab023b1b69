//! Numeric feature matrices with row keys, and labelled data sets built on them.
//!
//! A missing feature value is NaN. Fitting imputes it (see [`crate::preprocess`]);
//! an infinite value is an error that names the feature, account and date.

use std::collections::HashSet;

use chrono::NaiveDate;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ModelError, Result};
use crate::kind::ModelKind;

/// The identity of a row: the account, the observation date the features
/// are computed as of, and the account's customer segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RowKey {
    /// The account id.
    pub account_id: String,
    /// The observation date (features use data on or before it).
    pub observed: NaiveDate,
    /// The customer segment (enterprise, mid-market, smb), when known.
    pub segment: Option<String>,
}

impl RowKey {
    /// Builds a key.
    pub fn new(
        account_id: impl Into<String>,
        observed: NaiveDate,
        segment: Option<&str>,
    ) -> RowKey {
        RowKey {
            account_id: account_id.into(),
            observed,
            segment: segment.map(str::to_owned),
        }
    }
}

/// A feature matrix (rows x named columns) with one key per row. NaN marks a
/// missing value.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    values: Array2<f64>,
    names: Vec<String>,
    keys: Vec<RowKey>,
}

impl FeatureMatrix {
    /// Builds a matrix from values, column names and row keys.
    ///
    /// Fails when the number of names differs from the number of columns, the
    /// number of keys from the number of rows, or a name repeats.
    pub fn new(
        values: Array2<f64>,
        names: Vec<String>,
        keys: Vec<RowKey>,
    ) -> Result<FeatureMatrix> {
        check_len(
            "feature names vs matrix columns",
            values.ncols(),
            names.len(),
        )?;
        check_len("row keys vs matrix rows", values.nrows(), keys.len())?;
        check_unique(&names)?;
        Ok(FeatureMatrix {
            values,
            names,
            keys,
        })
    }

    /// Returns the values, one row per key, one column per name.
    pub fn values(&self) -> ArrayView2<'_, f64> {
        self.values.view()
    }

    /// Returns the column names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Returns the row keys in order.
    pub fn keys(&self) -> &[RowKey] {
        &self.keys
    }

    /// Returns the number of rows.
    pub fn n_rows(&self) -> usize {
        self.values.nrows()
    }

    /// Returns the number of columns.
    pub fn n_features(&self) -> usize {
        self.values.ncols()
    }

    /// Returns the position of a column, if the matrix has it.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Returns a column by name, if the matrix has it.
    pub fn column(&self, name: &str) -> Option<ArrayView1<'_, f64>> {
        self.column_index(name).map(|j| self.values.column(j))
    }

    /// The rows at the given positions, in that order.
    pub fn select_rows(&self, rows: &[usize]) -> FeatureMatrix {
        FeatureMatrix {
            values: self.values.select(Axis(0), rows),
            names: self.names.clone(),
            keys: rows.iter().map(|&i| self.keys[i].clone()).collect(),
        }
    }

    /// Takes the parts back out.
    pub fn into_parts(self) -> (Array2<f64>, Vec<String>, Vec<RowKey>) {
        (self.values, self.names, self.keys)
    }
}

/// A feature matrix with one boolean label per row for one model kind: `true`
/// is the positive class ([`ModelKind::positive_class`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    kind: ModelKind,
    features: FeatureMatrix,
    labels: Array1<bool>,
}

impl Dataset {
    /// Builds a labelled data set.
    ///
    /// Fails when the number of labels differs from the number of rows.
    pub fn new(kind: ModelKind, features: FeatureMatrix, labels: Array1<bool>) -> Result<Dataset> {
        check_len("labels vs matrix rows", features.n_rows(), labels.len())?;
        Ok(Dataset {
            kind,
            features,
            labels,
        })
    }

    /// The model kind the labels belong to.
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// The features and row keys.
    pub fn features(&self) -> &FeatureMatrix {
        &self.features
    }

    /// The labels, `true` for the positive class.
    pub fn labels(&self) -> ArrayView1<'_, bool> {
        self.labels.view()
    }

    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        self.labels.len()
    }

    /// The number of positive rows.
    pub fn n_positive(&self) -> usize {
        self.labels.iter().filter(|&&y| y).count()
    }

    /// The share of positive rows (0 for an empty set).
    pub fn base_rate(&self) -> f64 {
        if self.n_rows() == 0 {
            return 0.0;
        }
        self.n_positive() as f64 / self.n_rows() as f64
    }

    /// The distinct observation dates, ascending.
    pub fn observation_dates(&self) -> Vec<NaiveDate> {
        let mut dates: Vec<NaiveDate> = self.features.keys.iter().map(|k| k.observed).collect();
        dates.sort_unstable();
        dates.dedup();
        dates
    }

    /// The first and last observation dates, or `None` for an empty set.
    pub fn window(&self) -> Option<(NaiveDate, NaiveDate)> {
        let dates = self.observation_dates();
        Some((*dates.first()?, *dates.last()?))
    }

    /// The rows at the given positions, in that order.
    pub fn select_rows(&self, rows: &[usize]) -> Dataset {
        Dataset {
            kind: self.kind,
            features: self.features.select_rows(rows),
            labels: rows.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// Positions of an even sample of at most `max_rows` rows that keeps
    /// each class's share: every k-th positive and every k-th negative row,
    /// in row order, with the smallest k that fits. Returns `None` when every
    /// row fits or `max_rows` is 0 (no limit).
    pub fn class_sample(&self, max_rows: usize) -> Option<Vec<usize>> {
        let n = self.n_rows();
        if max_rows == 0 || n <= max_rows {
            return None;
        }
        let positives = self.n_positive();
        let negatives = n - positives;
        let mut step = n.div_ceil(max_rows);
        while positives.div_ceil(step) + negatives.div_ceil(step) > max_rows {
            step += 1;
        }
        let (mut seen_positive, mut seen_negative) = (0, 0);
        let mut rows = Vec::with_capacity(max_rows);
        for (i, &label) in self.labels.iter().enumerate() {
            let seen = if label {
                &mut seen_positive
            } else {
                &mut seen_negative
            };
            if *seen % step == 0 {
                rows.push(i);
            }
            *seen += 1;
        }
        Some(rows)
    }

    /// The SHA-256 of the data, as `sha256:<hex>`.
    ///
    /// The hash reads, in this order:
    /// 1. the tag `headroom-dataset-v1` and a zero byte,
    /// 2. the row and column counts as little-endian u64,
    /// 3. each feature name as its UTF-8 length (u64 LE) and bytes,
    /// 4. every value in row-major order as the little-endian bits of its f64,
    ///    with every NaN written as the one canonical NaN,
    /// 5. every label as one byte (1 positive, 0 negative).
    ///
    /// Row keys are not hashed.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"headroom-dataset-v1\0");
        hasher.update((self.n_rows() as u64).to_le_bytes());
        hasher.update((self.features.n_features() as u64).to_le_bytes());

        for name in &self.features.names {
            hasher.update((name.len() as u64).to_le_bytes());
            hasher.update(name.as_bytes());
        }

        let mut row_bytes = Vec::with_capacity(8 * self.features.n_features());
        for row in self.features.values.rows() {
            row_bytes.clear();
            for &v in row {
                let v = if v.is_nan() { f64::NAN } else { v };
                row_bytes.extend_from_slice(&v.to_bits().to_le_bytes());
            }
            hasher.update(&row_bytes);
        }

        let labels: Vec<u8> = self.labels.iter().map(|&y| u8::from(y)).collect();
        hasher.update(&labels);

        format!("sha256:{:x}", hasher.finalize())
    }
}

fn check_len(what: &'static str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        return Ok(());
    }
    Err(ModelError::ShapeMismatch {
        what,
        expected,
        found,
        hint: "build the matrix, names, keys and labels from the same rows and columns",
    })
}

fn check_unique(names: &[String]) -> Result<()> {
    let mut seen = HashSet::with_capacity(names.len());
    for name in names {
        if !seen.insert(name.as_str()) {
            return Err(ModelError::DuplicateFeature { name: name.clone() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::testutil::{date, keys, names};

    fn small() -> Dataset {
        let x = FeatureMatrix::new(
            array![[1.0, f64::NAN], [2.5, -0.0]],
            names(&["a", "b"]),
            keys(2),
        )
        .unwrap();
        Dataset::new(ModelKind::Churn, x, array![true, false]).unwrap()
    }

    #[test]
    fn fingerprint_matches_documented_layout() {
        // Python hashlib.sha256 over the documented bytes: the tag and a zero
        // byte, u64 LE 2 and 2, u64 LE 1 + "a", u64 LE 1 + "b", f64 LE of
        // 1.0, NaN bits 0x7ff8000000000000, 2.5, -0.0, then bytes 1, 0.
        assert_eq!(
            small().fingerprint(),
            "sha256:34f4839e05d3e6189b4038260fff09ba02fd50fb01c0c59779f4cf13e61d193f"
        );
    }

    #[test]
    fn fingerprint_changes_when_a_label_flips() {
        let a = small();
        let flipped =
            Dataset::new(ModelKind::Churn, a.features().clone(), array![true, true]).unwrap();
        assert_ne!(a.fingerprint(), flipped.fingerprint());
    }

    #[test]
    fn fingerprint_ignores_nan_payload() {
        let a = small();
        let other_nan = f64::from_bits(0x7ff8_0000_0000_0001);
        let x = FeatureMatrix::new(
            array![[1.0, other_nan], [2.5, -0.0]],
            names(&["a", "b"]),
            keys(2),
        )
        .unwrap();
        let b = Dataset::new(ModelKind::Churn, x, array![true, false]).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn duplicate_feature_name_is_rejected() {
        let err = FeatureMatrix::new(array![[1.0, 2.0]], names(&["a", "a"]), keys(1)).unwrap_err();
        assert!(matches!(err, ModelError::DuplicateFeature { ref name } if name == "a"));
    }

    #[test]
    fn name_count_must_match_columns() {
        let err = FeatureMatrix::new(array![[1.0, 2.0]], names(&["a"]), keys(1)).unwrap_err();
        assert!(matches!(
            err,
            ModelError::ShapeMismatch {
                expected: 2,
                found: 1,
                ..
            }
        ));
    }

    #[test]
    fn label_count_must_match_rows() {
        let x = FeatureMatrix::new(array![[1.0], [2.0]], names(&["a"]), keys(2)).unwrap();
        let err = Dataset::new(ModelKind::Churn, x, array![true]).unwrap_err();
        assert!(matches!(
            err,
            ModelError::ShapeMismatch {
                expected: 2,
                found: 1,
                ..
            }
        ));
    }

    #[test]
    fn window_spans_first_and_last_observation() {
        let row_keys = vec![
            RowKey::new("a", date(2024, 3, 31), None),
            RowKey::new("b", date(2023, 12, 31), None),
            RowKey::new("a", date(2024, 1, 31), None),
        ];
        let x = FeatureMatrix::new(array![[1.0], [2.0], [3.0]], names(&["u"]), row_keys).unwrap();
        let data = Dataset::new(ModelKind::Expansion, x, array![true, false, false]).unwrap();
        assert_eq!(data.window(), Some((date(2023, 12, 31), date(2024, 3, 31))));
        assert_eq!(data.observation_dates().len(), 3);
    }

    #[test]
    fn select_rows_keeps_keys_and_labels_together() {
        let data = small().select_rows(&[1]);
        assert_eq!(data.features().keys()[0].account_id, "a1");
        assert!(!data.labels()[0]);
        assert_eq!(data.features().values()[[0, 0]], 2.5);
    }

    fn labelled(labels: &[bool]) -> Dataset {
        let n = labels.len();
        let values = Array2::from_shape_fn((n, 1), |(i, _)| i as f64);
        let x = FeatureMatrix::new(values, names(&["a"]), keys(n)).unwrap();
        Dataset::new(ModelKind::Churn, x, Array1::from(labels.to_vec())).unwrap()
    }

    #[test]
    fn class_sample_keeps_every_kth_row() {
        // 3 positives (rows 0, 3, 7) and 7 negatives, at most 5 rows. Every
        // 2nd row of each class would keep 2 + 4 = 6, so every 3rd: positive
        // row 0 and negative rows 1, 5 and 9 (the 1st, 4th and 7th negatives).
        let (t, f) = (true, false);
        let data = labelled(&[t, f, f, t, f, f, f, t, f, f]);
        assert_eq!(data.class_sample(5), Some(vec![0, 1, 5, 9]));
    }

    #[test]
    fn class_sample_keeps_the_base_rate() {
        // 100 rows, every 4th positive (25). At most 50 rows: every 2nd row
        // of each class, 13 positives and 38 negatives, would be 51, so
        // every 3rd: 9 positives and 25 negatives.
        let labels: Vec<bool> = (0..100).map(|i| i % 4 == 0).collect();
        let data = labelled(&labels);
        let rows = data.class_sample(50).unwrap();
        let positives = rows.iter().filter(|&&i| labels[i]).count();
        assert_eq!((positives, rows.len() - positives), (9, 25));
    }

    #[test]
    fn class_sample_none_when_all_fit() {
        let data = labelled(&[true, false, false]);
        assert_eq!(data.class_sample(0), None);
        assert_eq!(data.class_sample(3), None);
        assert_eq!(data.class_sample(2), Some(vec![0, 1]));
    }
}
