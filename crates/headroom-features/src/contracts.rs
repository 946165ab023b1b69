//! The active accounts at each as-of date, their contract facts, and the
//! limits of their entitlements.
//!
//! An account is active at T when one of its contracts covers T (start <= T <=
//! end) or ended at most `grace_days` before T, and no churned outcome dated on
//! or before T follows the start of that contract. Several contracts active at
//! once are summed: ARR, and the limit of each entitlement.
//!
//! A co-terminous amendment is a contract that starts after another contract
//! of the same account has started and ends on the same day. By default it
//! restates that contract: from the amendment's start the earlier contract no
//! longer counts, so an upgrade from 7 to 10 seats reads as 10 seats, not 17.
//! With [`Amendments::Add`] both count.

use polars::prelude::*;

use crate::calendar::{DAYS_PER_MONTH, days_expr};
use crate::currency::Reporting;
use crate::error::{FeatureError, StepContext};
use crate::exprs::{join_ordered, over};
use crate::options::Amendments;

/// The usage metric that measures a seats entitlement without a metric.
pub const SEATS_METRIC: &str = "active_users";

/// Outcome words that mean the account signed another term.
const RENEWAL_OUTCOMES: [&str; 3] = ["renewed", "expanded", "contracted"];

/// Contracts with account key, day numbers and ARR in the reporting currency.
///
/// Columns: `contract_row` (the row in the contracts table), `contract_id`,
/// `acct_idx`, `start_days`, `end_days`, `term_days`, `arr_rep`, `plan`,
/// `auto_renew`, `restated_days` (the start of the earliest amendment that
/// restates the contract, null when none does or when `amendments` is
/// [`Amendments::Add`]). Contracts of accounts missing from the accounts table
/// are dropped.
pub fn indexed_contracts(
    contracts: &DataFrame,
    accounts: &DataFrame,
    reporting: &Reporting,
    amendments: Amendments,
) -> LazyFrame {
    let keys = accounts
        .clone()
        .lazy()
        .select([col("account_id"), col("acct_idx")]);
    let numbered = contracts
        .clone()
        .lazy()
        .with_row_index("contract_row", None);
    let indexed = join_ordered(numbered, keys, &[col("account_id")], JoinType::Inner).select([
        col("contract_row"),
        col("contract_id"),
        col("acct_idx"),
        days_expr(col("start_date")).alias("start_days"),
        days_expr(col("end_date")).alias("end_days"),
        (days_expr(col("end_date")) - days_expr(col("start_date")) + lit(1)).alias("term_days"),
        reporting.arr().alias("arr_rep"),
        col("plan"),
        col("auto_renew"),
    ]);
    match amendments {
        Amendments::Restate => {
            let key = [col("acct_idx"), col("end_days")];
            let later = indexed.clone().select([
                col("acct_idx"),
                col("end_days"),
                col("start_days").alias("later_start"),
            ]);
            let restated = indexed
                .clone()
                .select([
                    col("contract_row"),
                    col("acct_idx"),
                    col("end_days"),
                    col("start_days"),
                ])
                .join(later, key.clone(), key, JoinArgs::new(JoinType::Inner))
                .filter(col("later_start").gt(col("start_days")))
                .group_by([col("contract_row")])
                .agg([col("later_start").min().alias("restated_days")]);
            join_ordered(indexed, restated, &[col("contract_row")], JoinType::Left)
        }
        Amendments::Add => {
            indexed.with_columns([lit(NULL).cast(DataType::Int32).alias("restated_days")])
        }
    }
}

/// Selects the contracts that an amendment has not restated by `day`.
fn not_restated(day: Expr) -> Expr {
    col("restated_days")
        .is_null()
        .or(col("restated_days").gt(day))
}

/// The active accounts at each date and the contracts that make them active.
pub struct Active {
    /// One row per active account and as-of month: `acct_idx`, `as_of_month`,
    /// `arr`, `renewal_days`, `contract_term_months`, `contracts_active`,
    /// `in_grace`, `auto_renew`, `plan`.
    pub accounts: DataFrame,
    /// The contracts counted for each active account, sorted by account and
    /// contract: `contract_row`, `contract_id`, `acct_idx`, `as_of_month`,
    /// `obs_key`, `term_months`.
    pub contracts: DataFrame,
}

