//! Importing and adding outcomes, interventions and notes on real projects
//! with a sled store in a temporary folder.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use headroom_data::{Check, Location, Mapping, Severity, Tables};
use headroom_report::ledger::{self, LedgerError, NewIntervention, NewOutcome, NoteRequest};
use headroom_report::project::Project;
use headroom_store::{Expectation, Outcome, Source};
use polars::prelude::*;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

/// Writes a project with accounts A1 (customer since 2024-01-01) and A2
/// (since 2025-01-01), contracts C1 of A1 and C2 of A2, and one imported
/// outcome: A1 renewed on 2025-01-31 at 1000.
fn project(dir: &Path) -> PathBuf {
    let root = dir.join("project");
    let mut tables = Tables::empty();
    tables.accounts = df!(
        "account_id" => ["A1", "A2"],
        "name" => ["Acme", "Globex"],
        "customer_since" => [date("2024-01-01"), date("2025-01-01")],
        "segment" => [Some("smb"), Some("enterprise")],
        "industry" => [None::<&str>, None],
        "region" => [None::<&str>, None],
        "owner" => [None::<&str>, None],
    )
    .unwrap();
    tables.contracts = df!(
        "contract_id" => ["C1", "C2"],
        "account_id" => ["A1", "A2"],
        "start_date" => [date("2024-01-01"), date("2025-01-01")],
        "end_date" => [date("2025-12-31"), date("2025-12-31")],
        "arr" => [1000.0, 5000.0],
        "currency" => ["USD", "USD"],
        "plan" => [None::<&str>, None],
        "auto_renew" => [None::<bool>, None],
    )
    .unwrap();
    tables.outcomes = df!(
        "account_id" => ["A1"],
        "date" => [date("2025-01-31")],
        "outcome" => ["renewed"],
        "contract_id" => [Some("C1")],
        "arr_before" => [Some(1000.0)],
        "arr_after" => [Some(1000.0)],
        "reason" => [None::<&str>],
    )
    .unwrap();
    tables.write_project(&root).unwrap();
    root
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn import(root: &Path, file: &Path) -> Result<ledger::ImportSummary, LedgerError> {
    let project = Project::open(root).unwrap();
    let result = ledger::import_outcomes(&project, file, &Mapping::contract(), now());
    project.store.close().unwrap();
    result
}

fn stored_outcomes(root: &Path) -> usize {
    let project = Project::open(root).unwrap();
    let count = project.store.outcomes().unwrap().len();
    project.store.close().unwrap();
    count
}

fn errors(err: &LedgerError) -> Vec<headroom_data::Issue> {
    match err {
        LedgerError::Invalid { report, .. } => report
            .issues()
            .iter()
            .filter(|issue| issue.severity == Severity::Error)
            .cloned()
            .collect(),
        other => panic!("expected an invalid file, got {other}"),
    }
}

const NOVEMBER: &str = "account_id,date,outcome,contract_id,arr_before,arr_after,reason
A1,2025-11-30,expanded,C1,1000,1500,more seats
A2,2025-11-30,churned,C2,5000,0,budget
";

#[test]
fn import_twice_adds_nothing_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(dir.path(), "november.csv", NOVEMBER);

    let first = import(&root, &file).unwrap();
    let second = import(&root, &file).unwrap();

    assert_eq!(first.records, 2);
    assert_eq!(first.added, 2);
    assert_eq!(first.already_stored, 0);
    assert_eq!(second.records, 2);
    assert_eq!(second.added, 0);
    assert_eq!(second.already_stored, 2);
    assert_eq!(stored_outcomes(&root), 2);
}

#[test]
fn import_records_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(dir.path(), "november.csv", NOVEMBER);

    import(&root, &file).unwrap();

    let project = Project::open(&root).unwrap();
    let stored = project.store.outcomes_for_account("A2").unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].source,
        Source::File {
            path: file.display().to_string(),
            line: 3,
        }
    );
    assert_eq!(stored[0].outcome, Outcome::Churned);
    assert_eq!(stored[0].arr_after, Some(0.0));
    assert_eq!(stored[0].reason.as_deref(), Some("budget"));
    assert_eq!(stored[0].recorded_at, now());
}

