//! The fixed vocabulary of the simulated business: segments, industries with
//! their month-of-year usage patterns, regions, owners, plans, features and
//! usage metrics.

use serde::{Deserialize, Serialize};

/// A customer segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Segment {
    /// Large companies: many seats, multi-year contracts, low churn.
    #[serde(rename = "enterprise")]
    Enterprise,
    /// Mid-sized companies.
    #[serde(rename = "mid-market")]
    MidMarket,
    /// Small businesses: few seats, yearly contracts, high churn.
    #[serde(rename = "smb")]
    Smb,
}

impl Segment {
    /// Every segment, in the order used for draws and summaries.
    pub const ALL: [Segment; 3] = [Segment::Enterprise, Segment::MidMarket, Segment::Smb];

    /// Returns the name written in the accounts table.
    pub fn name(self) -> &'static str {
        match self {
            Segment::Enterprise => "enterprise",
            Segment::MidMarket => "mid-market",
            Segment::Smb => "smb",
        }
    }
}

/// An industry, which fixes the month-of-year usage pattern of its accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Industry {
    /// Software and internet companies.
    Technology,
    /// Banks, insurers, asset managers.
    Finance,
    /// Hospitals, clinics, health services.
    Healthcare,
    /// Schools and universities.
    Education,
    /// Retailers and consumer brands.
    Retail,
    /// Factories and industrial suppliers.
    Manufacturing,
    /// Publishers, studios, agencies.
    Media,
}

impl Industry {
    /// Every industry with its share of accounts (the shares sum to 1).
    pub const SHARES: [(Industry, f64); 7] = [
        (Industry::Technology, 0.26),
        (Industry::Finance, 0.14),
        (Industry::Healthcare, 0.12),
        (Industry::Education, 0.12),
        (Industry::Retail, 0.14),
        (Industry::Manufacturing, 0.12),
        (Industry::Media, 0.10),
    ];

    /// Returns the name written in the accounts table.
    pub fn name(self) -> &'static str {
        match self {
            Industry::Technology => "technology",
            Industry::Finance => "finance",
            Industry::Healthcare => "healthcare",
            Industry::Education => "education",
            Industry::Retail => "retail",
            Industry::Manufacturing => "manufacturing",
            Industry::Media => "media",
        }
    }

    /// Returns the relative change of usage in each calendar month (January first) for
    /// an account with seasonal amplitude 1: `-0.35` in December means December
    /// usage is 35% below the account's level. The pattern repeats every year.
    pub fn season(self) -> [f64; 12] {
        match self {
            Industry::Technology => [0.0; 12],
            Industry::Healthcare => [0.0; 12],
            // Quarter-end closes: peaks in March, June, September and December.
            Industry::Finance => [
                0.0, 0.0, 0.18, 0.0, 0.0, 0.18, 0.0, 0.0, 0.18, 0.0, 0.0, 0.22,
            ],
            // Summer break and the December holidays.
            Industry::Education => [
                0.0, 0.0, 0.0, 0.0, 0.0, -0.2, -0.45, -0.3, 0.0, 0.0, 0.0, -0.35,
            ],
            // Head office goes quiet over the holiday trading season.
            Industry::Retail => [-0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.3],
            // Plant shutdowns in August and over the holidays.
            Industry::Manufacturing => {
                [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.2, 0.0, 0.0, 0.0, -0.2]
            }
            Industry::Media => [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.12, 0.0, 0.0, 0.0, 0.0, -0.15,
            ],
        }
    }

    /// Returns whether the industry has a month-of-year pattern at all.
    pub fn is_seasonal(self) -> bool {
        self.season().iter().any(|change| *change != 0.0)
    }

    /// Returns the words that end a company name in this industry.
    pub fn name_suffixes(self) -> &'static [&'static str] {
        match self {
            Industry::Technology => &["Labs", "Software", "Systems", "Cloud"],
            Industry::Finance => &["Capital", "Financial", "Bank", "Partners"],
            Industry::Healthcare => &["Health", "Care", "Clinics", "Medical"],
            Industry::Education => &["Academy", "University", "Schools", "College"],
            Industry::Retail => &["Stores", "Outfitters", "Market", "Goods"],
            Industry::Manufacturing => &["Industries", "Manufacturing", "Works", "Components"],
            Industry::Media => &["Media", "Studios", "Publishing", "Press"],
        }
    }
}

