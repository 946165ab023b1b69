//! The terminal summary: the run's facts and notices, the segment mix, the
//! top accounts as a table, and for each of them why it ranks there and
//! what to do.

use std::fmt::Write;

use crate::models::ModelQuality;
use crate::run::{AccountScore, ScoreRun, owner_of};
use crate::words;

/// Widest account name shown in the table, in characters.
const NAME_WIDTH: usize = 24;

/// Renders the terminal summary.
pub fn render_table(run: &ScoreRun) -> String {
    let mut out = String::new();
    header(run, &mut out);
    segments(run, &mut out);
    top_table(run, &mut out);
    details(run, &mut out);
    out
}

fn header(run: &ScoreRun, out: &mut String) {
    let _ = writeln!(
        out,
        "headroom score as of {}: {} active accounts, {} ARR",
        words::date(run.as_of),
        words::quantity(run.accounts.len() as f64),
        words::money(run.total_arr(), &run.currency)
    );
    let _ = writeln!(out, "project: {}", run.project.display());
    let _ = writeln!(out, "churn model: {}", model_line(run.churn_model.as_ref()));
    let _ = writeln!(
        out,
        "expansion model: {}",
        model_line(run.expansion_model.as_ref())
    );
    if let Some(id) = run.snapshot_id {
        let _ = writeln!(out, "stored as snapshot {id}");
    }
    for notice in &run.notices {
        let _ = writeln!(out, "note: {notice}");
    }
    out.push('\n');
}

fn model_line(model: Option<&ModelQuality>) -> String {
    let Some(m) = model else {
        return "none (rules only)".to_string();
    };
    let auc = match (m.roc_auc, m.rule_roc_auc) {
        (Some(auc), Some(rule)) => format!(", held-out ROC-AUC {auc:.2} (rule {rule:.2})"),
        (Some(auc), None) => format!(", held-out ROC-AUC {auc:.2}"),
        _ => ", no held-out metrics".to_string(),
    };
    format!(
        "{}, trained on {} to {}{auc}, flags at p >= {:.2}{}",
        m.version,
        words::date(m.trained_from),
        words::date(m.trained_to),
        m.threshold,
        if m.weak { " [weak]" } else { "" }
    )
}

fn segments(run: &ScoreRun, out: &mut String) {
    let total_accounts = run.accounts.len().max(1) as f64;
    let total_arr = run.total_arr();
    let _ = writeln!(
        out,
        "{:<22} {:>9} {:>7} {:>16} {:>7}",
        "segment", "accounts", "share", "ARR", "share"
    );
    for total in run.segment_totals() {
        let arr_share = if total_arr > 0.0 {
            total.arr / total_arr
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "{:<22} {:>9} {:>7} {:>16} {:>7}",
            total.segment.label(),
            words::quantity(total.accounts as f64),
            words::percent(total.accounts as f64 / total_accounts),
            words::money(total.arr, &run.currency),
            words::percent(arr_share)
        );
    }
    let attention = run.accounts.iter().filter(|a| a.needs_attention).count();
    let _ = writeln!(
        out,
        "ARR at risk {}, expansion value {}, {} need attention",
        words::money(run.total_arr_at_risk(), &run.currency),
        words::money(run.total_expansion_value(), &run.currency),
        words::count_of(attention, "account")
    );
    out.push('\n');
}

fn top_table(run: &ScoreRun, out: &mut String) {
    let top = run.top_accounts();
    let _ = writeln!(out, "top {} by priority", top.len());
    let rows: Vec<[String; 10]> = top.iter().map(|a| table_row(run, a)).collect();
    let headers = [
        "#", "account", "owner", "segment", "ARR", "use", "p(churn)", "p(exp)", "priority",
        "alerts",
    ];
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let right = [
        true, false, false, false, true, true, true, true, true, false,
    ];
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .zip(right)
            .map(|((cell, &w), r)| {
                if r {
                    format!("{cell:>w$}")
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(headers.to_vec()));
    for row in &rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
    out.push('\n');
}

fn table_row(run: &ScoreRun, a: &AccountScore) -> [String; 10] {
    let name = display_name(a);
    let probability = |p: Option<f64>| {
        p.map(|p| format!("{p:.2}"))
            .unwrap_or_else(|| "-".to_string())
    };
    let alerts: Vec<&str> = a.active_alerts().map(|x| x.kind.key()).collect();
    [
        a.rank.to_string(),
        truncate(&name, NAME_WIDTH),
        truncate(owner_of(a), 16),
        a.segment.label().to_string(),
        words::money(a.facts.arr, &run.currency),
        a.utilization
            .map(words::percent)
            .unwrap_or_else(|| "-".to_string()),
        probability(a.p_churn),
        probability(a.p_expansion),
        words::quantity(a.priority.score.round()),
        if alerts.is_empty() {
            "-".to_string()
        } else {
            alerts.join(", ")
        },
    ]
}

fn details(run: &ScoreRun, out: &mut String) {
    for a in run.top_accounts() {
        let f = &a.facts;
        let renewal = f
            .renewal_date
            .map(|d| format!(", renews {}", words::date(d)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}. {} ({}, {}): {}, {} ARR{renewal}",
            a.rank,
            display_name(a),
            f.customer_segment.as_deref().unwrap_or("no segment"),
            owner_of(a),
            a.segment.label(),
            words::money(f.arr, &run.currency)
        );
        let _ = writeln!(
            out,
            "   priority {}: ARR at risk {}, expansion value {}, urgency x{:.2}",
            words::quantity(a.priority.score.round()),
            words::money(a.priority.arr_at_risk, &run.currency),
            words::money(a.priority.expansion_value, &run.currency),
            a.priority.urgency
        );
        for reason in &a.reasons {
            let _ = writeln!(out, "   why ({}): {}", reason.source.key(), reason.text);
        }
        for alert in &a.alerts {
            let _ = writeln!(
                out,
                "   alert [{}]: {}",
                alert.kind.key(),
                alert.stored_text()
            );
        }
        for action in &a.actions {
            let _ = writeln!(out, "   do: {action}");
        }
        for point in &a.talking_points {
            let _ = writeln!(out, "   say: {point}");
        }
        out.push('\n');
    }
}

/// The account id and name, or the id alone when the name repeats it.
pub(super) fn display_name(a: &AccountScore) -> String {
    if a.facts.name == a.facts.account_id {
        a.facts.account_id.clone()
    } else {
        format!("{} {}", a.facts.account_id, a.facts.name)
    }
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}
