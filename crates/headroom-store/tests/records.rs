//! Snapshots, the outcome ledger, interventions, notes and the model registry,
//! on real stores in temporary folders.

mod common;

use common::*;
use headroom_store::{
    DecisionAction, DecisionRequest, Expectation, ModelKind, ModelStatus, NewModel, NewNote,
    NoteId, Outcome, SnapshotId, Store, StoreError,
};
use serde_json::json;

fn new_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("store")).unwrap();
    (dir, store)
}

#[test]
fn snapshot_rows_come_back_in_account_order() {
    let (_dir, store) = new_store();
    let rows = vec![row("B-2", 0.7), row("A-1", 0.1), row("C-3", 0.4)];

    let header = store
        .write_snapshot(new_snapshot("2024-06-30"), rows)
        .unwrap();

    assert_eq!(header.id, SnapshotId(1));
    assert_eq!(header.rows, 3);
    let stored: Vec<String> = store
        .snapshot_rows(header.id)
        .unwrap()
        .map(|row| row.unwrap().account_id)
        .collect();
    assert_eq!(stored, ["A-1", "B-2", "C-3"]);
}

#[test]
fn snapshot_row_is_returned_exactly() {
    let (_dir, store) = new_store();
    let header = store
        .write_snapshot(
            new_snapshot("2024-06-30"),
            vec![row("A-1", 0.123_456_789_012_345_68)],
        )
        .unwrap();

    let stored = store.snapshot_row(header.id, "A-1").unwrap().unwrap();

    assert_eq!(stored, row("A-1", 0.123_456_789_012_345_68));
    assert_eq!(store.snapshot_row(header.id, "Z-9").unwrap(), None);
}

#[test]
fn snapshot_with_invalid_row_stores_nothing() {
    let (_dir, store) = new_store();
    let mut bad = row("B-2", 0.5);
    bad.p_churn = Some(1.5);

    let err = store
        .write_snapshot(new_snapshot("2024-06-30"), vec![row("A-1", 0.2), bad])
        .unwrap_err();

    assert_eq!(
        err.to_string(),
        "invalid snapshot row record 2 (account B-2): p_churn is not a probability between 0 and 1, found \"1.5\"\nhint: store the model's probability, not a percentage or a score; nothing of this batch was stored"
    );
    assert!(store.snapshots().unwrap().is_empty());
    assert_eq!(store.counts().unwrap().snapshot_rows, 0);
}

#[test]
fn snapshot_rejects_repeated_account() {
    let (_dir, store) = new_store();

    let err = store
        .write_snapshot(
            new_snapshot("2024-06-30"),
            vec![row("A-1", 0.2), row("A-1", 0.3)],
        )
        .unwrap_err();

    assert!(matches!(
        err,
        StoreError::InvalidRecord {
            index: 2,
            field: "account_id",
            ..
        }
    ));
    assert_eq!(store.counts().unwrap().snapshot_rows, 0);
}

#[test]
fn latest_snapshot_before_respects_lead_days() {
    let (_dir, store) = new_store();
    let may = store
        .write_snapshot(new_snapshot("2024-05-31"), vec![row("A-1", 0.2)])
        .unwrap();
    let june = store
        .write_snapshot(new_snapshot("2024-06-30"), vec![row("A-1", 0.3)])
        .unwrap();
    let july = store
        .write_snapshot(new_snapshot("2024-07-31"), vec![row("A-1", 0.4)])
        .unwrap();

    // An outcome on 2024-08-15 with a 30-day lead: the cutoff is 2024-07-16,
    // so the July run (07-31) is too late and June's is the latest before it.
    let found = store
        .latest_snapshot_before(date("2024-08-15"), 30)
        .unwrap()
        .unwrap();
    assert_eq!(found.id, june.id);

    // With no lead the July run counts.
    let found = store
        .latest_snapshot_before(date("2024-08-15"), 0)
        .unwrap()
        .unwrap();
    assert_eq!(found.id, july.id);

    // A cutoff of exactly 2024-05-31 still includes May's run.
    let found = store
        .latest_snapshot_before(date("2024-06-30"), 30)
        .unwrap()
        .unwrap();
    assert_eq!(found.id, may.id);

    assert_eq!(
        store
            .latest_snapshot_before(date("2024-06-29"), 30)
            .unwrap(),
        None
    );
}

#[test]
fn snapshots_list_by_as_of_date() {
    let (_dir, store) = new_store();
    store
        .write_snapshot(new_snapshot("2024-07-31"), vec![row("A-1", 0.2)])
        .unwrap();
    store
        .write_snapshot(new_snapshot("2024-05-31"), vec![row("A-1", 0.2)])
        .unwrap();

    let dates: Vec<String> = store
        .snapshots()
        .unwrap()
        .iter()
        .map(|header| format!("{} {}", header.id, header.as_of))
        .collect();

    assert_eq!(dates, ["2 2024-05-31", "1 2024-07-31"]);
}

