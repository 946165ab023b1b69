//! `headroom features`: the feature table of every active account at a date,
//! or at every month end of a range, written as Parquet or CSV.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use headroom_features::{FeatureOptions, catalogue};
use headroom_report::project::Project;
use polars::prelude::{CsvWriter, DataFrame, ParquetWriter, SerWriter};

/// Compute the features of every active account at a date.
///
/// Reads the project's normalized tables (written by `headroom import`) with
/// the outcomes and interventions recorded in its store, and never reads data
/// dated after the as-of date. Fails when the month the as-of date reads (or
/// the last month of a panel) has no usage rows in the project, which would
/// count that month as zero usage for every account. Settings come from the
/// `[features]` section of the project's headroom.toml.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The as-of date (YYYY-MM-DD). Usage counts by complete month: inside a
    /// month, the latest month is the one before.
    #[arg(long, value_name = "DATE", value_parser = super::parse_date, required_unless_present_any = ["describe", "from"])]
    as_of: Option<NaiveDate>,

    /// Start of a monthly panel (YYYY-MM-DD): features at every month end from
    /// FROM to TO, both included.
    #[arg(long, value_name = "DATE", value_parser = super::parse_date, requires = "to", conflicts_with = "as_of")]
    from: Option<NaiveDate>,

    /// End of the monthly panel (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = super::parse_date, requires = "from")]
    to: Option<NaiveDate>,

    /// The project folder, holding tables/ and headroom.toml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,

    /// Output file, Parquet (.parquet) or CSV (.csv) by its extension
    /// [default: CSV on stdout].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Print the catalogue of feature columns (name, unit, meaning) and exit.
    #[arg(long, conflicts_with_all = ["as_of", "from", "out"])]
    describe: bool,
}

/// The output formats `--out` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Parquet,
    Csv,
}

/// Runs `headroom features`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.describe {
        print!("{}", catalogue::render_text());
        return Ok(());
    }
    let format = args.out.as_deref().map(output_format).transpose()?;

    // The project's tables with the store's outcome ledger merged in, as
    // `score` and `train` read them: an account the ledger records as
    // churned has no row after its churn.
    let project = Project::open(&args.project)?;
    let tables = &project.tables;
    let options: FeatureOptions = project.config.section("features")?;

    let mut table = match (args.as_of, args.from, args.to) {
        (Some(as_of), _, _) => {
            headroom_features::check_usage_imported(tables, as_of)?;
            headroom_features::features_with(tables, as_of, &options)?
        }
        (None, Some(from), Some(to)) => {
            // The last month end of the panel reads the latest month.
            headroom_features::check_usage_imported(tables, to)?;
            headroom_features::monthly_features_with(tables, from, to, &options)?
        }
        _ => bail!(
            "give --as-of DATE, or --from DATE and --to DATE\nhint: see `headroom features --help`"
        ),
    };
    tracing::info!(
        rows = table.height(),
        columns = table.width(),
        "computed features"
    );

    match (args.out, format) {
        (Some(path), Some(format)) => write_file(&mut table, &path, format),
        _ => write_csv(&mut table, std::io::stdout().lock()),
    }
}

/// The format of an output path, from its extension.
fn output_format(path: &Path) -> anyhow::Result<Format> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("parquet") => Ok(Format::Parquet),
        Some("csv") => Ok(Format::Csv),
        _ => bail!(
            "unsupported output file {}: the extension must be .parquet or .csv\nhint: name the file features.parquet or features.csv",
            path.display()
        ),
    }
}

/// Writes the table to a temporary file beside `path`, then renames it into
/// place, so a failed run never leaves a half-written file.
fn write_file(table: &mut DataFrame, path: &Path, format: Format) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.partial"));
    let file = File::create(&partial)
        .with_context(|| format!("failed to create {}", partial.display()))?;

    let written = match format {
        Format::Parquet => ParquetWriter::new(file).finish(table).map(|_| ()),
        Format::Csv => CsvWriter::new(file).include_header(true).finish(table),
    };
    if let Err(err) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(err).with_context(|| format!("failed to write {}", path.display()));
    }
    std::fs::rename(&partial, path)
        .with_context(|| format!("failed to move {} to {}", partial.display(), path.display()))?;
    tracing::info!(path = %path.display(), "wrote features");
    Ok(())
}

fn write_csv(table: &mut DataFrame, out: impl Write) -> anyhow::Result<()> {
    CsvWriter::new(out)
        .include_header(true)
        .finish(table)
        .context("failed to write the features to stdout")
}
