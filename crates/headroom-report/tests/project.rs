//! Opening a project merges the store's ledger into the imported tables, each
//! outcome and intervention once.

use chrono::{NaiveDate, TimeZone, Utc};
use headroom_data::Tables;
use headroom_report::project::{LedgerMerge, Project, ProjectError};
use headroom_store::{Intervention, Outcome, OutcomeRecord, Source, Store};
use polars::prelude::*;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn outcome(account: &str, day: &str, outcome: Outcome) -> OutcomeRecord {
    OutcomeRecord {
        account_id: account.to_string(),
        date: date(day),
        outcome,
        contract_id: None,
        arr_before: None,
        arr_after: Some(1200.0),
        reason: None,
        source: Source::Manual,
        recorded_at: Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap(),
    }
}

/// Writes a project whose imported outcomes are A1 renewed on 2025-03-31 and A2
/// churned on 2025-06-30, and which has one intervention on A2.
fn imported_project(dir: &std::path::Path) {
    let mut tables = Tables::empty();
    tables.outcomes = df!(
        "account_id" => ["A1", "A2"],
        "date" => [date("2025-03-31"), date("2025-06-30")],
        "outcome" => ["renewed", "churned"],
        "contract_id" => [Some("C1"), None::<&str>],
        "arr_before" => [Some(1000.0), None],
        "arr_after" => [Some(1000.0), None],
        "reason" => [None::<&str>, Some("budget")],
    )
    .unwrap();
    tables.interventions = df!(
        "account_id" => ["A2"],
        "date" => [date("2025-04-15")],
        "kind" => ["exec call"],
        "note" => [None::<&str>],
    )
    .unwrap();
    tables.write_project(dir).unwrap();
}

#[test]
fn open_counts_shared_outcomes_once() {
    let dir = tempfile::tempdir().unwrap();
    imported_project(dir.path());
    {
        let store = Store::create(Store::project_dir(dir.path())).unwrap();
        // A2 churned on 2025-06-30 is in both. A3 expanded is only in the ledger.
        store
            .append_outcomes(&[
                outcome("A2", "2025-06-30", Outcome::Churned),
                outcome("A3", "2025-01-31", Outcome::Expanded),
            ])
            .unwrap();
        store
            .append_interventions(&[Intervention {
                account_id: "A2".to_string(),
                date: date("2025-04-15"),
                kind: "exec call".to_string(),
                note: Some("from the log".to_string()),
                source: Source::Manual,
                recorded_at: Utc.with_ymd_and_hms(2025, 4, 15, 9, 0, 0).unwrap(),
            }])
            .unwrap();
    }

    let project = Project::open(dir.path()).unwrap();

    assert_eq!(
        project.ledger,
        LedgerMerge {
            outcomes_from_ledger: 1,
            outcomes_in_both: 1,
            interventions_from_ledger: 0,
            interventions_in_both: 1,
        }
    );
    let outcomes = &project.tables.outcomes;
    assert_eq!(outcomes.height(), 3);
    let accounts: Vec<_> = outcomes
        .column("account_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(Option::unwrap)
        .collect();
    // Sorted by date: A3 (January), A1 (March), A2 (June).
    assert_eq!(accounts, ["A3", "A1", "A2"]);
    let arr_after: Vec<_> = outcomes
        .column("arr_after")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(arr_after, [Some(1200.0), Some(1000.0), None]);
    assert_eq!(project.tables.interventions.height(), 1);
}

#[test]
fn open_creates_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    imported_project(dir.path());

    let project = Project::open(dir.path()).unwrap();

    assert_eq!(project.ledger, LedgerMerge::default());
    assert_eq!(project.tables.outcomes.height(), 2);
    assert!(dir.path().join("store").is_dir());
    assert_eq!(project.models_dir(), dir.path().join("models"));
}

#[test]
fn open_rejects_folder_without_tables() {
    let dir = tempfile::tempdir().unwrap();

    let err = match Project::open(dir.path()) {
        Err(err) => err,
        Ok(_) => panic!("a folder without tables opened as a project"),
    };

    assert!(matches!(err, ProjectError::NotImported { .. }));
    let message = err.to_string();
    assert!(message.contains("contains no imported data"), "{message}");
    assert!(message.contains("hint: run `headroom import"), "{message}");
    assert!(!dir.path().join("store").exists());
}
