//! CSV: one row per account in priority order, with stable column names
//! for CRM import. Lists inside a cell are joined with " | ".

use super::decimals;
use crate::run::{AccountScore, ScoreRun};
use crate::words;

/// The columns, in order. New columns are only ever added at the end.
pub const CSV_COLUMNS: [&str; 36] = [
    "rank",
    "account_id",
    "name",
    "owner",
    "customer_segment",
    "industry",
    "region",
    "plan",
    "health_segment",
    "segment_since",
    "pending_segment",
    "arr",
    "currency",
    "renewal_date",
    "days_to_renewal",
    "utilization_entitlement",
    "utilization",
    "utilization_3m",
    "p_churn",
    "p_expansion",
    "flagged_churn",
    "flagged_expansion",
    "needs_attention",
    "arr_at_risk",
    "expansion_arr",
    "expansion_value",
    "urgency",
    "priority",
    "alert_kinds",
    "alerts",
    "reasons",
    "actions",
    "talking_points",
    "notes",
    "as_of",
    "snapshot_id",
];

/// Renders every account as one CSV row under a header.
pub fn render_csv(run: &ScoreRun) -> String {
    let mut out = String::new();
    out.push_str(&CSV_COLUMNS.join(","));
    out.push('\n');
    for account in &run.accounts {
        let cells = row(run, account);
        let line: Vec<String> = cells.iter().map(|c| escape(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn row(run: &ScoreRun, a: &AccountScore) -> Vec<String> {
    let f = &a.facts;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let joined = |items: Vec<String>| items.join(" | ");
    vec![
        a.rank.to_string(),
        f.account_id.clone(),
        f.name.clone(),
        text(&f.owner),
        text(&f.customer_segment),
        text(&f.industry),
        text(&f.region),
        text(&f.plan),
        a.segment.key().to_string(),
        a.segment_since.map(words::date).unwrap_or_default(),
        a.pending
            .map(|p| p.segment.key().to_string())
            .unwrap_or_default(),
        format!("{:.2}", f.arr),
        f.currency.clone(),
        f.renewal_date.map(words::date).unwrap_or_default(),
        decimals(f.days_to_renewal, 0),
        text(&a.utilization_entitlement),
        decimals(a.utilization, 4),
        decimals(f.util_primary_3m, 4),
        decimals(a.p_churn, 4),
        decimals(a.p_expansion, 4),
        a.flagged_churn.to_string(),
        a.flagged_expansion.to_string(),
        a.needs_attention.to_string(),
        format!("{:.2}", a.priority.arr_at_risk),
        format!("{:.2}", a.priority.expansion_arr),
        format!("{:.2}", a.priority.expansion_value),
        format!("{:.3}", a.priority.urgency),
        format!("{:.2}", a.priority.score),
        joined(a.alerts.iter().map(|x| x.kind.key().to_string()).collect()),
        joined(a.alerts.iter().map(|x| x.stored_text()).collect()),
        joined(
            a.reasons
                .iter()
                .map(|r| format!("{}: {}", r.source.key(), r.text))
                .collect(),
        ),
        joined(a.actions.clone()),
        joined(a.talking_points.clone()),
        joined(a.notes.iter().map(|n| n.summary()).collect()),
        words::date(run.as_of),
        run.snapshot_id.map(|id| id.to_string()).unwrap_or_default(),
    ]
}

/// Quotes a cell when it holds a comma, a quote or a line break.
fn escape(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_with_commas_and_quotes_are_quoted() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a, b"), "\"a, b\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
