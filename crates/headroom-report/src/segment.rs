//! Health segments from monthly utilization, with persistence so that an
//! account does not flap between segments from one month to the next.
//!
//! Each month gets the segment its readings alone would give (the month's
//! condition). An account then moves to a different segment only after that
//! segment's condition has held for `persistence_months` consecutive months;
//! months without a reading neither confirm nor break a run. The walk starts
//! at the first month with a reading, which takes its condition as it is.

use serde::{Deserialize, Serialize};

use crate::settings::Thresholds;

/// The usage health of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HealthSegment {
    /// Utilization below `at_risk_below` for `low_usage_days`.
    #[serde(rename = "at-risk")]
    AtRisk,
    /// Utilization below `watch_below`, or newly below `at_risk_below`.
    #[serde(rename = "watch")]
    Watch,
    /// Utilization from `watch_below` to `expansion_above`, both included.
    #[serde(rename = "healthy")]
    Healthy,
    /// Utilization of some entitlement above `expansion_above` for `expansion_months`.
    #[serde(rename = "expansion")]
    Expansion,
    /// Utilization of some entitlement at or above `limits_at` and rising.
    #[serde(rename = "approaching-limits")]
    ApproachingLimits,
    /// Tenure under `judge_after_months`: too young to judge.
    #[serde(rename = "new")]
    New,
    /// No limited entitlement or no usage reading to compare with one.
    #[serde(rename = "unmeasured")]
    Unmeasured,
}

impl HealthSegment {
    /// Every segment in report order: the ones that need attention first.
    pub const ALL: [HealthSegment; 7] = [
        HealthSegment::AtRisk,
        HealthSegment::Watch,
        HealthSegment::ApproachingLimits,
        HealthSegment::Expansion,
        HealthSegment::Healthy,
        HealthSegment::New,
        HealthSegment::Unmeasured,
    ];

    /// The segment's key in CSV, JSON and the store (`at-risk`, `watch`, ...).
    pub fn key(self) -> &'static str {
        match self {
            HealthSegment::AtRisk => "at-risk",
            HealthSegment::Watch => "watch",
            HealthSegment::Healthy => "healthy",
            HealthSegment::Expansion => "expansion",
            HealthSegment::ApproachingLimits => "approaching-limits",
            HealthSegment::New => "new",
            HealthSegment::Unmeasured => "unmeasured",
        }
    }

    /// The segment's name for people.
    pub fn label(self) -> &'static str {
        match self {
            HealthSegment::AtRisk => "at-risk low usage",
            HealthSegment::Watch => "watch",
            HealthSegment::Healthy => "healthy",
            HealthSegment::Expansion => "expansion opportunity",
            HealthSegment::ApproachingLimits => "approaching limits",
            HealthSegment::New => "new",
            HealthSegment::Unmeasured => "unmeasured",
        }
    }

    /// Parses a key as written by [`HealthSegment::key`].
    pub fn from_key(key: &str) -> Option<HealthSegment> {
        HealthSegment::ALL.into_iter().find(|s| s.key() == key)
    }
}

impl std::fmt::Display for HealthSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// The monthly utilization series a segment is judged on, oldest first and
/// all of the same length; the last month is the scoring month.
#[derive(Debug, Clone, Copy)]
pub struct SegmentInput<'a> {
    /// Utilization of the entitlement that decides low usage (the primary
    /// one, or the first limited one when the primary has no limit).
    pub usage: &'a [Option<f64>],
    /// Utilization of every limited entitlement, for expansion and limits.
    pub limited: &'a [Vec<Option<f64>>],
    /// Tenure in months at the scoring date.
    pub tenure_months: Option<f64>,
    /// Accounts younger than this many months are `new`; months of the
    /// series in which the account was that young are not judged either, so
    /// an onboarding ramp does not start the account at risk.
    pub judge_after_months: u32,
    /// The thresholds that apply to the account.
    pub thresholds: Thresholds,
}