#[test]
fn removed_snapshot_is_gone_with_its_rows() {
    let (_dir, store) = new_store();
    let header = store
        .write_snapshot(new_snapshot("2024-06-30"), vec![row("A-1", 0.2)])
        .unwrap();

    store.remove_snapshot(header.id).unwrap();

    assert_eq!(store.snapshot(header.id).unwrap(), None);
    assert_eq!(store.counts().unwrap().snapshot_rows, 0);
    assert!(matches!(
        store.snapshot_rows(header.id),
        Err(StoreError::SnapshotNotFound { id: 1, .. })
    ));
}

#[test]
fn outcomes_added_twice_are_stored_once() {
    let (_dir, store) = new_store();
    let batch = vec![
        outcome("A-1", "2024-07-31", Outcome::Churned, 2),
        outcome("B-2", "2024-07-15", Outcome::Renewed, 3),
        outcome("C-3", "2024-08-01", Outcome::Expanded, 4),
    ];

    let first = store.append_outcomes(&batch).unwrap();
    let second = store.append_outcomes(&batch).unwrap();

    assert_eq!((first.added, first.already_present), (3, 0));
    assert_eq!((second.added, second.already_present), (0, 3));
    assert!(second.conflicts.is_empty());
    assert_eq!(store.outcomes().unwrap().len(), 3);
}

#[test]
fn outcome_batch_with_invalid_record_stores_nothing() {
    let (_dir, store) = new_store();
    let mut bad = outcome("B-2", "2024-07-15", Outcome::Contracted, 3);
    bad.arr_after = Some(-500.0);
    let batch = vec![outcome("A-1", "2024-07-31", Outcome::Churned, 2), bad];

    let err = store.append_outcomes(&batch).unwrap_err();

    assert_eq!(
        err.to_string(),
        "invalid outcome record 2 (outcomes.csv:3, account B-2): arr_after is not a non-negative amount, found \"-500\"\nhint: ARR is a non-negative amount in the contract's currency; nothing of this batch was stored"
    );
    assert!(store.outcomes().unwrap().is_empty());
}

#[test]
fn outcome_with_unknown_word_is_rejected_before_storing() {
    let err = "cancelled".parse::<Outcome>().unwrap_err();
    assert!(matches!(
        err,
        StoreError::InvalidWord {
            field: "outcome",
            ..
        }
    ));
}

#[test]
fn outcome_with_other_facts_is_a_conflict() {
    let (_dir, store) = new_store();
    store
        .append_outcomes(&[outcome("A-1", "2024-07-31", Outcome::Expanded, 2)])
        .unwrap();
    let mut corrected = outcome("A-1", "2024-07-31", Outcome::Expanded, 2);
    corrected.arr_after = Some(31_000.0);

    let receipt = store.append_outcomes(&[corrected.clone()]).unwrap();

    assert_eq!((receipt.added, receipt.already_present), (0, 0));
    assert_eq!(receipt.conflicts.len(), 1);
    assert_eq!(receipt.conflicts[0].index, 1);
    assert_eq!(receipt.conflicts[0].stored.arr_after, Some(30_000.0));
    assert_eq!(store.outcomes().unwrap()[0].arr_after, Some(30_000.0));
}

#[test]
fn outcome_repeated_within_batch_counts_once() {
    let (_dir, store) = new_store();
    let record = outcome("A-1", "2024-07-31", Outcome::Churned, 2);
    let mut again = record.clone();
    again.source = headroom_store::Source::File {
        path: "outcomes.csv".into(),
        line: 9,
    };

    let receipt = store.append_outcomes(&[record, again]).unwrap();

    assert_eq!((receipt.added, receipt.already_present), (1, 1));
}

#[test]
fn outcomes_by_month_and_account() {
    let (_dir, store) = new_store();
    store
        .append_outcomes(&[
            outcome("A-1", "2024-07-31", Outcome::Churned, 2),
            outcome("B-2", "2024-07-01", Outcome::Renewed, 3),
            outcome("A-1", "2023-07-31", Outcome::Renewed, 4),
            outcome("C-3", "2024-08-01", Outcome::Expanded, 5),
            outcome("B-2", "2024-06-30", Outcome::Contracted, 6),
        ])
        .unwrap();

    let july: Vec<(String, String)> = store
        .outcomes_in_month(2024, 7)
        .unwrap()
        .into_iter()
        .map(|record| (record.account_id, record.date.to_string()))
        .collect();
    assert_eq!(
        july,
        [
            ("B-2".to_string(), "2024-07-01".to_string()),
            ("A-1".to_string(), "2024-07-31".to_string())
        ]
    );

    let account: Vec<Outcome> = store
        .outcomes_for_account("A-1")
        .unwrap()
        .into_iter()
        .map(|record| record.outcome)
        .collect();
    assert_eq!(account, [Outcome::Renewed, Outcome::Churned]);
}

