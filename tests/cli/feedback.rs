//! The feedback loop through the real binary: `headroom outcomes`,
//! `interventions`, `notes`, `review` and `models` on small projects in
//! temporary folders.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use chrono::{DateTime, NaiveDate, Utc};
use headroom_store::{DecisionRequest, ModelKind, NewModel, NewSnapshot, SnapshotRow, Store};

use super::headroom;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    date(text).and_hms_opt(6, 0, 0).unwrap().and_utc()
}

fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stderr.clone()).unwrap()
}

/// Accounts A1 to A6 (customers since 2024-01-01, smb, 10 seats each, using
/// 2 to 7 of them every month of 2025), imported into `root/project`.
fn imported_project(root: &Path) -> PathBuf {
    let exports = root.join("exports");
    fs::create_dir_all(&exports).unwrap();
    let mut accounts = String::from("account_id,name,customer_since,segment\n");
    let mut contracts = String::from("contract_id,account_id,start_date,end_date,arr,currency\n");
    let mut entitlements =
        String::from("contract_id,entitlement,kind,limit,period,metric,enforcement\n");
    let mut usage = String::from("account_id,date,metric,value\n");
    for (i, id) in ["A1", "A2", "A3", "A4", "A5", "A6"].iter().enumerate() {
        accounts.push_str(&format!("{id},Company {id},2024-01-01,smb\n"));
        contracts.push_str(&format!("C{id},{id},2025-01-01,2025-12-31,12000,USD\n"));
        entitlements.push_str(&format!("C{id},seats,seats,10,month,active_users,soft\n"));
        for end in [
            "2025-01-31",
            "2025-02-28",
            "2025-03-31",
            "2025-04-30",
            "2025-05-31",
            "2025-06-30",
        ] {
            usage.push_str(&format!("{id},{end},active_users,{}\n", i + 2));
        }
    }
    fs::write(exports.join("accounts.csv"), accounts).unwrap();
    fs::write(exports.join("contracts.csv"), contracts).unwrap();
    fs::write(exports.join("entitlements.csv"), entitlements).unwrap();
    fs::write(exports.join("usage.csv"), usage).unwrap();
    fs::write(
        exports.join("meta.json"),
        r#"{"rollups": {"active_users": "max"}, "currency": "USD", "fx": {}}"#,
    )
    .unwrap();

    let project = root.join("project");
    headroom()
        .args(["import", exports.to_str().unwrap(), "--out"])
        .arg(&project)
        .assert()
        .success();
    project
}

const OCTOBER: &str = "account_id,date,outcome,contract_id,arr_before,arr_after,reason
A1,2025-10-31,churned,CA1,12000,0,budget
A2,2025-10-31,renewed,CA2,12000,12000,
A3,2025-10-31,expanded,CA3,12000,15000,more seats
";

fn outcomes_import(project: &Path, file: &Path) -> assert_cmd::assert::Assert {
    headroom()
        .args(["outcomes", "import"])
        .arg(file)
        .arg("--project")
        .arg(project)
        .assert()
}

fn stored_outcomes(project: &Path) -> usize {
    let store = Store::open(Store::project_dir(project)).unwrap();
    let count = store.outcomes().unwrap().len();
    store.close().unwrap();
    count
}

#[test]
fn outcomes_import_twice_says_nothing_added() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    let file = dir.path().join("october.csv");
    fs::write(&file, OCTOBER).unwrap();

    let first = outcomes_import(&project, &file).success();
    let second = outcomes_import(&project, &file).success();

    let shown = file.display();
    assert_eq!(
        stdout_of(&first),
        format!("stored 3 outcomes from {shown}\n")
    );
    assert_eq!(
        stdout_of(&second),
        format!("stored 0 outcomes: all 3 outcomes in {shown} are already stored\n")
    );
    assert_eq!(stored_outcomes(&project), 3);
}