/// A segment change that has started but not yet held long enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PendingChange {
    /// The segment the recent months point to.
    pub segment: HealthSegment,
    /// Consecutive months its condition has held, up to the scoring month.
    pub months: usize,
}

/// The segment of an account at the scoring month and how it got there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentResult {
    /// The segment after persistence.
    pub segment: HealthSegment,
    /// The scoring month's condition alone; `None` without a reading.
    pub condition: Option<HealthSegment>,
    /// Position in the series of the month the segment began (the first month
    /// of the run that moved the account there); `None` for `new` and
    /// `unmeasured`.
    pub since: Option<usize>,
    /// A different condition that has held for fewer than `persistence_months`.
    pub pending: Option<PendingChange>,
    /// For expansion and approaching limits: the position in
    /// [`SegmentInput::limited`] of the entitlement that qualified.
    pub driver: Option<usize>,
}

/// Assigns the segment of one account.
pub fn assign(input: &SegmentInput<'_>) -> SegmentResult {
    let young = input
        .tenure_months
        .is_some_and(|t| t < f64::from(input.judge_after_months));
    if young {
        let condition = monthly_condition(input, last(input.usage.len())).map(|(s, _)| s);
        return SegmentResult {
            segment: HealthSegment::New,
            condition,
            since: None,
            pending: None,
            driver: None,
        };
    }

    let months = input
        .usage
        .len()
        .max(input.limited.iter().map(Vec::len).max().unwrap_or(0));
    let first = first_judged(input, months);
    let conditions: Vec<Option<(HealthSegment, Option<usize>)>> = (0..months)
        .map(|k| {
            if k < first {
                None
            } else {
                monthly_condition(input, k)
            }
        })
        .collect();
    walk(&conditions, input.thresholds.persistence_months)
}

/// The first month of the series in which the account was at least
/// `judge_after_months` old at the month's end (the last month ends at the
/// scoring date, when its age is `tenure_months`).
fn first_judged(input: &SegmentInput<'_>, months: usize) -> usize {
    let Some(tenure) = input.tenure_months else {
        return 0;
    };
    let judged_months = (tenure - f64::from(input.judge_after_months)).floor();
    if judged_months < 0.0 {
        return months;
    }
    months.saturating_sub(1 + judged_months as usize)
}

/// Applies persistence to a series of monthly conditions.
fn walk(
    conditions: &[Option<(HealthSegment, Option<usize>)>],
    persistence: usize,
) -> SegmentResult {
    let mut state: Option<(HealthSegment, usize, Option<usize>)> = None;
    let mut candidate: Option<(HealthSegment, usize, usize, Option<usize>)> = None;

    for (k, condition) in conditions.iter().enumerate() {
        let Some((segment, driver)) = *condition else {
            continue;
        };
        match state {
            None => state = Some((segment, k, driver)),
            Some((current, since, _)) if current == segment => {
                state = Some((current, since, driver));
                candidate = None;
            }
            Some(_) => {
                let run = match candidate {
                    Some((pending, start, count, _)) if pending == segment => (start, count + 1),
                    _ => (k, 1),
                };
                candidate = Some((segment, run.0, run.1, driver));
                if run.1 >= persistence.max(1) {
                    state = Some((segment, run.0, driver));
                    candidate = None;
                }
            }
        }
    }

    let condition = conditions.last().copied().flatten().map(|(s, _)| s);
    match state {
        None => SegmentResult {
            segment: HealthSegment::Unmeasured,
            condition,
            since: None,
            pending: None,
            driver: None,
        },
        Some((segment, since, driver)) => SegmentResult {
            segment,
            condition,
            since: Some(since),
            pending: candidate.map(|(segment, _, months, _)| PendingChange { segment, months }),
            driver,
        },
    }
}

