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
    AlreadyTrained, KindRetrain, Recorded, RetrainResult, RetrainSettings, Verdict, WindowMetrics,
    already_trained, compare_and_record, train_challengers,
};

use super::outcomes::open_project;

/// Train challengers and promote each only when it beats the champion.
///
/// A challenger of each model kind is trained on all outcomes to date (the
/// imported history and the ledger) and compared with the champion.
/// Both are scored on the latest [model] holdout_months labelled month-ends.
/// The challenger's numbers come from a fit on the rows whose labels were
/// known before those months. The challenger becomes champion only when its
/// log loss is lower (by at least [retrain] min_log_loss_gain, default 0)
/// and its ROC-AUC is not lower by more than [retrain] auc_tolerance
/// (default 0.01).
/// The decision is logged with both models' metrics; `headroom models
/// decisions` prints the log.
///
/// When neither the training data (the same training-data fingerprint) nor
/// the [model] settings have changed since a registered model (the champion,
/// or a rejected challenger) was trained, a retrain would fit that model
/// again: the kind is skipped and nothing is recorded. Prints, per kind, both models'
/// ROC-AUC, log loss and Brier score on the held-out months and the
/// decision.
#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// Retrain only this model: churn or expansion [default: both].
    #[arg(long, value_name = "KIND", value_parser = super::train::parse_kind)]
    kind: Option<ModelKind>,

    /// Train even when a registered model has the same data and settings (a
    /// change of [model] scale_penalty alone is not detected). A fit that
    /// reproduces a registered version is reported as such and not compared.
    #[arg(long)]
    force: bool,

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

    let mut to_train = Vec::new();
    for kind in kinds {
        if !args.force
            && let Some(trained) = already_trained(&set, kind, &project.store)
                .with_context(|| format!("failed to retrain the {kind} model"))?
        {
            print!("{}", render_already_trained(&trained));
            continue;
        }
        to_train.push(kind);
    }
    for (kind, trained) in train_challengers(&set, &to_train) {
        let context = || format!("failed to retrain the {kind} model");
        let trained = trained.with_context(context)?;
        let outcome = compare_and_record(
            &trained,
            &set,
            &project.store,
            &project.models_dir(),
            &settings,
            Utc::now(),
        )
        .with_context(context)?;
        print!("{}", render(&outcome));
    }
    project.store.close()?;
    Ok(())
}

/// Reads one metric of a model's window metrics.
type MetricOf = fn(&WindowMetrics) -> Option<f64>;

/// Says that a kind was skipped because a registered model has its data and
/// settings.
fn render_already_trained(trained: &AlreadyTrained) -> String {
    let (first, last) = trained.trained_on;
    format!(
        "{} model: skipped, neither the training data nor the [model] settings have changed since version {} ({}) was trained on rows observed {first} to {last} (data fingerprint {}), so a retrain would fit it again; nothing was trained or recorded\n  hint: import newer exports or record outcomes first (an outcome counts only when it falls within the horizon of a month-end whose horizon is already over); --force retrains anyway\n",
        trained.kind,
        trained.version,
        trained.status,
        short_fingerprint(&trained.fingerprint)
    )
}

/// Shortens `sha256:<64 hex digits>` to its first 12 hex digits.
fn short_fingerprint(fingerprint: &str) -> &str {
    let end = fingerprint
        .char_indices()
        .nth("sha256:".len() + 12)
        .map_or(fingerprint.len(), |(i, _)| i);
    &fingerprint[..end]
}

fn render(outcome: &KindRetrain) -> String {
    match &outcome.result {
        RetrainResult::Decided(recorded) => render_decided(outcome, recorded),
        RetrainResult::AlreadyRegistered { status } => format!(
            "{} model: version {} is already registered ({status}): the data and settings have not changed since it was trained, so nothing was recorded\n",
            outcome.kind, outcome.version
        ),
    }
}

fn render_decided(outcome: &KindRetrain, recorded: &Recorded) -> String {
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

    let action = match recorded.verdict {
        Verdict::Promote(_) => "promoted",
        Verdict::Reject(_) => "rejected",
    };
    let _ = writeln!(out, "  {action}: {}", recorded.verdict.reason());
    if let Some(path) = &outcome.saved {
        let _ = writeln!(out, "  saved {}", path.display());
    }
    let _ = writeln!(out, "  logged as decision {}", recorded.decision.seq);
    out
}
