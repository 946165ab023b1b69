//! The fixed traits of an account, drawn once: who it is, what it bought, how
//! much it uses, and the risk multipliers that scale its hazards.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal};

use crate::calendar::Window;
use crate::catalog::{Currency, Feature, Industry, NAME_PREFIXES, Plan, Region, Segment};
use crate::config::SimConfig;

/// An entitled feature and whether and when the account adopts it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureUse {
    /// The feature.
    pub feature: Feature,
    /// Months after joining when the account first uses the feature; `None` if it never does.
    pub adopted_after: Option<u32>,
    /// Uses per active user per month once adopted.
    pub intensity: f64,
}

/// The fixed traits of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountProfile {
    /// Position of the account in the portfolio (0-based); the id is derived from it.
    pub index: u64,
    /// Customer segment.
    pub segment: Segment,
    /// Industry.
    pub industry: Industry,
    /// Sales region.
    pub region: Region,
    /// The customer-success manager who owns the account.
    pub owner: &'static str,
    /// Company name (not unique).
    pub name: String,
    /// Price plan, kept for the account's life.
    pub plan: Plan,
    /// Contract currency.
    pub currency: Currency,
    /// Whether contracts renew automatically (recorded only).
    pub auto_renew: bool,
    /// Contract term in months, kept at every renewal.
    pub term_months: u32,
    /// Month index of `customer_since` (negative: before the window).
    pub joined: i32,
    /// Seats of the first contract.
    pub seats: f64,
    /// Price per seat per year in USD, after the volume discount.
    pub seat_price: f64,
    /// Steady seat utilization (active users / seats).
    pub level: f64,
    /// The plan's features and their adoption.
    pub features: Vec<FeatureUse>,
    /// API calls per active user as a share of the plan's calls per seat.
    pub api_ratio: f64,
    /// Storage used at onboarding, as a share of the limit.
    pub storage_start: f64,
    /// Storage the account tends toward, as a share of the limit.
    pub storage_target: f64,
    /// Share of the gap to the storage target closed each month.
    pub storage_pace: f64,
    /// Multiplier of the industry's month-of-year pattern (0 without seasonality).
    pub season_amplitude: f64,
    /// Standard deviation of the monthly log-noise on active users.
    pub noise: f64,
    /// First-month usage as a share of the level.
    pub ramp_start: f64,
    /// Time constant of the onboarding ramp, in months.
    pub ramp_months: f64,
    /// Usage at the end of a gradual decline, as a share of the level.
    pub gradual_floor: f64,
    /// Months a gradual decline takes to reach its floor.
    pub gradual_months: u32,
    /// Usage after a sudden drop, as a share of the level.
    pub sudden_floor: f64,
    /// Monthly growth of usage in a growth phase.
    pub growth_rate: f64,
    /// Multiplier of the segment's decline hazard.
    pub decline_risk: f64,
    /// Multiplier of the segment's growth hazard.
    pub growth_propensity: f64,
}

