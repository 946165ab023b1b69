//! The monthly usage panel: usage rolled up to account x metric x month, with
//! missing months as zero, and read back as lag columns (`lag0` is the as-of
//! month, `lag1` the month before, ...) for every as-of month at once.
//!
//! The panel is a dense grid sorted by key and month, `L` months per key, so the
//! value of key `i` in month `m` sits at row `i * L + (m - first month)`. Taking
//! every `L`-th row from an offset (`gather_every`) then yields one month of
//! every key as one column, without a join or a window per account.

use chrono::NaiveDate;
use headroom_data::Rollup;
use polars::prelude::*;

use crate::calendar::{days_expr, epoch_days, from_epoch_days, month_index_expr};
use crate::error::{FeatureError, StepContext};
use crate::exprs::join_ordered;

/// Lag columns read from the panel: `lag0` (the as-of month) to `lag15`.
/// The own-history seasonal index of the month three months back needs the
/// same month a year earlier (lag 15).
pub const LAGS: usize = 16;

/// Months before the as-of month that the adoption windows reach back: the last
/// three months and the three before them.
const ADOPTION_REACH: i32 = 5;

/// Returns the name of lag column `k`.
pub fn lag_name(k: usize) -> String {
    format!("lag{k}")
}

/// Returns the expression of lag column `k`.
pub fn lag(k: usize) -> Expr {
    col(lag_name(k))
}

/// Builds the `u64` key of an account and metric pair.
pub fn composite_expr(n_metrics: u32) -> Expr {
    col("acct_idx").cast(DataType::UInt64) * lit(u64::from(n_metrics))
        + col("metric_idx").cast(DataType::UInt64)
}

/// Splits a composite key back into `acct_idx` and `metric_idx`.
pub fn split_composite(n_metrics: u32) -> [Expr; 2] {
    let n = lit(u64::from(n_metrics));
    [
        col("composite")
            .floor_div(n.clone())
            .cast(DataType::UInt32)
            .alias("acct_idx"),
        (col("composite") % n)
            .cast(DataType::UInt32)
            .alias("metric_idx"),
    ]
}

/// Usage rows dated on or before `until`, with integer keys.
///
/// Columns: `acct_idx`, `industry_group`, `metric_idx`, `month`, `date_days`,
/// `value`. Rows of accounts missing from the accounts table are dropped.
pub fn index_usage(
    usage: &DataFrame,
    accounts: &DataFrame,
    metrics: &DataFrame,
    until: NaiveDate,
) -> Result<DataFrame, FeatureError> {
    let account_keys =
        accounts
            .clone()
            .lazy()
            .select([col("account_id"), col("acct_idx"), col("industry_group")]);
    let dated = usage
        .clone()
        .lazy()
        .filter(days_expr(col("date")).lt_eq(lit(epoch_days(until))));
    let keyed = join_ordered(dated, account_keys, &[col("account_id")], JoinType::Inner);
    join_ordered(
        keyed,
        metrics.clone().lazy(),
        &[col("metric")],
        JoinType::Inner,
    )
    .select([
        col("acct_idx"),
        col("industry_group"),
        col("metric_idx"),
        month_index_expr(col("date")).alias("month"),
        days_expr(col("date")).alias("date_days"),
        col("value"),
    ])
    .collect()
    .step("the indexed usage")
}

/// Finds the earliest usage month of each account: `acct_idx`,
/// `first_usage_month`.
///
/// An account has usage on or before T exactly when this month is on or before
/// T's month, so later rows in the frame cannot change the features at T.
pub fn first_usage_month(rows: &DataFrame) -> LazyFrame {
    rows.clone()
        .lazy()
        .group_by([col("acct_idx")])
        .agg([col("month").min().alias("first_usage_month")])
}

/// Finds the first month with data of each metric in the portfolio:
/// `metric_idx`, `metric_start`. Months before it are unobserved, not zero.
pub fn metric_start(rows: &DataFrame) -> LazyFrame {
    rows.clone()
        .lazy()
        .group_by([col("metric_idx")])
        .agg([col("month").min().alias("metric_start")])
}

