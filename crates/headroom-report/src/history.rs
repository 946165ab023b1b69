//! Monthly usage of each account's entitlements over its last months, and the
//! month each entitled feature was last used.
//!
//! The feature table describes one date; segments need the months before it
//! (a condition must hold for a while), alerts need the month-to-month change
//! and reports draw sparklines. This module reads those months from the usage
//! table with the feature stage's rules: usage by complete month, rolled up by
//! each metric's rollup, utilization against today's limit, and a month
//! without rows counted as zero once the account and the metric have data.
//! A snapshot project is the exception: its one export month has no earlier
//! months, and an account without a row there is unknown, not zero.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use headroom_data::Tables;
use headroom_features::calendar::{self, as_of_month, days_expr, epoch_days, month_index_expr};
use headroom_features::{FeatureUsage, column_suffix};
use polars::prelude::*;

use crate::error::ReportError;
use crate::frame;

/// One seats or metered entitlement of an account with its monthly usage.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitlementSeries {
    /// The entitlement's name (`seats`, `api_calls`).
    pub entitlement: String,
    /// `seats` or `metered`.
    pub kind: String,
    /// The usage metric that measures it.
    pub metric: String,
    /// The limit at the scoring date in metric units (a level, or a monthly
    /// allowance for summed metrics), summed over the active contracts;
    /// `None` when unlimited.
    pub limit: Option<f64>,
    /// Whether any active contract enforces the limit hard.
    pub hard: bool,
    /// Usage per month, oldest first; `None` where the month is unobserved.
    pub usage: Vec<Option<f64>>,
}

impl EntitlementSeries {
    /// Utilization per month (usage / today's limit), oldest first; all
    /// `None` when unlimited.
    pub fn utilization(&self) -> Vec<Option<f64>> {
        self.usage
            .iter()
            .map(|u| match (u, self.limit) {
                (Some(u), Some(limit)) if limit > 0.0 => Some(u / limit),
                _ => None,
            })
            .collect()
    }
}

/// One boolean feature an active contract includes, and its use.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureUse {
    /// The entitlement's name (`advanced_analytics`).
    pub entitlement: String,
    /// The usage metric that records its use.
    pub metric: String,
    /// The start of the account's earliest contract that includes it.
    pub entitled_since: NaiveDate,
    /// The last day of the latest month with use, up to the scoring month;
    /// `None` when no use is on record.
    pub last_used: Option<NaiveDate>,
}

/// The monthly usage of one account.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountHistory {
    /// Seats and metered entitlements of the active contracts, by name.
    pub entitlements: Vec<EntitlementSeries>,
    /// The position of the primary entitlement in `entitlements`, when it is
    /// a seats or metered one.
    pub primary: Option<usize>,
    /// The metric behind the primary series.
    pub primary_metric: String,
    /// Monthly usage of the primary metric, oldest first.
    pub primary_usage: Vec<Option<f64>>,
    /// Boolean features of the active contracts, by name.
    pub features: Vec<FeatureUse>,
}

impl AccountHistory {
    /// The primary entitlement, when it is a seats or metered one.
    pub fn primary_entitlement(&self) -> Option<&EntitlementSeries> {
        self.primary.map(|i| &self.entitlements[i])
    }

    /// Monthly utilization of the primary entitlement, oldest first; all
    /// `None` without a limited primary entitlement.
    pub fn primary_utilization(&self) -> Vec<Option<f64>> {
        match self.primary_entitlement() {
            Some(series) => series.utilization(),
            None => vec![None; self.primary_usage.len()],
        }
    }

    /// The limited entitlements.
    pub fn limited(&self) -> impl Iterator<Item = &EntitlementSeries> {
        self.entitlements.iter().filter(|e| e.limit.is_some())
    }
}

/// The monthly usage of every account over the same months.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioHistory {
    /// The month index (`year * 12 + month - 1`) of the first month.
    pub first_month: i32,
    /// The month index of the latest complete month at the scoring date.
    pub last_month: i32,
    /// Whether the project is a single snapshot export.
    pub snapshot: bool,
    /// The first month with any usage in the project, if any.
    pub data_start: Option<i32>,
    /// Per account id.
    pub accounts: HashMap<String, AccountHistory>,
}

