//! Retraining on a simulated portfolio: a challenger trained on shuffled
//! labels is rejected, and one trained on more real history replaces a
//! champion trained on a few months.

use std::path::Path;

use chrono::{TimeZone, Utc};
use headroom_data::{Mapping, Tables, import};
use headroom_features::FeatureOptions;
use headroom_model::training::{TrainingSet, build_training_set, train_model};
use headroom_model::{ModelConfig, ModelKind, ThresholdSetting};
use headroom_report::retrain::{
    RetrainResult, RetrainSettings, Verdict, already_trained, compare_and_record, retrain_kind,
};
use headroom_sim::{OutputOptions, SimConfig};
use headroom_store::{ModelStatus, Store};
use polars::prelude::*;

/// 400 accounts over 36 months from 2023-11, imported into `dir/project`.
fn simulated_tables(dir: &Path) -> Tables {
    let config = SimConfig {
        accounts: 400,
        seed: 11,
        calibration_accounts: 400,
        ..SimConfig::default()
    };
    let sim = dir.join("sim");
    headroom_sim::generate(&config, &OutputOptions::new(&sim), &mut |_, _| {}).unwrap();
    let project = dir.join("project");
    import(&sim, &Mapping::contract(), &project).unwrap();
    Tables::read_project(&project).unwrap()
}

/// Returns settings with one penalty and a fixed threshold, so no selection
/// folds run and the models differ only by their training rows.
fn config() -> ModelConfig {
    ModelConfig {
        penalties: vec![0.03],
        threshold: ThresholdSetting::Fixed(0.2),
        holdout_months: 6,
        ..ModelConfig::default()
    }
}

fn set(tables: &Tables, config: &ModelConfig) -> TrainingSet {
    build_training_set(tables, &FeatureOptions::default(), config).unwrap()
}

/// Gives each outcome the account of another row (a rotation of the account
/// column by a third of the table), so labels no longer follow the features.
fn shuffled_outcomes(outcomes: &DataFrame) -> DataFrame {
    let accounts = outcomes
        .column("account_id")
        .unwrap()
        .as_materialized_series();
    let shift = (outcomes.height() / 3) as i64;
    let rotated = accounts
        .slice(shift, outcomes.height())
        .append(&accounts.slice(0, shift as usize))
        .unwrap()
        .clone();
    let mut shuffled = outcomes.clone();
    shuffled.with_column(rotated.into_column()).unwrap();
    shuffled
}

/// Returns the tables as an export taken on `cut` would have them: usage,
/// outcomes and interventions dated on or before it, and the contracts
/// started by then with their entitlements.
fn tables_until(tables: &Tables, cut: &str) -> Tables {
    let cut: chrono::NaiveDate = cut.parse().unwrap();
    let until = |df: &DataFrame, column: &str| {
        df.clone()
            .lazy()
            .filter(col(column).lt_eq(lit(cut)))
            .collect()
            .unwrap()
    };
    let mut early = tables.clone();
    early.usage = until(tables.usage.frame().unwrap(), "date").into();
    early.outcomes = until(&tables.outcomes, "date");
    early.interventions = until(&tables.interventions, "date");
    early.contracts = until(&tables.contracts, "start_date");
    let kept = early
        .contracts
        .column("contract_id")
        .unwrap()
        .as_materialized_series()
        .clone();
    early.entitlements = tables
        .entitlements
        .clone()
        .lazy()
        .filter(col("contract_id").is_in(lit(kept).implode(false), false))
        .collect()
        .unwrap();
    early
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 5, 8, 0, 0).unwrap()
}

