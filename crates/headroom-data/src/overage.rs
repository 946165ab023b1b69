//! Counting the usage rows above a seat limit whose contract term covers
//! them, in one pass over the usage rows.
//!
//! A join of usage with the seat limits by account and metric makes one row
//! per usage row and contract term of the account: about 100 million rows for
//! a million accounts. The pass below keeps the limits of the account it is
//! reading and compares in place.

use std::collections::HashMap;

use polars::prelude::*;

/// The seat limit of one contract term, both ends included, in days since
/// 1970-01-01.
#[derive(Debug, Clone, Copy)]
struct Term {
    start: i32,
    end: i32,
    limit: f64,
}

/// The terms of one account, by metric.
type AccountTerms<'a> = Vec<(&'a str, Vec<Term>)>;

/// Counts the usage rows whose value is above the limit of at least one term
/// of the same account and metric that covers the row's date.
///
/// `usage` needs `account_id`, `metric`, `date` and `value`; `limits` needs
/// `account_id`, `metric`, `limit`, `start_date` and `end_date`. A null in
/// any of these cells matches nothing. Values compare as polars compares
/// floats: NaN is above every number, and nothing is above a NaN limit.
pub(crate) fn rows_above_limits(usage: &DataFrame, limits: &DataFrame) -> PolarsResult<usize> {
    let terms = terms_by_account(limits)?;
    if terms.is_empty() {
        return Ok(0);
    }

    let accounts = usage.column("account_id")?.str()?;
    let metrics = usage.column("metric")?.str()?;
    let dates = usage.column("date")?.date()?.physical();
    let values = usage.column("value")?.f64()?;
    let rows = accounts
        .iter()
        .zip(metrics.iter())
        .zip(dates.iter())
        .zip(values.iter());

    let mut current: Option<(&str, Option<&AccountTerms>)> = None;
    let mut above = 0usize;
    for (((account, metric), date), value) in rows {
        let (Some(account), Some(metric), Some(date), Some(value)) = (account, metric, date, value)
        else {
            continue;
        };
        let account_terms = match current {
            Some((id, found)) if id == account => found,
            _ => {
                let found = terms.get(account);
                current = Some((account, found));
                found
            }
        };
        let Some(metric_terms) =
            account_terms.and_then(|by_metric| by_metric.iter().find(|(name, _)| *name == metric))
        else {
            continue;
        };
        let covered_and_above = metric_terms
            .1
            .iter()
            .any(|term| term.start <= date && date <= term.end && total_greater(value, term.limit));
        above += usize::from(covered_and_above);
    }
    Ok(above)
}

/// Groups the limit rows by account and metric, dropping rows with a null cell.
fn terms_by_account(limits: &DataFrame) -> PolarsResult<HashMap<&str, AccountTerms<'_>>> {
    let accounts = limits.column("account_id")?.str()?;
    let metrics = limits.column("metric")?.str()?;
    let amounts = limits.column("limit")?.f64()?;
    let starts = limits.column("start_date")?.date()?.physical();
    let ends = limits.column("end_date")?.date()?.physical();
    let rows = accounts
        .iter()
        .zip(metrics.iter())
        .zip(amounts.iter())
        .zip(starts.iter())
        .zip(ends.iter());

    let mut terms: HashMap<&str, AccountTerms> = HashMap::new();
    for ((((account, metric), limit), start), end) in rows {
        let (Some(account), Some(metric), Some(limit), Some(start), Some(end)) =
            (account, metric, limit, start, end)
        else {
            continue;
        };
        let term = Term { start, end, limit };
        let by_metric = terms.entry(account).or_default();
        match by_metric.iter_mut().find(|(name, _)| *name == metric) {
            Some((_, list)) => list.push(term),
            None => by_metric.push((metric, vec![term])),
        }
    }
    Ok(terms)
}

/// `a > b` as polars compares floats: NaN is above every number and equal to
/// NaN.
fn total_greater(a: f64, b: f64) -> bool {
    if b.is_nan() {
        return false;
    }
    a.is_nan() || a > b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(days: &[i32]) -> Column {
        Series::new("d".into(), days)
            .cast(&DataType::Date)
            .unwrap()
            .into_column()
    }

    fn usage(rows: &[(&str, &str, i32, Option<f64>)]) -> DataFrame {
        let days: Vec<i32> = rows.iter().map(|r| r.2).collect();
        DataFrame::new(
            rows.len(),
            vec![
                Column::new(
                    "account_id".into(),
                    rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                ),
                Column::new(
                    "metric".into(),
                    rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                ),
                dates(&days).with_name("date".into()),
                Column::new("value".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
            ],
        )
        .unwrap()
    }

    fn limits(rows: &[(&str, &str, f64, i32, i32)]) -> DataFrame {
        let starts: Vec<i32> = rows.iter().map(|r| r.3).collect();
        let ends: Vec<i32> = rows.iter().map(|r| r.4).collect();
        DataFrame::new(
            rows.len(),
            vec![
                Column::new(
                    "account_id".into(),
                    rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                ),
                Column::new(
                    "metric".into(),
                    rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                ),
                Column::new("limit".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
                dates(&starts).with_name("start_date".into()),
                dates(&ends).with_name("end_date".into()),
            ],
        )
        .unwrap()
    }

    #[test]
    fn counts_rows_above_covering_term() {
        // A has 10 seats on days 0..=99 and 20 seats on days 100..=199.
        let limits = limits(&[("A", "users", 10.0, 0, 99), ("A", "users", 20.0, 100, 199)]);
        let usage = usage(&[
            ("A", "users", 50, Some(11.0)),  // above 10: counted
            ("A", "users", 99, Some(10.0)),  // equal to the limit: not above
            ("A", "users", 150, Some(11.0)), // under the later 20: not above
            ("A", "users", 150, Some(21.0)), // above 20: counted
            ("A", "users", 250, Some(99.0)), // no term covers day 250
            ("A", "calls", 50, Some(99.0)),  // no limit on calls
            ("B", "users", 50, Some(99.0)),  // no limits for B
        ]);
        assert_eq!(rows_above_limits(&usage, &limits).unwrap(), 2);
    }

    #[test]
    fn overlapping_terms_count_a_row_once() {
        // Two terms cover day 50 with limits 5 and 8; 9 is above both.
        let limits = limits(&[("A", "users", 5.0, 0, 99), ("A", "users", 8.0, 40, 60)]);
        let usage = usage(&[("A", "users", 50, Some(9.0)), ("A", "users", 50, Some(6.0))]);
        assert_eq!(rows_above_limits(&usage, &limits).unwrap(), 2);
    }

    #[test]
    fn accounts_out_of_order_still_match() {
        let limits = limits(&[("A", "users", 1.0, 0, 9), ("B", "users", 1.0, 0, 9)]);
        let usage = usage(&[
            ("A", "users", 1, Some(2.0)),
            ("B", "users", 1, Some(2.0)),
            ("A", "users", 2, Some(2.0)),
        ]);
        assert_eq!(rows_above_limits(&usage, &limits).unwrap(), 3);
    }

    #[test]
    fn null_and_nan_values_follow_polars() {
        let limits = limits(&[("A", "users", 1.0, 0, 9)]);
        let usage = usage(&[("A", "users", 1, None), ("A", "users", 2, Some(f64::NAN))]);
        assert_eq!(rows_above_limits(&usage, &limits).unwrap(), 1);
        assert!(!total_greater(5.0, f64::NAN));
        assert!(!total_greater(f64::NAN, f64::NAN));
    }
}
