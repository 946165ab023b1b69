//! The summary of a generated portfolio: realized rates against their
//! parameters, and the oracle ROC-AUC on the churn and expansion outcomes.

use std::fmt;

use serde::Serialize;

use crate::calendar::Window;
use crate::calibrate::Calibration;
use crate::catalog::Segment;
use crate::config::SimConfig;
use crate::records::{Chunk, TermEnd, TermTruth, round_probability};
use crate::truth::roc_auc;

/// The oracle's ROC-AUC on one set of observations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AucSummary {
    /// ROC-AUC; `None` without both classes.
    pub auc: Option<f64>,
    /// Observations.
    pub rows: usize,
    /// Observations where the outcome happened.
    pub positives: usize,
}

/// Oracle ROC-AUC of the true probabilities against the realized outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OracleSummary {
    /// Churn within the horizon, over every month-end of an active account whose
    /// horizon lies inside the window.
    pub churn_monthly: AucSummary,
    /// Churn at each renewal inside the window, scored with the probability at
    /// the decision.
    pub churn_renewals: AucSummary,
    /// Expansion within the horizon, over the same month-ends as `churn_monthly`.
    pub expansion_monthly: AucSummary,
    /// Expansion at each renewal, scored with the probability at the decision.
    pub expansion_renewals: AucSummary,
}

/// Realized rates of one segment against their targets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentSummary {
    /// The segment name.
    pub segment: &'static str,
    /// Accounts in the segment.
    pub accounts: u64,
    /// Contract terms scheduled to end inside the window.
    pub terms: u64,
    /// Share of those terms that ended in churn (at the renewal or mid-term).
    pub churn_rate: f64,
    /// The `churn_per_term` parameter.
    pub churn_target: f64,
    /// Mean probability, at the start of each of those terms, that it ends in churn.
    pub churn_expected: f64,
    /// Share of those terms with an expansion.
    pub expansion_rate: f64,
    /// The `expansion_per_term` parameter.
    pub expansion_target: f64,
    /// Mean probability, at the start of each of those terms, of an expansion in it.
    pub expansion_expected: f64,
    /// Share of the churns that no usage signal announced.
    pub signal_free_share: f64,
}

/// Realized churn at renewal of declining accounts with and without an intervention.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InterventionSummary {
    /// Renewals of declining accounts with an intervention in the term.
    pub with_intervention: u64,
    /// Their churn rate.
    pub churn_with: f64,
    /// Renewals of declining accounts without one.
    pub without_intervention: u64,
    /// Their churn rate.
    pub churn_without: f64,
}

/// Row counts of the written tables.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct RowCounts {
    /// Accounts.
    pub accounts: u64,
    /// Contracts (terms and mid-term amendments).
    pub contracts: u64,
    /// Usage rows.
    pub usage: u64,
    /// Outcomes.
    pub outcomes: u64,
    /// Interventions.
    pub interventions: u64,
    /// Month-end truth rows.
    pub truth_monthly: u64,
}

/// The summary of a generated portfolio, also written as `truth/summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// First month.
    pub start: String,
    /// Last month.
    pub end: String,
    /// Seed.
    pub seed: u64,
    /// Horizon of the monthly probabilities, in days.
    pub horizon_days: u32,
    /// Rows written.
    pub rows: RowCounts,
    /// Oracle ROC-AUC.
    pub oracle: OracleSummary,
    /// Per-segment rates.
    pub segments: Vec<SegmentSummary>,
    /// Share of the churns of terms due in the window that no usage signal announced.
    pub signal_free_share: f64,
    /// The `signal_free.share` parameter (0 when the mechanism is off).
    pub signal_free_target: f64,
    /// Churn of declining accounts with and without interventions.
    pub interventions: InterventionSummary,
    /// The calibrated hazard scales.
    pub calibration: Calibration,
}

#[derive(Debug, Clone, Copy, Default)]
struct SegmentCounts {
    accounts: u64,
    terms: u64,
    churns: u64,
    signal_free: u64,
    expanded_terms: u64,
    expected_churn: f64,
    expected_expansion: f64,
}

