//! The generative model of outcomes: a monthly Markov chain on a small latent
//! state, and the exact forecast computed from the same transitions.
//!
//! Each month runs three stages, each a list of branches with probabilities:
//!
//! 1. `advance`: phases age by a month, and a steady account may start a gradual
//!    decline, a sudden drop or growth (each with a known monthly hazard that
//!    depends on the months left to the renewal).
//! 2. `intervene`: CS may log an intervention on an account that has been
//!    declining for a month or more near its renewal.
//! 3. `settle`: at a renewal the account churns, renews, expands or contracts
//!    with probabilities set by its phase. Between renewals it may end its
//!    contract without a signal, and a growing account past its seat limit may
//!    buy seats mid-term.
//!
//! The simulator draws one branch per stage; `Rules::forecast` sums over all
//! branches instead, which gives the exact probability of churn and of expansion
//! within any horizon. Usage never feeds back into these stages, so the latent
//! state at a month-end contains everything the future depends on, and no model
//! that sees only the tables can rank accounts better than the forecast.

use std::cell::RefCell;

use crate::catalog::Segment;
use crate::config::SimConfig;

/// The phase of an account's usage, the part of its state that drives outcomes.
///
/// `months` counts full months since the phase started (0 in its first month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Usage at the account's level (after onboarding, with noise and seasonality).
    Steady,
    /// Usage falling month by month toward a floor.
    Gradual {
        /// Months since the decline started.
        months: u16,
    },
    /// Usage dropped at once to a floor.
    Sudden {
        /// Months since the drop.
        months: u16,
    },
    /// Usage growing by a fixed rate each month, up to a cap above the seat limit.
    Growth {
        /// Months since growth started.
        months: u16,
    },
}

impl Phase {
    /// Returns the name written in the truth tables.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Steady => "steady",
            Phase::Gradual { .. } => "decline_gradual",
            Phase::Sudden { .. } => "decline_sudden",
            Phase::Growth { .. } => "growth",
        }
    }

    /// Returns the months since the phase started (0 for steady).
    pub fn months(self) -> u16 {
        match self {
            Phase::Steady => 0,
            Phase::Gradual { months } | Phase::Sudden { months } | Phase::Growth { months } => {
                months
            }
        }
    }

    /// Returns whether the account is declining (gradually or after a drop).
    pub fn is_declining(self) -> bool {
        matches!(self, Phase::Gradual { .. } | Phase::Sudden { .. })
    }

    fn aged(self) -> Phase {
        match self {
            Phase::Steady => Phase::Steady,
            Phase::Gradual { months } => Phase::Gradual {
                months: months.saturating_add(1),
            },
            Phase::Sudden { months } => Phase::Sudden {
                months: months.saturating_add(1),
            },
            Phase::Growth { months } => Phase::Growth {
                months: months.saturating_add(1),
            },
        }
    }
}

/// The latent state at a month-end: everything later outcomes depend on,
/// besides the account's fixed traits and its renewal calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Latent {
    /// The usage phase.
    pub phase: Phase,
    /// Whether CS has logged an intervention in the current contract term.
    pub intervened: bool,
}

impl Latent {
    /// A steady account at the start of a term.
    pub const FRESH: Latent = Latent {
        phase: Phase::Steady,
        intervened: false,
    };
}

/// An event at a month-end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Nothing.
    Nothing,
    /// The contract renews with the same seats.
    Renewed,
    /// The contract renews with more seats.
    Expanded,
    /// The contract renews with fewer seats.
    Contracted,
    /// The account does not renew.
    Churned {
        /// Whether the churn came from the signal-free draw (no usage announced it).
        signal_free: bool,
    },
    /// The account ends its contract mid-term without a usage signal (it was
    /// acquired or closed).
    Terminated,
    /// The account buys seats in the middle of the term.
    MidTermExpansion,
}

impl Event {
    /// Returns whether the event counts as an expansion (ARR grows).
    pub fn is_expansion(self) -> bool {
        matches!(self, Event::Expanded | Event::MidTermExpansion)
    }

