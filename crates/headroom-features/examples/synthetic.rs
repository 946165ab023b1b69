//! Times the feature pipeline on a synthetic portfolio built in memory.
//!
//! `cargo run --release --workspace --example synthetic -- ACCOUNTS MONTHS RUNS`
//! builds ACCOUNTS accounts with MONTHS months of monthly usage on four
//! metrics (active users against seats, API calls, storage, one boolean
//! feature), then times `features` at the last month end RUNS times and
//! prints each time and the median. With `RUST_LOG=headroom_features=debug`
//! it also logs the time of each step.
//!
//! The portfolio is deterministic: account i has 10 + i % 90 seats, usage
//! that grows or shrinks by (i % 21 - 10) / 200 a month, and a 40% dip every
//! December.

use std::time::Instant;

use chrono::NaiveDate;
use headroom_data::{Rollup, Tables};
use headroom_features::calendar::{epoch_days, month_end};
use polars::prelude::*;

/// The first month of the synthetic data: January 2022.
const FIRST_MONTH: i32 = 2022 * 12;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| {
            a.parse()
                .expect("arguments are numbers: ACCOUNTS MONTHS RUNS")
        })
        .collect();
    let accounts = args.first().copied().unwrap_or(10_000);
    let months = args.get(1).copied().unwrap_or(36) as i32;
    let runs = args.get(2).copied().unwrap_or(3).max(1);

    let started = Instant::now();
    let tables = synthetic(accounts, months).expect("the synthetic portfolio builds");
    eprintln!(
        "built {accounts} accounts, {} usage rows in {:.1} s",
        tables.usage.height(),
        started.elapsed().as_secs_f64()
    );

    let as_of = month_end(FIRST_MONTH + months - 1);
    let mut seconds = Vec::with_capacity(runs);
    for run in 1..=runs {
        let started = Instant::now();
        let table = headroom_features::features(&tables, as_of).expect("features");
        let elapsed = started.elapsed().as_secs_f64();
        eprintln!(
            "run {run}: {} rows x {} columns in {elapsed:.3} s",
            table.height(),
            table.width()
        );
        seconds.push(elapsed);
    }
    seconds.sort_by(f64::total_cmp);
    println!(
        "accounts={accounts} months={months} usage_rows={} runs={runs} median_seconds={:.3}",
        tables.usage.height(),
        seconds[seconds.len() / 2]
    );
}

fn synthetic(accounts: usize, months: i32) -> PolarsResult<Tables> {
    let start = epoch_days(NaiveDate::from_ymd_opt(2022, 1, 1).expect("a date"));
    let end = epoch_days(month_end(FIRST_MONTH + months + 11));
    let index = DataFrame::new(
        accounts,
        vec![Column::new(
            "i".into(),
            (0..accounts as u32).collect::<Vec<_>>(),
        )],
    )?
    .lazy()
    .with_columns([
        concat_str([lit("acct-"), col("i").cast(DataType::String)], "", false).alias("account_id"),
        (lit(10.0) + (col("i") % lit(90)).cast(DataType::Float64)).alias("seats"),
    ]);

    let mut tables = Tables::empty();
    tables.accounts = accounts_table(index.clone(), start)?;
    tables.contracts = contracts_table(index.clone(), start, end)?;
    tables.entitlements = entitlements_table(index.clone())?;
    tables.usage = usage_table(index, months)?.into();
    tables.meta.rollups = [
        ("active_users".to_string(), Rollup::Max),
        ("storage_gb".to_string(), Rollup::Last),
    ]
    .into_iter()
    .collect();
    Ok(tables)
}

fn pick(values: &[&str], i: Expr) -> Expr {
    let n = values.len() as u32;
    let mut out = lit(values[0]);
    for (k, value) in values.iter().enumerate().skip(1) {
        out = when((i.clone() % lit(n)).eq(lit(k as u32)))
            .then(lit(*value))
            .otherwise(out);
    }
    out
}

