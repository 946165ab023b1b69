//! The HTML report: one self-contained file (inline CSS and SVG, no network
//! access) with the run's facts, notices, model metrics, charts, the top
//! accounts with usage sparklines and their playbooks, and every account that
//! needs attention.
//!
//! A short inline script counts the charts the browser drew and writes the
//! count into `data-charts-drawn` on `<body>`, so a headless browser can
//! check that the report renders.

use std::fmt::Write;

use super::svg::{self, Bar, Marker, escape};
use super::table::display_name;
use crate::models::ModelQuality;
use crate::run::{AccountScore, ScoreRun, owner_of};
use crate::segment::HealthSegment;
use crate::words;

/// Maximum rows in the table of accounts that need attention; the CSV lists all.
pub const ATTENTION_ROWS: usize = 500;

const STYLE: &str = "
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1f2933; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #e3e7eb; padding-bottom: 4px; }
.facts { color: #52606d; } .notices li { margin: 4px 0; } .notices { background: #fff8e1; border: 1px solid #f0d68a; padding: 8px 24px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #e3e7eb; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; } .charts figure { margin: 0; }
.card { border: 1px solid #e3e7eb; border-radius: 6px; padding: 8px 14px; margin: 12px 0; }
.card h3 { font-size: 15px; margin: 4px 0; } .card ul { margin: 4px 0; padding-left: 20px; }
.seg { display: inline-block; padding: 0 6px; border-radius: 3px; color: white; font-size: 12px; }
.suppressed { color: #7b8794; text-decoration: line-through; }
.empty { color: #7b8794; font-style: italic; }
td.spark { white-space: nowrap; } svg.spark { vertical-align: middle; }
footer { margin-top: 32px; color: #7b8794; font-size: 12px; }
";

const SCRIPT: &str = "
document.addEventListener('DOMContentLoaded', function () {
  var charts = document.querySelectorAll('svg[data-chart]');
  var drawn = 0;
  charts.forEach(function (chart) {
    var box = chart.getBBox();
    if (box.width > 0 && box.height > 0 && chart.querySelector('.mark')) { drawn += 1; }
  });
  document.body.setAttribute('data-charts-drawn', String(drawn));
});
";

/// Returns the color of a health segment in charts and labels.
pub fn segment_color(segment: HealthSegment) -> &'static str {
    match segment {
        HealthSegment::AtRisk => "#c0392b",
        HealthSegment::Watch => "#d68910",
        HealthSegment::ApproachingLimits => "#8e44ad",
        HealthSegment::Expansion => "#1e8449",
        HealthSegment::Healthy => svg::ACCENT,
        HealthSegment::New => "#7f8c8d",
        HealthSegment::Unmeasured => "#aab7b8",
    }
}

/// Renders the run as one self-contained HTML page.
pub fn render_html(run: &ScoreRun) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let title = format!("headroom: portfolio as of {}", words::date(run.as_of));
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body data-charts-drawn=\"0\">\n",
        escape(&title)
    );
    header(run, &mut page);
    models(run, &mut page);
    charts(run, &mut page);
    top(run, &mut page);
    attention(run, &mut page);
    let _ = write!(
        page,
        "<footer>Made by headroom {} on {}{}.</footer>\n<script>{SCRIPT}</script>\n</body></html>\n",
        env!("CARGO_PKG_VERSION"),
        run.created_at.format("%Y-%m-%d %H:%M UTC"),
        run.snapshot_id
            .map(|id| format!(", stored as snapshot {id}"))
            .unwrap_or_default()
    );
    page
}

fn header(run: &ScoreRun, page: &mut String) {
    let attention = run.accounts.iter().filter(|a| a.needs_attention).count();
    let _ = write!(
        page,
        "<h1>Portfolio as of {}</h1>\n<p class=\"facts\">{} active accounts, {} ARR; ARR at risk {}, expansion value {}; {} need attention. Project {}.</p>\n",
        words::date(run.as_of),
        words::quantity(run.accounts.len() as f64),
        escape(&words::money(run.total_arr(), &run.currency)),
        escape(&words::money(run.total_arr_at_risk(), &run.currency)),
        escape(&words::money(run.total_expansion_value(), &run.currency)),
        words::count_of(attention, "account"),
        escape(&run.project.display().to_string())
    );
    if !run.notices.is_empty() {
        page.push_str("<ul class=\"notices\">");
        for notice in &run.notices {
            let _ = write!(page, "<li>{}</li>", escape(&capitalize(notice)));
        }
        page.push_str("</ul>\n");
    }
}

fn models(run: &ScoreRun, page: &mut String) {
    page.push_str("<h2>Models</h2>\n<table><tr><th>model</th><th>version</th><th>trained on</th><th class=\"num\">held-out ROC-AUC</th><th class=\"num\">rule ROC-AUC</th><th class=\"num\">top-decile lift</th><th class=\"num\">flag at</th><th>verdict</th></tr>\n");
    for (kind, model) in [
        ("churn", &run.churn_model),
        ("expansion", &run.expansion_model),
    ] {
        match model {
            Some(m) => {
                let _ = writeln!(
                    page,
                    "<tr><td>{kind}</td><td>{}</td><td>{} to {} ({} rows)</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td><td>{}</td></tr>",
                    escape(&m.version),
                    words::date(m.trained_from),
                    words::date(m.trained_to),
                    words::quantity(m.training_rows as f64),
                    two(m.roc_auc),
                    two(m.rule_roc_auc),
                    two(m.lift),
                    m.threshold,
                    escape(&m.verdict)
                );
            }
            None => {
                let _ = writeln!(
                    page,
                    "<tr><td>{kind}</td><td colspan=\"7\" class=\"empty\">none: the rules alone score this run</td></tr>"
                );
            }
        }
    }
    page.push_str("</table>\n");
}

fn charts(run: &ScoreRun, page: &mut String) {
    page.push_str("<h2>Portfolio</h2>\n<div class=\"charts\">");
    let totals = run.segment_totals();
    let accounts: Vec<Bar> = totals
        .iter()
        .map(|t| Bar {
            label: t.segment.label().to_string(),
            value: t.accounts as f64,
            value_label: words::quantity(t.accounts as f64),
            color: segment_color(t.segment).to_string(),
        })
        .collect();
    let arr: Vec<Bar> = totals
        .iter()
        .map(|t| Bar {
            label: t.segment.label().to_string(),
            value: t.arr,
            value_label: words::money(t.arr, &run.currency),
            color: segment_color(t.segment).to_string(),
        })
        .collect();
    figure(
        page,
        &svg::bar_chart("segment-accounts", "Accounts per segment", &accounts),
    );
    figure(
        page,
        &svg::bar_chart("segment-arr", "ARR per segment", &arr),
    );
    figure(page, &utilization_histogram(run));
    for (kind, model, probabilities) in [
        (
            "churn",
            &run.churn_model,
            run.accounts.iter().map(|a| a.p_churn).collect::<Vec<_>>(),
        ),
        (
            "expansion",
            &run.expansion_model,
            run.accounts.iter().map(|a| a.p_expansion).collect(),
        ),
    ] {
        figure(
            page,
            &probability_histogram(kind, model.as_ref(), &probabilities),
        );
    }
    for (kind, model) in [
        ("churn", &run.churn_model),
        ("expansion", &run.expansion_model),
    ] {
        figure(page, &calibration(kind, model.as_ref()));
    }
    figure(page, &lift(run));
    page.push_str("</div>\n");
}

fn figure(page: &mut String, content: &str) {
    let _ = write!(page, "<figure>{content}</figure>");
}

fn utilization_histogram(run: &ScoreRun) -> String {
    // Bins of 10 points from 0% to 150%; the last collects 140% and above.
    let mut counts = vec![0usize; 15];
    for u in run.accounts.iter().filter_map(|a| a.utilization) {
        let bin = ((u * 10.0).floor().max(0.0) as usize).min(counts.len() - 1);
        counts[bin] += 1;
    }
    let s = &run.settings.segments;
    let markers = [
        Marker {
            at: s.at_risk_below,
            label: format!("at risk {}", words::percent(s.at_risk_below)),
        },
        Marker {
            at: s.watch_below,
            label: format!("watch {}", words::percent(s.watch_below)),
        },
        Marker {
            at: s.expansion_above,
            label: format!("expansion {}", words::percent(s.expansion_above)),
        },
        Marker {
            at: 1.0,
            label: "limit".to_string(),
        },
    ];
    svg::histogram(
        "utilization",
        "Utilization in the latest month (accounts)",
        &counts,
        0.0,
        1.5,
        &|v| words::percent(v),
        &markers,
    )
}

fn probability_histogram(
    kind: &str,
    model: Option<&ModelQuality>,
    probabilities: &[Option<f64>],
) -> String {
    let Some(model) = model else {
        return format!(
            "<p class=\"empty\">No {kind} model: no {kind} probabilities in this run.</p>"
        );
    };
    let mut counts = vec![0usize; 10];
    for p in probabilities.iter().flatten() {
        counts[((p * 10.0).floor() as usize).min(9)] += 1;
    }
    svg::histogram(
        &format!("p-{kind}"),
        &format!("P({kind}) across accounts"),
        &counts,
        0.0,
        1.0,
        &|v| format!("{v:.1}"),
        &[Marker {
            at: model.threshold,
            label: format!("flag {:.2}", model.threshold),
        }],
    )
}

fn calibration(kind: &str, model: Option<&ModelQuality>) -> String {
    match model.and_then(|m| m.calibration.as_ref()) {
        Some(table) => svg::calibration(
            &format!("calibration-{kind}"),
            &format!("{} model calibration (held out)", capitalize(kind)),
            table,
        ),
        None => format!("<p class=\"empty\">No held-out calibration for the {kind} model.</p>"),
    }
}

fn lift(run: &ScoreRun) -> String {
    let mut bars = Vec::new();
    for (kind, model) in [
        ("churn", &run.churn_model),
        ("expansion", &run.expansion_model),
    ] {
        let Some(m) = model else { continue };
        for (who, value, color) in [
            ("model", m.lift, svg::ACCENT),
            ("usage rule", m.rule_lift, "#9aa5b1"),
        ] {
            if let Some(value) = value {
                bars.push(Bar {
                    label: format!("{kind} {who}"),
                    value,
                    value_label: format!("{value:.2}x"),
                    color: color.to_string(),
                });
            }
        }
    }
    if bars.is_empty() {
        return "<p class=\"empty\">No held-out lift: no model with training metrics.</p>"
            .to_string();
    }
    svg::bar_chart("lift", "Top-decile lift (held out)", &bars)
}

fn top(run: &ScoreRun, page: &mut String) {
    let top = run.top_accounts();
    let _ = writeln!(page, "<h2>Top {} accounts by priority</h2>", top.len());
    page.push_str("<table><tr><th class=\"num\">#</th><th>account</th><th>owner</th><th>segment</th><th class=\"num\">ARR</th><th>utilization, 12 months</th><th class=\"num\">p(churn)</th><th class=\"num\">p(exp)</th><th class=\"num\">priority</th><th>alerts</th></tr>\n");
    for a in top {
        row(run, a, true, page);
    }
    page.push_str("</table>\n");
    for a in top {
        card(run, a, page);
    }
}

fn attention(run: &ScoreRun, page: &mut String) {
    let needing: Vec<&AccountScore> = run.accounts.iter().filter(|a| a.needs_attention).collect();
    let _ = writeln!(
        page,
        "<h2>Accounts that need attention ({})</h2>",
        words::quantity(needing.len() as f64)
    );
    if needing.len() > ATTENTION_ROWS {
        let _ = writeln!(
            page,
            "<p class=\"empty\">The first {ATTENTION_ROWS} by priority; the CSV output lists all of them.</p>"
        );
    }
    page.push_str("<table><tr><th class=\"num\">#</th><th>account</th><th>owner</th><th>segment</th><th class=\"num\">ARR</th><th>utilization, 12 months</th><th class=\"num\">p(churn)</th><th class=\"num\">p(exp)</th><th class=\"num\">priority</th><th>alerts</th></tr>\n");
    for a in needing.into_iter().take(ATTENTION_ROWS) {
        row(run, a, false, page);
    }
    page.push_str("</table>\n");
}

fn row(run: &ScoreRun, a: &AccountScore, sparkline: bool, page: &mut String) {
    let alerts: Vec<&str> = a.active_alerts().map(|x| x.kind.key()).collect();
    let utilization = a
        .utilization
        .map(words::percent)
        .unwrap_or_else(|| "-".to_string());
    let spark = if sparkline {
        format!(
            "{} {utilization}",
            svg::sparkline(&format!("spark-{}", a.facts.account_id), &a.sparkline)
        )
    } else {
        utilization
    };
    let _ = writeln!(
        page,
        "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"spark\">{spark}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
        a.rank,
        escape(&display_name(a)),
        escape(owner_of(a)),
        segment_label(a.segment),
        escape(&words::money(a.facts.arr, &run.currency)),
        two(a.p_churn),
        two(a.p_expansion),
        words::quantity(a.priority.score.round()),
        escape(&alerts.join(", "))
    );
}

fn card(run: &ScoreRun, a: &AccountScore, page: &mut String) {
    let f = &a.facts;
    let renewal = f
        .renewal_date
        .map(|d| format!(", renews {}", words::date(d)))
        .unwrap_or_default();
    let _ = write!(
        page,
        "<div class=\"card\"><h3>{}. {} {}</h3><p class=\"facts\">{} &middot; {} &middot; {} ARR{} &middot; priority {}: ARR at risk {}, expansion value {}, urgency &times;{:.2}</p>",
        a.rank,
        escape(&display_name(a)),
        segment_label(a.segment),
        escape(f.customer_segment.as_deref().unwrap_or("no segment")),
        escape(owner_of(a)),
        escape(&words::money(f.arr, &run.currency)),
        escape(&renewal),
        words::quantity(a.priority.score.round()),
        escape(&words::money(a.priority.arr_at_risk, &run.currency)),
        escape(&words::money(a.priority.expansion_value, &run.currency)),
        a.priority.urgency
    );
    list(
        page,
        "Why",
        a.reasons
            .iter()
            .map(|r| format!("{}: {}", r.source.key(), r.text)),
    );
    let alerts: Vec<String> = a.alerts.iter().map(|x| x.stored_text()).collect();
    if !alerts.is_empty() {
        page.push_str("<p><b>Alerts</b></p><ul>");
        for (alert, text) in a.alerts.iter().zip(alerts) {
            let class = if alert.is_active() {
                ""
            } else {
                " class=\"suppressed\""
            };
            let _ = write!(
                page,
                "<li{class}>{} ({}, {}): {}</li>",
                alert.kind.key(),
                format!("{:?}", alert.severity).to_lowercase(),
                words::date(alert.date),
                escape(&text)
            );
        }
        page.push_str("</ul>");
    }
    list(page, "Do", a.actions.iter().cloned());
    list(page, "Say", a.talking_points.iter().cloned());
    list(page, "Notes", a.notes.iter().map(|n| n.summary()));
    page.push_str("</div>\n");
}

fn list(page: &mut String, title: &str, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        return;
    }
    let _ = write!(page, "<p><b>{title}</b></p><ul>");
    for item in items {
        let _ = write!(page, "<li>{}</li>", escape(&item));
    }
    page.push_str("</ul>");
}

fn segment_label(segment: HealthSegment) -> String {
    format!(
        "<span class=\"seg\" style=\"background:{}\">{}</span>",
        segment_color(segment),
        escape(segment.label())
    )
}

fn two(value: Option<f64>) -> String {
    value
        .map(|v| format!("{v:.2}"))
        .unwrap_or_else(|| "-".to_string())
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
