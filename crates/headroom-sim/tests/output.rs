//! The written portfolio: contract schemas in CSV and Parquet, identical bytes
//! for the same seed, daily usage that rolls up to the monthly values,
//! mechanism switches, the output folder rules, and the oracle reader.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use chrono::NaiveDate;
use common::*;
use headroom_data::TableKind;
use headroom_sim::{
    Format, Grain, OutputOptions, SimConfig, SimError, Target, Truth, generate, oracle_auc,
    oracle_auc_with_labels,
};
use polars::prelude::*;

fn small_config() -> SimConfig {
    SimConfig {
        accounts: 300,
        months: 24,
        seed: 11,
        ..SimConfig::default()
    }
}

fn read_parquet_table(dir: &Path, name: &str) -> DataFrame {
    let folder = dir.join(name);
    let mut parts: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|err| panic!("{}: {err}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    parts.sort();
    let mut frame: Option<DataFrame> = None;
    for part in parts {
        let df = ParquetReader::new(File::open(&part).unwrap())
            .finish()
            .unwrap();
        match frame.as_mut() {
            Some(frame) => {
                frame.vstack_mut(&df).unwrap();
            }
            None => frame = Some(df),
        }
    }
    frame.expect("at least one part")
}

#[test]
fn same_seed_gives_same_bytes() {
    let config = small_config();
    let (first, _) = generate_into("same-seed-a", &config, Format::Csv);
    let (second, _) = generate_into("same-seed-b", &config, Format::Csv);
    let first = folder_bytes(&first);
    let second = folder_bytes(&second);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &first {
        assert!(bytes == &second[path], "{} differs", path.display());
    }
}

#[test]
fn chunks_and_threads_leave_bytes_unchanged() {
    let config = small_config();
    let (whole, _) = generate_into("chunks-whole", &config, Format::Csv);

    let dir = portfolio_dir("chunks-split");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let mut output = OutputOptions::new(&dir);
    output.chunk_accounts = 37;
    output.threads = 3;
    generate(&config, &output, &mut |_, _| {}).unwrap();

    assert!(folder_bytes(&whole) == folder_bytes(&dir));
}

#[test]
fn other_seed_gives_other_usage() {
    let config = small_config();
    let (first, _) = generate_into("seed-11", &config, Format::Csv);
    let mut other = config.clone();
    other.seed = 12;
    let (second, _) = generate_into("seed-12", &other, Format::Csv);
    assert_ne!(
        std::fs::read(first.join("usage.csv")).unwrap(),
        std::fs::read(second.join("usage.csv")).unwrap()
    );
}

#[test]
fn csv_headers_are_contract_columns() {
    let (dir, _) = generate_into("headers", &small_config(), Format::Csv);
    for kind in TableKind::ALL {
        let text = std::fs::read_to_string(dir.join(format!("{}.csv", kind.name()))).unwrap();
        let header = text.lines().next().unwrap();
        let expected: Vec<&str> = kind.columns().iter().map(|c| c.name).collect();
        assert_eq!(header, expected.join(","), "{kind}");
    }
}

#[test]
fn parquet_tables_have_contract_schema_and_csv_values() {
    let config = small_config();
    let (csv, _) = generate_into("format-csv", &config, Format::Csv);
    let (parquet, _) = generate_into("format-parquet", &config, Format::Parquet);
    for kind in TableKind::ALL {
        let from_parquet = read_parquet_table(&parquet, kind.name());
        assert_eq!(from_parquet.schema().as_ref(), &kind.schema(), "{kind}");
        let from_csv = read_contract_table(&csv, kind);
        assert!(
            from_parquet.equals_missing(&from_csv),
            "{kind} differs between formats"
        );
    }
}

#[test]
fn parquet_writes_one_part_per_chunk() {
    let dir = portfolio_dir("parquet-parts");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let mut output = OutputOptions::new(&dir);
    output.format = Format::Parquet;
    output.chunk_accounts = 100;
    generate(&small_config(), &output, &mut |_, _| {}).unwrap();
    let parts: Vec<String> = std::fs::read_dir(dir.join("usage"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        parts,
        vec![
            "part-00000.parquet",
            "part-00001.parquet",
            "part-00002.parquet"
        ]
    );
}

/// Daily values of one account, metric and month: sum, max, last day and its value.
type Rolled = (f64, f64, NaiveDate, f64);

#[test]
fn daily_usage_rolls_up_to_monthly() {
    let mut config = small_config();
    config.accounts = 60;
    let (monthly, _) = generate_into("grain-month", &config, Format::Csv);
    config.grain = Grain::Day;
    let (daily, _) = generate_into("grain-day", &config, Format::Csv);

    // Everything but the usage table is the same.
    for name in [
        "accounts.csv",
        "contracts.csv",
        "outcomes.csv",
        "truth/monthly.csv",
    ] {
        assert_eq!(
            std::fs::read(monthly.join(name)).unwrap(),
            std::fs::read(daily.join(name)).unwrap(),
            "{name}"
        );
    }

    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(daily.join("meta.json")).unwrap()).unwrap();
    let rollup = |metric: &str| {
        meta["rollups"][metric]
            .as_str()
            .unwrap_or("sum")
            .to_string()
    };

    let usage = read_contract_table(&daily, TableKind::Usage);
    let ids = strings(&usage, "account_id");
    let metrics = strings(&usage, "metric");
    let values = numbers(&usage, "value");
    let days = dates(&usage, "date");
    let mut rolled: BTreeMap<(String, String, NaiveDate), Rolled> = BTreeMap::new();
    for row in 0..usage.height() {
        let day = days[row].unwrap();
        let month_end = headroom_sim::YearMonth::of(day).last_day();
        let entry = rolled
            .entry((ids[row].clone(), metrics[row].clone(), month_end))
            .or_insert((0.0, f64::MIN, NaiveDate::MIN, 0.0));
        entry.0 += values[row];
        entry.1 = entry.1.max(values[row]);
        if day > entry.2 {
            entry.2 = day;
            entry.3 = values[row];
        }
    }

    let usage = read_contract_table(&monthly, TableKind::Usage);
    let ids = strings(&usage, "account_id");
    let metrics = strings(&usage, "metric");
    let values = numbers(&usage, "value");
    let month_ends = dates(&usage, "date");
    let mut checked = 0;
    for row in 0..usage.height() {
        let key = (
            ids[row].clone(),
            metrics[row].clone(),
            month_ends[row].unwrap(),
        );
        let expected = values[row];
        let Some(&(sum, max, last_day, last)) = rolled.get(&key) else {
            assert_eq!(expected, 0.0, "{key:?} has no daily rows");
            continue;
        };
        let value = match rollup(&metrics[row]).as_str() {
            "max" => max,
            "last" => {
                assert_eq!(last_day, key.2, "{key:?}: last day");
                last
            }
            _ => sum,
        };
        assert!(
            (value - expected).abs() < 1e-6,
            "{key:?}: daily {value} vs monthly {expected}"
        );
        checked += 1;
    }
    assert!(checked > 1000, "{checked} monthly values checked");
}

#[test]
fn seasonality_and_noise_change_usage_not_outcomes() {
    let config = small_config();
    let (base, _) = generate_into("mechanisms-base", &config, Format::Csv);
    for mechanism in ["seasonality", "noise"] {
        let mut switched = config.clone();
        switched.mechanisms.set(mechanism, false).unwrap();
        let (dir, _) = generate_into(&format!("without-{mechanism}"), &switched, Format::Csv);
        for name in [
            "outcomes.csv",
            "contracts.csv",
            "truth/terms.csv",
            "interventions.csv",
        ] {
            assert_eq!(
                std::fs::read(base.join(name)).unwrap(),
                std::fs::read(dir.join(name)).unwrap(),
                "{mechanism} changed {name}"
            );
        }
        assert_ne!(
            std::fs::read(base.join("usage.csv")).unwrap(),
            std::fs::read(dir.join("usage.csv")).unwrap(),
            "{mechanism} left usage unchanged"
        );
    }
}

#[test]
fn without_decline_every_churn_is_signal_free() {
    let mut config = small_config();
    config.accounts = 1000;
    config.mechanisms.decline = false;
    let (dir, summary) = generate_into("without-decline", &config, Format::Csv);
    let monthly = read_csv(&dir.join("truth/monthly.csv"));
    assert!(
        strings(&monthly, "phase")
            .iter()
            .all(|phase| !phase.starts_with("decline"))
    );
    let terms = read_csv(&dir.join("truth/terms.csv"));
    let outcomes = strings(&terms, "outcome");
    let signal_free = flags(&terms, "signal_free");
    let churns = outcomes.iter().filter(|o| *o == "churned").count();
    assert!(churns > 10);
    for (outcome, free) in outcomes.iter().zip(&signal_free) {
        assert_eq!(outcome == "churned", *free);
    }
    assert_eq!(summary.signal_free_share, 1.0);
}

#[test]
fn without_signal_free_churn_every_churn_follows_decline() {
    let mut config = small_config();
    config.accounts = 1000;
    config.mechanisms.signal_free_churn = false;
    let (dir, summary) = generate_into("without-signal-free", &config, Format::Csv);
    let terms = read_csv(&dir.join("truth/terms.csv"));
    let outcomes = strings(&terms, "outcome");
    let phases = strings(&terms, "phase");
    let churns = outcomes.iter().filter(|o| *o == "churned").count();
    assert!(churns > 10);
    for (outcome, phase) in outcomes.iter().zip(&phases) {
        if outcome == "churned" {
            assert!(phase.starts_with("decline"), "a churn from {phase}");
        }
    }
    assert_eq!(summary.signal_free_share, 0.0);
}

#[test]
fn without_interventions_none_are_logged() {
    let mut config = small_config();
    config.mechanisms.interventions = false;
    let (dir, summary) = generate_into("without-interventions", &config, Format::Csv);
    let text = std::fs::read_to_string(dir.join("interventions.csv")).unwrap();
    assert_eq!(text, "account_id,date,kind,note\n");
    assert_eq!(summary.rows.interventions, 0);
}

#[test]
fn without_unused_features_every_feature_is_used() {
    let mut config = small_config();
    config.mechanisms.unused_features = false;
    config.mechanisms.adoption = false;
    let (dir, _) = generate_into("without-unused", &config, Format::Csv);
    let truth = read_csv(&dir.join("truth/accounts.csv"));
    assert!(numbers(&truth, "unused_features").iter().all(|n| *n == 0.0));

    // Every account with a year of usage used each of its plan's features.
    let accounts = read_csv(&dir.join("truth/accounts.csv"));
    let ids = strings(&accounts, "account_id");
    let features = numbers(&accounts, "features");
    let usage = read_contract_table(&dir, TableKind::Usage);
    let mut used: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut months: BTreeMap<String, usize> = BTreeMap::new();
    for (id, metric) in strings(&usage, "account_id")
        .into_iter()
        .zip(strings(&usage, "metric"))
    {
        if metric.starts_with("feature_") {
            used.entry(id).or_default().insert(metric);
        } else if metric == "active_users" {
            *months.entry(id).or_insert(0) += 1;
        }
    }
    for (id, features) in ids.iter().zip(&features) {
        if months.get(id).copied().unwrap_or(0) >= 12 {
            let count = used.get(id).map_or(0, |set| set.len());
            assert_eq!(count as f64, *features, "{id}");
        }
    }
}

#[test]
fn currencies_flag_adds_eur_and_gbp() {
    let mut config = small_config();
    config.currencies = true;
    let (dir, _) = generate_into("currencies", &config, Format::Csv);
    let contracts = read_contract_table(&dir, TableKind::Contracts);
    let codes: std::collections::BTreeSet<String> =
        strings(&contracts, "currency").into_iter().collect();
    assert_eq!(
        codes,
        ["EUR", "GBP", "USD"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["currency"], "USD");
    assert_eq!(meta["fx"]["EUR"], 1.08);
    assert_eq!(meta["fx"]["GBP"], 1.27);
}

#[test]
fn default_contracts_are_all_usd() {
    let (dir, _) = generate_into("usd-only", &small_config(), Format::Csv);
    let contracts = read_contract_table(&dir, TableKind::Contracts);
    assert!(strings(&contracts, "currency").iter().all(|c| c == "USD"));
}

#[test]
fn meta_json_lists_rollups() {
    let (dir, _) = generate_into("rollups", &small_config(), Format::Csv);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["rollups"]["active_users"], "max");
    assert_eq!(meta["rollups"]["api_calls"], "sum");
    assert_eq!(meta["rollups"]["storage_gb"], "last");
    assert_eq!(meta["rollups"]["feature_reports"], "sum");
    assert_eq!(meta["last_date"], "2025-10-31");
    assert_eq!(meta["config"]["accounts"], 300);
}

#[test]
fn nonempty_output_folder_is_rejected() {
    let dir = portfolio_dir("foreign");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "keep me").unwrap();
    for force in [false, true] {
        let mut output = OutputOptions::new(&dir);
        output.force = force;
        let err = generate(&small_config(), &output, &mut |_, _| {}).unwrap_err();
        assert!(
            matches!(err, SimError::OutputExists { ref path } if path == &dir),
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn earlier_output_needs_force() {
    let config = small_config();
    let (dir, _) = generate_into("rerun", &config, Format::Csv);
    let output = OutputOptions::new(&dir);
    let err = generate(&config, &output, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, SimError::OutputExists { .. }), "{err}");

    let mut output = OutputOptions::new(&dir);
    output.force = true;
    output.format = Format::Parquet;
    generate(&config, &output, &mut |_, _| {}).unwrap();
    assert!(
        !dir.join("usage.csv").exists(),
        "the earlier CSV output was replaced"
    );
    assert!(dir.join("usage").is_dir());
}

#[test]
fn truth_reads_parquet_like_csv() {
    let config = small_config();
    let (csv, _) = generate_into("truth-csv", &config, Format::Csv);
    let (parquet, _) = generate_into("truth-parquet", &config, Format::Parquet);
    let from_csv = Truth::load(&csv).unwrap();
    let from_parquet = Truth::load(&parquet.join("truth")).unwrap();
    assert_eq!(from_csv.len(), from_parquet.len());
    assert_eq!(
        from_csv.last_month_end(),
        NaiveDate::from_ymd_opt(2025, 10, 31)
    );
    let date = NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
    for id in ["A0001", "A0002", "A0150"] {
        assert_eq!(from_csv.get(id, date), from_parquet.get(id, date), "{id}");
    }
}

#[test]
fn oracle_rejects_unknown_and_censored_rows() {
    let (dir, _) = generate_into("oracle-errors", &small_config(), Format::Csv);
    let truth = Truth::load(&dir).unwrap();

    let missing = NaiveDate::from_ymd_opt(2024, 6, 15).unwrap();
    let err = oracle_auc(&truth, [("A0001", missing)], Target::Churn).unwrap_err();
    assert!(
        matches!(err, SimError::TruthRowMissing { ref account_id, date } if account_id == "A0001" && date == missing),
        "{err}"
    );

    // The first account alive in the last month: its horizon ends after the window.
    let frame = read_csv(&dir.join("truth/monthly.csv"));
    let ids = strings(&frame, "account_id");
    let month_ends = dates(&frame, "date");
    let last = NaiveDate::from_ymd_opt(2025, 10, 31).unwrap();
    let row = (0..frame.height())
        .find(|row| month_ends[*row] == Some(last))
        .unwrap();
    let err = oracle_auc(&truth, [(ids[row].as_str(), last)], Target::Churn).unwrap_err();
    assert!(matches!(err, SimError::HorizonCensored { .. }), "{err}");

    // With the caller's labels the same row can be scored.
    let scored = oracle_auc_with_labels(
        &truth,
        [
            (ids[row].as_str(), last, true),
            (
                "A0001",
                NaiveDate::from_ymd_opt(2024, 1, 31).unwrap(),
                false,
            ),
        ],
        Target::Churn,
    )
    .unwrap();
    assert_eq!(scored.rows, 2);
    assert_eq!(scored.positives, 1);
}
