//! JSON: the whole run with stable field names. `format` rises when a field
//! changes meaning or is removed; new fields may appear without a change.

use serde::Serialize;

use crate::alerts::AccountAlert;
use crate::models::ModelQuality;
use crate::run::{AccountScore, ScoreRun, SegmentTotal};
use crate::words;

/// The JSON layout version.
pub const JSON_FORMAT: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    format: u32,
    project: String,
    as_of: String,
    created_at: String,
    currency: &'a str,
    snapshot_only: bool,
    snapshot_id: Option<u64>,
    models: Models<'a>,
    notices: &'a [String],
    totals: Totals,
    segments: Vec<SegmentTotal>,
    top: Vec<&'a str>,
    accounts: Vec<Account<'a>>,
}

#[derive(Serialize)]
struct Models<'a> {
    churn: Option<&'a ModelQuality>,
    expansion: Option<&'a ModelQuality>,
}

#[derive(Serialize)]
struct Totals {
    accounts: usize,
    arr: f64,
    arr_at_risk: f64,
    expansion_value: f64,
    needs_attention: usize,
}

#[derive(Serialize)]
struct Account<'a> {
    rank: usize,
    account_id: &'a str,
    name: &'a str,
    owner: Option<&'a str>,
    customer_segment: Option<&'a str>,
    industry: Option<&'a str>,
    region: Option<&'a str>,
    plan: Option<&'a str>,
    health_segment: &'static str,
    segment_since: Option<String>,
    pending_segment: Option<&'static str>,
    arr: f64,
    renewal_date: Option<String>,
    days_to_renewal: Option<f64>,
    utilization_entitlement: Option<&'a str>,
    utilization: Option<f64>,
    utilization_3m: Option<f64>,
    sparkline: &'a [Option<f64>],
    p_churn: Option<f64>,
    p_expansion: Option<f64>,
    flagged_churn: bool,
    flagged_expansion: bool,
    needs_attention: bool,
    arr_at_risk: f64,
    expansion_arr: f64,
    expansion_value: f64,
    urgency: f64,
    priority: f64,
    reasons: Vec<Reason<'a>>,
    alerts: Vec<Alert<'a>>,
    actions: &'a [String],
    talking_points: &'a [String],
    notes: Vec<String>,
}

#[derive(Serialize)]
struct Reason<'a> {
    source: &'static str,
    feature: &'a str,
    contribution: f64,
    text: &'a str,
}

#[derive(Serialize)]
struct Alert<'a> {
    kind: &'static str,
    severity: crate::alerts::Severity,
    date: String,
    text: &'a str,
    suppressed_by_note: Option<u64>,
}

/// Renders the run as pretty JSON.
pub fn render_json(run: &ScoreRun) -> String {
    let report = Report {
        format: JSON_FORMAT,
        project: run.project.display().to_string(),
        as_of: words::date(run.as_of),
        created_at: run.created_at.to_rfc3339(),
        currency: &run.currency,
        snapshot_only: run.snapshot_only,
        snapshot_id: run.snapshot_id,
        models: Models {
            churn: run.churn_model.as_ref(),
            expansion: run.expansion_model.as_ref(),
        },
        notices: &run.notices,
        totals: Totals {
            accounts: run.accounts.len(),
            arr: run.total_arr(),
            arr_at_risk: run.total_arr_at_risk(),
            expansion_value: run.total_expansion_value(),
            needs_attention: run.accounts.iter().filter(|a| a.needs_attention).count(),
        },
        segments: run.segment_totals(),
        top: run
            .top_accounts()
            .iter()
            .map(|a| a.facts.account_id.as_str())
            .collect(),
        accounts: run.accounts.iter().map(account).collect(),
    };
    let mut text = serde_json::to_string_pretty(&report).expect("a report always serializes");
    text.push('\n');
    text
}

fn account(a: &AccountScore) -> Account<'_> {
    let f = &a.facts;
    Account {
        rank: a.rank,
        account_id: &f.account_id,
        name: &f.name,
        owner: f.owner.as_deref(),
        customer_segment: f.customer_segment.as_deref(),
        industry: f.industry.as_deref(),
        region: f.region.as_deref(),
        plan: f.plan.as_deref(),
        health_segment: a.segment.key(),
        segment_since: a.segment_since.map(words::date),
        pending_segment: a.pending.map(|p| p.segment.key()),
        arr: f.arr,
        renewal_date: f.renewal_date.map(words::date),
        days_to_renewal: f.days_to_renewal,
        utilization_entitlement: a.utilization_entitlement.as_deref(),
        utilization: a.utilization,
        utilization_3m: f.util_primary_3m,
        sparkline: &a.sparkline,
        p_churn: a.p_churn,
        p_expansion: a.p_expansion,
        flagged_churn: a.flagged_churn,
        flagged_expansion: a.flagged_expansion,
        needs_attention: a.needs_attention,
        arr_at_risk: a.priority.arr_at_risk,
        expansion_arr: a.priority.expansion_arr,
        expansion_value: a.priority.expansion_value,
        urgency: a.priority.urgency,
        priority: a.priority.score,
        reasons: a
            .reasons
            .iter()
            .map(|r| Reason {
                source: r.source.key(),
                feature: &r.feature,
                contribution: r.contribution,
                text: &r.text,
            })
            .collect(),
        alerts: a.alerts.iter().map(alert).collect(),
        actions: &a.actions,
        talking_points: &a.talking_points,
        notes: a.notes.iter().map(|n| n.summary()).collect(),
    }
}

fn alert(a: &AccountAlert) -> Alert<'_> {
    Alert {
        kind: a.kind.key(),
        severity: a.severity,
        date: words::date(a.date),
        text: &a.text,
        suppressed_by_note: a.suppressed_by.as_ref().map(|n| n.id),
    }
}
