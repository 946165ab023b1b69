//! One pass over the usage table, slice by slice. Each slice's text keys
//! (`account_id`, `metric`) become integers at once, so the whole text table
//! is never in memory. The pass keeps as rows only the months the lag
//! columns read, and collects the facts that need the whole history on the
//! way: the first usage month of each account and metric, the first and last
//! month each account used each metric, and the monthly totals of the
//! seasonal profile.

use std::collections::HashMap;

use chrono::NaiveDate;
use headroom_data::Usage;
use polars::prelude::*;

use crate::calendar::{epoch_days, from_epoch_days, is_month_end, month_index};
use crate::error::{FeatureError, StepContext};
use crate::panel::{self, FirstMonths, Totals};

const STEP: &str = "the indexed usage";

/// The request of [`scan`]: the accounts, metrics and months it reads and
/// keeps.
pub struct ScanRequest<'a> {
    /// The account index ([`crate::index::account_index`]).
    pub accounts: &'a DataFrame,
    /// Metrics listed even without usage rows (those the entitlements name).
    pub listed_metrics: Vec<String>,
    /// The last as-of date; later rows are not read.
    pub until: NaiveDate,
    /// The first month kept as rows when the usage is monthly.
    pub keep_from: i32,
    /// The months summed for the seasonal profile, both included.
    pub totals: (i32, i32),
    /// The last month counted for [`ScannedUsage::last_used`].
    pub last_used_until: i32,
}

/// The usage rows of the months the features read, and the whole-history
/// facts.
pub struct ScannedUsage {
    /// Rows dated on or before `until`, of listed accounts, from month
    /// `rows_from` on, in table order: `acct_idx`, `metric_idx`, `month`,
    /// `date_days`, `value`.
    pub rows: DataFrame,
    /// The first month of `rows`: the request's `keep_from` for monthly
    /// usage, the first month of the seasonal totals otherwise, because daily
    /// rows must be rolled up before they are summed.
    pub rows_from: i32,
    /// The metric names by `metric_idx`, sorted: every metric with a row
    /// dated on or before `until` and every listed metric.
    pub metrics: Vec<String>,
    /// The first usage months and the grain.
    pub firsts: FirstMonths,
    /// The seasonal totals of monthly usage; `None` for daily usage, whose
    /// totals come from the rolled-up `rows`.
    pub totals: Option<Totals>,
    /// The first month with a positive value, by metric and then account.
    pub first_used: Vec<Vec<Option<i32>>>,
    /// The last month up to `last_used_until` with a positive value, by
    /// metric and then account.
    pub last_used: Vec<Vec<Option<i32>>>,
}

/// Reads `usage` once and returns the rows and facts of `request`.
///
/// Monthly usage is read once. A row that is not on a month end means daily
/// usage, which must be rolled up before the seasonal totals: the pass then
/// starts again and keeps the rows of every month the totals read.
pub fn scan(usage: &Usage, request: &ScanRequest<'_>) -> Result<ScannedUsage, FeatureError> {
    match Pass::run(usage, request, request.keep_from, true)? {
        Some(scanned) => Ok(scanned),
        None => {
            tracing::debug!("usage is not monthly; reading it again for the monthly rollup");
            let keep_from = request.keep_from.min(request.totals.0);
            let scanned = Pass::run(usage, request, keep_from, false)?;
            Ok(scanned.expect("a pass without totals never stops early"))
        }
    }
}

/// The reason a pass stops before its last slice.
enum SliceError {
    /// A row is not on a month end, so the pass that sums totals stops.
    Daily,
    /// Reading or keying a slice failed.
    Failed(FeatureError),
}

impl From<headroom_data::DataError> for SliceError {
    fn from(err: headroom_data::DataError) -> SliceError {
        SliceError::Failed(err.into())
    }
}

