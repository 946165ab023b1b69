//! `headroom account`: one account in full, for the account team or as a
//! usage report for the customer.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::ValueEnum;
use headroom_report::render::{self};
use headroom_report::{Progress, ScoreOptions};

use headroom_report::project::Project;

use super::score::BarProgress;

/// Show one account in full, or write its usage report for the customer.
///
/// For the account team: usage against each entitlement over time, feature
/// values, scores, reasons, alerts, actions, talking points, notes and the
/// scores earlier runs stored. With --audience customer, writes a usage report for the customer instead:
/// what the team used, features in the plan it has not used, and limits
/// coming up, with no scores, internal notes or sales language. The
/// portfolio is scored as of the date (features need every account) but no
/// snapshot is stored.
#[derive(Debug, clap::Args)]
pub struct AccountArgs {
    /// The account id, as in the accounts table.
    #[arg(value_name = "ID")]
    id: String,

    /// The project folder, holding tables/, store/ and headroom.toml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,

    /// The scoring date (YYYY-MM-DD) [default: the snapshot date of a
    /// snapshot project, else the date of the latest usage row].
    #[arg(long, value_name = "DATE", value_parser = super::parse_date)]
    as_of: Option<NaiveDate>,

    /// Who reads the report.
    #[arg(long, value_enum, default_value_t = Audience::Internal)]
    audience: Audience,

    /// Output format (json is for the internal audience only).
    #[arg(long, value_enum, default_value_t = AccountFormat::Text)]
    format: AccountFormat,

    /// Output file [default: stdout].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Who an account report is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Audience {
    /// The account team: everything headroom knows.
    Internal,
    /// The customer: their own usage, nothing internal.
    Customer,
}

/// The formats of an account report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccountFormat {
    /// Plain text.
    Text,
    /// One self-contained HTML page.
    Html,
    /// JSON (internal audience only).
    Json,
}

/// Runs `headroom account`.
pub fn run(args: AccountArgs, quiet: bool) -> Result<()> {
    if args.audience == Audience::Customer && args.format == AccountFormat::Json {
        anyhow::bail!(
            "the customer report has no JSON format\nhint: use --format text or --format html with --audience customer"
        );
    }
    let project = Project::open(&args.project)?;
    let progress = BarProgress::new(quiet);
    let options = ScoreOptions {
        as_of: args.as_of,
        ..ScoreOptions::default()
    };
    let story = headroom_report::account_story(&project, &args.id, &options, &progress)
        .with_context(|| format!("failed to report on account {:?}", args.id))?;
    progress.finish();
    project.store.close()?;
    if !quiet {
        for look_ahead in &story.look_ahead {
            eprintln!("warning: {}", look_ahead.message());
        }
    }

    let text = match (args.audience, args.format) {
        (Audience::Internal, AccountFormat::Text) => render::render_account_text(&story),
        (Audience::Internal, AccountFormat::Html) => render::render_account_html(&story),
        (Audience::Internal, AccountFormat::Json) => render::render_account_json(&story),
        (Audience::Customer, AccountFormat::Html) => render::render_customer_html(&story),
        (Audience::Customer, _) => render::render_customer_text(&story),
    };
    match &args.out {
        Some(path) => {
            render::write_atomic(path, &text)?;
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
    Ok(())
}
