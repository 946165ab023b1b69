//! `headroom features` end to end: a project written in a temporary folder,
//! the binary run on it, its output read back.

use std::path::Path;

use chrono::NaiveDate;
use headroom_data::{Rollup, Tables};
use polars::prelude::*;

use crate::headroom;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Two smb accounts with 20 and 10 seats. a1 uses 8 seats in December 2022;
/// a2 uses 5; a2's contract is in `a2_currency`.
fn tables(a2_currency: &str) -> Tables {
    let mut tables = Tables::empty();
    tables.accounts = df!(
        "account_id" => ["a1", "a2"],
        "name" => ["Acme", "Beta"],
        "customer_since" => [day(2022, 1, 1), day(2022, 1, 1)],
        "segment" => [Some("smb"), Some("smb")],
        "industry" => [Some("retail"), Some("retail")],
        "region" => [None::<&str>, None],
        "owner" => [None::<&str>, None],
    )
    .unwrap();
    tables.contracts = df!(
        "contract_id" => ["c1", "c2"],
        "account_id" => ["a1", "a2"],
        "start_date" => [day(2022, 1, 1), day(2022, 1, 1)],
        "end_date" => [day(2023, 12, 31), day(2023, 6, 30)],
        "arr" => [12_000.0, 5_000.0],
        "currency" => ["USD", a2_currency],
        "plan" => [Some("pro"), None],
        "auto_renew" => [Some(true), None],
    )
    .unwrap();
    tables.entitlements = df!(
        "contract_id" => ["c1", "c2"],
        "entitlement" => ["seats", "seats"],
        "kind" => ["seats", "seats"],
        "limit" => [Some(20.0), Some(10.0)],
        "period" => ["term", "term"],
        "metric" => [None::<&str>, None],
        "enforcement" => [None::<&str>, None],
    )
    .unwrap();
    let months: Vec<NaiveDate> = (1..=12)
        .map(|m| day(2022, m, 1) + chrono::Months::new(1) - chrono::Days::new(1))
        .collect();
    let mut ids = vec!["a1"; 12];
    ids.extend(vec!["a2"; 12]);
    let mut dates = months.clone();
    dates.extend(months);
    let mut values: Vec<f64> = (0..12).map(|m| 19.0 - m as f64).collect();
    values.extend(vec![5.0; 12]);
    tables.usage = df!(
        "account_id" => ids,
        "date" => dates,
        "metric" => vec!["active_users"; 24],
        "value" => values,
    )
    .unwrap()
    .into();
    tables
        .meta
        .rollups
        .insert("active_users".into(), Rollup::Max);
    tables
}

fn project(dir: &Path, a2_currency: &str) {
    tables(a2_currency).write_project(dir).unwrap();
}

fn stderr_of(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(out.get_output().stderr.clone()).unwrap()
}

#[test]
fn features_writes_parquet() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "USD");
    let out = dir.path().join("features.parquet");
    headroom()
        .args(["features", "--as-of", "2022-12-31", "--project"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();

    let df = ParquetReader::new(std::fs::File::open(&out).unwrap())
        .finish()
        .unwrap();
    assert_eq!(df.height(), 2);
    let util = df.column("util_seats").unwrap().f64().unwrap();
    // a1: 8 of 20 seats in December (19 - 11); a2: 5 of 10.
    assert_eq!(util.get(0), Some(0.4));
    assert_eq!(util.get(1), Some(0.5));
    assert_eq!(df.column("as_of").unwrap().dtype(), &DataType::Date);
    assert!(!dir.path().join(".features.parquet.partial").exists());
}

#[test]
fn features_writes_csv_file_and_stdout() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "USD");
    let out = dir.path().join("features.csv");
    headroom()
        .args(["features", "--as-of", "2022-12-31", "--project"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let file = std::fs::read_to_string(&out).unwrap();
    assert!(file.starts_with("account_id,as_of,name,"));
    assert!(
        file.lines()
            .nth(1)
            .unwrap()
            .starts_with("a1,2022-12-31,Acme,")
    );

    let run = headroom()
        .args(["features", "--as-of", "2022-12-31", "--project"])
        .arg(dir.path())
        .assert()
        .success();
    let stdout = String::from_utf8(run.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout, file);
}

#[test]
fn features_monthly_panel_has_row_per_month_end() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "USD");
    let out = dir.path().join("panel.parquet");
    headroom()
        .args([
            "features",
            "--from",
            "2022-10-01",
            "--to",
            "2022-12-31",
            "--project",
        ])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let df = ParquetReader::new(std::fs::File::open(&out).unwrap())
        .finish()
        .unwrap();
    // Two accounts at Oct 31, Nov 30 and Dec 31.
    assert_eq!(df.height(), 6);
}

