//! Measures `load` on a large portfolio in the contract format: accounts x
//! months x metrics of monthly usage in Parquet part files, as a simulator or
//! a warehouse rollup writes them.
//!
//! ```text
//! cargo run --release -p headroom-data --example import_scale -- generate DIR 1000000
//! cargo run --release -p headroom-data --example import_scale -- load DIR
//! ```
//!
//! `generate` writes DIR/{accounts,contracts,entitlements}.parquet and
//! DIR/usage/part-NNNNN.parquet (36 months x 4 metrics per account, one part
//! per 50,000 accounts). `load` validates DIR and prints the time taken, the
//! row counts and the peak resident memory of the process (VmHWM).
//!
//! Measured on the 2-core, 24 GB development machine with a debug build
//! (dependencies at opt-level 1, this crate unoptimized) while other builds
//! shared the cores:
//!
//! | accounts | usage rows | load time | peak memory |
//! |---|---|---|---|
//! | 100,000 | 14,400,000 | 50 s | 1.6 GB |
//! | 1,000,000 | 144,000,000 | 854 s | 13.1 GB |
//!
//! NOTE: no release-build timing is recorded yet; the debug times above are
//! upper bounds.

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;
use headroom_data::cell::epoch_days;
use headroom_data::{Mapping, TableKind, load};
use polars::prelude::*;

const MONTHS: usize = 36;
const METRICS: [&str; 4] = ["active_users", "api_calls", "storage_gb", "reports_run"];
const PART_ACCOUNTS: usize = 50_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") => {
            let accounts: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(100_000);
            generate(Path::new(&args[2]), accounts);
        }
        Some("load") => measure(Path::new(&args[2])),
        _ => eprintln!("usage: import_scale generate DIR [ACCOUNTS] | load DIR"),
    }
}

fn write(path: &Path, df: &mut DataFrame) {
    std::fs::create_dir_all(path.parent().expect("file in a folder")).expect("folder created");
    let file = File::create(path).expect("file created");
    ParquetWriter::new(file)
        .finish(df)
        .expect("parquet written");
}

fn ids(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i:07}")).collect()
}

fn generate(dir: &Path, accounts: usize) {
    let start = NaiveDate::from_ymd_opt(2022, 1, 1).expect("valid date");
    let start_days = epoch_days(start);
    let date_column = |name: &str, days: Vec<i32>| {
        Series::new(name.into(), days)
            .cast(&DataType::Date)
            .expect("date cast")
            .into_column()
    };

    let mut frame = DataFrame::new(
        accounts,
        vec![
            Column::new("account_id".into(), ids("A", 0..accounts)),
            Column::new("name".into(), ids("Customer ", 0..accounts)),
            date_column("customer_since", vec![start_days - 365; accounts]),
        ],
    )
    .expect("accounts frame");
    write(&dir.join("accounts.parquet"), &mut frame);

    let mut frame = DataFrame::new(
        accounts,
        vec![
            Column::new("contract_id".into(), ids("C", 0..accounts)),
            Column::new("account_id".into(), ids("A", 0..accounts)),
            date_column("start_date", vec![start_days; accounts]),
            date_column("end_date", vec![start_days + 3 * 365; accounts]),
            Column::new("arr".into(), vec![12_000.0; accounts]),
            Column::new("currency".into(), vec!["USD"; accounts]),
        ],
    )
    .expect("contracts frame");
    write(&dir.join("contracts.parquet"), &mut frame);

    let mut frame = DataFrame::new(
        accounts,
        vec![
            Column::new("contract_id".into(), ids("C", 0..accounts)),
            Column::new("entitlement".into(), vec!["seats"; accounts]),
            Column::new("kind".into(), vec!["seats"; accounts]),
            Column::new("limit".into(), vec![50.0; accounts]),
            Column::new("period".into(), vec!["term"; accounts]),
            Column::new("metric".into(), vec!["active_users"; accounts]),
        ],
    )
    .expect("entitlements frame");
    write(&dir.join("entitlements.parquet"), &mut frame);

    let month_ends: Vec<i32> = (1..=MONTHS as u32)
        .map(|m| {
            let first = start
                .checked_add_months(chrono::Months::new(m))
                .expect("valid month");
            epoch_days(first.pred_opt().expect("valid day"))
        })
        .collect();
    for (part, first) in (0..accounts).step_by(PART_ACCOUNTS).enumerate() {
        let last = (first + PART_ACCOUNTS).min(accounts);
        let rows = (last - first) * MONTHS * METRICS.len();
        let mut account = Vec::with_capacity(rows);
        let mut date = Vec::with_capacity(rows);
        let mut metric = Vec::with_capacity(rows);
        let mut value = Vec::with_capacity(rows);
        for a in first..last {
            let id = format!("A{a:07}");
            for (m, day) in month_ends.iter().enumerate() {
                for (k, name) in METRICS.iter().enumerate() {
                    account.push(id.clone());
                    date.push(*day);
                    metric.push(*name);
                    value.push(((a * 7 + m * 3 + k) % 60) as f64);
                }
            }
        }
        let mut frame = DataFrame::new(
            rows,
            vec![
                Column::new("account_id".into(), account),
                date_column("date", date),
                Column::new("metric".into(), metric),
                Column::new("value".into(), value),
            ],
        )
        .expect("usage frame");
        write(
            &dir.join(format!("usage/part-{part:05}.parquet")),
            &mut frame,
        );
    }
    println!(
        "wrote {accounts} accounts, {} usage rows to {}",
        accounts * MONTHS * METRICS.len(),
        dir.display()
    );
}

fn measure(dir: &Path) {
    let started = Instant::now();
    let loaded = load(dir, &Mapping::contract()).expect("folder readable");
    let elapsed = started.elapsed();
    println!("load: {:.1} s", elapsed.as_secs_f64());
    for kind in TableKind::ALL {
        println!(
            "  {:<14}{:>12} rows",
            kind.name(),
            loaded.tables.get(kind).map_or(0, |df| df.height())
        );
    }
    println!(
        "  {} error(s), {} warning(s)",
        loaded.report.error_count(),
        loaded.report.warning_count()
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines().filter(|l| l.starts_with("VmHWM")) {
        println!("peak memory: {}", line.trim_start_matches("VmHWM:").trim());
    }
}
