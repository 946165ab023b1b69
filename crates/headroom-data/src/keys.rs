//! Fast paths over key columns for the checks. At a million accounts the
//! checks read 160 million usage rows. This module finds the distinct values
//! of an id column, and the rows whose key repeats when the rows are sorted
//! by part of the key.
//!
//! Both compare each row with the row before it instead of hashing every
//! value, and neither copies a column, because exports usually list an
//! account's rows together and in date order.

use std::cmp::Ordering;

use polars::prelude::*;

/// Returns the distinct non-null values of a column.
///
/// Text columns are first thinned to the first row of each run of equal
/// values, so only those are hashed. Columns of other types are made unique
/// directly.
pub(crate) fn distinct_values(df: &DataFrame, name: &str) -> PolarsResult<Series> {
    let column = df.column(name)?;
    let DataType::String = column.dtype() else {
        return column.as_materialized_series().drop_nulls().unique();
    };

    let mut run_starts: Vec<&str> = Vec::new();
    let mut previous: Option<&str> = None;
    for value in column.str()?.iter() {
        if value != previous
            && let Some(text) = value
        {
            run_starts.push(text);
        }
        previous = value;
    }
    StringChunked::from_iter_values(name.into(), run_starts.into_iter())
        .into_series()
        .unique()
}

/// Key columns up to which [`repeated_keys`] works.
pub(crate) const MAX_KEY_COLUMNS: usize = 3;

/// Returns the positions of rows whose key repeats, in ascending order, when
/// the rows are sorted by some of the key columns (a prefix).
///
/// Returns `None` when no key column is sorted, when a key column is not
/// text, date or integer, or when the key has more than [`MAX_KEY_COLUMNS`]
/// columns.
///
/// Usage sorted by account and date, with each day's metrics in any order, has
/// the prefix (account_id, date): a key can only repeat inside a run of rows
/// with the same account and date, so each run of a few rows is sorted on its
/// own. With the whole key as the prefix, only equal neighbours repeat. Rows
/// with a blank key cell repeat nothing, as in the general check.
pub(crate) fn repeated_keys(df: &DataFrame, key: &[&str]) -> PolarsResult<Option<Vec<IdxSize>>> {
    if key.is_empty() || key.len() > MAX_KEY_COLUMNS {
        return Ok(None);
    }
    let mut columns = Vec::with_capacity(key.len());
    for name in key {
        let column = df.column(name)?;
        if !has_exact_parts(column.dtype()) {
            return Ok(None);
        }
        columns.push(column);
    }

    let (orders, without_nulls) = row_orders(&columns)?;
    let Some(prefix) = longest_sorted_prefix(&orders, &without_nulls) else {
        return Ok(None);
    };
    let mut repeated = if prefix.len() == key.len() {
        equal_neighbours(&orders, key.len())
    } else {
        repeats_within_runs(&columns, &orders, &prefix)?
    };
    repeated.sort_unstable();
    Ok(Some(repeated))
}

/// Computes one code per row that stores, for each key column, how the row's
/// cell compares with the previous row's: two bits per column, 0 less, 1
/// equal, 2 greater, and row 0 compares as equal. Also returns which columns
/// have no nulls. Columns with nulls stay at 0 and cannot be in a sorted
/// prefix.
fn row_orders(columns: &[&Column]) -> PolarsResult<(Vec<u8>, Vec<bool>)> {
    let height = columns.first().map_or(0, |c| c.len());
    let mut orders = vec![0u8; height];
    let mut without_nulls = Vec::with_capacity(columns.len());
    for (position, column) in columns.iter().enumerate() {
        let shift = 2 * position as u32;
        let complete = column.null_count() == 0;
        if complete {
            record_orders(parts(column)?, shift, &mut orders);
            if let Some(first) = orders.first_mut() {
                *first |= EQUAL << shift;
            }
        }
        without_nulls.push(complete);
    }
    Ok((orders, without_nulls))
}

const LESS: u8 = 0;
const EQUAL: u8 = 1;
const GREATER: u8 = 2;

fn record_orders<T: Ord>(mut values: impl Iterator<Item = T>, shift: u32, orders: &mut [u8]) {
    let Some(mut previous) = values.next() else {
        return;
    };
    for (code, value) in orders.iter_mut().skip(1).zip(values) {
        let order = match value.cmp(&previous) {
            Ordering::Less => LESS,
            Ordering::Equal => EQUAL,
            Ordering::Greater => GREATER,
        };
        *code |= order << shift;
        previous = value;
    }
}

fn order_of(code: u8, column: usize) -> u8 {
    (code >> (2 * column)) & 0b11
}

