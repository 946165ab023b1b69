//! Reason codes in words: a model contribution (feature, raw value, push on
//! the log-odds) becomes a sentence with the account's own numbers.
//!
//! The features the report reads most often have their own phrasing ("23 of
//! 50 seats in use (46%)"). Any other feature is described from the feature
//! catalogue with its unit.

use headroom_features::lookup;
use headroom_model::inputs::{DAYS_TO_RENEWAL, RENEWAL_WINDOW};
use headroom_model::{Contribution, FeatureMatrix, Term};
use serde::Serialize;

use crate::facts::AccountFacts;
use crate::history::AccountHistory;
use crate::words;

/// The source of a reason: a model or the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasonSource {
    /// The churn model.
    Churn,
    /// The expansion model.
    Expansion,
    /// The segment rules (no model).
    Rule,
}

impl ReasonSource {
    /// Returns the prefix of the feature name in a stored snapshot (`churn.util_primary`).
    pub fn key(self) -> &'static str {
        match self {
            ReasonSource::Churn => "churn",
            ReasonSource::Expansion => "expansion",
            ReasonSource::Rule => "rule",
        }
    }
}

/// One reason behind an account's score, in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonText {
    /// The model or the rules.
    pub source: ReasonSource,
    /// The feature.
    pub feature: String,
    /// The push on the log-odds (coefficient x standardized value); 0 for rules.
    pub contribution: f64,
    /// The reason in words.
    pub text: String,
}

/// One row of a model's inputs, for reasons about derived inputs (window
/// interactions, products, one 0/1 input per segment).
#[derive(Debug, Clone, Copy, Default)]
pub struct RowInputs<'a> {
    /// The model's inputs.
    pub matrix: Option<&'a FeatureMatrix>,
    /// The account's row in it.
    pub row: usize,
    /// The upper bound of the renewal window input in days, when the model has one.
    pub renewal_window_days: Option<f64>,
}

impl RowInputs<'_> {
    /// The row's value of an input; `None` when missing or absent.
    fn value(&self, name: &str) -> Option<f64> {
        let matrix = self.matrix?;
        let j = matrix.column_index(name)?;
        let v = matrix.values()[[self.row, j]];
        (!v.is_nan()).then_some(v)
    }
}

/// Turns a model's raising contributions into reasons. Inputs that read the
/// same in words (the renewal window and its interaction with the days to
/// renewal) become one reason with their contributions added.
pub fn from_contributions(
    source: ReasonSource,
    contributions: &[Contribution],
    facts: &AccountFacts,
    history: Option<&AccountHistory>,
    inputs: RowInputs<'_>,
) -> Vec<ReasonText> {
    let mut reasons: Vec<ReasonText> = Vec::with_capacity(contributions.len());
    for c in contributions {
        let text = match c.term {
            Term::Value => describe_input(&c.feature, c.raw_value, facts, history, inputs),
            Term::Missing => describe_missing(&c.feature),
        };
        match reasons.iter_mut().find(|r| r.text == text) {
            Some(same) => same.contribution += c.contribution,
            None => reasons.push(ReasonText {
                source,
                feature: c.feature.clone(),
                contribution: c.contribution,
                text,
            }),
        }
    }
    reasons
}

/// Describes one feature value of an account in words.
pub fn describe(
    feature: &str,
    term: Term,
    raw: Option<f64>,
    facts: &AccountFacts,
    history: Option<&AccountHistory>,
) -> String {
    match term {
        Term::Value => describe_input(feature, raw, facts, history, RowInputs::default()),
        Term::Missing => describe_missing(feature),
    }
}