#[test]
fn overlapping_files_store_each_outcome_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let first = write(dir.path(), "first.csv", NOVEMBER);
    // The second export repeats A2's churn and adds two December outcomes.
    let second = write(
        dir.path(),
        "second.csv",
        "account_id,date,outcome,contract_id,arr_before,arr_after,reason
A2,2025-11-30,churned,C2,5000,0,budget
A1,2025-12-31,renewed,C1,1500,1500,
A1,2025-12-31,expanded,C1,1500,1800,
",
    );

    import(&root, &first).unwrap();
    let summary = import(&root, &second).unwrap();

    assert_eq!(summary.added, 2);
    assert_eq!(summary.already_stored, 1);
    assert_eq!(stored_outcomes(&root), 4);
    let project = Project::open(&root).unwrap();
    // 1 imported outcome + 4 from the ledger, none of them shared.
    assert_eq!(project.tables.outcomes.height(), 5);
    assert_eq!(project.ledger.outcomes_from_ledger, 4);
}

#[test]
fn bad_line_in_middle_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "outcomes.csv",
        "account_id,date,outcome
A1,2025-11-30,renewed
A2,2025-11-31,churned
A2,2025-12-31,renewed
",
    );

    let err = import(&root, &file).unwrap_err();

    let found = errors(&err);
    assert_eq!(found.len(), 1, "{err}");
    assert_eq!(found[0].location, Some(Location::Line(3)));
    assert_eq!(found[0].column.as_deref(), Some("date"));
    assert_eq!(found[0].value.as_deref(), Some("2025-11-31"));
    assert!(err.to_string().contains("nothing was stored"), "{err}");
    assert!(err.to_string().contains("hint:"), "{err}");
    assert_eq!(stored_outcomes(&root), 0);
}

#[test]
fn unknown_account_is_error_with_id() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "outcomes.csv",
        "account_id,date,outcome\nA1,2025-11-30,renewed\nA9,2025-11-30,churned\n",
    );

    let err = import(&root, &file).unwrap_err();

    let found = errors(&err);
    assert_eq!(found.len(), 1, "{err}");
    assert_eq!(found[0].check, Check::UnknownReference);
    assert_eq!(found[0].location, Some(Location::Line(3)));
    assert_eq!(found[0].value.as_deref(), Some("A9"));
    assert_eq!(stored_outcomes(&root), 0);
}

#[test]
fn date_before_customer_since_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    // A2 became a customer on 2025-01-01; the day before is too early.
    let file = write(
        dir.path(),
        "outcomes.csv",
        "account_id,date,outcome\nA2,2024-12-31,renewed\nA2,2025-01-01,renewed\n",
    );

    let err = import(&root, &file).unwrap_err();

    let found = errors(&err);
    assert_eq!(found.len(), 1, "{err}");
    assert_eq!(found[0].check, Check::BeforeStart);
    assert_eq!(found[0].location, Some(Location::Line(2)));
    assert!(found[0].message.contains("A2"), "{}", found[0].message);
    assert!(
        found[0].message.contains("2025-01-01"),
        "{}",
        found[0].message
    );
}

#[test]
fn contract_of_other_account_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "outcomes.csv",
        "account_id,date,outcome,contract_id\nA1,2025-11-30,renewed,C2\nA1,2025-12-31,churned,C7\n",
    );

    let err = import(&root, &file).unwrap_err();

    let found = errors(&err);
    assert_eq!(found.len(), 2, "{err}");
    assert!(
        found[0].message.contains("belongs to account A2"),
        "{}",
        found[0].message
    );
    assert_eq!(found[1].value.as_deref(), Some("C7"));
}

#[test]
fn amounts_must_agree_with_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "outcomes.csv",
        "account_id,date,outcome,arr_before,arr_after
A1,2025-11-30,expanded,1000,900
A1,2025-12-31,contracted,1000,1000
A2,2025-11-30,churned,5000,10
A2,2025-12-31,renewed,5000,5200
",
    );

    let err = import(&root, &file).unwrap_err();

    let lines: Vec<Option<Location>> = errors(&err).iter().map(|i| i.location).collect();
    assert_eq!(
        lines,
        [
            Some(Location::Line(2)),
            Some(Location::Line(3)),
            Some(Location::Line(4))
        ]
    );
}

