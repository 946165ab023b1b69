//! Every parameter of the simulator, with its default, and the switches that turn
//! each mechanism on or off.
//!
//! A config file is TOML with the same keys; keys it leaves out keep their
//! defaults (`headroom sim --print-config` prints them all). Probabilities are
//! per contract term unless the name says per month.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::calendar::YearMonth;
use crate::catalog::{Plan, Segment};
use crate::error::SimError;

/// The time grain of the usage table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    /// One row per account, metric and month, dated on the month's last day.
    #[default]
    Month,
    /// One row per account, metric and day; the days roll up to the monthly values.
    Day,
}

/// The full simulator configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Number of accounts, existing and new, including the few whose contract
    /// ends before the window opens. Default 2000.
    pub accounts: u64,
    /// Number of months of usage. Default 36.
    pub months: u32,
    /// First month of usage. Default 2023-11, so 36 months end in 2026-10.
    pub start: YearMonth,
    /// Seed of every random draw: the same seed and config give the same bytes. Default 7.
    pub seed: u64,
    /// Usage grain. Default month.
    pub grain: Grain,
    /// Horizon of the true churn and expansion probabilities, in days. Default 180.
    pub horizon_days: u32,
    /// Whether some EMEA contracts are in EUR or GBP instead of USD. Default false.
    pub currencies: bool,
    /// Share of accounts that join during the window; the others are customers
    /// already when it starts. Default 0.35.
    pub new_account_share: f64,
    /// Maximum tenure, in months, of an account that is a customer when the
    /// window starts. Default 72.
    pub max_tenure_months: u32,
    /// Accounts per calibration sample and segment (see `calibrate`). Default 2000.
    pub calibration_accounts: u32,
    /// Switches of the mechanisms.
    pub mechanisms: Mechanisms,
    /// Segment mix, sizes, contract terms and target rates.
    pub segments: Segments,
    /// Usage levels and limits.
    pub usage: UsageParams,
    /// Onboarding and feature adoption.
    pub adoption: AdoptionParams,
    /// Weights of the observable traits in the decline and growth hazards.
    pub risk: RiskParams,
    /// Decline before churn.
    pub decline: DeclineParams,
    /// Growth toward and past limits.
    pub growth: GrowthParams,
    /// Renewal outcomes of accounts in steady use.
    pub renewal: RenewalParams,
    /// Churn that usage does not announce.
    pub signal_free: SignalFreeParams,
    /// Customer-success interventions.
    pub interventions: InterventionParams,
    /// Month-of-year patterns.
    pub seasonality: SeasonalityParams,
}

/// Switches for each mechanism; all default to on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mechanisms {
    /// Usage ramps up after onboarding and features are adopted over the first months.
    pub adoption: bool,
    /// Month-to-month noise on every metric.
    pub noise: bool,
    /// Industry month-of-year patterns.
    pub seasonality: bool,
    /// Gradual decline or sudden drop in the months before a renewal, which
    /// makes churn likely.
    pub decline: bool,
    /// Usage growth toward and past the limits, which makes expansion likely.
    pub growth: bool,
    /// Some entitled features are never adopted, which raises the risk of decline.
    pub unused_features: bool,
    /// Churn at renewal that no usage signal announces (budget cuts, acquisitions).
    pub signal_free_churn: bool,
    /// CS interventions on declining accounts, which lower the odds of churn.
    pub interventions: bool,
    /// Seat purchases during a term once usage has passed the seat limit.
    pub mid_term_expansion: bool,
}

impl Default for Mechanisms {
    fn default() -> Mechanisms {
        Mechanisms {
            adoption: true,
            noise: true,
            seasonality: true,
            decline: true,
            growth: true,
            unused_features: true,
            signal_free_churn: true,
            interventions: true,
            mid_term_expansion: true,
        }
    }
}

impl Mechanisms {
    /// The mechanism names accepted by `set` and by `headroom sim --without`.
    pub const NAMES: [&'static str; 9] = [
        "adoption",
        "noise",
        "seasonality",
        "decline",
        "growth",
        "unused_features",
        "signal_free_churn",
        "interventions",
        "mid_term_expansion",
    ];

