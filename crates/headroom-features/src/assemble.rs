//! Joins every feature family onto the active accounts, derives the columns
//! that combine families, and orders the columns as the catalogue does.

use polars::prelude::*;

use crate::calendar::{DAYS_PER_MONTH, date_from_days_expr, days_expr};
use crate::catalogue::catalogue;
use crate::contracts::{self, Active};
use crate::currency::Reporting;
use crate::error::{FeatureError, StepContext};
use crate::exprs::{max_across, mean_across, min_across, over};
use crate::names::ColumnNames;
use crate::panel::lag;
use crate::pipeline::{Context, Starts, lookup};
use crate::series::{change, ratio};

/// Everything [`assemble`] joins onto the active accounts.
pub struct Parts<'a> {
    pub active: &'a Active,
    pub series: &'a DataFrame,
    pub lags: &'a DataFrame,
    pub adoption: DataFrame,
    pub starts: &'a Starts,
    pub contracts: LazyFrame,
    pub reporting: &'a Reporting,
    pub names: &'a ColumnNames,
}

/// Joins a frame keyed by `acct_idx` and `as_of_month` onto `frame` by their
/// one-integer key, which joins faster than the two columns.
fn left_on_account(ctx: &Context, frame: LazyFrame, other: LazyFrame) -> LazyFrame {
    let other = other
        .with_columns([ctx.obs_key()])
        .drop(cols(["acct_idx", "as_of_month"]));
    frame.join(
        other,
        [col("obs_key")],
        [col("obs_key")],
        JoinArgs::new(JoinType::Left),
    )
}

