//! What `import`, `init`, `score`, `features` and `account` do with input
//! that would otherwise give a silent wrong number or a half-written project.
//! The cases: an as-of month without usage, two imports at once, `init
//! --force` on a store in use, another portfolio imported into a project with
//! history, and export files that cannot be read as what they claim to be.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use headroom_data::Tables;
use headroom_store::Store;

use super::headroom;

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
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

fn account_ids(project: &Path) -> Vec<String> {
    let tables = Tables::read_project(project).unwrap();
    tables
        .accounts
        .column("account_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect()
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

// The usage of the fixture starts on 2026-04-30: as of 2026-03-31 the
// features read March, before any usage, and every account would be scored
// from its contract alone.
const EARLY_MONTH: &str = "no usage is imported for 2026-03, the month that features as of 2026-03-31 read: the earliest usage row is dated 2026-04-30, so no account has usage to measure";
const EARLY_MONTH_HINT: &str =
    "hint: pass --as-of 2026-04-30 or later, or import the exports that hold the usage of 2026-03";

#[test]
fn commands_reject_month_before_usage() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());

    let score = run_in(&project, &["score", "--as-of", "2026-03-31"]);
    let single = run_in(&project, &["features", "--as-of", "2026-03-31"]);
    let panel = run_in(
        &project,
        &["features", "--from", "2026-01-31", "--to", "2026-03-31"],
    );
    let account = run_in(&project, &["account", "A1", "--as-of", "2026-03-31"]);

    for (name, output) in [
        ("score", score),
        ("features", single),
        ("panel", panel),
        ("account", account),
    ] {
        let stderr = stderr_of(&output);
        assert!(!output.status.success(), "{name} succeeded");
        assert!(stderr.contains(EARLY_MONTH), "{name}: {stderr}");
        assert!(stderr.contains(EARLY_MONTH_HINT), "{name}: {stderr}");
        assert!(stdout_of(&output).is_empty(), "{name} printed data");
    }
    let store = Store::open(Store::project_dir(&project)).unwrap();
    assert!(store.snapshots().unwrap().is_empty(), "no snapshot stored");
    store.close().unwrap();
}

#[test]
fn score_accepts_first_usage_month() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());

    let output = run_in(
        &project,
        &["score", "--as-of", "2026-04-30", "--no-snapshot"],
    );

    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        stdout_of(&output).starts_with("headroom score as of 2026-04-30: 4 active accounts"),
        "{}",
        stdout_of(&output)
    );
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

/// Waits until `path` contains `text`, for at most `limit`.
fn wait_for_text(path: &Path, text: &str, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if fs::read_to_string(path).is_ok_and(|t| t.contains(text)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn concurrent_import_fails_fast_naming_lock() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let small = dir.path().join("small");
    write_exports(&small, &["B1", "B2"]);

    // The bundled sample takes seconds to validate, long enough for the
    // second import to start while the first holds the lock.
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_headroom"))
        .arg("import")
        .arg(workspace_root().join("data/sample"))
        .arg("--out")
        .arg(&project)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lock = project.join("import.lock");
    let holder = format!("process {} (headroom import ", first.id());
    assert!(
        wait_for_text(&lock, &holder, Duration::from_secs(60)),
        "the first import never took the lock"
    );

    let second = import(&small, &project, &[]);
    let first_running = first.try_wait().unwrap().is_none();
    let first_status = first.wait().unwrap();

    let stderr = stderr_of(&second);
    assert!(
        first_running,
        "the first import ended before the second ran"
    );
    assert!(!second.status.success());
    assert!(
        stderr.contains(&format!(
            "another import into this project is running: {} is held by {holder}",
            lock.display()
        )),
        "{stderr}"
    );
    assert!(first_status.success());
    // The project holds the first import whole: the sample's 2,000 accounts.
    let ids = account_ids(&project);
    assert_eq!(ids.len(), 2000);
    assert!(!ids.iter().any(|id| id.starts_with('B')));
    let leftovers: Vec<String> = fs::read_dir(&project)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".tables"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn import_after_finished_import_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    let other = dir.path().join("other");
    write_exports(&other, &["A1", "A2", "A3", "A4", "A5"]);

    let output = import(&other, &project, &[]);

    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(account_ids(&project), ["A1", "A2", "A3", "A4", "A5"]);
}

#[test]
fn failed_import_leaves_no_new_folder() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    write_exports(&exports, &["A1", "A2"]);
    fs::write(exports.join("accounts.csv"), "").unwrap();
    let project = dir.path().join("project");

    let output = import(&exports, &project, &[]);

    assert!(!output.status.success());
    assert!(
        !project.exists(),
        "the failed import left {}",
        project.display()
    );
}

