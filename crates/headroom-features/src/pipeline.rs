//! Runs the feature steps for a list of as-of dates and assembles one row per
//! active account and date.

use chrono::NaiveDate;
use headroom_data::{Rollup, Tables};
use polars::prelude::*;

use crate::calendar::{DAYS_PER_MONTH, as_of_month, date_from_days_expr, days_expr, epoch_days};
use crate::catalogue::catalogue;
use crate::contracts::{self, Active};
use crate::currency::{self, Reporting};
use crate::error::{FeatureError, StepContext};
use crate::exprs::{max_across, mean_across, min_across, over};
use crate::index::{self, distinct_strings, suffixes};
use crate::options::FeatureOptions;
use crate::panel::{self, LAGS, composite_expr, lag};
use crate::seasonal::{self, PROFILE_MONTHS};
use crate::series::{self, change, ratio};

/// Shared inputs of the steps.
struct Context<'a> {
    tables: &'a Tables,
    options: &'a FeatureOptions,
    snapshot: bool,
    /// The last as-of date; no row dated after it is read.
    until: NaiveDate,
    /// As-of months, ascending, one per date.
    months: Vec<i32>,
    /// `as_of` (Date), `as_of_days`, `as_of_month`.
    dates: DataFrame,
    /// The account index ([`index::account_index`]).
    accounts: DataFrame,
    /// Metric names by `metric_idx`.
    metrics: Vec<String>,
    /// `metric`, `metric_idx`.
    metric_index: DataFrame,
    /// The date of the project's first outcome, as days; outcome counts are
    /// unknown (null) before it.
    first_outcome_days: Option<i32>,
}

impl<'a> Context<'a> {
    fn new(
        tables: &'a Tables,
        dates: &[NaiveDate],
        options: &'a FeatureOptions,
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

        let accounts =
            index::account_index(&tables.accounts, options.min_industry_accounts, until)?;
        let metrics = metric_names(tables, until)?;
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
            metric_index,
            first_outcome_days,
        })
    }

    fn n_metrics(&self) -> u32 {
        self.metrics.len().max(1) as u32
    }

    fn metric_idx(&self, name: &str) -> Option<u32> {
        self.metrics
            .iter()
            .position(|m| m == name)
            .map(|i| i as u32)
    }

    fn first_month(&self) -> i32 {
        self.months[0]
    }

    fn last_month(&self) -> i32 {
        *self.months.last().expect("at least one as-of month")
    }
}

/// Usage metrics seen on or before `until`, and every metric an entitlement of
/// a contract started by then names, sorted.
fn metric_names(tables: &Tables, until: NaiveDate) -> Result<Vec<String>, FeatureError> {
    let used = tables
        .usage
        .clone()
        .lazy()
        .filter(days_expr(col("date")).lt_eq(lit(epoch_days(until))))
        .select([col("metric").unique()])
        .collect()
        .step("the metric list")?;
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
    let mut names = distinct_strings(&used, "metric")?;
    names.extend(distinct_strings(&entitled, "metric")?);
    names.sort();
    names.dedup();
    Ok(names)
}

