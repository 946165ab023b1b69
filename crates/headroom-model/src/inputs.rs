//! The model inputs built from a feature table: numeric columns as they are,
//! one 0/1 input per value of a text column, and interactions with the
//! renewal window.
//!
//! Churn and expansion happen mostly at a renewal, so the same low usage
//! means more when the renewal date falls inside the label horizon. A linear
//! model can express that only through a product term. `in_renewal_window` is
//! 1 when `days_to_renewal` is above 0 and at most the horizon, and
//! `in_renewal_window*X` is X inside the window and 0 outside. A renewal on
//! the observation date itself, or one already past (an account in grace),
//! is outside: its outcome is dated on or before the observation date, so it
//! cannot fall in the label window.
//!
//! The spec is fitted on training rows (the text values seen there) and
//! stored in the model artifact, so scoring builds exactly the same inputs.

use std::collections::BTreeSet;

use ndarray::Array2;
use polars::prelude::{DataFrame, DataType};
use serde::{Deserialize, Serialize};
use tracing::debug;

use crate::config::ModelConfig;
use crate::dataset::FeatureMatrix;
use crate::error::{ModelError, Result};
use crate::frame::KeyColumns;

/// The feature-table column with the days from the observation date to the
/// renewal date.
pub const DAYS_TO_RENEWAL: &str = "days_to_renewal";
/// The name of the renewal-window input.
pub const RENEWAL_WINDOW: &str = "in_renewal_window";
/// The key columns of a feature table.
pub const FEATURE_TABLE_KEYS: KeyColumns<'static> = KeyColumns {
    account_id: "account_id",
    observed: "as_of",
    segment: Some("segment"),
};

/// One text column turned into one 0/1 input per value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryInputs {
    /// The text column.
    pub column: String,
    /// The values seen in training, sorted; each gives an input named
    /// `<column>=<value>`. A value not in the list sets every input to 0.
    pub values: Vec<String>,
}

impl CategoryInputs {
    /// Returns the input names, in order.
    pub fn names(&self) -> Vec<String> {
        self.values
            .iter()
            .map(|v| category_input(&self.column, v))
            .collect()
    }
}

/// A 0/1 input that is 1 when a feature-table column is at most a limit,
/// and its interactions: `<name>*X` is X where the input is 1 and 0 where
/// it is 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowInput {
    /// The input name, such as `in_renewal_window`.
    pub name: String,
    /// The feature-table column compared with `at_most`.
    pub column: String,
    /// The input is 1 when the column is above this value (exclusive).
    pub above: Option<f64>,
    /// The input is 1 when the column is at most this value.
    pub at_most: f64,
    /// The input's value where the column is null: `None` keeps it missing
    /// (NaN), `Some(0.0)` counts a null as outside the window.
    pub null_as: Option<f64>,
    /// Inputs multiplied by this one.
    pub interactions: Vec<String>,
}

impl WindowInput {
    /// Returns the names of the input and its interactions, in order.
    pub fn names(&self) -> Vec<String> {
        let mut names = vec![self.name.clone()];
        names.extend(
            self.interactions
                .iter()
                .map(|i| product_input(&self.name, i)),
        );
        names
    }
}

/// The recipe that builds the model inputs from a feature table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Numeric or boolean feature-table columns read as they are (booleans
    /// as 0/1, nulls as missing values).
    pub columns: Vec<String>,
    /// Text columns turned into 0/1 inputs.
    pub categories: Vec<CategoryInputs>,
    /// Products of two earlier inputs, each named `<a>*<b>`.
    pub products: Vec<[String; 2]>,
    /// Window inputs and their interactions, such as the renewal window.
    pub windows: Vec<WindowInput>,
}

impl InputSpec {
    /// Reads the given columns as they are, with no derived inputs.
    pub fn plain(columns: Vec<String>) -> InputSpec {
        InputSpec {
            columns,
            categories: Vec::new(),
            products: Vec::new(),
            windows: Vec::new(),
        }
    }

    /// Fits the spec on the training rows of a feature table: the model
    /// columns of the catalogue ([`headroom_features::model_columns`]), the
    /// values of each configured text column, the configured products and
    /// the window inputs whose columns the table has.
    pub fn fit(table: &DataFrame, config: &ModelConfig) -> Result<InputSpec> {
        let columns: Vec<String> = headroom_features::model_columns(table)
            .into_iter()
            .filter(|c| config.features.as_ref().is_none_or(|only| only.contains(c)))
            .filter(|c| !config.exclude_features.contains(c))
            .collect();
        let categories = config
            .categorical
            .iter()
            .filter_map(|column| category_values(table, column).transpose())
            .collect::<Result<Vec<_>>>()?;
        let mut spec = InputSpec {
            columns,
            categories,
            products: Vec::new(),
            windows: Vec::new(),
        };
        spec.products = config
            .products
            .iter()
            .filter(|[a, b]| spec.has_input(a) && spec.has_input(b))
            .cloned()
            .collect();
        spec.windows = windows(config)
            .into_iter()
            .filter(|w| spec.columns.contains(&w.column))
            .map(|w| spec.resolve_interactions(w))
            .collect();
        Ok(spec)
    }

