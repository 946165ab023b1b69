//! Edge dates: contracts starting on the 31st, leap days, renewal today, dates
//! inside a month, and snapshot exports.

use crate::common::*;
use headroom_features::{Amendments, FeatureOptions, features, features_with};

fn one_account(start: chrono::NaiveDate, end: chrono::NaiveDate) -> Fixture {
    Fixture::new()
        .rollup("active_users", headroom_data::Rollup::Max)
        .account("a", start, Some("smb"), Some("retail"))
        .contract("c", "a", start, end, 1_200.0)
        .entitlement("c", "seats", "seats", Some(10.0), "term", None)
}

#[test]
fn contract_starting_on_31st_is_active_from_that_day() {
    let tables = one_account(date(2023, 1, 31), date(2024, 1, 30))
        .monthly("a", "active_users", 2023, 1, &[2.0, 4.0, 6.0])
        .build();
    assert!(accounts(&features(&tables, date(2023, 1, 30)).unwrap()).is_empty());
    let df = features(&tables, date(2023, 1, 31)).unwrap();
    assert_eq!(accounts(&df), ["a"]);
    // 2023-01-31 .. 2024-01-30 is 365 days.
    assert_close(num(&df, "a", "contract_term_months"), 365.0 / 30.4375);
    assert_close(num(&df, "a", "history_months"), 1.0);
    // February 2023 has 28 days; its month end is complete.
    let df = features(&tables, date(2023, 2, 28)).unwrap();
    assert_close(num(&df, "a", "history_months"), 2.0);
    assert_close(num(&df, "a", "util_seats"), 0.4);
    // 4 / 2 - 1.
    assert_close(num(&df, "a", "pct_change_1m"), 1.0);
}

#[test]
fn leap_day_closes_february() {
    let tables = one_account(date(2023, 3, 1), date(2025, 2, 28))
        .monthly("a", "active_users", 2023, 3, &[5.0; 11])
        .usage("a", date(2024, 2, 29), "active_users", 9.0)
        .build();
    // 2024-02-29 is February's last day: February counts.
    let df = features(&tables, date(2024, 2, 29)).unwrap();
    assert_close(num(&df, "a", "usage_seats"), 9.0);
    // 2024-02-29 -> 2025-02-28 is 365 days.
    assert_close(num(&df, "a", "days_to_renewal"), 365.0);
    // On 2024-02-28 February is not over: January is the latest month.
    let df = features(&tables, date(2024, 2, 28)).unwrap();
    assert_close(num(&df, "a", "usage_seats"), 5.0);
    assert_close(num(&df, "a", "days_to_renewal"), 366.0);
}

#[test]
fn renewal_today_then_grace_then_inactive() {
    let tables = one_account(date(2023, 1, 1), date(2023, 12, 31))
        .monthly("a", "active_users", 2023, 1, &[5.0; 12])
        .build();
    let df = features(&tables, date(2023, 12, 31)).unwrap();
    assert_close(num(&df, "a", "days_to_renewal"), 0.0);
    assert_eq!(flag(&df, "a", "flag_in_grace"), Some(false));
    let df = features(&tables, date(2024, 1, 1)).unwrap();
    assert_close(num(&df, "a", "days_to_renewal"), -1.0);
    assert_eq!(flag(&df, "a", "flag_in_grace"), Some(true));
    // The default grace is 30 days: 2024-01-30 is the last day in grace.
    assert_eq!(
        accounts(&features(&tables, date(2024, 1, 30)).unwrap()),
        ["a"]
    );
    assert!(accounts(&features(&tables, date(2024, 1, 31)).unwrap()).is_empty());
}

#[test]
fn churn_on_as_of_date_ends_activity() {
    let tables = one_account(date(2023, 1, 1), date(2023, 12, 31))
        .outcome("a", date(2023, 6, 30), "churned")
        .build();
    assert_eq!(
        accounts(&features(&tables, date(2023, 6, 29)).unwrap()),
        ["a"]
    );
    assert!(accounts(&features(&tables, date(2023, 6, 30)).unwrap()).is_empty());
}

