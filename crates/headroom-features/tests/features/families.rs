//! Hand-computed values of every feature family on the shared portfolio
//! (see `common/portfolio.rs` for its rows).

use crate::common::portfolio::{as_of, portfolio};
use crate::common::*;
use polars::prelude::DataFrame;

fn table() -> DataFrame {
    headroom_features::features(&portfolio().build(), as_of()).unwrap()
}

#[test]
fn active_accounts_exclude_churned_and_lapsed() {
    let df = table();
    // a5 churned on 2022-11-15; a7 ended 60 days before the as-of date.
    assert_eq!(accounts(&df), ["a1", "a2", "a3", "a4", "a6"]);
}

#[test]
fn contract_features_match_hand_values() {
    let df = table();
    assert_close(num(&df, "a1", "arr"), 12_000.0);
    // 2023-12-31 - 2022-12-31 = 365 days.
    assert_close(num(&df, "a1", "days_to_renewal"), 365.0);
    assert_eq!(day(&df, "a1", "renewal_date"), Some(date(2023, 12, 31)));
    // 2022-01-01 .. 2023-12-31 is 730 days; 730 / 30.4375.
    assert_close(num(&df, "a1", "contract_term_months"), 730.0 / 30.4375);
    // 2022-01-01 .. 2022-12-31 is 364 days.
    assert_close(num(&df, "a1", "tenure_months"), 364.0 / 30.4375);
    assert_eq!(text(&df, "a1", "plan").as_deref(), Some("pro"));
    assert_eq!(flag(&df, "a1", "auto_renew"), Some(true));
    assert_eq!(text(&df, "a1", "currency").as_deref(), Some("USD"));
    // The project records outcomes, so an account without any counts zero.
    assert_close(num(&df, "a1", "renewals"), 0.0);
    assert_close(num(&df, "a1", "contracts_active"), 1.0);
    // 12,000 ARR over 20 seats.
    assert_close(num(&df, "a1", "arr_per_unit_primary"), 600.0);
}

#[test]
fn arr_converts_currency_and_compares_year_ago() {
    let df = table();
    // 6,000 EUR at 1.1 USD per EUR.
    assert_close(num(&df, "a2", "arr"), 6_600.0);
    // A year earlier (2021-12-31) c2a covered: 5,000 EUR = 5,500 USD;
    // 6,600 / 5,500 - 1 = 0.2.
    assert_close(num(&df, "a2", "arr_change_1y"), 0.2);
    assert_close(num(&df, "a2", "renewals"), 1.0);
    assert_eq!(num(&df, "a1", "arr_change_1y"), None);
}

#[test]
fn renewal_today_keeps_account_active() {
    let df = table();
    assert_close(num(&df, "a3", "days_to_renewal"), 0.0);
    assert_eq!(flag(&df, "a3", "flag_in_grace"), Some(false));
}

#[test]
fn grace_keeps_recently_ended_account() {
    let df = table();
    // c6 ended 2022-12-10, 21 days before 2022-12-31.
    assert_eq!(flag(&df, "a6", "flag_in_grace"), Some(true));
    assert_close(num(&df, "a6", "days_to_renewal"), -21.0);
    assert_eq!(day(&df, "a6", "renewal_date"), Some(date(2022, 12, 10)));
}

#[test]
fn interventions_count_last_90_days() {
    let df = table();
    // (2022-10-02, 2022-12-31] holds 2022-10-15 but not 2022-09-01.
    assert_close(num(&df, "a1", "interventions_90d"), 1.0);
    // 2022-10-15 -> 2022-12-31: 16 + 30 + 31 = 77 days.
    assert_close(num(&df, "a1", "days_since_intervention"), 77.0);
    assert_eq!(
        text(&df, "a1", "last_intervention_kind").as_deref(),
        Some("training")
    );
    assert_close(num(&df, "a2", "interventions_90d"), 0.0);
    assert_eq!(num(&df, "a2", "days_since_intervention"), None);
}

#[test]
fn utilization_matches_hand_values() {
    let df = table();
    // Seats: 8 active users of 20 in December.
    assert_close(num(&df, "a1", "util_seats"), 0.4);
    // (8 + 10 + 12) / 3 / 20 = 0.5.
    assert_close(num(&df, "a1", "util_seats_3m"), 0.5);
    assert_close(num(&df, "a1", "headroom_seats"), 0.6);
    assert_close(num(&df, "a1", "overage_seats"), 0.0);
    assert_close(num(&df, "a1", "usage_seats"), 8.0);
    assert_close(num(&df, "a1", "limit_seats"), 20.0);
    // API calls: 900 of 1,000; (900 + 800 + 700) / 3,000 = 0.8.
    assert_close(num(&df, "a1", "util_api_calls"), 0.9);
    assert_close(num(&df, "a1", "util_api_calls_3m"), 0.8);
    // Summary features do not depend on the names.
    assert_eq!(
        text(&df, "a1", "primary_entitlement").as_deref(),
        Some("seats")
    );
    assert_eq!(
        text(&df, "a1", "primary_metric").as_deref(),
        Some("active_users")
    );
    assert_close(num(&df, "a1", "util_primary"), 0.4);
    assert_close(num(&df, "a1", "util_min"), 0.4);
    assert_close(num(&df, "a1", "util_max"), 0.9);
    assert_close(num(&df, "a1", "util_mean"), 0.65);
    assert_close(num(&df, "a1", "n_limited"), 2.0);
    assert_close(num(&df, "a1", "n_over_limit"), 0.0);
}

