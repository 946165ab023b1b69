//! Parsers for single cells of a foreign export: numbers, money, percents,
//! booleans and dates.
//!
//! Each parser takes the raw text of one cell and returns `Ok(None)` for a blank
//! cell (empty or whitespace only), `Ok(Some(value))` for a value it understands,
//! and a [`CellError`] with a hint otherwise. None of them guesses: a value in a
//! format other than the one configured is an error, never a different number.

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::currency;

/// Why one cell could not be read, and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// What is wrong with the value.
    pub message: String,
    /// What to change in the file or the mapping.
    pub hint: String,
}

impl CellError {
    fn new(message: impl Into<String>, hint: impl Into<String>) -> CellError {
        CellError {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// How numbers are written: the thousands separator (if any) and the decimal mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberFormat {
    /// The character between groups of three digits (`,` in `1,200`); `None`
    /// rejects grouped numbers.
    pub thousands: Option<char>,
    /// The decimal mark (`.` in `9.5`).
    pub decimal: char,
}

impl Default for NumberFormat {
    /// `1,234.56`: comma thousands separator, point decimal mark.
    fn default() -> NumberFormat {
        NumberFormat {
            thousands: Some(','),
            decimal: '.',
        }
    }
}

impl NumberFormat {
    fn example(self) -> String {
        match self.thousands {
            Some(sep) => format!("1{sep}234{}5", self.decimal),
            None => format!("1234{}5", self.decimal),
        }
    }
}

/// Returns the cell text without surrounding whitespace, or `None` when blank.
pub fn non_blank(text: &str) -> Option<&str> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then_some(trimmed)
}

/// Parses a plain number such as `42`, `-3.5`, `1,200` or `2e6`.
///
/// Fails on text that is not a finite number in `format`.
pub fn parse_number(text: &str, format: NumberFormat) -> Result<Option<f64>, CellError> {
    let Some(trimmed) = non_blank(text) else {
        return Ok(None);
    };
    parse_signed(trimmed, format).map(Some)
}

/// Parses a percent string such as `85%` or `62 %` into a fraction (0.85, 0.62).
///
/// Fails when the `%` sign is missing, because `85` could mean 85% or 8,500%.
pub fn parse_percent(text: &str, format: NumberFormat) -> Result<Option<f64>, CellError> {
    let Some(trimmed) = non_blank(text) else {
        return Ok(None);
    };
    let Some(number) = trimmed.strip_suffix('%') else {
        return Err(CellError::new(
            "percent value has no % sign",
            "write the value as a percent such as 85%, or remove the column from `percent` in the mapping",
        ));
    };
    let value = parse_signed(number.trim_end(), format)?;
    Ok(Some(value / 100.0))
}

/// Parses an amount of money in `currency`, such as `$120,000`, ` 9500 `,
/// `EUR 1,200.50` or `(300)`.
///
/// A currency symbol or code in the cell must belong to `currency`. Fails on a
/// marker of another currency or a number in another format.
pub fn parse_money(
    text: &str,
    format: NumberFormat,
    currency: &str,
) -> Result<Option<f64>, CellError> {
    let Some(trimmed) = non_blank(text) else {
        return Ok(None);
    };
    let (negative_parens, inner) = match trimmed.strip_prefix('(').and_then(|s| s.strip_suffix(')'))
    {
        Some(inner) => (true, inner.trim()),
        None => (false, trimmed),
    };
    let (sign, inner) = split_sign(inner);
    let number = strip_currency_marker(inner, currency)?;
    let (sign_inside, number) = split_sign(number);
    let value = parse_unsigned(number, format)?;
    let negative = negative_parens ^ (sign < 0.0) ^ (sign_inside < 0.0);
    Ok(Some(if negative { -value } else { value }))
}

/// Converts an amount in minor units (cents) to major units of `currency`:
/// 12345 cents of USD are 123.45, 12345 yen are 12345.
///
/// Fails on an unknown currency or a fractional number of minor units.
pub fn minor_to_major(amount: f64, currency: &str) -> Result<f64, CellError> {
    let digits = currency::minor_digits(currency).ok_or_else(|| unknown_currency(currency))?;
    if amount.fract() != 0.0 {
        return Err(CellError::new(
            format!("amount in minor units of {currency} is not a whole number"),
            "amounts in minor units (cents) are whole numbers; set `money_unit = \"major\"` if the column holds major units",
        ));
    }
    Ok(amount / 10f64.powi(i32::from(digits)))
}

/// Parses an ISO 4217 currency code such as `USD` (surrounding spaces allowed).
///
/// Fails on a code that is not in the built-in ISO 4217 list.
pub fn parse_currency(text: &str) -> Result<Option<String>, CellError> {
    let Some(trimmed) = non_blank(text) else {
        return Ok(None);
    };
    let code = trimmed.to_ascii_uppercase();
    match currency::minor_digits(&code) {
        Some(_) => Ok(Some(code)),
        None => Err(unknown_currency(trimmed)),
    }
}

fn unknown_currency(code: &str) -> CellError {
    CellError::new(
        format!("unknown currency code {code:?}"),
        "use an ISO 4217 code such as USD, EUR, GBP or JPY",
    )
}

/// The words a boolean column uses, compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoolWords {
    /// Words meaning true.
    pub truthy: Vec<String>,
    /// Words meaning false.
    pub falsy: Vec<String>,
}

