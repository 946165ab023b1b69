//! `headroom outcomes`: record what really happened to accounts (renewed,
//! churned, expanded, contracted) in the project's outcome ledger.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use headroom_report::ledger::{self, ImportSummary, NewOutcome};
use headroom_report::project::Project;
use headroom_report::review::Month;
use headroom_store::Outcome;

use super::validate::read_mapping;

/// Record real outcomes: renewed, churned, expanded, contracted.
///
/// Outcomes go to the project's ledger in the store, which training and the
/// monthly review read together with the imported history, each outcome
/// once.
#[derive(Debug, Args)]
pub struct OutcomesArgs {
    #[command(subcommand)]
    command: OutcomesCommand,
}

#[derive(Debug, Subcommand)]
enum OutcomesCommand {
    /// Import a file of outcomes (CSV or Parquet), all or nothing.
    ///
    /// The file has the outcomes table's columns (account_id, date, outcome,
    /// and optionally contract_id, arr_before, arr_after, reason), or any
    /// columns a mapping adapts. Every row is checked first: unknown
    /// accounts, dates before the account's customer_since or after the
    /// current month, and outcomes already recorded with other facts are
    /// errors with their line, and
    /// nothing is stored. Importing the same file again adds nothing. Prints
    /// how many outcomes were stored and how many were already there.
    #[command(
        after_help = "Examples:\n  headroom outcomes import outcomes-2026-10.csv --project my-project\n  headroom outcomes import crm-export.csv --mapping crm.toml --project my-project"
    )]
    Import(ImportArgs),

    /// Record one outcome typed on the command line.
    ///
    /// The outcome goes into the project's ledger with the same checks as an
    /// import. Prints the outcome stored, or that it was already stored.
    /// Amounts are in the contract's currency.
    #[command(
        after_help = "Example:\n  headroom outcomes add A0042 2026-10-31 expanded --arr-after 36000 --project my-project"
    )]
    Add(AddArgs),

    /// List the outcomes in the ledger, by date.
    ///
    /// Prints one line per outcome on stdout: date, account, outcome, ARR
    /// before and after (in the contract's currency) and where it came from,
    /// then the count.
    #[command(
        after_help = "Example:\n  headroom outcomes list --month 2026-10 --project my-project"
    )]
    List(ListArgs),
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The outcomes file, or a folder of part files.
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Mapping file (TOML) whose [[outcomes]] section adapts the file to the
    /// data contract.
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

    /// The date of the event (YYYY-MM-DD).
    #[arg(value_name = "DATE", value_parser = super::parse_date)]
    date: NaiveDate,

    /// The event: renewed, churned, expanded or contracted.
    #[arg(value_name = "OUTCOME")]
    outcome: String,

    /// ARR after the event, in the contract's currency.
    #[arg(long, value_name = "AMOUNT", value_parser = super::parse_amount)]
    arr_after: Option<f64>,

    /// ARR before the event, in the contract's currency.
    #[arg(long, value_name = "AMOUNT", value_parser = super::parse_amount)]
    arr_before: Option<f64>,

    /// The contract concerned.
    #[arg(long, value_name = "ID")]
    contract: Option<String>,

    /// The reason given (for a churn: "switched to a competitor", ...).
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only the outcomes of this month (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM")]
    month: Option<Month>,

    /// Only the outcomes of this account.
    #[arg(long, value_name = "ACCOUNT")]
    account: Option<String>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

/// Runs `headroom outcomes ...`.
pub fn run(args: OutcomesArgs) -> anyhow::Result<()> {
    match args.command {
        OutcomesCommand::Import(args) => import(args),
        OutcomesCommand::Add(args) => add(args),
        OutcomesCommand::List(args) => list(args),
    }
}

fn import(args: ImportArgs) -> anyhow::Result<()> {
    super::outcomes::check_file_exists(&args.file, "outcomes")?;
    let mapping = read_mapping(args.mapping.as_ref(), None)?;
    let project = open_project(&args.project)?;

    let summary = ledger::import_outcomes(&project, &args.file, &mapping, Utc::now())?;
    project.store.close()?;

    print_notices(&summary);
    println!("{}", describe_import(&summary, "outcome"));
    Ok(())
}

fn add(args: AddArgs) -> anyhow::Result<()> {
    let outcome: Outcome = args.outcome.parse()?;
    let project = open_project(&args.project)?;
    let new = NewOutcome {
        account_id: args.account.clone(),
        date: args.date,
        outcome,
        contract_id: args.contract,
        arr_before: args.arr_before,
        arr_after: args.arr_after,
        reason: args.reason,
    };

    let summary = ledger::add_outcome(&project, new, Utc::now())?;
    project.store.close()?;

    let what = format!("{} {} {outcome}", args.account, args.date);
    match (summary.added, summary.in_history) {
        (true, false) => println!("stored 1 outcome: {what}"),
        (true, true) => {
            println!("stored 1 outcome: {what} (the imported history has it too; it counts once)")
        }
        (false, _) => println!("stored 0 outcomes: {what} is already stored"),
    }
    Ok(())
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let project = open_project(&args.project)?;
    let mut records = match &args.month {
        Some(month) => project.store.outcomes_in_month(month.year, month.month)?,
        None => project.store.outcomes()?,
    };
    if let Some(account) = &args.account {
        records.retain(|record| &record.account_id == account);
    }
    project.store.close()?;

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<12} {:<12} {:<11} {:>12} {:>12}  source",
        "date", "account", "outcome", "arr_before", "arr_after"
    )?;
    for record in &records {
        let amount = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
        writeln!(
            out,
            "{:<12} {:<12} {:<11} {:>12} {:>12}  {}",
            record.date.to_string(),
            record.account_id,
            record.outcome.as_str(),
            amount(record.arr_before),
            amount(record.arr_after),
            record.source
        )?;
    }
    writeln!(out, "{} outcome(s)", records.len())?;
    Ok(())
}

