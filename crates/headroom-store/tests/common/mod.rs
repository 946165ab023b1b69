//! Builders and folder helpers shared by the store's integration tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use headroom_store::{
    Alert, Intervention, NewSnapshot, Outcome, OutcomeRecord, Reason, SnapshotRow, Source,
};

pub fn date(text: &str) -> NaiveDate {
    text.parse().expect("test dates are ISO 8601")
}

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("test timestamps are RFC 3339")
}

pub fn new_snapshot(as_of: &str) -> NewSnapshot {
    NewSnapshot {
        as_of: date(as_of),
        created_at: at("2024-07-01T08:00:00Z"),
        churn_model: Some("churn-2024-06".to_string()),
        expansion_model: None,
        thresholds: BTreeMap::from([("churn_flag".to_string(), 0.35)]),
    }
}

pub fn row(account_id: &str, p_churn: f64) -> SnapshotRow {
    SnapshotRow {
        account_id: account_id.to_string(),
        customer_segment: Some("mid-market".to_string()),
        health_segment: "at-risk".to_string(),
        p_churn: Some(p_churn),
        p_expansion: None,
        arr: 24_000.0,
        flagged_churn: p_churn >= 0.35,
        flagged_expansion: false,
        priority: p_churn * 24_000.0,
        reasons: vec![Reason {
            feature: "seat_utilization".to_string(),
            contribution: 0.8123456789012345,
            text: "23 of 50 seats active, down 30% in 3 months".to_string(),
        }],
        alerts: vec![Alert {
            kind: "usage_drop".to_string(),
            text: "usage fell 42% in June".to_string(),
        }],
    }
}

pub fn outcome(account_id: &str, day: &str, outcome: Outcome, line: u64) -> OutcomeRecord {
    OutcomeRecord {
        account_id: account_id.to_string(),
        date: date(day),
        outcome,
        contract_id: Some(format!("C-{account_id}")),
        arr_before: Some(24_000.0),
        arr_after: Some(match outcome {
            Outcome::Churned => 0.0,
            Outcome::Expanded => 30_000.0,
            Outcome::Contracted => 18_000.0,
            Outcome::Renewed => 24_000.0,
        }),
        reason: None,
        source: Source::File {
            path: "outcomes.csv".to_string(),
            line,
        },
        recorded_at: at("2024-08-02T09:30:00Z"),
    }
}

pub fn intervention(account_id: &str, day: &str, kind: &str) -> Intervention {
    Intervention {
        account_id: account_id.to_string(),
        date: date(day),
        kind: kind.to_string(),
        note: Some("walked through the admin console".to_string()),
        source: Source::Manual,
        recorded_at: at("2024-06-15T10:00:00Z"),
    }
}

/// Every file under `dir` with its bytes, by path.
pub fn folder_bytes(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    collect(dir, dir, &mut files);
    files
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            files.insert(relative, std::fs::read(&path).unwrap());
        }
    }
}