impl Default for BoolWords {
    /// true/false, yes/no, y/n, t/f and 1/0.
    fn default() -> BoolWords {
        let words = |list: &[&str]| list.iter().map(|w| w.to_string()).collect();
        BoolWords {
            truthy: words(&["true", "yes", "y", "t", "1"]),
            falsy: words(&["false", "no", "n", "f", "0"]),
        }
    }
}

/// Parses a yes/no cell with the given words.
///
/// Fails on a word that is in neither list.
pub fn parse_bool(text: &str, words: &BoolWords) -> Result<Option<bool>, CellError> {
    let Some(trimmed) = non_blank(text) else {
        return Ok(None);
    };
    if words.truthy.iter().any(|w| w.eq_ignore_ascii_case(trimmed)) {
        return Ok(Some(true));
    }
    if words.falsy.iter().any(|w| w.eq_ignore_ascii_case(trimmed)) {
        return Ok(Some(false));
    }
    Err(CellError::new(
        "not a yes/no value",
        format!(
            "use one of {} for true or {} for false, or list this word under `true` or `false` in the mapping",
            words.truthy.join("/"),
            words.falsy.join("/")
        ),
    ))
}

/// How the dates of a column are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateFormat {
    /// ISO 8601 (`2025-04-13`), optionally followed by a time that is dropped.
    Iso,
    /// Day first: `13/04/2025`, `13-04-2025`, `13.04.2025`.
    DayFirst,
    /// Month first: `04/13/2025`.
    MonthFirst,
    /// A chrono strftime pattern such as `%d-%m-%Y`; patterns with a time of day
    /// (`%d-%m-%Y %H:%M`) keep only the date.
    Pattern(String),
}

impl DateFormat {
    /// Parses a format as written in a mapping: `iso`, `day-first`,
    /// `month-first`, or a strftime pattern containing `%`.
    pub fn from_mapping(text: &str) -> Option<DateFormat> {
        match text {
            "iso" => Some(DateFormat::Iso),
            "day-first" => Some(DateFormat::DayFirst),
            "month-first" => Some(DateFormat::MonthFirst),
            pattern if pattern.contains('%') => Some(DateFormat::Pattern(pattern.to_string())),
            _ => None,
        }
    }

    /// The format as a person writes it in the mapping.
    pub fn describe(&self) -> String {
        match self {
            DateFormat::Iso => "YYYY-MM-DD".to_string(),
            DateFormat::DayFirst => "DD/MM/YYYY".to_string(),
            DateFormat::MonthFirst => "MM/DD/YYYY".to_string(),
            DateFormat::Pattern(pattern) => pattern.clone(),
        }
    }
}

