//! Matching each account's outcomes of a month with the score snapshot taken
//! a lead time before them.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};
use headroom_store::{Outcome, SnapshotHeader, SnapshotId, SnapshotRow, Store, StoreError};
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::Month;
use crate::ledger::rows::{dates, texts};

/// An account with outcomes in the review month, and the scores headroom
/// gave it a lead time before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRow {
    /// The account.
    pub account_id: String,
    /// The account's outcomes in the month, by date.
    pub outcomes: Vec<Outcome>,
    /// The date of the account's first outcome in the month, which the
    /// snapshot was matched to.
    pub outcome_date: NaiveDate,
    /// Whether one of the outcomes is a churn.
    pub churned: bool,
    /// Whether one of the outcomes is an expansion.
    pub expanded: bool,
    /// The matched snapshot.
    pub snapshot: SnapshotId,
    /// The snapshot's as-of date.
    pub as_of: NaiveDate,
    /// The account's row in the snapshot: scores, flags, reasons and alerts
    /// as given then.
    pub scored: SnapshotRow,
}

/// The reason an account's outcomes could not be matched with a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unmatched {
    /// No snapshot was taken at least the lead time before the outcome.
    NoSnapshot,
    /// The latest such snapshot is older than the maximum snapshot age.
    SnapshotTooOld,
    /// The snapshot did not score the account (too new, or not active then).
    NotScored,
}

impl Unmatched {
    /// Describes the reason in words.
    pub fn describe(self) -> &'static str {
        match self {
            Unmatched::NoSnapshot => "no snapshot taken at least the lead time before",
            Unmatched::SnapshotTooOld => "the latest snapshot before the lead time is too old",
            Unmatched::NotScored => "the snapshot did not score the account",
        }
    }
}

/// An account whose outcomes stay out of the accuracy figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedAccount {
    /// The account.
    pub account_id: String,
    /// Its outcomes in the month.
    pub outcomes: Vec<Outcome>,
    /// The date of its first outcome in the month.
    pub outcome_date: NaiveDate,
    /// The reason it was not matched.
    pub reason: Unmatched,
}

/// A snapshot the review compared outcomes with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotUse {
    /// The snapshot.
    pub id: SnapshotId,
    /// Its as-of date.
    pub as_of: NaiveDate,
    /// The churn model that scored it.
    pub churn_model: Option<String>,
    /// The expansion model that scored it.
    pub expansion_model: Option<String>,
    /// Matched accounts compared with it.
    pub accounts: usize,
}

/// The month's outcomes, matched and unmatched.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matching {
    /// Outcome records in the month.
    pub outcomes: usize,
    /// Outcome records per word.
    pub by_outcome: BTreeMap<String, usize>,
    /// Matched accounts, by account id.
    pub rows: Vec<ReviewRow>,
    /// Accounts left out, by account id.
    pub unmatched: Vec<UnmatchedAccount>,
    /// The snapshots used, by as-of date.
    pub snapshots: Vec<SnapshotUse>,
}

/// One account's outcomes in the month.
struct AccountOutcomes {
    outcomes: Vec<(NaiveDate, Outcome)>,
}

/// Matches the outcomes of `month` in `outcomes` (a table with the contract's
/// outcomes schema, the imported history merged with the ledger) with the
/// snapshots in `store`.
///
/// Each account is matched once, by the date of its first outcome in the
/// month: with the latest snapshot taken at least `lead_days` before it and
/// at most `max_age_days` before it.
pub fn match_outcomes(
    outcomes: &DataFrame,
    store: &Store,
    month: Month,
    lead_days: u32,
    max_age_days: u32,
) -> Result<Matching, StoreError> {
    let accounts = outcomes_in_month(outcomes, month);
    let mut matching = Matching::default();
    for account in accounts.values() {
        matching.outcomes += account.outcomes.len();
        for (_, outcome) in &account.outcomes {
            *matching.by_outcome.entry(outcome.to_string()).or_default() += 1;
        }
    }

    let mut headers: HashMap<NaiveDate, Option<SnapshotHeader>> = HashMap::new();
    let mut used: BTreeMap<(NaiveDate, SnapshotId), SnapshotUse> = BTreeMap::new();
    for (account_id, account) in accounts {
        let outcome_date = account.outcomes[0].0;
        let words: Vec<Outcome> = account.outcomes.iter().map(|(_, o)| *o).collect();
        let unmatched = |reason| UnmatchedAccount {
            account_id: account_id.clone(),
            outcomes: words.clone(),
            outcome_date,
            reason,
        };

        let header = match headers.get(&outcome_date) {
            Some(header) => header.clone(),
            None => {
                let header = store.latest_snapshot_before(outcome_date, lead_days)?;
                headers.insert(outcome_date, header.clone());
                header
            }
        };
        let Some(header) = header else {
            matching.unmatched.push(unmatched(Unmatched::NoSnapshot));
            continue;
        };
        let oldest = outcome_date
            .checked_sub_days(Days::new(u64::from(max_age_days)))
            .unwrap_or(NaiveDate::MIN);
        if header.as_of < oldest {
            matching
                .unmatched
                .push(unmatched(Unmatched::SnapshotTooOld));
            continue;
        }
        let Some(scored) = store.snapshot_row(header.id, &account_id)? else {
            matching.unmatched.push(unmatched(Unmatched::NotScored));
            continue;
        };

        used.entry((header.as_of, header.id))
            .or_insert_with(|| SnapshotUse {
                id: header.id,
                as_of: header.as_of,
                churn_model: header.churn_model.clone(),
                expansion_model: header.expansion_model.clone(),
                accounts: 0,
            })
            .accounts += 1;
        matching.rows.push(ReviewRow {
            churned: words.contains(&Outcome::Churned),
            expanded: words.contains(&Outcome::Expanded),
            account_id,
            outcomes: words,
            outcome_date,
            snapshot: header.id,
            as_of: header.as_of,
            scored,
        });
    }
    matching.snapshots = used.into_values().collect();
    Ok(matching)
}

/// Groups the month's outcomes by account, each account's by date.
fn outcomes_in_month(outcomes: &DataFrame, month: Month) -> BTreeMap<String, AccountOutcomes> {
    let (first, last) = (month.first_day(), month.last_day());
    let ids = texts(outcomes, "account_id");
    let days = dates(outcomes, "date");
    let words = texts(outcomes, "outcome");

    let mut accounts: BTreeMap<String, AccountOutcomes> = BTreeMap::new();
    for i in 0..outcomes.height() {
        let (Some(id), Some(day), Some(word)) = (&ids[i], days[i], &words[i]) else {
            continue;
        };
        if day < first || day > last {
            continue;
        }
        let Ok(outcome) = word.parse::<Outcome>() else {
            continue;
        };
        accounts
            .entry(id.clone())
            .or_insert_with(|| AccountOutcomes {
                outcomes: Vec::new(),
            })
            .outcomes
            .push((day, outcome));
    }
    for account in accounts.values_mut() {
        account.outcomes.sort();
    }
    accounts
}
