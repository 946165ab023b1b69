//! One account in full for the account team: scores, segment, usage against
//! each entitlement over time, reasons, alerts, actions, talking points,
//! notes, earlier runs and every feature value.

use std::fmt::Write;

use super::svg::{self, escape};
use super::table::display_name;
use crate::models::ModelQuality;
use crate::run::owner_of;
use crate::story::AccountStory;
use crate::words;

/// Renders the story as plain text.
pub fn render_account_text(story: &AccountStory) -> String {
    let mut out = String::new();
    for line in summary_lines(story) {
        let _ = writeln!(out, "{line}");
    }
    for notice in &story.notices {
        let _ = writeln!(out, "note: {notice}");
    }

    section(&mut out, "usage against entitlements");
    out.push_str(&usage_table(story));
    section(&mut out, "features in the plan");
    if story.usage.features.is_empty() {
        let _ = writeln!(out, "  none tracked");
    }
    for line in feature_use_lines(story) {
        let _ = writeln!(out, "  {line}");
    }

    let a = &story.score;
    section(&mut out, "why");
    for r in &a.reasons {
        let _ = writeln!(
            out,
            "  {}: {} [{:+.2}]",
            r.source.key(),
            r.text,
            r.contribution
        );
    }
    section(&mut out, "alerts");
    if a.alerts.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for alert in &a.alerts {
        let _ = writeln!(
            out,
            "  [{}] {} {}: {}",
            severity(alert.severity),
            words::date(alert.date),
            alert.kind.key(),
            alert.stored_text()
        );
    }
    lines(&mut out, "do", &a.actions);
    lines(&mut out, "say", &a.talking_points);

    section(&mut out, "notes");
    if story.notes.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for note in &story.notes {
        let state = if note.active {
            "applies now"
        } else {
            "not in force"
        };
        let _ = writeln!(out, "  {} [{state}]", note.note.summary());
    }

    section(&mut out, "earlier runs");
    if story.past.is_empty() {
        let _ = writeln!(out, "  none stored");
    }
    for line in past_lines(story) {
        let _ = writeln!(out, "  {line}");
    }

    section(&mut out, "feature values");
    for f in &story.features {
        let unit = if f.unit.is_empty() {
            String::new()
        } else {
            format!(" ({})", f.unit)
        };
        let _ = writeln!(out, "  {} = {}{unit}", f.name, f.value);
    }
    out
}

/// Renders the story as one self-contained HTML page.
pub fn render_account_html(story: &AccountStory) -> String {
    let a = &story.score;
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{}</style></head><body>\n",
        escape(&format!("{} as of {}", display_name(a), story.as_of)),
        STYLE
    );
    let mut summary = summary_lines(story).into_iter();
    if let Some(title) = summary.next() {
        let _ = write!(page, "<h1>{}</h1>", escape(&title));
    }
    for line in summary {
        let _ = write!(page, "<p>{}</p>", escape(&line));
    }
    html_list(&mut page, "Notices", story.notices.iter().cloned());
    let _ = write!(page, "<h2>Usage against entitlements</h2>");
    for series in &story.usage.entitlements {
        let utilization = series.utilization();
        let _ = write!(
            page,
            "<p>{} {}</p>",
            escape(&words::name(&series.entitlement)),
            svg::sparkline(&format!("usage-{}", series.entitlement), &utilization)
        );
    }
    let _ = write!(page, "<pre>{}</pre>", escape(&usage_table(story)));
    html_list(
        &mut page,
        "Features in the plan",
        feature_use_lines(story).into_iter(),
    );
    html_list(
        &mut page,
        "Why",
        a.reasons
            .iter()
            .map(|r| format!("{}: {} [{:+.2}]", r.source.key(), r.text, r.contribution)),
    );
    html_list(
        &mut page,
        "Alerts",
        a.alerts.iter().map(|x| {
            format!(
                "[{}] {} {}: {}",
                severity(x.severity),
                words::date(x.date),
                x.kind.key(),
                x.stored_text()
            )
        }),
    );
    html_list(&mut page, "Do", a.actions.iter().cloned());
    html_list(&mut page, "Say", a.talking_points.iter().cloned());
    html_list(
        &mut page,
        "Notes",
        story.notes.iter().map(|n| {
            let state = if n.active {
                "applies now"
            } else {
                "not in force"
            };
            format!("{} [{state}]", n.note.summary())
        }),
    );
    html_list(&mut page, "Earlier runs", past_lines(story).into_iter());
    html_list(
        &mut page,
        "Feature values",
        story
            .features
            .iter()
            .map(|f| format!("{} = {} {}", f.name, f.value, f.unit)),
    );
    page.push_str("</body></html>\n");
    page
}

