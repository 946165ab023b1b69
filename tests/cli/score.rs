//! `headroom score` and `headroom account` end to end: the bundled sample,
//! the flat portfolio export, a small simulated project with trained models,
//! every output format, the HTML in headless Chromium, and bad settings.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use chrono::{Days, NaiveDate, Utc};
use headroom_report::render::CSV_COLUMNS;
use headroom_store::{NewNote, Store};
use polars::prelude::*;
use serde_json::Value;

use super::headroom;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Imports the bundled sample into `dir`.
fn sample_project(dir: &Path) {
    headroom()
        .arg("import")
        .arg(workspace_root().join("data/sample"))
        .arg("--out")
        .arg(dir)
        .assert()
        .success();
}

/// Imports the flat portfolio example into `dir`.
fn flat_project(dir: &Path) {
    let root = workspace_root();
    headroom()
        .arg("import")
        .arg(root.join("data/examples/flat-portfolio"))
        .arg("--mapping")
        .arg(root.join("data/mappings/flat-portfolio.toml"))
        .arg("--out")
        .arg(dir)
        .assert()
        .success();
}

/// Simulates 300 accounts over 36 months and imports them into `project`.
fn simulated_project(work: &Path) -> PathBuf {
    let source = work.join("sim");
    let project = work.join("project");
    headroom()
        .args([
            "sim",
            "--accounts",
            "300",
            "--months",
            "36",
            "--start",
            "2023-11",
            "--seed",
            "11",
            "--out",
        ])
        .arg(&source)
        .assert()
        .success();
    headroom()
        .arg("import")
        .arg(&source)
        .arg("--out")
        .arg(&project)
        .assert()
        .success();
    project
}

fn score_json(project: &Path, extra: &[&str]) -> Value {
    let output = headroom()
        .arg("score")
        .arg("--project")
        .arg(project)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    serde_json::from_str(&stdout_of(&output)).unwrap()
}

#[test]
fn sample_top_ten_is_explained_by_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    sample_project(dir.path());
    let json = score_json(dir.path(), &["--no-snapshot"]);

    assert_eq!(json["as_of"], "2026-10-31");
    let accounts = json["accounts"].as_array().unwrap();
    assert_eq!(json["top"].as_array().unwrap().len(), 10);
    let priorities: Vec<f64> = accounts
        .iter()
        .map(|a| a["priority"].as_f64().unwrap())
        .collect();
    assert!(
        priorities.windows(2).all(|w| w[0] >= w[1]),
        "accounts are in priority order"
    );

    for account in &accounts[..10] {
        let id = account["account_id"].as_str().unwrap();
        assert!(
            !account["reasons"].as_array().unwrap().is_empty(),
            "{id} has reasons"
        );
        assert!(
            !account["actions"].as_array().unwrap().is_empty(),
            "{id} has actions"
        );
        assert!(
            !account["talking_points"].as_array().unwrap().is_empty(),
            "{id} has talking points"
        );
        // Priority = urgency x (ARR at risk + 0.5 x expansion value).
        let expected = account["urgency"].as_f64().unwrap()
            * (account["arr_at_risk"].as_f64().unwrap()
                + 0.5 * account["expansion_value"].as_f64().unwrap());
        assert!(
            (account["priority"].as_f64().unwrap() - expected).abs() < 1e-6,
            "{id} priority"
        );
    }
}

