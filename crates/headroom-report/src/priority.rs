//! Projections of usage against limits, the expansion estimate, and the
//! priority that ranks accounts.
//!
//! A limited entitlement's utilization is projected along the least-squares
//! line through its last 4 months, as the feature stage projects time to
//! limit. The expansion estimate is the need projected above the limit at
//! the renewal date times the account's current unit price (ARR / limit), so
//! it equals ARR x (projected utilization - 1) for the entitlement that
//! overflows most.

use chrono::{Days, NaiveDate};
use headroom_features::calendar::DAYS_PER_MONTH;
use serde::Serialize;

use crate::history::EntitlementSeries;
use crate::segment::least_squares;
use crate::settings::PrioritySettings;

/// Longest time to limit the projection reports, in months (as the feature
/// stage: a crossing further out is no crossing).
pub const MAX_MONTHS_TO_LIMIT: f64 = 36.0;

/// One limited entitlement projected forward.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    /// The entitlement.
    pub entitlement: String,
    /// `seats` or `metered`.
    pub kind: String,
    /// The limit in metric units.
    pub limit: f64,
    /// Whether the limit is enforced hard.
    pub hard: bool,
    /// Utilization in the latest month.
    pub utilization: f64,
    /// Usage in the latest month.
    pub usage: f64,
    /// The trend line's utilization at the latest month.
    pub fitted: f64,
    /// The trend in utilization points per month (0.05 = 5 points a month).
    pub slope: f64,
    /// The trend as growth per month relative to the fitted level (slope / fitted).
    pub monthly_growth: Option<f64>,
    /// Months until the line crosses the limit: 0 when already at or past
    /// it; `None` when flat, falling, or more than 36 months away.
    pub months_to_limit: Option<f64>,
    /// The date of the crossing (scoring date + months x 30.4375 days).
    pub limit_date: Option<NaiveDate>,
    /// Months from the scoring date to the projection date (the renewal,
    /// capped at `max_projection_months`).
    pub horizon_months: f64,
    /// Projected utilization at the projection date.
    pub projected_utilization: f64,
    /// Units needed above the limit at the projection date (0 when within it).
    pub added_units: f64,
    /// ARR per unit of the limit.
    pub unit_price: f64,
    /// Added units x unit price.
    pub added_arr: f64,
}

/// Projects one limited entitlement; `None` without a limit or a reading in
/// the latest month.
///
/// `days_to_renewal` sets the projection date (capped at
/// `max_projection_months`; unknown or past renewals project 0 months).
pub fn project(
    series: &EntitlementSeries,
    as_of: NaiveDate,
    days_to_renewal: Option<f64>,
    arr: f64,
    settings: &PrioritySettings,
) -> Option<Projection> {
    let limit = series.limit?;
    let utilization_series = series.utilization();
    let k = utilization_series.len().checked_sub(1)?;
    let utilization = utilization_series[k]?;
    let usage = series.usage[k]?;

    let (fitted, slope) = least_squares(&utilization_series, k).unwrap_or((utilization, 0.0));
    let months_to_limit = months_to_limit(fitted, slope);
    let limit_date = months_to_limit.map(|m| add_months(as_of, m));

    let horizon_months = (days_to_renewal.unwrap_or(0.0).max(0.0) / DAYS_PER_MONTH)
        .min(f64::from(settings.max_projection_months));
    let projected_utilization = fitted + slope * horizon_months;
    let added_units = ((projected_utilization - 1.0) * limit).max(0.0);
    let unit_price = arr / limit;

    Some(Projection {
        entitlement: series.entitlement.clone(),
        kind: series.kind.clone(),
        limit,
        hard: series.hard,
        utilization,
        usage,
        fitted,
        slope,
        monthly_growth: (fitted > 0.0).then(|| slope / fitted),
        months_to_limit,
        limit_date,
        horizon_months,
        projected_utilization,
        added_units,
        unit_price,
        added_arr: added_units * unit_price,
    })
}

/// Months until a line at `fitted` rising by `slope` a month reaches 1.0.
pub fn months_to_limit(fitted: f64, slope: f64) -> Option<f64> {
    if fitted >= 1.0 {
        return Some(0.0);
    }
    if slope <= 0.0 {
        return None;
    }
    let months = (1.0 - fitted) / slope;
    (months <= MAX_MONTHS_TO_LIMIT).then_some(months)
}

/// The date `months` months of 30.4375 days after `date`, rounded to whole days.
pub fn add_months(date: NaiveDate, months: f64) -> NaiveDate {
    let days = (months * DAYS_PER_MONTH).round().max(0.0) as u64;
    date.checked_add_days(Days::new(days)).unwrap_or(date)
}

/// The money side of an account's priority.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Priority {
    /// p(churn) x ARR with a churn model; without one, ARR x the rule weight
    /// of the account's segment.
    pub arr_at_risk: f64,
    /// Estimated ARR added at renewal (the largest projection's `added_arr`).
    pub expansion_arr: f64,
    /// p(expansion) x `expansion_arr` with an expansion model; without one,
    /// `expansion_arr`.
    pub expansion_value: f64,
    /// The urgency multiplier from days to renewal.
    pub urgency: f64,
    /// urgency x (arr_at_risk + expansion_weight x expansion_value).
    pub score: f64,
}

