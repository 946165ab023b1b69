//! Alert rules, each with the date it refers to, and how account notes
//! suppress or annotate them.
//!
//! | kind | fires when | date |
//! |---|---|---|
//! | `usage_drop` | primary usage fell by `usage_drop` or more in the latest month, and the season does not explain it | the month's last day |
//! | `hard_limit_exceeded` | a hard-enforced limit was exceeded in the latest month | the month's last day |
//! | `limit_crossing` | the trend crosses a limit within `limit_weeks` | the projected crossing |
//! | `unused_feature` | an entitled feature has had no use for `unused_feature_days` | the oldest last use (or purchase) |
//! | `renewal_at_risk` | renewal within `renewal_days` while at risk | the renewal date |
//! | `seasonal_dip` | usage fell by `seasonal_dip_min` or more, the seasonal index is below 1 and the seasonally adjusted change is within `seasonal_tolerance` (information, not risk) | the month's last day |

use chrono::NaiveDate;
use headroom_features::calendar;
use headroom_store::{AccountNote, Expectation};
use serde::Serialize;

use crate::facts::AccountFacts;
use crate::history::{AccountHistory, FeatureUse};
use crate::priority::Projection;
use crate::segment::HealthSegment;
use crate::settings::AlertSettings;
use crate::words;

/// The kind of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Primary usage fell sharply within one month.
    UsageDrop,
    /// A hard-enforced limit was exceeded.
    HardLimitExceeded,
    /// The trend crosses a limit soon.
    LimitCrossing,
    /// Entitled features have gone unused.
    UnusedFeature,
    /// The renewal is near while the account is at risk.
    RenewalAtRisk,
    /// A fall the account's usual season explains.
    SeasonalDip,
}

impl AlertKind {
    /// Returns the kind's key in CSV, JSON and the store.
    pub fn key(self) -> &'static str {
        match self {
            AlertKind::UsageDrop => "usage_drop",
            AlertKind::HardLimitExceeded => "hard_limit_exceeded",
            AlertKind::LimitCrossing => "limit_crossing",
            AlertKind::UnusedFeature => "unused_feature",
            AlertKind::RenewalAtRisk => "renewal_at_risk",
            AlertKind::SeasonalDip => "seasonal_dip",
        }
    }

    /// Classifies the alert as risk, opportunity or information.
    pub fn severity(self) -> Severity {
        match self {
            AlertKind::UsageDrop
            | AlertKind::HardLimitExceeded
            | AlertKind::UnusedFeature
            | AlertKind::RenewalAtRisk => Severity::Risk,
            AlertKind::LimitCrossing => Severity::Opportunity,
            AlertKind::SeasonalDip => Severity::Info,
        }
    }
}

/// The reading of an alert: risk, opportunity or information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The account may shrink or leave.
    Risk,
    /// The account may grow.
    Opportunity,
    /// Worth knowing; no action needed.
    Info,
}

/// An account note as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteRef {
    /// The store's note id.
    pub id: u64,
    /// The account.
    pub account_id: String,
    /// The team's expectation (`drop`, `growth`, `churn`, `renewal`).
    pub expectation: String,
    /// The last day the note applies.
    pub until: NaiveDate,
    /// The note.
    pub text: String,
}

impl NoteRef {
    /// Copies a stored note.
    pub fn from_note(note: &AccountNote) -> NoteRef {
        NoteRef {
            id: note.id.0,
            account_id: note.account_id.clone(),
            expectation: note.expectation.as_str().to_string(),
            until: note.until,
            text: note.text.clone(),
        }
    }

    /// Formats the note in one line: `note 3 (expects drop until 2026-12-31): pilot ends`.
    pub fn summary(&self) -> String {
        format!(
            "note {} (expects {} until {}): {}",
            self.id,
            self.expectation,
            words::date(self.until),
            self.text
        )
    }
}

/// One alert raised for an account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountAlert {
    /// The kind.
    pub kind: AlertKind,
    /// Risk, opportunity or information.
    pub severity: Severity,
    /// The date the alert refers to (see the module table).
    pub date: NaiveDate,
    /// The alert in words, with the account's numbers.
    pub text: String,
    /// The note that suppresses it: the alert is shown but does not flag
    /// the account or count toward its priority.
    pub suppressed_by: Option<NoteRef>,
    /// Notes that bear on it without suppressing it.
    pub annotations: Vec<NoteRef>,
}

impl AccountAlert {
    fn new(kind: AlertKind, date: NaiveDate, text: String) -> AccountAlert {
        AccountAlert {
            kind,
            severity: kind.severity(),
            date,
            text,
            suppressed_by: None,
            annotations: Vec::new(),
        }
    }

    /// Checks whether the alert counts: not suppressed by a note.
    pub fn is_active(&self) -> bool {
        self.suppressed_by.is_none()
    }