#[test]
fn outcomes_import_bad_line_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    let file = dir.path().join("october.csv");
    let text = "account_id,date,outcome\nA1,2025-10-31,churned\nA9,2025-10-31,renewed\nA2,2025-10-31,renewed\n";
    fs::write(&file, text).unwrap();

    let failed = outcomes_import(&project, &file).failure();

    let stderr = stderr_of(&failed);
    assert!(
        stderr.contains(&format!("{}:3", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("A9"), "{stderr}");
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(stdout_of(&failed).is_empty());
    assert_eq!(stored_outcomes(&project), 0);
}

#[test]
fn outcomes_survive_kill_after_stored_line() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    let file = dir.path().join("october.csv");
    fs::write(&file, OCTOBER).unwrap();

    let binary = assert_cmd::cargo::cargo_bin("headroom");
    let mut child = Process::new(binary)
        .args(["outcomes", "import"])
        .arg(&file)
        .arg("--project")
        .arg(&project)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // The process may still be closing the store; kill it without waiting.
    let _ = child.kill();
    child.wait().unwrap();

    assert!(line.starts_with("stored 3 outcomes"), "{line}");
    assert_eq!(stored_outcomes(&project), 3);
}

#[test]
fn outcomes_dated_after_this_month_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());

    let added = headroom()
        .args([
            "outcomes",
            "add",
            "A1",
            "2099-10-31",
            "renewed",
            "--project",
        ])
        .arg(&project)
        .assert()
        .failure();
    let stderr = stderr_of(&added);
    assert!(
        stderr.contains("dated 2099-10-31, after the end of the current month"),
        "{stderr}"
    );

    let file = dir.path().join("typo.csv");
    let text = "account_id,date,outcome\nA1,2025-10-31,churned\nA2,2099-10-31,renewed\n";
    fs::write(&file, text).unwrap();
    let imported = outcomes_import(&project, &file).failure();
    let stderr = stderr_of(&imported);
    assert!(
        stderr.contains(&format!("{}:3", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("2099-10-31"), "{stderr}");
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    assert_eq!(stored_outcomes(&project), 0);

    let intervention = headroom()
        .args([
            "interventions",
            "add",
            "A1",
            "2099-01-15",
            "exec call",
            "--project",
        ])
        .arg(&project)
        .assert()
        .failure();
    let stderr = stderr_of(&intervention);
    assert!(
        stderr.contains("dated 2099-01-15, after the end of the current month"),
        "{stderr}"
    );
}

#[test]
fn outcomes_import_missing_file_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    let file = dir.path().join("nope.csv");

    let failed = outcomes_import(&project, &file).failure();

    let stderr = stderr_of(&failed);
    assert!(
        stderr.contains(&format!("file not found: {}", file.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("nope.csv.csv"), "{stderr}");
    assert!(stdout_of(&failed).is_empty());
}

#[test]
fn churn_and_renewal_same_day_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    let add = |args: &[&str]| {
        headroom()
            .args(["outcomes", "add"])
            .args(args)
            .arg("--project")
            .arg(&project)
            .assert()
    };

    add(&["A4", "2025-11-30", "renewed"]).success();
    let churn = add(&["A4", "2025-11-30", "churned"]).failure();
    let stderr = stderr_of(&churn);
    assert!(
        stderr.contains(
            "outcome churned for account A4 on 2025-11-30 contradicts the renewed outcome of the same day in the ledger"
        ),
        "{stderr}"
    );
    add(&["A4", "2025-12-31", "churned"]).success();

    let file = dir.path().join("both.csv");
    let text = "account_id,date,outcome\nA5,2025-10-31,expanded\nA5,2025-10-31,churned\n";
    fs::write(&file, text).unwrap();
    let imported = outcomes_import(&project, &file).failure();
    let stderr = stderr_of(&imported);
    assert!(
        stderr.contains("contradicts the expanded outcome of the same day in line 2 of this file"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:3", file.display())),
        "{stderr}"
    );
    assert_eq!(stored_outcomes(&project), 2);
}

#[test]
fn outcomes_add_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    let add = |args: &[&str]| {
        headroom()
            .args(["outcomes", "add"])
            .args(args)
            .arg("--project")
            .arg(&project)
            .assert()
    };

    let first = add(&["A4", "2025-11-30", "expanded", "--arr-after", "15000"]).success();
    let again = add(&["A4", "2025-11-30", "expanded", "--arr-after", "15000"]).success();
    let conflict = add(&["A4", "2025-11-30", "expanded", "--arr-after", "16000"]).failure();
    let unknown = add(&["A4", "2025-11-30", "lost"]).failure();

    assert_eq!(
        stdout_of(&first),
        "stored 1 outcome: A4 2025-11-30 expanded\n"
    );
    assert_eq!(
        stdout_of(&again),
        "stored 0 outcomes: A4 2025-11-30 expanded is already stored\n"
    );
    assert!(
        stderr_of(&conflict).contains("arr_after 16000 (recorded 15000)"),
        "{}",
        stderr_of(&conflict)
    );
    assert!(
        stderr_of(&unknown).contains("renewed churned expanded contracted"),
        "{}",
        stderr_of(&unknown)
    );
    let listed = headroom()
        .args(["outcomes", "list", "--month", "2025-11", "--project"])
        .arg(&project)
        .assert()
        .success();
    let listed = stdout_of(&listed);
    assert!(listed.contains("2025-11-30   A4"), "{listed}");
    assert!(listed.ends_with("1 outcome(s)\n"), "{listed}");
}

#[test]
fn interventions_import_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    let file = dir.path().join("calls.csv");
    fs::write(
        &file,
        "account_id,date,kind,note\nA1,2025-08-15,exec call,renewal risk\n",
    )
    .unwrap();
    let import = || {
        headroom()
            .args(["interventions", "import"])
            .arg(&file)
            .arg("--project")
            .arg(&project)
            .assert()
            .success()
    };

    let first = import();
    let second = import();

    assert_eq!(
        stdout_of(&first),
        format!("stored 1 intervention from {}\n", file.display())
    );
    assert_eq!(
        stdout_of(&second),
        format!(
            "stored 0 interventions: all 1 intervention in {} are already stored\n",
            file.display()
        )
    );
}

