//! Turning one source column into one typed contract column.
//!
//! Text cells (every CSV column, and Parquet text columns) are parsed cell by
//! cell with the parsers of [`crate::cell`]; a cell that does not parse becomes
//! null and an error naming its row. Parquet columns that already have the
//! contract type pass through with vectorized casts.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::cell::{
    self, CellError, DateFormat, DateShape, epoch_days, parse_bool, parse_currency, parse_date,
    parse_money, parse_number, parse_percent,
};
use crate::contract::{ColumnKind, ColumnSpec, TableKind};
use crate::mapping::{CellFormats, MoneyUnit};
use crate::report::{Check, Issue, Location, Report, Severity, group, row_mark};
use crate::value_map::{MapTarget, value_map_hint};

/// Everything needed to parse one source column into a contract column.
pub(crate) struct ColumnInput<'a> {
    /// The contract table.
    pub table: TableKind,
    /// The contract column.
    pub spec: &'static ColumnSpec,
    /// The column header in the file.
    pub header: &'a str,
    /// The part file, for messages.
    pub path: &'a Path,
    /// Cell formats of the source.
    pub formats: &'a CellFormats,
    /// Source word = contract word.
    pub values: Option<&'a BTreeMap<String, String>>,
    /// The source's `file` key, for the suggested value map.
    pub source_file: &'a str,
    /// The mapping file, for the suggested value map; `None` for a folder in
    /// the contract format.
    pub mapping: Option<&'a Path>,
    /// Whether cells are percent strings.
    pub percent: bool,
    /// Per-row currency for money columns (from the row's currency column).
    pub currencies: Option<&'a StringChunked>,
    /// Currency of money cells when the row has none.
    pub default_currency: Option<&'a str>,
    /// 0-based data row of each position, for locations.
    pub rows: &'a IdxCa,
}

/// A parsed column and the positions whose cells failed to parse.
pub(crate) struct Parsed {
    /// The typed column, named after the contract column.
    pub series: Series,
    /// Positions whose cell was not blank but could not be read.
    pub failed: Vec<usize>,
}

impl ColumnInput<'_> {
    /// Reports a cell that failed to parse, or only counts it once the file
    /// has as many errors as the report keeps.
    fn report_cell(&self, report: &mut Report, position: usize, value: &str, err: CellError) {
        if report.is_full(self.path, Severity::Error) {
            report.omit(Some(self.path.to_path_buf()), Severity::Error, 1);
        } else {
            report.push(self.issue(position, value, err));
        }
    }

    fn issue(&self, position: usize, value: &str, err: CellError) -> Issue {
        Issue::new(Severity::Error, Check::BadValue, err.message)
            .table(self.table)
            .file(self.path)
            .at(self.location(position))
            .column(self.header)
            .value(value)
            .hint(err.hint)
    }

    pub(crate) fn location(&self, position: usize) -> Location {
        let row = self.rows.get(position).unwrap_or(position as IdxSize) as usize;
        Location::Row(row + 1)
    }

    fn is_null_token(&self, text: &str) -> bool {
        let trimmed = text.trim();
        trimmed.is_empty() || self.formats.nulls.iter().any(|n| n == trimmed)
    }

    /// Applies the mapping's value map to a cell text.
    fn mapped<'t>(&'t self, text: &'t str) -> &'t str {
        let Some(values) = self.values else {
            return text;
        };
        values
            .get(text)
            .or_else(|| values.get(text.trim()))
            .map(String::as_str)
            .unwrap_or(text)
    }
}

/// Parses a source column into the contract column's type.
pub(crate) fn parse_column(input: &ColumnInput, column: &Column, report: &mut Report) -> Parsed {
    let name: PlSmallStr = input.spec.name.into();
    let typed = parse_typed(input, column, report);
    if let Some(series) = typed {
        return Parsed {
            series: series.with_name(name),
            failed: Vec::new(),
        };
    }

    let text = match column.dtype() {
        DataType::String => column.str().expect("string column").clone(),
        _ => column
            .cast(&DataType::String)
            .expect("every column casts to text")
            .str()
            .expect("string column")
            .clone(),
    };
    let mut failed = Vec::new();
    let series = match input.spec.kind {
        ColumnKind::Id | ColumnKind::Text => parse_text(input, &text),
        ColumnKind::Category(known) => parse_category(input, &text, known, &mut failed, report),
        ColumnKind::Currency => collect_strings(input, &text, &mut failed, report, parse_currency),
        ColumnKind::Date => parse_dates(input, &text, &mut failed, report),
        ColumnKind::Money => parse_money_column(input, &text, &mut failed, report),
        ColumnKind::Number => {
            let number = input.formats.number;
            let values = each_cell(input, &text, &mut failed, report, |t| match input.percent {
                true => parse_percent(t, number),
                false => parse_number(t, number),
            });
            Float64Chunked::from_iter_options(name.clone(), values.into_iter()).into_series()
        }
        ColumnKind::Bool => {
            let words = &input.formats.bools;
            let values = each_cell(input, &text, &mut failed, report, |t| parse_bool(t, words));
            BooleanChunked::from_iter_options(name.clone(), values.into_iter()).into_series()
        }
    };
    Parsed {
        series: series.with_name(name),
        failed,
    }
}

