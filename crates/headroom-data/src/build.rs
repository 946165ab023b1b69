//! Building one contract table from the sources a mapping lists for it.
//!
//! Each source's part files are read, filtered by the mapping's row rules,
//! parsed column by column, and stacked. Every frame carries two bookkeeping
//! columns, `__file` (an index into the loader's file list) and `__row` (the
//! 0-based data row in that file), so that later checks can name the line of
//! any row. Helper columns for derivations (`__term_months`, ...) stay until
//! the derivations have run.

mod files;
mod helpers;
mod lookup;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::cell::{self, CellError};
use crate::columns::{ColumnInput, parse_column, parse_constant};
use crate::contract::{ColumnKind, ColumnSpec, TableKind};
use crate::mapping::{CellFormats, LookupSpec, Mapping, RowRule, SourceSpec, constant_text};
use crate::read;
use crate::report::{Check, Issue, Location, MAX_ISSUES_PER_FILE, Report, Severity, group};
use files::file_uses;
use lookup::{LookupRow, RangeCounts};

/// Index of the part file a row came from.
pub(crate) const FILE_COL: &str = "__file";
/// 0-based data row of a row in its part file.
pub(crate) const ROW_COL: &str = "__row";
/// Contracts: the term in months used to roll a blank end date forward.
pub(crate) const TERM_COL: &str = "__term_months";
/// Contracts: the first day the rolled renewal date must be after (null: data end).
pub(crate) const AFTER_COL: &str = "__term_after";
/// Contracts: months back from the end date to the start date.
pub(crate) const BACK_COL: &str = "__term_back";
/// Outcomes: start date for anniversaries.
pub(crate) const ANNIV_START: &str = "__anniv_start";
/// Outcomes: end date for anniversaries (null: still open).
pub(crate) const ANNIV_END: &str = "__anniv_end";
/// Outcomes: months between anniversaries.
pub(crate) const ANNIV_EVERY: &str = "__anniv_every";
/// Outcomes: last date an anniversary may fall on (null: data end).
pub(crate) const ANNIV_UNTIL: &str = "__anniv_until";
/// Accounts: the export's own churn flag.
pub(crate) const CHURN_FLAG: &str = "__churn_flag";

/// The helper columns a table's frames carry, with their types.
pub(crate) fn helper_columns(kind: TableKind) -> Vec<(&'static str, DataType)> {
    let mut helpers = vec![(FILE_COL, DataType::UInt32), (ROW_COL, IDX_DTYPE)];
    match kind {
        TableKind::Contracts => helpers.extend([
            (TERM_COL, DataType::Int32),
            (AFTER_COL, DataType::Date),
            (BACK_COL, DataType::Int32),
        ]),
        TableKind::Outcomes => helpers.extend([
            (ANNIV_START, DataType::Date),
            (ANNIV_END, DataType::Date),
            (ANNIV_EVERY, DataType::Int32),
            (ANNIV_UNTIL, DataType::Date),
        ]),
        TableKind::Accounts => helpers.push((CHURN_FLAG, DataType::Boolean)),
        _ => {}
    }
    helpers
}

/// An empty frame with a table's contract and helper columns.
pub(crate) fn empty_frame(kind: TableKind) -> DataFrame {
    let mut schema = kind.schema();
    for (name, dtype) in helper_columns(kind) {
        schema.with_column(name.into(), dtype);
    }
    DataFrame::empty_with_schema(&schema)
}

/// Reads the sources of a mapping into contract tables, collecting issues.
pub(crate) struct Loader<'a> {
    dir: &'a Path,
    mapping: &'a Mapping,
    /// Every issue found so far.
    pub report: Report,
    /// Part files by index (`__file`).
    pub files: Vec<PathBuf>,
    parts: HashMap<String, Option<Vec<(u32, DataFrame)>>>,
    uses: HashMap<String, usize>,
    unreadable: HashSet<String>,
    contract_currency: Option<String>,
    /// Tables that could not be read in full (a file or column missing or
    /// unreadable); references into them are not checked, because every row
    /// would be reported.
    pub failed: BTreeSet<TableKind>,
    /// Cells already reported as unreadable, as (file index, 0-based row,
    /// contract column), so that the blank they leave is not reported again.
    pub failed_cells: HashSet<(u32, usize, &'static str)>,
    lookups: HashMap<String, HashMap<String, LookupRow>>,
}

