//! Data dated after the as-of date never changes the features at that date.

use crate::common::portfolio::portfolio;
use crate::common::*;
use headroom_features::features;

/// The shared portfolio plus rows dated in 2023: usage (one of a new metric,
/// one daily), a churn, a renewal, a contract that adds an entitlement
/// measured by the engagement metric `logins`, a new account in a currency
/// without an FX rate, and an intervention.
fn with_later_rows() -> Fixture {
    portfolio()
        .usage("a1", date(2023, 1, 31), "active_users", 999.0)
        .usage("a1", date(2023, 1, 31), "new_metric", 5.0)
        .usage("a1", date(2023, 1, 15), "api_calls", 77.0)
        .usage("a2", date(2023, 2, 28), "logins", 4.0)
        .outcome("a1", date(2023, 1, 20), "churned")
        .outcome("a3", date(2023, 1, 5), "renewed")
        .contract("c1b", "a1", date(2023, 1, 1), date(2023, 12, 31), 500.0)
        .entitlement(
            "c1b",
            "premium",
            "metered",
            Some(10.0),
            "month",
            Some("logins"),
        )
        .account("a8", date(2023, 1, 10), Some("smb"), Some("retail"))
        .contract_in(
            "c8",
            "a8",
            date(2023, 1, 10),
            date(2024, 1, 9),
            900.0,
            "GBP",
        )
        .intervention("a1", date(2023, 1, 2), "exec call")
}

#[test]
fn later_rows_leave_features_identical() {
    let full = with_later_rows().build();
    for as_of in [
        date(2022, 12, 31),
        date(2022, 11, 15),
        date(2022, 6, 30),
        date(2022, 2, 28),
    ] {
        let known = as_known_at(&full, as_of);
        let expected = features(&known, as_of).unwrap();
        let found = features(&full, as_of).unwrap();
        assert!(expected.height() > 0, "no active accounts at {as_of}");
        assert_same_table(&found, &expected);
    }
}

#[test]
fn later_rows_leave_shared_portfolio_identical() {
    let as_of = crate::common::portfolio::as_of();
    let expected = features(&portfolio().build(), as_of).unwrap();
    let found = features(&with_later_rows().build(), as_of).unwrap();
    assert_same_table(&found, &expected);
}

#[test]
fn later_rows_leave_seasonal_features_identical() {
    // Three years of monthly usage with a December dip, then 2024 rows.
    let values: Vec<f64> = (0..48)
        .map(|m| if m % 12 == 11 { 40.0 } else { 100.0 + m as f64 })
        .collect();
    let full = Fixture::new()
        .account("s1", date(2021, 1, 1), Some("smb"), Some("retail"))
        .contract("c1", "s1", date(2021, 1, 1), date(2025, 12, 31), 1_000.0)
        .entitlement("c1", "seats", "seats", Some(200.0), "term", None)
        .monthly("s1", "active_users", 2021, 1, &values)
        .account("s2", date(2023, 5, 1), Some("smb"), Some("retail"))
        .contract("c2", "s2", date(2023, 5, 1), date(2025, 4, 30), 1_000.0)
        .monthly("s2", "active_users", 2023, 5, &values[28..])
        .build();
    for as_of in [date(2023, 12, 31), date(2023, 6, 30), date(2024, 3, 10)] {
        let expected = features(&as_known_at(&full, as_of), as_of).unwrap();
        let found = features(&full, as_of).unwrap();
        assert_same_table(&found, &expected);
    }
}
