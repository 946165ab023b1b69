//! The generated tables have the documented properties. Rates per segment lie
//! near their parameters, seasonal dips recur every year, the share of
//! signal-free churns is as set, and no usage follows a churn. Outcomes fall only
//! at renewals or documented mid-term events, and the truth agrees with the tables.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use common::*;
use headroom_data::TableKind;
use headroom_sim::{SimConfig, Target, Truth, oracle_auc};

fn last_month_end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()
}

fn first_month_end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 11, 30).unwrap()
}

/// Counts the terms due in the window, per segment: (terms, churned, signal-free, expanded).
fn term_counts(dir: &std::path::Path) -> BTreeMap<String, (f64, f64, f64, f64)> {
    let terms = read_csv(&dir.join("truth/terms.csv"));
    let segments = strings(&terms, "segment");
    let due = dates(&terms, "scheduled_end");
    let outcomes = strings(&terms, "outcome");
    let signal_free = flags(&terms, "signal_free");
    let expanded = flags(&terms, "expanded_in_term");

    let mut counts: BTreeMap<String, (f64, f64, f64, f64)> = BTreeMap::new();
    for row in 0..terms.height() {
        let due = due[row].unwrap();
        if due < first_month_end() || due > last_month_end() {
            continue;
        }
        let entry = counts.entry(segments[row].clone()).or_default();
        entry.0 += 1.0;
        entry.1 += f64::from(u8::from(outcomes[row] == "churned"));
        entry.2 += f64::from(u8::from(signal_free[row]));
        entry.3 += f64::from(u8::from(expanded[row]));
    }
    counts
}

/// Returns the tolerance of a rate: three binomial standard errors plus 8% of the target, which covers the
/// calibration sample's own error.
fn tolerance(target: f64, count: f64) -> f64 {
    3.0 * (target * (1.0 - target) / count).sqrt() + 0.08 * target
}

#[test]
fn churn_per_segment_matches_parameter() {
    let (dir, _) = large_portfolio();
    let config = SimConfig::default();
    for (segment, (terms, churned, _, _)) in term_counts(dir) {
        let target = match segment.as_str() {
            "enterprise" => config.segments.enterprise.churn_per_term,
            "mid-market" => config.segments.mid_market.churn_per_term,
            _ => config.segments.smb.churn_per_term,
        };
        let rate = churned / terms;
        assert!(
            (rate - target).abs() < tolerance(target, terms),
            "{segment}: churn {rate:.4} over {terms} terms, target {target}"
        );
    }
}

#[test]
fn churn_differs_by_segment() {
    let (dir, _) = large_portfolio();
    let counts = term_counts(dir);
    let rate = |segment: &str| counts[segment].1 / counts[segment].0;
    assert!(rate("smb") > rate("mid-market"));
    assert!(rate("mid-market") > rate("enterprise"));
}

#[test]
fn expansion_per_segment_matches_parameter() {
    let (dir, _) = large_portfolio();
    let config = SimConfig::default();
    for (segment, (terms, _, _, expanded)) in term_counts(dir) {
        let target = match segment.as_str() {
            "enterprise" => config.segments.enterprise.expansion_per_term,
            "mid-market" => config.segments.mid_market.expansion_per_term,
            _ => config.segments.smb.expansion_per_term,
        };
        let rate = expanded / terms;
        assert!(
            (rate - target).abs() < tolerance(target, terms),
            "{segment}: expansion {rate:.4} over {terms} terms, target {target}"
        );
    }
}

#[test]
fn signal_free_share_matches_parameter() {
    let (dir, _) = large_portfolio();
    let counts = term_counts(dir);
    let churned: f64 = counts.values().map(|c| c.1).sum();
    let signal_free: f64 = counts.values().map(|c| c.2).sum();
    let share = signal_free / churned;
    let target = SimConfig::default().signal_free.share;
    assert!(
        (share - target).abs() < tolerance(target, churned),
        "signal-free share {share:.4} of {churned} churns, target {target}"
    );
}