    /// Formats the text as stored in a snapshot: suppressed alerts start with
    /// "suppressed by note N:", and annotations follow in brackets.
    pub fn stored_text(&self) -> String {
        let mut text = match &self.suppressed_by {
            Some(note) => format!("suppressed by {}: {}", note.summary(), self.text),
            None => self.text.clone(),
        };
        for note in &self.annotations {
            text.push_str(&format!(" [{}]", note.summary()));
        }
        text
    }
}

/// A fall of primary usage in the latest month, and whether the season explains it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthlyFall {
    /// Usage the month before.
    pub before: f64,
    /// Usage in the latest month.
    pub after: f64,
    /// after / before - 1 (negative).
    pub change: f64,
    /// Whether the seasonal rule recognizes the fall as the account's season.
    pub seasonal: bool,
}

/// Finds the latest month's fall of primary usage, if usage fell by at least
/// `seasonal_dip_min` (the smaller of the two alert thresholds).
pub fn monthly_fall(
    facts: &AccountFacts,
    history: &AccountHistory,
    settings: &AlertSettings,
) -> Option<MonthlyFall> {
    let series = &history.primary_usage;
    let n = series.len();
    if n < 2 {
        return None;
    }
    let (before, after) = (series[n - 2]?, series[n - 1]?);
    if before <= 0.0 {
        return None;
    }
    let change = after / before - 1.0;
    if change > -settings.seasonal_dip_min.min(settings.usage_drop) {
        return None;
    }

    let in_low_season = facts.seasonal_index.is_some_and(|s| s < 1.0);
    let adjusted_holds = facts
        .sa_change_1m
        .is_some_and(|c| c > -settings.seasonal_tolerance);
    let seasonal = -change >= settings.seasonal_dip_min && in_low_season && adjusted_holds;
    Some(MonthlyFall {
        before,
        after,
        change,
        seasonal,
    })
}

/// The inputs of the alert rules for one account.
#[derive(Debug, Clone, Copy)]
pub struct AlertInput<'a> {
    /// The account's numbers.
    pub facts: &'a AccountFacts,
    /// Its monthly usage.
    pub history: &'a AccountHistory,
    /// The month index of the latest month in `history`.
    pub last_month: i32,
    /// The first month with any usage in the project.
    pub data_start: Option<i32>,
    /// Its limited entitlements projected forward.
    pub projections: &'a [Projection],
    /// The latest month's fall, from [`monthly_fall`].
    pub fall: Option<MonthlyFall>,
    /// Its health segment.
    pub segment: HealthSegment,
    /// The churn probability, with a churn model.
    pub p_churn: Option<f64>,
    /// Whether the churn model flags it.
    pub flagged_churn: bool,
}

/// Raises every alert of one account, risks first, then opportunities, then
/// information, each group by date.
pub fn raise(input: &AlertInput<'_>, settings: &AlertSettings) -> Vec<AccountAlert> {
    let month_end = calendar::month_end(input.last_month);
    let mut alerts = Vec::new();

    if let Some(alert) = fall_alert(input, settings, month_end) {
        alerts.push(alert);
    }
    alerts.extend(hard_limit_alerts(input, month_end));
    alerts.extend(limit_crossing_alerts(input, settings));
    if let Some(alert) = unused_feature_alert(input, settings) {
        alerts.push(alert);
    }
    if let Some(alert) = renewal_alert(input, settings) {
        alerts.push(alert);
    }

    alerts.sort_by_key(|a| (a.severity, a.date, a.kind));
    alerts
}

fn fall_alert(
    input: &AlertInput<'_>,
    settings: &AlertSettings,
    month_end: NaiveDate,
) -> Option<AccountAlert> {
    let fall = input.fall?;
    let metric = words::name(&input.history.primary_metric);
    let month = words::month_of(month_end);
    let amounts = format!(
        "from {} to {}",
        words::quantity(fall.before),
        words::quantity(fall.after)
    );
    if fall.seasonal {
        let adjusted = input.facts.sa_change_1m.unwrap_or(0.0);
        let text = format!(
            "{metric} fell {} in {month} ({amounts}), in line with the account's usual season (seasonally adjusted {})",
            words::percent(-fall.change),
            words::signed_percent(adjusted)
        );
        return Some(AccountAlert::new(AlertKind::SeasonalDip, month_end, text));
    }
    if -fall.change < settings.usage_drop {
        return None;
    }
    let text = format!(
        "{metric} fell {} in {month} ({amounts})",
        words::percent(-fall.change)
    );
    Some(AccountAlert::new(AlertKind::UsageDrop, month_end, text))
}

fn hard_limit_alerts(input: &AlertInput<'_>, month_end: NaiveDate) -> Vec<AccountAlert> {
    input
        .projections
        .iter()
        .filter(|p| p.hard && p.utilization > 1.0)
        .map(|p| {
            let text = format!(
                "{} beyond the hard limit in {}: {} of {} ({}); use past the limit is blocked",
                words::name(&p.entitlement),
                words::month_of(month_end),
                words::quantity(p.usage),
                words::quantity(p.limit),
                words::percent(p.utilization)
            );
            AccountAlert::new(AlertKind::HardLimitExceeded, month_end, text)
        })
        .collect()
}

