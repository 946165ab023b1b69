//! `headroom backtest`: retrains month by month on the rows whose labels were
//! known at each month-end, scores that month-end's accounts, and prints how
//! the model, the rule and the base rate did once the horizon was over.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use headroom_model::training::{BacktestReport, TrainingSet, backtest, build_training_set};
use headroom_model::{Comparison, ModelKind};

use crate::cmd::train::{count, number, open_project, parse_kind, render_set, significant};

/// Retrain month by month and report how the held-out metrics move.
///
/// For each month-end from FROM to TO, trains on the rows whose horizon was
/// over at that date (penalty and threshold chosen on time-ordered folds, as
/// `headroom train` does), scores the accounts observed at the month-end and
/// compares with the rule and the base rate. Month-ends whose horizon is not
/// over yet are skipped. Nothing is saved or registered. Prints one line per
/// month-end with the model's and the rule's metrics, a line over all
/// months, then the range of the model's ROC-AUC and how often it beat the
/// rule.
#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    /// The project folder, holding tables/ and headroom.toml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,

    /// First month to score (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    from: NaiveDate,

    /// Last month to score (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    to: NaiveDate,

    /// Backtest only this model [default: both].
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    kind: Option<ModelKind>,
}

/// Runs `headroom backtest`.
pub fn run(args: &BacktestArgs) -> anyhow::Result<()> {
    if args.from > args.to {
        bail!(
            "--from {} is after --to {}\nhint: give the earlier month first",
            args.from.format("%Y-%m"),
            args.to.format("%Y-%m")
        );
    }
    let opened = open_project(&args.project)?;
    let set = build_training_set(&opened.project.tables, &opened.features, &opened.model)
        .context("failed to build the training set")?;
    print!("{}", render_set(&set));

    let kinds = match args.kind {
        Some(kind) => vec![kind],
        None => vec![ModelKind::Churn, ModelKind::Expansion],
    };
    let to =
        headroom_features::calendar::month_end(headroom_features::calendar::month_index(args.to));
    for kind in kinds {
        let report = backtest(&set, kind, args.from, to)
            .with_context(|| format!("failed to backtest the {kind} model"))?;
        print!("\n{}", render_report(&set, &report));
    }
    Ok(())
}

/// Parses `YYYY-MM` into the first day of the month.
fn parse_month(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
        .map_err(|_| format!("invalid month {text:?}: use YYYY-MM, such as 2025-06"))
}

fn render_report(set: &TrainingSet, report: &BacktestReport) -> String {
    let kind = report.kind;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{kind} backtest: each month-end scored by a model trained on the rows observed at least {} days earlier",
        set.config().horizon_days
    );
    let _ = writeln!(
        out,
        "  {:<10} {:>7} {:>7} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "month-end",
        "trained",
        "rows",
        "positive",
        "model AUC",
        "rule AUC",
        "PR-AUC",
        "Brier",
        "base",
        "lift",
        "penalty"
    );
    for month in &report.months {
        let o = &month.evaluation.overall;
        let _ = writeln!(
            out,
            "  {:<10} {:>7} {:>7} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
            month.month_end.to_string(),
            count(month.training.rows),
            count(o.rows),
            count(o.positives),
            number(o.model.roc_auc),
            number(o.rule.roc_auc),
            number(o.model.average_precision),
            number(o.model.brier),
            number(o.base_rate.brier),
            number(o.model.top_decile_lift),
            significant(month.l2_penalty)
        );
    }
    if let Some(pooled) = &report.pooled {
        render_pooled(&mut out, pooled);
        render_spread(&mut out, report);
    }
    for skipped in &report.skipped {
        let _ = writeln!(out, "  skipped {}: {}", skipped.month_end, skipped.reason);
    }
    out
}

fn render_pooled(out: &mut String, pooled: &Comparison) {
    let _ = writeln!(
        out,
        "  {:<10} {:>7} {:>7} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8}",
        "all months",
        "",
        count(pooled.rows),
        count(pooled.positives),
        number(pooled.model.roc_auc),
        number(pooled.rule.roc_auc),
        number(pooled.model.average_precision),
        number(pooled.model.brier),
        number(pooled.base_rate.brier),
        number(pooled.model.top_decile_lift)
    );
    let _ = writeln!(
        out,
        "  all months: model precision {} and recall {} at each month's threshold; rule precision {} and recall {}",
        number(pooled.model.confusion.precision()),
        number(pooled.model.confusion.recall()),
        number(pooled.rule.confusion.precision()),
        number(pooled.rule.confusion.recall())
    );
}

/// Prints the range of the monthly model ROC-AUC and how often the model
/// beat the rule.
fn render_spread(out: &mut String, report: &BacktestReport) {
    let aucs: Vec<f64> = report
        .months
        .iter()
        .filter_map(|m| m.evaluation.overall.model.roc_auc)
        .collect();
    let beats = report
        .months
        .iter()
        .filter(|m| m.evaluation.overall.model_beats_rule() == Some(true))
        .count();
    let (Some(low), Some(high)) = (
        aucs.iter().copied().reduce(f64::min),
        aucs.iter().copied().reduce(f64::max),
    ) else {
        return;
    };
    let _ = writeln!(
        out,
        "  monthly model ROC-AUC from {low:.3} to {high:.3}; above the rule in {beats} of {} months",
        report.months.len()
    );
}