    /// Returns whether the event ends the account.
    pub fn is_churn(self) -> bool {
        matches!(self, Event::Churned { .. } | Event::Terminated)
    }

    /// Returns whether the event is a churn that no usage signal announced.
    pub fn is_signal_free_churn(self) -> bool {
        matches!(
            self,
            Event::Churned { signal_free: true } | Event::Terminated
        )
    }
}

/// The probabilities of the outcomes at a renewal, given the state then.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenewalOdds {
    /// Probability of churn from the signal-free draw at the renewal.
    pub signal_free: f64,
    /// Probability of churn from the usage phase, if the signal-free draw passes.
    pub signal: f64,
    /// Probability of expansion for an account that renews.
    pub expand: f64,
    /// Probability of contraction for an account that renews.
    pub contract: f64,
}

impl RenewalOdds {
    /// Returns the total probability of churn.
    pub fn churn(&self) -> f64 {
        self.signal_free + (1.0 - self.signal_free) * self.signal
    }

    /// Returns the total probability of ending the renewal expanded.
    pub fn expansion(&self) -> f64 {
        (1.0 - self.churn()) * self.expand
    }

    /// Returns the total probability of ending the renewal contracted.
    pub fn contraction(&self) -> f64 {
        (1.0 - self.churn()) * self.contract
    }
}

/// Probabilities of churn and of expansion within a horizon.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Forecast {
    /// Probability that the account churns within the horizon.
    pub churn: f64,
    /// Probability that the account expands at least once within the horizon.
    pub expansion: f64,
}

/// The hazards of one account: how likely each phase change is per month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hazards {
    /// Monthly probability of starting a gradual decline inside its window.
    pub gradual: f64,
    /// Monthly probability of a sudden drop inside its window.
    pub sudden: f64,
    /// Monthly probability of starting to grow (outside the renewal month).
    pub growth: f64,
}

impl Hazards {
    /// Creates the hazards of an account with these risk multipliers, given the segment's
    /// calibrated scales.
    ///
    /// The cumulative decline hazard over a renewal's windows is
    /// `decline_scale * decline_risk`, split between gradual declines and sudden
    /// drops by `decline.sudden_share` and spread evenly over each window's
    /// months. The monthly growth hazard is `1 - exp(-growth_scale * growth_propensity)`.
    pub fn new(
        config: &SimConfig,
        decline_risk: f64,
        growth_propensity: f64,
        decline_scale: f64,
        growth_scale: f64,
    ) -> Hazards {
        let decline = &config.decline;
        let mechanisms = &config.mechanisms;
        let cumulative = decline_scale * decline_risk;
        let gradual_months = f64::from(decline.gradual_window[1] - decline.gradual_window[0] + 1);
        let sudden_months = f64::from(decline.sudden_window[1] - decline.sudden_window[0] + 1);

        let monthly = |total: f64, months: f64| 1.0 - (-total / months).exp();
        let (gradual, sudden) = if mechanisms.decline {
            (
                monthly(cumulative * (1.0 - decline.sudden_share), gradual_months),
                monthly(cumulative * decline.sudden_share, sudden_months),
            )
        } else {
            (0.0, 0.0)
        };
        let growth = if mechanisms.growth {
            monthly(growth_scale * growth_propensity, 1.0)
        } else {
            0.0
        };
        Hazards {
            gradual,
            sudden,
            growth,
        }
    }
}

/// The decision model of one account: its hazards and every outcome probability.
#[derive(Debug, Clone)]
pub struct Rules {
    hazards: Hazards,
    level: f64,
    growth_rate: f64,
    growth_cap: f64,
    growth_saturation: u16,
    gradual_window: [u32; 2],
    sudden_window: [u32; 2],
    signal_free_renewal: f64,
    termination_monthly: f64,
    gradual_churn: f64,
    sudden_churn: f64,
    intervention_monthly: f64,
    intervention_window: u32,
    odds_ratio: f64,
    decline_contraction: f64,
    steady_expansion: f64,
    steady_contraction: f64,
    renewal_midpoint: f64,
    renewal_slope: f64,
    mid_term_monthly: f64,
}

