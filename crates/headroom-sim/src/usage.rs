//! Usage values: what each account's metrics show in a month given its traits,
//! seats and phase, and the split of a month into days.
//!
//! Active users are `seats * level * ramp * phase * season * noise`.
//!
//! - The onboarding ramp rises from `ramp_start` toward 1 with time constant
//!   `ramp_months`.
//! - The phase factor is 1 when steady. It falls linearly to the floor in a
//!   gradual decline, sits at the floor after a sudden drop, and grows by
//!   `growth_rate` a month in growth.
//! - The season factor is `1 + amplitude * industry pattern`.
//! - The noise is log-normal.
//!
//! API calls and feature uses follow active users with their own noise. Storage
//! moves toward a target share of its limit and shrinks slowly while the account
//! declines. None of these values feeds back into the outcomes.

use chrono::{Datelike, Weekday};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::calendar::YearMonth;
use crate::catalog::{Enforcement, Feature, Metric, MetricRollup};
use crate::config::SimConfig;
use crate::dynamics::{Phase, Rules};
use crate::profile::AccountProfile;

/// The most features a plan includes.
const MAX_FEATURES: usize = Feature::ALL.len();

/// Monthly storage shrink while an account declines.
const DECLINE_STORAGE_SHRINK: f64 = 0.02;

/// Usage moving back to the account's level after a renewal that ended a
/// decline or a growth phase without changing seats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settling {
    /// The phase factor at the renewal.
    pub from: f64,
    /// Month index of the renewal.
    pub month: i32,
}

/// The usage state carried from month to month.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageState {
    /// Gigabytes stored at the end of the previous month.
    pub storage_gb: f64,
    /// Usage moving back to the level after a renewal.
    pub settling: Option<Settling>,
    /// The phase factor of the previous month.
    pub last_phase_factor: f64,
    /// The last storage value written (for the daily split).
    pub last_storage_value: Option<f64>,
}

impl UsageState {
    /// Creates the state at the start of month `month` for an account with `seats` seats,
    /// storage having moved toward its target since the account joined.
    pub fn new(profile: &AccountProfile, seats: f64, month: i32) -> UsageState {
        let limit = storage_limit(profile, seats);
        let months = f64::from((month - profile.joined).max(0));
        let start = profile.storage_start * limit;
        let target = profile.storage_target * limit;
        let storage_gb = target - (target - start) * (1.0 - profile.storage_pace).powf(months);
        UsageState {
            storage_gb,
            settling: None,
            last_phase_factor: 1.0,
            last_storage_value: None,
        }
    }
}

/// One month of an account's usage.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthUsage {
    /// Distinct active users.
    pub active_users: f64,
    /// API calls (capped at a hard limit).
    pub api_calls: f64,
    /// Gigabytes stored at month end, to one decimal.
    pub storage_gb: f64,
    /// Uses of each of the plan's features in plan order; `None` before adoption,
    /// when never adopted, and past the plan's features.
    pub features: [Option<f64>; MAX_FEATURES],
}

impl MonthUsage {
    /// Calls `f` with every metric and its value, core metrics first, then the
    /// adopted features in plan order.
    pub fn each_value(&self, profile: &AccountProfile, mut f: impl FnMut(Metric, f64)) {
        f(Metric::ActiveUsers, self.active_users);
        f(Metric::ApiCalls, self.api_calls);
        f(Metric::StorageGb, self.storage_gb);
        for (feature, value) in profile.features.iter().zip(&self.features) {
            if let Some(value) = value {
                f(feature.feature.metric(), *value);
            }
        }
    }
}

/// Returns the API-call limit per month for `seats` seats.
pub fn api_limit(profile: &AccountProfile, seats: f64) -> f64 {
    seats * profile.plan.api_calls_per_seat()
}

/// Returns the storage limit in GB for `seats` seats.
pub fn storage_limit(profile: &AccountProfile, seats: f64) -> f64 {
    seats * profile.plan.storage_gb_per_seat()
}

