//! Runs the feature steps for a list of as-of dates and assembles one row per
//! active account and date.

use chrono::NaiveDate;
use headroom_data::{Rollup, Tables};
use polars::prelude::*;

use crate::assemble::{Parts, assemble};
use crate::calendar::{as_of_month, days_expr, epoch_days};
use crate::contracts::{self, Active};
use crate::currency;
use crate::error::{FeatureError, StepContext};
use crate::exprs::{max_across, min_across};
use crate::index::{self, distinct_strings};
use crate::names::ColumnNames;
use crate::options::FeatureOptions;
use crate::panel::{self, FirstMonths, LAGS, Slots, composite_expr, lag};
use crate::scan::{self, ScanRequest, ScannedUsage};
use crate::seasonal::{self, PROFILE_MONTHS};
use crate::series;

/// Shared inputs of the steps.
pub struct Context<'a> {
    pub tables: &'a Tables,
    pub options: &'a FeatureOptions,
    pub snapshot: bool,
    /// The last as-of date; no row dated after it is read.
    pub until: NaiveDate,
    /// As-of months, ascending, one per date.
    pub months: Vec<i32>,
    /// `as_of` (Date), `as_of_days`, `as_of_month`.
    pub dates: DataFrame,
    /// The account index ([`index::account_index`]).
    pub accounts: DataFrame,
    /// Metric names by `metric_idx`.
    pub metrics: Vec<String>,
    /// Entitlement names of the contracts started on or before `until`,
    /// sorted.
    pub entitlement_names: Vec<String>,
    /// `metric`, `metric_idx`.
    pub metric_index: DataFrame,
    /// The date of the project's first outcome, as days; outcome counts are
    /// unknown (null) before it.
    pub first_outcome_days: Option<i32>,
}

impl<'a> Context<'a> {
    fn new(
        tables: &'a Tables,
        dates: &[NaiveDate],
        options: &'a FeatureOptions,
        accounts: DataFrame,
        metrics: Vec<String>,
    ) -> Result<Context<'a>, FeatureError> {
        let snapshot = tables.meta.snapshot_date.is_some();
        let until = *dates.last().expect("at least one as-of date");
        let months: Vec<i32> = dates.iter().map(|d| as_of_month(*d, snapshot)).collect();
        let days: Vec<i32> = dates.iter().map(|d| epoch_days(*d)).collect();
        let dates_frame = DataFrame::new(
            dates.len(),
            vec![
                Column::new("as_of_days".into(), days.clone()),
                Column::new("as_of_month".into(), months.clone()),
            ],
        )
        .and_then(|df| {
            df.lazy()
                .with_columns([col("as_of_days").cast(DataType::Date).alias("as_of")])
                .collect()
        })
        .step("the as-of dates")?;

        let entitlement_names = entitlement_names(tables, until)?;
        let metric_index = index::metric_index(&metrics)?;
        let first_outcome_days = tables
            .outcomes
            .column("date")
            .and_then(|c| c.cast(&DataType::Int32))
            .step("the outcome dates")?
            .i32()
            .step("the outcome dates")?
            .min();
        Ok(Context {
            tables,
            options,
            snapshot,
            until,
            months,
            dates: dates_frame,
            accounts,
            metrics,
            entitlement_names,
            metric_index,
            first_outcome_days,
        })
    }

    pub fn n_metrics(&self) -> u32 {
        self.metrics.len().max(1) as u32
    }

    pub fn metric_idx(&self, name: &str) -> Option<u32> {
        self.metrics
            .iter()
            .position(|m| m == name)
            .map(|i| i as u32)
    }

    /// Builds the one-integer key of an account and as-of month (`obs_key`,
    /// `UInt64`) from `acct_idx` and `as_of_month`.
    pub fn obs_key(&self) -> Expr {
        let span = (self.last_month() - self.first_month() + 1) as u64;
        (col("acct_idx").cast(DataType::UInt64) * lit(span)
            + (col("as_of_month") - lit(self.first_month())).cast(DataType::UInt64))
        .alias("obs_key")
    }

    /// Builds the one-integer key of an account, metric and as-of month
    /// (`series_key`, `UInt64`).
    pub fn series_key(&self) -> Expr {
        let span = (self.last_month() - self.first_month() + 1) as u64;
        (composite_expr(self.n_metrics()) * lit(span)
            + (col("as_of_month") - lit(self.first_month())).cast(DataType::UInt64))
        .alias("series_key")
    }

    /// `as_of_days` of the row's `as_of_month`.
    pub fn as_of_days(&self) -> Expr {
        let first = self.first_month();
        let span = (self.last_month() - first + 1) as usize;
        let mut days: Vec<Option<i32>> = vec![None; span];
        let months = self
            .dates
            .column("as_of_month")
            .and_then(|c| c.i32().cloned());
        let values = self
            .dates
            .column("as_of_days")
            .and_then(|c| c.i32().cloned());
        if let (Ok(months), Ok(values)) = (months, values) {
            for (month, value) in months.iter().zip(values.iter()) {
                if let Some(month) = month {
                    days[(month - first) as usize] = value;
                }
            }
        }
        let table = Series::new("as_of_days".into(), days);
        lookup(
            &table,
            (col("as_of_month") - lit(first)).cast(DataType::UInt32),
        )
        .alias("as_of_days")
    }

    /// Returns the number of possible composite keys: accounts times metrics.
    pub fn key_space(&self) -> u64 {
        self.accounts.height() as u64 * u64::from(self.n_metrics())
    }

    pub fn first_month(&self) -> i32 {
        self.months[0]
    }

    pub fn last_month(&self) -> i32 {
        *self.months.last().expect("at least one as-of month")
    }
}

