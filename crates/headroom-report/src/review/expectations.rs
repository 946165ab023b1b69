//! How often the expectations of account notes proved right: a note expecting
//! churn is right when the account churned, renewal and drop when it did not
//! churn, growth when it expanded.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use headroom_store::{AccountNote, Expectation, NoteId, Outcome};
use serde::{Deserialize, Serialize};

/// One note checked against the outcome of its account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteCheck {
    /// The note.
    pub note: NoteId,
    /// The account.
    pub account_id: String,
    /// The note's expectation.
    pub expectation: Expectation,
    /// The note's text.
    pub text: String,
    /// The account's outcomes in the month.
    pub outcomes: Vec<Outcome>,
    /// Whether the expectation proved right.
    pub right: bool,
}

/// The checks of one expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationTally {
    /// The expectation.
    pub expectation: Expectation,
    /// Notes checked.
    pub notes: usize,
    /// Notes whose expectation proved right.
    pub right: usize,
}

/// The notes of the month's accounts, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ExpectationReview {
    /// Each checked note, by account then note id.
    pub notes: Vec<NoteCheck>,
    /// Counts per expectation, in the expectation's order.
    pub tallies: Vec<ExpectationTally>,
}

/// An account's outcomes in the month, as the expectations see them.
pub struct AccountEvents<'a> {
    /// The account.
    pub account_id: &'a str,
    /// Its outcomes in the month.
    pub outcomes: &'a [Outcome],
    /// The date of its first outcome in the month.
    pub outcome_date: NaiveDate,
}

/// Returns whether an expectation proved right given the outcomes.
pub fn proved_right(expectation: Expectation, outcomes: &[Outcome]) -> Option<bool> {
    let churned = outcomes.contains(&Outcome::Churned);
    match expectation {
        Expectation::Churn => Some(churned),
        Expectation::Renewal | Expectation::Drop => Some(!churned),
        Expectation::Growth => Some(outcomes.contains(&Outcome::Expanded)),
        Expectation::Unspecified => None,
    }
}

/// Checks the notes that applied in the run-up to each account's outcome:
/// written on or before the outcome and ending no earlier than `lead_days`
/// before it. Notes without an expectation are left out.
pub fn check_expectations(
    accounts: &[AccountEvents<'_>],
    notes: &[AccountNote],
    lead_days: u32,
) -> ExpectationReview {
    let mut by_account: BTreeMap<&str, Vec<&AccountNote>> = BTreeMap::new();
    for note in notes {
        by_account
            .entry(note.account_id.as_str())
            .or_default()
            .push(note);
    }

    let mut checks = Vec::new();
    for account in accounts {
        let Some(account_notes) = by_account.get(account.account_id) else {
            continue;
        };
        let window_start = account
            .outcome_date
            .checked_sub_days(Days::new(u64::from(lead_days)))
            .unwrap_or(NaiveDate::MIN);
        for note in account_notes {
            let written = note.created_at.date_naive();
            if written > account.outcome_date || note.until < window_start {
                continue;
            }
            let Some(right) = proved_right(note.expectation, account.outcomes) else {
                continue;
            };
            checks.push(NoteCheck {
                note: note.id,
                account_id: note.account_id.clone(),
                expectation: note.expectation,
                text: note.text.clone(),
                outcomes: account.outcomes.to_vec(),
                right,
            });
        }
    }
    checks.sort_by(|a, b| (&a.account_id, a.note).cmp(&(&b.account_id, b.note)));

    let mut tallies: BTreeMap<Expectation, ExpectationTally> = BTreeMap::new();
    for check in &checks {
        let tally = tallies
            .entry(check.expectation)
            .or_insert(ExpectationTally {
                expectation: check.expectation,
                notes: 0,
                right: 0,
            });
        tally.notes += 1;
        tally.right += usize::from(check.right);
    }
    ExpectationReview {
        notes: checks,
        tallies: tallies.into_values().collect(),
    }
}