#[test]
fn win_back_after_churn_is_active_again() {
    let tables = one_account(date(2022, 1, 1), date(2022, 12, 31))
        .outcome("a", date(2022, 12, 31), "churned")
        .contract("c2", "a", date(2023, 3, 1), date(2024, 2, 29), 900.0)
        .build();
    assert!(accounts(&features(&tables, date(2023, 2, 1)).unwrap()).is_empty());
    let df = features(&tables, date(2023, 3, 1)).unwrap();
    assert_close(num(&df, "a", "arr"), 900.0);
}

#[test]
fn overlapping_contracts_sum_limits_and_arr() {
    let tables = one_account(date(2023, 1, 1), date(2023, 12, 31))
        .contract("c2", "a", date(2023, 4, 1), date(2024, 3, 31), 600.0)
        .plan("addon", None)
        .entitlement("c2", "seats", "seats", Some(5.0), "term", None)
        .entitlement("c2", "sso", "boolean", None, "term", Some("sso_logins"))
        .monthly("a", "active_users", 2023, 1, &[6.0; 6])
        .monthly("a", "sso_logins", 2023, 1, &[1.0; 6])
        .build();
    let df = features(&tables, date(2023, 6, 30)).unwrap();
    assert_close(num(&df, "a", "arr"), 1_800.0);
    assert_close(num(&df, "a", "contracts_active"), 2.0);
    // 10 + 5 seats: 6 / 15.
    assert_close(num(&df, "a", "limit_seats"), 15.0);
    assert_close(num(&df, "a", "util_seats"), 0.4);
    // The nearest end on or after the as-of date.
    assert_eq!(day(&df, "a", "renewal_date"), Some(date(2023, 12, 31)));
    // The plan of the larger contract.
    assert_eq!(text(&df, "a", "plan"), None);
    assert_close(num(&df, "a", "features_entitled"), 1.0);
}

/// Builds a 10-seat contract for 1,200 a year, upgraded from April to 15 seats
/// for 1,800 by a contract that ends on the same day, with 6 users a month.
fn amended_account() -> headroom_data::Tables {
    one_account(date(2023, 1, 1), date(2023, 12, 31))
        .contract("c2", "a", date(2023, 4, 1), date(2023, 12, 31), 1_800.0)
        .entitlement("c2", "seats", "seats", Some(15.0), "term", None)
        .monthly("a", "active_users", 2023, 1, &[6.0; 12])
        .build()
}

#[test]
fn coterminous_amendment_restates_contract_from_its_start() {
    let tables = amended_account();
    let before = features(&tables, date(2023, 3, 31)).unwrap();
    assert_close(num(&before, "a", "arr"), 1_200.0);
    assert_close(num(&before, "a", "limit_seats"), 10.0);
    assert_close(num(&before, "a", "util_seats"), 0.6);

    let after = features(&tables, date(2023, 4, 1)).unwrap();
    assert_close(num(&after, "a", "arr"), 1_800.0);
    assert_close(num(&after, "a", "contracts_active"), 1.0);
    // 6 of 15 seats, not 6 of 25.
    assert_close(num(&after, "a", "limit_seats"), 15.0);
    assert_close(num(&after, "a", "util_seats"), 0.4);
    assert_eq!(day(&after, "a", "renewal_date"), Some(date(2023, 12, 31)));
}

#[test]
fn coterminous_amendment_adds_when_configured() {
    let options = FeatureOptions {
        amendments: Amendments::Add,
        ..FeatureOptions::default()
    };
    let df = features_with(&amended_account(), date(2023, 6, 30), &options).unwrap();
    assert_close(num(&df, "a", "arr"), 3_000.0);
    assert_close(num(&df, "a", "contracts_active"), 2.0);
    assert_close(num(&df, "a", "limit_seats"), 25.0);
    assert_close(num(&df, "a", "util_seats"), 0.24);
}