/// Parses a date cell in a known format; `timestamp` is a second pattern tried
/// for cells that carry a time of day (their date is kept).
///
/// Fails when the cell matches neither pattern or names an impossible date.
pub fn parse_date(
    text: &str,
    format: &DateFormat,
    timestamp: Option<&str>,
) -> Result<Option<NaiveDate>, CellError> {
    let Some(trimmed) = non_blank(text) else {
        return Ok(None);
    };
    let parsed = match format {
        DateFormat::Iso => parse_iso(trimmed),
        DateFormat::DayFirst | DateFormat::MonthFirst => parse_ordered(trimmed, format),
        DateFormat::Pattern(pattern) => parse_pattern(trimmed, pattern),
    };
    let parsed = parsed.or_else(|| timestamp.and_then(|pattern| parse_pattern(trimmed, pattern)));
    if parsed.is_none()
        && *format == DateFormat::Iso
        && let Some(problem) = impossible_iso_date(trimmed)
    {
        return Err(CellError::new(
            problem,
            "correct the day or the month: the cell has the right format but names no calendar day"
                .to_string(),
        ));
    }
    match parsed {
        Some(date) => Ok(Some(date)),
        None => Err(CellError::new(
            format!("not a date in the format {}", format.describe()),
            match timestamp {
                Some(ts) => format!(
                    "write the date as {} (or a timestamp as {ts}), or change `date_format` in the mapping",
                    format.describe()
                ),
                None => format!(
                    "write the date as {}, or change `date_format` in the mapping",
                    format.describe()
                ),
            },
        )),
    }
}

/// Says why a cell shaped `YYYY-MM-DD` names no calendar day (`2026-11-31`,
/// `2026-13-01`); `None` when the cell has another shape.
fn impossible_iso_date(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return None;
    }
    let year: i32 = text[..4].parse().ok()?;
    let month: u32 = text[5..7].parse().ok()?;
    let day: u32 = text[8..].parse().ok()?;
    if !(1..=12).contains(&month) {
        return Some(format!("not a date: there is no month {month}"));
    }
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let days = (next - first).num_days();
    (day == 0 || i64::from(day) > days).then(|| {
        format!("not a date: {year}-{month:02} has {days} days, so day {day} does not exist")
    })
}

fn parse_pattern(text: &str, pattern: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, pattern).ok().or_else(|| {
        NaiveDateTime::parse_from_str(text, pattern)
            .ok()
            .map(|t| t.date())
    })
}

/// What the shape of one date cell says about the column's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateShape {
    /// ISO 8601 or `YYYY/MM/DD`.
    Iso,
    /// `A/B/YYYY` with A > 12: the day comes first.
    DayFirst,
    /// `A/B/YYYY` with B > 12: the month comes first.
    MonthFirst,
    /// `A/B/YYYY` with both A and B at most 12: either order reads.
    Ambiguous,
    /// Not a date headroom can read without a pattern.
    Unknown,
}

/// Classifies one non-blank date cell for format detection.
pub fn date_shape(text: &str) -> DateShape {
    let text = text.trim();
    if parse_iso(text).is_some() {
        return DateShape::Iso;
    }
    let Some((first, second, _)) = split_numeric_date(text) else {
        return DateShape::Unknown;
    };
    match (first > 12, second > 12) {
        (true, false) => DateShape::DayFirst,
        (false, true) => DateShape::MonthFirst,
        (false, false) => DateShape::Ambiguous,
        (true, true) => DateShape::Unknown,
    }
}

