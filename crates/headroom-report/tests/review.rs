//! The monthly review on a small project whose snapshots, outcomes,
//! interventions and notes are known, with every number worked out by hand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use headroom_data::{Mapping, import};
use headroom_report::project::Project;
use headroom_report::review::render::{Format, render};
use headroom_report::review::{Action, Review, Unmatched, review_project};
use headroom_store::{
    Alert, Expectation, NewNote, NewSnapshot, Outcome, OutcomeRecord, Reason, SnapshotRow, Source,
};

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    date(text).and_hms_opt(6, 0, 0).unwrap().and_utc()
}

/// Accounts, their segment, and the seats they use of 10 every month.
const ACCOUNTS: &[(&str, &str, u32)] = &[
    ("A1", "smb", 2),
    ("A2", "smb", 5),
    ("A3", "smb", 3),
    ("A4", "smb", 6),
    ("A5", "enterprise", 9),
    ("A6", "enterprise", 7),
    ("A7", "enterprise", 8),
    ("A8", "enterprise", 8),
];

/// Writes the exports of eight accounts, each with a 10-seat contract for
/// 2025 and steady monthly use, and imports them into a project. The outcomes
/// table is empty: the review's outcomes arrive through the ledger.
fn import_project(dir: &Path) -> PathBuf {
    let source = dir.join("exports");
    std::fs::create_dir_all(&source).unwrap();
    let mut accounts = String::from("account_id,name,customer_since,segment\n");
    let mut contracts = String::from("contract_id,account_id,start_date,end_date,arr,currency\n");
    let mut entitlements =
        String::from("contract_id,entitlement,kind,limit,period,metric,enforcement\n");
    let mut usage = String::from("account_id,date,metric,value\n");
    for (id, segment, seats) in ACCOUNTS {
        accounts.push_str(&format!("{id},Company {id},2024-01-01,{segment}\n"));
        contracts.push_str(&format!("C{id},{id},2025-01-01,2025-12-31,12000,USD\n"));
        entitlements.push_str(&format!("C{id},seats,seats,10,month,active_users,soft\n"));
        for month in 1..=10 {
            let end = headroom_report::review::Month { year: 2025, month }.last_day();
            usage.push_str(&format!("{id},{end},active_users,{seats}\n"));
        }
    }
    let outcomes = "account_id,date,outcome\n";
    for (name, text) in [
        ("accounts.csv", accounts.as_str()),
        ("contracts.csv", contracts.as_str()),
        ("entitlements.csv", entitlements.as_str()),
        ("usage.csv", usage.as_str()),
        ("outcomes.csv", outcomes),
    ] {
        std::fs::write(source.join(name), text).unwrap();
    }
    std::fs::write(
        source.join("meta.json"),
        r#"{"rollups": {"active_users": "max"}, "currency": "USD", "fx": {}}"#,
    )
    .unwrap();

    let root = dir.join("project");
    import(&source, &Mapping::contract(), &root).unwrap();
    root
}

struct Scored {
    account: &'static str,
    p_churn: f64,
    flagged_churn: bool,
    p_expansion: f64,
    flagged_expansion: bool,
}

fn row(scored: &Scored) -> SnapshotRow {
    let segment = ACCOUNTS
        .iter()
        .find(|(id, _, _)| *id == scored.account)
        .map(|(_, segment, _)| segment.to_string());
    SnapshotRow {
        account_id: scored.account.to_string(),
        customer_segment: segment,
        health_segment: "watch".to_string(),
        p_churn: Some(scored.p_churn),
        p_expansion: Some(scored.p_expansion),
        arr: 12_000.0,
        flagged_churn: scored.flagged_churn,
        flagged_expansion: scored.flagged_expansion,
        priority: scored.p_churn * 12_000.0,
        reasons: vec![Reason {
            feature: "util_primary_3m".to_string(),
            contribution: 0.9,
            text: format!("{} reason", scored.account),
        }],
        alerts: vec![Alert {
            kind: "renewal_near".to_string(),
            text: "renews soon".to_string(),
        }],
    }
}

