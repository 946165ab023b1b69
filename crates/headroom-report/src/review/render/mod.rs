//! Rendering the review: built once into a [`doc::Document`], then printed as
//! a terminal table, Markdown or HTML; JSON is the review itself.

pub mod doc;
mod html;
mod markdown;
mod text;

use std::fmt;
use std::str::FromStr;

use headroom_model::{CalibrationTable, ModelKind};
use headroom_store::{Outcome, Reason};

use super::accuracy::{KindReview, Miss};
use super::drift::psi_level;
use super::predictors::direction;
use super::{Review, Unmatched, to_json};
use doc::{Align, CalibrationPoint, Document, Table};

/// The maximum number of false positives, false negatives or unmatched
/// accounts listed per table; the JSON output lists all of them.
pub const MAX_LISTED: usize = 25;

/// The output formats of the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned plain-text tables for a terminal.
    Table,
    /// Markdown with GitHub tables.
    Markdown,
    /// One self-contained HTML page.
    Html,
    /// The review as pretty JSON, every list in full.
    Json,
}

impl FromStr for Format {
    type Err = String;

    /// Parses `table`, `md` (or `markdown`), `html` or `json`.
    fn from_str(text: &str) -> Result<Format, String> {
        match text {
            "table" => Ok(Format::Table),
            "md" | "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            other => Err(format!(
                "invalid format {other:?}: expected table, md, html or json"
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Table => "table",
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Json => "json",
        })
    }
}

/// Renders the review in a format.
pub fn render(review: &Review, format: Format) -> String {
    match format {
        Format::Json => to_json(review) + "\n",
        Format::Table => text::render(&document(review)),
        Format::Markdown => markdown::render(&document(review)),
        Format::Html => html::render(&document(review), &title(review)),
    }
}

fn title(review: &Review) -> String {
    format!("headroom review of {}", review.month)
}

/// Builds the review's document: summary and recommendation first, then
/// churn, expansion, champions, drift, interventions, notes and the accounts
/// left out.
pub fn document(review: &Review) -> Document {
    let mut doc = Document::default();
    doc.heading(1, title(review));
    summary(&mut doc, review);
    recommendation(&mut doc, review);
    snapshots(&mut doc, review);
    for kind in [ModelKind::Churn, ModelKind::Expansion] {
        kind_section(&mut doc, review.kind(kind));
    }
    champions(&mut doc, review);
    drift(&mut doc, review);
    interventions(&mut doc, review);
    expectations(&mut doc, review);
    unmatched(&mut doc, review);
    doc
}

fn summary(doc: &mut Document, review: &Review) {
    let words: Vec<String> = review
        .by_outcome
        .iter()
        .map(|(word, n)| format!("{word} {n}"))
        .collect();
    let accounts = review.matched_accounts + review.unmatched.len();
    let listed = match words.is_empty() {
        true => String::new(),
        false => format!(" ({})", words.join(", ")),
    };
    doc.paragraph(format!(
        "{} outcomes in {}{listed} for {accounts} accounts. {} accounts are matched with the latest score snapshot taken at least {} days (and at most {} days) before their first outcome of the month. Not matched: {} (listed at the end).",
        review.outcomes,
        review.month,
        review.matched_accounts,
        review.settings.lead_days,
        review.settings.max_snapshot_age_days,
        review.unmatched.len()
    ));
}

fn recommendation(doc: &mut Document, review: &Review) {
    let recommendation = &review.recommendation;
    doc.heading(2, format!("Recommendation: {}", recommendation.action));
    let mut table = Table::new(&[
        ("criterion", Align::Left),
        ("value", Align::Right),
        ("watch at", Align::Right),
        ("retrain at", Align::Right),
        ("action", Align::Left),
        ("finding", Align::Left),
    ]);
    for criterion in &recommendation.criteria {
        table.row(vec![
            criterion.name.clone(),
            level(criterion.value),
            level(criterion.watch_at),
            level(criterion.retrain_at),
            criterion.action.to_string(),
            criterion.detail.clone(),
        ]);
    }
    doc.table(table);
    doc.paragraph(format!("Rule: {}.", recommendation.rule));
}