    /// Turns a mechanism on or off by name.
    ///
    /// Fails when the name is not one of `NAMES`.
    pub fn set(&mut self, name: &str, on: bool) -> Result<(), SimError> {
        let switch = match name {
            "adoption" => &mut self.adoption,
            "noise" => &mut self.noise,
            "seasonality" => &mut self.seasonality,
            "decline" => &mut self.decline,
            "growth" => &mut self.growth,
            "unused_features" => &mut self.unused_features,
            "signal_free_churn" => &mut self.signal_free_churn,
            "interventions" => &mut self.interventions,
            "mid_term_expansion" => &mut self.mid_term_expansion,
            _ => {
                return Err(SimError::InvalidSetting {
                    key: "mechanisms".to_string(),
                    value: name.to_string(),
                    expected: format!("name one of: {}", Mechanisms::NAMES.join(", ")),
                });
            }
        };
        *switch = on;
        Ok(())
    }
}

/// Parameters of the three segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segments {
    /// Large companies.
    pub enterprise: SegmentParams,
    /// Mid-sized companies.
    #[serde(rename = "mid-market")]
    pub mid_market: SegmentParams,
    /// Small businesses.
    pub smb: SegmentParams,
}

impl Segments {
    /// Returns the parameters of one segment.
    pub fn get(&self, segment: Segment) -> &SegmentParams {
        match segment {
            Segment::Enterprise => &self.enterprise,
            Segment::MidMarket => &self.mid_market,
            Segment::Smb => &self.smb,
        }
    }
}

impl Default for Segments {
    fn default() -> Segments {
        Segments {
            enterprise: SegmentParams {
                share: 0.12,
                churn_per_term: 0.07,
                expansion_per_term: 0.30,
                seats_median: 300.0,
                seats_spread: 0.6,
                noise: 0.04,
                term_months: vec![12, 24, 36],
                term_weights: vec![0.4, 0.3, 0.3],
                plan_weights: [0.0, 0.3, 0.7],
                auto_renew_share: 0.2,
            },
            mid_market: SegmentParams {
                share: 0.33,
                churn_per_term: 0.11,
                expansion_per_term: 0.22,
                seats_median: 50.0,
                seats_spread: 0.55,
                noise: 0.06,
                term_months: vec![12, 24, 36],
                term_weights: vec![0.7, 0.2, 0.1],
                plan_weights: [0.15, 0.7, 0.15],
                auto_renew_share: 0.5,
            },
            smb: SegmentParams {
                share: 0.55,
                churn_per_term: 0.18,
                expansion_per_term: 0.12,
                seats_median: 8.0,
                seats_spread: 0.5,
                noise: 0.09,
                term_months: vec![12, 24],
                term_weights: vec![0.9, 0.1],
                plan_weights: [0.75, 0.25, 0.0],
                auto_renew_share: 0.85,
            },
        }
    }
}

/// Parameters of one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentParams {
    /// Share of accounts in the segment; the three shares sum to 1.
    pub share: f64,
    /// Share of the contract terms due to end inside the window that end in
    /// churn, all causes together. The simulator calibrates the decline hazard
    /// so that the expected share is this.
    pub churn_per_term: f64,
    /// Share of those terms with at least one expansion, at renewal or mid-term.
    /// The simulator calibrates the growth hazard so that the expected share is this.
    pub expansion_per_term: f64,
    /// Median seats of a first contract.
    pub seats_median: f64,
    /// Standard deviation of the log of seats.
    pub seats_spread: f64,
    /// Standard deviation of the monthly log-noise on active users.
    pub noise: f64,
    /// Contract term lengths, in months (12 to 60).
    pub term_months: Vec<u32>,
    /// Relative weight of each term length.
    pub term_weights: Vec<f64>,
    /// Relative weights of the starter, growth and enterprise plans.
    pub plan_weights: [f64; 3],
    /// Share of contracts that renew automatically (recorded only, no effect on outcomes).
    pub auto_renew_share: f64,
}

