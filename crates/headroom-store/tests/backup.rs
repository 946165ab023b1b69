//! Export and import of JSON-lines backups.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use headroom_store::{
    DecisionRequest, Expectation, ImportMode, ModelKind, NewModel, NewNote, Outcome, Store,
    StoreError,
};
use serde_json::json;

/// Creates a store with every kind of record, including numbers whose
/// shortest decimal form has 17 digits.
fn filled_store(path: &Path) -> Store {
    let store = Store::create(path).unwrap();
    store
        .write_snapshot(
            new_snapshot("2024-06-30"),
            vec![row("A-1", 0.1 + 0.2), row("B-2", 0.812_345_678_901_234_5)],
        )
        .unwrap();
    store
        .write_snapshot(new_snapshot("2024-07-31"), vec![row("A-1", 0.3)])
        .unwrap();
    store
        .append_outcomes(&[
            outcome("A-1", "2024-08-31", Outcome::Churned, 2),
            outcome("B-2", "2024-08-15", Outcome::Expanded, 3),
        ])
        .unwrap();
    store
        .append_interventions(&[intervention("A-1", "2024-07-10", "exec call")])
        .unwrap();
    store
        .add_note(NewNote {
            account_id: "B-2".to_string(),
            text: "budget freeze until Q4".to_string(),
            until: date("2024-09-30"),
            expectation: Expectation::Drop,
            created_at: at("2024-07-01T12:00:00Z"),
        })
        .unwrap();
    for (version, auc) in [("v1", 0.712_345_678_901_234_6), ("v2", 0.78)] {
        store
            .register_model(NewModel {
                version: version.to_string(),
                kind: ModelKind::Churn,
                artifact_json: format!(r#"{{"version": "{version}"}}"#),
                trained_at: at("2024-07-01T00:00:00Z"),
                metrics: json!({ "roc_auc": auc }),
            })
            .unwrap();
    }
    let request = DecisionRequest {
        reason: "beats the rules".to_string(),
        at: at("2024-07-02T00:00:00Z"),
        metrics: None,
        champion_metrics: None,
    };
    store
        .promote(ModelKind::Churn, "v1", request.clone())
        .unwrap();
    store.promote(ModelKind::Churn, "v2", request).unwrap();
    store
}

fn export_to(store: &Store, file: &Path) -> Vec<u8> {
    let out = fs::File::create(file).unwrap();
    store.export_jsonl(out, file).unwrap();
    fs::read(file).unwrap()
}

#[test]
fn export_import_export_gives_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(&dir.path().join("a"));
    let first = export_to(&store, &dir.path().join("first.jsonl"));

    let copy = Store::create(dir.path().join("b")).unwrap();
    let summary = copy
        .import_jsonl(&dir.path().join("first.jsonl"), ImportMode::IntoEmpty)
        .unwrap();
    let second = export_to(&copy, &dir.path().join("second.jsonl"));

    assert_eq!(
        String::from_utf8(second).unwrap(),
        String::from_utf8(first).unwrap()
    );
    // 2 snapshots + 3 rows + 2 outcomes + 1 intervention + 1 note + 2 models
    // + 1 champion + 2 decisions = 14 records.
    assert_eq!(summary.added(), 14);
    assert_eq!(
        copy.champion(ModelKind::Churn).unwrap().unwrap().version,
        "v2"
    );
}

#[test]
fn export_starts_with_header_and_ends_with_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(&dir.path().join("a"));
    let text = String::from_utf8(export_to(&store, &dir.path().join("b.jsonl"))).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    assert_eq!(lines[0], r#"{"type":"header","format":1}"#);
    assert_eq!(lines[lines.len() - 1], r#"{"type":"end","records":14}"#);
    assert!(
        lines[2].contains(r#""p_churn":"0.30000000000000004""#),
        "{}",
        lines[2]
    );
}

#[test]
fn imported_store_continues_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(&dir.path().join("a"));
    export_to(&store, &dir.path().join("b.jsonl"));
    let copy = Store::create(dir.path().join("b")).unwrap();
    copy.import_jsonl(&dir.path().join("b.jsonl"), ImportMode::IntoEmpty)
        .unwrap();

    let next = copy
        .write_snapshot(new_snapshot("2024-08-31"), vec![row("A-1", 0.4)])
        .unwrap();

    assert_eq!(next.id.0, 3);
}

#[test]
fn import_into_non_empty_store_needs_merge() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(&dir.path().join("a"));
    let backup = dir.path().join("b.jsonl");
    export_to(&store, &backup);

    let err = store
        .import_jsonl(&backup, ImportMode::IntoEmpty)
        .unwrap_err();

    // 2 snapshots + 3 rows + 2 outcomes + 1 intervention + 1 note + 2 models
    // + 1 champion + 2 decisions = 14, the count the export reports.
    assert!(
        matches!(err, StoreError::ImportIntoNonEmpty { records: 14, .. }),
        "{err}"
    );
}

#[test]
fn merge_of_same_backup_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(&dir.path().join("a"));
    let backup = dir.path().join("b.jsonl");
    let before = export_to(&store, &backup);

    let summary = store.import_jsonl(&backup, ImportMode::Merge).unwrap();

    assert_eq!(summary.added(), 0);
    assert_eq!(summary.already_present(), 14);
    assert_eq!(export_to(&store, &dir.path().join("after.jsonl")), before);
}

