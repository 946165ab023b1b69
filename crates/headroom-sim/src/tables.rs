//! The columns of every written table, built from a chunk of rows.
//!
//! The six contract tables use exactly the column names and order of
//! `headroom_data::contract`; the three truth tables sit under `truth/`.

use std::borrow::Cow;

use crate::calendar::epoch_days;
use crate::catalog::Feature;
use crate::output::{Table, Values};
use crate::records::{self, AccountRecord, Chunk, MonthTruth, TermTruth};

/// Decimals of probabilities in the truth tables.
const PROBABILITY_DECIMALS: Option<usize> = Some(records::PROBABILITY_DECIMALS as usize);

/// Returns every table of a chunk, contract tables first.
pub(crate) fn tables(chunk: &Chunk) -> Vec<Table<'_>> {
    vec![
        accounts(chunk),
        contracts(chunk),
        entitlements(chunk),
        usage(chunk),
        outcomes(chunk),
        interventions(chunk),
        truth_accounts(chunk),
        truth_terms(chunk),
        truth_monthly(chunk),
    ]
}

fn text<'a>(values: impl Iterator<Item = &'a str>) -> Values<'a> {
    Values::Text(values.map(Cow::Borrowed).collect())
}

fn accounts(chunk: &Chunk) -> Table<'_> {
    let rows = &chunk.accounts;
    Table {
        name: "accounts",
        columns: vec![
            (
                "account_id",
                Values::Account(rows.iter().map(|r| r.account).collect()),
            ),
            ("name", text(rows.iter().map(|r| r.name.as_str()))),
            (
                "customer_since",
                Values::Date(rows.iter().map(|r| epoch_days(r.customer_since)).collect()),
            ),
            ("segment", text(rows.iter().map(|r| r.segment.name()))),
            ("industry", text(rows.iter().map(|r| r.industry.name()))),
            ("region", text(rows.iter().map(|r| r.region.name()))),
            ("owner", text(rows.iter().map(|r| r.owner))),
        ],
    }
}

fn contracts(chunk: &Chunk) -> Table<'_> {
    let rows = &chunk.contracts;
    Table {
        name: "contracts",
        columns: vec![
            (
                "contract_id",
                Values::Contract(rows.iter().map(|r| (r.account, r.seq)).collect()),
            ),
            (
                "account_id",
                Values::Account(rows.iter().map(|r| r.account).collect()),
            ),
            (
                "start_date",
                Values::Date(rows.iter().map(|r| epoch_days(r.start)).collect()),
            ),
            (
                "end_date",
                Values::Date(rows.iter().map(|r| epoch_days(r.end)).collect()),
            ),
            (
                "arr",
                Values::Number(rows.iter().map(|r| r.arr).collect(), Some(0)),
            ),
            ("currency", text(rows.iter().map(|r| r.currency.code()))),
            ("plan", text(rows.iter().map(|r| r.plan.name()))),
            (
                "auto_renew",
                Values::Bool(rows.iter().map(|r| r.auto_renew).collect()),
            ),
        ],
    }
}

/// One entitlement row before it becomes columns.
struct Entitlement {
    contract: (u64, u32),
    name: &'static str,
    kind: &'static str,
    limit: Option<f64>,
    period: &'static str,
    metric: &'static str,
    enforcement: &'static str,
}

fn entitlements(chunk: &Chunk) -> Table<'_> {
    let mut rows = Vec::new();
    for contract in &chunk.contracts {
        let id = (contract.account, contract.seq);
        rows.push(Entitlement {
            contract: id,
            name: "seats",
            kind: "seats",
            limit: Some(contract.seats),
            period: "month",
            metric: "active_users",
            enforcement: "soft",
        });
        rows.push(Entitlement {
            contract: id,
            name: "api_calls",
            kind: "metered",
            limit: Some(contract.api_limit),
            period: "month",
            metric: "api_calls",
            enforcement: contract.api_enforcement.name(),
        });
        rows.push(Entitlement {
            contract: id,
            name: "storage_gb",
            kind: "metered",
            limit: Some(contract.storage_limit),
            period: "month",
            metric: "storage_gb",
            enforcement: "soft",
        });
        for feature in contract.features {
            rows.push(feature_entitlement(id, *feature));
        }
    }

    Table {
        name: "entitlements",
        columns: vec![
            (
                "contract_id",
                Values::Contract(rows.iter().map(|r| r.contract).collect()),
            ),
            ("entitlement", text(rows.iter().map(|r| r.name))),
            ("kind", text(rows.iter().map(|r| r.kind))),
            (
                "limit",
                Values::OptionalNumber(rows.iter().map(|r| r.limit).collect(), None),
            ),
            ("period", text(rows.iter().map(|r| r.period))),
            ("metric", text(rows.iter().map(|r| r.metric))),
            ("enforcement", text(rows.iter().map(|r| r.enforcement))),
        ],
    }
}

