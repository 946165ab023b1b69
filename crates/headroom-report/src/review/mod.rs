//! The monthly accuracy review: the scores headroom gave each account a lead
//! time before its outcome, against what happened.
//!
//! For every account with an outcome in the month, the review takes the latest
//! score snapshot dated at least `lead_days` before the outcome. It then
//! reports, for churn and for expansion, the confusion matrix of the flags
//! given at the time, the false positives and negatives with the scores and
//! reasons of the time, the probability metrics and calibration, the
//! utilization rule side by side, and the same per customer segment. It adds
//! the drift of the champions' inputs since training, their strongest
//! predictors, the outcomes of flagged accounts with and without an
//! intervention (descriptive, not causal), how often the account notes'
//! expectations proved right, and a recommendation: keep, watch or retrain.

mod accuracy;
mod cohorts;
mod drift;
mod error;
mod expectations;
mod matching;
mod month;
mod predictors;
mod recommend;
pub mod render;
mod settings;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use headroom_data::Tables;
use headroom_features::FeatureOptions;
use headroom_model::{ModelArtifact, ModelConfig, ModelKind};
use headroom_store::Store;
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use crate::ledger::rows::{numbers, texts};
use crate::project::Project;

pub use accuracy::{KindReview, Miss, RuleReview, ScoreMetrics, SegmentReview};
pub use cohorts::{Cohort, InterventionCohorts, intervention_cohorts};
pub use drift::{DriftReview, InputDrift, drift_review, psi_level};
pub use error::ReviewError;
pub use expectations::{
    AccountEvents, ExpectationReview, ExpectationTally, NoteCheck, check_expectations, proved_right,
};
pub use matching::{Matching, ReviewRow, SnapshotUse, Unmatched, UnmatchedAccount, match_outcomes};
pub use month::{Month, MonthError};
pub use predictors::{ChampionPredictors, Predictor, direction, strongest_predictors};
pub use recommend::{Action, Criterion, KindFacts, RULE, Recommendation, recommend};
pub use settings::ReviewSettings;

/// The monthly review, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// The reviewed month.
    pub month: Month,
    /// The settings the review ran with.
    pub settings: ReviewSettings,
    /// Outcome records dated in the month.
    pub outcomes: usize,
    /// Outcome records per word.
    pub by_outcome: BTreeMap<String, usize>,
    /// Accounts with outcomes that were matched with a snapshot.
    pub matched_accounts: usize,
    /// Accounts with outcomes that were not, and why.
    pub unmatched: Vec<UnmatchedAccount>,
    /// The snapshots the outcomes were compared with.
    pub snapshots: Vec<SnapshotUse>,
    /// The churn review.
    pub churn: KindReview,
    /// The expansion review.
    pub expansion: KindReview,
    /// The current champion of each kind and its strongest predictors.
    pub champions: Vec<ChampionPredictors>,
    /// The input drift of each champion that stores a training profile.
    pub drift: Vec<DriftReview>,
    /// The reason drift is missing for a champion, one sentence each.
    pub drift_notes: Vec<String>,
    /// Outcomes of flagged accounts with and without an intervention.
    pub interventions: InterventionCohorts,
    /// Account notes whose expectations were checked.
    pub expectations: ExpectationReview,
    /// Keep, watch or retrain, with the criteria.
    pub recommendation: Recommendation,
}

/// The inputs of a review.
pub struct ReviewInput<'a> {
    /// The project's tables, with the ledger merged in.
    pub tables: &'a Tables,
    /// The project's store: snapshots, notes and the model registry.
    pub store: &'a Store,
    /// The month to review.
    pub month: Month,
    /// The `[review]` settings.
    pub settings: &'a ReviewSettings,
    /// The `[features]` settings, for the rule's utilization and the drift.
    pub features: &'a FeatureOptions,
    /// The utilization column of the rule baseline.
    pub rule_utilization: &'a str,
}

