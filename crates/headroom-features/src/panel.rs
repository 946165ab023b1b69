//! The monthly usage panel: usage rolled up to account x metric x month, with
//! missing months as zero, and read back as lag columns (`lag0` is the as-of
//! month, `lag1` the month before, ...) for every as-of month at once.
//!
//! The panel is a dense array, `L` months per account and metric pair (its
//! slot), so the value of slot `i` in month `m` sits at `i * L + (m - first
//! month)`. Taking every `L`-th value from an offset (`gather_every`) then
//! yields one month of every slot as one column, without a join or a window
//! per account.

use chrono::NaiveDate;
use headroom_data::Rollup;
use polars::prelude::*;

use crate::calendar::{DayTable, days_expr, epoch_days, from_epoch_days, is_month_end};
use crate::error::{FeatureError, StepContext};
use crate::exprs::join_ordered;

/// Lag columns read from the panel: `lag0` (the as-of month) to `lag21`.
/// The own seasonal index of the month three months back reads the same month
/// a year earlier (lag 15) and six months either side of it (lag 21).
pub const LAGS: usize = 22;

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

/// Metric counts up to which a chain of string comparisons maps metric names
/// to keys. For a handful of metrics the chain took about a third of the time
/// of a join on the synthetic example (`examples/synthetic.rs`).
const COMPARED_METRICS: usize = 16;

/// Usage rows with integer keys.
pub struct IndexedUsage {
    /// `acct_idx`, `industry_group`, `metric_idx`, `month`, `date_days`,
    /// `value`.
    pub rows: DataFrame,
    /// Rows of known accounts dropped because their metric was not listed.
    pub unknown_metric_rows: usize,
}

/// Selects the usage rows dated on or before `until` and adds integer keys.
///
/// `metrics` lists the metric names by key. Rows of accounts missing from the
/// accounts table, or of metrics not in `metrics`, are dropped.
pub fn index_usage(
    usage: &DataFrame,
    accounts: &DataFrame,
    metrics: &[String],
    until: NaiveDate,
) -> Result<IndexedUsage, FeatureError> {
    let account_keys =
        accounts
            .clone()
            .lazy()
            .select([col("account_id"), col("acct_idx"), col("industry_group")]);
    let until = epoch_days(until);
    let day_numbers = usage
        .column("date")
        .and_then(|c| c.cast(&DataType::Int32))
        .step("the indexed usage")?;
    let day_numbers = day_numbers.i32().step("the indexed usage")?;
    let first_day = day_numbers.min().unwrap_or(until).min(until);
    let days = DayTable::new(first_day, until);
    let step = "the indexed usage";

    // Filtering copies every column, so it is skipped when no row is later.
    let dated = usage
        .clone()
        .lazy()
        .with_columns([days_expr(col("date")).alias("date_days")]);
    let dated = if day_numbers.max().is_some_and(|last| last > until) {
        dated.filter(col("date_days").lt_eq(lit(until)))
    } else {
        dated
    };
    let dated = dated
        .select([
            col("account_id"),
            col("metric"),
            col("date_days"),
            col("value"),
        ])
        .collect()
        .step(step)?;

    let keyed = with_account_keys(dated, account_keys)?;
    let keyed = if metrics.len() <= COMPARED_METRICS {
        keyed.with_columns([metric_key_expr(metrics).alias("metric_idx")])
    } else {
        let index = crate::index::metric_index(metrics)?;
        join_ordered(keyed, index.lazy(), &[col("metric")], JoinType::Left)
    };
    let rows = keyed
        .select([
            col("acct_idx"),
            col("industry_group"),
            col("metric_idx"),
            days.month(col("date_days")).alias("month"),
            col("date_days"),
            col("value"),
        ])
        .collect()
        .step(step)?;

    // Rows of unknown accounts or metrics are dropped; the filter copies every
    // column, so it runs only when there are such rows.
    let unknown = ["acct_idx", "metric_idx"]
        .iter()
        .map(|name| rows.column(name).map(|c| c.null_count()))
        .sum::<PolarsResult<usize>>()
        .step(step)?;
    if unknown == 0 {
        return Ok(IndexedUsage {
            rows,
            unknown_metric_rows: 0,
        });
    }
    let unknown_metric = col("acct_idx")
        .is_not_null()
        .and(col("metric_idx").is_null());
    let counted = rows
        .clone()
        .lazy()
        .select([unknown_metric.sum().cast(DataType::UInt64).alias("rows")])
        .collect()
        .step(step)?;
    let unknown_metric_rows = counted
        .column("rows")
        .and_then(|c| c.u64().cloned())
        .step(step)?
        .get(0)
        .unwrap_or(0) as usize;
    let rows = rows
        .lazy()
        .filter(
            col("acct_idx")
                .is_not_null()
                .and(col("metric_idx").is_not_null()),
        )
        .collect()
        .step(step)?;
    Ok(IndexedUsage {
        rows,
        unknown_metric_rows,
    })
}