/// Lists the entitlement names of the contracts started on or before `until`,
/// sorted.
fn entitlement_names(tables: &Tables, until: NaiveDate) -> Result<Vec<String>, FeatureError> {
    let started = tables
        .contracts
        .clone()
        .lazy()
        .filter(days_expr(col("start_date")).lt_eq(lit(epoch_days(until))))
        .select([col("contract_id")]);
    let names = tables
        .entitlements
        .clone()
        .lazy()
        .semi_join(started, col("contract_id"), col("contract_id"))
        .select([col("entitlement").unique()])
        .collect()
        .step("the entitlement names")?;
    distinct_strings(&names, "entitlement")
}

/// Lists the metrics that an entitlement of a contract started on or before
/// `until` names, sorted.
fn entitled_metrics(tables: &Tables, until: NaiveDate) -> Result<Vec<String>, FeatureError> {
    let started = tables
        .contracts
        .clone()
        .lazy()
        .filter(days_expr(col("start_date")).lt_eq(lit(epoch_days(until))))
        .select([col("contract_id")]);
    let entitled = contracts::effective_entitlements(&tables.entitlements)
        .semi_join(started, col("contract_id"), col("contract_id"))
        .select([col("metric").unique()])
        .collect()
        .step("the metric list")?;
    distinct_strings(&entitled, "metric")
}

/// Reads the usage once for the as-of months of `dates`: the rows of the
/// months the lags read, and the whole-history facts.
fn scan_usage(
    tables: &Tables,
    accounts: &DataFrame,
    dates: &[NaiveDate],
) -> Result<ScannedUsage, FeatureError> {
    let snapshot = tables.meta.snapshot_date.is_some();
    let until = *dates.last().expect("at least one as-of date");
    let first_month = as_of_month(dates[0], snapshot);
    let last_month = as_of_month(until, snapshot);
    let request = ScanRequest {
        accounts,
        listed_metrics: entitled_metrics(tables, until)?,
        until,
        keep_from: panel::lag_months(&[first_month]).0,
        totals: (
            first_month - PROFILE_MONTHS.max(LAGS as i32) + 1,
            last_month,
        ),
        last_used_until: last_month,
    };
    scan::scan(&tables.usage, &request)
}

/// The usage the features read, kept for the reports that need the months
/// before the as-of date.
pub struct FeatureUsage {
    /// The account index: `account_id`, `acct_idx`, ...
    pub accounts: DataFrame,
    /// Metric names by `metric_idx`.
    pub metrics: Vec<String>,
    /// Usage rolled up to one row per account, metric and month (`acct_idx`,
    /// `metric_idx`, `month`, `value`), in table order for monthly usage. It
    /// covers the requested months and the metrics of usage series: those
    /// measuring a seats or metered entitlement, and the primary metric.
    pub monthly: DataFrame,
    /// The first month with data by `metric_idx`.
    pub metric_start: Vec<Option<i32>>,
    /// The last month with a positive value up to the last as-of month, by
    /// `metric_idx` and then `acct_idx`.
    pub last_used: Vec<Vec<Option<i32>>>,
}