impl PortfolioHistory {
    /// The number of months in each series.
    pub fn len(&self) -> usize {
        (self.last_month - self.first_month + 1) as usize
    }

    /// Checks whether the series hold no month (never true once built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last day of the `i`-th month of the series.
    pub fn month_end(&self, i: usize) -> NaiveDate {
        calendar::month_end(self.first_month + i as i32)
    }

    /// One account's history.
    pub fn account(&self, account_id: &str) -> Option<&AccountHistory> {
        self.accounts.get(account_id)
    }
}

/// What to read: the scoring date, how many months back, and optionally
/// which accounts.
#[derive(Debug, Clone, Copy)]
pub struct HistoryRequest<'a> {
    /// The scoring date; its latest complete month ends the series.
    pub as_of: NaiveDate,
    /// Months per series, the latest complete month included.
    pub months: usize,
    /// Only these accounts (all accounts of the feature table when `None`).
    pub accounts: Option<&'a HashSet<String>>,
}

/// Reads the monthly usage of the accounts in `features` (the feature table
/// at `request.as_of`) from the usage table, which it reads whole.
///
/// Fails when the usage file cannot be read or a polars query over the
/// tables fails.
pub fn load_history(
    tables: &Tables,
    features: &DataFrame,
    request: HistoryRequest<'_>,
) -> Result<PortfolioHistory, ReportError> {
    load(tables, features, None, request)
}

/// Reads the monthly usage of the accounts in `features` from `usage`, the
/// usage that [`headroom_features::features_and_usage`] read for `features`
/// at `request.as_of`, without reading the usage table again. A snapshot
/// project's history is read from the usage table, as [`load_history`] does.
///
/// `request.months` must not exceed the months passed to
/// `features_and_usage`: earlier months would read as unobserved.
///
/// Fails when a polars query over the tables fails.
pub fn load_history_from(
    tables: &Tables,
    features: &DataFrame,
    usage: &FeatureUsage,
    request: HistoryRequest<'_>,
) -> Result<PortfolioHistory, ReportError> {
    load(tables, features, Some(usage), request)
}

fn load(
    tables: &Tables,
    features: &DataFrame,
    usage: Option<&FeatureUsage>,
    request: HistoryRequest<'_>,
) -> Result<PortfolioHistory, ReportError> {
    let snapshot = tables.meta.snapshot_date.is_some();
    let last_month = as_of_month(request.as_of, snapshot);
    let months = if snapshot { 1 } else { request.months.max(1) };
    let first_month = last_month - months as i32 + 1;

    let started = std::time::Instant::now();
    let rows = FeatureRows::read(features, request.accounts)?;
    let entitled = entitled_per_account(tables, request.as_of, &rows.index)?;
    let metrics = needed_metrics(&entitled, &rows);
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        accounts = rows.ids.len(),
        "read the entitlements of the history"
    );
    let window = (request.as_of, first_month, last_month);
    let (monthly, starts, last_used) = match usage {
        Some(usage) if !snapshot => {
            let read = FromFeatureUsage::new(usage, &rows.index);
            let mut starts = read.metric_starts(&metrics);
            starts.account = account_starts(tables, &rows.index)?;
            let feature_metrics = feature_metrics(&entitled);
            (
                read.monthly(window, &metrics),
                starts,
                read.last_used(&feature_metrics),
            )
        }
        _ => {
            let usage = tables.usage.frame()?;
            let monthly = monthly_usage(tables, usage, window, &metrics, &rows.index)?;
            let starts = if snapshot {
                UsageStarts::default()
            } else {
                let mut starts = metric_starts(usage, request.as_of, &metrics)?;
                starts.account = account_starts(tables, &rows.index)?;
                starts
            };
            let last_used = last_feature_use(
                usage,
                (request.as_of, last_month),
                &feature_metrics(&entitled),
                &rows.index,
            )?;
            (monthly, starts, last_used)
        }
    };
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "read the usage of the history"
    );

    let mut accounts = HashMap::with_capacity(rows.ids.len());
    for (row, id) in rows.ids.iter().enumerate() {
        let context = SeriesContext {
            first_month,
            months,
            snapshot,
            account_start: starts.account.get(&row).copied(),
            metric_starts: &starts.metric,
            monthly: &monthly,
            row,
        };
        let history = build_account(&rows, row, entitled.get(&row), &context, &last_used);
        accounts.insert(id.clone(), history);
    }

    Ok(PortfolioHistory {
        first_month,
        last_month,
        snapshot,
        data_start: starts.data,
        accounts,
    })
}