impl Rules {
    /// Creates the rules of an account of `segment` with contracts of `term_months`
    /// months, steady seat utilization `level`, monthly growth `growth_rate` and
    /// the given hazards.
    ///
    /// The segment's signal-free churn per term, `p = share * churn_per_term`,
    /// splits into two parts. The mid-term part `a = p * mid_term_share` is an
    /// equal hazard in every month of the term but the renewal month. The
    /// renewal part is drawn with probability `(p - a) / (1 - a)`, so a term
    /// ends in signal-free churn with probability exactly `p`.
    pub fn new(
        config: &SimConfig,
        segment: Segment,
        term_months: u32,
        level: f64,
        growth_rate: f64,
        hazards: Hazards,
    ) -> Rules {
        let mechanisms = &config.mechanisms;
        let growth_cap = config.growth.cap;
        let growth_saturation = saturation_months(level, growth_rate, growth_cap);

        let signal_free = config.signal_free_churn(segment);
        let mid_term = signal_free * config.signal_free.mid_term_share;
        let months_between = f64::from(term_months.max(2) - 1);
        let termination_monthly = 1.0 - (1.0 - mid_term).powf(1.0 / months_between);
        let signal_free_renewal = (signal_free - mid_term) / (1.0 - mid_term);

        Rules {
            hazards,
            level,
            growth_rate,
            growth_cap,
            growth_saturation,
            gradual_window: config.decline.gradual_window,
            sudden_window: config.decline.sudden_window,
            signal_free_renewal,
            termination_monthly,
            gradual_churn: config.decline.gradual_churn,
            sudden_churn: config.decline.sudden_churn,
            intervention_monthly: if mechanisms.interventions {
                config.interventions.monthly
            } else {
                0.0
            },
            intervention_window: config.interventions.window_months,
            odds_ratio: config.interventions.odds_ratio,
            decline_contraction: config.decline.contraction,
            steady_expansion: config.renewal.steady_expansion,
            steady_contraction: config.renewal.steady_contraction,
            renewal_midpoint: config.growth.renewal_midpoint,
            renewal_slope: config.growth.renewal_slope,
            mid_term_monthly: if mechanisms.mid_term_expansion {
                config.growth.mid_term_monthly
            } else {
                0.0
            },
        }
    }

    /// Returns the account's hazards.
    pub fn hazards(&self) -> Hazards {
        self.hazards
    }

    /// Returns the monthly probability of a signal-free churn mid-term.
    pub fn termination_monthly(&self) -> f64 {
        self.termination_monthly
    }

    /// Returns the seat utilization (active users / seats, before onboarding, seasonality and
    /// noise) in a growth phase that has run `months` months: the level grown by
    /// `growth_rate` for `months + 1` months, at most the cap.
    pub fn growth_utilization(&self, months: u16) -> f64 {
        let grown = self.level * (1.0 + self.growth_rate).powi(i32::from(months) + 1);
        grown.min(self.growth_cap)
    }

    /// Stage 1: ages the phase by a month and emits the possible phase starts of
    /// a steady account, `months_to_renewal` months before its renewal.
    pub fn advance(
        &self,
        latent: Latent,
        months_to_renewal: u32,
        mut emit: impl FnMut(f64, Latent),
    ) {
        if latent.phase != Phase::Steady {
            emit(
                1.0,
                Latent {
                    phase: latent.phase.aged(),
                    ..latent
                },
            );
            return;
        }

        let gradual = if in_window(months_to_renewal, self.gradual_window) {
            self.hazards.gradual
        } else {
            0.0
        };
        let sudden = if in_window(months_to_renewal, self.sudden_window) {
            self.hazards.sudden
        } else {
            0.0
        };
        let growth = if months_to_renewal >= 1 {
            self.hazards.growth
        } else {
            0.0
        };

        let with = |phase| Latent { phase, ..latent };
        emit_positive(&mut emit, gradual, with(Phase::Gradual { months: 0 }));
        emit_positive(
            &mut emit,
            (1.0 - gradual) * sudden,
            with(Phase::Sudden { months: 0 }),
        );
        emit_positive(
            &mut emit,
            (1.0 - gradual) * (1.0 - sudden) * growth,
            with(Phase::Growth { months: 0 }),
        );
        emit_positive(
            &mut emit,
            (1.0 - gradual) * (1.0 - sudden) * (1.0 - growth),
            latent,
        );
    }

