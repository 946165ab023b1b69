//! The rows the simulator produces for a chunk of accounts, before they are
//! written as contract tables and truth tables.

use chrono::NaiveDate;

use crate::catalog::{Currency, Enforcement, Feature, Industry, Metric, Plan, Region, Segment};
use crate::dynamics::{Hazards, Phase, RenewalOdds};

/// Decimals kept for probabilities in the truth tables.
pub const PROBABILITY_DECIMALS: i32 = 6;

/// Returns `p` rounded to the decimals the truth tables keep, so that numbers read back
/// from the files equal the ones summarized in memory.
pub fn round_probability(p: f64) -> f64 {
    crate::usage::round_to(p, PROBABILITY_DECIMALS)
}

/// A set of mechanisms seen on an account or at a renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MechanismSet(u16);

impl MechanismSet {
    /// Onboarding ramp inside the window.
    pub const ADOPTION: MechanismSet = MechanismSet(1);
    /// An industry month-of-year pattern.
    pub const SEASONALITY: MechanismSet = MechanismSet(1 << 1);
    /// Entitled features never adopted.
    pub const UNUSED_FEATURES: MechanismSet = MechanismSet(1 << 2);
    /// A gradual decline.
    pub const DECLINE_GRADUAL: MechanismSet = MechanismSet(1 << 3);
    /// A sudden drop.
    pub const DECLINE_SUDDEN: MechanismSet = MechanismSet(1 << 4);
    /// Growth toward or past the seat limit.
    pub const GROWTH: MechanismSet = MechanismSet(1 << 5);
    /// A CS intervention.
    pub const INTERVENTION: MechanismSet = MechanismSet(1 << 6);
    /// A mid-term seat purchase.
    pub const MID_TERM_EXPANSION: MechanismSet = MechanismSet(1 << 7);
    /// Churn without a usage signal.
    pub const SIGNAL_FREE_CHURN: MechanismSet = MechanismSet(1 << 8);
    /// Usage recovering after a declining account renewed.
    pub const RECOVERY: MechanismSet = MechanismSet(1 << 9);

    const NAMES: [(MechanismSet, &'static str); 10] = [
        (MechanismSet::ADOPTION, "adoption"),
        (MechanismSet::SEASONALITY, "seasonality"),
        (MechanismSet::UNUSED_FEATURES, "unused_features"),
        (MechanismSet::DECLINE_GRADUAL, "decline_gradual"),
        (MechanismSet::DECLINE_SUDDEN, "decline_sudden"),
        (MechanismSet::GROWTH, "growth"),
        (MechanismSet::INTERVENTION, "intervention"),
        (MechanismSet::MID_TERM_EXPANSION, "mid_term_expansion"),
        (MechanismSet::SIGNAL_FREE_CHURN, "signal_free_churn"),
        (MechanismSet::RECOVERY, "recovery"),
    ];

    /// Adds the mechanisms of `other`.
    pub fn insert(&mut self, other: MechanismSet) {
        self.0 |= other.0;
    }

    /// Returns whether every mechanism of `other` is in the set.
    pub fn contains(self, other: MechanismSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// Returns the mechanism of a phase, if it has one.
    pub fn of_phase(phase: Phase) -> MechanismSet {
        match phase {
            Phase::Steady => MechanismSet(0),
            Phase::Gradual { .. } => MechanismSet::DECLINE_GRADUAL,
            Phase::Sudden { .. } => MechanismSet::DECLINE_SUDDEN,
            Phase::Growth { .. } => MechanismSet::GROWTH,
        }
    }

    /// Returns the names of the mechanisms in the set, joined by `;` in a fixed order.
    pub fn names(self) -> String {
        MechanismSet::NAMES
            .iter()
            .filter(|(mechanism, _)| self.contains(*mechanism))
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// An account: its row in the accounts table and its truth.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    /// Portfolio index.
    pub account: u64,
    /// Company name.
    pub name: String,
    /// The day the account became a customer.
    pub customer_since: NaiveDate,
    /// Segment.
    pub segment: Segment,
    /// Industry.
    pub industry: Industry,
    /// Region.
    pub region: Region,
    /// Owner.
    pub owner: &'static str,
    /// Plan.
    pub plan: Plan,
    /// Contract term in months.
    pub term_months: u32,
    /// Steady seat utilization.
    pub level: f64,
    /// Features in the plan.
    pub features: usize,
    /// Features never adopted.
    pub unused_features: usize,
    /// Multiplier of the industry's month-of-year pattern.
    pub season_amplitude: f64,
    /// Multiplier of the segment's decline hazard.
    pub decline_risk: f64,
    /// Multiplier of the segment's growth hazard.
    pub growth_propensity: f64,
    /// The account's monthly hazards.
    pub hazards: Hazards,
    /// Monthly growth in a growth phase.
    pub growth_rate: f64,
    /// The day the account churned, if it did within the window.
    pub churned_on: Option<NaiveDate>,
    /// MechanismSet seen on the account.
    pub mechanisms: MechanismSet,
}

/// A contract term or mid-term amendment with its entitlements.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractRecord {
    /// Portfolio index of the account.
    pub account: u64,
    /// Sequence number of the contract within the account (1-based).
    pub seq: u32,
    /// First day.
    pub start: NaiveDate,
    /// Last day, the renewal date.
    pub end: NaiveDate,
    /// Annual recurring revenue in the contract currency.
    pub arr: f64,
    /// Contract currency.
    pub currency: Currency,
    /// Plan.
    pub plan: Plan,
    /// Whether it renews automatically.
    pub auto_renew: bool,
    /// Seats.
    pub seats: f64,
    /// API calls per month.
    pub api_limit: f64,
    /// Enforcement of the API limit.
    pub api_enforcement: Enforcement,
    /// Storage limit in GB.
    pub storage_limit: f64,
    /// Boolean features included.
    pub features: &'static [Feature],
}

/// One usage value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsageRecord {
    /// Portfolio index of the account.
    pub account: u64,
    /// Days since 1970-01-01.
    pub date: i32,
    /// Metric.
    pub metric: Metric,
    /// Value, already rounded to the metric's decimals.
    pub value: f64,
}

/// A renewal outcome or a mid-term expansion.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeRecord {
    /// Portfolio index of the account.
    pub account: u64,
    /// The day of the event (the contract's end date at a renewal).
    pub date: NaiveDate,
    /// renewed, churned, expanded or contracted.
    pub outcome: &'static str,
    /// Sequence number of the contract in force before the event.
    pub contract_seq: u32,
    /// ARR before.
    pub arr_before: f64,
    /// ARR after (0 after churn).
    pub arr_after: f64,
    /// Reason, empty when none.
    pub reason: &'static str,
}

