//! Settings of the modelling stage, read from the `[model]` section of a
//! project's `headroom.toml`.
//!
//! ```toml
//! [model]
//! horizon_days = 180
//! holdout_months = 6
//! penalties = [0.0001, 0.001, 0.01]
//! class_weight = "balanced"
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::folds::FoldParams;
use crate::logistic::{ClassWeight, DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE};
use crate::threshold::ThresholdRule;
use crate::train::{
    DEFAULT_FIT_ROWS, DEFAULT_INDICATOR_SHARE, DEFAULT_PENALTIES, DEFAULT_SELECTION_ROWS,
    SeparationPolicy, TrainParams,
};

/// Feature-table columns that get an interaction with the renewal window by
/// default. Outcomes mostly happen at a renewal, so a low or falling usage
/// means more when the renewal falls inside the horizon.
pub const DEFAULT_RENEWAL_INTERACTIONS: [&str; 11] = [
    "segment",
    "days_to_renewal",
    "util_primary",
    "util_primary_3m",
    "slope_3m",
    "pct_change_1m",
    "pct_change_3m",
    "drawdown_12m",
    "months_in_decline",
    "adoption_90d",
    "features_never_used",
];

/// Feature-table columns left out by default. Each grows with the length of
/// the exported history rather than with anything about the account: outcome
/// counts start at the first recorded outcome and history months at the
/// first exported month. A model trained on earlier month-ends would see
/// smaller values than it scores on later ones.
pub const DEFAULT_EXCLUDED_FEATURES: [&str; 6] = [
    "renewals",
    "expansions",
    "contractions",
    "history_months",
    "flag_short_history",
    "flag_seasonal_portfolio",
];

/// Settings of training, evaluation and backtests. Every field has a default,
/// so an absent `[model]` section gives [`ModelConfig::default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Days after an observation date in which an outcome counts for its
    /// label (default 180). A row observed at T is labelled by outcomes dated
    /// in (T + lead_days, T + horizon_days].
    pub horizon_days: u32,
    /// Days right after an observation date whose outcomes are too close to
    /// act on (default 0). A row with its event in that window is left out of
    /// that model's training set rather than labelled negative.
    pub lead_days: u32,
    /// Month-ends at the start of the data that are not used as observation
    /// dates (default 3), because trend features need a few months of usage.
    pub warmup_months: u32,
    /// Most recent labelled month-ends to train on (default: all of them).
    pub history_months: Option<u32>,
    /// Most recent labelled month-ends held out for evaluation (default 6; 0
    /// trains on everything and evaluates nothing). The evaluated model is
    /// fitted on rows whose horizon ends before the first held-out month-end.
    pub holdout_months: u32,
    /// Whether the saved model is refitted on every labelled row, with the
    /// threshold the held-out run chose and its penalty scaled to the rows
    /// (default true). When false, the saved model is the one that was
    /// evaluated.
    pub refit: bool,
    /// Whether the penalty the folds choose is scaled to the rows of the
    /// final fit (default true): a fixed prior on the coefficients means a
    /// penalty proportional to 1 / rows on the mean log loss, and the folds
    /// train on fewer rows than the final fit.
    pub scale_penalty: bool,
    /// Candidate L2 penalties on the mean log loss (default 1e-4 to 0.1 in
    /// half-decade steps). The folds pick one; a single value skips the
    /// penalty search.
    pub penalties: Vec<f64>,
    /// Weight of the rarer class: `"none"` (default), `"balanced"`, or an
    /// integer number of times each positive row counts.
    pub class_weight: ClassWeightSetting,
    /// How the decision threshold is chosen: `"max_f1"` (default) on the
    /// validation folds, a probability such as 0.3, or `{ flag_share = 0.1 }`
    /// to flag a fixed share of accounts.
    pub threshold: ThresholdSetting,
    /// Most training rows a validation fold fits on (default 50,000); a
    /// larger fold fits on every k-th row. 0 means no limit.
    pub selection_rows: usize,
    /// Maximum rows a model is fitted on (default 200,000). A larger training
    /// set fits on every k-th row of each class, so the base rate is kept.
    /// 0 means no limit.
    pub fit_rows: usize,
    /// The solver's iteration cap (default 500).
    pub max_iterations: u64,
    /// Gradient-norm tolerance of the solver (default 1e-5).
    pub tolerance: f64,
    /// Number of time-ordered validation folds (default 2).
    pub folds: usize,
    /// Month-ends in each validation fold (default 3).
    pub fold_months: usize,
    /// Fewest month-ends a fold trains on (default 3).
    pub min_train_months: usize,
    /// Whether a history too short for the folds uses fewer (default true):
    /// fewer folds down to one, then fewer month-ends per fold down to one.
    /// When not even one fold fits, the model takes the largest candidate
    /// penalty and chooses its threshold on the training rows, with a
    /// warning. False makes a short history an error.
    pub adapt_folds: bool,
    /// Share of missing training rows from which a feature gets a
    /// missingness indicator (default 0.05).
    pub indicator_min_share: f64,
    /// What to do when a feature separates the classes completely: `"warn"`
    /// (default) or `"reject"`.
    pub separation: SeparationPolicy,
    /// Feature-table columns to read (default: every feature and flag column
    /// of the catalogue the table has).
    pub features: Option<Vec<String>>,
    /// Feature-table columns never to read (default
    /// [`DEFAULT_EXCLUDED_FEATURES`]), for example a column that leaks the
    /// label.
    pub exclude_features: Vec<String>,
    /// Text columns turned into one 0/1 input per value seen in training
    /// (default `["segment"]`).
    pub categorical: Vec<String>,
    /// Columns multiplied by the renewal-window input `in_renewal_window`
    /// (1 when the renewal date is 1 to `horizon_days` days away). A
    /// categorical column here interacts through each of its 0/1 inputs. Default: see
    /// [`DEFAULT_RENEWAL_INTERACTIONS`]; an empty list also drops
    /// `in_renewal_window`.
    pub renewal_interactions: Vec<String>,
    /// Products of two inputs, each given as a pair of column names or
    /// categorical inputs such as `"segment=smb"` (default none).
    pub products: Vec<[String; 2]>,
    /// The utilization column the rule baseline reads (default
    /// `util_primary_3m`): churn below 40%, expansion above 85%.
    pub rule_utilization: String,
}