/// Renders the story as pretty JSON.
pub fn render_account_json(story: &AccountStory) -> String {
    #[derive(serde::Serialize)]
    struct Usage<'a> {
        entitlement: &'a str,
        metric: &'a str,
        limit: Option<f64>,
        hard: bool,
        usage: &'a [Option<f64>],
        utilization: Vec<Option<f64>>,
    }
    #[derive(serde::Serialize)]
    struct Json<'a> {
        story: &'a AccountStory,
        months: Vec<String>,
        usage: Vec<Usage<'a>>,
    }
    let usage = story
        .usage
        .entitlements
        .iter()
        .map(|e| Usage {
            entitlement: &e.entitlement,
            metric: &e.metric,
            limit: e.limit,
            hard: e.hard,
            usage: &e.usage,
            utilization: e.utilization(),
        })
        .collect();
    let json = Json {
        story,
        months: story.months.iter().map(|d| words::date(*d)).collect(),
        usage,
    };
    let mut text = serde_json::to_string_pretty(&json).expect("a story always serializes");
    text.push('\n');
    text
}

const STYLE: &str = "body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1f2933; margin: 24px auto; max-width: 980px; padding: 0 16px; } h1 { font-size: 21px; } h2 { font-size: 16px; border-bottom: 1px solid #e3e7eb; } pre { font-size: 12px; overflow-x: auto; }";

fn summary_lines(story: &AccountStory) -> Vec<String> {
    let a = &story.score;
    let f = &a.facts;
    let mut about = vec![
        f.customer_segment
            .clone()
            .unwrap_or_else(|| "no segment".to_string()),
    ];
    about.extend(f.industry.clone());
    about.extend(f.region.clone());
    about.push(format!("owner {}", owner_of(a)));
    about.extend(f.plan.as_ref().map(|p| format!("plan {p}")));

    let renewal = match (f.renewal_date, f.days_to_renewal) {
        (Some(date), Some(days)) if days >= 0.0 => {
            format!(", renews {} (in {})", words::date(date), words::days(days))
        }
        (Some(date), _) => format!(
            ", contract ended {} with no renewal on record",
            words::date(date)
        ),
        _ => String::new(),
    };
    let tenure = f
        .tenure_months
        .map(|t| {
            format!(
                "; customer for {}",
                words::count_of(t.floor() as usize, "month")
            )
        })
        .unwrap_or_default();

    let mut lines = vec![
        display_name(a),
        about.join(" · "),
        format!("ARR {}{renewal}{tenure}", words::money(f.arr, &f.currency)),
        format!(
            "as of {}: rank {} of {} by priority {} (ARR at risk {}, expansion value {}, urgency x{:.2})",
            words::date(story.as_of),
            a.rank,
            words::quantity(story.accounts_scored as f64),
            words::quantity(a.priority.score.round()),
            words::money(a.priority.arr_at_risk, &f.currency),
            words::money(a.priority.expansion_value, &f.currency),
            a.priority.urgency
        ),
    ];

    let since = a
        .segment_since
        .map(|d| format!(" since {}", words::month_of(d)))
        .unwrap_or_default();
    let pending = a
        .pending
        .map(|p| {
            format!(
                "; moving toward {} ({} of {} months)",
                p.segment.label(),
                p.months,
                a.thresholds.persistence_months
            )
        })
        .unwrap_or_default();
    lines.push(format!("segment: {}{since}{pending}", a.segment.label()));
    let t = &a.thresholds;
    lines.push(format!(
        "thresholds ({} {} account): at risk under {} for {}, watch under {}, expansion above {} for {}, limits at {} and rising; {} to change segment",
        f.customer_segment.as_deref().unwrap_or("unsegmented"),
        a.tenure_group.name(),
        words::percent(t.at_risk_below),
        words::count_of(t.low_usage_months, "month"),
        words::percent(t.watch_below),
        words::percent(t.expansion_above),
        words::count_of(t.expansion_months, "month"),
        words::percent(t.limits_at),
        words::count_of(t.persistence_months, "month")
    ));
    lines.push(score_line(
        "churn",
        a.p_churn,
        a.flagged_churn,
        story.churn_model.as_ref(),
    ));
    lines.push(score_line(
        "expansion",
        a.p_expansion,
        a.flagged_expansion,
        story.expansion_model.as_ref(),
    ));
    lines
}