/// The columns of the feature table this module reads, one entry per row.
struct FeatureRows {
    ids: Vec<String>,
    index: HashMap<String, usize>,
    primary_entitlement: Vec<Option<String>>,
    primary_metric: Vec<Option<String>>,
    /// Limit columns by entitlement suffix.
    limits: HashMap<String, Vec<Option<f64>>>,
}

impl FeatureRows {
    fn read(
        features: &DataFrame,
        only: Option<&HashSet<String>>,
    ) -> Result<FeatureRows, ReportError> {
        let all_ids = frame::strings(features, "account_id")?;
        let keep: Vec<bool> = all_ids
            .iter()
            .map(|id| match (id, only) {
                (Some(id), Some(only)) => only.contains(id),
                (Some(_), None) => true,
                (None, _) => false,
            })
            .collect();
        let pick = |values: Vec<Option<String>>| -> Vec<Option<String>> {
            values
                .into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(v, _)| v)
                .collect()
        };

        let ids: Vec<String> = pick(all_ids.clone()).into_iter().flatten().collect();
        let index = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        let primary_entitlement = pick(frame::strings(features, "primary_entitlement")?);
        let primary_metric = pick(frame::strings(features, "primary_metric")?);

        let mut limits = HashMap::new();
        for name in features.get_column_names() {
            let Some(suffix) = name.strip_prefix("limit_") else {
                continue;
            };
            if suffix == "primary" || suffix.starts_with("date_") {
                continue;
            }
            let values: Vec<Option<f64>> = frame::floats(features, name)?
                .into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(v, _)| v)
                .collect();
            limits.insert(suffix.to_string(), values);
        }

        Ok(FeatureRows {
            ids,
            index,
            primary_entitlement,
            primary_metric,
            limits,
        })
    }
}

/// One entitlement of an account's active contracts.
#[derive(Debug, Clone)]
struct Entitled {
    entitlement: String,
    kind: String,
    metric: String,
    hard: bool,
    since: NaiveDate,
}

/// The entitlements of each account's active contracts, by feature-table row.
///
/// Active means covering `as_of`; an account whose contracts have all ended
/// (in its grace period) keeps those of its latest-ending contract.
fn entitled_per_account(
    tables: &Tables,
    as_of: NaiveDate,
    index: &HashMap<String, usize>,
) -> Result<HashMap<usize, Vec<Entitled>>, ReportError> {
    let step = "the entitlements of the active contracts";
    let today = lit(epoch_days(as_of));
    let contracts = tables
        .contracts
        .clone()
        .lazy()
        .filter(days_expr(col("start_date")).lt_eq(today.clone()))
        .with_columns([
            days_expr(col("end_date")).gt_eq(today).alias("covers"),
            days_expr(col("start_date")).alias("start_days"),
        ])
        .with_columns([
            per_account(col("covers").any(true)).alias("any_covers"),
            per_account(col("end_date").max()).alias("last_end"),
        ])
        .with_columns([col("covers")
            .or(col("any_covers")
                .not()
                .and(col("end_date").eq(col("last_end"))))
            .alias("active")])
        .select([
            col("contract_id"),
            col("account_id"),
            col("start_date"),
            col("active"),
        ]);

    let default_metric = when(col("kind").eq(lit("seats")))
        .then(lit("active_users"))
        .otherwise(col("entitlement"));
    let grouped = tables
        .entitlements
        .clone()
        .lazy()
        .with_columns([coalesce(&[col("metric"), default_metric]).alias("metric")])
        .inner_join(contracts, col("contract_id"), col("contract_id"))
        .group_by([col("account_id"), col("entitlement")])
        .agg([
            col("active").any(true).alias("active"),
            col("kind").first().alias("kind"),
            col("metric").first().alias("metric"),
            col("enforcement")
                .eq(lit("hard"))
                .and(col("active"))
                .any(true)
                .alias("hard"),
            col("start_date").min().alias("since"),
        ])
        .filter(col("active"))
        .sort(
            ["account_id", "entitlement"],
            SortMultipleOptions::default(),
        )
        .collect()
        .map_err(ReportError::polars(step))?;

    let accounts = frame::strings(&grouped, "account_id")?;
    let names = frame::strings(&grouped, "entitlement")?;
    let kinds = frame::strings(&grouped, "kind")?;
    let metrics = frame::strings(&grouped, "metric")?;
    let hard = frame::bools(&grouped, "hard")?;
    let since = frame::dates(&grouped, "since")?;

    let mut per_account: HashMap<usize, Vec<Entitled>> = HashMap::new();
    for i in 0..grouped.height() {
        let (Some(account), Some(name), Some(since)) = (&accounts[i], &names[i], since[i]) else {
            continue;
        };
        let Some(&row) = index.get(account) else {
            continue;
        };
        per_account.entry(row).or_default().push(Entitled {
            entitlement: name.clone(),
            kind: kinds[i].clone().unwrap_or_default(),
            metric: metrics[i].clone().unwrap_or_else(|| name.clone()),
            hard: hard[i].unwrap_or(false),
            since,
        });
    }
    Ok(per_account)
}

