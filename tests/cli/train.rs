//! `headroom train` and `headroom backtest` end to end, on a small simulated
//! portfolio (300 accounts, 36 months) imported into temporary projects.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use headroom_model::ModelArtifact;
use headroom_store::{ModelKind, ModelStatus, Store};

use crate::headroom;

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Writes the simulated portfolio once per test run and returns its folder:
/// 300 accounts, January 2023 to December 2025, seed 7.
fn simulated() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep().join("portfolio");
        headroom()
            .args([
                "sim",
                "--accounts",
                "300",
                "--months",
                "36",
                "--start",
                "2023-01",
            ])
            .args(["--seed", "7", "--out"])
            .arg(&dir)
            .assert()
            .success();
        dir
    })
}

/// Imports the simulated portfolio into a new project.
fn project() -> tempfile::TempDir {
    let project = tempfile::tempdir().unwrap();
    headroom()
        .arg("import")
        .arg(simulated())
        .arg("--out")
        .arg(project.path())
        .assert()
        .success();
    project
}

fn train(project: &Path, extra: &[&str]) -> std::process::Output {
    headroom()
        .args(["train", "--project"])
        .arg(project)
        .args(extra)
        .output()
        .unwrap()
}

/// Finds the public data folder: `HEADROOM_PUBLIC_DATA`, else
/// `../shared/data` beside the workspace, else `/work/shared/data`.
fn public_data() -> Option<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidates = [
        std::env::var_os("HEADROOM_PUBLIC_DATA").map(PathBuf::from),
        Some(workspace.join("../shared/data")),
        Some(PathBuf::from("/work/shared/data")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_dir());
    if found.is_none() {
        eprintln!("note: public data not found; set HEADROOM_PUBLIC_DATA to run this test");
    }
    found
}

fn model_files(project: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(project.join("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Reads the number after `prefix`, as in `left out: 1,290 rows of ...`.
fn count_after(text: &str, prefix: &str) -> usize {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix:?} in {text}"))
        + prefix.len();
    let digits: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

#[test]
fn train_saves_registers_and_prints_evaluation() {
    let project = project();
    let output = train(project.path(), &[]);
    let stdout = stdout_of(&output);
    assert!(output.status.success(), "{}", stderr_of(&output));

    for expected in [
        "churn model",
        "expansion model",
        "held out: 2025-01-31 to 2025-06-30",
        "ROC-AUC",
        "PR-AUC",
        "log loss",
        "Brier score",
        "top-decile lift",
        "rule (util_primary_3m < 0.4)",
        "rule (util_primary_3m > 0.85)",
        "oracle ROC-AUC",
        "evaluated fit: converged after",
        "registered version",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing in\n{stdout}"
        );
    }

    let files = model_files(project.path());
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].starts_with("churn-20250630-"), "{files:?}");
    assert!(files[1].starts_with("expansion-20250630-"), "{files:?}");

    let churn = ModelArtifact::load(&project.path().join("models").join(&files[0])).unwrap();
    assert_eq!(churn.format_version, 2);
    assert_eq!(churn.positive_class, "churned");
    assert!(churn.input_profile.is_some());
    assert!(churn.metrics.as_ref().unwrap().oracle_roc_auc.is_some());

    let store = Store::open(Store::project_dir(project.path())).unwrap();
    let champion = store.champion(ModelKind::Churn).unwrap().unwrap();
    assert_eq!(format!("churn-{}.json", champion.version), files[0]);
    assert_eq!(champion.status, ModelStatus::Champion);
    assert_eq!(champion.artifact_json, churn.to_json());
    let metrics = champion.metrics();
    assert_eq!(metrics["first"], "2025-01-31");
    assert!(metrics["model"]["roc_auc"].as_f64().unwrap() > 0.5);
    let decisions = store.decisions(Some(ModelKind::Churn)).unwrap();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].reason, "first model of its kind");
    drop(store);

    // The same data and settings give the same version: nothing changes.
    let again = train(project.path(), &["--kind", "churn"]);
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert!(
        stdout_of(&again).contains(&format!(
            "version {} is already registered (champion); nothing changed",
            champion.version
        )),
        "{}",
        stdout_of(&again)
    );
    assert_eq!(model_files(project.path()), files);

    // Other settings give another version, registered as a challenger.
    std::fs::write(
        project.path().join("headroom.toml"),
        "[model]\npenalties = [0.01]\n",
    )
    .unwrap();
    let challenger = train(project.path(), &["--kind", "churn"]);
    assert!(challenger.status.success(), "{}", stderr_of(&challenger));
    let text = stdout_of(&challenger);
    assert!(
        text.contains(&format!("as a challenger (champion: {})", champion.version)),
        "{text}"
    );
    assert!(text.contains("  L2 penalty 0.0100 as configured"), "{text}");
    let store = Store::open(Store::project_dir(project.path())).unwrap();
    assert_eq!(store.models(Some(ModelKind::Churn)).unwrap().len(), 2);
    assert_eq!(
        store.champion(ModelKind::Churn).unwrap().unwrap().version,
        champion.version
    );
}