impl Default for ModelConfig {
    fn default() -> ModelConfig {
        let folds = FoldParams::default();
        ModelConfig {
            horizon_days: crate::train::DEFAULT_HORIZON_DAYS,
            lead_days: 0,
            warmup_months: 3,
            history_months: None,
            holdout_months: 6,
            refit: true,
            scale_penalty: true,
            penalties: DEFAULT_PENALTIES.to_vec(),
            class_weight: ClassWeightSetting::default(),
            threshold: ThresholdSetting::default(),
            selection_rows: DEFAULT_SELECTION_ROWS,
            fit_rows: DEFAULT_FIT_ROWS,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            tolerance: DEFAULT_TOLERANCE,
            folds: 2,
            fold_months: folds.validation_dates,
            min_train_months: folds.min_train_dates,
            adapt_folds: true,
            indicator_min_share: DEFAULT_INDICATOR_SHARE,
            separation: SeparationPolicy::Warn,
            features: None,
            exclude_features: DEFAULT_EXCLUDED_FEATURES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            categorical: vec!["segment".to_owned()],
            renewal_interactions: DEFAULT_RENEWAL_INTERACTIONS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            products: Vec::new(),
            rule_utilization: "util_primary_3m".to_owned(),
        }
    }
}

/// The `class_weight` setting as written in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClassWeightSetting {
    /// `"none"` or `"balanced"`.
    Named(ClassWeightName),
    /// The number of times each positive row counts.
    Positive(u32),
}

impl Default for ClassWeightSetting {
    fn default() -> ClassWeightSetting {
        ClassWeightSetting::Named(ClassWeightName::None)
    }
}

/// The named class weightings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassWeightName {
    /// Every row counts once.
    None,
    /// Rows of the rarer class count `round(n_common / n_rare)` times.
    Balanced,
}

impl ClassWeightSetting {
    /// Returns the solver's class weighting.
    pub fn class_weight(self) -> ClassWeight {
        match self {
            ClassWeightSetting::Named(ClassWeightName::None) => ClassWeight::Unweighted,
            ClassWeightSetting::Named(ClassWeightName::Balanced) => ClassWeight::Balanced,
            ClassWeightSetting::Positive(w) => ClassWeight::Positive(w),
        }
    }
}

/// The `threshold` setting as written in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ThresholdSetting {
    /// `"max_f1"`.
    Named(ThresholdName),
    /// A fixed probability.
    Fixed(f64),
    /// `{ flag_share = 0.1 }`.
    FlagShare {
        /// The share of validation rows to flag.
        flag_share: f64,
    },
}

/// The named threshold rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdName {
    /// The threshold with the highest F1 on the validation folds.
    MaxF1,
}

impl Default for ThresholdSetting {
    fn default() -> ThresholdSetting {
        ThresholdSetting::Named(ThresholdName::MaxF1)
    }
}

impl ThresholdSetting {
    /// Returns the threshold rule.
    pub fn rule(self) -> ThresholdRule {
        match self {
            ThresholdSetting::Named(ThresholdName::MaxF1) => ThresholdRule::MaxF1,
            ThresholdSetting::Fixed(t) => ThresholdRule::Fixed(t),
            ThresholdSetting::FlagShare { flag_share } => ThresholdRule::FlagShare(flag_share),
        }
    }
}

impl ModelConfig {
    /// Returns the checked training parameters these settings describe.
    ///
    /// Fails on a penalty that is not positive, an empty penalty list, a zero
    /// iteration cap, a tolerance that is not positive, a threshold outside
    /// [0, 1], fold settings that cannot work, or a horizon of zero days.
    pub fn train_params(&self) -> Result<crate::train::TrainValidParams> {
        use linfa::ParamGuard;

        self.check()?;
        TrainParams::default()
            .penalties(self.penalties.clone())
            .class_weight(self.class_weight.class_weight())
            .max_iterations(self.max_iterations)
            .tolerance(self.tolerance)
            .threshold(self.threshold.rule())
            .horizon_days(self.horizon_days)
            .folds(self.fold_params())
            .indicator_min_share(self.indicator_min_share)
            .separation(self.separation)
            .scale_penalty(self.scale_penalty)
            .adapt_folds(self.adapt_folds)
            .selection_rows(self.selection_rows)
            .fit_rows(self.fit_rows)
            .check()
    }

