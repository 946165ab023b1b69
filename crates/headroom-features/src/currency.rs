//! Conversion of contract ARR into one reporting currency, by the rules of the
//! data stage (`headroom_data::currency`).

use chrono::NaiveDate;
use headroom_data::Tables;
use headroom_data::currency::to_reporting_currency;
use polars::prelude::*;

use crate::calendar::{days_expr, epoch_days};
use crate::error::{FeatureError, StepContext};

/// The reporting currency of a project and the conversion of ARR into it.
#[derive(Debug, Clone)]
pub struct Reporting {
    /// The reporting currency; `None` when no contract has started and the
    /// tables name none.
    pub currency: Option<String>,
    /// `arr` in the reporting currency, over the contracts table.
    arr: Expr,
}

impl Reporting {
    /// Returns the expression converting the contracts' `arr` into the
    /// reporting currency.
    pub fn arr(&self) -> Expr {
        self.arr.clone()
    }
}

/// Decides the reporting currency from the contracts that started on or before
/// `until`, so that later contracts cannot change the features at that date.
///
/// Fails when those contracts mix currencies without an FX table, when one of
/// their currencies has no rate, or when its rate is not a positive number.
pub fn reporting(tables: &Tables, until: NaiveDate) -> Result<Reporting, FeatureError> {
    let present = contract_currencies(&tables.contracts, until)?;
    for code in &present {
        if let Some(&rate) = tables.meta.fx.get(code)
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(FeatureError::InvalidFxRate {
                currency: code.clone(),
                rate,
            });
        }
    }
    let arr = to_reporting_currency(&tables.meta, &present, col("arr"), col("currency"))?;

    // headroom-data converts only with an FX table; otherwise the one currency
    // present passes through and is the one to report.
    let converted = tables.meta.currency.is_some() && !tables.meta.fx.is_empty();
    let currency = if converted || present.is_empty() {
        tables.meta.currency.clone()
    } else {
        present.first().cloned()
    };
    Ok(Reporting { currency, arr })
}

/// Lists the distinct currencies of the contracts started on or before
/// `until`, sorted.
fn contract_currencies(
    contracts: &DataFrame,
    until: NaiveDate,
) -> Result<Vec<String>, FeatureError> {
    let found = contracts
        .clone()
        .lazy()
        .filter(days_expr(col("start_date")).lt_eq(lit(epoch_days(until))))
        .select([col("currency").unique().sort(SortOptions::default())])
        .collect()
        .step("the contract currencies")?;
    let codes = found
        .column("currency")
        .and_then(|c| c.str().cloned())
        .step("the contract currencies")?;
    Ok(codes.iter().flatten().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use headroom_data::DataError;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
    }

    fn tables_with_currencies(codes: &[&str]) -> Tables {
        let starts = vec![day(); codes.len()];
        tables_with_starts(codes, &starts)
    }

    fn tables_with_starts(codes: &[&str], starts: &[NaiveDate]) -> Tables {
        let mut tables = Tables::empty();
        let n = codes.len();
        let ids: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
        tables.contracts = DataFrame::new(
            n,
            vec![
                Column::new("contract_id".into(), ids.clone()),
                Column::new("account_id".into(), ids),
                Column::new("start_date".into(), starts.to_vec()),
                Column::new("end_date".into(), vec![day(); n]),
                Column::new("arr".into(), vec![100.0; n]),
                Column::new("currency".into(), codes.to_vec()),
                Column::new("plan".into(), vec![None::<&str>; n]),
                Column::new("auto_renew".into(), vec![None::<bool>; n]),
            ],
        )
        .unwrap();
        tables
    }

    fn converted(tables: &Tables) -> Vec<Option<f64>> {
        let reporting = reporting(tables, day()).unwrap();
        let out = tables
            .contracts
            .clone()
            .lazy()
            .select([reporting.arr()])
            .collect()
            .unwrap();
        out.columns()[0].f64().unwrap().iter().collect()
    }

    #[test]
    fn reporting_rejects_mixed_currencies_without_fx() {
        let tables = tables_with_currencies(&["USD", "EUR", "USD"]);
        let err = reporting(&tables, day()).unwrap_err();
        assert!(matches!(
            &err,
            FeatureError::Data(DataError::MixedCurrencies { currencies, .. })
                if currencies == &["EUR", "USD"]
        ));
        assert!(err.to_string().contains("(EUR, USD)"));
    }

    #[test]
    fn reporting_names_currency_without_rate() {
        let mut tables = tables_with_currencies(&["USD", "GBP"]);
        tables.meta.currency = Some("USD".into());
        tables.meta.fx.insert("EUR".into(), 1.1);
        let err = reporting(&tables, day()).unwrap_err();
        assert!(matches!(
            err,
            FeatureError::Data(DataError::MissingFxRate { ref currency, .. }) if currency == "GBP"
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
    fn reporting_converts_with_rates() {
        let mut tables = tables_with_currencies(&["USD", "EUR"]);
        tables.meta.currency = Some("USD".into());
        tables.meta.fx.insert("EUR".into(), 1.1);
        // 100 USD stays; 100 EUR at 1.1 USD per EUR.
        let arr = converted(&tables);
        assert_eq!(arr[0], Some(100.0));
        assert!((arr[1].unwrap() - 110.0).abs() < 1e-9);
        assert_eq!(
            reporting(&tables, day()).unwrap().currency.as_deref(),
            Some("USD")
        );
    }

    #[test]
    fn reporting_uses_single_currency_without_meta() {
        let tables = tables_with_currencies(&["EUR", "EUR"]);
        let found = reporting(&tables, day()).unwrap();
        assert_eq!(found.currency.as_deref(), Some("EUR"));
        assert_eq!(converted(&tables), [Some(100.0), Some(100.0)]);
    }

    #[test]
    fn reporting_ignores_contracts_not_started() {
        // The GBP contract starts a year after the date.
        let later = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let tables = tables_with_starts(&["EUR", "GBP"], &[day(), later]);
        let found = reporting(&tables, day()).unwrap();
        assert_eq!(found.currency.as_deref(), Some("EUR"));
    }
}
