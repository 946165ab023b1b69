//! Recommended actions and talking points for an account that needs
//! attention, each built from the account's own numbers.
//!
//! Talking points state facts a CSM can bring to the customer conversation
//! ("23 of 50 seats active (46%), down from 41 six months ago"). Actions say
//! what to do next and why, with the amounts at stake. Every number goes
//! through [`crate::words`], so two accounts get the same text only when the
//! numbers shown are the same.

use headroom_features::calendar;

use crate::alerts::{AccountAlert, AlertKind, NoteRef};
use crate::facts::AccountFacts;
use crate::history::AccountHistory;
use crate::priority::Projection;
use crate::segment::HealthSegment;
use crate::settings::Thresholds;
use crate::words;

/// Fewest accounts in a peer group (same segment and industry) for its
/// median to be quoted.
const MIN_PEERS: f64 = 5.0;

/// What the playbook reads for one account.
#[derive(Debug, Clone, Copy)]
pub struct PlaybookInput<'a> {
    /// The account's numbers.
    pub facts: &'a AccountFacts,
    /// Its monthly usage.
    pub history: &'a AccountHistory,
    /// Its health segment.
    pub segment: HealthSegment,
    /// The thresholds that apply to it.
    pub thresholds: &'a Thresholds,
    /// Its limited entitlements projected forward.
    pub projections: &'a [Projection],
    /// The projection with the largest expansion estimate, if any is positive.
    pub expansion: Option<&'a Projection>,
    /// Its alerts (suppressed ones included).
    pub alerts: &'a [AccountAlert],
    /// Its active notes.
    pub notes: &'a [NoteRef],
    /// The churn probability, with a churn model.
    pub p_churn: Option<f64>,
    /// The expansion probability, with an expansion model.
    pub p_expansion: Option<f64>,
    /// Whether the churn model (or, without one, the rules) flags it.
    pub flagged_churn: bool,
    /// Whether the expansion model (or the rules) flags it.
    pub flagged_expansion: bool,
}

/// Actions and talking points of one account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Playbook {
    /// What to do, most urgent first.
    pub actions: Vec<String>,
    /// Facts to bring to the conversation.
    pub talking_points: Vec<String>,
}

/// Writes the actions and talking points of one account.
pub fn write(input: &PlaybookInput<'_>) -> Playbook {
    let mut playbook = Playbook::default();
    talking_points(input, &mut playbook.talking_points);
    risk_actions(input, &mut playbook.actions);
    growth_actions(input, &mut playbook.actions);
    note_actions(input, &mut playbook.actions);
    playbook
}

fn talking_points(input: &PlaybookInput<'_>, points: &mut Vec<String>) {
    if let Some(usage) = usage_point(input) {
        points.push(usage);
    }
    for alert in input.alerts {
        match alert.kind {
            AlertKind::UnusedFeature | AlertKind::HardLimitExceeded | AlertKind::SeasonalDip => {
                points.push(sentence(&alert.text));
            }
            AlertKind::UsageDrop | AlertKind::LimitCrossing | AlertKind::RenewalAtRisk => {}
        }
    }
    if let Some(p) = input.expansion {
        points.push(expansion_point(input, p));
    } else if let Some(p) = soonest_crossing(input.projections) {
        points.push(crossing_point(p));
    }
}

/// "23 of 50 seats active (46%), down from 41 six months ago."
fn usage_point(input: &PlaybookInput<'_>) -> Option<String> {
    let facts = input.facts;
    let series = input.history.primary_entitlement()?;
    let limit = series.limit?;
    let usage = *series.usage.last()?;
    let usage = usage?;
    let verb = if series.kind == "seats" {
        "active"
    } else {
        "used"
    };
    let unit = words::unit(&series.entitlement, &series.kind);
    let mut text = format!(
        "{} of {} {unit} {verb} ({})",
        words::quantity(usage),
        words::quantity(limit),
        words::percent(usage / limit)
    );

    let n = series.usage.len();
    let earlier = [
        (6usize, "six months ago"),
        (3, "three months ago"),
        (1, "a month ago"),
    ]
    .into_iter()
    .find_map(|(back, when)| {
        let before = series
            .usage
            .get(n.checked_sub(back + 1)?)
            .copied()
            .flatten()?;
        Some((before, when))
    });
    if let Some((before, when)) = earlier {
        let direction = if before > usage {
            "down from"
        } else if before < usage {
            "up from"
        } else {
            "the same as"
        };
        text.push_str(&format!(", {direction} {} {when}", words::quantity(before)));
    }
    let enough_peers = facts.peer_count.is_some_and(|n| n >= MIN_PEERS);
    if let Some(peer) = facts
        .peer_util_median
        .filter(|_| enough_peers && !facts.snapshot)
    {
        text.push_str(&format!("; similar accounts use {}", words::percent(peer)));
    }
    Some(sentence(&text))
}