#[test]
fn unlimited_entitlement_gives_null_utilization() {
    let df = table();
    assert_eq!(num(&df, "a4", "util_api_calls"), None);
    assert_eq!(num(&df, "a4", "headroom_api_calls"), None);
    assert_eq!(num(&df, "a4", "limit_api_calls"), None);
    assert_close(num(&df, "a4", "n_unlimited"), 1.0);
    assert_close(num(&df, "a4", "n_limited"), 1.0);
}

#[test]
fn account_without_usage_is_kept_and_flagged() {
    let df = table();
    assert_eq!(flag(&df, "a4", "flag_no_usage"), Some(true));
    assert_eq!(flag(&df, "a1", "flag_no_usage"), Some(false));
    // Its months since the contract start count as zero usage.
    assert_close(num(&df, "a4", "util_seats"), 0.0);
}

#[test]
fn missing_month_counts_as_zero() {
    let df = table();
    // a3 has no October row: (6 + 6 + 0) / 3 / 10 = 0.4.
    assert_close(num(&df, "a3", "util_seats_3m"), 0.4);
    // September 6 -> October 0 is a 100% one-month drop.
    assert_close(num(&df, "a3", "max_drop_12m"), 1.0);
}

#[test]
fn months_before_first_contract_are_zero_within_portfolio_data() {
    let df = table();
    // a2's first contract began 2021-07 but active_users data starts
    // 2022-01: Jan..Jun 2022 are zero, so 12 months of history.
    assert_close(num(&df, "a2", "history_months"), 12.0);
    // Six months back (June) is zero: no percent change.
    assert_eq!(num(&df, "a2", "pct_change_6m"), None);
    // 8 / 8 - 1 over three months.
    assert_close(num(&df, "a2", "pct_change_3m"), 0.0);
}

#[test]
fn trajectory_matches_hand_values() {
    let df = table();
    // active_users lags 0..6: 8 10 12 14 15 16 16.
    assert_close(num(&df, "a1", "pct_change_1m"), 8.0 / 10.0 - 1.0);
    assert_close(num(&df, "a1", "pct_change_3m"), 8.0 / 14.0 - 1.0);
    assert_close(num(&df, "a1", "pct_change_6m"), 8.0 / 16.0 - 1.0);
    // Slope over 14 12 10 8 (oldest first) is -2 per month; mean 11.
    assert_close(num(&df, "a1", "slope_3m"), -2.0 / 11.0);
    // Weights (3 - j) / 28 on lags 0..6: (24 + 20 + 12 + 0 - 15 - 32 - 48) / 28
    // = -39 / 28 per month; mean 91 / 7 = 13.
    assert_close(num(&df, "a1", "slope_6m"), -39.0 / 28.0 / 13.0);
    // Falls 8<10, 10<12, 12<14, 14<15, 15<16, then 16 = 16 stops the run.
    assert_close(num(&df, "a1", "months_in_decline"), 5.0);
    // Peak 16 in the last 12 months: 1 - 8 / 16.
    assert_close(num(&df, "a1", "drawdown_12m"), 0.5);
    // Changes -2 -2 -2 -1 -1 0: mean -4/3, squared deviations
    // 3 * 4/9 + 2 * 1/9 + 16/9 = 30/9, sample variance 30/9/5 = 2/3;
    // sqrt(2/3) over the mean level 13.
    assert_close(
        num(&df, "a1", "volatility_6m"),
        (2.0f64 / 3.0).sqrt() / 13.0,
    );
    // Largest fall: 10 -> 8 = 20%.
    assert_close(num(&df, "a1", "max_drop_12m"), 0.2);
}

#[test]
fn time_to_limit_projects_utilization_trend() {
    let df = table();
    // api_calls utilization lags 0..3: 0.9 0.8 0.7 0.66. Slope weights
    // 0.3 0.1 -0.1 -0.3: 0.27 + 0.08 - 0.07 - 0.198 = 0.082 per month.
    assert_close(num(&df, "a1", "util_api_calls_slope_3m"), 0.082);
    // Fitted now: mean 0.765 + 1.5 * 0.082 = 0.888; (1 - 0.888) / 0.082.
    let months = 0.112 / 0.082;
    assert_close(num(&df, "a1", "months_to_limit_api_calls"), months);
    // 1.3659 months * 30.4375 = 41.57 days, rounded to 42: 2023-02-11.
    assert_eq!(
        day(&df, "a1", "limit_date_api_calls"),
        Some(date(2023, 2, 11))
    );
    // Seats utilization falls (0.4 0.5 0.6 0.7): no crossing.
    assert_eq!(num(&df, "a1", "months_to_limit_seats"), None);
    assert_eq!(day(&df, "a1", "limit_date_seats"), None);
    assert_close(num(&df, "a1", "months_to_limit_min"), months);
    assert_eq!(
        text(&df, "a1", "next_limit_entitlement").as_deref(),
        Some("api_calls")
    );
    assert_eq!(day(&df, "a1", "limit_date_min"), Some(date(2023, 2, 11)));
}