/// An expression evaluated per account id.
fn per_account(expr: Expr) -> Expr {
    expr.over([col("account_id")])
        .expect("a window over one key column is always valid")
}

/// Every metric the series need: entitlement metrics and primary metrics.
fn needed_metrics(entitled: &HashMap<usize, Vec<Entitled>>, rows: &FeatureRows) -> Vec<String> {
    let mut metrics: HashSet<String> = entitled
        .values()
        .flatten()
        .filter(|e| e.kind != "boolean")
        .map(|e| e.metric.clone())
        .collect();
    metrics.extend(rows.primary_metric.iter().flatten().cloned());
    let mut metrics: Vec<String> = metrics.into_iter().collect();
    metrics.sort();
    metrics
}

/// Where each series starts: a month without rows counts as zero from the
/// later of the account's start and the metric's start.
#[derive(Debug, Default)]
struct UsageStarts {
    /// Month of each account's first contract start, by feature-table row.
    account: HashMap<usize, i32>,
    /// First month any account has data for each metric.
    metric: HashMap<String, i32>,
    /// First month with any usage in the project.
    data: Option<i32>,
}

/// Monthly usage in the window as one dense array: for each account row of
/// the feature table and each needed metric, one value per month, NaN where
/// the month has no row.
struct MonthlyUsage {
    months: usize,
    metrics: HashMap<String, usize>,
    values: Vec<f64>,
}

impl MonthlyUsage {
    /// The window's values of one account row and metric; `None` for a
    /// metric outside the needed set.
    fn get(&self, row: usize, metric: &str) -> Option<&[f64]> {
        let m = *self.metrics.get(metric)?;
        let start = (row * self.metrics.len() + m) * self.months;
        Some(&self.values[start..start + self.months])
    }
}

