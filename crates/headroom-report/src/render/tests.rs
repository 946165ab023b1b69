//! The renderings of a small fixture run: insta snapshots of the terminal
//! table and the CSV, and checks of the JSON and HTML.

use super::*;
use crate::settings::ScoreSettings;
use crate::testkit::{Acct, date, score_tables, tables};

/// Four accounts: at risk near renewal, a usage drop, growth toward the
/// seat limit, and a healthy one.
fn fixture_run() -> ScoreRun {
    let at_risk = Acct::new("A100")
        .segment("mid-market")
        .contract(date(2026, 12, 15), 48_000.0)
        .seats(80.0)
        .feature("reports")
        .feature("sandbox")
        .monthly(
            "active_users",
            2026,
            1,
            &[30.0, 29.0, 28.0, 27.0, 26.0, 25.0, 24.0, 23.0, 22.0, 21.0],
        )
        .monthly("feature_reports", 2026, 1, &[4.0; 10]);
    let dropped = Acct::new("B200").seats(50.0).monthly(
        "active_users",
        2026,
        1,
        &[40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 22.0],
    );
    let growing = Acct::new("C300")
        .segment("enterprise")
        .contract(date(2027, 3, 31), 120_000.0)
        .seats(200.0)
        .monthly(
            "active_users",
            2026,
            1,
            &[
                150.0, 152.0, 155.0, 158.0, 162.0, 166.0, 170.0, 175.0, 180.0, 186.0,
            ],
        );
    let healthy = Acct::new("D400")
        .seats(40.0)
        .monthly("active_users", 2026, 1, &[28.0; 10]);
    let tables = tables(&[at_risk, dropped, growing, healthy], None);
    score_tables(&tables, date(2026, 10, 31), &ScoreSettings::default(), &[])
}

#[test]
fn terminal_table_snapshot() {
    insta::assert_snapshot!(render_table(&fixture_run()));
}

#[test]
fn csv_snapshot() {
    insta::assert_snapshot!(render_csv(&fixture_run()));
}

#[test]
fn csv_header_is_the_stable_column_list() {
    let csv = render_csv(&fixture_run());
    let header = csv.lines().next().unwrap();
    assert_eq!(header, CSV_COLUMNS.join(","));
    assert_eq!(csv.lines().count(), 5);
}

#[test]
fn json_names_the_run_and_every_account() {
    let json: serde_json::Value = serde_json::from_str(&render_json(&fixture_run())).unwrap();
    assert_eq!(json["format"], 1);
    assert_eq!(json["as_of"], "2026-10-31");
    assert_eq!(json["accounts"].as_array().unwrap().len(), 4);
    assert_eq!(json["top"][0], json["accounts"][0]["account_id"]);
    assert_eq!(json["segments"].as_array().unwrap().len(), 7);
    assert_eq!(json["models"]["churn"], serde_json::Value::Null);
    let first = &json["accounts"][0];
    for key in [
        "health_segment",
        "p_churn",
        "arr_at_risk",
        "priority",
        "alerts",
        "actions",
        "talking_points",
        "sparkline",
    ] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
}

#[test]
fn html_is_self_contained() {
    let html = render_html(&fixture_run());
    assert!(html.starts_with("<!DOCTYPE html>"));
    for external in ["http://", "https://", "src=", "<link", "@import"] {
        assert!(!html.contains(external), "the report refers to {external}");
    }
    // Two segment bars, the utilization histogram and 4 sparklines; no
    // model, so no probability, calibration or lift chart.
    assert_eq!(html.matches("data-chart=").count(), 7);
    assert!(html.contains("No churn model: no churn probabilities in this run."));
}

#[test]
fn owner_reports_hold_only_their_accounts() {
    let mut run = fixture_run();
    run.accounts[0].facts.owner = Some("Omar Haddad".to_string());
    let dir = tempfile::tempdir().unwrap();
    let written = write_by_owner(&run, Format::Csv, dir.path()).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["dana-lee.csv", "omar-haddad.csv"]);
    let omar = std::fs::read_to_string(&written[1]).unwrap();
    assert_eq!(omar.lines().count(), 2);
    assert!(omar.lines().nth(1).unwrap().starts_with("1,"));
    let dana = std::fs::read_to_string(&written[0]).unwrap();
    assert_eq!(dana.lines().count(), 4);
}

#[test]
fn file_stems_are_plain() {
    assert_eq!(file_stem("Dana Lee"), "dana-lee");
    assert_eq!(file_stem("  José / EMEA "), "jos-emea");
    assert_eq!(file_stem("***"), "unnamed");
}

#[test]
fn atomic_write_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("report.csv");
    write_atomic(&path, "a,b\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\n");
    let entries: Vec<_> = std::fs::read_dir(dir.path().join("sub")).unwrap().collect();
    assert_eq!(entries.len(), 1);
}
