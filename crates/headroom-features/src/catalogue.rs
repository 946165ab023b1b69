//! The catalogue of output columns: name, role, unit and a one-line
//! description of each, in output order.
//!
//! Names with `{entitlement}` or `{metric}` are templates, repeated for each
//! entitlement (by its column suffix) or engagement metric. Later stages pick
//! model inputs by role, not by position.

use polars::prelude::{DataFrame, DataType};
use serde::Serialize;

/// The purpose of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Identifies the row: `account_id`, `as_of`.
    Key,
    /// Text, dates and raw amounts for people and reports, not model input.
    Descriptive,
    /// A numeric model input (`Float64`, null when it cannot be computed).
    Feature,
    /// A yes/no fact (`Boolean`) that qualifies other features.
    Flag,
}

/// The family a column belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Account attributes from the accounts table.
    Account,
    /// Contract terms, ARR, renewals and interventions.
    Contract,
    /// Usage against entitlement limits.
    Utilization,
    /// When, at the current trend, a limit is crossed.
    TimeToLimit,
    /// The movement of usage over recent months.
    Trajectory,
    /// Month-of-year patterns and seasonally adjusted values.
    Seasonality,
    /// Use of the boolean features the contract includes.
    Adoption,
    /// Comparison with accounts of the same segment and industry.
    Peers,
    /// Usage metrics that measure no entitlement (logins, support tickets).
    Engagement,
    /// Qualifiers of the other features.
    Flags,
}

impl Family {
    /// Returns the family's name as printed by `headroom features --describe`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Account => "account",
            Family::Contract => "contract",
            Family::Utilization => "utilization",
            Family::TimeToLimit => "time to limit",
            Family::Trajectory => "trajectory",
            Family::Seasonality => "seasonality",
            Family::Adoption => "adoption",
            Family::Peers => "peers",
            Family::Engagement => "engagement",
            Family::Flags => "flags",
        }
    }
}

/// One column of the feature table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FeatureSpec {
    /// Column name, or a template with `{entitlement}` or `{metric}`.
    pub name: &'static str,
    /// The family.
    pub family: Family,
    /// The purpose of the column.
    pub role: Role,
    /// Unit of the value.
    pub unit: &'static str,
    /// One line saying what the value is.
    pub description: &'static str,
}

impl FeatureSpec {
    /// Checks whether the name is a template repeated per entitlement.
    pub fn per_entitlement(&self) -> bool {
        self.name.contains("{entitlement}")
    }

    /// Checks whether the name is a template repeated per engagement metric.
    pub fn per_metric(&self) -> bool {
        self.name.contains("{metric}")
    }

    /// Fills the template with one entitlement or metric suffix.
    pub fn column(&self, suffix: &str) -> String {
        self.name
            .replace("{entitlement}", suffix)
            .replace("{metric}", suffix)
    }

    /// Checks whether `column` is this entry's name or an instance of its template.
    pub fn matches(&self, column: &str) -> bool {
        let Some(start) = self.name.find('{') else {
            return self.name == column;
        };
        let end = self.name.find('}').expect("templates close their brace") + 1;
        let (prefix, suffix) = (&self.name[..start], &self.name[end..]);
        column.len() > prefix.len() + suffix.len()
            && column.starts_with(prefix)
            && column.ends_with(suffix)
    }
}

const fn spec(
    name: &'static str,
    family: Family,
    role: Role,
    unit: &'static str,
    description: &'static str,
) -> FeatureSpec {
    FeatureSpec {
        name,
        family,
        role,
        unit,
        description,
    }
}

use Family::*;
use Role::{Descriptive, Feature, Flag, Key};

