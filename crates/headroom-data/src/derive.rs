//! Rules that derive rows or cells after the sources are read.
//!
//! They set renewal dates of open-ended contracts and start dates from a term,
//! add renewal outcomes on anniversaries, drop excluded accounts, combine usage
//! to a grain, name the metric that measures each entitlement, and read limits
//! of 0 as unlimited.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{Datelike, Months, NaiveDate};
use polars::prelude::*;

use crate::build::{
    AFTER_COL, ANNIV_END, ANNIV_EVERY, ANNIV_START, ANNIV_UNTIL, BACK_COL, FILE_COL, ROW_COL,
    TERM_COL,
};
use crate::cell::{epoch_days, from_epoch_days};
use crate::contract::TableKind;
use crate::mapping::{Grain, Mapping};
use crate::report::{Check, Issue, Report, Severity, group};

/// The frames of all six tables while they are being built.
pub(crate) type Frames = BTreeMap<TableKind, DataFrame>;

fn frame_err(err: PolarsError) -> ! {
    panic!("table operation on frames of the contract schema failed: {err}")
}

/// Returns the latest date in any date column of the tables as read.
pub(crate) fn data_end(frames: &Frames) -> Option<NaiveDate> {
    let mut latest: Option<i32> = None;
    for (kind, df) in frames {
        for spec in kind.columns() {
            if spec.kind.dtype() != DataType::Date {
                continue;
            }
            let Ok(column) = df.column(spec.name) else {
                continue;
            };
            let max = column
                .as_materialized_series()
                .date()
                .ok()
                .and_then(|d| d.physical().max());
            latest = latest.max(max);
        }
    }
    latest.map(from_epoch_days)
}

/// Adds `months` to a date, ending on the month's last day when the day does
/// not exist (Jan 31 + 1 month = Feb 28 or 29).
pub(crate) fn add_months(date: NaiveDate, months: i64) -> Option<NaiveDate> {
    if months >= 0 {
        date.checked_add_months(Months::new(months as u32))
    } else {
        date.checked_sub_months(Months::new(months.unsigned_abs() as u32))
    }
}

/// Returns the last day of a date's month.
pub(crate) fn month_end(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).expect("day 1 exists");
    add_months(first, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(date)
}

fn date_values(df: &DataFrame, name: &str) -> Vec<Option<i32>> {
    df.column(name)
        .and_then(|c| c.as_materialized_series().date().cloned())
        .map(|d| d.physical().iter().collect())
        .unwrap_or_else(|err| frame_err(err))
}

fn int_values(df: &DataFrame, name: &str) -> Vec<Option<i32>> {
    df.column(name)
        .and_then(|c| c.as_materialized_series().i32().cloned())
        .map(|c| c.iter().collect())
        .unwrap_or_else(|err| frame_err(err))
}

fn date_column(name: &str, values: Vec<Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), values.into_iter())
        .into_date()
        .into_column()
}

/// Fills blank contract end dates with the first term anniversary after the
/// rule's date, and blank start dates with `end_date - term_months`.
pub(crate) fn contract_dates(df: &mut DataFrame, end: Option<NaiveDate>, report: &mut Report) {
    let starts = date_values(df, "start_date");
    let ends = date_values(df, "end_date");
    let terms = int_values(df, TERM_COL);
    let afters = date_values(df, AFTER_COL);
    let backs = int_values(df, BACK_COL);
    let data_end = end.map(epoch_days);

    let mut rolled = 0usize;
    let mut new_ends = ends.clone();
    for i in 0..ends.len() {
        let (None, Some(start), Some(term)) = (ends[i], starts[i], terms[i]) else {
            continue;
        };
        let Some(after) = afters[i].or(data_end) else {
            continue;
        };
        new_ends[i] =
            next_anniversary(from_epoch_days(start), term, from_epoch_days(after)).map(epoch_days);
        rolled += usize::from(new_ends[i].is_some());
    }

    let mut backdated = 0usize;
    let mut new_starts = starts.clone();
    for i in 0..starts.len() {
        let (None, Some(end), Some(back)) = (starts[i], new_ends[i], backs[i]) else {
            continue;
        };
        new_starts[i] = add_months(from_epoch_days(end), -i64::from(back)).map(epoch_days);
        backdated += usize::from(new_starts[i].is_some());
    }

    df.with_column(date_column("end_date", new_ends))
        .unwrap_or_else(|e| frame_err(e));
    df.with_column(date_column("start_date", new_starts))
        .unwrap_or_else(|e| frame_err(e));
    if rolled > 0 {
        let after = end.map(|d| d.to_string()).unwrap_or_default();
        report.push(
            Issue::new(
                Severity::Note,
                Check::Filled,
                format!(
                    "{} blank end_date(s) of open-ended contracts filled with the first term anniversary after {after} (mapping open_end)",
                    group(rolled)
                ),
            )
            .table(TableKind::Contracts)
            .count(rolled),
        );
    }
    if backdated > 0 {
        report.push(
            Issue::new(
                Severity::Note,
                Check::Filled,
                format!(
                    "{} start_date(s) set to end_date minus the term (mapping term_months)",
                    group(backdated)
                ),
            )
            .table(TableKind::Contracts)
            .count(backdated),
        );
    }
}