/// Counts the rows an even sample of each class keeps under `limit`: every
/// k-th row of each class, with the smallest k that fits.
fn class_sample_size(positives: usize, negatives: usize, limit: usize) -> usize {
    let mut step = (positives + negatives).div_ceil(limit);
    while positives.div_ceil(step) + negatives.div_ceil(step) > limit {
        step += 1;
    }
    positives.div_ceil(step) + negatives.div_ceil(step)
}

#[test]
fn fit_rows_limit_samples_rows() {
    let project = project();
    std::fs::write(
        project.path().join("headroom.toml"),
        "[model]\nfit_rows = 1000\n",
    )
    .unwrap();
    let output = train(project.path(), &["--kind", "churn"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);

    let churned = count_after(&stdout, "  classes: ");
    let retained = count_after(&stdout, " churned, ");
    let rows = churned + retained;
    assert!(rows > 1000, "{stdout}");
    let fitted = class_sample_size(churned, retained, 1000);
    assert!(
        stdout.contains(&format!(
            "saved model: refitted on all {} labelled rows (an even sample of {} fitted)",
            thousands(rows),
            thousands(fitted)
        )),
        "{stdout}"
    );

    let files = model_files(project.path());
    let churn = ModelArtifact::load(&project.path().join("models").join(&files[0])).unwrap();
    assert_eq!(churn.training.rows, rows);
    assert_eq!(churn.training.fit_rows, Some(fitted));
    assert_eq!(churn.settings.fit_rows, Some(1000));
    let evaluated = &churn.held_out.as_ref().unwrap().training;
    assert_eq!(
        evaluated.fit_rows,
        (evaluated.rows > 1000).then(|| class_sample_size(
            evaluated.positives,
            evaluated.rows - evaluated.positives,
            1000
        ))
    );
}

#[test]
fn train_counts_unfinished_horizons_like_the_panel() {
    // The history ends 2025-12-31, so rows observed after 2025-07-04 (180
    // days earlier) are left out. The feature panel of the same month-ends
    // counts them independently.
    let project = project();
    let output = train(project.path(), &["--kind", "churn"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("observed after 2025-07-04, whose 180-day horizon is not over"),
        "{stdout}"
    );
    let left_out = count_after(&stdout, "left out: ");

    let panel = project.path().join("panel.csv");
    headroom()
        .args([
            "features",
            "--from",
            "2025-07-05",
            "--to",
            "2025-12-31",
            "--project",
        ])
        .arg(project.path())
        .arg("--out")
        .arg(&panel)
        .assert()
        .success();
    let rows = std::fs::read_to_string(&panel).unwrap().lines().count() - 1;
    assert_eq!(left_out, rows);
}

#[test]
fn train_with_explicit_truth_prints_oracle() {
    let project = project();
    let truth = simulated().join("truth");
    let predictions = project.path().join("held-out.csv");
    let output = headroom()
        .args(["train", "--kind", "expansion", "--calibration", "--project"])
        .arg(project.path())
        .arg("--truth")
        .arg(&truth)
        .arg("--predictions")
        .arg(&predictions)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    assert!(stdout.contains("oracle ROC-AUC 0."), "{stdout}");
    assert!(
        stdout.contains("calibration       rows  predicted   observed"),
        "{stdout}"
    );

    // One line per held-out row, labels adding up to the positives printed
    // in `held out: ... N rows, M expanded`.
    let rows = count_after(&stdout, "held out: 2025-01-31 to 2025-06-30, ");
    let positives = count_after(&stdout, &format!("2025-06-30, {} rows, ", thousands(rows)));
    let text = std::fs::read_to_string(&predictions).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("model,account_id,as_of,segment,label,probability,utilization")
    );
    let body: Vec<&str> = lines.collect();
    assert_eq!(body.len(), rows);
    let labelled = body
        .iter()
        .filter(|l| l.split(',').nth(4) == Some("1"))
        .count();
    assert_eq!(labelled, positives);
    assert!(body.iter().all(|l| l.starts_with("expansion,")));
}

/// Formats a count with thousands separators, as the output prints it.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn zero_penalty_in_settings_is_rejected() {
    let project = project();
    std::fs::write(
        project.path().join("headroom.toml"),
        "[model]\npenalties = [0.001, 0.0]\n",
    )
    .unwrap();
    let output = train(project.path(), &[]);
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("invalid [model] section in headroom.toml"),
        "{stderr}"
    );
    assert!(
        stderr.contains("invalid L2 penalty 0: it must be a positive, finite number"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: use a value such as 0.001"),
        "{stderr}"
    );
    assert!(!project.path().join("models").exists());
}