fn monthly_usage(
    tables: &Tables,
    usage: &DataFrame,
    window: (NaiveDate, i32, i32),
    metrics: &[String],
    index: &HashMap<String, usize>,
) -> Result<MonthlyUsage, ReportError> {
    let step = "the monthly usage history";
    let (as_of, first_month, last_month) = window;
    let start = epoch_days(calendar::month_start(first_month));
    let end = epoch_days(calendar::month_end(last_month).max(as_of));
    let wanted = Series::new("metrics".into(), metrics);
    let rows = usage
        .clone()
        .lazy()
        .filter(
            days_expr(col("date"))
                .gt_eq(lit(start))
                .and(days_expr(col("date")).lt_eq(lit(end)))
                .and(col("metric").is_in(lit(wanted).implode(false), false)),
        )
        .collect()
        .map_err(ReportError::polars(step))?;

    let mut windowed = tables.clone();
    windowed.usage = rows.into();
    let monthly = headroom_data::usage_by_month(&windowed)?
        .lazy()
        .with_column(month_index_expr(col("date")).alias("month"))
        .filter(col("month").lt_eq(lit(last_month)))
        .collect()
        .map_err(ReportError::polars(step))?;

    let months = (last_month - first_month + 1) as usize;
    let metric_index: HashMap<String, usize> = metrics
        .iter()
        .enumerate()
        .map(|(i, m)| (m.clone(), i))
        .collect();
    let mut values = vec![f64::NAN; index.len() * metrics.len() * months];

    let accounts = monthly.column("account_id").and_then(|c| c.str().cloned());
    let names = monthly.column("metric").and_then(|c| c.str().cloned());
    let (accounts, names) = (
        accounts.map_err(ReportError::polars(step))?,
        names.map_err(ReportError::polars(step))?,
    );
    let month_values = frame::floats(&monthly, "month")?;
    let usage_values = frame::floats(&monthly, "value")?;
    for (i, (account, metric)) in accounts.iter().zip(names.iter()).enumerate() {
        let (Some(account), Some(metric), Some(month), Some(value)) =
            (account, metric, month_values[i], usage_values[i])
        else {
            continue;
        };
        let (Some(&row), Some(&m)) = (index.get(account), metric_index.get(metric)) else {
            continue;
        };
        let k = month as i32 - first_month;
        if k >= 0 && (k as usize) < months {
            values[(row * metrics.len() + m) * months + k as usize] = value;
        }
    }
    Ok(MonthlyUsage {
        months,
        metrics: metric_index,
        values,
    })
}

/// Returns the month of each account's first contract start, by
/// feature-table row: a missing month counts as zero from there.
fn account_starts(
    tables: &Tables,
    index: &HashMap<String, usize>,
) -> Result<HashMap<usize, i32>, ReportError> {
    let step = "the start of each usage series";
    let mut starts = HashMap::new();
    let first_contract = tables
        .contracts
        .clone()
        .lazy()
        .group_by([col("account_id")])
        .agg([col("start_date").min().alias("start")])
        .with_column(month_index_expr(col("start")).alias("month"))
        .collect()
        .map_err(ReportError::polars(step))?;
    let accounts = frame::strings(&first_contract, "account_id")?;
    let months = frame::floats(&first_contract, "month")?;
    for (account, month) in accounts.iter().zip(months) {
        if let (Some(account), Some(month)) = (account, month)
            && let Some(&row) = index.get(account)
        {
            starts.insert(row, month as i32);
        }
    }
    Ok(starts)
}

/// Finds the first month any account has data for each of `metrics`, and
/// the project's first usage month, from the rows dated on or before `as_of`.
fn metric_starts(
    usage: &DataFrame,
    as_of: NaiveDate,
    metrics: &[String],
) -> Result<UsageStarts, ReportError> {
    let step = "the start of each usage series";
    let today = lit(epoch_days(as_of));
    let mut starts = UsageStarts::default();
    let first_usage = usage
        .clone()
        .lazy()
        .filter(days_expr(col("date")).lt_eq(today))
        .group_by([col("metric")])
        .agg([col("date").min().alias("first")])
        .with_column(month_index_expr(col("first")).alias("month"))
        .collect()
        .map_err(ReportError::polars(step))?;
    let names = frame::strings(&first_usage, "metric")?;
    let months = frame::floats(&first_usage, "month")?;
    for (metric, month) in names.iter().zip(months) {
        if let (Some(metric), Some(month)) = (metric, month) {
            let month = month as i32;
            starts.data = Some(starts.data.map_or(month, |d| d.min(month)));
            if metrics.contains(metric) {
                starts.metric.insert(metric.clone(), month);
            }
        }
    }
    Ok(starts)
}

/// The last month with use of each entitled boolean feature, keyed by
/// feature-table row and metric.
type LastUse = HashMap<(usize, String), i32>;