impl AccountProfile {
    /// Draws the traits of account `index`. `segment` forces the segment (used
    /// by calibration); otherwise it is drawn from the segment shares.
    pub fn draw(
        config: &SimConfig,
        window: Window,
        index: u64,
        segment: Option<Segment>,
        rng: &mut impl Rng,
    ) -> AccountProfile {
        let segment_draw = pick_weighted(
            rng,
            Segment::ALL.map(|segment| (segment, config.segments.get(segment).share)),
        );
        let segment = segment.unwrap_or(segment_draw);
        let params = config.segments.get(segment);

        let industry = pick_weighted(rng, Industry::SHARES);
        let region = pick_weighted(rng, Region::SHARES);
        let owners = region.owners();
        let owner = owners[rng.random_range(0..owners.len())];
        let name = draw_name(industry, rng);
        let plan = pick_weighted(rng, params.plans());
        let currency = draw_currency(config, region, rng);
        let auto_renew = rng.random::<f64>() < params.auto_renew_share;
        let term_months = pick_weighted(
            rng,
            params
                .term_months
                .iter()
                .copied()
                .zip(params.term_weights.iter().copied()),
        );
        let joined = draw_joined(config, window, rng);

        let seats = LogNormal::new(params.seats_median.ln(), params.seats_spread)
            .expect("validated spread")
            .sample(rng)
            .round()
            .max(3.0);
        let seat_price = plan.seat_price() * volume_discount(seats) * uniform(rng, [0.9, 1.05]);

        let usage = &config.usage;
        let level_z = Normal::new(0.0, 1.0).expect("unit normal").sample(rng);
        let level = (usage.level_mean + usage.level_sd * level_z)
            .clamp(usage.level_bounds[0], usage.level_bounds[1]);
        let standardized_level = if usage.level_sd > 0.0 {
            (level - usage.level_mean) / usage.level_sd
        } else {
            0.0
        };
        let features = draw_features(config, plan, standardized_level, rng);

        let api_ratio = LogNormal::new(
            usage.api_ratio_median.max(1e-9).ln(),
            usage.api_ratio_spread,
        )
        .expect("validated spread")
        .sample(rng);
        let storage_start = uniform(rng, usage.storage_start);
        let storage_target = uniform(rng, usage.storage_target);
        let storage_pace = uniform(rng, usage.storage_pace);

        let amplitude = uniform(rng, config.seasonality.amplitude);
        let season_amplitude = if config.mechanisms.seasonality && industry.is_seasonal() {
            amplitude
        } else {
            0.0
        };
        let noise = if config.mechanisms.noise {
            params.noise
        } else {
            0.0
        };
        let ramp_start = uniform(rng, config.adoption.ramp_start);
        let ramp_months = uniform(rng, config.adoption.ramp_months);

        let decline = &config.decline;
        let gradual_floor = uniform(rng, decline.gradual_floor);
        let gradual_months =
            rng.random_range(decline.gradual_months[0]..=decline.gradual_months[1]);
        let sudden_floor = uniform(rng, decline.sudden_floor);
        let growth_rate = uniform(rng, config.growth.rate);

        let unused = unused_share(&features);
        let unused_z = if config.mechanisms.unused_features {
            (unused - 0.25) / 0.25
        } else {
            0.0
        };
        let risk = &config.risk;
        let decline_risk =
            (-risk.level_weight * standardized_level + risk.unused_feature_weight * unused_z).exp();
        let growth_propensity = (risk.growth_level_weight * standardized_level
            - risk.growth_adoption_weight * unused_z)
            .exp();

        AccountProfile {
            index,
            segment,
            industry,
            region,
            owner,
            name,
            plan,
            currency,
            auto_renew,
            term_months,
            joined,
            seats,
            seat_price,
            level,
            features,
            api_ratio,
            storage_start,
            storage_target,
            storage_pace,
            season_amplitude,
            noise,
            ramp_start,
            ramp_months,
            gradual_floor,
            gradual_months,
            sudden_floor,
            growth_rate,
            decline_risk,
            growth_propensity,
        }
    }

    /// Returns the share of the entitled features the account never adopts.
    pub fn unused_share(&self) -> f64 {
        unused_share(&self.features)
    }

    /// Returns the number of entitled features the account never adopts.
    pub fn unused_features(&self) -> usize {
        self.features
            .iter()
            .filter(|feature| feature.adopted_after.is_none())
            .count()
    }

    /// Returns the first month of the contract term in force at `month` (the account's terms
    /// start when it joins and follow each other without gaps).
    pub fn term_start(&self, month: i32) -> i32 {
        let term = self.term_months as i32;
        self.joined + (month - self.joined).div_euclid(term) * term
    }

    /// Returns the months from `month` to the renewal that ends its term (0 in the renewal month).
    pub fn months_to_renewal(&self, month: i32) -> u32 {
        let term = self.term_months as i32;
        (term - 1 - (month - self.joined).rem_euclid(term)) as u32
    }

    /// Returns the ARR of a contract with `seats` seats, in the contract currency, rounded to whole units.
    pub fn arr(&self, seats: f64) -> f64 {
        (seats * self.seat_price / self.currency.usd_rate()).round()
    }
}