#[test]
fn notes_add_rejects_unknown_account() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());

    let stored = headroom()
        .args([
            "notes",
            "add",
            "A2",
            "--text",
            "pilot team leaves",
            "--expect",
            "drop",
            "--from",
            "2025-07-01",
            "--until",
            "2025-09-30",
            "--project",
        ])
        .arg(&project)
        .assert()
        .success();
    let rejected = headroom()
        .args([
            "notes",
            "add",
            "B2",
            "--text",
            "reorganization",
            "--project",
        ])
        .arg(&project)
        .assert()
        .failure();

    assert_eq!(
        stdout_of(&stored),
        "stored note 1 for account A2: expects drop from 2025-07-01 until 2025-09-30\n"
    );
    assert!(
        stderr_of(&rejected).contains("account B2"),
        "{}",
        stderr_of(&rejected)
    );
}

/// Writes a snapshot as of 2025-07-31 in which A1 and A2 are flagged for
/// churn, and A1 to A5 are scored.
fn write_snapshot(project: &Path) {
    let store = Store::open_or_create(Store::project_dir(project)).unwrap();
    let row = |id: &str, p: f64| SnapshotRow {
        account_id: id.to_string(),
        customer_segment: Some("smb".to_string()),
        health_segment: "watch".to_string(),
        p_churn: Some(p),
        p_expansion: Some(0.1),
        arr: 12_000.0,
        flagged_churn: p >= 0.5,
        flagged_expansion: false,
        priority: p * 12_000.0,
        reasons: Vec::new(),
        alerts: Vec::new(),
    };
    store
        .write_snapshot(
            NewSnapshot {
                as_of: date("2025-07-31"),
                created_at: at("2025-08-01"),
                churn_model: None,
                expansion_model: None,
                thresholds: BTreeMap::from([("churn_flag".to_string(), 0.5)]),
            },
            vec![
                row("A1", 0.9),
                row("A2", 0.6),
                row("A3", 0.2),
                row("A4", 0.1),
                row("A5", 0.3),
            ],
        )
        .unwrap();
    store.close().unwrap();
}