/// A champion read from the registry.
struct Champion {
    version: String,
    artifact: ModelArtifact,
}

impl Review {
    /// Returns the review of one kind.
    pub fn kind(&self, kind: ModelKind) -> &KindReview {
        match kind {
            ModelKind::Churn => &self.churn,
            ModelKind::Expansion => &self.expansion,
        }
    }
}

/// Reviews a month of a project, with the settings of its `headroom.toml`.
///
/// Fails when a setting is invalid, when the store or a champion cannot be
/// read, or when the features of a snapshot date cannot be computed.
pub fn review_project(project: &Project, month: Month) -> Result<Review, ReviewError> {
    let settings: ReviewSettings = project.config.section("review").map_err(config_error)?;
    let features: FeatureOptions = project.config.section("features").map_err(config_error)?;
    let model: ModelConfig = project.config.section("model").map_err(config_error)?;
    let input = ReviewInput {
        tables: &project.tables,
        store: &project.store,
        month,
        settings: &settings,
        features: &features,
        rule_utilization: &model.rule_utilization,
    };
    review_month(&input)
}

fn config_error(err: headroom_data::DataError) -> ReviewError {
    ReviewError::Config(Box::new(err))
}

/// Reviews one month.
///
/// Fails when a setting is invalid, when the store or a champion cannot be
/// read, or when the features of a snapshot date cannot be computed.
pub fn review_month(input: &ReviewInput<'_>) -> Result<Review, ReviewError> {
    let settings = input.settings;
    settings.check()?;

    let matching = match_outcomes(
        &input.tables.outcomes,
        input.store,
        input.month,
        settings.lead_days,
        settings.max_snapshot_age_days,
    )?;
    let utilization = utilization_at_snapshots(input, &matching.rows)?;
    let churn_champion = champion(input.store, ModelKind::Churn)?;
    let expansion_champion = champion(input.store, ModelKind::Expansion)?;

    let churn = accuracy::review_kind(
        ModelKind::Churn,
        &matching.rows,
        &utilization,
        input.rule_utilization,
        reference_auc(churn_champion.as_ref()),
    );
    let expansion = accuracy::review_kind(
        ModelKind::Expansion,
        &matching.rows,
        &utilization,
        input.rule_utilization,
        reference_auc(expansion_champion.as_ref()),
    );

    let champions: Vec<(ModelKind, &Champion)> = [
        (ModelKind::Churn, churn_champion.as_ref()),
        (ModelKind::Expansion, expansion_champion.as_ref()),
    ]
    .into_iter()
    .filter_map(|(kind, champion)| Some((kind, champion?)))
    .collect();
    let mut predictors: Vec<ChampionPredictors> = champions
        .iter()
        .map(|(kind, champion)| ChampionPredictors {
            kind: *kind,
            version: champion.version.clone(),
            predictors: strongest_predictors(&champion.artifact, settings.main_inputs),
        })
        .collect();
    let (drift, drift_notes) = champion_drift(input, &champions, &predictors)?;
    annotate_psi(&mut predictors, &drift);

    let interventions = intervention_cohorts(&matching.rows, &input.tables.interventions);
    let expectations = month_expectations(input, &matching)?;
    let recommendation = recommend(
        matching.rows.len(),
        &[
            KindFacts {
                review: &churn,
                champion: churn_champion.as_ref().map(|c| c.version.as_str()),
                drift: drift.iter().find(|d| d.kind == ModelKind::Churn),
            },
            KindFacts {
                review: &expansion,
                champion: expansion_champion.as_ref().map(|c| c.version.as_str()),
                drift: drift.iter().find(|d| d.kind == ModelKind::Expansion),
            },
        ],
        settings,
    );

    Ok(Review {
        month: input.month,
        settings: settings.clone(),
        outcomes: matching.outcomes,
        by_outcome: matching.by_outcome,
        matched_accounts: matching.rows.len(),
        unmatched: matching.unmatched,
        snapshots: matching.snapshots,
        churn,
        expansion,
        champions: predictors,
        drift,
        drift_notes,
        interventions,
        expectations,
        recommendation,
    })
}