/// The condition of month `k` alone, with the limited entitlement behind an
/// expansion or limits condition; `None` without any reading that month.
fn monthly_condition(input: &SegmentInput<'_>, k: usize) -> Option<(HealthSegment, Option<usize>)> {
    let t = &input.thresholds;

    let mut approaching: Option<(usize, f64)> = None;
    let mut expanding: Option<(usize, f64)> = None;
    for (j, series) in input.limited.iter().enumerate() {
        let Some(u) = series.get(k).copied().flatten() else {
            continue;
        };
        let rising = trend_slope(series, k).is_some_and(|slope| slope > 0.0);
        if u >= t.limits_at && rising && approaching.is_none_or(|(_, best)| u > best) {
            approaching = Some((j, u));
        }
        let window = readings(series, k, t.expansion_months);
        if !window.is_empty()
            && window.iter().all(|&w| w > t.expansion_above)
            && expanding.is_none_or(|(_, best)| u > best)
        {
            expanding = Some((j, u));
        }
    }
    if let Some((j, _)) = approaching {
        return Some((HealthSegment::ApproachingLimits, Some(j)));
    }
    if let Some((j, _)) = expanding {
        return Some((HealthSegment::Expansion, Some(j)));
    }

    let u = input.usage.get(k).copied().flatten()?;
    let low = readings(input.usage, k, t.low_usage_months);
    if low.iter().all(|&w| w < t.at_risk_below) {
        return Some((HealthSegment::AtRisk, None));
    }
    if u < t.watch_below {
        return Some((HealthSegment::Watch, None));
    }
    Some((HealthSegment::Healthy, None))
}

/// The readings of the `window` months ending at `k` (months without a
/// reading are left out).
fn readings(series: &[Option<f64>], k: usize, window: usize) -> Vec<f64> {
    let start = (k + 1).saturating_sub(window.max(1));
    series[start..=k.min(series.len().saturating_sub(1))]
        .iter()
        .flatten()
        .copied()
        .collect()
}

/// The least-squares slope per month over the 4 months ending at `k`, as the
/// feature stage computes its 3-month trends; `None` under 2 readings.
pub fn trend_slope(series: &[Option<f64>], k: usize) -> Option<f64> {
    least_squares(series, k).map(|(_, slope)| slope)
}

/// The least-squares line over the 4 months ending at `k`: its value at `k`
/// and its slope per month; `None` under 2 readings.
pub fn least_squares(series: &[Option<f64>], k: usize) -> Option<(f64, f64)> {
    if k >= series.len() {
        return None;
    }
    let start = k.saturating_sub(3);
    let points: Vec<(f64, f64)> = (start..=k)
        .filter_map(|i| series[i].map(|y| (i as f64, y)))
        .collect();
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    let fitted = mean_y + slope * (k as f64 - mean_x);
    Some((fitted, slope))
}

