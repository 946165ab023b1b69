//! `headroom models`: list, inspect, promote and roll back the models in the
//! project's registry, and print its decision log.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::bail;
use chrono::Utc;
use clap::{Args, Subcommand};
use headroom_report::retrain::{ModelSummary, summarize};
use headroom_store::{Decision, DecisionRequest, ModelKind, ModelRecord, Store};

/// List, inspect, promote and roll back registered models.
///
/// The registry records which model of each kind scores the portfolio (the
/// champion), and why.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    command: ModelsCommand,
}

#[derive(Debug, Subcommand)]
enum ModelsCommand {
    /// List the registered models with their status and held-out metrics.
    ///
    /// Prints one line per model on stdout: kind, version, status
    /// (candidate, champion, retired, rejected or rolled-back), training time
    /// (UTC), and the held-out ROC-AUC, log loss and rule ROC-AUC with 3
    /// decimals.
    #[command(after_help = "Example:\n  headroom models list --kind churn --project my-project")]
    List(ListArgs),

    /// Show one model: training window, inputs, threshold, held-out metrics
    /// and the registry decisions about it.
    ///
    /// Prints on stdout; metrics have 4 decimals and counts none.
    #[command(
        after_help = "Example:\n  headroom models show 20260430-ab9dca18 --project my-project"
    )]
    Show(ShowArgs),

    /// Make a model the champion of its kind, by hand.
    ///
    /// `headroom retrain` promotes a challenger only when it beats the
    /// champion; this command overrides that comparison and records the
    /// reason given. Prints the new and the former champion.
    #[command(
        after_help = "Example:\n  headroom models promote 20260430-ab9dca18 --kind expansion --reason \"reviewed by hand\""
    )]
    Promote(PromoteArgs),

    /// Return a kind to the champion the current one replaced.
    ///
    /// The rollback is recorded in the decision log with the reason given.
    /// Prints the former and the restored champion.
    #[command(
        after_help = "Example:\n  headroom models rollback churn --reason \"flags too many renewals\" --project my-project"
    )]
    Rollback(RollbackArgs),

    /// Print the registry's decision log: promotions, rejections and
    /// rollbacks, with the metrics behind each.
    ///
    /// Prints each decision on stdout, oldest first: number, time (UTC),
    /// action, version, the champion before and after, the reason, and both
    /// models' metrics with 4 decimals.
    #[command(
        after_help = "Example:\n  headroom models decisions --kind churn --project my-project"
    )]
    Decisions(DecisionsArgs),
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only models of this kind: churn or expansion.
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The model version.
    #[arg(value_name = "VERSION")]
    version: String,

    /// The model kind, when both kinds have the version.
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

#[derive(Debug, Args)]
struct PromoteArgs {
    /// The model version to promote.
    #[arg(value_name = "VERSION")]
    version: String,

    /// The model kind, when both kinds have the version.
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,

    /// Why, recorded in the decision log.
    #[arg(long, value_name = "TEXT")]
    reason: String,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

#[derive(Debug, Args)]
struct RollbackArgs {
    /// The model kind: churn or expansion.
    #[arg(value_name = "KIND")]
    kind: String,