/// Usage levels and the limits they are measured against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageParams {
    /// Mean of the account's steady seat utilization (active users / seats).
    pub level_mean: f64,
    /// Standard deviation of the steady seat utilization across accounts.
    pub level_sd: f64,
    /// Bounds of the steady seat utilization.
    pub level_bounds: [f64; 2],
    /// Median of API calls per active user as a share of the plan's calls per seat.
    pub api_ratio_median: f64,
    /// Standard deviation of the log of that ratio.
    pub api_ratio_spread: f64,
    /// Storage used at onboarding, as a share of the storage limit (uniform range).
    pub storage_start: [f64; 2],
    /// Storage the account tends toward, as a share of the limit (uniform range);
    /// above 1 the account ends up over its storage limit.
    pub storage_target: [f64; 2],
    /// Share of the gap to the storage target closed each month (uniform range).
    pub storage_pace: [f64; 2],
}

impl Default for UsageParams {
    fn default() -> UsageParams {
        UsageParams {
            level_mean: 0.65,
            level_sd: 0.15,
            level_bounds: [0.15, 0.97],
            api_ratio_median: 0.6,
            api_ratio_spread: 0.35,
            storage_start: [0.1, 0.4],
            storage_target: [0.5, 1.15],
            storage_pace: [0.02, 0.08],
        }
    }
}

/// Onboarding ramp and feature adoption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdoptionParams {
    /// Usage in the first month as a share of the steady level (uniform range).
    pub ramp_start: [f64; 2],
    /// Time constant of the ramp toward the steady level, in months (uniform range).
    pub ramp_months: [f64; 2],
    /// Log-odds that an entitled feature is ever adopted, at the mean utilization.
    pub feature_logit: f64,
    /// Change of those log-odds per standard deviation of utilization.
    pub feature_level_weight: f64,
    /// Mean months from onboarding to a feature's first use (geometric).
    pub feature_delay_months: f64,
}

impl Default for AdoptionParams {
    fn default() -> AdoptionParams {
        AdoptionParams {
            ramp_start: [0.1, 0.35],
            ramp_months: [1.0, 3.0],
            feature_logit: 1.3,
            feature_level_weight: 1.0,
            feature_delay_months: 2.0,
        }
    }
}

/// Weights of the observable traits in the decline and growth hazards.
///
/// The decline hazard is multiplied by `exp(-level_weight * z + unused_feature_weight * u)`
/// and the growth hazard by `exp(growth_level_weight * z - growth_adoption_weight * u)`,
/// where `z` is the account's steady utilization in standard deviations from the
/// mean and `u = (never-adopted share - 0.25) / 0.25`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskParams {
    /// Weight of low utilization in the decline hazard.
    pub level_weight: f64,
    /// Weight of never-adopted features in the decline hazard.
    pub unused_feature_weight: f64,
    /// Weight of high utilization in the growth hazard.
    pub growth_level_weight: f64,
    /// Weight of adopted features in the growth hazard.
    pub growth_adoption_weight: f64,
}

impl Default for RiskParams {
    fn default() -> RiskParams {
        RiskParams {
            level_weight: 0.7,
            unused_feature_weight: 0.6,
            growth_level_weight: 0.5,
            growth_adoption_weight: 0.4,
        }
    }
}

/// Decline before churn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineParams {
    /// Months before the renewal in which a gradual decline can start (inclusive),
    /// so a gradual decline runs 3 to 9 months before the renewal by default.
    pub gradual_window: [u32; 2],
    /// Months before the renewal in which a sudden drop can happen (inclusive).
    pub sudden_window: [u32; 2],
    /// Share of declines that are sudden drops.
    pub sudden_share: f64,
    /// Probability that an account still in gradual decline churns at renewal.
    pub gradual_churn: f64,
    /// Probability that an account after a sudden drop churns at renewal.
    pub sudden_churn: f64,
    /// Usage at the end of a gradual decline as a share of the level (uniform range).
    pub gradual_floor: [f64; 2],
    /// Months a gradual decline takes to reach its floor (uniform integer range).
    pub gradual_months: [u32; 2],
    /// Usage after a sudden drop as a share of the level (uniform range).
    pub sudden_floor: [f64; 2],
    /// Probability that a declining account that renews cuts its seats.
    pub contraction: f64,
    /// Months usage takes to return to the level after a declining or growing
    /// account renews with the same seats.
    pub recovery_months: u32,
}