const CATALOGUE: &[FeatureSpec] = &[
    spec("account_id", Account, Key, "id", "The account"),
    spec(
        "as_of",
        Account,
        Key,
        "date",
        "The date the features describe; no data dated after it is read",
    ),
    spec("name", Account, Descriptive, "text", "Account name"),
    spec(
        "segment",
        Account,
        Descriptive,
        "text",
        "Customer segment (enterprise, mid-market, smb)",
    ),
    spec("industry", Account, Descriptive, "text", "Industry"),
    spec("region", Account, Descriptive, "text", "Region"),
    spec("owner", Account, Descriptive, "text", "Account owner"),
    spec(
        "plan",
        Contract,
        Descriptive,
        "text",
        "Plan of the active contract with the largest ARR",
    ),
    spec(
        "currency",
        Contract,
        Descriptive,
        "ISO 4217",
        "Currency of arr and arr_per_unit_primary (the reporting currency)",
    ),
    spec(
        "renewal_date",
        Contract,
        Descriptive,
        "date",
        "Nearest end date on or after as_of of the active contracts; the last end date while in grace",
    ),
    spec(
        "primary_entitlement",
        Utilization,
        Descriptive,
        "text",
        "Entitlement behind the *_primary and trajectory features",
    ),
    spec(
        "primary_metric",
        Utilization,
        Descriptive,
        "text",
        "Usage metric behind the *_primary and trajectory features",
    ),
    spec(
        "usage_primary",
        Utilization,
        Descriptive,
        "metric units",
        "Usage of the primary metric in the latest complete month",
    ),
    spec(
        "limit_primary",
        Utilization,
        Descriptive,
        "metric units per month",
        "Limit of the primary entitlement (a level, or a monthly allowance for summed metrics)",
    ),
    spec(
        "arr_per_unit_primary",
        Contract,
        Descriptive,
        "currency per unit",
        "ARR per unit of the primary limit, e.g. the yearly price of a seat",
    ),
    spec(
        "next_limit_entitlement",
        TimeToLimit,
        Descriptive,
        "text",
        "Entitlement whose limit the account crosses first at the current trend",
    ),
    spec(
        "limit_date_min",
        TimeToLimit,
        Descriptive,
        "date",
        "Date of the first limit crossing at the current trend",
    ),
    spec(
        "unused_features",
        Adoption,
        Descriptive,
        "text",
        "Entitled boolean features without use in the last 3 complete months, comma separated",
    ),
    spec(
        "last_intervention_kind",
        Contract,
        Descriptive,
        "text",
        "Kind of the latest intervention on or before as_of",
    ),
    spec(
        "arr",
        Contract,
        Feature,
        "currency/year",
        "ARR of the active contracts, summed, in the reporting currency",
    ),
    spec(
        "arr_change_1y",
        Contract,
        Feature,
        "ratio",
        "arr / ARR of the contracts covering the date 365 days earlier - 1",
    ),
    spec(
        "days_to_renewal",
        Contract,
        Feature,
        "days",
        "renewal_date - as_of; negative while in grace",
    ),
    spec(
        "tenure_months",
        Contract,
        Feature,
        "months",
        "Months since customer_since (days / 30.4375)",
    ),
    spec(
        "contract_term_months",
        Contract,
        Feature,
        "months",
        "Length of the contract that ends at renewal_date",
    ),
    spec(
        "contracts_active",
        Contract,
        Feature,
        "count",
        "Contracts active at as_of (overlapping subscriptions count each)",
    ),
    spec(
        "renewals",
        Contract,
        Feature,
        "count",
        "Renewed, expanded or contracted outcomes on or before as_of; null before the project's first recorded outcome",
    ),
    spec(
        "expansions",
        Contract,
        Feature,
        "count",
        "Expanded outcomes on or before as_of; null before the project's first recorded outcome",
    ),
    spec(
        "contractions",
        Contract,
        Feature,
        "count",
        "Contracted outcomes on or before as_of; null before the project's first recorded outcome",
    ),
    spec(
        "history_months",
        Contract,
        Feature,
        "months",
        "Months of usage history up to the as-of month, from the first contract or first usage",
    ),
    spec(
        "interventions_90d",
        Contract,
        Feature,
        "count",
        "Interventions dated in the 90 days ending at as_of",
    ),
    spec(
        "days_since_intervention",
        Contract,
        Feature,
        "days",
        "Days since the latest intervention on or before as_of",
    ),
    spec(
        "util_primary",
        Utilization,
        Feature,
        "ratio",
        "Utilization of the primary entitlement in the latest complete month (1.0 = at the limit)",
    ),
    spec(
        "util_primary_3m",
        Utilization,
        Feature,
        "ratio",
        "Mean utilization of the primary entitlement over the last 3 complete months",
    ),
    spec(
        "util_primary_sa",
        Seasonality,
        Feature,
        "ratio",
        "Seasonally adjusted utilization of the primary entitlement",
    ),
    spec(
        "headroom_primary",
        Utilization,
        Feature,
        "ratio",
        "max(0, 1 - util_primary): unused share of the primary limit",
    ),
    spec(
        "overage_primary",
        Utilization,
        Feature,
        "ratio",
        "max(0, util_primary - 1): share of the primary limit used beyond it",
    ),
    spec(
        "util_min",
        Utilization,
        Feature,
        "ratio",
        "Lowest utilization over the limited entitlements",
    ),
    spec(
        "util_max",
        Utilization,
        Feature,
        "ratio",
        "Highest utilization over the limited entitlements",
    ),
    spec(
        "util_mean",
        Utilization,
        Feature,
        "ratio",
        "Mean utilization over the limited entitlements",
    ),
    spec(
        "util_3m_min",
        Utilization,
        Feature,
        "ratio",
        "Lowest 3-month mean utilization over the limited entitlements",
    ),
    spec(
        "util_3m_max",
        Utilization,
        Feature,
        "ratio",
        "Highest 3-month mean utilization over the limited entitlements",
    ),
    spec(
        "n_limited",
        Utilization,
        Feature,
        "count",
        "Seats and metered entitlements with a limit",
    ),
    spec(
        "n_unlimited",
        Utilization,
        Feature,
        "count",
        "Seats and metered entitlements without a limit",
    ),
    spec(
        "n_over_limit",
        Utilization,
        Feature,
        "count",
        "Entitlements used beyond their limit in the latest complete month",
    ),
    spec(
        "n_hard_over_limit",
        Utilization,
        Feature,
        "count",
        "Entitlements with hard enforcement used beyond their limit",
    ),
    spec(
        "months_to_limit_primary",
        TimeToLimit,
        Feature,
        "months",
        "Months until the primary limit is crossed at the 3-month utilization trend; null when flat, falling or beyond 36 months",
    ),
    spec(
        "months_to_limit_min",
        TimeToLimit,
        Feature,
        "months",
        "Months until the first limit crossing over all entitlements",
    ),
    spec(
        "pct_change_1m",
        Trajectory,
        Feature,
        "ratio",
        "Primary usage change over the last month (latest / month before - 1)",
    ),
    spec(
        "pct_change_3m",
        Trajectory,
        Feature,
        "ratio",
        "Primary usage change over 3 months (latest / 3 months earlier - 1)",
    ),
    spec(
        "pct_change_6m",
        Trajectory,
        Feature,
        "ratio",
        "Primary usage change over 6 months (latest / 6 months earlier - 1)",
    ),
    spec(
        "slope_3m",
        Trajectory,
        Feature,
        "ratio per month",
        "Least-squares slope of primary usage over the last 4 months, over their mean",
    ),
    spec(
        "slope_6m",
        Trajectory,
        Feature,
        "ratio per month",
        "Least-squares slope of primary usage over the last 7 months, over their mean",
    ),
    spec(
        "months_in_decline",
        Trajectory,
        Feature,
        "months",
        "Consecutive months, up to 12, ending at the latest, in which primary usage fell",
    ),
    spec(
        "drawdown_12m",
        Trajectory,
        Feature,
        "ratio",
        "1 - latest / highest primary usage of the last 12 months",
    ),
    spec(
        "volatility_6m",
        Trajectory,
        Feature,
        "ratio",
        "Standard deviation of the last 6 monthly changes of primary usage over its mean level",
    ),
    spec(
        "max_drop_12m",
        Trajectory,
        Feature,
        "ratio",
        "Largest one-month fall of primary usage in the last 12 months, as a share of the month before",
    ),
    spec(
        "seasonal_index",
        Seasonality,
        Feature,
        "ratio",
        "Seasonal index of the latest month for the primary metric (1.0 = an average month)",
    ),
    spec(
        "yoy_change",
        Seasonality,
        Feature,
        "ratio",
        "Primary usage / the same month a year earlier - 1",
    ),
    spec(
        "sa_change_1m",
        Seasonality,
        Feature,
        "ratio",
        "Seasonally adjusted primary usage change over the last month",
    ),
    spec(
        "sa_slope_3m",
        Seasonality,
        Feature,
        "ratio per month",
        "Least-squares slope of seasonally adjusted primary usage over the last 4 months, over their mean",
    ),
    spec(
        "features_entitled",
        Adoption,
        Feature,
        "count",
        "Boolean features the active contracts include and usage measures",
    ),
    spec(
        "adoption_90d",
        Adoption,
        Feature,
        "ratio",
        "Share of entitled features used in the last 3 complete months (about 90 days)",
    ),
    spec(
        "features_unused_90d",
        Adoption,
        Feature,
        "count",
        "Entitled features without use in the last 3 complete months",
    ),
    spec(
        "features_never_used",
        Adoption,
        Feature,
        "count",
        "Entitled features without any use up to as_of",
    ),
    spec(
        "breadth_change",
        Adoption,
        Feature,
        "ratio",
        "(features used in the last 3 months - in the 3 before) / features_entitled",
    ),
    spec(
        "peer_util_pct",
        Peers,
        Feature,
        "ratio",
        "Percentile of util_primary among accounts of the same segment and industry at as_of",
    ),
    spec(
        "peer_util_median",
        Peers,
        Feature,
        "ratio",
        "Median util_primary of the same segment and industry at as_of",
    ),
    spec(
        "util_vs_peer",
        Peers,
        Feature,
        "ratio",
        "util_primary - peer_util_median",
    ),
    spec(
        "peer_count",
        Peers,
        Feature,
        "count",
        "Accounts with a util_primary in the same segment and industry",
    ),
    spec(
        "util_{entitlement}",
        Utilization,
        Feature,
        "ratio",
        "Utilization of the entitlement in the latest complete month",
    ),
    spec(
        "util_{entitlement}_3m",
        Utilization,
        Feature,
        "ratio",
        "Mean utilization of the entitlement over the last 3 complete months",
    ),
    spec(
        "util_{entitlement}_sa",
        Seasonality,
        Feature,
        "ratio",
        "Seasonally adjusted utilization of the entitlement",
    ),
    spec(
        "headroom_{entitlement}",
        Utilization,
        Feature,
        "ratio",
        "max(0, 1 - utilization) of the entitlement",
    ),
    spec(
        "overage_{entitlement}",
        Utilization,
        Feature,
        "ratio",
        "max(0, utilization - 1) of the entitlement",
    ),
    spec(
        "util_{entitlement}_slope_3m",
        Utilization,
        Feature,
        "ratio per month",
        "Least-squares slope of the entitlement's utilization over the last 4 months",
    ),
    spec(
        "yoy_{entitlement}",
        Seasonality,
        Feature,
        "ratio",
        "Usage of the entitlement's metric / the same month a year earlier - 1",
    ),
    spec(
        "months_to_limit_{entitlement}",
        TimeToLimit,
        Feature,
        "months",
        "Months until the entitlement's limit is crossed at its 3-month trend",
    ),
    spec(
        "usage_{entitlement}",
        Utilization,
        Descriptive,
        "metric units",
        "Usage of the entitlement's metric in the latest complete month",
    ),
    spec(
        "limit_{entitlement}",
        Utilization,
        Descriptive,
        "metric units per month",
        "Limit of the entitlement, summed over the active contracts",
    ),
    spec(
        "limit_date_{entitlement}",
        TimeToLimit,
        Descriptive,
        "date",
        "Date the entitlement's limit is crossed at its 3-month trend",
    ),
    spec(
        "eng_{metric}_3m",
        Engagement,
        Feature,
        "metric units per month",
        "Mean of the metric over the last 3 complete months",
    ),
    spec(
        "eng_{metric}_change_3m",
        Engagement,
        Feature,
        "ratio",
        "Mean of the last 3 months / mean of the 3 before - 1",
    ),
    spec(
        "flag_in_grace",
        Flags,
        Flag,
        "yes/no",
        "Active only through the grace period after the last contract ended",
    ),
    spec(
        "flag_no_usage",
        Flags,
        Flag,
        "yes/no",
        "No usage rows on or before as_of",
    ),
    spec(
        "flag_short_history",
        Flags,
        Flag,
        "yes/no",
        "Under 13 months of history: no year-over-year change",
    ),
    spec(
        "flag_seasonal_portfolio",
        Flags,
        Flag,
        "yes/no",
        "The seasonal index comes from the industry or portfolio profile: under 19 months of own history, or an own index outside 0.2..5",
    ),
    spec(
        "flag_no_limits",
        Flags,
        Flag,
        "yes/no",
        "No limited seats or metered entitlement: utilization features are null",
    ),
    spec(
        "flag_snapshot",
        Flags,
        Flag,
        "yes/no",
        "The project is a single snapshot export: history-based features are null",
    ),
    spec(
        "auto_renew",
        Flags,
        Flag,
        "yes/no",
        "Any active contract renews automatically; null when unknown",
    ),
];