impl<'a> Loader<'a> {
    /// Creates a loader of the files under `dir` with `mapping`.
    pub(crate) fn new(dir: &'a Path, mapping: &'a Mapping) -> Loader<'a> {
        Loader {
            dir,
            mapping,
            report: Report::default(),
            files: Vec::new(),
            parts: HashMap::new(),
            uses: file_uses(mapping),
            unreadable: HashSet::new(),
            contract_currency: None,
            failed: BTreeSet::new(),
            failed_cells: HashSet::new(),
            lookups: HashMap::new(),
        }
    }

    /// Builds one contract table from all its sources, stacked.
    pub(crate) fn load_table(&mut self, kind: TableKind) -> DataFrame {
        let mut table = empty_frame(kind);
        let sources = self.mapping.sources(kind).to_vec();
        for (index, source) in sources.iter().enumerate() {
            let Some(frame) = self.load_source(kind, index, source) else {
                continue;
            };
            if let Err(err) = table.vstack_mut_owned(frame) {
                panic!("frames of one table share a schema: {err}");
            }
        }
        if kind == TableKind::Contracts {
            self.contract_currency = single_currency(&table);
        }
        table
    }

    fn load_source(
        &mut self,
        kind: TableKind,
        index: usize,
        source: &SourceSpec,
    ) -> Option<DataFrame> {
        let formats = self.mapping.cell_formats(source);
        let Some(parts) = self.parts(&source.file, formats.separator) else {
            self.failed.insert(kind);
            return None;
        };
        if self
            .unreadable
            .contains(&self.mapping.file_path(&source.file))
        {
            self.failed.insert(kind);
        }
        let lookup = match &source.account_via {
            Some(via) => match self.lookup(via) {
                Some(lookup) => Some(lookup),
                None => {
                    self.failed.insert(kind);
                    return None;
                }
            },
            None => None,
        };

        let mut out = empty_frame(kind);
        let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
        let mut ranges = RangeCounts::default();
        let mut unique: HashMap<String, Vec<Series>> = HashMap::new();
        for (file_index, df) in parts {
            let path = self.files[file_index as usize].clone();
            let Some(headers) = self.check_headers(kind, source, &path, &df) else {
                self.failed.insert(kind);
                continue;
            };
            let df = df
                .with_row_index(ROW_COL.into(), None)
                .expect("row index fits");
            let df = self.apply_rules(source, &headers, &df, &mut skipped);
            for name in &source.unique {
                if let Some(header) = headers.get(name) {
                    let column = df.column(header).expect("checked header");
                    unique
                        .entry(name.clone())
                        .or_default()
                        .push(column.as_materialized_series().clone());
                }
            }
            let ctx = SourceCtx {
                kind,
                source,
                formats: &formats,
                path: &path,
                file_index,
                headers: &headers,
            };
            let mut frame = self.build_frame(&ctx, &df, lookup.as_ref(), &mut ranges);
            // Columns of one part can arrive in different chunks (Parquet row
            // groups beside the one-chunk row index). Polars rechunks a frame
            // with unaligned chunks on every filter, so they are aligned once
            // here, one part at a time.
            frame.align_chunks_par();
            out.vstack_mut_owned(frame).expect("frames share a schema");
        }

        self.note_skipped(kind, index, source, &skipped);
        self.note_ranges(kind, source, &ranges);
        self.note_duplicates(kind, source, unique);
        Some(out)
    }

    /// Maps each source column the source uses to its header in the file, or
    /// reports the missing ones. For the contract mapping, optional columns may
    /// be missing.
    fn check_headers(
        &mut self,
        kind: TableKind,
        source: &SourceSpec,
        path: &Path,
        df: &DataFrame,
    ) -> Option<HashMap<String, String>> {
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let find = |wanted: &str| -> Option<String> {
            names
                .iter()
                .find(|n| n.as_str() == wanted)
                .or_else(|| names.iter().find(|n| n.trim() == wanted.trim()))
                .cloned()
        };
        let mut headers = HashMap::new();
        let mut missing = Vec::new();
        for (contract, wanted) in &source.columns {
            match find(wanted) {
                Some(found) => {
                    headers.insert(wanted.clone(), found);
                }
                None => {
                    let optional = kind.column(contract).is_some_and(|c| !c.required);
                    if !(self.mapping.is_contract() && optional) {
                        missing.push(wanted.clone());
                    }
                }
            }
        }
        for wanted in referenced_columns(source) {
            match find(&wanted) {
                Some(found) => {
                    headers.insert(wanted, found);
                }
                None => missing.push(wanted),
            }
        }
        if missing.is_empty() {
            return Some(headers);
        }
        missing.sort();
        missing.dedup();
        for wanted in missing {
            self.report.push(
                Issue::new(
                    Severity::Error,
                    Check::MissingColumn,
                    "column not found in the header",
                )
                .table(kind)
                .file(path)
                .at(Location::Line(1))
                .column(wanted)
                .hint(if self.mapping.is_contract() {
                    format!(
                        "the header has: {}; rename the column in the file, or pass --mapping with a file that names it",
                        names.join(", ")
                    )
                } else {
                    format!(
                        "the header has: {}; fix the column name in the mapping",
                        names.join(", ")
                    )
                }),
            );
        }
        None
    }

    /// Drops rows by the source's keep and skip rules, counting skips by reason.
    fn apply_rules(
        &mut self,
        source: &SourceSpec,
        headers: &HashMap<String, String>,
        df: &DataFrame,
        skipped: &mut BTreeMap<String, usize>,
    ) -> DataFrame {
        if source.keep.is_empty() && source.skip.is_empty() {
            return df.clone();
        }
        let mut mask = BooleanChunked::full("keep".into(), true, df.height());
        for rule in &source.keep {
            let matches = rule_mask(rule, headers, df);
            let dropped = (&mask & &!&matches).sum().unwrap_or(0) as usize;
            let reason = rule.reason.clone().unwrap_or_else(|| {
                format!(
                    "{} is not {}",
                    rule.column,
                    rule.equals.values().join(" or ")
                )
            });
            *skipped.entry(reason).or_default() += dropped;
            mask = &mask & &matches;
        }
        for rule in &source.skip {
            let matches = rule_mask(rule, headers, df);
            let dropped = (&mask & &matches).sum().unwrap_or(0) as usize;
            let reason = rule.reason.clone().unwrap_or_else(|| {
                format!("{} is {}", rule.column, rule.equals.values().join(" or "))
            });
            *skipped.entry(reason).or_default() += dropped;
            mask = &mask & &!&matches;
        }
        df.filter(&mask).expect("mask has the frame's length")
    }

    fn build_frame(
        &mut self,
        ctx: &SourceCtx,
        df: &DataFrame,
        lookup: Option<&HashMap<String, LookupRow>>,
        ranges: &mut RangeCounts,
    ) -> DataFrame {
        let height = df.height();
        let rows = df
            .column(ROW_COL)
            .expect("row index")
            .idx()
            .expect("index")
            .clone();
        let mut parsed: BTreeMap<&'static str, (Series, Vec<usize>)> = BTreeMap::new();

        let currency_spec = ctx.kind.column("currency");
        let ordered = currency_spec
            .into_iter()
            .chain(ctx.kind.columns().iter().filter(|c| c.name != "currency"));
        for spec in ordered {
            let currencies = parsed
                .get("currency")
                .map(|(s, _)| s.str().expect("currency is text").clone());
            let column = self.column_values(ctx, spec, df, &rows, currencies.as_ref());
            for position in &column.1 {
                let row = rows.get(*position).unwrap_or(0) as usize;
                self.failed_cells.insert((ctx.file_index, row, spec.name));
            }
            parsed.insert(spec.name, column);
        }

        if let Some(via) = &ctx.source.account_via {
            let key_header = &ctx.headers[&via.key];
            let keys = df.column(key_header).expect("checked header");
            let dates = parsed.get("date").map(|(s, _)| s.clone());
            let account =
                self.resolve_accounts(ctx, via, keys, dates.as_ref(), &rows, lookup, ranges);
            parsed.insert("account_id", (account, Vec::new()));
        }

        self.fill_blanks(ctx, &mut parsed);
        self.check_required(ctx, &parsed, &rows);

        let mut columns: Vec<Column> = ctx
            .kind
            .columns()
            .iter()
            .map(|spec| {
                parsed
                    .remove(spec.name)
                    .expect("every column built")
                    .0
                    .into_column()
            })
            .collect();
        columns.push(Column::new_scalar(
            FILE_COL.into(),
            Scalar::new(DataType::UInt32, AnyValue::UInt32(ctx.file_index)),
            height,
        ));
        columns.push(rows.clone().into_series().into_column());
        columns.extend(self.helper_values(ctx, df, &rows));
        DataFrame::new(height, columns).expect("columns share the frame's height")
    }

    /// Builds the values of one contract column: parsed from a source column, a
    /// constant, a template, or null.
    fn column_values(
        &mut self,
        ctx: &SourceCtx,
        spec: &'static ColumnSpec,
        df: &DataFrame,
        rows: &IdxCa,
        currencies: Option<&StringChunked>,
    ) -> (Series, Vec<usize>) {
        let height = df.height();
        let source = ctx.source;
        if let Some(wanted) = source.columns.get(spec.name)
            && let Some(header) = ctx.headers.get(wanted)
        {
            let default_currency = ctx.formats.currency.clone().or(self.default_currency());
            let input = ColumnInput {
                table: ctx.kind,
                spec,
                header,
                path: ctx.path,
                formats: ctx.formats,
                values: source.values.get(spec.name),
                source_file: &source.file,
                mapping: self.mapping.path.as_deref(),
                percent: source.percent.iter().any(|p| p == spec.name),
                currencies,
                default_currency: default_currency.as_deref(),
                rows,
            };
            let column = df.column(header).expect("checked header");
            let parsed = parse_column(&input, column, &mut self.report);
            return (parsed.series, parsed.failed);
        }
        if let Some(value) = source.constants.get(spec.name) {
            let text = constant_text(value);
            let value = match parse_constant(spec, &text, ctx.formats, self.mapping.snapshot_date) {
                Ok(value) => value,
                Err(err) => {
                    self.report.push(mapping_issue(
                        ctx,
                        &format!("constants.{}", spec.name),
                        &text,
                        err,
                    ));
                    AnyValue::Null
                }
            };
            let scalar = Scalar::new(spec.kind.dtype(), value);
            let column = Column::new_scalar(spec.name.into(), scalar, height);
            return (column.take_materialized_series(), Vec::new());
        }
        if let Some(template) = source.templates.get(spec.name) {
            return (
                render_template(spec.name, template, ctx.headers, df),
                Vec::new(),
            );
        }
        let nulls = Series::full_null(spec.name.into(), height, &spec.kind.dtype());
        (nulls, Vec::new())
    }

    /// The currency of money cells whose row and source name none: the
    /// mapping's `[format] currency`, else its reporting currency, else the one
    /// currency of the contracts read so far.
    fn default_currency(&self) -> Option<String> {
        let mapping: &'a Mapping = self.mapping;
        mapping
            .format
            .currency
            .clone()
            .or(mapping.currency.as_ref().map(|c| c.report.clone()))
            .or_else(|| self.contract_currency.clone())
    }

    /// Fills blank cells with the mapping's `fill` values, counting each fill.
    fn fill_blanks(
        &mut self,
        ctx: &SourceCtx,
        parsed: &mut BTreeMap<&'static str, (Series, Vec<usize>)>,
    ) {
        for (name, value) in &ctx.source.fill {
            let Some((series, failed)) = parsed.get_mut(name.as_str()) else {
                continue;
            };
            let spec = ctx.kind.column(name).expect("checked by the mapping");
            let text = constant_text(value);
            let value = match parse_constant(spec, &text, ctx.formats, self.mapping.snapshot_date) {
                Ok(value) => value,
                Err(err) => {
                    self.report
                        .push(mapping_issue(ctx, &format!("fill.{name}"), &text, err));
                    continue;
                }
            };
            let failed: HashSet<usize> = failed.iter().copied().collect();
            let mask: BooleanChunked = series
                .is_null()
                .iter()
                .enumerate()
                .map(|(i, null)| Some(null.unwrap_or(false) && !failed.contains(&i)))
                .collect();
            let filled = mask.sum().unwrap_or(0) as usize;
            if filled == 0 {
                continue;
            }
            let scalar = Column::new_scalar(
                spec.name.into(),
                Scalar::new(spec.kind.dtype(), value),
                series.len(),
            );
            let replaced = scalar
                .as_materialized_series()
                .zip_with(&mask, series)
                .expect("same type and length");
            *series = replaced;
            self.report.push(
                Issue::new(
                    Severity::Note,
                    Check::Filled,
                    format!(
                        "{} blank cell(s) in {}.{name} filled with {text:?} (mapping fill)",
                        group(filled),
                        ctx.kind
                    ),
                )
                .table(ctx.kind)
                .file(ctx.path)
                .count(filled),
            );
        }
    }

    /// Reports blank cells of required columns that no rule will derive.
    fn check_required(
        &mut self,
        ctx: &SourceCtx,
        parsed: &BTreeMap<&'static str, (Series, Vec<usize>)>,
        rows: &IdxCa,
    ) {
        for spec in ctx.kind.columns().iter().filter(|c| c.required) {
            if derived_later(ctx.source, spec.name) {
                continue;
            }
            let (series, failed) = &parsed[spec.name];
            if series.null_count() == 0 {
                continue;
            }
            let failed: HashSet<usize> = failed.iter().copied().collect();
            let header = ctx
                .source
                .columns
                .get(spec.name)
                .and_then(|w| ctx.headers.get(w))
                .cloned()
                .unwrap_or_else(|| spec.name.to_string());
            for (position, null) in series.is_null().iter().enumerate() {
                if null != Some(true) || failed.contains(&position) {
                    continue;
                }
                let row = rows.get(position).unwrap_or(0) as usize;
                self.report.push(
                    Issue::new(Severity::Error, Check::MissingValue, "required value is blank")
                        .table(ctx.kind)
                        .file(ctx.path)
                        .at(Location::Row(row + 1))
                        .column(header.clone())
                        .value("")
                        .hint(format!(
                            "fill in {}.{} on this row, or give a value for blanks under fill.{} in the mapping",
                            ctx.kind, spec.name, spec.name
                        )),
                );
            }
        }
    }

    fn note_skipped(
        &mut self,
        kind: TableKind,
        index: usize,
        source: &SourceSpec,
        skipped: &BTreeMap<String, usize>,
    ) {
        for (reason, count) in skipped {
            if *count == 0 {
                continue;
            }
            self.report.push(
                Issue::new(
                    Severity::Note,
                    Check::RowsSkipped,
                    format!(
                        "[[{kind}]] #{} ({}): {} row(s) skipped: {reason}",
                        index + 1,
                        self.mapping.file_path(&source.file),
                        group(*count)
                    ),
                )
                .table(kind)
                .count(*count),
            );
        }
    }

    fn note_duplicates(
        &mut self,
        kind: TableKind,
        source: &SourceSpec,
        unique: HashMap<String, Vec<Series>>,
    ) {
        let mut names: Vec<_> = unique.into_iter().collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, parts) in names {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for part in parts {
                let text = part.cast(&DataType::String).expect("casts to text");
                for value in text.str().expect("text").iter().flatten() {
                    *counts.entry(value.to_string()).or_default() += 1;
                }
            }
            let mut repeated: Vec<(String, usize)> =
                counts.into_iter().filter(|(_, n)| *n > 1).collect();
            if repeated.is_empty() {
                continue;
            }
            repeated.sort();
            let rows: usize = repeated.iter().map(|(_, n)| n).sum();
            let examples: Vec<&str> = repeated.iter().take(3).map(|(v, _)| v.as_str()).collect();
            self.report.push(
                Issue::new(
                    Severity::Warning,
                    Check::DuplicateSourceId,
                    format!(
                        "{} value(s) of {name} in {} appear on more than one row ({rows} rows), such as {}",
                        repeated.len(),
                        self.mapping.file_path(&source.file),
                        examples.join(", ")
                    ),
                )
                .table(kind)
                .hint("the rows are all kept; check the export for repeated records")
                .count(repeated.len()),
            );
        }
    }
}