/// Converts a column that is stored with a usable type (Parquet) without
/// looking at each cell; `None` when the column must be parsed as text.
fn parse_typed(input: &ColumnInput, column: &Column, report: &mut Report) -> Option<Series> {
    let dtype = column.dtype();
    if matches!(dtype, DataType::String) {
        return None;
    }
    let series = column.as_materialized_series();
    let converted = match (input.spec.kind, dtype) {
        (ColumnKind::Date, DataType::Date) => Some(series.clone()),
        (ColumnKind::Date, DataType::Datetime(_, _)) => series.cast(&DataType::Date).ok(),
        (ColumnKind::Number, d) if d.is_primitive_numeric() && !input.percent => {
            series.cast(&DataType::Float64).ok()
        }
        (ColumnKind::Money, d) if d.is_primitive_numeric() => {
            let amounts = series.cast(&DataType::Float64).ok()?;
            Some(money_from_numbers(input, amounts, report))
        }
        (ColumnKind::Bool, DataType::Boolean) => Some(series.clone()),
        (ColumnKind::Id | ColumnKind::Text, d) if d.is_integer() => {
            series.cast(&DataType::String).ok()
        }
        _ => None,
    };
    if converted.is_none() && !matches!(dtype, DataType::Null) {
        tracing::debug!(
            column = input.header,
            dtype = %dtype,
            "stored type differs from the contract; reading the column as text"
        );
    }
    converted
}

fn money_from_numbers(input: &ColumnInput, amounts: Series, report: &mut Report) -> Series {
    if input.formats.money_unit == MoneyUnit::Major {
        return amounts;
    }
    let values = amounts.f64().expect("float column");
    let mut out = Vec::with_capacity(values.len());
    for (position, value) in values.iter().enumerate() {
        let Some(value) = value else {
            out.push(None);
            continue;
        };
        match row_currency(input, position).and_then(|c| cell::minor_to_major(value, &c)) {
            Ok(major) => out.push(Some(major)),
            Err(err) => {
                input.report_cell(report, position, &value.to_string(), err);
                out.push(None);
            }
        }
    }
    Float64Chunked::from_iter_options(input.spec.name.into(), out.into_iter()).into_series()
}

/// Whether cells can pass through unchanged: no value map or null words apply,
/// and no cell is blank or padded with spaces.
fn passes_through(input: &ColumnInput, text: &StringChunked) -> bool {
    input.values.is_none()
        && input.formats.nulls.is_empty()
        && text
            .iter()
            .all(|cell| cell.is_none_or(|c| !c.is_empty() && c.trim().len() == c.len()))
}

fn parse_text(input: &ColumnInput, text: &StringChunked) -> Series {
    if passes_through(input, text) {
        return text.clone().into_series();
    }
    let values = text.iter().map(|cell| {
        let cell = cell?;
        if input.is_null_token(cell) {
            return None;
        }
        Some(input.mapped(cell).trim())
    });
    StringChunked::from_iter_options(input.spec.name.into(), values).into_series()
}

fn parse_category(
    input: &ColumnInput,
    text: &StringChunked,
    known: &[&str],
    failed: &mut Vec<usize>,
    report: &mut Report,
) -> Series {
    if passes_through(input, text) && all_known(text, known) {
        return text.clone().into_series();
    }
    let mut unknown: BTreeMap<String, (usize, Vec<usize>)> = BTreeMap::new();
    let mut out = Vec::with_capacity(text.len());
    for (position, cell) in text.iter().enumerate() {
        let Some(cell) = cell.filter(|c| !input.is_null_token(c)) else {
            out.push(None);
            continue;
        };
        let word = input.mapped(cell);
        if known.contains(&word) {
            out.push(Some(word));
        } else {
            let entry = unknown.entry(cell.to_string()).or_default();
            entry.0 += 1;
            if entry.1.len() < 3 {
                entry.1.push(position);
            }
            failed.push(position);
            out.push(None);
        }
    }
    if !unknown.is_empty() {
        report.push(unknown_category_issue(input, known, &unknown));
    }
    StringChunked::from_iter_options(input.spec.name.into(), out.into_iter()).into_series()
}

