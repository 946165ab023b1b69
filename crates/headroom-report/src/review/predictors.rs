//! The strongest predictors of a champion model: its model columns with the
//! largest standardized coefficients.

use headroom_model::{ModelArtifact, ModelKind, Term};
use serde::{Deserialize, Serialize};

/// One model column and its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predictor {
    /// The model column: a feature, `<feature>:missing`, a category input
    /// such as `segment=smb`, or a renewal-window interaction.
    pub column: String,
    /// The input feature the column comes from.
    pub feature: String,
    /// Whether the column is a missingness indicator.
    pub missing_indicator: bool,
    /// The coefficient on the standardized column: the change in log-odds
    /// for one training standard deviation.
    pub coefficient: f64,
    /// `exp(coefficient)`: the odds ratio for one standard deviation.
    pub odds_ratio: f64,
    /// The training mean of the column.
    pub training_mean: f64,
    /// The training standard deviation of the column.
    pub training_std: f64,
    /// The population stability index of the input feature in the review
    /// month, when the drift was computed.
    pub psi: Option<f64>,
}

/// The strongest predictors of one champion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChampionPredictors {
    /// Churn or expansion.
    pub kind: ModelKind,
    /// The champion's version.
    pub version: String,
    /// Its strongest model columns, largest absolute coefficient first.
    pub predictors: Vec<Predictor>,
}

/// Lists the `count` model columns with the largest absolute coefficients,
/// ties broken by column name.
pub fn strongest_predictors(artifact: &ModelArtifact, count: usize) -> Vec<Predictor> {
    let mut predictors: Vec<Predictor> = artifact
        .preprocessing
        .columns
        .iter()
        .zip(&artifact.coefficients)
        .map(|(column, &coefficient)| Predictor {
            column: column.name.clone(),
            feature: column.feature.clone(),
            missing_indicator: column.term == Term::Missing,
            coefficient,
            odds_ratio: coefficient.exp(),
            training_mean: column.mean,
            training_std: column.std,
            psi: None,
        })
        .collect();
    predictors.sort_by(|a, b| {
        b.coefficient
            .abs()
            .total_cmp(&a.coefficient.abs())
            .then_with(|| a.column.cmp(&b.column))
    });
    predictors.truncate(count);
    predictors
}

/// Describes a coefficient's direction for a model kind, such as "raises
/// churn risk".
pub fn direction(kind: ModelKind, coefficient: f64) -> &'static str {
    match (kind, coefficient >= 0.0) {
        (ModelKind::Churn, true) => "raises churn risk",
        (ModelKind::Churn, false) => "lowers churn risk",
        (ModelKind::Expansion, true) => "raises expansion odds",
        (ModelKind::Expansion, false) => "lowers expansion odds",
    }
}