#[test]
fn init_force_keeps_config_when_store_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let init = || {
        headroom()
            .arg("init")
            .arg("--force")
            .arg(&project)
            .output()
            .unwrap()
    };
    assert!(init().status.success());
    let config = project.join("headroom.toml");
    let edited = "# edited by hand\n[review]\n";
    fs::write(&config, edited).unwrap();

    let store = Store::open(Store::project_dir(&project)).unwrap();
    let output = init();
    store.close().unwrap();

    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("is in use by another headroom process"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&config).unwrap(), edited);
    let entries: Vec<String> = fs::read_dir(&project)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !entries.iter().any(|name| name.contains("partial")),
        "{entries:?}"
    );
}

#[test]
fn init_force_replaces_config_when_store_free() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    headroom().arg("init").arg(&project).assert().success();
    let config = project.join("headroom.toml");
    let template = fs::read_to_string(&config).unwrap();
    fs::write(&config, "# edited by hand\n").unwrap();

    let output = headroom()
        .arg("init")
        .arg("--force")
        .arg(&project)
        .output()
        .unwrap();

    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(fs::read_to_string(&config).unwrap(), template);
    let lines: Vec<String> = stdout_of(&output).lines().map(str::to_string).collect();
    assert_eq!(
        lines[..2],
        [
            format!("replaced {}", config.display()),
            format!(
                "kept {} (its models, outcomes and snapshots are unchanged)",
                project.join("store").display()
            ),
        ]
    );
}

/// Imports A1 to A4, initializes the store and scores once, so that the
/// store holds a snapshot of those 4 accounts.
fn project_with_snapshot(root: &Path) -> PathBuf {
    let project = imported_project(root);
    let output = run_in(&project, &["score", "--as-of", "2026-09-30"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    project
}

#[test]
fn import_rejects_other_portfolio() {
    let dir = tempfile::tempdir().unwrap();
    let project = project_with_snapshot(dir.path());
    let other = dir.path().join("other");
    write_exports(&other, &["X1", "X2", "X3", "A1"]);

    let output = import(&other, &project, &[]);

    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("the new accounts table shares 1 of its 4 account ids with the 4 accounts known to this project (its tables, 1 score snapshot(s) and its outcome ledger), so the store would mix two portfolios"),
        "{stderr}"
    );
    assert!(stderr.contains("pass --replace-portfolio"), "{stderr}");
    assert_eq!(account_ids(&project), ["A1", "A2", "A3", "A4"]);
}

#[test]
fn import_replace_portfolio_flag_imports() {
    let dir = tempfile::tempdir().unwrap();
    let project = project_with_snapshot(dir.path());
    let other = dir.path().join("other");
    write_exports(&other, &["X1", "X2", "X3", "A1"]);

    let output = import(&other, &project, &["--replace-portfolio"]);

    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(account_ids(&project), ["X1", "X2", "X3", "A1"]);
}

#[test]
fn import_keeps_same_portfolio_growing() {
    let dir = tempfile::tempdir().unwrap();
    let project = project_with_snapshot(dir.path());
    let grown = dir.path().join("grown");
    // 2 of the 4 known accounts stay and 6 are new: half of the smaller set
    // (4 known) is shared, which is not under half.
    write_exports(&grown, &["A1", "A2", "N1", "N2", "N3", "N4", "N5", "N6"]);

    let output = import(&grown, &project, &[]);

    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(account_ids(&project).len(), 8);
}

/// Writes exports of A1 and A2 with usage through 2026-09 into `root/NAME`,
/// then replaces or adds the files in `files` (name, bytes).
fn exports_with(root: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = root.join(name);
    write_exports(&dir, &["A1", "A2"]);
    for (file, bytes) in files {
        fs::write(dir.join(file), bytes).unwrap();
    }
    dir
}

/// Runs `headroom validate` and returns its exit success and stdout.
fn validate(dir: &Path) -> (bool, String) {
    let output = headroom().arg("validate").arg(dir).output().unwrap();
    (output.status.success(), stdout_of(&output))
}

/// The error and hint lines `validate` prints for one issue.
fn issue_lines(stdout: &str, prefix: &str) -> Vec<String> {
    let lines: Vec<&str> = stdout.lines().collect();
    let found: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].starts_with(prefix))
        .collect();
    found
        .iter()
        .flat_map(|i| {
            lines[*i..(*i + 2).min(lines.len())]
                .iter()
                .map(|l| l.to_string())
        })
        .collect()
}

