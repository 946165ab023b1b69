//! Each alert rule on a small portfolio, with the expected alert, date and
//! text, and how notes suppress or annotate alerts.

use super::*;
use crate::run::{AccountScore, ScoreRun};
use crate::settings::ScoreSettings;
use crate::testkit::{Acct, date, month_end, score_tables, tables};

const AS_OF: (i32, u32, u32) = (2026, 10, 31);

fn as_of() -> NaiveDate {
    date(AS_OF.0, AS_OF.1, AS_OF.2)
}

/// Ten months of `active_users`, January to October 2026.
fn seats_account(id: &str, limit: f64, users: &[f64; 10]) -> Acct {
    Acct::new(id)
        .seats(limit)
        .monthly("active_users", 2026, 1, users)
}

fn run(accounts: &[Acct]) -> ScoreRun {
    score_tables(
        &tables(accounts, None),
        as_of(),
        &ScoreSettings::default(),
        &[],
    )
}

fn account<'a>(run: &'a ScoreRun, id: &str) -> &'a AccountScore {
    run.accounts
        .iter()
        .find(|a| a.facts.account_id == id)
        .expect("the account is scored")
}

fn alerts_of(run: &ScoreRun, id: &str, kind: AlertKind) -> Vec<AccountAlert> {
    account(run, id)
        .alerts
        .iter()
        .filter(|a| a.kind == kind)
        .cloned()
        .collect()
}

#[test]
fn usage_drop_in_the_latest_month() {
    // 40 -> 22 active users: 22 / 40 - 1 = -45%, past the 40% threshold.
    let mut users = [40.0; 10];
    users[9] = 22.0;
    let run = run(&[seats_account("A1", 50.0, &users)]);
    let alerts = alerts_of(&run, "A1", AlertKind::UsageDrop);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].date, month_end(2026, 10));
    assert_eq!(alerts[0].severity, Severity::Risk);
    assert_eq!(
        alerts[0].text,
        "active users fell 45% in October 2026 (from 40 to 22)"
    );
}

#[test]
fn fall_under_the_threshold_raises_nothing() {
    // 40 -> 25 is -37.5%: under the 40% drop and not seasonal.
    let users = [40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 25.0];
    let run = run(&[seats_account("A1", 50.0, &users)]);
    assert!(alerts_of(&run, "A1", AlertKind::UsageDrop).is_empty());
}

#[test]
fn hard_limit_exceeded_names_usage_and_limit() {
    // 5,600 API calls against a hard 5,000: 112%.
    let acct = seats_account("A2", 50.0, &[30.0; 10])
        .metered("api_calls", 5_000.0, true)
        .monthly("api_calls", 2026, 1, &[4_000.0; 9])
        .monthly("api_calls", 2026, 10, &[5_600.0]);
    let run = run(&[acct]);
    let alerts = alerts_of(&run, "A2", AlertKind::HardLimitExceeded);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].date, month_end(2026, 10));
    assert_eq!(
        alerts[0].text,
        "API calls beyond the hard limit in October 2026: 5,600 of 5,000 (112%); use past the limit is blocked"
    );
}

#[test]
fn soft_limit_exceeded_raises_no_hard_alert() {
    let acct = seats_account("A2", 50.0, &[30.0; 10])
        .metered("api_calls", 5_000.0, false)
        .monthly("api_calls", 2026, 1, &[5_600.0; 10]);
    let run = run(&[acct]);
    assert!(alerts_of(&run, "A2", AlertKind::HardLimitExceeded).is_empty());
}

#[test]
fn limit_crossing_with_its_date() {
    // Utilization 0.80, 0.84, 0.88, 0.92: slope 0.04 a month, (1 - 0.92) /
    // 0.04 = 2 months = 60.875 days, rounded to 61: 2026-10-31 + 61 days =
    // 2026-12-31, inside 12 weeks. Growth 0.04 / 0.92 = 4.3% a month.
    let users = [40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 42.0, 44.0, 46.0];
    let run = run(&[seats_account("A3", 50.0, &users)]);
    let alerts = alerts_of(&run, "A3", AlertKind::LimitCrossing);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].date, date(2026, 12, 31));
    assert_eq!(alerts[0].severity, Severity::Opportunity);
    assert_eq!(
        alerts[0].text,
        "at +4.3% a month, seats crosses its limit of 50 in about 2 months, around 2026-12-31 (now 92%)"
    );
}