#[test]
fn review_prints_exact_confusion_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    write_snapshot(&project);
    let file = dir.path().join("october.csv");
    fs::write(&file, OCTOBER).unwrap();
    outcomes_import(&project, &file).success();

    let assert = headroom()
        .args([
            "review",
            "--month",
            "2025-10",
            "--format",
            "json",
            "--project",
        ])
        .arg(&project)
        .assert()
        .success();

    let review: serde_json::Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let confusion = &review["churn"]["confusion"];
    // A1 churned and was flagged; A2 renewed although flagged; A3 expanded.
    assert_eq!(confusion["true_positives"], 1);
    assert_eq!(confusion["false_positives"], 1);
    assert_eq!(confusion["false_negatives"], 0);
    assert_eq!(confusion["true_negatives"], 1);
    assert_eq!(review["churn"]["false_positives"][0]["account_id"], "A2");
    assert_eq!(review["matched_accounts"], 3);
    assert_eq!(review["recommendation"]["action"], "retrain");
}

#[test]
fn review_writes_markdown_file() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    write_snapshot(&project);
    let file = dir.path().join("october.csv");
    fs::write(&file, OCTOBER).unwrap();
    outcomes_import(&project, &file).success();
    let out = dir.path().join("review.md");

    let assert = headroom()
        .args(["review", "--month", "2025-10", "--format", "md", "--out"])
        .arg(&out)
        .arg("--project")
        .arg(&project)
        .assert()
        .success();

    let text = fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("# headroom review of 2025-10\n"), "{text}");
    assert!(text.contains("## Recommendation: retrain"), "{text}");
    assert!(stdout_of(&assert).is_empty());
    assert!(
        stderr_of(&assert).contains("recommendation: retrain"),
        "{}",
        stderr_of(&assert)
    );
}

#[test]
fn review_rejects_bad_month() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());

    let assert = headroom()
        .args(["review", "--month", "2025-13", "--project"])
        .arg(&project)
        .assert()
        .failure();

    assert!(
        stderr_of(&assert).contains("expected YYYY-MM"),
        "{}",
        stderr_of(&assert)
    );
}

/// Registers two churn models by hand: `churn-a` promoted first, then
/// `churn-b` promoted over it.
fn register_models(project: &Path) {
    let artifact = small_artifact();
    let store = Store::open_or_create(Store::project_dir(project)).unwrap();
    for (version, trained) in [("churn-a", "2025-06-01"), ("churn-b", "2025-09-01")] {
        store
            .register_model(NewModel {
                version: version.to_string(),
                kind: ModelKind::Churn,
                artifact_json: artifact.clone(),
                trained_at: at(trained),
                metrics: serde_json::json!({ "roc_auc": 0.8 }),
            })
            .unwrap();
        store
            .promote(
                ModelKind::Churn,
                version,
                DecisionRequest {
                    reason: format!("{version} test"),
                    at: at(trained),
                    metrics: None,
                    champion_metrics: None,
                },
            )
            .unwrap();
    }
    store.close().unwrap();
}

/// Fits a two-input logistic model on 40 rows, for the registry commands.
fn small_artifact() -> String {
    use headroom_model::{
        Dataset, FeatureMatrix, ModelKind as Kind, ParamGuard, RowKey, TrainParams,
    };
    let rows = 40;
    let values = ndarray::Array2::from_shape_fn((rows, 2), |(i, j)| {
        ((i * 7 + j * 3) % 11) as f64 / 10.0 + if j == 0 { (i % 2) as f64 } else { 0.0 }
    });
    let keys = (0..rows)
        .map(|i| RowKey::new(format!("A{i}"), date("2025-01-31"), None))
        .collect();
    let names = vec!["util".to_string(), "noise".to_string()];
    let labels = (0..rows).map(|i| i % 2 == 0).collect();
    let features = FeatureMatrix::new(values, names, keys).unwrap();
    let data = Dataset::new(Kind::Churn, features, labels).unwrap();
    let params = TrainParams::default()
        .penalties(vec![0.1])
        .probe_separation(false)
        .check()
        .unwrap();
    params.fit(&data, 0.1, 0.5).unwrap().to_json()
}

