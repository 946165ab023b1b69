//! `headroom interventions`: record customer-success actions (training, business
//! reviews, exec calls, discounts) in the project's intervention log.

use std::io::Write;
use std::path::PathBuf;

use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use headroom_report::ledger::{self, NewIntervention};

use super::outcomes::{describe_import, open_project, print_notices};
use super::validate::read_mapping;

/// Record customer-success interventions (training, business review, ...).
///
/// Interventions go to the project's log in the store, which the features and
/// the review's intervention cohorts read together with the imported
/// history.
#[derive(Debug, Args)]
pub struct InterventionsArgs {
    #[command(subcommand)]
    command: InterventionsCommand,
}

#[derive(Debug, Subcommand)]
enum InterventionsCommand {
    /// Import a file of interventions (CSV or Parquet), all or nothing.
    ///
    /// The file has the interventions table's columns (account_id, date,
    /// kind, and optionally note), or any columns a mapping adapts. Unknown
    /// accounts, dates before the account's customer_since, and
    /// interventions already recorded with another note are errors with their
    /// line, and nothing is stored. Importing the same file again adds
    /// nothing. Prints how many interventions were stored and how many were
    /// already there.
    #[command(
        after_help = "Example:\n  headroom interventions import cs-actions.csv --project my-project"
    )]
    Import(ImportArgs),

    /// Record one intervention typed on the command line.
    ///
    /// The intervention goes into the project's log with the same checks as
    /// an import. Prints the intervention stored, or that it was already
    /// stored.
    #[command(
        after_help = "Example:\n  headroom interventions add A0042 2026-10-15 \"exec call\" --note \"renewal risk\" --project my-project"
    )]
    Add(AddArgs),

    /// List the interventions in the log, by date.
    ///
    /// Prints one line per intervention on stdout: date, account, kind and
    /// where it came from, then the count.
    #[command(
        after_help = "Example:\n  headroom interventions list --account A0042 --project my-project"
    )]
    List(ListArgs),
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The interventions file, or a folder of part files.
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Mapping file (TOML) whose [[interventions]] section adapts the file to
    /// the data contract.
    #[arg(long, short, value_name = "FILE")]
    mapping: Option<PathBuf>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

#[derive(Debug, Args)]
struct AddArgs {
    /// The account id, exactly as in the accounts table.
    #[arg(value_name = "ACCOUNT")]
    account: String,

    /// The date of the action (YYYY-MM-DD).
    #[arg(value_name = "DATE", value_parser = super::parse_date)]
    date: NaiveDate,

    /// The kind of action, such as "training", "business review", "exec call"
    /// or "discount".
    #[arg(value_name = "KIND")]
    kind: String,

    /// A free-text note.
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only the interventions of this account.
    #[arg(long, value_name = "ACCOUNT")]
    account: Option<String>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

/// Runs `headroom interventions ...`.
pub fn run(args: InterventionsArgs) -> anyhow::Result<()> {
    match args.command {
        InterventionsCommand::Import(args) => import(args),
        InterventionsCommand::Add(args) => add(args),
        InterventionsCommand::List(args) => list(args),
    }
}

fn import(args: ImportArgs) -> anyhow::Result<()> {
    super::outcomes::check_file_exists(&args.file, "interventions")?;
    let mapping = read_mapping(args.mapping.as_ref(), None)?;
    let project = open_project(&args.project)?;

    let summary = ledger::import_interventions(&project, &args.file, &mapping, Utc::now())?;
    project.store.close()?;

    print_notices(&summary);
    println!("{}", describe_import(&summary, "intervention"));
    Ok(())
}

fn add(args: AddArgs) -> anyhow::Result<()> {
    let project = open_project(&args.project)?;
    let new = NewIntervention {
        account_id: args.account.clone(),
        date: args.date,
        kind: args.kind.clone(),
        note: args.note,
    };

    let summary = ledger::add_intervention(&project, new, Utc::now())?;
    project.store.close()?;

    let what = format!("{} {} {:?}", args.account, args.date, args.kind);
    match summary.added {
        true => println!("stored 1 intervention: {what}"),
        false => println!("stored 0 interventions: {what} is already stored"),
    }
    Ok(())
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let project = open_project(&args.project)?;
    let records = match &args.account {
        Some(account) => project.store.interventions_for_account(account)?,
        None => project.store.interventions()?,
    };
    project.store.close()?;

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<12} {:<12} {:<20} source",
        "date", "account", "kind"
    )?;
    for record in &records {
        writeln!(
            out,
            "{:<12} {:<12} {:<20} {}",
            record.date.to_string(),
            record.account_id,
            record.kind,
            record.source
        )?;
    }
    writeln!(out, "{} intervention(s)", records.len())?;
    Ok(())
}
