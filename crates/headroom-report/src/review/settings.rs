//! The `[review]` section of `headroom.toml`.

use serde::{Deserialize, Serialize};

use super::ReviewError;

/// Settings of the monthly review. Every field has a default, so an absent
/// `[review]` section gives [`ReviewSettings::default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewSettings {
    /// Days (default 90): each outcome is compared with the latest score
    /// snapshot taken at least this long before it, the warning a team needs
    /// to act.
    pub lead_days: u32,
    /// Days (default 180): a snapshot taken longer than this before the
    /// outcome predicted another horizon, so the outcome stays unmatched.
    pub max_snapshot_age_days: u32,
    /// Minimum number of matched accounts (default 20) for the month's
    /// accuracy to count. Below it the recommendation is at least "watch",
    /// and with none at all it is "nothing to judge".
    pub min_accounts: usize,
    /// Minimum number of accounts of each class (default 5) for a ROC-AUC
    /// to be compared with the champion's held-out ROC-AUC.
    pub min_class_accounts: usize,
    /// ROC-AUC drop below the champion's held-out value (default 0.05) from
    /// which the recommendation is "watch".
    pub auc_drop_watch: f64,
    /// ROC-AUC drop below the champion's held-out value (default 0.10) from
    /// which the recommendation is "retrain".
    pub auc_drop_retrain: f64,
    /// Population stability index of a main input (default 0.10) from which
    /// the recommendation is "watch".
    pub psi_watch: f64,
    /// Population stability index of a main input (default 0.25) from which
    /// the recommendation is "retrain".
    pub psi_retrain: f64,
    /// Gap between the observed rate and the mean predicted probability of
    /// the matched accounts (default 0.10, in probability points) from which
    /// the recommendation is "watch".
    pub calibration_gap_watch: f64,
    /// Number of the champion's inputs, strongest first, whose drift counts
    /// and which the review lists as strongest predictors (default 10).
    pub main_inputs: usize,
}

impl ReviewSettings {
    /// Checks that every setting is in range.
    ///
    /// Fails with [`ReviewError::Setting`] naming the first setting out of
    /// range.
    pub fn check(&self) -> Result<(), ReviewError> {
        let invalid = |name, value: String, problem, hint| {
            Err(ReviewError::Setting {
                name,
                value,
                problem,
                hint,
            })
        };
        if self.max_snapshot_age_days < self.lead_days {
            return invalid(
                "max_snapshot_age_days",
                self.max_snapshot_age_days.to_string(),
                "is below lead_days, so no snapshot could ever match",
                "set it to at least lead_days, such as the model horizon of 180 days",
            );
        }
        for (name, value) in [
            ("auc_drop_watch", self.auc_drop_watch),
            ("auc_drop_retrain", self.auc_drop_retrain),
            ("psi_watch", self.psi_watch),
            ("psi_retrain", self.psi_retrain),
            ("calibration_gap_watch", self.calibration_gap_watch),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return invalid(
                    name,
                    value.to_string(),
                    "is not a positive number",
                    "give a positive level, or delete the key to use its default",
                );
            }
        }
        if self.auc_drop_retrain < self.auc_drop_watch {
            return invalid(
                "auc_drop_retrain",
                self.auc_drop_retrain.to_string(),
                "is below auc_drop_watch",
                "the retrain level must be at least the watch level",
            );
        }
        if self.psi_retrain < self.psi_watch {
            return invalid(
                "psi_retrain",
                self.psi_retrain.to_string(),
                "is below psi_watch",
                "the retrain level must be at least the watch level",
            );
        }
        if self.main_inputs == 0 {
            return invalid(
                "main_inputs",
                "0".to_string(),
                "is 0, so no input would be checked for drift",
                "give at least 1, such as the default 10",
            );
        }
        Ok(())
    }
}

impl Default for ReviewSettings {
    fn default() -> ReviewSettings {
        ReviewSettings {
            lead_days: 90,
            max_snapshot_age_days: 180,
            min_accounts: 20,
            min_class_accounts: 5,
            auc_drop_watch: 0.05,
            auc_drop_retrain: 0.10,
            psi_watch: 0.10,
            psi_retrain: 0.25,
            calibration_gap_watch: 0.10,
            main_inputs: 10,
        }
    }
}
