//! Settings of the feature stage, read from the `[features]` section of a
//! project's `headroom.toml`.

use serde::{Deserialize, Serialize};

/// Settings of the feature stage. Every field has a default, so an absent
/// `[features]` section gives [`FeatureOptions::default`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureOptions {
    /// Days an account stays active after its last contract ended when no
    /// churned outcome and no new contract has been recorded (default 30).
    /// Renewal paperwork often reaches the CRM weeks after the end date.
    pub grace_days: u32,
    /// Fewest accounts an industry needs for its own seasonal profile
    /// (default 30); smaller industries use the profile of the whole portfolio.
    pub min_industry_accounts: u32,
    /// The entitlement whose usage gives the summary trajectory features
    /// (default: none, which picks the account's seats entitlement, else its
    /// first limited entitlement by name).
    pub primary_entitlement: Option<String>,
    /// The usage metric that gives the trajectory of accounts without a seats
    /// or metered entitlement (default `active_users`).
    pub primary_metric: String,
    /// The reading of a contract that starts during an earlier contract of the
    /// same account and ends on the same day (default [`Amendments::Restate`]).
    pub amendments: Amendments,
}

/// The meaning of a co-terminous amendment: a contract of an account that
/// starts after another of its contracts has started and ends on the same day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Amendments {
    /// The amendment carries the whole new terms (seats, limits, ARR): from its
    /// start it replaces the contract it amends. CRMs that rewrite the contract
    /// on an upgrade export it this way.
    #[default]
    Restate,
    /// The amendment carries only what was added: it counts on top of the
    /// contract it amends. Quote-to-cash systems that write one subscription
    /// line per purchase export it this way.
    Add,
}

impl Default for FeatureOptions {
    fn default() -> FeatureOptions {
        FeatureOptions {
            grace_days: 30,
            min_industry_accounts: 30,
            primary_entitlement: None,
            primary_metric: "active_users".to_string(),
            amendments: Amendments::Restate,
        }
    }
}