/// Returns every column of the feature table, in output order.
pub fn catalogue() -> &'static [FeatureSpec] {
    CATALOGUE
}

/// Finds the catalogue entry of an output column: an exact name first, else the
/// template it instantiates with the longest fixed text (`util_seats_3m` is
/// `util_{entitlement}_3m`, not `util_{entitlement}` for an entitlement
/// `seats_3m`).
pub fn lookup(column: &str) -> Option<&'static FeatureSpec> {
    CATALOGUE
        .iter()
        .find(|spec| spec.name == column)
        .or_else(|| {
            CATALOGUE
                .iter()
                .filter(|spec| spec.matches(column))
                .max_by_key(|spec| spec.name.len())
        })
}

/// Lists the columns of a feature table that are model inputs (features and
/// flags), in table order.
pub fn model_columns(df: &DataFrame) -> Vec<String> {
    df.columns()
        .iter()
        .filter(|c| {
            lookup(c.name()).is_some_and(|spec| matches!(spec.role, Role::Feature | Role::Flag))
                && matches!(c.dtype(), DataType::Float64 | DataType::Boolean)
        })
        .map(|c| c.name().to_string())
        .collect()
}

impl Family {
    /// Every family, in the order the catalogue is printed.
    pub const ALL: [Family; 10] = [
        Family::Account,
        Family::Contract,
        Family::Utilization,
        Family::TimeToLimit,
        Family::Trajectory,
        Family::Seasonality,
        Family::Adoption,
        Family::Peers,
        Family::Engagement,
        Family::Flags,
    ];
}