fn unused_share(features: &[FeatureUse]) -> f64 {
    if features.is_empty() {
        return 0.0;
    }
    let unused = features
        .iter()
        .filter(|f| f.adopted_after.is_none())
        .count();
    unused as f64 / features.len() as f64
}

fn draw_features(
    config: &SimConfig,
    plan: Plan,
    standardized_level: f64,
    rng: &mut impl Rng,
) -> Vec<FeatureUse> {
    let adoption = &config.adoption;
    let logit = adoption.feature_logit + adoption.feature_level_weight * standardized_level;
    let adopt_probability = 1.0 / (1.0 + (-logit).exp());
    // The whole months of an exponential wait with rate ln(1 + 1/mean) are
    // geometric with success probability 1 / (1 + mean), so their mean is `mean`.
    let delay_rate = (1.0 + 1.0 / adoption.feature_delay_months.max(1e-9)).ln();
    let delay = Exp::new(delay_rate).expect("positive rate");
    let spread = LogNormal::new(0.0, 0.4).expect("valid spread");

    plan.features()
        .iter()
        .map(|&feature| {
            let adopted = rng.random::<f64>() < adopt_probability;
            let months: f64 = delay.sample(rng);
            let intensity = feature.uses_per_user() * spread.sample(rng);
            let adopted = adopted || !config.mechanisms.unused_features;
            let months = if config.mechanisms.adoption {
                months.floor().min(60.0) as u32
            } else {
                0
            };
            FeatureUse {
                feature,
                adopted_after: adopted.then_some(months),
                intensity,
            }
        })
        .collect()
}

fn draw_name(industry: Industry, rng: &mut impl Rng) -> String {
    let prefix = NAME_PREFIXES[rng.random_range(0..NAME_PREFIXES.len())];
    let suffixes = industry.name_suffixes();
    let suffix = suffixes[rng.random_range(0..suffixes.len())];
    format!("{prefix} {suffix}")
}

fn draw_currency(config: &SimConfig, region: Region, rng: &mut impl Rng) -> Currency {
    let u = rng.random::<f64>();
    if !config.currencies || region != Region::Emea {
        return Currency::Usd;
    }
    match u {
        u if u < 0.45 => Currency::Eur,
        u if u < 0.7 => Currency::Gbp,
        _ => Currency::Usd,
    }
}

/// Returns the month index of `customer_since`: new accounts join during the window, the
/// others 1 to `max_tenure_months` months before it starts.
fn draw_joined(config: &SimConfig, window: Window, rng: &mut impl Rng) -> i32 {
    let is_new = rng.random::<f64>() < config.new_account_share;
    let new_month = rng.random_range(0..window.months()) as i32;
    let tenure = rng.random_range(1..=config.max_tenure_months) as i32;
    if is_new { new_month } else { -tenure }
}

/// Returns the price multiplier for large seat counts: 8% off per tenfold above 10 seats,
/// at most 40% off.
fn volume_discount(seats: f64) -> f64 {
    (1.0 - 0.08 * (seats.max(10.0) / 10.0).log10()).max(0.6)
}

fn uniform(rng: &mut impl Rng, range: [f64; 2]) -> f64 {
    let u: f64 = rng.random();
    range[0] + (range[1] - range[0]) * u
}

