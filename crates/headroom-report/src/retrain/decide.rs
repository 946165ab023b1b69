//! The champion-challenger rule and the registry entries it writes.
//!
//! Both models are scored on the same comparison months. The challenger is
//! promoted only when its mean log loss beats the champion's by at least
//! `min_log_loss_gain` and its ROC-AUC trails by no more than
//! `auc_tolerance`. Either way the decision is logged with both sets of
//! metrics.

use chrono::{DateTime, NaiveDate, Utc};
use headroom_model::evaluate::Evaluation;
use headroom_store::{Decision, DecisionRequest, ModelKind, NewModel, Store};
use serde::{Deserialize, Serialize};

use super::{RetrainError, RetrainSettings};

/// One model's metrics on the comparison months.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowMetrics {
    /// The model version.
    pub version: String,
    /// First comparison month-end.
    pub first: NaiveDate,
    /// Last comparison month-end.
    pub last: NaiveDate,
    /// Observations scored (account month-ends).
    pub rows: usize,
    /// Observations with the positive outcome.
    pub positives: usize,
    /// ROC-AUC.
    pub roc_auc: Option<f64>,
    /// Mean log loss.
    pub log_loss: Option<f64>,
    /// Brier score.
    pub brier: Option<f64>,
    /// Whether the model trained on observations inside the window, which
    /// favors it.
    pub trained_on_window: bool,
}

impl WindowMetrics {
    /// Takes the model's metrics from an evaluation over the window.
    pub fn from_evaluation(
        version: &str,
        first: NaiveDate,
        last: NaiveDate,
        evaluation: &Evaluation,
        trained_on_window: bool,
    ) -> WindowMetrics {
        let overall = &evaluation.overall;
        WindowMetrics {
            version: version.to_string(),
            first,
            last,
            rows: overall.rows,
            positives: overall.positives,
            roc_auc: overall.model.roc_auc,
            log_loss: overall.model.log_loss,
            brier: overall.model.brier,
            trained_on_window,
        }
    }

    /// Returns the metrics as the JSON a registry decision records.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("window metrics serialize")
    }
}

/// The outcome of the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "lowercase")]
pub enum Verdict {
    /// The challenger becomes champion, for the reason given.
    Promote(String),
    /// The challenger stays out, for the reason given.
    Reject(String),
}

impl Verdict {
    /// Returns the reason in words.
    pub fn reason(&self) -> &str {
        match self {
            Verdict::Promote(reason) | Verdict::Reject(reason) => reason,
        }
    }
}

/// Applies the rule to the challenger's and the champion's metrics on the
/// same months; without a champion the challenger is promoted.
///
/// Fails with [`RetrainError::NoComparison`] when either model lacks a log
/// loss or a ROC-AUC on the window (no rows, or one class only).
pub fn decide(
    kind: ModelKind,
    challenger: &WindowMetrics,
    champion: Option<&WindowMetrics>,
    settings: &RetrainSettings,
) -> Result<Verdict, RetrainError> {
    let Some(champion) = champion else {
        return Ok(Verdict::Promote(format!(
            "no {kind} champion: the challenger is the first model compared"
        )));
    };
    let (challenger_loss, challenger_auc) = measured(kind, challenger)?;
    let (champion_loss, champion_auc) = measured(kind, champion)?;

    let gain = champion_loss - challenger_loss;
    let auc_gap = champion_auc - challenger_auc;
    // A required gain of 0 accepts any improvement, and a positive one must
    // be reached.
    let loss_better = match settings.min_log_loss_gain {
        0.0 => gain > 0.0,
        required => gain >= required,
    };
    let auc_within = auc_gap <= settings.auc_tolerance;
    let facts = format!(
        "log loss {challenger_loss:.4} against {champion_loss:.4}, ROC-AUC {challenger_auc:.4} against {champion_auc:.4} on {} to {}",
        challenger.first, challenger.last
    );

    let verdict = match (loss_better, auc_within) {
        (true, true) => Verdict::Promote(format!("the challenger is better: {facts}")),
        (false, _) => Verdict::Reject(format!(
            "the challenger's log loss is not better by the required {}: {facts}",
            settings.min_log_loss_gain
        )),
        (true, false) => Verdict::Reject(format!(
            "the challenger's ROC-AUC trails by {auc_gap:.4}, more than the tolerance {}: {facts}",
            settings.auc_tolerance
        )),
    };
    Ok(verdict)
}

fn measured(kind: ModelKind, metrics: &WindowMetrics) -> Result<(f64, f64), RetrainError> {
    match (metrics.log_loss, metrics.roc_auc) {
        (Some(loss), Some(auc)) => Ok((loss, auc)),
        _ => Err(RetrainError::NoComparison {
            kind: kind.as_str(),
            reason: format!(
                "model {} has no log loss or ROC-AUC on {} to {} ({} rows, {} positive)",
                metrics.version, metrics.first, metrics.last, metrics.rows, metrics.positives
            ),
            hint: "compare on more months ([model] holdout_months), or wait for outcomes of both classes",
        }),
    }
}