impl Role {
    /// Returns the role's name as printed in the catalogue.
    pub fn name(self) -> &'static str {
        match self {
            Role::Key => "key",
            Role::Descriptive => "descriptive",
            Role::Feature => "feature",
            Role::Flag => "flag",
        }
    }
}

/// Lists the catalogue entries of one family, in output order.
fn family(family: Family) -> impl Iterator<Item = &'static FeatureSpec> {
    CATALOGUE.iter().filter(move |spec| spec.family == family)
}

/// Renders the catalogue as aligned text, one block per family, for the terminal.
pub fn render_text() -> String {
    let name_width = CATALOGUE.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let unit_width = CATALOGUE.iter().map(|s| s.unit.len()).max().unwrap_or(0);
    let role_width = "descriptive".len();
    let mut out = String::new();
    for (i, group) in Family::ALL.into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(group.name());
        out.push('\n');
        for spec in family(group) {
            out.push_str(&format!(
                "  {:name_width$}  {:role_width$}  {:unit_width$}  {}\n",
                spec.name,
                spec.role.name(),
                spec.unit,
                spec.description,
            ));
        }
    }
    out
}

/// Renders the catalogue as Markdown: one table per family (column, role,
/// unit, description).
pub fn render_markdown() -> String {
    let mut out = String::new();
    for (i, group) in Family::ALL.into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("### {}\n\n", group.name()));
        out.push_str("| column | role | unit | description |\n|---|---|---|---|\n");
        for spec in family(group) {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                spec.name,
                spec.role.name(),
                spec.unit,
                spec.description
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_prefers_exact_name_over_template() {
        assert_eq!(lookup("util_primary").unwrap().name, "util_primary");
        assert_eq!(lookup("util_seats").unwrap().name, "util_{entitlement}");
        assert_eq!(
            lookup("util_seats_3m").unwrap().name,
            "util_{entitlement}_3m"
        );
        assert_eq!(
            lookup("eng_logins_change_3m").unwrap().name,
            "eng_{metric}_change_3m"
        );
        assert!(lookup("nonsense").is_none());
    }

    #[test]
    fn every_entry_has_a_listed_family() {
        let listed: usize = Family::ALL.into_iter().map(|f| family(f).count()).sum();
        assert_eq!(listed, CATALOGUE.len());
    }

    #[test]
    fn catalogue_names_are_unique() {
        let mut names: Vec<&str> = CATALOGUE.iter().map(|s| s.name).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
    }
}