/// Decides which accounts are active at each date of `dates` (`as_of_days`,
/// `as_of_month`) and aggregates their contracts.
pub fn active(
    contracts: LazyFrame,
    churned: LazyFrame,
    dates: &DataFrame,
    grace_days: u32,
    obs_key: Expr,
) -> Result<Active, FeatureError> {
    let as_of = col("as_of_days");
    let key = [col("obs_key")];

    let last_churn = churned
        .cross_join(dates.clone().lazy(), None)
        .filter(col("churn_days").lt_eq(as_of.clone()))
        .with_columns([obs_key.clone()])
        .group_by(key.clone())
        .agg([col("churn_days").max().alias("last_churn")]);

    let live = contracts
        .cross_join(dates.clone().lazy(), None)
        .filter(col("start_days").lt_eq(as_of.clone()))
        .with_columns([obs_key])
        .join(
            last_churn,
            key.clone(),
            key.clone(),
            JoinArgs::new(JoinType::Left),
        )
        .filter(
            col("last_churn")
                .is_null()
                .or(col("start_days").gt(col("last_churn"))),
        )
        .filter(col("end_days").gt_eq(as_of.clone() - lit(grace_days as i32)))
        .filter(not_restated(as_of.clone()))
        .with_columns([col("end_days").gt_eq(as_of).alias("covering")]);

    // Sorted by key and contract so that sums over an account's contracts add
    // in the same order on every run.
    let chosen = live
        .with_columns([
            over(col("covering").any(true), &key).alias("any_covering"),
            over(col("end_days").max(), &key).alias("latest_end"),
        ])
        .filter(
            when(col("any_covering"))
                .then(col("covering"))
                .otherwise(col("end_days").eq(col("latest_end"))),
        )
        .sort(["obs_key", "contract_row"], SortMultipleOptions::default())
        .collect()
        .step("the active contracts")?;

    let accounts = aggregate_active(&chosen)?;
    let contracts = chosen
        .lazy()
        .select([
            col("contract_row"),
            col("contract_id"),
            col("acct_idx"),
            col("as_of_month"),
            col("obs_key"),
            (col("term_days").cast(DataType::Float64) / lit(DAYS_PER_MONTH)).alias("term_months"),
        ])
        .collect()
        .step("the active contracts")?;
    Ok(Active {
        accounts,
        contracts,
    })
}

fn aggregate_active(chosen: &DataFrame) -> Result<DataFrame, FeatureError> {
    let all_unknown = col("auto_renew").null_count().eq(len());
    // Rows are in contract order, so ties go to the first contract.
    let nearest = col("end_days").arg_min();
    let largest = col("arr_rep").arg_max();
    chosen
        .clone()
        .lazy()
        .group_by([col("obs_key")])
        .agg([
            col("acct_idx").first(),
            col("as_of_month").first(),
            col("arr_rep").sum().alias("arr"),
            col("end_days").min().alias("renewal_days"),
            (col("term_days").get(nearest, false).cast(DataType::Float64) / lit(DAYS_PER_MONTH))
                .alias("contract_term_months"),
            len().cast(DataType::Float64).alias("contracts_active"),
            col("any_covering").first().not().alias("in_grace"),
            when(all_unknown)
                .then(lit(NULL).cast(DataType::Boolean))
                .otherwise(col("auto_renew").any(true))
                .alias("auto_renew"),
            col("plan").get(largest, false).alias("plan"),
        ])
        .drop(cols(["obs_key"]))
        .collect()
        .step("the active contracts")
}

/// Selects the churned outcomes with their account key: `acct_idx`,
/// `churn_days`.
pub fn churned(outcomes: &DataFrame, accounts: &DataFrame) -> LazyFrame {
    let keys = accounts
        .clone()
        .lazy()
        .select([col("account_id"), col("acct_idx")]);
    outcomes
        .clone()
        .lazy()
        .filter(col("outcome").eq(lit("churned")))
        .inner_join(keys, col("account_id"), col("account_id"))
        .select([col("acct_idx"), days_expr(col("date")).alias("churn_days")])
}

/// Finds the month of each account's first contract start: `acct_idx`,
/// `first_contract_month`.
///
/// Taken over all contracts, later ones included: an account active at T has a
/// contract that started on or before T, so the earliest start is never later
/// than T and later contracts cannot change it.
pub fn first_contract_month(contracts: LazyFrame) -> LazyFrame {
    contracts
        .group_by([col("acct_idx")])
        .agg([
            crate::calendar::month_index_expr(col("start_days").min().cast(DataType::Date))
                .alias("first_contract_month"),
        ])
}

/// ARR of the contracts that covered the date one year (365 days) before each
/// as-of date: `acct_idx`, `as_of_month`, `arr_year_ago`.
pub fn arr_year_ago(contracts: LazyFrame, dates: &DataFrame) -> LazyFrame {
    let then = col("as_of_days") - lit(365);
    contracts
        .cross_join(dates.clone().lazy(), None)
        .filter(
            col("start_days")
                .lt_eq(then.clone())
                .and(col("end_days").gt_eq(then.clone()))
                .and(not_restated(then)),
        )
        .group_by([col("acct_idx"), col("as_of_month")])
        .agg([col("arr_rep").sum().alias("arr_year_ago")])
}