/// Describes one model input: a derived input (the renewal window and its
/// interactions, a product, a 0/1 category input) or a feature-table column.
fn describe_input(
    name: &str,
    raw: Option<f64>,
    facts: &AccountFacts,
    history: Option<&AccountHistory>,
    inputs: RowInputs<'_>,
) -> String {
    let side = |input: &str| describe_input(input, inputs.value(input), facts, history, inputs);
    if name == RENEWAL_WINDOW {
        return renewal_window(raw.is_some_and(|v| v >= 0.5), facts, inputs);
    }
    if let Some(other) = name
        .strip_prefix(RENEWAL_WINDOW)
        .and_then(|rest| rest.strip_prefix('*'))
    {
        let inside = inputs.value(RENEWAL_WINDOW).is_some_and(|v| v >= 0.5);
        if other == DAYS_TO_RENEWAL {
            return renewal_window(inside, facts, inputs);
        }
        return format!("{}, {}", side(other), renewal_window(inside, facts, inputs));
    }
    if let Some((a, b)) = name.split_once('*') {
        return format!("{} with {}", side(a), side(b));
    }
    if let Some((column, value)) = name.split_once('=') {
        return category(column, value, raw.is_some_and(|v| v >= 0.5));
    }
    let Some(value) = raw else {
        return describe_missing(name);
    };
    known(name, value, facts, history).unwrap_or_else(|| generic(name, value))
}

/// "renewal within 180 days (in 45 days)" or "no renewal within 180 days".
fn renewal_window(inside: bool, facts: &AccountFacts, inputs: RowInputs<'_>) -> String {
    let horizon = inputs
        .renewal_window_days
        .map(words::days)
        .unwrap_or_else(|| "the horizon".to_string());
    let when = match (facts.days_to_renewal, facts.renewal_date) {
        (Some(d), Some(date)) if d >= 0.0 => {
            format!(" (in {}, on {})", words::days(d), words::date(date))
        }
        _ => String::new(),
    };
    if inside {
        format!("renewal within {horizon}{when}")
    } else {
        format!("no renewal within {horizon}{when}")
    }
}

/// A 0/1 category input: "an smb account", "not an enterprise account",
/// "plan is growth".
fn category(column: &str, value: &str, set: bool) -> String {
    match (column, set) {
        ("segment", true) => format!("{} {value} account", article(value)),
        ("segment", false) => format!("not {} {value} account", article(value)),
        (_, true) => format!("{} is {value}", words::name(column)),
        (_, false) => format!("{} is not {value}", words::name(column)),
    }
}

