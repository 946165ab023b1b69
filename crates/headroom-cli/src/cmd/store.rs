//! `headroom store export` and `headroom store import`: portable backups of
//! the project's store.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use headroom_store::{ImportMode, Store};

/// Back up and restore the project's store.
///
/// The backup holds every snapshot, outcome, intervention, note and model as
/// JSON lines.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    command: StoreCommand,
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Write every record of the store as a JSON-lines backup.
    ///
    /// The backup has a header line, one record a line, and an end line with
    /// the record count. Exporting, importing into an empty store and
    /// exporting again gives the same bytes. The record counts go to stderr.
    #[command(
        after_help = "Example:\n  headroom store export --project my-project --out store.jsonl"
    )]
    Export(ExportArgs),

    /// Read a backup written by `headroom store export` into the project's
    /// store, creating the store if the project has none.
    ///
    /// Every line is checked before anything is written. A store that already
    /// contains records is rejected unless --merge is given. The project
    /// folder must exist: `headroom init DIR` creates one. The record counts
    /// go to stderr.
    #[command(
        after_help = "Examples:\n  headroom init restored\n  headroom store import store.jsonl --project restored\n  headroom store import store.jsonl --project my-project --merge"
    )]
    Import(ImportArgs),
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,

    /// Write the backup to FILE instead of stdout. The file appears only once
    /// the export is complete.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The backup file.
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,

    /// Add the backup's records that the store does not hold yet, skipping
    /// those it holds; a record stored with other content rejects the import.
    #[arg(long)]
    merge: bool,
}

/// Runs `headroom store ...`.
pub fn run(args: StoreArgs) -> anyhow::Result<()> {
    match args.command {
        StoreCommand::Export(args) => export(args),
        StoreCommand::Import(args) => import(args),
    }
}

fn export(args: ExportArgs) -> anyhow::Result<()> {
    check_project(&args.project)?;
    let store = Store::open(Store::project_dir(&args.project))?;

    let summary = match &args.out {
        Some(path) => export_to_file(&store, path)?,
        None => {
            let stdout = std::io::stdout().lock();
            let mut out = BufWriter::new(stdout);
            let summary = store.export_jsonl(&mut out, Path::new("stdout"))?;
            out.flush()
                .context("failed to write the backup to stdout")?;
            summary
        }
    };
    store.close()?;

    let destination = args
        .out
        .as_ref()
        .map_or_else(|| "stdout".to_string(), |path| path.display().to_string());
    eprintln!(
        "exported {} records to {destination} ({} snapshots, {} snapshot rows, {} outcomes, {} interventions, {} notes, {} models)",
        summary.records(),
        summary.snapshots,
        summary.snapshot_rows,
        summary.outcomes,
        summary.interventions,
        summary.notes,
        summary.models,
    );
    Ok(())
}

/// Writes through a temporary file beside `path` and renames it into place, so
/// a failed export never leaves a partial backup under the requested name.
fn export_to_file(store: &Store, path: &Path) -> anyhow::Result<headroom_store::ExportSummary> {
    let temp = temp_path(path);
    let file =
        File::create(&temp).with_context(|| format!("failed to create {}", temp.display()))?;
    let mut out = BufWriter::new(file);

    let written = store
        .export_jsonl(&mut out, path)
        .map_err(anyhow::Error::from)
        .and_then(|summary| {
            let file = out
                .into_inner()
                .map_err(|err| err.into_error())
                .with_context(|| format!("failed to write {}", temp.display()))?;
            file.sync_all()
                .with_context(|| format!("failed to write {}", temp.display()))?;
            Ok(summary)
        });

    match written {
        Ok(summary) => {
            std::fs::rename(&temp, path)
                .with_context(|| format!("failed to move the backup to {}", path.display()))?;
            Ok(summary)
        }
        Err(err) => {
            let _ = std::fs::remove_file(&temp);
            Err(err)
        }
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

fn import(args: ImportArgs) -> anyhow::Result<()> {
    if !args.project.is_dir() {
        bail!(
            "project folder {} not found\nhint: create it with `headroom init {}`, then import the backup again",
            args.project.display(),
            args.project.display()
        );
    }
    if !args.file.is_file() {
        bail!(
            "backup file {} not found\nhint: pass the file written by `headroom store export --out FILE`",
            args.file.display()
        );
    }
    let mode = match args.merge {
        true => ImportMode::Merge,
        false => ImportMode::IntoEmpty,
    };

    let store_dir = Store::project_dir(&args.project);
    let created = !store_dir.exists();
    let store = Store::open_or_create(&store_dir)?;
    let imported = store.import_jsonl(&args.file, mode);
    store.close()?;

    // A rejected backup leaves the project as it was: without a store if it
    // had none.
    let summary = match imported {
        Ok(summary) => summary,
        Err(err) => {
            if created {
                let _ = std::fs::remove_dir_all(&store_dir);
            }
            return Err(err.into());
        }
    };

    eprintln!(
        "imported {} records from {} ({} already present)",
        summary.added(),
        args.file.display(),
        summary.already_present()
    );
    Ok(())
}

fn check_project(project: &Path) -> anyhow::Result<()> {
    if !project.is_dir() {
        bail!(
            "project folder {} not found\nhint: pass --project DIR with an existing project folder",
            project.display()
        );
    }
    Ok(())
}
