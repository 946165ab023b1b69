//! The small portfolio most tests share, with the facts the expected values
//! are worked out from.
//!
//! As of 2022-12-31 (a month end, so December 2022 is the latest month):
//!
//! - a1, smb retail, since 2022-01-01. Contract c1 2022-01-01..2023-12-31,
//!   12,000 USD, plan pro, auto-renew. Seats 20 (term), api_calls 1,000 per
//!   month, boolean sso (metric sso_logins) and reports (metric report_runs).
//!   Usage Jan..Dec 2022: active_users 10 10 12 12 14 16 16 15 14 12 10 8;
//!   api_calls 500 520 540 560 580 600 620 640 660 700 800 900; sso_logins
//!   only in March; report_runs 1 every month; logins 30 for Jan..Sep and 20
//!   for Oct..Dec. Interventions 2022-09-01 (business review) and 2022-10-15
//!   (training).
//! - a2, smb retail. Contract c2a 2021-07-01..2022-06-30 (5,000 EUR), outcome
//!   renewed 2022-06-30, contract c2 2022-07-01..2023-06-30 (6,000 EUR). EUR is
//!   converted at 1.1 USD. Seats 10; active_users 8 for Jul..Dec 2022.
//! - a3, smb retail. Contract c3 2022-01-01..2022-12-31 (renews today),
//!   3,000 USD, seats 10. active_users 6 every month but October, which has
//!   no row.
//! - a4, enterprise health. Contract c4 2022-06-01..2023-05-31, seats 5 and
//!   unlimited api_calls. No usage rows at all.
//! - a5, churned on 2022-11-15 though c5 runs to 2023-03-31.
//! - a6, contract c6 ended 2022-12-10 with no outcome: in the 30-day grace.
//! - a7, contract c7 ended 2022-11-01: past the grace, inactive.

use super::*;

/// The as-of date of the shared portfolio.
pub fn as_of() -> chrono::NaiveDate {
    date(2022, 12, 31)
}

/// The shared portfolio described in the module documentation.
pub fn portfolio() -> Fixture {
    Fixture::new()
        .reporting("USD", &[("EUR", 1.1)])
        .rollup("active_users", headroom_data::Rollup::Max)
        .account("a1", date(2022, 1, 1), Some("smb"), Some("retail"))
        .contract("c1", "a1", date(2022, 1, 1), date(2023, 12, 31), 12_000.0)
        .plan("pro", Some(true))
        .entitlement("c1", "seats", "seats", Some(20.0), "term", None)
        .entitlement(
            "c1",
            "api_calls",
            "metered",
            Some(1_000.0),
            "month",
            Some("api_calls"),
        )
        .entitlement("c1", "sso", "boolean", None, "term", Some("sso_logins"))
        .entitlement(
            "c1",
            "reports",
            "boolean",
            None,
            "term",
            Some("report_runs"),
        )
        .monthly(
            "a1",
            "active_users",
            2022,
            1,
            &[
                10.0, 10.0, 12.0, 12.0, 14.0, 16.0, 16.0, 15.0, 14.0, 12.0, 10.0, 8.0,
            ],
        )
        .monthly(
            "a1",
            "api_calls",
            2022,
            1,
            &[
                500.0, 520.0, 540.0, 560.0, 580.0, 600.0, 620.0, 640.0, 660.0, 700.0, 800.0, 900.0,
            ],
        )
        .monthly(
            "a1",
            "sso_logins",
            2022,
            1,
            &[0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        )
        .monthly("a1", "report_runs", 2022, 1, &[1.0; 12])
        .monthly(
            "a1",
            "logins",
            2022,
            1,
            &[
                30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 20.0, 20.0, 20.0,
            ],
        )
        .intervention("a1", date(2022, 9, 1), "business review")
        .intervention("a1", date(2022, 10, 15), "training")
        .account("a2", date(2021, 7, 1), Some("smb"), Some("retail"))
        .contract_in(
            "c2a",
            "a2",
            date(2021, 7, 1),
            date(2022, 6, 30),
            5_000.0,
            "EUR",
        )
        .entitlement("c2a", "seats", "seats", Some(10.0), "term", None)
        .outcome("a2", date(2022, 6, 30), "renewed")
        .contract_in(
            "c2",
            "a2",
            date(2022, 7, 1),
            date(2023, 6, 30),
            6_000.0,
            "EUR",
        )
        .entitlement("c2", "seats", "seats", Some(10.0), "term", None)
        .monthly("a2", "active_users", 2022, 7, &[8.0; 6])
        .account("a3", date(2022, 1, 1), Some("smb"), Some("retail"))
        .contract("c3", "a3", date(2022, 1, 1), date(2022, 12, 31), 3_000.0)
        .entitlement("c3", "seats", "seats", Some(10.0), "term", None)
        .monthly("a3", "active_users", 2022, 1, &[6.0; 9])
        .monthly("a3", "active_users", 2022, 11, &[6.0, 6.0])
        .account("a4", date(2022, 6, 1), Some("enterprise"), Some("health"))
        .contract("c4", "a4", date(2022, 6, 1), date(2023, 5, 31), 20_000.0)
        .entitlement("c4", "seats", "seats", Some(5.0), "term", None)
        .entitlement(
            "c4",
            "api_calls",
            "metered",
            None,
            "month",
            Some("api_calls"),
        )
        .account("a5", date(2022, 1, 1), Some("smb"), Some("retail"))
        .contract("c5", "a5", date(2022, 4, 1), date(2023, 3, 31), 1_000.0)
        .outcome("a5", date(2022, 11, 15), "churned")
        .account("a6", date(2022, 1, 1), Some("mid-market"), Some("media"))
        .contract("c6", "a6", date(2021, 12, 11), date(2022, 12, 10), 2_000.0)
        .account("a7", date(2021, 1, 1), Some("mid-market"), Some("media"))
        .contract("c7", "a7", date(2021, 11, 2), date(2022, 11, 1), 2_000.0)
}
