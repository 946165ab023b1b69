//! The multi-date form equals the single-date form at every month end.

use crate::common::portfolio::portfolio;
use crate::common::*;
use headroom_features::{FeatureError, features, month_ends, monthly_features};
use polars::prelude::*;

/// Asserts that the rows of `panel` at `as_of` equal `single`: the same
/// columns (extra panel columns all null at that date) and the same values,
/// floats to within 1e-12 relative.
///
/// Floats can differ in the last bit because polars divides a column of one
/// row by another as scalars, with a reciprocal, and a panel frame rarely has
/// one row where the single-date frame does.
fn assert_panel_matches(panel: &DataFrame, single: &DataFrame, as_of: chrono::NaiveDate) {
    let rows = panel
        .clone()
        .lazy()
        .filter(col("as_of").eq(lit(as_of).cast(DataType::Date)))
        .collect()
        .unwrap();
    let names: Vec<PlSmallStr> = single.columns().iter().map(|c| c.name().clone()).collect();
    for column in rows.columns() {
        if !names.contains(column.name()) {
            assert_eq!(
                column.null_count(),
                rows.height(),
                "panel column {} is not null at {as_of}",
                column.name()
            );
        }
    }
    let rows = rows.select(names).unwrap();
    assert_close_table(&rows, single);
}

#[test]
fn panel_equals_single_dates_on_shared_portfolio() {
    let tables = portfolio().build();
    let from = date(2021, 11, 1);
    let to = date(2022, 12, 31);
    let panel = monthly_features(&tables, from, to).unwrap();
    let mut rows = 0;
    for as_of in month_ends(from, to) {
        let single = features(&tables, as_of).unwrap();
        rows += single.height();
        assert_panel_matches(&panel, &single, as_of);
    }
    assert_eq!(panel.height(), rows);
}

#[test]
fn panel_equals_single_dates_with_seasonality() {
    let values: Vec<f64> = (0..40)
        .map(|m| {
            if m % 12 == 11 {
                40.0
            } else {
                100.0 + 2.0 * m as f64
            }
        })
        .collect();
    let tables = Fixture::new()
        .rollup("active_users", headroom_data::Rollup::Max)
        .account("s1", date(2021, 1, 1), Some("smb"), Some("retail"))
        .contract("c1", "s1", date(2021, 1, 1), date(2024, 12, 31), 1_000.0)
        .entitlement("c1", "seats", "seats", Some(200.0), "term", None)
        .entitlement("c1", "sso", "boolean", None, "term", Some("sso_logins"))
        .monthly("s1", "active_users", 2021, 1, &values)
        .monthly("s1", "sso_logins", 2021, 3, &[1.0, 0.0, 0.0, 2.0])
        .account("s2", date(2022, 8, 1), Some("smb"), Some("retail"))
        .contract("c2", "s2", date(2022, 8, 1), date(2024, 7, 31), 1_000.0)
        .entitlement("c2", "seats", "seats", Some(20.0), "term", None)
        .monthly("s2", "active_users", 2022, 8, &values[19..])
        .outcome("s2", date(2023, 7, 31), "renewed")
        .build();
    let from = date(2022, 6, 30);
    let to = date(2024, 1, 31);
    let panel = monthly_features(&tables, from, to).unwrap();
    for as_of in month_ends(from, to) {
        let single = features(&tables, as_of).unwrap();
        assert_panel_matches(&panel, &single, as_of);
    }
}

#[test]
fn panel_is_sorted_by_date_then_account() {
    let panel =
        monthly_features(&portfolio().build(), date(2022, 10, 1), date(2022, 12, 31)).unwrap();
    let dates = panel
        .column("as_of")
        .unwrap()
        .cast(&DataType::Int32)
        .unwrap();
    let dates: Vec<i32> = dates.i32().unwrap().iter().flatten().collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(dates.len(), panel.height());
}

#[test]
fn month_ends_include_both_bounds() {
    assert_eq!(
        month_ends(date(2024, 1, 31), date(2024, 3, 31)),
        [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)]
    );
    assert_eq!(
        month_ends(date(2024, 1, 1), date(2024, 2, 28)),
        [date(2024, 1, 31)]
    );
}

#[test]
fn empty_range_is_rejected() {
    let err =
        monthly_features(&portfolio().build(), date(2024, 3, 1), date(2024, 3, 30)).unwrap_err();
    assert!(matches!(err, FeatureError::EmptyRange { .. }));
    assert!(err.to_string().contains("hint:"));
}
