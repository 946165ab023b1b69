//! The review's recommendation, keep, watch or retrain, and the criteria that
//! pick it.
//!
//! Each criterion compares one number of the month with a watch level and,
//! for some, a retrain level. The recommendation is the most severe action any
//! criterion reaches: retrain when one reaches its retrain level, else watch
//! when one reaches its watch level, else keep.

use std::fmt;

use headroom_model::ModelKind;
use serde::{Deserialize, Serialize};

use super::ReviewSettings;
use super::accuracy::KindReview;
use super::drift::DriftReview;

/// The rule as printed with every recommendation.
pub const RULE: &str = "retrain when any criterion reaches its retrain level, else watch when any reaches its watch level, else keep";

/// The action to take with the champions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The models hold up: nothing to do.
    Keep,
    /// Something moved: look again next month.
    Watch,
    /// Run `headroom retrain`.
    Retrain,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Keep => "keep",
            Action::Watch => "watch",
            Action::Retrain => "retrain",
        })
    }
}

/// One criterion of the recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// The measured quantity.
    pub name: String,
    /// The month's value; `None` when it could not be measured.
    pub value: Option<f64>,
    /// The level from which the criterion calls for watching.
    pub watch_at: Option<f64>,
    /// The level from which the criterion calls for retraining.
    pub retrain_at: Option<f64>,
    /// The action the criterion calls for.
    pub action: Action,
    /// The criterion's finding in words.
    pub detail: String,
}

/// The recommendation and its criteria.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The most severe action any criterion calls for.
    pub action: Action,
    /// Every criterion, in a fixed order.
    pub criteria: Vec<Criterion>,
    /// The rule that turns criteria into the action.
    pub rule: String,
}

/// The facts of one model kind the criteria read.
pub struct KindFacts<'a> {
    /// The accuracy review.
    pub review: &'a KindReview,
    /// The champion's version; `None` without a champion.
    pub champion: Option<&'a str>,
    /// The input drift, when it was computed.
    pub drift: Option<&'a DriftReview>,
}

