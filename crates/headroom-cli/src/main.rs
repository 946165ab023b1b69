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

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute the feature table of every active account at a date.
    Features(cmd::features::Args),
    /// Print the version.
    Version,

    /// Back up and restore the project's store.
    Store(cmd::store::StoreArgs),
    /// Check a folder of exports against the data contract and report what was found.
    Validate(cmd::validate::ValidateArgs),
    /// Validate a folder of exports and write the normalized tables into a project.
    Import(cmd::import::ImportArgs),
    /// Generate a synthetic portfolio with known mechanisms and its ground truth.
    Sim(cmd::sim::SimArgs),
    // The help text of these two comes from their argument structs.
    Score(cmd::score::ScoreArgs),
    Account(cmd::account::AccountArgs),
    /// Train the churn and expansion models and evaluate them on held-out months.
    Train(cmd::train::TrainArgs),
    /// Retrain month by month and report how the held-out metrics move.
    Backtest(cmd::backtest::BacktestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cmd::init_logging(cli.verbose, cli.quiet);

    let result = match cli.command {
        Command::Features(args) => cmd::features::run(args),
        Command::Version => {
            println!("headroom {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Store(args) => cmd::store::run(args),
        Command::Validate(args) => cmd::validate::run(&args),
        Command::Import(args) => cmd::import::run(&args),
        Command::Sim(args) => cmd::sim::run(args, cli.quiet),
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
