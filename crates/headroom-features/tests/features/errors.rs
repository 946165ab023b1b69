//! Inputs the feature stage rejects, each with its error variant.

use crate::common::portfolio::{as_of, portfolio};
use crate::common::*;
use headroom_data::DataError;
use headroom_features::{FeatureError, FeatureOptions, features, features_with};

fn small() -> Fixture {
    Fixture::new()
        .account("a", date(2023, 1, 1), Some("smb"), Some("retail"))
        .contract("c", "a", date(2023, 1, 1), date(2023, 12, 31), 100.0)
}

#[test]
fn mixed_currencies_without_reporting_currency() {
    let tables = small()
        .account("b", date(2023, 1, 1), None, None)
        .contract_in("d", "b", date(2023, 1, 1), date(2023, 12, 31), 100.0, "EUR")
        .build();
    let err = features(&tables, date(2023, 6, 30)).unwrap_err();
    assert!(matches!(
        &err,
        FeatureError::Data(DataError::MixedCurrencies { currencies, .. })
            if currencies == &["EUR", "USD"]
    ));
}

#[test]
fn currency_without_rate_is_named() {
    // The contract is in USD; the FX table converts GBP only.
    let tables = small().reporting("EUR", &[("GBP", 1.2)]).build();
    let err = features(&tables, date(2023, 6, 30)).unwrap_err();
    assert!(matches!(
        &err,
        FeatureError::Data(DataError::MissingFxRate { currency, report })
            if currency == "USD" && report == "EUR"
    ));
    assert!(err.to_string().contains("hint:"));
}

#[test]
fn entitlement_names_that_clash_as_columns() {
    let tables = small()
        .entitlement(
            "c",
            "API calls",
            "metered",
            Some(10.0),
            "month",
            Some("api"),
        )
        .entitlement(
            "c",
            "api_calls",
            "metered",
            Some(10.0),
            "month",
            Some("api"),
        )
        .build();
    let err = features(&tables, date(2023, 6, 30)).unwrap_err();
    assert!(matches!(
        &err,
        FeatureError::NameCollision { column, .. } if column == "api_calls"
    ));
}

#[test]
fn entitlement_named_like_summary_feature() {
    let tables = small()
        .entitlement("c", "primary", "metered", Some(10.0), "month", Some("api"))
        .build();
    let err = features(&tables, date(2023, 6, 30)).unwrap_err();
    assert!(matches!(
        &err,
        FeatureError::ReservedName { column, .. } if column == "util_primary"
    ));
}

#[test]
fn unknown_primary_entitlement() {
    let options = FeatureOptions {
        primary_entitlement: Some("seat".into()),
        ..FeatureOptions::default()
    };
    let err = features_with(&portfolio().build(), as_of(), &options).unwrap_err();
    assert!(matches!(
        &err,
        FeatureError::UnknownPrimaryEntitlement { name, known }
            if name == "seat" && known == &["api_calls", "seats"]
    ));
}

#[test]
fn repeated_account_id() {
    let tables = small().account("a", date(2023, 1, 1), None, None).build();
    let err = features(&tables, date(2023, 6, 30)).unwrap_err();
    assert!(matches!(
        &err,
        FeatureError::DuplicateAccount { account_id, rows: 2 } if account_id == "a"
    ));
}

#[test]
fn repeated_monthly_usage_row() {
    let tables = small()
        .monthly("a", "active_users", 2023, 1, &[5.0, 6.0, 7.0])
        .usage("a", date(2023, 2, 28), "active_users", 6.0)
        .build();
    let err = features(&tables, date(2023, 6, 30)).unwrap_err();
    assert!(matches!(
        &err,
        FeatureError::DuplicateUsage { account_id, metric, date: d }
            if account_id == "a" && metric == "active_users" && *d == date(2023, 2, 28)
    ));
}

#[test]
fn configured_primary_entitlement_drives_summaries() {
    let options = FeatureOptions {
        primary_entitlement: Some("api_calls".into()),
        ..FeatureOptions::default()
    };
    let df = features_with(&portfolio().build(), as_of(), &options).unwrap();
    assert_eq!(
        text(&df, "a1", "primary_entitlement").as_deref(),
        Some("api_calls")
    );
    assert_close(num(&df, "a1", "util_primary"), 0.9);
    // 900 / 800 - 1: the trajectory follows api_calls now.
    assert_close(num(&df, "a1", "pct_change_1m"), 0.125);
    // a2 has no api_calls entitlement and keeps its seats.
    assert_eq!(
        text(&df, "a2", "primary_entitlement").as_deref(),
        Some("seats")
    );
}

#[test]
fn account_without_limits_follows_primary_metric() {
    let tables = small()
        .entitlement("c", "sso", "boolean", None, "term", Some("sso_logins"))
        .monthly("a", "active_users", 2023, 1, &[4.0, 5.0, 6.0])
        .build();
    let df = features(&tables, date(2023, 3, 31)).unwrap();
    assert_eq!(text(&df, "a", "primary_entitlement"), None);
    assert_eq!(
        text(&df, "a", "primary_metric").as_deref(),
        Some("active_users")
    );
    assert_close(num(&df, "a", "usage_primary"), 6.0);
    assert_eq!(num(&df, "a", "util_primary"), None);
    assert_close(num(&df, "a", "pct_change_1m"), 0.2);
    assert_eq!(flag(&df, "a", "flag_no_limits"), Some(true));
}

#[test]
fn hard_limit_over_use_is_counted() {
    let tables = small()
        .entitlement(
            "c",
            "api_calls",
            "metered",
            Some(100.0),
            "month",
            Some("api_calls"),
        )
        .hard()
        .entitlement(
            "c",
            "exports",
            "metered",
            Some(10.0),
            "month",
            Some("exports"),
        )
        .monthly("a", "api_calls", 2023, 1, &[150.0])
        .monthly("a", "exports", 2023, 1, &[12.0])
        .build();
    let df = features(&tables, date(2023, 1, 31)).unwrap();
    assert_close(num(&df, "a", "n_over_limit"), 2.0);
    assert_close(num(&df, "a", "n_hard_over_limit"), 1.0);
    assert_close(num(&df, "a", "overage_api_calls"), 0.5);
}