fn expansion_point(input: &PlaybookInput<'_>, p: &Projection) -> String {
    let unit = words::unit(&p.entitlement, &p.kind);
    let to_renewal = input.facts.days_to_renewal.unwrap_or(0.0) / calendar::DAYS_PER_MONTH;
    let when = match input.facts.renewal_date {
        Some(date) if p.horizon_months > 0.0 && p.horizon_months + 1e-9 >= to_renewal => {
            format!("at the renewal on {}", words::date(date))
        }
        Some(_) if p.horizon_months > 0.0 => format!(
            "in {} (the projection stops there)",
            words::count_of(p.horizon_months.round() as usize, "month")
        ),
        _ => "now".to_string(),
    };
    let growth = p
        .monthly_growth
        .filter(|g| g.abs() >= 0.005)
        .map(|g| format!("at {} a month, ", words::signed_percent(g)))
        .unwrap_or_default();
    sentence(&format!(
        "{growth}the projected need {when} is {} {unit}, {} above the {} purchased; at the current {} per {} that adds {} ARR",
        words::quantity(p.limit + p.added_units.ceil()),
        words::quantity(p.added_units.ceil()),
        words::quantity(p.limit),
        words::money(p.unit_price, &input.facts.currency),
        words::per_unit(&p.kind),
        words::about_money(p.added_arr, &input.facts.currency)
    ))
}

fn crossing_point(p: &Projection) -> String {
    let growth = p
        .monthly_growth
        .map(|g| format!("at {} a month, ", words::signed_percent(g)))
        .unwrap_or_default();
    let months = p.months_to_limit.unwrap_or(0.0);
    let date = p.limit_date.map(words::date).unwrap_or_default();
    sentence(&format!(
        "{growth}{} reaches its limit of {} in {}, around {date}",
        words::name(&p.entitlement),
        words::quantity(p.limit),
        words::about_span(months)
    ))
}

/// The nearest limit crossing within a year.
fn soonest_crossing(projections: &[Projection]) -> Option<&Projection> {
    projections
        .iter()
        .filter(|p| p.months_to_limit.is_some_and(|m| m > 0.0 && m <= 12.0))
        .min_by(|a, b| {
            a.months_to_limit
                .partial_cmp(&b.months_to_limit)
                .unwrap_or(std::cmp::Ordering::Equal)
        })
}

fn risk_actions(input: &PlaybookInput<'_>, actions: &mut Vec<String>) {
    let facts = input.facts;
    let money = words::money(facts.arr, &facts.currency);
    let active = |kind| input.alerts.iter().any(|a| a.kind == kind && a.is_active());

    if active(AlertKind::RenewalAtRisk) {
        let date = facts.renewal_date.map(words::date).unwrap_or_default();
        let days = facts.days_to_renewal.map(words::days).unwrap_or_default();
        actions.push(sentence(&format!(
            "Book an executive call before the renewal on {date} ({days} left): {money} ARR at stake{}",
            churn_clause(input.p_churn)
        )));
    }
    if let Some(drop) = input
        .alerts
        .iter()
        .find(|a| a.kind == AlertKind::UsageDrop && a.is_active())
    {
        actions.push(sentence(&format!(
            "Ask the customer what changed: {}",
            drop.text
        )));
    }
    let review = input.segment == HealthSegment::AtRisk
        || (input.flagged_churn && !active(AlertKind::RenewalAtRisk));
    if review {
        let usage = primary_usage_words(input).unwrap_or_else(|| "usage".to_string());
        let below = primary_utilization(input)
            .filter(|u| *u < input.thresholds.at_risk_below)
            .map(|_| {
                format!(
                    ", under the {} mark",
                    words::percent(input.thresholds.at_risk_below)
                )
            })
            .unwrap_or_default();
        actions.push(sentence(&format!(
            "Run a usage review with the customer's admin: {usage}{below}{}",
            churn_clause(input.p_churn)
        )));
    } else if input.segment == HealthSegment::Watch {
        let usage = primary_usage_words(input).unwrap_or_else(|| "usage".to_string());
        actions.push(sentence(&format!(
            "Check in before use slips further: {usage}, at-risk below {}",
            words::percent(input.thresholds.at_risk_below)
        )));
    }
    if let Some(unused) = input
        .alerts
        .iter()
        .find(|a| a.kind == AlertKind::UnusedFeature && a.is_active())
    {
        let names: Vec<String> = input
            .history
            .features
            .iter()
            .filter(|f| unused.text.contains(&words::name(&f.entitlement)))
            .map(|f| words::name(&f.entitlement))
            .collect();
        let in_use = input.history.features.len() - names.len();
        let usage = primary_usage_words(input)
            .map(|u| format!(", with {u}"))
            .unwrap_or_default();
        actions.push(sentence(&format!(
            "Offer enablement on {}: paid for but unused; {} of {} entitled features in use{usage}",
            words::list(&names),
            in_use,
            input.history.features.len()
        )));
    }
    if let Some(kind) = &facts.last_intervention_kind
        && let Some(days) = facts.days_since_intervention.filter(|d| *d <= 90.0)
        && (input.segment == HealthSegment::AtRisk || input.flagged_churn)
    {
        actions.push(sentence(&format!(
            "Follow up on the {kind} of {} ago and check whether usage has recovered",
            words::days(days)
        )));
    }
}

