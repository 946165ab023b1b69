//! `headroom retrain`: train challengers on all outcomes to date and promote
//! each only when it beats the champion on the same recent months.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use clap::Args;
use headroom_features::FeatureOptions;
use headroom_model::training::build_training_set;
use headroom_model::{ModelConfig, ModelKind};
use headroom_report::retrain::{
    KindRetrain, RetrainResult, RetrainSettings, Verdict, WindowMetrics, retrain_kind,
};

use super::outcomes::open_project;

/// Train challengers and promote each only when it beats the champion.
///
/// A challenger of each model kind is trained on all outcomes to date (the
/// imported history and the ledger) and compared with the champion.
/// Both are scored on the latest [model] holdout_months labelled month-ends.
/// The challenger's numbers come from a fit on the rows whose labels were
/// known before those months. The challenger becomes champion only when its
/// log loss is lower (by at least [retrain] min_log_loss_gain) and its
/// ROC-AUC is not lower by more than [retrain] auc_tolerance (default 0.01).
/// The decision is logged with both models' metrics; `headroom models
/// decisions` prints the log.
#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// Retrain only this model: churn or expansion [default: both].
    #[arg(long, value_name = "KIND", value_parser = super::train::parse_kind)]
    kind: Option<ModelKind>,

    /// The project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

/// Runs `headroom retrain`.
pub fn run(args: RetrainArgs) -> anyhow::Result<()> {
    let project = open_project(&args.project)?;
    let features: FeatureOptions = project.config.section("features")?;
    let model: ModelConfig = project.config.section("model")?;
    model.check()?;
    let settings: RetrainSettings = project.config.section("retrain")?;
    settings.check()?;

    let set = build_training_set(&project.tables, &features, &model)
        .context("failed to build the training set")?;
    let kinds = match args.kind {
        Some(kind) => vec![kind],
        None => vec![ModelKind::Churn, ModelKind::Expansion],
    };

    for kind in kinds {
        let outcome = retrain_kind(
            &set,
            kind,
            &project.store,
            &project.models_dir(),
            &settings,
            Utc::now(),
        )
        .with_context(|| format!("failed to retrain the {kind} model"))?;
        print!("{}", render(&outcome));
    }
    project.store.close()?;
    Ok(())
}

/// Reads one metric of a model's window metrics.
type MetricOf = fn(&WindowMetrics) -> Option<f64>;

fn render(outcome: &KindRetrain) -> String {
    let mut out = String::new();
    let challenger = &outcome.challenger;
    let _ = writeln!(
        out,
        "{} challenger {} on {} to {} ({} rows, {} {})",
        outcome.kind,
        outcome.version,
        challenger.first,
        challenger.last,
        challenger.rows,
        challenger.positives,
        outcome.kind.positive_class()
    );
    let champion = outcome.champion.as_ref();
    let champion_name = champion.map_or("no champion".to_string(), |c| {
        format!("champion {}", c.version)
    });
    let _ = writeln!(
        out,
        "  {:<12} {:>12} {:>28}",
        "", "challenger", champion_name
    );
    let metric = |value: Option<f64>| value.map_or("-".to_string(), |v| format!("{v:.4}"));
    let rows: [(&str, MetricOf); 3] = [
        ("ROC-AUC", |m| m.roc_auc),
        ("log loss", |m| m.log_loss),
        ("Brier score", |m| m.brier),
    ];
    for (name, get) in rows {
        let _ = writeln!(
            out,
            "  {:<12} {:>12} {:>28}",
            name,
            metric(get(challenger)),
            champion.map_or(String::new(), |c| metric(get(c)))
        );
    }
    if champion.is_some_and(|c| c.trained_on_window) {
        let _ = writeln!(
            out,
            "  the champion trained on rows inside these months, which favors it"
        );
    }

    match &outcome.result {
        RetrainResult::Decided(recorded) => {
            let action = match recorded.verdict {
                Verdict::Promote(_) => "promoted",
                Verdict::Reject(_) => "rejected",
            };
            let _ = writeln!(out, "  {action}: {}", recorded.verdict.reason());
            if let Some(path) = &outcome.saved {
                let _ = writeln!(out, "  saved {}", path.display());
            }
            let _ = writeln!(out, "  logged as decision {}", recorded.decision.seq);
        }
        RetrainResult::AlreadyRegistered { status } => {
            let _ = writeln!(
                out,
                "  version {} is already registered ({status}): the data and settings have not changed since it was trained, so nothing was recorded",
                outcome.version
            );
        }
    }
    out
}