/// Collects the numbers of the summary chunk by chunk.
#[derive(Debug)]
pub struct SummaryBuilder {
    window: Window,
    rows: RowCounts,
    monthly_churn: Vec<f64>,
    monthly_expand: Vec<f64>,
    monthly_churned: Vec<bool>,
    monthly_expanded: Vec<bool>,
    renewal_churn: Vec<f64>,
    renewal_expand: Vec<f64>,
    renewal_churned: Vec<bool>,
    renewal_expanded: Vec<bool>,
    segments: [SegmentCounts; 3],
    declining: [(u64, u64); 2],
}

impl SummaryBuilder {
    /// Creates an empty summary of a portfolio over `window`.
    pub fn new(window: Window) -> SummaryBuilder {
        SummaryBuilder {
            window,
            rows: RowCounts::default(),
            monthly_churn: Vec::new(),
            monthly_expand: Vec::new(),
            monthly_churned: Vec::new(),
            monthly_expanded: Vec::new(),
            renewal_churn: Vec::new(),
            renewal_expand: Vec::new(),
            renewal_churned: Vec::new(),
            renewal_expanded: Vec::new(),
            segments: [SegmentCounts::default(); 3],
            declining: [(0, 0); 2],
        }
    }

    /// Adds the rows of a chunk.
    pub fn add(&mut self, chunk: &Chunk) {
        self.rows.accounts += chunk.accounts.len() as u64;
        self.rows.contracts += chunk.contracts.len() as u64;
        self.rows.usage += chunk.usage.len() as u64;
        self.rows.outcomes += chunk.outcomes.len() as u64;
        self.rows.interventions += chunk.interventions.len() as u64;
        self.rows.truth_monthly += chunk.months.len() as u64;

        for account in &chunk.accounts {
            self.segments[segment_position(account.segment)].accounts += 1;
        }
        for row in chunk.months.iter().filter(|row| row.active && row.complete) {
            self.monthly_churn.push(row.p_churn);
            self.monthly_expand.push(row.p_expand);
            self.monthly_churned.push(row.churned);
            self.monthly_expanded.push(row.expanded);
        }
        for term in &chunk.terms {
            self.add_term(term);
        }
    }

    fn add_term(&mut self, term: &TermTruth) {
        let churned = term.outcome == "churned";
        let in_window = term.end >= self.window.month_end(0);
        if term.ended_by == TermEnd::Renewal && in_window {
            self.renewal_churn
                .push(round_probability(term.odds.churn()));
            self.renewal_expand
                .push(round_probability(term.odds.expansion()));
            self.renewal_churned.push(churned);
            self.renewal_expanded.push(term.outcome == "expanded");
            if term.phase.is_declining() {
                let group = &mut self.declining[usize::from(term.intervened)];
                group.0 += 1;
                group.1 += u64::from(churned);
            }
        }

        let due_in_window = (0..=self.window.last_index()).contains(&term.scheduled_end_month);
        if due_in_window {
            let counts = &mut self.segments[segment_position(term.segment)];
            counts.terms += 1;
            counts.churns += u64::from(churned);
            counts.signal_free += u64::from(term.signal_free);
            counts.expanded_terms += u64::from(term.expanded_in_term);
            counts.expected_churn += term.term_churn;
            counts.expected_expansion += term.term_expansion;
        }
    }