/// Checks whether every usage row is dated on the last day of a month, so that
/// each account, metric and month has one row and needs no rollup.
fn is_monthly_grain(rows: &DataFrame) -> Result<bool, FeatureError> {
    let next_day = (col("date_days") + lit(1)).cast(DataType::Date);
    let out = rows
        .clone()
        .lazy()
        .select([next_day.dt().day().eq(lit(1)).all(true).alias("monthly")])
        .collect()
        .step("the usage grain")?;
    let flag = out
        .column("monthly")
        .and_then(|c| c.bool().cloned())
        .step("the usage grain")?
        .get(0);
    Ok(flag.unwrap_or(true))
}

/// Rolls usage up to one value per account, metric and month for the months
/// `first..=last`, each metric by its rollup.
///
/// Columns: `acct_idx`, `industry_group`, `metric_idx`, `month`, `value`.
pub fn monthly(
    rows: &DataFrame,
    first: i32,
    last: i32,
    rollups: &[(u32, Rollup)],
) -> Result<DataFrame, FeatureError> {
    let in_range = col("month")
        .gt_eq(lit(first))
        .and(col("month").lt_eq(lit(last)));
    let columns = [
        col("acct_idx"),
        col("industry_group"),
        col("metric_idx"),
        col("month"),
        col("value"),
    ];
    if is_monthly_grain(rows)? {
        let months = rows
            .column("month")
            .and_then(|c| c.i32().cloned())
            .step("the monthly usage")?;
        let inside =
            months.min().is_none_or(|m| m >= first) && months.max().is_none_or(|m| m <= last);
        // Selecting whole columns shares their memory; filtering copies them.
        let rows = rows.clone().lazy();
        let rows = if inside { rows } else { rows.filter(in_range) };
        return rows.select(columns).collect().step("the monthly usage");
    }

    let mut parts = Vec::new();
    for rollup in [Rollup::Sum, Rollup::Max, Rollup::Last, Rollup::Mean] {
        let metrics: Vec<u32> = rollups
            .iter()
            .filter(|(_, r)| *r == rollup)
            .map(|(m, _)| *m)
            .collect();
        if metrics.is_empty() {
            continue;
        }
        let value = match rollup {
            Rollup::Sum => col("value").sum(),
            Rollup::Max => col("value").max(),
            Rollup::Mean => col("value").mean(),
            Rollup::Last => col("value")
                .sort_by([col("date_days")], SortMultipleOptions::default())
                .last(),
        };
        let part = rows
            .clone()
            .lazy()
            .filter(in_range.clone().and(col("metric_idx").is_in(
                lit(Series::new("metrics".into(), metrics)).implode(true),
                false,
            )))
            .group_by([col("acct_idx"), col("metric_idx"), col("month")])
            .agg([col("industry_group").first(), value.alias("value")]);
        parts.push(part);
    }
    if parts.is_empty() {
        return rows
            .clone()
            .lazy()
            .filter(lit(false))
            .select(columns)
            .collect()
            .step("the monthly usage");
    }
    // Sorted so that sums over accounts (the seasonal profile) add in the same
    // order on every run.
    concat(parts, UnionArgs::default())
        .and_then(|lf| {
            lf.select(columns)
                .sort(
                    ["acct_idx", "metric_idx", "month"],
                    SortMultipleOptions::default(),
                )
                .collect()
        })
        .step("the monthly usage")
}

/// Builds a dense grid of `keys` (column `composite`, unique) by `months`
/// months, sorted by key then month, with column `cell` = key * months + offset.
fn grid(keys: &DataFrame, months: i32) -> LazyFrame {
    let offsets: Vec<u64> = (0..months as u64).collect();
    let offsets = DataFrame::new(offsets.len(), vec![Column::new("offset".into(), offsets)])
        .expect("one column frame");
    let width = lit(months as u64);
    keys.clone()
        .lazy()
        .select([col("composite")])
        .sort(["composite"], SortMultipleOptions::default())
        .cross_join(offsets.lazy(), None)
        .select([
            col("composite"),
            (col("composite") * width + col("offset")).alias("cell"),
        ])
}

