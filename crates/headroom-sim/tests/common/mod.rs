//! Shared helpers of the simulator's integration tests: generating portfolios
//! into folders under the target directory and reading their tables back.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::NaiveDate;
use headroom_data::TableKind;
use headroom_sim::{Format, OutputOptions, SimConfig, Summary, generate};
use polars::prelude::*;

/// Returns a folder under the target directory for one named test portfolio.
pub fn portfolio_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("headroom-sim-tests")
        .join(name)
}

/// Generates a portfolio into `portfolio_dir(name)`, replacing an earlier one.
pub fn generate_into(name: &str, config: &SimConfig, format: Format) -> (PathBuf, Summary) {
    let dir = portfolio_dir(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove the earlier test portfolio");
    }
    let mut output = OutputOptions::new(&dir);
    output.format = format;
    let summary = generate(config, &output, &mut |_, _| {}).expect("the portfolio generates");
    (dir, summary)
}

/// Returns the shared large portfolio of the statistical tests: 12,000 accounts over
/// 36 months with the default mechanisms, generated once per test binary.
pub fn large_portfolio() -> &'static (PathBuf, Summary) {
    static PORTFOLIO: OnceLock<(PathBuf, Summary)> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    PORTFOLIO.get_or_init(|| {
        let config = SimConfig {
            accounts: 12_000,
            seed: 2024,
            ..SimConfig::default()
        };
        generate_into("large", &config, Format::Csv)
    })
}

/// Reads a contract table from CSV with the contract schema.
pub fn read_contract_table(dir: &Path, kind: TableKind) -> DataFrame {
    let path = dir.join(format!("{}.csv", kind.name()));
    CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(Arc::new(kind.schema())))
        .try_into_reader_with_file_path(Some(path.clone()))
        .and_then(|reader| reader.finish())
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Reads a CSV file, inferring types and parsing dates.
pub fn read_csv(path: &Path) -> DataFrame {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .map_parse_options(|options| options.with_try_parse_dates(true))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|reader| reader.finish())
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Returns a text column as owned strings (missing values as empty strings).
pub fn strings(frame: &DataFrame, name: &str) -> Vec<String> {
    frame
        .column(name)
        .unwrap_or_else(|_| panic!("column {name}"))
        .str()
        .unwrap_or_else(|_| panic!("{name} is text"))
        .iter()
        .map(|value| value.unwrap_or_default().to_string())
        .collect()
}

/// Returns a numeric column as f64 (missing values as NaN).
pub fn numbers(frame: &DataFrame, name: &str) -> Vec<f64> {
    frame
        .column(name)
        .unwrap_or_else(|_| panic!("column {name}"))
        .cast(&DataType::Float64)
        .expect("numeric column")
        .f64()
        .expect("f64 after cast")
        .iter()
        .map(|value| value.unwrap_or(f64::NAN))
        .collect()
}

/// Returns a flag column.
pub fn flags(frame: &DataFrame, name: &str) -> Vec<bool> {
    frame
        .column(name)
        .unwrap_or_else(|_| panic!("column {name}"))
        .bool()
        .unwrap_or_else(|_| panic!("{name} is a flag"))
        .iter()
        .map(|value| value.unwrap_or(false))
        .collect()
}

/// Returns a date column (missing values as None).
pub fn dates(frame: &DataFrame, name: &str) -> Vec<Option<NaiveDate>> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    frame
        .column(name)
        .unwrap_or_else(|_| panic!("column {name}"))
        .cast(&DataType::Int32)
        .expect("date column")
        .i32()
        .expect("i32 after cast")
        .iter()
        .map(|days| days.map(|d| epoch + chrono::Duration::days(i64::from(d))))
        .collect()
}

/// Returns every file under `dir` with its bytes, keyed by the path relative to `dir`.
pub fn folder_bytes(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("readable folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("inside dir").to_path_buf();
                files.insert(relative, std::fs::read(&path).expect("readable file"));
            }
        }
    }
    files
}