fn score_line(kind: &str, p: Option<f64>, flagged: bool, model: Option<&ModelQuality>) -> String {
    let flag = if flagged { ", flagged" } else { "" };
    match (p, model) {
        (Some(p), Some(m)) => format!(
            "{kind}: p = {p:.2} (flagged at {:.2}{flag}; model {})",
            m.threshold, m.version
        ),
        _ => format!("{kind}: no model, rules only{flag}"),
    }
}

/// The monthly usage table: one row per month, one column per entitlement
/// with usage, limit and utilization.
fn usage_table(story: &AccountStory) -> String {
    let series = &story.usage.entitlements;
    if series.is_empty() {
        return "  no seats or metered entitlement\n".to_string();
    }
    let cells: Vec<Vec<String>> = (0..story.months.len())
        .map(|i| {
            series
                .iter()
                .map(|e| usage_cell(e.usage[i], e.limit))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = series
        .iter()
        .map(|e| e.entitlement.chars().count())
        .collect();
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }

    let mut out = String::new();
    let header: Vec<String> = series
        .iter()
        .zip(&widths)
        .map(|(e, &w)| format!("{:>w$}", e.entitlement))
        .collect();
    let _ = writeln!(out, "  {:<7}  {}", "month", header.join("  "));
    for (date, row) in story.months.iter().zip(&cells) {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, &w)| format!("{c:>w$}"))
            .collect();
        let _ = writeln!(out, "  {}  {}", date.format("%Y-%m"), padded.join("  "));
    }
    let limits: Vec<String> = series
        .iter()
        .map(|e| {
            let hard = if e.hard { ", hard" } else { "" };
            match e.limit {
                Some(limit) => format!("{} limit {}{hard}", e.entitlement, words::quantity(limit)),
                None => format!("{} unlimited", e.entitlement),
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "  (utilization against today's limits: {})",
        limits.join(", ")
    );
    out
}

fn usage_cell(usage: Option<f64>, limit: Option<f64>) -> String {
    match (usage, limit) {
        (Some(u), Some(l)) if l > 0.0 => {
            format!("{} {:>4}", words::quantity(u), words::percent(u / l))
        }
        (Some(u), _) => words::quantity(u),
        (None, _) => "-".to_string(),
    }
}

fn feature_use_lines(story: &AccountStory) -> Vec<String> {
    story
        .usage
        .features
        .iter()
        .map(|f| {
            let used = match f.last_used {
                Some(date) => format!("last used in {}", words::month_of(date)),
                None => "no use on record".to_string(),
            };
            format!(
                "{}: {used} (in the plan since {})",
                words::name(&f.entitlement),
                words::date(f.entitled_since)
            )
        })
        .collect()
}

fn past_lines(story: &AccountStory) -> Vec<String> {
    story
        .past
        .iter()
        .map(|p| {
            let probability = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
            let mut flags = Vec::new();
            if p.flagged_churn {
                flags.push("flagged churn");
            }
            if p.flagged_expansion {
                flags.push("flagged expansion");
            }
            let alerts = if p.alerts.is_empty() {
                String::new()
            } else {
                format!("; alerts {}", p.alerts.join(", "))
            };
            format!(
                "{} (snapshot {}): {}, p(churn) {}, p(exp) {}, priority {}{}{alerts}",
                words::date(p.as_of),
                p.snapshot,
                p.health_segment,
                probability(p.p_churn),
                probability(p.p_expansion),
                words::quantity(p.priority.round()),
                if flags.is_empty() {
                    String::new()
                } else {
                    format!(", {}", flags.join(", "))
                }
            )
        })
        .collect()
}

fn severity(severity: crate::alerts::Severity) -> &'static str {
    match severity {
        crate::alerts::Severity::Risk => "risk",
        crate::alerts::Severity::Opportunity => "opportunity",
        crate::alerts::Severity::Info => "info",
    }
}

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n{title}");
}

fn lines(out: &mut String, title: &str, items: &[String]) {
    section(out, title);
    if items.is_empty() {
        let _ = writeln!(out, "  nothing: the account needs no attention");
    }
    for item in items {
        let _ = writeln!(out, "  {item}");
    }
}

fn html_list(page: &mut String, title: &str, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        return;
    }
    let _ = write!(page, "<h2>{}</h2><ul>", escape(title));
    for item in items {
        let _ = write!(page, "<li>{}</li>", escape(&item));
    }
    page.push_str("</ul>\n");
}