impl Priority {
    /// Combines the parts with the settings' weights.
    pub fn combine(
        arr_at_risk: f64,
        expansion_arr: f64,
        expansion_value: f64,
        days_to_renewal: Option<f64>,
        settings: &PrioritySettings,
    ) -> Priority {
        let urgency = settings.urgency(days_to_renewal);
        let score = urgency * (arr_at_risk + settings.expansion_weight * expansion_value);
        Priority {
            arr_at_risk,
            expansion_arr,
            expansion_value,
            urgency,
            score,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn seats(usage: &[f64], limit: f64) -> EntitlementSeries {
        EntitlementSeries {
            entitlement: "seats".to_string(),
            kind: "seats".to_string(),
            metric: "active_users".to_string(),
            limit: Some(limit),
            hard: false,
            usage: usage.iter().map(|&u| Some(u)).collect(),
        }
    }

    #[test]
    fn time_to_limit_worked_by_hand() {
        // Seats 40, 42, 44, 46 of 50: utilization 0.80, 0.84, 0.88, 0.92,
        // a line with slope 0.04 a month through 0.92 at the latest month.
        // (1 - 0.92) / 0.04 = 2 months; 2 x 30.4375 = 60.875 -> 61 days
        // after 2026-10-31 is 2026-12-31.
        let p = project(
            &seats(&[40.0, 42.0, 44.0, 46.0], 50.0),
            date(2026, 10, 31),
            Some(365.0),
            30_000.0,
            &PrioritySettings::default(),
        )
        .unwrap();
        assert!((p.slope - 0.04).abs() < 1e-12);
        assert!((p.fitted - 0.92).abs() < 1e-12);
        assert!((p.months_to_limit.unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(p.limit_date, Some(date(2026, 12, 31)));
        // Growth 0.04 / 0.92 = 4.35% a month.
        assert!((p.monthly_growth.unwrap() - 0.04 / 0.92).abs() < 1e-12);
    }

    #[test]
    fn upsell_estimate_worked_by_hand() {
        // Same account, renewal in 182.625 days = 6 months.
        // Projected utilization 0.92 + 0.04 x 6 = 1.16: 0.16 x 50 = 8 seats
        // above the limit. Unit price 30,000 / 50 = 600 a seat, so the
        // estimate is 8 x 600 = 4,800 ARR.
        let p = project(
            &seats(&[40.0, 42.0, 44.0, 46.0], 50.0),
            date(2026, 10, 31),
            Some(6.0 * DAYS_PER_MONTH),
            30_000.0,
            &PrioritySettings::default(),
        )
        .unwrap();
        assert!((p.horizon_months - 6.0).abs() < 1e-12);
        assert!((p.projected_utilization - 1.16).abs() < 1e-9);
        assert!((p.added_units - 8.0).abs() < 1e-9);
        assert!((p.unit_price - 600.0).abs() < 1e-12);
        assert!((p.added_arr - 4_800.0).abs() < 1e-6);
    }

    #[test]
    fn far_renewal_projects_at_most_the_cap() {
        // Renewal in 600 days, cap 12 months: 0.92 + 0.04 x 12 = 1.40,
        // 0.40 x 50 = 20 seats, x 600 = 12,000.
        let p = project(
            &seats(&[40.0, 42.0, 44.0, 46.0], 50.0),
            date(2026, 10, 31),
            Some(600.0),
            30_000.0,
            &PrioritySettings::default(),
        )
        .unwrap();
        assert!((p.horizon_months - 12.0).abs() < 1e-12);
        assert!((p.added_arr - 12_000.0).abs() < 1e-6);
    }

    #[test]
    fn falling_usage_never_reaches_limit() {
        let p = project(
            &seats(&[46.0, 44.0, 42.0, 40.0], 50.0),
            date(2026, 10, 31),
            Some(90.0),
            30_000.0,
            &PrioritySettings::default(),
        )
        .unwrap();
        assert_eq!(p.months_to_limit, None);
        assert_eq!(p.limit_date, None);
        assert_eq!(p.added_arr, 0.0);
    }

    #[test]
    fn over_limit_is_zero_months_away() {
        assert_eq!(months_to_limit(1.05, -0.01), Some(0.0));
        // (1 - 0.1) / 0.02 = 45 months, beyond 36.
        assert_eq!(months_to_limit(0.1, 0.02), None);
    }

    #[test]
    fn single_reading_projects_flat() {
        // A snapshot: 17 of 15 seats, no trend. 1.1333 - 1 = 0.1333 x 15 =
        // 2 seats x (9,500 / 15) = 1,266.67.
        let p = project(
            &seats(&[17.0], 15.0),
            date(2025, 3, 31),
            Some(30.0),
            9_500.0,
            &PrioritySettings::default(),
        )
        .unwrap();
        assert_eq!(p.slope, 0.0);
        assert!((p.added_units - 2.0).abs() < 1e-9);
        assert!((p.added_arr - 9_500.0 * 2.0 / 15.0).abs() < 1e-9);
    }

    #[test]
    fn priority_combines_risk_expansion_and_urgency() {
        // Urgency 45 days before renewal: 1 + (180 - 45) / 180 = 1.75.
        // Score 1.75 x (12,000 + 0.5 x 2,000) = 22,750.
        let p = Priority::combine(
            12_000.0,
            5_000.0,
            2_000.0,
            Some(45.0),
            &PrioritySettings::default(),
        );
        assert!((p.urgency - 1.75).abs() < 1e-12);
        assert!((p.score - 22_750.0).abs() < 1e-9);
    }
}