/// Adds `acct_idx` and `industry_group` to usage rows by `account_id`, in the
/// rows' order (null for accounts missing from the index).
///
/// Exports usually list an account's rows together. Then only the first row
/// of each run of equal ids is joined and the run's keys are copied to its
/// rows, at a fraction of the cost of joining every row. Otherwise every row
/// is joined.
fn with_account_keys(rows: DataFrame, keys: LazyFrame) -> Result<LazyFrame, FeatureError> {
    let step = "the indexed usage";
    let new_run = col("account_id")
        .neq(col("account_id").shift(lit(1)))
        .fill_null(lit(true));
    let rows = rows
        .lazy()
        .with_columns([new_run.cast(DataType::UInt32).cum_sum(false).alias("run")])
        .collect()
        .step(step)?;
    let runs = rows
        .column("run")
        .and_then(|c| c.u32().cloned())
        .step(step)?
        .max()
        .unwrap_or(0) as usize;

    if runs * 4 > rows.height() {
        return Ok(join_ordered(
            rows.lazy(),
            keys,
            &[col("account_id")],
            JoinType::Left,
        ));
    }
    let first_rows = rows
        .clone()
        .lazy()
        .filter(
            col("run")
                .neq(col("run").shift(lit(1)))
                .fill_null(lit(true)),
        )
        .select([col("account_id")]);
    let run_keys = join_ordered(first_rows, keys, &[col("account_id")], JoinType::Left)
        .collect()
        .step(step)?;
    let run_key = |name: &str| -> Result<Expr, FeatureError> {
        let values = run_keys
            .column(name)
            .step(step)?
            .as_materialized_series()
            .clone();
        Ok(lit(values)
            .gather(col("run") - lit(1u32), false)
            .alias(name))
    };
    Ok(rows
        .lazy()
        .with_columns([run_key("acct_idx")?, run_key("industry_group")?]))
}

/// Maps `metric` to its position in `metrics` (`UInt32`, null when absent).
fn metric_key_expr(metrics: &[String]) -> Expr {
    let mut key = lit(NULL).cast(DataType::UInt32);
    for (idx, name) in metrics.iter().enumerate().rev() {
        key = when(col("metric").eq(lit(name.as_str())))
            .then(lit(idx as u32).cast(DataType::UInt32))
            .otherwise(key);
    }
    key
}

/// The first month with usage of each account and each metric, and of the
/// whole portfolio.
pub struct FirstMonths {
    /// The first usage month by `acct_idx` (null without usage).
    ///
    /// An account has usage on or before T exactly when this month is on or
    /// before T's month, so later rows cannot change the features at T.
    pub by_account: Series,
    /// The first month with data by `metric_idx`: months before it are
    /// unobserved, not zero.
    pub by_metric: Series,
    /// The first month with any usage.
    pub portfolio_start: Option<i32>,
    /// Whether every row is dated on the last day of a month, so that each
    /// account, metric and month has one row and needs no rollup.
    pub monthly_grain: bool,
}