/// The scores of both snapshots. A7 is in neither, so its outcome is left
/// out. The two snapshots give the same scores, so the test reads one table
/// whichever snapshot an outcome matches.
const SCORES: &[Scored] = &[
    Scored {
        account: "A1",
        p_churn: 0.8,
        flagged_churn: true,
        p_expansion: 0.1,
        flagged_expansion: false,
    },
    Scored {
        account: "A2",
        p_churn: 0.3,
        flagged_churn: false,
        p_expansion: 0.1,
        flagged_expansion: false,
    },
    Scored {
        account: "A3",
        p_churn: 0.6,
        flagged_churn: true,
        p_expansion: 0.2,
        flagged_expansion: false,
    },
    Scored {
        account: "A4",
        p_churn: 0.1,
        flagged_churn: false,
        p_expansion: 0.3,
        flagged_expansion: false,
    },
    Scored {
        account: "A5",
        p_churn: 0.05,
        flagged_churn: false,
        p_expansion: 0.7,
        flagged_expansion: true,
    },
    Scored {
        account: "A6",
        p_churn: 0.2,
        flagged_churn: false,
        p_expansion: 0.6,
        flagged_expansion: true,
    },
    Scored {
        account: "A8",
        p_churn: 0.4,
        flagged_churn: false,
        p_expansion: 0.4,
        flagged_expansion: false,
    },
];

fn outcome(account: &str, day: &str, outcome: Outcome) -> OutcomeRecord {
    OutcomeRecord {
        account_id: account.to_string(),
        date: date(day),
        outcome,
        contract_id: None,
        arr_before: None,
        arr_after: None,
        reason: None,
        source: Source::Manual,
        recorded_at: at("2025-11-02"),
    }
}

/// Stores snapshots as of 2025-06-30 and 2025-07-31, the October outcomes,
/// an intervention on A3 and four notes.
fn fill_store(root: &Path) {
    let project = Project::open(root).unwrap();
    let store = &project.store;
    for as_of in ["2025-06-30", "2025-07-31"] {
        store
            .write_snapshot(
                NewSnapshot {
                    as_of: date(as_of),
                    created_at: at(as_of),
                    churn_model: Some("churn-test".to_string()),
                    expansion_model: Some("expansion-test".to_string()),
                    thresholds: BTreeMap::from([("churn_flag".to_string(), 0.5)]),
                },
                SCORES.iter().map(row),
            )
            .unwrap();
    }
    store
        .append_outcomes(&[
            outcome("A1", "2025-10-31", Outcome::Churned),
            outcome("A2", "2025-10-15", Outcome::Churned),
            outcome("A3", "2025-10-31", Outcome::Renewed),
            outcome("A4", "2025-10-31", Outcome::Renewed),
            outcome("A5", "2025-10-31", Outcome::Expanded),
            outcome("A5", "2025-10-31", Outcome::Renewed),
            outcome("A6", "2025-10-31", Outcome::Renewed),
            outcome("A7", "2025-10-31", Outcome::Churned),
            outcome("A8", "2025-10-05", Outcome::Renewed),
            // Outside the month: not reviewed.
            outcome("A4", "2025-11-01", Outcome::Expanded),
        ])
        .unwrap();
    store
        .append_interventions(&[headroom_store::Intervention {
            account_id: "A3".to_string(),
            date: date("2025-08-10"),
            kind: "exec call".to_string(),
            note: None,
            source: Source::Manual,
            recorded_at: at("2025-08-10"),
        }])
        .unwrap();
    let note = |account: &str, written: &str, until: &str, expectation| NewNote {
        account_id: account.to_string(),
        text: format!("{account} note"),
        until: date(until),
        expectation,
        created_at: at(written),
    };
    for new in [
        note("A2", "2025-07-15", "2025-09-30", Expectation::Churn),
        note("A4", "2025-09-01", "2025-12-31", Expectation::Churn),
        note("A5", "2025-08-01", "2025-12-31", Expectation::Growth),
        note("A6", "2025-08-01", "2025-12-31", Expectation::Unspecified),
        note("A8", "2025-11-01", "2025-12-31", Expectation::Renewal),
    ] {
        store.add_note(new).unwrap();
    }
    project.store.close().unwrap();
}

fn october_review(dir: &Path) -> Review {
    let root = import_project(dir);
    fill_store(&root);
    let project = Project::open(&root).unwrap();
    review_project(&project, "2025-10".parse().unwrap()).unwrap()
}

fn close(actual: Option<f64>, expected: f64) {
    let actual = actual.expect("a value");
    assert!(
        (actual - expected).abs() < 1e-12,
        "expected {expected}, got {actual}"
    );
}

#[test]
fn review_counts_month_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());

    // Nine records dated in October; A4's November expansion is left out.
    assert_eq!(review.outcomes, 9);
    assert_eq!(review.by_outcome["churned"], 3);
    assert_eq!(review.by_outcome["renewed"], 5);
    assert_eq!(review.by_outcome["expanded"], 1);
    assert_eq!(review.matched_accounts, 7);
}