#[test]
fn unknown_model_setting_names_the_key() {
    let project = project();
    std::fs::write(
        project.path().join("headroom.toml"),
        "[model]\nhorizon = 90\n",
    )
    .unwrap();
    let output = train(project.path(), &[]);
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("[model]: unknown field `horizon`"),
        "{stderr}"
    );
}

#[test]
fn too_long_holdout_is_rejected_with_hint() {
    let project = project();
    std::fs::write(
        project.path().join("headroom.toml"),
        "[model]\nholdout_months = 24\n",
    )
    .unwrap();
    let output = train(project.path(), &["--kind", "churn"]);
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(stderr.contains("cannot hold out 24 month-ends"), "{stderr}");
    assert!(stderr.contains("hint: lower holdout_months"), "{stderr}");
}

#[test]
fn backtest_scores_each_month_and_skips_unfinished() {
    let project = project();
    let output = headroom()
        .args([
            "backtest", "--from", "2025-05", "--to", "2025-08", "--kind", "churn",
        ])
        .arg("--project")
        .arg(project.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    assert!(stdout.contains("churn backtest"), "{stdout}");
    assert!(stdout.contains("\n  2025-05-31 "), "{stdout}");
    assert!(stdout.contains("\n  2025-06-30 "), "{stdout}");
    assert!(stdout.contains("\n  all months "), "{stdout}");
    for month in ["2025-07-31", "2025-08-31"] {
        assert!(
            stdout.contains(&format!(
                "skipped {month}: its 180-day horizon ends after the history (2025-12-31)"
            )),
            "{stdout}"
        );
    }
    assert!(!project.path().join("models").exists());
}

#[test]
fn backtest_rejects_reversed_range() {
    let project = project();
    let output = headroom()
        .args([
            "backtest",
            "--from",
            "2025-06",
            "--to",
            "2025-01",
            "--project",
        ])
        .arg(project.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("--from 2025-06 is after --to 2025-01"),
        "{stderr}"
    );
}

#[test]
fn backtest_rejects_bad_month() {
    let output = headroom()
        .args(["backtest", "--from", "2025-13", "--to", "2025-12"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("invalid month \"2025-13\": use YYYY-MM"),
        "{stderr}"
    );
}

#[test]
fn ravenstack_trains_without_validation_folds() {
    // Two years of usage leave four month-ends before the held-out window,
    // too few for a validation fold after a 180-day gap. The labels do not
    // depend on usage, so the ROC-AUC lands near 0.5.
    let Some(data) = public_data() else { return };
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let project = tempfile::tempdir().unwrap();
    headroom()
        .arg("import")
        .arg(data.join("ravenstack"))
        .arg("--mapping")
        .arg(workspace.join("data/mappings/ravenstack.toml"))
        .arg("--out")
        .arg(project.path())
        .assert()
        .success();

    let output = train(project.path(), &[]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains(
            "  classes: 774 churned, 1,468 not churned (34.5% of 2,242 rows, 330 accounts)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning: no validation fold fits the history"),
        "{stdout}"
    );
    assert!(
        stdout.contains("held out: 2024-01-31 to 2024-06-30"),
        "{stdout}"
    );
    assert_eq!(model_files(project.path()).len(), 2);
}

#[test]
fn committed_sample_models_load() {
    // models/ holds the sample's models; each must load with this build and
    // keep the name its content gives it.
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let mut loaded = 0;
    for entry in std::fs::read_dir(&models).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let artifact = ModelArtifact::load(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(artifact.file_name(), name);
        assert!(artifact.input_profile.is_some(), "{name}");
        assert!(artifact.metrics.is_some(), "{name}");
        loaded += 1;
    }
    assert_eq!(loaded, 2);
}
