//! `headroom validate`: load a folder of exports, print what was found, and
//! fail when the input has errors.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::Args;
use headroom_data::{Mapping, load};

/// Check a folder of exports against the data contract and report what was found.
///
/// Reads the six tables (accounts, contracts, entitlements, usage, outcomes,
/// interventions) as CSV or Parquet, through a mapping file when the exports
/// use their own names and formats. Prints per-table row counts and date
/// ranges, then every error and warning with its file, line, column and value
/// and a hint. Writes nothing. Exits with status 1 when there are errors.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Folder with the exports: CSV or Parquet files, or folders of part files.
    pub dir: PathBuf,

    /// Mapping file (TOML) that adapts the exports to the data contract.
    /// Without it, the folder must hold accounts, contracts, entitlements and
    /// usage (and optionally outcomes and interventions) named after the tables,
    /// with contract column names.
    #[arg(long, short)]
    pub mapping: Option<PathBuf>,

    /// The day a one-row-per-customer export was taken (YYYY-MM-DD); overrides
    /// `snapshot_date` in the mapping.
    #[arg(long, value_name = "DATE", value_parser = super::parse_date)]
    pub snapshot_date: Option<NaiveDate>,
}

/// Reads the mapping named on the command line, or the contract mapping.
pub fn read_mapping(
    path: Option<&PathBuf>,
    snapshot_date: Option<NaiveDate>,
) -> anyhow::Result<Mapping> {
    let mut mapping = Mapping::load_or_contract(path.map(PathBuf::as_path))?;
    if snapshot_date.is_some() {
        mapping.snapshot_date = snapshot_date;
    }
    Ok(mapping)
}

/// Runs `headroom validate`: prints per-table counts, date ranges, notes,
/// warnings and errors on stdout, and fails when there are errors.
pub fn run(args: &ValidateArgs) -> anyhow::Result<()> {
    let mapping = read_mapping(args.mapping.as_ref(), args.snapshot_date)?;
    let loaded = load(&args.dir, &mapping)
        .with_context(|| format!("failed to validate {}", args.dir.display()))?;

    let mut stdout = std::io::stdout().lock();
    stdout.write_all(loaded.report.render().as_bytes())?;
    stdout.flush()?;

    let errors = loaded.report.error_count();
    if errors > 0 {
        bail!(
            "{} has {errors} error(s)\nhint: fix the errors listed above, then run `headroom validate` again",
            args.dir.display()
        );
    }
    Ok(())
}