impl Default for DeclineParams {
    fn default() -> DeclineParams {
        DeclineParams {
            gradual_window: [3, 9],
            sudden_window: [1, 3],
            sudden_share: 0.25,
            gradual_churn: 0.7,
            sudden_churn: 0.85,
            gradual_floor: [0.2, 0.45],
            gradual_months: [3, 9],
            sudden_floor: [0.15, 0.4],
            contraction: 0.6,
            recovery_months: 3,
        }
    }
}

/// Growth toward and past the seat limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrowthParams {
    /// Monthly growth of usage once growth starts (uniform range).
    pub rate: [f64; 2],
    /// Highest seat utilization growth reaches (seats are a soft limit).
    pub cap: f64,
    /// Seat utilization at which a growing account expands at renewal with probability 0.5.
    pub renewal_midpoint: f64,
    /// Slope of the logistic curve of that probability in utilization.
    pub renewal_slope: f64,
    /// Monthly probability of a mid-term seat purchase once utilization is at or above 1.
    pub mid_term_monthly: f64,
}

impl Default for GrowthParams {
    fn default() -> GrowthParams {
        GrowthParams {
            rate: [0.03, 0.08],
            cap: 1.4,
            renewal_midpoint: 0.9,
            renewal_slope: 12.0,
            mid_term_monthly: 0.25,
        }
    }
}

/// Renewal outcomes of accounts that are neither declining nor growing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalParams {
    /// Probability that a steady account expands at renewal (a new team, a new use).
    pub steady_expansion: f64,
    /// Probability that a steady account cuts seats at renewal.
    pub steady_contraction: f64,
    /// Seat multiplier of a steady account's expansion (uniform range).
    pub expansion_seats: [f64; 2],
    /// Seat multiplier of a steady account's contraction (uniform range).
    pub contraction_seats: [f64; 2],
}

impl Default for RenewalParams {
    fn default() -> RenewalParams {
        RenewalParams {
            steady_expansion: 0.04,
            steady_contraction: 0.04,
            expansion_seats: [1.15, 1.5],
            contraction_seats: [0.7, 0.9],
        }
    }
}

/// Churn without a usage signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalFreeParams {
    /// Share of all churns that no usage signal announces. Every contract term,
    /// whatever its usage, ends in such a churn with probability
    /// `share * churn_per_term`.
    pub share: f64,
    /// Share of those churns that end the contract mid-term (the customer was
    /// acquired or closed) instead of at the renewal (a budget cut). Mid-term
    /// ones happen with the same hazard in every month but the renewal month.
    pub mid_term_share: f64,
}

impl Default for SignalFreeParams {
    fn default() -> SignalFreeParams {
        SignalFreeParams {
            share: 0.35,
            mid_term_share: 0.6,
        }
    }
}

/// Customer-success interventions on declining accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterventionParams {
    /// Monthly probability that CS logs an intervention on an account that has
    /// been declining for at least a month, within `window_months` of its renewal.
    pub monthly: f64,
    /// Months before the renewal in which CS intervenes.
    pub window_months: u32,
    /// Odds ratio of churn at renewal for a declining account with an intervention
    /// in the term: 0.45 turns a churn probability of 0.7 into 0.51.
    pub odds_ratio: f64,
}

impl Default for InterventionParams {
    fn default() -> InterventionParams {
        InterventionParams {
            monthly: 0.15,
            window_months: 6,
            odds_ratio: 0.45,
        }
    }
}

/// Month-of-year patterns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeasonalityParams {
    /// Account multiplier of its industry's pattern (uniform range).
    pub amplitude: [f64; 2],
}

