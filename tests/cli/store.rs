//! `headroom store export` and `headroom store import`, run as the real binary.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use headroom_store::{
    Alert, NewSnapshot, Outcome, OutcomeRecord, Reason, SnapshotRow, Source, Store,
};

use super::headroom;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn row(account_id: &str, p_churn: f64) -> SnapshotRow {
    SnapshotRow {
        account_id: account_id.to_string(),
        customer_segment: None,
        health_segment: "watch".to_string(),
        p_churn: Some(p_churn),
        p_expansion: Some(0.05),
        arr: 12_500.5,
        flagged_churn: p_churn >= 0.5,
        flagged_expansion: false,
        priority: p_churn * 12_500.5,
        reasons: vec![Reason {
            feature: "utilization_trend_3m".to_string(),
            contribution: -0.43,
            text: "usage down 30% in 3 months".to_string(),
        }],
        alerts: vec![Alert {
            kind: "renewal_near".to_string(),
            text: "renews in 45 days while at risk".to_string(),
        }],
    }
}

/// Creates `project/store` with a snapshot and two outcomes, and closes it.
fn project_with_store(root: &Path, name: &str) -> PathBuf {
    let project = root.join(name);
    fs::create_dir_all(&project).unwrap();
    let store = Store::create(Store::project_dir(&project)).unwrap();
    store
        .write_snapshot(
            NewSnapshot {
                as_of: day("2024-06-30"),
                created_at: at("2024-07-01T06:00:00Z"),
                churn_model: Some("churn-v3".to_string()),
                expansion_model: Some("expansion-v1".to_string()),
                thresholds: BTreeMap::from([("churn_flag".to_string(), 0.5)]),
            },
            vec![row("acme", 0.6180339887498949), row("globex", 0.1)],
        )
        .unwrap();
    let outcome = |account: &str, outcome, line| OutcomeRecord {
        account_id: account.to_string(),
        date: day("2024-08-31"),
        outcome,
        contract_id: None,
        arr_before: Some(12_500.5),
        arr_after: None,
        reason: Some("budget cuts".to_string()),
        source: Source::File {
            path: "outcomes.csv".to_string(),
            line,
        },
        recorded_at: at("2024-09-01T10:00:00Z"),
    };
    store
        .append_outcomes(&[
            outcome("acme", Outcome::Churned, 2),
            outcome("globex", Outcome::Renewed, 3),
        ])
        .unwrap();
    store.close().unwrap();
    project
}

fn folder_bytes(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.clone(), fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn store_export_import_round_trip_is_byte_identical() {
    let root = tempfile::tempdir().unwrap();
    let source = project_with_store(root.path(), "source");
    let target = root.path().join("target");
    fs::create_dir_all(&target).unwrap();
    let backup = root.path().join("backup.jsonl");

    headroom()
        .args(["store", "export", "--project"])
        .arg(&source)
        .arg("--out")
        .arg(&backup)
        .assert()
        .success();
    let import = headroom()
        .args(["store", "import"])
        .arg(&backup)
        .arg("--project")
        .arg(&target)
        .assert()
        .success();
    let again = headroom()
        .args(["store", "export", "--project"])
        .arg(&target)
        .assert()
        .success();

    let first = fs::read_to_string(&backup).unwrap();
    let second = String::from_utf8(again.get_output().stdout.clone()).unwrap();
    assert_eq!(second, first);
    // 1 snapshot + 2 rows + 2 outcomes = 5 records.
    assert_eq!(first.lines().count(), 7);
    assert!(stderr_of(import.get_output()).contains("imported 5 records"));
}

#[test]
fn store_export_fails_fast_while_store_is_open() {
    let root = tempfile::tempdir().unwrap();
    let project = project_with_store(root.path(), "p");
    let store_dir = Store::project_dir(&project);
    let holder = Store::open(&store_dir).unwrap();
    let before = folder_bytes(&store_dir);

    let output = headroom()
        .args(["store", "export", "--project"])
        .arg(&project)
        .output()
        .unwrap();

    assert!(!output.status.success());
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr_of(&output),
        format!(
            "error: the store at {} is in use by another headroom process\nhint: wait for that command to finish and run this one again; the lock is released when it exits\n",
            store_dir.join("store.lock").display()
        )
    );
    assert!(output.stdout.is_empty());
    assert_eq!(folder_bytes(&store_dir), before);
    holder.close().unwrap();
}

