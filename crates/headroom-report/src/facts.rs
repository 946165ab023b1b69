//! The numbers of one account from the feature table, read once for the
//! rules, reasons, actions and reports.

use chrono::NaiveDate;
use polars::prelude::DataFrame;
use serde::Serialize;

use crate::error::ReportError;
use crate::frame;

/// One account's descriptive values and the features the report quotes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountFacts {
    /// The account id.
    pub account_id: String,
    /// The account name.
    pub name: String,
    /// Customer segment (enterprise, mid-market, smb).
    pub customer_segment: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Account owner.
    pub owner: Option<String>,
    /// Plan of the largest active contract.
    pub plan: Option<String>,
    /// The reporting currency of `arr`.
    pub currency: String,
    /// ARR of the active contracts.
    pub arr: f64,
    /// The next renewal date.
    pub renewal_date: Option<NaiveDate>,
    /// Days from the scoring date to the renewal (negative in grace).
    pub days_to_renewal: Option<f64>,
    /// Months since the account became a customer.
    pub tenure_months: Option<f64>,
    /// The primary entitlement.
    pub primary_entitlement: Option<String>,
    /// The metric behind the primary series.
    pub primary_metric: Option<String>,
    /// Primary usage in the latest complete month.
    pub usage_primary: Option<f64>,
    /// The primary limit.
    pub limit_primary: Option<f64>,
    /// Primary utilization in the latest complete month.
    pub util_primary: Option<f64>,
    /// Mean primary utilization over 3 months.
    pub util_primary_3m: Option<f64>,
    /// Seasonally adjusted primary utilization.
    pub util_primary_sa: Option<f64>,
    /// Primary usage change over 1 month.
    pub pct_change_1m: Option<f64>,
    /// Primary usage change over 3 months.
    pub pct_change_3m: Option<f64>,
    /// Primary usage change over 6 months.
    pub pct_change_6m: Option<f64>,
    /// Months in a row of falling primary usage.
    pub months_in_decline: Option<f64>,
    /// Seasonal index of the latest month (1.0 = an average month).
    pub seasonal_index: Option<f64>,
    /// Seasonally adjusted primary usage change over 1 month.
    pub sa_change_1m: Option<f64>,
    /// Entitled boolean features.
    pub features_entitled: Option<f64>,
    /// Share of entitled features used in the last 3 months.
    pub adoption_90d: Option<f64>,
    /// Median primary utilization of peers.
    pub peer_util_median: Option<f64>,
    /// Accounts in the peer group (same segment and industry).
    pub peer_count: Option<f64>,
    /// Interventions in the last 90 days.
    pub interventions_90d: Option<f64>,
    /// Days since the latest intervention.
    pub days_since_intervention: Option<f64>,
    /// Kind of the latest intervention.
    pub last_intervention_kind: Option<String>,
    /// Active only through the grace period after the last contract ended.
    pub in_grace: bool,
    /// No usage rows on or before the scoring date.
    pub no_usage: bool,
    /// The project is a snapshot export.
    pub snapshot: bool,
}

/// Reads the facts of every row of a feature table, in row order.
///
/// Fails when a column has an unexpected type.
pub fn read_facts(features: &DataFrame) -> Result<Vec<AccountFacts>, ReportError> {
    let text = |name| frame::strings(features, name);
    let number = |name| frame::floats(features, name);
    let flag = |name| frame::bools(features, name);

    let ids = text("account_id")?;
    let names = text("name")?;
    let segments = text("segment")?;
    let industries = text("industry")?;
    let regions = text("region")?;
    let owners = text("owner")?;
    let plans = text("plan")?;
    let currencies = text("currency")?;
    let primary_entitlements = text("primary_entitlement")?;
    let primary_metrics = text("primary_metric")?;
    let last_kinds = text("last_intervention_kind")?;
    let renewals = frame::dates(features, "renewal_date")?;
    let arr = number("arr")?;
    let days_to_renewal = number("days_to_renewal")?;
    let tenure = number("tenure_months")?;
    let usage_primary = number("usage_primary")?;
    let limit_primary = number("limit_primary")?;
    let util_primary = number("util_primary")?;
    let util_primary_3m = number("util_primary_3m")?;
    let util_primary_sa = number("util_primary_sa")?;
    let pct_1m = number("pct_change_1m")?;
    let pct_3m = number("pct_change_3m")?;
    let pct_6m = number("pct_change_6m")?;
    let decline = number("months_in_decline")?;
    let seasonal = number("seasonal_index")?;
    let sa_1m = number("sa_change_1m")?;
    let entitled = number("features_entitled")?;
    let adoption = number("adoption_90d")?;
    let peer = number("peer_util_median")?;
    let peer_count = number("peer_count")?;
    let interventions = number("interventions_90d")?;
    let since_intervention = number("days_since_intervention")?;
    let in_grace = flag("flag_in_grace")?;
    let no_usage = flag("flag_no_usage")?;
    let snapshot = flag("flag_snapshot")?;

    let facts = (0..features.height())
        .map(|i| {
            let account_id = ids[i].clone().unwrap_or_default();
            AccountFacts {
                name: names[i].clone().unwrap_or_else(|| account_id.clone()),
                account_id,
                customer_segment: segments[i].clone(),
                industry: industries[i].clone(),
                region: regions[i].clone(),
                owner: owners[i].clone(),
                plan: plans[i].clone(),
                currency: currencies[i].clone().unwrap_or_default(),
                arr: arr[i].unwrap_or(0.0),
                renewal_date: renewals[i],
                days_to_renewal: days_to_renewal[i],
                tenure_months: tenure[i],
                primary_entitlement: primary_entitlements[i].clone(),
                primary_metric: primary_metrics[i].clone(),
                usage_primary: usage_primary[i],
                limit_primary: limit_primary[i],
                util_primary: util_primary[i],
                util_primary_3m: util_primary_3m[i],
                util_primary_sa: util_primary_sa[i],
                pct_change_1m: pct_1m[i],
                pct_change_3m: pct_3m[i],
                pct_change_6m: pct_6m[i],
                months_in_decline: decline[i],
                seasonal_index: seasonal[i],
                sa_change_1m: sa_1m[i],
                features_entitled: entitled[i],
                adoption_90d: adoption[i],
                peer_util_median: peer[i],
                peer_count: peer_count[i],
                interventions_90d: interventions[i],
                days_since_intervention: since_intervention[i],
                last_intervention_kind: last_kinds[i].clone(),
                in_grace: in_grace[i].unwrap_or(false),
                no_usage: no_usage[i].unwrap_or(false),
                snapshot: snapshot[i].unwrap_or(false),
            }
        })
        .collect();
    Ok(facts)
}
