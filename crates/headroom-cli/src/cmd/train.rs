//! `headroom train`: trains the churn and expansion models on a project's
//! history, prints how they did on the held-out months next to the rule
//! baseline and the base rate, saves them to PROJECT/models/ and registers
//! them in the store.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Datelike;
use chrono::Utc;
use headroom_data::Tables;
use headroom_features::FeatureOptions;
use headroom_model::training::{
    SetSummary, TrainedModel, TrainingSet, build_training_set, labelled_rows, metrics_summary,
    train_models,
};
use headroom_model::{
    Comparison, Evaluation, FitReport, FitWarning, ModelArtifact, ModelConfig, ModelKind,
    ScorerMetrics, SelectionReport, TrainingSummary,
};
use headroom_report::project::Project;
use headroom_store::{DecisionRequest, NewModel, Store};

/// Train the churn and expansion models on the project's history.
///
/// Builds one observation per account per month-end, labelled by the outcomes
/// within the horizon (180 days by default) after it, holds out the most
/// recent month-ends for an honest evaluation, and writes each model to
/// PROJECT/models/<kind>-<version>.json. The first model of a kind becomes
/// the champion; later ones are registered as challengers. Settings come from
/// the [model] and [features] sections of headroom.toml. Prints the training
/// set, each model's held-out metrics beside the rule and the base rate, and
/// how it was registered.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The project folder, holding tables/ and headroom.toml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,

    /// Train only this model [default: both].
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    kind: Option<ModelKind>,

    /// The folder `headroom sim` wrote (or its truth/ folder), to print the
    /// oracle ROC-AUC of the true probabilities on the held-out rows
    /// [default: the imported source, when the simulator wrote it].
    #[arg(long, value_name = "DIR")]
    truth: Option<PathBuf>,

    /// Print the held-out calibration table of each model.
    #[arg(long)]
    calibration: bool,

    /// Write the held-out rows to this CSV file: model kind, account, date,
    /// segment, label, the evaluated model's probability and the rule's
    /// utilization.
    #[arg(long, value_name = "FILE")]
    predictions: Option<PathBuf>,
}

/// Runs `headroom train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let opened = open_project(&args.project)?;
    let project = &opened.project;
    let truth = find_truth(args.truth.as_deref(), &project.tables)?;
    let set = build_training_set(&project.tables, &opened.features, &opened.model)
        .context("failed to build the training set")?;
    print!("{}", render_set(&set));

    let kinds = match args.kind {
        Some(kind) => vec![kind],
        None => vec![ModelKind::Churn, ModelKind::Expansion],
    };
    let models_dir = project.models_dir();
    std::fs::create_dir_all(&models_dir)
        .with_context(|| format!("failed to create {}", models_dir.display()))?;

    let mut predictions = String::from(PREDICTIONS_HEADER);
    for (kind, trained) in train_models(&set, &kinds) {
        let mut trained = trained.with_context(|| format!("failed to train the {kind} model"))?;
        if let Some(truth) = &truth {
            add_oracle(&mut trained, &set, truth);
        }
        print!("\n{}", render_model(&set, &trained, args.calibration));
        if args.predictions.is_some() {
            predictions.push_str(&held_out_rows(&set, &trained)?);
        }

        let path = models_dir.join(trained.artifact.file_name());
        trained.artifact.save(&path)?;
        let registered = register(&project.store, &trained.artifact)?;
        println!("  saved {}", path.display());
        println!("  {registered}");
    }
    if let Some(path) = &args.predictions {
        write_atomically(path, &predictions)?;
        println!("\nwrote the held-out predictions to {}", path.display());
    }
    Ok(())
}

/// The columns of `--predictions`.
const PREDICTIONS_HEADER: &str = "model,account_id,as_of,segment,label,probability,utilization\n";