/// Applies the criteria to the month's reviews.
pub fn recommend(
    matched_accounts: usize,
    kinds: &[KindFacts<'_>],
    settings: &ReviewSettings,
) -> Recommendation {
    let mut criteria = vec![sample_size(matched_accounts, settings)];
    for facts in kinds {
        let kind = facts.review.kind.name();
        let Some(champion) = facts.champion else {
            criteria.push(Criterion {
                name: format!("{kind} champion"),
                value: None,
                watch_at: None,
                retrain_at: None,
                action: Action::Retrain,
                detail: format!("no {kind} champion: scoring uses the rules only; train a model"),
            });
            continue;
        };
        criteria.push(auc_drop(facts.review, champion, settings));
        criteria.push(model_versus_rule(facts.review, settings));
        criteria.push(input_drift(kind, facts.drift, settings));
        if facts.review.kind == ModelKind::Churn {
            criteria.push(calibration_gap(facts.review, settings));
        }
    }

    let action = criteria
        .iter()
        .map(|c| c.action)
        .max()
        .unwrap_or(Action::Keep);
    Recommendation {
        action,
        criteria,
        rule: RULE.to_string(),
    }
}

fn sample_size(matched: usize, settings: &ReviewSettings) -> Criterion {
    let enough = matched >= settings.min_accounts;
    Criterion {
        name: "matched accounts".to_string(),
        value: Some(matched as f64),
        watch_at: Some(settings.min_accounts as f64),
        retrain_at: None,
        action: if enough { Action::Keep } else { Action::Watch },
        detail: match enough {
            true => format!("{matched} accounts matched with a snapshot"),
            false => format!(
                "only {matched} accounts matched with a snapshot, fewer than {} to judge the month",
                settings.min_accounts
            ),
        },
    }
}

/// Returns whether the month has enough accounts of both classes to compare
/// a ROC-AUC.
fn enough_classes(review: &KindReview, settings: &ReviewSettings) -> bool {
    let positives = review.scores.positives;
    let negatives = review.scores.scored - positives;
    positives >= settings.min_class_accounts && negatives >= settings.min_class_accounts
}

fn auc_drop(review: &KindReview, champion: &str, settings: &ReviewSettings) -> Criterion {
    let kind = review.kind.name();
    let name = format!("{kind} ROC-AUC drop");
    let unmeasured = |detail: String| Criterion {
        name: name.clone(),
        value: None,
        watch_at: Some(settings.auc_drop_watch),
        retrain_at: Some(settings.auc_drop_retrain),
        action: Action::Keep,
        detail,
    };
    if !enough_classes(review, settings) {
        return unmeasured(format!(
            "not measured: {} {} and {} other scored accounts, fewer than {} of a class",
            review.scores.positives,
            review.kind.positive_class(),
            review.scores.scored - review.scores.positives,
            settings.min_class_accounts
        ));
    }
    let (Some(reference), Some(month)) = (review.reference_roc_auc, review.scores.roc_auc) else {
        return unmeasured(format!(
            "not measured: the {kind} champion {champion} has no held-out ROC-AUC"
        ));
    };

    let drop = reference - month;
    let action = if drop >= settings.auc_drop_retrain {
        Action::Retrain
    } else if drop >= settings.auc_drop_watch {
        Action::Watch
    } else {
        Action::Keep
    };
    Criterion {
        name,
        value: Some(drop),
        watch_at: Some(settings.auc_drop_watch),
        retrain_at: Some(settings.auc_drop_retrain),
        action,
        detail: format!(
            "ROC-AUC {month:.3} this month against {reference:.3} on the champion's held-out months"
        ),
    }
}

fn model_versus_rule(review: &KindReview, settings: &ReviewSettings) -> Criterion {
    let kind = review.kind.name();
    let name = format!("{kind} model ROC-AUC minus rule ROC-AUC");
    let measured = enough_classes(review, settings);
    match (measured, review.scores.roc_auc, review.rule.roc_auc) {
        (true, Some(model), Some(rule)) => {
            let margin = model - rule;
            Criterion {
                name,
                value: Some(margin),
                watch_at: Some(0.0),
                retrain_at: None,
                action: if margin < 0.0 {
                    Action::Watch
                } else {
                    Action::Keep
                },
                detail: match margin < 0.0 {
                    true => format!(
                        "the rule ranked the month's accounts better: {rule:.3} against {model:.3}"
                    ),
                    false => format!(
                        "the model ranked the month's accounts at least as well as the rule: {model:.3} against {rule:.3}"
                    ),
                },
            }
        }
        _ => Criterion {
            name,
            value: None,
            watch_at: Some(0.0),
            retrain_at: None,
            action: Action::Keep,
            detail: "not measured: too few accounts of a class, or no scores".to_string(),
        },
    }
}

fn input_drift(kind: &str, drift: Option<&DriftReview>, settings: &ReviewSettings) -> Criterion {
    let name = format!("{kind} input drift (max PSI of the main inputs)");
    let Some(max) = drift.and_then(|d| d.max_main_psi) else {
        return Criterion {
            name,
            value: None,
            watch_at: Some(settings.psi_watch),
            retrain_at: Some(settings.psi_retrain),
            action: Action::Keep,
            detail: "not measured: the champion stores no training profile of its inputs"
                .to_string(),
        };
    };
    let action = if max >= settings.psi_retrain {
        Action::Retrain
    } else if max >= settings.psi_watch {
        Action::Watch
    } else {
        Action::Keep
    };
    let feature = drift
        .and_then(|d| d.inputs.iter().find(|i| i.main))
        .map(|i| i.feature.clone())
        .unwrap_or_default();
    Criterion {
        name,
        value: Some(max),
        watch_at: Some(settings.psi_watch),
        retrain_at: Some(settings.psi_retrain),
        action,
        detail: format!("highest PSI {max:.3}, on {feature}"),
    }
}

fn calibration_gap(review: &KindReview, settings: &ReviewSettings) -> Criterion {
    let name = "churn calibration gap (observed rate minus mean probability)".to_string();
    let scores = &review.scores;
    match (scores.observed_rate, scores.mean_predicted) {
        (Some(observed), Some(predicted)) if scores.scored >= settings.min_accounts => {
            let gap = observed - predicted;
            Criterion {
                name,
                value: Some(gap),
                watch_at: Some(settings.calibration_gap_watch),
                retrain_at: None,
                action: if gap.abs() >= settings.calibration_gap_watch {
                    Action::Watch
                } else {
                    Action::Keep
                },
                detail: format!(
                    "{:.1}% of the scored accounts churned; the mean churn probability was {:.1}%",
                    100.0 * observed,
                    100.0 * predicted
                ),
            }
        }
        _ => Criterion {
            name,
            value: None,
            watch_at: Some(settings.calibration_gap_watch),
            retrain_at: None,
            action: Action::Keep,
            detail: format!(
                "not measured: {} scored accounts, fewer than {}",
                scores.scored, settings.min_accounts
            ),
        },
    }
}