fn snapshots(doc: &mut Document, review: &Review) {
    doc.heading(2, "Snapshots compared");
    if review.snapshots.is_empty() {
        doc.paragraph("No snapshot matched an outcome of the month.");
        return;
    }
    let mut table = Table::new(&[
        ("snapshot", Align::Right),
        ("as of", Align::Left),
        ("churn model", Align::Left),
        ("expansion model", Align::Left),
        ("accounts", Align::Right),
    ]);
    for snapshot in &review.snapshots {
        table.row(vec![
            snapshot.id.to_string(),
            snapshot.as_of.to_string(),
            snapshot
                .churn_model
                .clone()
                .unwrap_or_else(|| "rules only".into()),
            snapshot
                .expansion_model
                .clone()
                .unwrap_or_else(|| "rules only".into()),
            snapshot.accounts.to_string(),
        ]);
    }
    doc.table(table);
}

fn kind_section(doc: &mut Document, review: &KindReview) {
    let kind = review.kind;
    let (noun, positive, negative) = match kind {
        ModelKind::Churn => ("Churn", "churned", "did not churn"),
        ModelKind::Expansion => ("Expansion", "expanded", "did not expand"),
    };
    doc.heading(2, noun);
    doc.paragraph(format!(
        "{} matched accounts, {} {positive}.",
        review.accounts, review.positives
    ));

    doc.heading(3, "Confusion matrix at the operating threshold");
    let mut matrix = Table::new(&[
        ("flag at the time", Align::Left),
        (positive, Align::Right),
        (negative, Align::Right),
    ]);
    let confusion = &review.confusion;
    matrix.row(vec![
        "flagged".into(),
        confusion.true_positives.to_string(),
        confusion.false_positives.to_string(),
    ]);
    matrix.row(vec![
        "not flagged".into(),
        confusion.false_negatives.to_string(),
        confusion.true_negatives.to_string(),
    ]);
    doc.table(matrix);

    doc.heading(3, "Metrics");
    metrics_table(doc, review);
    calibration(doc, review.scores.calibration.as_ref());

    doc.heading(
        3,
        format!(
            "False positives: flagged, {negative} ({})",
            review.false_positives.len()
        ),
    );
    misses(doc, kind, &review.false_positives);
    doc.heading(
        3,
        format!(
            "False negatives: {positive}, not flagged ({})",
            review.false_negatives.len()
        ),
    );
    misses(doc, kind, &review.false_negatives);

    doc.heading(3, "Per customer segment");
    let mut table = Table::new(&[
        ("segment", Align::Left),
        ("accounts", Align::Right),
        (positive, Align::Right),
        ("TP", Align::Right),
        ("FP", Align::Right),
        ("FN", Align::Right),
        ("precision", Align::Right),
        ("recall", Align::Right),
        ("ROC-AUC", Align::Right),
        ("rule ROC-AUC", Align::Right),
    ]);
    for segment in &review.segments {
        table.row(vec![
            segment.segment.clone(),
            segment.accounts.to_string(),
            segment.positives.to_string(),
            segment.confusion.true_positives.to_string(),
            segment.confusion.false_positives.to_string(),
            segment.confusion.false_negatives.to_string(),
            percent(segment.precision),
            percent(segment.recall),
            number(segment.roc_auc, 3),
            number(segment.rule_roc_auc, 3),
        ]);
    }
    doc.table(table);
}

fn metrics_table(doc: &mut Document, review: &KindReview) {
    let rule = &review.rule;
    let comparison = match review.kind {
        ModelKind::Churn => "<",
        ModelKind::Expansion => ">",
    };
    let rule_name = format!(
        "rule: {} {comparison} {:.0}%",
        rule.column,
        100.0 * rule.threshold
    );
    let mut table = Table::new(&[
        ("metric", Align::Left),
        ("model at the time", Align::Right),
        (rule_name.as_str(), Align::Right),
        ("champion, held out", Align::Right),
    ]);
    let scores = &review.scores;
    let rows: [(&str, String, String, String); 9] = [
        (
            "flagged",
            review.confusion.flagged().to_string(),
            rule.confusion.flagged().to_string(),
            String::new(),
        ),
        (
            "precision",
            percent(review.precision),
            percent(rule.precision),
            String::new(),
        ),
        (
            "recall",
            percent(review.recall),
            percent(rule.recall),
            String::new(),
        ),
        (
            "ROC-AUC",
            number(scores.roc_auc, 3),
            number(rule.roc_auc, 3),
            number(review.reference_roc_auc, 3),
        ),
        (
            "average precision",
            number(scores.average_precision, 3),
            String::new(),
            String::new(),
        ),
        (
            "log loss",
            number(scores.log_loss, 3),
            String::new(),
            String::new(),
        ),
        (
            "Brier score",
            number(scores.brier, 3),
            String::new(),
            String::new(),
        ),
        (
            "mean probability",
            percent(scores.mean_predicted),
            String::new(),
            String::new(),
        ),
        (
            "observed rate",
            percent(scores.observed_rate),
            String::new(),
            String::new(),
        ),
    ];
    for (metric, model, rule, champion) in rows {
        table.row(vec![metric.to_string(), model, rule, champion]);
    }
    doc.table(table);
    doc.paragraph(format!(
        "Probability metrics use the {} accounts scored by a model; the rule reads utilization as of each snapshot date ({} of {} accounts have one).",
        scores.scored, rule.with_utilization, review.accounts
    ));
}