/// Whether every distinct word of a column is a known category word.
fn all_known(text: &StringChunked, known: &[&str]) -> bool {
    let Ok(distinct) = text.unique() else {
        return false;
    };
    distinct.iter().flatten().all(|word| known.contains(&word))
}

fn unknown_category_issue(
    input: &ColumnInput,
    known: &[&str],
    unknown: &BTreeMap<String, (usize, Vec<usize>)>,
) -> Issue {
    let listing: Vec<String> = unknown
        .iter()
        .map(|(word, (count, positions))| {
            let rows: Vec<String> = positions.iter().map(|p| row_mark_of(input, *p)).collect();
            format!("{word:?} ({count} row(s): {})", rows.join(", "))
        })
        .collect();
    let total: usize = unknown.values().map(|(count, _)| count).sum();
    let first = unknown.values().next().map(|(_, p)| p[0]).unwrap_or(0);
    Issue::new(
        Severity::Error,
        Check::UnknownCategory,
        format!(
            "{} value(s) outside {}: {}",
            total,
            known.join(", "),
            listing.join("; ")
        ),
    )
    .table(input.table)
    .file(input.path)
    .at(input.location(first))
    .column(input.header)
    .value(unknown.keys().next().cloned().unwrap_or_default())
    .hint(value_map_hint(
        &MapTarget {
            table: input.table,
            column: input.spec.name,
            source_file: input.source_file,
            mapping: input.mapping,
            existing: input.values,
        },
        known,
        unknown.keys(),
    ))
    .count(total)
}

fn each_cell<T, F>(
    input: &ColumnInput,
    text: &StringChunked,
    failed: &mut Vec<usize>,
    report: &mut Report,
    parse: F,
) -> Vec<Option<T>>
where
    F: Fn(&str) -> Result<Option<T>, CellError>,
{
    let mut out = Vec::with_capacity(text.len());
    for (position, cell) in text.iter().enumerate() {
        let Some(cell) = cell.filter(|c| !input.is_null_token(c)) else {
            out.push(None);
            continue;
        };
        match parse(input.mapped(cell)) {
            Ok(value) => out.push(value),
            Err(err) => {
                input.report_cell(report, position, cell, err);
                failed.push(position);
                out.push(None);
            }
        }
    }
    out
}

fn collect_strings<F>(
    input: &ColumnInput,
    text: &StringChunked,
    failed: &mut Vec<usize>,
    report: &mut Report,
    parse: F,
) -> Series
where
    F: Fn(&str) -> Result<Option<String>, CellError>,
{
    let values = each_cell(input, text, failed, report, parse);
    StringChunked::from_iter_options(input.spec.name.into(), values.into_iter()).into_series()
}

fn row_currency(input: &ColumnInput, position: usize) -> Result<String, CellError> {
    let from_row = input.currencies.and_then(|c| c.get(position));
    from_row
        .or(input.default_currency)
        .map(str::to_string)
        .ok_or_else(|| CellError {
            message: "cannot tell the currency of this amount".to_string(),
            hint: "map a currency column, or set format.currency on this source".to_string(),
        })
}

fn parse_money_column(
    input: &ColumnInput,
    text: &StringChunked,
    failed: &mut Vec<usize>,
    report: &mut Report,
) -> Series {
    let number = input.formats.number;
    let mut out = Vec::with_capacity(text.len());
    for (position, cell) in text.iter().enumerate() {
        let Some(cell) = cell.filter(|c| !input.is_null_token(c)) else {
            out.push(None);
            continue;
        };
        if input.currencies.is_some_and(|c| c.get(position).is_none()) {
            // The row's currency cell is blank or invalid and already reported;
            // its amount cannot be read without it.
            failed.push(position);
            out.push(None);
            continue;
        }
        let currency = row_currency(input, position);
        if currency.is_err()
            && input.formats.money_unit == MoneyUnit::Major
            && let Ok(amount) = parse_number(cell, number)
        {
            // A plain number needs no currency to be read.
            out.push(amount);
            continue;
        }
        let parsed = currency.and_then(|currency| {
            let amount = match input.percent {
                true => parse_percent(cell, number)?,
                false => parse_money(cell, number, &currency)?,
            };
            match (amount, input.formats.money_unit) {
                (Some(amount), MoneyUnit::Minor) => {
                    cell::minor_to_major(amount, &currency).map(Some)
                }
                (amount, _) => Ok(amount),
            }
        });
        match parsed {
            Ok(value) => out.push(value),
            Err(err) => {
                input.report_cell(report, position, cell, err);
                failed.push(position);
                out.push(None);
            }
        }
    }
    Float64Chunked::from_iter_options(input.spec.name.into(), out.into_iter()).into_series()
}

