//! The lines of a backup file: one JSON object per line, tagged by `type`.
//!
//! Real numbers are written as decimal strings ("0.8123456789012345"): the
//! shortest text that parses back to the same `f64`, read back with Rust's
//! correctly rounded parser. A JSON number would go through serde_json's
//! default float parser, which may land one unit in the last place away, and
//! the backup would no longer restore the store exactly. Plain JSON numbers
//! are accepted on import for hand-written files.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::records::{
    AccountNote, Alert, Decision, Intervention, ModelKind, ModelRecord, Outcome, OutcomeRecord,
    Reason, SnapshotHeader, SnapshotId, SnapshotRow, Source,
};

/// The backup format this build writes and the newest it reads.
pub const BACKUP_FORMAT: u32 = 1;

/// An `f64` written as its shortest round-trip decimal text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ExactF64(pub f64);

impl Serialize for ExactF64 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ExactF64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ExactF64, D::Error> {
        deserializer.deserialize_any(ExactF64Visitor)
    }
}

struct ExactF64Visitor;

impl serde::de::Visitor<'_> for ExactF64Visitor {
    type Value = ExactF64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a decimal number in a string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ExactF64, E> {
        text.trim()
            .parse::<f64>()
            .map(ExactF64)
            .map_err(|_| E::custom(format!("{text:?} is not a number")))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<ExactF64, E> {
        Ok(ExactF64(value))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<ExactF64, E> {
        Ok(ExactF64(value as f64))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<ExactF64, E> {
        Ok(ExactF64(value as f64))
    }
}

/// One line of a backup file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Line {
    /// The first line.
    Header {
        /// The backup format.
        format: u32,
    },
    /// A snapshot header, followed by its rows.
    Snapshot(SnapshotLine),
    /// A row of the snapshot before it.
    SnapshotRow(RowLine),
    /// An outcome.
    Outcome(OutcomeLine),
    /// An intervention.
    Intervention(Intervention),
    /// An account note.
    Note(AccountNote),
    /// A registered model.
    Model(ModelRecord),
    /// The champion of a kind.
    Champion {
        /// The kind.
        kind: ModelKind,
        /// The champion's version.
        version: String,
    },
    /// A registry decision.
    Decision(Decision),
    /// The last line, with the number of record lines between header and end.
    End {
        /// Record lines, header and end excluded.
        records: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SnapshotLine {
    pub id: SnapshotId,
    pub as_of: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub churn_model: Option<String>,
    pub expansion_model: Option<String>,
    pub thresholds: BTreeMap<String, ExactF64>,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RowLine {
    pub snapshot: SnapshotId,
    pub account_id: String,
    pub customer_segment: Option<String>,
    pub health_segment: String,
    pub p_churn: Option<ExactF64>,
    pub p_expansion: Option<ExactF64>,
    pub arr: ExactF64,
    pub flagged_churn: bool,
    pub flagged_expansion: bool,
    pub priority: ExactF64,
    pub reasons: Vec<ReasonLine>,
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReasonLine {
    pub feature: String,
    pub contribution: ExactF64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OutcomeLine {
    pub account_id: String,
    pub date: NaiveDate,
    pub outcome: Outcome,
    pub contract_id: Option<String>,
    pub arr_before: Option<ExactF64>,
    pub arr_after: Option<ExactF64>,
    pub reason: Option<String>,
    pub source: Source,
    pub recorded_at: DateTime<Utc>,
}

impl From<&SnapshotHeader> for SnapshotLine {
    fn from(header: &SnapshotHeader) -> SnapshotLine {
        SnapshotLine {
            id: header.id,
            as_of: header.as_of,
            created_at: header.created_at,
            churn_model: header.churn_model.clone(),
            expansion_model: header.expansion_model.clone(),
            thresholds: header
                .thresholds
                .iter()
                .map(|(name, value)| (name.clone(), ExactF64(*value)))
                .collect(),
            rows: header.rows,
        }
    }
}

impl From<SnapshotLine> for SnapshotHeader {
    fn from(line: SnapshotLine) -> SnapshotHeader {
        SnapshotHeader {
            id: line.id,
            as_of: line.as_of,
            created_at: line.created_at,
            churn_model: line.churn_model,
            expansion_model: line.expansion_model,
            thresholds: line
                .thresholds
                .into_iter()
                .map(|(name, value)| (name, value.0))
                .collect(),
            rows: line.rows,
        }
    }
}

impl RowLine {
    pub(crate) fn new(snapshot: SnapshotId, row: &SnapshotRow) -> RowLine {
        RowLine {
            snapshot,
            account_id: row.account_id.clone(),
            customer_segment: row.customer_segment.clone(),
            health_segment: row.health_segment.clone(),
            p_churn: row.p_churn.map(ExactF64),
            p_expansion: row.p_expansion.map(ExactF64),
            arr: ExactF64(row.arr),
            flagged_churn: row.flagged_churn,
            flagged_expansion: row.flagged_expansion,
            priority: ExactF64(row.priority),
            reasons: row
                .reasons
                .iter()
                .map(|reason| ReasonLine {
                    feature: reason.feature.clone(),
                    contribution: ExactF64(reason.contribution),
                    text: reason.text.clone(),
                })
                .collect(),
            alerts: row.alerts.clone(),
        }
    }

    pub(crate) fn into_row(self) -> SnapshotRow {
        SnapshotRow {
            account_id: self.account_id,
            customer_segment: self.customer_segment,
            health_segment: self.health_segment,
            p_churn: self.p_churn.map(|p| p.0),
            p_expansion: self.p_expansion.map(|p| p.0),
            arr: self.arr.0,
            flagged_churn: self.flagged_churn,
            flagged_expansion: self.flagged_expansion,
            priority: self.priority.0,
            reasons: self
                .reasons
                .into_iter()
                .map(|reason| Reason {
                    feature: reason.feature,
                    contribution: reason.contribution.0,
                    text: reason.text,
                })
                .collect(),
            alerts: self.alerts,
        }
    }
}

impl From<&OutcomeRecord> for OutcomeLine {
    fn from(record: &OutcomeRecord) -> OutcomeLine {
        OutcomeLine {
            account_id: record.account_id.clone(),
            date: record.date,
            outcome: record.outcome,
            contract_id: record.contract_id.clone(),
            arr_before: record.arr_before.map(ExactF64),
            arr_after: record.arr_after.map(ExactF64),
            reason: record.reason.clone(),
            source: record.source.clone(),
            recorded_at: record.recorded_at,
        }
    }
}

impl From<OutcomeLine> for OutcomeRecord {
    fn from(line: OutcomeLine) -> OutcomeRecord {
        OutcomeRecord {
            account_id: line.account_id,
            date: line.date,
            outcome: line.outcome,
            contract_id: line.contract_id,
            arr_before: line.arr_before.map(|amount| amount.0),
            arr_after: line.arr_after.map(|amount| amount.0),
            reason: line.reason,
            source: line.source,
            recorded_at: line.recorded_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::records::strategies::{arb_outcome, arb_row};

    #[test]
    fn exact_f64_is_written_as_text() {
        let text = serde_json::to_string(&ExactF64(0.1)).unwrap();
        assert_eq!(text, "\"0.1\"");
    }

    #[test]
    fn exact_f64_reads_plain_numbers() {
        let value: ExactF64 = serde_json::from_str("12000").unwrap();
        assert_eq!(value, ExactF64(12000.0));
    }

    #[test]
    fn line_tag_comes_first() {
        let text = serde_json::to_string(&Line::End { records: 3 }).unwrap();
        assert_eq!(text, r#"{"type":"end","records":3}"#);
    }

    proptest! {
        #[test]
        fn exact_f64_round_trips_bits(value in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
            let text = serde_json::to_string(&ExactF64(value)).unwrap();
            let back: ExactF64 = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back.0.to_bits(), value.to_bits());
        }

        #[test]
        fn row_line_round_trips(row in arb_row()) {
            let row = SnapshotRow {
                p_churn: row.p_churn.filter(|p| p.is_finite()),
                p_expansion: row.p_expansion.filter(|p| p.is_finite()),
                arr: if row.arr.is_finite() { row.arr } else { 0.0 },
                priority: if row.priority.is_finite() { row.priority } else { 0.0 },
                reasons: row.reasons.into_iter().filter(|r| r.contribution.is_finite()).collect(),
                ..row
            };
            let text = serde_json::to_string(&Line::SnapshotRow(RowLine::new(SnapshotId(4), &row))).unwrap();
            let Line::SnapshotRow(line) = serde_json::from_str(&text).unwrap() else {
                panic!("the line reads back as another type: {text}");
            };
            prop_assert_eq!(line.snapshot, SnapshotId(4));
            prop_assert_eq!(line.into_row(), row);
        }

        #[test]
        fn outcome_line_round_trips(record in arb_outcome()) {
            let record = OutcomeRecord {
                arr_before: record.arr_before.filter(|a| a.is_finite()),
                arr_after: record.arr_after.filter(|a| a.is_finite()),
                ..record
            };
            let text = serde_json::to_string(&Line::Outcome(OutcomeLine::from(&record))).unwrap();
            let Line::Outcome(line) = serde_json::from_str(&text).unwrap() else {
                panic!("the line reads back as another type: {text}");
            };
            prop_assert_eq!(OutcomeRecord::from(line), record);
        }

        #[test]
        fn line_parser_never_panics(text in ".{0,80}") {
            let _ = serde_json::from_str::<Line>(&text);
        }
    }
}
