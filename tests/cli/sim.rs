//! `headroom sim`: writes a portfolio, prints the oracle, rejects bad settings
//! with a hint, and regenerates the bundled sample byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
        .expect("the CLI crate sits two levels below the workspace root")
        .to_path_buf()
}

/// Returns every file under `dir` with its bytes, keyed by the path relative to `dir`.
fn folder_bytes(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap().to_path_buf();
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn sim_writes_portfolio_and_prints_oracle() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("portfolio");
    let output = headroom()
        .args(["sim", "--accounts", "80", "--months", "12", "--seed", "3"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));

    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("oracle ROC-AUC, churn within 180 days of a month-end"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2023-11 .. 2024-10: 80 accounts"),
        "{stdout}"
    );
    for file in [
        "accounts.csv",
        "contracts.csv",
        "entitlements.csv",
        "usage.csv",
        "outcomes.csv",
        "interventions.csv",
        "meta.json",
        "truth/accounts.csv",
        "truth/terms.csv",
        "truth/monthly.csv",
        "truth/summary.json",
    ] {
        assert!(out.join(file).is_file(), "{file} is missing");
    }
    assert!(!temp.path().join(".portfolio.partial").exists());
}

#[test]
fn sim_parquet_writes_part_folders() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("portfolio");
    let output = headroom()
        .args([
            "sim",
            "--accounts",
            "40",
            "--months",
            "6",
            "--format",
            "parquet",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(out.join("usage/part-00000.parquet").is_file());
    assert!(out.join("truth/monthly/part-00000.parquet").is_file());
}

#[test]
fn sim_rejects_bad_start_month() {
    let temp = tempfile::tempdir().unwrap();
    let output = headroom()
        .args(["sim", "--start", "2024-13", "--out"])
        .arg(temp.path().join("p"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(stderr.contains("invalid month `2024-13`"), "{stderr}");
    assert!(
        stderr.contains("hint: write the month as YYYY-MM"),
        "{stderr}"
    );
}

#[test]
fn sim_rejects_unknown_mechanism() {
    let temp = tempfile::tempdir().unwrap();
    let output = headroom()
        .args(["sim", "--without", "weather", "--out"])
        .arg(temp.path().join("p"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("invalid sim setting `mechanisms` = weather"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: name one of: adoption, noise"),
        "{stderr}"
    );
}

#[test]
fn sim_refuses_nonempty_output_folder() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("keep.txt"), "x").unwrap();
    let output = headroom()
        .args(["sim", "--accounts", "10", "--months", "3", "--out"])
        .arg(temp.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(stderr.contains("is not empty"), "{stderr}");
    assert!(stderr.contains("hint: pass --force"), "{stderr}");
    assert!(temp.path().join("keep.txt").is_file());
}

#[test]
fn sim_config_out_of_range_names_key() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("sim.toml");
    std::fs::write(&config, "[segments.smb]\nchurn_per_term = 2.0\n").unwrap();
    let output = headroom()
        .args(["sim", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(temp.path().join("p"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("invalid sim setting `segments.smb.churn_per_term` = 2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: use a value between 0 and 0.95"),
        "{stderr}"
    );
}

#[test]
fn sim_printed_config_runs_back() {
    let temp = tempfile::tempdir().unwrap();
    let printed = headroom()
        .args(["sim", "--print-config", "--accounts", "25", "--months", "4"])
        .output()
        .unwrap();
    assert!(printed.status.success(), "{}", stderr_of(&printed));
    let text = stdout_of(&printed);
    assert!(text.starts_with("accounts = 25\nmonths = 4\n"), "{text}");

    let config = temp.path().join("sim.toml");
    std::fs::write(&config, text).unwrap();
    let out = temp.path().join("p");
    let output = headroom()
        .args(["sim", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["accounts"], 25);
    assert_eq!(meta["end"], "2024-02");
}

#[test]
fn sim_help_lists_flags() {
    let output = headroom().args(["sim", "--help"]).output().unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!(stdout_of(&output));
}

/// Returns the command in data/README.md that regenerates data/sample.
fn readme_command() -> Vec<String> {
    let readme = std::fs::read_to_string(workspace_root().join("data/README.md")).unwrap();
    let line = readme
        .lines()
        .find(|line| line.starts_with("headroom sim "))
        .expect("data/README.md shows the command that generates the sample");
    line.split_whitespace().skip(1).map(String::from).collect()
}

#[test]
fn sample_regenerates_from_readme_command() {
    let mut args = readme_command();
    let out_position = args
        .iter()
        .position(|arg| arg == "--out")
        .expect("the command names --out");
    assert_eq!(args[out_position + 1], "data/sample");

    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("sample");
    args[out_position + 1] = out.to_string_lossy().into_owned();
    args.retain(|arg| arg != "--force");
    let output = headroom().args(&args).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));

    let committed = folder_bytes(&workspace_root().join("data/sample"));
    let regenerated = folder_bytes(&out);
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        regenerated.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &committed {
        assert!(bytes == &regenerated[path], "{} differs", path.display());
    }
}

#[test]
fn sample_is_under_twenty_megabytes() {
    let total: usize = folder_bytes(&workspace_root().join("data/sample"))
        .values()
        .map(Vec::len)
        .sum();
    assert!(total < 20_000_000, "data/sample contains {total} bytes");
}