    /// Stage 2: emits whether CS logs an intervention this month. Only an account
    /// declining for a month or more, within the intervention window of its
    /// renewal and without an intervention this term, can get one.
    pub fn intervene(
        &self,
        latent: Latent,
        months_to_renewal: u32,
        mut emit: impl FnMut(f64, Latent),
    ) {
        let eligible = latent.phase.is_declining()
            && latent.phase.months() >= 1
            && !latent.intervened
            && (1..=self.intervention_window).contains(&months_to_renewal);
        if !eligible {
            emit(1.0, latent);
            return;
        }

        let intervened = Latent {
            intervened: true,
            ..latent
        };
        emit_positive(&mut emit, self.intervention_monthly, intervened);
        emit_positive(&mut emit, 1.0 - self.intervention_monthly, latent);
    }

    /// Returns the outcome probabilities at a renewal in state `latent`.
    pub fn renewal_odds(&self, latent: Latent) -> RenewalOdds {
        let intervention = |p: f64| {
            if latent.intervened {
                adjust_odds(p, self.odds_ratio)
            } else {
                p
            }
        };
        let (signal, expand, contract) = match latent.phase {
            Phase::Steady => (0.0, self.steady_expansion, self.steady_contraction),
            Phase::Gradual { .. } => (
                intervention(self.gradual_churn),
                0.0,
                self.decline_contraction,
            ),
            Phase::Sudden { .. } => (
                intervention(self.sudden_churn),
                0.0,
                self.decline_contraction,
            ),
            Phase::Growth { months } => {
                let utilization = self.growth_utilization(months);
                let expand = logistic(self.renewal_slope * (utilization - self.renewal_midpoint));
                (0.0, expand, 0.0)
            }
        };
        RenewalOdds {
            signal_free: self.signal_free_renewal,
            signal,
            expand,
            contract,
        }
    }

    /// Stage 3: emits the month-end events and the state after them. At a
    /// renewal (`months_to_renewal == 0`) every surviving branch starts a new
    /// term as a fresh steady account. In other months the account may end its
    /// contract without a signal, and a growing account past its seat limit may
    /// buy seats.
    pub fn settle(
        &self,
        latent: Latent,
        months_to_renewal: u32,
        mut emit: impl FnMut(f64, Event, Latent),
    ) {
        if months_to_renewal == 0 {
            self.settle_renewal(latent, &mut emit);
            return;
        }

        let stays = 1.0 - self.termination_monthly;
        emit_event(
            &mut emit,
            self.termination_monthly,
            Event::Terminated,
            latent,
        );
        if let Phase::Growth { months } = latent.phase
            && self.growth_utilization(months) >= 1.0
            && self.mid_term_monthly > 0.0
        {
            let steady = Latent {
                phase: Phase::Steady,
                ..latent
            };
            emit_event(
                &mut emit,
                stays * self.mid_term_monthly,
                Event::MidTermExpansion,
                steady,
            );
            emit_event(
                &mut emit,
                stays * (1.0 - self.mid_term_monthly),
                Event::Nothing,
                latent,
            );
            return;
        }
        emit_event(&mut emit, stays, Event::Nothing, latent);
    }