#[test]
fn stored_outcome_with_other_facts_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let first = write(dir.path(), "first.csv", NOVEMBER);
    let changed = write(
        dir.path(),
        "changed.csv",
        "account_id,date,outcome,contract_id,arr_before,arr_after,reason
A2,2025-12-31,renewed,C2,5000,5000,
A1,2025-11-30,expanded,C1,1000,1600,more seats
",
    );
    import(&root, &first).unwrap();

    let err = import(&root, &changed).unwrap_err();

    let found = errors(&err);
    assert_eq!(found.len(), 1, "{err}");
    assert_eq!(found[0].location, Some(Location::Line(3)));
    assert_eq!(found[0].column.as_deref(), Some("arr_after"));
    assert!(
        found[0].message.contains("first.csv:2"),
        "{}",
        found[0].message
    );
    assert!(
        found[0].message.contains("arr_after 1600 (recorded 1500)"),
        "{}",
        found[0].message
    );
    // The valid first row was not stored either.
    assert_eq!(stored_outcomes(&root), 2);
}

#[test]
fn repeated_row_with_other_facts_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "outcomes.csv",
        "account_id,date,outcome,reason
A1,2025-11-30,renewed,
A1,2025-11-30,renewed,
A1,2025-11-30,renewed,happy
",
    );

    let err = import(&root, &file).unwrap_err();

    let found = errors(&err);
    assert_eq!(found.len(), 1, "{err}");
    assert_eq!(found[0].location, Some(Location::Line(4)));
    assert!(
        found[0].message.contains("repeats line 2"),
        "{}",
        found[0].message
    );
}

#[test]
fn identical_repeated_rows_store_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "outcomes.csv",
        "account_id,date,outcome\nA1,2025-11-30,renewed\nA1,2025-11-30,renewed\n",
    );

    let summary = import(&root, &file).unwrap();

    assert_eq!(summary.added, 1);
    assert_eq!(summary.already_stored, 1);
    assert_eq!(stored_outcomes(&root), 1);
}

#[test]
fn history_outcome_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "outcomes.csv",
        "account_id,date,outcome,contract_id,arr_before,arr_after
A1,2025-01-31,renewed,C1,1000,1000
",
    );

    let summary = import(&root, &file).unwrap();

    assert_eq!(summary.added, 1);
    assert_eq!(summary.also_in_history, 1);
    let project = Project::open(&root).unwrap();
    assert_eq!(project.tables.outcomes.height(), 1);
    assert_eq!(project.ledger.outcomes_in_both, 1);
}

#[test]
fn history_outcome_with_other_facts_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "outcomes.csv",
        "account_id,date,outcome,contract_id,arr_before,arr_after
A1,2025-01-31,renewed,C1,1000,1100
",
    );

    let err = import(&root, &file).unwrap_err();

    let found = errors(&err);
    assert_eq!(found.len(), 1, "{err}");
    assert!(
        found[0].message.contains("imported outcomes"),
        "{}",
        found[0].message
    );
}

#[test]
fn mapping_adapts_foreign_export() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "crm.csv",
        "Customer;Closed;Stage\nA1;30.11.2025;Closed Won\nA2;30.11.2025;Closed Lost\n",
    );
    let mapping = Mapping::parse(
        r#"
[format]
separator = ";"
date_format = "%d.%m.%Y"

[[outcomes]]
file = "crm.csv"
columns = { account_id = "Customer", date = "Closed", outcome = "Stage" }
values = { outcome = { "Closed Won" = "renewed", "Closed Lost" = "churned" } }
"#,
        Path::new("crm.toml"),
    )
    .unwrap();

    let project = Project::open(&root).unwrap();
    let summary = ledger::import_outcomes(&project, &file, &mapping, now()).unwrap();

    assert_eq!(summary.added, 2);
    let churned = project.store.outcomes_for_account("A2").unwrap();
    assert_eq!(churned[0].outcome, Outcome::Churned);
    assert_eq!(churned[0].date, date("2025-11-30"));
}

#[test]
fn mapping_amounts_default_to_the_contracts_currency() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "crm.csv",
        "Customer,Closed,Stage,Before,After\nA2,30.11.2025,Upsell,\"$5,000\",\"$6,200\"\n",
    );
    let mapping = Mapping::parse(
        r#"
[format]
date_format = "%d.%m.%Y"

[[outcomes]]
file = "crm.csv"
columns = { account_id = "Customer", date = "Closed", outcome = "Stage", arr_before = "Before", arr_after = "After" }
values = { outcome = { "Upsell" = "expanded" } }
"#,
        Path::new("crm.toml"),
    )
    .unwrap();

    let project = Project::open(&root).unwrap();
    let summary = ledger::import_outcomes(&project, &file, &mapping, now()).unwrap();

    assert_eq!(summary.added, 1);
    let stored = project.store.outcomes_for_account("A2").unwrap();
    assert_eq!(stored[0].arr_before, Some(5000.0));
    assert_eq!(stored[0].arr_after, Some(6200.0));
}