/// Renders the held-out rows of a model as CSV lines, scored by the
/// evaluated model.
fn held_out_rows(set: &TrainingSet, trained: &TrainedModel) -> anyhow::Result<String> {
    let (Some(held_out), Some(evaluated)) = (&trained.artifact.held_out, &trained.evaluated) else {
        return Ok(String::new());
    };
    let kind = evaluated.kind;
    let rows = set.rows(kind, held_out.first, held_out.last);
    let x = set.matrix(&evaluated.input_spec(), &rows)?;
    let probabilities = evaluated.predict_proba(&x)?;
    let labels = set.labels(kind, &rows);
    let utilization = set.column(&set.config().rule_utilization, &rows);

    let mut out = String::new();
    for (j, key) in x.keys().iter().enumerate() {
        let segment = csv_field(key.segment.as_deref().unwrap_or(""));
        let util = if utilization[j].is_nan() {
            String::new()
        } else {
            utilization[j].to_string()
        };
        let _ = writeln!(
            out,
            "{kind},{},{},{segment},{},{},{util}",
            csv_field(&key.account_id),
            key.observed,
            u8::from(labels[j]),
            probabilities[j]
        );
    }
    Ok(out)
}

/// Quotes a CSV field that contains a comma, a quote or a line break.
fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    } else {
        text.into()
    }
}

/// Writes a file through a temporary name beside it and a rename.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.partial"));
    std::fs::write(&partial, text)
        .with_context(|| format!("failed to write {}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("failed to move {} to {}", partial.display(), path.display()))
}

/// An opened project with the settings training reads.
pub struct OpenProject {
    /// The project: tables with the store's ledger merged in, and the store.
    pub project: Project,
    /// The `[features]` settings.
    pub features: FeatureOptions,
    /// The `[model]` settings, checked.
    pub model: ModelConfig,
}

/// Opens a project and reads its `[features]` and `[model]` settings.
///
/// Fails when the project cannot be opened or a setting is invalid.
pub fn open_project(dir: &Path) -> anyhow::Result<OpenProject> {
    let project = Project::open(dir)?;
    let features: FeatureOptions = project.config.section("features")?;
    let model: ModelConfig = project.config.section("model")?;
    model
        .train_params()
        .context("invalid [model] section in headroom.toml")?;
    let ledger = &project.ledger;
    if ledger.outcomes_from_ledger > 0 {
        tracing::info!(
            outcomes = ledger.outcomes_from_ledger,
            "added outcomes recorded in the store to the imported ones"
        );
    }
    Ok(OpenProject {
        project,
        features,
        model,
    })
}

/// Parses `churn` or `expansion`.
pub fn parse_kind(text: &str) -> Result<ModelKind, String> {
    match text {
        "churn" => Ok(ModelKind::Churn),
        "expansion" => Ok(ModelKind::Expansion),
        other => Err(format!(
            "unknown model kind {other:?}: use churn or expansion"
        )),
    }
}

/// Loads the simulation truth of a project: from `--truth`, or from the
/// imported source folder when `headroom sim` wrote it.
fn find_truth(flag: Option<&Path>, tables: &Tables) -> anyhow::Result<Option<headroom_sim::Truth>> {
    if let Some(dir) = flag {
        let truth = headroom_sim::Truth::load(dir)
            .with_context(|| format!("failed to read the simulation truth in {}", dir.display()))?;
        return Ok(Some(truth));
    }
    let Some(source) = tables.meta.source.as_deref() else {
        return Ok(None);
    };
    if !is_simulated(source) {
        return Ok(None);
    }
    match headroom_sim::Truth::load(source) {
        Ok(truth) => Ok(Some(truth)),
        Err(err) => {
            tracing::warn!(source = %source.display(), "the imported source is simulated but its truth cannot be read, so the evaluation has no oracle: {err}; pass --truth DIR with the folder `headroom sim` wrote");
            Ok(None)
        }
    }
}

/// Checks whether a folder's meta.json names `headroom sim` as its generator.
fn is_simulated(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join(headroom_sim::PORTFOLIO_FILE)) else {
        return false;
    };
    let Ok(meta) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    meta["generator"]
        .as_str()
        .is_some_and(|g| g.starts_with("headroom-sim"))
}