impl Default for SeasonalityParams {
    fn default() -> SeasonalityParams {
        SeasonalityParams {
            amplitude: [0.6, 1.4],
        }
    }
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            accounts: 2000,
            months: 36,
            start: YearMonth::new(2023, 11).expect("2023-11 is a valid month"),
            seed: 7,
            grain: Grain::Month,
            horizon_days: 180,
            currencies: false,
            new_account_share: 0.35,
            max_tenure_months: 72,
            calibration_accounts: 2000,
            mechanisms: Mechanisms::default(),
            segments: Segments::default(),
            usage: UsageParams::default(),
            adoption: AdoptionParams::default(),
            risk: RiskParams::default(),
            decline: DeclineParams::default(),
            growth: GrowthParams::default(),
            renewal: RenewalParams::default(),
            signal_free: SignalFreeParams::default(),
            interventions: InterventionParams::default(),
            seasonality: SeasonalityParams::default(),
        }
    }
}

impl SimConfig {
    /// Reads a TOML config file over the defaults and validates the result.
    ///
    /// Fails when the file cannot be read, is not TOML, has unknown keys or
    /// values of the wrong type, or sets a value out of range.
    pub fn from_toml_file(path: &Path) -> Result<SimConfig, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        SimConfig::from_toml_str(&text, path)
    }

    /// Parses TOML text over the defaults and validates the result; `path` is
    /// used in error messages.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<SimConfig, SimError> {
        let config_error = |message: String| SimError::Config {
            path: path.to_path_buf(),
            message,
        };
        let overrides: toml::Table = text
            .parse()
            .map_err(|err: toml::de::Error| config_error(err.message().to_string()))?;

        let mut merged = toml::Table::try_from(SimConfig::default())
            .expect("the default config serializes to TOML");
        merge_tables(&mut merged, overrides);

        let config: SimConfig = toml::Value::Table(merged)
            .try_into()
            .map_err(|err: toml::de::Error| config_error(err.message().to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Returns the config as TOML text, every key with its value.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("the config serializes to TOML")
    }

    /// Checks every value against its range.
    ///
    /// Fails on the first value out of range, naming its key.
    pub fn validate(&self) -> Result<(), SimError> {
        self.validate_portfolio()?;
        self.validate_segments()?;
        self.validate_usage()?;
        self.validate_dynamics()
    }

    /// Returns the probability that a contract term of the segment ends in signal-free
    /// churn, mid-term or at the renewal.
    pub fn signal_free_churn(&self, segment: Segment) -> f64 {
        if !self.mechanisms.signal_free_churn {
            return 0.0;
        }
        self.signal_free.share * self.segments.get(segment).churn_per_term
    }

    fn validate_portfolio(&self) -> Result<(), SimError> {
        check_between("accounts", self.accounts as f64, 1.0, 100_000_000.0)?;
        check_between("months", f64::from(self.months), 1.0, 600.0)?;
        check_between("horizon_days", f64::from(self.horizon_days), 28.0, 1830.0)?;
        check_probability("new_account_share", self.new_account_share)?;
        check_between(
            "max_tenure_months",
            f64::from(self.max_tenure_months),
            1.0,
            600.0,
        )?;
        check_between(
            "calibration_accounts",
            f64::from(self.calibration_accounts),
            10.0,
            100_000.0,
        )?;
        let last = self.start.add_months(self.months as i32 - 1);
        if last.year() > 9000 {
            return Err(invalid(
                "months",
                self.months,
                "end the window before the year 9000",
            ));
        }
        Ok(())
    }

    fn validate_segments(&self) -> Result<(), SimError> {
        let total: f64 = Segment::ALL
            .iter()
            .map(|segment| self.segments.get(*segment).share)
            .sum();
        if (total - 1.0).abs() > 1e-6 {
            return Err(invalid(
                "segments.*.share",
                total,
                "make the three segment shares sum to 1",
            ));
        }
        for segment in Segment::ALL {
            self.segments
                .get(segment)
                .validate(&format!("segments.{}", segment.name()))?;
            let signal_free = self.signal_free_churn(segment);
            if signal_free >= 1.0 {
                return Err(invalid(
                    "signal_free.share",
                    self.signal_free.share,
                    "use a share between 0 and 1",
                ));
            }
        }
        Ok(())
    }

    fn validate_usage(&self) -> Result<(), SimError> {
        let usage = &self.usage;
        check_between("usage.level_mean", usage.level_mean, 0.05, 1.0)?;
        check_between("usage.level_sd", usage.level_sd, 0.0, 1.0)?;
        check_range("usage.level_bounds", usage.level_bounds, 0.01, 1.0)?;
        check_between("usage.api_ratio_median", usage.api_ratio_median, 0.0, 10.0)?;
        check_between("usage.api_ratio_spread", usage.api_ratio_spread, 0.0, 3.0)?;
        check_range("usage.storage_start", usage.storage_start, 0.0, 2.0)?;
        check_range("usage.storage_target", usage.storage_target, 0.0, 3.0)?;
        check_range("usage.storage_pace", usage.storage_pace, 0.0, 1.0)?;

        let adoption = &self.adoption;
        check_range("adoption.ramp_start", adoption.ramp_start, 0.0, 1.0)?;
        check_range("adoption.ramp_months", adoption.ramp_months, 0.1, 60.0)?;
        check_between(
            "adoption.feature_logit",
            adoption.feature_logit,
            -20.0,
            20.0,
        )?;
        check_between(
            "adoption.feature_level_weight",
            adoption.feature_level_weight,
            -10.0,
            10.0,
        )?;
        check_between(
            "adoption.feature_delay_months",
            adoption.feature_delay_months,
            0.0,
            60.0,
        )?;
        check_range(
            "seasonality.amplitude",
            self.seasonality.amplitude,
            0.0,
            2.5,
        )
    }

    fn validate_dynamics(&self) -> Result<(), SimError> {
        let risk = &self.risk;
        check_between("risk.level_weight", risk.level_weight, -5.0, 5.0)?;
        check_between(
            "risk.unused_feature_weight",
            risk.unused_feature_weight,
            -5.0,
            5.0,
        )?;
        check_between(
            "risk.growth_level_weight",
            risk.growth_level_weight,
            -5.0,
            5.0,
        )?;
        check_between(
            "risk.growth_adoption_weight",
            risk.growth_adoption_weight,
            -5.0,
            5.0,
        )?;

        self.validate_decline()?;

        let growth = &self.growth;
        check_range("growth.rate", growth.rate, 0.0, 1.0)?;
        check_between("growth.cap", growth.cap, 1.0, 5.0)?;
        check_between("growth.renewal_midpoint", growth.renewal_midpoint, 0.0, 5.0)?;
        check_between("growth.renewal_slope", growth.renewal_slope, 0.0, 100.0)?;
        check_probability("growth.mid_term_monthly", growth.mid_term_monthly)?;

        let renewal = &self.renewal;
        check_probability("renewal.steady_expansion", renewal.steady_expansion)?;
        check_probability("renewal.steady_contraction", renewal.steady_contraction)?;
        if renewal.steady_expansion + renewal.steady_contraction > 1.0 {
            return Err(invalid(
                "renewal.steady_contraction",
                renewal.steady_contraction,
                "keep steady_expansion + steady_contraction at most 1",
            ));
        }
        check_range(
            "renewal.expansion_seats",
            renewal.expansion_seats,
            1.0,
            10.0,
        )?;
        check_range(
            "renewal.contraction_seats",
            renewal.contraction_seats,
            0.01,
            1.0,
        )?;

        check_probability("signal_free.share", self.signal_free.share)?;
        check_probability(
            "signal_free.mid_term_share",
            self.signal_free.mid_term_share,
        )?;
        check_probability("interventions.monthly", self.interventions.monthly)?;
        check_between(
            "interventions.window_months",
            f64::from(self.interventions.window_months),
            1.0,
            60.0,
        )?;
        check_between(
            "interventions.odds_ratio",
            self.interventions.odds_ratio,
            0.0,
            100.0,
        )
    }

    fn validate_decline(&self) -> Result<(), SimError> {
        let decline = &self.decline;
        check_window("decline.gradual_window", decline.gradual_window)?;
        check_window("decline.sudden_window", decline.sudden_window)?;
        check_probability("decline.sudden_share", decline.sudden_share)?;
        check_probability("decline.gradual_churn", decline.gradual_churn)?;
        check_probability("decline.sudden_churn", decline.sudden_churn)?;
        check_range("decline.gradual_floor", decline.gradual_floor, 0.0, 1.0)?;
        check_window("decline.gradual_months", decline.gradual_months)?;
        check_range("decline.sudden_floor", decline.sudden_floor, 0.0, 1.0)?;
        check_probability("decline.contraction", decline.contraction)?;
        check_between(
            "decline.recovery_months",
            f64::from(decline.recovery_months),
            1.0,
            60.0,
        )?;

        let shortest_term = Segment::ALL
            .iter()
            .flat_map(|segment| self.segments.get(*segment).term_months.iter().copied())
            .min()
            .unwrap_or(12);
        let latest_start = decline.gradual_window[1].max(decline.sudden_window[1]);
        if latest_start >= shortest_term {
            return Err(invalid(
                "decline.gradual_window",
                format!("{:?}", decline.gradual_window),
                &format!(
                    "open the decline windows less than {shortest_term} months (the shortest term) before the renewal"
                ),
            ));
        }
        Ok(())
    }
}

