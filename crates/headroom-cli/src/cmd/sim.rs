//! `headroom sim`: generate a synthetic portfolio with known mechanisms and
//! the ground truth behind it.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use headroom_sim::config::Mechanisms;
use headroom_sim::{Format, Grain, OutputOptions, SimConfig, YearMonth};
use indicatif::{ProgressBar, ProgressStyle};

/// Generate a synthetic B2B SaaS portfolio in the data contract.
///
/// Writes the six contract tables and `meta.json` (metric rollups,
/// currency, settings). Beside them, `truth/` records hidden traits, the
/// probabilities at each term's end, and the true probability of churn and
/// expansion at every account month-end. Then prints the oracle ROC-AUC, the
/// best any model can reach on these outcomes. The same seed and settings always
/// give the same bytes.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Output folder; written in full or not at all.
    #[arg(long, value_name = "DIR", required_unless_present = "print_config")]
    out: Option<PathBuf>,

    /// Number of accounts [default: 2000].
    #[arg(long, value_name = "N")]
    accounts: Option<u64>,

    /// Months of usage [default: 36].
    #[arg(long, value_name = "M")]
    months: Option<u32>,

    /// First month of usage, YYYY-MM [default: 2023-11].
    #[arg(long, value_name = "YYYY-MM")]
    start: Option<String>,

    /// Seed of every random draw [default: 7].
    #[arg(long, value_name = "S")]
    seed: Option<u64>,

    /// Table format.
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    format: FormatArg,

    /// Usage grain: one row per month (dated on its last day) or per day [default: month].
    #[arg(long, value_enum)]
    grain: Option<GrainArg>,

    /// Horizon of the true churn and expansion probabilities, in days [default: 180].
    #[arg(long, value_name = "DAYS")]
    horizon_days: Option<u32>,

    /// TOML file with simulator settings; flags given here override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Turn a mechanism off (repeatable): adoption, noise, seasonality, decline,
    /// growth, unused_features, signal_free_churn, interventions, mid_term_expansion.
    #[arg(long, value_name = "MECHANISM")]
    without: Vec<String>,

    /// Put some EMEA contracts in EUR and GBP.
    #[arg(long)]
    currencies: bool,

    /// Replace an earlier `headroom sim` output in the folder.
    #[arg(long)]
    force: bool,

    /// Accounts generated and written at a time; bounds memory.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    chunk_accounts: u64,

    /// Threads that generate accounts [default: the available cores].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,

    /// Print every setting with its value as TOML and exit.
    #[arg(long)]
    print_config: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Csv,
    Parquet,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GrainArg {
    Month,
    Day,
}

/// Runs `headroom sim`.
pub fn run(args: SimArgs, quiet: bool) -> Result<()> {
    let config = build_config(&args)?;
    if args.print_config {
        print!("{}", config.to_toml());
        return Ok(());
    }
    let Some(out) = args.out.clone() else {
        bail!("missing --out\nhint: name the folder to write the portfolio into");
    };

    let mut output = OutputOptions::new(out.clone());
    output.format = match args.format {
        FormatArg::Csv => Format::Csv,
        FormatArg::Parquet => Format::Parquet,
    };
    output.force = args.force;
    output.chunk_accounts = args.chunk_accounts;
    if let Some(threads) = args.threads {
        output.threads = threads;
    }

    let bar = progress_bar(config.accounts, quiet);
    let summary =
        headroom_sim::generate(&config, &output, &mut |done, _| bar.set_position(done))
            .with_context(|| format!("failed to generate a portfolio into {}", out.display()))?;
    bar.finish_and_clear();

    println!("wrote {}", out.display());
    println!("{summary}");
    Ok(())
}

/// Builds the config from the file (or the defaults) and the flags, and validates it.
fn build_config(args: &SimArgs) -> Result<SimConfig> {
    let mut config = match &args.config {
        Some(path) => SimConfig::from_toml_file(path)?,
        None => SimConfig::default(),
    };
    if let Some(accounts) = args.accounts {
        config.accounts = accounts;
    }
    if let Some(months) = args.months {
        config.months = months;
    }
    if let Some(start) = &args.start {
        config.start = start.parse::<YearMonth>()?;
    }
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(grain) = args.grain {
        config.grain = match grain {
            GrainArg::Month => Grain::Month,
            GrainArg::Day => Grain::Day,
        };
    }
    if let Some(days) = args.horizon_days {
        config.horizon_days = days;
    }
    if args.currencies {
        config.currencies = true;
    }
    for name in &args.without {
        set_mechanism(&mut config.mechanisms, name)?;
    }
    config.validate()?;
    Ok(config)
}

fn set_mechanism(mechanisms: &mut Mechanisms, name: &str) -> Result<()> {
    mechanisms.set(name, false)?;
    Ok(())
}

/// Creates a progress bar on stderr when it is a terminal and the run is not
/// quiet, and a hidden one otherwise.
fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} accounts ({eta} left)")
        .expect("the progress template is valid");
    bar.set_style(style);
    bar
}