/// Records the oracle ROC-AUC of the held-out rows in the evaluation.
fn add_oracle(trained: &mut TrainedModel, set: &TrainingSet, truth: &headroom_sim::Truth) {
    let (Some(held_out), Some(evaluation)) = (
        trained.artifact.held_out.as_ref(),
        trained.artifact.metrics.as_mut(),
    ) else {
        return;
    };
    let target = match trained.artifact.kind {
        ModelKind::Churn => headroom_sim::Target::Churn,
        ModelKind::Expansion => headroom_sim::Target::Expansion,
    };
    let rows = labelled_rows(set, trained.artifact.kind, held_out.first, held_out.last);
    let result = headroom_sim::oracle_auc_with_labels(
        truth,
        rows.iter()
            .map(|(key, label)| (key.account_id.as_str(), key.observed, *label)),
        target,
    );
    match result {
        Ok(oracle) => {
            if let Some(auc) = oracle.auc {
                evaluation.oracle_roc_auc = Some(auc);
            }
        }
        Err(err) => tracing::warn!("no oracle ROC-AUC for the held-out rows: {err}"),
    }
}

/// Registers a model in the store; the first of its kind becomes champion.
/// Returns a line saying what happened.
fn register(store: &Store, artifact: &ModelArtifact) -> anyhow::Result<String> {
    let kind = store_kind(artifact.kind);
    let version = artifact.version();
    let artifact_json = artifact.to_json();
    if let Some(stored) = store.model(kind, &version)? {
        if stored.artifact_json == artifact_json {
            return Ok(format!(
                "version {version} is already registered ({}); nothing changed",
                stored.status
            ));
        }
        bail!(
            "version {version} of the {kind} model is registered with another artifact\nhint: this should not happen for the same data and settings; report it, or move the store aside"
        );
    }

    let metrics = serde_json::to_value(metrics_summary(artifact))?;
    let record = store.register_model(NewModel {
        version: version.clone(),
        kind,
        artifact_json,
        trained_at: Utc::now(),
        metrics,
    })?;
    match store.champion(kind)? {
        Some(champion) => Ok(format!(
            "registered version {} as a challenger (champion: {}); `headroom retrain` or `headroom models promote` changes the champion",
            record.version, champion.version
        )),
        None => {
            store.promote(
                kind,
                &record.version,
                DecisionRequest {
                    reason: "first model of its kind".to_owned(),
                    at: Utc::now(),
                    metrics: None,
                    champion_metrics: None,
                },
            )?;
            Ok(format!(
                "registered version {} as the champion (first model of its kind)",
                record.version
            ))
        }
    }
}

fn store_kind(kind: ModelKind) -> headroom_store::ModelKind {
    match kind {
        ModelKind::Churn => headroom_store::ModelKind::Churn,
        ModelKind::Expansion => headroom_store::ModelKind::Expansion,
    }
}

/// Renders the training set's counts.
pub fn render_set(set: &TrainingSet) -> String {
    let s: &SetSummary = set.summary();
    let config = set.config();
    let mut out = String::new();
    let dates = set.observation_dates();
    let span = match (dates.first(), dates.last()) {
        (Some(first), Some(last)) => format!("{first} to {last}"),
        _ => "none".to_owned(),
    };
    let _ = writeln!(
        out,
        "training set: {} rows of {} accounts at {} month-ends ({span}); history ends {}",
        count(s.rows),
        count(s.accounts),
        s.labelled_dates,
        s.history_end
    );
    let _ = writeln!(
        out,
        "left out: {} rows of {} accounts observed after {}, whose {}-day horizon is not over ({} accounts have no finished horizon yet)",
        count(s.unfinished_rows),
        count(s.unfinished_accounts),
        s.label_cutoff,
        config.horizon_days,
        count(s.accounts_without_labels)
    );
    if s.rows_before_window > 0 {
        let _ = writeln!(
            out,
            "left out: {} rows before the {}-month history window",
            count(s.rows_before_window),
            config.history_months.unwrap_or_default()
        );
    }
    if config.lead_days > 0 {
        let _ = writeln!(
            out,
            "left out: {} churn rows and {} expansion rows whose event falls within the {}-day lead time",
            count(s.churn_in_lead_time),
            count(s.expansion_in_lead_time),
            config.lead_days
        );
    }
    out
}

