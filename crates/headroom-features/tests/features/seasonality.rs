//! Seasonal adjustment: a dip that every December shows is not a decline.

use crate::common::*;
use headroom_features::{FeatureOptions, features, features_with};

/// 100 active users every month and 40 every December, Jan 2021 .. Dec 2023,
/// for a long-standing account.
fn december_dips(level: f64) -> Vec<f64> {
    (0..36)
        .map(|m| if m % 12 == 11 { 0.4 * level } else { level })
        .collect()
}

fn portfolio() -> Fixture {
    let dips = december_dips(100.0);
    // A small account that joined in March 2023 with the same pattern: too
    // little history for its own seasonal index.
    let short: Vec<f64> = december_dips(10.0)[26..].to_vec();
    Fixture::new()
        .rollup("active_users", headroom_data::Rollup::Max)
        .account("s1", date(2021, 1, 1), Some("smb"), Some("retail"))
        .contract("c1", "s1", date(2021, 1, 1), date(2024, 12, 31), 10_000.0)
        .entitlement("c1", "seats", "seats", Some(200.0), "term", None)
        .monthly("s1", "active_users", 2021, 1, &dips)
        .account("s2", date(2023, 3, 1), Some("smb"), Some("retail"))
        .contract("c2", "s2", date(2023, 3, 1), date(2024, 2, 29), 1_000.0)
        .entitlement("c2", "seats", "seats", Some(20.0), "term", None)
        .monthly("s2", "active_users", 2023, 3, &short)
}

/// The dipping portfolio plus a long-standing account without any season.
fn with_flat_account() -> Fixture {
    portfolio()
        .account("s3", date(2021, 1, 1), Some("smb"), Some("retail"))
        .contract("c3", "s3", date(2021, 1, 1), date(2024, 12, 31), 5_000.0)
        .entitlement("c3", "seats", "seats", Some(100.0), "term", None)
        .monthly("s3", "active_users", 2021, 1, &[50.0; 36])
}

#[test]
fn december_dip_is_not_a_decline() {
    let df = features(&portfolio().build(), date(2023, 12, 31)).unwrap();
    // Raw: 100 in November, 40 in December.
    assert_close(num(&df, "s1", "pct_change_1m"), -0.6);
    // Own index of December: 40 / mean(Dec 2022 .. Nov 2023) = 40 / 95; of
    // November: 100 / 95. Adjusted: 40 / (40/95) = 95 = 100 / (100/95).
    let adjusted = num(&df, "s1", "sa_change_1m").unwrap();
    assert!(
        adjusted.abs() < 1e-9,
        "seasonally adjusted change {adjusted}"
    );
    let trend = num(&df, "s1", "sa_slope_3m").unwrap();
    assert!(trend.abs() < 1e-9, "seasonally adjusted trend {trend}");
    assert_close(num(&df, "s1", "seasonal_index"), 40.0 / 95.0);
    // 40 this December, 40 last December.
    assert_close(num(&df, "s1", "yoy_change"), 0.0);
    // 95 adjusted users of 200 seats, against 40 / 200 raw.
    assert_close(num(&df, "s1", "util_seats"), 0.2);
    assert_close(num(&df, "s1", "util_seats_sa"), 95.0 / 200.0);
    assert_eq!(flag(&df, "s1", "flag_seasonal_portfolio"), Some(false));
    assert_eq!(flag(&df, "s1", "flag_short_history"), Some(false));
}

#[test]
fn january_recovery_is_not_growth() {
    let df = features(&portfolio().build(), date(2023, 1, 31)).unwrap();
    assert_close(num(&df, "s1", "pct_change_1m"), 1.5);
    let adjusted = num(&df, "s1", "sa_change_1m").unwrap();
    assert!(
        adjusted.abs() < 1e-9,
        "seasonally adjusted change {adjusted}"
    );
}

#[test]
fn short_history_uses_portfolio_profile() {
    let df = features(&portfolio().build(), date(2023, 12, 31)).unwrap();
    // s2 has 10 months: no year-ago month of its own.
    assert_eq!(flag(&df, "s2", "flag_seasonal_portfolio"), Some(true));
    assert_eq!(flag(&df, "s2", "flag_short_history"), Some(true));
    assert_close(num(&df, "s2", "pct_change_1m"), -0.6);
    // The portfolio's December index comes from s1 (s2 adds a tenth from
    // March 2023 on, which bends the moving average a little), so the
    // adjusted change stays within a few percent of zero.
    let adjusted = num(&df, "s2", "sa_change_1m").unwrap();
    assert!(
        adjusted.abs() < 0.05,
        "seasonally adjusted change {adjusted}"
    );
    let index = num(&df, "s2", "seasonal_index").unwrap();
    assert!(index < 0.8, "December index {index}");
}

#[test]
fn flat_account_keeps_flat_adjusted_trend() {
    let df = features(&with_flat_account().build(), date(2023, 12, 31)).unwrap();
    // s3's own history has no dip, so its own index is 1 whatever the
    // portfolio does.
    assert_close(num(&df, "s3", "seasonal_index"), 1.0);
    assert_close(num(&df, "s3", "sa_change_1m"), 0.0);
}