/// Reads each matched account's utilization as of its snapshot date, NaN
/// when the account has none or the column does not exist.
fn utilization_at_snapshots(
    input: &ReviewInput<'_>,
    rows: &[ReviewRow],
) -> Result<Vec<f64>, ReviewError> {
    let mut dates: Vec<NaiveDate> = rows.iter().map(|r| r.as_of).collect();
    dates.sort();
    dates.dedup();

    let mut by_date: HashMap<NaiveDate, HashMap<String, f64>> = HashMap::new();
    for as_of in dates {
        let table = features_at(input, as_of)?;
        by_date.insert(as_of, column_by_account(&table, input.rule_utilization));
    }
    Ok(rows
        .iter()
        .map(|row| {
            by_date
                .get(&row.as_of)
                .and_then(|values| values.get(&row.account_id))
                .copied()
                .unwrap_or(f64::NAN)
        })
        .collect())
}

fn features_at(input: &ReviewInput<'_>, as_of: NaiveDate) -> Result<DataFrame, ReviewError> {
    headroom_features::features_with(input.tables, as_of, input.features)
        .map_err(|source| ReviewError::Features { as_of, source })
}

fn column_by_account(table: &DataFrame, column: &str) -> HashMap<String, f64> {
    let ids = texts(table, "account_id");
    let values = match table.column(column) {
        Ok(values) => match values.cast(&polars::prelude::DataType::Float64) {
            Ok(cast) => {
                let frame = DataFrame::new(table.height(), vec![cast.with_name("v".into())])
                    .expect("one column of the table's height");
                numbers(&frame, "v")
            }
            Err(_) => vec![None; table.height()],
        },
        Err(_) => vec![None; table.height()],
    };
    ids.into_iter()
        .zip(values)
        .filter_map(|(id, value)| Some((id?, value?)))
        .collect()
}

/// Reads the champion of a kind from the registry; `None` without one.
fn champion(store: &Store, kind: ModelKind) -> Result<Option<Champion>, ReviewError> {
    let Some(record) = store.champion(store_kind(kind))? else {
        return Ok(None);
    };
    let origin = store
        .path()
        .join(format!("{}:{}", kind.name(), record.version));
    let artifact = ModelArtifact::from_json(&record.artifact_json, &origin).map_err(|source| {
        ReviewError::Model {
            kind: kind.name(),
            version: record.version.clone(),
            source: Box::new(source),
        }
    })?;
    Ok(Some(Champion {
        version: record.version,
        artifact,
    }))
}

/// Maps the model crate's kind to the store's.
pub fn store_kind(kind: ModelKind) -> headroom_store::ModelKind {
    match kind {
        ModelKind::Churn => headroom_store::ModelKind::Churn,
        ModelKind::Expansion => headroom_store::ModelKind::Expansion,
    }
}

/// Returns the champion's ROC-AUC on its held-out months, when training
/// measured one.
fn reference_auc(champion: Option<&Champion>) -> Option<f64> {
    champion?.artifact.metrics.as_ref()?.overall.model.roc_auc
}

