//! Calibration of the segment hazards to the target rates.
//!
//! A segment's `churn_per_term` and `expansion_per_term` are targets for the
//! contract terms due to end inside the window, not hazards. For each segment
//! the simulator draws a fixed sample of accounts the way the portfolio draws
//! them, with its own seed so that the result does not depend on `seed`. It
//! computes for each account the exact probability that a term ends in churn
//! and that it has an expansion. Each account counts with the number of its
//! terms expected to end in the window, because an account that churns has no
//! later terms. The simulator then solves for the decline and growth scales
//! whose weighted means hit the targets. The two solves alternate, because
//! growth and decline compete for the same steady accounts.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::calendar::Window;
use crate::catalog::Segment;
use crate::config::SimConfig;
use crate::dynamics::{Forecast, Hazards, Latent, Rules};
use crate::profile::AccountProfile;

/// Seed of the calibration samples, fixed so that every portfolio with the same
/// parameters gets the same hazards.
const CALIBRATION_SEED: u64 = 0x5EED_CA1B;
const ROUNDS: usize = 2;
const SOLVER_STEPS: usize = 60;
/// Distance of a calibrated rate from its target at which the solver stops.
const RATE_TOLERANCE: f64 = 1e-6;
const MAX_SCALE: f64 = 64.0;

/// The calibrated scales of one segment and the rates they give.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SegmentCalibration {
    /// Cumulative decline hazard over a renewal's windows for an account with risk 1.
    pub decline_scale: f64,
    /// Monthly cumulative growth hazard for an account with propensity 1.
    pub growth_scale: f64,
    /// Expected share of the sample's terms in the window that end in churn.
    pub expected_churn: f64,
    /// Expected share of those terms with an expansion.
    pub expected_expansion: f64,
}

/// The calibrated scales of every segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calibration {
    /// Enterprise, mid-market and smb, in `Segment::ALL` order.
    pub segments: [SegmentCalibration; 3],
}

impl Calibration {
    /// Returns the calibration of a segment.
    pub fn get(&self, segment: Segment) -> SegmentCalibration {
        let position = Segment::ALL
            .iter()
            .position(|s| *s == segment)
            .expect("every segment is in Segment::ALL");
        self.segments[position]
    }

    /// Returns the hazards of an account under this calibration.
    pub fn hazards(&self, config: &SimConfig, profile: &AccountProfile) -> Hazards {
        let segment = self.get(profile.segment);
        Hazards::new(
            config,
            profile.decline_risk,
            profile.growth_propensity,
            segment.decline_scale,
            segment.growth_scale,
        )
    }
}

/// Calibrates every segment of `config`, reusing an earlier result for the same
/// parameters in this process.
pub fn calibrate(config: &SimConfig) -> Calibration {
    static CACHE: OnceLock<Mutex<BTreeMap<String, Calibration>>> = OnceLock::new();
    let key = calibration_key(config);
    let cache = CACHE.get_or_init(|| Mutex::new(BTreeMap::new()));
    if let Some(found) = cache.lock().expect("calibration cache lock").get(&key) {
        return *found;
    }

    let segments = std::thread::scope(|scope| {
        let handles =
            Segment::ALL.map(|segment| scope.spawn(move || calibrate_segment(config, segment)));
        handles.map(|handle| handle.join().expect("a calibration thread panicked"))
    });
    let calibration = Calibration { segments };
    for (segment, result) in Segment::ALL.iter().zip(&segments) {
        tracing::debug!(
            segment = segment.name(),
            decline_scale = result.decline_scale,
            growth_scale = result.growth_scale,
            expected_churn = result.expected_churn,
            expected_expansion = result.expected_expansion,
            "calibrated segment hazards"
        );
    }
    cache
        .lock()
        .expect("calibration cache lock")
        .insert(key, calibration);
    calibration
}

/// Returns the parameters calibration depends on: everything but the portfolio size,
/// window, seed and output options.
fn calibration_key(config: &SimConfig) -> String {
    let mut normalized = config.clone();
    normalized.accounts = 0;
    normalized.seed = 0;
    normalized.start = SimConfig::default().start;
    normalized.grain = Default::default();
    normalized.horizon_days = 0;
    normalized.currencies = false;
    serde_json::to_string(&normalized).expect("the config serializes to JSON")
}