fn article(word: &str) -> &'static str {
    // "an smb", "an enterprise", "a mid-market": by the sound of the letter.
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u' | 's' | 'f' | 'h' | 'l' | 'm' | 'n' | 'r' | 'x')
            if word.len() <= 3 =>
        {
            "an"
        }
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// Phrases the features that have their own wording.
fn known(
    feature: &str,
    v: f64,
    facts: &AccountFacts,
    history: Option<&AccountHistory>,
) -> Option<String> {
    let metric = words::name(facts.primary_metric.as_deref().unwrap_or("usage"));
    let primary = facts
        .primary_entitlement
        .as_deref()
        .unwrap_or("primary limit");
    let text = match feature {
        "util_primary" => primary_use(v, facts),
        "util_primary_3m" => format!(
            "{} use averaged {} over 3 months",
            words::name(primary),
            words::percent(v)
        ),
        "util_primary_sa" => format!(
            "seasonally adjusted use of {} at {}",
            words::name(primary),
            words::percent(v)
        ),
        "headroom_primary" => format!("{} of {} unused", words::percent(v), words::name(primary)),
        "overage_primary" => format!(
            "{} over the {} limit",
            words::percent(v),
            words::name(primary)
        ),
        "pct_change_1m" => change_phrase(&metric, v, 1, history),
        "pct_change_3m" => change_phrase(&metric, v, 3, history),
        "pct_change_6m" => change_phrase(&metric, v, 6, history),
        "slope_3m" => format!(
            "{metric} trending {} a month over 3 months",
            words::signed_percent(v)
        ),
        "slope_6m" => format!(
            "{metric} trending {} a month over 6 months",
            words::signed_percent(v)
        ),
        "months_in_decline" => format!(
            "{metric} fell {} in a row",
            words::count_of(v.round() as usize, "month")
        ),
        "drawdown_12m" => format!("{metric} {} below its 12-month peak", words::percent(v)),
        "max_drop_12m" => format!(
            "largest one-month fall of {metric} in a year: {}",
            words::percent(v)
        ),
        "volatility_6m" => format!("{metric} swings {} month to month", words::percent(v)),
        "yoy_change" => format!("{metric} {} on a year ago", words::signed_percent(v)),
        "sa_change_1m" => format!(
            "seasonally adjusted {metric} {} in the last month",
            words::signed_percent(v)
        ),
        "sa_slope_3m" => format!(
            "seasonally adjusted {metric} trending {} a month",
            words::signed_percent(v)
        ),
        "seasonal_index" => format!("a {} month for the season (index {v:.2})", season_word(v)),
        "adoption_90d" => adoption_phrase(v, facts),
        "features_unused_90d" => format!(
            "{} unused for 90 days",
            words::count_of(v.round() as usize, "entitled feature")
        ),
        "features_never_used" => format!(
            "{} never used",
            words::count_of(v.round() as usize, "entitled feature")
        ),
        "features_entitled" => format!(
            "{} in the plan",
            words::count_of(v.round() as usize, "feature")
        ),
        "breadth_change" => format!(
            "breadth of feature use {} on the quarter before",
            words::signed_percent(v)
        ),
        "arr" => format!("ARR of {}", words::money(v, &facts.currency)),
        "arr_change_1y" => format!("ARR {} on a year ago", words::signed_percent(v)),
        "days_to_renewal" => renewal_phrase(v, facts),
        "tenure_months" => format!(
            "customer for {}",
            words::count_of(v.round() as usize, "month")
        ),
        "contract_term_months" => format!("{}-month contract", v.round() as i64),
        "contracts_active" => words::count_of(v.round() as usize, "active contract"),
        "renewals" => format!("{} so far", words::count_of(v.round() as usize, "renewal")),
        "expansions" => format!(
            "{} so far",
            words::count_of(v.round() as usize, "expansion")
        ),
        "contractions" => format!(
            "{} so far",
            words::count_of(v.round() as usize, "contraction")
        ),
        "history_months" => format!(
            "{} of usage history",
            words::count_of(v.round() as usize, "month")
        ),
        "interventions_90d" => format!(
            "{} in the last 90 days",
            words::count_of(v.round() as usize, "CS intervention")
        ),
        "days_since_intervention" => format!("last CS intervention {} ago", words::days(v)),
        "peer_util_pct" => format!(
            "utilization above {} of similar accounts",
            words::percent(v)
        ),
        "peer_util_median" => format!("similar accounts use {} of their limit", words::percent(v)),
        "util_vs_peer" => format!(
            "utilization {} points against similar accounts",
            signed_points(v)
        ),
        "peer_count" => format!("{} similar accounts", words::quantity(v)),
        "util_min" => format!("lowest utilization across limits {}", words::percent(v)),
        "util_max" => format!("highest utilization across limits {}", words::percent(v)),
        "util_mean" => format!("mean utilization across limits {}", words::percent(v)),
        "util_3m_min" => format!(
            "lowest 3-month utilization across limits {}",
            words::percent(v)
        ),
        "util_3m_max" => format!(
            "highest 3-month utilization across limits {}",
            words::percent(v)
        ),
        "n_over_limit" => format!(
            "{} over the limit",
            words::count_of(v.round() as usize, "entitlement")
        ),
        "n_hard_over_limit" => format!(
            "{} over a hard limit",
            words::count_of(v.round() as usize, "entitlement")
        ),
        "months_to_limit_primary" | "months_to_limit_min" => {
            format!("crosses a limit in {}", words::about_span(v))
        }
        "flag_in_grace" => {
            flag_phrase(v, "contract ended, renewal not on record", "under contract")
        }
        "flag_no_usage" => flag_phrase(v, "no usage on record", "usage on record"),
        "flag_short_history" => flag_phrase(
            v,
            "under 13 months of history",
            "13 months of history or more",
        ),
        "flag_no_limits" => flag_phrase(v, "no limited entitlement", "limited entitlements"),
        "auto_renew" => flag_phrase(v, "renews automatically", "does not renew automatically"),
        _ => return per_entitlement(feature, v),
    };
    Some(text)
}