/// Two industries with opposite seasons: retail dips in December, travel in
/// July. Each has a long account and a short one.
fn two_industries() -> Fixture {
    let retail = december_dips(100.0);
    let travel: Vec<f64> = (0..36)
        .map(|m| if m % 12 == 6 { 40.0 } else { 100.0 })
        .collect();
    let travel_short: Vec<f64> = travel[26..].iter().map(|v| v / 10.0).collect();
    let retail_short: Vec<f64> = retail[26..].iter().map(|v| v / 10.0).collect();
    Fixture::new()
        .rollup("active_users", headroom_data::Rollup::Max)
        .account("r1", date(2021, 1, 1), Some("smb"), Some("retail"))
        .contract("cr1", "r1", date(2021, 1, 1), date(2024, 12, 31), 1_000.0)
        .monthly("r1", "active_users", 2021, 1, &retail)
        .account("r2", date(2023, 3, 1), Some("smb"), Some("retail"))
        .contract("cr2", "r2", date(2023, 3, 1), date(2024, 12, 31), 1_000.0)
        .monthly("r2", "active_users", 2023, 3, &retail_short)
        .account("t1", date(2021, 1, 1), Some("smb"), Some("travel"))
        .contract("ct1", "t1", date(2021, 1, 1), date(2024, 12, 31), 1_000.0)
        .monthly("t1", "active_users", 2021, 1, &travel)
        .account("t2", date(2023, 3, 1), Some("smb"), Some("travel"))
        .contract("ct2", "t2", date(2023, 3, 1), date(2024, 12, 31), 1_000.0)
        .monthly("t2", "active_users", 2023, 3, &travel_short)
}

#[test]
fn industry_profile_adjusts_its_own_season() {
    let tables = two_industries().build();
    let options = FeatureOptions {
        min_industry_accounts: 1,
        ..FeatureOptions::default()
    };
    let df = features_with(&tables, date(2023, 12, 31), &options).unwrap();
    // Travel does not dip in December, so t2's flat Nov -> Dec stays flat.
    let travel = num(&df, "t2", "sa_change_1m").unwrap();
    assert!(travel.abs() < 0.05, "travel adjusted change {travel}");
    let retail = num(&df, "r2", "sa_change_1m").unwrap();
    assert!(retail.abs() < 0.05, "retail adjusted change {retail}");
}

#[test]
fn portfolio_profile_mixes_industries_when_small() {
    let tables = two_industries().build();
    // With the default minimum of 30 accounts per industry both use the
    // whole portfolio's profile, which dips in December and July.
    let df = features(&tables, date(2023, 12, 31)).unwrap();
    let travel = num(&df, "t2", "sa_change_1m").unwrap();
    assert!(travel > 0.2, "travel adjusted change {travel}");
}

#[test]
fn profile_needs_two_years_of_data() {
    // s1's data starts January 2021; n1 is three months old at the end of 2022.
    let tables = portfolio()
        .account("n1", date(2022, 9, 1), Some("smb"), Some("retail"))
        .contract("cn1", "n1", date(2022, 9, 1), date(2023, 8, 31), 1_000.0)
        .monthly("n1", "active_users", 2022, 9, &[30.0, 30.0, 30.0, 12.0])
        .build();
    // At 2022-12-31 the ratio of a month needs six months on each side of it:
    // the centres Jul 2021 .. Jun 2022 cover each month of the year once.
    let df = features(&tables, date(2022, 12, 31)).unwrap();
    assert_eq!(flag(&df, "n1", "flag_seasonal_portfolio"), Some(true));
    assert!(num(&df, "n1", "seasonal_index").is_some());
    assert!(num(&df, "n1", "sa_change_1m").is_some());
    // A month earlier only eleven months of the year have a ratio: no profile.
    let df = features(&tables, date(2022, 11, 30)).unwrap();
    assert_eq!(num(&df, "n1", "seasonal_index"), None);
    assert_eq!(num(&df, "n1", "sa_change_1m"), None);
}

#[test]
fn steady_growth_is_not_a_season() {
    // 100, 102, 104, ... for 30 months: a straight line, no season.
    let values: Vec<f64> = (0..30).map(|m| 100.0 + 2.0 * m as f64).collect();
    let tables = Fixture::new()
        .rollup("active_users", headroom_data::Rollup::Max)
        .account("g", date(2021, 1, 1), Some("smb"), Some("retail"))
        .contract("c", "g", date(2021, 1, 1), date(2024, 12, 31), 1_000.0)
        .monthly("g", "active_users", 2021, 1, &values)
        .build();
    let df = features(&tables, date(2023, 6, 30)).unwrap();
    // The centred average of a line equals its middle value: index 1.
    assert_close(num(&df, "g", "seasonal_index"), 1.0);
    assert_eq!(flag(&df, "g", "flag_seasonal_portfolio"), Some(false));
    // So the adjusted change is the raw one: 158 / 156 - 1.
    assert_close(num(&df, "g", "sa_change_1m"), 158.0 / 156.0 - 1.0);
    assert_close(num(&df, "g", "pct_change_1m"), 158.0 / 156.0 - 1.0);
}

#[test]
fn implausible_own_index_falls_back_to_profile() {
    // Flat at 10 but 100 in June 2022, a year before the as-of month: an own
    // index of 100 / ((0.5 * 10 + 10 * 10 + 100 + 0.5 * 10) / 12) = 5.7.
    let mut values = vec![10.0; 30];
    values[17] = 100.0;
    let tables = Fixture::new()
        .rollup("active_users", headroom_data::Rollup::Max)
        .account("p", date(2021, 1, 1), Some("smb"), Some("retail"))
        .contract("c", "p", date(2021, 1, 1), date(2024, 12, 31), 1_000.0)
        .monthly("p", "active_users", 2021, 1, &values)
        .build();
    let df = features(&tables, date(2023, 6, 30)).unwrap();
    assert_eq!(flag(&df, "p", "flag_seasonal_portfolio"), Some(true));
}