/// Returns the usage factor of the phase (1 is the account's level).
pub fn phase_factor(
    config: &SimConfig,
    profile: &AccountProfile,
    rules: &Rules,
    phase: Phase,
    settling: Option<Settling>,
    month: i32,
) -> f64 {
    match phase {
        Phase::Steady => match settling {
            Some(settling) => {
                let months = f64::from(config.decline.recovery_months);
                let progress = (f64::from(month - settling.month) / months).clamp(0.0, 1.0);
                settling.from + (1.0 - settling.from) * progress
            }
            None => 1.0,
        },
        Phase::Gradual { months } => {
            let progress = (f64::from(months) + 1.0) / f64::from(profile.gradual_months);
            1.0 - (1.0 - profile.gradual_floor) * progress.min(1.0)
        }
        Phase::Sudden { .. } => profile.sudden_floor,
        Phase::Growth { months } => rules.growth_utilization(months) / profile.level,
    }
}

/// Draws the usage of month `month` (calendar month `calendar`) and advances
/// the usage state.
#[allow(clippy::too_many_arguments)]
pub fn month_usage(
    config: &SimConfig,
    profile: &AccountProfile,
    rules: &Rules,
    seats: f64,
    phase: Phase,
    month: i32,
    calendar: YearMonth,
    state: &mut UsageState,
    rng: &mut impl Rng,
) -> MonthUsage {
    let noise_users: f64 = StandardNormal.sample(rng);
    let noise_api: f64 = StandardNormal.sample(rng);
    let noise_storage: f64 = StandardNormal.sample(rng);
    let mut noise_features = [0.0; MAX_FEATURES];
    for noise in noise_features.iter_mut().take(profile.features.len()) {
        *noise = StandardNormal.sample(rng);
    }

    let months_since_join = month - profile.joined;
    let ramp = if config.mechanisms.adoption {
        let months = f64::from(months_since_join.max(0));
        1.0 - (1.0 - profile.ramp_start) * (-months / profile.ramp_months).exp()
    } else {
        1.0
    };
    if state
        .settling
        .is_some_and(|s| month - s.month >= config.decline.recovery_months as i32)
    {
        state.settling = None;
    }
    let phase_factor = phase_factor(config, profile, rules, phase, state.settling, month);
    state.last_phase_factor = phase_factor;
    let season_pattern = profile.industry.season()[calendar.month() as usize - 1];
    let season = (1.0 + profile.season_amplitude * season_pattern).max(0.0);

    let sigma = profile.noise;
    let users_raw =
        seats * profile.level * ramp * phase_factor * season * (sigma * noise_users).exp();
    let active_users = users_raw.round().max(0.0);

    let limit = api_limit(profile, seats);
    let mut api_calls = (users_raw
        * profile.plan.api_calls_per_seat()
        * profile.api_ratio
        * (1.5 * sigma * noise_api).exp())
    .round();
    if profile.plan.api_enforcement() == Enforcement::Hard {
        api_calls = api_calls.min(limit);
    }

    let storage_target = profile.storage_target
        * storage_limit(profile, seats)
        * if matches!(phase, Phase::Growth { .. }) {
            phase_factor
        } else {
            1.0
        };
    if phase.is_declining() {
        state.storage_gb *= 1.0 - DECLINE_STORAGE_SHRINK;
    } else {
        state.storage_gb += profile.storage_pace * (storage_target - state.storage_gb);
    }
    let storage_gb = round_to(state.storage_gb * (0.2 * sigma * noise_storage).exp(), 1);

    let mut features = [None; MAX_FEATURES];
    for ((value, feature), noise) in features
        .iter_mut()
        .zip(&profile.features)
        .zip(&noise_features)
    {
        let adopted = feature
            .adopted_after
            .is_some_and(|after| months_since_join >= after as i32);
        if adopted {
            *value = Some((users_raw * feature.intensity * (2.0 * sigma * noise).exp()).round());
        }
    }

    MonthUsage {
        active_users,
        api_calls,
        storage_gb,
        features,
    }
}

