//! The as-of feature pipeline: from the normalized tables to one row of
//! utilization, trajectory, adoption, seasonality and contract features per
//! account at a date, using only data dated on or before it.
//!
//! [`features`] computes the table at one date (what scoring reads);
//! [`monthly_features`] computes it at every month end of a range in one pass
//! (what training reads). Both give the same row for the same account and date.
//! [`catalogue`] lists every column with its role, unit and meaning, and
//! [`model_columns`] picks the model inputs out of a feature table.
//!
//! Usage is read by complete month: at a date inside a month, the latest month
//! is the one before. Missing months count as zero between an account's first
//! contract (or first usage) and the as-of month, but months before a metric
//! has any data in the portfolio are unobserved and stay null.

mod assemble;
pub mod calendar;
pub mod catalogue;
mod contracts;
pub mod currency;
pub mod error;
mod exprs;
mod index;
mod names;
pub mod options;
mod panel;
mod pipeline;
mod scan;
mod seasonal;
mod series;

use chrono::NaiveDate;
use headroom_data::Tables;
use polars::prelude::DataFrame;

pub use catalogue::{Family, FeatureSpec, Role, catalogue, lookup, model_columns};
pub use error::FeatureError;
pub use index::column_suffix;
pub use options::{Amendments, FeatureOptions};
pub use pipeline::FeatureUsage;

/// The features of every account active at `as_of`, with default options.
///
/// See [`features_with`].
pub fn features(tables: &Tables, as_of: NaiveDate) -> Result<DataFrame, FeatureError> {
    features_with(tables, as_of, &FeatureOptions::default())
}

/// The features of every account active at `as_of`: one row per account,
/// columns in [`catalogue`] order, sorted by `account_id`.
///
/// Fails when the contracts mix currencies without FX rates, when an account id
/// repeats, when entitlement or metric names clash as column names, or when the
/// configured primary entitlement does not exist.
pub fn features_with(
    tables: &Tables,
    as_of: NaiveDate,
    options: &FeatureOptions,
) -> Result<DataFrame, FeatureError> {
    pipeline::compute(tables, &[as_of], options, None).map(|(table, _)| table)
}

/// Computes the features of [`features_with`] and returns them with the
/// usage they read, for reports that draw the months before `as_of`. The usage covers the last `months`
/// complete months (at most 22, the months the lags read) and the first and
/// last use of each metric.
///
/// Fails as [`features_with`] does.
pub fn features_and_usage(
    tables: &Tables,
    as_of: NaiveDate,
    options: &FeatureOptions,
    months: usize,
) -> Result<(DataFrame, FeatureUsage), FeatureError> {
    let (table, usage) = pipeline::compute(tables, &[as_of], options, Some(months))?;
    Ok((
        table,
        usage.expect("usage is returned when months are given"),
    ))
}

/// Checks that the project has usage for the month that features as of
/// `as_of` read ([`calendar::as_of_month`]), so that a month not imported yet
/// is not counted as zero usage for every account, and a month before the
/// usage history begins is not scored from contracts alone.
///
/// Only the earliest and latest usage dates of the whole portfolio are
/// compared: a single account without usage in the month is real data, a
/// portfolio without any is an export that has not been imported.
///
/// Fails with [`FeatureError::UsageNotImported`] when the latest usage row is
/// dated before that month, or when there are no usage rows, with
/// [`FeatureError::UsageNotStarted`] when the earliest usage row is dated
/// after that month, and with [`FeatureError::Data`] when the usage file
/// cannot be read.
pub fn check_usage_imported(tables: &Tables, as_of: NaiveDate) -> Result<(), FeatureError> {
    let snapshot = tables.meta.snapshot_date.is_some();
    let read_month = calendar::as_of_month(as_of, snapshot);
    let range = tables.usage.date_range()?.map(|(first, last)| {
        (
            calendar::from_epoch_days(first),
            calendar::from_epoch_days(last),
        )
    });
    let month_text = |month: i32| calendar::month_start(month).format("%Y-%m").to_string();
    match range {
        Some((first, _)) if calendar::month_index(first) > read_month => {
            Err(FeatureError::UsageNotStarted {
                as_of,
                month: month_text(read_month),
                first_usage: first,
                earliest_as_of: calendar::month_end(calendar::month_index(first)),
            })
        }
        Some((_, last)) if calendar::month_index(last) >= read_month => Ok(()),
        _ => {
            let last_usage = range.map(|(_, last)| last);
            Err(FeatureError::UsageNotImported {
                as_of,
                month: month_text(read_month),
                last_usage,
                latest_as_of: last_usage
                    .map(|date| calendar::month_end(calendar::month_index(date))),
            })
        }
    }
}

/// The features at every month end from `from` to `to` (both included), with
/// default options.
///
/// See [`monthly_features_with`].
pub fn monthly_features(
    tables: &Tables,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<DataFrame, FeatureError> {
    monthly_features_with(tables, from, to, &FeatureOptions::default())
}

/// The features at every month end from `from` to `to` (both included), one row
/// per account active at each, sorted by `as_of` then `account_id`.
///
/// The rows of a month end equal those of [`features_with`] at that date, but
/// the panel is built once for the whole range. Columns of entitlements and
/// metrics that appear only later in the range are null at earlier dates.
///
/// Fails as [`features_with`] does, and when the range holds no month end.
pub fn monthly_features_with(
    tables: &Tables,
    from: NaiveDate,
    to: NaiveDate,
    options: &FeatureOptions,
) -> Result<DataFrame, FeatureError> {
    let dates = month_ends(from, to);
    if dates.is_empty() {
        return Err(FeatureError::EmptyRange { from, to });
    }
    pipeline::compute(tables, &dates, options, None).map(|(table, _)| table)
}

/// Every month end from `from` to `to`, both included.
pub fn month_ends(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let first = calendar::month_index(from);
    let last = calendar::month_index(to);
    (first..=last)
        .map(calendar::month_end)
        .filter(|end| *end >= from && *end <= to)
        .collect()
}