/// Renders one trained model: classes, selection, fit, held-out metrics.
pub fn render_model(set: &TrainingSet, trained: &TrainedModel, calibration: bool) -> String {
    let artifact = &trained.artifact;
    let kind = artifact.kind;
    let mut out = String::new();
    let training = &artifact.training;
    let _ = writeln!(out, "{kind} model");
    let _ = writeln!(
        out,
        "  classes: {} {}, {} {} ({} of {} rows, {} accounts)",
        count(training.positives),
        kind.positive_class(),
        count(training.rows - training.positives),
        kind.negative_class(),
        percent(training.positives as f64 / training.rows.max(1) as f64),
        count(training.rows),
        count(training.accounts)
    );
    // The selection ran for the evaluated model; a refit reuses its choice.
    let selected = trained.evaluated.as_ref().unwrap_or(artifact);
    render_selection(&mut out, selected);
    render_inputs(&mut out, artifact);

    let (Some(held_out), Some(evaluation)) = (&artifact.held_out, &artifact.metrics) else {
        if let Some(fitted) = training.fit_rows {
            let _ = writeln!(
                out,
                "  fitted on an even sample of {} of the {} rows ([model] fit_rows)",
                count(fitted),
                count(training.rows)
            );
        }
        render_fit(&mut out, "fit", &artifact.fit);
        let _ = writeln!(
            out,
            "  no held-out evaluation (holdout_months = 0 in the [model] section)"
        );
        return out;
    };
    let _ = writeln!(
        out,
        "  evaluated model: trained on {} rows{} observed {} to {} (one horizon before the held-out months), L2 penalty {}",
        count(held_out.training.rows),
        sample_note(&held_out.training),
        held_out.training.first_observation,
        held_out.training.last_observation,
        significant(selected.settings.l2_penalty)
    );
    render_fit(&mut out, "evaluated fit", &held_out.fit);
    if held_out.refitted {
        let penalty = if artifact.settings.l2_penalty == selected.settings.l2_penalty {
            "the same L2 penalty".to_owned()
        } else {
            format!(
                "L2 penalty {} (scaled to its rows)",
                significant(artifact.settings.l2_penalty)
            )
        };
        let _ = writeln!(
            out,
            "  saved model: refitted on all {} labelled rows{} with the same threshold and {penalty}",
            count(training.rows),
            sample_note(training)
        );
        render_fit(&mut out, "saved fit", &artifact.fit);
    }

    let _ = writeln!(
        out,
        "\n  held out: {} to {}, {} rows, {} {}",
        held_out.first,
        held_out.last,
        count(evaluation.overall.rows),
        count(evaluation.overall.positives),
        kind.positive_class()
    );
    render_evaluation(&mut out, set, evaluation);
    if calibration {
        render_calibration(&mut out, &evaluation.overall.model);
    }
    out
}

/// Says how many of a model's training rows the solver read, when it read a
/// sample ([model] fit_rows).
fn sample_note(training: &TrainingSummary) -> String {
    match training.fit_rows {
        Some(fitted) => format!(" (an even sample of {} fitted)", count(fitted)),
        None => String::new(),
    }
}