#[test]
fn far_limit_crossing_raises_nothing() {
    // Utilization 0.78, 0.79, 0.80, 0.81: (1 - 0.81) / 0.01 = 19 months away.
    let users = [39.0, 39.0, 39.0, 39.0, 39.0, 39.0, 39.0, 39.5, 40.0, 40.5];
    let run = run(&[seats_account("A3", 50.0, &users)]);
    assert!(alerts_of(&run, "A3", AlertKind::LimitCrossing).is_empty());
}

#[test]
fn unused_features_with_their_dates() {
    // The project's usage starts in January 2026, so "sandbox" has no use on
    // record since then; "exports" was last used in June (4 months idle);
    // "dashboards" in August (2 months idle, under the 3-month window).
    let acct = seats_account("A4", 50.0, &[30.0; 10])
        .feature("reports")
        .feature("exports")
        .feature("dashboards")
        .feature("sandbox")
        .monthly("feature_reports", 2026, 1, &[5.0; 10])
        .monthly("feature_exports", 2026, 1, &[3.0; 6])
        .monthly("feature_dashboards", 2026, 1, &[2.0; 8]);
    let run = run(&[acct]);
    let alerts = alerts_of(&run, "A4", AlertKind::UnusedFeature);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].date, date(2026, 1, 1));
    assert_eq!(
        alerts[0].text,
        "2 of 4 entitled features unused for 90 days or more: sandbox (no use on record since 2026-01-01); exports (last used in June 2026)"
    );
}

#[test]
fn feature_bought_recently_is_not_yet_unused() {
    // Bought in September 2026, never used: 2 months observed, under 3.
    let acct = Acct::new("A4")
        .since(date(2026, 9, 1))
        .seats(50.0)
        .feature("sandbox")
        .monthly("active_users", 2026, 9, &[30.0, 30.0]);
    let other = seats_account("B1", 50.0, &[30.0; 10]);
    let run = run(&[acct, other]);
    assert!(alerts_of(&run, "A4", AlertKind::UnusedFeature).is_empty());
}

#[test]
fn renewal_at_risk_with_the_renewal_date() {
    // 10 of 50 seats (20%) all year: at risk. Renewal 2026-12-15 is 45 days
    // after 2026-10-31, inside the 90-day window.
    let acct = seats_account("A5", 50.0, &[10.0; 10]).contract(date(2026, 12, 15), 30_000.0);
    let run = run(&[acct]);
    let alerts = alerts_of(&run, "A5", AlertKind::RenewalAtRisk);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].date, date(2026, 12, 15));
    assert_eq!(
        alerts[0].text,
        "renewal on 2026-12-15 in 45 days, in the at-risk segment; $30,000 ARR"
    );
}

#[test]
fn far_renewal_raises_nothing() {
    // Renewal 2027-06-30 is 242 days away.
    let run = run(&[seats_account("A5", 50.0, &[10.0; 10])]);
    assert!(alerts_of(&run, "A5", AlertKind::RenewalAtRisk).is_empty());
}

#[test]
fn seasonal_dip_is_information_not_risk() {
    // Every December at 60% of the other months, for three years. In
    // December 2025 the account's own seasonal index explains the fall, so
    // the alert is a seasonal dip and no usage drop.
    let mut users = Vec::new();
    for month in 0..26 {
        // November 2023 is month 0; December is month 1, 13, 25.
        users.push(if month % 12 == 1 { 60.0 } else { 100.0 });
    }
    let acct = Acct::new("A6")
        .since(date(2023, 11, 1))
        .seats(120.0)
        .monthly("active_users", 2023, 11, &users);
    let tables = tables(&[acct], None);
    let run = score_tables(&tables, date(2025, 12, 31), &ScoreSettings::default(), &[]);
    let a = account(&run, "A6");
    let kinds: Vec<AlertKind> = a.alerts.iter().map(|x| x.kind).collect();
    assert_eq!(kinds, vec![AlertKind::SeasonalDip], "{:?}", a.alerts);
    assert_eq!(a.alerts[0].severity, Severity::Info);
    assert_eq!(a.alerts[0].date, month_end(2025, 12));
    assert!(
        a.alerts[0]
            .text
            .starts_with("active users fell 40% in December 2025 (from 100 to 60), in line with the account's usual season"),
        "{}",
        a.alerts[0].text
    );
    // The segment reads the adjusted utilization, so the dip (50% raw) is
    // no watch.
    assert_eq!(a.segment, crate::segment::HealthSegment::Healthy);
}

