//! The customer-facing usage report of one account: what the team used
//! against its plan, the features in the plan it has not used, and the limits
//! its use is approaching. It shows no scores, segments, revenue, team notes
//! or selling, only the customer's own usage.

use std::fmt::Write;

use super::svg::{self, escape};
use crate::history::FeatureUse;
use crate::story::AccountStory;
use crate::words;

/// Months of monthly use the customer report shows.
const MONTHS_SHOWN: usize = 12;

/// Months ahead within which a limit is reported as coming up.
const LIMIT_HORIZON_MONTHS: f64 = 12.0;

/// Months without use after which a feature counts as unused (about 90 days).
const UNUSED_MONTHS: i32 = 3;

/// The report's sections, each a title and its lines.
fn sections(story: &AccountStory) -> (String, Vec<(String, Vec<String>)>) {
    let f = &story.score.facts;
    let month = story.months.last().copied().unwrap_or(story.as_of);
    let title = format!("{}: usage report for {}", f.name, words::month_of(month));
    let mut out = Vec::new();

    let mut subscription = Vec::new();
    let renews = f
        .renewal_date
        .filter(|_| f.days_to_renewal.is_some_and(|d| d >= 0.0))
        .map(|d| format!("it renews on {}", words::date(d)));
    match (&f.plan, renews) {
        (Some(plan), Some(renews)) => subscription.push(format!("Plan {plan}; {renews}.")),
        (Some(plan), None) => subscription.push(format!("Plan {plan}.")),
        (None, Some(renews)) => subscription.push(format!("Your subscription: {renews}.")),
        (None, None) => {}
    }
    if !subscription.is_empty() {
        out.push(("Your subscription".to_string(), subscription));
    }

    out.push((
        format!("What your team used in {}", words::month_of(month)),
        used_lines(story),
    ));
    out.push(("Features in your plan".to_string(), feature_lines(story)));
    out.push(("Limits coming up".to_string(), limit_lines(story)));
    (title, out)
}

fn used_lines(story: &AccountStory) -> Vec<String> {
    let mut lines = Vec::new();
    for series in &story.usage.entitlements {
        let Some(usage) = series.usage.last().copied().flatten() else {
            continue;
        };
        let name = capitalize(&words::name(&series.entitlement));
        let verb = if series.kind == "seats" {
            " active"
        } else {
            ""
        };
        let mut line = match series.limit {
            Some(limit) => format!(
                "{name}: {} of {}{verb} ({})",
                words::quantity(usage),
                words::quantity(limit),
                words::percent(usage / limit)
            ),
            None => format!(
                "{name}: {}{verb} (no limit in your plan)",
                words::quantity(usage)
            ),
        };
        let n = series.usage.len();
        if let Some(before) = n.checked_sub(7).and_then(|i| series.usage[i]) {
            line.push_str(&format!("; {} six months earlier", words::quantity(before)));
        }
        line.push('.');
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(
            "No use of a seats or metered part of your plan is on record for this month."
                .to_string(),
        );
    }
    lines
}

fn feature_lines(story: &AccountStory) -> Vec<String> {
    let features = &story.usage.features;
    if features.is_empty() {
        return vec!["Your plan lists no separately tracked features.".to_string()];
    }
    let last_month = story
        .months
        .last()
        .map(|d| headroom_features::calendar::month_index(*d))
        .unwrap_or(0);
    let recent = |f: &&FeatureUse| {
        f.last_used.is_some_and(|d| {
            last_month - headroom_features::calendar::month_index(d) < UNUSED_MONTHS
        })
    };
    let used: Vec<String> = features
        .iter()
        .filter(recent)
        .map(|f| words::name(&f.entitlement))
        .collect();
    let unused: Vec<String> = features
        .iter()
        .filter(|f| !recent(f))
        .map(|f| match f.last_used {
            Some(date) => format!(
                "{} (last used in {})",
                words::name(&f.entitlement),
                words::month_of(date)
            ),
            None => format!("{} (not used yet)", words::name(&f.entitlement)),
        })
        .collect();

    let mut lines = Vec::new();
    if used.is_empty() {
        lines.push(format!(
            "None of the {} features in your plan was used in the last 90 days.",
            features.len()
        ));
    } else {
        lines.push(format!(
            "In use in the last 90 days: {} ({} of {} in your plan).",
            words::list(&used),
            used.len(),
            features.len()
        ));
    }
    if !unused.is_empty() {
        lines.push(format!(
            "In your plan but not used in the last 90 days: {}. Your customer-success team can show your users how they work.",
            words::list(&unused)
        ));
    }
    lines
}