    /// Why, recorded in the decision log.
    #[arg(long, value_name = "TEXT")]
    reason: String,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

#[derive(Debug, Args)]
struct DecisionsArgs {
    /// Only decisions about this kind: churn or expansion.
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

/// Runs `headroom models ...`.
pub fn run(args: ModelsArgs) -> anyhow::Result<()> {
    match args.command {
        ModelsCommand::List(args) => list(args),
        ModelsCommand::Show(args) => show(args),
        ModelsCommand::Promote(args) => promote(args),
        ModelsCommand::Rollback(args) => rollback(args),
        ModelsCommand::Decisions(args) => decisions(args),
    }
}

/// Opens the store of an imported project, creating it on first use.
fn open_store(project: &Path) -> anyhow::Result<Store> {
    let tables = project.join(headroom_data::tables::TABLES_DIR);
    if !tables.is_dir() {
        return Err(headroom_report::project::ProjectError::NotImported {
            dir: project.to_path_buf(),
        }
        .into());
    }
    Ok(Store::open_or_create(Store::project_dir(project))?)
}

fn parse_kind(kind: Option<&String>) -> anyhow::Result<Option<ModelKind>> {
    Ok(kind.map(|k| k.parse()).transpose()?)
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let kind = parse_kind(args.kind.as_ref())?;
    let store = open_store(&args.project)?;
    let models = store.models(kind)?;
    store.close()?;

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<10} {:<28} {:<12} {:<20} {:>8} {:>8} {:>8}",
        "kind", "version", "status", "trained at", "ROC-AUC", "log loss", "rule AUC"
    )?;
    for record in &models {
        let summary = summarize(record);
        let metric = |value: Option<f64>| value.map(|v| format!("{v:.3}")).unwrap_or_default();
        let held_out = summary.held_out.as_ref();
        writeln!(
            out,
            "{:<10} {:<28} {:<12} {:<20} {:>8} {:>8} {:>8}",
            summary.kind.as_str(),
            summary.version,
            summary.status.as_str(),
            summary.trained_at.format("%Y-%m-%d %H:%M").to_string(),
            metric(held_out.and_then(|m| m.roc_auc)),
            metric(held_out.and_then(|m| m.log_loss)),
            metric(held_out.and_then(|m| m.rule_roc_auc)),
        )?;
    }
    writeln!(out, "{} model(s)", models.len())?;
    Ok(())
}

/// Finds a model by version, in one kind or in both.
fn find_model(
    store: &Store,
    version: &str,
    kind: Option<ModelKind>,
) -> anyhow::Result<ModelRecord> {
    let kinds = match kind {
        Some(kind) => vec![kind],
        None => ModelKind::ALL.to_vec(),
    };
    let mut found = Vec::new();
    for kind in kinds {
        if let Some(record) = store.model(kind, version)? {
            found.push(record);
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => {
            let other = kind.and_then(|asked| {
                ModelKind::ALL
                    .iter()
                    .copied()
                    .filter(|k| *k != asked)
                    .find(|k| matches!(store.model(*k, version), Ok(Some(_))))
                    .map(|k| (asked, k))
            });
            match other {
                Some((asked, found)) => bail!(
                    "no {asked} model {version:?} in the registry; {version:?} is registered as {found}\nhint: pass --kind {found}, or run `headroom models list` to see the registered versions"
                ),
                None => bail!(
                    "no model {version:?} in the registry\nhint: run `headroom models list` to see the registered versions"
                ),
            }
        }
        _ => bail!(
            "both a churn and an expansion model have the version {version:?}\nhint: add --kind churn or --kind expansion"
        ),
    }
}

fn show(args: ShowArgs) -> anyhow::Result<()> {
    let kind = parse_kind(args.kind.as_ref())?;
    let store = open_store(&args.project)?;
    let record = find_model(&store, &args.version, kind)?;
    let decisions: Vec<Decision> = store
        .decisions(Some(record.kind))?
        .into_iter()
        .filter(|d| {
            d.version == record.version
                || d.champion_before.as_deref() == Some(record.version.as_str())
        })
        .collect();
    store.close()?;

    let summary = summarize(&record);
    let mut out = std::io::stdout().lock();
    write_summary(&mut out, &summary)?;
    writeln!(
        out,
        "registered metrics: {}",
        metrics_text(&record.metrics_json)
    )?;
    writeln!(out, "decisions:")?;
    if decisions.is_empty() {
        writeln!(out, "  none")?;
    }
    for decision in &decisions {
        write_decision(&mut out, decision)?;
    }
    Ok(())
}

fn write_summary(out: &mut impl Write, summary: &ModelSummary) -> std::io::Result<()> {
    writeln!(out, "{} model {}", summary.kind, summary.version)?;
    writeln!(out, "status: {}", summary.status)?;
    writeln!(out, "trained at: {}", summary.trained_at.to_rfc3339())?;
    if let Some(error) = &summary.unreadable {
        writeln!(out, "artifact: unreadable: {error}")?;
        return Ok(());
    }
    if let Some((first, last)) = summary.training_window {
        writeln!(
            out,
            "training rows: {} observed from {first} to {last}",
            summary.training_rows.unwrap_or(0)
        )?;
    }
    if let Some(inputs) = summary.inputs {
        writeln!(out, "inputs: {inputs}")?;
    }
    if let Some(threshold) = summary.threshold {
        writeln!(out, "threshold: {threshold:.4}")?;
    }
    match &summary.held_out {
        Some(metrics) => {
            let metric =
                |value: Option<f64>| value.map(|v| format!("{v:.4}")).unwrap_or("-".into());
            writeln!(
                out,
                "held out: {} rows, {} positive; ROC-AUC {}, log loss {}, Brier {}, rule ROC-AUC {}",
                metrics.rows,
                metrics.positives,
                metric(metrics.roc_auc),
                metric(metrics.log_loss),
                metric(metrics.brier),
                metric(metrics.rule_roc_auc)
            )?;
        }
        None => writeln!(out, "held out: no evaluation recorded")?,
    }
    Ok(())
}

fn write_decision(out: &mut impl Write, decision: &Decision) -> std::io::Result<()> {
    writeln!(
        out,
        "  #{} {} {} {}: {} -> {}",
        decision.seq,
        decision.at.format("%Y-%m-%d %H:%M"),
        decision.action,
        decision.version,
        decision.champion_before.as_deref().unwrap_or("none"),
        decision.champion_after.as_deref().unwrap_or("none")
    )?;
    writeln!(out, "     reason: {}", decision.reason)?;
    writeln!(
        out,
        "     metrics: {}",
        metrics_text(&decision.metrics_json)
    )?;
    if let Some(champion) = &decision.champion_metrics_json {
        writeln!(out, "     champion metrics: {}", metrics_text(champion))?;
    }
    Ok(())
}

/// Decimals of a metric in `models show` and `models decisions`: enough to
/// compare log losses that differ in the third decimal.
const METRIC_DECIMALS: usize = 4;

/// Formats a stored metrics record as `key value` pairs, with fractions at
/// [`METRIC_DECIMALS`] decimals and nested records in brackets. Text that is
/// not JSON is returned as it is.
fn metrics_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(value) => value_text(&value),
        Err(_) => json.to_string(),
    }
}

