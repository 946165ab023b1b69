//! The `[segments]` section: utilization thresholds of the health segments,
//! how long a condition must hold, and overrides per customer segment and
//! tenure group.
//!
//! ```toml
//! [segments]
//! at_risk_below = 0.40
//! persistence_months = 2
//!
//! [segments.customer.enterprise]   # enterprise, mid-market or smb
//! at_risk_below = 0.30
//!
//! [segments.tenure.new]            # accounts younger than mature_after_months
//! at_risk_below = 0.25
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use headroom_data::contract::SEGMENTS;
use headroom_features::calendar::DAYS_PER_MONTH;
use serde::{Deserialize, Serialize};

use super::{check_at_least, check_share, invalid};
use crate::error::ReportError;

const SECTION: &str = "segments";

/// The tenure groups that take their own overrides: `new` (younger than
/// `mature_after_months`) and `mature`.
pub const TENURE_GROUPS: [&str; 2] = ["new", "mature"];

/// Settings of the health segments. An absent `[segments]` section gives
/// [`SegmentSettings::default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentSettings {
    /// Utilization (a share of the limit) below which an account is at risk
    /// once it has stayed there for `low_usage_days` (default 0.40).
    pub at_risk_below: f64,
    /// Days utilization must stay below `at_risk_below` (default 60). Usage is
    /// monthly, so this counts whole months: days / 30.4375, rounded, at least 1.
    pub low_usage_days: u32,
    /// Utilization below which an account is on watch (default 0.50). A
    /// reading below `at_risk_below` that has not lasted `low_usage_days` is
    /// on watch too.
    pub watch_below: f64,
    /// Utilization above which sustained use of any limited entitlement is
    /// an expansion opportunity (default 0.85).
    pub expansion_above: f64,
    /// Months utilization must stay above `expansion_above` (default 3).
    pub expansion_months: u32,
    /// Utilization at or above which an entitlement whose 3-month trend is
    /// rising puts the account in "approaching limits" (default 0.90).
    pub limits_at: f64,
    /// Consecutive months a different segment's condition must hold before
    /// an account moves to it (default 2; 1 moves at once).
    pub persistence_months: u32,
    /// Accounts with fewer months of tenure are `new`, too young to judge
    /// (default 3).
    pub judge_after_months: u32,
    /// Accounts with fewer months of tenure take the `[segments.tenure.new]`
    /// overrides, older ones `[segments.tenure.mature]` (default 12).
    pub mature_after_months: u32,
    /// Overrides per customer segment (`enterprise`, `mid-market`, `smb`).
    pub customer: BTreeMap<String, SegmentOverrides>,
    /// Overrides per tenure group (`new`, `mature`); they apply on top of the
    /// customer segment's overrides.
    pub tenure: BTreeMap<String, SegmentOverrides>,
}

/// Threshold overrides for one customer segment or tenure group; a key left
/// out keeps the value it had.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentOverrides {
    /// Overrides `at_risk_below` (share of the limit).
    pub at_risk_below: Option<f64>,
    /// Overrides `low_usage_days` (days).
    pub low_usage_days: Option<u32>,
    /// Overrides `watch_below` (share of the limit).
    pub watch_below: Option<f64>,
    /// Overrides `expansion_above` (share of the limit).
    pub expansion_above: Option<f64>,
    /// Overrides `expansion_months` (months).
    pub expansion_months: Option<u32>,
    /// Overrides `limits_at` (share of the limit).
    pub limits_at: Option<f64>,
    /// Overrides `persistence_months` (months).
    pub persistence_months: Option<u32>,
}

impl Default for SegmentSettings {
    fn default() -> SegmentSettings {
        SegmentSettings {
            at_risk_below: 0.40,
            low_usage_days: 60,
            watch_below: 0.50,
            expansion_above: 0.85,
            expansion_months: 3,
            limits_at: 0.90,
            persistence_months: 2,
            judge_after_months: 3,
            mature_after_months: 12,
            customer: BTreeMap::new(),
            tenure: BTreeMap::new(),
        }
    }
}

