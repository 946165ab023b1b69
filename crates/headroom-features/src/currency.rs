//! Conversion of contract ARR into one reporting currency.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use headroom_data::Tables;
use polars::prelude::*;

use crate::calendar::{days_expr, epoch_days};
use crate::error::{FeatureError, StepContext};

/// The reporting currency of a project and the rate of every contract currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Reporting {
    /// The reporting currency; `None` when the contracts table is empty and the
    /// tables name none.
    pub currency: Option<String>,
    /// Units of the reporting currency per unit of each contract currency,
    /// including the reporting currency itself at 1.0.
    pub rates: BTreeMap<String, f64>,
}

// NOTE: headroom-data is to gain a shared helper for the reporting currency;
// this function holds the same rules until then and can be swapped for it.
/// Decides the reporting currency and the rate of each currency of the
/// contracts that started on or before `until`.
///
/// Fails when those contracts mix currencies without a reporting currency, when
/// one of their currencies has no FX rate, or when a rate is not a positive
/// number.
pub fn reporting(tables: &Tables, until: NaiveDate) -> Result<Reporting, FeatureError> {
    let counts = currency_counts(&tables.contracts, until)?;
    let Some(reporting) = tables.meta.currency.clone() else {
        return single_currency(counts);
    };

    let mut rates = BTreeMap::from([(reporting.clone(), 1.0)]);
    for (currency, contracts) in counts {
        if currency == reporting {
            continue;
        }
        let Some(&rate) = tables.meta.fx.get(&currency) else {
            return Err(FeatureError::MissingFxRate {
                currency,
                reporting,
                contracts,
            });
        };
        if !(rate.is_finite() && rate > 0.0) {
            return Err(FeatureError::InvalidFxRate { currency, rate });
        }
        rates.insert(currency, rate);
    }
    Ok(Reporting {
        currency: Some(reporting),
        rates,
    })
}

fn single_currency(counts: BTreeMap<String, usize>) -> Result<Reporting, FeatureError> {
    if counts.len() > 1 {
        return Err(FeatureError::MixedCurrencies {
            currencies: counts.into_keys().collect(),
        });
    }
    let currency = counts.into_keys().next();
    let rates = currency.iter().map(|code| (code.clone(), 1.0)).collect();
    Ok(Reporting { currency, rates })
}

fn currency_counts(
    contracts: &DataFrame,
    until: NaiveDate,
) -> Result<BTreeMap<String, usize>, FeatureError> {
    let counts = contracts
        .clone()
        .lazy()
        .filter(days_expr(col("start_date")).lt_eq(lit(epoch_days(until))))
        .group_by([col("currency")])
        .agg([len().alias("contracts")])
        .collect()
        .step("the contract currencies")?;
    let codes = counts.column("currency").step("the contract currencies")?;
    let sizes = counts.column("contracts").step("the contract currencies")?;
    let codes = codes.str().step("the contract currencies")?;
    let sizes = sizes.idx().step("the contract currencies")?;
    Ok(codes
        .iter()
        .zip(sizes.iter())
        .filter_map(|(code, size)| Some((code?.to_string(), size? as usize)))
        .collect())
}

impl Reporting {
    /// An expression converting `amount` in the currency of `currency` (both
    /// column expressions) into the reporting currency.
    pub fn convert(&self, amount: Expr, currency: Expr) -> Expr {
        let mut rate = lit(NULL).cast(DataType::Float64);
        for (code, value) in &self.rates {
            rate = when(currency.clone().eq(lit(code.as_str())))
                .then(lit(*value))
                .otherwise(rate);
        }
        amount * rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
    }

    fn tables_with_currencies(codes: &[&str]) -> Tables {
        let mut tables = Tables::empty();
        let n = codes.len();
        let ids: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
        let day = day();
        tables.contracts = DataFrame::new(
            n,
            vec![
                Column::new("contract_id".into(), ids.clone()),
                Column::new("account_id".into(), ids),
                Column::new("start_date".into(), vec![day; n]),
                Column::new("end_date".into(), vec![day; n]),
                Column::new("arr".into(), vec![100.0; n]),
                Column::new("currency".into(), codes.to_vec()),
                Column::new("plan".into(), vec![None::<&str>; n]),
                Column::new("auto_renew".into(), vec![None::<bool>; n]),
            ],
        )
        .unwrap();
        tables
    }

    #[test]
    fn reporting_rejects_mixed_currencies_without_fx() {
        let tables = tables_with_currencies(&["USD", "EUR", "USD"]);
        let err = reporting(&tables, day()).unwrap_err();
        assert!(matches!(
            &err,
            FeatureError::MixedCurrencies { currencies } if currencies == &["EUR", "USD"]
        ));
        assert!(err.to_string().contains("(EUR, USD)"));
    }

    #[test]
    fn reporting_names_currency_without_rate() {
        let mut tables = tables_with_currencies(&["USD", "GBP"]);
        tables.meta.currency = Some("USD".into());
        let err = reporting(&tables, day()).unwrap_err();
        assert!(matches!(
            err,
            FeatureError::MissingFxRate { ref currency, contracts: 1, .. } if currency == "GBP"
        ));
    }

    #[test]
    fn reporting_rejects_zero_rate() {
        let mut tables = tables_with_currencies(&["USD", "EUR"]);
        tables.meta.currency = Some("USD".into());
        tables.meta.fx.insert("EUR".into(), 0.0);
        let err = reporting(&tables, day()).unwrap_err();
        assert!(matches!(err, FeatureError::InvalidFxRate { rate, .. } if rate == 0.0));
    }

    #[test]
    fn reporting_uses_single_currency_without_meta() {
        let tables = tables_with_currencies(&["EUR", "EUR"]);
        let found = reporting(&tables, day()).unwrap();
        assert_eq!(found.currency.as_deref(), Some("EUR"));
        assert_eq!(found.rates.get("EUR"), Some(&1.0));
    }
}
