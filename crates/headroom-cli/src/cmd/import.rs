//! `headroom import`: validate a folder of exports and write the normalized
//! tables into a project, all or nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use headroom_data::mapping::CurrencySpec;
use headroom_data::tables::remove_stale_staging;
use headroom_data::{ImportLock, Loaded, Mapping, ProjectConfig, Report};

use super::portfolio;
use super::validate::read_mapping;

/// Validate a folder of exports and write the normalized tables into a project.
///
/// Runs the same checks as `headroom validate` and, only when there are no
/// errors, writes PROJECT/tables/ (one Parquet file per table and meta.json),
/// replacing earlier tables all at once. Re-import every month with the
/// latest exports; outcomes recorded with `headroom outcomes` stay in the
/// store. The reporting currency comes from the mapping's [currency]
/// section, else from the project's headroom.toml.
///
/// One import writes a project at a time: a second one started meanwhile
/// stops at once, naming PROJECT/import.lock and the process that holds it.
/// When the store already contains score snapshots or recorded outcomes, the
/// new accounts must share at least half of the accounts known to the
/// project (half of the smaller set). Otherwise the import is rejected,
/// because the store would mix two portfolios: use a new project for
/// another portfolio.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Folder with the exports: CSV or Parquet files, or folders of part files.
    pub dir: PathBuf,

    /// Mapping file (TOML) that adapts the exports to the data contract.
    #[arg(long, short)]
    pub mapping: Option<PathBuf>,

    /// Project folder; the tables are written to PROJECT/tables/ (Parquet).
    #[arg(
        long,
        visible_alias = "project",
        value_name = "PROJECT_DIR",
        default_value = "."
    )]
    pub out: PathBuf,

    /// The day a one-row-per-customer export was taken (YYYY-MM-DD); overrides
    /// `snapshot_date` in the mapping.
    #[arg(long, value_name = "DATE", value_parser = super::parse_date)]
    pub snapshot_date: Option<NaiveDate>,

    /// Import even though the new accounts share fewer than half of the
    /// accounts known to the project. The stored snapshots and
    /// outcomes stay, so only use it when the account ids were renamed or the
    /// old portfolio's records may stay beside the new one.
    #[arg(long)]
    pub replace_portfolio: bool,
}

/// Runs `headroom import`: prints the validation report on stdout and writes
/// the tables only when the input has no errors.
pub fn run(args: &ImportArgs) -> anyhow::Result<()> {
    let mut mapping = read_mapping(args.mapping.as_ref(), args.snapshot_date)?;
    if mapping.currency.is_none() {
        mapping.currency = project_currency(&args.out)?;
    }
    let created = !args.out.exists();
    let purpose = format!("headroom import {}", args.dir.display());
    let lock = ImportLock::acquire(&args.out, &purpose)
        .with_context(|| format!("failed to import {}", args.dir.display()))?;
    let written = write_tables(args, &mapping);
    if written.is_err() && created {
        // A failed import into a new folder leaves no folder behind. Only
        // the lock file is in it, and `remove_dir` keeps a folder that is
        // not empty.
        let lock_path = lock.path().to_path_buf();
        drop(lock);
        let _ = std::fs::remove_file(&lock_path);
        let _ = std::fs::remove_dir(&args.out);
    }
    let report = written?;

    let mut stdout = std::io::stdout().lock();
    stdout.write_all(report.render().as_bytes())?;
    writeln!(
        stdout,
        "wrote {}",
        args.out.join(headroom_data::tables::TABLES_DIR).display()
    )?;
    stdout.flush()?;
    Ok(())
}

/// Validates the exports and, when they have no errors and pass the portfolio
/// check, writes the tables. The caller holds the import lock.
fn write_tables(args: &ImportArgs, mapping: &Mapping) -> anyhow::Result<Report> {
    let failed = || format!("failed to import {}", args.dir.display());
    let (tables, report) = headroom_data::load(&args.dir, mapping)
        .and_then(Loaded::into_checked)
        .with_context(failed)?;
    if !args.replace_portfolio {
        portfolio::check(&args.out, &tables).with_context(failed)?;
    }
    remove_stale_staging(&args.out)?;
    tables.write_project(&args.out).with_context(failed)?;
    Ok(report)
}

/// Reads the `[currency]` section of the project's headroom.toml, which
/// applies when the mapping has none.
fn project_currency(project: &Path) -> anyhow::Result<Option<CurrencySpec>> {
    let config = ProjectConfig::load(project)?;
    Ok(config.section::<Option<CurrencySpec>>("currency")?)
}