#[test]
fn validate_names_unreadable_file_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let latin1: &[u8] = b"account_id,name,customer_since,segment\nA1,Caf\xe9 Ltd,2024-01-01,smb\n";
    // "id\n" in UTF-16, little-endian, after its byte order mark.
    let utf16: &[u8] = &[0xFF, 0xFE, b'i', 0, b'd', 0, b'\n', 0];
    let parquet = {
        let source = exports_with(dir.path(), "source", &[]);
        let project = dir.path().join("parquet-project");
        assert!(import(&source, &project, &[]).status.success());
        fs::read(project.join("tables/accounts.parquet")).unwrap()
    };
    let cases: [(&str, &[u8], String); 4] = [
        (
            "empty",
            b"",
            "error: {dir}/accounts.csv: the file is empty\n  hint: export the table again with its header line and rows, or remove the file".to_string(),
        ),
        (
            "latin1",
            latin1,
            // "account_id,name,customer_since,segment\n" is 39 bytes and
            // "A1,Caf" 6 more: the byte 0xE9 is at offset 45, on line 2.
            "error: {dir}/accounts.csv:2: the file is not UTF-8: the byte at offset 45 is not valid UTF-8, as in a Latin-1 or Windows-1252 export: \"0xE9\"\n  hint: save the file as UTF-8 (in Excel: CSV UTF-8, or iconv -f WINDOWS-1252 -t UTF-8), then run the command again".to_string(),
        ),
        (
            "utf16",
            utf16,
            "error: {dir}/accounts.csv: the file is UTF-16 text (little-endian, it starts with a byte order mark), not UTF-8\n  hint: save the file as UTF-8 (in Excel: CSV UTF-8, or iconv -f UTF-16 -t UTF-8), then run the command again".to_string(),
        ),
        (
            "parquet",
            &parquet,
            "error: {dir}/accounts.csv: the file is a Parquet file (it starts with PAR1), not CSV text\n  hint: rename the file to accounts.parquet".to_string(),
        ),
    ];

    for (name, bytes, expected) in cases {
        let exports = exports_with(dir.path(), name, &[("accounts.csv", bytes)]);

        let (success, stdout) = validate(&exports);

        let expected = expected.replace("{dir}", &exports.display().to_string());
        assert!(!success, "{name}: validate passed");
        assert_eq!(
            issue_lines(&stdout, "error: ").join("\n"),
            expected,
            "{name}: {stdout}"
        );
    }
}

#[test]
fn validate_rejects_far_future_usage_date() {
    let dir = tempfile::tempdir().unwrap();
    let mut usage = fs::read_to_string({
        let probe = exports_with(dir.path(), "probe", &[]);
        probe.join("usage.csv")
    })
    .unwrap();
    usage.push_str("A2,2099-01-31,active_users,4\n");
    let exports = exports_with(dir.path(), "future", &[("usage.csv", usage.as_bytes())]);

    let (success, stdout) = validate(&exports);

    // The header, 6 months of A1 and 6 of A2: the added row is on line 14.
    assert!(!success);
    let errors = issue_lines(&stdout, "error: ");
    assert_eq!(errors.len(), 2, "{stdout}");
    assert!(
        errors[0].starts_with(&format!(
            "error: {}:14: column \"date\": usage date after the end of the current month (",
            exports.join("usage.csv").display()
        )),
        "{stdout}"
    );
    assert!(errors[0].ends_with("): \"2099-01-31\""), "{stdout}");
}

const OUTCOMES_HEADER: &str = "account_id,date,outcome,contract_id,arr_before,arr_after,reason\n";