#[test]
fn merge_adds_only_new_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(&dir.path().join("a"));
    let backup = dir.path().join("b.jsonl");
    export_to(&store, &backup);
    let other = Store::create(dir.path().join("b")).unwrap();
    other.import_jsonl(&backup, ImportMode::IntoEmpty).unwrap();
    store
        .append_outcomes(&[outcome("C-3", "2024-09-30", Outcome::Renewed, 4)])
        .unwrap();
    let newer = dir.path().join("newer.jsonl");
    export_to(&store, &newer);

    let summary = other.import_jsonl(&newer, ImportMode::Merge).unwrap();

    assert_eq!(summary.outcomes.added, 1);
    assert_eq!(summary.outcomes.already_present, 2);
    assert_eq!(other.outcomes().unwrap().len(), 3);
}

#[test]
fn truncated_backup_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(&dir.path().join("a"));
    let backup = dir.path().join("b.jsonl");
    let text = String::from_utf8(export_to(&store, &backup)).unwrap();
    let cut: Vec<&str> = text.lines().take(9).collect();
    fs::write(&backup, cut.join("\n") + "\n").unwrap();
    let copy = Store::create(dir.path().join("b")).unwrap();

    let err = copy
        .import_jsonl(&backup, ImportMode::IntoEmpty)
        .unwrap_err();

    assert!(
        matches!(&err, StoreError::Backup { line: 9, message, .. } if message.contains("truncated")),
        "{err}"
    );
    assert!(copy.is_empty().unwrap());
}

#[test]
fn backup_with_unknown_outcome_word_names_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(&dir.path().join("a"));
    let backup = dir.path().join("b.jsonl");
    let text = String::from_utf8(export_to(&store, &backup)).unwrap();
    fs::write(
        &backup,
        text.replacen(r#""outcome":"churned""#, r#""outcome":"cancelled""#, 1),
    )
    .unwrap();
    let copy = Store::create(dir.path().join("b")).unwrap();

    let err = copy
        .import_jsonl(&backup, ImportMode::IntoEmpty)
        .unwrap_err();

    // Lines: header, snapshot 1, 2 rows, snapshot 2, 1 row, then the outcomes
    // in date order: B-2 on 08-15 (line 7), A-1 churned on 08-31 (line 8).
    assert!(matches!(&err, StoreError::Backup { line: 8, .. }), "{err}");
    assert!(
        err.to_string().contains("unknown variant `cancelled`"),
        "{err}"
    );
    assert!(copy.is_empty().unwrap());
}

#[test]
fn backup_with_invalid_amount_names_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(&dir.path().join("a"));
    let backup = dir.path().join("b.jsonl");
    let text = String::from_utf8(export_to(&store, &backup)).unwrap();
    fs::write(
        &backup,
        text.replacen(r#""arr_after":"30000""#, r#""arr_after":"-1""#, 1),
    )
    .unwrap();
    let copy = Store::create(dir.path().join("b")).unwrap();

    let err = copy
        .import_jsonl(&backup, ImportMode::IntoEmpty)
        .unwrap_err();

    assert_eq!(
        err.to_string(),
        format!(
            "invalid backup {} line 7: invalid outcome (outcomes.csv:3, account B-2): arr_after is not a non-negative amount, found \"-1\"\nhint: ARR is a non-negative amount in the contract's currency; nothing was imported",
            backup.display()
        )
    );
    assert!(copy.is_empty().unwrap());
}

#[test]
fn newer_backup_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("b.jsonl");
    fs::write(
        &backup,
        "{\"type\":\"header\",\"format\":2}\n{\"type\":\"end\",\"records\":0}\n",
    )
    .unwrap();
    let store = Store::create(dir.path().join("a")).unwrap();

    let err = store
        .import_jsonl(&backup, ImportMode::IntoEmpty)
        .unwrap_err();

    assert!(
        err.to_string()
            .contains("backup format 2, this headroom reads up to 1"),
        "{err}"
    );
    assert!(err.to_string().contains("hint: upgrade headroom"), "{err}");
}

#[test]
fn merge_with_conflicting_outcome_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(&dir.path().join("a"));
    let backup = dir.path().join("b.jsonl");
    let text = String::from_utf8(export_to(&store, &backup)).unwrap();
    let edited = text
        .replacen(r#""arr_after":"30000""#, r#""arr_after":"31000""#, 1)
        .replacen(r#""type":"end","records":14"#, r#""type":"end","records":15"#, 1)
        .replacen(
            "{\"type\":\"end\"",
            "{\"type\":\"intervention\",\"account_id\":\"Z-9\",\"date\":\"2024-07-01\",\"kind\":\"training\",\"note\":null,\"source\":\"manual\",\"recorded_at\":\"2024-07-01T00:00:00Z\"}\n{\"type\":\"end\"",
            1,
        );
    fs::write(&backup, edited).unwrap();

    let err = store.import_jsonl(&backup, ImportMode::Merge).unwrap_err();

    assert!(
        err.to_string()
            .contains("line 7: the outcome B-2 2024-08-15 expanded is stored with other facts"),
        "{err}"
    );
    assert!(store.interventions_for_account("Z-9").unwrap().is_empty());
}