/// Computes the features of every active account at each of `dates` (sorted,
/// distinct, with distinct as-of months).
///
/// With `usage_months`, it also returns the monthly usage of that many months
/// up to the last as-of month, of the metrics the usage series of reports
/// read ([`FeatureUsage`]).
pub fn compute(
    tables: &Tables,
    dates: &[NaiveDate],
    options: &FeatureOptions,
    usage_months: Option<usize>,
) -> Result<(DataFrame, Option<FeatureUsage>), FeatureError> {
    let mut clock = Clock::start();
    let until = *dates.last().expect("at least one as-of date");
    let accounts = index::account_index(&tables.accounts, options.min_industry_accounts, until)?;
    let scanned = scan_usage(tables, &accounts, dates)?;
    clock.lap("rows");
    let ctx = Context::new(tables, dates, options, accounts, scanned.metrics.clone())?;
    let reporting = currency::reporting(tables, ctx.until)?;
    clock.lap("context");

    let rows = &scanned.rows;
    let contracts = contracts::indexed_contracts(
        &tables.contracts,
        &ctx.accounts,
        &reporting,
        options.amendments,
    );
    let starts = Starts::new(&ctx, &scanned.firsts, contracts.clone())?;
    let names = ColumnNames::new(&ctx, &starts.used_metrics(&ctx.metrics)?)?;
    clock.lap("starts");
    tracing::debug!(
        dates = dates.len(),
        accounts = ctx.accounts.height(),
        metrics = ctx.metrics.len(),
        "computing features"
    );

    let churned = contracts::churned(&tables.outcomes, &ctx.accounts);
    let active = contracts::active(
        contracts.clone(),
        churned,
        &ctx.dates,
        options.grace_days,
        ctx.obs_key(),
    )?;
    clock.lap("active");
    let limits = limits(&ctx, &active)?;
    clock.lap("limits");

    let monthly = panel::monthly(
        rows,
        scanned.rows_from,
        ctx.last_month(),
        &rollups(&ctx),
        starts.monthly_grain,
    )?;
    clock.lap("monthly");
    let lags = lags(&ctx, rows, &monthly, &limits, &active, &starts)?;
    clock.lap("lags");
    let totals_months = (ctx.first_month() - PROFILE_MONTHS + 1, ctx.last_month());
    let totals = match &scanned.totals {
        Some(totals) => totals.to_frame()?,
        None => panel::totals(
            &monthly,
            totals_months,
            ctx.n_metrics(),
            &industry_groups(&ctx)?,
        )?
        .to_frame()?,
    };
    let (by_industry, portfolio) =
        seasonal::profiles(&totals, &starts.metric_start_frame, &ctx.months)?;
    clock.lap("profiles");
    let series = series_rows(&ctx, &limits, &active, &lags, &by_industry, &portfolio)?;
    clock.lap("series");
    let adoption = adoption(&ctx, &scanned, &limits, &starts)?;
    clock.lap("adoption");
    tracing::debug!(
        active = active.accounts.height(),
        series = series.height(),
        "feature inputs ready"
    );

    let parts = Parts {
        active: &active,
        series: &series,
        lags: &lags,
        adoption,
        starts: &starts,
        contracts,
        reporting: &reporting,
        names: &names,
    };
    let table = assemble(&ctx, parts)?;
    clock.lap("assemble");
    drop((series, lags, active, limits));
    let Some(months) = usage_months else {
        return Ok((table, None));
    };
    let monthly = series_usage(&ctx, monthly, months)?;
    let usage = FeatureUsage {
        metric_start: scanned
            .firsts
            .by_metric
            .i32()
            .step("the history starts")?
            .to_vec(),
        last_used: scanned.last_used,
        accounts: ctx.accounts,
        metrics: ctx.metrics,
        monthly,
    };
    Ok((table, Some(usage)))
}

