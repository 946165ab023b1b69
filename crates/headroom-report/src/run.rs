//! The result of a scoring run: every active account with its segment,
//! scores, reasons, alerts, priority and playbook, in priority order, and the
//! run's facts. It maps onto the store's snapshot records.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use headroom_model::ModelKind;
use headroom_store::{Alert, NewSnapshot, Reason, SnapshotHeader, SnapshotRow, Store};
use serde::Serialize;

use crate::alerts::{AccountAlert, NoteRef};
use crate::error::ReportError;
use crate::facts::AccountFacts;
use crate::models::ModelQuality;
use crate::priority::{Priority, Projection};
use crate::reasons::{ReasonSource, ReasonText};
use crate::segment::{HealthSegment, PendingChange};
use crate::settings::{ScoreSettings, TenureGroup, Thresholds};

/// One account's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountScore {
    /// Position in the priority order, from 1.
    pub rank: usize,
    /// The account's numbers from the feature table.
    pub facts: AccountFacts,
    /// The health segment after persistence.
    pub segment: HealthSegment,
    /// The scoring month's own condition.
    pub condition: Option<HealthSegment>,
    /// The last day of the month the segment began.
    pub segment_since: Option<NaiveDate>,
    /// A segment change that has not held long enough yet.
    pub pending: Option<PendingChange>,
    /// The account's tenure group for thresholds.
    pub tenure_group: TenureGroup,
    /// The thresholds that applied.
    pub thresholds: Thresholds,
    /// Utilization of the entitlement the segment is judged on, in the latest month.
    pub utilization: Option<f64>,
    /// That entitlement's name.
    pub utilization_entitlement: Option<String>,
    /// Its monthly utilization, oldest first, ending at the latest month.
    pub sparkline: Vec<Option<f64>>,
    /// P(churn) from the churn champion.
    pub p_churn: Option<f64>,
    /// P(expansion) from the expansion champion.
    pub p_expansion: Option<f64>,
    /// Flagged for churn: by the model's threshold, or without a model by the
    /// at-risk segment.
    pub flagged_churn: bool,
    /// Flagged for expansion: by the model's threshold, or without a model by
    /// the expansion and approaching-limits segments.
    pub flagged_expansion: bool,
    /// Flagged, in a segment that needs attention, or with an active risk
    /// or opportunity alert; such accounts get actions and talking points.
    pub needs_attention: bool,
    /// Churn reasons, then expansion reasons (or rule reasons without models).
    pub reasons: Vec<ReasonText>,
    /// Alerts, suppressed ones included.
    pub alerts: Vec<AccountAlert>,
    /// Active account notes.
    pub notes: Vec<NoteRef>,
    /// Limited entitlements projected forward.
    pub projections: Vec<Projection>,
    /// ARR at risk, expansion value, urgency and the priority score.
    pub priority: Priority,
    /// Recommended actions.
    pub actions: Vec<String>,
    /// Talking points.
    pub talking_points: Vec<String>,
}

impl AccountScore {
    /// The alerts that count (not suppressed by a note).
    pub fn active_alerts(&self) -> impl Iterator<Item = &AccountAlert> {
        self.alerts.iter().filter(|a| a.is_active())
    }

    /// The reasons a reader needs: the model reasons of the outcome the
    /// account is flagged for (both when flagged for both; when flagged for
    /// neither, the larger of ARR at risk and expansion value), then the
    /// rule reason. The snapshot and the CSV keep every reason.
    pub fn shown_reasons(&self) -> impl Iterator<Item = &ReasonText> {
        let churn_weighs_more = self.priority.arr_at_risk >= self.priority.expansion_value;
        let (churn, expansion) = match (self.flagged_churn, self.flagged_expansion) {
            (false, false) => (churn_weighs_more, !churn_weighs_more),
            flags => flags,
        };
        self.reasons.iter().filter(move |r| match r.source {
            ReasonSource::Churn => churn,
            ReasonSource::Expansion => expansion,
            ReasonSource::Rule => true,
        })
    }

    /// The record stored for this account in a snapshot.
    ///
    /// Reason features carry their source: `churn.util_primary`,
    /// `expansion.util_primary`, `rule.util_primary`.
    pub fn snapshot_row(&self) -> SnapshotRow {
        SnapshotRow {
            account_id: self.facts.account_id.clone(),
            customer_segment: self.facts.customer_segment.clone(),
            health_segment: self.segment.key().to_string(),
            p_churn: self.p_churn,
            p_expansion: self.p_expansion,
            arr: self.facts.arr.max(0.0),
            flagged_churn: self.flagged_churn,
            flagged_expansion: self.flagged_expansion,
            priority: self.priority.score,
            reasons: self
                .reasons
                .iter()
                .map(|r| Reason {
                    feature: format!("{}.{}", r.source.key(), r.feature),
                    contribution: r.contribution,
                    text: r.text.clone(),
                })
                .collect(),
            alerts: self
                .alerts
                .iter()
                .map(|a| Alert {
                    kind: a.kind.key().to_string(),
                    text: a.stored_text(),
                })
                .collect(),
        }
    }
}

/// Accounts and ARR of one health segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SegmentTotal {
    /// The segment.
    pub segment: HealthSegment,
    /// Accounts in it.
    pub accounts: usize,
    /// Their ARR.
    pub arr: f64,
}

/// A champion trained on outcomes dated after the scoring date: its scores
/// of that date benefit from what happened next (look-ahead), so they look
/// better than a model of the time could have scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LookAhead {
    /// Churn or expansion.
    pub kind: ModelKind,
    /// The champion's version.
    pub version: String,
    /// The last observation date of its training rows: the training window end.
    pub trained_to: NaiveDate,
    /// The latest outcome date its labels can read: the training window end
    /// plus the label horizon.
    pub outcomes_to: NaiveDate,
    /// The scoring date.
    pub as_of: NaiveDate,
}

