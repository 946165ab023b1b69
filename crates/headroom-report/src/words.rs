//! Number, money, date and name formatting for text that people read:
//! reasons, alerts, actions and talking points.
//!
//! Every number an account's text shows goes through these functions, so two
//! accounts whose shown numbers are equal get equal text, and two accounts
//! whose numbers differ get different text.

use chrono::{Datelike, NaiveDate};
use headroom_features::calendar;

/// Formats a share as a whole percentage: 0.456 -> "46%". Shares under 10% keep one
/// decimal (0.042 -> "4.2%") so that small differences stay visible.
pub fn percent(share: f64) -> String {
    // Adding 0.0 turns -0.0 (the sum of no values) into 0.0.
    let value = share * 100.0 + 0.0;
    if value.abs() < 10.0 && value.fract().abs() > 1e-9 {
        format!("{}%", trim_zero(&format!("{value:.1}")))
    } else {
        format!("{value:.0}%")
    }
}

/// Formats a change as a signed percentage: 0.08 -> "+8%", -0.3 -> "-30%".
pub fn signed_percent(change: f64) -> String {
    let text = percent(change.abs());
    if change < 0.0 && text != "0%" {
        format!("-{text}")
    } else {
        format!("+{text}")
    }
}

/// Formats a quantity with thousands separators: whole numbers without
/// decimals, others with up to one (12.5, 1,204.3).
pub fn quantity(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if (rounded - rounded.round()).abs() < 1e-9 {
        group_thousands(rounded.round() as i64)
    } else {
        let whole = group_thousands(rounded.trunc() as i64);
        let tenth = ((rounded.abs().fract()) * 10.0).round() as i64;
        let sign = if rounded < 0.0 && rounded.trunc() == 0.0 {
            "-"
        } else {
            ""
        };
        format!("{sign}{whole}.{tenth}")
    }
}

/// Formats an amount of money in whole units with the currency's symbol when it has a
/// common one ($24,000, €1,200, £950), else with its code (1,200 CHF).
pub fn money(amount: f64, currency: &str) -> String {
    let whole = group_thousands(amount.round() as i64);
    match currency {
        "USD" => prefix_symbol("$", &whole),
        "EUR" => prefix_symbol("€", &whole),
        "GBP" => prefix_symbol("£", &whole),
        "" => whole,
        code => format!("{whole} {code}"),
    }
}

/// Formats money rounded to two significant figures for estimates: 23,850 ->
/// "about $24,000". Amounts under 100 keep whole units.
pub fn about_money(amount: f64, currency: &str) -> String {
    format!("about {}", money(round_significant(amount, 2), currency))
}

/// Formats a month index as "October 2026".
pub fn month_name(month: i32) -> String {
    let start = calendar::month_start(month);
    format!("{} {}", MONTHS[start.month0() as usize], start.year())
}

/// Formats the month of a date as "October 2026".
pub fn month_of(date: NaiveDate) -> String {
    month_name(calendar::month_index(date))
}

/// Formats a date as ISO 8601 (2026-12-15).
pub fn date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Formats a number of days as "45 days", "1 day" or "today".
pub fn days(days: f64) -> String {
    let whole = days.round() as i64;
    match whole {
        0 => "today".to_string(),
        1 | -1 => format!("{whole} day"),
        _ => format!("{whole} days"),
    }
}

/// Formats a span of months in rough words: under 2 months in weeks ("about 6
/// weeks"), else in months ("about 4 months").
pub fn about_span(months: f64) -> String {
    let weeks = months * calendar::DAYS_PER_MONTH / 7.0;
    if weeks < 1.5 {
        return "about a week".to_string();
    }
    if months < 2.0 {
        return format!("about {} weeks", weeks.round() as i64);
    }
    format!("about {} months", months.round() as i64)
}

/// Turns an entitlement or metric name into prose: `api_calls` -> "API calls",
/// `storage_gb` -> "storage (GB)", `active_users` -> "active users".
pub fn name(raw: &str) -> String {
    let words: Vec<String> = raw
        .split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .map(|word| match word.to_ascii_lowercase().as_str() {
            "api" => "API".to_string(),
            "gb" => "(GB)".to_string(),
            "tb" => "(TB)".to_string(),
            "sso" => "SSO".to_string(),
            "crm" => "CRM".to_string(),
            other => other.to_string(),
        })
        .collect();
    if words.is_empty() {
        return raw.to_string();
    }
    words.join(" ")
}