    /// Returns the validation fold settings: the gap between a fold's last
    /// training date and its first validation date is the horizon.
    pub fn fold_params(&self) -> FoldParams {
        FoldParams {
            n_folds: self.folds,
            validation_dates: self.fold_months,
            gap_days: i64::from(self.horizon_days),
            min_train_dates: self.min_train_months,
        }
    }

    /// Fails on settings that no training parameter checks: a zero horizon, a
    /// lead time not shorter than the horizon, or a zero history window.
    pub fn check(&self) -> Result<()> {
        let invalid = |name, value: u32, reason, hint| ModelError::InvalidSetting {
            name,
            value: value.to_string(),
            reason,
            hint,
        };
        if self.horizon_days == 0 {
            return Err(invalid(
                "horizon_days",
                0,
                "the label horizon must be at least one day",
                "use 180 (about six months)",
            ));
        }
        if self.lead_days >= self.horizon_days {
            return Err(invalid(
                "lead_days",
                self.lead_days,
                "the lead time must be shorter than the horizon, or no outcome can count",
                "use 0, or a lead time of a few weeks such as 30",
            ));
        }
        if self.history_months == Some(0) {
            return Err(invalid(
                "history_months",
                0,
                "the training window must hold at least one month-end",
                "leave it out to train on every labelled month-end",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use headroom_data::ProjectConfig;

    use super::*;

    fn parse(text: &str) -> std::result::Result<ModelConfig, headroom_data::DataError> {
        ProjectConfig::parse(text, None)?.section("model")
    }

    #[test]
    fn absent_section_gives_defaults() {
        let config = parse("[features]\ngrace_days = 10\n").unwrap();
        assert_eq!(config, ModelConfig::default());
        assert_eq!(config.horizon_days, 180);
        assert_eq!(config.holdout_months, 6);
        assert_eq!(config.class_weight.class_weight(), ClassWeight::Unweighted);
        assert_eq!(config.threshold.rule(), ThresholdRule::MaxF1);
    }

    #[test]
    fn settings_parse_from_toml() {
        let config = parse(
            "[model]\nhorizon_days = 90\nlead_days = 14\nhistory_months = 24\npenalties = [0.01]\nclass_weight = \"balanced\"\nthreshold = 0.3\n",
        )
        .unwrap();
        assert_eq!(config.horizon_days, 90);
        assert_eq!(config.lead_days, 14);
        assert_eq!(config.history_months, Some(24));
        assert_eq!(config.penalties, vec![0.01]);
        assert_eq!(config.class_weight.class_weight(), ClassWeight::Balanced);
        assert_eq!(config.threshold.rule(), ThresholdRule::Fixed(0.3));
    }

    #[test]
    fn integer_class_weight_weights_positives() {
        let config = parse("[model]\nclass_weight = 5\n").unwrap();
        assert_eq!(config.class_weight.class_weight(), ClassWeight::Positive(5));
    }

    #[test]
    fn flag_share_threshold_parses() {
        let config = parse("[model]\nthreshold = { flag_share = 0.1 }\n").unwrap();
        assert_eq!(config.threshold.rule(), ThresholdRule::FlagShare(0.1));
    }

    #[test]
    fn unknown_key_names_the_section() {
        let err = parse("[model]\nhorizon = 90\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("invalid config headroom.toml [model]: unknown field `horizon`"),
            "{text}"
        );
    }

    #[test]
    fn fold_gap_is_the_horizon() {
        let config = ModelConfig {
            horizon_days: 90,
            ..ModelConfig::default()
        };
        assert_eq!(config.fold_params().gap_days, 90);
        assert_eq!(config.train_params().unwrap().fold_params().gap_days, 90);
    }

    #[test]
    fn lead_time_must_be_shorter_than_horizon() {
        let config = ModelConfig {
            lead_days: 180,
            ..ModelConfig::default()
        };
        let err = config.check().unwrap_err();
        assert!(
            matches!(err, ModelError::InvalidSetting { name: "lead_days", ref value, .. } if value == "180"),
            "{err}"
        );
    }

    #[test]
    fn zero_history_window_is_rejected() {
        let config = ModelConfig {
            history_months: Some(0),
            ..ModelConfig::default()
        };
        let err = config.check().unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::InvalidSetting {
                    name: "history_months",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn zero_penalty_in_settings_is_rejected() {
        let config = ModelConfig {
            penalties: vec![0.01, 0.0],
            ..ModelConfig::default()
        };
        let err = config.train_params().unwrap_err();
        assert!(
            matches!(err, ModelError::NonPositivePenalty { value } if value == 0.0),
            "{err}"
        );
    }
}
