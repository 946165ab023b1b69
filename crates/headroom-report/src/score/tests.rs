//! The whole scoring pipeline on small portfolios: persistence, thresholds
//! per customer segment, the expansion estimate, priorities, snapshot
//! projects, text built from each account's numbers, and scoring with a
//! trained model.

use headroom_model::{
    EvaluationInput, FeatureMatrix, KeyColumns, ModelArtifact, ParamGuard, ThresholdRule,
    TrainParams, evaluate, labels_from_frame,
};

use super::*;
use crate::models::Champions;
use crate::reasons::ReasonSource;
use crate::settings::{ScoreSettings, SegmentOverrides};
use crate::testkit::{Acct, date, month_end, score_tables, score_with, tables};

fn as_of() -> NaiveDate {
    date(2026, 10, 31)
}

fn seats_account(id: &str, limit: f64, users: &[f64]) -> Acct {
    Acct::new(id)
        .seats(limit)
        .monthly("active_users", 2026, 1, users)
}

fn find<'a>(run: &'a ScoreRun, id: &str) -> &'a AccountScore {
    run.accounts
        .iter()
        .find(|a| a.facts.account_id == id)
        .expect("the account is scored")
}

#[test]
fn at_risk_after_the_condition_holds_twice() {
    // A: 60 of 100 seats to July, then 30 in August, September, October.
    // August is watch (one low month), September and October at risk (two
    // low months each): the condition held 2 months, so A is at risk since
    // September. B has one low month fewer: at risk held once, still healthy.
    let a = seats_account(
        "A",
        100.0,
        &[60.0, 60.0, 60.0, 60.0, 60.0, 60.0, 60.0, 30.0, 30.0, 30.0],
    );
    let b = seats_account(
        "B",
        100.0,
        &[60.0, 60.0, 60.0, 60.0, 60.0, 60.0, 60.0, 60.0, 30.0, 30.0],
    );
    let run = score_tables(
        &tables(&[a, b], None),
        as_of(),
        &ScoreSettings::default(),
        &[],
    );

    let a = find(&run, "A");
    assert_eq!(a.segment, HealthSegment::AtRisk);
    assert_eq!(a.segment_since, Some(month_end(2026, 9)));
    assert!(a.flagged_churn);

    let b = find(&run, "B");
    assert_eq!(b.segment, HealthSegment::Healthy);
    assert_eq!(b.condition, Some(HealthSegment::AtRisk));
    assert_eq!(
        b.pending.map(|p| (p.segment, p.months)),
        Some((HealthSegment::AtRisk, 1))
    );
    assert!(!b.flagged_churn);
    assert!(
        b.reasons.last().unwrap().text.ends_with(
            "moving toward at-risk low usage: its condition has held 1 month of the 2 needed"
        ),
        "{}",
        b.reasons.last().unwrap().text
    );
}

#[test]
fn enterprise_override_moves_the_boundary() {
    // 35% of seats all year: at risk by default, watch for enterprise
    // accounts once at_risk_below is 0.30 there.
    let mut settings = ScoreSettings::default();
    settings.segments.customer.insert(
        "enterprise".to_string(),
        SegmentOverrides {
            at_risk_below: Some(0.30),
            ..SegmentOverrides::default()
        },
    );
    let smb = seats_account("S", 100.0, &[35.0; 10]);
    let enterprise = seats_account("E", 100.0, &[35.0; 10]).segment("enterprise");
    let run = score_tables(&tables(&[smb, enterprise], None), as_of(), &settings, &[]);
    assert_eq!(find(&run, "S").segment, HealthSegment::AtRisk);
    assert_eq!(find(&run, "E").segment, HealthSegment::Watch);
    assert_eq!(find(&run, "E").thresholds.at_risk_below, 0.30);
}

#[test]
fn expansion_estimate_through_the_pipeline() {
    // Seats 40, 42, 44, 46 of 50 in July to October: utilization 0.92 and a
    // slope of 0.04 a month. The renewal 2027-06-30 is 242 days away,
    // 242 / 30.4375 = 7.950719 months. Projected 0.92 + 0.04 x 7.950719 =
    // 1.238029; 0.238029 x 50 = 11.90 seats above the limit at 30,000 / 50
    // = 600 a seat: 7,140.86 ARR.
    let users = [40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 42.0, 44.0, 46.0];
    let run = score_tables(
        &tables(&[seats_account("A", 50.0, &users)], None),
        as_of(),
        &ScoreSettings::default(),
        &[],
    );
    let a = find(&run, "A");
    let expected = (0.92 + 0.04 * 242.0 / 30.4375 - 1.0) * 50.0 * 600.0;
    assert!(
        (a.priority.expansion_arr - expected).abs() < 1e-6,
        "{}",
        a.priority.expansion_arr
    );
    assert!((expected - 7_140.86).abs() < 0.01);
    // No expansion model: the value is the estimate itself. Priority is
    // urgency 1 (242 days out) x 0.5 x the value.
    assert_eq!(a.priority.expansion_value, a.priority.expansion_arr);
    assert!((a.priority.score - 0.5 * expected).abs() < 1e-6);
    assert!(
        a.talking_points
            .iter()
            .any(|t| t.contains("12 above the 50 purchased")),
        "{:?}",
        a.talking_points
    );
}