/// Returns the first date `start + k * term` months (k >= 1) after `after`.
pub(crate) fn next_anniversary(start: NaiveDate, term: i32, after: NaiveDate) -> Option<NaiveDate> {
    if term <= 0 {
        return None;
    }
    let months_between =
        (after.year() - start.year()) as i64 * 12 + after.month() as i64 - start.month() as i64;
    let mut k = (months_between / term as i64).max(1);
    loop {
        let candidate = add_months(start, k * term as i64)?;
        if candidate > after {
            return Some(candidate);
        }
        k += 1;
    }
}

/// Expands outcome rows with an anniversary rule into one row per anniversary
/// of their start date that falls before their end date and on or before the
/// rule's last date.
pub(crate) fn outcome_anniversaries(
    df: &mut DataFrame,
    end: Option<NaiveDate>,
    report: &mut Report,
) {
    let every = int_values(df, ANNIV_EVERY);
    if every.iter().all(Option::is_none) {
        return;
    }
    let starts = date_values(df, ANNIV_START);
    let ends = date_values(df, ANNIV_END);
    let untils = date_values(df, ANNIV_UNTIL);
    let data_end = end.map(epoch_days);

    let mut take: Vec<IdxSize> = Vec::new();
    let mut dates: Vec<Option<i32>> = Vec::new();
    let mut derived = 0usize;
    let mut sources = 0usize;
    let mut without_start = 0usize;
    let existing = date_values(df, "date");
    for i in 0..df.height() {
        let Some(step) = every[i] else {
            take.push(i as IdxSize);
            dates.push(existing[i]);
            continue;
        };
        let (Some(start), Some(until)) = (starts[i], untils[i].or(data_end)) else {
            without_start += 1;
            continue;
        };
        sources += 1;
        let start = from_epoch_days(start);
        let mut k = 1i64;
        while let Some(date) = add_months(start, k * i64::from(step)) {
            let days = epoch_days(date);
            if days > until || ends[i].is_some_and(|e| days >= e) {
                break;
            }
            take.push(i as IdxSize);
            dates.push(Some(days));
            derived += 1;
            k += 1;
        }
    }

    let indices = IdxCa::from_vec("take".into(), take);
    let mut expanded = df.take(&indices).unwrap_or_else(|e| frame_err(e));
    expanded
        .with_column(date_column("date", dates))
        .unwrap_or_else(|e| frame_err(e));
    *df = expanded;
    if without_start > 0 {
        report.push(
            Issue::new(
                Severity::Warning,
                Check::Derived,
                format!("{without_start} row(s) with a blank anniversary start date produced no outcomes"),
            )
            .table(TableKind::Outcomes)
            .hint("fill in the start date column named by anniversaries.start")
            .count(without_start),
        );
    }
    report.push(
        Issue::new(
            Severity::Note,
            Check::Derived,
            format!(
                "{} outcome(s) derived from the anniversaries of {} row(s) (mapping anniversaries)",
                group(derived),
                group(sources)
            ),
        )
        .table(TableKind::Outcomes)
        .count(derived),
    );
}