/// Computes the features of every active account at each of `dates` (sorted,
/// distinct, with distinct as-of months).
pub fn compute(
    tables: &Tables,
    dates: &[NaiveDate],
    options: &FeatureOptions,
) -> Result<DataFrame, FeatureError> {
    let mut clock = Clock::start();
    let ctx = Context::new(tables, dates, options)?;
    clock.lap("context");
    let reporting = currency::reporting(tables, ctx.until)?;
    let names = ColumnNames::new(&ctx)?;
    tracing::debug!(
        dates = dates.len(),
        accounts = ctx.accounts.height(),
        metrics = ctx.metrics.len(),
        "computing features"
    );

    let contracts = contracts::indexed_contracts(&tables.contracts, &ctx.accounts, &reporting);
    let churned = contracts::churned(&tables.outcomes, &ctx.accounts);
    let active = contracts::active(contracts.clone(), churned, &ctx.dates, options.grace_days)?;
    clock.lap("active");
    let limits = limits(&ctx, &active)?;
    clock.lap("limits");

    let rows = panel::index_usage(&tables.usage, &ctx.accounts, &ctx.metric_index, ctx.until)?;
    clock.lap("rows");
    let starts = Starts::new(&rows, contracts.clone())?;
    clock.lap("starts");
    let monthly = panel::monthly(
        &rows,
        ctx.first_month() - PROFILE_MONTHS.max(LAGS as i32) + 1,
        ctx.last_month(),
        &rollups(&ctx),
    )?;
    clock.lap("monthly");
    let lags = lags(&ctx, &rows, &monthly, &limits, &active, &starts)?;
    clock.lap("lags");
    let (by_industry, portfolio) = seasonal::profiles(&monthly, &starts.metric_start, &ctx.months)?;
    clock.lap("profiles");
    let series = series_rows(&ctx, &limits, &active, &lags, &by_industry, &portfolio)?;
    clock.lap("series");
    let adoption = adoption(&ctx, &rows, &limits, &starts)?;
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
    let table = assemble(&ctx, parts);
    clock.lap("assemble");
    table
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

/// Column suffixes of the entitlements and engagement metrics that get columns.
struct ColumnNames {
    /// Seats and metered entitlements of contracts started on or before the
    /// last as-of date: (name, suffix).
    entitlements: Vec<(String, String)>,
    /// Usage metrics that measure no entitlement: (name, suffix).
    engagement: Vec<(String, String)>,
}

impl ColumnNames {
    fn new(ctx: &Context) -> Result<ColumnNames, FeatureError> {
        let tables = ctx.tables;
        let started = tables
            .contracts
            .clone()
            .lazy()
            .filter(days_expr(col("start_date")).lt_eq(lit(epoch_days(ctx.until))))
            .select([col("contract_id")]);
        let limited = contracts::effective_entitlements(&tables.entitlements)
            .filter(col("kind").neq(lit("boolean")));
        let named = limited
            .clone()
            .semi_join(started.clone(), col("contract_id"), col("contract_id"))
            .select([col("entitlement").unique()])
            .collect()
            .step("the entitlement names")?;
        let entitlements = suffixes("entitlement", &distinct_strings(&named, "entitlement")?)?;

        if let Some(primary) = &ctx.options.primary_entitlement {
            let all = limited
                .select([col("entitlement").unique()])
                .collect()
                .step("the entitlement names")?;
            let known = distinct_strings(&all, "entitlement")?;
            if !known.contains(primary) {
                return Err(FeatureError::UnknownPrimaryEntitlement {
                    name: primary.clone(),
                    known,
                });
            }
        }

        let measured = contracts::effective_entitlements(&tables.entitlements)
            .semi_join(started.clone(), col("contract_id"), col("contract_id"))
            .select([col("metric").unique()])
            .collect()
            .step("the engagement metrics")?;
        let measured = distinct_strings(&measured, "metric")?;
        let used = tables
            .usage
            .clone()
            .lazy()
            .filter(days_expr(col("date")).lt_eq(lit(epoch_days(ctx.until))))
            .select([col("metric").unique()])
            .collect()
            .step("the engagement metrics")?;
        let engagement: Vec<String> = distinct_strings(&used, "metric")?
            .into_iter()
            .filter(|m| !measured.contains(m))
            .collect();
        let engagement = suffixes("usage metric", &engagement)?;

        let names = ColumnNames {
            entitlements,
            engagement,
        };
        names.check_reserved()?;
        Ok(names)
    }

    /// Fails when a per-entitlement or per-metric column equals a fixed one
    /// (an entitlement named "primary" would give `util_primary`).
    fn check_reserved(&self) -> Result<(), FeatureError> {
        let fixed: Vec<&str> = catalogue()
            .iter()
            .filter(|s| !s.per_entitlement() && !s.per_metric())
            .map(|s| s.name)
            .collect();
        let templated = catalogue()
            .iter()
            .filter(|s| s.per_entitlement() || s.per_metric());
        for spec in templated {
            let (what, list) = if spec.per_entitlement() {
                ("entitlement", &self.entitlements)
            } else {
                ("usage metric", &self.engagement)
            };
            for (name, suffix) in list {
                let column = spec.column(suffix);
                if fixed.contains(&column.as_str()) {
                    return Err(FeatureError::ReservedName {
                        what,
                        name: name.clone(),
                        column,
                    });
                }
            }
        }
        Ok(())
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

/// Per-account and per-metric facts that bound each series' history.
struct Starts {
    /// `acct_idx`, `first_usage_month`.
    first_usage: DataFrame,
    /// `acct_idx`, `first_contract_month`.
    first_contract: DataFrame,
    /// `metric_idx`, `metric_start`.
    metric_start: DataFrame,
    /// The first month with any usage in the portfolio.
    portfolio_start: Option<i32>,
}

impl Starts {
    fn new(rows: &DataFrame, contracts: LazyFrame) -> Result<Starts, FeatureError> {
        let first_usage = panel::first_usage_month(rows)
            .collect()
            .step("the history starts")?;
        let first_contract = contracts::first_contract_month(contracts)
            .collect()
            .step("the history starts")?;
        let metric_start = panel::metric_start(rows)
            .collect()
            .step("the history starts")?;
        let portfolio_start = rows
            .column("month")
            .and_then(|c| c.i32().cloned())
            .step("the history starts")?
            .min();
        Ok(Starts {
            first_usage,
            first_contract,
            metric_start,
            portfolio_start,
        })
    }

    /// Returns the first month with data of one metric.
    fn metric_start_of(&self, metric_idx: u32) -> Result<Option<i32>, FeatureError> {
        let found = self
            .metric_start
            .clone()
            .lazy()
            .filter(col("metric_idx").eq(lit(metric_idx)))
            .collect()
            .step("the history starts")?;
        Ok(found
            .column("metric_start")
            .and_then(|c| c.i32().cloned())
            .step("the history starts")?
            .get(0))
    }

    /// Adds `first_usage_month` and `first_contract_month` by `acct_idx`.
    fn join_account(&self, frame: LazyFrame) -> LazyFrame {
        frame
            .join(
                self.first_usage.clone().lazy(),
                [col("acct_idx")],
                [col("acct_idx")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                self.first_contract.clone().lazy(),
                [col("acct_idx")],
                [col("acct_idx")],
                JoinArgs::new(JoinType::Left),
            )
    }
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
    let keys = series_keys(ctx, monthly, limits, active)?;
    let frame = match panel::lag_frame(monthly, &keys, ctx.n_metrics(), &ctx.months) {
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
        .join(
            starts.metric_start.clone().lazy(),
            [col("metric_idx")],
            [col("metric_idx")],
            JoinArgs::new(JoinType::Left),
        )
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

/// Lists the account and metric pairs whose lags are read: every pair with usage in
/// the lag window, every seats or metered entitlement, and the primary metric
/// of every active account.
fn series_keys(
    ctx: &Context,
    monthly: &DataFrame,
    limits: &DataFrame,
    active: &Active,
) -> Result<DataFrame, FeatureError> {
    let n = ctx.n_metrics();
    let window_start = ctx.first_month() - LAGS as i32 + 1;
    let mut parts = vec![
        monthly
            .clone()
            .lazy()
            .filter(col("month").gt_eq(lit(window_start)))
            .select([composite_expr(n).alias("composite")]),
        limits
            .clone()
            .lazy()
            .select([composite_expr(n).alias("composite")]),
    ];
    if let Some(primary) = ctx.metric_idx(&ctx.options.primary_metric) {
        parts.push(
            active
                .accounts
                .clone()
                .lazy()
                .select([(col("acct_idx").cast(DataType::UInt64) * lit(u64::from(n))
                    + lit(u64::from(primary)))
                .alias("composite")]),
        );
    }
    concat(parts, UnionArgs::default())
        .and_then(|lf| lf.unique(None, UniqueKeepStrategy::Any).collect())
        .step("the series keys")
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
    let key = [col("acct_idx"), col("as_of_month")];
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
        let fallback = active
            .accounts
            .clone()
            .lazy()
            .select(key.clone())
            .join(
                entitled.clone().select(key.clone()),
                key.clone(),
                key.clone(),
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
    let series_key = [col("acct_idx"), col("as_of_month"), col("metric_idx")];
    let industry_key = [col("as_of_month"), col("metric_idx"), col("industry_group")];
    let portfolio_key = [col("as_of_month"), col("metric_idx")];

    concat(parts, UnionArgs::default())
        .step("the series rows")?
        .join(
            lags.clone().lazy(),
            series_key.clone(),
            series_key,
            JoinArgs::new(JoinType::Left),
        )
        .join(
            ctx.accounts
                .clone()
                .lazy()
                .select([col("acct_idx"), col("industry_group")]),
            [col("acct_idx")],
            [col("acct_idx")],
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
        .join(
            ctx.dates
                .clone()
                .lazy()
                .select([col("as_of_month"), col("as_of_days")]),
            [col("as_of_month")],
            [col("as_of_month")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns(series::limit_and_own_index())
        .with_columns(series::utilization_and_index())
        .with_columns(series::adjusted())
        .with_columns(series::features())
        .with_columns([series::limit_date()])
        .with_columns(
            [primary_key(ctx.options.primary_entitlement.as_deref()).alias("primary_key")],
        )
        .with_columns([col("primary_key")
            .eq(over(col("primary_key").min(), &key))
            .alias("is_primary")])
        .sort(
            ["acct_idx", "as_of_month", "primary_key"],
            SortMultipleOptions::default(),
        )
        .collect()
        .step("the series features")
}

/// Builds a sort key whose smallest value per account picks its primary
/// entitlement: the configured one, else seats, else a limited entitlement,
/// else an unlimited one, with ties broken by name. The primary-metric row of
/// an account without entitlements comes last.
fn primary_key(configured: Option<&str>) -> Expr {
    let configured = match configured {
        Some(name) => col("entitlement").eq(lit(name)).fill_null(lit(false)),
        None => lit(false),
    };
    let rank = when(configured)
        .then(lit("0"))
        .when(col("kind").eq(lit("seats")))
        .then(lit("1"))
        .when(col("lim_month").is_not_null())
        .then(lit("2"))
        .when(col("entitlement").is_not_null())
        .then(lit("3"))
        .otherwise(lit("4"));
    concat_str([rank, col("entitlement").fill_null(lit(""))], "|", false)
}

/// Adoption of the boolean features of the active contracts, per account and
/// as-of month.
fn adoption(
    ctx: &Context,
    rows: &DataFrame,
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
        .unique(None, UniqueKeepStrategy::Any)
        .collect()
        .step("the feature adoption")?;
    let usage = panel::feature_use(rows, &keys, n, &ctx.months)?;
    let series_key = [col("acct_idx"), col("as_of_month"), col("metric_idx")];

    features
        .lazy()
        .join(
            usage.lazy(),
            series_key.clone(),
            series_key,
            JoinArgs::new(JoinType::Left),
        )
        .join(
            starts.metric_start.clone().lazy(),
            [col("metric_idx")],
            [col("metric_idx")],
            JoinArgs::new(JoinType::Left),
        )
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
            col("used_ever")
                .eq(lit(0.0))
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

/// Everything [`assemble`] joins onto the active accounts.
struct Parts<'a> {
    active: &'a Active,
    series: &'a DataFrame,
    lags: &'a DataFrame,
    adoption: DataFrame,
    starts: &'a Starts,
    contracts: LazyFrame,
    reporting: &'a Reporting,
    names: &'a ColumnNames,
}

fn left_on_account(frame: LazyFrame, other: LazyFrame) -> LazyFrame {
    let key = [col("acct_idx"), col("as_of_month")];
    frame.join(other, key.clone(), key, JoinArgs::new(JoinType::Left))
}

/// Joins every feature family onto the active accounts and orders the columns
/// as the catalogue does.
fn assemble(ctx: &Context, parts: Parts) -> Result<DataFrame, FeatureError> {
    let account_columns = [
        "acct_idx",
        "account_id",
        "name",
        "segment",
        "industry",
        "region",
        "owner",
        "customer_since",
    ];
    let mut frame = parts
        .active
        .accounts
        .clone()
        .lazy()
        .join(
            ctx.dates.clone().lazy(),
            [col("as_of_month")],
            [col("as_of_month")],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            ctx.accounts.clone().lazy().select(account_columns.map(col)),
            [col("acct_idx")],
            [col("acct_idx")],
            JoinArgs::new(JoinType::Inner),
        );
    frame = parts.starts.join_account(frame);
    frame = left_on_account(frame, contracts::arr_year_ago(parts.contracts, &ctx.dates));
    frame = left_on_account(
        frame,
        contracts::outcome_counts(&ctx.tables.outcomes, &ctx.accounts, &ctx.dates),
    );
    frame = left_on_account(
        frame,
        contracts::intervention_features(&ctx.tables.interventions, &ctx.accounts, &ctx.dates),
    );
    frame = left_on_account(frame, primary_features(ctx, parts.series));
    frame = left_on_account(frame, summary_features(parts.series));
    frame = left_on_account(frame, parts.adoption.lazy());
    for (name, suffix) in &parts.names.entitlements {
        frame = left_on_account(frame, entitlement_features(parts.series, name, suffix));
    }
    let mut observed = Vec::new();
    for (name, suffix) in &parts.names.engagement {
        if let Some(idx) = ctx.metric_idx(name) {
            frame = left_on_account(frame, engagement_features(parts.lags, idx, suffix));
            observed.push((suffix.clone(), parts.starts.metric_start_of(idx)?));
        }
    }

    let frame = frame
        .with_columns(derived(ctx, parts.reporting, parts.starts.portfolio_start))
        .with_columns(engagement_without_rows(&observed))
        .with_columns(peers());
    let order = output_columns(parts.names);
    frame
        .select(order.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
        .sort(["as_of", "account_id"], SortMultipleOptions::default())
        .collect()
        .step("the feature table")
}

/// Lists every output column in catalogue order, templates expanded per
/// entitlement and engagement metric.
fn output_columns(names: &ColumnNames) -> Vec<String> {
    let mut out = Vec::new();
    let mut templates_done = false;
    for spec in catalogue() {
        if spec.per_entitlement() || spec.per_metric() {
            if !templates_done {
                for (_, suffix) in &names.entitlements {
                    out.extend(
                        catalogue()
                            .iter()
                            .filter(|s| s.per_entitlement())
                            .map(|s| s.column(suffix)),
                    );
                }
                for (_, suffix) in &names.engagement {
                    out.extend(
                        catalogue()
                            .iter()
                            .filter(|s| s.per_metric())
                            .map(|s| s.column(suffix)),
                    );
                }
                templates_done = true;
            }
            continue;
        }
        out.push(spec.name.to_string());
    }
    out
}

/// Selects the features of each account's primary series.
fn primary_features(ctx: &Context, series: &DataFrame) -> LazyFrame {
    let renamed = [
        ("entitlement", "primary_entitlement"),
        ("usage", "usage_primary"),
        ("limit", "limit_primary"),
        ("util", "util_primary"),
        ("util_3m", "util_primary_3m"),
        ("util_sa", "util_primary_sa"),
        ("headroom", "headroom_primary"),
        ("overage", "overage_primary"),
        ("months_to_limit", "months_to_limit_primary"),
    ];
    let kept = [
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
    let mut exprs = vec![
        col("acct_idx"),
        col("as_of_month"),
        col("metric").alias("primary_metric"),
    ];
    exprs.extend(renamed.iter().map(|(from, to)| col(*from).alias(*to)));
    exprs.extend(kept.iter().map(|c| col(*c)));
    series
        .clone()
        .lazy()
        .filter(col("is_primary"))
        .join(
            ctx.metric_index.clone().lazy(),
            [col("metric_idx")],
            [col("metric_idx")],
            JoinArgs::new(JoinType::Left),
        )
        .select(exprs)
}

/// Summaries over the seats and metered entitlements that do not depend on
/// their names.
fn summary_features(series: &DataFrame) -> LazyFrame {
    let over = col("util").gt(lit(1.0));
    let count = |e: Expr| e.sum().cast(DataType::Float64);
    series
        .clone()
        .lazy()
        .filter(col("entitlement").is_not_null())
        .group_by([col("acct_idx"), col("as_of_month")])
        .agg([
            col("util").min().alias("util_min"),
            col("util").max().alias("util_max"),
            col("util").mean().alias("util_mean"),
            col("util_3m").min().alias("util_3m_min"),
            col("util_3m").max().alias("util_3m_max"),
            count(col("lim_month").is_not_null()).alias("n_limited"),
            count(col("lim_month").is_null()).alias("n_unlimited"),
            count(over.clone()).alias("n_over_limit"),
            count(over.and(col("hard"))).alias("n_hard_over_limit"),
            col("months_to_limit").min().alias("months_to_limit_min"),
            col("limit_date").min().alias("limit_date_min"),
            when(col("months_to_limit").min().is_not_null())
                .then(
                    col("entitlement")
                        .sort_by(
                            [col("months_to_limit"), col("entitlement")],
                            SortMultipleOptions::default().with_nulls_last(true),
                        )
                        .first(),
                )
                .otherwise(lit(NULL).cast(DataType::String))
                .alias("next_limit_entitlement"),
        ])
}

/// Selects the named columns of one entitlement.
fn entitlement_features(series: &DataFrame, name: &str, suffix: &str) -> LazyFrame {
    let columns = [
        ("util", "util_{entitlement}"),
        ("util_3m", "util_{entitlement}_3m"),
        ("util_sa", "util_{entitlement}_sa"),
        ("headroom", "headroom_{entitlement}"),
        ("overage", "overage_{entitlement}"),
        ("util_slope_3m", "util_{entitlement}_slope_3m"),
        ("yoy_change", "yoy_{entitlement}"),
        ("months_to_limit", "months_to_limit_{entitlement}"),
        ("usage", "usage_{entitlement}"),
        ("limit", "limit_{entitlement}"),
        ("limit_date", "limit_date_{entitlement}"),
    ];
    let mut exprs = vec![col("acct_idx"), col("as_of_month")];
    exprs.extend(
        columns
            .iter()
            .map(|(from, template)| col(*from).alias(template.replace("{entitlement}", suffix))),
    );
    series
        .clone()
        .lazy()
        .filter(col("entitlement").eq(lit(name)))
        .select(exprs)
}

/// Computes the named columns of one engagement metric.
fn engagement_features(lags: &DataFrame, metric_idx: u32, suffix: &str) -> LazyFrame {
    let recent = mean_across(vec![lag(0), lag(1), lag(2)]);
    let recent_strict = (lag(0) + lag(1) + lag(2)) / lit(3.0);
    let before = (lag(3) + lag(4) + lag(5)) / lit(3.0);
    lags.clone()
        .lazy()
        .filter(col("metric_idx").eq(lit(metric_idx)))
        .select([
            col("acct_idx"),
            col("as_of_month"),
            recent.alias(format!("eng_{suffix}_3m")),
            change(recent_strict, before).alias(format!("eng_{suffix}_change_3m")),
        ])
}

/// Sets the mean of an engagement metric to zero for accounts that have no
/// rows of it in the last months but are in their history, once the metric has
/// data in the portfolio (missing months count as zero).
fn engagement_without_rows(observed: &[(String, Option<i32>)]) -> Vec<Expr> {
    observed
        .iter()
        .filter_map(|(suffix, start)| {
            let start = (*start)?;
            let name = format!("eng_{suffix}_3m");
            let in_history = col("history_months")
                .gt(lit(0.0))
                .and(col("as_of_month").gt_eq(lit(start)));
            Some(
                when(col(name.as_str()).is_null().and(in_history))
                    .then(lit(0.0))
                    .otherwise(col(name.as_str()))
                    .alias(name),
            )
        })
        .collect()
}

/// Columns computed from the joined parts.
fn derived(ctx: &Context, reporting: &Reporting, portfolio_start: Option<i32>) -> Vec<Expr> {
    let as_of_days = col("as_of_days");
    let start = match portfolio_start {
        Some(month) => max_across(vec![
            lit(month),
            min_across(vec![col("first_contract_month"), col("first_usage_month")]),
        ]),
        None => lit(NULL).cast(DataType::Int32),
    };
    let history = (col("as_of_month") - start + lit(1))
        .cast(DataType::Float64)
        .clip_min(lit(0.0))
        .fill_null(lit(0.0));
    let first_outcome = ctx.first_outcome_days;
    let outcome_count = |name: &str| match first_outcome {
        Some(days) => when(col("as_of_days").gt_eq(lit(days)))
            .then(col(name).fill_null(lit(0.0)))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias(name),
        None => lit(NULL).cast(DataType::Float64).alias(name),
    };
    let entitled = col("features_entitled");
    let used = col("features_used_90d");

    vec![
        match &reporting.currency {
            Some(code) => lit(code.as_str()).alias("currency"),
            None => lit(NULL).cast(DataType::String).alias("currency"),
        },
        date_from_days_expr(col("renewal_days")).alias("renewal_date"),
        (col("renewal_days") - as_of_days.clone())
            .cast(DataType::Float64)
            .alias("days_to_renewal"),
        ((as_of_days.clone() - days_expr(col("customer_since"))).cast(DataType::Float64)
            / lit(DAYS_PER_MONTH))
        .alias("tenure_months"),
        change(col("arr"), col("arr_year_ago")).alias("arr_change_1y"),
        outcome_count("renewals"),
        outcome_count("expansions"),
        outcome_count("contractions"),
        history.clone().alias("history_months"),
        col("interventions_90d").fill_null(lit(0.0)),
        (as_of_days - col("last_intervention_days"))
            .cast(DataType::Float64)
            .alias("days_since_intervention"),
        ratio(col("arr"), col("limit_primary")).alias("arr_per_unit_primary"),
        ratio(used.clone(), entitled.clone()).alias("adoption_90d"),
        (entitled.clone() - used.clone()).alias("features_unused_90d"),
        when(history.clone().gt_eq(lit(6.0)))
            .then(ratio(used - col("features_used_before"), entitled.clone()))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("breadth_change"),
        when(entitled.gt(lit(0.0)))
            .then(col("unused_features"))
            .otherwise(lit(NULL).cast(DataType::String))
            .alias("unused_features"),
        col("in_grace").alias("flag_in_grace"),
        col("first_usage_month")
            .is_null()
            .or(col("first_usage_month").gt(col("as_of_month")))
            .alias("flag_no_usage"),
        history.lt(lit(13.0)).alias("flag_short_history"),
        col("seasonal_from_portfolio")
            .fill_null(lit(true))
            .alias("flag_seasonal_portfolio"),
        col("n_limited")
            .fill_null(lit(0.0))
            .eq(lit(0.0))
            .alias("flag_no_limits"),
        lit(ctx.snapshot).alias("flag_snapshot"),
    ]
}

/// Peer comparison of `util_primary` within segment and industry at each date.
fn peers() -> Vec<Expr> {
    let group = [col("as_of_month"), col("segment"), col("industry")];
    let count = over(col("util_primary").count(), &group).cast(DataType::Float64);
    let rank = col("util_primary").rank(
        RankOptions {
            method: RankMethod::Average,
            descending: false,
        },
        None,
    );
    let rank = over(rank, &group).cast(DataType::Float64);
    let median = over(col("util_primary").median(), &group);
    vec![
        count.clone().alias("peer_count"),
        ratio(rank - lit(0.5), count).alias("peer_util_pct"),
        median.clone().alias("peer_util_median"),
        (col("util_primary") - median).alias("util_vs_peer"),
    ]
}