fn render_selection(out: &mut String, artifact: &ModelArtifact) {
    let settings = &artifact.settings;
    let Some(selection) = &artifact.selection else {
        let without_folds = artifact
            .fit
            .warnings
            .iter()
            .any(|w| matches!(w, FitWarning::NoValidationFold { .. }));
        let how = if without_folds {
            "without validation folds (see the warning of the evaluated fit)"
        } else {
            "as configured (no selection)"
        };
        let _ = writeln!(
            out,
            "  L2 penalty {} and threshold {:.3} {how}",
            significant(settings.l2_penalty),
            settings.threshold
        );
        return;
    };
    render_fold_plan(out, artifact, selection);

    let chosen = selection
        .candidates
        .iter()
        .find(|c| c.l2_penalty == selection.chosen_penalty);
    let scaled = if settings.l2_penalty == selection.chosen_penalty {
        String::new()
    } else {
        match artifact.training.fit_rows {
            Some(fitted) => format!(
                ", scaled to {} for the {} rows fitted",
                significant(settings.l2_penalty),
                count(fitted)
            ),
            None => format!(
                ", scaled to {} for {} training rows",
                significant(settings.l2_penalty),
                count(artifact.training.rows)
            ),
        }
    };
    if selection.candidates.len() == 1 {
        let _ = writeln!(
            out,
            "  L2 penalty {} as configured (validation log loss {} on {} time-ordered folds)",
            significant(selection.chosen_penalty),
            number(chosen.map(|c| c.mean_log_loss)),
            selection.folds.len(),
        );
    } else {
        let _ = writeln!(
            out,
            "  L2 penalty {} chosen from {} candidates on {} time-ordered folds (mean validation log loss {}){scaled}",
            significant(selection.chosen_penalty),
            selection.candidates.len(),
            selection.folds.len(),
            number(chosen.map(|c| c.mean_log_loss)),
        );
    }
    let _ = writeln!(
        out,
        "  threshold {:.3} ({})",
        settings.threshold,
        threshold_rule(settings.threshold_rule)
    );

    let fold_fits: Vec<_> = selection
        .candidates
        .iter()
        .flat_map(|c| c.folds.iter().map(move |f| (c.l2_penalty, f)))
        .collect();
    let unconverged: Vec<String> = fold_fits
        .iter()
        .filter(|(_, f)| !f.converged)
        .map(|(penalty, f)| format!("penalty {} in fold {}", significant(*penalty), f.fold + 1))
        .collect();
    if !unconverged.is_empty() {
        let _ = writeln!(
            out,
            "  note: {} of {} fold fits did not converge within {} iterations ({})",
            unconverged.len(),
            fold_fits.len(),
            settings.max_iterations,
            unconverged.join(", ")
        );
    }
}

/// Notes when the history fits fewer or shorter folds than configured.
fn render_fold_plan(out: &mut String, artifact: &ModelArtifact, selection: &SelectionReport) {
    let configured = artifact.settings.folds;
    let used_folds = selection.folds.len();
    let used_months = selection.folds.first().map_or(0, |f| {
        let months = |d: chrono::NaiveDate| d.year() * 12 + d.month0() as i32;
        (months(f.validation_last) - months(f.validation_first) + 1) as usize
    });
    if used_folds == configured.n_folds && used_months == configured.validation_dates {
        return;
    }
    let _ = writeln!(
        out,
        "  note: the history before the held-out months fits {used_folds} fold(s) of {used_months} month-end(s), not the {} of {} the [model] section asks for",
        configured.n_folds, configured.validation_dates
    );
}

fn threshold_rule(rule: headroom_model::threshold::ThresholdRule) -> String {
    use headroom_model::threshold::ThresholdRule;
    match rule {
        ThresholdRule::MaxF1 => "highest F1 on the validation folds".to_owned(),
        ThresholdRule::Fixed(t) => format!("fixed at {t}"),
        ThresholdRule::FlagShare(share) => {
            format!("flags {} of the validation rows", percent(share))
        }
    }
}

fn render_inputs(out: &mut String, artifact: &ModelArtifact) {
    let p = &artifact.preprocessing;
    let _ = writeln!(
        out,
        "  inputs: {} features, {} model columns after imputation indicators",
        p.features.len(),
        p.columns.len()
    );
    if !p.dropped.is_empty() {
        let dropped: Vec<String> = p.dropped.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "  dropped: {}", dropped.join(", "));
    }
}

fn render_fit(out: &mut String, label: &str, fit: &FitReport) {
    let iterations = fit
        .iterations
        .map_or("an uncounted number of".to_owned(), |n| n.to_string());
    let state = if fit.converged {
        "converged"
    } else {
        "did not converge"
    };
    let _ = writeln!(
        out,
        "  {label}: {state} after {iterations} iterations (cap {}), gradient norm {:.2e} (tolerance {:.0e})",
        fit.iteration_cap, fit.gradient_norm, fit.tolerance
    );
    for warning in &fit.warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
}

/// Reads one metric of a scorer.
type MetricOf = fn(&ScorerMetrics) -> Option<f64>;