#[test]
fn no_usage_after_churn() {
    let (dir, _) = large_portfolio();
    let outcomes = read_contract_table(dir, TableKind::Outcomes);
    let usage = read_contract_table(dir, TableKind::Usage);

    let accounts = strings(&outcomes, "account_id");
    let kinds = strings(&outcomes, "outcome");
    let outcome_dates = dates(&outcomes, "date");
    let churned_on: BTreeMap<&str, NaiveDate> = (0..outcomes.height())
        .filter(|row| kinds[*row] == "churned")
        .map(|row| (accounts[row].as_str(), outcome_dates[row].unwrap()))
        .collect();
    assert!(
        churned_on.len() > 1000,
        "{} churned accounts",
        churned_on.len()
    );

    let usage_accounts = strings(&usage, "account_id");
    let usage_dates = dates(&usage, "date");
    let mut last_usage: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for (account, date) in usage_accounts.iter().zip(&usage_dates) {
        let entry = last_usage.entry(account.as_str()).or_insert(NaiveDate::MIN);
        *entry = (*entry).max(date.unwrap());
    }

    for (account, churn) in &churned_on {
        if let Some(last) = last_usage.get(account) {
            assert!(
                last <= churn,
                "{account} has usage on {last} after churning on {churn}"
            );
            // A churn inside the window is the month-end of the last usage month.
            assert_eq!(last, churn, "{account}");
        } else {
            assert!(
                *churn < first_month_end(),
                "{account} churned in the window without usage"
            );
        }
    }
}

#[test]
fn outcomes_only_at_renewals_or_mid_term_events() {
    let (dir, _) = large_portfolio();
    let contracts = read_contract_table(dir, TableKind::Contracts);
    let outcomes = read_contract_table(dir, TableKind::Outcomes);

    let contract_ids = strings(&contracts, "contract_id");
    let starts = dates(&contracts, "start_date");
    let ends = dates(&contracts, "end_date");
    let terms: BTreeMap<&str, (NaiveDate, NaiveDate)> = contract_ids
        .iter()
        .enumerate()
        .map(|(row, id)| (id.as_str(), (starts[row].unwrap(), ends[row].unwrap())))
        .collect();

    let kinds = strings(&outcomes, "outcome");
    let reasons = strings(&outcomes, "reason");
    let outcome_contracts = strings(&outcomes, "contract_id");
    let outcome_dates = dates(&outcomes, "date");
    let mut mid_term = 0;
    for row in 0..outcomes.height() {
        let (start, end) = terms[outcome_contracts[row].as_str()];
        let date = outcome_dates[row].unwrap();
        if date == end {
            continue;
        }
        mid_term += 1;
        let documented = matches!(
            (kinds[row].as_str(), reasons[row].as_str()),
            ("expanded", "mid-term expansion") | ("churned", "acquired" | "company closed")
        );
        assert!(
            documented,
            "{} {} on {date} is neither at the renewal {end} nor a mid-term event",
            outcome_contracts[row], kinds[row]
        );
        assert!(
            start <= date && date < end,
            "{} outside its term",
            outcome_contracts[row]
        );
        assert_eq!(
            date.succ_opt().unwrap().day(),
            1,
            "mid-term events fall on month-ends"
        );
    }
    assert!(mid_term > 100, "{mid_term} mid-term events");
}

#[test]
fn seasonal_dips_recur_every_year() {
    let (dir, _) = large_portfolio();
    let accounts = read_contract_table(dir, TableKind::Accounts);
    let usage = read_contract_table(dir, TableKind::Usage);
    let truth = read_csv(&dir.join("truth/monthly.csv"));

    let industries: BTreeMap<String, String> = strings(&accounts, "account_id")
        .into_iter()
        .zip(strings(&accounts, "industry"))
        .collect();
    // Only month-ends where the account is steady, so declines and growth do
    // not blur the pattern.
    let steady: BTreeSet<(String, NaiveDate)> = {
        let ids = strings(&truth, "account_id");
        let phases = strings(&truth, "phase");
        let month_ends = dates(&truth, "date");
        (0..truth.height())
            .filter(|row| phases[*row] == "steady")
            .map(|row| (ids[row].clone(), month_ends[row].unwrap()))
            .collect()
    };

    // Sum of active users per (industry, year, month) over accounts steady in
    // both November and December of that year.
    let ids = strings(&usage, "account_id");
    let metrics = strings(&usage, "metric");
    let values = numbers(&usage, "value");
    let month_ends = dates(&usage, "date");
    let mut users: BTreeMap<(String, NaiveDate), f64> = BTreeMap::new();
    for row in 0..usage.height() {
        if metrics[row] == "active_users" {
            users.insert((ids[row].clone(), month_ends[row].unwrap()), values[row]);
        }
    }

    for year in [2023, 2024, 2025] {
        let november = NaiveDate::from_ymd_opt(year, 11, 30).unwrap();
        let december = NaiveDate::from_ymd_opt(year, 12, 31).unwrap();
        let mut totals: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for (account, industry) in &industries {
            let both_steady = steady.contains(&(account.clone(), november))
                && steady.contains(&(account.clone(), december));
            if !both_steady {
                continue;
            }
            let (Some(nov), Some(dec)) = (
                users.get(&(account.clone(), november)),
                users.get(&(account.clone(), december)),
            ) else {
                continue;
            };
            let entry = totals.entry(industry.as_str()).or_default();
            entry.0 += nov;
            entry.1 += dec;
        }
        // Education dips 35% in December at amplitude 1 (0.6 to 1.4 per account).
        let education = totals["education"].1 / totals["education"].0;
        assert!(
            education < 0.8,
            "{year}: education December/November {education:.3}"
        );
        let technology = totals["technology"].1 / totals["technology"].0;
        assert!(
            (technology - 1.0).abs() < 0.03,
            "{year}: technology December/November {technology:.3}"
        );
    }
}

