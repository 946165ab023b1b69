//! `headroom notes`: the account team's knowledge of an account (a pilot
//! ending, a reorganization, a planned rollout), shown in every report for
//! the account and checked by the monthly review.

use std::io::Write;
use std::path::PathBuf;

use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use headroom_report::ledger::{self, NoteRequest};
use headroom_store::Expectation;

use super::outcomes::open_project;

/// Record and list account notes.
#[derive(Debug, Args)]
pub struct NotesArgs {
    #[command(subcommand)]
    command: NotesCommand,
}

#[derive(Debug, Subcommand)]
enum NotesCommand {
    /// Record the account team's knowledge of an account.
    ///
    /// Scoring shows the note with the account until its end date. A note that
    /// expects a usage drop marks the matching usage alerts as suppressed (they
    /// are still shown). The monthly review counts how often the expectations
    /// of notes proved right. Prints the note's id, account, expectation and
    /// the days it applies.
    #[command(
        after_help = "Examples:\n  headroom notes add A0042 --text \"plant closed until March\" --until 2027-03-31 --expect drop\n  headroom notes add A0042 --text \"new CFO reviews every tool\" --expect churn --project my-project"
    )]
    Add(AddArgs),

    /// List notes, of one account or active on a date.
    ///
    /// Prints one line per note on stdout, then the count.
    #[command(
        after_help = "Examples:\n  headroom notes list --account A0042 --project my-project\n  headroom notes list --active 2026-10-31 --project my-project"
    )]
    List(ListArgs),
}

#[derive(Debug, Args)]
struct AddArgs {
    /// The account id, exactly as in the accounts table.
    #[arg(value_name = "ACCOUNT")]
    account: String,

    /// The note.
    #[arg(long, value_name = "TEXT")]
    text: String,

    /// The last day the note applies (YYYY-MM-DD) [default: 90 days after
    /// --from].
    #[arg(long, value_name = "DATE", value_parser = super::parse_date)]
    until: Option<NaiveDate>,

    /// The team's expectation until then: drop (usage falls without churn
    /// risk), growth, churn, renewal, or none.
    #[arg(long, value_name = "EXPECTATION", default_value = "none")]
    expect: String,

    /// The first day the note applies (YYYY-MM-DD) [default: today].
    #[arg(long, value_name = "DATE", value_parser = super::parse_date)]
    from: Option<NaiveDate>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only the notes of this account.
    #[arg(long, value_name = "ACCOUNT", conflicts_with = "active")]
    account: Option<String>,

    /// Only the notes that apply on this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = super::parse_date)]
    active: Option<NaiveDate>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

/// Runs `headroom notes ...`.
pub fn run(args: NotesArgs) -> anyhow::Result<()> {
    match args.command {
        NotesCommand::Add(args) => add(args),
        NotesCommand::List(args) => list(args),
    }
}

fn add(args: AddArgs) -> anyhow::Result<()> {
    let expectation: Expectation = args.expect.parse()?;
    let project = open_project(&args.project)?;
    let request = NoteRequest {
        account_id: args.account,
        text: args.text,
        from: args.from.unwrap_or_else(|| Utc::now().date_naive()),
        until: args.until,
        expectation,
    };

    let note = ledger::add_note(&project, request)?;
    project.store.close()?;

    println!(
        "stored note {} for account {}: expects {} from {} until {}",
        note.id,
        note.account_id,
        note.expectation,
        note.created_at.date_naive(),
        note.until
    );
    Ok(())
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let project = open_project(&args.project)?;
    let notes = match (&args.account, args.active) {
        (Some(account), _) => project.store.notes_for_account(account)?,
        (None, Some(date)) => project.store.notes_active_at(date)?,
        (None, None) => project.store.notes()?,
    };
    project.store.close()?;

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:>4} {:<12} {:<11} {:<12} {:<12} text",
        "id", "account", "expects", "from", "until"
    )?;
    for note in &notes {
        writeln!(
            out,
            "{:>4} {:<12} {:<11} {:<12} {:<12} {}",
            note.id.to_string(),
            note.account_id,
            note.expectation.as_str(),
            note.created_at.date_naive().to_string(),
            note.until.to_string(),
            note.text
        )?;
    }
    writeln!(out, "{} note(s)", notes.len())?;
    Ok(())
}