    fn settle_renewal(&self, latent: Latent, emit: &mut impl FnMut(f64, Event, Latent)) {
        let odds = self.renewal_odds(latent);
        let renews = (1.0 - odds.signal_free) * (1.0 - odds.signal);
        let after = Latent::FRESH;
        let churned = |signal_free| Event::Churned { signal_free };
        emit_event(emit, odds.signal_free, churned(true), latent);
        emit_event(
            emit,
            (1.0 - odds.signal_free) * odds.signal,
            churned(false),
            latent,
        );
        emit_event(emit, renews * odds.expand, Event::Expanded, after);
        emit_event(emit, renews * odds.contract, Event::Contracted, after);
        emit_event(
            emit,
            renews * (1.0 - odds.expand - odds.contract),
            Event::Renewed,
            after,
        );
    }

    /// Returns the exact probabilities of churn and of at least one expansion over the
    /// months ahead, from the state `start` at a month-end.
    ///
    /// `months_to_renewal` gives, for each later month in order, the months left
    /// to the renewal then (0 in a renewal month). The forecast runs the three
    /// stages over every branch, merging branches that reach the same decision
    /// state, so its cost grows with the number of distinct states, not with the
    /// number of paths.
    pub fn forecast(
        &self,
        start: Latent,
        months_to_renewal: impl IntoIterator<Item = u32>,
    ) -> Forecast {
        SCRATCH.with(|scratch| {
            let [states, aged, checked] = &mut *scratch.borrow_mut();
            let count = self.state_count();
            for set in [&mut *states, &mut *aged, &mut *checked] {
                set.reserve_states(count);
            }
            let forecast = self.forecast_into(start, months_to_renewal, states, aged, checked);
            for set in [states, aged, checked] {
                set.clear(self);
            }
            forecast
        })
    }

    fn forecast_into(
        &self,
        start: Latent,
        months_to_renewal: impl IntoIterator<Item = u32>,
        states: &mut StateSet,
        aged: &mut StateSet,
        checked: &mut StateSet,
    ) -> Forecast {
        states.add(self, self.decision_key(start), false, 1.0);
        let mut churn = 0.0;
        let mut expanded_then_churned = 0.0;

        for m in months_to_renewal {
            aged.clear(self);
            for &(latent, expanded, p) in &states.entries {
                self.advance(latent, m, |q, after| {
                    aged.add(self, self.decision_key(after), expanded, p * q)
                });
            }

            checked.clear(self);
            for &(latent, expanded, p) in &aged.entries {
                self.intervene(latent, m, |q, after| {
                    checked.add(self, after, expanded, p * q)
                });
            }

            states.clear(self);
            for &(latent, expanded, p) in &checked.entries {
                self.settle(latent, m, |q, event, after| {
                    let mass = p * q;
                    if event.is_churn() {
                        churn += mass;
                        if expanded {
                            expanded_then_churned += mass;
                        }
                    } else {
                        let expanded = expanded || event.is_expansion();
                        states.add(self, self.decision_key(after), expanded, mass);
                    }
                });
            }
        }

        let expanded_alive: f64 = states
            .entries
            .iter()
            .filter(|(_, expanded, _)| *expanded)
            .map(|(_, _, p)| p)
            .sum();
        Forecast {
            churn,
            expansion: expanded_alive + expanded_then_churned,
        }
    }

    /// Returns the state with its phase months cut to what the decisions can tell apart:
    /// a decline only matters as "this month" or "a month or more", and growth
    /// stops mattering once utilization reaches the cap.
    fn decision_key(&self, latent: Latent) -> Latent {
        let phase = match latent.phase {
            Phase::Steady => Phase::Steady,
            Phase::Gradual { months } => Phase::Gradual {
                months: months.min(1),
            },
            Phase::Sudden { months } => Phase::Sudden {
                months: months.min(1),
            },
            Phase::Growth { months } => Phase::Growth {
                months: months.min(self.growth_saturation),
            },
        };
        Latent { phase, ..latent }
    }

    /// Returns the number of distinct decision states, with the expansion flag of a forecast.
    fn state_count(&self) -> usize {
        (6 + usize::from(self.growth_saturation)) * 4
    }