#[test]
fn validate_rejects_mislabelling_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let outcomes = [
        OUTCOMES_HEADER,
        // Line 2: dated decades ahead, which would end the history in 2099.
        "A1,2099-05-31,renewed,CA1,12000,12000,\n",
        // Lines 3 and 4: one expansion exported twice, with two amounts.
        "A1,2026-06-30,expanded,CA1,12000,15000,\n",
        "A1,2026-06-30,expanded,CA1,12000,16000,\n",
        // Line 5: a churn that keeps ARR.
        "A2,2026-07-31,churned,CA2,12000,50,\n",
        // Line 6: a renewal on the day of that churn.
        "A2,2026-07-31,renewed,CA2,12000,12000,\n",
        // Line 7: an expansion that does not grow ARR.
        "A2,2026-05-31,expanded,CA2,12000,12000,\n",
        // Line 8: a contraction that does not shrink it.
        "A2,2026-06-30,contracted,CA2,12000,13000,\n",
    ]
    .concat();
    let exports = exports_with(
        dir.path(),
        "outcomes",
        &[("outcomes.csv", outcomes.as_bytes())],
    );

    let (success, stdout) = validate(&exports);

    assert!(!success);
    let file = exports.join("outcomes.csv").display().to_string();
    let errors = issue_lines(&stdout, "error: ");
    let expected = [
        format!("error: {file}:2: column \"date\": outcome date after the end of the current month ("),
        "  hint: correct the date: record an outcome once it has happened, because a later date moves the end of the history that decides which training rows are labelled".to_string(),
        format!("error: {file}:4: column \"arr_after\": outcome A1 2026-06-30 expanded CA1 repeats line 3 with other facts: arr_after 16000 against 15000: \"16000\""),
        "  hint: keep one row per outcome, with the correct facts".to_string(),
        format!("error: {file}:5: column \"arr_after\": churned outcome for account A2 with arr_after 50, not 0 (arr_before 12000): \"50\""),
        "  hint: a churned account keeps no ARR: write 0 or leave arr_after blank, or record the outcome as contracted".to_string(),
        format!("error: {file}:6: column \"outcome\": outcome renewed for account A2 on 2026-07-31 contradicts the churned outcome of the same day and contract on line 5: \"renewed\""),
        "  hint: keep one outcome per account, day and contract when one of them is a churn: fix the date or the outcome of one row".to_string(),
        format!("error: {file}:7: column \"arr_after\": expanded outcome for account A2 with arr_after 12000, not above arr_before (arr_before 12000): \"12000\""),
        "  hint: check the amounts, or record the outcome as renewed or contracted".to_string(),
        format!("error: {file}:8: column \"arr_after\": contracted outcome for account A2 with arr_after 13000, not below arr_before (arr_before 12000): \"13000\""),
        "  hint: check the amounts, or record the outcome as renewed or expanded".to_string(),
    ];
    assert_eq!(errors.len(), expected.len(), "{stdout}");
    for (line, want) in errors.iter().zip(&expected) {
        assert!(line.starts_with(want.as_str()), "expected {want}\n{stdout}");
    }
    assert!(errors[0].ends_with("): \"2099-05-31\""), "{stdout}");
}

#[test]
fn invalid_outcomes_leave_no_project() {
    let dir = tempfile::tempdir().unwrap();
    let outcomes = format!("{OUTCOMES_HEADER}A1,2099-05-31,renewed,CA1,12000,12000,\n");
    let exports = exports_with(
        dir.path(),
        "future",
        &[("outcomes.csv", outcomes.as_bytes())],
    );
    let project = dir.path().join("project");

    let output = import(&exports, &project, &[]);

    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("outcome date after the end of the current month"),
        "{}",
        stderr_of(&output)
    );
    assert!(!project.join("tables").exists(), "tables written");
}

#[test]
fn import_reads_repeated_outcome_once() {
    let dir = tempfile::tempdir().unwrap();
    let outcomes = [
        OUTCOMES_HEADER,
        "A1,2026-06-30,renewed,CA1,12000,12000,\n",
        "A1,2026-06-30,renewed,CA1,12000,12000,\n",
        // An account-level churn on the day its contract renewed.
        "A2,2026-07-31,churned,,,,pricing\n",
        "A2,2026-07-31,renewed,CA2,12000,12000,\n",
    ]
    .concat();
    let exports = exports_with(
        dir.path(),
        "repeated",
        &[("outcomes.csv", outcomes.as_bytes())],
    );
    let project = dir.path().join("project");

    let output = import(&exports, &project, &[]);

    assert!(output.status.success(), "{}", stderr_of(&output));
    let file = exports.join("outcomes.csv").display().to_string();
    let printed = format!("{}{}", stdout_of(&output), stderr_of(&output));
    let warnings = issue_lines(&printed, "warning: ");
    assert_eq!(
        warnings,
        [
            format!("warning: {file}:3: column \"account_id\": 1 outcome row(s) repeat an earlier row in every column and are read once, such as A1 2026-06-30 renewed (first on line 2): \"A1\""),
            "  hint: nothing to do if the export lists one event twice; if they are two events, give them different dates or contracts".to_string(),
            format!("warning: {file}:5: column \"outcome\": outcome renewed for account A2 on 2026-07-31 shares its day with a churned outcome naming no contract on line 4; the labels count both: \"renewed\""),
            "  hint: if the account left that day, drop the other outcome; if only one contract ended, give the churn its contract_id or record it as contracted".to_string(),
        ],
        "{printed}"
    );
    let tables = Tables::read_project(&project).unwrap();
    assert_eq!(tables.outcomes.height(), 3);
}