fn calibration(doc: &mut Document, table: Option<&CalibrationTable>) {
    let Some(calibration) = table else {
        return;
    };
    let populated: Vec<_> = calibration.bins.iter().filter(|b| b.count > 0).collect();
    if populated.is_empty() {
        return;
    }
    let mut out = Table::new(&[
        ("probability", Align::Left),
        ("accounts", Align::Right),
        ("mean probability", Align::Right),
        ("observed rate", Align::Right),
    ]);
    let mut points = Vec::new();
    for bin in populated {
        out.row(vec![
            format!("{:.1} to {:.1}", bin.lower, bin.upper),
            bin.count.to_string(),
            percent(bin.mean_predicted),
            percent(bin.observed_rate),
        ]);
        if let (Some(predicted), Some(observed)) = (bin.mean_predicted, bin.observed_rate) {
            points.push(CalibrationPoint {
                predicted,
                observed,
                count: bin.count,
            });
        }
    }
    doc.table(out);
    doc.calibration(points);
}

fn misses(doc: &mut Document, kind: ModelKind, misses: &[Miss]) {
    if misses.is_empty() {
        doc.paragraph("None.");
        return;
    }
    let probability = match kind {
        ModelKind::Churn => "p(churn)",
        ModelKind::Expansion => "p(expansion)",
    };
    let mut table = Table::new(&[
        ("account", Align::Left),
        ("segment", Align::Left),
        ("outcome", Align::Left),
        ("scored as of", Align::Left),
        (probability, Align::Right),
        ("health", Align::Left),
        ("ARR", Align::Right),
        ("reasons given then", Align::Left),
        ("alerts then", Align::Left),
    ]);
    for miss in misses.iter().take(MAX_LISTED) {
        table.row(vec![
            miss.account_id.clone(),
            miss.customer_segment.clone().unwrap_or_default(),
            outcome_words(&miss.outcomes, miss.outcome_date),
            miss.as_of.to_string(),
            number(miss.probability, 3),
            miss.health_segment.clone(),
            money(miss.arr),
            reasons(&miss.reasons),
            miss.alerts
                .iter()
                .map(|a| a.text.clone())
                .collect::<Vec<_>>()
                .join("; "),
        ]);
    }
    doc.table(table);
    if misses.len() > MAX_LISTED {
        doc.paragraph(format!(
            "and {} more (the JSON output lists all)",
            misses.len() - MAX_LISTED
        ));
    }
}

fn champions(doc: &mut Document, review: &Review) {
    doc.heading(2, "Strongest predictors of the champions");
    if review.champions.is_empty() {
        doc.paragraph("No champion model: scoring uses the rules only.");
        return;
    }
    for champion in &review.champions {
        doc.heading(
            3,
            format!("{} champion {}", champion.kind.name(), champion.version),
        );
        let mut table = Table::new(&[
            ("model input", Align::Left),
            ("coefficient per SD", Align::Right),
            ("odds ratio per SD", Align::Right),
            ("effect", Align::Left),
            ("PSI this month", Align::Right),
        ]);
        for predictor in &champion.predictors {
            table.row(vec![
                predictor.column.clone(),
                format!("{:+.3}", predictor.coefficient),
                format!("{:.2}", predictor.odds_ratio),
                direction(champion.kind, predictor.coefficient).to_string(),
                number(predictor.psi, 3),
            ]);
        }
        doc.table(table);
    }
}