/// A logged CS intervention.
#[derive(Debug, Clone, PartialEq)]
pub struct InterventionRecord {
    /// Portfolio index of the account.
    pub account: u64,
    /// The day it was logged.
    pub date: NaiveDate,
    /// Kind.
    pub kind: &'static str,
    /// Note.
    pub note: &'static str,
}

/// The way a contract term ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermEnd {
    /// At its renewal date, with a renewal decision.
    Renewal,
    /// Mid-term, by a signal-free churn.
    Termination,
}

impl TermEnd {
    /// Returns the word written in the truth tables.
    pub fn name(self) -> &'static str {
        match self {
            TermEnd::Renewal => "renewal",
            TermEnd::Termination => "termination",
        }
    }
}

/// The truth behind one contract term that ended: how it ended and the
/// probabilities used.
#[derive(Debug, Clone, PartialEq)]
pub struct TermTruth {
    /// Portfolio index of the account.
    pub account: u64,
    /// Segment of the account.
    pub segment: Segment,
    /// Sequence number of the contract in force at the end.
    pub contract_seq: u32,
    /// First day of the term.
    pub start: NaiveDate,
    /// The renewal date the term was signed for.
    pub scheduled_end: NaiveDate,
    /// Month index of the scheduled end.
    pub scheduled_end_month: i32,
    /// The day the term ended: the renewal date, or the month-end of a termination.
    pub end: NaiveDate,
    /// The way it ended.
    pub ended_by: TermEnd,
    /// Phase at the end.
    pub phase: Phase,
    /// Whether CS intervened in the term.
    pub intervened: bool,
    /// The outcome probabilities at a renewal; for a termination, the monthly
    /// termination hazard as the churn probability and no other outcome.
    pub odds: RenewalOdds,
    /// The outcome: renewed, churned, expanded or contracted.
    pub outcome: &'static str,
    /// Whether the churn came without a usage signal.
    pub signal_free: bool,
    /// Whether the term had an expansion (mid-term or at its renewal).
    pub expanded_in_term: bool,
    /// Probability at the start of the term that it ends in churn.
    pub term_churn: f64,
    /// Probability at the start of the term that it has an expansion.
    pub term_expansion: f64,
    /// Mechanisms active in the term.
    pub mechanisms: MechanismSet,
}

/// The truth at one account month-end.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthTruth {
    /// Portfolio index of the account.
    pub account: u64,
    /// Month index.
    pub month: i32,
    /// The month-end.
    pub date: NaiveDate,
    /// Phase at the month-end.
    pub phase: Phase,
    /// Whether CS has intervened in the current term.
    pub intervened: bool,
    /// Months to the next renewal (0: the renewal was this month-end).
    pub months_to_renewal: u32,
    /// Whether the account is still a customer after this month-end's events.
    pub active: bool,
    /// True probability of churn within the horizon after the month-end.
    pub p_churn: f64,
    /// True probability of at least one expansion within the horizon.
    pub p_expand: f64,
    /// Whether the account churned within the horizon.
    pub churned: bool,
    /// Whether the account expanded within the horizon.
    pub expanded: bool,
    /// Whether the whole horizon lies inside the window, so the two flags above are final.
    pub complete: bool,
}

/// All rows of a chunk of accounts, in account order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk {
    /// Accounts with their truth.
    pub accounts: Vec<AccountRecord>,
    /// Contracts with their entitlements.
    pub contracts: Vec<ContractRecord>,
    /// Usage values.
    pub usage: Vec<UsageRecord>,
    /// Outcomes.
    pub outcomes: Vec<OutcomeRecord>,
    /// Interventions.
    pub interventions: Vec<InterventionRecord>,
    /// Truth of the terms that ended.
    pub terms: Vec<TermTruth>,
    /// Month-end truth.
    pub months: Vec<MonthTruth>,
}

impl Chunk {
    /// Appends the rows of `other` after this chunk's rows.
    pub fn append(&mut self, mut other: Chunk) {
        self.accounts.append(&mut other.accounts);
        self.contracts.append(&mut other.contracts);
        self.usage.append(&mut other.usage);
        self.outcomes.append(&mut other.outcomes);
        self.interventions.append(&mut other.interventions);
        self.terms.append(&mut other.terms);
        self.months.append(&mut other.months);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mechanism_names_follow_fixed_order() {
        let mut set = MechanismSet::default();
        set.insert(MechanismSet::INTERVENTION);
        set.insert(MechanismSet::DECLINE_GRADUAL);
        assert_eq!(set.names(), "decline_gradual;intervention");
        assert!(set.contains(MechanismSet::INTERVENTION));
        assert!(!set.contains(MechanismSet::GROWTH));
    }
}
