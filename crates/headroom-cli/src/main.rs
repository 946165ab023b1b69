//! The `headroom` binary: parses arguments, sets up logging and progress, calls
//! the library crates and renders their results.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Churn and expansion insight for customer-success teams.
///
/// headroom compares each account's usage with its contract's entitlements,
/// scores the portfolio with models trained on past renewals, and checks its
/// own predictions against what really happened.
#[derive(Debug, Parser)]
#[command(name = "headroom", version, about, long_about)]
struct Cli {
    /// Print more detail on stderr (repeat for more: -v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Print nothing on stderr but errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

/// The subcommands, in the order of the monthly workflow. Each help text
/// ends with examples, one command a line.
#[derive(Debug, Subcommand)]
enum Command {
    #[command(
        after_help = "Examples:\n  headroom demo\n  headroom demo --dir /tmp/headroom-demo --months 6"
    )]
    Demo(cmd::demo::DemoArgs),
    #[command(
        after_help = "Examples:\n  headroom init acme\n  headroom import exports/ --mapping acme.toml --out acme"
    )]
    Init(cmd::init::InitArgs),
    #[command(
        after_help = "Examples:\n  headroom validate exports/\n  headroom validate ravenstack/ --mapping data/mappings/ravenstack.toml"
    )]
    Validate(cmd::validate::ValidateArgs),
    #[command(
        after_help = "Examples:\n  headroom import data/sample --out my-project\n  headroom import exports/ --mapping crm.toml --project my-project"
    )]
    Import(cmd::import::ImportArgs),
    #[command(
        after_help = "Examples:\n  headroom features --project my-project --as-of 2026-10-31 --out features.parquet\n  headroom features --describe"
    )]
    Features(cmd::features::Args),
    #[command(
        after_help = "Examples:\n  headroom train --project my-project\n  headroom train --project my-project --kind churn --calibration"
    )]
    Train(cmd::train::TrainArgs),
    #[command(
        after_help = "Example:\n  headroom backtest --project my-project --from 2025-06 --to 2025-12"
    )]
    Backtest(cmd::backtest::BacktestArgs),
    #[command(
        after_help = "Examples:\n  headroom score --project my-project --as-of 2026-10-31 --top 5\n  headroom score --project my-project --format html --out report.html"
    )]
    Score(cmd::score::ScoreArgs),
    #[command(
        after_help = "Examples:\n  headroom account A0042 --project my-project\n  headroom account A0042 --project my-project --audience customer --format html"
    )]
    Account(cmd::account::AccountArgs),
    #[command(
        after_help = "Examples:\n  headroom outcomes import outcomes-2026-10.csv --project my-project\n  headroom outcomes add A0042 2026-10-31 expanded --arr-after 36000 --project my-project"
    )]
    Outcomes(cmd::outcomes::OutcomesArgs),
    #[command(
        after_help = "Examples:\n  headroom interventions import cs-actions.csv --project my-project\n  headroom interventions list --account A0042 --project my-project"
    )]
    Interventions(cmd::interventions::InterventionsArgs),
    #[command(
        after_help = "Examples:\n  headroom notes add A0042 --text \"plant closed until March\" --expect drop --project my-project\n  headroom notes list --account A0042 --project my-project"
    )]
    Notes(cmd::notes::NotesArgs),
    #[command(
        after_help = "Examples:\n  headroom review --project my-project --month 2026-10\n  headroom review --project my-project --month 2026-10 --format html --out review.html"
    )]
    Review(cmd::review::ReviewArgs),
    #[command(
        after_help = "Examples:\n  headroom retrain --project my-project\n  headroom retrain --project my-project --kind churn --force"
    )]
    Retrain(cmd::retrain::RetrainArgs),
    #[command(
        after_help = "Examples:\n  headroom models list --project my-project\n  headroom models rollback churn --reason \"flags too many renewals\" --project my-project"
    )]
    Models(cmd::models::ModelsArgs),
    #[command(
        after_help = "Examples:\n  headroom store export --project my-project --out store.jsonl\n  headroom init restored\n  headroom store import store.jsonl --project restored"
    )]
    Store(cmd::store::StoreArgs),
    #[command(
        after_help = "Example:\n  headroom sim --accounts 2000 --months 36 --start 2023-11 --seed 2026 --out portfolio"
    )]
    Sim(cmd::sim::SimArgs),
    /// Print the version of this headroom build on stdout, as `headroom X.Y.Z`.
    #[command(after_help = "Example:\n  headroom version")]
    Version,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cmd::init_logging(cli.verbose, cli.quiet);

    let result = match cli.command {
        Command::Features(args) => cmd::features::run(args),
        Command::Init(args) => cmd::init::run(&args),
        Command::Demo(args) => cmd::demo::run(&args),
        Command::Version => {
            println!("headroom {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Store(args) => cmd::store::run(args),
        Command::Validate(args) => cmd::validate::run(&args),
        Command::Import(args) => cmd::import::run(&args),
        Command::Sim(args) => cmd::sim::run(args, cli.quiet),
        Command::Outcomes(args) => cmd::outcomes::run(args),
        Command::Interventions(args) => cmd::interventions::run(args),
        Command::Notes(args) => cmd::notes::run(args),
        Command::Review(args) => cmd::review::run(args),
        Command::Models(args) => cmd::models::run(args),
        Command::Retrain(args) => cmd::retrain::run(args),
        Command::Score(args) => cmd::score::run(args, cli.quiet),
        Command::Account(args) => cmd::account::run(args, cli.quiet),
        Command::Train(args) => cmd::train::run(&args),
        Command::Backtest(args) => cmd::backtest::run(&args),
    };

    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => cmd::report_error(&err),
    }
}