#[test]
fn review_leaves_out_unscored_account() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());

    assert_eq!(review.unmatched.len(), 1);
    assert_eq!(review.unmatched[0].account_id, "A7");
    assert_eq!(review.unmatched[0].reason, Unmatched::NotScored);
}

#[test]
fn review_matches_snapshot_lead_time_before() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());

    // 2025-10-31 - 90 days = 2025-08-02: the July snapshot (id 2) is the
    // latest before. 2025-10-15 - 90 = 2025-07-17 and 2025-10-05 - 90 =
    // 2025-07-07 fall before it, so A2 and A8 use the June snapshot (id 1).
    let used: Vec<(u64, String, usize)> = review
        .snapshots
        .iter()
        .map(|s| (s.id.0, s.as_of.to_string(), s.accounts))
        .collect();
    assert_eq!(
        used,
        [
            (1, "2025-06-30".to_string(), 2),
            (2, "2025-07-31".to_string(), 5)
        ]
    );
}

#[test]
fn churn_confusion_matrix_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());
    let churn = &review.churn;

    // Churned: A1 (flagged), A2 (not). Flagged without churn: A3.
    // Neither: A4, A5, A6, A8.
    assert_eq!(churn.accounts, 7);
    assert_eq!(churn.positives, 2);
    assert_eq!(churn.confusion.true_positives, 1);
    assert_eq!(churn.confusion.false_positives, 1);
    assert_eq!(churn.confusion.false_negatives, 1);
    assert_eq!(churn.confusion.true_negatives, 4);
    close(churn.precision, 0.5);
    close(churn.recall, 0.5);
}

#[test]
fn churn_misses_carry_scores_of_time() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());
    let churn = &review.churn;

    let false_positives: Vec<&str> = churn
        .false_positives
        .iter()
        .map(|m| m.account_id.as_str())
        .collect();
    let false_negatives: Vec<&str> = churn
        .false_negatives
        .iter()
        .map(|m| m.account_id.as_str())
        .collect();
    assert_eq!(false_positives, ["A3"]);
    assert_eq!(false_negatives, ["A2"]);
    assert_eq!(churn.false_positives[0].probability, Some(0.6));
    assert_eq!(churn.false_positives[0].reasons[0].text, "A3 reason");
    assert_eq!(churn.false_positives[0].as_of, date("2025-07-31"));
    assert_eq!(churn.false_negatives[0].probability, Some(0.3));
    assert_eq!(churn.false_negatives[0].as_of, date("2025-06-30"));
    assert_eq!(churn.false_negatives[0].outcomes, [Outcome::Churned]);
}

#[test]
fn churn_probability_metrics_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());
    let scores = &review.churn.scores;

    // Positives 0.8 and 0.3; negatives 0.6, 0.1, 0.05, 0.2, 0.4. Of the 10
    // pairs, 0.8 beats all 5 negatives and 0.3 beats 0.1, 0.05 and 0.2:
    // ROC-AUC = 8 / 10.
    close(scores.roc_auc, 0.8);
    // Brier: (0.2² + 0.7² + 0.6² + 0.1² + 0.05² + 0.2² + 0.4²) / 7
    //      = (0.04 + 0.49 + 0.36 + 0.01 + 0.0025 + 0.04 + 0.16) / 7 = 1.1025 / 7.
    close(scores.brier, 1.1025 / 7.0);
    // Log loss: -(ln 0.8 + ln 0.3 + ln 0.4 + ln 0.9 + ln 0.95 + ln 0.8 + ln 0.6) / 7.
    let expected = -[0.8f64, 0.3, 0.4, 0.9, 0.95, 0.8, 0.6]
        .iter()
        .map(|p| p.ln())
        .sum::<f64>()
        / 7.0;
    close(scores.log_loss, expected);
    // Mean probability (0.8 + 0.3 + 0.6 + 0.1 + 0.05 + 0.2 + 0.4) / 7 = 2.45 / 7.
    close(scores.mean_predicted, 2.45 / 7.0);
    close(scores.observed_rate, 2.0 / 7.0);
}

