//! ISO 4217 currencies, their minor-unit digits and symbols, and the conversion
//! of money columns into the reporting currency.
//!
//! Amounts in different currencies are never summed or compared directly: the
//! functions here either convert them with the project's FX table or fail with
//! [`DataError::MixedCurrencies`] naming the currencies found.

use std::collections::BTreeSet;

use polars::prelude::*;

use crate::error::DataError;
use crate::tables::{Tables, TablesMeta};

/// Active ISO 4217 codes with the number of digits of their minor unit
/// (2 for USD cents, 0 for JPY, 3 for KWD fils). Source: the ISO 4217 list
/// (table A.1) as published by SIX, 2025 amendments.
#[rustfmt::skip]
pub const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2), ("BHD", 3),
    ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2),
    ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2), ("CLF", 4),
    ("CLP", 0), ("CNY", 2), ("COP", 2), ("CRC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2),
    ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2),
    ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2),
    ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2),
    ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0),
    ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0),
    ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2),
    ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2),
    ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2),
    ("MWK", 2), ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2),
    ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2),
    ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2),
    ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2),
    ("SGD", 2), ("SHP", 2), ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2),
    ("SVC", 2), ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3),
    ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0),
    ("USD", 2), ("UYI", 0), ("UYU", 2), ("UYW", 4), ("UZS", 2), ("VES", 2), ("VND", 0),
    ("VUV", 0), ("WST", 2), ("XAF", 0), ("XCD", 2), ("XCG", 2), ("XOF", 0), ("XPF", 0),
    ("YER", 2), ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
];

/// Symbols written next to amounts, with the currencies each may stand for.
/// `$` alone is accepted for any dollar-like currency listed here because an
/// export in one currency often writes it that way.
const SYMBOLS: &[(&str, &[&str])] = &[
    ("$", &["USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"]),
    ("US$", &["USD"]),
    ("CA$", &["CAD"]),
    ("C$", &["CAD"]),
    ("A$", &["AUD"]),
    ("AU$", &["AUD"]),
    ("NZ$", &["NZD"]),
    ("S$", &["SGD"]),
    ("HK$", &["HKD"]),
    ("MX$", &["MXN"]),
    ("€", &["EUR"]),
    ("£", &["GBP"]),
    ("¥", &["JPY", "CNY"]),
    ("￥", &["JPY", "CNY"]),
    ("円", &["JPY"]),
    ("CN¥", &["CNY"]),
    ("₹", &["INR"]),
    ("₩", &["KRW"]),
    ("R$", &["BRL"]),
    ("zł", &["PLN"]),
    ("kr", &["SEK", "NOK", "DKK", "ISK"]),
    ("Fr.", &["CHF"]),
];

/// The number of minor-unit digits of an ISO 4217 code, or `None` when the
/// code is not in the built-in list.
pub fn minor_digits(code: &str) -> Option<u8> {
    ISO_4217
        .binary_search_by(|(known, _)| known.cmp(&code))
        .ok()
        .map(|i| ISO_4217[i].1)
}

/// Whether a symbol or code written beside an amount denotes `currency`.
pub fn marker_matches(marker: &str, currency: &str) -> bool {
    if marker.eq_ignore_ascii_case(currency) {
        return true;
    }
    SYMBOLS
        .iter()
        .any(|(symbol, codes)| *symbol == marker && codes.contains(&currency))
}

/// The currency a marker clearly names (`EUR`, `€`), if any.
pub fn code_of_marker(marker: &str) -> Option<String> {
    let upper = marker.to_ascii_uppercase();
    if minor_digits(&upper).is_some() {
        return Some(upper);
    }
    SYMBOLS
        .iter()
        .find(|(symbol, _)| *symbol == marker)
        .map(|(_, codes)| codes.join(" or "))
}

/// The distinct currency codes of the contracts table, sorted.
pub fn contract_currencies(tables: &Tables) -> Result<Vec<String>, DataError> {
    let column = tables
        .contracts
        .column("currency")
        .map_err(|source| DataError::Frame { source })?;
    let codes: BTreeSet<String> = column
        .str()
        .map_err(|source| DataError::Frame { source })?
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    Ok(codes.into_iter().collect())
}