fn pick_weighted<T: Copy>(rng: &mut impl Rng, items: impl IntoIterator<Item = (T, f64)>) -> T {
    let items: Vec<(T, f64)> = items.into_iter().collect();
    let total: f64 = items.iter().map(|(_, weight)| weight).sum();
    let target = rng.random::<f64>() * total;
    let mut cumulative = 0.0;
    for (item, weight) in &items {
        cumulative += weight;
        if target < cumulative {
            return *item;
        }
    }
    items
        .iter()
        .rev()
        .find(|(_, weight)| *weight > 0.0)
        .map(|(item, _)| *item)
        .expect("weights have a positive sum")
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::calendar::YearMonth;

    fn window() -> Window {
        Window::new(YearMonth::new(2023, 11).unwrap(), 36)
    }

    fn draw_many(config: &SimConfig, count: u64) -> Vec<AccountProfile> {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        (0..count)
            .map(|index| AccountProfile::draw(config, window(), index, None, &mut rng))
            .collect()
    }

    #[test]
    fn term_schedule_starts_at_join() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut profile = AccountProfile::draw(&SimConfig::default(), window(), 0, None, &mut rng);
        profile.joined = -30;
        profile.term_months = 12;
        // Terms run -30..-19, -18..-7, -6..5: month 0 sits in the third.
        assert_eq!(profile.term_start(0), -6);
        assert_eq!(profile.months_to_renewal(0), 5);
        assert_eq!(profile.months_to_renewal(5), 0);
        assert_eq!(profile.months_to_renewal(6), 11);
    }

    #[test]
    fn segments_follow_shares() {
        let profiles = draw_many(&SimConfig::default(), 20_000);
        let smb = profiles
            .iter()
            .filter(|p| p.segment == Segment::Smb)
            .count() as f64;
        // Share 0.55; the standard error over 20,000 draws is 0.0035.
        assert!((smb / 20_000.0 - 0.55).abs() < 0.015);
    }

    #[test]
    fn enterprise_accounts_are_larger() {
        let profiles = draw_many(&SimConfig::default(), 5_000);
        let median_seats = |segment| {
            let mut seats: Vec<f64> = profiles
                .iter()
                .filter(|p| p.segment == segment)
                .map(|p| p.seats)
                .collect();
            seats.sort_by(f64::total_cmp);
            seats[seats.len() / 2]
        };
        assert!(median_seats(Segment::Enterprise) > 200.0);
        assert!(median_seats(Segment::MidMarket) > 30.0);
        assert!(median_seats(Segment::Smb) < 15.0);
    }

    #[test]
    fn low_utilization_raises_decline_risk() {
        let profiles = draw_many(&SimConfig::default(), 5_000);
        let mean_risk = |low: bool| {
            let chosen: Vec<f64> = profiles
                .iter()
                .filter(|p| (p.level < 0.5) == low)
                .map(|p| p.decline_risk)
                .collect();
            chosen.iter().sum::<f64>() / chosen.len() as f64
        };
        assert!(mean_risk(true) > 1.5 * mean_risk(false));
    }

    #[test]
    fn features_all_adopted_without_unused_mechanism() {
        let mut config = SimConfig::default();
        config.mechanisms.unused_features = false;
        let profiles = draw_many(&config, 500);
        assert!(profiles.iter().all(|p| p.unused_features() == 0));
    }

    #[test]
    fn some_features_never_adopted_by_default() {
        let profiles = draw_many(&SimConfig::default(), 2_000);
        let with_unused = profiles.iter().filter(|p| p.unused_features() > 0).count();
        assert!(with_unused > 200, "{with_unused}");
    }

    #[test]
    fn feature_delay_has_configured_mean() {
        let mut config = SimConfig::default();
        config.mechanisms.unused_features = false;
        let profiles = draw_many(&config, 4_000);
        let delays: Vec<f64> = profiles
            .iter()
            .flat_map(|p| p.features.iter())
            .map(|f| f64::from(f.adopted_after.expect("every feature is adopted")))
            .collect();
        let mean = delays.iter().sum::<f64>() / delays.len() as f64;
        // A geometric count with mean 2 has variance 2 * 3 = 6; over about
        // 14,000 features the standard error of the mean is 0.02.
        assert!((mean - 2.0).abs() < 0.08, "mean delay {mean}");
    }

    #[test]
    fn volume_discount_is_bounded() {
        assert_eq!(volume_discount(5.0), 1.0);
        // 1000 seats: 1 - 0.08 * log10(100) = 0.84.
        assert!((volume_discount(1000.0) - 0.84).abs() < 1e-12);
        assert_eq!(volume_discount(1e12), 0.6);
    }
}