/// The state of one pass over the usage slices.
struct Pass<'a> {
    request: &'a ScanRequest<'a>,
    /// `acct_idx` by `account_id`.
    account_keys: HashMap<String, u32>,
    /// `industry_group` by `acct_idx`.
    groups: Vec<Option<u32>>,
    n_groups: usize,
    keep_from: i32,
    /// Metric names by provisional key, in the order first seen.
    metrics: Vec<String>,
    /// The slices' rows from `keep_from` on, with provisional metric keys.
    late: Vec<DataFrame>,
    first_usage: Vec<Option<i32>>,
    metric_start: Vec<Option<i32>>,
    monthly_grain: bool,
    /// Seasonal sums by provisional metric, then group and month; `None`
    /// once the usage turned out to be daily.
    totals: Option<Vec<TotalCells>>,
    first_used: Vec<Vec<Option<i32>>>,
    last_used: Vec<Vec<Option<i32>>>,
}

/// The seasonal sums of one metric: `(groups + 1) * months` cells, the
/// accounts without a group last.
#[derive(Clone)]
struct TotalCells {
    sums: Vec<f64>,
    seen: Vec<bool>,
}

impl<'a> Pass<'a> {
    /// Runs one pass. With `totals`, it sums the seasonal totals and returns
    /// `None` as soon as a row is not on a month end.
    fn run(
        usage: &Usage,
        request: &'a ScanRequest<'a>,
        keep_from: i32,
        totals: bool,
    ) -> Result<Option<ScannedUsage>, FeatureError> {
        let mut pass = Pass::new(request, keep_from, totals)?;
        let read = usage.for_each_slice(
            &["account_id", "date", "metric", "value"],
            |slice| -> Result<(), SliceError> {
                match pass.read_slice(slice) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(SliceError::Daily),
                    Err(err) => Err(SliceError::Failed(err)),
                }
            },
        );
        match read {
            Ok(()) => pass.finish().map(Some),
            Err(SliceError::Daily) => Ok(None),
            Err(SliceError::Failed(err)) => Err(err),
        }
    }

    fn new(
        request: &'a ScanRequest<'a>,
        keep_from: i32,
        totals: bool,
    ) -> Result<Pass<'a>, FeatureError> {
        let ids = request
            .accounts
            .column("account_id")
            .and_then(|c| c.str().cloned());
        let keys = request
            .accounts
            .column("acct_idx")
            .and_then(|c| c.u32().cloned());
        let account_keys: HashMap<String, u32> = ids
            .step(STEP)?
            .iter()
            .zip(keys.step(STEP)?.iter())
            .filter_map(|(id, key)| Some((id?.to_string(), key?)))
            .collect();
        let groups: Vec<Option<u32>> = request
            .accounts
            .column("industry_group")
            .and_then(|c| c.u32().cloned())
            .step(STEP)?
            .iter()
            .collect();

        let n_groups = groups.iter().flatten().max().map_or(0, |g| *g as usize + 1);
        let mut metrics = request.listed_metrics.clone();
        metrics.sort();
        metrics.dedup();
        let n_accounts = groups.len();

        let mut pass = Pass {
            request,
            account_keys,
            groups,
            n_groups,
            keep_from,
            metrics: Vec::new(),
            late: Vec::new(),
            first_usage: vec![None; n_accounts],
            metric_start: Vec::new(),
            monthly_grain: true,
            totals: totals.then(Vec::new),
            first_used: Vec::new(),
            last_used: Vec::new(),
        };
        for name in metrics {
            pass.add_metric(name);
        }
        Ok(pass)
    }

    fn add_metric(&mut self, name: String) {
        let n_accounts = self.groups.len();
        let (first, last) = self.request.totals;
        let cells = (self.n_groups + 1) * (last - first + 1).max(0) as usize;
        self.metrics.push(name);
        self.metric_start.push(None);
        self.first_used.push(vec![None; n_accounts]);
        self.last_used.push(vec![None; n_accounts]);
        if let Some(totals) = self.totals.as_mut() {
            totals.push(TotalCells {
                sums: vec![0.0; cells],
                seen: vec![false; cells],
            });
        }
    }

    /// Keys one slice, adds its facts and keeps its rows of the kept months.
    /// Returns false when the pass sums totals and the slice has a row that
    /// is not on a month end.
    fn read_slice(&mut self, slice: DataFrame) -> Result<bool, FeatureError> {
        let until = epoch_days(self.request.until);
        let dated = slice
            .lazy()
            .with_columns([col("date").cast(DataType::Int32).alias("date_days")])
            .filter(col("date_days").lt_eq(lit(until)))
            .select([
                col("account_id"),
                col("metric"),
                col("date_days"),
                col("value"),
            ])
            .collect()
            .step(STEP)?;
        if dated.height() == 0 {
            return Ok(true);
        }
        let keyed = self.keyed(dated)?;

        let days = keyed.column("date_days").and_then(|c| c.i32().cloned());
        let days = days.step(STEP)?;
        let (first_day, last_day) = (days.min().unwrap_or(0), days.max().unwrap_or(0));
        let calendar = DayCalendar::new(first_day, last_day);
        if self.totals.is_some() && !days.into_no_null_iter().all(|d| calendar.is_month_end(d)) {
            return Ok(false);
        }

        let accounts = keyed.column("acct_idx").and_then(|c| c.u32().cloned());
        let metrics = keyed.column("metric_idx").and_then(|c| c.u32().cloned());
        let values = keyed.column("value").and_then(|c| c.f64().cloned());
        let (accounts, metrics, values) = (
            accounts.step(STEP)?,
            metrics.step(STEP)?,
            values.step(STEP)?,
        );
        let rows = accounts
            .into_no_null_iter()
            .zip(metrics.into_no_null_iter())
            .zip(days.into_no_null_iter())
            .zip(values.iter());
        let mut months = Vec::with_capacity(keyed.height());
        for (((account, metric), day), value) in rows {
            let month = calendar.month(day);
            months.push(month);
            self.add_row(account, metric, month, value);
            self.monthly_grain &= calendar.is_month_end(day);
        }

        let late = keyed
            .lazy()
            .with_column(lit(Series::new("month".into(), months)).alias("month"))
            .filter(col("month").gt_eq(lit(self.keep_from)))
            .select([
                col("acct_idx"),
                col("metric_idx"),
                col("month"),
                col("date_days"),
                col("value"),
            ])
            .collect()
            .step(STEP)?;
        if late.height() > 0 {
            self.late.push(late);
        }
        Ok(true)
    }

    /// Adds `acct_idx` and `metric_idx` to the rows of a slice and drops the
    /// rows of accounts missing from the account index. A metric not seen
    /// before gets the next key.
    fn keyed(&mut self, dated: DataFrame) -> Result<DataFrame, FeatureError> {
        let accounts = self.account_column(&dated)?;
        let with_accounts = dated.lazy().with_columns([lit(accounts).alias("acct_idx")]);
        let mut keyed = panel::with_metric_key(with_accounts, &self.metrics)?
            .collect()
            .step(STEP)?;
        let unknown = keyed
            .clone()
            .lazy()
            .filter(col("metric_idx").is_null().and(col("metric").is_not_null()))
            .select([col("metric").unique_stable()])
            .collect()
            .step(STEP)?;
        if unknown.height() > 0 {
            let names = unknown.column("metric").and_then(|c| c.str().cloned());
            let names: Vec<String> = names
                .step(STEP)?
                .iter()
                .flatten()
                .map(str::to_string)
                .collect();
            for name in names {
                self.add_metric(name);
            }
            keyed = panel::with_metric_key(keyed.lazy().drop(cols(["metric_idx"])), &self.metrics)?
                .collect()
                .step(STEP)?;
        }
        keyed
            .lazy()
            .filter(
                col("acct_idx")
                    .is_not_null()
                    .and(col("metric_idx").is_not_null()),
            )
            .collect()
            .step(STEP)
    }

    /// Looks up the `acct_idx` of each row's `account_id` (null when the
    /// account is not in the index). Exports list an account's rows
    /// together, so a row with the id of the row before reuses its key.
    fn account_column(&self, rows: &DataFrame) -> Result<Series, FeatureError> {
        let ids = rows.column("account_id").and_then(|c| c.str().cloned());
        let ids = ids.step(STEP)?;
        let mut previous: Option<&str> = None;
        let mut key: Option<u32> = None;
        let keys: UInt32Chunked = ids
            .iter()
            .map(|id| {
                if id != previous {
                    previous = id;
                    key = id.and_then(|id| self.account_keys.get(id).copied());
                }
                key
            })
            .collect();
        Ok(keys.with_name("acct_idx".into()).into_series())
    }

    fn add_row(&mut self, account: u32, metric: u32, month: i32, value: Option<f64>) {
        let (account, metric_key) = (account as usize, metric as usize);
        let first = &mut self.first_usage[account];
        *first = Some(first.map_or(month, |m| m.min(month)));
        let start = &mut self.metric_start[metric_key];
        *start = Some(start.map_or(month, |m| m.min(month)));

        let Some(value) = value else { return };
        if value > 0.0 {
            let first = &mut self.first_used[metric_key][account];
            *first = Some(first.map_or(month, |m| m.min(month)));
            if month <= self.request.last_used_until {
                let last = &mut self.last_used[metric_key][account];
                *last = Some(last.map_or(month, |m| m.max(month)));
            }
        }
        let (first_month, last_month) = self.request.totals;
        if let Some(totals) = self.totals.as_mut()
            && month >= first_month
            && month <= last_month
        {
            let width = (last_month - first_month + 1) as usize;
            let group = self.groups[account].map_or(self.n_groups, |g| g as usize);
            let cell = group * width + (month - first_month) as usize;
            let cells = &mut totals[metric_key];
            cells.sums[cell] += value;
            cells.seen[cell] = true;
        }
    }

    /// Sorts the metrics, renumbers every key by the sorted order and
    /// assembles the result.
    fn finish(self) -> Result<ScannedUsage, FeatureError> {
        let mut order: Vec<usize> = (0..self.metrics.len()).collect();
        order.sort_by(|a, b| self.metrics[*a].cmp(&self.metrics[*b]));
        // new_key[provisional key] is the key in sorted order.
        let mut new_key = vec![0u32; order.len()];
        for (sorted, provisional) in order.iter().enumerate() {
            new_key[*provisional] = sorted as u32;
        }
        let reorder = |values: &[Option<i32>]| -> Vec<Option<i32>> {
            order.iter().map(|i| values[*i]).collect()
        };
        let reorder_all = |values: Vec<Vec<Option<i32>>>| -> Vec<Vec<Option<i32>>> {
            let mut values: Vec<Option<Vec<Option<i32>>>> = values.into_iter().map(Some).collect();
            order
                .iter()
                .map(|i| values[*i].take().expect("each key once"))
                .collect()
        };

        let rows = self.late_rows(&new_key)?;
        let by_metric = reorder(&self.metric_start);
        let portfolio_start = by_metric.iter().flatten().copied().min();
        let totals = self.totals.map(|cells| Totals {
            first_month: self.request.totals.0,
            months: (self.request.totals.1 - self.request.totals.0 + 1).max(0) as usize,
            n_groups: self.n_groups,
            sums: order.iter().map(|i| cells[*i].sums.clone()).collect(),
            seen: order.iter().map(|i| cells[*i].seen.clone()).collect(),
        });
        let mut metrics = self.metrics;
        metrics.sort();
        Ok(ScannedUsage {
            rows,
            rows_from: self.keep_from,
            metrics,
            firsts: FirstMonths {
                by_account: Series::new("first_usage_month".into(), self.first_usage),
                by_metric: Series::new("metric_start".into(), by_metric),
                portfolio_start,
                monthly_grain: self.monthly_grain,
            },
            totals,
            first_used: reorder_all(self.first_used),
            last_used: reorder_all(self.last_used),
        })
    }

    /// Stacks the kept slices and renumbers their metric keys.
    fn late_rows(&self, new_key: &[u32]) -> Result<DataFrame, FeatureError> {
        let mut rows = match self.late.first() {
            Some(first) => {
                let mut rows = first.clone();
                for slice in &self.late[1..] {
                    rows.vstack_mut(slice).step(STEP)?;
                }
                rows
            }
            None => DataFrame::new(
                0,
                vec![
                    Column::new_empty("acct_idx".into(), &DataType::UInt32),
                    Column::new_empty("metric_idx".into(), &DataType::UInt32),
                    Column::new_empty("month".into(), &DataType::Int32),
                    Column::new_empty("date_days".into(), &DataType::Int32),
                    Column::new_empty("value".into(), &DataType::Float64),
                ],
            )
            .step(STEP)?,
        };
        let sorted = new_key.iter().enumerate().all(|(i, k)| i as u32 == *k);
        if !sorted {
            let keys = Series::new("metric_idx".into(), new_key.to_vec());
            rows = rows
                .lazy()
                .with_columns([lit(keys)
                    .gather(col("metric_idx"), false)
                    .alias("metric_idx")])
                .collect()
                .step(STEP)?;
        }
        Ok(rows)
    }
}