    /// Returns a dense index of a decision state and expansion flag.
    fn state_index(&self, latent: Latent, expanded: bool) -> usize {
        let phase = match latent.phase {
            Phase::Steady => 0,
            Phase::Gradual { months } => 1 + usize::from(months.min(1)),
            Phase::Sudden { months } => 3 + usize::from(months.min(1)),
            Phase::Growth { months } => 5 + usize::from(months.min(self.growth_saturation)),
        };
        (phase * 2 + usize::from(latent.intervened)) * 2 + usize::from(expanded)
    }
}

thread_local! {
    /// Reused state sets of `Rules::forecast`, which runs once per account
    /// month-end; they are empty between calls.
    static SCRATCH: RefCell<[StateSet; 3]> = RefCell::new([
        StateSet::default(),
        StateSet::default(),
        StateSet::default(),
    ]);
}

/// Probability mass on decision states, with constant-time merging of branches
/// that reach the same state.
#[derive(Default)]
struct StateSet {
    entries: Vec<(Latent, bool, f64)>,
    slots: Vec<u32>,
}

impl StateSet {
    const EMPTY: u32 = u32::MAX;

    /// Makes room for `count` distinct states.
    fn reserve_states(&mut self, count: usize) {
        if self.slots.len() < count {
            self.slots.resize(count, StateSet::EMPTY);
        }
    }

    fn add(&mut self, rules: &Rules, latent: Latent, expanded: bool, p: f64) {
        let index = rules.state_index(latent, expanded);
        match self.slots[index] {
            StateSet::EMPTY => {
                self.slots[index] = self.entries.len() as u32;
                self.entries.push((latent, expanded, p));
            }
            slot => self.entries[slot as usize].2 += p,
        }
    }

    fn clear(&mut self, rules: &Rules) {
        for &(latent, expanded, _) in &self.entries {
            self.slots[rules.state_index(latent, expanded)] = StateSet::EMPTY;
        }
        self.entries.clear();
    }
}

/// Returns the first growth month at which utilization reaches the cap (after that,
/// more months change nothing).
fn saturation_months(level: f64, rate: f64, cap: f64) -> u16 {
    if rate <= 0.0 {
        return 0;
    }
    let mut months: u16 = 0;
    while level * (1.0 + rate).powi(i32::from(months) + 1) < cap && months < u16::MAX - 1 {
        months += 1;
    }
    months
}

fn in_window(months_to_renewal: u32, window: [u32; 2]) -> bool {
    (window[0]..=window[1]).contains(&months_to_renewal)
}

fn emit_positive(emit: &mut impl FnMut(f64, Latent), p: f64, latent: Latent) {
    if p > 0.0 {
        emit(p, latent);
    }
}

fn emit_event(emit: &mut impl FnMut(f64, Event, Latent), p: f64, event: Event, latent: Latent) {
    if p > 0.0 {
        emit(p, event, latent);
    }
}