#[test]
fn store_export_reports_damage_and_leaves_bytes() {
    let root = tempfile::tempdir().unwrap();
    let project = project_with_store(root.path(), "p");
    let store_dir = Store::project_dir(&project);
    let db_file = store_dir.join("db").join("db");
    let mut bytes = fs::read(&db_file).unwrap();
    bytes.truncate(bytes.len() / 2);
    fs::write(&db_file, bytes).unwrap();
    let before = folder_bytes(&store_dir);

    let output = headroom()
        .args(["store", "export", "--project"])
        .arg(&project)
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with(&format!(
            "error: the store at {} is damaged: ",
            db_file.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: headroom left the folder as it was"),
        "{stderr}"
    );
    assert_eq!(folder_bytes(&store_dir), before);
}

#[test]
fn store_export_refuses_newer_format() {
    let root = tempfile::tempdir().unwrap();
    let project = project_with_store(root.path(), "p");
    let manifest = Store::project_dir(&project).join("store.json");
    fs::write(&manifest, r#"{"format": 7}"#).unwrap();

    let output = headroom()
        .args(["store", "export", "--project"])
        .arg(&project)
        .output()
        .unwrap();

    assert!(!output.status.success());
    assert_eq!(
        stderr_of(&output),
        format!(
            "error: cannot open the store at {}: store format 7, this headroom reads up to 1\nhint: upgrade headroom\n",
            manifest.display()
        )
    );
}

#[test]
fn store_import_into_non_empty_store_needs_merge() {
    let root = tempfile::tempdir().unwrap();
    let project = project_with_store(root.path(), "p");
    let backup = root.path().join("backup.jsonl");
    headroom()
        .args(["store", "export", "--project"])
        .arg(&project)
        .arg("--out")
        .arg(&backup)
        .assert()
        .success();

    let refused = headroom()
        .args(["store", "import"])
        .arg(&backup)
        .arg("--project")
        .arg(&project)
        .output()
        .unwrap();
    let merged = headroom()
        .args(["store", "import"])
        .arg(&backup)
        .arg("--project")
        .arg(&project)
        .arg("--merge")
        .output()
        .unwrap();

    assert!(!refused.status.success());
    assert!(
        stderr_of(&refused).contains("already holds 5 records"),
        "{}",
        stderr_of(&refused)
    );
    assert!(stderr_of(&refused).contains("hint: pass --merge"));
    assert!(merged.status.success(), "{}", stderr_of(&merged));
    assert!(
        stderr_of(&merged).contains("imported 0 records"),
        "{}",
        stderr_of(&merged)
    );
    assert!(stderr_of(&merged).contains("(5 already present)"));
}

#[test]
fn store_export_defaults_to_current_folder() {
    let root = tempfile::tempdir().unwrap();
    let project = project_with_store(root.path(), "p");

    let output = headroom()
        .current_dir(&project)
        .args(["store", "export"])
        .assert()
        .success();

    let stdout = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    assert!(stdout.starts_with("{\"type\":\"header\",\"format\":1}\n"));
}

#[test]
fn store_export_without_store_says_so() {
    let root = tempfile::tempdir().unwrap();

    let output = headroom()
        .args(["store", "export", "--project"])
        .arg(root.path())
        .output()
        .unwrap();

    assert!(!output.status.success());
    assert!(stderr_of(&output).starts_with("error: no headroom store at"));
    assert!(!Store::project_dir(root.path()).exists());
}

#[test]
fn store_export_to_file_writes_nothing_on_failure() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("backup.jsonl");

    headroom()
        .args(["store", "export", "--project"])
        .arg(root.path())
        .arg("--out")
        .arg(&out)
        .assert()
        .failure();

    assert!(!out.exists());
    assert!(!root.path().join("backup.jsonl.partial").exists());
}

#[test]
fn store_import_of_bad_backup_creates_no_store() {
    let root = tempfile::tempdir().unwrap();
    let backup = root.path().join("backup.jsonl");
    fs::write(&backup, "{\"type\":\"header\",\"format\":1}\n").unwrap();

    let output = headroom()
        .args(["store", "import"])
        .arg(&backup)
        .arg("--project")
        .arg(root.path())
        .output()
        .unwrap();

    assert!(!output.status.success());
    assert_eq!(
        stderr_of(&output),
        format!(
            "error: invalid backup {} line 1: the file ends without its end line, so it is truncated\nhint: export the store again, or use the complete copy of the backup; nothing was imported\n",
            backup.display()
        )
    );
    assert!(!Store::project_dir(root.path()).exists());
}