/// Finds the first usage months, and whether the usage is monthly, in one pass
/// over the usage rows.
///
/// A group-by per account over every usage row costs more than this loop,
/// which only keeps a running minimum per account and per metric.
pub fn first_months(
    rows: &DataFrame,
    n_accounts: usize,
    n_metrics: u32,
) -> Result<FirstMonths, FeatureError> {
    let step = "the history starts";
    let accounts = rows
        .column("acct_idx")
        .and_then(|c| c.u32().cloned())
        .step(step)?;
    let metrics = rows
        .column("metric_idx")
        .and_then(|c| c.u32().cloned())
        .step(step)?;
    let months = rows
        .column("month")
        .and_then(|c| c.i32().cloned())
        .step(step)?;
    let days = rows
        .column("date_days")
        .and_then(|c| c.i32().cloned())
        .step(step)?;

    // Month ends of the days the usage spans, looked up per row.
    let first_day = days.min().unwrap_or(0);
    let month_ends: Vec<bool> = (first_day..=days.max().unwrap_or(first_day))
        .map(|d| is_month_end(from_epoch_days(d)))
        .collect();
    let monthly_grain = days
        .into_no_null_iter()
        .all(|day| month_ends[(day - first_day) as usize]);

    let mut by_account: Vec<Option<i32>> = vec![None; n_accounts];
    let mut by_metric: Vec<Option<i32>> = vec![None; n_metrics as usize];
    let keys = accounts
        .into_no_null_iter()
        .zip(metrics.into_no_null_iter());
    for ((account, metric), month) in keys.zip(months.into_no_null_iter()) {
        let first = &mut by_account[account as usize];
        *first = Some(first.map_or(month, |m| m.min(month)));
        let start = &mut by_metric[metric as usize];
        *start = Some(start.map_or(month, |m| m.min(month)));
    }

    let portfolio_start = by_metric.iter().flatten().copied().min();
    Ok(FirstMonths {
        by_account: Series::new("first_usage_month".into(), by_account),
        by_metric: Series::new("metric_start".into(), by_metric),
        portfolio_start,
        monthly_grain,
    })
}

/// Sums monthly usage per metric, industry group and month, for the months
/// `first..=last`, in one pass.
///
/// The few hundred groups fit in an array, which a loop fills several times
/// faster than a polars group-by over every account's months. Rows add in
/// their order, so the sums are the same on every run.
///
/// Columns: `metric_idx`, `industry_group` (null for accounts without one),
/// `month`, `total`; only combinations with rows, sorted.
pub fn totals(
    monthly: &DataFrame,
    first: i32,
    last: i32,
    n_metrics: u32,
) -> Result<DataFrame, FeatureError> {
    let step = "the seasonal profile";
    let groups = monthly
        .column("industry_group")
        .and_then(|c| c.u32().cloned())
        .step(step)?;
    let metrics = monthly
        .column("metric_idx")
        .and_then(|c| c.u32().cloned())
        .step(step)?;
    let months = monthly
        .column("month")
        .and_then(|c| c.i32().cloned())
        .step(step)?;
    let values = monthly
        .column("value")
        .and_then(|c| c.f64().cloned())
        .step(step)?;

    // Group g is stored at g; accounts without a group at n_groups.
    let n_groups = groups.max().map_or(0, |g| g as usize + 1);
    let width = (last - first + 1).max(0) as usize;
    let cells = n_metrics as usize * (n_groups + 1) * width;
    let mut sums = vec![0.0; cells];
    let mut seen = vec![false; cells];
    let rows = groups
        .iter()
        .zip(metrics.into_no_null_iter())
        .zip(months.into_no_null_iter())
        .zip(values.iter());
    for (((group, metric), month), value) in rows {
        let Some(value) = value else { continue };
        if month < first || month > last {
            continue;
        }
        let group = group.map_or(n_groups, |g| g as usize);
        let cell = (metric as usize * (n_groups + 1) + group) * width + (month - first) as usize;
        sums[cell] += value;
        seen[cell] = true;
    }

    let mut metric_col = Vec::new();
    let mut group_col = Vec::new();
    let mut month_col = Vec::new();
    let mut total_col = Vec::new();
    for (cell, total) in sums.iter().enumerate().filter(|(c, _)| seen[*c]) {
        let month = cell % width;
        let group = (cell / width) % (n_groups + 1);
        let metric = cell / width / (n_groups + 1);
        metric_col.push(metric as u32);
        group_col.push((group < n_groups).then_some(group as u32));
        month_col.push(first + month as i32);
        total_col.push(*total);
    }
    DataFrame::new(
        total_col.len(),
        vec![
            Column::new("metric_idx".into(), metric_col),
            Column::new("industry_group".into(), group_col),
            Column::new("month".into(), month_col),
            Column::new("total".into(), total_col),
        ],
    )
    .step(step)
}