fn primary_use(v: f64, facts: &AccountFacts) -> String {
    let name = facts.primary_entitlement.as_deref().unwrap_or("limit");
    match (facts.usage_primary, facts.limit_primary) {
        (Some(usage), Some(limit)) if name == "seats" => format!(
            "{} of {} seats in use ({})",
            words::quantity(usage),
            words::quantity(limit),
            words::percent(v)
        ),
        (Some(usage), Some(limit)) => format!(
            "{} {} of {} ({})",
            words::quantity(usage),
            words::name(name),
            words::quantity(limit),
            words::percent(v)
        ),
        _ => format!(
            "{} at {} of the limit",
            words::name(name),
            words::percent(v)
        ),
    }
}

/// "active users down 30% in 3 months (from 41 to 29)", with the amounts
/// when the history has both months.
fn change_phrase(metric: &str, v: f64, months: usize, history: Option<&AccountHistory>) -> String {
    let direction = if v < 0.0 { "down" } else { "up" };
    let span = if months == 1 {
        "a month".to_string()
    } else {
        format!("{months} months")
    };
    let amounts = history.and_then(|h| {
        let n = h.primary_usage.len();
        let before = h
            .primary_usage
            .get(n.checked_sub(months + 1)?)
            .copied()
            .flatten()?;
        let after = h.primary_usage.last().copied().flatten()?;
        Some(format!(
            " (from {} to {})",
            words::quantity(before),
            words::quantity(after)
        ))
    });
    format!(
        "{metric} {direction} {} in {span}{}",
        words::percent(v.abs()),
        amounts.unwrap_or_default()
    )
}

fn adoption_phrase(v: f64, facts: &AccountFacts) -> String {
    match facts.features_entitled {
        Some(entitled) if entitled > 0.0 => format!(
            "{} of {} entitled features used in the last 90 days",
            (v * entitled).round() as i64,
            entitled.round() as i64
        ),
        _ => format!(
            "{} of entitled features used in the last 90 days",
            words::percent(v)
        ),
    }
}

fn renewal_phrase(days: f64, facts: &AccountFacts) -> String {
    let date = facts
        .renewal_date
        .map(|d| format!(" ({})", words::date(d)))
        .unwrap_or_default();
    if days < 0.0 {
        format!(
            "contract ended {} ago{date}, renewal not on record",
            words::days(-days)
        )
    } else {
        format!("renewal in {}{date}", words::days(days))
    }
}

fn season_word(index: f64) -> &'static str {
    if index < 0.95 {
        "low"
    } else if index > 1.05 {
        "high"
    } else {
        "typical"
    }
}

fn signed_points(share: f64) -> String {
    let points = (share * 100.0).round() as i64;
    if points < 0 {
        points.to_string()
    } else {
        format!("+{points}")
    }
}

fn flag_phrase(v: f64, yes: &str, no: &str) -> String {
    if v >= 0.5 {
        yes.to_string()
    } else {
        no.to_string()
    }
}

/// Words for one value of a per-entitlement column, given the entitlement's name.
type Phrase = fn(&str, f64) -> String;