#[test]
fn rules_only_priority_ranks_by_arr_at_risk() {
    // Both at risk all year; the larger ARR ranks first. The healthy
    // account has nothing at risk and comes last.
    let small = seats_account("SMALL", 100.0, &[20.0; 10]).contract(date(2027, 6, 30), 10_000.0);
    let large = seats_account("LARGE", 100.0, &[20.0; 10]).contract(date(2027, 6, 30), 90_000.0);
    let fine = seats_account("FINE", 100.0, &[70.0; 10]).contract(date(2027, 6, 30), 500_000.0);
    let run = score_tables(
        &tables(&[small, large, fine], None),
        as_of(),
        &ScoreSettings::default(),
        &[],
    );
    let order: Vec<&str> = run
        .accounts
        .iter()
        .map(|a| a.facts.account_id.as_str())
        .collect();
    assert_eq!(order, ["LARGE", "SMALL", "FINE"]);
    assert_eq!(find(&run, "LARGE").priority.arr_at_risk, 90_000.0);
    assert_eq!(find(&run, "FINE").priority.score, 0.0);
    assert_eq!(find(&run, "LARGE").rank, 1);
}

#[test]
fn no_model_is_said_in_the_notices() {
    let run = score_tables(
        &tables(&[seats_account("A", 50.0, &[30.0; 10])], None),
        as_of(),
        &ScoreSettings::default(),
        &[],
    );
    assert!(run.churn_model.is_none());
    assert!(
        run.notices
            .iter()
            .any(|n| n.starts_with("no churn model in the store's registry"))
    );
    assert!(
        run.notices
            .iter()
            .any(|n| n.starts_with("no expansion model in the store's registry"))
    );
    assert_eq!(find(&run, "A").p_churn, None);
}

#[test]
fn young_and_unmeasured_accounts() {
    // Customer since September 2026: 2 months, under the 3 needed. The other
    // account has no limited entitlement.
    let young = Acct::new("Y").since(date(2026, 9, 1)).seats(50.0).monthly(
        "active_users",
        2026,
        9,
        &[5.0, 6.0],
    );
    let unlimited = Acct::new("U").monthly("active_users", 2026, 1, &[10.0; 10]);
    let run = score_tables(
        &tables(&[young, unlimited], None),
        as_of(),
        &ScoreSettings::default(),
        &[],
    );
    assert_eq!(find(&run, "Y").segment, HealthSegment::New);
    assert_eq!(find(&run, "U").segment, HealthSegment::Unmeasured);
    assert!(
        run.notices.iter().any(|n| n
            == "1 account without a usage reading against a limit is in the unmeasured segment")
    );
}

#[test]
fn snapshot_project_is_scored_by_the_rules() {
    // One export dated 2025-03-31: 17 of 15 seats, 31 of 80, and one
    // account without an active-user count.
    let over = Acct::new("OVER")
        .since(date(2023, 7, 21))
        .contract(date(2025, 4, 30), 9_500.0)
        .seats(15.0)
        .monthly("active_users", 2025, 3, &[17.0]);
    let low = Acct::new("LOW")
        .since(date(2021, 11, 2))
        .contract(date(2025, 9, 15), 48_500.0)
        .seats(80.0)
        .monthly("active_users", 2025, 3, &[31.0]);
    let unknown = Acct::new("UNKNOWN")
        .since(date(2018, 1, 10))
        .contract(date(2025, 12, 31), 310_000.0)
        .seats(600.0)
        .monthly("feature_adoption", 2025, 3, &[0.71]);
    let tables = tables(&[over, low, unknown], Some(date(2025, 3, 31)));
    let run = score_tables(&tables, date(2025, 3, 31), &ScoreSettings::default(), &[]);

    assert!(run.snapshot_only);
    assert!(run.notices[0].starts_with("this project is a single snapshot export (2025-03-31)"));
    assert!(run.notices[0].contains(
        "churn and expansion probabilities need months of usage history and recorded outcomes"
    ));
    assert_eq!(find(&run, "OVER").segment, HealthSegment::Expansion);
    assert_eq!(find(&run, "LOW").segment, HealthSegment::AtRisk);
    // A missing count is unknown, not zero use.
    assert_eq!(find(&run, "UNKNOWN").segment, HealthSegment::Unmeasured);
    assert_eq!(find(&run, "UNKNOWN").utilization, None);
    // (17 / 15 - 1) x 15 = 2 seats x 9,500 / 15 = 1,266.67.
    assert!((find(&run, "OVER").priority.expansion_arr - 9_500.0 * 2.0 / 15.0).abs() < 1e-6);
    assert_eq!(run.accounts[0].facts.account_id, "LOW");
}

