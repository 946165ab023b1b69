//! One account's life: draw its profile, run the monthly stages from the start
//! of the contract term in force when the window opens, and record its rows and
//! the truth behind them.
//!
//! Every account draws from its own random streams (one each for the profile,
//! the outcomes, the usage noise and the daily split), keyed by the seed and the
//! account's index. An account's rows therefore do not depend on the chunk it is
//! generated in, on threads, or on whether the usage is split into days.

use std::ops::Range;

use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::calendar::{Window, epoch_days};
use crate::calibrate::{Calibration, term_forecast};
use crate::catalog::{
    INTERVENTIONS, Metric, SIGNAL_CHURN_REASONS, SIGNAL_FREE_CHURN_REASONS, TERMINATION_REASONS,
};
use crate::config::{Grain, SimConfig};
use crate::dynamics::{Event, Forecast, Latent, Phase, Picker, RenewalOdds, Rules};
use crate::profile::AccountProfile;
use crate::records::{
    AccountRecord, Chunk, ContractRecord, InterventionRecord, MechanismSet, MonthTruth,
    OutcomeRecord, TermEnd, TermTruth, UsageRecord, round_probability,
};
use crate::usage::{self, MonthUsage, Settling, UsageState};

const STREAM_PROFILE: u64 = 0;
const STREAM_OUTCOMES: u64 = 1;
const STREAM_USAGE: u64 = 2;
const STREAM_DAILY: u64 = 3;
const STREAMS_PER_ACCOUNT: u64 = 4;

/// Onboarding counts as a mechanism of the account when usage is shown within
/// this many months of joining.
const ONBOARDING_MONTHS: i32 = 6;

/// Everything shared by the accounts of one portfolio.
#[derive(Debug, Clone)]
pub struct SimContext {
    config: SimConfig,
    window: Window,
    calibration: Calibration,
    horizons: Vec<i32>,
}

impl SimContext {
    /// Creates the context of a portfolio; `calibration` comes from `calibrate(config)`.
    pub fn new(config: &SimConfig, calibration: Calibration) -> SimContext {
        let window = Window::new(config.start, config.months);
        let horizons = (0..config.months as i32)
            .map(|month| window.horizon_months(month, config.horizon_days))
            .collect();
        SimContext {
            config: config.clone(),
            window,
            calibration,
            horizons,
        }
    }

    /// Returns the config.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Returns the window.
    pub fn window(&self) -> Window {
        self.window
    }

    /// Returns the calibration.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// Simulates the accounts with these indices, in order.
    pub fn simulate(&self, accounts: Range<u64>) -> Chunk {
        let mut chunk = Chunk::default();
        for index in accounts {
            AccountRun::new(self, index).run(&mut chunk);
        }
        chunk
    }

    /// Returns the months after `month` that fall within the horizon.
    fn horizon(&self, month: i32) -> i32 {
        self.horizons[month as usize]
    }
}

/// Returns the random stream of one purpose of one account.
fn stream(seed: u64, account: u64, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(account * STREAMS_PER_ACCOUNT + purpose);
    rng
}

/// The contract term in progress.
#[derive(Debug, Clone)]
struct Term {
    start: i32,
    end: i32,
    forecast: Forecast,
    expanded: bool,
    mechanisms: MechanismSet,
}

struct AccountRun<'a> {
    ctx: &'a SimContext,
    profile: AccountProfile,
    rules: Rules,
    outcomes_rng: ChaCha8Rng,
    usage_rng: ChaCha8Rng,
    daily_rng: ChaCha8Rng,
    seats: f64,
    next_seq: u32,
    term: Term,
    latent: Latent,
    usage: UsageState,
    events: Vec<(i32, Event)>,
    mechanisms: MechanismSet,
    churned_on: Option<NaiveDate>,
}