fn accounts_table(index: LazyFrame, start: i32) -> PolarsResult<DataFrame> {
    index
        .select([
            col("account_id"),
            concat_str(
                [lit("Account "), col("i").cast(DataType::String)],
                "",
                false,
            )
            .alias("name"),
            lit(start).cast(DataType::Date).alias("customer_since"),
            pick(&["enterprise", "mid-market", "smb"], col("i")).alias("segment"),
            pick(
                &["retail", "health", "finance", "media", "logistics"],
                col("i"),
            )
            .alias("industry"),
            lit("emea").alias("region"),
            lit("dana").alias("owner"),
        ])
        .collect()
}

fn contracts_table(index: LazyFrame, start: i32, end: i32) -> PolarsResult<DataFrame> {
    index
        .select([
            concat_str([lit("c-"), col("account_id")], "", false).alias("contract_id"),
            col("account_id"),
            lit(start).cast(DataType::Date).alias("start_date"),
            lit(end).cast(DataType::Date).alias("end_date"),
            (col("seats") * lit(1_000.0)).alias("arr"),
            lit("USD").alias("currency"),
            lit("pro").alias("plan"),
            lit(true).alias("auto_renew"),
        ])
        .collect()
}

fn entitlements_table(index: LazyFrame) -> PolarsResult<DataFrame> {
    let kinds = df!(
        "entitlement" => ["seats", "api_calls", "storage_gb", "sso"],
        "kind" => ["seats", "metered", "metered", "boolean"],
        "fixed_limit" => [None, Some(10_000.0), Some(100.0), None],
        "metric" => [None, Some("api_calls"), Some("storage_gb"), Some("sso_logins")],
    )?;
    index
        .cross_join(kinds.lazy(), None)
        .select([
            concat_str([lit("c-"), col("account_id")], "", false).alias("contract_id"),
            col("entitlement"),
            col("kind"),
            when(col("kind").eq(lit("seats")))
                .then(col("seats"))
                .otherwise(col("fixed_limit"))
                .alias("limit"),
            lit("month").alias("period"),
            col("metric"),
            lit("soft").alias("enforcement"),
        ])
        .collect()
}

fn usage_table(index: LazyFrame, months: i32) -> PolarsResult<DataFrame> {
    let month_ends: Vec<i32> = (0..months)
        .map(|m| epoch_days(month_end(FIRST_MONTH + m)))
        .collect();
    let calendar = DataFrame::new(
        months as usize,
        vec![
            Column::new("m".into(), (0..months).collect::<Vec<_>>()),
            Column::new("day".into(), month_ends),
        ],
    )?;
    let metrics = df!("metric" => ["active_users", "api_calls", "storage_gb", "sso_logins"])?;

    let rate = ((col("i") % lit(21)).cast(DataType::Float64) - lit(10.0)) / lit(200.0);
    let december = ((col("m") + lit(FIRST_MONTH)) % lit(12)).eq(lit(11));
    let level = (lit(1.0) + rate).pow(col("m").cast(DataType::Float64))
        * when(december).then(lit(0.6)).otherwise(lit(1.0));
    let used = ((col("i") + col("m").cast(DataType::UInt32)) % lit(4)).eq(lit(0));
    let value = when(col("metric").eq(lit("active_users")))
        .then((col("seats") * lit(0.7) * level.clone()).round(0, RoundMode::HalfAwayFromZero))
        .when(col("metric").eq(lit("api_calls")))
        .then(lit(6_000.0) * level)
        .when(col("metric").eq(lit("storage_gb")))
        .then(lit(40.0) + col("m").cast(DataType::Float64))
        .otherwise(when(used).then(lit(3.0)).otherwise(lit(0.0)));

    index
        .cross_join(calendar.lazy(), None)
        .cross_join(metrics.lazy(), None)
        .select([
            col("account_id"),
            col("day").cast(DataType::Date).alias("date"),
            col("metric"),
            value.alias("value"),
        ])
        .collect()
}