fn feature_entitlement(contract: (u64, u32), feature: Feature) -> Entitlement {
    Entitlement {
        contract,
        name: feature.name(),
        kind: "boolean",
        limit: None,
        period: "term",
        metric: feature.metric().name(),
        enforcement: "",
    }
}

fn usage(chunk: &Chunk) -> Table<'_> {
    let rows = &chunk.usage;
    Table {
        name: "usage",
        columns: vec![
            (
                "account_id",
                Values::Account(rows.iter().map(|r| r.account).collect()),
            ),
            ("date", Values::Date(rows.iter().map(|r| r.date).collect())),
            ("metric", text(rows.iter().map(|r| r.metric.name()))),
            (
                "value",
                Values::Number(rows.iter().map(|r| r.value).collect(), None),
            ),
        ],
    }
}

fn outcomes(chunk: &Chunk) -> Table<'_> {
    let rows = &chunk.outcomes;
    Table {
        name: "outcomes",
        columns: vec![
            (
                "account_id",
                Values::Account(rows.iter().map(|r| r.account).collect()),
            ),
            (
                "date",
                Values::Date(rows.iter().map(|r| epoch_days(r.date)).collect()),
            ),
            ("outcome", text(rows.iter().map(|r| r.outcome))),
            (
                "contract_id",
                Values::Contract(rows.iter().map(|r| (r.account, r.contract_seq)).collect()),
            ),
            (
                "arr_before",
                Values::Number(rows.iter().map(|r| r.arr_before).collect(), Some(0)),
            ),
            (
                "arr_after",
                Values::Number(rows.iter().map(|r| r.arr_after).collect(), Some(0)),
            ),
            ("reason", text(rows.iter().map(|r| r.reason))),
        ],
    }
}

fn interventions(chunk: &Chunk) -> Table<'_> {
    let rows = &chunk.interventions;
    Table {
        name: "interventions",
        columns: vec![
            (
                "account_id",
                Values::Account(rows.iter().map(|r| r.account).collect()),
            ),
            (
                "date",
                Values::Date(rows.iter().map(|r| epoch_days(r.date)).collect()),
            ),
            ("kind", text(rows.iter().map(|r| r.kind))),
            ("note", text(rows.iter().map(|r| r.note))),
        ],
    }
}

fn truth_accounts(chunk: &Chunk) -> Table<'_> {
    let rows = &chunk.accounts;
    let number = |f: fn(&AccountRecord) -> f64, decimals| {
        Values::Number(rows.iter().map(f).collect(), Some(decimals))
    };
    Table {
        name: "truth/accounts",
        columns: vec![
            (
                "account_id",
                Values::Account(rows.iter().map(|r| r.account).collect()),
            ),
            ("segment", text(rows.iter().map(|r| r.segment.name()))),
            ("industry", text(rows.iter().map(|r| r.industry.name()))),
            ("plan", text(rows.iter().map(|r| r.plan.name()))),
            ("term_months", number(|r| f64::from(r.term_months), 0)),
            ("level", number(|r| r.level, 4)),
            ("features", number(|r| r.features as f64, 0)),
            ("unused_features", number(|r| r.unused_features as f64, 0)),
            ("season_amplitude", number(|r| r.season_amplitude, 4)),
            ("decline_risk", number(|r| r.decline_risk, 4)),
            ("growth_propensity", number(|r| r.growth_propensity, 4)),
            ("gradual_hazard", number(|r| r.hazards.gradual, 6)),
            ("sudden_hazard", number(|r| r.hazards.sudden, 6)),
            ("growth_hazard", number(|r| r.hazards.growth, 6)),
            ("growth_rate", number(|r| r.growth_rate, 4)),
            (
                "churned_on",
                Values::OptionalDate(rows.iter().map(|r| r.churned_on.map(epoch_days)).collect()),
            ),
            (
                "mechanisms",
                Values::Text(
                    rows.iter()
                        .map(|r| Cow::Owned(r.mechanisms.names()))
                        .collect(),
                ),
            ),
        ],
    }
}

