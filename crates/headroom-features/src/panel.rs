//! The monthly usage panel: usage rolled up to account x metric x month, with
//! missing months as zero, and read back as lag columns (`lag0` is the as-of
//! month, `lag1` the month before, ...) for every as-of month at once.
//!
//! The panel is a dense array, `L` months per account and metric pair (its
//! slot), so the value of slot `i` in month `m` sits at `i * L + (m - first
//! month)`. Taking every `L`-th value from an offset (`gather_every`) then
//! yields one month of every slot as one column, without a join or a window
//! per account.

use headroom_data::Rollup;
use polars::prelude::*;

use crate::calendar::from_epoch_days;
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

/// Adds `metric_idx`, the position of `metric` in `metrics` (`UInt32`, null
/// when absent), keeping the rows in their order.
pub fn with_metric_key(rows: LazyFrame, metrics: &[String]) -> Result<LazyFrame, FeatureError> {
    if metrics.len() <= COMPARED_METRICS {
        return Ok(rows.with_columns([metric_key_expr(metrics).alias("metric_idx")]));
    }
    let index = crate::index::metric_index(metrics)?;
    Ok(join_ordered(
        rows,
        index.lazy(),
        &[col("metric")],
        JoinType::Left,
    ))
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
/// whole portfolio ([`crate::scan::scan`] collects them).
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

/// Monthly usage summed per metric, industry group and month, over a span of
/// months: the input of the seasonal profile.
///
/// The few hundred groups fit in an array, which a loop fills several times
/// faster than a polars group-by over every account's months. Rows add in
/// their order, so the sums are the same on every run.
pub struct Totals {
    /// The first month of the span.
    pub first_month: i32,
    /// The months in the span.
    pub months: usize,
    /// The industry groups; accounts without one are summed after them.
    pub n_groups: usize,
    /// Sums by `metric_idx`, then group, then month.
    pub sums: Vec<Vec<f64>>,
    /// Whether any row fell in each cell of `sums`.
    pub seen: Vec<Vec<bool>>,
}

impl Totals {
    /// Builds the frame of the cells with rows, sorted by metric, group (the
    /// accounts without one last) and month.
    ///
    /// Columns: `metric_idx`, `industry_group` (null for accounts without
    /// one), `month`, `total`.
    pub fn to_frame(&self) -> Result<DataFrame, FeatureError> {
        let mut metric_col = Vec::new();
        let mut group_col = Vec::new();
        let mut month_col = Vec::new();
        let mut total_col = Vec::new();
        let width = self.months.max(1);
        for (metric, (sums, seen)) in self.sums.iter().zip(&self.seen).enumerate() {
            for (cell, total) in sums.iter().enumerate().filter(|(c, _)| seen[*c]) {
                let group = cell / width;
                metric_col.push(metric as u32);
                group_col.push((group < self.n_groups).then_some(group as u32));
                month_col.push(self.first_month + (cell % width) as i32);
                total_col.push(*total);
            }
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
        .step("the seasonal profile")
    }
}

/// Sums monthly usage per metric, industry group and month, for the months
/// `first..=last`, in one pass over `monthly` (see [`Totals`]). `groups` contains
/// the industry group of each `acct_idx`.
pub fn totals(
    monthly: &DataFrame,
    (first, last): (i32, i32),
    n_metrics: u32,
    groups: &[Option<u32>],
) -> Result<Totals, FeatureError> {
    let step = "the seasonal profile";
    let accounts = monthly
        .column("acct_idx")
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

    let n_groups = groups.iter().flatten().max().map_or(0, |g| *g as usize + 1);
    let width = (last - first + 1).max(0) as usize;
    let cells = (n_groups + 1) * width;
    let mut sums = vec![vec![0.0; cells]; n_metrics as usize];
    let mut seen = vec![vec![false; cells]; n_metrics as usize];
    let rows = accounts
        .into_no_null_iter()
        .zip(metrics.into_no_null_iter())
        .zip(months.into_no_null_iter())
        .zip(values.iter());
    for (((account, metric), month), value) in rows {
        let Some(value) = value else { continue };
        if month < first || month > last {
            continue;
        }
        let group = groups[account as usize].map_or(n_groups, |g| g as usize);
        let cell = group * width + (month - first) as usize;
        sums[metric as usize][cell] += value;
        seen[metric as usize][cell] = true;
    }
    Ok(Totals {
        first_month: first,
        months: width,
        n_groups,
        sums,
        seen,
    })
}

/// Rolls usage up to one value per account, metric and month for the months
/// `first..=last`, each metric by its rollup. Usage of `monthly_grain` (one
/// row per account, metric and month) is passed through.
///
/// Columns: `acct_idx`, `metric_idx`, `month`, `value`.
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
            .agg([value.alias("value")]);
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
        Ok(Slots::from_present(&present))
    }

    /// Collects the account and metric pairs of the `monthly` rows in the
    /// months `first..=last` and the keys of `columns`, as [`Slots::new`].
    pub fn with_window(
        monthly: &DataFrame,
        (first, last): (i32, i32),
        n_metrics: u32,
        columns: &[&Column],
        space: u64,
    ) -> Result<Slots, FeatureError> {
        let mut present = vec![false; space as usize];
        for column in columns {
            for key in u64_values(column)? {
                present[key as usize] = true;
            }
        }
        for (composite, month, _) in MonthlyRows::read(monthly, n_metrics)?.iter() {
            if month >= first && month <= last {
                present[composite as usize] = true;
            }
        }
        Ok(Slots::from_present(&present))
    }

    fn from_present(present: &[bool]) -> Slots {
        let space = present.len();
        let mut composites = Vec::new();
        let mut slot_of = vec![u32::MAX; space];
        for (key, _) in present.iter().enumerate().filter(|(_, p)| **p) {
            slot_of[key] = composites.len() as u32;
            composites.push(key as u64);
        }
        Slots {
            composites,
            slot_of,
        }
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

/// The columns of monthly usage rows, read by plain loops.
struct MonthlyRows {
    accounts: UInt32Chunked,
    metrics: UInt32Chunked,
    months: Int32Chunked,
    values: Float64Chunked,
    n_metrics: u64,
}

impl MonthlyRows {
    fn read(monthly: &DataFrame, n_metrics: u32) -> Result<MonthlyRows, FeatureError> {
        let step = "the monthly usage panel";
        let column = |name: &str| monthly.column(name).step(step);
        Ok(MonthlyRows {
            accounts: column("acct_idx")?.u32().step(step)?.clone(),
            metrics: column("metric_idx")?.u32().step(step)?.clone(),
            months: column("month")?.i32().step(step)?.clone(),
            values: column("value")?.f64().step(step)?.clone(),
            n_metrics: u64::from(n_metrics),
        })
    }

    /// Iterates `(composite key, month, value)` over the rows.
    fn iter(&self) -> impl Iterator<Item = (u64, i32, Option<f64>)> + '_ {
        self.accounts
            .into_no_null_iter()
            .zip(self.metrics.into_no_null_iter())
            .zip(self.months.into_no_null_iter())
            .zip(self.values.iter())
            .map(|(((account, metric), month), value)| {
                (
                    u64::from(account) * self.n_metrics + u64::from(metric),
                    month,
                    value,
                )
            })
    }
}

/// Places the `monthly` rows of the months `first..first + months` into a
/// dense panel of `months` values per slot, zero where no row falls. Rows of
/// keys without a slot are skipped.
///
/// polars has no scatter in this build's features and a join onto a full grid
/// costs about ten times as much, so this one step is a plain loop over the
/// columns. It fails when two rows fall in the same place.
fn scatter(
    monthly: &DataFrame,
    slots: &Slots,
    n_metrics: u32,
    first: i32,
    months: usize,
) -> Result<Vec<f64>, FeatureError> {
    let rows = MonthlyRows::read(monthly, n_metrics)?;
    let mut panel = vec![0.0; slots.len() * months];
    let mut filled = vec![false; slots.len() * months];
    for (composite, month, value) in rows.iter() {
        let offset = month - first;
        if offset < 0 || offset as usize >= months {
            continue;
        }
        let (Some(slot), Some(value)) = (slots.slot(composite), value) else {
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

/// Returns the months the lag columns read, both included: the as-of months
/// and the [`LAGS`] - 1 months before the first.
pub fn lag_months(as_of_months: &[i32]) -> (i32, i32) {
    let first = as_of_months[0] - (LAGS as i32 - 1);
    let last = *as_of_months.last().expect("at least one as-of month");
    (first, last)
}

/// Reads the lag columns of every slot at every as-of month.
///
/// `monthly` contains the rolled-up usage ([`monthly`]) and `as_of_months`
/// the as-of months in ascending order. Only the rows of the [`lag_months`]
/// are read. Missing months are zero here; months before a key's history are
/// masked later.
///
/// Columns: `acct_idx`, `metric_idx`, `as_of_month`, `lag0` .. `lag21`.
pub fn lag_frame(
    monthly: &DataFrame,
    slots: &Slots,
    n_metrics: u32,
    as_of_months: &[i32],
) -> Result<DataFrame, FeatureError> {
    let (first, last) = lag_months(as_of_months);
    let width = (last - first + 1) as usize;
    let panel = Series::new(
        "value".into(),
        scatter(monthly, slots, n_metrics, first, width)?,
    );

    let columns: Vec<(String, usize)> = (0..LAGS).map(|k| (lag_name(k), k)).collect();
    let frame = read_lags(&panel, slots, width, first, as_of_months, &columns)?;
    let mut exprs: Vec<Expr> = split_composite(n_metrics).into();
    exprs.push(col("as_of_month"));
    exprs.extend((0..LAGS).map(lag));
    frame.lazy().select(exprs).collect().step("the lag columns")
}

/// Use counts of boolean-feature metrics in two windows ending at each as-of
/// month: `used_recent` (the as-of month and the two before, about 90 days)
/// and `used_previous` (the three months before those). `ever_used` is true
/// when the metric was used in any month up to the as-of month. A month
/// counts as used when its usage is positive.
///
/// `rows` must hold every row from five months before the first as-of month,
/// and `first_used` the first month with use by metric and then account.
/// Counts come from a running total over a dense panel of used months, so each
/// window is a difference of two strided reads.
///
/// Columns: `acct_idx`, `metric_idx`, `as_of_month`, `used_recent`,
/// `used_previous` (`Float64`), `ever_used` (`Boolean`).
pub fn feature_use(
    rows: &DataFrame,
    first_used: &[Vec<Option<i32>>],
    slots: &Slots,
    n_metrics: u32,
    as_of_months: &[i32],
) -> Result<DataFrame, FeatureError> {
    let step = "the feature use";
    let last = *as_of_months.last().expect("at least one as-of month");
    let first = as_of_months[0] - ADOPTION_REACH;
    let width = (last - first + 1) as usize;

    // Running count of used months per slot: `through` includes the month,
    // `before` excludes it, so a window [from, to] holds through[to] - before[from].
    let mut through = vec![0u32; slots.len() * width];
    for (composite, month, value) in MonthlyRows::read(rows, n_metrics)?.iter() {
        if month < first || month > last || !value.is_some_and(|v| v > 0.0) {
            continue;
        }
        if let Some(slot) = slots.slot(composite) {
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
    let n = u64::from(n_metrics);
    let first_use: Vec<Option<i32>> = slots
        .composites
        .iter()
        .map(|c| first_used[(c % n) as usize][(c / n) as usize])
        .collect();

    let mut out: Option<DataFrame> = None;
    for &month in as_of_months {
        let offset = (month - first) as usize;
        let window = |to: usize, from: usize, name: &str| -> Result<Column, FeatureError> {
            let to = through.gather_every(width, to).step(step)?;
            let from = before.gather_every(width, from).step(step)?;
            let count = (&to - &from).step(step)?;
            let count = count.cast(&DataType::Float64).step(step)?;
            Ok(count.with_name(name.into()).into_column())
        };
        let ever_used: Vec<bool> = first_use
            .iter()
            .map(|first| first.is_some_and(|m| m <= month))
            .collect();
        let frame = DataFrame::new(
            slots.len(),
            vec![
                slots.column(),
                Column::new_scalar("as_of_month".into(), month.into(), slots.len()),
                window(offset, offset - 2, "used_recent")?,
                window(offset - 3, offset - 5, "used_previous")?,
                Column::new("ever_used".into(), ever_used),
            ],
        )
        .step(step)?;
        match out.as_mut() {
            Some(all) => {
                all.vstack_mut_owned(frame).step(step)?;
            }
            None => out = Some(frame),
        }
    }
    let mut exprs: Vec<Expr> = split_composite(n_metrics).into();
    exprs.extend(["as_of_month", "used_recent", "used_previous", "ever_used"].map(col));
    out.expect("at least one as-of month")
        .lazy()
        .select(exprs)
        .collect()
        .step(step)
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
