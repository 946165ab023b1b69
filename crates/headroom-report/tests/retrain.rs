//! Recording champion-challenger decisions in a real store.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use headroom_report::retrain::{RetrainSettings, Verdict, WindowMetrics, record};
use headroom_store::{DecisionAction, DecisionRequest, ModelKind, ModelStatus, NewModel, Store};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, day, 9, 0, 0).unwrap()
}

fn model(version: &str, day: u32) -> NewModel {
    NewModel {
        version: version.to_string(),
        kind: ModelKind::Churn,
        artifact_json: format!("{{\"version\": \"{version}\"}}"),
        trained_at: at(day),
        metrics: serde_json::json!({ "trained": day }),
    }
}

fn window(version: &str, log_loss: f64, roc_auc: f64) -> WindowMetrics {
    WindowMetrics {
        version: version.to_string(),
        first: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
        last: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        rows: 1200,
        positives: 90,
        roc_auc: Some(roc_auc),
        log_loss: Some(log_loss),
        brier: Some(0.06),
        trained_on_window: false,
    }
}

fn status(store: &Store, version: &str) -> ModelStatus {
    store
        .model(ModelKind::Churn, version)
        .unwrap()
        .unwrap()
        .status
}

fn champion(store: &Store) -> String {
    store.champion(ModelKind::Churn).unwrap().unwrap().version
}

#[test]
fn better_challenger_is_promoted_with_both_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("store")).unwrap();
    let settings = RetrainSettings::default();
    record(
        &store,
        model("v1", 1),
        &window("v1", 0.24, 0.76),
        None,
        &settings,
        at(1),
    )
    .unwrap();

    let recorded = record(
        &store,
        model("v2", 2),
        &window("v2", 0.21, 0.79),
        Some(&window("v1", 0.23, 0.77)),
        &settings,
        at(2),
    )
    .unwrap();

    assert!(matches!(recorded.verdict, Verdict::Promote(_)));
    assert_eq!(champion(&store), "v2");
    assert_eq!(status(&store, "v1"), ModelStatus::Retired);
    let decision = &recorded.decision;
    assert_eq!(decision.action, DecisionAction::Promoted);
    assert_eq!(decision.champion_before.as_deref(), Some("v1"));
    let metrics: serde_json::Value = serde_json::from_str(&decision.metrics_json).unwrap();
    let champion_metrics: serde_json::Value =
        serde_json::from_str(decision.champion_metrics_json.as_deref().unwrap()).unwrap();
    assert_eq!(metrics["version"], "v2");
    assert_eq!(metrics["log_loss"], 0.21);
    assert_eq!(champion_metrics["version"], "v1");
    assert_eq!(champion_metrics["log_loss"], 0.23);
    assert_eq!(champion_metrics["roc_auc"], 0.77);
}

#[test]
fn worse_challenger_is_rejected_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("store")).unwrap();
    let settings = RetrainSettings::default();
    record(
        &store,
        model("v1", 1),
        &window("v1", 0.24, 0.76),
        None,
        &settings,
        at(1),
    )
    .unwrap();

    let recorded = record(
        &store,
        model("v2", 2),
        &window("v2", 0.25, 0.80),
        Some(&window("v1", 0.23, 0.77)),
        &settings,
        at(2),
    )
    .unwrap();

    assert!(matches!(recorded.verdict, Verdict::Reject(_)));
    assert_eq!(champion(&store), "v1");
    assert_eq!(status(&store, "v2"), ModelStatus::Rejected);
    let decisions = store.decisions(Some(ModelKind::Churn)).unwrap();
    assert_eq!(decisions.len(), 2);
    assert_eq!(decisions[1].action, DecisionAction::Rejected);
    assert_eq!(decisions[1].version, "v2");
    assert!(
        decisions[1]
            .reason
            .contains("log loss 0.2500 against 0.2300"),
        "{}",
        decisions[1].reason
    );
    assert!(decisions[1].champion_metrics_json.is_some());
}

#[test]
fn rollback_returns_replaced_champion() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("store")).unwrap();
    let settings = RetrainSettings::default();
    record(
        &store,
        model("v1", 1),
        &window("v1", 0.24, 0.76),
        None,
        &settings,
        at(1),
    )
    .unwrap();
    record(
        &store,
        model("v2", 2),
        &window("v2", 0.21, 0.79),
        Some(&window("v1", 0.23, 0.77)),
        &settings,
        at(2),
    )
    .unwrap();

    let decision = store
        .rollback(
            ModelKind::Churn,
            DecisionRequest {
                reason: "the review of 2026-08 asks to".to_string(),
                at: at(3),
                metrics: None,
                champion_metrics: None,
            },
        )
        .unwrap();

    assert_eq!(decision.action, DecisionAction::RolledBack);
    assert_eq!(champion(&store), "v1");
    assert_eq!(status(&store, "v2"), ModelStatus::RolledBack);
}
