//! A builder for small tables in the data contract, and readers for the
//! feature table, shared by the integration tests.

#![allow(dead_code)]

pub mod portfolio;

use chrono::NaiveDate;
use headroom_data::{Rollup, Tables};
use polars::prelude::*;

/// A calendar date; panics on an invalid one.
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

/// The last day of a month.
pub fn month_end(y: i32, m: u32) -> NaiveDate {
    headroom_features::calendar::month_end(y * 12 + m as i32 - 1)
}

/// The month end `n` months after `(y, m)`.
pub fn month_end_after(y: i32, m: u32, n: i32) -> NaiveDate {
    headroom_features::calendar::month_end(y * 12 + m as i32 - 1 + n)
}

#[derive(Clone)]
struct AccountRow {
    id: String,
    since: NaiveDate,
    segment: Option<String>,
    industry: Option<String>,
}

#[derive(Clone)]
struct ContractRow {
    id: String,
    account: String,
    start: NaiveDate,
    end: NaiveDate,
    arr: f64,
    currency: String,
    plan: Option<String>,
    auto_renew: Option<bool>,
}

#[derive(Clone)]
struct EntitlementRow {
    contract: String,
    name: String,
    kind: String,
    limit: Option<f64>,
    period: String,
    metric: Option<String>,
    enforcement: Option<String>,
}

