//! Small wrappers over polars expression functions used across the steps.

use polars::lazy::dsl;
use polars::prelude::Expr;

/// `expr` evaluated per group of `keys` (a window expression).
pub fn over(expr: Expr, keys: &[Expr]) -> Expr {
    expr.over(keys).expect("window keys are never empty")
}

/// The smallest non-null value across the expressions, row by row.
pub fn min_across(exprs: Vec<Expr>) -> Expr {
    dsl::min_horizontal(exprs).expect("at least one expression")
}

/// The largest non-null value across the expressions, row by row.
pub fn max_across(exprs: Vec<Expr>) -> Expr {
    dsl::max_horizontal(exprs).expect("at least one expression")
}

/// The mean of the non-null values across the expressions, row by row; null
/// when all are null.
pub fn mean_across(exprs: Vec<Expr>) -> Expr {
    dsl::mean_horizontal(exprs, true).expect("at least one expression")
}