#[test]
fn add_outcome_twice_stores_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let new = NewOutcome {
        account_id: "A2".to_string(),
        date: date("2025-12-31"),
        outcome: Outcome::Expanded,
        contract_id: None,
        arr_before: None,
        arr_after: Some(6000.0),
        reason: None,
    };
    let project = Project::open(&root).unwrap();

    let first = ledger::add_outcome(&project, new.clone(), now()).unwrap();
    let second = ledger::add_outcome(&project, new, now()).unwrap();

    assert!(first.added);
    assert!(!second.added);
    let stored = project.store.outcomes().unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].source, Source::Manual);
}

#[test]
fn add_outcome_rejects_unknown_account() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let project = Project::open(&root).unwrap();
    let new = NewOutcome {
        account_id: "A3".to_string(),
        date: date("2025-12-31"),
        outcome: Outcome::Churned,
        contract_id: None,
        arr_before: None,
        arr_after: None,
        reason: None,
    };

    let err = ledger::add_outcome(&project, new, now()).unwrap_err();

    assert!(matches!(err, LedgerError::InvalidRecord { .. }), "{err}");
    assert!(err.to_string().contains("account A3"), "{err}");
    assert!(project.store.outcomes().unwrap().is_empty());
}

#[test]
fn interventions_import_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "interventions.csv",
        "account_id,date,kind,note\nA1,2025-10-15,training,admins\nA2,2025-10-20,exec call,\n",
    );
    let project = Project::open(&root).unwrap();

    let first = ledger::import_interventions(&project, &file, &Mapping::contract(), now()).unwrap();
    let second =
        ledger::import_interventions(&project, &file, &Mapping::contract(), now()).unwrap();

    assert_eq!(first.added, 2);
    assert_eq!(second.added, 0);
    assert_eq!(second.already_stored, 2);
    assert_eq!(project.store.interventions().unwrap().len(), 2);
}

#[test]
fn intervention_before_account_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let file = write(
        dir.path(),
        "interventions.csv",
        "account_id,date,kind\nA2,2024-06-01,training\n",
    );
    let project = Project::open(&root).unwrap();

    let err =
        ledger::import_interventions(&project, &file, &Mapping::contract(), now()).unwrap_err();

    let found = errors(&err);
    assert_eq!(found.len(), 1, "{err}");
    assert_eq!(found[0].check, Check::BeforeStart);
    assert!(project.store.interventions().unwrap().is_empty());
}

#[test]
fn add_intervention_stores_manual_record() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let project = Project::open(&root).unwrap();
    let new = NewIntervention {
        account_id: "A1".to_string(),
        date: date("2025-11-02"),
        kind: "business review".to_string(),
        note: Some("renewal plan".to_string()),
    };

    let summary = ledger::add_intervention(&project, new, now()).unwrap();

    assert!(summary.added);
    let stored = project.store.interventions_for_account("A1").unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kind, "business review");
}

#[test]
fn note_without_until_lasts_ninety_days() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let project = Project::open(&root).unwrap();
    let request = NoteRequest {
        account_id: "A1".to_string(),
        text: "pilot team leaves in January".to_string(),
        from: date("2025-11-01"),
        until: None,
        expectation: Expectation::Drop,
    };

    let note = ledger::add_note(&project, request).unwrap();

    // 2025-11-01 + 90 days = 2026-01-30.
    assert_eq!(note.until, date("2026-01-30"));
    assert_eq!(note.created_at.date_naive(), date("2025-11-01"));
    assert_eq!(
        project
            .store
            .notes_active_at(date("2026-01-30"))
            .unwrap()
            .len(),
        1
    );
    assert!(
        project
            .store
            .notes_active_at(date("2026-01-31"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn note_for_unknown_account_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let project = Project::open(&root).unwrap();
    let request = NoteRequest {
        account_id: "B1".to_string(),
        text: "reorganization".to_string(),
        from: date("2025-11-01"),
        until: Some(date("2025-12-31")),
        expectation: Expectation::Churn,
    };

    let err = ledger::add_note(&project, request).unwrap_err();

    assert!(err.to_string().contains("account B1"), "{err}");
    assert!(project.store.notes().unwrap().is_empty());
}