/// Splits a monthly value into daily values that roll up to it exactly: sums
/// add up to the month's total, the maximum day equals the month's maximum, and
/// the last day equals the month's last value. Weekends get a quarter of a
/// weekday's activity. Days with a zero value are not emitted.
///
/// `previous` is the metric's value at the end of the previous month (for values
/// that roll up by last; the month ramps linearly from it).
pub fn split_days(
    metric: Metric,
    value: f64,
    previous: Option<f64>,
    month: YearMonth,
    rng: &mut impl Rng,
    mut emit: impl FnMut(u32, f64),
) {
    let days = month.days();
    let weights: Vec<f64> = (1..=days)
        .map(|day| {
            let date = month.first_day().with_day(day).expect("day within month");
            let base = match date.weekday() {
                Weekday::Sat | Weekday::Sun => 0.25,
                _ => 1.0,
            };
            let noise: f64 = StandardNormal.sample(rng);
            base * (0.15 * noise).exp()
        })
        .collect();

    match metric.rollup() {
        MetricRollup::Sum => {
            for (day, part) in apportion(value, &weights).into_iter().enumerate() {
                if part > 0.0 {
                    emit(day as u32 + 1, part);
                }
            }
        }
        MetricRollup::Max => {
            let busiest = weights
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                .map(|(day, _)| day)
                .unwrap_or(0);
            let heaviest = weights[busiest];
            for (day, weight) in weights.iter().enumerate() {
                let daily = if day == busiest {
                    value
                } else {
                    (value * (0.6 + 0.4 * weight / heaviest)).round().min(value)
                };
                if daily > 0.0 {
                    emit(day as u32 + 1, daily);
                }
            }
        }
        MetricRollup::Last => {
            let from = previous.unwrap_or(value);
            for day in 1..=days {
                let daily = if day == days {
                    value
                } else {
                    round_to(from + (value - from) * f64::from(day) / f64::from(days), 1)
                };
                if daily > 0.0 {
                    emit(day, daily);
                }
            }
        }
    }
}

/// Splits the whole number `total` in proportion to `weights` into whole
/// numbers that sum to it (largest remainders get the leftover units, earlier
/// days first on ties).
fn apportion(total: f64, weights: &[f64]) -> Vec<f64> {
    let weight_sum: f64 = weights.iter().sum();
    let shares: Vec<f64> = weights.iter().map(|w| total * w / weight_sum).collect();
    let mut parts: Vec<f64> = shares.iter().map(|share| share.floor()).collect();
    let assigned: f64 = parts.iter().sum();
    let leftover = (total - assigned).round().max(0.0) as usize;

    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let remainder_a = shares[a] - parts[a];
        let remainder_b = shares[b] - parts[b];
        remainder_b.total_cmp(&remainder_a).then(a.cmp(&b))
    });
    for &day in order.iter().take(leftover) {
        parts[day] += 1.0;
    }
    parts
}

/// Returns `value` rounded to `decimals` decimal places.
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn month() -> YearMonth {
        YearMonth::new(2024, 3).unwrap()
    }

    fn collect_days(metric: Metric, value: f64, previous: Option<f64>) -> Vec<(u32, f64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut days = Vec::new();
        split_days(metric, value, previous, month(), &mut rng, |day, v| {
            days.push((day, v))
        });
        days
    }

    #[test]
    fn sum_split_adds_up() {
        let days = collect_days(Metric::ApiCalls, 12_345.0, None);
        let total: f64 = days.iter().map(|(_, v)| v).sum();
        assert_eq!(total, 12_345.0);
        assert!(days.iter().all(|(_, v)| v.fract() == 0.0));
    }

    #[test]
    fn max_split_peaks_at_month_value() {
        let days = collect_days(Metric::ActiveUsers, 40.0, None);
        let peak = days.iter().map(|(_, v)| *v).fold(0.0, f64::max);
        assert_eq!(peak, 40.0);
        assert_eq!(days.len(), 31);
    }

    #[test]
    fn last_split_ends_at_month_value() {
        let days = collect_days(Metric::StorageGb, 52.3, Some(50.0));
        assert_eq!(days.last(), Some(&(31, 52.3)));
        // Day 1 is 50 + 2.3 / 31 = 50.07, rounded to 50.1.
        assert_eq!(days[0], (1, 50.1));
    }

    #[test]
    fn weekends_are_quieter() {
        let days = collect_days(Metric::ApiCalls, 31_000.0, None);
        // 2024-03-02 is a Saturday and 2024-03-04 a Monday.
        let saturday = days.iter().find(|(d, _)| *d == 2).unwrap().1;
        let monday = days.iter().find(|(d, _)| *d == 4).unwrap().1;
        assert!(saturday < 0.5 * monday, "{saturday} vs {monday}");
    }

    #[test]
    fn apportion_keeps_total() {
        let parts = apportion(10.0, &[1.0, 1.0, 1.0]);
        // 3.33 each: floors sum to 9, the first day gets the leftover unit.
        assert_eq!(parts, vec![4.0, 3.0, 3.0]);
    }

    #[test]
    fn round_to_one_decimal() {
        assert_eq!(round_to(12.345, 1), 12.3);
        assert_eq!(round_to(0.05, 1), 0.1);
    }
}