#[test]
fn truth_labels_match_outcome_table() {
    let (dir, _) = large_portfolio();
    let outcomes = read_contract_table(dir, TableKind::Outcomes);
    let truth = read_csv(&dir.join("truth/monthly.csv"));

    let mut churn_dates: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
    let mut expansion_dates: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
    let kinds = strings(&outcomes, "outcome");
    let outcome_dates = dates(&outcomes, "date");
    for (row, account) in strings(&outcomes, "account_id").into_iter().enumerate() {
        let date = outcome_dates[row].unwrap();
        match kinds[row].as_str() {
            "churned" => churn_dates.entry(account).or_default().push(date),
            "expanded" => expansion_dates.entry(account).or_default().push(date),
            _ => {}
        }
    }

    let ids = strings(&truth, "account_id");
    let month_ends = dates(&truth, "date");
    let churned = flags(&truth, "churned");
    let expanded = flags(&truth, "expanded");
    let within = |events: Option<&Vec<NaiveDate>>, date: NaiveDate| {
        let until = date + chrono::Duration::days(180);
        events.is_some_and(|events| events.iter().any(|e| date < *e && *e <= until))
    };
    for row in 0..truth.height() {
        let date = month_ends[row].unwrap();
        assert_eq!(
            churned[row],
            within(churn_dates.get(&ids[row]), date),
            "{} {date}",
            ids[row]
        );
        assert_eq!(
            expanded[row],
            within(expansion_dates.get(&ids[row]), date),
            "{} {date}",
            ids[row]
        );
    }
}

#[test]
fn oracle_from_files_matches_summary() {
    let (dir, summary) = large_portfolio();
    let truth = Truth::load(dir).unwrap();
    let frame = read_csv(&dir.join("truth/monthly.csv"));
    let ids = strings(&frame, "account_id");
    let month_ends = dates(&frame, "date");
    let active = flags(&frame, "active");
    let complete = flags(&frame, "complete");
    let rows: Vec<(&str, NaiveDate)> = (0..frame.height())
        .filter(|row| active[*row] && complete[*row])
        .map(|row| (ids[row].as_str(), month_ends[row].unwrap()))
        .collect();

    let churn = oracle_auc(&truth, rows.iter().copied(), Target::Churn).unwrap();
    let expected = summary.oracle.churn_monthly;
    assert_eq!(churn.rows, expected.rows);
    assert_eq!(churn.positives, expected.positives);
    assert!((churn.auc.unwrap() - expected.auc.unwrap()).abs() < 1e-9);

    let expansion = oracle_auc(&truth, rows.iter().copied(), Target::Expansion).unwrap();
    assert!((expansion.auc.unwrap() - summary.oracle.expansion_monthly.auc.unwrap()).abs() < 1e-9);
}

#[test]
fn oracle_auc_lies_between_chance_and_perfect() {
    let (_, summary) = large_portfolio();
    let monthly = summary.oracle.churn_monthly.auc.unwrap();
    assert!(
        (0.75..0.92).contains(&monthly),
        "monthly churn oracle {monthly}"
    );
    let renewals = summary.oracle.churn_renewals.auc.unwrap();
    assert!(
        (0.7..0.97).contains(&renewals),
        "renewal churn oracle {renewals}"
    );
}

#[test]
fn true_probabilities_are_calibrated() {
    let (dir, _) = large_portfolio();
    let truth = read_csv(&dir.join("truth/monthly.csv"));
    let p = numbers(&truth, "p_churn");
    let churned = flags(&truth, "churned");
    let active = flags(&truth, "active");
    let complete = flags(&truth, "complete");
    // Over every complete row, the mean true probability equals the observed
    // rate within sampling error (rows of one account overlap, so allow 10%).
    let rows: Vec<usize> = (0..truth.height())
        .filter(|row| active[*row] && complete[*row])
        .collect();
    let expected: f64 = rows.iter().map(|row| p[*row]).sum();
    let observed = rows.iter().filter(|row| churned[**row]).count() as f64;
    assert!(
        (observed - expected).abs() < 0.1 * expected,
        "observed {observed} churn rows, expected {expected:.1}"
    );
}