fn limit_crossing_alerts(input: &AlertInput<'_>, settings: &AlertSettings) -> Vec<AccountAlert> {
    let window_months = f64::from(settings.limit_weeks) * 7.0 / calendar::DAYS_PER_MONTH;
    input
        .projections
        .iter()
        .filter_map(|p| {
            let months = p.months_to_limit?;
            let date = p.limit_date?;
            if months <= 0.0 || months > window_months {
                return None;
            }
            let growth = p
                .monthly_growth
                .map(|g| format!("at {} a month, ", words::signed_percent(g)))
                .unwrap_or_default();
            let hard = if p.hard { "hard " } else { "" };
            let text = format!(
                "{growth}{} crosses its {hard}limit of {} in {}, around {} (now {})",
                words::name(&p.entitlement),
                words::quantity(p.limit),
                words::about_span(months),
                words::date(date),
                words::percent(p.utilization)
            );
            Some(AccountAlert::new(AlertKind::LimitCrossing, date, text))
        })
        .collect()
}

fn unused_feature_alert(input: &AlertInput<'_>, settings: &AlertSettings) -> Option<AccountAlert> {
    let window = settings.unused_feature_months() as i32;
    let mut unused: Vec<(NaiveDate, String)> = input
        .history
        .features
        .iter()
        .filter_map(|feature| idle_since(feature, input.last_month, input.data_start, window))
        .collect();
    if unused.is_empty() {
        return None;
    }
    unused.sort();

    let entitled = input.history.features.len();
    let details: Vec<String> = unused.iter().map(|(_, text)| text.clone()).collect();
    let text = format!(
        "{} of {} entitled features unused for {} days or more: {}",
        unused.len(),
        entitled,
        settings.unused_feature_days,
        details.join("; ")
    );
    Some(AccountAlert::new(
        AlertKind::UnusedFeature,
        unused[0].0,
        text,
    ))
}

/// Finds the date a feature has been idle since, with its description, when
/// it has been idle for `window` months or more by `last_month`.
fn idle_since(
    feature: &FeatureUse,
    last_month: i32,
    data_start: Option<i32>,
    window: i32,
) -> Option<(NaiveDate, String)> {
    let name = words::name(&feature.entitlement);
    match feature.last_used {
        Some(used) => {
            let idle = last_month - calendar::month_index(used);
            (idle >= window).then(|| {
                (
                    used,
                    format!("{name} (last used in {})", words::month_of(used)),
                )
            })
        }
        None => {
            let observed_from = match data_start {
                Some(start) => feature.entitled_since.max(calendar::month_start(start)),
                None => feature.entitled_since,
            };
            let months = last_month - calendar::month_index(observed_from) + 1;
            let detail = if observed_from > feature.entitled_since {
                format!("no use on record since {}", words::date(observed_from))
            } else {
                format!(
                    "never used since purchase on {}",
                    words::date(observed_from)
                )
            };
            (months >= window).then(|| (observed_from, format!("{name} ({detail})")))
        }
    }
}

fn renewal_alert(input: &AlertInput<'_>, settings: &AlertSettings) -> Option<AccountAlert> {
    let days = input.facts.days_to_renewal?;
    let date = input.facts.renewal_date?;
    if days > f64::from(settings.renewal_days) {
        return None;
    }
    let mut causes = Vec::new();
    if input.segment == HealthSegment::AtRisk {
        causes.push("in the at-risk segment".to_string());
    }
    if input.flagged_churn
        && let Some(p) = input.p_churn
    {
        causes.push(format!("with a churn probability of {}", words::percent(p)));
    }
    if causes.is_empty() {
        return None;
    }
    let when = if days < 0.0 {
        format!(
            "the contract ended on {} ({} ago) with no renewal on record",
            words::date(date),
            words::days(-days)
        )
    } else {
        format!("renewal on {} in {}", words::date(date), words::days(days))
    };
    let text = format!(
        "{when}, {}; {} ARR",
        words::list(&causes),
        words::money(input.facts.arr, &input.facts.currency)
    );
    Some(AccountAlert::new(AlertKind::RenewalAtRisk, date, text))
}

/// Applies the account's active notes. An expected drop suppresses the
/// usage-drop alert. Expected growth annotates the limit alerts, and an
/// expected churn or renewal annotates the renewal alert.
pub fn apply_notes(alerts: &mut [AccountAlert], notes: &[NoteRef]) {
    for note in notes {
        let Ok(expectation) = note.expectation.parse::<Expectation>() else {
            continue;
        };
        for alert in alerts.iter_mut() {
            match (expectation, alert.kind) {
                (Expectation::Drop, AlertKind::UsageDrop) if alert.suppressed_by.is_none() => {
                    alert.suppressed_by = Some(note.clone());
                }
                (Expectation::Growth, AlertKind::LimitCrossing | AlertKind::HardLimitExceeded)
                | (Expectation::Churn | Expectation::Renewal, AlertKind::RenewalAtRisk) => {
                    alert.annotations.push(note.clone());
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests;