/// Words that start a company name.
pub const NAME_PREFIXES: &[&str] = &[
    "Acorn",
    "Alder",
    "Apex",
    "Arbor",
    "Aster",
    "Atlas",
    "Beacon",
    "Birch",
    "Blue Harbor",
    "Bluefin",
    "Brightwater",
    "Cedar",
    "Cinder",
    "Clearpath",
    "Cobalt",
    "Copperline",
    "Crestview",
    "Driftwood",
    "Eastgate",
    "Ember",
    "Evergreen",
    "Fairview",
    "Falcon",
    "Fernhill",
    "Foxglove",
    "Granite",
    "Greenfield",
    "Harborview",
    "Helix",
    "Highland",
    "Horizon",
    "Ironwood",
    "Juniper",
    "Keystone",
    "Lakeside",
    "Lantern",
    "Larkspur",
    "Lighthouse",
    "Maple",
    "Meridian",
    "Millbrook",
    "Northgate",
    "Northwind",
    "Oakridge",
    "Orchard",
    "Pinecrest",
    "Prairie",
    "Quarry",
    "Redwood",
    "Ridgeline",
    "Riverbend",
    "Sable",
    "Saltmarsh",
    "Silverline",
    "Solstice",
    "Southpoint",
    "Sparrow",
    "Stonebridge",
    "Summit",
    "Sunridge",
    "Tidewater",
    "Timberline",
    "Trillium",
    "Upland",
    "Valley",
    "Vantage",
    "Westbrook",
    "Willow",
    "Windmill",
    "Zephyr",
];

/// A sales region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Region {
    /// The United States and Canada.
    NorthAmerica,
    /// Europe, the Middle East and Africa.
    Emea,
    /// Asia and the Pacific.
    Apac,
    /// Latin America.
    Latam,
}

impl Region {
    /// Every region with its share of accounts (the shares sum to 1).
    pub const SHARES: [(Region, f64); 4] = [
        (Region::NorthAmerica, 0.50),
        (Region::Emea, 0.28),
        (Region::Apac, 0.15),
        (Region::Latam, 0.07),
    ];

    /// Returns the name written in the accounts table.
    pub fn name(self) -> &'static str {
        match self {
            Region::NorthAmerica => "North America",
            Region::Emea => "EMEA",
            Region::Apac => "APAC",
            Region::Latam => "LATAM",
        }
    }

    /// Returns the customer-success managers who own accounts in the region.
    pub fn owners(self) -> &'static [&'static str] {
        match self {
            Region::NorthAmerica => &["Maya Brooks", "Daniel Okafor", "Priya Raman"],
            Region::Emea => &["Lukas Becker", "Sofia Marin"],
            Region::Apac => &["Kenji Sato", "Aisha Rahman"],
            Region::Latam => &["Mateo Silva"],
        }
    }
}

/// A boolean feature a plan can include, each measured by its own usage metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    /// Scheduled and ad-hoc reports.
    Reports,
    /// Shared dashboards.
    Dashboards,
    /// Connectors to other systems.
    Integrations,
    /// Rule-based workflow automation.
    Automations,
    /// Alerting on thresholds.
    Alerts,
    /// Single sign-on.
    Sso,
    /// The audit log.
    AuditLog,
    /// A sandbox environment.
    Sandbox,
}

impl Feature {
    /// Every feature, in metric order.
    pub const ALL: [Feature; 8] = [
        Feature::Reports,
        Feature::Dashboards,
        Feature::Integrations,
        Feature::Automations,
        Feature::Alerts,
        Feature::Sso,
        Feature::AuditLog,
        Feature::Sandbox,
    ];

