//! Small portfolios in the data contract for the unit tests, and a scorer
//! that runs the whole pipeline on them without a store.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use headroom_data::{Rollup, Tables};
use headroom_features::FeatureOptions;
use polars::prelude::*;

use crate::alerts::NoteRef;
use crate::models::Champions;
use crate::progress::NoProgress;
use crate::run::ScoreRun;
use crate::score::{ScoreInputs, ScoreOptions, score};
use crate::settings::ScoreSettings;

/// Builds a calendar date.
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

/// Returns the last day of month `m` of year `y`.
pub fn month_end(y: i32, m: u32) -> NaiveDate {
    headroom_features::calendar::month_end(y * 12 + m as i32 - 1)
}

/// Returns a fixed run time, so rendered output does not change between runs.
pub fn run_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-02T08:00:00Z")
        .expect("valid time")
        .with_timezone(&Utc)
}

/// One entitlement of a fixture contract: name, kind, limit, metric, hard.
type Entitlement = (String, String, Option<f64>, Option<String>, bool);

/// One account with one contract.
#[derive(Debug, Clone)]
pub struct Acct {
    id: String,
    name: String,
    segment: Option<String>,
    owner: Option<String>,
    since: NaiveDate,
    start: NaiveDate,
    end: NaiveDate,
    arr: f64,
    plan: Option<String>,
    entitlements: Vec<Entitlement>,
    usage: Vec<(NaiveDate, String, f64)>,
}

impl Acct {
    /// Starts an smb account, customer and under contract from 2024-01-01
    /// to 2027-06-30 at 30,000 USD.
    pub fn new(id: &str) -> Acct {
        Acct {
            id: id.to_string(),
            name: format!("Account {id}"),
            segment: Some("smb".to_string()),
            owner: Some("Dana Lee".to_string()),
            since: date(2024, 1, 1),
            start: date(2024, 1, 1),
            end: date(2027, 6, 30),
            arr: 30_000.0,
            plan: Some("growth".to_string()),
            entitlements: Vec::new(),
            usage: Vec::new(),
        }
    }

    /// Sets the customer segment.
    pub fn segment(mut self, segment: &str) -> Acct {
        self.segment = Some(segment.to_string());
        self
    }

    /// Sets the customer-since date and the contract start.
    pub fn since(mut self, since: NaiveDate) -> Acct {
        self.since = since;
        self.start = since;
        self
    }

    /// Sets the contract's end (the renewal date) and ARR.
    pub fn contract(mut self, end: NaiveDate, arr: f64) -> Acct {
        self.end = end;
        self.arr = arr;
        self
    }

    /// Adds a seats entitlement measured by `active_users`.
    pub fn seats(mut self, limit: f64) -> Acct {
        self.entitlements
            .push(("seats".into(), "seats".into(), Some(limit), None, false));
        self
    }

    /// Adds a metered monthly entitlement measured by the metric of its name.
    pub fn metered(mut self, name: &str, limit: f64, hard: bool) -> Acct {
        self.entitlements
            .push((name.into(), "metered".into(), Some(limit), None, hard));
        self
    }

    /// Adds a boolean feature measured by `feature_<name>`.
    pub fn feature(mut self, name: &str) -> Acct {
        let metric = format!("feature_{name}");
        self.entitlements
            .push((name.into(), "boolean".into(), None, Some(metric), false));
        self
    }

    /// Monthly usage of a metric on consecutive month ends from month `m` of year `y`.
    pub fn monthly(mut self, metric: &str, y: i32, m: u32, values: &[f64]) -> Acct {
        for (i, value) in values.iter().enumerate() {
            let month = y * 12 + m as i32 - 1 + i as i32;
            self.usage.push((
                headroom_features::calendar::month_end(month),
                metric.to_string(),
                *value,
            ));
        }
        self
    }
}