/// Joins values onto a grid, keeping the grid's order, and checks that each
/// cell received at most one value.
fn fill_grid(
    grid: LazyFrame,
    values: LazyFrame,
    expected_rows: usize,
) -> Result<DataFrame, FeatureError> {
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    let mut filled = grid
        .join(values, [col("cell")], [col("cell")], args)
        .collect()
        .step("the monthly usage panel")?;

    if filled.height() != expected_rows {
        return Err(FeatureError::Polars {
            step: "the monthly usage panel",
            source: polars_err!(ComputeError: "a panel cell received more than one value"),
        });
    }
    let sorted = filled
        .clone()
        .lazy()
        .select([col("cell")
            .gt(col("cell").shift(lit(1)))
            .fill_null(lit(true))
            .all(true)])
        .collect()
        .step("the monthly usage panel")?;
    let is_sorted = sorted
        .columns()
        .first()
        .and_then(|c| c.bool().ok().and_then(|b| b.get(0)))
        .unwrap_or(true);
    if !is_sorted {
        filled
            .sort_in_place(["cell"], SortMultipleOptions::default())
            .step("the monthly usage panel")?;
    }
    Ok(filled)
}

/// Reads the lag columns of every key at every as-of month.
///
/// `monthly` contains the rolled-up usage, `keys` the account and metric pairs to
/// read (column `composite`, unique), `as_of_months` the as-of months in
/// ascending order. Missing months are zero here; months before a key's history
/// are masked later.
///
/// Columns: `acct_idx`, `metric_idx`, `as_of_month`, `lag0` .. `lag15`.
pub fn lag_frame(
    monthly: &DataFrame,
    keys: &DataFrame,
    n_metrics: u32,
    as_of_months: &[i32],
) -> Result<DataFrame, FeatureError> {
    let first = as_of_months[0] - (LAGS as i32 - 1);
    let last = *as_of_months.last().expect("at least one as-of month");
    let width = last - first + 1;

    let values = monthly
        .clone()
        .lazy()
        .filter(
            col("month")
                .gt_eq(lit(first))
                .and(col("month").lt_eq(lit(last))),
        )
        .select([
            (composite_expr(n_metrics) * lit(width as u64)
                + (col("month") - lit(first)).cast(DataType::UInt64))
            .alias("cell"),
            col("value"),
        ]);
    let panel = fill_grid(grid(keys, width), values, keys.height() * width as usize)?;

    let mut frames = Vec::with_capacity(as_of_months.len());
    for &month in as_of_months {
        let offset = (month - first) as usize;
        let mut exprs = vec![
            col("composite").gather_every(width as usize, 0),
            lit(month).alias("as_of_month"),
        ];
        for k in 0..LAGS {
            exprs.push(
                col("value")
                    .fill_null(lit(0.0))
                    .gather_every(width as usize, offset - k)
                    .alias(lag_name(k)),
            );
        }
        frames.push(panel.clone().lazy().select(exprs));
    }
    let mut exprs: Vec<Expr> = split_composite(n_metrics).into();
    exprs.push(col("as_of_month"));
    exprs.extend((0..LAGS).map(lag));
    concat(frames, UnionArgs::default())
        .and_then(|lf| lf.select(exprs).collect())
        .step("the lag columns")
}