fn calibrate_segment(config: &SimConfig, segment: Segment) -> SegmentCalibration {
    let sample = calibration_sample(config, segment);
    let params = config.segments.get(segment);

    let mut decline_scale = if config.mechanisms.decline { 0.1 } else { 0.0 };
    let mut growth_scale = if config.mechanisms.growth { 0.01 } else { 0.0 };
    for _ in 0..ROUNDS {
        if config.mechanisms.decline {
            decline_scale = solve(params.churn_per_term, decline_scale, |scale| {
                book_rates(config, segment, &sample, scale, growth_scale).churn
            });
        }
        if config.mechanisms.growth {
            growth_scale = solve(params.expansion_per_term, growth_scale, |scale| {
                book_rates(config, segment, &sample, decline_scale, scale).expansion
            });
        }
    }

    let rates = book_rates(config, segment, &sample, decline_scale, growth_scale);
    SegmentCalibration {
        decline_scale,
        growth_scale,
        expected_churn: rates.churn,
        expected_expansion: rates.expansion,
    }
}

/// A calibration account and the number of its terms due to end in the window.
struct SampleAccount {
    profile: AccountProfile,
    terms_in_window: u32,
}

fn calibration_sample(config: &SimConfig, segment: Segment) -> Vec<SampleAccount> {
    let position = Segment::ALL
        .iter()
        .position(|s| *s == segment)
        .expect("every segment is in Segment::ALL") as u64;
    let mut rng = ChaCha8Rng::seed_from_u64(CALIBRATION_SEED + position);
    let window = Window::new(config.start, config.months);
    (0..u64::from(config.calibration_accounts))
        .map(|index| {
            let profile = AccountProfile::draw(config, window, index, Some(segment), &mut rng);
            let terms_in_window = terms_in_window(&profile, window);
            SampleAccount {
                profile,
                terms_in_window,
            }
        })
        .collect()
}

/// Returns the number of an account's terms scheduled to end inside the window, from the
/// term in force when it first appears there.
pub fn terms_in_window(profile: &AccountProfile, window: Window) -> u32 {
    let term = profile.term_months as i32;
    let first_end = profile.term_start(profile.joined.max(0)) + term - 1;
    let last = window.last_index();
    if first_end > last {
        return 0;
    }
    (1 + (last - first_end) / term) as u32
}

/// Returns the expected number of terms reached out of `terms`, when each ends in churn
/// with probability `churn`: `1 + (1 - churn) + ... + (1 - churn)^(terms - 1)`.
fn expected_terms(churn: f64, terms: u32) -> f64 {
    (0..terms).map(|j| (1.0 - churn).powi(j as i32)).sum()
}

/// Returns the shares of the sample's expected terms in the window that end in churn
/// and that have an expansion.
fn book_rates(
    config: &SimConfig,
    segment: Segment,
    sample: &[SampleAccount],
    decline_scale: f64,
    growth_scale: f64,
) -> Forecast {
    let (mut churn, mut expansion, mut terms) = (0.0, 0.0, 0.0);
    for account in sample.iter().filter(|a| a.terms_in_window > 0) {
        let profile = &account.profile;
        let hazards = Hazards::new(
            config,
            profile.decline_risk,
            profile.growth_propensity,
            decline_scale,
            growth_scale,
        );
        let rules = Rules::new(
            config,
            segment,
            profile.term_months,
            profile.level,
            profile.growth_rate,
            hazards,
        );
        let forecast = term_forecast(&rules, profile.term_months);
        let weight = expected_terms(forecast.churn, account.terms_in_window);
        churn += weight * forecast.churn;
        expansion += weight * forecast.expansion;
        terms += weight;
    }
    if terms == 0.0 {
        return Forecast::default();
    }
    Forecast {
        churn: churn / terms,
        expansion: expansion / terms,
    }
}

/// Returns the probabilities that a term of `term_months` months, starting steady, ends
/// in churn and that it has at least one expansion.
pub fn term_forecast(rules: &Rules, term_months: u32) -> Forecast {
    rules.forecast(Latent::FRESH, (0..term_months).rev())
}

