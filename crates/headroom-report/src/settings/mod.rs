//! Settings of the scoring stage, read from the `[segments]`, `[alerts]` and
//! `[priority]` sections of a project's `headroom.toml`.
//!
//! Every field has a default, so a project without these sections scores with
//! the defaults documented on each field. [`ScoreSettings::load`] reads the
//! sections and then checks ranges and the order of the thresholds, naming the
//! file, section and key of a bad value.

mod alerts;
mod priority;
mod segments;

use std::path::Path;

use headroom_data::ProjectConfig;

pub use alerts::AlertSettings;
pub use priority::PrioritySettings;
pub use segments::{SegmentOverrides, SegmentSettings, TENURE_GROUPS, TenureGroup, Thresholds};

use crate::error::{InvalidSetting, ReportError};

/// The three settings sections of the scoring stage, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreSettings {
    /// Health segment thresholds and persistence (`[segments]`).
    pub segments: SegmentSettings,
    /// Alert rules (`[alerts]`).
    pub alerts: AlertSettings,
    /// Flag thresholds, priority weights and urgency (`[priority]`).
    pub priority: PrioritySettings,
}

impl ScoreSettings {
    /// Reads and checks the `[segments]`, `[alerts]` and `[priority]` sections.
    ///
    /// `path` is the config file, named in errors. Fails on unknown keys,
    /// values of the wrong type, values out of range, and thresholds out of
    /// order.
    pub fn load(config: &ProjectConfig, path: &Path) -> Result<ScoreSettings, ReportError> {
        let settings = ScoreSettings {
            segments: config.section("segments")?,
            alerts: config.section("alerts")?,
            priority: config.section("priority")?,
        };
        settings.validate(path)?;
        Ok(settings)
    }

    /// Checks every value's range and the order of the thresholds.
    ///
    /// Fails with [`ReportError::InvalidSetting`] on the first bad value.
    pub fn validate(&self, path: &Path) -> Result<(), ReportError> {
        self.segments.validate(path)?;
        self.alerts.validate(path)?;
        self.priority.validate(path)
    }
}

/// Builds the error for one bad setting.
pub(crate) fn invalid(
    path: &Path,
    section: &str,
    key: &str,
    value: impl ToString,
    problem: impl Into<String>,
    hint: impl Into<String>,
) -> ReportError {
    ReportError::InvalidSetting(Box::new(InvalidSetting {
        path: path.to_path_buf(),
        section: section.to_string(),
        key: key.to_string(),
        value: value.to_string(),
        problem: problem.into(),
        hint: hint.into(),
    }))
}

/// Checks that a share lies in `[low, high]` (both included).
pub(crate) fn check_share(
    path: &Path,
    section: &str,
    key: &str,
    value: f64,
    low: f64,
    high: f64,
) -> Result<(), ReportError> {
    if value.is_finite() && value >= low && value <= high {
        return Ok(());
    }
    Err(invalid(
        path,
        section,
        key,
        value,
        format!("must be between {low} and {high}"),
        format!("write a share such as 0.4 for 40%, from {low} to {high}"),
    ))
}

/// Checks that a count is at least `min`.
pub(crate) fn check_at_least(
    path: &Path,
    section: &str,
    key: &str,
    value: u64,
    min: u64,
    unit: &str,
) -> Result<(), ReportError> {
    if value >= min {
        return Ok(());
    }
    Err(invalid(
        path,
        section,
        key,
        value,
        format!("must be at least {min} {unit}"),
        format!("write a whole number of {unit} of {min} or more"),
    ))
}