/// Rolls usage up to one value per account, metric and month for the months
/// `first..=last`, each metric by its rollup. Usage of `monthly_grain` (one
/// row per account, metric and month) is passed through.
///
/// Columns: `acct_idx`, `industry_group`, `metric_idx`, `month`, `value`.
pub fn monthly(
    rows: &DataFrame,
    first: i32,
    last: i32,
    rollups: &[(u32, Rollup)],
    monthly_grain: bool,
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
    if monthly_grain {
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

/// The account and metric pairs of a dense panel, each with its slot. The
/// panel contains `months` values per slot, slot after slot.
pub struct Slots {
    /// Composite keys in ascending order; a key's slot is its position.
    composites: Vec<u64>,
    /// The slot of each composite key, `u32::MAX` where the key is absent.
    slot_of: Vec<u32>,
}

impl Slots {
    /// Collects the distinct keys of `UInt64` composite-key columns, all below
    /// `space` (accounts times metrics).
    pub fn new(columns: &[&Column], space: u64) -> Result<Slots, FeatureError> {
        let mut present = vec![false; space as usize];
        for column in columns {
            for key in u64_values(column)? {
                present[key as usize] = true;
            }
        }

        let mut composites = Vec::new();
        let mut slot_of = vec![u32::MAX; space as usize];
        for (key, _) in present.iter().enumerate().filter(|(_, p)| **p) {
            slot_of[key] = composites.len() as u32;
            composites.push(key as u64);
        }
        Ok(Slots {
            composites,
            slot_of,
        })
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        self.composites.len()
    }

    /// The composite key of every slot, as a column.
    fn column(&self) -> Column {
        Column::new("composite".into(), self.composites.clone())
    }

    fn slot(&self, composite: u64) -> Option<usize> {
        match self.slot_of.get(composite as usize) {
            Some(&slot) if slot != u32::MAX => Some(slot as usize),
            _ => None,
        }
    }
}

/// The values of a `UInt64` column without nulls.
fn u64_values(column: &Column) -> Result<Vec<u64>, FeatureError> {
    let values = column.u64().step("the panel keys")?;
    if values.null_count() > 0 {
        return Err(FeatureError::Polars {
            step: "the panel keys",
            source: polars_err!(ComputeError: "a panel key is null"),
        });
    }
    Ok(values.into_no_null_iter().collect())
}

/// Places each `(composite, offset, value)` row of `rows` into a dense panel of
/// `months` values per slot, zero where no row falls. Rows of keys without a
/// slot are skipped.
///
/// polars has no scatter in this build's features and a join onto a full grid
/// costs about ten times as much, so this one step is a plain loop over three
/// arrays. It fails when two rows fall in the same place.
fn scatter(rows: &DataFrame, slots: &Slots, months: usize) -> Result<Vec<f64>, FeatureError> {
    let composites = u64_values(rows.column("composite").step("the monthly usage panel")?)?;
    let offsets = rows.column("offset").and_then(|c| c.u32().cloned());
    let offsets = offsets.step("the monthly usage panel")?;
    let values = rows.column("value").and_then(|c| c.f64().cloned());
    let values = values.step("the monthly usage panel")?;

    let mut panel = vec![0.0; slots.len() * months];
    let mut filled = vec![false; slots.len() * months];
    let rows = composites.iter().zip(offsets.iter()).zip(values.iter());
    for ((&composite, offset), value) in rows {
        let (Some(slot), Some(offset), Some(value)) = (slots.slot(composite), offset, value) else {
            continue;
        };
        let cell = slot * months + offset as usize;
        if filled[cell] {
            return Err(FeatureError::Polars {
                step: "the monthly usage panel",
                source: polars_err!(ComputeError: "a panel cell received more than one value"),
            });
        }
        filled[cell] = true;
        panel[cell] = value;
    }
    Ok(panel)
}

/// Reads one column per `(name, k)` from a dense panel at each as-of month: the
/// value of every slot `k` months before it.
fn read_lags(
    panel: &Series,
    slots: &Slots,
    months: usize,
    first: i32,
    as_of_months: &[i32],
    columns: &[(String, usize)],
) -> Result<DataFrame, FeatureError> {
    let mut out: Option<DataFrame> = None;
    for &month in as_of_months {
        let offset = (month - first) as usize;
        let mut frame = vec![
            slots.column(),
            Column::new_scalar("as_of_month".into(), month.into(), slots.len()),
        ];
        for (name, back) in columns {
            let values = panel
                .gather_every(months, offset - back)
                .step("the lag columns")?;
            frame.push(values.with_name(name.as_str().into()).into_column());
        }
        let frame = DataFrame::new(slots.len(), frame).step("the lag columns")?;
        match out.as_mut() {
            Some(all) => {
                all.vstack_mut_owned(frame).step("the lag columns")?;
            }
            None => out = Some(frame),
        }
    }
    let mut out = out.expect("at least one as-of month");
    out.rechunk_mut();
    Ok(out)
}

/// Selects the rolled-up usage of the months the lag columns read: the
/// as-of months and the [`LAGS`] - 1 months before the first.
///
/// Columns: `composite`, `offset` (months since the first read), `value`.
pub fn lag_window(
    monthly: &DataFrame,
    n_metrics: u32,
    as_of_months: &[i32],
) -> Result<DataFrame, FeatureError> {
    let first = as_of_months[0] - (LAGS as i32 - 1);
    let last = *as_of_months.last().expect("at least one as-of month");
    monthly
        .clone()
        .lazy()
        .filter(
            col("month")
                .gt_eq(lit(first))
                .and(col("month").lt_eq(lit(last))),
        )
        .select([
            composite_expr(n_metrics).alias("composite"),
            (col("month") - lit(first))
                .cast(DataType::UInt32)
                .alias("offset"),
            col("value"),
        ])
        .collect()
        .step("the monthly usage panel")
}

/// Reads the lag columns of every slot at every as-of month.
///
/// `window` contains the rolled-up usage of [`lag_window`] and `as_of_months`
/// the as-of months in ascending order. Missing months are zero here; months
/// before a key's history are masked later.
///
/// Columns: `acct_idx`, `metric_idx`, `as_of_month`, `lag0` .. `lag21`.
pub fn lag_frame(
    window: &DataFrame,
    slots: &Slots,
    n_metrics: u32,
    as_of_months: &[i32],
) -> Result<DataFrame, FeatureError> {
    let first = as_of_months[0] - (LAGS as i32 - 1);
    let last = *as_of_months.last().expect("at least one as-of month");
    let width = (last - first + 1) as usize;
    let rows = window;
    let panel = Series::new("value".into(), scatter(rows, slots, width)?);

    let columns: Vec<(String, usize)> = (0..LAGS).map(|k| (lag_name(k), k)).collect();
    let frame = read_lags(&panel, slots, width, first, as_of_months, &columns)?;
    let mut exprs: Vec<Expr> = split_composite(n_metrics).into();
    exprs.push(col("as_of_month"));
    exprs.extend((0..LAGS).map(lag));
    frame.lazy().select(exprs).collect().step("the lag columns")
}

/// Use counts of boolean-feature metrics in three windows ending at each as-of
/// month: `used_recent` (the as-of month and the two before, about 90 days),
/// `used_previous` (the three months before those) and `used_ever` (every month
/// with data up to the as-of month). A month counts as used when its usage is
/// positive.
///
/// Counts come from a running total over a dense panel of used months, so each
/// window is a difference of two strided reads.
///
/// Columns: `acct_idx`, `metric_idx`, `as_of_month`, `used_recent`,
/// `used_previous`, `used_ever` (all `Float64`).
pub fn feature_use(
    rows: &DataFrame,
    slots: &Slots,
    n_metrics: u32,
    as_of_months: &[i32],
) -> Result<DataFrame, FeatureError> {
    let last = *as_of_months.last().expect("at least one as-of month");
    let metrics: Vec<u32> = {
        let mut m: Vec<u32> = slots
            .composites
            .iter()
            .map(|c| (c % u64::from(n_metrics)) as u32)
            .collect();
        m.sort_unstable();
        m.dedup();
        m
    };
    let events = rows
        .clone()
        .lazy()
        .filter(
            col("metric_idx")
                .is_in(
                    lit(Series::new("metrics".into(), metrics)).implode(true),
                    false,
                )
                .and(col("value").gt(lit(0.0)))
                .and(col("month").lt_eq(lit(last))),
        )
        .select([composite_expr(n_metrics).alias("composite"), col("month")])
        .collect()
        .step("the feature use")?;
    let first_event = events
        .column("month")
        .and_then(|c| c.i32().cloned())
        .step("the feature use")?
        .min();
    let reach = as_of_months[0] - ADOPTION_REACH;
    let first = first_event.map_or(reach, |month| month.min(reach));
    let width = (last - first + 1) as usize;

    // Running count of used months per slot: `through` includes the month,
    // `before` excludes it, so a window [from, to] holds through[to] - before[from].
    let mut through = vec![0u32; slots.len() * width];
    let composites = u64_values(events.column("composite").step("the feature use")?)?;
    let months = events.column("month").and_then(|c| c.i32().cloned());
    let months = months.step("the feature use")?;
    for (&composite, month) in composites.iter().zip(months.iter()) {
        if let (Some(slot), Some(month)) = (slots.slot(composite), month) {
            through[slot * width + (month - first) as usize] = 1;
        }
    }
    let used: Vec<u32> = through.clone();
    let mut running = 0u32;
    for (cell, value) in through.iter_mut().enumerate() {
        if cell % width == 0 {
            running = 0;
        }
        running += *value;
        *value = running;
    }
    let before: Vec<u32> = through.iter().zip(&used).map(|(t, u)| t - u).collect();
    let through = Series::new("through".into(), through);
    let before = Series::new("before".into(), before);

    let mut out: Option<DataFrame> = None;
    for &month in as_of_months {
        let offset = (month - first) as usize;
        let window = |to: usize, from: usize, name: &str| -> Result<Column, FeatureError> {
            let to = through.gather_every(width, to).step("the feature use")?;
            let from = before.gather_every(width, from).step("the feature use")?;
            let count = (&to - &from).step("the feature use")?;
            let count = count.cast(&DataType::Float64).step("the feature use")?;
            Ok(count.with_name(name.into()).into_column())
        };
        let frame = DataFrame::new(
            slots.len(),
            vec![
                slots.column(),
                Column::new_scalar("as_of_month".into(), month.into(), slots.len()),
                window(offset, offset - 2, "used_recent")?,
                window(offset - 3, offset - 5, "used_previous")?,
                window(offset, 0, "used_ever")?,
            ],
        )
        .step("the feature use")?;
        match out.as_mut() {
            Some(all) => {
                all.vstack_mut_owned(frame).step("the feature use")?;
            }
            None => out = Some(frame),
        }
    }
    let mut exprs: Vec<Expr> = split_composite(n_metrics).into();
    exprs.extend(["as_of_month", "used_recent", "used_previous", "used_ever"].map(col));
    out.expect("at least one as-of month")
        .lazy()
        .select(exprs)
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> LazyFrame {
        df!(
            "account_id" => ["a", "b", "c"],
            "acct_idx" => [0u32, 1, 2],
            "industry_group" => [Some(1u32), None, Some(2)],
        )
        .unwrap()
        .lazy()
    }

    fn keyed(ids: &[&str]) -> Vec<Option<u32>> {
        let rows = df!("account_id" => ids).unwrap();
        let out = with_account_keys(rows, keys()).unwrap().collect().unwrap();
        out.column("acct_idx")
            .unwrap()
            .u32()
            .unwrap()
            .iter()
            .collect()
    }

    #[test]
    fn account_keys_by_runs() {
        // Eight rows in three runs: the run path.
        let ids = ["b", "b", "b", "a", "a", "a", "x", "x"];
        let expected = [1, 1, 1, 0, 0, 0].map(Some).into_iter().chain([None, None]);
        assert_eq!(keyed(&ids), expected.collect::<Vec<_>>());
    }

    #[test]
    fn account_keys_by_rows() {
        // Every row starts a run: the row-by-row join.
        let ids = ["a", "c", "a", "x", "b"];
        assert_eq!(keyed(&ids), [Some(0), Some(2), Some(0), None, Some(1)]);
    }

    #[test]
    fn index_usage_counts_rows_of_unlisted_metrics() {
        let day = NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
        let usage = df!(
            "account_id" => ["a", "a", "x", "b"],
            "date" => [day; 4],
            "metric" => ["logins", "api_calls", "api_calls", "api_calls"],
            "value" => [1.0, 2.0, 3.0, 4.0],
        )
        .unwrap();
        let accounts = keys().collect().unwrap();
        let indexed = index_usage(&usage, &accounts, &["logins".to_string()], day).unwrap();
        // Two api_calls rows of known accounts; x is not an account.
        assert_eq!(indexed.unknown_metric_rows, 2);
        assert_eq!(indexed.rows.height(), 1);
        let all = ["api_calls".to_string(), "logins".to_string()];
        let indexed = index_usage(&usage, &accounts, &all, day).unwrap();
        assert_eq!(indexed.unknown_metric_rows, 0);
        assert_eq!(indexed.rows.height(), 3);
    }

    #[test]
    fn account_keys_carry_industry_group() {
        let rows = df!("account_id" => ["c", "c", "c", "c", "b", "b", "b", "b"]).unwrap();
        let out = with_account_keys(rows, keys()).unwrap().collect().unwrap();
        let groups: Vec<Option<u32>> = out
            .column("industry_group")
            .unwrap()
            .u32()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            groups,
            [Some(2), Some(2), Some(2), Some(2), None, None, None, None]
        );
    }
}