/// Keeps the `monthly` rows of the last `months` months up to the last as-of
/// month whose metric measures a seats or metered entitlement of any
/// contract, or is the primary metric: the metrics of usage series.
fn series_usage(
    ctx: &Context,
    monthly: DataFrame,
    months: usize,
) -> Result<DataFrame, FeatureError> {
    let step = "the usage series";
    let measured = contracts::effective_entitlements(&ctx.tables.entitlements)
        .filter(col("kind").neq(lit("boolean")))
        .select([col("metric").unique()])
        .collect()
        .step(step)?;
    let mut keys: Vec<u32> = distinct_strings(&measured, "metric")?
        .iter()
        .filter_map(|name| ctx.metric_idx(name))
        .collect();
    keys.extend(ctx.metric_idx(&ctx.options.primary_metric));
    let first = ctx.last_month() - months as i32 + 1;
    monthly
        .lazy()
        .filter(col("month").gt_eq(lit(first)).and(col("metric_idx").is_in(
            lit(Series::new("metrics".into(), keys)).implode(true),
            false,
        )))
        .collect()
        .step(step)
}

/// Returns the industry group of each `acct_idx`.
fn industry_groups(ctx: &Context) -> Result<Vec<Option<u32>>, FeatureError> {
    let groups = ctx
        .accounts
        .column("industry_group")
        .and_then(|c| c.u32().cloned())
        .step("the seasonal profile")?;
    Ok(groups.iter().collect())
}

/// Logs the time of each pipeline step at debug level.
struct Clock {
    last: std::time::Instant,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            last: std::time::Instant::now(),
        }
    }

    fn lap(&mut self, step: &str) {
        let now = std::time::Instant::now();
        tracing::debug!(
            step,
            seconds = (now - self.last).as_secs_f64(),
            "feature step done"
        );
        self.last = now;
    }
}

/// Metrics that roll up by something other than sum: their limits are levels.
fn level_metrics(ctx: &Context) -> Vec<String> {
    ctx.metrics
        .iter()
        .filter(|m| ctx.tables.meta.rollup(m) != Rollup::Sum)
        .cloned()
        .collect()
}

fn rollups(ctx: &Context) -> Vec<(u32, Rollup)> {
    ctx.metrics
        .iter()
        .enumerate()
        .map(|(i, m)| (i as u32, ctx.tables.meta.rollup(m)))
        .collect()
}

/// Sums the limits of the active entitlements and adds their metric key.
fn limits(ctx: &Context, active: &Active) -> Result<DataFrame, FeatureError> {
    contracts::limits(
        &active.contracts,
        &ctx.tables.entitlements,
        &level_metrics(ctx),
    )
    .inner_join(
        ctx.metric_index.clone().lazy(),
        col("metric"),
        col("metric"),
    )
    .collect()
    .step("the entitlement limits")
}

/// Per-account and per-metric facts that bound each series' history, as
/// lookup tables by key.
pub struct Starts {
    /// The first usage month by `acct_idx`.
    pub first_usage: Series,
    /// The month of the first contract start by `acct_idx`.
    pub first_contract: Series,
    /// The first month with data by `metric_idx`.
    pub metric_start: Series,
    /// `metric_idx`, `metric_start`, for the metrics with data.
    pub metric_start_frame: DataFrame,
    /// The first month with any usage in the portfolio.
    pub portfolio_start: Option<i32>,
    /// Whether all usage is dated on month ends (one row per month).
    pub monthly_grain: bool,
}

impl Starts {
    fn new(
        ctx: &Context,
        firsts: &FirstMonths,
        contracts: LazyFrame,
    ) -> Result<Starts, FeatureError> {
        let step = "the history starts";
        let first_contract = contracts::first_contract_month(contracts)
            .collect()
            .step(step)?;
        let first_contract = by_key(
            &first_contract,
            "acct_idx",
            "first_contract_month",
            ctx.accounts.height(),
        )?;
        let keys: Vec<u32> = (0..firsts.by_metric.len() as u32).collect();
        let metric_start_frame = DataFrame::new(
            keys.len(),
            vec![
                Column::new("metric_idx".into(), keys),
                firsts.by_metric.clone().into_column(),
            ],
        )
        .and_then(|df| df.drop_nulls::<String>(None))
        .step(step)?;
        Ok(Starts {
            first_usage: firsts.by_account.clone(),
            first_contract,
            metric_start: firsts.by_metric.clone(),
            metric_start_frame,
            portfolio_start: firsts.portfolio_start,
            monthly_grain: firsts.monthly_grain,
        })
    }

    /// Lists the metrics with usage rows, by name.
    pub fn used_metrics(&self, metrics: &[String]) -> Result<Vec<String>, FeatureError> {
        let starts = self.metric_start.i32().step("the history starts")?;
        Ok(metrics
            .iter()
            .zip(starts.iter())
            .filter(|(_, start)| start.is_some())
            .map(|(name, _)| name.clone())
            .collect())
    }

