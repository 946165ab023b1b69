//! Turning the rows of a checked table file into ledger records.

use chrono::{DateTime, NaiveDate, Utc};
use headroom_data::RowOrigin;
use headroom_store::{Intervention, Outcome, OutcomeRecord, Source};
use polars::prelude::*;

use super::check::Candidate;

/// Builds an outcome record per row that parsed. Rows with a blank or invalid
/// required cell are already errors in the file's report and are left out.
pub(super) fn outcomes(
    frame: &DataFrame,
    origins: &[RowOrigin],
    recorded_at: DateTime<Utc>,
) -> Vec<Candidate<OutcomeRecord>> {
    let accounts = texts(frame, "account_id");
    let dates = dates(frame, "date");
    let words = texts(frame, "outcome");
    let contracts = texts(frame, "contract_id");
    let before = numbers(frame, "arr_before");
    let after = numbers(frame, "arr_after");
    let reasons = texts(frame, "reason");

    let mut candidates = Vec::with_capacity(frame.height());
    for (i, origin) in origins.iter().enumerate() {
        let (Some(account_id), Some(date), Some(word)) = (&accounts[i], dates[i], &words[i]) else {
            continue;
        };
        let Ok(outcome) = word.parse::<Outcome>() else {
            continue;
        };
        candidates.push(Candidate {
            record: OutcomeRecord {
                account_id: account_id.clone(),
                date,
                outcome,
                contract_id: contracts[i].clone(),
                arr_before: before[i],
                arr_after: after[i],
                reason: reasons[i].clone(),
                source: source(origin),
                recorded_at,
            },
            origin: Some(origin.clone()),
        });
    }
    candidates
}

/// Builds an intervention record per row that parsed.
pub(super) fn interventions(
    frame: &DataFrame,
    origins: &[RowOrigin],
    recorded_at: DateTime<Utc>,
) -> Vec<Candidate<Intervention>> {
    let accounts = texts(frame, "account_id");
    let dates = dates(frame, "date");
    let kinds = texts(frame, "kind");
    let notes = texts(frame, "note");

    let mut candidates = Vec::with_capacity(frame.height());
    for (i, origin) in origins.iter().enumerate() {
        let (Some(account_id), Some(date), Some(kind)) = (&accounts[i], dates[i], &kinds[i]) else {
            continue;
        };
        candidates.push(Candidate {
            record: Intervention {
                account_id: account_id.clone(),
                date,
                kind: kind.clone(),
                note: notes[i].clone(),
                source: source(origin),
                recorded_at,
            },
            origin: Some(origin.clone()),
        });
    }
    candidates
}

fn source(origin: &RowOrigin) -> Source {
    Source::File {
        path: origin.file.display().to_string(),
        line: origin.line,
    }
}

/// Reads a text column of the contract schema.
pub(crate) fn texts(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    frame
        .column(name)
        .and_then(|c| c.str().cloned())
        .map(|values| values.iter().map(|v| v.map(str::to_string)).collect())
        .unwrap_or_else(|_| vec![None; frame.height()])
}

/// Reads a date column of the contract schema.
pub(crate) fn dates(frame: &DataFrame, name: &str) -> Vec<Option<NaiveDate>> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date");
    frame
        .column(name)
        .and_then(|c| c.date().cloned())
        .map(|values| {
            values
                .physical()
                .iter()
                .map(|days| {
                    days.and_then(|d| epoch.checked_add_signed(chrono::Duration::days(d.into())))
                })
                .collect()
        })
        .unwrap_or_else(|_| vec![None; frame.height()])
}

/// Reads a number column of the contract schema.
pub(crate) fn numbers(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
    frame
        .column(name)
        .and_then(|c| c.f64().cloned())
        .map(|values| values.iter().collect())
        .unwrap_or_else(|_| vec![None; frame.height()])
}