fn parse_iso(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() < 10 {
        return None;
    }
    let sep = bytes[4];
    if !(sep == b'-' || sep == b'/') || bytes[7] != sep {
        return None;
    }
    if bytes.len() > 10 && !matches!(bytes[10], b'T' | b' ') {
        return None;
    }
    let year = digits(&bytes[0..4])?;
    let month = digits(&bytes[5..7])?;
    let day = digits(&bytes[8..10])?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

fn digits(bytes: &[u8]) -> Option<u32> {
    let mut value = 0u32;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// Splits `A/B/YYYY` (also with `-` or `.`, and an optional time after a space)
/// into its three numbers.
fn split_numeric_date(text: &str) -> Option<(u32, u32, i32)> {
    let date_part = text.split([' ', 'T']).next()?;
    let sep = date_part.chars().find(|c| matches!(c, '/' | '-' | '.'))?;
    let mut parts = date_part.split(sep);
    let (a, b, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || a.is_empty() || a.len() > 2 || b.is_empty() || b.len() > 2 {
        return None;
    }
    if y.len() != 4 {
        return None;
    }
    let year = digits(y.as_bytes())? as i32;
    Some((digits(a.as_bytes())?, digits(b.as_bytes())?, year))
}

fn parse_ordered(text: &str, format: &DateFormat) -> Option<NaiveDate> {
    let (first, second, year) = split_numeric_date(text)?;
    let (day, month) = match format {
        DateFormat::MonthFirst => (second, first),
        _ => (first, second),
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The number of days from 1970-01-01 to `date`, as polars stores a `Date`.
pub fn epoch_days(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - 719_163
}

/// The date of a polars `Date` value (days since 1970-01-01).
pub fn from_epoch_days(days: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(days + 719_163).unwrap_or(NaiveDate::MIN)
}

fn split_sign(text: &str) -> (f64, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (-1.0, rest.trim_start())
    } else if let Some(rest) = text.strip_prefix('+') {
        (1.0, rest.trim_start())
    } else {
        (1.0, text)
    }
}

fn strip_currency_marker<'a>(text: &'a str, currency: &str) -> Result<&'a str, CellError> {
    let number_start = text.find(|c: char| c.is_ascii_digit() || c == '-' || c == '.' || c == ',');
    let Some(start) = number_start else {
        return Err(not_money(currency));
    };
    let number_end = text
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ',')
        .map(|i| i + 1)
        .unwrap_or(text.len());
    let prefix = text[..start].trim();
    let suffix = text[number_end..].trim();
    let number = text[start..number_end].trim();
    for marker in [prefix, suffix] {
        check_marker(marker, currency)?;
    }
    Ok(number)
}

fn check_marker(marker: &str, currency: &str) -> Result<(), CellError> {
    if marker.is_empty() || currency::marker_matches(marker, currency) {
        return Ok(());
    }
    let message = match currency::code_of_marker(marker) {
        Some(other) => format!("amount is marked as {other} but the row's currency is {currency}"),
        None => format!("unexpected text {marker:?} around the amount (currency {currency})"),
    };
    Err(CellError::new(
        message,
        format!(
            "write amounts of this column in {currency} as plain numbers such as 1,234.56, or give rows in another currency their own currency column value"
        ),
    ))
}

fn not_money(currency: &str) -> CellError {
    CellError::new(
        format!("not an amount of money in {currency}"),
        "write the amount as a number such as 1,234.56, optionally with its currency symbol",
    )
}

fn parse_signed(text: &str, format: NumberFormat) -> Result<f64, CellError> {
    let (sign, rest) = split_sign(text);
    Ok(sign * parse_unsigned(rest, format)?)
}

/// Parses digits with optional thousands grouping and decimal part, strictly:
/// groups after the first hold exactly three digits, and the decimal part has
/// no separators, so `1.299,99` is rejected rather than read as 1.29999.
fn parse_unsigned(text: &str, format: NumberFormat) -> Result<f64, CellError> {
    let bad = || {
        CellError::new(
            "not a number",
            format!(
                "write the number as {} (thousands separator {}, decimal mark {:?}), or set `thousands` and `decimal` in the mapping",
                format.example(),
                format
                    .thousands
                    .map(|c| format!("{c:?}"))
                    .unwrap_or_else(|| "none".to_string()),
                format.decimal
            ),
        )
    };
    if let Some(value) = parse_scientific(text) {
        return Ok(value);
    }
    let (int_part, frac_part) = match text.split_once(format.decimal) {
        Some((int_part, frac_part)) => (int_part, Some(frac_part)),
        None => (text, None),
    };
    if let Some(frac) = frac_part
        && (frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let int_digits = ungroup(int_part, format.thousands).ok_or_else(bad)?;
    if int_digits.is_empty() && frac_part.is_none() {
        return Err(bad());
    }
    let canonical = match frac_part {
        Some(frac) => format!("{int_digits}.{frac}"),
        None => int_digits,
    };
    let value: f64 = canonical.parse().map_err(|_| bad())?;
    if !value.is_finite() {
        return Err(bad());
    }
    Ok(value)
}

/// Removes thousands separators from an integer part if they sit every three
/// digits; returns `None` for misplaced separators or other characters.
fn ungroup(int_part: &str, thousands: Option<char>) -> Option<String> {
    let Some(sep) = thousands.filter(|sep| int_part.contains(*sep)) else {
        return int_part
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| int_part.to_string());
    };
    let groups: Vec<&str> = int_part.split(sep).collect();
    let first = groups[0];
    let first_ok = (1..=3).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_digit());
    let rest_ok = groups[1..]
        .iter()
        .all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
    (first_ok && rest_ok).then(|| groups.concat())
}