/// The tenure group of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TenureGroup {
    /// Younger than `mature_after_months`.
    New,
    /// `mature_after_months` or older.
    Mature,
}

impl TenureGroup {
    /// Returns the group's key in `[segments.tenure.*]`.
    pub fn name(self) -> &'static str {
        match self {
            TenureGroup::New => "new",
            TenureGroup::Mature => "mature",
        }
    }
}

/// The thresholds that apply to one account, after overrides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// At risk below this utilization, sustained for `low_usage_months`.
    pub at_risk_below: f64,
    /// Months utilization must stay below `at_risk_below`.
    pub low_usage_months: usize,
    /// On watch below this utilization.
    pub watch_below: f64,
    /// Expansion opportunity above this utilization, sustained.
    pub expansion_above: f64,
    /// Months utilization must stay above `expansion_above`.
    pub expansion_months: usize,
    /// Approaching limits at or above this utilization while rising.
    pub limits_at: f64,
    /// Consecutive months a new segment's condition must hold.
    pub persistence_months: usize,
}

impl SegmentSettings {
    /// Returns the thresholds for an account: the defaults, then its customer
    /// segment's overrides, then its tenure group's.
    pub fn thresholds_for(
        &self,
        customer_segment: Option<&str>,
        tenure: TenureGroup,
    ) -> Thresholds {
        let mut merged = self.base();
        if let Some(overrides) = customer_segment.and_then(|s| self.customer.get(s)) {
            merged = merged.apply(overrides);
        }
        if let Some(overrides) = self.tenure.get(tenure.name()) {
            merged = merged.apply(overrides);
        }
        merged.resolve()
    }

    /// Returns the tenure group of an account with `tenure_months` of tenure
    /// (an unknown tenure counts as mature).
    pub fn tenure_group(&self, tenure_months: Option<f64>) -> TenureGroup {
        match tenure_months {
            Some(months) if months < f64::from(self.mature_after_months) => TenureGroup::New,
            _ => TenureGroup::Mature,
        }
    }

    /// Checks ranges and threshold order for the defaults and for every
    /// combination of overrides.
    ///
    /// Fails with [`ReportError::InvalidSetting`] naming the section and key.
    pub fn validate(&self, path: &Path) -> Result<(), ReportError> {
        self.base().validate(path, SECTION)?;
        check_at_least(
            path,
            SECTION,
            "judge_after_months",
            self.judge_after_months.into(),
            0,
            "months",
        )?;
        if self.mature_after_months < self.judge_after_months {
            return Err(invalid(
                path,
                SECTION,
                "mature_after_months",
                self.mature_after_months,
                format!("is below judge_after_months ({})", self.judge_after_months),
                "accounts become mature after they stop being new: raise mature_after_months or lower judge_after_months",
            ));
        }

        for (name, overrides) in &self.customer {
            let section = format!("{SECTION}.customer.{name}");
            if !SEGMENTS.contains(&name.as_str()) {
                return Err(invalid(
                    path,
                    &section,
                    "(section name)",
                    name,
                    "is not a customer segment",
                    format!("use one of: {}", SEGMENTS.join(", ")),
                ));
            }
            self.base().apply(overrides).validate(path, &section)?;
        }
        for (name, overrides) in &self.tenure {
            let section = format!("{SECTION}.tenure.{name}");
            if !TENURE_GROUPS.contains(&name.as_str()) {
                return Err(invalid(
                    path,
                    &section,
                    "(section name)",
                    name,
                    "is not a tenure group",
                    format!("use one of: {}", TENURE_GROUPS.join(", ")),
                ));
            }
            self.base().apply(overrides).validate(path, &section)?;
            for (customer, customer_overrides) in &self.customer {
                let combined = self.base().apply(customer_overrides).apply(overrides);
                let both = format!("{SECTION}.customer.{customer} with {section}");
                combined.validate(path, &both)?;
            }
        }
        Ok(())
    }

    fn base(&self) -> Merged {
        Merged {
            at_risk_below: self.at_risk_below,
            low_usage_days: self.low_usage_days,
            watch_below: self.watch_below,
            expansion_above: self.expansion_above,
            expansion_months: self.expansion_months,
            limits_at: self.limits_at,
            persistence_months: self.persistence_months,
        }
    }
}