    /// Returns the entitlement name.
    pub fn name(self) -> &'static str {
        match self {
            Feature::Reports => "reports",
            Feature::Dashboards => "dashboards",
            Feature::Integrations => "integrations",
            Feature::Automations => "automations",
            Feature::Alerts => "alerts",
            Feature::Sso => "sso",
            Feature::AuditLog => "audit_log",
            Feature::Sandbox => "sandbox",
        }
    }

    /// Returns the usage metric that measures the feature (uses per month).
    pub fn metric(self) -> Metric {
        Metric::Feature(self)
    }

    /// Returns the median uses per active user per month once the feature is adopted.
    pub fn uses_per_user(self) -> f64 {
        match self {
            Feature::Reports => 6.0,
            Feature::Dashboards => 10.0,
            Feature::Integrations => 3.0,
            Feature::Automations => 4.0,
            Feature::Alerts => 2.0,
            Feature::Sso => 12.0,
            Feature::AuditLog => 0.5,
            Feature::Sandbox => 1.0,
        }
    }
}

/// A usage metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Distinct users active in the month; measures the seats entitlement.
    ActiveUsers,
    /// API calls in the month; measures the api_calls entitlement.
    ApiCalls,
    /// Gigabytes stored at the end of the month; measures the storage_gb entitlement.
    StorageGb,
    /// Uses of a feature in the month.
    Feature(Feature),
}

/// How a metric's daily values roll up to a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricRollup {
    /// The month's total.
    Sum,
    /// The month's highest daily value.
    Max,
    /// The value on the month's last day.
    Last,
}

impl Metric {
    /// The three metrics every account has, before the feature metrics.
    pub const CORE: [Metric; 3] = [Metric::ActiveUsers, Metric::ApiCalls, Metric::StorageGb];

    /// Returns the metric name written in the usage table.
    pub fn name(self) -> &'static str {
        match self {
            Metric::ActiveUsers => "active_users",
            Metric::ApiCalls => "api_calls",
            Metric::StorageGb => "storage_gb",
            Metric::Feature(feature) => match feature {
                Feature::Reports => "feature_reports",
                Feature::Dashboards => "feature_dashboards",
                Feature::Integrations => "feature_integrations",
                Feature::Automations => "feature_automations",
                Feature::Alerts => "feature_alerts",
                Feature::Sso => "feature_sso",
                Feature::AuditLog => "feature_audit_log",
                Feature::Sandbox => "feature_sandbox",
            },
        }
    }

    /// Returns how daily values of the metric roll up to the monthly value.
    pub fn rollup(self) -> MetricRollup {
        match self {
            Metric::ActiveUsers => MetricRollup::Max,
            Metric::StorageGb => MetricRollup::Last,
            Metric::ApiCalls | Metric::Feature(_) => MetricRollup::Sum,
        }
    }

    /// Returns the decimal places kept in the usage table.
    pub fn decimals(self) -> usize {
        match self {
            Metric::StorageGb => 1,
            _ => 0,
        }
    }

    /// Returns every metric: the core metrics, then one per feature.
    pub fn all() -> impl Iterator<Item = Metric> {
        Metric::CORE
            .into_iter()
            .chain(Feature::ALL.into_iter().map(Metric::Feature))
    }
}

/// A price plan: the features it includes and its per-seat terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// Three features, hard API limit.
    Starter,
    /// Five features.
    Growth,
    /// All eight features.
    Enterprise,
}

impl Plan {
    /// Every plan.
    pub const ALL: [Plan; 3] = [Plan::Starter, Plan::Growth, Plan::Enterprise];

