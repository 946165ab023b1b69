//! Detection of perfect and quasi-complete separation of the two classes.
//!
//! When the classes can be split perfectly, the unpenalized maximum-likelihood
//! coefficients are infinite: the L2 penalty alone keeps them finite, and the
//! probabilities near 0 and 1 mean little. A single feature that splits the
//! classes on its own usually leaks the label into the features.
//!
//! Two checks:
//! - per model column: every positive row lies on one side of a boundary
//!   value and every negative row on the other. Complete when no row of
//!   either class sits on the boundary, quasi-complete when some do;
//! - linear: a logistic fit with a much smaller penalty (the probe) classifies
//!   every training row correctly with a positive margin, which proves the
//!   classes are linearly separable. The probe also reports how much the
//!   coefficient norm grew as the penalty shrank.
//!
//! NOTE: quasi-complete separation by a combination of several features is
//! not detected; only the single-column check finds quasi-complete cases.

use ndarray::{Array1, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use tracing::debug;

use crate::error::Result;
use crate::logistic::{LogisticFit, LogisticValidParams};
use crate::preprocess::ModelColumn;

/// How much smaller than the fitted penalty the probe's penalty is.
pub const PROBE_PENALTY_FACTOR: f64 = 1e-4;

/// Training rows above which the probe fits an even sample of this many rows
/// first (every k-th row in row order).
pub const PROBE_SAMPLE_ROWS: usize = 20_000;

/// Which side of the boundary holds the positive rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Positive rows have values at or above the boundary.
    Above,
    /// Positive rows have values at or below the boundary.
    Below,
}

/// A perfect or quasi-complete split of the classes.
///
/// The JSON tag is `separation`, not `kind`, because a fit warning wraps it
/// and already uses `kind` for its own tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "separation", rename_all = "snake_case")]
pub enum Separation {
    /// One model column splits the classes.
    Feature {
        /// The model column (a feature or `<feature>:missing`).
        column: String,
        /// The positive class name.
        positive_class: String,
        /// Where the positive rows lie.
        side: Side,
        /// The boundary value in the column's own units: the extreme value of
        /// the negative rows on the positive side.
        boundary: f64,
        /// True when no row of either class lies on the boundary.
        complete: bool,
        /// Positive rows exactly at the boundary.
        positives_at_boundary: usize,
        /// Negative rows exactly at the boundary.
        negatives_at_boundary: usize,
    },
    /// A linear combination of columns splits the classes completely.
    Linear {
        /// The columns with the largest absolute probe coefficients, largest first.
        columns: Vec<String>,
        /// The probe's penalty.
        probe_penalty: f64,
        /// The smallest signed margin of a training row under the probe (> 0).
        min_margin: f64,
        /// Coefficient norm under the probe divided by the norm under the fit.
        norm_growth: f64,
    },
}

impl Separation {
    /// Whether the split is complete (no row on the boundary).
    pub fn is_complete(&self) -> bool {
        match self {
            Separation::Feature { complete, .. } => *complete,
            Separation::Linear { .. } => true,
        }
    }
}

impl std::fmt::Display for Separation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Separation::Feature {
                column,
                positive_class,
                side,
                boundary,
                complete,
                positives_at_boundary,
                negatives_at_boundary,
            } => {
                let (strict, loose) = match side {
                    Side::Above => (">", ">="),
                    Side::Below => ("<", "<="),
                };
                if *complete {
                    write!(
                        f,
                        "feature {column:?} separates the classes completely: every {positive_class} row has {column} {strict} {boundary} and no other row does"
                    )
                } else {
                    write!(
                        f,
                        "feature {column:?} separates the classes quasi-completely: every {positive_class} row has {column} {loose} {boundary}, every other row has {column} {} {boundary}, and {positives_at_boundary} {positive_class} and {negatives_at_boundary} other rows sit on {boundary}",
                        opposite(*side)
                    )
                }
            }
            Separation::Linear {
                columns,
                probe_penalty,
                min_margin,
                norm_growth,
            } => write!(
                f,
                "the classes are linearly separable: with L2 penalty {probe_penalty:.1e} every training row is classified correctly (smallest margin {min_margin:.3e}) and the coefficient norm grows {norm_growth:.1}x; largest coefficients: {}",
                columns.join(", ")
            ),
        }
    }
}

fn opposite(side: Side) -> &'static str {
    match side {
        Side::Above => "<=",
        Side::Below => ">=",
    }
}

/// Finds every model column that splits the classes on its own, complete
/// splits first. `x` is the standardized design matrix; boundaries are
/// reported in raw units using each column's mean and standard deviation.
pub fn feature_separations(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, bool>,
    columns: &[ModelColumn],
    positive_class: &str,
) -> Vec<Separation> {
    let mut found: Vec<Separation> = columns
        .iter()
        .enumerate()
        .filter_map(|(j, column)| column_separation(x.column(j), y, column, positive_class))
        .collect();
    found.sort_by_key(|s| !s.is_complete());
    found
}