/// The registry entries `record` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The rule's outcome.
    pub verdict: Verdict,
    /// The logged decision.
    pub decision: Decision,
}

/// Registers the challenger, applies the rule and logs the decision with
/// both models' metrics on the window, all after the store's flush.
///
/// Fails when the challenger's version is registered with other content, or
/// when the rule cannot compare the models.
pub fn record(
    store: &Store,
    challenger: NewModel,
    challenger_metrics: &WindowMetrics,
    champion_metrics: Option<&WindowMetrics>,
    settings: &RetrainSettings,
    at: DateTime<Utc>,
) -> Result<Recorded, RetrainError> {
    let kind = challenger.kind;
    let verdict = decide(kind, challenger_metrics, champion_metrics, settings)?;
    let registered = store.register_model(challenger)?;

    let request = DecisionRequest {
        reason: verdict.reason().to_string(),
        at,
        metrics: Some(challenger_metrics.to_json()),
        champion_metrics: champion_metrics.map(WindowMetrics::to_json),
    };
    let decision = match &verdict {
        Verdict::Promote(_) => store.promote(kind, &registered.version, request)?,
        Verdict::Reject(_) => store.reject(kind, &registered.version, request)?,
    };
    Ok(Recorded { verdict, decision })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(version: &str, log_loss: f64, roc_auc: f64) -> WindowMetrics {
        WindowMetrics {
            version: version.to_string(),
            first: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            last: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            rows: 1200,
            positives: 90,
            roc_auc: Some(roc_auc),
            log_loss: Some(log_loss),
            brier: Some(0.06),
            trained_on_window: false,
        }
    }

    fn verdict(challenger: (f64, f64), champion: (f64, f64)) -> Verdict {
        decide(
            ModelKind::Churn,
            &metrics("new", challenger.0, challenger.1),
            Some(&metrics("old", champion.0, champion.1)),
            &RetrainSettings::default(),
        )
        .unwrap()
    }

    #[test]
    fn better_log_loss_and_auc_promotes() {
        assert!(matches!(
            verdict((0.20, 0.80), (0.22, 0.78)),
            Verdict::Promote(_)
        ));
    }

    #[test]
    fn auc_within_tolerance_promotes() {
        // ROC-AUC 0.005 lower is inside the default tolerance of 0.01.
        assert!(matches!(
            verdict((0.20, 0.775), (0.22, 0.78)),
            Verdict::Promote(_)
        ));
    }

    #[test]
    fn auc_beyond_tolerance_rejects() {
        // 0.02 lower is beyond 0.01, although the log loss is better.
        let found = verdict((0.20, 0.76), (0.22, 0.78));
        assert!(matches!(found, Verdict::Reject(_)), "{found:?}");
        assert!(found.reason().contains("trails by 0.0200"), "{found:?}");
    }

    #[test]
    fn equal_log_loss_rejects() {
        let found = verdict((0.22, 0.85), (0.22, 0.78));
        assert!(matches!(found, Verdict::Reject(_)), "{found:?}");
        assert!(
            found.reason().contains("log loss is not better"),
            "{found:?}"
        );
    }

    #[test]
    fn worse_log_loss_rejects() {
        assert!(matches!(
            verdict((0.25, 0.85), (0.22, 0.78)),
            Verdict::Reject(_)
        ));
    }

    #[test]
    fn required_gain_must_be_reached() {
        let settings = RetrainSettings {
            min_log_loss_gain: 0.01,
            ..RetrainSettings::default()
        };
        let decide_gain = |challenger_loss: f64| {
            decide(
                ModelKind::Churn,
                &metrics("new", challenger_loss, 0.8),
                Some(&metrics("old", 0.25, 0.8)),
                &settings,
            )
            .unwrap()
        };
        // 0.25 - 0.245 = 0.005 falls short of 0.01; 0.25 - 0.2 = 0.05 does not.
        assert!(matches!(decide_gain(0.245), Verdict::Reject(_)));
        assert!(matches!(decide_gain(0.2), Verdict::Promote(_)));
    }

    #[test]
    fn first_model_promotes() {
        let found = decide(
            ModelKind::Expansion,
            &metrics("new", 0.3, 0.7),
            None,
            &RetrainSettings::default(),
        )
        .unwrap();
        assert!(matches!(found, Verdict::Promote(_)));
        assert!(
            found.reason().contains("no expansion champion"),
            "{found:?}"
        );
    }

    #[test]
    fn missing_auc_cannot_compare() {
        let mut champion = metrics("old", 0.22, 0.78);
        champion.roc_auc = None;
        let err = decide(
            ModelKind::Churn,
            &metrics("new", 0.2, 0.8),
            Some(&champion),
            &RetrainSettings::default(),
        )
        .unwrap_err();
        assert!(matches!(err, RetrainError::NoComparison { .. }), "{err}");
    }
}