    /// Returns the plan name written in the contracts table.
    pub fn name(self) -> &'static str {
        match self {
            Plan::Starter => "starter",
            Plan::Growth => "growth",
            Plan::Enterprise => "enterprise",
        }
    }

    /// Returns the boolean features the plan includes.
    pub fn features(self) -> &'static [Feature] {
        match self {
            Plan::Starter => &Feature::ALL[..3],
            Plan::Growth => &Feature::ALL[..5],
            Plan::Enterprise => &Feature::ALL[..],
        }
    }

    /// Returns the list price per seat per year, in USD.
    pub fn seat_price(self) -> f64 {
        match self {
            Plan::Starter => 360.0,
            Plan::Growth => 600.0,
            Plan::Enterprise => 900.0,
        }
    }

    /// Returns the API calls per month included per seat.
    pub fn api_calls_per_seat(self) -> f64 {
        match self {
            Plan::Starter => 1_000.0,
            Plan::Growth => 2_500.0,
            Plan::Enterprise => 5_000.0,
        }
    }

    /// Returns the storage included per seat, in GB.
    pub fn storage_gb_per_seat(self) -> f64 {
        match self {
            Plan::Starter => 2.0,
            Plan::Growth => 5.0,
            Plan::Enterprise => 10.0,
        }
    }

    /// Returns how the API-call limit is enforced: calls above a hard limit are rejected.
    pub fn api_enforcement(self) -> Enforcement {
        match self {
            Plan::Starter => Enforcement::Hard,
            Plan::Growth | Plan::Enterprise => Enforcement::Soft,
        }
    }
}

/// How a limit is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// Usage above the limit is rejected.
    Hard,
    /// Usage above the limit is allowed and billed or trued up later.
    Soft,
}

impl Enforcement {
    /// Returns the word written in the entitlements table.
    pub fn name(self) -> &'static str {
        match self {
            Enforcement::Hard => "hard",
            Enforcement::Soft => "soft",
        }
    }
}

/// A contract currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Currency {
    /// US dollar, the reporting currency.
    Usd,
    /// Euro.
    Eur,
    /// Pound sterling.
    Gbp,
}

impl Currency {
    /// Returns the ISO 4217 code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
        }
    }

    /// Returns the US dollars per unit of the currency, a fixed rate for the whole window.
    pub fn usd_rate(self) -> f64 {
        match self {
            Currency::Usd => 1.0,
            Currency::Eur => 1.08,
            Currency::Gbp => 1.27,
        }
    }
}

/// Kinds of customer-success interventions with the note logged for each.
pub const INTERVENTIONS: &[(&str, &str)] = &[
    ("training", "admin and user training after usage fell"),
    ("business review", "business review on adoption and goals"),
    ("exec call", "executive sponsor call about the renewal"),
    ("discount", "renewal discount offered"),
];

/// Reasons recorded for churn that usage announced.
pub const SIGNAL_CHURN_REASONS: &[&str] = &["low usage", "switched to a competitor", "poor fit"];

/// Reasons recorded for churn at renewal that usage did not announce.
pub const SIGNAL_FREE_CHURN_REASONS: &[&str] = &["budget cut", "acquired"];

/// Reasons recorded for contracts ended mid-term.
pub const TERMINATION_REASONS: &[&str] = &["acquired", "company closed"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_one() {
        let industries: f64 = Industry::SHARES.iter().map(|(_, share)| share).sum();
        let regions: f64 = Region::SHARES.iter().map(|(_, share)| share).sum();
        assert!((industries - 1.0).abs() < 1e-12);
        assert!((regions - 1.0).abs() < 1e-12);
    }

    #[test]
    fn plans_include_three_to_eight_features() {
        let counts: Vec<usize> = Plan::ALL.iter().map(|plan| plan.features().len()).collect();
        assert_eq!(counts, vec![3, 5, 8]);
    }

    #[test]
    fn metric_names_are_unique() {
        let mut names: Vec<&str> = Metric::all().map(Metric::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 11);
    }

    #[test]
    fn education_dips_in_december() {
        assert!(Industry::Education.season()[11] < 0.0);
        assert!(Industry::Retail.season()[11] < 0.0);
        assert!(Industry::Finance.season()[2] > 0.0);
        assert!(!Industry::Technology.is_seasonal());
    }
}