#[test]
fn churn_rule_reads_utilization_then() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());
    let rule = &review.churn.rule;

    // util_primary_3m is seats used / 10: A1 0.2 and A3 0.3 are below 40%.
    assert_eq!(rule.column, "util_primary_3m");
    assert_eq!(rule.with_utilization, 7);
    assert_eq!(rule.confusion.true_positives, 1);
    assert_eq!(rule.confusion.false_positives, 1);
    assert_eq!(rule.confusion.false_negatives, 1);
    // Rule scores 1 - u: positives A1 0.8, A2 0.5; negatives A3 0.7, A4 0.4,
    // A5 0.1, A6 0.3, A8 0.2. 0.8 beats 5, 0.5 beats 4: ROC-AUC = 9 / 10.
    close(rule.roc_auc, 0.9);
}

#[test]
fn churn_segments_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());
    let segments = &review.churn.segments;

    let names: Vec<&str> = segments.iter().map(|s| s.segment.as_str()).collect();
    assert_eq!(names, ["enterprise", "smb"]);
    let enterprise = &segments[0];
    assert_eq!(enterprise.accounts, 3);
    assert_eq!(enterprise.positives, 0);
    assert_eq!(enterprise.confusion.true_negatives, 3);
    assert_eq!(enterprise.roc_auc, None);
    let smb = &segments[1];
    assert_eq!(smb.accounts, 4);
    assert_eq!(smb.positives, 2);
    // Positives 0.8, 0.3 against negatives 0.6, 0.1: 0.8 beats both, 0.3
    // beats 0.1, so 3 of 4 pairs.
    close(smb.roc_auc, 0.75);
}

#[test]
fn expansion_confusion_matrix_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());
    let expansion = &review.expansion;

    // A5 expanded and renewed on the same day: one positive account.
    assert_eq!(expansion.positives, 1);
    assert_eq!(expansion.confusion.true_positives, 1);
    assert_eq!(expansion.confusion.false_positives, 1);
    assert_eq!(expansion.confusion.false_negatives, 0);
    assert_eq!(expansion.confusion.true_negatives, 5);
    let false_positives: Vec<&str> = expansion
        .false_positives
        .iter()
        .map(|m| m.account_id.as_str())
        .collect();
    assert_eq!(false_positives, ["A6"]);
}

#[test]
fn intervention_cohorts_split_flagged_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());
    let cohorts = &review.interventions;

    // Flagged for churn: A1 (churned, no intervention) and A3 (renewed, exec
    // call on 2025-08-10, after its snapshot of 2025-07-31).
    assert_eq!(cohorts.with_intervention.accounts, 1);
    assert_eq!(cohorts.with_intervention.retained, 1);
    assert_eq!(cohorts.with_intervention.churn_rate, Some(0.0));
    assert_eq!(cohorts.without_intervention.accounts, 1);
    assert_eq!(cohorts.without_intervention.churned, 1);
    assert_eq!(cohorts.without_intervention.churn_rate, Some(1.0));
    assert_eq!(cohorts.kinds, [("exec call".to_string(), 1)]);
    assert!(cohorts.descriptive_only);
}

#[test]
fn note_expectations_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());
    let expectations = &review.expectations;

    // A2 expected churn and churned; A4 expected churn and renewed; A5
    // expected growth and expanded. A6's note states no expectation and A8's
    // was written after its outcome.
    let checks: Vec<(&str, Expectation, bool)> = expectations
        .notes
        .iter()
        .map(|n| (n.account_id.as_str(), n.expectation, n.right))
        .collect();
    assert_eq!(
        checks,
        [
            ("A2", Expectation::Churn, true),
            ("A4", Expectation::Churn, false),
            ("A5", Expectation::Growth, true),
        ]
    );
    let tallies: Vec<(Expectation, usize, usize)> = expectations
        .tallies
        .iter()
        .map(|t| (t.expectation, t.notes, t.right))
        .collect();
    assert_eq!(
        tallies,
        [(Expectation::Growth, 1, 1), (Expectation::Churn, 2, 1)]
    );
}

#[test]
fn review_without_champion_recommends_training() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());

    assert!(review.champions.is_empty());
    assert_eq!(review.recommendation.action, Action::Retrain);
    let champion = review
        .recommendation
        .criteria
        .iter()
        .find(|c| c.name == "churn champion")
        .expect("a champion criterion");
    assert_eq!(champion.action, Action::Retrain);
    // Seven matched accounts are fewer than the default 20.
    let sample = &review.recommendation.criteria[0];
    assert_eq!(sample.value, Some(7.0));
    assert_eq!(sample.action, Action::Watch);
}

