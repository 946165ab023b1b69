//! `headroom validate` and `headroom import` end to end, on the bundled
//! examples, the public RavenStack export, and broken fixtures.

use std::path::{Path, PathBuf};

use headroom_data::Tables;

use super::headroom;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// The public data folder: `HEADROOM_PUBLIC_DATA`, else `../shared/data` beside
/// the workspace, else `/work/shared/data`.
fn public_data() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("HEADROOM_PUBLIC_DATA").map(PathBuf::from),
        Some(workspace_root().join("../shared/data")),
        Some(PathBuf::from("/work/shared/data")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_dir());
    if found.is_none() {
        eprintln!("note: public data not found; set HEADROOM_PUBLIC_DATA to run this test");
    }
    found
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn validate_ravenstack_reports_counts_and_faults() {
    let Some(data) = public_data() else { return };
    let mapping = workspace_root().join("data/mappings/ravenstack.toml");
    let assert = headroom()
        .arg("validate")
        .arg(data.join("ravenstack"))
        .arg("--mapping")
        .arg(&mapping)
        .assert()
        .success();
    let stdout = stdout_of(assert.get_output());
    for expected in [
        "  accounts             500 rows",
        "  contracts          4,222 rows",
        "  usage             32,490 rows",
        "19,142 usage row(s) dated before the start_date of their subscription_id",
        "290 usage row(s) dated after the end_date of their subscription_id",
        "312 account(s) whose churn flag disagrees with the churned outcomes: 35 flagged without a churned outcome, 277 with a churned outcome but not flagged",
        "3,713 contract(s) in 497 account(s) start before an earlier contract of the same account ends",
        "778 row(s) skipped: trial subscription (no ARR)",
        "1 outcome row(s) repeat an earlier row in every column and are read once, such as A-cc102e 2024-11-19 churned (first on line 486)",
        "outcome expanded for account A-0b0d6d on 2024-12-31 shares its day with a churned outcome naming no contract on",
        "0 error(s), 12 warning(s)",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

#[test]
fn import_ravenstack_writes_readable_tables() {
    let Some(data) = public_data() else { return };
    let project = tempfile::tempdir().unwrap();
    let mapping = workspace_root().join("data/mappings/ravenstack.toml");
    let assert = headroom()
        .arg("import")
        .arg(data.join("ravenstack"))
        .arg("--mapping")
        .arg(&mapping)
        .arg("--out")
        .arg(project.path())
        .assert()
        .success();
    let stdout = stdout_of(assert.get_output());
    assert!(stdout.contains("wrote "), "{stdout}");

    let tables = Tables::read_project(project.path()).unwrap();
    assert_eq!(tables.accounts.height(), 500);
    assert_eq!(tables.contracts.height(), 4222);
    assert_eq!(tables.usage.height(), 32490);
    assert_eq!(tables.outcomes.height(), 1702);
    assert_eq!(tables.meta.rollups.len(), 5);
}

#[test]
fn validate_flat_portfolio_example() {
    let root = workspace_root();
    let assert = headroom()
        .arg("validate")
        .arg(root.join("data/examples/flat-portfolio"))
        .arg("--mapping")
        .arg(root.join("data/mappings/flat-portfolio.toml"))
        .assert()
        .success();
    let stdout = stdout_of(assert.get_output());
    assert!(
        stdout.contains("  accounts              13 rows"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("2 account(s) excluded: 1 internal or trial account, 1 listed in [exclude]"),
        "{stdout}"
    );
}

fn broken_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "accounts.csv",
            "account_id,name,customer_since\nA1,Acme,2020-01-15\nA2,Beta,2021-06-01\n",
        ),
        (
            "contracts.csv",
            "contract_id,account_id,start_date,end_date,arr,currency\nC1,A1,2024-01-01,2025-01-01,\"$120,000\",USD\nC2,A2,2024-03-01,2025-03-01,\"1.299,99 EUR\",USD\n",
        ),
        (
            "entitlements.csv",
            "contract_id,entitlement,kind,limit,period\nC1,seats,seats,100,term\n",
        ),
        (
            "usage.csv",
            "account_id,date,metric,value\nA1,2024-01-31,active_users,80\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn validate_fails_naming_file_line_and_value() {
    let dir = broken_fixture();
    let assert = headroom()
        .arg("validate")
        .arg(dir.path())
        .assert()
        .failure();
    let stdout = stdout_of(assert.get_output());
    let expected = format!(
        "error: {}:3: column \"arr\": amount is marked as EUR but the row's currency is USD: \"1.299,99 EUR\"",
        dir.path().join("contracts.csv").display()
    );
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(stdout.contains("  hint: "), "{stdout}");
    let stderr = stderr_of(assert.get_output());
    assert!(stderr.contains("has 1 error(s)"), "{stderr}");
}

#[test]
fn import_of_broken_input_writes_nothing() {
    let dir = broken_fixture();
    let project = tempfile::tempdir().unwrap();
    let assert = headroom()
        .arg("import")
        .arg(dir.path())
        .arg("--out")
        .arg(project.path())
        .assert()
        .failure();
    let stderr = stderr_of(assert.get_output());
    assert!(
        stderr.contains("1 error(s) in the input; nothing was written"),
        "{stderr}"
    );
    assert!(!project.path().join("tables").exists());
}

#[test]
fn invalid_mapping_is_reported_with_its_key() {
    let dir = broken_fixture();
    let mapping = dir.path().join("mapping.toml");
    std::fs::write(
        &mapping,
        "[[accounts]]\nfile = \"accounts.csv\"\ncolumns = { account_id = \"account_id\" }\n",
    )
    .unwrap();
    let assert = headroom()
        .arg("validate")
        .arg(dir.path())
        .arg("--mapping")
        .arg(&mapping)
        .assert()
        .failure();
    let stderr = stderr_of(assert.get_output());
    assert!(
        stderr.contains("[[accounts]] #1 does not provide the required column accounts.name"),
        "{stderr}"
    );
}

#[test]
fn validate_flat_portfolio_output() {
    let root = workspace_root();
    let assert = headroom()
        .current_dir(&root)
        .args([
            "validate",
            "data/examples/flat-portfolio",
            "--mapping",
            "data/mappings/flat-portfolio.toml",
        ])
        .assert()
        .success();
    insta::assert_snapshot!(stdout_of(assert.get_output()));
}

#[test]
fn sample_validates_and_imports_with_its_rollups() {
    let project = tempfile::tempdir().unwrap();
    let sample = workspace_root().join("data/sample");
    let output = headroom()
        .arg("import")
        .arg(&sample)
        .arg("--out")
        .arg(project.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stdout_of(&output).contains("0 error(s)"));

    // The simulator's meta.json beside the tables carries the month rollups.
    let tables = Tables::read_project(project.path()).unwrap();
    assert_eq!(
        tables.meta.rollup("active_users"),
        headroom_data::Rollup::Max
    );
    assert_eq!(
        tables.meta.rollup("storage_gb"),
        headroom_data::Rollup::Last
    );
    assert_eq!(tables.meta.rollup("api_calls"), headroom_data::Rollup::Sum);
    assert_eq!(tables.accounts.height(), 2_000);
}

#[test]
fn error_prints_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tables")).unwrap();

    let output = headroom()
        .args(["features", "--as-of", "2025-01-31", "--project"])
        .arg(dir.path())
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(stderr.contains("accounts.parquet"), "{stderr}");
    // The I/O error is quoted by the message above it and not repeated.
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
}

fn two_currency_exports(dir: &Path) {
    let files = [
        (
            "accounts.csv",
            "account_id,name,customer_since\nA1,Acme,2020-01-15\nA2,Beta,2021-06-01\n",
        ),
        (
            "contracts.csv",
            "contract_id,account_id,start_date,end_date,arr,currency\nC1,A1,2024-01-01,2025-01-01,1000,USD\nC2,A2,2024-03-01,2025-03-01,2000,EUR\n",
        ),
        (
            "entitlements.csv",
            "contract_id,entitlement,kind,limit,period\nC1,seats,seats,10,term\nC2,seats,seats,20,term\n",
        ),
        (
            "usage.csv",
            "account_id,date,metric,value\nA1,2024-01-31,active_users,8\nA2,2024-03-31,active_users,15\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

#[test]
fn init_writes_config_and_store() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("acme");

    let assert = headroom().arg("init").arg(&project).assert().success();

    let stdout = stdout_of(assert.get_output());
    assert!(stdout.contains("next: headroom import"), "{stdout}");
    let config = std::fs::read_to_string(project.join("headroom.toml")).unwrap();
    assert!(config.contains("horizon_days = 180"), "{config}");
    assert!(project.join("store").is_dir());
}

#[test]
fn init_keeps_existing_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("headroom.toml"),
        "[model]\nhorizon_days = 90\n",
    )
    .unwrap();

    let assert = headroom().arg("init").arg(dir.path()).assert().failure();

    let stderr = stderr_of(assert.get_output());
    assert!(stderr.contains("already exists"), "{stderr}");
    assert!(
        stderr.contains("hint: edit it, or pass --force"),
        "{stderr}"
    );
    let config = std::fs::read_to_string(dir.path().join("headroom.toml")).unwrap();
    assert_eq!(config, "[model]\nhorizon_days = 90\n");
}

#[test]
fn import_reads_currency_from_project_config() {
    let source = tempfile::tempdir().unwrap();
    two_currency_exports(source.path());
    let project = tempfile::tempdir().unwrap();
    headroom()
        .arg("init")
        .arg(project.path())
        .assert()
        .success();
    let config = project.path().join("headroom.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[currency]\nreport = \"USD\"\nrates = { EUR = 1.1 }\n");
    std::fs::write(&config, text).unwrap();

    headroom()
        .arg("import")
        .arg(source.path())
        .arg("--project")
        .arg(project.path())
        .assert()
        .success();

    let tables = Tables::read_project(project.path()).unwrap();
    assert_eq!(tables.meta.currency.as_deref(), Some("USD"));
    assert_eq!(tables.meta.fx.get("EUR"), Some(&1.1));
}