/// Joins every feature family onto the active accounts and orders the columns
/// as the catalogue does.
pub fn assemble(ctx: &Context, parts: Parts) -> Result<DataFrame, FeatureError> {
    // The account index is sorted by acct_idx, so its columns are read by
    // position rather than joined.
    let account = |name: &str| -> Result<Expr, FeatureError> {
        let values = ctx.accounts.column(name).step("the feature table")?;
        Ok(lookup(values.as_materialized_series(), col("acct_idx")).alias(name))
    };
    let mut account_columns = vec![ctx.obs_key()];
    for name in [
        "account_id",
        "name",
        "segment",
        "industry",
        "region",
        "owner",
        "customer_since",
    ] {
        account_columns.push(account(name)?);
    }
    let mut frame = parts
        .active
        .accounts
        .clone()
        .lazy()
        .join(
            ctx.dates.clone().lazy(),
            [col("as_of_month")],
            [col("as_of_month")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns(account_columns);
    frame = parts.starts.join_account(frame);
    frame = left_on_account(
        ctx,
        frame,
        contracts::arr_year_ago(parts.contracts, &ctx.dates),
    );
    frame = left_on_account(
        ctx,
        frame,
        contracts::outcome_counts(&ctx.tables.outcomes, &ctx.accounts, &ctx.dates),
    );
    frame = left_on_account(
        ctx,
        frame,
        contracts::intervention_features(&ctx.tables.interventions, &ctx.accounts, &ctx.dates),
    );
    frame = left_on_account(ctx, frame, primary_features(ctx, parts.series));
    frame = left_on_account(ctx, frame, summary_features(parts.series));
    frame = left_on_account(ctx, frame, parts.adoption.lazy());
    for (name, suffix) in &parts.names.entitlements {
        frame = left_on_account(ctx, frame, entitlement_features(parts.series, name, suffix));
    }
    let mut observed = Vec::new();
    for (name, suffix) in &parts.names.engagement {
        if let Some(idx) = ctx.metric_idx(name) {
            frame = left_on_account(ctx, frame, engagement_features(parts.lags, idx, suffix));
            observed.push((suffix.clone(), parts.starts.metric_start_of(idx)?));
        }
    }

    let frame = frame
        .with_columns(derived(ctx, parts.reporting, parts.starts.portfolio_start))
        .with_columns(engagement_without_rows(&observed))
        .with_columns(peers());
    let order = output_columns(parts.names);
    frame
        .sort(["as_of_month", "acct_idx"], SortMultipleOptions::default())
        .select(order.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
        .collect()
        .step("the feature table")
}

/// Lists every output column in catalogue order, templates expanded per
/// entitlement and engagement metric.
fn output_columns(names: &ColumnNames) -> Vec<String> {
    let mut out = Vec::new();
    let mut templates_done = false;
    for spec in catalogue() {
        if spec.per_entitlement() || spec.per_metric() {
            if !templates_done {
                for (_, suffix) in &names.entitlements {
                    out.extend(
                        catalogue()
                            .iter()
                            .filter(|s| s.per_entitlement())
                            .map(|s| s.column(suffix)),
                    );
                }
                for (_, suffix) in &names.engagement {
                    out.extend(
                        catalogue()
                            .iter()
                            .filter(|s| s.per_metric())
                            .map(|s| s.column(suffix)),
                    );
                }
                templates_done = true;
            }
            continue;
        }
        out.push(spec.name.to_string());
    }
    out
}

/// Selects the features of each account's primary series.
fn primary_features(ctx: &Context, series: &DataFrame) -> LazyFrame {
    let renamed = [
        ("entitlement", "primary_entitlement"),
        ("usage", "usage_primary"),
        ("limit", "limit_primary"),
        ("util", "util_primary"),
        ("util_3m", "util_primary_3m"),
        ("util_sa", "util_primary_sa"),
        ("headroom", "headroom_primary"),
        ("overage", "overage_primary"),
        ("months_to_limit", "months_to_limit_primary"),
    ];
    let kept = [
        "pct_change_1m",
        "pct_change_3m",
        "pct_change_6m",
        "slope_3m",
        "slope_6m",
        "months_in_decline",
        "drawdown_12m",
        "volatility_6m",
        "max_drop_12m",
        "seasonal_index",
        "seasonal_from_portfolio",
        "yoy_change",
        "sa_change_1m",
        "sa_slope_3m",
    ];
    let mut exprs = vec![
        col("acct_idx"),
        col("as_of_month"),
        col("metric").alias("primary_metric"),
    ];
    exprs.extend(renamed.iter().map(|(from, to)| col(*from).alias(*to)));
    exprs.extend(kept.iter().map(|c| col(*c)));
    series
        .clone()
        .lazy()
        .filter(col("is_primary"))
        .join(
            ctx.metric_index.clone().lazy(),
            [col("metric_idx")],
            [col("metric_idx")],
            JoinArgs::new(JoinType::Left),
        )
        .select(exprs)
}

/// Summaries over the seats and metered entitlements that do not depend on
/// their names.
fn summary_features(series: &DataFrame) -> LazyFrame {
    let over = col("util").gt(lit(1.0));
    let count = |e: Expr| e.sum().cast(DataType::Float64);
    series
        .clone()
        .lazy()
        .filter(col("entitlement").is_not_null())
        .group_by([col("acct_idx"), col("as_of_month")])
        .agg([
            col("util").min().alias("util_min"),
            col("util").max().alias("util_max"),
            col("util").mean().alias("util_mean"),
            col("util_3m").min().alias("util_3m_min"),
            col("util_3m").max().alias("util_3m_max"),
            count(col("lim_month").is_not_null()).alias("n_limited"),
            count(col("lim_month").is_null()).alias("n_unlimited"),
            count(over.clone()).alias("n_over_limit"),
            count(over.and(col("hard"))).alias("n_hard_over_limit"),
            col("months_to_limit").min().alias("months_to_limit_min"),
            col("limit_date").min().alias("limit_date_min"),
            when(col("months_to_limit").min().is_not_null())
                .then(
                    col("entitlement")
                        .sort_by(
                            [col("months_to_limit"), col("entitlement")],
                            SortMultipleOptions::default().with_nulls_last(true),
                        )
                        .first(),
                )
                .otherwise(lit(NULL).cast(DataType::String))
                .alias("next_limit_entitlement"),
        ])
}

/// Selects the named columns of one entitlement.
fn entitlement_features(series: &DataFrame, name: &str, suffix: &str) -> LazyFrame {
    let columns = [
        ("util", "util_{entitlement}"),
        ("util_3m", "util_{entitlement}_3m"),
        ("util_sa", "util_{entitlement}_sa"),
        ("headroom", "headroom_{entitlement}"),
        ("overage", "overage_{entitlement}"),
        ("util_slope_3m", "util_{entitlement}_slope_3m"),
        ("yoy_change", "yoy_{entitlement}"),
        ("months_to_limit", "months_to_limit_{entitlement}"),
        ("usage", "usage_{entitlement}"),
        ("limit", "limit_{entitlement}"),
        ("limit_date", "limit_date_{entitlement}"),
    ];
    let mut exprs = vec![col("acct_idx"), col("as_of_month")];
    exprs.extend(
        columns
            .iter()
            .map(|(from, template)| col(*from).alias(template.replace("{entitlement}", suffix))),
    );
    series
        .clone()
        .lazy()
        .filter(col("entitlement").eq(lit(name)))
        .select(exprs)
}

/// Computes the named columns of one engagement metric.
fn engagement_features(lags: &DataFrame, metric_idx: u32, suffix: &str) -> LazyFrame {
    let recent = mean_across(vec![lag(0), lag(1), lag(2)]);
    let recent_strict = (lag(0) + lag(1) + lag(2)) / lit(3.0);
    let before = (lag(3) + lag(4) + lag(5)) / lit(3.0);
    lags.clone()
        .lazy()
        .filter(col("metric_idx").eq(lit(metric_idx)))
        .select([
            col("acct_idx"),
            col("as_of_month"),
            recent.alias(format!("eng_{suffix}_3m")),
            change(recent_strict, before).alias(format!("eng_{suffix}_change_3m")),
        ])
}

/// Sets the mean of an engagement metric to zero for accounts that have no
/// rows of it in the last months but are in their history, once the metric has
/// data in the portfolio (missing months count as zero).
fn engagement_without_rows(observed: &[(String, Option<i32>)]) -> Vec<Expr> {
    observed
        .iter()
        .filter_map(|(suffix, start)| {
            let start = (*start)?;
            let name = format!("eng_{suffix}_3m");
            let in_history = col("history_months")
                .gt(lit(0.0))
                .and(col("as_of_month").gt_eq(lit(start)));
            Some(
                when(col(name.as_str()).is_null().and(in_history))
                    .then(lit(0.0))
                    .otherwise(col(name.as_str()))
                    .alias(name),
            )
        })
        .collect()
}

/// Columns computed from the joined parts.
fn derived(ctx: &Context, reporting: &Reporting, portfolio_start: Option<i32>) -> Vec<Expr> {
    let as_of_days = col("as_of_days");
    let start = match portfolio_start {
        Some(month) => max_across(vec![
            lit(month),
            min_across(vec![col("first_contract_month"), col("first_usage_month")]),
        ]),
        None => lit(NULL).cast(DataType::Int32),
    };
    let history = (col("as_of_month") - start + lit(1))
        .cast(DataType::Float64)
        .clip_min(lit(0.0))
        .fill_null(lit(0.0));
    let first_outcome = ctx.first_outcome_days;
    let outcome_count = |name: &str| match first_outcome {
        Some(days) => when(col("as_of_days").gt_eq(lit(days)))
            .then(col(name).fill_null(lit(0.0)))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias(name),
        None => lit(NULL).cast(DataType::Float64).alias(name),
    };
    let entitled = col("features_entitled");
    let used = col("features_used_90d");

    vec![
        match &reporting.currency {
            Some(code) => lit(code.as_str()).alias("currency"),
            None => lit(NULL).cast(DataType::String).alias("currency"),
        },
        date_from_days_expr(col("renewal_days")).alias("renewal_date"),
        (col("renewal_days") - as_of_days.clone())
            .cast(DataType::Float64)
            .alias("days_to_renewal"),
        ((as_of_days.clone() - days_expr(col("customer_since"))).cast(DataType::Float64)
            / lit(DAYS_PER_MONTH))
        .alias("tenure_months"),
        change(col("arr"), col("arr_year_ago")).alias("arr_change_1y"),
        outcome_count("renewals"),
        outcome_count("expansions"),
        outcome_count("contractions"),
        history.clone().alias("history_months"),
        col("interventions_90d").fill_null(lit(0.0)),
        (as_of_days - col("last_intervention_days"))
            .cast(DataType::Float64)
            .alias("days_since_intervention"),
        ratio(col("arr"), col("limit_primary")).alias("arr_per_unit_primary"),
        ratio(used.clone(), entitled.clone()).alias("adoption_90d"),
        (entitled.clone() - used.clone()).alias("features_unused_90d"),
        when(history.clone().gt_eq(lit(6.0)))
            .then(ratio(
                used.clone() - col("features_used_before"),
                entitled.clone(),
            ))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("breadth_change"),
        when((entitled.clone() - used.clone()).gt(lit(0.0)))
            .then(col("unused_features"))
            .otherwise(lit(NULL).cast(DataType::String))
            .alias("unused_features"),
        col("in_grace").alias("flag_in_grace"),
        col("first_usage_month")
            .is_null()
            .or(col("first_usage_month").gt(col("as_of_month")))
            .alias("flag_no_usage"),
        history.lt(lit(13.0)).alias("flag_short_history"),
        col("seasonal_from_portfolio")
            .fill_null(lit(true))
            .alias("flag_seasonal_portfolio"),
        col("n_limited")
            .fill_null(lit(0.0))
            .eq(lit(0.0))
            .alias("flag_no_limits"),
        lit(ctx.snapshot).alias("flag_snapshot"),
    ]
}

/// Peer comparison of `util_primary` within segment and industry at each date.
fn peers() -> Vec<Expr> {
    let group = [col("as_of_month"), col("segment"), col("industry")];
    let count = over(col("util_primary").count(), &group).cast(DataType::Float64);
    let rank = col("util_primary").rank(
        RankOptions {
            method: RankMethod::Average,
            descending: false,
        },
        None,
    );
    let rank = over(rank, &group).cast(DataType::Float64);
    let median = over(col("util_primary").median(), &group);
    vec![
        count.clone().alias("peer_count"),
        ratio(rank - lit(0.5), count).alias("peer_util_pct"),
        median.clone().alias("peer_util_median"),
        (col("util_primary") - median).alias("util_vs_peer"),
    ]
}