impl SegmentParams {
    /// Returns the plan weights as `(plan, weight)` pairs.
    pub fn plans(&self) -> [(Plan, f64); 3] {
        [
            (Plan::Starter, self.plan_weights[0]),
            (Plan::Growth, self.plan_weights[1]),
            (Plan::Enterprise, self.plan_weights[2]),
        ]
    }

    fn validate(&self, prefix: &str) -> Result<(), SimError> {
        let key = |name: &str| format!("{prefix}.{name}");
        check_probability(&key("share"), self.share)?;
        check_between(&key("churn_per_term"), self.churn_per_term, 0.0, 0.95)?;
        check_between(
            &key("expansion_per_term"),
            self.expansion_per_term,
            0.0,
            0.95,
        )?;
        check_between(&key("seats_median"), self.seats_median, 1.0, 1_000_000.0)?;
        check_between(&key("seats_spread"), self.seats_spread, 0.0, 3.0)?;
        check_between(&key("noise"), self.noise, 0.0, 2.0)?;

        if self.term_months.is_empty() || self.term_months.len() != self.term_weights.len() {
            return Err(invalid(
                &key("term_weights"),
                format!("{:?}", self.term_weights),
                "give one weight per entry of term_months",
            ));
        }
        for months in &self.term_months {
            check_between(&key("term_months"), f64::from(*months), 12.0, 60.0)?;
        }
        check_weights(&key("term_weights"), &self.term_weights)?;
        check_weights(&key("plan_weights"), &self.plan_weights)?;
        check_probability(&key("auto_renew_share"), self.auto_renew_share)
    }
}