/// Renders the model, rule and base rate side by side, then per segment.
pub fn render_evaluation(out: &mut String, set: &TrainingSet, evaluation: &Evaluation) {
    let o = &evaluation.overall;
    let rule_name = format!(
        "rule ({} {} {})",
        set.config().rule_utilization,
        if evaluation.kind == ModelKind::Churn {
            "<"
        } else {
            ">"
        },
        evaluation.rule.threshold
    );
    let _ = writeln!(
        out,
        "  {:<24} {:>10} {:>10} {:>10}",
        "", "model", "rule", "base rate"
    );
    let rows: [(&str, MetricOf); 8] = [
        ("ROC-AUC", |m| m.roc_auc),
        ("PR-AUC", |m| m.average_precision),
        ("log loss", |m| m.log_loss),
        ("Brier score", |m| m.brier),
        ("top-decile lift", |m| m.top_decile_lift),
        ("precision", |m| m.confusion.precision()),
        ("recall", |m| m.confusion.recall()),
        ("flagged", |m| Some(m.confusion.flagged() as f64)),
    ];
    for (name, metric) in rows {
        let cell = |m: &ScorerMetrics| match metric(m) {
            Some(v) if name == "flagged" => count(v as usize),
            Some(v) => format!("{v:.3}"),
            None => "-".to_owned(),
        };
        let _ = writeln!(
            out,
            "  {:<24} {:>10} {:>10} {:>10}",
            name,
            cell(&o.model),
            cell(&o.rule),
            cell(&o.base_rate)
        );
    }
    let _ = writeln!(
        out,
        "  model flags at p >= {:.3}; {rule_name}; base rate {:.4} (training positive rate)",
        evaluation.threshold, evaluation.training_base_rate
    );
    if evaluation.rule_missing_utilization > 0 {
        let _ = writeln!(
            out,
            "  {} rows have no utilization: the rule cannot flag them and ranks them last",
            count(evaluation.rule_missing_utilization)
        );
    }
    if let Some(auc) = evaluation.oracle_roc_auc {
        let gap = o
            .model
            .roc_auc
            .map_or(String::new(), |m| format!(" (model {:+.3})", m - auc));
        let _ = writeln!(
            out,
            "  oracle ROC-AUC {auc:.3}{gap}: the simulation's true probabilities on the same rows"
        );
    }
    if let Some(beats) = o.model_beats_rule() {
        let verdict = if beats { "above" } else { "NOT above" };
        let _ = writeln!(out, "  the model's ROC-AUC is {verdict} the rule's");
    }
    render_segments(out, evaluation);
}

fn render_segments(out: &mut String, evaluation: &Evaluation) {
    if evaluation.segments.len() < 2 {
        return;
    }
    let _ = writeln!(
        out,
        "\n  {:<14} {:>7} {:>9} {:>10} {:>10} {:>10} {:>10}",
        "segment", "rows", "positive", "model AUC", "rule AUC", "model LL", "base LL"
    );
    for segment in &evaluation.segments {
        let c: &Comparison = &segment.comparison;
        let _ = writeln!(
            out,
            "  {:<14} {:>7} {:>9} {:>10} {:>10} {:>10} {:>10}",
            segment.segment,
            count(c.rows),
            count(c.positives),
            number(c.model.roc_auc),
            number(c.rule.roc_auc),
            number(c.model.log_loss),
            number(c.base_rate.log_loss)
        );
    }
}

fn render_calibration(out: &mut String, model: &ScorerMetrics) {
    let Some(table) = &model.calibration else {
        return;
    };
    let _ = writeln!(
        out,
        "\n  {:<14} {:>7} {:>10} {:>10}",
        "calibration", "rows", "predicted", "observed"
    );
    for bin in table.bins.iter().filter(|b| b.count > 0) {
        let _ = writeln!(
            out,
            "  {:<14} {:>7} {:>10} {:>10}",
            format!("{:.1}-{:.1}", bin.lower, bin.upper),
            count(bin.count),
            number(bin.mean_predicted),
            number(bin.observed_rate)
        );
    }
}

/// Formats a count with thousands separators: 36765 -> "36,765".
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats a share as a percentage with one decimal: 0.052 -> "5.2%".
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Formats a number with three significant digits: 0.02288 -> "0.0229".
pub fn significant(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return value.to_string();
    }
    let digits = 2 - value.abs().log10().floor() as i32;
    format!("{:.*}", digits.max(0) as usize, value)
}

/// Formats a metric with three decimals, or "-" when undefined.
pub fn number(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |v| format!("{v:.3}"))
}