/// The currency of every contract, when they share one.
fn single_currency(contracts: &DataFrame) -> Option<String> {
    let codes = contracts
        .column("currency")
        .ok()?
        .str()
        .ok()?
        .unique()
        .ok()?;
    let mut codes = codes.iter().flatten();
    let first = codes.next()?.to_string();
    codes.next().is_none().then_some(first)
}

struct SourceCtx<'s> {
    kind: TableKind,
    source: &'s SourceSpec,
    formats: &'s CellFormats,
    path: &'s Path,
    file_index: u32,
    headers: &'s HashMap<String, String>,
}

/// Returns whether a derivation fills a required column of a source later.
fn derived_later(source: &SourceSpec, column: &str) -> bool {
    match column {
        "end_date" => source.open_end.is_some(),
        "start_date" => source.term_months.is_some(),
        "date" => source.anniversaries.is_some(),
        _ => false,
    }
}

/// Source columns a source uses besides its `columns` map.
fn referenced_columns(source: &SourceSpec) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    names.extend(
        source
            .keep
            .iter()
            .chain(&source.skip)
            .map(|r| r.column.clone()),
    );
    names.extend(source.templates.values().flat_map(|t| template_fields(t)));
    if let Some(via) = &source.account_via {
        names.push(via.key.clone());
    }
    if let Some(open_end) = &source.open_end {
        names.extend(open_end.term_column.clone());
    }
    if let Some(anniversaries) = &source.anniversaries {
        names.push(anniversaries.start.clone());
        names.extend(anniversaries.end.clone());
    }
    names.extend(source.churn_flag.clone());
    names.extend(source.unique.iter().cloned());
    names.sort();
    names.dedup();
    names
}