    /// Computes the summary of everything added.
    pub fn finish(self, config: &SimConfig, calibration: Calibration) -> Summary {
        let window = self.window;
        let auc = |scores: &[f64], labels: &[bool]| AucSummary {
            auc: roc_auc(scores, labels),
            rows: scores.len(),
            positives: labels.iter().filter(|label| **label).count(),
        };
        let oracle = OracleSummary {
            churn_monthly: auc(&self.monthly_churn, &self.monthly_churned),
            churn_renewals: auc(&self.renewal_churn, &self.renewal_churned),
            expansion_monthly: auc(&self.monthly_expand, &self.monthly_expanded),
            expansion_renewals: auc(&self.renewal_expand, &self.renewal_expanded),
        };

        let segments = Segment::ALL
            .iter()
            .zip(&self.segments)
            .map(|(segment, counts)| segment_summary(config, *segment, counts))
            .collect();
        let churns: u64 = self.segments.iter().map(|c| c.churns).sum();
        let signal_free: u64 = self.segments.iter().map(|c| c.signal_free).sum();
        let [without, with] = self.declining;

        Summary {
            start: window.start().to_string(),
            end: window.last().to_string(),
            seed: config.seed,
            horizon_days: config.horizon_days,
            rows: self.rows,
            oracle,
            segments,
            signal_free_share: ratio(signal_free, churns),
            signal_free_target: if config.mechanisms.signal_free_churn {
                config.signal_free.share
            } else {
                0.0
            },
            interventions: InterventionSummary {
                with_intervention: with.0,
                churn_with: ratio(with.1, with.0),
                without_intervention: without.0,
                churn_without: ratio(without.1, without.0),
            },
            calibration,
        }
    }
}

fn segment_summary(config: &SimConfig, segment: Segment, counts: &SegmentCounts) -> SegmentSummary {
    let params = config.segments.get(segment);
    let terms = counts.terms.max(1) as f64;
    SegmentSummary {
        segment: segment.name(),
        accounts: counts.accounts,
        terms: counts.terms,
        churn_rate: ratio(counts.churns, counts.terms),
        churn_target: params.churn_per_term,
        churn_expected: counts.expected_churn / terms,
        expansion_rate: ratio(counts.expanded_terms, counts.terms),
        expansion_target: params.expansion_per_term,
        expansion_expected: counts.expected_expansion / terms,
        signal_free_share: ratio(counts.signal_free, counts.churns),
    }
}

fn segment_position(segment: Segment) -> usize {
    Segment::ALL
        .iter()
        .position(|s| *s == segment)
        .expect("every segment is in Segment::ALL")
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn format_auc(summary: &AucSummary) -> String {
    let auc = summary
        .auc
        .map_or_else(|| "n/a".to_string(), |auc| format!("{auc:.3}"));
    format!(
        "{auc} ({} rows, {} positive)",
        summary.rows, summary.positives
    )
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = &self.rows;
        writeln!(
            f,
            "portfolio {} .. {}: {} accounts, {} contracts, {} usage rows, {} outcomes, {} interventions",
            self.start,
            self.end,
            rows.accounts,
            rows.contracts,
            rows.usage,
            rows.outcomes,
            rows.interventions
        )?;
        let oracle = &self.oracle;
        let horizon = self.horizon_days;
        writeln!(
            f,
            "oracle ROC-AUC, churn within {horizon} days of a month-end: {}",
            format_auc(&oracle.churn_monthly)
        )?;
        writeln!(
            f,
            "oracle ROC-AUC, churn at renewal: {}",
            format_auc(&oracle.churn_renewals)
        )?;
        writeln!(
            f,
            "oracle ROC-AUC, expansion within {horizon} days of a month-end: {}",
            format_auc(&oracle.expansion_monthly)
        )?;
        writeln!(
            f,
            "oracle ROC-AUC, expansion at renewal: {}",
            format_auc(&oracle.expansion_renewals)
        )?;
        for segment in &self.segments {
            writeln!(
                f,
                "{:<10} {:>6} terms: churn {:.3} (target {:.3}), expansion {:.3} (target {:.3})",
                segment.segment,
                segment.terms,
                segment.churn_rate,
                segment.churn_target,
                segment.expansion_rate,
                segment.expansion_target
            )?;
        }
        writeln!(
            f,
            "signal-free share of churns: {:.3} (target {:.3})",
            self.signal_free_share, self.signal_free_target
        )?;
        let interventions = &self.interventions;
        write!(
            f,
            "churn of declining accounts at renewal: {:.3} with an intervention ({}), {:.3} without ({})",
            interventions.churn_with,
            interventions.with_intervention,
            interventions.churn_without,
            interventions.without_intervention
        )
    }
}
