//! The `[priority]` section: flag thresholds, how ARR at risk and expansion
//! value combine into one priority, and how urgency rises toward renewal.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{check_at_least, check_share, invalid};
use crate::error::ReportError;

const SECTION: &str = "priority";

/// Settings of flags and priorities. An absent `[priority]` section gives
/// [`PrioritySettings::default`].
///
/// priority = urgency x (ARR at risk + expansion_weight x expansion value),
/// where urgency is 1 from `urgency_days` or more before renewal and rises
/// linearly to `max_urgency` on the renewal date (and stays there after it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrioritySettings {
    /// Churn probability at or above which an account is flagged (default:
    /// none, which uses the threshold stored with the churn model).
    pub churn_threshold: Option<f64>,
    /// Expansion probability at or above which an account is flagged
    /// (default: none, which uses the threshold stored with the model).
    pub expansion_threshold: Option<f64>,
    /// Weight of expansion value against ARR at risk (default 0.5: keeping
    /// ARR comes first, and the expansion estimate is a projection).
    pub expansion_weight: f64,
    /// Days before renewal from which urgency starts to rise (default 180).
    pub urgency_days: u32,
    /// Urgency on and after the renewal date (default 2.0; 1.0 turns urgency off).
    pub max_urgency: f64,
    /// Months ahead the expansion estimate projects usage at most (default
    /// 12): a renewal further out is estimated at this horizon.
    pub max_projection_months: u32,
    /// Without a churn model: share of ARR counted at risk for an account in
    /// the at-risk segment or with a usage drop (default 1.0).
    pub rules_at_risk_weight: f64,
    /// Without a churn model: share of ARR counted at risk for an account on
    /// watch (default 0.5).
    pub rules_watch_weight: f64,
    /// Held-out ROC-AUC below which the report calls a model weak (default 0.6).
    pub weak_model_auc: f64,
    /// Reasons kept per model and account (default 3).
    pub reasons: usize,
    /// Accounts in the top list (default 10; `--top` overrides it).
    pub top: usize,
}

impl Default for PrioritySettings {
    fn default() -> PrioritySettings {
        PrioritySettings {
            churn_threshold: None,
            expansion_threshold: None,
            expansion_weight: 0.5,
            urgency_days: 180,
            max_urgency: 2.0,
            max_projection_months: 12,
            rules_at_risk_weight: 1.0,
            rules_watch_weight: 0.5,
            weak_model_auc: 0.6,
            reasons: 3,
            top: 10,
        }
    }
}

impl PrioritySettings {
    /// Checks every value's range.
    ///
    /// Fails with [`ReportError::InvalidSetting`] naming the key.
    pub fn validate(&self, path: &Path) -> Result<(), ReportError> {
        for (key, value) in [
            ("churn_threshold", self.churn_threshold),
            ("expansion_threshold", self.expansion_threshold),
        ] {
            if let Some(value) = value {
                check_share(path, SECTION, key, value, 0.0, 1.0)?;
            }
        }
        check_share(
            path,
            SECTION,
            "expansion_weight",
            self.expansion_weight,
            0.0,
            10.0,
        )?;
        check_share(
            path,
            SECTION,
            "rules_at_risk_weight",
            self.rules_at_risk_weight,
            0.0,
            1.0,
        )?;
        check_share(
            path,
            SECTION,
            "rules_watch_weight",
            self.rules_watch_weight,
            0.0,
            1.0,
        )?;
        check_share(
            path,
            SECTION,
            "weak_model_auc",
            self.weak_model_auc,
            0.5,
            1.0,
        )?;
        check_at_least(
            path,
            SECTION,
            "urgency_days",
            self.urgency_days.into(),
            1,
            "days",
        )?;
        check_at_least(
            path,
            SECTION,
            "max_projection_months",
            self.max_projection_months.into(),
            1,
            "months",
        )?;
        check_at_least(path, SECTION, "reasons", self.reasons as u64, 1, "reasons")?;
        check_at_least(path, SECTION, "top", self.top as u64, 1, "accounts")?;
        if !(self.max_urgency.is_finite() && self.max_urgency >= 1.0) {
            return Err(invalid(
                path,
                SECTION,
                "max_urgency",
                self.max_urgency,
                "must be 1.0 or more",
                "urgency multiplies priority: 1.0 ignores the renewal date, 2.0 doubles the priority at renewal",
            ));
        }
        Ok(())
    }

    /// Computes the urgency multiplier for an account `days_to_renewal` days before its
    /// renewal (negative after it, unknown when `None`, which counts as far).
    pub fn urgency(&self, days_to_renewal: Option<f64>) -> f64 {
        let Some(days) = days_to_renewal else {
            return 1.0;
        };
        let window = f64::from(self.urgency_days);
        let closeness = ((window - days) / window).clamp(0.0, 1.0);
        1.0 + (self.max_urgency - 1.0) * closeness
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgency_rises_linearly_toward_renewal() {
        let settings = PrioritySettings::default();
        // 1 + (2 - 1) * (180 - d) / 180, clamped to [1, 2].
        assert_eq!(settings.urgency(Some(365.0)), 1.0);
        assert_eq!(settings.urgency(Some(180.0)), 1.0);
        assert!((settings.urgency(Some(45.0)) - 1.75).abs() < 1e-12);
        assert_eq!(settings.urgency(Some(0.0)), 2.0);
        assert_eq!(settings.urgency(Some(-10.0)), 2.0);
        assert_eq!(settings.urgency(None), 1.0);
    }

    #[test]
    fn probability_threshold_above_one_is_rejected() {
        let settings = PrioritySettings {
            churn_threshold: Some(1.5),
            ..PrioritySettings::default()
        };
        let err = settings.validate(Path::new("headroom.toml")).unwrap_err();
        assert!(matches!(
            err,
            ReportError::InvalidSetting(ref issue) if issue.section == "priority" && issue.key == "churn_threshold"
        ));
    }

    #[test]
    fn urgency_below_one_is_rejected() {
        let settings = PrioritySettings {
            max_urgency: 0.5,
            ..PrioritySettings::default()
        };
        let err = settings.validate(Path::new("headroom.toml")).unwrap_err();
        assert!(matches!(
            err,
            ReportError::InvalidSetting(ref issue) if issue.key == "max_urgency"
        ));
    }

    #[test]
    fn zero_top_is_rejected() {
        let settings = PrioritySettings {
            top: 0,
            ..PrioritySettings::default()
        };
        assert!(settings.validate(Path::new("headroom.toml")).is_err());
    }
}