/// Use counts of boolean-feature metrics in three windows ending at each as-of
/// month: `used_recent` (the as-of month and the two before, about 90 days),
/// `used_previous` (the three months before those) and `used_ever` (every month
/// with data up to the as-of month). A month counts as used when its usage is
/// positive.
///
/// Counts come from a running total over the same dense grid as the lag
/// columns, so each window is a difference of two gathered columns.
///
/// Columns: `acct_idx`, `metric_idx`, `as_of_month`, `used_recent`,
/// `used_previous`, `used_ever` (all `Float64`).
pub fn feature_use(
    rows: &DataFrame,
    keys: &DataFrame,
    n_metrics: u32,
    as_of_months: &[i32],
) -> Result<DataFrame, FeatureError> {
    let last = *as_of_months.last().expect("at least one as-of month");
    let metrics = keys
        .clone()
        .lazy()
        .select([(col("composite") % lit(u64::from(n_metrics)))
            .cast(DataType::UInt32)
            .unique()
            .alias("metric_idx")])
        .collect()
        .step("the feature use")?;
    let metrics = metrics
        .column("metric_idx")
        .step("the feature use")?
        .as_materialized_series()
        .clone();
    let events = rows
        .clone()
        .lazy()
        .filter(
            col("metric_idx")
                .is_in(lit(metrics).implode(true), false)
                .and(col("value").gt(lit(0.0)))
                .and(col("month").lt_eq(lit(last))),
        )
        .select([composite_expr(n_metrics).alias("composite"), col("month")])
        .semi_join(
            keys.clone().lazy().select([col("composite")]),
            col("composite"),
            col("composite"),
        )
        .collect()
        .step("the feature use")?;
    let first_event = events
        .column("month")
        .and_then(|c| c.i32().cloned())
        .step("the feature use")?
        .min();
    let reach = as_of_months[0] - ADOPTION_REACH;
    let first = first_event.map_or(reach, |month| month.min(reach));
    let width = last - first + 1;

    let used = events
        .lazy()
        .select([(col("composite") * lit(width as u64)
            + (col("month") - lit(first)).cast(DataType::UInt64))
        .alias("cell")])
        .unique(None, UniqueKeepStrategy::Any)
        .with_columns([lit(1i64).alias("used")]);
    let panel = fill_grid(grid(keys, width), used, keys.height() * width as usize)?
        .lazy()
        .with_columns([col("used").fill_null(lit(0i64))])
        .with_columns([col("used").cum_sum(false).alias("through")])
        .with_columns([(col("through") - col("used")).alias("before")])
        .collect()
        .step("the feature use")?;

    let window = |to: usize, from: usize| {
        (col("through").gather_every(width as usize, to)
            - col("before").gather_every(width as usize, from))
        .cast(DataType::Float64)
    };
    let mut frames = Vec::with_capacity(as_of_months.len());
    for &month in as_of_months {
        let offset = (month - first) as usize;
        frames.push(panel.clone().lazy().select([
            col("composite").gather_every(width as usize, 0),
            lit(month).alias("as_of_month"),
            window(offset, offset - 2).alias("used_recent"),
            window(offset - 3, offset - 5).alias("used_previous"),
            window(offset, 0).alias("used_ever"),
        ]));
    }
    let mut exprs: Vec<Expr> = split_composite(n_metrics).into();
    exprs.extend(["as_of_month", "used_recent", "used_previous", "used_ever"].map(col));
    concat(frames, UnionArgs::default())
        .and_then(|lf| lf.select(exprs).collect())
        .step("the feature use")
}

/// Finds one account, metric and date that the usage table carries twice, for
/// the error message.
pub fn duplicate_usage(
    rows: &DataFrame,
    accounts: &DataFrame,
    metrics: &DataFrame,
) -> Result<Option<FeatureError>, FeatureError> {
    let found = rows
        .clone()
        .lazy()
        .group_by([col("acct_idx"), col("metric_idx"), col("date_days")])
        .agg([len().alias("rows")])
        .filter(col("rows").gt(lit(1)))
        .sort(
            ["acct_idx", "metric_idx", "date_days"],
            SortMultipleOptions::default(),
        )
        .limit(1)
        .join(
            accounts
                .clone()
                .lazy()
                .select([col("acct_idx"), col("account_id")]),
            [col("acct_idx")],
            [col("acct_idx")],
            JoinArgs::new(JoinType::Inner),
        )
        .join(
            metrics.clone().lazy(),
            [col("metric_idx")],
            [col("metric_idx")],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()
        .step("the duplicate usage check")?;
    if found.height() == 0 {
        return Ok(None);
    }
    let text = |name: &str| -> Result<String, FeatureError> {
        Ok(found
            .column(name)
            .and_then(|c| c.str().cloned())
            .step("the duplicate usage check")?
            .get(0)
            .unwrap_or_default()
            .to_string())
    };
    let days = found
        .column("date_days")
        .and_then(|c| c.i32().cloned())
        .step("the duplicate usage check")?
        .get(0)
        .unwrap_or_default();
    Ok(Some(FeatureError::DuplicateUsage {
        account_id: text("account_id")?,
        metric: text("metric")?,
        date: from_epoch_days(days),
    }))
}