/// Minimum and maximum of a column over each class.
struct ClassRanges {
    pos_min: f64,
    pos_max: f64,
    neg_min: f64,
    neg_max: f64,
}

fn class_ranges(values: ArrayView1<'_, f64>, y: ArrayView1<'_, bool>) -> ClassRanges {
    let mut r = ClassRanges {
        pos_min: f64::INFINITY,
        pos_max: f64::NEG_INFINITY,
        neg_min: f64::INFINITY,
        neg_max: f64::NEG_INFINITY,
    };
    for (&v, &label) in values.iter().zip(y.iter()) {
        if label {
            r.pos_min = r.pos_min.min(v);
            r.pos_max = r.pos_max.max(v);
        } else {
            r.neg_min = r.neg_min.min(v);
            r.neg_max = r.neg_max.max(v);
        }
    }
    r
}

fn column_separation(
    values: ArrayView1<'_, f64>,
    y: ArrayView1<'_, bool>,
    column: &ModelColumn,
    positive_class: &str,
) -> Option<Separation> {
    let r = class_ranges(values, y);
    let (side, boundary) = if r.pos_min >= r.neg_max {
        (Side::Above, r.neg_max)
    } else if r.pos_max <= r.neg_min {
        (Side::Below, r.neg_min)
    } else {
        return None;
    };

    let count_at = |class: bool| {
        values
            .iter()
            .zip(y.iter())
            .filter(|&(&v, &label)| label == class && v == boundary)
            .count()
    };
    let positives_at_boundary = count_at(true);
    let negatives_at_boundary = count_at(false);
    Some(Separation::Feature {
        column: column.name.clone(),
        positive_class: positive_class.to_owned(),
        side,
        boundary: to_raw_units(boundary, column.mean, column.std),
        complete: positives_at_boundary == 0,
        positives_at_boundary,
        negatives_at_boundary,
    })
}

/// Turns a standardized value back into the column's units, rounded to 12
/// significant digits of the column's scale, so that a boundary at 0 reads
/// 0 rather than the -2e-19 the round trip through the scaler leaves.
fn to_raw_units(standardized: f64, mean: f64, std: f64) -> f64 {
    let raw = standardized * std + mean;
    let scale = mean.abs().max(std);
    if !raw.is_finite() || scale == 0.0 || !scale.is_finite() {
        return raw;
    }
    let places = (11 - scale.log10().floor() as i32).clamp(0, 17) as usize;
    let rounded: f64 = format!("{raw:.places$}").parse().unwrap_or(raw);
    rounded + 0.0
}

/// Refits with a penalty [`PROBE_PENALTY_FACTOR`] times smaller and returns
/// a [`Separation::Linear`] when that fit classifies every row correctly.
///
/// Above [`PROBE_SAMPLE_ROWS`] rows the probe first fits an even sample of
/// them and stops there when the sample is not separated.
pub fn probe_linear_separation(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, bool>,
    params: &LogisticValidParams,
    fitted_coefficients: ArrayView1<'_, f64>,
    column_names: &[String],
) -> Result<Option<Separation>> {
    probe_with_sample(
        x,
        y,
        params,
        fitted_coefficients,
        column_names,
        PROBE_SAMPLE_ROWS,
    )
}

/// Probes like [`probe_linear_separation`] with a given sample size.
///
/// Every subset of linearly separable rows is itself separable, so a sample
/// that the probe does not separate shows that the whole set is not
/// separated either, at a fraction of the cost of a near-unpenalized fit on
/// every row. A sample that looks separated proves nothing about the other
/// rows, so then the probe runs on all of them.
pub(crate) fn probe_with_sample(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, bool>,
    params: &LogisticValidParams,
    fitted_coefficients: ArrayView1<'_, f64>,
    column_names: &[String],
    sample_rows: usize,
) -> Result<Option<Separation>> {
    let probe_penalty = params.l2_penalty() * PROBE_PENALTY_FACTOR;
    let probe_params = params
        .with_penalty(probe_penalty)?
        .with_iteration_count(false);

    if x.nrows() > sample_rows {
        let step = x.nrows().div_ceil(sample_rows.max(1));
        let rows: Vec<usize> = (0..x.nrows()).step_by(step).collect();
        let xs = x.select(Axis(0), &rows);
        let ys = y.select(Axis(0), &rows);
        let has_both = ys.iter().any(|&v| v) && ys.iter().any(|&v| !v);
        if has_both && probe_margin(xs.view(), ys.view(), &probe_params)?.1 <= 0.0 {
            debug!(
                rows = xs.nrows(),
                "separation probe: the sample is not separated"
            );
            return Ok(None);
        }
    }

    let (probe, min_margin) = probe_margin(x, y, &probe_params)?;
    if min_margin <= 0.0 {
        return Ok(None);
    }

    let norm = |w: ArrayView1<'_, f64>| w.dot(&w).sqrt();
    let norm_growth =
        norm(probe.coefficients.view()) / norm(fitted_coefficients).max(f64::MIN_POSITIVE);
    Ok(Some(Separation::Linear {
        columns: largest_columns(&probe.coefficients, column_names, 3),
        probe_penalty,
        min_margin,
        norm_growth,
    }))
}