/// Finds the longest list of key columns (in some order) by which the rows
/// never decrease, trying every order of every subset of the complete
/// columns in one pass over the row codes.
fn longest_sorted_prefix(orders: &[u8], without_nulls: &[bool]) -> Option<Vec<usize>> {
    let complete: Vec<usize> = (0..without_nulls.len())
        .filter(|&column| without_nulls[column])
        .collect();
    let mut alive: Vec<(Vec<usize>, [bool; 64])> = arrangements(&complete)
        .into_iter()
        .map(|prefix| {
            let table = non_decreasing_codes(&prefix);
            (prefix, table)
        })
        .collect();
    for code in orders {
        alive.retain(|(_, table)| table[*code as usize]);
        if alive.is_empty() {
            return None;
        }
    }
    alive
        .into_iter()
        .map(|(prefix, _)| prefix)
        .max_by_key(|prefix| prefix.len())
}

/// For each row code, whether the row is at or above the previous one when
/// compared by `prefix`: the first column that differs must be greater.
fn non_decreasing_codes(prefix: &[usize]) -> [bool; 64] {
    let mut table = [false; 64];
    for (code, non_decreasing) in table.iter_mut().enumerate() {
        let first_difference = prefix
            .iter()
            .map(|&column| order_of(code as u8, column))
            .find(|&order| order != EQUAL);
        *non_decreasing = first_difference.is_none_or(|order| order == GREATER);
    }
    table
}

/// Lists every non-empty ordered selection of the given columns (for 3
/// columns: 3 single columns, 6 pairs and 6 orders of all three).
fn arrangements(columns: &[usize]) -> Vec<Vec<usize>> {
    let mut all = Vec::new();
    for (i, &first) in columns.iter().enumerate() {
        all.push(vec![first]);
        let rest: Vec<usize> = columns
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, &c)| c)
            .collect();
        for mut tail in arrangements(&rest) {
            tail.insert(0, first);
            all.push(tail);
        }
    }
    all
}

/// Lists the rows equal to a neighbour in every key column, when the rows are
/// sorted by the whole key.
fn equal_neighbours(orders: &[u8], columns: usize) -> Vec<IdxSize> {
    let all_equal = |code: u8| (0..columns).all(|column| order_of(code, column) == EQUAL);
    let mut repeated = Vec::new();
    for (position, code) in orders.iter().enumerate() {
        let same_as_previous = position > 0 && all_equal(*code);
        let same_as_next = orders
            .get(position + 1)
            .is_some_and(|next| all_equal(*next));
        if same_as_previous || same_as_next {
            repeated.push(position as IdxSize);
        }
    }
    repeated
}

/// Looks for repeats inside each run of rows equal in the `prefix` columns,
/// by sorting the run's other key cells.
fn repeats_within_runs(
    columns: &[&Column],
    orders: &[u8],
    prefix: &[usize],
) -> PolarsResult<Vec<IdxSize>> {
    let mut others = Vec::new();
    for (position, column) in columns.iter().enumerate() {
        if !prefix.contains(&position) {
            others.push(parts(column)?);
        }
    }
    let starts_run = |code: u8| prefix.iter().any(|&column| order_of(code, column) != EQUAL);

    let mut repeated = Vec::new();
    let mut run: Vec<(Rest, IdxSize)> = Vec::new();
    for (position, code) in orders.iter().enumerate() {
        if starts_run(*code) {
            collect_repeats(&mut run, &mut repeated);
        }
        let mut rest = [Part::Absent; MAX_KEY_COLUMNS - 1];
        for (slot, cells) in rest.iter_mut().zip(others.iter_mut()) {
            *slot = cells.next().unwrap_or(Part::Null);
        }
        run.push((rest, position as IdxSize));
    }
    collect_repeats(&mut run, &mut repeated);
    Ok(repeated)
}

/// The key cells of a row outside the sorted prefix.
type Rest<'a> = [Part<'a>; MAX_KEY_COLUMNS - 1];

/// One key cell, comparable with the cells of the same column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part<'a> {
    /// A blank cell: its row repeats no key.
    Null,
    /// A slot for a key column the key does not have.
    Absent,
    Number(i64),
    Text(&'a str),
}

/// Returns whether cells of a type turn into [`Part`]s without loss: text,
/// dates and integers.
fn has_exact_parts(dtype: &DataType) -> bool {
    matches!(dtype, DataType::String | DataType::Date) || dtype.is_integer()
}

/// Iterates over the cells of a text, date or integer column as [`Part`]s.
fn parts(column: &Column) -> PolarsResult<Box<dyn Iterator<Item = Part<'_>> + '_>> {
    let number = |value: Option<i64>| value.map_or(Part::Null, Part::Number);
    Ok(match column.dtype() {
        DataType::String => Box::new(
            column
                .str()?
                .iter()
                .map(|value| value.map_or(Part::Null, Part::Text)),
        ),
        DataType::Date => Box::new(
            column
                .date()?
                .physical()
                .iter()
                .map(move |day| number(day.map(i64::from))),
        ),
        _ => {
            let wide = column.cast(&DataType::Int64)?;
            let values: Vec<Option<i64>> = wide.i64()?.iter().collect();
            Box::new(values.into_iter().map(number))
        }
    })
}