/// Drops every row of an excluded account, and the entitlements of its
/// contracts, counting what was dropped.
pub(crate) fn exclude_accounts(
    frames: &mut Frames,
    excluded: &BTreeMap<String, String>,
    report: &mut Report,
) {
    if excluded.is_empty() {
        return;
    }
    let ids: Vec<&str> = excluded.keys().map(String::as_str).collect();
    let ids = Series::new("ids".into(), ids);
    let contracts = &frames[&TableKind::Contracts];
    let dropped_contracts = contracts
        .clone()
        .lazy()
        .filter(col("account_id").is_in(lit(ids.clone()).implode(false), false))
        .select([col("contract_id")])
        .collect()
        .unwrap_or_else(|e| frame_err(e));
    let dropped_contracts = dropped_contracts
        .column("contract_id")
        .unwrap_or_else(|e| frame_err(e))
        .as_materialized_series()
        .clone();

    let found: HashSet<String> = frames[&TableKind::Accounts]
        .column("account_id")
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|c| {
            c.iter()
                .flatten()
                .filter(|id| excluded.contains_key(*id))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    for (kind, df) in frames.iter_mut() {
        let (key, values) = match kind {
            TableKind::Entitlements => ("contract_id", &dropped_contracts),
            _ => ("account_id", &ids),
        };
        let before = df.height();
        *df = df
            .clone()
            .lazy()
            .filter(
                col(key)
                    .is_in(lit(values.clone()).implode(false), false)
                    .not(),
            )
            .collect()
            .unwrap_or_else(|e| frame_err(e));
        let dropped = before - df.height();
        if dropped > 0 && *kind != TableKind::Accounts {
            report.push(
                Issue::new(
                    Severity::Note,
                    Check::Excluded,
                    format!(
                        "{} {kind} row(s) of excluded accounts left out",
                        group(dropped)
                    ),
                )
                .table(*kind)
                .count(dropped),
            );
        }
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for (id, reason) in excluded {
        if found.contains(id) {
            *reasons.entry(reason.as_str()).or_default() += 1;
        }
    }
    let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    let mut message = format!(
        "{} account(s) excluded: {}",
        found.len(),
        reasons.join(", ")
    );
    let missing = excluded.len() - found.len();
    if missing > 0 {
        message.push_str(&format!(
            "; {missing} excluded id(s) are not in the accounts table"
        ));
    }
    report.push(
        Issue::new(Severity::Note, Check::Excluded, message)
            .table(TableKind::Accounts)
            .count(found.len()),
    );
}

/// Combines usage rows to one per account, metric and day or month, by each
/// metric's rollup; monthly rows are dated on the month's last day.
pub(crate) fn combine_usage(df: &mut DataFrame, mapping: &Mapping, report: &mut Report) {
    let Some(grain) = mapping.usage_grain else {
        return;
    };
    let before = df.height();
    let combined = crate::rollup::roll_up(df, &mapping.rollups, grain, &[FILE_COL, ROW_COL])
        .unwrap_or_else(|e| frame_err(e));
    *df = combined;
    let label = match grain {
        Grain::Day => "day",
        Grain::Month => "month, dated on its last day",
    };
    report.push(
        Issue::new(
            Severity::Note,
            Check::Combined,
            format!(
                "{} usage row(s) combined into {} (one per account, metric and {label}, by each metric's rollup)",
                group(before),
                group(df.height())
            ),
        )
        .table(TableKind::Usage)
        .count(before),
    );
}

/// Sets `entitlements.metric` from the mapping's `[measures]` where it is blank.
pub(crate) fn measure_entitlements(frames: &mut Frames, mapping: &Mapping, report: &mut Report) {
    if mapping.measures.is_empty() {
        return;
    }
    let metrics: BTreeSet<String> = frames[&TableKind::Usage]
        .column("metric")
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|c| c.iter().flatten().map(str::to_string).collect())
        .unwrap_or_default();
    let df = frames
        .get_mut(&TableKind::Entitlements)
        .expect("every table present");
    let names: Vec<Option<String>> = df
        .column("entitlement")
        .and_then(|c| c.str().cloned())
        .map(|c| c.iter().map(|v| v.map(str::to_string)).collect())
        .unwrap_or_else(|e| frame_err(e));
    let current: Vec<Option<String>> = df
        .column("metric")
        .and_then(|c| c.str().cloned())
        .map(|c| c.iter().map(|v| v.map(str::to_string)).collect())
        .unwrap_or_else(|e| frame_err(e));
    let mut set = 0usize;
    let filled: Vec<Option<String>> = names
        .iter()
        .zip(current)
        .map(|(name, metric)| {
            metric.or_else(|| {
                let found = mapping.measures.get(name.as_deref()?).cloned();
                set += usize::from(found.is_some());
                found
            })
        })
        .collect();
    df.with_column(
        StringChunked::from_iter_options("metric".into(), filled.into_iter()).into_column(),
    )
    .unwrap_or_else(|e| frame_err(e));
    if set > 0 {
        report.push(
            Issue::new(
                Severity::Note,
                Check::Filled,
                format!("{set} entitlement metric(s) set from [measures]"),
            )
            .table(TableKind::Entitlements)
            .count(set),
        );
    }
    for (entitlement, metric) in &mapping.measures {
        if !metrics.contains(metric) {
            report.push(
                Issue::new(
                    Severity::Warning,
                    Check::UnknownMetric,
                    format!("[measures] {entitlement} = {metric:?}, but the usage table has no {metric:?} rows"),
                )
                .table(TableKind::Entitlements)
                .hint("map a usage source with that metric, or fix the metric name under [measures]"),
            );
        }
    }
}

/// Replaces limits of 0 with null (unlimited or unknown), so that no later
/// stage divides by zero, and counts them with the blank limits.
pub(crate) fn normalize_limits(df: &mut DataFrame, report: &mut Report) {
    let limits: Vec<Option<f64>> = df
        .column("limit")
        .and_then(|c| c.f64().cloned())
        .map(|c| c.iter().collect())
        .unwrap_or_else(|e| frame_err(e));
    let zeros = limits.iter().filter(|l| **l == Some(0.0)).count();
    let blanks = limits.iter().filter(|l| l.is_none()).count();
    if zeros > 0 {
        let normalized: Vec<Option<f64>> = limits
            .into_iter()
            .map(|l| l.filter(|v| *v != 0.0))
            .collect();
        df.with_column(
            Float64Chunked::from_iter_options("limit".into(), normalized.into_iter()).into_column(),
        )
        .unwrap_or_else(|e| frame_err(e));
        report.push(
            Issue::new(
                Severity::Note,
                Check::UnlimitedLimit,
                format!(
                "{} entitlement limit(s) of 0 read as unlimited: limit left blank, no utilization",
                group(zeros)
            ),
            )
            .table(TableKind::Entitlements)
            .count(zeros),
        );
    }
    if blanks > 0 {
        report.push(
            Issue::new(
                Severity::Note,
                Check::UnlimitedLimit,
                format!(
                    "{} entitlement(s) without a limit: unlimited or unknown, no utilization",
                    group(blanks)
                ),
            )
            .table(TableKind::Entitlements)
            .count(blanks),
        );
    }
}

/// The rows an exclusion rule looked at: its reason, then the account id and
/// the ruled column of each row.
pub(crate) type RuleRows = (String, Vec<Option<String>>, Vec<Option<String>>);

/// Collects the accounts `[exclude]` names, listed or matched by a rule, with
/// the reason for each.
pub(crate) fn excluded_ids(mapping: &Mapping, rule_rows: &[RuleRows]) -> BTreeMap<String, String> {
    let mut excluded = BTreeMap::new();
    for id in &mapping.exclude.accounts {
        excluded.insert(id.clone(), "listed in [exclude]".to_string());
    }
    for (rule, (reason, accounts, values)) in mapping.exclude.rules.iter().zip(rule_rows) {
        let wanted: HashSet<String> = rule
            .equals
            .values()
            .into_iter()
            .map(|v| v.trim().to_string())
            .collect();
        for (account, value) in accounts.iter().zip(values) {
            if let (Some(account), Some(value)) = (account, value)
                && wanted.contains(value)
            {
                excluded
                    .entry(account.clone())
                    .or_insert_with(|| reason.clone());
            }
        }
    }
    excluded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn next_anniversary_rolls_past_the_date() {
        // Annual from 2023-03-15: anniversaries 2024-03-15, 2025-03-15; the first after 2024-12-31 is 2025-03-15.
        assert_eq!(
            next_anniversary(d(2023, 3, 15), 12, d(2024, 12, 31)),
            Some(d(2025, 3, 15))
        );
        // Monthly from 2024-06-11: the first monthly anniversary after 2024-12-31 is 2025-01-11.
        assert_eq!(
            next_anniversary(d(2024, 6, 11), 1, d(2024, 12, 31)),
            Some(d(2025, 1, 11))
        );
        // A start after the date still gets one full term.
        assert_eq!(
            next_anniversary(d(2025, 2, 1), 12, d(2024, 12, 31)),
            Some(d(2026, 2, 1))
        );
        // Month-end starts clamp: Jan 31 + 1 month is Feb 29 in 2024.
        assert_eq!(
            next_anniversary(d(2024, 1, 31), 1, d(2024, 2, 1)),
            Some(d(2024, 2, 29))
        );
    }

    #[test]
    fn month_end_of_dates() {
        assert_eq!(month_end(d(2024, 2, 10)), d(2024, 2, 29));
        assert_eq!(month_end(d(2023, 12, 31)), d(2023, 12, 31));
        assert_eq!(month_end(d(2025, 4, 1)), d(2025, 4, 30));
    }
}