fn truth_terms(chunk: &Chunk) -> Table<'_> {
    let rows = &chunk.terms;
    let probability = |f: fn(&TermTruth) -> f64| {
        Values::Number(rows.iter().map(f).collect(), PROBABILITY_DECIMALS)
    };
    let date = |f: fn(&TermTruth) -> chrono::NaiveDate| {
        Values::Date(rows.iter().map(|r| epoch_days(f(r))).collect())
    };
    Table {
        name: "truth/terms",
        columns: vec![
            (
                "account_id",
                Values::Account(rows.iter().map(|r| r.account).collect()),
            ),
            (
                "contract_id",
                Values::Contract(rows.iter().map(|r| (r.account, r.contract_seq)).collect()),
            ),
            ("segment", text(rows.iter().map(|r| r.segment.name()))),
            ("start", date(|r| r.start)),
            ("scheduled_end", date(|r| r.scheduled_end)),
            ("end", date(|r| r.end)),
            ("ended_by", text(rows.iter().map(|r| r.ended_by.name()))),
            ("phase", text(rows.iter().map(|r| r.phase.name()))),
            (
                "months_in_phase",
                Values::Number(
                    rows.iter().map(|r| f64::from(r.phase.months())).collect(),
                    Some(0),
                ),
            ),
            (
                "intervened",
                Values::Bool(rows.iter().map(|r| r.intervened).collect()),
            ),
            ("p_churn", probability(|r| r.odds.churn())),
            ("p_churn_signal_free", probability(|r| r.odds.signal_free)),
            ("p_expand", probability(|r| r.odds.expansion())),
            ("p_contract", probability(|r| r.odds.contraction())),
            ("outcome", text(rows.iter().map(|r| r.outcome))),
            (
                "signal_free",
                Values::Bool(rows.iter().map(|r| r.signal_free).collect()),
            ),
            (
                "expanded_in_term",
                Values::Bool(rows.iter().map(|r| r.expanded_in_term).collect()),
            ),
            ("p_churn_term", probability(|r| r.term_churn)),
            ("p_expand_term", probability(|r| r.term_expansion)),
            (
                "mechanisms",
                Values::Text(
                    rows.iter()
                        .map(|r| Cow::Owned(r.mechanisms.names()))
                        .collect(),
                ),
            ),
        ],
    }
}

fn truth_monthly(chunk: &Chunk) -> Table<'_> {
    let rows = &chunk.months;
    let flag = |f: fn(&MonthTruth) -> bool| Values::Bool(rows.iter().map(f).collect());
    Table {
        name: "truth/monthly",
        columns: vec![
            (
                "account_id",
                Values::Account(rows.iter().map(|r| r.account).collect()),
            ),
            (
                "date",
                Values::Date(rows.iter().map(|r| epoch_days(r.date)).collect()),
            ),
            ("phase", text(rows.iter().map(|r| r.phase.name()))),
            (
                "months_in_phase",
                Values::Number(
                    rows.iter().map(|r| f64::from(r.phase.months())).collect(),
                    Some(0),
                ),
            ),
            (
                "months_to_renewal",
                Values::Number(
                    rows.iter()
                        .map(|r| f64::from(r.months_to_renewal))
                        .collect(),
                    Some(0),
                ),
            ),
            ("intervened", flag(|r| r.intervened)),
            ("active", flag(|r| r.active)),
            (
                "p_churn",
                Values::Number(
                    rows.iter().map(|r| r.p_churn).collect(),
                    PROBABILITY_DECIMALS,
                ),
            ),
            (
                "p_expand",
                Values::Number(
                    rows.iter().map(|r| r.p_expand).collect(),
                    PROBABILITY_DECIMALS,
                ),
            ),
            ("churned", flag(|r| r.churned)),
            ("expanded", flag(|r| r.expanded)),
            ("complete", flag(|r| r.complete)),
        ],
    }
}