/// The month index and month-end flag of each day of a span.
struct DayCalendar {
    first_day: i32,
    months: Vec<i32>,
    month_ends: Vec<bool>,
}

impl DayCalendar {
    fn new(first_day: i32, last_day: i32) -> DayCalendar {
        let dates: Vec<NaiveDate> = (first_day..=last_day.max(first_day))
            .map(from_epoch_days)
            .collect();
        DayCalendar {
            first_day,
            months: dates.iter().map(|d| month_index(*d)).collect(),
            month_ends: dates.iter().map(|d| is_month_end(*d)).collect(),
        }
    }

    fn month(&self, day: i32) -> i32 {
        self.months[(day - self.first_day) as usize]
    }

    fn is_month_end(&self, day: i32) -> bool {
        self.month_ends[(day - self.first_day) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::month_end;

    fn accounts() -> DataFrame {
        df!(
            "account_id" => ["a", "b", "c"],
            "acct_idx" => [0u32, 1, 2],
            "industry_group" => [Some(0u32), None, Some(0)],
        )
        .unwrap()
    }

    fn usage(rows: &[(&str, NaiveDate, &str, f64)]) -> Usage {
        let frame = DataFrame::new(
            rows.len(),
            vec![
                Column::new(
                    "account_id".into(),
                    rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                ),
                Column::new("date".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
                Column::new(
                    "metric".into(),
                    rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                ),
                Column::new("value".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
            ],
        )
        .unwrap();
        Usage::from(frame)
    }

    fn month(y: i32, m: u32) -> i32 {
        y * 12 + m as i32 - 1
    }

    fn end(y: i32, m: u32) -> NaiveDate {
        month_end(month(y, m))
    }

    fn request(accounts: &DataFrame, until: NaiveDate) -> ScanRequest<'_> {
        ScanRequest {
            accounts,
            listed_metrics: vec!["seats".to_string()],
            until,
            keep_from: month(2024, 3),
            totals: (month(2024, 1), month(2024, 4)),
            last_used_until: month(2024, 3),
        }
    }

    fn column<T: PolarsNumericType>(frame: &DataFrame, name: &str) -> Vec<Option<T::Native>>
    where
        ChunkedArray<T>: Clone,
    {
        let column = frame.column(name).unwrap().as_materialized_series().clone();
        column.unpack::<T>().unwrap().iter().collect()
    }

    #[test]
    fn scan_keeps_late_months_and_whole_history_facts() {
        let usage = usage(&[
            ("a", end(2024, 1), "seats", 3.0),
            ("a", end(2024, 2), "seats", 0.0),
            ("a", end(2024, 3), "api_calls", 7.0),
            ("x", end(2024, 3), "seats", 9.0),
            ("b", end(2024, 4), "seats", 2.0),
            ("c", end(2024, 2), "api_calls", 0.0),
            ("a", end(2024, 5), "seats", 4.0),
        ]);
        let accounts = accounts();
        let scanned = scan(&usage, &request(&accounts, end(2024, 4))).unwrap();

        // api_calls sorts before the listed seats.
        assert_eq!(scanned.metrics, ["api_calls", "seats"]);
        assert_eq!(scanned.rows_from, month(2024, 3));
        // Kept: a's api_calls in March and b's seats in April. x is not an
        // account and May is after the last as-of date.
        let accts = column::<UInt32Type>(&scanned.rows, "acct_idx");
        assert_eq!(accts, [Some(0), Some(1)]);
        let metrics = column::<UInt32Type>(&scanned.rows, "metric_idx");
        assert_eq!(metrics, [Some(0), Some(1)]);

        let firsts = &scanned.firsts;
        let by_account: Vec<Option<i32>> = firsts.by_account.i32().unwrap().iter().collect();
        assert_eq!(
            by_account,
            [
                Some(month(2024, 1)),
                Some(month(2024, 4)),
                Some(month(2024, 2))
            ]
        );
        let by_metric: Vec<Option<i32>> = firsts.by_metric.i32().unwrap().iter().collect();
        assert_eq!(by_metric, [Some(month(2024, 2)), Some(month(2024, 1))]);
        assert_eq!(firsts.portfolio_start, Some(month(2024, 1)));
        assert!(firsts.monthly_grain);

        // A zero is not a use; b's April use is after last_used_until.
        assert_eq!(
            scanned.first_used[1],
            [Some(month(2024, 1)), Some(month(2024, 4)), None]
        );
        assert_eq!(scanned.last_used[1], [Some(month(2024, 1)), None, None]);
        assert_eq!(scanned.first_used[0], [Some(month(2024, 3)), None, None]);
    }

    #[test]
    fn scan_sums_totals_per_group_and_month() {
        let usage = usage(&[
            ("a", end(2024, 1), "seats", 3.0),
            ("c", end(2024, 1), "seats", 4.0),
            ("b", end(2024, 1), "seats", 5.0),
            ("a", end(2023, 12), "seats", 100.0),
        ]);
        let accounts = accounts();
        let scanned = scan(&usage, &request(&accounts, end(2024, 4))).unwrap();
        let totals = scanned.totals.as_ref().unwrap().to_frame().unwrap();
        // Group 0 (a and c) 3 + 4; b has no group. December is before the span.
        assert_eq!(
            column::<Float64Type>(&totals, "total"),
            [Some(7.0), Some(5.0)]
        );
        assert_eq!(
            column::<UInt32Type>(&totals, "industry_group"),
            [Some(0), None]
        );
        assert_eq!(
            column::<Int32Type>(&totals, "month"),
            [Some(month(2024, 1)); 2]
        );
    }

    #[test]
    fn scan_keeps_rollup_months_of_daily_usage() {
        let usage = usage(&[
            ("a", end(2024, 1), "seats", 3.0),
            (
                "a",
                NaiveDate::from_ymd_opt(2024, 2, 10).unwrap(),
                "seats",
                1.0,
            ),
            ("a", end(2024, 3), "seats", 2.0),
        ]);
        let accounts = accounts();
        let scanned = scan(&usage, &request(&accounts, end(2024, 4))).unwrap();
        // The rows of every month the totals read are kept for the rollup.
        assert_eq!(scanned.rows_from, month(2024, 1));
        assert_eq!(scanned.rows.height(), 3);
        assert!(scanned.totals.is_none());
        assert!(!scanned.firsts.monthly_grain);
    }

    #[test]
    fn account_keys_by_runs_and_unknown_ids() {
        let accounts = accounts();
        let request = request(&accounts, end(2024, 4));
        let pass = Pass::new(&request, request.keep_from, true).unwrap();
        let rows = df!("account_id" => ["b", "b", "a", "x", "x", "c", "a"]).unwrap();
        let keys: Vec<Option<u32>> = pass
            .account_column(&rows)
            .unwrap()
            .u32()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            keys,
            [Some(1), Some(1), Some(0), None, None, Some(2), Some(0)]
        );
    }
}
