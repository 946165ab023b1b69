//! Feature expressions over the lag columns of one usage series: utilization
//! against the limit, trajectory, year-over-year change and seasonal adjustment.
//!
//! Every expression reads the columns `lag0` (the as-of month) .. `lag21`, which
//! are null before the series' history starts, so a feature that needs more
//! history than the account has comes out null. Nothing here divides by zero:
//! each ratio is guarded and null when its denominator is not positive.

use polars::prelude::*;

use crate::calendar::{DAYS_PER_MONTH, date_from_days_expr, days_in_month_expr};
use crate::exprs::{max_across, mean_across};
use crate::panel::lag;
use crate::seasonal::{SEASONAL_LAGS, index_name};

/// Horizon of the time-to-limit projection; crossings further out are null.
pub const MAX_MONTHS_TO_LIMIT: f64 = 36.0;

fn positive(e: Expr) -> Expr {
    e.gt(lit(0.0))
}

/// `numerator / denominator`, null unless the denominator is positive.
pub fn ratio(numerator: Expr, denominator: Expr) -> Expr {
    when(positive(denominator.clone()))
        .then(numerator / denominator)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

fn mean_of(exprs: Vec<Expr>) -> Expr {
    let n = exprs.len() as f64;
    sum_of(exprs) / lit(n)
}

fn sum_of(exprs: Vec<Expr>) -> Expr {
    exprs
        .into_iter()
        .reduce(|a, b| a + b)
        .expect("at least one term")
}

/// Least-squares slope per month of the points `series(0)` (the latest) ..
/// `series(n - 1)`, one month apart; null when any point is null.
pub fn slope(n: usize, series: impl Fn(usize) -> Expr) -> Expr {
    // Time runs x = n - 1 - j for lag j; the slope is sum((x - mean x) * y) / Sxx.
    let mean_x = (n as f64 - 1.0) / 2.0;
    let sxx: f64 = (0..n).map(|j| (j as f64 - mean_x).powi(2)).sum();
    sum_of(
        (0..n)
            .map(|j| series(j) * lit((n as f64 - 1.0 - j as f64 - mean_x) / sxx))
            .collect(),
    )
}

/// Divides the slope of [`slope`] by the mean of the same points.
pub fn relative_slope(n: usize, series: impl Fn(usize) -> Expr) -> Expr {
    ratio(slope(n, &series), mean_of((0..n).map(&series).collect()))
}

/// `latest / earlier - 1`, null unless `earlier` is positive.
pub fn change(latest: Expr, earlier: Expr) -> Expr {
    ratio(latest, earlier) - lit(1.0)
}

/// Column name of the monthly limit of lag `k`.
fn limit_name(k: usize) -> String {
    format!("limit_lag{k}")
}

fn util_name(k: usize) -> String {
    format!("util_lag{k}")
}

fn adjusted_name(k: usize) -> String {
    format!("adjusted_lag{k}")
}

fn own_index_name(k: usize) -> String {
    format!("season_own_{k}")
}

fn index_col(k: usize) -> String {
    format!("season_{k}")
}

/// Own seasonal indexes outside this range are taken for noise or a ramp, not a
/// season, and the profile index is used instead.
const OWN_INDEX_RANGE: (f64, f64) = (0.2, 5.0);

/// Step 1: the monthly limit of lags 0..3 and the account's own seasonal index.
///
/// A daily limit on a summed metric counts once per day of each month
/// (`lim_month + lim_day * days`). The own index of lag k is the value of the
/// same month a year earlier over its centred 2x12 moving average: lags k + 6
/// to k + 18, the two ends at half weight. Centring it keeps a trend from
/// passing for a season. It needs k + 19 months of history and positive usage that month.
pub fn limit_and_own_index() -> Vec<Expr> {
    let mut exprs = Vec::new();
    for k in 0..SEASONAL_LAGS {
        let days = days_in_month_expr(col("as_of_month") - lit(k as i32));
        let limit = col("lim_month") + col("lim_day") * days;
        exprs.push(
            when(positive(limit.clone()))
                .then(limit)
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias(limit_name(k)),
        );
        let year_ago = lag(k + 12);
        let ends = (lag(k + 6) + lag(k + 18)) * lit(0.5);
        let centred = (sum_of((k + 7..=k + 17).map(lag).collect()) + ends) / lit(12.0);
        let own = ratio(year_ago.clone(), centred);
        let (low, high) = OWN_INDEX_RANGE;
        exprs.push(
            when(
                positive(year_ago)
                    .and(own.clone().gt_eq(lit(low)))
                    .and(own.clone().lt_eq(lit(high))),
            )
            .then(own)
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias(own_index_name(k)),
        );
    }
    exprs
}

/// Step 2: utilization of lags 0..3 and the seasonal index used for each: the
/// account's own where it exists, else its industry's, else the portfolio's.
pub fn utilization_and_index() -> Vec<Expr> {
    let mut exprs = Vec::new();
    for k in 0..SEASONAL_LAGS {
        exprs.push(ratio(lag(k), col(limit_name(k))).alias(util_name(k)));
        exprs.push(
            coalesce(&[
                col(own_index_name(k)),
                col(index_name("industry", k)),
                col(index_name("portfolio", k)),
            ])
            .alias(index_col(k)),
        );
    }
    exprs
}

/// Step 3: the seasonally adjusted values of lags 0..3 (value / index).
pub fn adjusted() -> Vec<Expr> {
    (0..SEASONAL_LAGS)
        .map(|k| ratio(lag(k), col(index_col(k))).alias(adjusted_name(k)))
        .collect()
}

/// The columns [`features`] adds, in its order.
pub const FEATURES: [&str; 23] = [
    "usage",
    "limit",
    "util",
    "util_3m",
    "headroom",
    "overage",
    "util_slope_3m",
    "months_to_limit",
    "util_sa",
    "pct_change_1m",
    "pct_change_3m",
    "pct_change_6m",
    "slope_3m",
    "slope_6m",
    "months_in_decline",
    "drawdown_12m",
    "volatility_6m",
    "max_drop_12m",
    "seasonal_index",
    "seasonal_from_portfolio",
    "yoy_change",
    "sa_change_1m",
    "sa_slope_3m",
];

/// Step 4: every per-series feature, named without an entitlement suffix.
pub fn features() -> Vec<Expr> {
    let mut exprs = utilization();
    exprs.extend(trajectory());
    exprs.extend(seasonality());
    exprs
}

fn utilization() -> Vec<Expr> {
    let util = col(util_name(0));
    let util_slope = slope(4, |k| col(util_name(k)));
    let util_fit =
        mean_of((0..4).map(|k| col(util_name(k))).collect()) + util_slope.clone() * lit(1.5);
    let months = ((lit(1.0) - util_fit) / util_slope.clone()).clip_min(lit(0.0));
    let months = when(
        util_slope
            .clone()
            .gt(lit(0.0))
            .and(months.clone().lt_eq(lit(MAX_MONTHS_TO_LIMIT))),
    )
    .then(months)
    .otherwise(lit(NULL).cast(DataType::Float64));

    vec![
        lag(0).alias("usage"),
        col(limit_name(0)).alias("limit"),
        util.clone().alias("util"),
        mean_across([0, 1, 2].map(|k| col(util_name(k))).to_vec()).alias("util_3m"),
        (lit(1.0) - util.clone())
            .clip_min(lit(0.0))
            .alias("headroom"),
        (util - lit(1.0)).clip_min(lit(0.0)).alias("overage"),
        util_slope.alias("util_slope_3m"),
        months.alias("months_to_limit"),
        ratio(col(adjusted_name(0)), col(limit_name(0))).alias("util_sa"),
    ]
}

/// Step 5: the date the limit is crossed at the current trend.
pub fn limit_date() -> Expr {
    let crossing_days = col("as_of_days")
        + (col("months_to_limit") * lit(DAYS_PER_MONTH))
            .round(0, RoundMode::HalfAwayFromZero)
            .cast(DataType::Int32);
    date_from_days_expr(crossing_days).alias("limit_date")
}

fn trajectory() -> Vec<Expr> {
    vec![
        change(lag(0), lag(1)).alias("pct_change_1m"),
        change(lag(0), lag(3)).alias("pct_change_3m"),
        change(lag(0), lag(6)).alias("pct_change_6m"),
        relative_slope(4, lag).alias("slope_3m"),
        relative_slope(7, lag).alias("slope_6m"),
        months_in_decline(12).alias("months_in_decline"),
        drawdown(12).alias("drawdown_12m"),
        volatility(6).alias("volatility_6m"),
        max_drop(12).alias("max_drop_12m"),
    ]
}

fn seasonality() -> Vec<Expr> {
    let adjusted = |k: usize| col(adjusted_name(k));
    vec![
        col(index_col(0)).alias("seasonal_index"),
        col(own_index_name(0))
            .is_null()
            .alias("seasonal_from_portfolio"),
        change(lag(0), lag(12)).alias("yoy_change"),
        change(adjusted(0), adjusted(1)).alias("sa_change_1m"),
        relative_slope(4, adjusted).alias("sa_slope_3m"),
    ]
}

/// Consecutive months, ending at the as-of month, in which usage fell below the
/// month before; at most `cap`. Null without two months of history.
fn months_in_decline(cap: usize) -> Expr {
    let fell = |j: usize| lag(j).lt(lag(j + 1)).fill_null(lit(false));
    let mut run = fell(0);
    let mut count = run.clone().cast(DataType::Float64);
    for j in 1..cap {
        run = run.and(fell(j));
        count = count + run.clone().cast(DataType::Float64);
    }
    when(lag(1).is_not_null())
        .then(count)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// `1 - latest / peak` over the last `months` months of history; 0 at the peak
/// and when usage was zero throughout.
fn drawdown(months: usize) -> Expr {
    let peak = max_across((0..months).map(lag).collect());
    when(positive(peak.clone()))
        .then(lit(1.0) - lag(0) / peak)
        .otherwise(lag(0) * lit(0.0))
}

/// Sample standard deviation of the last `changes` month-over-month changes,
/// over the mean level of the same months; 0 for a series that stayed at zero.
fn volatility(changes: usize) -> Expr {
    let diffs: Vec<Expr> = (0..changes).map(|j| lag(j) - lag(j + 1)).collect();
    let mean_diff = mean_of(diffs.clone());
    let variance = sum_of(
        diffs
            .into_iter()
            .map(|d| (d - mean_diff.clone()).pow(2))
            .collect(),
    ) / lit(changes as f64 - 1.0);
    let level = mean_of((0..=changes).map(lag).collect());
    when(positive(level.clone()))
        .then(variance.clone().sqrt() / level)
        .otherwise(variance * lit(0.0))
}

/// Finds the largest fall from one month to the next within the last `months`
/// months, as a share of the earlier month; 0 when usage never fell.
fn max_drop(months: usize) -> Expr {
    let drops: Vec<Expr> = (0..months)
        .map(|j| ratio(lag(j + 1) - lag(j), lag(j + 1)))
        .collect();
    let largest = max_across(drops).clip_min(lit(0.0));
    when(lag(1).is_not_null())
        .then(largest.fill_null(lit(0.0)))
        .otherwise(lit(NULL).cast(DataType::Float64))
}