#[test]
fn models_list_show_and_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    register_models(&project);
    let models = |args: &[&str]| {
        headroom()
            .arg("models")
            .args(args)
            .arg("--project")
            .arg(&project)
            .assert()
    };

    let listed = stdout_of(&models(&["list"]).success());
    let shown = stdout_of(&models(&["show", "churn-a"]).success());
    let rolled =
        stdout_of(&models(&["rollback", "churn", "--reason", "review of 2025-10"]).success());
    let again = models(&["rollback", "churn", "--reason", "again"]).failure();
    let after = stdout_of(&models(&["list"]).success());

    assert!(
        listed.contains("churn-a                      retired"),
        "{listed}"
    );
    assert!(
        listed.contains("churn-b                      champion"),
        "{listed}"
    );
    assert!(
        shown.starts_with("churn model churn-a\nstatus: retired\n"),
        "{shown}"
    );
    assert!(
        shown.contains("promoted churn-b: churn-a -> churn-b"),
        "{shown}"
    );
    assert!(
        shown.contains("\nregistered metrics: roc_auc 0.8000\n"),
        "{shown}"
    );
    assert_eq!(
        rolled,
        "rolled back the churn champion from churn-b to churn-a\n"
    );
    assert!(
        stderr_of(&again).contains("replaced no earlier champion"),
        "{}",
        stderr_of(&again)
    );
    assert!(
        after.contains("churn-a                      champion"),
        "{after}"
    );
    assert!(
        after.contains("churn-b                      rolled-back"),
        "{after}"
    );
}

#[test]
fn models_promote_records_reason() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    register_models(&project);

    headroom()
        .args([
            "models",
            "promote",
            "churn-a",
            "--reason",
            "b misreads smb",
            "--project",
        ])
        .arg(&project)
        .assert()
        .success();
    let decisions = headroom()
        .args(["models", "decisions", "--project"])
        .arg(&project)
        .assert()
        .success();

    let text = stdout_of(&decisions);
    assert!(
        text.contains("reason: promoted by hand: b misreads smb"),
        "{text}"
    );
    assert!(text.ends_with("3 decision(s)\n"), "{text}");
}

#[test]
fn promote_names_the_other_kind() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    register_models(&project);

    let output = headroom()
        .args([
            "models",
            "promote",
            "churn-a",
            "--kind",
            "expansion",
            "--reason",
            "test",
            "--project",
        ])
        .arg(&project)
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("no expansion model \"churn-a\" in the registry; \"churn-a\" is registered as churn\nhint: pass --kind churn"),
        "{stderr}"
    );
}

/// Simulates 300 accounts over 36 months from 2023-11 and imports them into
/// `root/project`, with one penalty and a fixed threshold so that training
/// runs no selection folds.
fn simulated_project(root: &Path, penalty: f64) -> PathBuf {
    let sim = root.join("sim");
    headroom()
        .args([
            "sim",
            "--accounts",
            "300",
            "--months",
            "36",
            "--start",
            "2023-11",
        ])
        .args(["--seed", "5", "--out"])
        .arg(&sim)
        .assert()
        .success();
    let project = root.join("project");
    headroom()
        .arg("import")
        .arg(&sim)
        .arg("--out")
        .arg(&project)
        .assert()
        .success();
    write_model_settings(&project, penalty);
    project
}

fn write_model_settings(project: &Path, penalty: f64) {
    fs::write(
        project.join("headroom.toml"),
        format!("[model]\npenalties = [{penalty}]\nthreshold = 0.2\n"),
    )
    .unwrap();
}

