//! `headroom score`: scores every active account as of a date and reports who
//! needs attention, the reasons, the value at stake and the talking points.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::ValueEnum;
use headroom_report::project::Project;
use headroom_report::render::{self, Format};
use headroom_report::{Progress, ScoreOptions, ScoreRun};
use indicatif::{ProgressBar, ProgressStyle};

/// Score the live portfolio: segments, alerts, priorities and playbooks.
///
/// Computes every active account's features as of the date and scores them
/// with the churn and expansion champions in the project's store (with the
/// rules only when there are none). Then it assigns health segments, raises
/// alerts, ranks accounts by priority, and writes actions and talking points
/// for those that need attention. Settings come from the `[segments]`,
/// `[alerts]` and `[priority]` sections of headroom.toml. Each run is stored
/// as a snapshot in the store for the monthly review. The report goes to
/// stdout (table, csv, json) or to a file (html, --out); a one-line summary
/// and any warning go to stderr. A past date scored with a champion trained
/// on outcomes after it is flagged as look-ahead.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// The project folder, holding tables/, store/ and headroom.toml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,

    /// The scoring date (YYYY-MM-DD) [default: the snapshot date of a
    /// snapshot project, else the date of the latest usage row].
    #[arg(long, value_name = "DATE", value_parser = super::parse_date)]
    as_of: Option<NaiveDate>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,

    /// Output file [default: stdout; for html, PROJECT/reports/score-DATE.html].
    /// With --by-owner, the folder for the reports.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Accounts in the top list [default: `[priority] top`, 10].
    #[arg(long, value_name = "N")]
    top: Option<usize>,

    /// Write one report per account owner, holding only that owner's
    /// accounts, into the --out folder [default: PROJECT/reports/DATE/by-owner].
    #[arg(long)]
    by_owner: bool,

    /// Do not store the run as a snapshot.
    #[arg(long)]
    no_snapshot: bool,
}

/// The formats of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A readable terminal summary with the top accounts.
    Table,
    /// One row per account, for CRM import.
    Csv,
    /// The whole run.
    Json,
    /// One self-contained HTML file with charts.
    Html,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Table => Format::Table,
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
            FormatArg::Html => Format::Html,
        }
    }
}

/// Runs `headroom score`.
pub fn run(args: ScoreArgs, quiet: bool) -> Result<()> {
    if args.top == Some(0) {
        bail!("invalid --top 0\nhint: give the number of accounts to list, 1 or more");
    }
    let format = Format::from(args.format);
    let project = Project::open(&args.project)?;

    let progress = BarProgress::new(quiet);
    let options = ScoreOptions {
        as_of: args.as_of,
        top: args.top,
        created_at: None,
    };
    let mut run = headroom_report::score_project(&project, &options, &progress)
        .with_context(|| format!("failed to score project {}", args.project.display()))?;
    if !quiet {
        for look_ahead in &run.look_ahead {
            progress.println(&format!("warning: {}", look_ahead.message()));
        }
    }

    if !args.no_snapshot {
        progress.stage("storing the snapshot", None);
        let header = run.write_snapshot(&project.store)?;
        tracing::info!(
            id = header.id.0,
            rows = header.rows,
            "stored the score snapshot"
        );
    }
    progress.finish();
    let reports = project.reports_dir();
    project.store.close()?;

    if args.by_owner {
        return write_owner_reports(&run, format, args.out, &reports, quiet);
    }
    deliver(&run, format, args.out, &reports, quiet)
}

/// Writes the rendering to `--out`, stdout, or the project's reports folder
/// for HTML.
fn deliver(
    run: &ScoreRun,
    format: Format,
    out: Option<PathBuf>,
    reports: &Path,
    quiet: bool,
) -> Result<()> {
    let text = render::render(run, format);
    let path = match (out, format) {
        (Some(path), _) => Some(path),
        (None, Format::Html) => Some(reports.join(format!("score-{}.html", run.as_of))),
        (None, _) => None,
    };
    match path {
        Some(path) => {
            render::write_atomic(&path, &text)?;
            if !quiet {
                eprintln!("wrote {}", path.display());
            }
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    summarize(run, quiet);
    Ok(())
}

fn write_owner_reports(
    run: &ScoreRun,
    format: Format,
    out: Option<PathBuf>,
    reports: &Path,
    quiet: bool,
) -> Result<()> {
    let folder = out.unwrap_or_else(|| reports.join(run.as_of.to_string()).join("by-owner"));
    let written = render::write_by_owner(run, format, &folder)?;
    if !quiet {
        for path in &written {
            eprintln!("wrote {}", path.display());
        }
    }
    summarize(run, quiet);
    Ok(())
}

/// Prints one line on stderr: the accounts scored and the snapshot stored.
fn summarize(run: &ScoreRun, quiet: bool) {
    if quiet {
        return;
    }
    let stored = run
        .snapshot_id
        .map(|id| format!(", stored as snapshot {id}"))
        .unwrap_or_default();
    eprintln!(
        "scored {} accounts as of {}{stored}",
        run.accounts.len(),
        run.as_of
    );
}

/// Stage messages and an account bar on stderr when it is a terminal and the
/// run is not quiet; nothing otherwise.
pub struct BarProgress {
    bar: ProgressBar,
}

impl BarProgress {
    /// Creates the progress display.
    pub fn new(quiet: bool) -> BarProgress {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            ProgressBar::new_spinner()
        };
        BarProgress { bar }
    }

    /// Prints a line on stderr above the progress display.
    fn println(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }
}

impl Progress for BarProgress {
    fn stage(&self, name: &str, total: Option<u64>) {
        tracing::debug!(stage = name, "score stage started");
        match total {
            Some(total) => {
                self.bar.set_length(total);
                self.bar.set_position(0);
                let style = ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} ({eta} left)")
                    .expect("the progress template is valid");
                self.bar.set_style(style);
            }
            None => {
                let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .expect("the progress template is valid");
                self.bar.set_style(style);
                self.bar
                    .enable_steady_tick(std::time::Duration::from_millis(120));
            }
        }
        self.bar.set_message(name.to_string());
    }

    fn advance(&self, steps: u64) {
        self.bar.inc(steps);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
