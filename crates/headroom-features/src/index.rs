//! Integer keys for accounts and metrics, and the column-name suffixes derived
//! from entitlement and metric names.
//!
//! The usage table is the large one (a million accounts by 36 months by four
//! metrics is 144 million rows). Joining its text ids once to small integer keys
//! lets every later group-by and join run on integers.

use std::collections::BTreeMap;

use polars::prelude::*;

use chrono::NaiveDate;

use crate::calendar::{days_expr, epoch_days};
use crate::error::{FeatureError, StepContext};
use crate::exprs::over;

/// Accounts sorted by id with their integer key and seasonal-profile group.
///
/// Columns: `account_id`, `acct_idx` (`UInt32`, the row number), `industry_group`
/// (`UInt32`, null when the account's industry is unknown or has fewer accounts
/// than `min_industry_accounts` with `customer_since` on or before `until`),
/// and the descriptive account columns.
pub fn account_index(
    accounts: &DataFrame,
    min_industry_accounts: u32,
    until: NaiveDate,
) -> Result<DataFrame, FeatureError> {
    check_unique_accounts(accounts)?;

    let known = days_expr(col("customer_since")).lt_eq(lit(epoch_days(until)));
    let industry_size = over(known.sum(), &[col("industry")]);
    let eligible = col("industry")
        .is_not_null()
        .and(industry_size.gt_eq(lit(min_industry_accounts)));
    let industry_code = col("industry").rank(
        RankOptions {
            method: RankMethod::Dense,
            descending: false,
        },
        None,
    );
    accounts
        .clone()
        .lazy()
        .sort(["account_id"], SortMultipleOptions::default())
        .with_row_index("acct_idx", None)
        .with_columns([when(eligible)
            .then(industry_code.cast(DataType::UInt32))
            .otherwise(lit(NULL).cast(DataType::UInt32))
            .alias("industry_group")])
        .collect()
        .step("the account index")
}

fn check_unique_accounts(accounts: &DataFrame) -> Result<(), FeatureError> {
    let repeated = accounts
        .clone()
        .lazy()
        .group_by([col("account_id")])
        .agg([len().alias("rows")])
        .filter(col("rows").gt(lit(1)))
        .sort(["account_id"], SortMultipleOptions::default())
        .limit(1)
        .collect()
        .step("the account index")?;
    if repeated.height() == 0 {
        return Ok(());
    }
    let account_id = repeated
        .column("account_id")
        .and_then(|c| c.str().cloned())
        .step("the account index")?
        .get(0)
        .unwrap_or_default()
        .to_string();
    let rows = repeated
        .column("rows")
        .and_then(|c| c.idx().cloned())
        .step("the account index")?
        .get(0)
        .unwrap_or_default() as usize;
    Err(FeatureError::DuplicateAccount { account_id, rows })
}

/// Builds a frame mapping each metric name to its integer key (`metric`,
/// `metric_idx`).
pub fn metric_index(metrics: &[String]) -> Result<DataFrame, FeatureError> {
    let keys: Vec<u32> = (0..metrics.len() as u32).collect();
    DataFrame::new(
        metrics.len(),
        vec![
            Column::new("metric".into(), metrics),
            Column::new("metric_idx".into(), keys),
        ],
    )
    .step("the metric index")
}

/// Turns an entitlement or metric name into its column-name suffix: lowercase ASCII
/// letters and digits, every other run of characters turned into one `_`.
pub fn column_suffix(name: &str) -> String {
    let mut suffix = String::with_capacity(name.len());
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            suffix.push(ch.to_ascii_lowercase());
        } else if !suffix.ends_with('_') {
            suffix.push('_');
        }
    }
    let trimmed = suffix.trim_matches('_');
    if trimmed.is_empty() {
        "unnamed".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Pairs each name with its column suffix, sorted by suffix.
///
/// Fails when two names give the same suffix, since their columns would clash.
pub fn suffixes(
    what: &'static str,
    names: &[String],
) -> Result<Vec<(String, String)>, FeatureError> {
    let mut by_suffix: BTreeMap<String, String> = BTreeMap::new();
    for name in names {
        let suffix = column_suffix(name);
        if let Some(first) = by_suffix.get(&suffix) {
            return Err(FeatureError::NameCollision {
                what,
                first: first.clone(),
                second: name.clone(),
                column: suffix,
            });
        }
        by_suffix.insert(suffix, name.clone());
    }
    Ok(by_suffix
        .into_iter()
        .map(|(suffix, name)| (name, suffix))
        .collect())
}

/// Collects the distinct non-null strings of a column, sorted.
pub fn distinct_strings(df: &DataFrame, column: &str) -> Result<Vec<String>, FeatureError> {
    let values = df
        .column(column)
        .and_then(|c| c.str().cloned())
        .step("a list of names")?;
    let mut names: Vec<String> = values.iter().flatten().map(str::to_string).collect();
    names.sort();
    names.dedup();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_suffix_keeps_letters_and_digits() {
        assert_eq!(column_suffix("seats"), "seats");
        assert_eq!(column_suffix("API Calls / month"), "api_calls_month");
        assert_eq!(column_suffix("  Storage (GB) "), "storage_gb");
        assert_eq!(column_suffix("Überblick"), "berblick");
        assert_eq!(column_suffix("!!"), "unnamed");
    }

    #[test]
    fn suffixes_reject_clashing_names() {
        let names = vec!["API calls".to_string(), "api_calls".to_string()];
        let err = suffixes("entitlement", &names).unwrap_err();
        assert!(matches!(
            err,
            FeatureError::NameCollision { ref column, .. } if column == "api_calls"
        ));
    }

    #[test]
    fn account_index_rejects_repeated_account() {
        let since = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let accounts = DataFrame::new(
            3,
            vec![
                Column::new("account_id".into(), ["a", "b", "a"]),
                Column::new("industry".into(), [Some("x"), None, Some("x")]),
                Column::new("customer_since".into(), [since; 3]),
            ],
        )
        .unwrap();
        let err = account_index(&accounts, 1, since).unwrap_err();
        assert!(matches!(
            err,
            FeatureError::DuplicateAccount { ref account_id, rows: 2 } if account_id == "a"
        ));
    }

    #[test]
    fn account_index_groups_only_large_industries() {
        let since = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let later = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let accounts = DataFrame::new(
            5,
            vec![
                Column::new("account_id".into(), ["d", "c", "b", "a", "e"]),
                Column::new(
                    "industry".into(),
                    [
                        Some("retail"),
                        Some("retail"),
                        Some("health"),
                        None,
                        Some("health"),
                    ],
                ),
                Column::new("customer_since".into(), [since, since, since, since, later]),
            ],
        )
        .unwrap();
        let index = account_index(&accounts, 2, since).unwrap();
        let ids: Vec<&str> = index
            .column("account_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e"]);
        let groups: Vec<Option<u32>> = index
            .column("industry_group")
            .unwrap()
            .u32()
            .unwrap()
            .iter()
            .collect();
        // a: no industry; b and e: health, but e joined after the date.
        assert_eq!(groups[0], None);
        assert_eq!(groups[1], None);
        assert!(groups[2].is_some());
        assert_eq!(groups[2], groups[3]);
        assert_eq!(groups[4], None);
    }
}