fn growth_actions(input: &PlaybookInput<'_>, actions: &mut Vec<String>) {
    let currency = &input.facts.currency;
    for p in input
        .projections
        .iter()
        .filter(|p| p.hard && p.utilization > 1.0)
    {
        actions.push(sentence(&format!(
            "Raise the {} limit or plan the upgrade now: {} of {} used, and use past a hard limit is blocked",
            words::name(&p.entitlement),
            words::quantity(p.usage),
            words::quantity(p.limit)
        )));
    }
    let crossing = input
        .alerts
        .iter()
        .find(|a| a.kind == AlertKind::LimitCrossing && a.is_active());
    if let Some(alert) = crossing {
        actions.push(sentence(&format!(
            "Start the upgrade conversation before {}: {}",
            words::date(alert.date),
            alert.text
        )));
    }
    let expanding = matches!(
        input.segment,
        HealthSegment::Expansion | HealthSegment::ApproachingLimits
    ) || input.flagged_expansion;
    if let Some(p) = input.expansion.filter(|_| expanding) {
        let probability = input
            .p_expansion
            .map(|p| format!(" (expansion probability {})", words::percent(p)))
            .unwrap_or_default();
        let proposal = if p.kind == "seats" {
            format!(
                "Propose {} more seats for the renewal",
                words::quantity(p.added_units.ceil())
            )
        } else {
            format!(
                "Propose raising the {} limit from {} to {} for the renewal",
                words::name(&p.entitlement),
                words::quantity(p.limit),
                words::quantity((p.limit + p.added_units).ceil())
            )
        };
        actions.push(sentence(&format!(
            "{proposal}: {} ARR{probability}",
            words::about_money(p.added_arr, currency)
        )));
    }
}

fn note_actions(input: &PlaybookInput<'_>, actions: &mut Vec<String>) {
    for note in input.notes {
        actions.push(sentence(&format!(
            "Keep in mind the team's {}",
            note.summary()
        )));
    }
}

fn primary_usage_words(input: &PlaybookInput<'_>) -> Option<String> {
    let series = input.history.primary_entitlement()?;
    let usage = (*series.usage.last()?)?;
    let limit = series.limit?;
    let verb = if series.kind == "seats" {
        "active"
    } else {
        "used"
    };
    Some(format!(
        "{} of {} {} {verb} ({})",
        words::quantity(usage),
        words::quantity(limit),
        words::unit(&series.entitlement, &series.kind),
        words::percent(usage / limit)
    ))
}

/// The latest utilization of the primary entitlement, when it has a limit.
fn primary_utilization(input: &PlaybookInput<'_>) -> Option<f64> {
    let series = input.history.primary_entitlement()?;
    let usage = (*series.usage.last()?)?;
    Some(usage / series.limit?)
}

fn churn_clause(p_churn: Option<f64>) -> String {
    p_churn
        .map(|p| format!(" (churn probability {})", words::percent(p)))
        .unwrap_or_default()
}

/// Capitalizes the first letter and ends with a period.
fn sentence(text: &str) -> String {
    let mut chars = text.trim().chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
