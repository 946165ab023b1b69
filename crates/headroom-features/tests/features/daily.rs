//! Daily usage rolled up to months by each metric's rollup, and limits that
//! apply per day, month or year.

use crate::common::*;
use headroom_data::Rollup;
use headroom_features::features;

/// Account d1, contract 2023-01-01..2023-12-31, daily usage from February to
/// April 2023:
/// - api_calls (sum) with a limit of 100 per day: 80 a day in February, 50 in
///   March, 60 in April;
/// - active_users (max) against 10 seats: 3 to 7 in April;
/// - storage_gb (last) with a limit of 50: 10 on April 1, 30 on April 15 and
///   20 on April 30;
/// - report_runs (sum) with a yearly limit of 1,200: 50 in April;
/// - nps (mean), measuring no entitlement: 9 in February, 5 in March, 6 and
///   8 in April.
fn daily() -> Fixture {
    let mut fixture = Fixture::new()
        .rollup("active_users", Rollup::Max)
        .rollup("storage_gb", Rollup::Last)
        .rollup("nps", Rollup::Mean)
        .account("d1", date(2023, 1, 1), Some("smb"), Some("retail"))
        .contract("c1", "d1", date(2023, 1, 1), date(2023, 12, 31), 1_000.0)
        .entitlement(
            "c1",
            "api_calls",
            "metered",
            Some(100.0),
            "day",
            Some("api_calls"),
        )
        .entitlement("c1", "seats", "seats", Some(10.0), "term", None)
        .entitlement(
            "c1",
            "storage_gb",
            "metered",
            Some(50.0),
            "month",
            Some("storage_gb"),
        )
        .entitlement(
            "c1",
            "reports",
            "metered",
            Some(1_200.0),
            "year",
            Some("report_runs"),
        );
    for (month, days, per_day) in [(2, 28, 80.0), (3, 31, 50.0), (4, 30, 60.0)] {
        for d in 1..=days {
            fixture = fixture.usage("d1", date(2023, month, d), "api_calls", per_day);
        }
    }
    for (d, users) in [(3, 3.0), (10, 7.0), (20, 5.0)] {
        fixture = fixture.usage("d1", date(2023, 4, d), "active_users", users);
    }
    for (d, gb) in [(1, 10.0), (15, 30.0), (30, 20.0)] {
        fixture = fixture.usage("d1", date(2023, 4, d), "storage_gb", gb);
    }
    fixture
        .usage("d1", date(2023, 4, 12), "report_runs", 20.0)
        .usage("d1", date(2023, 4, 13), "report_runs", 30.0)
        .usage("d1", date(2023, 2, 10), "nps", 9.0)
        .usage("d1", date(2023, 3, 10), "nps", 5.0)
        .usage("d1", date(2023, 4, 10), "nps", 6.0)
        .usage("d1", date(2023, 4, 20), "nps", 8.0)
}

#[test]
fn daily_limit_counts_days_of_each_month() {
    let df = features(&daily().build(), date(2023, 4, 30)).unwrap();
    // April: 60 * 30 / (100 * 30).
    assert_close(num(&df, "d1", "util_api_calls"), 0.6);
    // Mean of April 0.6, March 1,550 / 3,100 = 0.5, February 2,240 / 2,800.
    assert_close(num(&df, "d1", "util_api_calls_3m"), (0.6 + 0.5 + 0.8) / 3.0);
    assert_close(num(&df, "d1", "limit_api_calls"), 3_000.0);
}

#[test]
fn rollups_follow_each_metric() {
    let df = features(&daily().build(), date(2023, 4, 30)).unwrap();
    // Max of 3, 7, 5 active users.
    assert_close(num(&df, "d1", "usage_seats"), 7.0);
    // Last storage value of April, not its peak.
    assert_close(num(&df, "d1", "usage_storage_gb"), 20.0);
    assert_close(num(&df, "d1", "util_storage_gb"), 0.4);
    // Sum of report runs against 1,200 / 12 per month.
    assert_close(num(&df, "d1", "util_reports"), 0.5);
    // Mean NPS by month: April 7, March 5, February 9.
    assert_close(num(&df, "d1", "eng_nps_3m"), 7.0);
}

#[test]
fn date_inside_month_reads_previous_month() {
    let df = features(&daily().build(), date(2023, 4, 15)).unwrap();
    // Half of April is known but the month is not over: March is the latest.
    assert_close(num(&df, "d1", "util_api_calls"), 0.5);
    // active_users data starts in April: March is unobserved, not zero.
    assert_eq!(num(&df, "d1", "usage_seats"), None);
}