    /// Returns the first month with data of one metric.
    pub fn metric_start_of(&self, metric_idx: u32) -> Result<Option<i32>, FeatureError> {
        let value = self
            .metric_start
            .i32()
            .step("the history starts")?
            .get(metric_idx as usize);
        Ok(value)
    }

    /// `first_usage_month` of the row's `acct_idx`.
    pub fn first_usage_month(&self) -> Expr {
        lookup(&self.first_usage, col("acct_idx")).alias("first_usage_month")
    }

    /// `first_contract_month` of the row's `acct_idx`.
    pub fn first_contract_month(&self) -> Expr {
        lookup(&self.first_contract, col("acct_idx")).alias("first_contract_month")
    }

    /// `metric_start` of the row's `metric_idx`.
    pub fn metric_start_month(&self) -> Expr {
        lookup(&self.metric_start, col("metric_idx")).alias("metric_start")
    }

    /// Adds `first_usage_month` and `first_contract_month` by `acct_idx`.
    pub fn join_account(&self, frame: LazyFrame) -> LazyFrame {
        frame.with_columns([self.first_usage_month(), self.first_contract_month()])
    }
}

/// Reads `table` at each position `index` (a gather; the table is a literal
/// column and `index` an unsigned key column).
pub fn lookup(table: &Series, index: Expr) -> Expr {
    lit(table.clone()).gather(index, false)
}

/// Spreads a frame of (`key`, `value`) rows into a column of `len` values by
/// key, null where no row has the key.
fn by_key(frame: &DataFrame, key: &str, value: &str, len: usize) -> Result<Series, FeatureError> {
    let step = "the history starts";
    let keys = frame
        .column(key)
        .and_then(|c| c.u32().cloned())
        .step(step)?;
    let values = frame
        .column(value)
        .and_then(|c| c.i32().cloned())
        .step(step)?;
    let mut out: Vec<Option<i32>> = vec![None; len];
    for (k, v) in keys.iter().zip(values.iter()) {
        if let Some(k) = k {
            out[k as usize] = v;
        }
    }
    Ok(Series::new(value.into(), out))
}

/// Computes the month a series' history starts: the later of its metric's first month
/// in the portfolio and the account's first contract or first usage, whichever
/// came first. Null when the metric has no data at all.
fn history_start(metric_start: Expr) -> Expr {
    let account_start = min_across(vec![col("first_contract_month"), col("first_usage_month")]);
    when(metric_start.clone().is_null())
        .then(lit(NULL).cast(DataType::Int32))
        .otherwise(max_across(vec![metric_start, account_start]))
}

/// Reads the lag columns of every series an output row needs, with months before the
/// series' history set to null.
fn lags(
    ctx: &Context,
    rows: &DataFrame,
    monthly: &DataFrame,
    limits: &DataFrame,
    active: &Active,
    starts: &Starts,
) -> Result<DataFrame, FeatureError> {
    let slots = series_keys(ctx, monthly, limits, active)?;
    let frame = match panel::lag_frame(monthly, &slots, ctx.n_metrics(), &ctx.months) {
        Err(
            err @ FeatureError::Polars {
                step: "the monthly usage panel",
                ..
            },
        ) => {
            let duplicate = panel::duplicate_usage(rows, &ctx.accounts, &ctx.metric_index)?;
            return Err(duplicate.unwrap_or(err));
        }
        other => other?,
    };

    let mask: Vec<Expr> = (0..LAGS)
        .map(|k| {
            when((col("as_of_month") - lit(k as i32)).gt_eq(col("history_start")))
                .then(lag(k))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias(panel::lag_name(k))
        })
        .collect();
    starts
        .join_account(frame.lazy())
        .with_columns([starts.metric_start_month()])
        .with_columns([history_start(col("metric_start")).alias("history_start")])
        .with_columns(mask)
        .select({
            let mut cols = vec![col("acct_idx"), col("metric_idx"), col("as_of_month")];
            cols.extend((0..LAGS).map(lag));
            cols
        })
        .collect()
        .step("the lag columns")
}