/// Returns the scale in [0, MAX_SCALE] at which the increasing function `rate`
/// reaches `target`. Returns 0 when even scale 0 reaches it and MAX_SCALE when no
/// scale does.
///
/// Brackets the root by widening around `guess` (a factor of 1.5 at a time),
/// then closes in with the Illinois variant of regula falsi.
fn solve(target: f64, guess: f64, rate: impl Fn(f64) -> f64) -> f64 {
    let excess = |scale: f64| rate(scale) - target;
    let zero_excess = excess(0.0);
    if zero_excess >= 0.0 {
        return 0.0;
    }
    let Some(((mut low, mut low_excess), (mut high, mut high_excess))) =
        bracket(guess, zero_excess, &excess)
    else {
        tracing::warn!(
            target,
            "the target rate is out of reach of the mechanisms; using the largest hazard"
        );
        return MAX_SCALE;
    };

    let mut last_side = 0;
    let mut guess = high;
    for _ in 0..SOLVER_STEPS {
        guess = (low * high_excess - high * low_excess) / (high_excess - low_excess);
        let guess_excess = excess(guess);
        if guess_excess.abs() < RATE_TOLERANCE || high - low < 1e-12 {
            return guess;
        }
        if guess_excess > 0.0 {
            (high, high_excess) = (guess, guess_excess);
            if last_side == -1 {
                low_excess /= 2.0;
            }
            last_side = -1;
        } else {
            (low, low_excess) = (guess, guess_excess);
            if last_side == 1 {
                high_excess /= 2.0;
            }
            last_side = 1;
        }
    }
    guess
}

type Point = (f64, f64);

/// Returns two scales with excess below and above zero, found by widening around
/// `guess`, or `None` when even MAX_SCALE stays below the target.
fn bracket(guess: f64, zero_excess: f64, excess: &impl Fn(f64) -> f64) -> Option<(Point, Point)> {
    let guess = guess.clamp(1e-6, MAX_SCALE);
    let guess_excess = excess(guess);
    if guess_excess > 0.0 {
        let mut high = (guess, guess_excess);
        loop {
            let lower = high.0 / 1.5;
            if lower < 1e-9 {
                return Some(((0.0, zero_excess), high));
            }
            let lower_excess = excess(lower);
            if lower_excess <= 0.0 {
                return Some(((lower, lower_excess), high));
            }
            high = (lower, lower_excess);
        }
    }

    let mut low = (guess, guess_excess);
    loop {
        if low.0 >= MAX_SCALE {
            return None;
        }
        let higher = (low.0 * 1.5).min(MAX_SCALE);
        let higher_excess = excess(higher);
        if higher_excess > 0.0 {
            return Some((low, (higher, higher_excess)));
        }
        low = (higher, higher_excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_hits_targets() {
        let config = SimConfig::default();
        let calibration = calibrate(&config);
        for segment in Segment::ALL {
            let result = calibration.get(segment);
            let params = config.segments.get(segment);
            assert!(
                (result.expected_churn - params.churn_per_term).abs() < 1e-3,
                "{segment:?} churn {}",
                result.expected_churn
            );
            assert!(
                (result.expected_expansion - params.expansion_per_term).abs() < 1e-3,
                "{segment:?} expansion {}",
                result.expected_expansion
            );
        }
    }

    #[test]
    fn calibration_without_decline_leaves_signal_free_churn() {
        let mut config = SimConfig::default();
        config.mechanisms.decline = false;
        let calibration = calibrate(&config);
        let smb = calibration.get(Segment::Smb);
        assert_eq!(smb.decline_scale, 0.0);
        // Only signal-free churn remains: 0.35 * 0.18 = 0.063 per term.
        assert!((smb.expected_churn - 0.063).abs() < 1e-9);
    }

    #[test]
    fn expected_terms_stop_after_churn() {
        // 1 + 0.8 + 0.64 for three terms with churn 0.2.
        assert!((expected_terms(0.2, 3) - 2.44).abs() < 1e-12);
        assert_eq!(expected_terms(0.0, 4), 4.0);
        assert_eq!(expected_terms(0.5, 0), 0.0);
    }

    #[test]
    fn solve_finds_root_of_linear_rate() {
        let scale = solve(0.3, 0.1, |x| x / 10.0);
        assert!((scale - 3.0).abs() < 1e-5);
        // 1 - exp(-x) = 0.5 at x = ln 2, from guesses on either side.
        for guess in [0.01, 5.0] {
            let scale = solve(0.5, guess, |x| 1.0 - (-x).exp());
            assert!((scale - 2f64.ln()).abs() < 1e-5, "{guess}: {scale}");
        }
        assert_eq!(solve(0.0, 1.0, |x| x), 0.0);
        assert_eq!(solve(2.0, 1.0, |x| 1.0 - (-x).exp()), MAX_SCALE);
    }
}