/// Phrasing of the per-entitlement columns (`util_api_calls`, ...).
fn per_entitlement(feature: &str, v: f64) -> Option<String> {
    let patterns: [(&str, &str, Phrase); 9] = [
        ("util_", "_slope_3m", |e, v| {
            format!(
                "{e} utilization trending {} points a month",
                signed_points(v)
            )
        }),
        ("util_", "_3m", |e, v| {
            format!(
                "{e} averaged {} of the limit over 3 months",
                words::percent(v)
            )
        }),
        ("util_", "_sa", |e, v| {
            format!(
                "seasonally adjusted {e} at {} of the limit",
                words::percent(v)
            )
        }),
        ("util_", "", |e, v| {
            format!("{e} at {} of the limit", words::percent(v))
        }),
        ("headroom_", "", |e, v| {
            format!("{} of the {e} limit unused", words::percent(v))
        }),
        ("overage_", "", |e, v| {
            format!("{e} {} over the limit", words::percent(v))
        }),
        ("yoy_", "", |e, v| {
            format!("{e} {} on a year ago", words::signed_percent(v))
        }),
        ("months_to_limit_", "", |e, v| {
            format!("{e} crosses its limit in {}", words::about_span(v))
        }),
        ("eng_", "_3m", |e, v| {
            format!("{e} averaged {} a month over 3 months", words::quantity(v))
        }),
    ];
    if let Some(metric) = feature
        .strip_prefix("eng_")
        .and_then(|rest| rest.strip_suffix("_change_3m"))
    {
        return Some(format!(
            "{} {} on the 3 months before",
            words::name(metric),
            words::signed_percent(v)
        ));
    }
    for (prefix, suffix, phrase) in patterns {
        if let Some(name) = feature
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .filter(|name| !name.is_empty())
        {
            return Some(phrase(&words::name(name), v));
        }
    }
    None
}

/// Any other feature, from the catalogue: "description: value unit".
fn generic(feature: &str, v: f64) -> String {
    let Some(spec) = lookup(feature) else {
        return format!("{} = {}", words::name(feature), words::quantity(v));
    };
    let value = match spec.unit {
        "ratio" => words::percent(v),
        "yes/no" => (if v >= 0.5 { "yes" } else { "no" }).to_string(),
        "days" => words::days(v),
        unit if unit.starts_with("currency") => words::quantity(v),
        "months" => words::count_of(v.round() as usize, "month"),
        _ => words::quantity(v),
    };
    format!("{}: {value}", lowercase_first(headline(spec.description)))
}

fn describe_missing(feature: &str) -> String {
    match lookup(feature) {
        Some(spec) => format!(
            "no value on record for {}",
            lowercase_first(headline(spec.description))
        ),
        None => format!("no value on record for {}", words::name(feature)),
    }
}

