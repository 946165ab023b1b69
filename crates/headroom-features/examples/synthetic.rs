//! Times the feature pipeline on a synthetic portfolio built in memory.
//!
//! `cargo run --release --example synthetic -p headroom-features -- ACCOUNTS MONTHS RUNS`
//! builds ACCOUNTS accounts with MONTHS months of usage on four metrics (seats
//! measured by active users, API calls, storage, one boolean feature) and
//! prints the time of `features` at the last month end, RUNS times. With
//! `RUST_LOG=headroom_features=debug` it also logs the time of each step.

use std::time::Instant;

use chrono::NaiveDate;
use headroom_data::{Rollup, Tables};
use headroom_features::calendar::{epoch_days, month_end};
use polars::prelude::*;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a number"))
        .collect();
    let accounts = args.first().copied().unwrap_or(10_000);
    let months = args.get(1).copied().unwrap_or(36) as i32;
    let runs = args.get(2).copied().unwrap_or(3);

    let started = Instant::now();
    let tables = synthetic(accounts, months);
    eprintln!(
        "built {} accounts, {} usage rows in {:.2?}",
        accounts,
        tables.usage.height(),
        started.elapsed()
    );
    let first = 2022 * 12;
    let as_of = month_end(first + months - 1);
    for run in 0..runs {
        let started = Instant::now();
        let df = headroom_features::features(&tables, as_of).expect("features");
        eprintln!(
            "run {run}: {} rows x {} columns in {:.3} s",
            df.height(),
            df.width(),
            started.elapsed().as_secs_f64()
        );
    }
}

/// A deterministic portfolio: account i has 10 + i % 90 seats, usage that
/// grows or shrinks by a per-account rate, and a December dip.
fn synthetic(accounts: usize, months: i32) -> Tables {
    let first = 2022 * 12;
    let start = epoch_days(NaiveDate::from_ymd_opt(2022, 1, 1).unwrap());
    let end = epoch_days(month_end(first + months + 11));
    let ids: Vec<String> = (0..accounts).map(|i| format!("acct-{i:07}")).collect();
    let segments = ["enterprise", "mid-market", "smb"];
    let industries = ["retail", "health", "finance", "media", "logistics"];

    let accounts_df = df!(
        "account_id" => &ids,
        "name" => ids.iter().map(|i| format!("Name {i}")).collect::<Vec<_>>(),
        "customer_since" => vec![start; accounts],
        "segment" => (0..accounts).map(|i| segments[i % 3]).collect::<Vec<_>>(),
        "industry" => (0..accounts).map(|i| industries[i % 5]).collect::<Vec<_>>(),
        "region" => vec!["emea"; accounts],
        "owner" => vec!["dana"; accounts],
    )
    .unwrap()
    .lazy()
    .with_columns([col("customer_since").cast(DataType::Date)])
    .collect()
    .unwrap();

    let contracts = df!(
        "contract_id" => ids.iter().map(|i| format!("c-{i}")).collect::<Vec<_>>(),
        "account_id" => &ids,
        "start_date" => vec![start; accounts],
        "end_date" => vec![end; accounts],
        "arr" => (0..accounts).map(|i| 1000.0 * (10 + i % 90) as f64).collect::<Vec<_>>(),
        "currency" => vec!["USD"; accounts],
        "plan" => vec![Some("pro"); accounts],
        "auto_renew" => vec![Some(true); accounts],
    )
    .unwrap()
    .lazy()
    .with_columns([
        col("start_date").cast(DataType::Date),
        col("end_date").cast(DataType::Date),
    ])
    .collect()
    .unwrap();

    let mut ent_contract = Vec::new();
    let mut ent_name = Vec::new();
    let mut ent_kind = Vec::new();
    let mut ent_limit = Vec::new();
    let mut ent_metric = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        for (name, kind, limit, metric) in [
            ("seats", "seats", Some((10 + i % 90) as f64), None),
            ("api_calls", "metered", Some(10_000.0), Some("api_calls")),
            ("storage_gb", "metered", Some(100.0), Some("storage_gb")),
            ("sso", "boolean", None, Some("sso_logins")),
        ] {
            ent_contract.push(format!("c-{id}"));
            ent_name.push(name);
            ent_kind.push(kind);
            ent_limit.push(limit);
            ent_metric.push(metric);
        }
    }
    let n = ent_name.len();
    let entitlements = df!(
        "contract_id" => ent_contract,
        "entitlement" => ent_name,
        "kind" => ent_kind,
        "limit" => ent_limit,
        "period" => vec!["month"; n],
        "metric" => ent_metric,
        "enforcement" => vec![Some("soft"); n],
    )
    .unwrap();

    let rows = accounts * months as usize * 4;
    let mut account_id = Vec::with_capacity(rows);
    let mut date = Vec::with_capacity(rows);
    let mut metric = Vec::with_capacity(rows);
    let mut value = Vec::with_capacity(rows);
    for (i, id) in ids.iter().enumerate() {
        let seats = (10 + i % 90) as f64;
        let rate = ((i % 21) as f64 - 10.0) / 200.0;
        for m in 0..months {
            let dip = if (first + m) % 12 == 11 { 0.6 } else { 1.0 };
            let level = (1.0 + rate).powi(m) * dip;
            let day = epoch_days(month_end(first + m));
            for (name, v) in [
                ("active_users", (seats * 0.7 * level).round()),
                ("api_calls", 6000.0 * level),
                ("storage_gb", 40.0 + m as f64),
                (
                    "sso_logins",
                    if (i + m as usize) % 4 == 0 { 3.0 } else { 0.0 },
                ),
            ] {
                account_id.push(id.clone());
                date.push(day);
                metric.push(name);
                value.push(v);
            }
        }
    }
    let usage = df!(
        "account_id" => account_id,
        "date" => date,
        "metric" => metric,
        "value" => value,
    )
    .unwrap()
    .lazy()
    .with_columns([col("date").cast(DataType::Date)])
    .collect()
    .unwrap();

    let mut tables = Tables::empty();
    tables.accounts = accounts_df;
    tables.contracts = contracts;
    tables.entitlements = entitlements;
    tables.usage = usage;
    tables.meta.rollups = [
        ("active_users".to_string(), Rollup::Max),
        ("storage_gb".to_string(), Rollup::Last),
    ]
    .into_iter()
    .collect();
    tables
}