/// Reads `2e6` or `1.5E-3`: only plain digits, one point and an exponent.
fn parse_scientific(text: &str) -> Option<f64> {
    let (mantissa, exponent) = text.split_once(['e', 'E'])?;
    let mantissa_ok = !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && mantissa.bytes().filter(|&b| b == b'.').count() <= 1
        && mantissa.bytes().any(|b| b.is_ascii_digit());
    let exponent_digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let exponent_ok =
        !exponent_digits.is_empty() && exponent_digits.bytes().all(|b| b.is_ascii_digit());
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_date_names_missing_day() {
        let cases = [
            (
                "2026-11-31",
                "not a date: 2026-11 has 30 days, so day 31 does not exist",
            ),
            (
                "2024-02-30",
                "not a date: 2024-02 has 29 days, so day 30 does not exist",
            ),
            (
                "2026-02-29",
                "not a date: 2026-02 has 28 days, so day 29 does not exist",
            ),
            (
                "2026-05-00",
                "not a date: 2026-05 has 31 days, so day 0 does not exist",
            ),
            ("2026-13-01", "not a date: there is no month 13"),
        ];
        for (text, message) in cases {
            let err = parse_date(text, &DateFormat::Iso, None).unwrap_err();
            assert_eq!(err.message, message, "{text}");
        }
        let shapeless = parse_date("31.11.2026", &DateFormat::Iso, None).unwrap_err();
        assert_eq!(shapeless.message, "not a date in the format YYYY-MM-DD");
        assert_eq!(
            parse_date("2024-02-29", &DateFormat::Iso, None).unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
    }

    fn money(text: &str) -> Result<Option<f64>, CellError> {
        parse_money(text, NumberFormat::default(), "USD")
    }

    #[test]
    fn money_strips_symbol_and_thousands() {
        assert_eq!(money("$120,000"), Ok(Some(120000.0)));
    }

    #[test]
    fn money_trims_whitespace() {
        assert_eq!(money(" 9500 "), Ok(Some(9500.0)));
    }

    #[test]
    fn money_reads_negative_forms() {
        assert_eq!(money("-$1,200.50"), Ok(Some(-1200.5)));
        assert_eq!(money("$-75"), Ok(Some(-75.0)));
        assert_eq!(money("(300)"), Ok(Some(-300.0)));
    }

    #[test]
    fn money_accepts_own_code() {
        assert_eq!(money("USD 1,000"), Ok(Some(1000.0)));
        assert_eq!(money("1000 usd"), Ok(Some(1000.0)));
        assert_eq!(money("US$ 10"), Ok(Some(10.0)));
    }

    #[test]
    fn money_rejects_european_format_among_dollars() {
        let err = money("1.299,99 EUR").unwrap_err();
        assert_eq!(
            err.message,
            "amount is marked as EUR but the row's currency is USD"
        );
        let err = money("1.299,99").unwrap_err();
        assert_eq!(err.message, "not a number");
    }

    #[test]
    fn money_rejects_misplaced_grouping() {
        assert!(money("12,00").is_err());
        assert!(money("1,2345").is_err());
        assert!(money(",100").is_err());
    }

    #[test]
    fn money_rejects_symbol_of_other_currency() {
        let err = money("€100").unwrap_err();
        assert_eq!(
            err.message,
            "amount is marked as EUR but the row's currency is USD"
        );
    }

    #[test]
    fn money_in_euro_with_comma_decimal() {
        let format = NumberFormat {
            thousands: Some('.'),
            decimal: ',',
        };
        assert_eq!(parse_money("1.299,99 €", format, "EUR"), Ok(Some(1299.99)));
    }

    #[test]
    fn blank_money_is_null_not_zero() {
        assert_eq!(money(""), Ok(None));
        assert_eq!(money("   "), Ok(None));
    }

    #[test]
    fn percent_reads_with_and_without_space() {
        let f = NumberFormat::default();
        assert_eq!(parse_percent("85%", f), Ok(Some(0.85)));
        assert_eq!(parse_percent("62 %", f), Ok(Some(0.62)));
        assert_eq!(parse_percent("12.5%", f), Ok(Some(0.125)));
    }

    #[test]
    fn percent_without_sign_is_error() {
        let err = parse_percent("85", NumberFormat::default()).unwrap_err();
        assert_eq!(err.message, "percent value has no % sign");
    }

    #[test]
    fn number_reads_grouped_and_scientific() {
        let f = NumberFormat::default();
        assert_eq!(parse_number("1,200", f), Ok(Some(1200.0)));
        assert_eq!(parse_number("2e3", f), Ok(Some(2000.0)));
        assert_eq!(parse_number("-0.5", f), Ok(Some(-0.5)));
        assert_eq!(parse_number(".5", f), Ok(Some(0.5)));
    }

    #[test]
    fn number_rejects_non_finite_and_words() {
        let f = NumberFormat::default();
        for text in ["inf", "NaN", "1e999", "n/a", "12abc", "1.2.3", "-", "."] {
            assert!(parse_number(text, f).is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn minor_units_follow_currency_digits() {
        assert_eq!(minor_to_major(12345.0, "USD"), Ok(123.45));
        assert_eq!(minor_to_major(12345.0, "JPY"), Ok(12345.0));
        assert_eq!(minor_to_major(12345.0, "KWD"), Ok(12.345));
        assert!(minor_to_major(1.5, "USD").is_err());
        assert!(minor_to_major(100.0, "XYZ").is_err());
    }

    #[test]
    fn currency_code_is_checked() {
        assert_eq!(parse_currency(" usd "), Ok(Some("USD".to_string())));
        let err = parse_currency("DOLLARS").unwrap_err();
        assert_eq!(err.message, "unknown currency code \"DOLLARS\"");
    }

    #[test]
    fn bool_reads_default_words() {
        let words = BoolWords::default();
        assert_eq!(parse_bool("TRUE", &words), Ok(Some(true)));
        assert_eq!(parse_bool("No", &words), Ok(Some(false)));
        assert_eq!(parse_bool("1", &words), Ok(Some(true)));
        assert_eq!(parse_bool(" ", &words), Ok(None));
        assert!(parse_bool("maybe", &words).is_err());
    }

    #[test]
    fn date_formats_parse() {
        let d = |y, m, day| Some(NaiveDate::from_ymd_opt(y, m, day).unwrap());
        assert_eq!(
            parse_date("2025-04-13", &DateFormat::Iso, None),
            Ok(d(2025, 4, 13))
        );
        assert_eq!(
            parse_date("2025-04-13T10:00:00Z", &DateFormat::Iso, None),
            Ok(d(2025, 4, 13))
        );
        assert_eq!(
            parse_date("13/04/2025", &DateFormat::DayFirst, None),
            Ok(d(2025, 4, 13))
        );
        assert_eq!(
            parse_date("04/13/2025", &DateFormat::MonthFirst, None),
            Ok(d(2025, 4, 13))
        );
        let pattern = DateFormat::Pattern("%d-%m-%Y".into());
        assert_eq!(parse_date("13-04-2025", &pattern, None), Ok(d(2025, 4, 13)));
        assert_eq!(
            parse_date("13-04-2025 03:00", &pattern, Some("%d-%m-%Y %H:%M")),
            Ok(d(2025, 4, 13))
        );
    }

    #[test]
    fn date_rejects_impossible_and_wrong_order() {
        assert!(parse_date("2025-02-30", &DateFormat::Iso, None).is_err());
        assert!(parse_date("04/13/2025", &DateFormat::DayFirst, None).is_err());
        assert!(
            parse_date(
                "13-04-2025 03:00",
                &DateFormat::Pattern("%d-%m-%Y".into()),
                None
            )
            .is_err()
        );
    }

    #[test]
    fn date_shape_detects_order() {
        assert_eq!(date_shape("13/04/2025"), DateShape::DayFirst);
        assert_eq!(date_shape("04/13/2025"), DateShape::MonthFirst);
        assert_eq!(date_shape("04/05/2025"), DateShape::Ambiguous);
        assert_eq!(date_shape("2025-04-05"), DateShape::Iso);
        assert_eq!(date_shape("April 5"), DateShape::Unknown);
    }

    #[test]
    fn epoch_days_round_trip() {
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(epoch_days(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()), 0);
        assert_eq!(from_epoch_days(epoch_days(date)), date);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parsers_never_panic(text in "\\PC{0,24}") {
                let f = NumberFormat::default();
                let _ = parse_number(&text, f);
                let _ = parse_percent(&text, f);
                let _ = parse_money(&text, f, "USD");
                let _ = parse_money(&text, f, "JPY");
                let _ = parse_currency(&text);
                let _ = parse_bool(&text, &BoolWords::default());
                let _ = date_shape(&text);
                let _ = parse_date(&text, &DateFormat::Iso, None);
                let _ = parse_date(&text, &DateFormat::DayFirst, None);
                let _ = parse_date(&text, &DateFormat::Pattern("%d-%m-%Y".into()), Some("%d-%m-%Y %H:%M"));
            }

            #[test]
            fn parsers_never_panic_on_numeric_noise(text in "[-+$€(),. 0-9%eE]{0,16}") {
                let f = NumberFormat::default();
                let _ = parse_number(&text, f);
                let _ = parse_percent(&text, f);
                let _ = parse_money(&text, f, "EUR");
                let _ = date_shape(&text);
            }

            #[test]
            fn grouped_money_round_trips(cents in 0u64..10_000_000_000) {
                let whole = cents / 100;
                let grouped = group_thousands(whole);
                let text = format!("${grouped}.{:02}", cents % 100);
                let parsed = parse_money(&text, NumberFormat::default(), "USD").unwrap().unwrap();
                prop_assert!((parsed - cents as f64 / 100.0).abs() < 1e-6);
            }

            #[test]
            fn plain_number_round_trips(value in -1.0e12f64..1.0e12) {
                let parsed = parse_number(&value.to_string(), NumberFormat::default()).unwrap().unwrap();
                prop_assert_eq!(parsed, value);
            }

            #[test]
            fn percent_round_trips(basis_points in 0u32..100_000) {
                let text = format!("{}.{:02}%", basis_points / 100, basis_points % 100);
                let parsed = parse_percent(&text, NumberFormat::default()).unwrap().unwrap();
                prop_assert!((parsed - f64::from(basis_points) / 10_000.0).abs() < 1e-12);
            }

            #[test]
            fn iso_date_round_trips(days in 0i32..60_000) {
                let date = from_epoch_days(days);
                let text = date.format("%Y-%m-%d").to_string();
                prop_assert_eq!(parse_date(&text, &DateFormat::Iso, None).unwrap(), Some(date));
                let day_first = date.format("%d/%m/%Y").to_string();
                prop_assert_eq!(parse_date(&day_first, &DateFormat::DayFirst, None).unwrap(), Some(date));
            }
        }

        fn group_thousands(value: u64) -> String {
            let digits = value.to_string();
            let mut out = String::new();
            for (i, ch) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(ch);
            }
            out
        }
    }
}