fn last(len: usize) -> usize {
    len.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{SegmentSettings, TenureGroup};

    fn thresholds() -> Thresholds {
        SegmentSettings::default().thresholds_for(None, TenureGroup::Mature)
    }

    fn judge(usage: &[f64], limited: &[&[f64]]) -> SegmentResult {
        let usage: Vec<Option<f64>> = usage.iter().map(|&u| Some(u)).collect();
        let limited: Vec<Vec<Option<f64>>> = limited
            .iter()
            .map(|s| s.iter().map(|&u| Some(u)).collect())
            .collect();
        assign(&SegmentInput {
            usage: &usage,
            limited: &limited,
            tenure_months: Some(24.0),
            judge_after_months: 3,
            thresholds: thresholds(),
        })
    }

    /// One entitlement that is both the usage series and the only limited one.
    fn judge_one(usage: &[f64]) -> SegmentResult {
        judge(usage, &[usage])
    }

    #[test]
    fn exactly_forty_percent_is_watch_not_at_risk() {
        // 0.40 is not below at_risk_below 0.40, and below watch_below 0.50.
        assert_eq!(
            judge_one(&[0.40, 0.40, 0.40, 0.40]).segment,
            HealthSegment::Watch
        );
        assert_eq!(
            judge_one(&[0.399, 0.399, 0.399, 0.399]).segment,
            HealthSegment::AtRisk
        );
    }

    #[test]
    fn exactly_fifty_percent_is_healthy() {
        assert_eq!(
            judge_one(&[0.50, 0.50, 0.50]).segment,
            HealthSegment::Healthy
        );
        assert_eq!(
            judge_one(&[0.499, 0.499, 0.499]).segment,
            HealthSegment::Watch
        );
    }

    #[test]
    fn exactly_eighty_five_percent_is_healthy() {
        // Expansion needs utilization above 0.85 for 3 months.
        assert_eq!(
            judge_one(&[0.85, 0.85, 0.85, 0.85]).segment,
            HealthSegment::Healthy
        );
        assert_eq!(
            judge_one(&[0.851, 0.851, 0.851, 0.851]).segment,
            HealthSegment::Expansion
        );
    }

    #[test]
    fn exactly_ninety_percent_and_rising_approaches_limits() {
        // Months 3 and 4 are at 0.90 with a rising 4-month trend, so the
        // condition holds twice and the account moves.
        let result = judge_one(&[0.80, 0.85, 0.88, 0.90, 0.90]);
        assert_eq!(result.condition, Some(HealthSegment::ApproachingLimits));
        assert_eq!(result.segment, HealthSegment::ApproachingLimits);
        assert_eq!(result.driver, Some(0));
    }

    #[test]
    fn just_under_ninety_percent_is_not_approaching() {
        // 0.899 is under limits_at; the last 3 months (0.88, 0.899, 0.899)
        // are above 0.85, so the month's condition is expansion, which has
        // held one month only.
        let result = judge_one(&[0.80, 0.85, 0.88, 0.899, 0.899]);
        assert_eq!(result.condition, Some(HealthSegment::Expansion));
        assert_eq!(result.segment, HealthSegment::Healthy);
    }

    #[test]
    fn ninety_percent_and_flat_is_expansion_not_limits() {
        assert_eq!(
            judge_one(&[0.90, 0.90, 0.90, 0.90]).segment,
            HealthSegment::Expansion
        );
    }

    #[test]
    fn low_usage_needs_sixty_days() {
        // One month under 40% is watch; the 60-day window needs two.
        let one = judge_one(&[0.60, 0.60, 0.60, 0.30]);
        assert_eq!(one.condition, Some(HealthSegment::Watch));
        let two = judge_one(&[0.60, 0.60, 0.30, 0.30]);
        assert_eq!(two.condition, Some(HealthSegment::AtRisk));
    }

    #[test]
    fn change_needs_persistence_months() {
        // Month 3 is watch (one month under 40%), month 4 at-risk (two
        // months under 40%): neither condition has held 2 months, so the
        // account stays healthy with the at-risk change pending.
        let held_once = judge_one(&[0.60, 0.60, 0.60, 0.30, 0.30]);
        assert_eq!(held_once.segment, HealthSegment::Healthy);
        assert_eq!(
            held_once.pending,
            Some(PendingChange {
                segment: HealthSegment::AtRisk,
                months: 1
            })
        );

        // One more month under 40%: the at-risk condition held in months 4
        // and 5, so the account moves, and the segment began in month 4.
        let held_twice = judge_one(&[0.60, 0.60, 0.60, 0.30, 0.30, 0.30]);
        assert_eq!(held_twice.segment, HealthSegment::AtRisk);
        assert_eq!(held_twice.since, Some(4));
        assert_eq!(held_twice.pending, None);
    }

    #[test]
    fn alternating_readings_do_not_flap() {
        // 0.48 / 0.55 alternate between watch and healthy each month; no
        // condition holds two months in a row, so the first one stays.
        let result = judge_one(&[0.55, 0.48, 0.55, 0.48, 0.55, 0.48]);
        assert_eq!(result.segment, HealthSegment::Healthy);
        assert_eq!(result.since, Some(0));
    }

    #[test]
    fn persistence_of_one_moves_at_once() {
        let mut t = thresholds();
        t.persistence_months = 1;
        let usage = [Some(0.6), Some(0.6), Some(0.45)];
        let result = assign(&SegmentInput {
            usage: &usage,
            limited: &[usage.to_vec()],
            tenure_months: Some(24.0),
            judge_after_months: 3,
            thresholds: t,
        });
        assert_eq!(result.segment, HealthSegment::Watch);
        assert_eq!(result.since, Some(2));
    }

    #[test]
    fn months_without_readings_neither_confirm_nor_break() {
        let usage = [Some(0.6), Some(0.45), None, Some(0.45)];
        let result = assign(&SegmentInput {
            usage: &usage,
            limited: &[usage.to_vec()],
            tenure_months: Some(24.0),
            judge_after_months: 3,
            thresholds: thresholds(),
        });
        assert_eq!(result.segment, HealthSegment::Watch);
        assert_eq!(result.since, Some(1));
    }

    #[test]
    fn young_account_is_new() {
        let usage = [Some(0.1), Some(0.1)];
        let result = assign(&SegmentInput {
            usage: &usage,
            limited: &[usage.to_vec()],
            tenure_months: Some(2.5),
            judge_after_months: 3,
            thresholds: thresholds(),
        });
        assert_eq!(result.segment, HealthSegment::New);
        assert_eq!(result.condition, Some(HealthSegment::AtRisk));
    }

    #[test]
    fn onboarding_months_are_not_judged() {
        // Tenure 4 months with 3 needed: only the last two months (ages 3
        // and 4 at their ends) are judged. Month 2 at 47% is watch, month 3
        // at 57% healthy once: the ramp's 20% and 38% never count.
        let usage = [Some(0.20), Some(0.38), Some(0.47), Some(0.57)];
        let result = assign(&SegmentInput {
            usage: &usage,
            limited: &[usage.to_vec()],
            tenure_months: Some(4.0),
            judge_after_months: 3,
            thresholds: thresholds(),
        });
        assert_eq!(result.segment, HealthSegment::Watch);
        assert_eq!(result.since, Some(2));
        assert_eq!(
            result.pending,
            Some(PendingChange {
                segment: HealthSegment::Healthy,
                months: 1
            })
        );
    }

    #[test]
    fn no_reading_is_unmeasured() {
        let result = assign(&SegmentInput {
            usage: &[None, None],
            limited: &[],
            tenure_months: Some(24.0),
            judge_after_months: 3,
            thresholds: thresholds(),
        });
        assert_eq!(result.segment, HealthSegment::Unmeasured);
    }

    #[test]
    fn busy_second_entitlement_drives_limits() {
        // Seats at 60% (healthy), API calls at 95% and rising.
        let result = judge(
            &[0.6, 0.6, 0.6, 0.6],
            &[&[0.6, 0.6, 0.6, 0.6], &[0.8, 0.85, 0.9, 0.95]],
        );
        assert_eq!(result.segment, HealthSegment::ApproachingLimits);
        assert_eq!(result.driver, Some(1));
    }

    #[test]
    fn least_squares_line_through_four_months() {
        // Points (0, 1), (1, 2), (2, 2), (3, 3): mean x 1.5, mean y 2,
        // sxy = 1.5 + 0 + 0 + 1.5 = 3, sxx = 5, slope 0.6,
        // value at x = 3: 2 + 0.6 * 1.5 = 2.9.
        let series = [Some(1.0), Some(2.0), Some(2.0), Some(3.0)];
        let (fitted, slope) = least_squares(&series, 3).unwrap();
        assert!((slope - 0.6).abs() < 1e-12);
        assert!((fitted - 2.9).abs() < 1e-12);
        assert_eq!(least_squares(&[None, Some(1.0)], 1), None);
    }

    #[test]
    fn keys_round_trip() {
        for segment in HealthSegment::ALL {
            assert_eq!(HealthSegment::from_key(segment.key()), Some(segment));
        }
    }
}