/// Lists the account and metric pairs whose lags are read: every pair with
/// usage in the months the lags read, every seats or metered entitlement,
/// and the primary metric of every active account.
fn series_keys(
    ctx: &Context,
    monthly: &DataFrame,
    limits: &DataFrame,
    active: &Active,
) -> Result<Slots, FeatureError> {
    let n = ctx.n_metrics();
    let composite = || composite_expr(n).alias("composite");
    let entitled = limits
        .clone()
        .lazy()
        .select([composite()])
        .collect()
        .step("the series keys")?;
    let mut columns = vec![entitled];
    if let Some(primary) = ctx.metric_idx(&ctx.options.primary_metric) {
        let accounts = active
            .accounts
            .clone()
            .lazy()
            .select([(col("acct_idx").cast(DataType::UInt64) * lit(u64::from(n))
                + lit(u64::from(primary)))
            .alias("composite")])
            .collect()
            .step("the series keys")?;
        columns.push(accounts);
    }
    let columns: Vec<&Column> = columns
        .iter()
        .map(|df| df.column("composite").expect("selected above"))
        .collect();
    let window = panel::lag_months(&ctx.months);
    Slots::with_window(monthly, window, n, &columns, ctx.key_space())
}

/// Computes one row per account, as-of month and seats or metered entitlement (plus one
/// row on the primary metric for accounts without such an entitlement), with
/// every per-series feature and the `is_primary` mark.
fn series_rows(
    ctx: &Context,
    limits: &DataFrame,
    active: &Active,
    lags: &DataFrame,
    by_industry: &DataFrame,
    portfolio: &DataFrame,
) -> Result<DataFrame, FeatureError> {
    let columns = [
        col("acct_idx"),
        col("as_of_month"),
        col("entitlement"),
        col("kind"),
        col("metric_idx"),
        col("lim_month"),
        col("lim_day"),
        col("hard"),
    ];
    let entitled = limits
        .clone()
        .lazy()
        .filter(col("kind").neq(lit("boolean")))
        .select(columns.clone());
    let mut parts = vec![entitled.clone()];
    if let Some(primary) = ctx.metric_idx(&ctx.options.primary_metric) {
        let with_key =
            |lf: LazyFrame| lf.select([col("acct_idx"), col("as_of_month"), ctx.obs_key()]);
        let fallback = with_key(active.accounts.clone().lazy())
            .join(
                with_key(entitled.clone()),
                [col("obs_key")],
                [col("obs_key")],
                JoinArgs::new(JoinType::Anti),
            )
            .with_columns([
                lit(NULL).cast(DataType::String).alias("entitlement"),
                lit(NULL).cast(DataType::String).alias("kind"),
                lit(primary).cast(DataType::UInt32).alias("metric_idx"),
                lit(NULL).cast(DataType::Float64).alias("lim_month"),
                lit(NULL).cast(DataType::Float64).alias("lim_day"),
                lit(false).alias("hard"),
            ])
            .select(columns);
        parts.push(fallback);
    }
    let lags = lags
        .clone()
        .lazy()
        .with_columns([ctx.series_key()])
        .drop(cols(["acct_idx", "metric_idx", "as_of_month"]));
    let industry = ctx
        .accounts
        .column("industry_group")
        .step("the series rows")?;
    let industry_key = [col("as_of_month"), col("metric_idx"), col("industry_group")];
    let portfolio_key = [col("as_of_month"), col("metric_idx")];

    concat(parts, UnionArgs::default())
        .step("the series rows")?
        .with_columns([
            ctx.series_key(),
            ctx.obs_key(),
            lookup(industry.as_materialized_series(), col("acct_idx")).alias("industry_group"),
            ctx.as_of_days(),
        ])
        .join(
            lags,
            [col("series_key")],
            [col("series_key")],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            by_industry.clone().lazy(),
            industry_key.clone(),
            industry_key,
            JoinArgs::new(JoinType::Left),
        )
        .join(
            portfolio.clone().lazy(),
            portfolio_key.clone(),
            portfolio_key,
            JoinArgs::new(JoinType::Left),
        )
        .with_columns(series::limit_and_own_index())
        .with_columns(series::utilization_and_index())
        .with_columns(series::adjusted())
        .with_columns(series::features())
        .with_columns([series::limit_date()])
        .with_columns([primary_rank(ctx).alias("primary_rank")])
        .sort(["obs_key", "primary_rank"], SortMultipleOptions::default())
        .with_columns([col("obs_key")
            .neq(col("obs_key").shift(lit(1)))
            .fill_null(lit(true))
            .alias("is_primary")])
        .select(series_output())
        .collect()
        .step("the series features")
}