/// Fits the probe and returns it with its smallest margin over the rows.
fn probe_margin(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, bool>,
    probe_params: &LogisticValidParams,
) -> Result<(LogisticFit, f64)> {
    let probe = probe_params.fit(x, y)?;
    // The margin uses the intercept as fitted, before the class-weight
    // correction moves it back to the unweighted base rate.
    let fitted_intercept = probe.intercept - probe.report.weights.prior_correction();
    let margin = min_margin(x, y, probe.coefficients.view(), fitted_intercept);
    Ok((probe, margin))
}

/// The smallest signed margin `s_i * (x_i.w + b)` over the rows.
fn min_margin(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, bool>,
    w: ArrayView1<'_, f64>,
    b: f64,
) -> f64 {
    let z = x.dot(&w);
    z.iter()
        .zip(y.iter())
        .map(|(&zi, &label)| if label { zi + b } else { -(zi + b) })
        .fold(f64::INFINITY, f64::min)
}

fn largest_columns(w: &Array1<f64>, names: &[String], k: usize) -> Vec<String> {
    let mut order: Vec<usize> = (0..w.len()).collect();
    order.sort_by(|&a, &b| w[b].abs().total_cmp(&w[a].abs()));
    order
        .into_iter()
        .take(k)
        .map(|j| names[j].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};

    use super::*;
    use crate::logistic::LogisticParams;
    use linfa::ParamGuard;

    fn params() -> LogisticValidParams {
        LogisticParams::default().l2_penalty(0.01).check().unwrap()
    }

    /// 400 rows on a grid of two columns, labelled by `label(x1, x2)`.
    fn grid(label: impl Fn(f64, f64) -> bool) -> (Array2<f64>, Array1<bool>) {
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for i in 0..20 {
            for j in 0..20 {
                let (x1, x2) = (f64::from(i) - 9.5, f64::from(j) - 9.5);
                values.extend([x1, x2]);
                labels.push(label(x1, x2));
            }
        }
        (
            Array2::from_shape_vec((400, 2), values).unwrap(),
            Array1::from(labels),
        )
    }

    /// Probes the grid columns x1 and x2 with a sample of `sample_rows`.
    fn probe(
        x: &Array2<f64>,
        y: &Array1<bool>,
        fitted: [f64; 2],
        sample_rows: usize,
    ) -> Option<Separation> {
        let names = ["x1".to_owned(), "x2".to_owned()];
        let fitted = Array1::from(fitted.to_vec());
        probe_with_sample(
            x.view(),
            y.view(),
            &params(),
            fitted.view(),
            &names,
            sample_rows,
        )
        .unwrap()
    }

    #[test]
    fn sampled_probe_finds_separable_rows() {
        // x1 + x2 > 0 splits every row; neither column does on its own.
        let (x, y) = grid(|x1, x2| x1 + x2 > 0.0);
        for sample_rows in [400, 50] {
            match probe(&x, &y, [1.0, 1.0], sample_rows) {
                Some(Separation::Linear { min_margin, .. }) => assert!(min_margin > 0.0),
                other => panic!("sample of {sample_rows}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn sampled_probe_clears_overlapping_rows() {
        // A checkerboard of 2 x 2 cells: no line splits it, in the sample or in full.
        let (x, y) = grid(|x1, x2| ((x1 + 9.5) as i64 / 2 + (x2 + 9.5) as i64 / 2) % 2 == 0);
        for sample_rows in [400, 50] {
            let found = probe(&x, &y, [0.1, 0.1], sample_rows);
            assert_eq!(found, None, "sample of {sample_rows}");
        }
    }

    #[test]
    fn one_class_sample_falls_back_to_all_rows() {
        // A sample of 10 takes every 40th row, all with x2 = -9.5, so it contains
        // no positive row; the probe must then fit all rows, which x2 > 0 splits.
        let (x, y) = grid(|_, x2| x2 > 0.0);
        let found = probe(&x, &y, [0.0, 1.0], 10);
        assert!(
            matches!(found, Some(Separation::Linear { .. })),
            "unexpected {found:?}"
        );
    }

    #[test]
    fn raw_boundary_drops_round_off() {
        // Mean 0.9 and standard deviation 0.3: 0 standardizes to -3 and
        // comes back as 1.1e-16 without rounding.
        let (mean, std) = (0.9, 0.3);
        let zero = (0.0 - mean) / std;
        assert_eq!(zero * std + mean, 1.110_223_024_625_156_5e-16);
        assert_eq!(to_raw_units(zero, mean, std), 0.0);
        let three_tenths = (0.3 - mean) / std;
        assert_eq!(three_tenths * std + mean, 0.299_999_999_999_999_93);
        assert_eq!(to_raw_units(three_tenths, mean, std), 0.3);
        assert_eq!(to_raw_units((1500.0 - 900.0) / 250.0, 900.0, 250.0), 1500.0);
    }
}