#[test]
fn text_follows_the_numbers() {
    // Same numbers, other ids: the same actions and talking points. One
    // seat more: different text.
    let a = seats_account("A", 50.0, &[20.0; 10]);
    let b = seats_account("B", 50.0, &[20.0; 10]);
    let c = seats_account("C", 50.0, &[21.0; 10]);
    let run = score_tables(
        &tables(&[a, b, c], None),
        as_of(),
        &ScoreSettings::default(),
        &[],
    );
    let (a, b, c) = (find(&run, "A"), find(&run, "B"), find(&run, "C"));
    assert!(!a.talking_points.is_empty());
    assert_eq!(a.talking_points, b.talking_points);
    assert_eq!(a.actions, b.actions);
    assert_ne!(a.talking_points, c.talking_points);
    assert_ne!(a.actions, c.actions);
    // Three peers are too few to quote their median.
    assert_eq!(
        a.talking_points[0],
        "20 of 50 seats active (40%), the same as 20 six months ago."
    );
}

#[test]
fn snapshot_rows_carry_segments_reasons_and_alerts() {
    let mut users = [40.0; 10];
    users[9] = 22.0;
    let run = score_tables(
        &tables(&[seats_account("A", 50.0, &users)], None),
        as_of(),
        &ScoreSettings::default(),
        &[],
    );
    let row = find(&run, "A").snapshot_row();
    assert_eq!(row.account_id, "A");
    // 44% in October alone: watch has held one month, so still healthy.
    assert_eq!(row.health_segment, "healthy");
    assert_eq!(row.customer_segment.as_deref(), Some("smb"));
    assert_eq!(row.p_churn, None);
    assert_eq!(row.arr, 30_000.0);
    assert_eq!(row.reasons[0].feature, "rule.segment");
    assert_eq!(row.alerts[0].kind, "usage_drop");
    let header = run.new_snapshot();
    assert_eq!(header.as_of, as_of());
    assert_eq!(header.thresholds["at_risk_below"], 0.40);
    assert_eq!(header.churn_model, None);
}

/// A churn model trained on the monthly features of a small portfolio in
/// which low-usage accounts churn.
fn trained_churn_model(tables: &headroom_data::Tables) -> ModelArtifact {
    let panel =
        headroom_features::monthly_features(tables, date(2026, 3, 31), date(2026, 9, 30)).unwrap();
    // Low usage churns, but one row in five goes the other way, so that no
    // feature separates the classes.
    let low = panel
        .column("util_primary")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, u)| u.is_some_and(|u| u < 0.4) != (i % 5 == 0))
        .collect::<Vec<bool>>();
    let mut labelled = panel.clone();
    labelled
        .with_column(Column::new("churned".into(), low))
        .unwrap();
    let names = vec!["util_primary".to_string(), "pct_change_3m".to_string()];
    let keys = KeyColumns {
        account_id: "account_id",
        observed: "as_of",
        segment: Some("segment"),
    };
    let matrix = FeatureMatrix::from_frame(&labelled, &names, &keys).unwrap();
    let labels = labels_from_frame(&labelled, "churned").unwrap();
    let data =
        headroom_model::Dataset::new(headroom_model::ModelKind::Churn, matrix, labels).unwrap();
    let mut model = TrainParams::default()
        .l2_penalty(1e-2)
        .probe_separation(false)
        .threshold(ThresholdRule::Fixed(0.5))
        .check()
        .unwrap()
        .train(&data)
        .unwrap();

    // Held-out metrics on the training rows themselves, only so that the
    // artifact carries a calibration table and a verdict.
    let p = model.predict_proba(data.features()).unwrap();
    let utilization = data.features().column("util_primary").unwrap().to_owned();
    let input = EvaluationInput {
        kind: model.kind,
        labels: data.labels(),
        probabilities: p.view(),
        threshold: model.threshold(),
        utilization: utilization.view(),
        training_base_rate: data.base_rate(),
        keys: data.features().keys(),
    };
    model.metrics = Some(evaluate(&input).unwrap());
    model
}