/// Returns the date format of a column: the configured one, or one detected
/// from the cells. Detection reads ISO dates, and day-first or month-first dates only
/// when some cell has a day above 12 and no cell implies the other order.
fn date_format_of(
    input: &ColumnInput,
    text: &StringChunked,
    report: &mut Report,
) -> Result<Option<DateFormat>, ()> {
    if let Some(format) = &input.formats.date {
        return Ok(Some(format.clone()));
    }
    let mut first: HashMap<DateShape, (usize, String)> = HashMap::new();
    let mut counts: HashMap<DateShape, usize> = HashMap::new();
    let mut previous: Option<(&str, DateShape)> = None;
    for (position, cell) in text.iter().enumerate() {
        let Some(cell) = cell.filter(|c| !input.is_null_token(c)) else {
            continue;
        };
        let shape = match previous {
            Some((text, shape)) if text == cell => shape,
            _ => cell::date_shape(cell),
        };
        previous = Some((cell, shape));
        *counts.entry(shape).or_default() += 1;
        first
            .entry(shape)
            .or_insert_with(|| (position, cell.trim().to_string()));
    }

    let day_first = first.get(&DateShape::DayFirst);
    let month_first = first.get(&DateShape::MonthFirst);
    let ambiguous = first.get(&DateShape::Ambiguous);
    let hint = "set date_format in the mapping, for example date_format = \"%d/%m/%Y\" (day first) or \"%m/%d/%Y\" (month first)";
    match (day_first, month_first, ambiguous) {
        (Some((d_pos, d_val)), Some((m_pos, m_val)), _) => {
            let (d_row, m_row) = (row_mark_of(input, *d_pos), row_mark_of(input, *m_pos));
            report.push(
                Issue::new(
                    Severity::Error,
                    Check::AmbiguousDates,
                    format!(
                        "dates imply both day-first order ({d_val:?}, {d_row}) and month-first order ({m_val:?}, {m_row})"
                    ),
                )
                .table(input.table)
                .file(input.path)
                .at(input.location(*m_pos.max(d_pos)))
                .column(input.header)
                .value(if m_pos > d_pos { m_val.clone() } else { d_val.clone() })
                .hint(hint),
            );
            Err(())
        }
        (Some((pos, value)), None, _) | (None, Some((pos, value)), _) => {
            let (format, shape) = if day_first.is_some() {
                (DateFormat::DayFirst, DateShape::DayFirst)
            } else {
                (DateFormat::MonthFirst, DateShape::MonthFirst)
            };
            let deciding = counts.get(&shape).copied().unwrap_or(0);
            let undecided = counts.get(&DateShape::Ambiguous).copied().unwrap_or(0);
            let issue = match ambiguous {
                // Few cells decide the order of many, so one mistyped cell
                // would flip how the whole column is read: warn.
                Some((a_pos, a_val)) if undecided > deciding => Issue::new(
                    Severity::Warning,
                    Check::DateOrderInferred,
                    format!(
                        "{} date(s) that could be either order, this one among them, are read as {} only because {} date(s) such as {value:?} ({}) cannot be read the other way",
                        group(undecided),
                        format.describe(),
                        group(deciding),
                        row_mark_of(input, *pos)
                    ),
                )
                .at(input.location(*a_pos))
                .value(a_val.clone())
                .hint(format!(
                    "check {value:?} and correct it if it is a typo, then set date_format in the mapping: \"%d/%m/%Y\" for day first, \"%m/%d/%Y\" for month first"
                )),
                _ => Issue::new(
                    Severity::Note,
                    Check::DateOrderInferred,
                    format!(
                        "dates read as {} because of {value:?} ({})",
                        format.describe(),
                        row_mark_of(input, *pos)
                    ),
                )
                .hint("set date_format in the mapping to make this explicit"),
            };
            report.push(
                issue
                    .table(input.table)
                    .file(input.path)
                    .column(input.header),
            );
            Ok(Some(format))
        }
        (None, None, Some((pos, value))) => {
            report.push(
                Issue::new(
                    Severity::Error,
                    Check::AmbiguousDates,
                    "cannot tell day-first from month-first: no date has a day above 12",
                )
                .table(input.table)
                .file(input.path)
                .at(input.location(*pos))
                .column(input.header)
                .value(value.clone())
                .hint(hint),
            );
            Err(())
        }
        (None, None, None) => Ok(None),
    }
}