#[test]
fn shuffled_labels_challenger_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let tables = simulated_tables(dir.path());
    let config = config();
    let real = set(&tables, &config);
    let store = Store::create(dir.path().join("store")).unwrap();
    let models = dir.path().join("models");
    let settings = RetrainSettings::default();

    let first = retrain_kind(&real, ModelKind::Churn, &store, &models, &settings, now()).unwrap();
    assert!(matches!(
        first.result,
        RetrainResult::Decided(ref recorded) if matches!(recorded.verdict, Verdict::Promote(_))
    ));

    // The same feature panel, labelled by outcomes moved to other accounts.
    let history_end = real.summary().history_end;
    let shuffled = TrainingSet::from_panel(
        real.panel(),
        &shuffled_outcomes(&tables.outcomes),
        history_end,
        &config,
    )
    .unwrap();
    let trained = train_model(&shuffled, ModelKind::Churn).unwrap();
    let outcome = compare_and_record(&trained, &real, &store, &models, &settings, now()).unwrap();

    let RetrainResult::Decided(recorded) = &outcome.result else {
        panic!("expected a decision, got {:?}", outcome.result);
    };
    assert!(
        matches!(recorded.verdict, Verdict::Reject(_)),
        "{:?}",
        recorded.verdict
    );
    let challenger = outcome.challenger.log_loss.unwrap();
    let champion = outcome.champion.as_ref().unwrap().log_loss.unwrap();
    assert!(
        challenger > champion,
        "challenger {challenger}, champion {champion}"
    );
    let kind = headroom_store::ModelKind::Churn;
    assert_eq!(
        store.champion(kind).unwrap().unwrap().version,
        first.version
    );
    assert_eq!(
        store.model(kind, &outcome.version).unwrap().unwrap().status,
        ModelStatus::Rejected
    );
}

#[test]
fn more_history_challenger_is_promoted() {
    let dir = tempfile::tempdir().unwrap();
    let tables = simulated_tables(dir.path());
    let store = Store::create(dir.path().join("store")).unwrap();
    let models = dir.path().join("models");
    let settings = RetrainSettings::default();

    // The champion was trained when the history ended on 2025-01-31, so it
    // learned from the month-ends up to 2024-08 only and never saw the
    // comparison months.
    let early = tables_until(&tables, "2025-01-31");
    let short = ModelConfig {
        holdout_months: 0,
        ..config()
    };
    let full = set(&tables, &config());
    let trained = train_model(&set(&early, &short), ModelKind::Churn).unwrap();
    let first = compare_and_record(&trained, &full, &store, &models, &settings, now()).unwrap();
    assert!(matches!(first.result, RetrainResult::Decided(_)));
    assert!(!first.challenger.trained_on_window);

    let outcome = retrain_kind(&full, ModelKind::Churn, &store, &models, &settings, now()).unwrap();

    let RetrainResult::Decided(recorded) = &outcome.result else {
        panic!("expected a decision, got {:?}", outcome.result);
    };
    assert!(
        matches!(recorded.verdict, Verdict::Promote(_)),
        "{:?}",
        recorded.verdict
    );
    let kind = headroom_store::ModelKind::Churn;
    assert_eq!(
        store.champion(kind).unwrap().unwrap().version,
        outcome.version
    );
    assert_eq!(
        store.model(kind, &first.version).unwrap().unwrap().status,
        ModelStatus::Retired
    );
    let champion_metrics: serde_json::Value =
        serde_json::from_str(recorded.decision.champion_metrics_json.as_deref().unwrap()).unwrap();
    assert_eq!(champion_metrics["version"], first.version.as_str());
}

#[test]
fn unchanged_data_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tables = simulated_tables(dir.path());
    let real = set(&tables, &config());
    let store = Store::create(dir.path().join("store")).unwrap();
    let models = dir.path().join("models");
    let settings = RetrainSettings::default();

    let first = retrain_kind(&real, ModelKind::Churn, &store, &models, &settings, now()).unwrap();
    let second = retrain_kind(&real, ModelKind::Churn, &store, &models, &settings, now()).unwrap();

    assert_eq!(first.version, second.version);
    assert_eq!(
        second.result,
        RetrainResult::AlreadyRegistered {
            status: ModelStatus::Champion
        }
    );
    assert_eq!(store.decisions(None).unwrap().len(), 1);
}

#[test]
fn already_trained_finds_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    let tables = simulated_tables(dir.path());
    let real = set(&tables, &config());
    let store = Store::create(dir.path().join("store")).unwrap();
    let models = dir.path().join("models");
    let settings = RetrainSettings::default();

    let before = already_trained(&real, ModelKind::Churn, &store).unwrap();
    let first = retrain_kind(&real, ModelKind::Churn, &store, &models, &settings, now()).unwrap();
    let found = already_trained(&real, ModelKind::Churn, &store)
        .unwrap()
        .expect("the champion has the set's data and settings");
    let early = tables_until(&tables, "2025-01-31");
    let short = ModelConfig {
        holdout_months: 0,
        ..config()
    };
    let other = already_trained(&set(&early, &short), ModelKind::Churn, &store).unwrap();

    assert_eq!(before, None);
    assert_eq!(found.version, first.version);
    assert_eq!(found.status, ModelStatus::Champion);
    assert_eq!(other, None);
}
