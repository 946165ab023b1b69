//! `headroom review`: the monthly accuracy review of the scores headroom gave
//! against what happened.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use headroom_report::review::render::{Format, render};
use headroom_report::review::{Month, review_project};

use super::outcomes::open_project;

/// Compare each outcome of a month with the scores given a lead time before.
///
/// For every account with an outcome in the month, the review takes the
/// latest score snapshot dated at least [review] lead_days (default 90) before
/// it. For churn and expansion it reports the confusion matrix of the flags
/// given then, the false positives and negatives with the scores and reasons
/// of the time, and precision, recall, ROC-AUC, Brier score and calibration.
/// The utilization rule stands beside them, and the figures repeat per
/// customer segment. Then come the drift of the champions' inputs, their
/// strongest predictors, the outcomes of flagged accounts with and without
/// an intervention, the account notes' expectations, and a recommendation:
/// keep, watch or retrain, or nothing to judge when no outcome of the month
/// is matched with a score. Prints the review on stdout, or writes it to
/// --out and prints the recommendation on stderr.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The month to review (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM")]
    month: Month,

    /// Output format: table (terminal), md (Markdown), html (one
    /// self-contained page) or json (every list in full).
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: Format,

    /// Write the review to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

/// Runs `headroom review`.
pub fn run(args: ReviewArgs) -> anyhow::Result<()> {
    let project = open_project(&args.project)?;
    let review = review_project(&project, args.month)
        .with_context(|| format!("failed to review {}", args.month))?;
    project.store.close()?;

    let text = render(&review, args.format);
    match &args.out {
        Some(path) => {
            write_atomically(path, &text)?;
            eprintln!(
                "wrote the review of {} to {} (recommendation: {})",
                args.month,
                path.display(),
                review.recommendation.action
            );
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(())
}

/// Writes `FILE.partial`, then renames it into place, so that a reader never
/// sees half a report.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, text)
        .with_context(|| format!("failed to write {}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}