#[test]
fn features_rejects_unknown_extension() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "USD");
    let out = dir.path().join("features.xlsx");
    let run = headroom()
        .args(["features", "--as-of", "2022-12-31", "--project"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .assert()
        .failure();
    let stderr = stderr_of(&run);
    assert!(stderr.contains("features.xlsx"), "{stderr}");
    assert!(
        stderr.contains("hint: name the file features.parquet"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn features_names_mixed_currencies() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "EUR");
    let run = headroom()
        .args(["features", "--as-of", "2022-12-31", "--project"])
        .arg(dir.path())
        .assert()
        .failure();
    let stderr = stderr_of(&run);
    assert!(stderr.contains("(EUR, USD)"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn features_reports_missing_tables() {
    let dir = tempfile::tempdir().unwrap();
    let run = headroom()
        .args(["features", "--as-of", "2022-12-31", "--project"])
        .arg(dir.path())
        .assert()
        .failure();
    let stderr = stderr_of(&run);
    assert!(
        stderr.contains("contains no imported data (no tables/ folder)"),
        "{stderr}"
    );
}

#[test]
fn features_rejects_bad_config_key() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "USD");
    std::fs::write(dir.path().join("headroom.toml"), "[features]\ngrace = 10\n").unwrap();
    let run = headroom()
        .args(["features", "--as-of", "2022-12-31", "--project"])
        .arg(dir.path())
        .assert()
        .failure();
    let stderr = stderr_of(&run);
    assert!(stderr.contains("[features]"), "{stderr}");
    assert!(stderr.contains("grace"), "{stderr}");
}

#[test]
fn features_reads_grace_from_config() {
    let dir = tempfile::tempdir().unwrap();
    // Features as of 2023-07-10 read June 2023, so the project needs usage
    // up to then: a1 uses 7 seats in June.
    let mut with_june = tables("USD");
    let june = df!(
        "account_id" => ["a1"],
        "date" => [day(2023, 6, 30)],
        "metric" => ["active_users"],
        "value" => [7.0],
    )
    .unwrap();
    with_june.usage = with_june
        .usage
        .frame()
        .unwrap()
        .vstack(&june)
        .unwrap()
        .into();
    with_june.write_project(dir.path()).unwrap();
    // a2's contract ended 2023-06-30; 2023-07-10 is 10 days later.
    let run = |config: &str| {
        std::fs::write(dir.path().join("headroom.toml"), config).unwrap();
        let out = headroom()
            .args(["features", "--as-of", "2023-07-10", "--project"])
            .arg(dir.path())
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    assert_eq!(run("").lines().count(), 3);
    assert_eq!(run("[features]\ngrace_days = 5\n").lines().count(), 2);
}

#[test]
fn features_requires_a_date() {
    let run = headroom().args(["features"]).assert().failure();
    assert!(stderr_of(&run).contains("--as-of"));
}

#[test]
fn features_describe_prints_catalogue() {
    let run = headroom()
        .args(["features", "--describe"])
        .assert()
        .success();
    let stdout = String::from_utf8(run.get_output().stdout.clone()).unwrap();
    insta::assert_snapshot!(stdout);
}
