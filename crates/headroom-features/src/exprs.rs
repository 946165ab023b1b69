//! Small wrappers over polars expression functions used across the steps.

use polars::lazy::dsl;
use polars::prelude::{Expr, JoinArgs, JoinType, LazyFrame, MaintainOrderJoin};

/// Joins `right` onto `left` on `keys` keeping the rows of `left` in their
/// order. Sums over the result then add in the same order on every run, so
/// the features come out the same to the last bit.
pub fn join_ordered(left: LazyFrame, right: LazyFrame, keys: &[Expr], how: JoinType) -> LazyFrame {
    let mut args = JoinArgs::new(how);
    args.maintain_order = MaintainOrderJoin::Left;
    left.join(right, keys, keys, args)
}

/// `expr` evaluated per group of `keys` (a window expression).
pub fn over(expr: Expr, keys: &[Expr]) -> Expr {
    expr.over(keys).expect("window keys are never empty")
}

/// Takes the smallest non-null value across the expressions, row by row.
pub fn min_across(exprs: Vec<Expr>) -> Expr {
    dsl::min_horizontal(exprs).expect("at least one expression")
}

/// Takes the largest non-null value across the expressions, row by row.
pub fn max_across(exprs: Vec<Expr>) -> Expr {
    dsl::max_horizontal(exprs).expect("at least one expression")
}

/// Takes the mean of the non-null values across the expressions, row by row,
/// or null when all are null.
pub fn mean_across(exprs: Vec<Expr>) -> Expr {
    dsl::mean_horizontal(exprs, true).expect("at least one expression")
}