/// Lists the `{field}` names of a template.
pub(crate) fn template_fields(template: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        fields.push(rest[open + 1..open + close].to_string());
        rest = &rest[open + close + 1..];
    }
    fields
}

fn render_template(
    name: &str,
    template: &str,
    headers: &HashMap<String, String>,
    df: &DataFrame,
) -> Series {
    let fields = template_fields(template);
    let values: Vec<Vec<Option<String>>> = fields
        .iter()
        .map(|field| text_values(df, &headers[field]))
        .collect();
    let rendered = (0..df.height()).map(|row| {
        let mut text = template.to_string();
        for (field, column) in fields.iter().zip(&values) {
            let value = column[row].as_deref()?;
            text = text.replace(&format!("{{{field}}}"), value);
        }
        Some(text)
    });
    StringChunked::from_iter_options(name.into(), rendered).into_series()
}

/// Reads the trimmed, non-blank texts of a column.
fn text_values(df: &DataFrame, header: &str) -> Vec<Option<String>> {
    let column = df.column(header).expect("checked header");
    let text = column.cast(&DataType::String).expect("casts to text");
    text.str()
        .expect("text")
        .iter()
        .map(|v| cell::non_blank(v.unwrap_or("")).map(str::to_string))
        .collect()
}

/// Rows whose trimmed cell equals one of the rule's texts (`""` matches blank cells).
fn rule_mask(rule: &RowRule, headers: &HashMap<String, String>, df: &DataFrame) -> BooleanChunked {
    let wanted = rule.equals.values();
    let values = text_values(df, &headers[&rule.column]);
    values
        .into_iter()
        .map(|v| {
            let text = v.as_deref().unwrap_or("");
            Some(wanted.iter().any(|w| w.trim() == text))
        })
        .collect()
}

fn date_scalar(name: &str, date: Option<chrono::NaiveDate>, height: usize) -> Column {
    match date {
        Some(date) => Column::new_scalar(
            name.into(),
            Scalar::new(DataType::Date, AnyValue::Date(cell::epoch_days(date))),
            height,
        ),
        None => Column::full_null(name.into(), height, &DataType::Date),
    }
}

fn mapping_issue(ctx: &SourceCtx, key: &str, text: &str, err: CellError) -> Issue {
    Issue::new(
        Severity::Error,
        Check::BadValue,
        format!("invalid {key} in the mapping: {}", err.message),
    )
    .table(ctx.kind)
    .value(text)
    .hint(err.hint)
}
