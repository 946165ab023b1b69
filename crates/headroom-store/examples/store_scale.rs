//! Measures the store at portfolio scale: writing and reading one snapshot of
//! N accounts, closing (sealing) and reopening (verifying) the store, and
//! exporting it.
//!
//! ```text
//! cargo run --release -p headroom-store --example store_scale -- 1000000 [DIR]
//! ```
//!
//! DIR (default: a temporary folder) receives the store and is removed at the
//! end. Rows are generated from their index, so every run writes the same data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, NaiveDate};
use headroom_store::{Alert, NewSnapshot, Reason, SnapshotId, SnapshotRow, Store};

fn main() {
    let mut args = std::env::args().skip(1);
    let accounts: u64 = args
        .next()
        .map(|text| {
            text.parse()
                .expect("the first argument is the number of accounts")
        })
        .unwrap_or(1_000_000);
    let base = args.next().map(PathBuf::from);
    let temp =
        tempfile::tempdir_in(base.unwrap_or_else(std::env::temp_dir)).expect("a temporary folder");
    let dir = temp.path().join("store");

    println!("accounts: {accounts}");
    let id = measure_write(&dir, accounts);
    measure_close_and_open(&dir);
    measure_reads(&dir, id, accounts);
    measure_unclean_open(&dir);
    measure_export(&dir, temp.path());
}

/// Builds a row with the shape scoring writes: three reasons and one alert.
fn account_row(index: u64) -> SnapshotRow {
    let p_churn = (index % 997) as f64 / 997.0;
    SnapshotRow {
        account_id: format!("ACC-{index:08}"),
        customer_segment: Some(
            ["enterprise", "mid-market", "smb"][(index % 3) as usize].to_string(),
        ),
        health_segment: ["at-risk", "watch", "healthy", "expansion"][(index % 4) as usize]
            .to_string(),
        p_churn: Some(p_churn),
        p_expansion: Some(1.0 - p_churn),
        arr: 1_000.0 + (index % 50_000) as f64 * 3.7,
        flagged_churn: p_churn >= 0.5,
        flagged_expansion: p_churn < 0.1,
        priority: p_churn * 10_000.0,
        reasons: (0..3)
            .map(|k| Reason {
                feature: format!("feature_{k}"),
                contribution: p_churn - 0.25 * k as f64,
                text: format!(
                    "{} of 50 seats active, down {}% in 3 months",
                    index % 50,
                    k * 10
                ),
            })
            .collect(),
        alerts: vec![Alert {
            kind: "usage_drop".to_string(),
            text: "usage fell 42% in a month".to_string(),
        }],
    }
}

fn measure_write(dir: &Path, accounts: u64) -> SnapshotId {
    let store = Store::create(dir).expect("create the store");
    let run = NewSnapshot {
        as_of: NaiveDate::from_ymd_opt(2024, 6, 30).unwrap(),
        created_at: DateTime::from_timestamp(1_719_800_000, 0).unwrap(),
        churn_model: Some("churn-v1".to_string()),
        expansion_model: Some("expansion-v1".to_string()),
        thresholds: BTreeMap::from([("churn_flag".to_string(), 0.5)]),
    };

    let start = Instant::now();
    let header = store
        .write_snapshot(run, (0..accounts).map(account_row))
        .expect("write the snapshot");
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "write_snapshot: {seconds:.2} s ({:.0} rows/s)",
        accounts as f64 / seconds
    );

    let start = Instant::now();
    store.close().expect("close the store");
    println!(
        "close (flush + seal): {:.2} s",
        start.elapsed().as_secs_f64()
    );
    println!(
        "store size: {:.1} MiB",
        folder_size(dir) as f64 / (1 << 20) as f64
    );
    header.id
}

fn measure_close_and_open(dir: &Path) {
    let start = Instant::now();
    let store = Store::open(dir).expect("open the store");
    println!("open (verify seal): {:.2} s", start.elapsed().as_secs_f64());
    store.close().expect("close the store");
}

fn measure_reads(dir: &Path, id: SnapshotId, accounts: u64) {
    let store = Store::open(dir).expect("open the store");

    let start = Instant::now();
    let mut count = 0u64;
    let mut flagged = 0u64;
    for row in store.snapshot_rows(id).expect("the snapshot exists") {
        let row = row.expect("a readable row");
        count += 1;
        flagged += u64::from(row.flagged_churn);
    }
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(count, accounts);
    println!(
        "stream all rows: {seconds:.2} s ({:.0} rows/s, {flagged} flagged)",
        accounts as f64 / seconds
    );

    let lookups = 10_000.min(accounts);
    let start = Instant::now();
    for k in 0..lookups {
        let index = k * 7919 % accounts;
        let row = store
            .snapshot_row(id, &format!("ACC-{index:08}"))
            .expect("a readable row");
        assert!(row.is_some());
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{lookups} point lookups: {seconds:.3} s ({:.1} us each)",
        seconds * 1e6 / lookups as f64
    );
    store.close().expect("close the store");
}

fn measure_unclean_open(dir: &Path) {
    std::fs::remove_file(dir.join(headroom_store::SEAL_FILE)).expect("remove the seal");
    let start = Instant::now();
    let store = Store::open(dir).expect("open the unsealed store");
    println!(
        "open after unclean shutdown (recovery on a copy): {:.2} s",
        start.elapsed().as_secs_f64()
    );
    store.close().expect("close the store");
}

fn measure_export(dir: &Path, scratch: &Path) {
    let store = Store::open(dir).expect("open the store");
    let path = scratch.join("backup.jsonl");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create the backup"));

    let start = Instant::now();
    let summary = store.export_jsonl(file, &path).expect("export");
    println!(
        "export: {:.2} s ({} records, {:.1} MiB)",
        start.elapsed().as_secs_f64(),
        summary.records(),
        std::fs::metadata(&path).unwrap().len() as f64 / (1 << 20) as f64
    );
    store.close().expect("close the store");
}

fn folder_size(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        total += match meta.is_dir() {
            true => folder_size(&entry.path()),
            false => meta.len(),
        };
    }
    total
}