/// Adds the positions of the rows of `run` whose other key cells repeat,
/// then empties the run.
fn collect_repeats(run: &mut Vec<(Rest, IdxSize)>, repeated: &mut Vec<IdxSize>) {
    if run.len() > 1 {
        run.sort_unstable();
        for (i, (rest, position)) in run.iter().enumerate() {
            if rest.contains(&Part::Null) {
                continue;
            }
            let same_as =
                |other: Option<&(Rest, IdxSize)>| other.is_some_and(|(other, _)| other == rest);
            if same_as(i.checked_sub(1).and_then(|j| run.get(j))) || same_as(run.get(i + 1)) {
                repeated.push(*position);
            }
        }
    }
    run.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(accounts: &[&str], days: &[i32], metrics: &[Option<&str>]) -> DataFrame {
        let dates = Series::new("date".into(), days)
            .cast(&DataType::Date)
            .unwrap();
        DataFrame::new(
            accounts.len(),
            vec![
                Column::new("account_id".into(), accounts),
                dates.into_column(),
                Column::new("metric".into(), metrics),
            ],
        )
        .unwrap()
    }

    fn entitlements(contracts: &[Option<&str>], names: &[Option<&str>]) -> DataFrame {
        DataFrame::new(
            contracts.len(),
            vec![
                Column::new("contract_id".into(), contracts),
                Column::new("entitlement".into(), names),
            ],
        )
        .unwrap()
    }

    const USAGE_KEY: [&str; 3] = ["account_id", "date", "metric"];
    const ENTITLEMENT_KEY: [&str; 2] = ["contract_id", "entitlement"];

    #[test]
    fn repeats_none_in_strict_order() {
        let df = usage(
            &["A", "A", "A", "B"],
            &[1, 1, 2, 1],
            &[Some("calls"), Some("users"), Some("calls"), Some("calls")],
        );
        assert_eq!(repeated_keys(&df, &USAGE_KEY).unwrap(), Some(Vec::new()));
    }

    #[test]
    fn repeats_of_equal_neighbours() {
        // Sorted by the whole key; rows 1 and 2 are the same (A, 1, calls).
        let df = usage(
            &["A", "A", "A", "B"],
            &[0, 1, 1, 1],
            &[Some("calls"), Some("calls"), Some("calls"), Some("calls")],
        );
        assert_eq!(repeated_keys(&df, &USAGE_KEY).unwrap(), Some(vec![1, 2]));
    }

    #[test]
    fn repeats_within_account_and_date() {
        // Sorted by account and date; each day lists its metrics in any
        // order. Day 1 of A has users twice (rows 0 and 2).
        let df = usage(
            &["A", "A", "A", "A", "B", "B"],
            &[1, 1, 1, 2, 1, 1],
            &[
                Some("users"),
                Some("calls"),
                Some("users"),
                Some("users"),
                Some("users"),
                Some("calls"),
            ],
        );
        assert_eq!(repeated_keys(&df, &USAGE_KEY).unwrap(), Some(vec![0, 2]));
    }

    #[test]
    fn repeats_within_runs_of_a_later_column() {
        // Sorted by entitlement, not by contract: C1 seats repeats (rows 1, 2).
        let df = entitlements(
            &[Some("C2"), Some("C1"), Some("C1"), Some("C3")],
            &[Some("api"), Some("seats"), Some("seats"), Some("sso")],
        );
        assert_eq!(
            repeated_keys(&df, &ENTITLEMENT_KEY).unwrap(),
            Some(vec![1, 2])
        );
    }

    #[test]
    fn repeats_skip_rows_with_blank_cells() {
        let df = entitlements(
            &[Some("C1"), Some("C1"), Some("C2")],
            &[None, None, Some("seats")],
        );
        assert_eq!(
            repeated_keys(&df, &ENTITLEMENT_KEY).unwrap(),
            Some(Vec::new())
        );
    }

    #[test]
    fn repeats_need_a_sorted_column() {
        // Every column goes down somewhere: account at row 2, date at row
        // 1, metric at row 1.
        let df = usage(
            &["A", "B", "A"],
            &[2, 1, 1],
            &[Some("users"), Some("calls"), Some("calls")],
        );
        assert_eq!(repeated_keys(&df, &USAGE_KEY).unwrap(), None);
    }

    #[test]
    fn repeats_ignore_columns_with_nulls_as_prefix() {
        // The metric column has a null, so only account and date can order
        // the runs; (A, 1, calls) repeats on rows 0 and 2.
        let df = usage(
            &["A", "A", "A"],
            &[1, 1, 1],
            &[Some("calls"), None, Some("calls")],
        );
        assert_eq!(repeated_keys(&df, &USAGE_KEY).unwrap(), Some(vec![0, 2]));
    }

    #[test]
    fn repeats_skip_float_keys() {
        let df = DataFrame::new(
            2,
            vec![
                Column::new("contract_id".into(), ["C1", "C1"]),
                Column::new("limit".into(), [1.5, 1.25]),
            ],
        )
        .unwrap();
        assert_eq!(repeated_keys(&df, &["contract_id", "limit"]).unwrap(), None);
    }

    #[test]
    fn repeats_of_empty_and_single_rows() {
        let empty = usage(&[], &[], &[]);
        let single = usage(&["A"], &[1], &[Some("calls")]);
        assert_eq!(repeated_keys(&empty, &USAGE_KEY).unwrap(), Some(Vec::new()));
        assert_eq!(
            repeated_keys(&single, &USAGE_KEY).unwrap(),
            Some(Vec::new())
        );
    }

    #[test]
    fn repeats_of_a_one_column_key() {
        let df = entitlements(&[Some("C1"), Some("C1"), Some("C2")], &[None, None, None]);
        assert_eq!(
            repeated_keys(&df, &["contract_id"]).unwrap(),
            Some(vec![0, 1])
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Positions of rows whose complete key appears on another row.
        fn brute_force(rows: &[(&str, i32, Option<&str>)]) -> Vec<IdxSize> {
            let mut repeated = Vec::new();
            for (i, row) in rows.iter().enumerate() {
                let repeats = row.2.is_some()
                    && rows
                        .iter()
                        .enumerate()
                        .any(|(j, other)| j != i && other == row);
                if repeats {
                    repeated.push(i as IdxSize);
                }
            }
            repeated
        }

        proptest! {
            #[test]
            fn repeated_keys_match_brute_force(
                mut rows in prop::collection::vec(
                    (
                        prop::sample::select(vec!["A", "B", "C"]),
                        0i32..3,
                        prop::option::weighted(0.9, prop::sample::select(vec!["calls", "users"])),
                    ),
                    0..40,
                ),
                sorted_by in 0usize..4,
            ) {
                match sorted_by {
                    1 => rows.sort_by_key(|r| r.0),
                    2 => rows.sort_by_key(|r| (r.0, r.1)),
                    3 => rows.sort(),
                    _ => {}
                }
                let accounts: Vec<&str> = rows.iter().map(|r| r.0).collect();
                let days: Vec<i32> = rows.iter().map(|r| r.1).collect();
                let metrics: Vec<Option<&str>> = rows.iter().map(|r| r.2).collect();
                let df = usage(&accounts, &days, &metrics);

                let found = repeated_keys(&df, &USAGE_KEY).unwrap();
                if sorted_by > 0 {
                    prop_assert!(found.is_some());
                }
                if let Some(found) = found {
                    prop_assert_eq!(found, brute_force(&rows));
                }
            }
        }
    }

    #[test]
    fn arrangements_of_three_columns() {
        let all = arrangements(&[0, 1, 2]);
        let of_length = |n: usize| all.iter().filter(|a| a.len() == n).count();
        assert_eq!(of_length(1), 3);
        assert_eq!(of_length(2), 6);
        assert_eq!(of_length(3), 6);
        assert!(all.contains(&vec![2, 0, 1]));
    }

    #[test]
    fn distinct_values_of_runs_and_repeats() {
        let df = DataFrame::new(
            7,
            vec![Column::new(
                "account_id".into(),
                [
                    Some("A"),
                    Some("A"),
                    None,
                    Some("B"),
                    Some("B"),
                    Some("A"),
                    None,
                ],
            )],
        )
        .unwrap();
        let distinct = distinct_values(&df, "account_id").unwrap();
        let mut values: Vec<&str> = distinct.str().unwrap().iter().flatten().collect();
        values.sort();
        assert_eq!(values, ["A", "B"]);
        assert_eq!(distinct.null_count(), 0);
    }

    #[test]
    fn distinct_values_of_numbers() {
        let df = DataFrame::new(
            4,
            vec![Column::new(
                "n".into(),
                [Some(2i64), None, Some(2), Some(1)],
            )],
        )
        .unwrap();
        let distinct = distinct_values(&df, "n").unwrap();
        let mut values: Vec<i64> = distinct.i64().unwrap().into_no_null_iter().collect();
        values.sort();
        assert_eq!(values, [1, 2]);
    }
}