/// Threshold values after applying some overrides, before checking.
#[derive(Debug, Clone, Copy)]
struct Merged {
    at_risk_below: f64,
    low_usage_days: u32,
    watch_below: f64,
    expansion_above: f64,
    expansion_months: u32,
    limits_at: f64,
    persistence_months: u32,
}

impl Merged {
    fn apply(self, overrides: &SegmentOverrides) -> Merged {
        Merged {
            at_risk_below: overrides.at_risk_below.unwrap_or(self.at_risk_below),
            low_usage_days: overrides.low_usage_days.unwrap_or(self.low_usage_days),
            watch_below: overrides.watch_below.unwrap_or(self.watch_below),
            expansion_above: overrides.expansion_above.unwrap_or(self.expansion_above),
            expansion_months: overrides.expansion_months.unwrap_or(self.expansion_months),
            limits_at: overrides.limits_at.unwrap_or(self.limits_at),
            persistence_months: overrides
                .persistence_months
                .unwrap_or(self.persistence_months),
        }
    }

    fn resolve(self) -> Thresholds {
        Thresholds {
            at_risk_below: self.at_risk_below,
            low_usage_months: days_to_months(self.low_usage_days),
            watch_below: self.watch_below,
            expansion_above: self.expansion_above,
            expansion_months: self.expansion_months as usize,
            limits_at: self.limits_at,
            persistence_months: self.persistence_months as usize,
        }
    }

    fn validate(&self, path: &Path, section: &str) -> Result<(), ReportError> {
        check_share(path, section, "at_risk_below", self.at_risk_below, 0.0, 1.0)?;
        check_share(path, section, "watch_below", self.watch_below, 0.0, 1.0)?;
        check_share(
            path,
            section,
            "expansion_above",
            self.expansion_above,
            0.0,
            2.0,
        )?;
        check_share(path, section, "limits_at", self.limits_at, 0.0, 2.0)?;
        check_at_least(
            path,
            section,
            "low_usage_days",
            self.low_usage_days.into(),
            1,
            "days",
        )?;
        check_at_least(
            path,
            section,
            "expansion_months",
            self.expansion_months.into(),
            1,
            "months",
        )?;
        check_at_least(
            path,
            section,
            "persistence_months",
            self.persistence_months.into(),
            1,
            "months",
        )?;

        let order = [
            (
                "at_risk_below",
                self.at_risk_below,
                "watch_below",
                self.watch_below,
            ),
            (
                "watch_below",
                self.watch_below,
                "expansion_above",
                self.expansion_above,
            ),
        ];
        for (low_key, low, high_key, high) in order {
            if low > high {
                return Err(invalid(
                    path,
                    section,
                    low_key,
                    low,
                    format!("is above {high_key} ({high})"),
                    format!("keep {low_key} <= {high_key}, so that the segments do not overlap"),
                ));
            }
        }
        Ok(())
    }
}