#[test]
fn review_renders_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let review = october_review(dir.path());

    let table = render(&review, Format::Table);
    let markdown = render(&review, Format::Markdown);
    let html = render(&review, Format::Html);
    let json = render(&review, Format::Json);

    assert!(table.contains("Recommendation: retrain"), "{table}");
    assert!(
        markdown.contains("| A3 | smb | renewed on 2025-10-31 |"),
        "{markdown}"
    );
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<svg"), "{html}");
    let parsed: Review = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, review);
}

/// Fits a churn model on 40 rows of two inputs, `util_primary_3m` and
/// `tenure_months`, where churn follows low utilization.
fn small_champion() -> headroom_model::ModelArtifact {
    use headroom_model::{Dataset, FeatureMatrix, ModelKind, ParamGuard, RowKey, TrainParams};
    let rows = 40;
    let values = ndarray::Array2::from_shape_fn((rows, 2), |(i, j)| match j {
        0 => 0.2 + 0.6 * ((i % 2) as f64) + 0.01 * (i % 5) as f64,
        _ => ((i * 7) % 11) as f64 / 10.0,
    });
    let keys = (0..rows)
        .map(|i| RowKey::new(format!("T{i}"), date("2025-01-31"), None))
        .collect();
    let names = vec!["util_primary_3m".to_string(), "tenure_months".to_string()];
    let labels = (0..rows).map(|i| i % 2 == 0 && i % 10 != 0).collect();
    let features = FeatureMatrix::new(values, names, keys).unwrap();
    let data = Dataset::new(ModelKind::Churn, features, labels).unwrap();
    let params = TrainParams::default()
        .penalties(vec![0.1])
        .probe_separation(false)
        .check()
        .unwrap();
    params.fit(&data, 0.1, 0.5).unwrap()
}

#[test]
fn review_lists_champion_predictors() {
    let dir = tempfile::tempdir().unwrap();
    let root = import_project(dir.path());
    fill_store(&root);
    let artifact = small_champion();
    register_champion(&root, &artifact);

    let project = Project::open(&root).unwrap();
    let review = review_project(&project, "2025-10".parse().unwrap()).unwrap();

    assert_eq!(review.champions.len(), 1);
    let champion = &review.champions[0];
    assert_eq!(champion.version, "churn-small");
    // Ordered by absolute coefficient, each read from the artifact.
    let mut expected: Vec<(String, f64)> = artifact
        .preprocessing
        .columns
        .iter()
        .map(|c| c.name.clone())
        .zip(artifact.coefficients.iter().copied())
        .collect();
    expected.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    let found: Vec<(String, f64)> = champion
        .predictors
        .iter()
        .map(|p| (p.column.clone(), p.coefficient))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(found[0].0, "util_primary_3m");
    // Churn follows low utilization, so its coefficient is negative.
    assert!(found[0].1 < 0.0, "{found:?}");
    // The artifact was fitted without a held-out evaluation.
    assert_eq!(review.churn.reference_roc_auc, None);
    let criteria: Vec<&str> = review
        .recommendation
        .criteria
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert!(criteria.contains(&"churn ROC-AUC drop"), "{criteria:?}");
    assert!(criteria.contains(&"expansion champion"), "{criteria:?}");
}

/// Registers `artifact` as the churn champion `churn-small`.
fn register_champion(root: &Path, artifact: &headroom_model::ModelArtifact) {
    {
        let project = Project::open(root).unwrap();
        project
            .store
            .register_model(headroom_store::NewModel {
                version: "churn-small".to_string(),
                kind: headroom_store::ModelKind::Churn,
                artifact_json: artifact.to_json(),
                trained_at: at("2025-05-01"),
                metrics: serde_json::json!({}),
            })
            .unwrap();
        project
            .store
            .promote(
                headroom_store::ModelKind::Churn,
                "churn-small",
                headroom_store::DecisionRequest {
                    reason: "first model of its kind".to_string(),
                    at: at("2025-05-01"),
                    metrics: None,
                    champion_metrics: None,
                },
            )
            .unwrap();
        project.store.close().unwrap();
    }
}