    /// Returns the input names, in order: columns, category inputs,
    /// products, then each window input followed by its interactions.
    pub fn names(&self) -> Vec<String> {
        let mut names = self.columns.clone();
        for category in &self.categories {
            names.extend(category.names());
        }
        names.extend(self.products.iter().map(|[a, b]| product_input(a, b)));
        for window in &self.windows {
            names.extend(window.names());
        }
        names
    }

    /// Builds the inputs of every row of a feature table, keyed by
    /// `account_id`, `as_of` and `segment`.
    ///
    /// Fails when a column the spec reads is absent or of the wrong type, or a
    /// key is null.
    pub fn matrix(&self, table: &DataFrame) -> Result<FeatureMatrix> {
        self.matrix_with_keys(table, &FEATURE_TABLE_KEYS)
    }

    /// Builds the inputs of every row of a frame with the given key columns.
    ///
    /// Fails like [`InputSpec::matrix`].
    pub fn matrix_with_keys(
        &self,
        table: &DataFrame,
        keys: &KeyColumns<'_>,
    ) -> Result<FeatureMatrix> {
        let base = FeatureMatrix::from_frame(table, &self.columns, keys)?;
        let (base_values, mut names, row_keys) = base.into_parts();
        let mut blocks: Vec<Vec<f64>> = base_values
            .columns()
            .into_iter()
            .map(|c| c.to_vec())
            .collect();

        for category in &self.categories {
            let text = text_column(table, &category.column)?;
            for value in &category.values {
                blocks.push(one_hot(&text, value));
            }
            names.extend(category.names());
        }

        for [a, b] in &self.products {
            let product = {
                let (a, b) = (&blocks[position(&names, a)?], &blocks[position(&names, b)?]);
                a.iter().zip(b).map(|(x, y)| x * y).collect()
            };
            blocks.push(product);
            names.push(product_input(a, b));
        }

        for window in &self.windows {
            let inside = window_indicator(table, window)?;
            let mut interactions = Vec::with_capacity(window.interactions.len());
            for input in &window.interactions {
                interactions.push(interaction(&blocks[position(&names, input)?], &inside));
            }
            blocks.push(inside);
            blocks.extend(interactions);
            names.extend(window.names());
        }

        let values = columns_to_matrix(&blocks, row_keys.len());
        FeatureMatrix::new(values, names, row_keys)
    }

    fn has_input(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
            || self
                .categories
                .iter()
                .any(|c| c.names().iter().any(|n| n == name))
    }

    /// Keeps the interactions the spec has inputs for; a categorical column
    /// stands for all of its 0/1 inputs.
    fn resolve_interactions(&self, mut window: WindowInput) -> WindowInput {
        let mut resolved = Vec::new();
        for name in &window.interactions {
            if let Some(category) = self.categories.iter().find(|c| c.column == *name) {
                resolved.extend(category.names());
            } else if self.has_input(name) {
                resolved.push(name.clone());
            } else {
                debug!(window = %window.name, column = %name, "interaction input not in the feature table");
            }
        }
        window.interactions = resolved;
        window
    }
}

/// Lists the window inputs the settings ask for, before checking the table.
fn windows(config: &ModelConfig) -> Vec<WindowInput> {
    let mut windows = Vec::new();
    if !config.renewal_interactions.is_empty() {
        windows.push(WindowInput {
            name: RENEWAL_WINDOW.to_owned(),
            column: DAYS_TO_RENEWAL.to_owned(),
            above: Some(0.0),
            at_most: f64::from(config.horizon_days),
            null_as: None,
            interactions: config.renewal_interactions.clone(),
        });
    }
    windows
}

fn position(names: &[String], input: &str) -> Result<usize> {
    names.iter().position(|n| n == input).ok_or_else(|| ModelError::Column {
        column: input.to_owned(),
        message: "is used in a product or interaction but is not an input of the model".to_owned(),
        hint: "list only numeric feature columns or categorical columns in products and interactions",
    })
}

/// Names the 0/1 input of one value of a text column: `<column>=<value>`.
pub fn category_input(column: &str, value: &str) -> String {
    format!("{column}={value}")
}

/// Names the product of two inputs: `<a>*<b>`.
pub fn product_input(a: &str, b: &str) -> String {
    format!("{a}*{b}")
}