/// Merges `overrides` into `base`: tables merge key by key, other values replace.
fn merge_tables(base: &mut toml::Table, overrides: toml::Table) {
    for (key, value) in overrides {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(override_table)) => {
                merge_tables(base_table, override_table);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn invalid(key: &str, value: impl ToString, expected: &str) -> SimError {
    SimError::InvalidSetting {
        key: key.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

fn check_between(key: &str, value: f64, min: f64, max: f64) -> Result<(), SimError> {
    if value.is_finite() && (min..=max).contains(&value) {
        return Ok(());
    }
    Err(invalid(
        key,
        value,
        &format!("use a value between {min} and {max}"),
    ))
}

fn check_probability(key: &str, value: f64) -> Result<(), SimError> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        return Ok(());
    }
    Err(invalid(key, value, "use a probability between 0 and 1"))
}

fn check_range(key: &str, range: [f64; 2], min: f64, max: f64) -> Result<(), SimError> {
    let [low, high] = range;
    let valid = low.is_finite() && high.is_finite() && min <= low && low <= high && high <= max;
    if valid {
        return Ok(());
    }
    Err(invalid(
        key,
        format!("[{low}, {high}]"),
        &format!("give [low, high] with {min} <= low <= high <= {max}"),
    ))
}

fn check_window(key: &str, window: [u32; 2]) -> Result<(), SimError> {
    let [first, last] = window;
    if 1 <= first && first <= last && last <= 60 {
        return Ok(());
    }
    Err(invalid(
        key,
        format!("[{first}, {last}]"),
        "give [first, last] months with 1 <= first <= last <= 60",
    ))
}

fn check_weights(key: &str, weights: &[f64]) -> Result<(), SimError> {
    let valid = weights.iter().all(|w| w.is_finite() && *w >= 0.0);
    let total: f64 = weights.iter().sum();
    if valid && total > 0.0 {
        return Ok(());
    }
    Err(invalid(
        key,
        format!("{weights:?}"),
        "use non-negative weights with a positive sum",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SimConfig, SimError> {
        SimConfig::from_toml_str(text, Path::new("sim.toml"))
    }

    #[test]
    fn defaults_are_valid() {
        SimConfig::default().validate().unwrap();
    }

    #[test]
    fn printed_defaults_parse_back_to_defaults() {
        let text = SimConfig::default().to_toml();
        assert_eq!(parse(&text).unwrap(), SimConfig::default());
    }

    #[test]
    fn partial_segment_keeps_other_defaults() {
        let config = parse("[segments.smb]\nchurn_per_term = 0.2\n").unwrap();
        assert_eq!(config.segments.smb.churn_per_term, 0.2);
        assert_eq!(config.segments.smb.seats_median, 8.0);
        assert_eq!(config.segments.enterprise, Segments::default().enterprise);
    }

    #[test]
    fn mechanism_switch_parses() {
        let config = parse("[mechanisms]\nseasonality = false\n").unwrap();
        assert!(!config.mechanisms.seasonality);
        assert!(config.mechanisms.decline);
    }

    #[test]
    fn unknown_key_is_rejected() {
        let err = parse("[decline]\ngradual_chrun = 0.5\n").unwrap_err();
        assert!(
            matches!(err, SimError::Config { ref message, .. } if message.contains("gradual_chrun")),
            "{err}"
        );
    }

    #[test]
    fn probability_above_one_names_key() {
        let err = parse("[segments.smb]\nchurn_per_term = 1.4\n").unwrap_err();
        assert!(
            matches!(err, SimError::InvalidSetting { ref key, ref value, .. }
                if key == "segments.smb.churn_per_term" && value == "1.4"),
            "{err}"
        );
    }

    #[test]
    fn shares_must_sum_to_one() {
        let err = parse("[segments.smb]\nshare = 0.7\n").unwrap_err();
        assert!(
            matches!(err, SimError::InvalidSetting { ref key, .. } if key == "segments.*.share"),
            "{err}"
        );
    }

    #[test]
    fn decline_window_must_fit_in_term() {
        let err = parse("[decline]\ngradual_window = [3, 12]\n").unwrap_err();
        assert!(
            matches!(err, SimError::InvalidSetting { ref key, .. } if key == "decline.gradual_window"),
            "{err}"
        );
    }

    #[test]
    fn term_weights_must_match_terms() {
        let err = parse("[segments.smb]\nterm_weights = [1.0]\n").unwrap_err();
        assert!(
            matches!(err, SimError::InvalidSetting { ref key, .. } if key == "segments.smb.term_weights"),
            "{err}"
        );
    }

    #[test]
    fn unknown_mechanism_lists_names() {
        let mut mechanisms = Mechanisms::default();
        let err = mechanisms.set("weather", false).unwrap_err();
        assert!(err.to_string().contains("signal_free_churn"), "{err}");
        mechanisms.set("growth", false).unwrap();
        assert!(!mechanisms.growth);
    }

    #[test]
    fn signal_free_churn_is_share_of_target() {
        let config = SimConfig::default();
        // 0.35 of smb's 0.18 churn per term.
        assert!((config.signal_free_churn(Segment::Smb) - 0.063).abs() < 1e-12);
    }
}