#[test]
fn validate_names_missing_folder() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-exports");
    let file = dir.path().join("a-file");
    fs::write(&file, "not a folder").unwrap();

    for (path, reason) in [(&missing, "no such folder"), (&file, "not a folder")] {
        let output = headroom().arg("validate").arg(path).output().unwrap();

        assert!(!output.status.success());
        let stderr = stderr_of(&output);
        assert!(
            stderr.contains(&format!("{}: {reason}", path.display())),
            "{stderr}"
        );
    }
}

#[test]
fn import_warns_of_empty_usage() {
    let dir = tempfile::tempdir().unwrap();
    let exports = exports_with(
        dir.path(),
        "header-only",
        &[("usage.csv", b"account_id,date,metric,value\n")],
    );
    let project = dir.path().join("project");

    let output = import(&exports, &project, &[]);

    assert!(output.status.success(), "{}", stderr_of(&output));
    let printed = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert_eq!(
        issue_lines(&printed, "warning: "),
        [
            "warning: usage: the usage table has no rows: no account can be scored or trained on",
            "  hint: export the usage again with its rows; a file with only its header imports nothing",
        ],
        "{printed}"
    );
    let score = run_in(&project, &["score"]);
    assert!(!score.status.success());
    assert!(
        stderr_of(&score).contains(
            "the tables hold no usage rows, and the default date is that of the latest one"
        ),
        "{}",
        stderr_of(&score)
    );
}

#[test]
fn validate_rejects_conflicting_and_future_interventions() {
    let dir = tempfile::tempdir().unwrap();
    let interventions = [
        "account_id,date,kind,note\n",
        // Lines 2 and 3: one call exported twice, read once.
        "A1,2026-05-12,call,\n",
        "A1,2026-05-12,call,\n",
        "A2,2099-02-01,email,\n",
        // Lines 5 and 6: one call with two notes.
        "A2,2026-05-12,call,first\n",
        "A2,2026-05-12,call,second\n",
    ]
    .concat();
    let exports = exports_with(
        dir.path(),
        "interventions",
        &[("interventions.csv", interventions.as_bytes())],
    );

    let (success, stdout) = validate(&exports);

    assert!(!success);
    let file = exports.join("interventions.csv").display().to_string();
    assert_eq!(
        issue_lines(&stdout, "warning: "),
        [
            format!("warning: {file}:3: column \"account_id\": 1 intervention row(s) repeat an earlier row in every column and are read once, such as A1 2026-05-12 call (first on line 2): \"A1\""),
            "  hint: nothing to do if the export lists one event twice; if they are two events, give them different dates or contracts".to_string(),
        ],
        "{stdout}"
    );
    let errors = issue_lines(&stdout, "error: ");
    assert_eq!(errors.len(), 4, "{stdout}");
    assert!(
        errors[0].starts_with(&format!(
            "error: {file}:4: column \"date\": intervention date after the end of the current month ("
        )),
        "{stdout}"
    );
    assert_eq!(
        errors[2..],
        [
            format!(
                "error: {file}:6: column \"note\": intervention A2 2026-05-12 call repeats line 5 with other facts: note second against first: \"second\""
            ),
            "  hint: keep one row per intervention, with the correct facts".to_string(),
        ]
    );
}

#[test]
fn validate_warns_when_one_cell_decides_date_order() {
    let dir = tempfile::tempdir().unwrap();
    // Two cells read either way and one only day first: all three are read
    // day first, so the first undecided cell (line 2) is reported.
    let usage = "account_id,date,metric,value\nA1,01/02/2026,active_users,3\nA2,02/03/2026,active_users,4\nA2,13/03/2026,active_users,4\n";
    let exports = exports_with(dir.path(), "order", &[("usage.csv", usage.as_bytes())]);

    let (success, stdout) = validate(&exports);

    assert!(success, "{stdout}");
    assert_eq!(
        issue_lines(&stdout, "warning: ").join("\n"),
        format!(
            "warning: {}:2: column \"date\": 2 date(s) that could be either order, this one among them, are read as DD/MM/YYYY only because 1 date(s) such as \"13/03/2026\" (line 4) cannot be read the other way: \"01/02/2026\"\n  hint: check \"13/03/2026\" and correct it if it is a typo, then set date_format in the mapping: \"%d/%m/%Y\" for day first, \"%m/%d/%Y\" for month first",
            exports.join("usage.csv").display()
        )
    );
}