/// Names the unit a usage metric counts, for "23 of 50 seats": seats entitlements
/// count seats, others their own name.
pub fn unit(entitlement: &str, kind: &str) -> String {
    if kind == "seats" {
        "seats".to_string()
    } else {
        name(entitlement)
    }
}

/// Formats a count with its noun, plural when needed: (1, "feature") -> "1 feature", (1200, ...) -> "1,200 features".
pub fn count_of(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", group_thousands(count as i64))
    }
}

/// Names the singular unit for "per seat": `seats` -> "seat", others "unit".
pub fn per_unit(kind: &str) -> &'static str {
    if kind == "seats" { "seat" } else { "unit" }
}

/// Joins items as "a, b and c".
pub fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn prefix_symbol(symbol: &str, whole: &str) -> String {
    match whole.strip_prefix('-') {
        Some(positive) => format!("-{symbol}{positive}"),
        None => format!("{symbol}{whole}"),
    }
}

fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if value < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

fn round_significant(value: f64, digits: i32) -> f64 {
    if value.abs() < 100.0 {
        return value.round();
    }
    let magnitude = value.abs().log10().floor() as i32;
    let factor = 10f64.powi(magnitude - digits + 1);
    (value / factor).round() * factor
}

fn trim_zero(text: &str) -> String {
    text.strip_suffix(".0").unwrap_or(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_to_whole_points() {
        assert_eq!(percent(0.456), "46%");
        assert_eq!(percent(1.12), "112%");
        assert_eq!(percent(0.042), "4.2%");
        assert_eq!(percent(0.05), "5%");
        assert_eq!(percent(0.0), "0%");
    }

    #[test]
    fn signed_percent_shows_direction() {
        assert_eq!(signed_percent(0.08), "+8%");
        assert_eq!(signed_percent(-0.3), "-30%");
        assert_eq!(signed_percent(-0.0001), "+0%");
    }

    #[test]
    fn quantity_groups_thousands() {
        assert_eq!(quantity(5000.0), "5,000");
        assert_eq!(quantity(1_204_300.0), "1,204,300");
        assert_eq!(quantity(12.5), "12.5");
        assert_eq!(quantity(23.0), "23");
        assert_eq!(quantity(-1500.0), "-1,500");
    }

    #[test]
    fn money_uses_symbol_or_code() {
        assert_eq!(money(24_000.0, "USD"), "$24,000");
        assert_eq!(money(1_200.4, "EUR"), "€1,200");
        assert_eq!(money(950.0, "CHF"), "950 CHF");
        assert_eq!(money(-500.0, "USD"), "-$500");
    }

    #[test]
    fn about_money_keeps_two_significant_figures() {
        assert_eq!(about_money(23_850.0, "USD"), "about $24,000");
        assert_eq!(about_money(1_267.0, "USD"), "about $1,300");
        assert_eq!(about_money(57.4, "USD"), "about $57");
    }

    #[test]
    fn month_names_read_as_words() {
        // 2026 * 12 + 9 = October 2026.
        assert_eq!(month_name(2026 * 12 + 9), "October 2026");
        assert_eq!(
            month_of(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            "February 2024"
        );
    }

    #[test]
    fn spans_switch_from_weeks_to_months() {
        // 1.4 months = 42.6 days = 6.1 weeks.
        assert_eq!(about_span(1.4), "about 6 weeks");
        assert_eq!(about_span(0.2), "about a week");
        assert_eq!(about_span(3.6), "about 4 months");
    }

    #[test]
    fn names_read_as_prose() {
        assert_eq!(name("api_calls"), "API calls");
        assert_eq!(name("storage_gb"), "storage (GB)");
        assert_eq!(name("active_users"), "active users");
        assert_eq!(name("advanced-analytics"), "advanced analytics");
    }

    #[test]
    fn lists_join_with_and() {
        let items = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        assert_eq!(list(&items), "a, b and c");
        assert_eq!(list(&items[..1]), "a");
    }
}