/// Computes the input drift of each champion, or a note on why it cannot:
/// the inputs of every account active on the month's last day against the
/// training profile stored in the champion's artifact.
fn champion_drift(
    input: &ReviewInput<'_>,
    champions: &[(ModelKind, &Champion)],
    predictors: &[ChampionPredictors],
) -> Result<(Vec<DriftReview>, Vec<String>), ReviewError> {
    let mut drift = Vec::new();
    let mut notes = Vec::new();
    if champions.is_empty() {
        return Ok((drift, notes));
    }
    let as_of = input.month.last_day();
    // A month without imported usage would read as zero usage for every
    // account, and its drift would be an artefact of the missing export.
    if let Err(missing) = headroom_features::check_usage_imported(input.tables, as_of) {
        let reason = missing.to_string();
        let reason = reason.lines().next().unwrap_or_default();
        for (kind, champion) in champions {
            notes.push(format!(
                "{} champion {}: drift not measured: {reason}",
                kind.name(),
                champion.version
            ));
        }
        return Ok((drift, notes));
    }
    let table = features_at(input, as_of)?;

    for (kind, champion) in champions {
        let Some(profile) = &champion.artifact.input_profile else {
            notes.push(format!(
                "{} champion {}: its artifact stores no training profile of its inputs (an artifact of format 1), so its drift cannot be computed",
                kind.name(),
                champion.version
            ));
            continue;
        };
        if table.height() == 0 {
            notes.push(format!(
                "{} champion {}: no account is active on {as_of}, so there is nothing to compare",
                kind.name(),
                champion.version
            ));
            continue;
        }
        let model_error = |source| ReviewError::Model {
            kind: kind.name(),
            version: champion.version.clone(),
            source: Box::new(source),
        };
        let matrix = champion
            .artifact
            .feature_matrix(&table)
            .map_err(model_error)?;
        let stability = profile.stability(&matrix).map_err(model_error)?;

        let main: Vec<String> = predictors
            .iter()
            .find(|p| p.kind == *kind)
            .map(|p| p.predictors.iter().map(|x| x.feature.clone()).collect())
            .unwrap_or_default();
        // Inputs without a model column were dropped at training (constant
        // or always missing), so their drift cannot move the scores.
        let used: HashSet<&str> = champion
            .artifact
            .preprocessing
            .columns
            .iter()
            .map(|column| column.feature.as_str())
            .collect();
        let (psi, unused): (Vec<_>, Vec<_>) = stability
            .into_iter()
            .map(|s| (s.feature, s.psi))
            .partition(|(feature, _)| used.contains(feature.as_str()));
        let mut review = drift_review(*kind, &champion.version, as_of, table.height(), psi, &main);
        review.unused_inputs = unused.len();
        drift.push(review);
    }
    Ok((drift, notes))
}

/// Copies each input's PSI onto the predictors that read it.
fn annotate_psi(predictors: &mut [ChampionPredictors], drift: &[DriftReview]) {
    for champion in predictors {
        let Some(review) = drift.iter().find(|d| d.kind == champion.kind) else {
            continue;
        };
        for predictor in &mut champion.predictors {
            predictor.psi = review
                .inputs
                .iter()
                .find(|i| i.feature == predictor.feature)
                .map(|i| i.psi);
        }
    }
}

fn month_expectations(
    input: &ReviewInput<'_>,
    matching: &Matching,
) -> Result<ExpectationReview, ReviewError> {
    let notes = input.store.notes()?;
    let mut accounts: Vec<AccountEvents<'_>> = matching
        .rows
        .iter()
        .map(|row| AccountEvents {
            account_id: &row.account_id,
            outcomes: &row.outcomes,
            outcome_date: row.outcome_date,
        })
        .collect();
    accounts.extend(matching.unmatched.iter().map(|account| AccountEvents {
        account_id: &account.account_id,
        outcomes: &account.outcomes,
        outcome_date: account.outcome_date,
    }));
    Ok(check_expectations(
        &accounts,
        &notes,
        input.settings.lead_days,
    ))
}

/// Writes the review as pretty JSON, for tooling.
pub fn to_json(review: &Review) -> String {
    serde_json::to_string_pretty(review).expect("a review serializes to JSON")
}

/// Returns the path of a review report inside a project's reports folder.
pub fn report_path(reports_dir: &Path, month: Month, extension: &str) -> std::path::PathBuf {
    reports_dir.join(format!("review-{month}.{extension}"))
}