/// Lists the metrics of the entitled boolean features, sorted.
fn feature_metrics(entitled: &HashMap<usize, Vec<Entitled>>) -> Vec<String> {
    let mut metrics: Vec<String> = entitled
        .values()
        .flatten()
        .filter(|e| e.kind == "boolean")
        .map(|e| e.metric.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    metrics.sort();
    metrics
}

fn last_feature_use(
    usage: &DataFrame,
    (as_of, last_month): (NaiveDate, i32),
    metrics: &[String],
    index: &HashMap<String, usize>,
) -> Result<LastUse, ReportError> {
    let step = "the last use of each feature";
    if metrics.is_empty() {
        return Ok(HashMap::new());
    }

    let end = epoch_days(calendar::month_end(last_month).max(as_of));
    let wanted = Series::new("metrics".into(), metrics);
    let used = usage
        .clone()
        .lazy()
        .filter(
            col("metric")
                .is_in(lit(wanted).implode(false), false)
                .and(col("value").gt(lit(0.0)))
                .and(days_expr(col("date")).lt_eq(lit(end))),
        )
        .with_column(month_index_expr(col("date")).alias("month"))
        .filter(col("month").lt_eq(lit(last_month)))
        .group_by([col("account_id"), col("metric")])
        .agg([col("month").max().alias("month")])
        .collect()
        .map_err(ReportError::polars(step))?;

    let accounts = frame::strings(&used, "account_id")?;
    let names = frame::strings(&used, "metric")?;
    let months = frame::floats(&used, "month")?;
    let mut last = HashMap::with_capacity(used.height());
    for i in 0..used.height() {
        if let (Some(account), Some(metric), Some(month)) = (&accounts[i], &names[i], months[i])
            && let Some(&row) = index.get(account)
        {
            last.insert((row, metric.clone()), month as i32);
        }
    }
    Ok(last)
}

/// The history's inputs read from the usage of the feature stage, whose
/// integer keys are mapped to feature-table rows.
struct FromFeatureUsage<'a> {
    usage: &'a FeatureUsage,
    /// The feature-table row of each `acct_idx`.
    rows: Vec<Option<usize>>,
}

impl<'a> FromFeatureUsage<'a> {
    fn new(usage: &'a FeatureUsage, index: &HashMap<String, usize>) -> FromFeatureUsage<'a> {
        let ids = usage
            .accounts
            .column("account_id")
            .ok()
            .and_then(|c| c.str().ok().cloned());
        let rows = match ids {
            Some(ids) => ids
                .iter()
                .map(|id| id.and_then(|id| index.get(id).copied()))
                .collect(),
            None => Vec::new(),
        };
        FromFeatureUsage { usage, rows }
    }

    /// Looks up the key of each of `names` in the feature stage's metric list.
    fn metric_keys(&self, names: &[String]) -> Vec<Option<usize>> {
        names
            .iter()
            .map(|name| self.usage.metrics.iter().position(|m| m == name))
            .collect()
    }

    /// Spreads the monthly usage of `metrics` in the window into an array, as
    /// [`monthly_usage`] does from the table.
    fn monthly(
        &self,
        (_, first_month, last_month): (NaiveDate, i32, i32),
        metrics: &[String],
    ) -> MonthlyUsage {
        let months = (last_month - first_month + 1) as usize;
        // The position in `metrics` of each feature-stage metric key.
        let mut needed: Vec<Option<usize>> = vec![None; self.usage.metrics.len()];
        for (m, key) in self.metric_keys(metrics).into_iter().enumerate() {
            if let Some(key) = key {
                needed[key] = Some(m);
            }
        }
        let n_rows = self.rows.iter().flatten().max().map_or(0, |r| r + 1);
        let mut values = vec![f64::NAN; n_rows * metrics.len() * months];
        let monthly = &self.usage.monthly;
        let columns = (
            monthly.column("acct_idx").and_then(|c| c.u32().cloned()),
            monthly.column("metric_idx").and_then(|c| c.u32().cloned()),
            monthly.column("month").and_then(|c| c.i32().cloned()),
            monthly.column("value").and_then(|c| c.f64().cloned()),
        );
        if let (Ok(accounts), Ok(keys), Ok(month_values), Ok(usage_values)) = columns {
            let rows = accounts
                .iter()
                .zip(keys.iter())
                .zip(month_values.iter())
                .zip(usage_values.iter());
            for (((account, key), month), value) in rows {
                let (Some(account), Some(key), Some(month), Some(value)) =
                    (account, key, month, value)
                else {
                    continue;
                };
                let row = self.rows.get(account as usize).copied().flatten();
                let m = needed.get(key as usize).copied().flatten();
                let (Some(row), Some(m)) = (row, m) else {
                    continue;
                };
                let k = month - first_month;
                if k >= 0 && (k as usize) < months {
                    values[(row * metrics.len() + m) * months + k as usize] = value;
                }
            }
        }
        MonthlyUsage {
            months,
            metrics: metrics
                .iter()
                .enumerate()
                .map(|(i, m)| (m.clone(), i))
                .collect(),
            values,
        }
    }

    /// Returns the first month with data of each of `metrics`, and of any
    /// metric.
    ///
    /// NOTE: these months count only rows of accounts in the accounts table,
    /// while [`metric_starts`] counts every row. They differ only for usage of
    /// unknown accounts, which the import rejects.
    fn metric_starts(&self, metrics: &[String]) -> UsageStarts {
        let mut starts = UsageStarts {
            data: self.usage.metric_start.iter().flatten().copied().min(),
            ..UsageStarts::default()
        };
        for (name, key) in metrics.iter().zip(self.metric_keys(metrics)) {
            if let Some(month) = key.and_then(|k| self.usage.metric_start[k]) {
                starts.metric.insert(name.clone(), month);
            }
        }
        starts
    }

    /// Returns the last month with use of each of `metrics` by each
    /// feature-table row.
    fn last_used(&self, metrics: &[String]) -> LastUse {
        let mut last = HashMap::new();
        for (name, key) in metrics.iter().zip(self.metric_keys(metrics)) {
            let Some(key) = key else { continue };
            for (account, month) in self.usage.last_used[key].iter().enumerate() {
                if let (Some(month), Some(row)) = (month, self.rows[account]) {
                    last.insert((row, name.clone()), *month);
                }
            }
        }
        last
    }
}

/// What one account's series are built from.
struct SeriesContext<'a> {
    first_month: i32,
    months: usize,
    snapshot: bool,
    account_start: Option<i32>,
    metric_starts: &'a HashMap<String, i32>,
    monthly: &'a MonthlyUsage,
    row: usize,
}