/// Opens the project folder, naming it in the error.
/// Checks that the file to import exists, as given or with `.csv` or
/// `.parquet` added as the table reader adds them, so that a mistyped path
/// is reported as not found rather than in terms of export file names.
pub fn check_file_exists(file: &Path, noun: &str) -> anyhow::Result<()> {
    let with_suffix = |suffix: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name).exists()
    };
    if file.exists() || with_suffix(".csv") || with_suffix(".parquet") {
        return Ok(());
    }
    anyhow::bail!(
        "file not found: {}\nhint: pass the path of a CSV or Parquet file of {noun}; nothing was stored",
        file.display()
    )
}

pub fn open_project(dir: &Path) -> anyhow::Result<Project> {
    Project::open(dir).with_context(|| format!("failed to open the project {}", dir.display()))
}

/// Prints the warnings and notes of reading a file on stderr.
pub fn print_notices(summary: &ImportSummary) {
    for notice in &summary.notices {
        eprintln!("{notice}");
    }
}

/// Describes an import's result: what was stored, and what was already there.
pub fn describe_import(summary: &ImportSummary, noun: &str) -> String {
    let file = summary.file.display();
    let plural = |n: usize| match n {
        1 => noun.to_string(),
        _ => format!("{noun}s"),
    };
    if summary.records == 0 {
        return format!("stored 0 {}: {file} has no rows", plural(0));
    }
    if summary.added == 0 {
        return format!(
            "stored 0 {}: all {} {} in {file} are already stored",
            plural(0),
            summary.records,
            plural(summary.records)
        );
    }

    let mut text = format!(
        "stored {} {} from {file}",
        summary.added,
        plural(summary.added)
    );
    if summary.already_stored > 0 {
        text.push_str(&format!(
            "; {} {} already stored or repeated an earlier row of the file",
            summary.already_stored,
            match summary.already_stored {
                1 => "was",
                _ => "were",
            }
        ));
    }
    if summary.also_in_history > 0 {
        text.push_str(&format!(
            "; {} of the new ones are also in the imported history and count once",
            summary.also_in_history
        ));
    }
    text
}