fn model_portfolio() -> Vec<Acct> {
    (0..24)
        .map(|i| {
            let level = 8.0 + 4.0 * i as f64;
            let wobble: Vec<f64> = (0..10).map(|m| level + (m % 3) as f64).collect();
            seats_account(&format!("M{i:02}"), 100.0, &wobble)
        })
        .collect()
}

#[test]
fn churn_model_scores_flags_and_explains() {
    let tables = tables(&model_portfolio(), None);
    let model = trained_churn_model(&tables);
    let settings = ScoreSettings::default();
    let champions = Champions::from_artifacts(
        Some(("churn-test".to_string(), model)),
        None,
        &settings.priority,
    );
    let run = score_with(&tables, as_of(), &settings, &champions, &[]);

    let quality = run.churn_model.as_ref().expect("a churn model");
    assert_eq!(quality.version, "churn-test");
    assert!(quality.calibration.is_some());
    for a in &run.accounts {
        let p = a.p_churn.expect("every account has a churn probability");
        assert_eq!(a.flagged_churn, p >= 0.5);
        assert!((a.priority.arr_at_risk - p * a.facts.arr).abs() < 1e-6);
    }
    // The lowest-usage account is the likeliest to churn and is explained
    // by its utilization.
    let low = find(&run, "M00");
    let high = find(&run, "M23");
    assert!(low.p_churn.unwrap() > high.p_churn.unwrap());
    let churn_reasons: Vec<_> = low
        .reasons
        .iter()
        .filter(|r| r.source == ReasonSource::Churn)
        .collect();
    assert_eq!(churn_reasons[0].feature, "util_primary");
    assert!(
        churn_reasons[0].text.contains("of 100 seats in use"),
        "{}",
        churn_reasons[0].text
    );
    let row = low.snapshot_row();
    assert_eq!(row.reasons[0].feature, "churn.util_primary");
    assert_eq!(
        run.new_snapshot().churn_model.as_deref(),
        Some("churn-test")
    );
}

#[test]
fn weak_model_is_called_weak() {
    let tables = tables(&model_portfolio(), None);
    let mut model = trained_churn_model(&tables);
    let metrics = model.metrics.as_mut().unwrap();
    metrics.overall.model.roc_auc = Some(0.52);
    metrics.overall.rule.roc_auc = Some(0.55);
    let settings = ScoreSettings::default();
    let champions = Champions::from_artifacts(
        Some(("churn-weak".to_string(), model)),
        None,
        &settings.priority,
    );
    let run = score_with(&tables, as_of(), &settings, &champions, &[]);
    let quality = run.churn_model.as_ref().unwrap();
    assert!(quality.weak);
    assert!(
        run.notices.iter().any(|n| n.starts_with(
            "the churn model is weak: held-out ROC-AUC 0.52 (0.5 is chance), usage rule 0.55"
        )),
        "{:?}",
        run.notices
    );
}

#[test]
fn model_inputs_missing_from_the_table_are_named() {
    let tables = tables(&model_portfolio(), None);
    let mut model = trained_churn_model(&tables);
    model.preprocessing.features[1] = "util_api_calls".to_string();
    for column in &mut model.preprocessing.columns {
        if column.feature == "pct_change_3m" {
            column.feature = "util_api_calls".to_string();
        }
    }
    model.preprocessing.imputation[1].feature = "util_api_calls".to_string();
    let settings = ScoreSettings::default();
    let champions = Champions::from_artifacts(
        Some(("churn-x".to_string(), model)),
        None,
        &settings.priority,
    );
    let run = score_with(&tables, as_of(), &settings, &champions, &[]);
    assert!(
        run.notices
            .iter()
            .any(|n| n.contains("inputs util_api_calls are not in the feature table")),
        "{:?}",
        run.notices
    );
}

#[test]
fn snapshot_project_ignores_models() {
    let tables_with_history = tables(&model_portfolio(), None);
    let model = trained_churn_model(&tables_with_history);
    let snapshot = tables(
        &[Acct::new("S")
            .seats(10.0)
            .monthly("active_users", 2025, 3, &[3.0])],
        Some(date(2025, 3, 31)),
    );
    let settings = ScoreSettings::default();
    let champions = Champions::from_artifacts(
        Some(("churn-test".to_string(), model)),
        None,
        &settings.priority,
    );
    let run = score_with(&snapshot, date(2025, 3, 31), &settings, &champions, &[]);
    assert!(run.churn_model.is_none());
    assert_eq!(run.accounts[0].p_churn, None);
}
