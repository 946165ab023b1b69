//! The portfolio's month-of-year profile of each metric, per industry and for
//! the whole portfolio, built only from months on or before each as-of month.
//!
//! The method is the classical ratio to moving average. Each month's portfolio
//! total is divided by its centred 12-month moving average (2x12: half weight
//! on the months six before and six after). The ratios of each month of the
//! year are averaged, and the twelve averages are scaled to a mean of 1. A centred average needs
//! six months after its month, so at as-of month T only months up to T - 6
//! give ratios, and only the last [`PROFILE_MONTHS`] months are read. A profile
//! exists once every month of the year has at least one ratio, that is after
//! 24 months of data.

use polars::prelude::*;

use crate::error::{FeatureError, StepContext};
use crate::exprs::over;

/// Months of history read for the portfolio profile at each as-of month.
pub const PROFILE_MONTHS: i32 = 36;

/// Lags that get a seasonal index: the as-of month and the three before, the
/// window of the seasonally adjusted trend.
pub const SEASONAL_LAGS: usize = 4;

/// Returns the name of the seasonal index column of lag `k` at `level`
/// (`industry` or `portfolio`).
pub fn index_name(level: &str, k: usize) -> String {
    format!("season_{level}_{k}")
}

/// Seasonal indexes of each as-of month and lag, from the monthly usage
/// `totals` of [`crate::panel::totals`] over the [`PROFILE_MONTHS`] months up
/// to each as-of month.
///
/// Returns two frames: per industry group (`as_of_month`, `metric_idx`,
/// `industry_group`, `season_industry_0..3`) and for the whole portfolio
/// (`as_of_month`, `metric_idx`, `season_portfolio_0..3`).
///
/// `metric_start` (`metric_idx`, `metric_start`) bounds each metric's data:
/// months before it are unobserved and give no ratio, while later months
/// without usage are zero.
pub fn profiles(
    totals: &DataFrame,
    metric_start: &DataFrame,
    as_of_months: &[i32],
) -> Result<(DataFrame, DataFrame), FeatureError> {
    let first = as_of_months[0] - PROFILE_MONTHS + 1;
    let last = *as_of_months.last().expect("at least one as-of month");

    // The portfolio totals add up the totals of the industry groups (and of
    // the accounts without one) in their sorted order.
    let portfolio_totals = totals
        .clone()
        .lazy()
        .group_by([col("metric_idx"), col("month")])
        .agg([col("total").sum()]);

    let by_industry = profile(
        totals
            .clone()
            .lazy()
            .filter(col("industry_group").is_not_null()),
        &["metric_idx", "industry_group"],
        "industry",
        (first, last),
        metric_start,
        as_of_months,
    )?;
    let portfolio = profile(
        portfolio_totals,
        &["metric_idx"],
        "portfolio",
        (first, last),
        metric_start,
        as_of_months,
    )?;
    Ok((by_industry, portfolio))
}

/// Computes the seasonal indexes of one level from its monthly `totals` (the
/// keys, `month`, `total`).
fn profile(
    totals: LazyFrame,
    keys: &[&str],
    level: &str,
    (first, last): (i32, i32),
    metric_start: &DataFrame,
    as_of_months: &[i32],
) -> Result<DataFrame, FeatureError> {
    let key_cols: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    let totals = totals.collect().step("the seasonal profile")?;
    let ratios = ratios(&totals, keys, (first, last), metric_start)?;

    let months = as_of_frame(as_of_months);
    let per_month = ratios
        .cross_join(months.clone().lazy(), None)
        .filter(
            col("month")
                .gt_eq(col("as_of_month") - lit(PROFILE_MONTHS - 7))
                .and(col("month").lt_eq(col("as_of_month") - lit(6))),
        )
        .with_columns([(col("month") % lit(12)).alias("month_of_year")]);
    let mut group: Vec<Expr> = vec![col("as_of_month")];
    group.extend(key_cols.clone());
    let mut group_moy = group.clone();
    group_moy.push(col("month_of_year"));

    let mut sort_keys: Vec<PlSmallStr> = vec!["as_of_month".into()];
    sort_keys.extend(keys.iter().map(|k| PlSmallStr::from(*k)));
    sort_keys.push("month_of_year".into());
    let indexes = per_month
        .group_by(group_moy)
        .agg([col("ratio").mean().alias("ratio")])
        .sort(sort_keys, SortMultipleOptions::default())
        .with_columns([
            over(len(), &group).alias("months_present"),
            over(col("ratio").sum(), &group).alias("ratio_total"),
        ])
        .filter(col("months_present").eq(lit(12)))
        .select({
            let mut cols = group.clone();
            cols.push(col("month_of_year"));
            cols.push((col("ratio") * lit(12.0) / col("ratio_total")).alias("index"));
            cols
        })
        .collect()
        .step("the seasonal profile")?;

    lag_indexes(&indexes, &group, level)
}