#[test]
fn validate_reports_invalid_date_once() {
    let dir = tempfile::tempdir().unwrap();
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\nCA1,A1,2026-13-01,2026-12-31,12000,USD\nCA2,A2,2026-01-01,2026-12-31,12000,USD\n";
    let exports = exports_with(
        dir.path(),
        "bad-date",
        &[("contracts.csv", contracts.as_bytes())],
    );

    let (success, stdout) = validate(&exports);

    assert!(!success);
    assert_eq!(
        issue_lines(&stdout, "error: ").join("\n"),
        format!(
            "error: {}:2: column \"start_date\": not a date: there is no month 13: \"2026-13-01\"\n  hint: correct the day or the month: the cell has the right format but names no calendar day",
            exports.join("contracts.csv").display()
        )
    );
}

#[test]
fn validate_rejects_csv_beside_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let source = exports_with(dir.path(), "source", &[]);
    let project = dir.path().join("project");
    assert!(import(&source, &project, &[]).status.success());
    let usage = fs::read(project.join("tables/usage.parquet")).unwrap();
    let exports = exports_with(dir.path(), "both", &[("usage.parquet", &usage)]);

    let (success, stdout) = validate(&exports);

    let shown = |name: &str| exports.join(name).display().to_string();
    assert!(!success);
    assert_eq!(
        issue_lines(&stdout, "error: ").join("\n"),
        format!(
            "error: {}: 2 sources named usage: {} and {}; a table is read from one\n  hint: move the ones not to import out of the folder, or give the file name with its extension in a mapping, such as file = \"usage.csv\"",
            shown("usage"),
            shown("usage.csv"),
            shown("usage.parquet")
        )
    );
}

#[test]
fn misspelled_config_section_stops_commands() {
    let dir = tempfile::tempdir().unwrap();
    let project = imported_project(dir.path());
    let config = project.join("headroom.toml");
    fs::write(&config, "[modle]\nhorizon_days = 90\n").unwrap();

    for command in [&["train"][..], &["score", "--no-snapshot"][..]] {
        let output = run_in(&project, command);
        let stderr = stderr_of(&output);
        assert!(!output.status.success(), "{command:?} succeeded");
        assert!(
            stderr.contains(&format!(
                "invalid config {}: unknown section [modle]",
                config.display()
            )),
            "{command:?}: {stderr}"
        );
        assert!(stderr.contains("did you mean [model]?"), "{stderr}");
    }
}

#[test]
fn demo_rejects_start_inside_a_month() {
    let dir = tempfile::tempdir().unwrap();

    let output = headroom()
        .args(["demo", "--start", "2025-12-15", "--dir"])
        .arg(dir.path().join("demo"))
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("--start 2025-12-15 is not a month-end: the demo scores and reviews whole months\nhint: pass --start 2025-12-31"),
        "{stderr}"
    );
    assert!(!dir.path().join("demo").exists(), "demo folder created");
}

#[test]
fn missing_column_hint_fits_contract_format() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = "account_id,customer_since,segment\nA1,2024-01-01,smb\nA2,2024-01-01,smb\n";
    let exports = exports_with(
        dir.path(),
        "no-name",
        &[("accounts.csv", accounts.as_bytes())],
    );

    let (success, stdout) = validate(&exports);

    assert!(!success);
    assert_eq!(
        issue_lines(&stdout, "error: "),
        [
            format!(
                "error: {}:1: column \"name\": column not found in the header",
                exports.join("accounts.csv").display()
            ),
            "  hint: the header has: account_id, customer_since, segment; rename the column in the file, or pass --mapping with a file that names it".to_string(),
        ],
        "{stdout}"
    );
}

#[test]
fn demo_rejects_months_past_the_sample() {
    let dir = tempfile::tempdir().unwrap();

    let output = headroom()
        .args(["demo", "--start", "2026-10-31", "--months", "3", "--dir"])
        .arg(dir.path().join("demo"))
        .current_dir(workspace_root())
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("--start 2026-10-31 with --months 3 runs to 2027-01-31, after the sample's history ends on 2026-10-31\nhint: pass an earlier --start (at the latest 2026-07-31) or fewer --months"),
        "{stderr}"
    );
    assert!(!dir.path().join("demo").exists(), "demo folder created");
}