#[test]
fn interventions_lower_churn_of_declining_accounts() {
    let (_, summary) = large_portfolio();
    let interventions = summary.interventions;
    assert!(interventions.with_intervention > 300);
    assert!(interventions.without_intervention > 300);
    assert!(
        interventions.churn_with + 0.1 < interventions.churn_without,
        "{interventions:?}"
    );
}

#[test]
fn decline_precedes_signal_churn_only() {
    let (dir, _) = large_portfolio();
    let terms = read_csv(&dir.join("truth/terms.csv"));
    let usage = read_contract_table(dir, TableKind::Usage);

    let ids = strings(&usage, "account_id");
    let metrics = strings(&usage, "metric");
    let values = numbers(&usage, "value");
    let month_ends = dates(&usage, "date");
    let mut users: BTreeMap<(String, NaiveDate), f64> = BTreeMap::new();
    for row in 0..usage.height() {
        if metrics[row] == "active_users" {
            users.insert((ids[row].clone(), month_ends[row].unwrap()), values[row]);
        }
    }

    // Users in the churn month over users six months before, summed over
    // churns whose history reaches back that far.
    let mut signal = (0.0, 0.0);
    let mut signal_free = (0.0, 0.0);
    let term_ids = strings(&terms, "account_id");
    let outcomes = strings(&terms, "outcome");
    let free = flags(&terms, "signal_free");
    let ends = dates(&terms, "end");
    for row in 0..terms.height() {
        if outcomes[row] != "churned" {
            continue;
        }
        let end = ends[row].unwrap();
        let earlier = last_day(end, 6);
        let (Some(now), Some(before)) = (
            users.get(&(term_ids[row].clone(), end)),
            users.get(&(term_ids[row].clone(), earlier)),
        ) else {
            continue;
        };
        let totals = if free[row] {
            &mut signal_free
        } else {
            &mut signal
        };
        totals.0 += now;
        totals.1 += before;
    }
    let signal_ratio = signal.0 / signal.1;
    let signal_free_ratio = signal_free.0 / signal_free.1;
    assert!(
        signal_ratio < 0.6,
        "signal churn keeps {signal_ratio:.3} of its users"
    );
    assert!(
        signal_free_ratio > 0.85,
        "signal-free churn keeps {signal_free_ratio:.3} of its users"
    );
}

/// Returns the month-end `months` months before the month-end `date`.
fn last_day(date: NaiveDate, months: i32) -> NaiveDate {
    let month = headroom_sim::YearMonth::of(date).add_months(-months);
    month.last_day()
}

#[test]
fn usage_is_dated_on_month_ends() {
    let (dir, _) = large_portfolio();
    let usage = read_contract_table(dir, TableKind::Usage);
    let month_ends: BTreeSet<NaiveDate> = dates(&usage, "date").into_iter().flatten().collect();
    assert_eq!(month_ends.len(), 36);
    for date in month_ends {
        assert_eq!(
            date.succ_opt().unwrap().day(),
            1,
            "{date} is not a month-end"
        );
    }
}

#[test]
fn accounts_join_throughout_window() {
    let (dir, _) = large_portfolio();
    let accounts = read_contract_table(dir, TableKind::Accounts);
    let since: Vec<NaiveDate> = dates(&accounts, "customer_since")
        .into_iter()
        .flatten()
        .collect();
    let in_window = since.iter().filter(|d| **d >= first_month_end()).count() as f64;
    let last_year = since
        .iter()
        .filter(|d| **d > NaiveDate::from_ymd_opt(2025, 10, 31).unwrap())
        .count();
    // 35% join during the 36 months, a third of them in the last 12.
    assert!((in_window / since.len() as f64 - 0.35).abs() < 0.02);
    assert!(
        last_year > 1000,
        "{last_year} accounts with less than a year of history"
    );
}

#[test]
fn entitlements_follow_plans() {
    let (dir, _) = large_portfolio();
    let entitlements = read_contract_table(dir, TableKind::Entitlements);
    let contracts = strings(&entitlements, "contract_id");
    let kinds = strings(&entitlements, "kind");
    let mut booleans: BTreeMap<&str, usize> = BTreeMap::new();
    for (contract, kind) in contracts.iter().zip(&kinds) {
        if kind == "boolean" {
            *booleans.entry(contract.as_str()).or_insert(0) += 1;
        }
    }
    let counts: BTreeSet<usize> = booleans.values().copied().collect();
    assert_eq!(counts, BTreeSet::from([3, 5, 8]));

    let limits = numbers(&entitlements, "limit");
    let periods = strings(&entitlements, "period");
    for row in 0..entitlements.height() {
        match kinds[row].as_str() {
            "boolean" => {
                assert!(limits[row].is_nan());
                assert_eq!(periods[row], "term");
            }
            _ => {
                assert!(limits[row] > 0.0);
                assert_eq!(periods[row], "month");
            }
        }
    }
}