/// Collects the sorted distinct values of a text column. Returns `None` when
/// the table lacks the column or the column has no value.
fn category_values(table: &DataFrame, column: &str) -> Result<Option<CategoryInputs>> {
    if table.column(column).is_err() {
        debug!(column, "categorical column not in the feature table");
        return Ok(None);
    }
    let text = text_column(table, column)?;
    let values: BTreeSet<String> = text.into_iter().flatten().collect();
    if values.is_empty() {
        return Ok(None);
    }
    Ok(Some(CategoryInputs {
        column: column.to_owned(),
        values: values.into_iter().collect(),
    }))
}

fn text_column(table: &DataFrame, column: &str) -> Result<Vec<Option<String>>> {
    let found = table.column(column).map_err(|_| ModelError::Column {
        column: column.to_owned(),
        message: "not found in the feature table".to_owned(),
        hint: "compute the features with the same headroom version that trained the model, or retrain it",
    })?;
    if found.dtype() != &DataType::String {
        return Err(ModelError::Column {
            column: column.to_owned(),
            message: format!("has type {}, not text", found.dtype()),
            hint: "list only text columns under categorical in the [model] section",
        });
    }
    let text = found.str().expect("checked to be a string column");
    Ok(text.iter().map(|v| v.map(str::to_owned)).collect())
}

fn one_hot(text: &[Option<String>], value: &str) -> Vec<f64> {
    text.iter()
        .map(|v| f64::from(u8::from(v.as_deref() == Some(value))))
        .collect()
}

/// 1 inside the window, 0 outside, and the window's `null_as` (NaN when
/// `None`) where the column is null.
fn window_indicator(table: &DataFrame, window: &WindowInput) -> Result<Vec<f64>> {
    let column = table.column(&window.column).map_err(|_| ModelError::Column {
        column: window.column.clone(),
        message: "not found in the feature table".to_owned(),
        hint: "compute the features with the same headroom version that trained the model, or retrain it",
    })?;
    let floats = column
        .cast(&DataType::Float64)
        .map_err(|e| ModelError::Column {
            column: window.column.clone(),
            message: e.to_string(),
            hint: "a window input needs a numeric column",
        })?;
    let null_value = window.null_as.unwrap_or(f64::NAN);
    Ok(floats
        .f64()
        .expect("cast to Float64")
        .iter()
        .map(|v| match v {
            Some(x) => {
                let above = window.above.is_none_or(|lower| x > lower);
                f64::from(u8::from(above && x <= window.at_most))
            }
            None => null_value,
        })
        .collect())
}

/// X inside the window and 0 outside it, even where X is missing; NaN where
/// the window itself is unknown.
fn interaction(values: &[f64], inside: &[f64]) -> Vec<f64> {
    values
        .iter()
        .zip(inside)
        .map(|(&x, &w)| if w == 0.0 { 0.0 } else { x * w })
        .collect()
}