#[test]
fn interventions_added_twice_are_stored_once() {
    let (_dir, store) = new_store();
    let batch = vec![
        intervention("A-1", "2024-06-10", "training"),
        intervention("A-1", "2024-06-10", "exec call"),
    ];

    store.append_interventions(&batch).unwrap();
    let second = store.append_interventions(&batch).unwrap();

    assert_eq!((second.added, second.already_present), (0, 2));
    assert_eq!(store.interventions_for_account("A-1").unwrap().len(), 2);
    assert_eq!(
        store
            .interventions_between(date("2024-06-01"), date("2024-06-09"))
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn intervention_with_empty_kind_stores_nothing() {
    let (_dir, store) = new_store();
    let batch = vec![
        intervention("A-1", "2024-06-10", "training"),
        intervention("B-2", "2024-06-11", " "),
    ];

    let err = store.append_interventions(&batch).unwrap_err();

    assert!(matches!(
        err,
        StoreError::InvalidRecord {
            kind: "intervention",
            index: 2,
            field: "kind",
            ..
        }
    ));
    assert!(store.interventions().unwrap().is_empty());
}

#[test]
fn notes_active_at_date() {
    let (_dir, store) = new_store();
    let note = |account: &str, created: &str, until: &str| NewNote {
        account_id: account.to_string(),
        text: "summer pause, renewal expected".to_string(),
        until: date(until),
        expectation: Expectation::Drop,
        created_at: at(created),
    };
    let first = store
        .add_note(note("A-1", "2024-06-01T09:00:00Z", "2024-08-31"))
        .unwrap();
    store
        .add_note(note("B-2", "2024-06-01T09:00:00Z", "2024-06-30"))
        .unwrap();
    let third = store
        .add_note(note("A-1", "2024-07-20T09:00:00Z", "2024-12-31"))
        .unwrap();

    let active: Vec<NoteId> = store
        .notes_active_at(date("2024-07-15"))
        .unwrap()
        .iter()
        .map(|note| note.id)
        .collect();
    assert_eq!(active, [first.id]);

    let active: Vec<NoteId> = store
        .notes_active_at(date("2024-08-01"))
        .unwrap()
        .iter()
        .map(|note| note.id)
        .collect();
    assert_eq!(active, [first.id, third.id]);

    assert_eq!(store.notes_for_account("A-1").unwrap().len(), 2);
    assert_eq!(store.notes().unwrap().len(), 3);
}

#[test]
fn note_ending_before_it_starts_is_rejected() {
    let (_dir, store) = new_store();
    let err = store
        .add_note(NewNote {
            account_id: "A-1".to_string(),
            text: "churning".to_string(),
            until: date("2024-05-31"),
            expectation: Expectation::Churn,
            created_at: at("2024-06-01T09:00:00Z"),
        })
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::InvalidRecord { field: "until", .. }
    ));
}