/// Returns a catalogue description up to its first "; ", which starts the
/// definition's fine print (when the value is null, what it is in grace).
fn headline(description: &str) -> &str {
    description.split("; ").next().unwrap_or(description)
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if !text.starts_with("ARR") => first.to_lowercase().chain(chars).collect(),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> AccountFacts {
        AccountFacts {
            account_id: "A1".into(),
            name: "Acme".into(),
            customer_segment: Some("smb".into()),
            industry: None,
            region: None,
            owner: None,
            plan: None,
            currency: "USD".into(),
            arr: 30_000.0,
            renewal_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 15),
            days_to_renewal: Some(45.0),
            tenure_months: Some(30.0),
            primary_entitlement: Some("seats".into()),
            primary_metric: Some("active_users".into()),
            usage_primary: Some(23.0),
            limit_primary: Some(50.0),
            util_primary: Some(0.46),
            util_primary_3m: None,
            util_primary_sa: None,
            pct_change_1m: None,
            pct_change_3m: None,
            pct_change_6m: None,
            months_in_decline: None,
            seasonal_index: None,
            sa_change_1m: None,
            features_entitled: Some(8.0),
            adoption_90d: Some(0.375),
            peer_util_median: None,
            peer_count: None,
            interventions_90d: None,
            days_since_intervention: None,
            last_intervention_kind: None,
            in_grace: false,
            no_usage: false,
            snapshot: false,
        }
    }

    fn history(primary: &[f64]) -> AccountHistory {
        AccountHistory {
            primary_metric: "active_users".into(),
            primary_usage: primary.iter().map(|&u| Some(u)).collect(),
            ..AccountHistory::default()
        }
    }

    #[test]
    fn primary_use_quotes_seats() {
        let text = describe("util_primary", Term::Value, Some(0.46), &facts(), None);
        assert_eq!(text, "23 of 50 seats in use (46%)");
    }

    #[test]
    fn change_quotes_both_months() {
        // Six months back from 23 is the first of seven readings: 41.
        let h = history(&[41.0, 40.0, 36.0, 33.0, 30.0, 26.0, 23.0]);
        let text = describe(
            "pct_change_6m",
            Term::Value,
            Some(-0.439),
            &facts(),
            Some(&h),
        );
        assert_eq!(text, "active users down 44% in 6 months (from 41 to 23)");
    }

    #[test]
    fn adoption_counts_features() {
        // 0.375 x 8 = 3 features.
        let text = describe("adoption_90d", Term::Value, Some(0.375), &facts(), None);
        assert_eq!(text, "3 of 8 entitled features used in the last 90 days");
    }

    #[test]
    fn renewal_quotes_days_and_date() {
        let text = describe("days_to_renewal", Term::Value, Some(45.0), &facts(), None);
        assert_eq!(text, "renewal in 45 days (2026-12-15)");
    }

    #[test]
    fn entitlement_columns_name_the_entitlement() {
        let text = describe("util_api_calls", Term::Value, Some(0.85), &facts(), None);
        assert_eq!(text, "API calls at 85% of the limit");
        let text = describe(
            "util_api_calls_slope_3m",
            Term::Value,
            Some(0.04),
            &facts(),
            None,
        );
        assert_eq!(text, "API calls utilization trending +4 points a month");
    }

    #[test]
    fn missing_value_leaves_out_the_fine_print() {
        let text = describe(
            "months_to_limit_primary",
            Term::Missing,
            None,
            &facts(),
            None,
        );
        assert_eq!(
            text,
            "no value on record for months until the primary limit is crossed at the 3-month utilization trend"
        );
    }

    #[test]
    fn missing_value_says_so() {
        let text = describe("yoy_change", Term::Missing, None, &facts(), None);
        assert!(text.starts_with("no value on record for "), "{text}");
    }

    #[test]
    fn category_inputs_read_as_segments() {
        assert_eq!(
            describe("segment=smb", Term::Value, Some(1.0), &facts(), None),
            "an smb account"
        );
        assert_eq!(
            describe("segment=enterprise", Term::Value, Some(0.0), &facts(), None),
            "not an enterprise account"
        );
        assert_eq!(
            describe("segment=mid-market", Term::Value, Some(1.0), &facts(), None),
            "a mid-market account"
        );
        assert_eq!(
            describe("plan=growth", Term::Value, Some(1.0), &facts(), None),
            "plan is growth"
        );
    }

    #[test]
    fn renewal_window_interaction_quotes_both_sides() {
        // Inputs: utilization 0.46, inside the 180-day window, and their product.
        let names = vec![
            "util_primary".to_string(),
            RENEWAL_WINDOW.to_string(),
            format!("{RENEWAL_WINDOW}*util_primary"),
        ];
        let keys = vec![headroom_model::RowKey::new(
            "A1",
            chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
            None,
        )];
        let matrix = FeatureMatrix::new(ndarray::array![[0.46, 1.0, 0.46]], names, keys).unwrap();
        let inputs = RowInputs {
            matrix: Some(&matrix),
            row: 0,
            renewal_window_days: Some(180.0),
        };
        let contribution = Contribution {
            feature: format!("{RENEWAL_WINDOW}*util_primary"),
            term: Term::Value,
            raw_value: Some(0.46),
            standardized_value: 1.0,
            contribution: 0.8,
        };
        let reasons =
            from_contributions(ReasonSource::Churn, &[contribution], &facts(), None, inputs);
        assert_eq!(
            reasons[0].text,
            "23 of 50 seats in use (46%), renewal within 180 days (in 45 days, on 2026-12-15)"
        );
    }

    #[test]
    fn unknown_feature_falls_back_to_its_name() {
        let text = describe("nps_score", Term::Value, Some(42.0), &facts(), None);
        assert_eq!(text, "nps score = 42");
    }
}