/// Lists the columns of the series rows the assembly reads. The lag and
/// intermediate columns are dropped to save memory.
fn series_output() -> Vec<Expr> {
    let mut columns: Vec<Expr> = [
        "acct_idx",
        "as_of_month",
        "entitlement",
        "metric_idx",
        "lim_month",
        "hard",
        "is_primary",
        "limit_date",
    ]
    .map(col)
    .to_vec();
    columns.extend(series::FEATURES.iter().map(|name| col(*name)));
    columns
}

/// Builds a rank whose smallest value per account picks its primary
/// entitlement: the configured one, else seats, else a limited entitlement,
/// else an unlimited one, with ties broken by name. The primary-metric row of
/// an account without entitlements comes last.
fn primary_rank(ctx: &Context) -> Expr {
    let configured = match ctx.options.primary_entitlement.as_deref() {
        Some(name) => col("entitlement").eq(lit(name)).fill_null(lit(false)),
        None => lit(false),
    };
    let class = when(configured)
        .then(lit(0u64))
        .when(col("kind").eq(lit("seats")))
        .then(lit(1u64))
        .when(col("lim_month").is_not_null())
        .then(lit(2u64))
        .when(col("entitlement").is_not_null())
        .then(lit(3u64))
        .otherwise(lit(4u64));
    let names = (ctx.entitlement_names.len() + 1) as u64;
    let position = name_position(col("entitlement"), &ctx.entitlement_names)
        .cast(DataType::UInt64)
        .fill_null(lit(names - 1));
    class.cast(DataType::UInt64) * lit(names) + position
}

/// Finds the position of a text expression's value in the sorted `names`
/// (`UInt32`, null when absent), by a chain of comparisons.
pub fn name_position(value: Expr, names: &[String]) -> Expr {
    let mut position = lit(NULL).cast(DataType::UInt32);
    for (idx, name) in names.iter().enumerate().rev() {
        position = when(value.clone().eq(lit(name.as_str())))
            .then(lit(idx as u32).cast(DataType::UInt32))
            .otherwise(position);
    }
    position
}

/// Adoption of the boolean features of the active contracts, per account and
/// as-of month.
fn adoption(
    ctx: &Context,
    scanned: &ScannedUsage,
    limits: &DataFrame,
    starts: &Starts,
) -> Result<DataFrame, FeatureError> {
    let n = ctx.n_metrics();
    let features = limits
        .clone()
        .lazy()
        .filter(col("kind").eq(lit("boolean")))
        .select([
            col("acct_idx"),
            col("as_of_month"),
            col("entitlement"),
            col("metric_idx"),
        ])
        .collect()
        .step("the feature adoption")?;
    let keys = features
        .clone()
        .lazy()
        .select([composite_expr(n).alias("composite")])
        .collect()
        .step("the feature adoption")?;
    let slots = Slots::new(
        &[keys.column("composite").step("the feature adoption")?],
        ctx.key_space(),
    )?;
    let usage = panel::feature_use(&scanned.rows, &scanned.first_used, &slots, n, &ctx.months)?
        .lazy()
        .with_columns([ctx.series_key()])
        .drop(cols(["acct_idx", "metric_idx", "as_of_month"]));

    features
        .lazy()
        .with_columns([ctx.series_key()])
        .join(
            usage,
            [col("series_key")],
            [col("series_key")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([starts.metric_start_month()])
        .filter(col("metric_start").lt_eq(col("as_of_month")))
        .group_by([col("acct_idx"), col("as_of_month")])
        .agg([
            len().cast(DataType::Float64).alias("features_entitled"),
            col("used_recent")
                .gt(lit(0.0))
                .sum()
                .cast(DataType::Float64)
                .alias("features_used_90d"),
            col("used_previous")
                .gt(lit(0.0))
                .sum()
                .cast(DataType::Float64)
                .alias("features_used_before"),
            col("ever_used")
                .not()
                .sum()
                .cast(DataType::Float64)
                .alias("features_never_used"),
            col("entitlement")
                .filter(col("used_recent").eq(lit(0.0)))
                .sort(SortOptions::default())
                .str()
                .join(", ", true)
                .alias("unused_features"),
        ])
        .collect()
        .step("the feature adoption")
}