fn model(version: &str, auc: f64) -> NewModel {
    NewModel {
        version: version.to_string(),
        kind: ModelKind::Churn,
        artifact_json: format!(r#"{{"version":"{version}","coefficients":[0.5,-1.25]}}"#),
        trained_at: at("2024-07-01T00:00:00Z"),
        metrics: json!({"roc_auc": auc}),
    }
}

fn because(reason: &str) -> DecisionRequest {
    DecisionRequest {
        reason: reason.to_string(),
        at: at("2024-07-02T00:00:00Z"),
        metrics: None,
        champion_metrics: None,
    }
}

#[test]
fn registering_a_model_twice_is_idempotent() {
    let (_dir, store) = new_store();
    store.register_model(model("v1", 0.71)).unwrap();
    store.register_model(model("v1", 0.71)).unwrap();

    let err = store.register_model(model("v1", 0.75)).unwrap_err();

    assert!(matches!(err, StoreError::ModelVersionTaken { .. }));
    assert_eq!(store.models(None).unwrap().len(), 1);
}

#[test]
fn promote_replaces_champion_and_logs_both_metrics() {
    let (_dir, store) = new_store();
    store.register_model(model("v1", 0.71)).unwrap();
    store.register_model(model("v2", 0.78)).unwrap();
    store
        .promote(ModelKind::Churn, "v1", because("first model"))
        .unwrap();

    let decision = store
        .promote(
            ModelKind::Churn,
            "v2",
            because("AUC 0.78 beats 0.71 on May-June"),
        )
        .unwrap();

    assert_eq!(decision.seq, 2);
    assert_eq!(decision.action, DecisionAction::Promoted);
    assert_eq!(decision.champion_before.as_deref(), Some("v1"));
    assert_eq!(decision.metrics_json, r#"{"roc_auc":0.78}"#);
    assert_eq!(
        decision.champion_metrics_json.as_deref(),
        Some(r#"{"roc_auc":0.71}"#)
    );
    assert_eq!(
        store.champion(ModelKind::Churn).unwrap().unwrap().version,
        "v2"
    );
    assert_eq!(
        store.model(ModelKind::Churn, "v1").unwrap().unwrap().status,
        ModelStatus::Retired
    );
    assert_eq!(store.champion(ModelKind::Expansion).unwrap(), None);
}

#[test]
fn rollback_restores_previous_champion() {
    let (_dir, store) = new_store();
    store.register_model(model("v1", 0.71)).unwrap();
    store.register_model(model("v2", 0.78)).unwrap();
    store
        .promote(ModelKind::Churn, "v1", because("first model"))
        .unwrap();
    store
        .promote(ModelKind::Churn, "v2", because("better"))
        .unwrap();

    let decision = store
        .rollback(ModelKind::Churn, because("v2 flags every account"))
        .unwrap();

    assert_eq!(decision.action, DecisionAction::RolledBack);
    assert_eq!(decision.version, "v1");
    assert_eq!(decision.champion_before.as_deref(), Some("v2"));
    assert_eq!(
        store.champion(ModelKind::Churn).unwrap().unwrap().version,
        "v1"
    );
    assert_eq!(
        store.model(ModelKind::Churn, "v2").unwrap().unwrap().status,
        ModelStatus::RolledBack
    );

    // v1's promotion replaced no champion, so there is nothing further back.
    let err = store
        .rollback(ModelKind::Churn, because("again"))
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::RegistryState {
            action: "roll back",
            ..
        }
    ));
}

#[test]
fn reject_keeps_champion_and_uses_given_metrics() {
    let (_dir, store) = new_store();
    store.register_model(model("v1", 0.71)).unwrap();
    store.register_model(model("v2", 0.69)).unwrap();
    store
        .promote(ModelKind::Churn, "v1", because("first model"))
        .unwrap();

    let decision = store
        .reject(
            ModelKind::Churn,
            "v2",
            DecisionRequest {
                metrics: Some(json!({"roc_auc": 0.66, "months": ["2024-05", "2024-06"]})),
                champion_metrics: Some(json!({"roc_auc": 0.7})),
                ..because("worse on the recent held-out months")
            },
        )
        .unwrap();

    assert_eq!(decision.champion_after.as_deref(), Some("v1"));
    assert_eq!(
        decision.metrics_json,
        r#"{"months":["2024-05","2024-06"],"roc_auc":0.66}"#
    );
    assert_eq!(
        decision.champion_metrics_json.as_deref(),
        Some(r#"{"roc_auc":0.7}"#)
    );
    assert_eq!(
        store.model(ModelKind::Churn, "v2").unwrap().unwrap().status,
        ModelStatus::Rejected
    );
    assert_eq!(store.decisions(Some(ModelKind::Churn)).unwrap().len(), 2);
}

#[test]
fn promote_unknown_version_fails() {
    let (_dir, store) = new_store();
    let err = store
        .promote(ModelKind::Churn, "v9", because("x"))
        .unwrap_err();
    assert!(matches!(err, StoreError::ModelNotFound { .. }));
}

#[test]
fn model_with_invalid_artifact_is_rejected() {
    let (_dir, store) = new_store();
    let mut bad = model("v1", 0.7);
    bad.artifact_json = "{not json".to_string();

    let err = store.register_model(bad).unwrap_err();

    assert!(matches!(
        err,
        StoreError::InvalidRecord {
            field: "artifact_json",
            ..
        }
    ));
}

#[test]
fn records_survive_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let store = Store::create(&path).unwrap();
    store
        .write_snapshot(new_snapshot("2024-06-30"), vec![row("A-1", 0.2)])
        .unwrap();
    store
        .append_outcomes(&[outcome("A-1", "2024-07-31", Outcome::Churned, 2)])
        .unwrap();
    store.close().unwrap();

    let store = Store::open(&path).unwrap();

    assert_eq!(store.snapshots().unwrap().len(), 1);
    assert_eq!(store.outcomes().unwrap().len(), 1);
    // Ids continue after a reopen.
    let next = store
        .write_snapshot(new_snapshot("2024-07-31"), vec![row("A-1", 0.3)])
        .unwrap();
    assert_eq!(next.id, SnapshotId(2));
}