/// Rows of the six tables, added one call at a time.
#[derive(Default, Clone)]
pub struct Fixture {
    accounts: Vec<AccountRow>,
    contracts: Vec<ContractRow>,
    entitlements: Vec<EntitlementRow>,
    usage: Vec<(String, NaiveDate, String, f64)>,
    outcomes: Vec<(String, NaiveDate, String)>,
    interventions: Vec<(String, NaiveDate, String)>,
    rollups: Vec<(String, Rollup)>,
    currency: Option<String>,
    fx: Vec<(String, f64)>,
    snapshot: Option<NaiveDate>,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::default()
    }

    /// An account with segment and industry.
    pub fn account(
        mut self,
        id: &str,
        since: NaiveDate,
        segment: Option<&str>,
        industry: Option<&str>,
    ) -> Fixture {
        self.accounts.push(AccountRow {
            id: id.into(),
            since,
            segment: segment.map(Into::into),
            industry: industry.map(Into::into),
        });
        self
    }

    /// A contract in USD without plan or auto-renew.
    pub fn contract(
        self,
        id: &str,
        account: &str,
        start: NaiveDate,
        end: NaiveDate,
        arr: f64,
    ) -> Fixture {
        self.contract_in(id, account, start, end, arr, "USD")
    }

    /// A contract in a given currency.
    pub fn contract_in(
        mut self,
        id: &str,
        account: &str,
        start: NaiveDate,
        end: NaiveDate,
        arr: f64,
        currency: &str,
    ) -> Fixture {
        self.contracts.push(ContractRow {
            id: id.into(),
            account: account.into(),
            start,
            end,
            arr,
            currency: currency.into(),
            plan: None,
            auto_renew: None,
        });
        self
    }

    /// Sets the plan and auto-renew of the last contract added.
    pub fn plan(mut self, plan: &str, auto_renew: Option<bool>) -> Fixture {
        let last = self.contracts.last_mut().expect("a contract first");
        last.plan = Some(plan.into());
        last.auto_renew = auto_renew;
        self
    }

    /// An entitlement of a contract.
    pub fn entitlement(
        mut self,
        contract: &str,
        name: &str,
        kind: &str,
        limit: Option<f64>,
        period: &str,
        metric: Option<&str>,
    ) -> Fixture {
        self.entitlements.push(EntitlementRow {
            contract: contract.into(),
            name: name.into(),
            kind: kind.into(),
            limit,
            period: period.into(),
            metric: metric.map(Into::into),
            enforcement: None,
        });
        self
    }

    /// Marks the last entitlement added as hard-enforced.
    pub fn hard(mut self) -> Fixture {
        self.entitlements
            .last_mut()
            .expect("an entitlement first")
            .enforcement = Some("hard".into());
        self
    }

    /// One usage row.
    pub fn usage(mut self, account: &str, date: NaiveDate, metric: &str, value: f64) -> Fixture {
        self.usage
            .push((account.into(), date, metric.into(), value));
        self
    }

    /// Monthly usage dated on consecutive month ends, starting at `(y, m)`.
    pub fn monthly(
        mut self,
        account: &str,
        metric: &str,
        y: i32,
        m: u32,
        values: &[f64],
    ) -> Fixture {
        for (i, value) in values.iter().enumerate() {
            self.usage.push((
                account.into(),
                month_end_after(y, m, i as i32),
                metric.into(),
                *value,
            ));
        }
        self
    }

    pub fn outcome(mut self, account: &str, date: NaiveDate, outcome: &str) -> Fixture {
        self.outcomes.push((account.into(), date, outcome.into()));
        self
    }

    pub fn intervention(mut self, account: &str, date: NaiveDate, kind: &str) -> Fixture {
        self.interventions.push((account.into(), date, kind.into()));
        self
    }

    pub fn rollup(mut self, metric: &str, rollup: Rollup) -> Fixture {
        self.rollups.push((metric.into(), rollup));
        self
    }

    pub fn reporting(mut self, currency: &str, fx: &[(&str, f64)]) -> Fixture {
        self.currency = Some(currency.into());
        self.fx = fx.iter().map(|(c, r)| ((*c).into(), *r)).collect();
        self
    }

    pub fn snapshot(mut self, date: NaiveDate) -> Fixture {
        self.snapshot = Some(date);
        self
    }

    pub fn build(&self) -> Tables {
        let mut tables = Tables::empty();
        let a = &self.accounts;
        tables.accounts = DataFrame::new(
            a.len(),
            vec![
                Column::new(
                    "account_id".into(),
                    a.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "name".into(),
                    a.iter()
                        .map(|r| format!("Account {}", r.id))
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "customer_since".into(),
                    a.iter().map(|r| r.since).collect::<Vec<_>>(),
                ),
                Column::new(
                    "segment".into(),
                    a.iter().map(|r| r.segment.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "industry".into(),
                    a.iter().map(|r| r.industry.clone()).collect::<Vec<_>>(),
                ),
                Column::new("region".into(), vec![Some("emea"); a.len()]),
                Column::new("owner".into(), vec![Some("dana"); a.len()]),
            ],
        )
        .unwrap();
        let c = &self.contracts;
        tables.contracts = DataFrame::new(
            c.len(),
            vec![
                Column::new(
                    "contract_id".into(),
                    c.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "account_id".into(),
                    c.iter().map(|r| r.account.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "start_date".into(),
                    c.iter().map(|r| r.start).collect::<Vec<_>>(),
                ),
                Column::new(
                    "end_date".into(),
                    c.iter().map(|r| r.end).collect::<Vec<_>>(),
                ),
                Column::new("arr".into(), c.iter().map(|r| r.arr).collect::<Vec<_>>()),
                Column::new(
                    "currency".into(),
                    c.iter().map(|r| r.currency.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "plan".into(),
                    c.iter().map(|r| r.plan.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "auto_renew".into(),
                    c.iter().map(|r| r.auto_renew).collect::<Vec<_>>(),
                ),
            ],
        )
        .unwrap();
        let e = &self.entitlements;
        tables.entitlements = DataFrame::new(
            e.len(),
            vec![
                Column::new(
                    "contract_id".into(),
                    e.iter().map(|r| r.contract.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "entitlement".into(),
                    e.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "kind".into(),
                    e.iter().map(|r| r.kind.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "limit".into(),
                    e.iter().map(|r| r.limit).collect::<Vec<_>>(),
                ),
                Column::new(
                    "period".into(),
                    e.iter().map(|r| r.period.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "metric".into(),
                    e.iter().map(|r| r.metric.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "enforcement".into(),
                    e.iter().map(|r| r.enforcement.clone()).collect::<Vec<_>>(),
                ),
            ],
        )
        .unwrap();
        let u = &self.usage;
        tables.usage = DataFrame::new(
            u.len(),
            vec![
                Column::new(
                    "account_id".into(),
                    u.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
                ),
                Column::new("date".into(), u.iter().map(|r| r.1).collect::<Vec<_>>()),
                Column::new(
                    "metric".into(),
                    u.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
                ),
                Column::new("value".into(), u.iter().map(|r| r.3).collect::<Vec<_>>()),
            ],
        )
        .unwrap()
        .into();
        let o = &self.outcomes;
        tables.outcomes = DataFrame::new(
            o.len(),
            vec![
                Column::new(
                    "account_id".into(),
                    o.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
                ),
                Column::new("date".into(), o.iter().map(|r| r.1).collect::<Vec<_>>()),
                Column::new(
                    "outcome".into(),
                    o.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
                ),
                Column::new("contract_id".into(), vec![None::<String>; o.len()]),
                Column::new("arr_before".into(), vec![None::<f64>; o.len()]),
                Column::new("arr_after".into(), vec![None::<f64>; o.len()]),
                Column::new("reason".into(), vec![None::<String>; o.len()]),
            ],
        )
        .unwrap();
        let i = &self.interventions;
        tables.interventions = DataFrame::new(
            i.len(),
            vec![
                Column::new(
                    "account_id".into(),
                    i.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
                ),
                Column::new("date".into(), i.iter().map(|r| r.1).collect::<Vec<_>>()),
                Column::new(
                    "kind".into(),
                    i.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
                ),
                Column::new("note".into(), vec![None::<String>; i.len()]),
            ],
        )
        .unwrap();
        for kind in headroom_data::TableKind::ALL {
            let df = tables.get(kind).unwrap();
            assert_eq!(
                df.schema().as_ref(),
                &kind.schema(),
                "fixture {kind} schema"
            );
        }
        tables.meta.rollups = self.rollups.iter().cloned().collect();
        tables.meta.currency = self.currency.clone();
        tables.meta.fx = self.fx.iter().cloned().collect();
        tables.meta.snapshot_date = self.snapshot;
        tables
    }
}

/// The row of an account in a feature table (panics when absent or repeated).
pub fn row_of(df: &DataFrame, account: &str) -> usize {
    let ids = df.column("account_id").unwrap().str().unwrap();
    let rows: Vec<usize> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| *id == Some(account))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        rows.len(),
        1,
        "account {account} appears {} times",
        rows.len()
    );
    rows[0]
}

/// A Float64 feature of an account.
pub fn num(df: &DataFrame, account: &str, column: &str) -> Option<f64> {
    let row = row_of(df, account);
    df.column(column)
        .unwrap_or_else(|_| panic!("column {column} missing"))
        .f64()
        .unwrap_or_else(|_| panic!("column {column} is not Float64"))
        .get(row)
}

/// A Boolean flag of an account.
pub fn flag(df: &DataFrame, account: &str, column: &str) -> Option<bool> {
    let row = row_of(df, account);
    df.column(column).unwrap().bool().unwrap().get(row)
}

/// A String column of an account.
pub fn text(df: &DataFrame, account: &str, column: &str) -> Option<String> {
    let row = row_of(df, account);
    df.column(column)
        .unwrap()
        .str()
        .unwrap()
        .get(row)
        .map(str::to_string)
}

/// A Date column of an account.
pub fn day(df: &DataFrame, account: &str, column: &str) -> Option<NaiveDate> {
    let row = row_of(df, account);
    let days = df.column(column).unwrap().cast(&DataType::Int32).unwrap();
    days.i32()
        .unwrap()
        .get(row)
        .map(headroom_features::calendar::from_epoch_days)
}

/// Asserts two floats agree to 1e-9.
#[track_caller]
pub fn assert_close(found: Option<f64>, expected: f64) {
    let found = found.expect("a value, found null");
    assert!(
        (found - expected).abs() < 1e-9,
        "expected {expected}, found {found}"
    );
}

/// The account ids of a feature table, in order.
pub fn accounts(df: &DataFrame) -> Vec<String> {
    df.column("account_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect()
}

/// The tables as they stood at `as_of`: usage, outcomes and interventions
/// dated on or before it, contracts started on or before it (with their
/// entitlements), accounts that were customers by then.
pub fn as_known_at(tables: &Tables, as_of: NaiveDate) -> Tables {
    let until = lit(as_of).cast(DataType::Date);
    let by_date = |df: &DataFrame, column: &str| {
        df.clone()
            .lazy()
            .filter(col(column).lt_eq(until.clone()))
            .collect()
            .unwrap()
    };
    let mut known = tables.clone();
    known.usage = by_date(tables.usage.frame().unwrap(), "date").into();
    known.outcomes = by_date(&tables.outcomes, "date");
    known.interventions = by_date(&tables.interventions, "date");
    known.contracts = by_date(&tables.contracts, "start_date");
    known.accounts = by_date(&tables.accounts, "customer_since");
    known.entitlements = tables
        .entitlements
        .clone()
        .lazy()
        .semi_join(
            known.contracts.clone().lazy(),
            col("contract_id"),
            col("contract_id"),
        )
        .collect()
        .unwrap();
    known
}

/// Asserts two feature tables are identical: same columns, same rows, same
/// values bit for bit (nulls equal to nulls).
#[track_caller]
pub fn assert_same_table(found: &DataFrame, expected: &DataFrame) {
    let names = |df: &DataFrame| -> Vec<String> {
        df.columns().iter().map(|c| c.name().to_string()).collect()
    };
    assert_eq!(names(found), names(expected), "columns differ");
    assert_eq!(found.height(), expected.height(), "row counts differ");
    for column in expected.columns() {
        let other = found.column(column.name()).unwrap();
        assert!(
            other
                .as_materialized_series()
                .equals_missing(column.as_materialized_series()),
            "column {} differs:\n{:?}\n{:?}",
            column.name(),
            other,
            column
        );
    }
}

/// Asserts two feature tables hold the same columns and rows, with floats
/// equal to within 1e-12 relative (or both null) and every other value equal.
#[track_caller]
pub fn assert_close_table(found: &DataFrame, expected: &DataFrame) {
    let names = |df: &DataFrame| -> Vec<String> {
        df.columns().iter().map(|c| c.name().to_string()).collect()
    };
    assert_eq!(names(found), names(expected), "columns differ");
    assert_eq!(found.height(), expected.height(), "row counts differ");
    for column in expected.columns() {
        let other = found.column(column.name()).unwrap();
        if column.dtype() != &DataType::Float64 {
            assert!(
                other
                    .as_materialized_series()
                    .equals_missing(column.as_materialized_series()),
                "column {} differs:\n{:?}\n{:?}",
                column.name(),
                other,
                column
            );
            continue;
        }
        let a: Vec<Option<f64>> = other.f64().unwrap().iter().collect();
        let b: Vec<Option<f64>> = column.f64().unwrap().iter().collect();
        for (row, (x, y)) in a.iter().zip(&b).enumerate() {
            let same = match (x, y) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0),
                (None, None) => true,
                _ => false,
            };
            assert!(same, "column {} row {row}: {x:?} != {y:?}", column.name());
        }
    }
}