#[test]
fn sample_accounts_get_their_own_text() {
    let dir = tempfile::tempdir().unwrap();
    sample_project(dir.path());
    let json = score_json(dir.path(), &["--no-snapshot"]);

    let mut seen: HashMap<String, String> = HashMap::new();
    let mut with_text = 0;
    for account in json["accounts"].as_array().unwrap() {
        let points: Vec<&str> = account["talking_points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let actions: Vec<&str> = account["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        if points.is_empty() && actions.is_empty() {
            continue;
        }
        with_text += 1;
        let text = format!("{}\n{}", points.join("\n"), actions.join("\n"));
        let id = account["account_id"].as_str().unwrap().to_string();
        if let Some(other) = seen.insert(text.clone(), id.clone()) {
            panic!("{id} and {other} got the same text:\n{text}");
        }
    }
    assert!(with_text > 500, "{with_text} accounts with text");
}

#[test]
fn score_stores_a_snapshot_for_the_review() {
    let dir = tempfile::tempdir().unwrap();
    sample_project(dir.path());
    let output = headroom()
        .args([
            "score",
            "--format",
            "csv",
            "--as-of",
            "2026-06-30",
            "--project",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let csv = stdout_of(&output);
    let rows = csv.lines().count() - 1;
    assert!(
        stderr_of(&output).contains(", stored as snapshot 1"),
        "{}",
        stderr_of(&output)
    );

    let store = Store::open(Store::project_dir(dir.path())).unwrap();
    let snapshots = store.snapshots().unwrap();
    assert_eq!(snapshots.len(), 1);
    assert_eq!(
        snapshots[0].as_of,
        NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
    );
    assert_eq!(snapshots[0].rows as usize, rows);
    assert_eq!(snapshots[0].churn_model, None);
    assert_eq!(snapshots[0].thresholds["at_risk_below"], 0.40);
    let first_row = csv.lines().nth(1).unwrap();
    let id = first_row.split(',').nth(1).unwrap();
    let stored = store.snapshot_row(snapshots[0].id, id).unwrap().unwrap();
    assert_eq!(stored.account_id, id);
    assert_eq!(stored.health_segment, first_row.split(',').nth(8).unwrap());
    store.close().unwrap();
}

#[test]
fn csv_has_the_stable_columns() {
    let dir = tempfile::tempdir().unwrap();
    sample_project(dir.path());
    let output = headroom()
        .args(["score", "--format", "csv", "--no-snapshot", "--project"])
        .arg(dir.path())
        .output()
        .unwrap();
    let csv = stdout_of(&output);
    assert_eq!(csv.lines().next().unwrap(), CSV_COLUMNS.join(","));
    let frame = CsvReadOptions::default()
        .into_reader_with_file_handle(std::io::Cursor::new(csv.into_bytes()))
        .finish()
        .unwrap();
    assert_eq!(frame.width(), CSV_COLUMNS.len());
    assert_eq!(frame.height(), 1_469);
}

#[test]
fn flat_portfolio_is_scored_by_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    flat_project(dir.path());
    let output = headroom()
        .args(["score", "--no-snapshot", "--project"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let table = stdout_of(&output);
    assert!(
        table.starts_with("headroom score as of 2025-03-31: 13 active accounts, $1,533,550 ARR"),
        "{table}"
    );
    assert!(
        table.contains("note: this project is a single snapshot export (2025-03-31) without usage history or outcomes"),
        "{table}"
    );
    assert!(table.contains(
        "churn and expansion probabilities need months of usage history and recorded outcomes"
    ));

    let json = score_json(dir.path(), &["--no-snapshot"]);
    let by_id: HashMap<&str, &Value> = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["account_id"].as_str().unwrap(), a))
        .collect();
    assert_eq!(json["snapshot_only"], true);
    // 31 of 80 seats: under 40% on the one reading.
    assert_eq!(by_id["Bluebird Health"]["health_segment"], "at-risk");
    // 17 of 15 seats.
    assert_eq!(by_id["Corvid Analytics"]["health_segment"], "expansion");
    // The export has no active-user count for Granite: unknown, not zero.
    assert_eq!(by_id["Granite Logistics"]["health_segment"], "unmeasured");
    assert!(by_id.values().all(|a| a["p_churn"].is_null()));
    // Rules only: the at-risk accounts carry their ARR at risk.
    assert_eq!(by_id["Bluebird Health"]["arr_at_risk"], 48_500.0);
}

#[test]
fn html_goes_to_the_reports_folder() {
    let dir = tempfile::tempdir().unwrap();
    flat_project(dir.path());
    let output = headroom()
        .args(["score", "--format", "html", "--no-snapshot", "--project"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let path = dir.path().join("reports/score-2025-03-31.html");
    assert!(stderr_of(&output).contains(&format!("wrote {}", path.display())));
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("Portfolio as of 2025-03-31"));
}

#[test]
fn by_owner_writes_one_report_per_owner() {
    let dir = tempfile::tempdir().unwrap();
    flat_project(dir.path());
    let out = dir.path().join("owners");
    headroom()
        .args([
            "score",
            "--by-owner",
            "--format",
            "csv",
            "--no-snapshot",
            "--project",
        ])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["dana-lee.csv", "omar-haddad.csv", "priya-nair.csv"]);
    let mut total = 0;
    for file in &files {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        let owner = match file.as_str() {
            "dana-lee.csv" => "Dana Lee",
            "omar-haddad.csv" => "Omar Haddad",
            _ => "Priya Nair",
        };
        for line in text.lines().skip(1) {
            assert_eq!(line.split(',').nth(3), Some(owner), "{file}: {line}");
            total += 1;
        }
    }
    assert_eq!(total, 13);
}

/// Finds the headless Chromium on this machine, if any: `HEADROOM_CHROMIUM`,
/// then the usual command names.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HEADROOM_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "chrome-headless-shell",
    ]
    .into_iter()
    .find(|name| {
        Process::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
    .map(PathBuf::from)
}

#[test]
fn html_report_draws_its_charts_in_chromium() {
    let Some(browser) = chromium() else {
        eprintln!("note: no Chromium found; install chromium (.ci/run does) to run this test");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let project = simulated_project(work.path());
    train_models(&project);
    let html = work.path().join("report.html");
    headroom()
        .args(["score", "--format", "html", "--no-snapshot", "--project"])
        .arg(&project)
        .arg("--out")
        .arg(&html)
        .assert()
        .success();
    let source = std::fs::read_to_string(&html).unwrap();
    let charts = source.matches("data-chart=").count();
    // Segment accounts and ARR, utilization, two probability histograms,
    // two calibration plots, lift, and ten sparklines.
    assert_eq!(charts, 18);

    let profile = work.path().join("chromium-profile");
    let output = Process::new(&browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let dom = stdout_of(&output);
    assert!(
        dom.contains(&format!("data-charts-drawn=\"{charts}\"")),
        "Chromium drew fewer charts than the report holds: {}",
        dom.lines()
            .find(|l| l.contains("data-charts-drawn"))
            .unwrap_or("no body")
    );
}

#[test]
fn trained_models_score_every_account() {
    let work = tempfile::tempdir().unwrap();
    let project = simulated_project(work.path());
    let versions = train_models(&project);
    let json = score_json(&project, &[]);

    assert_eq!(json["models"]["churn"]["version"], versions[0].as_str());
    assert_eq!(json["models"]["expansion"]["version"], versions[1].as_str());
    let accounts = json["accounts"].as_array().unwrap();
    assert!(
        accounts
            .iter()
            .all(|a| a["p_churn"].is_number() && a["p_expansion"].is_number())
    );
    let threshold = json["models"]["churn"]["threshold"].as_f64().unwrap();
    for a in accounts {
        let p = a["p_churn"].as_f64().unwrap();
        assert_eq!(a["flagged_churn"].as_bool().unwrap(), p >= threshold);
        let arr = a["arr"].as_f64().unwrap();
        assert!((a["arr_at_risk"].as_f64().unwrap() - p * arr).abs() < 1e-6 * arr.max(1.0));
    }
    let explained = accounts
        .iter()
        .filter(|a| {
            a["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["source"] == "churn")
        })
        .count();
    assert_eq!(explained, accounts.len());

    let store = Store::open(Store::project_dir(&project)).unwrap();
    let header = &store.snapshots().unwrap()[0];
    assert_eq!(header.churn_model.as_deref(), Some(versions[0].as_str()));
    assert!(header.thresholds.contains_key("churn_flag"));
    store.close().unwrap();

    // The latest usage date comes after every outcome the champions learned
    // from, so that run has no look-ahead.
    let notices = json["notices"].as_array().unwrap();
    assert!(
        notices
            .iter()
            .all(|n| !n.as_str().unwrap().starts_with("look-ahead")),
        "{notices:?}"
    );
    assert_look_ahead_flagged(&project, &json, &versions);
}

/// Scores 2025-06-30, before the outcomes the champions were trained on,
/// and checks that both champions are flagged on stderr and in the report.
fn assert_look_ahead_flagged(project: &Path, latest: &Value, versions: &[String]) {
    let output = headroom()
        .arg("score")
        .arg("--project")
        .arg(project)
        .args(["--as-of", "2025-06-30", "--no-snapshot", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    let json: Value = serde_json::from_str(&stdout_of(&output)).unwrap();
    let notices: Vec<&str> = json["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();

    for (kind, version) in ["churn", "expansion"].iter().zip(versions) {
        let trained_to = latest["models"][kind]["trained_to"].as_str().unwrap();
        // Labels read the outcomes up to 180 days (the default horizon)
        // after the last training observation.
        let outcomes_to = trained_to.parse::<NaiveDate>().unwrap() + Days::new(180);
        let statement = format!(
            "look-ahead: the {kind} model {version} was trained on observations up to {trained_to} labelled by outcomes up to {outcomes_to}, after the scoring date 2025-06-30"
        );
        assert!(
            stderr.contains(&format!("warning: {statement}")),
            "{stderr}"
        );
        assert!(
            notices.iter().any(|n| n.starts_with(&statement)),
            "{notices:?}"
        );
    }

    // One account of the same date gets the same warning on stderr.
    let account = json["accounts"][0]["account_id"].as_str().unwrap();
    let output = headroom()
        .args(["account", account, "--project"])
        .arg(project)
        .args(["--as-of", "2025-06-30"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let account_stderr = stderr_of(&output);
    for (kind, version) in ["churn", "expansion"].iter().zip(versions) {
        let opening = format!("warning: look-ahead: the {kind} model {version} was trained");
        assert!(account_stderr.contains(&opening), "{account_stderr}");
    }
}

#[test]
fn drop_note_suppresses_usage_alert() {
    let work = tempfile::tempdir().unwrap();
    let project = simulated_project(work.path());
    let json = score_json(&project, &["--no-snapshot"]);
    let dropped = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["kind"] == "usage_drop")
        })
        .expect("the simulation has a usage drop")
        .clone();
    let id = dropped["account_id"].as_str().unwrap();
    let as_of = NaiveDate::parse_from_str(json["as_of"].as_str().unwrap(), "%Y-%m-%d").unwrap();

    let store = Store::open_or_create(Store::project_dir(&project)).unwrap();
    let note = store
        .add_note(NewNote {
            account_id: id.to_string(),
            text: "seasonal project team rolled off".to_string(),
            until: as_of + Days::new(60),
            expectation: "drop".parse().unwrap(),
            created_at: Utc::now() - chrono::Duration::days(400),
        })
        .unwrap();
    store.close().unwrap();

    let json = score_json(&project, &["--no-snapshot"]);
    let account = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == id)
        .unwrap();
    let drop = account["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "usage_drop")
        .unwrap();
    assert_eq!(drop["suppressed_by_note"], note.id.0);
    assert!(
        account["notes"][0]
            .as_str()
            .unwrap()
            .contains("seasonal project team rolled off")
    );
}

#[test]
fn bad_setting_names_file_section_and_key() {
    let dir = tempfile::tempdir().unwrap();
    flat_project(dir.path());
    std::fs::write(
        dir.path().join("headroom.toml"),
        "[segments]\nwatch_below = 1.5\n",
    )
    .unwrap();
    let output = headroom()
        .args(["score", "--no-snapshot", "--project"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    let config = dir.path().join("headroom.toml");
    assert!(
        stderr.contains(&format!(
            "invalid setting in {} [segments] watch_below = 1.5: must be between 0 and 1",
            config.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
    assert!(stdout_of(&output).is_empty());
}

#[test]
fn unknown_setting_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    flat_project(dir.path());
    std::fs::write(
        dir.path().join("headroom.toml"),
        "[alerts]\nusage_dropp = 0.3\n",
    )
    .unwrap();
    let output = headroom()
        .args(["score", "--no-snapshot", "--project"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(stderr.contains("[alerts]"), "{stderr}");
    assert!(stderr.contains("usage_dropp"), "{stderr}");
}

#[test]
fn date_before_the_snapshot_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    flat_project(dir.path());
    let output = headroom()
        .args([
            "score",
            "--no-snapshot",
            "--as-of",
            "2010-01-31",
            "--project",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("no usage is imported for 2010-01, the month that features as of 2010-01-31 read: the earliest usage row is dated 2025-03-31"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: pass --as-of 2025-03-31 or later"),
        "{stderr}"
    );
}

#[test]
fn date_without_active_accounts_is_rejected() {
    // One account whose only contract ended in 2024, with usage in 2026.
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    for (file, text) in [
        (
            "accounts.csv",
            "account_id,name,customer_since,segment\nA1,Company A1,2024-01-01,smb\n",
        ),
        (
            "contracts.csv",
            "contract_id,account_id,start_date,end_date,arr,currency\nCA1,A1,2024-01-01,2024-12-31,12000,USD\n",
        ),
        (
            "entitlements.csv",
            "contract_id,entitlement,kind,limit,period,metric,enforcement\nCA1,seats,seats,10,month,active_users,soft\n",
        ),
        (
            "usage.csv",
            "account_id,date,metric,value\nA1,2026-04-30,active_users,3\nA1,2026-05-31,active_users,3\n",
        ),
    ] {
        std::fs::write(exports.join(file), text).unwrap();
    }
    let project = dir.path().join("project");
    headroom()
        .arg("import")
        .arg(&exports)
        .arg("--out")
        .arg(&project)
        .assert()
        .success();

    let output = headroom()
        .args([
            "score",
            "--no-snapshot",
            "--as-of",
            "2026-05-31",
            "--project",
        ])
        .arg(&project)
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("no account is active on 2026-05-31"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: pick a date inside the contracts' terms with --as-of (the data covers 2024-01-01 to 2024-12-31)"),
        "{stderr}"
    );
}

#[test]
fn account_shows_its_full_story() {
    let dir = tempfile::tempdir().unwrap();
    sample_project(dir.path());
    headroom()
        .args([
            "score",
            "--format",
            "csv",
            "--as-of",
            "2026-09-30",
            "--project",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let output = headroom()
        .args(["account", "A0002", "--project"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let text = stdout_of(&output);
    assert!(text.starts_with("A0002 Atlas Goods\n"), "{text}");
    for section in [
        "\nusage against entitlements\n",
        "\nfeatures in the plan\n",
        "\nwhy\n",
        "\nalerts\n",
        "\nnotes\n",
        "\nearlier runs\n",
        "\nfeature values\n",
    ] {
        assert!(text.contains(section), "missing {section:?}");
    }
    assert!(text.contains("2026-09-30 (snapshot 1): "), "{text}");
    assert!(text.contains("  util_primary = "), "{text}");
    assert!(text.contains("  2026-10  "), "{text}");
}

#[test]
fn customer_report_has_nothing_internal() {
    let dir = tempfile::tempdir().unwrap();
    sample_project(dir.path());
    let json = score_json(dir.path(), &["--no-snapshot"]);
    let flagged: Vec<String> = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["needs_attention"] == true)
        .take(5)
        .map(|a| a["account_id"].as_str().unwrap().to_string())
        .collect();
    let banned = [
        "churn",
        "risk",
        "at-risk",
        "priority",
        "arr",
        "expansion",
        "upsell",
        "upgrade",
        "probability",
        "segment",
        "note",
        "notes",
        "watch",
        "$",
        "renewal at",
        "flagged",
        "score",
        "revenue",
    ];
    for id in &flagged {
        for format in ["text", "html"] {
            let output = headroom()
                .args([
                    "account",
                    id,
                    "--audience",
                    "customer",
                    "--format",
                    format,
                    "--project",
                ])
                .arg(dir.path())
                .output()
                .unwrap();
            assert!(output.status.success(), "{}", stderr_of(&output));
            let report = stdout_of(&output).to_lowercase();
            assert!(report.contains("usage report for october 2026"), "{report}");
            let words: HashSet<&str> = report
                .split(|c: char| !c.is_alphanumeric() && c != '-')
                .collect();
            for word in banned {
                let said = if word.contains(' ') || word == "$" {
                    report.contains(word)
                } else {
                    words.contains(word)
                };
                assert!(
                    !said,
                    "{id} {format}: the customer report says {word:?}:\n{report}"
                );
            }
        }
    }
}

#[test]
fn unknown_account_suggests_similar_ids() {
    let dir = tempfile::tempdir().unwrap();
    flat_project(dir.path());
    let output = headroom()
        .args(["account", "Bluebird", "--project"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("account \"Bluebird\" is not in"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: did you mean \"Bluebird Health\"?"),
        "{stderr}"
    );
}

/// Trains both models with `headroom train`, which makes the first model of
/// each kind the champion. Returns the champion versions, churn first.
fn train_models(project: &Path) -> Vec<String> {
    let output = headroom()
        .args(["train", "--project"])
        .arg(project)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let store = Store::open(Store::project_dir(project)).unwrap();
    let versions = [
        headroom_store::ModelKind::Churn,
        headroom_store::ModelKind::Expansion,
    ]
    .into_iter()
    .map(|kind| store.champion(kind).unwrap().expect("a champion").version)
    .collect();
    store.close().unwrap();
    versions
}

#[test]
fn score_help_lists_flags() {
    let output = headroom().args(["score", "--help"]).output().unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!(stdout_of(&output));
}

#[test]
fn account_help_lists_flags() {
    let output = headroom().args(["account", "--help"]).output().unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!(stdout_of(&output));
}