#[test]
fn adoption_matches_hand_values() {
    let df = table();
    // sso (last used in March) and reports (used monthly) are entitled.
    assert_close(num(&df, "a1", "features_entitled"), 2.0);
    assert_close(num(&df, "a1", "adoption_90d"), 0.5);
    assert_close(num(&df, "a1", "features_unused_90d"), 1.0);
    assert_close(num(&df, "a1", "features_never_used"), 0.0);
    // One feature used in Oct..Dec and one in Jul..Sep: (1 - 1) / 2.
    assert_close(num(&df, "a1", "breadth_change"), 0.0);
    assert_eq!(text(&df, "a1", "unused_features").as_deref(), Some("sso"));
    // a2 has no boolean entitlements.
    assert_eq!(num(&df, "a2", "adoption_90d"), None);
    assert_eq!(text(&df, "a2", "unused_features"), None);
}

#[test]
fn engagement_metric_gets_its_columns() {
    let df = table();
    assert_close(num(&df, "a1", "eng_logins_3m"), 20.0);
    // 20 / 30 - 1.
    assert_close(num(&df, "a1", "eng_logins_change_3m"), -1.0 / 3.0);
    assert_eq!(num(&df, "a2", "eng_logins_3m"), Some(0.0));
}

#[test]
fn peers_rank_within_segment_and_industry() {
    let df = table();
    // smb retail: a1 0.4, a3 0.6, a2 0.8 (8 of 10 seats).
    assert_close(num(&df, "a2", "util_primary"), 0.8);
    assert_close(num(&df, "a1", "peer_count"), 3.0);
    // Ranks 1, 2, 3; percentile (rank - 0.5) / 3.
    assert_close(num(&df, "a1", "peer_util_pct"), 0.5 / 3.0);
    assert_close(num(&df, "a3", "peer_util_pct"), 0.5);
    assert_close(num(&df, "a2", "peer_util_pct"), 2.5 / 3.0);
    assert_close(num(&df, "a1", "peer_util_median"), 0.6);
    assert_close(num(&df, "a1", "util_vs_peer"), -0.2);
    // a4 is alone in enterprise health.
    assert_close(num(&df, "a4", "peer_count"), 1.0);
}

#[test]
fn short_history_has_no_year_over_year() {
    let df = table();
    assert_eq!(flag(&df, "a1", "flag_short_history"), Some(true));
    assert_eq!(num(&df, "a1", "yoy_change"), None);
    assert_eq!(flag(&df, "a1", "flag_seasonal_portfolio"), Some(true));
    // Twelve months of portfolio data give no seasonal profile yet.
    assert_eq!(num(&df, "a1", "seasonal_index"), None);
}

#[test]
fn columns_follow_catalogue_with_expected_types() {
    let df = table();
    for column in df.columns() {
        let spec = headroom_features::lookup(column.name())
            .unwrap_or_else(|| panic!("{} is not in the catalogue", column.name()));
        let dtype = column.dtype();
        match spec.role {
            headroom_features::Role::Feature => {
                assert_eq!(
                    dtype,
                    &polars::prelude::DataType::Float64,
                    "{}",
                    column.name()
                )
            }
            headroom_features::Role::Flag => {
                assert_eq!(
                    dtype,
                    &polars::prelude::DataType::Boolean,
                    "{}",
                    column.name()
                )
            }
            _ => {}
        }
    }
    let names: Vec<&str> = df.columns().iter().map(|c| c.name().as_str()).collect();
    assert_eq!(&names[..2], ["account_id", "as_of"]);
    assert!(names.contains(&"util_seats_3m"));
    assert!(names.contains(&"eng_logins_change_3m"));
    // Boolean entitlements and metrics that measure an entitlement get no
    // columns of their own.
    assert!(!names.contains(&"util_sso"));
    assert!(!names.iter().any(|n| n.starts_with("eng_api_calls")));
}

#[test]
fn model_columns_are_features_and_flags() {
    let df = table();
    let inputs = headroom_features::model_columns(&df);
    assert!(inputs.contains(&"util_primary".to_string()));
    assert!(inputs.contains(&"flag_no_usage".to_string()));
    assert!(!inputs.contains(&"usage_primary".to_string()));
    assert!(!inputs.contains(&"account_id".to_string()));
    assert!(!inputs.contains(&"limit_date_min".to_string()));
}
