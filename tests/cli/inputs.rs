//! What `import`, `init`, `score`, `features` and `account` do with input
//! that would otherwise give a silent wrong number or a half-written project.
//! The cases: an as-of month without usage, two imports at once, `init
//! --force` on a store in use, another portfolio imported into a project with
//! history, and export files that cannot be read as what they claim to be.

use std::fs;
use std::path::{Path, PathBuf};

use headroom_store::Store;

use super::headroom;

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// The month ends of the usage in [`write_exports`]: April to September 2026.
const USAGE_MONTHS: [&str; 6] = [
    "2026-04-30",
    "2026-05-31",
    "2026-06-30",
    "2026-07-31",
    "2026-08-31",
    "2026-09-30",
];

/// Writes exports in the contract format into `dir`: one smb account per id,
/// customer since 2024-01-01, a contract from 2026-01-01 to 2026-12-31 with
/// 10 seats, and 3 to 8 active users at each month end of [`USAGE_MONTHS`].
fn write_exports(dir: &Path, ids: &[&str]) {
    fs::create_dir_all(dir).unwrap();
    let mut accounts = String::from("account_id,name,customer_since,segment\n");
    let mut contracts = String::from("contract_id,account_id,start_date,end_date,arr,currency\n");
    let mut entitlements =
        String::from("contract_id,entitlement,kind,limit,period,metric,enforcement\n");
    let mut usage = String::from("account_id,date,metric,value\n");
    for (i, id) in ids.iter().enumerate() {
        accounts.push_str(&format!("{id},Company {id},2024-01-01,smb\n"));
        contracts.push_str(&format!("C{id},{id},2026-01-01,2026-12-31,12000,USD\n"));
        entitlements.push_str(&format!("C{id},seats,seats,10,month,active_users,soft\n"));
        for end in USAGE_MONTHS {
            usage.push_str(&format!("{id},{end},active_users,{}\n", i % 6 + 3));
        }
    }
    fs::write(dir.join("accounts.csv"), accounts).unwrap();
    fs::write(dir.join("contracts.csv"), contracts).unwrap();
    fs::write(dir.join("entitlements.csv"), entitlements).unwrap();
    fs::write(dir.join("usage.csv"), usage).unwrap();
}

/// Runs `headroom import SOURCE --out PROJECT` with extra arguments.
fn import(source: &Path, project: &Path, extra: &[&str]) -> std::process::Output {
    headroom()
        .arg("import")
        .arg(source)
        .arg("--out")
        .arg(project)
        .args(extra)
        .output()
        .unwrap()
}

/// Exports of accounts A1 to A4 imported into `root/project`.
fn imported_project(root: &Path) -> PathBuf {
    let exports = root.join("exports");
    write_exports(&exports, &["A1", "A2", "A3", "A4"]);
    let project = root.join("project");
    let output = import(&exports, &project, &[]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    project
}

fn run_in(project: &Path, args: &[&str]) -> std::process::Output {
    headroom()
        .args(args)
        .arg("--project")
        .arg(project)
        .output()
        .unwrap()
}

// The usage of the fixture ends on 2026-09-30. As of 2026-10-31 (a month end)
// the features read October, which has no usage rows; as of 2026-10-15 they
// read September, the last complete month.
const MISSING_MONTH: &str = "no usage is imported for 2026-10, the month that features as of 2026-10-31 read: the latest usage row is dated 2026-09-30, so every account would count the months after 2026-09 up to 2026-10 as zero usage";
const MISSING_MONTH_HINT: &str = "hint: import the exports that hold the usage up to 2026-10 (`headroom import EXPORTS_DIR --out PROJECT`), or pass --as-of 2026-09-30 or earlier";

#[test]
fn score_rejects_month_without_usage() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());

    let output = run_in(&project, &["score", "--as-of", "2026-10-31"]);

    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(stderr.contains(MISSING_MONTH), "{stderr}");
    assert!(stderr.contains(MISSING_MONTH_HINT), "{stderr}");
    let store = Store::open(Store::project_dir(&project)).unwrap();
    assert!(store.snapshots().unwrap().is_empty(), "no snapshot stored");
    store.close().unwrap();
}

#[test]
fn score_accepts_last_usage_month() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());

    for as_of in ["2026-09-30", "2026-10-15"] {
        let output = run_in(&project, &["score", "--as-of", as_of, "--no-snapshot"]);

        assert!(output.status.success(), "{as_of}: {}", stderr_of(&output));
        let expected = format!("headroom score as of {as_of}: 4 active accounts");
        assert!(
            stdout_of(&output).starts_with(&expected),
            "{}",
            stdout_of(&output)
        );
    }
}

#[test]
fn features_and_account_reject_month_without_usage() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());

    let single = run_in(&project, &["features", "--as-of", "2026-10-31"]);
    let panel = run_in(
        &project,
        &["features", "--from", "2026-08-01", "--to", "2026-10-31"],
    );
    let account = run_in(&project, &["account", "A1", "--as-of", "2026-10-31"]);

    for (name, output) in [("features", single), ("panel", panel), ("account", account)] {
        let stderr = stderr_of(&output);
        assert!(!output.status.success(), "{name} succeeded");
        assert!(stderr.contains(MISSING_MONTH), "{name}: {stderr}");
        assert!(stdout_of(&output).is_empty(), "{name} printed data");
    }
}

#[test]
fn features_panel_ending_in_last_usage_month_passes() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());

    let output = run_in(
        &project,
        &["features", "--from", "2026-08-01", "--to", "2026-09-30"],
    );

    assert!(output.status.success(), "{}", stderr_of(&output));
    // A header and 4 accounts at 2 month ends.
    assert_eq!(stdout_of(&output).lines().count(), 1 + 4 * 2);
}