fn note(id: u64, account: &str, expectation: &str) -> NoteRef {
    NoteRef {
        id,
        account_id: account.to_string(),
        expectation: expectation.to_string(),
        until: date(2026, 12, 31),
        text: "pilot team leaves in October".to_string(),
    }
}

#[test]
fn expected_drop_suppresses_the_usage_drop() {
    let mut users = [40.0; 10];
    users[9] = 22.0;
    let tables = tables(&[seats_account("A1", 50.0, &users)], None);
    let notes = [note(7, "A1", "drop")];
    let run = score_tables(&tables, as_of(), &ScoreSettings::default(), &notes);
    let alerts = alerts_of(&run, "A1", AlertKind::UsageDrop);
    assert_eq!(alerts.len(), 1);
    assert!(!alerts[0].is_active());
    assert_eq!(alerts[0].suppressed_by.as_ref().map(|n| n.id), Some(7));
    assert_eq!(
        alerts[0].stored_text(),
        "suppressed by note 7 (expects drop until 2026-12-31): pilot team leaves in October: active users fell 45% in October 2026 (from 40 to 22)"
    );
    assert_eq!(account(&run, "A1").notes.len(), 1);
}

#[test]
fn suppressed_drop_adds_no_risk_without_a_model() {
    // 22 of 50 is 44%: watch on its own, so the rules count half the ARR;
    // an active drop would count all of it.
    let mut users = [40.0; 10];
    users[9] = 22.0;
    let tables = tables(&[seats_account("A1", 50.0, &users)], None);
    let settings = ScoreSettings::default();
    let with_note = score_tables(&tables, as_of(), &settings, &[note(7, "A1", "drop")]);
    let without = score_tables(&tables, as_of(), &settings, &[]);
    assert_eq!(account(&without, "A1").priority.arr_at_risk, 30_000.0);
    assert_eq!(account(&with_note, "A1").priority.arr_at_risk, 0.0);
}

#[test]
fn expected_growth_annotates_the_limit_crossing() {
    let users = [40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 42.0, 44.0, 46.0];
    let tables = tables(&[seats_account("A3", 50.0, &users)], None);
    let notes = [note(9, "A3", "growth")];
    let run = score_tables(&tables, as_of(), &ScoreSettings::default(), &notes);
    let alerts = alerts_of(&run, "A3", AlertKind::LimitCrossing);
    assert!(alerts[0].is_active());
    assert_eq!(alerts[0].annotations.len(), 1);
    assert!(
        alerts[0]
            .stored_text()
            .ends_with("[note 9 (expects growth until 2026-12-31): pilot team leaves in October]")
    );
}

#[test]
fn alerts_sort_risks_first() {
    // A drop (risk) and a limit crossing on API calls (opportunity).
    let mut users = [40.0; 10];
    users[9] = 22.0;
    let acct = seats_account("A1", 50.0, &users)
        .metered("api_calls", 10_000.0, false)
        .monthly(
            "api_calls",
            2026,
            1,
            &[
                8_000.0, 8_000.0, 8_000.0, 8_000.0, 8_000.0, 8_000.0, 8_000.0, 8_400.0, 8_800.0,
                9_200.0,
            ],
        );
    let run = run(&[acct]);
    let kinds: Vec<AlertKind> = account(&run, "A1").alerts.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, vec![AlertKind::UsageDrop, AlertKind::LimitCrossing]);
}