/// Lists the entitlements of the active contracts, one row per account, as-of month
/// and entitlement, with limits summed over contracts.
///
/// Seats, and metrics in `level_metrics` (those that do not roll up by sum,
/// such as storage), have a limit that is a level whatever its period. Limits of summed
/// metrics are turned into a rate per month: `lim_month` contains month, year
/// (/ 12) and term (/ term months) limits, `lim_day` the daily ones, to be
/// multiplied by the days of each month. A null limit (unlimited) on any
/// contract makes the summed limit null.
///
/// Columns: `acct_idx`, `as_of_month`, `entitlement`, `kind`, `metric`,
/// `lim_month`, `lim_day`, `hard`.
pub fn limits(active: &DataFrame, entitlements: &DataFrame, level_metrics: &[String]) -> LazyFrame {
    let level = col("kind").eq(lit("seats")).or(col("metric").is_in(
        lit(Series::new("level".into(), level_metrics)).implode(true),
        false,
    ));
    let period = col("period");
    let monthly_part = when(level.clone())
        .then(col("limit"))
        .when(period.clone().eq(lit("month")))
        .then(col("limit"))
        .when(period.clone().eq(lit("year")))
        .then(col("limit") / lit(12.0))
        .when(period.clone().eq(lit("term")))
        .then(col("limit") / col("term_months"))
        .otherwise(lit(0.0));
    let daily_part = when(level.not().and(period.eq(lit("day"))))
        .then(col("limit"))
        .otherwise(lit(0.0));
    let unlimited = col("limit").is_null().any(false);

    // The active contracts are sorted by account and contract and the join
    // keeps that order, so sums over contracts add in the same order on
    // every run.
    join_ordered(
        active.clone().lazy(),
        effective_entitlements(entitlements),
        &[col("contract_id")],
        JoinType::Inner,
    )
    .with_columns([
        monthly_part.alias("part_month"),
        daily_part.alias("part_day"),
    ])
    .group_by([col("obs_key"), col("entitlement")])
    .agg([
        col("acct_idx").first(),
        col("as_of_month").first(),
        // NOTE: contracts that disagree on an entitlement's kind or metric
        // are not reported; the first contract in table order decides.
        col("kind").first(),
        col("metric").first(),
        when(unlimited.clone())
            .then(lit(NULL).cast(DataType::Float64))
            .otherwise(col("part_month").sum())
            .alias("lim_month"),
        when(unlimited)
            .then(lit(NULL).cast(DataType::Float64))
            .otherwise(col("part_day").sum())
            .alias("lim_day"),
        col("enforcement").eq(lit("hard")).any(true).alias("hard"),
    ])
    .drop(cols(["obs_key"]))
}

/// Entitlements with their measuring metric filled in: a seats entitlement
/// without a metric is measured by `active_users`, any other by the usage
/// metric of its own name.
pub fn effective_entitlements(entitlements: &DataFrame) -> LazyFrame {
    let default_metric = when(col("kind").eq(lit("seats")))
        .then(lit(SEATS_METRIC))
        .otherwise(col("entitlement"));
    entitlements
        .clone()
        .lazy()
        .with_columns([coalesce(&[col("metric"), default_metric]).alias("metric")])
}

/// Counts of outcomes on or before each as-of date: `renewals` (renewed,
/// expanded or contracted), `expansions`, `contractions`.
pub fn outcome_counts(outcomes: &DataFrame, accounts: &DataFrame, dates: &DataFrame) -> LazyFrame {
    let keys = accounts
        .clone()
        .lazy()
        .select([col("account_id"), col("acct_idx")]);
    let renewal = col("outcome").is_in(
        lit(Series::new("renewal".into(), RENEWAL_OUTCOMES)).implode(true),
        false,
    );
    outcomes
        .clone()
        .lazy()
        .inner_join(keys, col("account_id"), col("account_id"))
        .cross_join(dates.clone().lazy(), None)
        .filter(days_expr(col("date")).lt_eq(col("as_of_days")))
        .group_by([col("acct_idx"), col("as_of_month")])
        .agg([
            renewal.sum().cast(DataType::Float64).alias("renewals"),
            col("outcome")
                .eq(lit("expanded"))
                .sum()
                .cast(DataType::Float64)
                .alias("expansions"),
            col("outcome")
                .eq(lit("contracted"))
                .sum()
                .cast(DataType::Float64)
                .alias("contractions"),
        ])
}

/// Interventions up to each as-of date: `interventions_90d` (dated in the 90
/// days ending on the as-of date), `last_intervention_days` and
/// `last_intervention_kind`.
pub fn intervention_features(
    interventions: &DataFrame,
    accounts: &DataFrame,
    dates: &DataFrame,
) -> LazyFrame {
    let keys = accounts
        .clone()
        .lazy()
        .select([col("account_id"), col("acct_idx")]);
    interventions
        .clone()
        .lazy()
        .inner_join(keys, col("account_id"), col("account_id"))
        .with_columns([days_expr(col("date")).alias("event_days")])
        .cross_join(dates.clone().lazy(), None)
        .filter(col("event_days").lt_eq(col("as_of_days")))
        .group_by([col("acct_idx"), col("as_of_month")])
        .agg([
            col("event_days")
                .gt(col("as_of_days") - lit(90))
                .sum()
                .cast(DataType::Float64)
                .alias("interventions_90d"),
            col("event_days").max().alias("last_intervention_days"),
            col("kind")
                .sort_by(
                    [col("event_days"), col("kind")],
                    SortMultipleOptions::default(),
                )
                .last()
                .alias("last_intervention_kind"),
        ])
}