impl LookAhead {
    /// Returns the notice of the report, also printed as a warning on stderr.
    pub fn message(&self) -> String {
        format!(
            "look-ahead: the {} model {} was trained on observations up to {} labelled by outcomes up to {}, after the scoring date {}, so its scores for this date have seen what happened next and look better than a model of that date could have scored; `headroom backtest` scores past months with models trained on what was known then",
            self.kind, self.version, self.trained_to, self.outcomes_to, self.as_of
        )
    }
}

/// A scoring run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreRun {
    /// The project folder.
    pub project: PathBuf,
    /// The scoring date.
    pub as_of: NaiveDate,
    /// When the run was made.
    pub created_at: DateTime<Utc>,
    /// The reporting currency.
    pub currency: String,
    /// Whether the project is a single snapshot export without history.
    pub snapshot_only: bool,
    /// The churn champion's metrics and verdict; `None` without one.
    pub churn_model: Option<ModelQuality>,
    /// The expansion champion's metrics and verdict; `None` without one.
    pub expansion_model: Option<ModelQuality>,
    /// Statements every rendering shows: rules only, weak models, snapshot
    /// data, look-ahead.
    pub notices: Vec<String>,
    /// The champions trained on outcomes dated after the scoring date.
    pub look_ahead: Vec<LookAhead>,
    /// The settings used.
    #[serde(skip)]
    pub settings: ScoreSettings,
    /// Accounts in the top list.
    pub top: usize,
    /// The last day of each month of the sparklines, oldest first.
    pub months: Vec<NaiveDate>,
    /// Every active account, in priority order.
    pub accounts: Vec<AccountScore>,
    /// The store's id of the snapshot, once written.
    pub snapshot_id: Option<u64>,
}

impl ScoreRun {
    /// The accounts the team works on first.
    pub fn top_accounts(&self) -> &[AccountScore] {
        &self.accounts[..self.top.min(self.accounts.len())]
    }

    /// Accounts and ARR per health segment, in report order, every segment listed.
    pub fn segment_totals(&self) -> Vec<SegmentTotal> {
        HealthSegment::ALL
            .into_iter()
            .map(|segment| {
                let members = self.accounts.iter().filter(|a| a.segment == segment);
                SegmentTotal {
                    segment,
                    accounts: members.clone().count(),
                    arr: members.map(|a| a.facts.arr).sum(),
                }
            })
            .collect()
    }

    /// Total ARR of the scored accounts.
    pub fn total_arr(&self) -> f64 {
        self.accounts.iter().map(|a| a.facts.arr).sum()
    }

    /// Total ARR at risk.
    pub fn total_arr_at_risk(&self) -> f64 {
        self.accounts.iter().map(|a| a.priority.arr_at_risk).sum()
    }

    /// Total expansion value.
    pub fn total_expansion_value(&self) -> f64 {
        self.accounts
            .iter()
            .map(|a| a.priority.expansion_value)
            .sum()
    }

    /// The account owners, sorted; accounts without one are under `unassigned`.
    pub fn owners(&self) -> Vec<String> {
        let mut owners: Vec<String> = self
            .accounts
            .iter()
            .map(|a| owner_of(a).to_string())
            .collect();
        owners.sort();
        owners.dedup();
        owners
    }

    /// The run restricted to one owner's accounts, ranked among themselves.
    pub fn for_owner(&self, owner: &str) -> ScoreRun {
        let mut run = self.clone();
        run.accounts.retain(|a| owner_of(a) == owner);
        for (i, account) in run.accounts.iter_mut().enumerate() {
            account.rank = i + 1;
        }
        run
    }

    /// The run-level record of the snapshot, with the thresholds used.
    pub fn new_snapshot(&self) -> NewSnapshot {
        let segments = &self.settings.segments;
        let mut thresholds = BTreeMap::from([
            ("at_risk_below".to_string(), segments.at_risk_below),
            ("watch_below".to_string(), segments.watch_below),
            ("expansion_above".to_string(), segments.expansion_above),
            ("limits_at".to_string(), segments.limits_at),
            (
                "persistence_months".to_string(),
                f64::from(segments.persistence_months),
            ),
        ]);
        if let Some(model) = &self.churn_model {
            thresholds.insert("churn_flag".to_string(), model.threshold);
        }
        if let Some(model) = &self.expansion_model {
            thresholds.insert("expansion_flag".to_string(), model.threshold);
        }
        NewSnapshot {
            as_of: self.as_of,
            created_at: self.created_at,
            churn_model: self.churn_model.as_ref().map(|m| m.version.clone()),
            expansion_model: self.expansion_model.as_ref().map(|m| m.version.clone()),
            thresholds,
        }
    }

    /// Stores the run as a snapshot and records its id.
    ///
    /// Fails when the store rejects a row or cannot write.
    pub fn write_snapshot(&mut self, store: &Store) -> Result<SnapshotHeader, ReportError> {
        let mut rows: Vec<&AccountScore> = self.accounts.iter().collect();
        rows.sort_by(|a, b| a.facts.account_id.cmp(&b.facts.account_id));
        let header = store.write_snapshot(
            self.new_snapshot(),
            rows.into_iter().map(AccountScore::snapshot_row),
        )?;
        self.snapshot_id = Some(header.id.0);
        Ok(header)
    }
}

/// The owner name used to group accounts (`unassigned` without one).
pub fn owner_of(account: &AccountScore) -> &str {
    account
        .facts
        .owner
        .as_deref()
        .filter(|o| !o.trim().is_empty())
        .unwrap_or("unassigned")
}