#[test]
fn amendment_ending_on_another_day_does_not_restate() {
    // An add-on that runs past the first contract's end is a second contract.
    let tables = one_account(date(2023, 1, 1), date(2023, 12, 31))
        .contract("c2", "a", date(2023, 4, 1), date(2024, 3, 31), 600.0)
        .entitlement("c2", "seats", "seats", Some(5.0), "term", None)
        .monthly("a", "active_users", 2023, 1, &[6.0; 6])
        .build();
    let df = features(&tables, date(2023, 6, 30)).unwrap();
    assert_close(num(&df, "a", "arr"), 1_800.0);
    assert_close(num(&df, "a", "limit_seats"), 15.0);
}

#[test]
fn unlimited_on_one_contract_makes_entitlement_unlimited() {
    let tables = one_account(date(2023, 1, 1), date(2023, 12, 31))
        .contract("c2", "a", date(2023, 1, 1), date(2023, 12, 31), 100.0)
        .entitlement("c2", "seats", "seats", None, "term", None)
        .monthly("a", "active_users", 2023, 1, &[6.0; 6])
        .build();
    let df = features(&tables, date(2023, 6, 30)).unwrap();
    assert_eq!(num(&df, "a", "util_seats"), None);
    assert_eq!(num(&df, "a", "util_primary"), None);
    assert_eq!(flag(&df, "a", "flag_no_limits"), Some(true));
}

#[test]
fn snapshot_export_gives_current_features_only() {
    let snapshot = date(2024, 6, 15);
    let tables = one_account(date(2019, 1, 1), date(2024, 12, 31))
        .snapshot(snapshot)
        .usage("a", snapshot, "active_users", 7.0)
        .build();
    let df = features(&tables, snapshot).unwrap();
    // The snapshot's own month counts although June is not over.
    assert_close(num(&df, "a", "util_seats"), 0.7);
    assert_close(num(&df, "a", "history_months"), 1.0);
    assert_eq!(num(&df, "a", "pct_change_1m"), None);
    assert_eq!(num(&df, "a", "slope_3m"), None);
    assert_eq!(num(&df, "a", "yoy_change"), None);
    assert_eq!(flag(&df, "a", "flag_snapshot"), Some(true));
    assert_eq!(flag(&df, "a", "flag_short_history"), Some(true));
    // Five and a half years of tenure come from the accounts table.
    assert!(num(&df, "a", "tenure_months").unwrap() > 60.0);
}

#[test]
fn empty_tables_give_empty_table() {
    let df = features(&headroom_data::Tables::empty(), date(2024, 1, 31)).unwrap();
    assert_eq!(df.height(), 0);
    assert_eq!(
        df.column("account_id").unwrap().dtype(),
        &polars::prelude::DataType::String
    );
    assert!(df.column("util_primary").is_ok());
}

#[test]
fn portfolio_without_usage_keeps_accounts() {
    let tables = one_account(date(2023, 1, 1), date(2023, 12, 31)).build();
    let df = features(&tables, date(2023, 6, 30)).unwrap();
    assert_eq!(accounts(&df), ["a"]);
    assert_eq!(flag(&df, "a", "flag_no_usage"), Some(true));
    // No metric has data, so usage is unobserved rather than zero.
    assert_eq!(num(&df, "a", "util_seats"), None);
    assert_close(num(&df, "a", "history_months"), 0.0);
}

#[test]
fn monthly_panel_before_any_contract_is_empty() {
    let tables = one_account(date(2023, 1, 1), date(2023, 12, 31))
        .monthly("a", "active_users", 2023, 1, &[5.0; 3])
        .build();
    let panel =
        headroom_features::monthly_features(&tables, date(2022, 10, 1), date(2023, 2, 28)).unwrap();
    // Only January and February 2023 have an active account.
    assert_eq!(panel.height(), 2);
}