fn drift(doc: &mut Document, review: &Review) {
    doc.heading(2, "Input drift since training");
    doc.paragraph(format!(
        "Population stability index (PSI) of each model input over the accounts active on the month's last day, against the champion's training distribution. Below {:.2} is stable; from {:.2} the review asks to watch, from {:.2} to retrain (main inputs only).",
        review.settings.psi_watch, review.settings.psi_watch, review.settings.psi_retrain
    ));
    doc.list(review.drift_notes.clone());
    for drift in &review.drift {
        doc.heading(
            3,
            format!(
                "{} champion {}, {} accounts as of {}",
                drift.kind.name(),
                drift.version,
                drift.accounts,
                drift.as_of
            ),
        );
        let shown: Vec<_> = drift
            .inputs
            .iter()
            .filter(|i| i.main || i.psi >= review.settings.psi_watch)
            .collect();
        let mut table = Table::new(&[
            ("model input", Align::Left),
            ("PSI", Align::Right),
            ("reading", Align::Left),
            ("main input", Align::Left),
        ]);
        for input in &shown {
            table.row(vec![
                input.feature.clone(),
                format!("{:.3}", input.psi),
                psi_level(input.psi).to_string(),
                if input.main { "yes" } else { "" }.to_string(),
            ]);
        }
        doc.table(table);
        let hidden = drift.inputs.len() - shown.len();
        if hidden > 0 {
            doc.paragraph(format!(
                "{hidden} other inputs have a PSI below {:.2}.",
                review.settings.psi_watch
            ));
        }
        if drift.unused_inputs > 0 {
            doc.paragraph(format!(
                "{} inputs the model dropped at training (constant or always missing then) are left out.",
                drift.unused_inputs
            ));
        }
    }
}

fn interventions(doc: &mut Document, review: &Review) {
    let cohorts = &review.interventions;
    doc.heading(2, "Flagged accounts with and without an intervention");
    doc.paragraph(
        "Descriptive, not causal: teams choose which accounts to work with, so the two groups differ in more than the intervention. Accounts flagged for churn at the snapshot; an intervention counts when it is dated after the snapshot and on or before the outcome.",
    );
    let mut table = Table::new(&[
        ("cohort", Align::Left),
        ("accounts", Align::Right),
        ("churned", Align::Right),
        ("expanded", Align::Right),
        ("renewed or contracted", Align::Right),
        ("churn rate", Align::Right),
    ]);
    for (name, cohort) in [
        ("with an intervention", &cohorts.with_intervention),
        ("without", &cohorts.without_intervention),
    ] {
        table.row(vec![
            name.to_string(),
            cohort.accounts.to_string(),
            cohort.churned.to_string(),
            cohort.expanded.to_string(),
            cohort.retained.to_string(),
            percent(cohort.churn_rate),
        ]);
    }
    doc.table(table);
    if !cohorts.kinds.is_empty() {
        let kinds: Vec<String> = cohorts
            .kinds
            .iter()
            .map(|(kind, n)| format!("{kind}: {n}"))
            .collect();
        doc.paragraph(format!("Interventions logged: {}.", kinds.join(", ")));
    }
}

fn expectations(doc: &mut Document, review: &Review) {
    let expectations = &review.expectations;
    doc.heading(2, "Account notes: expectations against outcomes");
    if expectations.notes.is_empty() {
        doc.paragraph(
            "No note with an expectation applied to an account with an outcome this month.",
        );
        return;
    }
    let mut tallies = Table::new(&[
        ("expectation", Align::Left),
        ("notes", Align::Right),
        ("proved right", Align::Right),
    ]);
    for tally in &expectations.tallies {
        tallies.row(vec![
            tally.expectation.to_string(),
            tally.notes.to_string(),
            tally.right.to_string(),
        ]);
    }
    doc.table(tallies);
    let mut notes = Table::new(&[
        ("note", Align::Right),
        ("account", Align::Left),
        ("expected", Align::Left),
        ("outcome", Align::Left),
        ("right", Align::Left),
        ("text", Align::Left),
    ]);
    for check in &expectations.notes {
        notes.row(vec![
            check.note.to_string(),
            check.account_id.clone(),
            check.expectation.to_string(),
            words(&check.outcomes),
            if check.right { "yes" } else { "no" }.to_string(),
            check.text.clone(),
        ]);
    }
    doc.table(notes);
}

