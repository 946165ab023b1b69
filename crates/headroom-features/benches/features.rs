//! Criterion benchmarks of the feature kernels on a simulated portfolio held
//! in memory.
//!
//! `cargo bench -p headroom-features --features bench` simulates 2,000 accounts
//! over 36 months (2023-11 to 2026-10, seed 7, monthly usage on 3 usage and 8
//! feature metrics) with `headroom-sim`, loads them through the data contract
//! once, and then times three calls on the same tables:
//!
//! - `features_at_one_date`: the feature table as of 2026-10-31, what scoring
//!   computes;
//! - `features_24_month_ends`: the panel at the 24 month ends from 2024-11-30
//!   to 2026-10-31, what training computes;
//! - `usage_by_month`: the usage rolled up to one row per account, metric and
//!   month.
//!
//! Set `HEADROOM_BENCH_ACCOUNTS` to simulate another size. The whole-command
//! timings at 10,000 to 1,000,000 accounts are in `experiments/scale/`.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use headroom_data::{Mapping, Tables};
use headroom_features::{features, monthly_features};
use headroom_sim::{OutputOptions, SimConfig};

/// Accounts simulated when `HEADROOM_BENCH_ACCOUNTS` is not set.
const DEFAULT_ACCOUNTS: u64 = 2_000;

/// Simulates the portfolio into a temporary folder and loads it through the
/// data contract, as `headroom import` would.
fn simulated_tables(accounts: u64) -> Tables {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let sim = dir.path().join("sim");
    let config = SimConfig {
        accounts,
        calibration_accounts: accounts.min(2_000) as u32,
        ..SimConfig::default()
    };
    headroom_sim::generate(&config, &OutputOptions::new(&sim), &mut |_, _| {})
        .expect("the simulated portfolio is written");
    let loaded = headroom_data::load(&sim, &Mapping::contract()).expect("the portfolio loads");
    let (tables, _) = loaded
        .into_checked()
        .expect("the simulated portfolio passes validation");
    tables
}

fn accounts() -> u64 {
    match std::env::var("HEADROOM_BENCH_ACCOUNTS") {
        Ok(text) => text
            .parse()
            .expect("HEADROOM_BENCH_ACCOUNTS is a whole number of accounts"),
        Err(_) => DEFAULT_ACCOUNTS,
    }
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a valid date")
}

fn feature_kernels(c: &mut Criterion) {
    let tables = simulated_tables(accounts());
    let as_of = date("2026-10-31");
    let first_month_end = date("2024-11-30");

    let mut group = c.benchmark_group("features");
    group.sample_size(10);
    group.throughput(Throughput::Elements(tables.usage.height() as u64));
    group.bench_function("features_at_one_date", |b| {
        b.iter(|| features(black_box(&tables), as_of).expect("features"))
    });
    group.bench_function("features_24_month_ends", |b| {
        b.iter(|| monthly_features(black_box(&tables), first_month_end, as_of).expect("features"))
    });
    group.bench_function("usage_by_month", |b| {
        b.iter(|| headroom_data::usage_by_month(black_box(&tables)).expect("rollup"))
    });
    group.finish();
}

criterion_group!(benches, feature_kernels);
criterion_main!(benches);
