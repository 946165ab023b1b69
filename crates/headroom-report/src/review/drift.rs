//! Drift of a champion's inputs since training: the population stability
//! index (PSI) of each input, over the accounts active at the end of the
//! review month, against the training distribution stored with the model.

use chrono::NaiveDate;
use headroom_model::ModelKind;
use serde::{Deserialize, Serialize};

/// The PSI of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputDrift {
    /// The model input.
    pub feature: String,
    /// The population stability index against training.
    pub psi: f64,
    /// Whether the input feeds one of the champion's strongest predictors.
    pub main: bool,
}

/// The drift of one champion's inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReview {
    /// Churn or expansion.
    pub kind: ModelKind,
    /// The champion's version.
    pub version: String,
    /// The date the current inputs were computed as of: the review month's
    /// last day.
    pub as_of: NaiveDate,
    /// Accounts active then.
    pub accounts: usize,
    /// Every input the model uses, highest PSI first.
    pub inputs: Vec<InputDrift>,
    /// Inputs left out because the model dropped them at training (constant
    /// or always missing then).
    pub unused_inputs: usize,
    /// The highest PSI among the main inputs.
    pub max_main_psi: Option<f64>,
}

/// Builds the drift review from the PSI of each input, marking the inputs in
/// `main` and ordering by PSI, highest first.
pub fn drift_review(
    kind: ModelKind,
    version: &str,
    as_of: NaiveDate,
    accounts: usize,
    psi: Vec<(String, f64)>,
    main: &[String],
) -> DriftReview {
    let mut inputs: Vec<InputDrift> = psi
        .into_iter()
        .map(|(feature, psi)| InputDrift {
            main: main.contains(&feature),
            feature,
            psi,
        })
        .collect();
    inputs.sort_by(|a, b| {
        b.psi
            .total_cmp(&a.psi)
            .then_with(|| a.feature.cmp(&b.feature))
    });
    let max_main_psi = inputs
        .iter()
        .filter(|i| i.main)
        .map(|i| i.psi)
        .reduce(f64::max);
    DriftReview {
        kind,
        version: version.to_string(),
        as_of,
        accounts,
        inputs,
        unused_inputs: 0,
        max_main_psi,
    }
}

/// Names the usual reading of a PSI value: below 0.1 stable, 0.1 to 0.25 a
/// moderate shift, from 0.25 a major shift.
pub fn psi_level(psi: f64) -> &'static str {
    if psi < 0.10 {
        "stable"
    } else if psi < 0.25 {
        "moderate shift"
    } else {
        "major shift"
    }
}