/// The currency in which totals of the project are reported: the mapping's
/// reporting currency, or the one currency of the contracts.
///
/// Fails with [`DataError::MixedCurrencies`] when the contracts hold several
/// currencies and no FX table was given.
pub fn reporting_currency(tables: &Tables) -> Result<String, DataError> {
    if let Some(currency) = &tables.meta.currency {
        return Ok(currency.clone());
    }
    let currencies = contract_currencies(tables)?;
    match currencies.as_slice() {
        [] => Ok("USD".to_string()),
        [one] => Ok(one.clone()),
        _ => Err(DataError::MixedCurrencies {
            currencies,
            purpose: "report totals".to_string(),
        }),
    }
}

/// An expression, over the contracts table, for `arr` in the reporting
/// currency (aliased `arr_reporting`).
///
/// Fails with [`DataError::MixedCurrencies`] when the contracts hold several
/// currencies and the project has no FX table, and with
/// [`DataError::MissingFxRate`] when the FX table lacks one of them.
pub fn arr_in_reporting_currency(tables: &Tables) -> Result<Expr, DataError> {
    let currencies = contract_currencies(tables)?;
    let expr = to_reporting_currency(&tables.meta, &currencies, col("arr"), col("currency"))?;
    Ok(expr.alias("arr_reporting"))
}

/// The contracts table with `arr` converted to the reporting currency and
/// `currency` set to that currency, ready to sum or compare.
///
/// Fails like [`arr_in_reporting_currency`].
pub fn contracts_in_reporting_currency(tables: &Tables) -> Result<DataFrame, DataError> {
    let report = reporting_currency(tables)?;
    let arr = arr_in_reporting_currency(tables)?;
    tables
        .contracts
        .clone()
        .lazy()
        .with_columns([arr.alias("arr"), lit(report).alias("currency")])
        .collect()
        .map_err(|source| DataError::Frame { source })
}

/// Converts `amount` (in the currency given by `currency`) into the reporting
/// currency of `meta`; `present` lists the currencies that occur.
///
/// Without an FX table, one currency passes through unchanged and several fail
/// with [`DataError::MixedCurrencies`].
pub fn to_reporting_currency(
    meta: &TablesMeta,
    present: &[String],
    amount: Expr,
    currency: Expr,
) -> Result<Expr, DataError> {
    let Some(report) = meta.currency.as_deref().filter(|_| !meta.fx.is_empty()) else {
        return match present {
            [] | [_] => Ok(amount),
            _ => Err(DataError::MixedCurrencies {
                currencies: present.to_vec(),
                purpose: "sum or compare amounts".to_string(),
            }),
        };
    };

    let mut rates = Vec::with_capacity(present.len());
    for code in present {
        let rate = if code == report {
            1.0
        } else {
            *meta.fx.get(code).ok_or_else(|| DataError::MissingFxRate {
                currency: code.clone(),
                report: report.to_string(),
            })?
        };
        rates.push((code.clone(), rate));
    }

    let mut converted = lit(NULL).cast(DataType::Float64);
    for (code, rate) in rates.into_iter().rev() {
        converted = when(currency.clone().eq(lit(code)))
            .then(amount.clone() * lit(rate))
            .otherwise(converted);
    }
    Ok(converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_list_is_sorted_and_unique() {
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn minor_digits_of_known_codes() {
        assert_eq!(minor_digits("USD"), Some(2));
        assert_eq!(minor_digits("JPY"), Some(0));
        assert_eq!(minor_digits("BHD"), Some(3));
        assert_eq!(minor_digits("XYZ"), None);
        assert_eq!(minor_digits("usd"), None);
    }

    #[test]
    fn markers_match_their_currency() {
        assert!(marker_matches("$", "USD"));
        assert!(marker_matches("usd", "USD"));
        assert!(marker_matches("€", "EUR"));
        assert!(!marker_matches("€", "USD"));
        assert_eq!(code_of_marker("eur").as_deref(), Some("EUR"));
        assert_eq!(code_of_marker("£").as_deref(), Some("GBP"));
        assert_eq!(code_of_marker("dollars"), None);
    }
}
