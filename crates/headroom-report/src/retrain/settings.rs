//! The `[retrain]` section of `headroom.toml`.

use serde::{Deserialize, Serialize};

use super::RetrainError;

/// Settings of the champion-challenger comparison. Every field has a default,
/// so an absent `[retrain]` section gives [`RetrainSettings::default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrainSettings {
    /// ROC-AUC points (default 0.01) by which the challenger may trail the
    /// champion on the comparison months and still be promoted.
    pub auc_tolerance: f64,
    /// Mean log loss (default 0, in nats per row) by which the challenger
    /// must beat the champion on the comparison months. With 0, any
    /// improvement counts.
    pub min_log_loss_gain: f64,
}

impl Default for RetrainSettings {
    fn default() -> RetrainSettings {
        RetrainSettings {
            auc_tolerance: 0.01,
            min_log_loss_gain: 0.0,
        }
    }
}

impl RetrainSettings {
    /// Checks that both settings are finite and not negative.
    ///
    /// Fails with [`RetrainError::Setting`] naming the first bad setting.
    pub fn check(&self) -> Result<(), RetrainError> {
        for (name, value) in [
            ("auc_tolerance", self.auc_tolerance),
            ("min_log_loss_gain", self.min_log_loss_gain),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(RetrainError::Setting {
                    name,
                    value: value.to_string(),
                });
            }
        }
        Ok(())
    }
}
