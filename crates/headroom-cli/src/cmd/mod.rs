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

use chrono::{Datelike, NaiveDate};

use tracing_subscriber::EnvFilter;

/// Sets up the tracing subscriber on stderr. `RUST_LOG` wins over the flags.
/// Levels are coloured only on a terminal and without `NO_COLOR`, so a log
/// written to a file or a pipe contains no escape codes.
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
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()),
        )
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

/// Parses an ARR argument: a finite number (`1e400` reads as infinity and is
/// rejected with the text as typed).
pub fn parse_amount(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        // Adding 0.0 turns a typed -0 into 0.
        Ok(amount) if amount.is_finite() => Ok(amount + 0.0),
        Ok(_) => Err(format!(
            "{text:?} is not a finite amount; write the ARR as a plain number such as 12000"
        )),
        Err(_) => Err(format!(
            "{text:?} is not a number; write the ARR as a plain number such as 12000"
        )),
    }
}

/// Parses a date argument written as YYYY-MM-DD. An invalid one is named with
/// what is wrong, such as a day its month does not have.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date);
    }
    let parts: Vec<&str> = text.split('-').collect();
    if let [year, month, day] = parts[..]
        && let (Ok(year), Ok(month), Ok(day)) = (
            year.parse::<i32>(),
            month.parse::<u32>(),
            day.parse::<u32>(),
        )
        && let Some(first) = NaiveDate::from_ymd_opt(year, month, 1)
    {
        let days = days_in_month(first);
        return Err(format!(
            "{year:04}-{month:02} has {days} days, so day {day} does not exist; write a date as YYYY-MM-DD"
        ));
    }
    Err("expected a date as YYYY-MM-DD, such as 2026-10-31".to_string())
}

/// Returns the number of days of the month that starts on `first`.
fn days_in_month(first: NaiveDate) -> u32 {
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    next.map_or(31, |next| (next - first).num_days() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_amount_rejects_infinity_and_zeroes_sign() {
        assert_eq!(parse_amount("12000"), Ok(12000.0));
        let zero = parse_amount("-0").unwrap();
        assert_eq!(zero, 0.0);
        assert!(zero.is_sign_positive());
        assert_eq!(
            parse_amount("1e400"),
            Err(
                "\"1e400\" is not a finite amount; write the ARR as a plain number such as 12000"
                    .to_string()
            )
        );
        assert_eq!(
            parse_amount("abc"),
            Err(
                "\"abc\" is not a number; write the ARR as a plain number such as 12000"
                    .to_string()
            )
        );
    }

    #[test]
    fn parse_date_reads_iso_dates() {
        assert_eq!(
            parse_date("2026-10-31"),
            Ok(NaiveDate::from_ymd_opt(2026, 10, 31).unwrap())
        );
        assert_eq!(
            parse_date("2024-02-29"),
            Ok(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
        );
    }

    #[test]
    fn parse_date_names_missing_day() {
        assert_eq!(
            parse_date("2026-02-30"),
            Err(
                "2026-02 has 28 days, so day 30 does not exist; write a date as YYYY-MM-DD"
                    .to_string()
            )
        );
        assert_eq!(
            parse_date("2026-04-31"),
            Err(
                "2026-04 has 30 days, so day 31 does not exist; write a date as YYYY-MM-DD"
                    .to_string()
            )
        );
    }

    #[test]
    fn parse_date_rejects_other_formats() {
        for text in ["31/10/2026", "2026-13-01", "2026-10", "yesterday"] {
            assert_eq!(
                parse_date(text),
                Err("expected a date as YYYY-MM-DD, such as 2026-10-31".to_string()),
                "{text}"
            );
        }
    }
}