/// Whole months in a number of days (rounded, at least 1).
pub(crate) fn days_to_months(days: u32) -> usize {
    let months = (f64::from(days) / DAYS_PER_MONTH).round() as usize;
    months.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SegmentSettings, ReportError> {
        let config = headroom_data::ProjectConfig::parse(text, None)?;
        let settings: SegmentSettings = config.section("segments")?;
        settings.validate(Path::new("p/headroom.toml"))?;
        Ok(settings)
    }

    #[test]
    fn defaults_match_documented_values() {
        let t = SegmentSettings::default().thresholds_for(None, TenureGroup::Mature);
        assert_eq!(t.at_risk_below, 0.40);
        assert_eq!(t.watch_below, 0.50);
        assert_eq!(t.expansion_above, 0.85);
        assert_eq!(t.limits_at, 0.90);
        // 60 days / 30.4375 = 1.97, rounded to 2 months.
        assert_eq!(t.low_usage_months, 2);
        assert_eq!(t.expansion_months, 3);
        assert_eq!(t.persistence_months, 2);
    }

    #[test]
    fn tenure_override_applies_after_customer_override() {
        let settings = parse(
            "[segments]\nat_risk_below = 0.35\n\
             [segments.customer.enterprise]\nat_risk_below = 0.30\nwatch_below = 0.45\n\
             [segments.tenure.new]\nat_risk_below = 0.20\n",
        )
        .unwrap();
        let mature = settings.thresholds_for(Some("enterprise"), TenureGroup::Mature);
        assert_eq!(mature.at_risk_below, 0.30);
        assert_eq!(mature.watch_below, 0.45);
        let young = settings.thresholds_for(Some("enterprise"), TenureGroup::New);
        assert_eq!(young.at_risk_below, 0.20);
        assert_eq!(young.watch_below, 0.45);
        let smb = settings.thresholds_for(Some("smb"), TenureGroup::Mature);
        assert_eq!(smb.at_risk_below, 0.35);
        assert_eq!(smb.watch_below, 0.50);
    }

    #[test]
    fn tenure_group_splits_at_mature_after_months() {
        let settings = SegmentSettings::default();
        assert_eq!(settings.tenure_group(Some(11.9)), TenureGroup::New);
        assert_eq!(settings.tenure_group(Some(12.0)), TenureGroup::Mature);
        assert_eq!(settings.tenure_group(None), TenureGroup::Mature);
    }

    #[test]
    fn share_out_of_range_names_section_and_key() {
        let err = parse("[segments]\nwatch_below = 1.5\n").unwrap_err();
        let message = err.to_string();
        assert!(matches!(
            err,
            ReportError::InvalidSetting(ref issue) if issue.section == "segments" && issue.key == "watch_below"
        ));
        assert!(message.contains("p/headroom.toml"), "{message}");
        assert!(message.contains("hint:"), "{message}");
    }

    #[test]
    fn thresholds_out_of_order_are_rejected() {
        let err = parse("[segments.customer.smb]\nat_risk_below = 0.6\n").unwrap_err();
        match err {
            ReportError::InvalidSetting(issue) => {
                assert_eq!(issue.section, "segments.customer.smb");
                assert_eq!(issue.key, "at_risk_below");
                assert_eq!(issue.value, "0.6");
                assert_eq!(issue.problem, "is above watch_below (0.5)");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_customer_segment_is_rejected() {
        let err = parse("[segments.customer.Enterprise]\nat_risk_below = 0.3\n").unwrap_err();
        assert!(matches!(
            err,
            ReportError::InvalidSetting(ref issue) if issue.section == "segments.customer.Enterprise" && issue.value == "Enterprise"
        ));
    }

    #[test]
    fn unknown_tenure_group_is_rejected() {
        let err = parse("[segments.tenure.young]\nat_risk_below = 0.3\n").unwrap_err();
        assert!(matches!(
            err,
            ReportError::InvalidSetting(ref issue) if issue.section == "segments.tenure.young"
        ));
    }

    #[test]
    fn combined_overrides_are_checked() {
        // Alone, smb (0.45 < 0.55) and new (0.40 default < 0.42) are in
        // order; together at_risk_below 0.45 from smb exceeds watch_below
        // 0.42 from the tenure group.
        let err = parse(
            "[segments.customer.smb]\nat_risk_below = 0.45\nwatch_below = 0.55\n\
             [segments.tenure.new]\nwatch_below = 0.42\n",
        )
        .unwrap_err();
        assert!(matches!(
            err,
            ReportError::InvalidSetting(ref issue) if issue.section == "segments.customer.smb with segments.tenure.new" && issue.key == "at_risk_below"
        ));
    }

    #[test]
    fn zero_persistence_is_rejected() {
        let err = parse("[segments]\npersistence_months = 0\n").unwrap_err();
        assert!(matches!(
            err,
            ReportError::InvalidSetting(ref issue) if issue.key == "persistence_months"
        ));
    }

    #[test]
    fn unknown_key_names_the_section() {
        let err = parse("[segments]\nat_risk = 0.3\n").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("[segments]"), "{message}");
        assert!(message.contains("at_risk"), "{message}");
    }
}
