//! One module per subcommand, each with a `run` entry function, and the
//! helpers they share: logging setup and error reporting.

pub mod account;
pub mod backtest;
pub mod demo;
pub mod features;
pub mod import;
pub mod init;
pub mod interventions;
pub mod models;
pub mod notes;
pub mod outcomes;
pub mod portfolio;
pub mod retrain;
pub mod review;
pub mod score;
pub mod sim;
pub mod store;
pub mod train;
pub mod validate;

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

/// Sets up the tracing subscriber on stderr. `RUST_LOG` wins over the flags.
pub fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .init();
}

/// Prints an error and its causes on stderr and returns the failure exit code.
///
/// A closed stdout (`headroom score | head`) ends the program quietly.
pub fn report_error(err: &anyhow::Error) -> ExitCode {
    let broken_pipe = err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return ExitCode::SUCCESS;
    }

    let mut printed = err.to_string();
    eprintln!("error: {printed}");
    for cause in err.chain().skip(1) {
        // Most messages already quote their cause, so print only the new ones.
        let text = cause.to_string();
        if printed.contains(&text) {
            continue;
        }
        eprintln!("  caused by: {text}");
        printed.push_str(&text);
    }
    ExitCode::FAILURE
}
