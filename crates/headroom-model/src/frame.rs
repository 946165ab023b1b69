//! Conversion of polars data frames into feature matrices and labels.

use ndarray::{Array1, Array2};
use polars::prelude::{Column, DataFrame, DataType};

use crate::dataset::{FeatureMatrix, RowKey};
use crate::error::{ModelError, Result};

/// The names of the key columns in a data frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyColumns<'a> {
    /// Text column with the account id.
    pub account_id: &'a str,
    /// Date column with the observation date.
    pub observed: &'a str,
    /// Optional text column with the customer segment (nulls allowed).
    pub segment: Option<&'a str>,
}

impl FeatureMatrix {
    /// Builds a matrix from the named numeric or boolean columns of a frame,
    /// with nulls as NaN (missing), and keys from the key columns.
    ///
    /// Fails when a column is absent or of the wrong type, or a key is null.
    pub fn from_frame(
        df: &DataFrame,
        features: &[String],
        keys: &KeyColumns<'_>,
    ) -> Result<FeatureMatrix> {
        let n = df.height();
        let mut values = Array2::<f64>::from_elem((n, features.len()), f64::NAN);
        for (j, name) in features.iter().enumerate() {
            let column = numeric_column(df, name)?;
            for (i, v) in column.into_iter().enumerate() {
                if let Some(v) = v {
                    values[[i, j]] = v;
                }
            }
        }
        FeatureMatrix::new(values, features.to_vec(), row_keys(df, keys)?)
    }
}

/// Reads a boolean label column (`true` for the positive class).
///
/// Fails when the column is absent, not boolean, or contains a null.
pub fn labels_from_frame(df: &DataFrame, name: &str) -> Result<Array1<bool>> {
    let column = get(df, name)?;
    let labels = column
        .bool()
        .map_err(|e| wrong_type(name, &e.to_string(), "store the labels as a boolean column"))?;
    labels
        .iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| null_at(name, i)))
        .collect()
}

fn get<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Column> {
    df.column(name).map_err(|_| ModelError::Column {
        column: name.to_owned(),
        message: "not found in the data frame".to_owned(),
        hint: "check the column name against the feature table",
    })
}

fn numeric_column(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let column = get(df, name)?;
    let dtype = column.dtype();
    if !(dtype.is_primitive_numeric() || dtype.is_bool()) {
        return Err(wrong_type(
            name,
            &format!("has type {dtype}, not a number or boolean"),
            "encode text features as numbers (one-hot columns) before building the matrix",
        ));
    }
    let cast = column
        .cast(&DataType::Float64)
        .map_err(|e| wrong_type(name, &e.to_string(), "use a numeric column"))?;
    let floats = cast
        .f64()
        .map_err(|e| wrong_type(name, &e.to_string(), "use a numeric column"))?;
    Ok(floats.iter().collect())
}

fn row_keys(df: &DataFrame, keys: &KeyColumns<'_>) -> Result<Vec<RowKey>> {
    let text_hint = "store account ids and segments as text";
    let accounts = get(df, keys.account_id)?;
    let accounts = accounts
        .str()
        .map_err(|e| wrong_type(keys.account_id, &e.to_string(), text_hint))?;
    let observed = get(df, keys.observed)?;
    let observed = observed.date().map_err(|e| {
        wrong_type(
            keys.observed,
            &e.to_string(),
            "store observation dates as a date column",
        )
    })?;
    let segments: Vec<Option<String>> = match keys.segment {
        Some(name) => {
            let column = get(df, name)?;
            let text = column
                .str()
                .map_err(|e| wrong_type(name, &e.to_string(), text_hint))?;
            text.iter().map(|s| s.map(str::to_owned)).collect()
        }
        None => vec![None; df.height()],
    };

    accounts
        .iter()
        .zip(observed.as_date_iter())
        .zip(segments)
        .enumerate()
        .map(|(i, ((account, date), segment))| {
            Ok(RowKey {
                account_id: account
                    .ok_or_else(|| null_at(keys.account_id, i))?
                    .to_owned(),
                observed: date.ok_or_else(|| null_at(keys.observed, i))?,
                segment,
            })
        })
        .collect()
}

fn wrong_type(column: &str, message: &str, hint: &'static str) -> ModelError {
    ModelError::Column {
        column: column.to_owned(),
        message: message.to_owned(),
        hint,
    }
}

fn null_at(column: &str, i: usize) -> ModelError {
    ModelError::Column {
        column: column.to_owned(),
        message: format!("is null in row {}", i + 1),
        hint: "every row needs an account id, an observation date and a label",
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;
    use crate::testutil::date;

    const KEYS: KeyColumns<'static> = KeyColumns {
        account_id: "account_id",
        observed: "observed",
        segment: Some("segment"),
    };

    fn frame() -> DataFrame {
        let observed = Series::new("observed".into(), [date(2024, 1, 31), date(2024, 2, 29)]);
        DataFrame::new(
            2,
            vec![
                Series::new("account_id".into(), ["acme", "globex"]).into(),
                observed.into(),
                Series::new("segment".into(), [Some("smb"), None]).into(),
                Series::new("usage".into(), [Some(0.5), None]).into(),
                Series::new("seats".into(), [10i64, 20]).into(),
                Series::new("churned".into(), [true, false]).into(),
                Series::new("plan".into(), ["pro", "team"]).into(),
            ],
        )
        .unwrap()
    }

    #[test]
    fn frame_nulls_become_missing_values() {
        let names = vec!["usage".to_owned(), "seats".to_owned()];
        let x = FeatureMatrix::from_frame(&frame(), &names, &KEYS).unwrap();
        assert_eq!(x.values()[[0, 0]], 0.5);
        assert!(x.values()[[1, 0]].is_nan());
        assert_eq!(x.values()[[1, 1]], 20.0);
    }

    #[test]
    fn frame_keys_carry_account_date_and_segment() {
        let x = FeatureMatrix::from_frame(&frame(), &["usage".to_owned()], &KEYS).unwrap();
        assert_eq!(x.keys()[1], RowKey::new("globex", date(2024, 2, 29), None));
        assert_eq!(x.keys()[0].segment.as_deref(), Some("smb"));
    }

    #[test]
    fn text_feature_column_is_rejected() {
        let err = FeatureMatrix::from_frame(&frame(), &["plan".to_owned()], &KEYS).unwrap_err();
        assert!(matches!(err, ModelError::Column { ref column, .. } if column == "plan"));
    }

    #[test]
    fn absent_feature_column_is_rejected() {
        let err = FeatureMatrix::from_frame(&frame(), &["nps".to_owned()], &KEYS).unwrap_err();
        match err {
            ModelError::Column {
                column, message, ..
            } => {
                assert_eq!(column, "nps");
                assert_eq!(message, "not found in the data frame");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn labels_read_from_boolean_column() {
        assert_eq!(
            labels_from_frame(&frame(), "churned").unwrap(),
            ndarray::array![true, false]
        );
    }

    #[test]
    fn null_label_is_rejected_with_row() {
        let df = DataFrame::new(
            2,
            vec![Series::new("churned".into(), [Some(true), None]).into()],
        )
        .unwrap();
        let err = labels_from_frame(&df, "churned").unwrap_err();
        assert!(
            matches!(err, ModelError::Column { ref message, .. } if message == "is null in row 2")
        );
    }
}
