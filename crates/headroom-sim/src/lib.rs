//! A synthetic B2B SaaS portfolio in the data contract, generated from switchable
//! mechanisms (adoption, decline before churn, growth toward limits, seasonality,
//! unused features, signal-free churn, interventions), together with the ground
//! truth behind every outcome.
//!
//! `generate` writes the six contract tables (CSV files or folders of Parquet
//! parts) and a `meta.json` with the metric rollups and the settings. Beside
//! them, a `truth/` folder records each account's hidden traits, the
//! probabilities used at the end of every contract term, and for every account
//! month-end the exact probability of churning and of expanding within the
//! horizon. `truth::oracle_auc` scores any set of (account, month-end)
//! observations with those probabilities, which gives the best ROC-AUC a model
//! can reach on them.

pub mod calendar;
pub mod calibrate;
pub mod catalog;
pub mod config;
pub mod dynamics;
pub mod error;
pub mod output;
pub mod profile;
pub mod records;
pub mod simulate;
pub mod summary;
mod tables;
pub mod truth;
pub mod usage;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use headroom_data::Rollup;
use serde::Serialize;

pub use calendar::YearMonth;
pub use config::{Grain, SimConfig};
pub use error::SimError;
pub use output::Format;
pub use summary::Summary;
pub use truth::{OracleAuc, Target, Truth, oracle_auc, oracle_auc_with_labels, roc_auc};

use crate::calendar::Window;
use crate::catalog::{Currency, Metric, MetricRollup};
use crate::output::{IdFormat, TableWriter};
use crate::records::Chunk;
use crate::simulate::SimContext;
use crate::summary::SummaryBuilder;

/// The file beside the tables that records rollups, currency and settings.
pub const PORTFOLIO_FILE: &str = headroom_data::tables::META_FILE;

/// Output folder, format, chunk size and threads of a portfolio run.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputOptions {
    /// The output folder; it is written in full or not at all.
    pub dir: PathBuf,
    /// CSV files or Parquet folders. Default CSV.
    pub format: Format,
    /// Replace an earlier `headroom sim` output in `dir`. Default false.
    pub force: bool,
    /// Accounts generated and written at a time, which bounds memory. Default 20,000.
    pub chunk_accounts: u64,
    /// Threads that generate accounts. Default: the available cores.
    pub threads: usize,
}

