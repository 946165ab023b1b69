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
    List(ListArgs),

    /// Show one model: training window, inputs, threshold, held-out metrics
    /// and the registry decisions about it.
    Show(ShowArgs),

    /// Make a model the champion of its kind, by hand.
    ///
    /// `headroom retrain` promotes a challenger only when it beats the
    /// champion; this command overrides that comparison and records the
    /// reason given.
    Promote(PromoteArgs),

    /// Return a kind to the champion the current one replaced.
    Rollback(RollbackArgs),

    /// Print the registry's decision log: promotions, rejections and
    /// rollbacks, with the metrics behind each.
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
        0 => bail!(
            "no model {version:?} in the registry\nhint: run `headroom models list` to see the registered versions"
        ),
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
    writeln!(out, "registered metrics: {}", record.metrics_json)?;
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
    writeln!(out, "     metrics: {}", decision.metrics_json)?;
    if let Some(champion) = &decision.champion_metrics_json {
        writeln!(out, "     champion metrics: {champion}")?;
    }
    Ok(())
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