impl SeriesContext<'_> {
    /// The usage series of one metric: rows where present, zero from the
    /// month both the account and the metric have data, `None` before.
    fn series(&self, metric: &str) -> Vec<Option<f64>> {
        let mut values: Vec<Option<f64>> = match self.monthly.get(self.row, metric) {
            Some(window) => window.iter().map(|v| (!v.is_nan()).then_some(*v)).collect(),
            None => vec![None; self.months],
        };
        if self.snapshot {
            return values;
        }

        let metric_start = self.metric_starts.get(metric).copied();
        let first_row = values
            .iter()
            .position(Option::is_some)
            .map(|i| self.first_month + i as i32);
        let account_start = match (self.account_start, first_row) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let (Some(metric_start), Some(account_start)) = (metric_start, account_start) else {
            return values;
        };
        let zero_from = metric_start.max(account_start);
        for (i, value) in values.iter_mut().enumerate() {
            if value.is_none() && self.first_month + i as i32 >= zero_from {
                *value = Some(0.0);
            }
        }
        values
    }
}

fn build_account(
    rows: &FeatureRows,
    row: usize,
    entitled: Option<&Vec<Entitled>>,
    context: &SeriesContext<'_>,
    last_used: &LastUse,
) -> AccountHistory {
    let primary_metric = rows.primary_metric[row].clone().unwrap_or_default();
    let primary_name = rows.primary_entitlement[row].clone();

    let mut entitlements = Vec::new();
    let mut features = Vec::new();
    for e in entitled.into_iter().flatten() {
        if e.kind == "boolean" {
            features.push(FeatureUse {
                entitlement: e.entitlement.clone(),
                metric: e.metric.clone(),
                entitled_since: e.since,
                last_used: last_used
                    .get(&(row, e.metric.clone()))
                    .map(|&m| calendar::month_end(m)),
            });
            continue;
        }
        let limit = rows
            .limits
            .get(&column_suffix(&e.entitlement))
            .and_then(|values| values[row])
            .filter(|l| *l > 0.0);
        entitlements.push(EntitlementSeries {
            entitlement: e.entitlement.clone(),
            kind: e.kind.clone(),
            metric: e.metric.clone(),
            limit,
            hard: e.hard,
            usage: context.series(&e.metric),
        });
    }

    let primary = primary_name
        .as_deref()
        .and_then(|name| entitlements.iter().position(|e| e.entitlement == name));
    let primary_usage = match primary {
        Some(i) => entitlements[i].usage.clone(),
        None => context.series(&primary_metric),
    };
    AccountHistory {
        entitlements,
        primary,
        primary_metric,
        primary_usage,
        features,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Acct, date, month_end, tables};
    use headroom_features::{FeatureOptions, features_and_usage};

    fn portfolio() -> Vec<Acct> {
        let users: Vec<f64> = (0..20).map(|i| 4.0 + i as f64).collect();
        vec![
            Acct::new("a1")
                .seats(10.0)
                .metered("api_calls", 1000.0, true)
                .feature("reports")
                .monthly("active_users", 2025, 1, &users)
                .monthly("api_calls", 2025, 9, &[500.0, 0.0, 700.0, 800.0])
                .monthly("feature_reports", 2025, 2, &[0.0, 3.0, 0.0, 0.0]),
            Acct::new("a2")
                .since(date(2025, 6, 1))
                .seats(5.0)
                .feature("alerts")
                .monthly("active_users", 2025, 7, &[2.0, 3.0, 4.0]),
            Acct::new("a3")
                .seats(8.0)
                .monthly("logins", 2025, 1, &[1.0, 2.0]),
        ]
    }

    /// Reads the history at `as_of` from the usage table and from the
    /// feature stage's usage.
    fn both(tables: &Tables, as_of: NaiveDate) -> (PortfolioHistory, PortfolioHistory) {
        let options = FeatureOptions::default();
        let (features, usage) = features_and_usage(tables, as_of, &options, 15).unwrap();
        let request = HistoryRequest {
            as_of,
            months: 15,
            accounts: None,
        };
        let from_table = load_history(tables, &features, request).unwrap();
        let from_features = load_history_from(tables, &features, &usage, request).unwrap();
        (from_table, from_features)
    }

    #[test]
    fn history_from_feature_usage_matches_table() {
        let (from_table, from_features) = both(&tables(&portfolio(), None), date(2026, 6, 30));
        assert_eq!(from_features.accounts.len(), 3);
        assert_eq!(from_features, from_table);

        let a1 = from_features.account("a1").unwrap();
        let seats = a1.primary_entitlement().unwrap();
        // 15 months up to 2026-06; the 20 monthly values 4..23 start 2025-01,
        // so 2026-06 is the 18th value (21) and 2026-08 onwards has no rows.
        assert_eq!(seats.usage.len(), 15);
        assert_eq!(seats.usage.last(), Some(&Some(21.0)));
        // reports was last used (value above zero) in 2025-03.
        assert_eq!(a1.features[0].last_used, Some(month_end(2025, 3)));
    }

    #[test]
    fn history_from_daily_feature_usage_matches_table() {
        let mut tables = tables(&portfolio(), None);
        let daily = df!(
            "account_id" => ["a1", "a1"],
            "date" => [date(2026, 5, 10), date(2026, 5, 20)],
            "metric" => ["api_calls", "api_calls"],
            "value" => [40.0, 60.0],
        )
        .unwrap();
        let usage = tables.usage.frame().unwrap().vstack(&daily).unwrap();
        tables.usage = usage.into();
        let (from_table, from_features) = both(&tables, date(2026, 6, 30));
        assert_eq!(from_features, from_table);

        let a1 = from_features.account("a1").unwrap();
        let api_calls = a1
            .entitlements
            .iter()
            .find(|e| e.entitlement == "api_calls")
            .unwrap();
        // 2026-05 is the 14th of the 15 months from 2025-04; its two daily
        // rows add up to 100 by the default sum rollup.
        assert_eq!(api_calls.usage[13], Some(100.0));
    }
}