impl<'a> AccountRun<'a> {
    fn new(ctx: &'a SimContext, index: u64) -> AccountRun<'a> {
        let config = &ctx.config;
        let mut profile_rng = stream(config.seed, index, STREAM_PROFILE);
        let profile = AccountProfile::draw(config, ctx.window, index, None, &mut profile_rng);
        let hazards = ctx.calibration.hazards(config, &profile);
        let rules = Rules::new(
            config,
            profile.segment,
            profile.term_months,
            profile.level,
            profile.growth_rate,
            hazards,
        );

        let first = profile.term_start(profile.joined.max(0));
        let seats = profile.seats;
        let usage = UsageState::new(&profile, seats, first);
        let term = Term {
            start: first,
            end: first + profile.term_months as i32 - 1,
            forecast: term_forecast(&rules, profile.term_months),
            expanded: false,
            mechanisms: MechanismSet::default(),
        };

        let mut mechanisms = MechanismSet::default();
        if profile.season_amplitude > 0.0 {
            mechanisms.insert(MechanismSet::SEASONALITY);
        }
        if profile.unused_features() > 0 {
            mechanisms.insert(MechanismSet::UNUSED_FEATURES);
        }
        if config.mechanisms.adoption && profile.joined > -ONBOARDING_MONTHS {
            mechanisms.insert(MechanismSet::ADOPTION);
        }

        AccountRun {
            ctx,
            rules,
            outcomes_rng: stream(config.seed, index, STREAM_OUTCOMES),
            usage_rng: stream(config.seed, index, STREAM_USAGE),
            daily_rng: stream(config.seed, index, STREAM_DAILY),
            seats,
            next_seq: 2,
            term,
            latent: Latent::FRESH,
            usage,
            events: Vec::new(),
            mechanisms,
            churned_on: None,
            profile,
        }
    }

    fn run(mut self, chunk: &mut Chunk) {
        let first = self.term.start;
        self.push_contract(chunk, 1, first, self.term.end);

        let first_truth = chunk.months.len();
        for month in first..=self.ctx.window.last_index() {
            let active = self.step(month, chunk);
            if !active {
                break;
            }
        }

        self.label_truth(&mut chunk.months[first_truth..]);
        chunk.accounts.push(self.account_record());
    }

    /// Runs one month; returns whether the account is still a customer after it.
    fn step(&mut self, month: i32, chunk: &mut Chunk) -> bool {
        let m = self.profile.months_to_renewal(month);
        self.advance_phase(m);
        self.maybe_intervene(month, m, chunk);

        let month_usage = self.draw_usage(month);
        if month >= 0 {
            self.push_usage(month, &month_usage, chunk);
        }

        let (before, event) = self.settle_month(month, m, chunk);
        let active = !event.is_churn();
        if month >= 0 {
            self.push_month_truth(month, m, active, chunk);
        }
        self.close_ended_term(month, m, before, event, chunk);
        active
    }

    /// Stage 1: ages the phase and draws any phase start.
    fn advance_phase(&mut self, months_to_renewal: u32) {
        let latent = self.latent;
        let mut picker = Picker::new(self.outcomes_rng.random::<f64>());
        self.rules
            .advance(latent, months_to_renewal, |p, next| picker.offer(p, next));
        self.latent = picker.pick();
        self.term
            .mechanisms
            .insert(MechanismSet::of_phase(self.latent.phase));
    }

    /// Stage 2: draws whether CS intervenes, and logs the intervention if so.
    fn maybe_intervene(&mut self, month: i32, months_to_renewal: u32, chunk: &mut Chunk) {
        let latent = self.latent;
        let mut picker = Picker::new(self.outcomes_rng.random::<f64>());
        self.rules
            .intervene(latent, months_to_renewal, |p, next| picker.offer(p, next));
        self.latent = picker.pick();
        if self.latent.intervened && !latent.intervened {
            self.log_intervention(month, months_to_renewal, chunk);
        }
    }

    /// Stage 3: draws the month-end event and records it; returns the state
    /// before the event and the event.
    fn settle_month(
        &mut self,
        month: i32,
        months_to_renewal: u32,
        chunk: &mut Chunk,
    ) -> (Latent, Event) {
        let before = self.latent;
        let mut picker = Picker::new(self.outcomes_rng.random::<f64>());
        self.rules
            .settle(before, months_to_renewal, |p, event, next| {
                picker.offer(p, (event, next))
            });
        let (event, after) = picker.pick();
        self.latent = after;
        self.apply_event(month, before, event, chunk);
        (before, event)
    }

    /// Records the term's truth when the month ended it, by a renewal or a
    /// termination.
    fn close_ended_term(
        &mut self,
        month: i32,
        months_to_renewal: u32,
        before: Latent,
        event: Event,
        chunk: &mut Chunk,
    ) {
        if months_to_renewal == 0 {
            let odds = self.rules.renewal_odds(before);
            self.close_term(month, before, event, odds, TermEnd::Renewal, chunk);
        } else if event == Event::Terminated {
            let odds = RenewalOdds {
                signal_free: self.rules.termination_monthly(),
                signal: 0.0,
                expand: 0.0,
                contract: 0.0,
            };
            self.close_term(month, before, event, odds, TermEnd::Termination, chunk);
        }
    }

    fn draw_usage(&mut self, month: i32) -> MonthUsage {
        usage::month_usage(
            &self.ctx.config,
            &self.profile,
            &self.rules,
            self.seats,
            self.latent.phase,
            month,
            self.ctx.window.month(month),
            &mut self.usage,
            &mut self.usage_rng,
        )
    }

    fn push_usage(&mut self, month: i32, values: &MonthUsage, chunk: &mut Chunk) {
        let account = self.profile.index;
        let calendar = self.ctx.window.month(month);
        let month_end = epoch_days(calendar.last_day());
        let first_day = month_end - calendar.days() as i32;
        let previous_storage = self.usage.last_storage_value;
        self.usage.last_storage_value = Some(values.storage_gb);

        let grain = self.ctx.config.grain;
        values.each_value(&self.profile, |metric, value| {
            if metric_row_skipped(metric, value) {
                return;
            }
            match grain {
                Grain::Month => chunk.usage.push(UsageRecord {
                    account,
                    date: month_end,
                    metric,
                    value,
                }),
                Grain::Day => {
                    let previous = (metric == Metric::StorageGb)
                        .then_some(previous_storage)
                        .flatten();
                    usage::split_days(
                        metric,
                        value,
                        previous,
                        calendar,
                        &mut self.daily_rng,
                        |day, value| {
                            chunk.usage.push(UsageRecord {
                                account,
                                date: first_day + day as i32,
                                metric,
                                value,
                            })
                        },
                    );
                }
            }
        });
    }

    fn log_intervention(&mut self, month: i32, months_to_renewal: u32, chunk: &mut Chunk) {
        let calendar = self.ctx.window.month(month);
        let day = self.outcomes_rng.random_range(1..=calendar.days());
        let candidates: &[usize] = match self.latent.phase {
            Phase::Sudden { .. } => &[1, 2],
            _ if months_to_renewal <= 2 => &[1, 2, 3],
            _ => &[0, 1, 2],
        };
        let (kind, note) =
            INTERVENTIONS[candidates[self.outcomes_rng.random_range(0..candidates.len())]];
        chunk.interventions.push(InterventionRecord {
            account: self.profile.index,
            date: calendar
                .first_day()
                .with_day(day)
                .expect("day within month"),
            kind,
            note,
        });
        self.term.mechanisms.insert(MechanismSet::INTERVENTION);
    }

    fn apply_event(&mut self, month: i32, before: Latent, event: Event, chunk: &mut Chunk) {
        let arr_before = self.profile.arr(self.seats);
        let date = self.ctx.window.month_end(month);
        let (outcome, reason) = match event {
            Event::Nothing => return,
            Event::Renewed => {
                if before.phase != Phase::Steady {
                    self.start_settling(month, before.phase);
                }
                ("renewed", "")
            }
            Event::Expanded => {
                self.seats = self.expanded_seats(before.phase);
                ("expanded", "added seats")
            }
            Event::Contracted => {
                let seats = self.contracted_seats(before.phase);
                let outcome = if seats < self.seats {
                    "contracted"
                } else {
                    "renewed"
                };
                self.seats = seats;
                (outcome, "reduced seats")
            }
            Event::Churned { signal_free } => {
                let reasons = if signal_free {
                    SIGNAL_FREE_CHURN_REASONS
                } else {
                    SIGNAL_CHURN_REASONS
                };
                self.churned_on = Some(date);
                (
                    "churned",
                    reasons[self.outcomes_rng.random_range(0..reasons.len())],
                )
            }
            Event::Terminated => {
                let reasons = TERMINATION_REASONS;
                self.churned_on = Some(date);
                (
                    "churned",
                    reasons[self.outcomes_rng.random_range(0..reasons.len())],
                )
            }
            Event::MidTermExpansion => {
                self.seats = self.expanded_seats(before.phase);
                self.term
                    .mechanisms
                    .insert(MechanismSet::MID_TERM_EXPANSION);
                ("expanded", "mid-term expansion")
            }
        };

        let arr_after = if event.is_churn() {
            0.0
        } else {
            self.profile.arr(self.seats)
        };
        chunk.outcomes.push(OutcomeRecord {
            account: self.profile.index,
            date,
            outcome,
            contract_seq: self.current_seq(),
            arr_before,
            arr_after,
            reason: if outcome == "renewed" { "" } else { reason },
        });
        if event.is_expansion() {
            self.term.expanded = true;
        }
        self.events.push((month, event));

        match event {
            Event::MidTermExpansion => {
                let seq = self.take_seq();
                self.push_contract(chunk, seq, month + 1, self.term.end);
            }
            Event::Renewed | Event::Expanded | Event::Contracted => {
                let seq = self.take_seq();
                let end = month + self.profile.term_months as i32;
                self.push_contract(chunk, seq, month + 1, end);
            }
            Event::Churned { .. } | Event::Terminated | Event::Nothing => {}
        }
    }

    /// Moves usage back to the level over the next months, after a renewal that
    /// ended a decline (a recovery) or a growth phase (the extra use was a
    /// project that ended) without changing seats.
    fn start_settling(&mut self, month: i32, phase: Phase) {
        self.usage.settling = Some(Settling {
            from: self.usage.last_phase_factor,
            month,
        });
        if phase.is_declining() {
            self.mechanisms.insert(MechanismSet::RECOVERY);
        }
    }

    /// Returns the seats after an expansion: a growing account buys seats that bring its
    /// utilization back to its level; a steady one adds a team.
    fn expanded_seats(&mut self, phase: Phase) -> f64 {
        let multiplier = match phase {
            Phase::Growth { months } => self.rules.growth_utilization(months) / self.profile.level,
            _ => {
                let range = self.ctx.config.renewal.expansion_seats;
                range[0] + (range[1] - range[0]) * self.outcomes_rng.random::<f64>()
            }
        };
        (self.seats * multiplier).round().max(self.seats + 1.0)
    }

    /// Returns the seats after a contraction: a declining account keeps the seats it uses;
    /// a steady one drops a team.
    fn contracted_seats(&mut self, phase: Phase) -> f64 {
        let multiplier = if phase.is_declining() {
            self.usage.last_phase_factor
        } else {
            let range = self.ctx.config.renewal.contraction_seats;
            range[0] + (range[1] - range[0]) * self.outcomes_rng.random::<f64>()
        };
        (self.seats * multiplier)
            .round()
            .clamp(1.0, (self.seats - 1.0).max(1.0))
    }

    fn current_seq(&self) -> u32 {
        self.next_seq - 1
    }

    fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    fn push_contract(&mut self, chunk: &mut Chunk, seq: u32, first: i32, last: i32) {
        let profile = &self.profile;
        let window = self.ctx.window;
        chunk.contracts.push(ContractRecord {
            account: profile.index,
            seq,
            start: window.month(first).first_day(),
            end: window.month_end(last),
            arr: profile.arr(self.seats),
            currency: profile.currency,
            plan: profile.plan,
            auto_renew: profile.auto_renew,
            seats: self.seats,
            api_limit: usage::api_limit(profile, self.seats),
            api_enforcement: profile.plan.api_enforcement(),
            storage_limit: usage::storage_limit(profile, self.seats),
            features: profile.plan.features(),
        });
    }

    fn push_month_truth(
        &self,
        month: i32,
        months_to_renewal: u32,
        active: bool,
        chunk: &mut Chunk,
    ) {
        let forecast = if active {
            let horizon = self.ctx.horizon(month);
            let ahead = (month + 1..=month + horizon).map(|m| self.profile.months_to_renewal(m));
            self.rules.forecast(self.latent, ahead)
        } else {
            Forecast::default()
        };
        chunk.months.push(MonthTruth {
            account: self.profile.index,
            month,
            date: self.ctx.window.month_end(month),
            phase: self.latent.phase,
            intervened: self.latent.intervened,
            months_to_renewal,
            active,
            p_churn: round_probability(forecast.churn),
            p_expand: round_probability(forecast.expansion),
            churned: false,
            expanded: false,
            complete: false,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn close_term(
        &mut self,
        month: i32,
        before: Latent,
        event: Event,
        odds: RenewalOdds,
        ended_by: TermEnd,
        chunk: &mut Chunk,
    ) {
        let signal_free = event.is_signal_free_churn();
        let mut mechanisms = self.term.mechanisms;
        if signal_free {
            mechanisms.insert(MechanismSet::SIGNAL_FREE_CHURN);
        }
        let (outcome, contract_seq) = chunk
            .outcomes
            .last()
            .map(|outcome| (outcome.outcome, outcome.contract_seq))
            .expect("the end of a term always records an outcome");

        let window = self.ctx.window;
        chunk.terms.push(TermTruth {
            account: self.profile.index,
            segment: self.profile.segment,
            contract_seq,
            start: window.month(self.term.start).first_day(),
            scheduled_end: window.month_end(self.term.end),
            scheduled_end_month: self.term.end,
            end: window.month_end(month),
            ended_by,
            phase: before.phase,
            intervened: before.intervened,
            odds,
            outcome,
            signal_free,
            expanded_in_term: self.term.expanded,
            term_churn: self.term.forecast.churn,
            term_expansion: self.term.forecast.expansion,
            mechanisms,
        });
        self.mechanisms.insert(mechanisms);

        self.term = Term {
            start: month + 1,
            end: month + self.profile.term_months as i32,
            forecast: term_forecast(&self.rules, self.profile.term_months),
            expanded: false,
            mechanisms: MechanismSet::default(),
        };
    }

    /// Fills in what happened within each month-end's horizon.
    fn label_truth(&self, rows: &mut [MonthTruth]) {
        let last = self.ctx.window.last_index();
        for row in rows {
            let horizon = self.ctx.horizon(row.month);
            let within = |month: i32| row.month < month && month <= row.month + horizon;
            row.churned = self
                .events
                .iter()
                .any(|(month, event)| event.is_churn() && within(*month));
            row.expanded = self
                .events
                .iter()
                .any(|(month, event)| event.is_expansion() && within(*month));
            row.complete = row.month + horizon <= last;
        }
    }

    fn account_record(&self) -> AccountRecord {
        let profile = &self.profile;
        let mut mechanisms = self.mechanisms;
        mechanisms.insert(self.term.mechanisms);
        AccountRecord {
            account: profile.index,
            name: profile.name.clone(),
            customer_since: self.ctx.window.month(profile.joined).first_day(),
            segment: profile.segment,
            industry: profile.industry,
            region: profile.region,
            owner: profile.owner,
            plan: profile.plan,
            term_months: profile.term_months,
            level: profile.level,
            features: profile.features.len(),
            unused_features: profile.unused_features(),
            season_amplitude: profile.season_amplitude,
            decline_risk: profile.decline_risk,
            growth_propensity: profile.growth_propensity,
            hazards: self.rules.hazards(),
            growth_rate: profile.growth_rate,
            churned_on: self.churned_on,
            mechanisms,
        }
    }
}

/// Returns whether a usage row is left out: feature metrics are written only in
/// months with use, the core metrics always.
fn metric_row_skipped(metric: Metric, value: f64) -> bool {
    matches!(metric, Metric::Feature(_)) && value <= 0.0
}