/// Builds the six tables of a portfolio; `snapshot` marks a snapshot export.
pub fn tables(accounts: &[Acct], snapshot: Option<NaiveDate>) -> Tables {
    let mut tables = Tables::empty();
    tables.accounts = df(vec![
        text("account_id", accounts.iter().map(|a| Some(a.id.clone()))),
        text("name", accounts.iter().map(|a| Some(a.name.clone()))),
        Column::new(
            "customer_since".into(),
            accounts.iter().map(|a| a.since).collect::<Vec<_>>(),
        ),
        text("segment", accounts.iter().map(|a| a.segment.clone())),
        text(
            "industry",
            accounts.iter().map(|_| Some("technology".to_string())),
        ),
        text("region", accounts.iter().map(|_| Some("EMEA".to_string()))),
        text("owner", accounts.iter().map(|a| a.owner.clone())),
    ]);
    tables.contracts = df(vec![
        text(
            "contract_id",
            accounts.iter().map(|a| Some(format!("{}-1", a.id))),
        ),
        text("account_id", accounts.iter().map(|a| Some(a.id.clone()))),
        Column::new(
            "start_date".into(),
            accounts.iter().map(|a| a.start).collect::<Vec<_>>(),
        ),
        Column::new(
            "end_date".into(),
            accounts.iter().map(|a| a.end).collect::<Vec<_>>(),
        ),
        Column::new(
            "arr".into(),
            accounts.iter().map(|a| a.arr).collect::<Vec<_>>(),
        ),
        text("currency", accounts.iter().map(|_| Some("USD".to_string()))),
        text("plan", accounts.iter().map(|a| a.plan.clone())),
        Column::new(
            "auto_renew".into(),
            accounts.iter().map(|_| None::<bool>).collect::<Vec<_>>(),
        ),
    ]);

    let entitlements: Vec<(String, &Entitlement)> = accounts
        .iter()
        .flat_map(|a| {
            a.entitlements
                .iter()
                .map(move |e| (format!("{}-1", a.id), e))
        })
        .collect();
    tables.entitlements = df(vec![
        text(
            "contract_id",
            entitlements.iter().map(|(c, _)| Some(c.clone())),
        ),
        text(
            "entitlement",
            entitlements.iter().map(|(_, e)| Some(e.0.clone())),
        ),
        text("kind", entitlements.iter().map(|(_, e)| Some(e.1.clone()))),
        Column::new(
            "limit".into(),
            entitlements.iter().map(|(_, e)| e.2).collect::<Vec<_>>(),
        ),
        text(
            "period",
            entitlements
                .iter()
                .map(|(_, e)| Some(if e.1 == "boolean" { "term" } else { "month" }.to_string())),
        ),
        text("metric", entitlements.iter().map(|(_, e)| e.3.clone())),
        text(
            "enforcement",
            entitlements
                .iter()
                .map(|(_, e)| e.4.then(|| "hard".to_string())),
        ),
    ]);

    let usage: Vec<(String, &(NaiveDate, String, f64))> = accounts
        .iter()
        .flat_map(|a| a.usage.iter().map(move |u| (a.id.clone(), u)))
        .collect();
    tables.usage = df(vec![
        text("account_id", usage.iter().map(|(id, _)| Some(id.clone()))),
        Column::new(
            "date".into(),
            usage.iter().map(|(_, u)| u.0).collect::<Vec<_>>(),
        ),
        text("metric", usage.iter().map(|(_, u)| Some(u.1.clone()))),
        Column::new(
            "value".into(),
            usage.iter().map(|(_, u)| u.2).collect::<Vec<_>>(),
        ),
    ])
    .into();

    for kind in headroom_data::TableKind::ALL {
        let df = tables.get(kind).unwrap();
        assert_eq!(
            df.schema().as_ref(),
            &kind.schema(),
            "fixture {kind} schema"
        );
    }
    tables.meta.rollups = [("active_users".to_string(), Rollup::Max)]
        .into_iter()
        .collect();
    tables.meta.currency = Some("USD".to_string());
    tables.meta.snapshot_date = snapshot;
    tables
}

/// Scores tables with the given settings, no models and the given notes.
pub fn score_tables(
    tables: &Tables,
    as_of: NaiveDate,
    settings: &ScoreSettings,
    notes: &[NoteRef],
) -> ScoreRun {
    score_with(tables, as_of, settings, &Champions::default(), notes)
}

/// Scores tables with champions.
pub fn score_with(
    tables: &Tables,
    as_of: NaiveDate,
    settings: &ScoreSettings,
    champions: &Champions,
    notes: &[NoteRef],
) -> ScoreRun {
    let features = FeatureOptions::default();
    let inputs = ScoreInputs {
        project: Path::new("fixture"),
        tables,
        settings,
        features: &features,
        champions,
        notes,
    };
    let options = ScoreOptions {
        as_of: Some(as_of),
        top: None,
        created_at: Some(run_time()),
    };
    score(&inputs, &options, &NoProgress).expect("the fixture scores")
}

fn text(name: &str, values: impl Iterator<Item = Option<String>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<_>>())
}

fn df(columns: Vec<Column>) -> DataFrame {
    let height = columns.first().map_or(0, Column::len);
    DataFrame::new(height, columns).expect("fixture columns have one length")
}