/// Ratio of each month's total to its centred 12-month moving average.
/// Columns: the keys, `month`, `ratio` (rows without a ratio dropped).
fn ratios(
    totals: &DataFrame,
    keys: &[&str],
    (first, last): (i32, i32),
    metric_start: &DataFrame,
) -> Result<LazyFrame, FeatureError> {
    let key_cols: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    let months: Vec<i32> = (first..=last).collect();
    let months = DataFrame::new(months.len(), vec![Column::new("month".into(), months)])
        .step("the seasonal profile")?;
    let series = totals
        .clone()
        .lazy()
        .select(key_cols.clone())
        .unique(None, UniqueKeepStrategy::Any)
        .cross_join(months.lazy(), None);
    let mut join_keys = key_cols.clone();
    join_keys.push(col("month"));
    let mut sort_keys: Vec<PlSmallStr> = keys.iter().map(|k| (*k).into()).collect();
    sort_keys.push("month".into());

    let lead = |d: i32| over(col("total").shift(lit(-(d as i64))), &key_cols);
    let mut window = (lead(-6) + lead(6)) * lit(0.5);
    for d in -5..=5 {
        window = window + lead(d);
    }
    let centred = window / lit(12.0);

    Ok(series
        .join(
            totals.clone().lazy(),
            join_keys.clone(),
            join_keys,
            JoinArgs::new(JoinType::Left),
        )
        .join(
            metric_start.clone().lazy(),
            [col("metric_idx")],
            [col("metric_idx")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([when(col("month").gt_eq(col("metric_start")))
            .then(col("total").fill_null(lit(0.0)))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("total")])
        .sort(sort_keys, SortMultipleOptions::default())
        .with_columns([centred.alias("centred")])
        .filter(col("centred").gt(lit(0.0)))
        .select({
            let mut cols = key_cols;
            cols.push(col("month"));
            cols.push((col("total") / col("centred")).alias("ratio"));
            cols
        }))
}

/// Turns the month-of-year profile into one column per lag: the index of the
/// month `k` months before the as-of month.
fn lag_indexes(
    indexes: &DataFrame,
    group: &[Expr],
    level: &str,
) -> Result<DataFrame, FeatureError> {
    let mut out = indexes
        .clone()
        .lazy()
        .select(group)
        .unique(None, UniqueKeepStrategy::Any);
    for k in 0..SEASONAL_LAGS {
        let mut keys = group.to_vec();
        keys.push(col("month_of_year"));
        let lagged = indexes
            .clone()
            .lazy()
            .rename(["index"], [index_name(level, k)], true);
        out = out
            .with_columns([((col("as_of_month") - lit(k as i32)) % lit(12)).alias("month_of_year")])
            .join(lagged, keys.clone(), keys, JoinArgs::new(JoinType::Left))
            .drop(cols(["month_of_year"]));
    }
    out.collect().step("the seasonal profile")
}

fn as_of_frame(as_of_months: &[i32]) -> DataFrame {
    DataFrame::new(
        as_of_months.len(),
        vec![Column::new("as_of_month".into(), as_of_months.to_vec())],
    )
    .expect("one column frame")
}