impl OutputOptions {
    /// Creates options that write CSV into `dir`, without replacing, in chunks of
    /// 20,000 accounts, on every core.
    pub fn new(dir: impl Into<PathBuf>) -> OutputOptions {
        OutputOptions {
            dir: dir.into(),
            format: Format::Csv,
            force: false,
            chunk_accounts: 20_000,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// The contents of `meta.json`.
#[derive(Debug, Clone, Serialize)]
pub struct PortfolioMeta {
    /// The generator and its version.
    pub generator: String,
    /// The reporting currency.
    pub currency: &'static str,
    /// US dollars per unit of each other contract currency (empty when every
    /// contract is in USD).
    pub fx: BTreeMap<&'static str, f64>,
    /// Month rollup of each usage metric. Metrics not listed roll up by sum.
    pub rollups: BTreeMap<&'static str, Rollup>,
    /// The format of the tables.
    pub format: Format,
    /// The usage grain.
    pub grain: Grain,
    /// First month of usage.
    pub start: YearMonth,
    /// Last month of usage.
    pub end: YearMonth,
    /// The last day with data (the last month-end).
    pub last_date: chrono::NaiveDate,
    /// Number of accounts.
    pub accounts: u64,
    /// The seed.
    pub seed: u64,
    /// Horizon of the truth probabilities, in days.
    pub horizon_days: u32,
    /// Every setting, as given to the simulator.
    pub config: SimConfig,
}

impl PortfolioMeta {
    /// Creates the metadata of a portfolio generated with `config`.
    pub fn new(config: &SimConfig, format: Format) -> PortfolioMeta {
        let window = Window::new(config.start, config.months);
        let fx = if config.currencies {
            [Currency::Eur, Currency::Gbp]
                .into_iter()
                .map(|currency| (currency.code(), currency.usd_rate()))
                .collect()
        } else {
            BTreeMap::new()
        };
        let rollups = Metric::all()
            .map(|metric| {
                let rollup = match metric.rollup() {
                    MetricRollup::Sum => Rollup::Sum,
                    MetricRollup::Max => Rollup::Max,
                    MetricRollup::Last => Rollup::Last,
                };
                (metric.name(), rollup)
            })
            .collect();
        PortfolioMeta {
            generator: format!("headroom-sim {}", env!("CARGO_PKG_VERSION")),
            currency: Currency::Usd.code(),
            fx,
            rollups,
            format,
            grain: config.grain,
            start: window.start(),
            end: window.last(),
            last_date: window.month_end(window.last_index()),
            accounts: config.accounts,
            seed: config.seed,
            horizon_days: config.horizon_days,
            config: config.clone(),
        }
    }
}

/// Generates a portfolio and writes it to `output.dir`, reporting progress as
/// (accounts done, accounts in all) after each chunk.
///
/// The tables are written into a staging folder beside `output.dir` and moved
/// into place only once complete. Fails when the config is invalid, when the
/// output folder contains other files (or an earlier output without `force`), or
/// when a file cannot be written.
pub fn generate(
    config: &SimConfig,
    output: &OutputOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Summary, SimError> {
    config.validate()?;
    check_output(output)?;
    let staging = staging_dir(&output.dir);
    reset_dir(&staging)?;

    let written = write_staging(config, output, &staging, progress);
    let summary = match written {
        Ok(summary) => summary,
        Err(err) => {
            // Best effort: the error that stopped the run matters more than a
            // staging folder that cannot be removed.
            let _ = std::fs::remove_dir_all(&staging);
            return Err(err);
        }
    };
    replace_dir(&staging, &output.dir)?;
    tracing::info!(accounts = config.accounts, dir = %output.dir.display(), "wrote portfolio");
    Ok(summary)
}

/// Writes the whole portfolio into the staging folder.
fn write_staging(
    config: &SimConfig,
    output: &OutputOptions,
    staging: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Summary, SimError> {
    let calibration = calibrate::calibrate(config);
    let context = SimContext::new(config, calibration);
    let writer = TableWriter::new(
        staging,
        output.format,
        IdFormat::for_accounts(config.accounts),
    );
    let summary = write_chunks(config, &context, output, writer, progress)?;

    let summary = summary.finish(config, calibration);
    write_json(
        &staging.join(PORTFOLIO_FILE),
        &PortfolioMeta::new(config, output.format),
    )?;
    write_json(&staging.join("truth").join("summary.json"), &summary)?;
    Ok(summary)
}

/// Simulates the accounts chunk by chunk and writes each chunk on a writer
/// thread while the next one is simulated. The channel has room for one chunk,
/// so at most three chunks are in memory at once.
fn write_chunks(
    config: &SimConfig,
    context: &SimContext,
    output: &OutputOptions,
    mut writer: TableWriter,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SummaryBuilder, SimError> {
    let mut summary = SummaryBuilder::new(context.window());
    let chunk_size = output.chunk_accounts.max(1);

    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Chunk>(1);
        let writing = scope.spawn(move || -> Result<(), SimError> {
            for chunk in receiver {
                let started = std::time::Instant::now();
                writer.write(&chunk)?;
                tracing::debug!(
                    accounts = chunk.accounts.len(),
                    write_ms = started.elapsed().as_millis() as u64,
                    "wrote chunk"
                );
            }
            writer.finish()
        });

        let mut start = 0;
        while start < config.accounts {
            let end = (start + chunk_size).min(config.accounts);
            let started = std::time::Instant::now();
            let chunk = simulate_parallel(context, start..end, output.threads);
            tracing::debug!(
                accounts = end - start,
                simulate_ms = started.elapsed().as_millis() as u64,
                "simulated chunk"
            );
            summary.add(&chunk);
            if sender.send(chunk).is_err() {
                // The writer stopped on an error, which its join returns.
                break;
            }
            progress(end, config.accounts);
            start = end;
        }
        drop(sender);
        writing.join().expect("the writer thread panicked")
    })?;
    Ok(summary)
}

/// Simulates a range of accounts on `threads` threads, keeping account order.
fn simulate_parallel(
    context: &SimContext,
    accounts: std::ops::Range<u64>,
    threads: usize,
) -> Chunk {
    let threads = threads.max(1) as u64;
    let count = accounts.end - accounts.start;
    if threads == 1 || count < 2 * threads {
        return context.simulate(accounts);
    }

    let per_thread = count.div_ceil(threads);
    let parts: Vec<Chunk> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let from = accounts.start + t * per_thread;
                let to = (from + per_thread).min(accounts.end);
                scope.spawn(move || context.simulate(from..to))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a simulation thread panicked"))
            .collect()
    });

    let mut chunk = Chunk::default();
    for part in parts {
        chunk.append(part);
    }
    chunk
}

fn check_output(output: &OutputOptions) -> Result<(), SimError> {
    let dir = &output.dir;
    if !dir.exists() {
        return Ok(());
    }
    let io_error = |source| SimError::Io {
        path: dir.clone(),
        source,
    };
    let empty = std::fs::read_dir(dir).map_err(io_error)?.next().is_none();
    let earlier_output = dir.join(PORTFOLIO_FILE).is_file();
    if empty || (output.force && earlier_output) {
        return Ok(());
    }
    Err(SimError::OutputExists { path: dir.clone() })
}

fn staging_dir(dir: &Path) -> PathBuf {
    let name = dir.file_name().map_or_else(
        || "portfolio".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    dir.with_file_name(format!(".{name}.partial"))
}

fn reset_dir(dir: &Path) -> Result<(), SimError> {
    let io_error = |source| SimError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io_error)?;
    }
    std::fs::create_dir_all(dir).map_err(io_error)
}

fn replace_dir(staging: &Path, dir: &Path) -> Result<(), SimError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|source| SimError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::rename(staging, dir).map_err(|source| SimError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), SimError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| SimError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let text = serde_json::to_string_pretty(value).expect("the metadata serializes to JSON") + "\n";
    std::fs::write(path, text).map_err(|source| SimError::Io {
        path: path.to_path_buf(),
        source,
    })
}