#[test]
fn retrain_compares_and_logs_decision() {
    let dir = tempfile::tempdir().unwrap();
    let project = simulated_project(dir.path(), 0.03);
    let run = |command: &str| {
        headroom()
            .args([command, "--kind", "churn", "--project"])
            .arg(&project)
            .assert()
            .success()
    };

    run("train");
    let champion = {
        let store = Store::open(Store::project_dir(&project)).unwrap();
        let version = store.champion(ModelKind::Churn).unwrap().unwrap().version;
        store.close().unwrap();
        version
    };
    let unchanged = stdout_of(&run("retrain"));
    let forced = stdout_of(
        &headroom()
            .args(["retrain", "--kind", "churn", "--force", "--project"])
            .arg(&project)
            .assert()
            .success(),
    );
    write_model_settings(&project, 0.3);
    let changed = stdout_of(&run("retrain"));
    let decisions = headroom()
        .args(["models", "decisions", "--project"])
        .arg(&project)
        .assert()
        .success();

    // The same data and settings would fit the champion again: nothing is
    // trained, compared or recorded.
    assert!(
        unchanged.starts_with(&format!(
            "churn model: skipped, neither the training data nor the [model] settings have changed since version {champion} (champion) was trained"
        )),
        "{unchanged}"
    );
    assert!(!unchanged.contains("challenger"), "{unchanged}");
    // Forced, the fit gives the champion's own version back, which is not
    // shown as a challenger either.
    assert_eq!(
        forced,
        format!(
            "churn model: version {champion} is already registered (champion): the data and settings have not changed since it was trained, so nothing was recorded\n"
        )
    );
    // Another penalty gives another version, compared on the same months.
    assert!(changed.starts_with("churn challenger "), "{changed}");
    assert!(changed.contains("champion 2026"), "{changed}");
    let decided = changed.contains("  promoted: ") || changed.contains("  rejected: ");
    assert!(decided, "{changed}");
    assert!(changed.contains("logged as decision 2"), "{changed}");
    let log = stdout_of(&decisions);
    assert!(log.contains("first model of its kind"), "{log}");
    // Metrics print as words and numbers at 4 decimals, not raw JSON.
    assert!(
        log.contains(&format!(
            "     champion metrics: version {champion}, first "
        )),
        "{log}"
    );
    assert!(!log.contains('{'), "{log}");
    assert!(log.ends_with("2 decision(s)\n"), "{log}");
}

#[test]
fn review_without_matches_judges_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    // No snapshot is stored, so no October outcome matches a score, and no
    // champion is registered, which alone would call for retraining.
    let file = dir.path().join("october.csv");
    fs::write(&file, OCTOBER).unwrap();
    outcomes_import(&project, &file).success();
    let review = |format: &str| {
        let assert = headroom()
            .args(["review", "--month", "2025-10", "--format", format])
            .arg("--project")
            .arg(&project)
            .assert()
            .success();
        stdout_of(&assert)
    };

    let table = review("table");
    let json: serde_json::Value = serde_json::from_str(&review("json")).unwrap();

    assert!(
        table.contains("Recommendation: nothing to judge\n"),
        "{table}"
    );
    assert!(
        table.contains(
            "no outcome of the month is matched with a score snapshot, so nothing can be judged for this month"
        ),
        "{table}"
    );
    assert!(!table.contains("retrain  "), "{table}");
    assert_eq!(json["matched_accounts"], 0);
    assert_eq!(json["recommendation"]["action"], "nothing_to_judge");
    assert_eq!(
        json["recommendation"]["criteria"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn features_skip_ledger_churned_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    headroom()
        .args([
            "outcomes",
            "add",
            "A1",
            "2025-04-30",
            "churned",
            "--project",
        ])
        .arg(&project)
        .assert()
        .success();

    let features = headroom()
        .args(["features", "--as-of", "2025-06-30", "--project"])
        .arg(&project)
        .assert()
        .success();

    let ids: Vec<String> = stdout_of(&features)
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["A2", "A3", "A4", "A5", "A6"]);
}

#[test]
fn outcomes_add_names_an_infinite_amount() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());

    let add = headroom()
        .args([
            "outcomes",
            "add",
            "A1",
            "2025-04-30",
            "expanded",
            "--arr-before",
            "1e400",
            "--project",
        ])
        .arg(&project)
        .assert()
        .failure();

    let stderr = stderr_of(&add);
    assert!(
        stderr.contains(
            "\"1e400\" is not a finite amount; write the ARR as a plain number such as 12000"
        ),
        "{stderr}"
    );
}