/// Keys printed before the others, in this order.
const LEADING_KEYS: [&str; 5] = ["version", "first", "last", "rows", "positives"];

fn value_text(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "-".to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(whole), _, _) => whole.to_string(),
            (_, Some(whole), _) => whole.to_string(),
            (_, _, Some(fraction)) => format!("{fraction:.METRIC_DECIMALS$}"),
            _ => number.to_string(),
        },
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(value_text).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(fields) => {
            // serde_json without its preserve_order feature sorts keys, so the
            // identifying ones are moved first.
            let mut fields: Vec<(&String, &Value)> = fields.iter().collect();
            fields.sort_by_key(|(key, _)| {
                LEADING_KEYS
                    .iter()
                    .position(|lead| lead == key)
                    .unwrap_or(LEADING_KEYS.len())
            });
            let fields: Vec<String> = fields
                .into_iter()
                .map(|(key, value)| match value {
                    Value::Object(_) => format!("{key} ({})", value_text(value)),
                    _ => format!("{key} {}", value_text(value)),
                })
                .collect();
            fields.join(", ")
        }
    }
}

fn promote(args: PromoteArgs) -> anyhow::Result<()> {
    let kind = parse_kind(args.kind.as_ref())?;
    let store = open_store(&args.project)?;
    let record = find_model(&store, &args.version, kind)?;
    let decision = store.promote(
        record.kind,
        &record.version,
        DecisionRequest {
            reason: format!("promoted by hand: {}", args.reason),
            at: Utc::now(),
            metrics: None,
            champion_metrics: None,
        },
    )?;
    store.close()?;

    println!(
        "promoted {} model {} (champion before: {})",
        decision.kind,
        decision.version,
        decision.champion_before.as_deref().unwrap_or("none")
    );
    Ok(())
}

fn rollback(args: RollbackArgs) -> anyhow::Result<()> {
    let kind: ModelKind = args.kind.parse()?;
    let store = open_store(&args.project)?;
    let decision = store.rollback(
        kind,
        DecisionRequest {
            reason: args.reason,
            at: Utc::now(),
            metrics: None,
            champion_metrics: None,
        },
    )?;
    store.close()?;

    println!(
        "rolled back the {kind} champion from {} to {}",
        decision.champion_before.as_deref().unwrap_or("none"),
        decision.version
    );
    Ok(())
}

fn decisions(args: DecisionsArgs) -> anyhow::Result<()> {
    let kind = parse_kind(args.kind.as_ref())?;
    let store = open_store(&args.project)?;
    let decisions = store.decisions(kind)?;
    store.close()?;

    let mut out = std::io::stdout().lock();
    for decision in &decisions {
        write_decision(&mut out, decision)?;
    }
    writeln!(out, "{} decision(s)", decisions.len())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_text_rounds_fractions_and_keeps_counts() {
        let json = r#"{"version":"20260430-ab9dca18","rows":8608,"roc_auc":0.8914837162530987,"log_loss":null,"trained_on_window":false,"model":{"brier":0.05123456789}}"#;
        assert_eq!(
            metrics_text(json),
            "version 20260430-ab9dca18, rows 8608, log_loss -, model (brier 0.0512), roc_auc 0.8915, trained_on_window false"
        );
    }

    #[test]
    fn metrics_text_keeps_text_that_is_not_json() {
        assert_eq!(metrics_text("not json"), "not json");
    }
}