fn limit_lines(story: &AccountStory) -> Vec<String> {
    let mut lines = Vec::new();
    for p in &story.score.projections {
        let name = capitalize(&words::name(&p.entitlement));
        let blocked = if p.hard {
            " Use past this limit is blocked."
        } else {
            ""
        };
        if p.utilization > 1.0 {
            lines.push(format!(
                "{name}: {} in use, {} more than the {} in your plan.{blocked}",
                words::quantity(p.usage),
                words::quantity(p.usage - p.limit),
                words::quantity(p.limit)
            ));
            continue;
        }
        let (Some(months), Some(date)) = (p.months_to_limit, p.limit_date) else {
            continue;
        };
        if months > 0.0 && months <= LIMIT_HORIZON_MONTHS {
            lines.push(format!(
                "{name}: at the recent trend, use reaches the limit of {} around {} ({}).{blocked}",
                words::quantity(p.limit),
                words::date(date),
                words::about_span(months)
            ));
        }
    }
    if lines.is_empty() {
        lines.push(
            "At the recent trend, no limit of your plan is reached in the next 12 months."
                .to_string(),
        );
    }
    lines
}

/// The monthly use table of the last months, one column per entitlement.
fn monthly_table(story: &AccountStory) -> Vec<(String, Vec<String>)> {
    let n = story.months.len();
    let start = n.saturating_sub(MONTHS_SHOWN);
    (start..n)
        .map(|i| {
            let cells = story
                .usage
                .entitlements
                .iter()
                .map(|e| e.usage[i].map_or("-".to_string(), words::quantity))
                .collect();
            (story.months[i].format("%Y-%m").to_string(), cells)
        })
        .collect()
}

/// Renders the customer report as plain text.
pub fn render_customer_text(story: &AccountStory) -> String {
    let (title, sections) = sections(story);
    let mut out = format!("{title}\n");
    for (heading, lines) in sections {
        let _ = writeln!(out, "\n{heading}");
        for line in lines {
            let _ = writeln!(out, "  {line}");
        }
    }
    let names: Vec<&str> = story
        .usage
        .entitlements
        .iter()
        .map(|e| e.entitlement.as_str())
        .collect();
    if !names.is_empty() {
        let _ = writeln!(out, "\nMonthly use");
        let _ = writeln!(out, "  {:<7}  {}", "month", names.join("  "));
        for (month, cells) in monthly_table(story) {
            let padded: Vec<String> = cells
                .iter()
                .zip(&names)
                .map(|(c, n)| format!("{c:>w$}", w = n.len()))
                .collect();
            let _ = writeln!(out, "  {month:<7}  {}", padded.join("  "));
        }
    }
    out
}

/// Renders the customer report as one self-contained HTML page.
pub fn render_customer_html(story: &AccountStory) -> String {
    let (title, sections) = sections(story);
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    for (heading, lines) in sections {
        let _ = write!(page, "<h2>{}</h2><ul>", escape(&heading));
        for line in lines {
            let _ = write!(page, "<li>{}</li>", escape(&line));
        }
        page.push_str("</ul>\n");
    }
    if !story.usage.entitlements.is_empty() {
        page.push_str("<h2>Monthly use</h2><table><tr><th>month</th>");
        for e in &story.usage.entitlements {
            let shown: Vec<Option<f64>> = e
                .utilization()
                .into_iter()
                .rev()
                .take(MONTHS_SHOWN)
                .rev()
                .collect();
            let _ = write!(
                page,
                "<th>{} {}</th>",
                escape(&words::name(&e.entitlement)),
                svg::sparkline(&format!("use-{}", e.entitlement), &shown)
            );
        }
        page.push_str("</tr>");
        for (month, cells) in monthly_table(story) {
            let _ = write!(page, "<tr><td>{month}</td>");
            for cell in cells {
                let _ = write!(page, "<td class=\"num\">{}</td>", escape(&cell));
            }
            page.push_str("</tr>");
        }
        page.push_str("</table>\n");
    }
    page.push_str("</body></html>\n");
    page
}

const STYLE: &str = "body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1f2933; margin: 24px auto; max-width: 820px; padding: 0 16px; } h1 { font-size: 21px; } h2 { font-size: 16px; border-bottom: 1px solid #e3e7eb; } table { border-collapse: collapse; } th, td { padding: 3px 8px; border-bottom: 1px solid #e3e7eb; } td.num { text-align: right; }";

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
