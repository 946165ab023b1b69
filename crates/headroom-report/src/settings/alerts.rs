//! The `[alerts]` section: when each alert rule fires.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{check_at_least, check_share, invalid};
use crate::error::ReportError;

const SECTION: &str = "alerts";

/// Settings of the alert rules. An absent `[alerts]` section gives
/// [`AlertSettings::default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// Fall of primary usage within one month, as a share of the month
    /// before, that raises a usage-drop alert (default 0.40, a drop of 40%).
    pub usage_drop: f64,
    /// Weeks ahead within which a projected limit crossing raises an alert
    /// (default 12).
    pub limit_weeks: u32,
    /// Days without use after which an entitled feature raises an alert
    /// (default 90). Usage is monthly, so this counts whole months: days /
    /// 30.4375, rounded.
    pub unused_feature_days: u32,
    /// Days before the renewal date within which an account at risk raises
    /// an alert (default 90).
    pub renewal_days: u32,
    /// Fall of primary usage within one month, as a share, from which a
    /// seasonal dip can be recognized (default 0.15).
    pub seasonal_dip_min: f64,
    /// Largest fall of seasonally adjusted usage, as a share, for which a fall
    /// still counts as the account's usual season (default 0.10). A larger
    /// adjusted fall is a real drop.
    pub seasonal_tolerance: f64,
}

impl Default for AlertSettings {
    fn default() -> AlertSettings {
        AlertSettings {
            usage_drop: 0.40,
            limit_weeks: 12,
            unused_feature_days: 90,
            renewal_days: 90,
            seasonal_dip_min: 0.15,
            seasonal_tolerance: 0.10,
        }
    }
}

impl AlertSettings {
    /// Months without use after which an entitled feature raises an alert.
    pub fn unused_feature_months(&self) -> usize {
        super::segments::days_to_months(self.unused_feature_days)
    }

    /// Checks every value's range.
    ///
    /// Fails with [`ReportError::InvalidSetting`] naming the key.
    pub fn validate(&self, path: &Path) -> Result<(), ReportError> {
        check_share(path, SECTION, "usage_drop", self.usage_drop, 0.01, 1.0)?;
        check_share(
            path,
            SECTION,
            "seasonal_dip_min",
            self.seasonal_dip_min,
            0.01,
            1.0,
        )?;
        check_share(
            path,
            SECTION,
            "seasonal_tolerance",
            self.seasonal_tolerance,
            0.0,
            1.0,
        )?;
        check_at_least(
            path,
            SECTION,
            "limit_weeks",
            self.limit_weeks.into(),
            1,
            "weeks",
        )?;
        check_at_least(
            path,
            SECTION,
            "unused_feature_days",
            self.unused_feature_days.into(),
            30,
            "days",
        )?;
        check_at_least(
            path,
            SECTION,
            "renewal_days",
            self.renewal_days.into(),
            1,
            "days",
        )?;
        if self.seasonal_tolerance >= self.seasonal_dip_min {
            return Err(invalid(
                path,
                SECTION,
                "seasonal_tolerance",
                self.seasonal_tolerance,
                format!("is not below seasonal_dip_min ({})", self.seasonal_dip_min),
                "a seasonal dip is a fall the season explains: keep the adjusted fall allowed (seasonal_tolerance) below the raw fall (seasonal_dip_min)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_unused_feature_window_is_three_months() {
        // 90 days / 30.4375 = 2.96, rounded to 3.
        assert_eq!(AlertSettings::default().unused_feature_months(), 3);
    }

    #[test]
    fn usage_drop_above_one_is_rejected() {
        let settings = AlertSettings {
            usage_drop: 40.0,
            ..AlertSettings::default()
        };
        let err = settings.validate(Path::new("headroom.toml")).unwrap_err();
        assert!(matches!(
            err,
            ReportError::InvalidSetting(ref issue) if issue.section == "alerts" && issue.key == "usage_drop" && issue.value == "40"
        ));
    }

    #[test]
    fn tolerance_must_stay_below_dip() {
        let settings = AlertSettings {
            seasonal_tolerance: 0.2,
            ..AlertSettings::default()
        };
        let err = settings.validate(Path::new("headroom.toml")).unwrap_err();
        assert!(matches!(
            err,
            ReportError::InvalidSetting(ref issue) if issue.key == "seasonal_tolerance"
        ));
    }

    #[test]
    fn short_unused_feature_window_is_rejected() {
        let settings = AlertSettings {
            unused_feature_days: 7,
            ..AlertSettings::default()
        };
        let err = settings.validate(Path::new("headroom.toml")).unwrap_err();
        assert!(matches!(
            err,
            ReportError::InvalidSetting(ref issue) if issue.key == "unused_feature_days"
        ));
    }
}