fn columns_to_matrix(blocks: &[Vec<f64>], rows: usize) -> Array2<f64> {
    let mut values = Array2::<f64>::zeros((rows, blocks.len()));
    for (j, block) in blocks.iter().enumerate() {
        for (i, &v) in block.iter().enumerate() {
            values[[i, j]] = v;
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{PanelRow, date, panel};

    fn row(
        account: &'static str,
        segment: Option<&'static str>,
        utilization: f64,
        days: f64,
    ) -> PanelRow<'static> {
        PanelRow {
            account,
            as_of: date(2024, 1, 31),
            segment,
            utilization,
            days_to_renewal: days,
        }
    }

    fn table() -> DataFrame {
        panel(&[
            row("a", Some("smb"), 0.2, 0.0),
            row("b", Some("enterprise"), 0.9, 1.0),
            row("c", None, f64::NAN, 180.0),
            row("d", Some("smb"), 0.5, 181.0),
            row("e", Some("smb"), 0.4, -10.0),
            row("f", Some("smb"), 0.6, f64::NAN),
        ])
    }

    fn config() -> ModelConfig {
        ModelConfig {
            renewal_interactions: vec!["segment".to_owned(), "util_primary_3m".to_owned()],
            ..ModelConfig::default()
        }
    }

    fn column(x: &FeatureMatrix, name: &str) -> Vec<f64> {
        x.column(name).unwrap().to_vec()
    }

    /// Compares values treating NaN as equal to NaN.
    fn same(found: &[f64], expected: &[f64]) -> bool {
        found.len() == expected.len()
            && found
                .iter()
                .zip(expected)
                .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
    }

    #[test]
    fn fit_reads_catalogue_columns_and_segment_values() {
        let spec = InputSpec::fit(&table(), &config()).unwrap();
        assert_eq!(spec.columns, vec!["util_primary_3m", "days_to_renewal"]);
        assert_eq!(spec.categories.len(), 1);
        assert_eq!(spec.categories[0].values, vec!["enterprise", "smb"]);
    }

    #[test]
    fn names_list_columns_categories_then_window() {
        let spec = InputSpec::fit(&table(), &config()).unwrap();
        assert_eq!(
            spec.names(),
            vec![
                "util_primary_3m",
                "days_to_renewal",
                "segment=enterprise",
                "segment=smb",
                "in_renewal_window",
                "in_renewal_window*segment=enterprise",
                "in_renewal_window*segment=smb",
                "in_renewal_window*util_primary_3m",
            ]
        );
    }

    #[test]
    fn one_hot_marks_the_row_value() {
        let spec = InputSpec::fit(&table(), &config()).unwrap();
        let x = spec.matrix(&table()).unwrap();
        assert_eq!(
            column(&x, "segment=smb"),
            vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0]
        );
        assert_eq!(
            column(&x, "segment=enterprise"),
            vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
        );
    }

    #[test]
    fn unseen_segment_sets_every_input_to_zero() {
        let spec = InputSpec::fit(&table(), &config()).unwrap();
        let x = spec
            .matrix(&panel(&[row("z", Some("mid-market"), 0.5, 10.0)]))
            .unwrap();
        assert_eq!(column(&x, "segment=smb"), vec![0.0]);
        assert_eq!(column(&x, "segment=enterprise"), vec![0.0]);
    }

    #[test]
    fn renewal_window_is_one_to_horizon_days() {
        // Days 0, 1, 180, 181, -10 and null: a renewal on the observation
        // date or already past is outside; null stays unknown.
        let spec = InputSpec::fit(&table(), &config()).unwrap();
        let x = spec.matrix(&table()).unwrap();
        let window = column(&x, "in_renewal_window");
        assert!(
            same(&window, &[0.0, 1.0, 1.0, 0.0, 0.0, f64::NAN]),
            "{window:?}"
        );
    }

    #[test]
    fn interaction_is_zero_outside_window() {
        // Inside the window the value (b 0.9, c missing), outside 0 (a, d, e),
        // unknown window NaN (f).
        let spec = InputSpec::fit(&table(), &config()).unwrap();
        let x = spec.matrix(&table()).unwrap();
        let product = column(&x, "in_renewal_window*util_primary_3m");
        assert!(
            same(&product, &[0.0, 0.9, f64::NAN, 0.0, 0.0, f64::NAN]),
            "{product:?}"
        );
    }

    #[test]
    fn products_multiply_two_inputs() {
        let config = ModelConfig {
            products: vec![["util_primary_3m".to_owned(), "segment=smb".to_owned()]],
            renewal_interactions: Vec::new(),
            ..ModelConfig::default()
        };
        let spec = InputSpec::fit(&table(), &config).unwrap();
        let x = spec.matrix(&table()).unwrap();
        let product = column(&x, "util_primary_3m*segment=smb");
        assert!(
            same(&product, &[0.2, 0.0, f64::NAN, 0.5, 0.4, 0.6]),
            "{product:?}"
        );
        assert!(x.column("in_renewal_window").is_none());
    }

    #[test]
    fn absent_interaction_columns_are_skipped() {
        let config = ModelConfig {
            renewal_interactions: vec!["slope_3m".to_owned(), "util_primary_3m".to_owned()],
            ..ModelConfig::default()
        };
        let spec = InputSpec::fit(&table(), &config).unwrap();
        assert_eq!(spec.windows[0].interactions, vec!["util_primary_3m"]);
    }

    #[test]
    fn excluded_and_selected_features_are_honoured() {
        let excluded = ModelConfig {
            exclude_features: vec!["days_to_renewal".to_owned()],
            ..config()
        };
        let spec = InputSpec::fit(&table(), &excluded).unwrap();
        assert_eq!(spec.columns, vec!["util_primary_3m"]);
        // Without days_to_renewal there is no renewal window.
        assert!(spec.windows.is_empty());

        let selected = ModelConfig {
            features: Some(vec!["days_to_renewal".to_owned()]),
            ..config()
        };
        let spec = InputSpec::fit(&table(), &selected).unwrap();
        assert_eq!(spec.columns, vec!["days_to_renewal"]);
    }

    #[test]
    fn missing_segment_column_is_named() {
        let spec = InputSpec::fit(&table(), &config()).unwrap();
        let without = table().drop("segment").unwrap();
        let err = spec.matrix(&without).unwrap_err();
        assert!(
            matches!(err, ModelError::Column { ref column, .. } if column == "segment"),
            "{err}"
        );
    }
}