fn row_mark_of(input: &ColumnInput, position: usize) -> String {
    match input.location(position) {
        Location::Row(row) | Location::Line(row) => row_mark(input.path, row),
    }
}

fn parse_dates(
    input: &ColumnInput,
    text: &StringChunked,
    failed: &mut Vec<usize>,
    report: &mut Report,
) -> Series {
    let name: PlSmallStr = input.spec.name.into();
    let Ok(detected) = date_format_of(input, text, report) else {
        for (position, cell) in text.iter().enumerate() {
            if cell.is_some_and(|c| !input.is_null_token(c)) {
                failed.push(position);
            }
        }
        return Int32Chunked::full_null(name, text.len())
            .into_date()
            .into_series();
    };
    let auto = input.formats.date.is_none();
    let format = detected.unwrap_or(DateFormat::Iso);
    let timestamp = input.formats.timestamp.as_deref();
    let parse = |cell: &str| -> Result<Option<NaiveDate>, CellError> {
        if auto
            && format != DateFormat::Iso
            && let Ok(Some(date)) = parse_date(cell, &DateFormat::Iso, None)
        {
            return Ok(Some(date));
        }
        parse_date(cell, &format, timestamp)
    };

    let mut cache: HashMap<&str, Result<Option<i32>, CellError>> = HashMap::new();
    let mut out = Vec::with_capacity(text.len());
    for (position, cell) in text.iter().enumerate() {
        let Some(cell) = cell.filter(|c| !input.is_null_token(c)) else {
            out.push(None);
            continue;
        };
        if cache.len() > 65_536 {
            cache.clear();
        }
        let result = cache
            .entry(cell)
            .or_insert_with(|| parse(input.mapped(cell)).map(|d| d.map(epoch_days)));
        match result {
            Ok(days) => out.push(*days),
            Err(err) => {
                input.report_cell(report, position, cell, err.clone());
                failed.push(position);
                out.push(None);
            }
        }
    }
    Int32Chunked::from_iter_options(name, out.into_iter())
        .into_date()
        .into_series()
}

/// Parses one constant of the mapping for a contract column.
pub(crate) fn parse_constant(
    spec: &ColumnSpec,
    text: &str,
    formats: &CellFormats,
    snapshot: Option<NaiveDate>,
) -> Result<AnyValue<'static>, CellError> {
    let null_or = |value: Option<AnyValue<'static>>| value.unwrap_or(AnyValue::Null);
    match spec.kind {
        ColumnKind::Id | ColumnKind::Text => Ok(AnyValue::StringOwned(text.trim().into())),
        ColumnKind::Category(known) => {
            if known.contains(&text) {
                Ok(AnyValue::StringOwned(text.into()))
            } else {
                Err(CellError {
                    message: format!("constant {text:?} is not one of {}", known.join(", ")),
                    hint: format!("use one of {}", known.join(", ")),
                })
            }
        }
        ColumnKind::Currency => {
            parse_currency(text).map(|c| null_or(c.map(|c| AnyValue::StringOwned(c.into()))))
        }
        ColumnKind::Date => {
            if text == "snapshot" {
                return Ok(null_or(snapshot.map(|d| AnyValue::Date(epoch_days(d)))));
            }
            parse_date(text, &DateFormat::Iso, None)
                .map(|d| null_or(d.map(|d| AnyValue::Date(epoch_days(d)))))
        }
        ColumnKind::Money | ColumnKind::Number => {
            parse_number(text, formats.number).map(|v| null_or(v.map(AnyValue::Float64)))
        }
        ColumnKind::Bool => {
            parse_bool(text, &formats.bools).map(|v| null_or(v.map(AnyValue::Boolean)))
        }
    }
}
