//! Outcomes of the accounts flagged for churn, with and without a logged
//! intervention between the snapshot and the outcome.
//!
//! The cohorts describe what happened. They do not measure what the
//! interventions caused: teams choose which accounts to call, so the two
//! groups differ in more than the call.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::matching::ReviewRow;
use crate::ledger::rows::{dates, texts};

/// The outcome counts of one cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Cohort {
    /// Accounts in the cohort.
    pub accounts: usize,
    /// Accounts that churned.
    pub churned: usize,
    /// Accounts that expanded (and did not churn).
    pub expanded: usize,
    /// Accounts that renewed or contracted, without churn or expansion.
    pub retained: usize,
    /// `churned / accounts`; `None` for an empty cohort.
    pub churn_rate: Option<f64>,
}

/// The flagged accounts split by whether an intervention was logged for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterventionCohorts {
    /// Flagged accounts with an intervention dated after the snapshot and on
    /// or before the outcome.
    pub with_intervention: Cohort,
    /// Flagged accounts without one.
    pub without_intervention: Cohort,
    /// The intervention kinds logged for the first cohort, with counts.
    pub kinds: Vec<(String, usize)>,
    /// Always true: the comparison is descriptive, not causal.
    pub descriptive_only: bool,
}

/// Splits the matched accounts flagged for churn by the interventions in
/// `interventions` (the contract's interventions table, merged with the log).
pub fn intervention_cohorts(rows: &[ReviewRow], interventions: &DataFrame) -> InterventionCohorts {
    let by_account = interventions_by_account(interventions);
    let mut with = Vec::new();
    let mut without = Vec::new();
    let mut kinds: HashMap<String, usize> = HashMap::new();

    for row in rows.iter().filter(|r| r.scored.flagged_churn) {
        let logged: Vec<&(NaiveDate, String)> = by_account
            .get(row.account_id.as_str())
            .map(|all| {
                all.iter()
                    .filter(|(date, _)| *date > row.as_of && *date <= row.outcome_date)
                    .collect()
            })
            .unwrap_or_default();
        if logged.is_empty() {
            without.push(row);
            continue;
        }
        let distinct: HashSet<&str> = logged.iter().map(|(_, kind)| kind.as_str()).collect();
        for kind in distinct {
            *kinds.entry(kind.to_string()).or_default() += 1;
        }
        with.push(row);
    }

    let mut kinds: Vec<(String, usize)> = kinds.into_iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    InterventionCohorts {
        with_intervention: cohort(&with),
        without_intervention: cohort(&without),
        kinds,
        descriptive_only: true,
    }
}

fn cohort(rows: &[&ReviewRow]) -> Cohort {
    let churned = rows.iter().filter(|r| r.churned).count();
    let expanded = rows.iter().filter(|r| !r.churned && r.expanded).count();
    Cohort {
        accounts: rows.len(),
        churned,
        expanded,
        retained: rows.len() - churned - expanded,
        churn_rate: (!rows.is_empty()).then(|| churned as f64 / rows.len() as f64),
    }
}

fn interventions_by_account(
    interventions: &DataFrame,
) -> HashMap<String, Vec<(NaiveDate, String)>> {
    let ids = texts(interventions, "account_id");
    let days = dates(interventions, "date");
    let kinds = texts(interventions, "kind");
    let mut by_account: HashMap<String, Vec<(NaiveDate, String)>> = HashMap::new();
    for i in 0..interventions.height() {
        if let (Some(id), Some(day), Some(kind)) = (&ids[i], days[i], &kinds[i]) {
            by_account
                .entry(id.clone())
                .or_default()
                .push((day, kind.clone()));
        }
    }
    by_account
}
