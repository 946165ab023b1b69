//! The review's recommendation, keep, watch or retrain, and the criteria that
//! pick it.
//!
//! Each criterion compares one number of the month with a watch level and,
//! for some, a retrain level. The recommendation is the most severe action any
//! criterion reaches: retrain when one reaches its retrain level, else watch
//! when one reaches its watch level, else keep. A month without a single
//! outcome matched with a score has nothing to judge and recommends nothing.

use std::fmt;

use headroom_model::ModelKind;
use serde::{Deserialize, Serialize};

use super::ReviewSettings;
use super::accuracy::KindReview;
use super::drift::DriftReview;

/// The rule as printed with every recommendation.
pub const RULE: &str = "retrain when any criterion reaches its retrain level, else watch when any reaches its watch level, else keep; a month without a matched account has nothing to judge";

/// The action to take with the champions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// No outcome of the month was matched with a score, so the month gives
    /// no evidence about the models.
    NothingToJudge,
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
            Action::NothingToJudge => "nothing to judge",
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
///
/// Without a matched account the month has nothing to judge: the
/// recommendation is [`Action::NothingToJudge`] with the sample-size
/// criterion alone, whatever the champions and the drift.
pub fn recommend(
    matched_accounts: usize,
    kinds: &[KindFacts<'_>],
    settings: &ReviewSettings,
) -> Recommendation {
    if matched_accounts == 0 {
        return Recommendation {
            action: Action::NothingToJudge,
            criteria: vec![sample_size(0, settings)],
            rule: RULE.to_string(),
        };
    }
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
        action: match (matched, enough) {
            (0, _) => Action::NothingToJudge,
            (_, true) => Action::Keep,
            (_, false) => Action::Watch,
        },
        detail: match (matched, enough) {
            (0, _) => "no outcome of the month is matched with a score snapshot, so nothing can be judged for this month".to_string(),
            (_, true) => format!("{matched} accounts matched with a snapshot"),
            (_, false) => format!(
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use headroom_model::ConfusionMatrix;

    use super::*;
    use crate::review::accuracy::{RuleReview, ScoreMetrics};
    use crate::review::drift::drift_review;

    /// A churn review of `scored` accounts, `positives` of them churned,
    /// with the given ROC-AUCs and calibration.
    fn review(
        scored: usize,
        positives: usize,
        auc: f64,
        rule_auc: f64,
        reference: f64,
    ) -> KindReview {
        KindReview {
            kind: ModelKind::Churn,
            accounts: scored,
            positives,
            confusion: ConfusionMatrix::default(),
            precision: None,
            recall: None,
            scores: ScoreMetrics {
                scored,
                positives,
                roc_auc: Some(auc),
                mean_predicted: Some(positives as f64 / scored as f64),
                observed_rate: Some(positives as f64 / scored as f64),
                ..ScoreMetrics::default()
            },
            reference_roc_auc: Some(reference),
            rule: RuleReview {
                column: "util_primary_3m".to_string(),
                threshold: 0.4,
                with_utilization: scored,
                confusion: ConfusionMatrix::default(),
                precision: None,
                recall: None,
                roc_auc: Some(rule_auc),
            },
            false_positives: Vec::new(),
            false_negatives: Vec::new(),
            segments: Vec::new(),
        }
    }

    fn drift(psi: f64) -> DriftReview {
        drift_review(
            ModelKind::Churn,
            "churn-1",
            NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
            100,
            vec![
                ("util_primary_3m".to_string(), psi),
                ("arr".to_string(), 0.9),
            ],
            &["util_primary_3m".to_string()],
        )
    }

    fn action(review: &KindReview, drift: Option<&DriftReview>) -> Action {
        let facts = [KindFacts {
            review,
            champion: Some("churn-1"),
            drift,
        }];
        recommend(review.accounts, &facts, &ReviewSettings::default()).action
    }

    fn criterion<'a>(recommendation: &'a Recommendation, name: &str) -> &'a Criterion {
        recommendation
            .criteria
            .iter()
            .find(|c| c.name == name)
            .expect("the criterion exists")
    }

    #[test]
    fn steady_month_is_keep() {
        let month = review(100, 15, 0.80, 0.70, 0.82);
        assert_eq!(action(&month, Some(&drift(0.02))), Action::Keep);
    }

    #[test]
    fn auc_drop_levels_pick_action() {
        // Levels and values that binary floating point holds exactly, so the
        // drops land on the levels: watch from 1/16, retrain from 1/8.
        let settings = ReviewSettings {
            auc_drop_watch: 0.0625,
            auc_drop_retrain: 0.125,
            ..ReviewSettings::default()
        };
        let cases = [
            (0.75, Action::Keep),
            (0.6875 + 0.015625, Action::Keep),
            (0.6875, Action::Watch),
            (0.625 + 0.015625, Action::Watch),
            (0.625, Action::Retrain),
        ];
        for (auc, expected) in cases {
            let month = review(100, 15, auc, 0.5, 0.75);
            let facts = [KindFacts {
                review: &month,
                champion: Some("churn-1"),
                drift: None,
            }];
            let found = recommend(100, &facts, &settings).action;
            assert_eq!(found, expected, "ROC-AUC {auc}");
        }
    }

    #[test]
    fn auc_drop_needs_both_classes() {
        // 4 churned accounts are fewer than the default 5 per class.
        let month = review(100, 4, 0.50, 0.40, 0.82);
        let facts = [KindFacts {
            review: &month,
            champion: Some("churn-1"),
            drift: None,
        }];
        let recommendation = recommend(100, &facts, &ReviewSettings::default());
        let drop = criterion(&recommendation, "churn ROC-AUC drop");
        assert_eq!(drop.value, None);
        assert_eq!(drop.action, Action::Keep);
        assert_eq!(recommendation.action, Action::Keep);
    }

    #[test]
    fn rule_beating_model_is_watch() {
        let month = review(100, 15, 0.80, 0.81, 0.82);
        assert_eq!(action(&month, None), Action::Watch);
    }

    #[test]
    fn main_input_drift_picks_action() {
        let month = review(100, 15, 0.80, 0.70, 0.82);
        // The unlisted input arr drifts by 0.9 and is ignored: only main
        // inputs count.
        assert_eq!(action(&month, Some(&drift(0.09))), Action::Keep);
        assert_eq!(action(&month, Some(&drift(0.10))), Action::Watch);
        assert_eq!(action(&month, Some(&drift(0.25))), Action::Retrain);
    }

    #[test]
    fn calibration_gap_is_watch() {
        let mut month = review(100, 15, 0.80, 0.70, 0.82);
        // 15% churned against a mean probability of 3%: a gap of 0.12.
        month.scores.mean_predicted = Some(0.03);
        let facts = [KindFacts {
            review: &month,
            champion: Some("churn-1"),
            drift: None,
        }];
        let recommendation = recommend(100, &facts, &ReviewSettings::default());
        let gap = criterion(
            &recommendation,
            "churn calibration gap (observed rate minus mean probability)",
        );
        assert!((gap.value.unwrap() - 0.12).abs() < 1e-12);
        assert_eq!(gap.action, Action::Watch);
        assert_eq!(recommendation.action, Action::Watch);
    }

    #[test]
    fn small_month_is_watch() {
        let month = review(19, 6, 0.80, 0.70, 0.82);
        assert_eq!(action(&month, None), Action::Watch);
    }

    #[test]
    fn month_without_matches_has_nothing_to_judge() {
        // No account matched, no champion and a drifted input: each would
        // call for retraining in a judged month.
        let month = review(0, 0, 0.5, 0.5, 0.82);
        let drifted = drift(0.40);
        let facts = [KindFacts {
            review: &month,
            champion: None,
            drift: Some(&drifted),
        }];
        let recommendation = recommend(0, &facts, &ReviewSettings::default());
        assert_eq!(recommendation.action, Action::NothingToJudge);
        assert_eq!(recommendation.criteria.len(), 1);
        let sample = &recommendation.criteria[0];
        assert_eq!(sample.value, Some(0.0));
        assert_eq!(sample.action, Action::NothingToJudge);
        assert!(
            sample.detail.contains("nothing can be judged"),
            "{}",
            sample.detail
        );
    }

    #[test]
    fn missing_champion_is_retrain() {
        let month = review(100, 15, 0.80, 0.70, 0.82);
        let facts = [KindFacts {
            review: &month,
            champion: None,
            drift: None,
        }];
        let recommendation = recommend(100, &facts, &ReviewSettings::default());
        assert_eq!(recommendation.action, Action::Retrain);
        assert_eq!(recommendation.rule, RULE);
    }
}