#[test]
fn review_drift_matches_hand_computed_psi() {
    use headroom_model::{
        DropReason, DroppedFeature, Imputation, InputDistribution, InputProfile, InputSpec,
    };

    let dir = tempfile::tempdir().unwrap();
    let root = import_project(dir.path());
    fill_store(&root);
    let mut artifact = small_champion();
    // `arr` is an input the model has no column for: training dropped it as
    // constant.
    artifact.preprocessing.features.push("arr".to_string());
    artifact.preprocessing.imputation.push(Imputation {
        feature: "arr".to_string(),
        missing_share: 0.0,
        median: Some(12_000.0),
        indicator: false,
    });
    artifact.preprocessing.dropped.push(DroppedFeature {
        feature: "arr".to_string(),
        reason: DropReason::Constant { value: 12_000.0 },
    });
    let names = vec![
        "util_primary_3m".to_string(),
        "tenure_months".to_string(),
        "arr".to_string(),
    ];
    artifact.inputs = Some(InputSpec::plain(names));
    artifact.input_profile = Some(InputProfile {
        rows: 40,
        inputs: vec![
            InputDistribution {
                feature: "util_primary_3m".to_string(),
                edges: vec![0.5],
                shares: vec![0.5, 0.5],
                missing_share: 0.0,
            },
            InputDistribution {
                feature: "tenure_months".to_string(),
                edges: vec![10.0],
                shares: vec![0.2, 0.8],
                missing_share: 0.0,
            },
            InputDistribution {
                feature: "arr".to_string(),
                edges: vec![1.0],
                shares: vec![1.0, 0.0],
                missing_share: 0.0,
            },
        ],
    });
    register_champion(&root, &artifact);

    let project = Project::open(&root).unwrap();
    let review = review_project(&project, "2025-10".parse().unwrap()).unwrap();

    assert_eq!(review.drift.len(), 1);
    let drift = &review.drift[0];
    // A1, A2 and A7 churned in October, so five accounts are active then.
    assert_eq!(drift.accounts, 5);
    assert_eq!(drift.as_of, date("2025-10-31"));
    let psi = |feature: &str| {
        drift
            .inputs
            .iter()
            .find(|i| i.feature == feature)
            .map(|i| i.psi)
            .unwrap()
    };
    // util_primary_3m on 2025-10-31: A3's 0.3 falls in (-inf, 0.5]; A4 0.6,
    // A5 0.9, A6 0.7 and A8 0.8 in (0.5, inf). Shares 1/5 and 4/5 against
    // 1/2 and 1/2; the missing bin is 0 in both and adds 0.
    // PSI = (0.2 - 0.5) ln(0.2 / 0.5) + (0.8 - 0.5) ln(0.8 / 0.5) = 0.3 ln 4.
    let util = 0.3 * 4.0f64.ln();
    assert!(
        (psi("util_primary_3m") - util).abs() < 1e-12,
        "{}",
        psi("util_primary_3m")
    );
    // Every account has 21.98 months of tenure, all above 10: shares 0 and 1
    // against 0.2 and 0.8, the empty bin counted as 0.0001.
    // PSI = (0.0001 - 0.2) ln(0.0001 / 0.2) + (1 - 0.8) ln(1 / 0.8).
    let tenure = (0.0001f64 - 0.2) * (0.0001f64 / 0.2).ln() + 0.2 * (1.0f64 / 0.8).ln();
    assert!(
        (psi("tenure_months") - tenure).abs() < 1e-12,
        "{}",
        psi("tenure_months")
    );
    // The unused input is left out however far it moved.
    assert_eq!(drift.unused_inputs, 1);
    assert_eq!(drift.inputs.len(), 2);
    // Highest PSI first; both inputs are main inputs of the champion.
    assert_eq!(drift.inputs[0].feature, "tenure_months");
    assert_eq!(drift.max_main_psi, Some(psi("tenure_months")));
    let criterion = review
        .recommendation
        .criteria
        .iter()
        .find(|c| c.name.starts_with("churn input drift"))
        .unwrap();
    assert_eq!(criterion.action, Action::Retrain);
    // The predictors carry the PSI of their input.
    let predictor = &review.champions[0].predictors[0];
    assert_eq!(predictor.psi, Some(psi(&predictor.feature)));
}

#[test]
fn review_skips_drift_of_month_without_usage() {
    let dir = tempfile::tempdir().unwrap();
    let root = import_project(dir.path());
    fill_store(&root);
    register_champion(&root, &small_champion());

    let project = Project::open(&root).unwrap();
    let review = review_project(&project, "2025-11".parse().unwrap()).unwrap();

    // The usage ends on 2025-10-31: features as of 2025-11-30 would count
    // November as zero usage for every account.
    assert!(review.drift.is_empty());
    assert_eq!(
        review.drift_notes,
        [
            "churn champion churn-small: drift not measured: no usage is imported for 2025-11, the month that features as of 2025-11-30 read: the latest usage row is dated 2025-10-31, so every account would count the months after 2025-10 up to 2025-11 as zero usage"
        ]
    );
}
