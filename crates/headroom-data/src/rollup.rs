//! Usage rolled up to one row per account, metric and day or month, by each
//! metric's rollup rule (sum, max, last, mean).
//!
//! `import` uses this for mappings with `usage_grain`; later stages call
//! [`usage_by_month`] to get monthly usage from tables that keep daily rows.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::cell::{epoch_days, from_epoch_days};
use crate::derive::month_end;
use crate::error::DataError;
use crate::mapping::Grain;
use crate::tables::{Rollup, Tables};

/// Returns the project's usage with one row per account, metric and month,
/// dated on the month's last day, each metric combined by its rollup in
/// `tables.meta.rollups` (sum when not listed). Rows already monthly pass
/// through with their values unchanged.
///
/// Fails only when the usage table lacks contract columns.
pub fn usage_by_month(tables: &Tables) -> Result<DataFrame, DataError> {
    roll_up(
        tables.usage.frame()?,
        &tables.meta.rollups,
        Grain::Month,
        &[],
    )
    .map_err(|source| DataError::Frame { source })
}

/// Combines `usage` rows sharing account, metric and period (`grain`) by each
/// metric's rollup, sorted by account, metric and date. `carry` columns keep
/// the value of the group's first row.
pub(crate) fn roll_up(
    usage: &DataFrame,
    rollups: &BTreeMap<String, Rollup>,
    grain: Grain,
    carry: &[&str],
) -> PolarsResult<DataFrame> {
    let mut df = usage.clone();
    df.with_column(period_column(&df, grain)?)?;

    let listed: Vec<&str> = rollups.keys().map(String::as_str).collect();
    let mut parts = Vec::new();
    for rollup in [Rollup::Sum, Rollup::Max, Rollup::Last, Rollup::Mean] {
        let metrics: Vec<&str> = rollups
            .iter()
            .filter(|(_, r)| **r == rollup)
            .map(|(m, _)| m.as_str())
            .collect();
        let chosen =
            col("metric").is_in(lit(Series::new("m".into(), metrics)).implode(false), false);
        let filter = match rollup {
            Rollup::Sum => chosen.or(col("metric")
                .is_in(
                    lit(Series::new("m".into(), listed.clone())).implode(false),
                    false,
                )
                .not()),
            _ => chosen,
        };
        let value = match rollup {
            Rollup::Sum => col("value").sum(),
            Rollup::Max => col("value").max(),
            Rollup::Mean => col("value").mean(),
            Rollup::Last => col("value")
                .sort_by([col("date")], SortMultipleOptions::default())
                .last(),
        };
        let mut aggregations = vec![value.alias("value")];
        aggregations.extend(carry.iter().map(|c| col(*c).first()));
        let mut selected = vec![
            col("account_id"),
            col("__period").alias("date"),
            col("metric"),
            col("value"),
        ];
        selected.extend(carry.iter().map(|c| col(*c)));
        let part = df
            .clone()
            .lazy()
            .filter(filter)
            .group_by([col("account_id"), col("__period"), col("metric")])
            .agg(aggregations)
            .select(selected);
        parts.push(part);
    }
    concat(parts, UnionArgs::default())?
        .sort(
            ["account_id", "metric", "date"],
            SortMultipleOptions::default(),
        )
        .collect()
}

/// The period of each row: its date, or the last day of its month.
fn period_column(df: &DataFrame, grain: Grain) -> PolarsResult<Column> {
    let dates = df.column("date")?.date()?.physical().clone();
    let periods: Int32Chunked = match grain {
        Grain::Day => dates,
        Grain::Month => {
            let mut cache: BTreeMap<i32, i32> = BTreeMap::new();
            let ends = dates.iter().map(|day| {
                let day = day?;
                let end = cache
                    .entry(day)
                    .or_insert_with(|| epoch_days(month_end(from_epoch_days(day))));
                Some(*end)
            });
            Int32Chunked::from_iter_options("__period".into(), ends)
        }
    };
    Ok(periods
        .with_name("__period".into())
        .into_date()
        .into_column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_by_month_applies_each_rollup() {
        // 2024-01-03 = 19725, 2024-01-20 = 19742, 2024-02-10 = 19763 days since 1970-01-01.
        let usage = DataFrame::new(
            6,
            vec![
                Column::new("account_id".into(), ["A1"; 6]),
                Series::new("date".into(), [19725, 19742, 19725, 19742, 19763, 19763])
                    .cast(&DataType::Date)
                    .unwrap()
                    .into_column(),
                Column::new(
                    "metric".into(),
                    ["calls", "calls", "users", "users", "calls", "users"],
                ),
                Column::new("value".into(), [10.0, 5.0, 7.0, 9.0, 3.0, 4.0]),
            ],
        )
        .unwrap();
        let mut tables = Tables::empty();
        tables.usage = usage.into();
        tables.meta.rollups.insert("users".to_string(), Rollup::Max);

        let monthly = usage_by_month(&tables).unwrap();
        let values: Vec<_> = monthly
            .column("value")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        let dates: Vec<_> = monthly
            .column("date")
            .unwrap()
            .date()
            .unwrap()
            .physical()
            .iter()
            .map(|d| from_epoch_days(d.unwrap()).to_string())
            .collect();
        // calls: Jan 10 + 5 = 15, Feb 3; users: Jan max(7, 9) = 9, Feb 4.
        assert_eq!(values, [Some(15.0), Some(3.0), Some(9.0), Some(4.0)]);
        assert_eq!(
            dates,
            ["2024-01-31", "2024-02-29", "2024-01-31", "2024-02-29"]
        );
    }
}
