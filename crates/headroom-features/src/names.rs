//! The entitlements and usage metrics that get feature columns of their own,
//! and their column suffixes.

use polars::prelude::*;

use crate::calendar::{days_expr, epoch_days};
use crate::catalogue::catalogue;
use crate::contracts;
use crate::error::{FeatureError, StepContext};
use crate::index::{distinct_strings, suffixes};
use crate::pipeline::Context;

/// Column suffixes of the entitlements and engagement metrics that get columns.
pub struct ColumnNames {
    /// Seats and metered entitlements of contracts started on or before the
    /// last as-of date: (name, suffix).
    pub entitlements: Vec<(String, String)>,
    /// Usage metrics that measure no entitlement: (name, suffix).
    pub engagement: Vec<(String, String)>,
}

impl ColumnNames {
    /// Finds the names from the tables as known at the last as-of date;
    /// `used_metrics` are the metrics with usage rows by then.
    ///
    /// Fails when two names give the same column, when a name gives a column a
    /// summary feature uses, or when the configured primary entitlement does
    /// not exist.
    pub fn new(ctx: &Context, used_metrics: &[String]) -> Result<ColumnNames, FeatureError> {
        let tables = ctx.tables;
        let started = tables
            .contracts
            .clone()
            .lazy()
            .filter(days_expr(col("start_date")).lt_eq(lit(epoch_days(ctx.until))))
            .select([col("contract_id")]);
        let limited = contracts::effective_entitlements(&tables.entitlements)
            .filter(col("kind").neq(lit("boolean")));
        let named = limited
            .clone()
            .semi_join(started.clone(), col("contract_id"), col("contract_id"))
            .select([col("entitlement").unique()])
            .collect()
            .step("the entitlement names")?;
        let entitlements = suffixes("entitlement", &distinct_strings(&named, "entitlement")?)?;

        if let Some(primary) = &ctx.options.primary_entitlement {
            let all = limited
                .select([col("entitlement").unique()])
                .collect()
                .step("the entitlement names")?;
            let known = distinct_strings(&all, "entitlement")?;
            if !known.contains(primary) {
                return Err(FeatureError::UnknownPrimaryEntitlement {
                    name: primary.clone(),
                    known,
                });
            }
        }

        let measured = contracts::effective_entitlements(&tables.entitlements)
            .semi_join(started.clone(), col("contract_id"), col("contract_id"))
            .select([col("metric").unique()])
            .collect()
            .step("the engagement metrics")?;
        let measured = distinct_strings(&measured, "metric")?;
        let engagement: Vec<String> = used_metrics
            .iter()
            .filter(|m| !measured.contains(m))
            .cloned()
            .collect();
        let engagement = suffixes("usage metric", &engagement)?;

        let names = ColumnNames {
            entitlements,
            engagement,
        };
        names.check_reserved()?;
        Ok(names)
    }

    /// Fails when a per-entitlement or per-metric column equals a fixed one
    /// (an entitlement named "primary" would give `util_primary`).
    fn check_reserved(&self) -> Result<(), FeatureError> {
        let fixed: Vec<&str> = catalogue()
            .iter()
            .filter(|s| !s.per_entitlement() && !s.per_metric())
            .map(|s| s.name)
            .collect();
        let templated = catalogue()
            .iter()
            .filter(|s| s.per_entitlement() || s.per_metric());
        for spec in templated {
            let (what, list) = if spec.per_entitlement() {
                ("entitlement", &self.entitlements)
            } else {
                ("usage metric", &self.engagement)
            };
            for (name, suffix) in list {
                let column = spec.column(suffix);
                if fixed.contains(&column.as_str()) {
                    return Err(FeatureError::ReservedName {
                        what,
                        name: name.clone(),
                        column,
                    });
                }
            }
        }
        Ok(())
    }
}