/// Returns `p` with its odds multiplied by `ratio`.
pub fn adjust_odds(p: f64, ratio: f64) -> f64 {
    if p >= 1.0 {
        return 1.0;
    }
    let odds = p / (1.0 - p) * ratio;
    odds / (1.0 + odds)
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Picks one branch of a stage from a uniform draw in [0, 1).
#[derive(Debug)]
pub struct Picker<T> {
    target: f64,
    cumulative: f64,
    chosen: Option<T>,
    last: Option<T>,
}

impl<T: Copy> Picker<T> {
    /// Creates a picker for the uniform draw `u`.
    pub fn new(u: f64) -> Picker<T> {
        Picker {
            target: u,
            cumulative: 0.0,
            chosen: None,
            last: None,
        }
    }

    /// Offers a branch with probability `p`.
    pub fn offer(&mut self, p: f64, item: T) {
        if self.chosen.is_none() {
            self.cumulative += p;
            if self.target < self.cumulative {
                self.chosen = Some(item);
            }
        }
        self.last = Some(item);
    }

    /// Returns the chosen branch; the last one when rounding left the draw above the
    /// sum of the probabilities.
    pub fn pick(self) -> T {
        self.chosen
            .or(self.last)
            .expect("every stage emits at least one branch")
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn rules(hazards: Hazards) -> Rules {
        Rules::new(&SimConfig::default(), Segment::Smb, 12, 0.7, 0.05, hazards)
    }

    fn busy_hazards() -> Hazards {
        Hazards {
            gradual: 0.08,
            sudden: 0.05,
            growth: 0.06,
        }
    }

    /// Draws one path through the stages and reports whether the account
    /// churned and whether it expanded.
    fn sample_path(
        rules: &Rules,
        start: Latent,
        months: &[u32],
        rng: &mut ChaCha8Rng,
    ) -> (bool, bool) {
        let mut latent = start;
        let mut expanded = false;
        for &m in months {
            let mut picker = Picker::new(rng.random::<f64>());
            rules.advance(latent, m, |p, next| picker.offer(p, next));
            latent = picker.pick();

            let mut picker = Picker::new(rng.random::<f64>());
            rules.intervene(latent, m, |p, next| picker.offer(p, next));
            latent = picker.pick();

            let mut picker = Picker::new(rng.random::<f64>());
            rules.settle(latent, m, |p, event, next| picker.offer(p, (event, next)));
            let (event, next) = picker.pick();
            if event.is_churn() {
                return (true, expanded);
            }
            expanded |= event.is_expansion();
            latent = next;
        }
        (false, expanded)
    }

    #[test]
    fn forecast_matches_monte_carlo() {
        let rules = rules(busy_hazards());
        // Five months ahead with the renewal in the fourth: 4, 3, 2, 1, 0 left...
        // then the first month of the next term.
        let months = [3, 2, 1, 0, 11];
        let starts = [
            Latent::FRESH,
            Latent {
                phase: Phase::Gradual { months: 2 },
                intervened: false,
            },
            Latent {
                phase: Phase::Growth { months: 4 },
                intervened: false,
            },
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let paths = 200_000;
        for start in starts {
            let exact = rules.forecast(start, months);
            let (mut churned, mut expanded) = (0u32, 0u32);
            for _ in 0..paths {
                let (c, e) = sample_path(&rules, start, &months, &mut rng);
                churned += u32::from(c);
                expanded += u32::from(e);
            }
            let churn_rate = f64::from(churned) / f64::from(paths);
            let expansion_rate = f64::from(expanded) / f64::from(paths);
            // Four standard errors of a proportion near 0.5 over 200,000 paths
            // is 4 * 0.5 / sqrt(200000) = 0.0045.
            assert!(
                (churn_rate - exact.churn).abs() < 0.0045,
                "{start:?}: churn {churn_rate} vs {}",
                exact.churn
            );
            assert!(
                (expansion_rate - exact.expansion).abs() < 0.0045,
                "{start:?}: expansion {expansion_rate} vs {}",
                exact.expansion
            );
        }
    }

    #[test]
    fn forecast_of_declining_account_at_renewal() {
        let rules = rules(busy_hazards());
        let start = Latent {
            phase: Phase::Gradual { months: 4 },
            intervened: false,
        };
        let forecast = rules.forecast(start, [0]);
        // Signal-free churn per term is 0.35 * 0.18 = 0.063, 60% of it mid-term:
        // a = 0.0378, so the renewal draw is 0.0252 / 0.9622 = 0.026190. Then
        // gradual churn 0.7: 0.026190 + 0.973810 * 0.7 = 0.707857.
        let renewal = 0.0252 / 0.9622;
        assert!((forecast.churn - (renewal + (1.0 - renewal) * 0.7)).abs() < 1e-12);
        assert_eq!(forecast.expansion, 0.0);
    }

    #[test]
    fn intervention_scales_churn_odds() {
        let rules = rules(busy_hazards());
        let latent = Latent {
            phase: Phase::Gradual { months: 4 },
            intervened: true,
        };
        // Odds 0.7 / 0.3, times 0.45 = 1.05, back to p = 1.05 / 2.05.
        let odds = rules.renewal_odds(latent);
        assert!((odds.signal - 1.05 / 2.05).abs() < 1e-12);
    }

    #[test]
    fn far_renewal_churns_only_by_termination() {
        let rules = rules(busy_hazards());
        let forecast = rules.forecast(Latent::FRESH, [20, 19, 18, 17, 16]);
        let monthly = rules.termination_monthly();
        // The mid-term part 0.0378 spreads over 11 months: 1 - 0.9622^(1/11).
        assert!((monthly - (1.0 - 0.9622f64.powf(1.0 / 11.0))).abs() < 1e-12);
        assert!((forecast.churn - (1.0 - (1.0 - monthly).powi(5))).abs() < 1e-12);
        // Growth would have to pass the seat limit for a mid-term purchase, but
        // five months at 5% from 0.7 reach only 0.7 * 1.05^5 = 0.89.
        assert_eq!(forecast.expansion, 0.0);
    }

    #[test]
    fn growing_account_past_limit_may_expand_mid_term() {
        let rules = rules(busy_hazards());
        let start = Latent {
            phase: Phase::Growth { months: 8 },
            intervened: false,
        };
        // Utilization 0.7 * 1.05^10 = 1.14 >= 1, so each month that the
        // account stays (1 - t) it buys seats with probability 0.25:
        // s + (1 - t)(1 - 0.25) s with s = (1 - t) 0.25 over two months.
        let forecast = rules.forecast(start, [20, 19]);
        let stays = 1.0 - rules.termination_monthly();
        let first = stays * 0.25;
        assert!((forecast.expansion - (first + stays * 0.75 * first)).abs() < 1e-12);
    }

    #[test]
    fn decline_starts_only_inside_windows() {
        let rules = rules(busy_hazards());
        let mut phases = Vec::new();
        rules.advance(Latent::FRESH, 10, |_, latent| phases.push(latent.phase));
        assert_eq!(phases, vec![Phase::Growth { months: 0 }, Phase::Steady]);

        phases.clear();
        rules.advance(Latent::FRESH, 0, |_, latent| phases.push(latent.phase));
        assert_eq!(phases, vec![Phase::Steady]);
    }

    #[test]
    fn branches_sum_to_one() {
        let rules = rules(busy_hazards());
        let latents = [
            Latent::FRESH,
            Latent {
                phase: Phase::Sudden { months: 1 },
                intervened: false,
            },
            Latent {
                phase: Phase::Growth { months: 9 },
                intervened: true,
            },
        ];
        for latent in latents {
            for m in 0..12 {
                let mut total = 0.0;
                rules.advance(latent, m, |p, _| total += p);
                assert!((total - 1.0).abs() < 1e-12, "advance {latent:?} {m}");
                let mut total = 0.0;
                rules.intervene(latent, m, |p, _| total += p);
                assert!((total - 1.0).abs() < 1e-12, "intervene {latent:?} {m}");
                let mut total = 0.0;
                rules.settle(latent, m, |p, _, _| total += p);
                assert!((total - 1.0).abs() < 1e-12, "settle {latent:?} {m}");
            }
        }
    }

    #[test]
    fn growth_utilization_caps() {
        let rules = rules(busy_hazards());
        // 0.7 * 1.05 = 0.735 after the first month.
        assert!((rules.growth_utilization(0) - 0.735).abs() < 1e-12);
        assert_eq!(rules.growth_utilization(200), 1.4);
    }

    #[test]
    fn hazards_spread_cumulative_risk_over_windows() {
        let config = SimConfig::default();
        let hazards = Hazards::new(&config, 1.0, 1.0, 0.7, 0.02);
        // Gradual: 0.7 * 0.75 over 7 months; sudden: 0.7 * 0.25 over 3 months.
        let gradual_total = 1.0 - (1.0 - hazards.gradual).powi(7);
        let sudden_total = 1.0 - (1.0 - hazards.sudden).powi(3);
        assert!((gradual_total - (1.0 - (-0.525f64).exp())).abs() < 1e-12);
        assert!((sudden_total - (1.0 - (-0.175f64).exp())).abs() < 1e-12);
        assert!((hazards.growth - (1.0 - (-0.02f64).exp())).abs() < 1e-12);
    }
}