fn unmatched(doc: &mut Document, review: &Review) {
    doc.heading(2, format!("Accounts left out ({})", review.unmatched.len()));
    if review.unmatched.is_empty() {
        doc.paragraph("None: every account with an outcome was matched.");
        return;
    }
    let reasons = [
        Unmatched::NoSnapshot,
        Unmatched::SnapshotTooOld,
        Unmatched::NotScored,
    ];
    let counts: Vec<String> = reasons
        .iter()
        .map(|reason| {
            let n = review
                .unmatched
                .iter()
                .filter(|u| u.reason == *reason)
                .count();
            (reason, n)
        })
        .filter(|(_, n)| *n > 0)
        .map(|(reason, n)| format!("{n}: {}", reason.describe()))
        .collect();
    doc.list(counts);
    let mut table = Table::new(&[
        ("account", Align::Left),
        ("outcome", Align::Left),
        ("reason", Align::Left),
    ]);
    for account in review.unmatched.iter().take(MAX_LISTED) {
        table.row(vec![
            account.account_id.clone(),
            outcome_words(&account.outcomes, account.outcome_date),
            account.reason.describe().to_string(),
        ]);
    }
    doc.table(table);
    if review.unmatched.len() > MAX_LISTED {
        doc.paragraph(format!(
            "and {} more (the JSON output lists all)",
            review.unmatched.len() - MAX_LISTED
        ));
    }
}

fn words(outcomes: &[Outcome]) -> String {
    outcomes
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn outcome_words(outcomes: &[Outcome], date: chrono::NaiveDate) -> String {
    format!("{} on {date}", words(outcomes))
}

/// Lists the clauses of the three strongest distinct reasons in words, each
/// clause once. The renewal window enters the models alone and in products
/// with other inputs, so several reasons can end in the same renewal clause.
fn reasons(reasons: &[Reason]) -> String {
    let mut distinct_reasons: Vec<&str> = Vec::new();
    let mut clauses: Vec<&str> = Vec::new();
    for reason in reasons {
        if distinct_reasons.len() == 3 {
            break;
        }
        if distinct_reasons.contains(&reason.text.as_str()) {
            continue;
        }
        distinct_reasons.push(&reason.text);
        for clause in reason_clauses(&reason.text) {
            if !clauses.contains(&clause) {
                clauses.push(clause);
            }
        }
    }
    clauses.join("; ")
}

/// Splits the reason of a renewal-window product, written as "unused
/// features, renewal within 180 days (...)" by `reasons::describe_input`,
/// into its two clauses; other reasons are one clause.
fn reason_clauses(text: &str) -> Vec<&str> {
    for marker in [", renewal within ", ", no renewal within "] {
        if let Some(at) = text.find(marker) {
            return vec![&text[..at], &text[at + ", ".len()..]];
        }
    }
    vec![text]
}

/// Formats a number with `decimals` places; empty when absent.
fn number(value: Option<f64>, decimals: usize) -> String {
    match value {
        Some(value) => format!("{value:.decimals$}"),
        None => String::new(),
    }
}

/// Formats a criterion's value or level: whole numbers (counts) without
/// decimals, others with three.
fn level(value: Option<f64>) -> String {
    match value {
        Some(value) if value.fract() == 0.0 && value.abs() < 1e12 => format!("{value:.0}"),
        other => number(other, 3),
    }
}

/// Formats a share as a percentage with one decimal; empty when absent.
fn percent(value: Option<f64>) -> String {
    match value {
        Some(value) => format!("{:.1}%", 100.0 * value),
        None => String::new(),
    }
}

/// Formats an amount with thousands separators and no decimals.
fn money(amount: f64) -> String {
    headroom_data::report::group(amount.round().max(0.0) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(feature: &str, contribution: f64, text: &str) -> Reason {
        Reason {
            feature: feature.to_string(),
            contribution,
            text: text.to_string(),
        }
    }

    #[test]
    fn reasons_lists_each_clause_once() {
        // Reasons as a review of 2026-10 read them from a July snapshot:
        // three products of the renewal window, the second twice.
        let renewal = "renewal within 180 days (in 92 days, on 2026-10-31)";
        let stored = [
            reason(
                "window*unused",
                0.9,
                &format!("5 entitled features never used, {renewal}"),
            ),
            reason(
                "window*drawdown",
                0.7,
                &format!("active users 100% below its 12-month peak, {renewal}"),
            ),
            reason(
                "window*drawdown_3m",
                0.6,
                &format!("active users 100% below its 12-month peak, {renewal}"),
            ),
            reason("window", 0.5, renewal),
            reason("tenure_months", 0.2, "customer for 8 months"),
        ];
        assert_eq!(
            reasons(&stored),
            format!(
                "5 entitled features never used; {renewal}; active users 100% below its 12-month peak"
            )
        );
    }

    #[test]
    fn reason_clauses_split_only_renewal_products() {
        assert_eq!(
            reason_clauses("an smb account, no renewal within 90 days"),
            ["an smb account", "no renewal within 90 days"]
        );
        assert_eq!(
            reason_clauses("contract ended, renewal not on record"),
            ["contract ended, renewal not on record"]
        );
    }
}
