//! Building one contract table from the sources a mapping lists for it.
//!
//! Each source's part files are read, filtered by the mapping's row rules,
//! parsed column by column, and stacked. Every frame carries two bookkeeping
//! columns, `__file` (an index into the loader's file list) and `__row` (the
//! 0-based data row in that file), so that later checks can name the line of
//! any row. Helper columns for derivations (`__term_months`, ...) stay until
//! the derivations have run.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::cell::{self, CellError};
use crate::columns::{ColumnInput, parse_column, parse_constant};
use crate::contract::{ColumnKind, ColumnSpec, TableKind};
use crate::mapping::{CellFormats, LookupSpec, Mapping, RowRule, SourceSpec, constant_text};
use crate::read;
use crate::report::{Check, Issue, Location, MAX_ISSUES_PER_FILE, Report, Severity, group};

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

/// One key of a lookup file: the account and the optional date range.
#[derive(Debug, Clone)]
struct LookupRow {
    account: Option<String>,
    start: Option<i32>,
    end: Option<i32>,
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

    /// Reads the trimmed texts of some columns of a file, across its parts, or `None`
    /// (with an error in the report) when the file or a column is missing.
    pub(crate) fn column_texts(
        &mut self,
        file: &str,
        columns: &[&String],
    ) -> Option<Vec<Vec<Option<String>>>> {
        let separator = self
            .mapping
            .cell_formats(&SourceSpec::empty(file))
            .separator;
        let parts = self.parts(file, separator)?;
        let mut out = vec![Vec::new(); columns.len()];
        for (file_index, df) in parts {
            let path = self.files[file_index as usize].clone();
            let headers = self.lookup_headers(&path, &df, columns)?;
            for (i, column) in columns.iter().enumerate() {
                out[i].extend(text_values(&df, &headers[*column]));
            }
        }
        Some(out)
    }

    /// Returns the part files of a source name. A file that several sources
    /// use is read once and kept until its last use, so that memory holds at
    /// most the raw files still needed.
    fn parts(&mut self, file: &str, separator: u8) -> Option<Vec<(u32, DataFrame)>> {
        let relative = self.mapping.file_path(file);
        let loaded = match self.parts.get(&relative) {
            Some(cached) => cached.clone(),
            None => {
                let loaded = self.read_parts(file, &relative, separator);
                self.parts.insert(relative.clone(), loaded.clone());
                loaded
            }
        };
        self.release(&relative);
        loaded
    }

    /// Counts one use of a file, and drops it from the cache after its last
    /// use; a use beyond the count reads the file again.
    fn release(&mut self, relative: &str) {
        let left = self.uses.entry(relative.to_string()).or_insert(1);
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.parts.remove(relative);
        }
    }

    fn read_parts(
        &mut self,
        file: &str,
        relative: &str,
        separator: u8,
    ) -> Option<Vec<(u32, DataFrame)>> {
        let Some(paths) = read::resolve(self.dir, relative) else {
            let shown = self.dir.join(relative);
            let hint = if self.mapping.is_contract() {
                format!(
                    "add {file}.csv or {file}.parquet (or a folder {file}/ of part files), or pass --mapping for an export with other file names"
                )
            } else {
                "check the file name under [files] or `file =` in the mapping".to_string()
            };
            self.report.push(
                Issue::new(Severity::Error, Check::MissingFile, "file not found")
                    .file(shown)
                    .hint(hint),
            );
            return None;
        };
        if paths.is_empty() {
            self.report.push(
                Issue::new(Severity::Error, Check::MissingFile, "folder has no .csv or .parquet part files")
                    .file(self.dir.join(relative))
                    .hint("put the table's part files in the folder, or point the mapping at the right folder"),
            );
            return None;
        }
        let mut parts = Vec::with_capacity(paths.len());
        for path in paths {
            if self.report_ragged(&path, separator) {
                self.unreadable.insert(relative.to_string());
                continue;
            }
            match read::read_part(&path, separator) {
                Ok(df) => {
                    let index = self.files.len() as u32;
                    self.files.push(path);
                    parts.push((index, df));
                }
                Err(err) => {
                    let message = err.to_string();
                    let hint = if message.contains("utf-8") || message.contains("utf8") {
                        "save the file as UTF-8 (in Excel: CSV UTF-8), then validate again"
                    } else {
                        "check that the file is a complete CSV file with a header line, or a Parquet file"
                    };
                    self.unreadable.insert(relative.to_string());
                    self.report.push(
                        Issue::new(
                            Severity::Error,
                            Check::MissingFile,
                            format!("cannot read the file: {message}"),
                        )
                        .file(path)
                        .hint(hint),
                    );
                }
            }
        }
        Some(parts)
    }

    /// Reports the records of a CSV file whose field count differs from the
    /// header's; returns whether there were any.
    fn report_ragged(&mut self, path: &Path, separator: u8) -> bool {
        if read::FileFormat::of(path) == Some(read::FileFormat::Parquet) {
            return false;
        }
        let separator = if path.extension().is_some_and(|e| e == "tsv") {
            b'\t'
        } else {
            separator
        };
        let Ok(ragged) = read::ragged_records(path, separator, MAX_ISSUES_PER_FILE) else {
            return false;
        };
        for (line, fields) in &ragged.listed {
            self.report.push(
                Issue::new(
                    Severity::Error,
                    Check::BadValue,
                    format!(
                        "record has {fields} fields but the header has {}",
                        ragged.header_fields
                    ),
                )
                .file(path)
                .at(Location::Line(*line))
                .hint(
                    "quote fields that contain the separator, such as \"Acme, Inc.\", or fix the missing or extra fields",
                ),
            );
        }
        self.report.omit(
            Some(path.to_path_buf()),
            Severity::Error,
            ragged.total - ragged.listed.len(),
        );
        ragged.total > 0
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
            let frame = self.build_frame(&ctx, &df, lookup.as_ref(), &mut ranges);
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
                .hint(format!(
                    "the header has: {}; fix the column name in the mapping",
                    names.join(", ")
                )),
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

    #[allow(clippy::too_many_arguments)]
    fn resolve_accounts(
        &mut self,
        ctx: &SourceCtx,
        via: &LookupSpec,
        keys: &Column,
        dates: Option<&Series>,
        rows: &IdxCa,
        lookup: Option<&HashMap<String, LookupRow>>,
        ranges: &mut RangeCounts,
    ) -> Series {
        let lookup = lookup.expect("lookup loaded with the source");
        let keys = keys.cast(&DataType::String).expect("casts to text");
        let keys = keys.str().expect("text");
        let dates = dates
            .and_then(|d| d.date().ok())
            .map(|d| d.physical().clone());
        let mut accounts = Vec::with_capacity(keys.len());
        for (position, key) in keys.iter().enumerate() {
            let row = rows.get(position).unwrap_or(0) as usize;
            let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
                accounts.push(None);
                continue;
            };
            let Some(found) = lookup.get(key) else {
                self.report.push(
                    Issue::new(
                        Severity::Error,
                        Check::UnknownReference,
                        format!(
                            "{} not found in {}",
                            via.key,
                            self.mapping.file_path(&via.file)
                        ),
                    )
                    .table(ctx.kind)
                    .file(ctx.path)
                    .at(Location::Row(row + 1))
                    .column(ctx.headers[&via.key].clone())
                    .value(key)
                    .hint("fix the key, or add the missing record to the lookup file"),
                );
                accounts.push(None);
                continue;
            };
            let date = dates.as_ref().and_then(|d| d.get(position));
            if let (Some(date), Some(start)) = (date, found.start)
                && date < start
            {
                ranges.before.push((ctx.file_index, row, key.to_string()));
            }
            if let (Some(date), Some(end)) = (date, found.end)
                && date > end
            {
                ranges.after.push((ctx.file_index, row, key.to_string()));
            }
            accounts.push(found.account.clone());
        }
        StringChunked::from_iter_options("account_id".into(), accounts.into_iter()).into_series()
    }

    /// Reads a lookup file into key -> (account, start, end).
    fn lookup(&mut self, via: &LookupSpec) -> Option<HashMap<String, LookupRow>> {
        let name = format!(
            "{}#{}#{}#{:?}#{:?}",
            via.file,
            via.lookup_key.as_deref().unwrap_or(&via.key),
            via.account,
            via.start,
            via.end
        );
        if let Some(found) = self.lookups.get(&name) {
            let found = found.clone();
            self.release(&self.mapping.file_path(&via.file));
            return Some(found);
        }
        // Read the lookup file's dates as the source that reads the same file
        // does; that source reports their errors, so the lookup's own parse
        // reports nothing then.
        let relative = self.mapping.file_path(&via.file);
        let same_file = TableKind::ALL
            .into_iter()
            .flat_map(|kind| self.mapping.sources(kind))
            .find(|source| self.mapping.file_path(&source.file) == relative);
        let formats = match same_file {
            Some(source) => self.mapping.cell_formats(source),
            None => self.mapping.cell_formats(&SourceSpec::empty(&via.file)),
        };
        let reported_elsewhere = same_file.is_some();
        let parts = self.parts(&via.file, formats.separator)?;
        let key = via.lookup_key.clone().unwrap_or_else(|| via.key.clone());
        let mut map = HashMap::new();
        for (file_index, df) in parts {
            let path = self.files[file_index as usize].clone();
            let mut wanted: Vec<&String> = vec![&key, &via.account];
            wanted.extend(via.start.iter());
            wanted.extend(via.end.iter());
            let headers = self.lookup_headers(&path, &df, &wanted)?;
            let rows = IdxCa::from_vec("rows".into(), (0..df.height() as IdxSize).collect());
            let dates =
                |loader: &mut Loader, column: &Option<String>| -> Option<Vec<Option<i32>>> {
                    let header = headers.get(column.as_ref()?)?;
                    let input = ColumnInput {
                        table: TableKind::Contracts,
                        spec: &LOOKUP_DATE,
                        header,
                        path: &path,
                        formats: &formats,
                        values: None,
                        percent: false,
                        currencies: None,
                        default_currency: None,
                        rows: &rows,
                    };
                    let mut scratch = Report::default();
                    let report = match reported_elsewhere {
                        true => &mut scratch,
                        false => &mut loader.report,
                    };
                    let parsed = parse_column(&input, df.column(header).ok()?, report);
                    Some(parsed.series.date().ok()?.physical().iter().collect())
                };
            let starts = dates(self, &via.start);
            let ends = dates(self, &via.end);
            let keys = text_values(&df, &headers[&key]);
            let accounts = text_values(&df, &headers[&via.account]);
            for (i, (k, account)) in keys.into_iter().zip(accounts).enumerate() {
                let Some(k) = k else { continue };
                let row = LookupRow {
                    account,
                    start: starts.as_ref().and_then(|s| s[i]),
                    end: ends.as_ref().and_then(|e| e[i]),
                };
                match map.get(&k) {
                    None => {
                        map.insert(k, row);
                    }
                    Some(first) if first.account != row.account => {
                        let accounts =
                            [&first.account, &row.account].map(|a| a.clone().unwrap_or_default());
                        self.report.push(
                            Issue::new(
                                Severity::Error,
                                Check::DuplicateKey,
                                format!(
                                    "{key} {k} belongs to two accounts, {} and {}",
                                    accounts[0], accounts[1]
                                ),
                            )
                            .file(path.clone())
                            .at(Location::Row(i + 1))
                            .column(headers[&key].clone())
                            .value(k.clone())
                            .hint("give each key one account in the lookup file, because rows keyed by it cannot be assigned otherwise"),
                        );
                    }
                    Some(_) => {}
                }
            }
        }
        self.lookups.insert(name, map.clone());
        Some(map)
    }

    fn lookup_headers(
        &mut self,
        path: &Path,
        df: &DataFrame,
        wanted: &[&String],
    ) -> Option<HashMap<String, String>> {
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let mut headers = HashMap::new();
        for column in wanted {
            match names.iter().find(|n| n.trim() == column.trim()) {
                Some(found) => {
                    headers.insert((*column).clone(), found.clone());
                }
                None => {
                    self.report.push(
                        Issue::new(
                            Severity::Error,
                            Check::MissingColumn,
                            "lookup column not found in the header",
                        )
                        .file(path)
                        .at(Location::Line(1))
                        .column((*column).clone())
                        .hint(format!(
                            "the header has: {}; fix account_via in the mapping",
                            names.join(", ")
                        )),
                    );
                    return None;
                }
            }
        }
        Some(headers)
    }

    /// The helper columns of a source's rows.
    fn helper_values(&mut self, ctx: &SourceCtx, df: &DataFrame, rows: &IdxCa) -> Vec<Column> {
        let height = df.height();
        let source = ctx.source;
        let null = |name: &str, dtype: DataType| Column::full_null(name.into(), height, &dtype);
        match ctx.kind {
            TableKind::Contracts => {
                let term = self.open_end_terms(ctx, df, rows);
                let after = source
                    .open_end
                    .as_ref()
                    .and_then(|o| o.after.as_deref())
                    .and_then(|a| chrono::NaiveDate::parse_from_str(a, "%Y-%m-%d").ok());
                let after = date_scalar(AFTER_COL, after, height);
                let back = match source.term_months {
                    Some(months) => Column::new_scalar(
                        BACK_COL.into(),
                        Scalar::new(DataType::Int32, AnyValue::Int32(months as i32)),
                        height,
                    ),
                    None => null(BACK_COL, DataType::Int32),
                };
                vec![term, after, back]
            }
            TableKind::Outcomes => match &source.anniversaries {
                Some(spec) => {
                    let start = self.source_dates(ctx, df, rows, Some(&spec.start), ANNIV_START);
                    let end = self.source_dates(ctx, df, rows, spec.end.as_ref(), ANNIV_END);
                    let every = Column::new_scalar(
                        ANNIV_EVERY.into(),
                        Scalar::new(DataType::Int32, AnyValue::Int32(spec.every_months as i32)),
                        height,
                    );
                    let until = spec
                        .until
                        .as_deref()
                        .and_then(|a| chrono::NaiveDate::parse_from_str(a, "%Y-%m-%d").ok());
                    vec![start, end, every, date_scalar(ANNIV_UNTIL, until, height)]
                }
                None => vec![
                    null(ANNIV_START, DataType::Date),
                    null(ANNIV_END, DataType::Date),
                    null(ANNIV_EVERY, DataType::Int32),
                    null(ANNIV_UNTIL, DataType::Date),
                ],
            },
            TableKind::Accounts => match &source.churn_flag {
                Some(column) => {
                    let header = &ctx.headers[column];
                    let input = ColumnInput {
                        table: ctx.kind,
                        spec: &CHURN_FLAG_SPEC,
                        header,
                        path: ctx.path,
                        formats: ctx.formats,
                        values: None,
                        percent: false,
                        currencies: None,
                        default_currency: None,
                        rows,
                    };
                    let column = df.column(header).expect("checked header");
                    vec![
                        parse_column(&input, column, &mut self.report)
                            .series
                            .into_column(),
                    ]
                }
                None => vec![null(CHURN_FLAG, DataType::Boolean)],
            },
            _ => Vec::new(),
        }
    }

    fn source_dates(
        &mut self,
        ctx: &SourceCtx,
        df: &DataFrame,
        rows: &IdxCa,
        column: Option<&String>,
        name: &'static str,
    ) -> Column {
        let Some(header) = column.and_then(|c| ctx.headers.get(c)) else {
            return Column::full_null(name.into(), df.height(), &DataType::Date);
        };
        let spec: &'static ColumnSpec = match name {
            ANNIV_START => &ANNIV_START_SPEC,
            _ => &ANNIV_END_SPEC,
        };
        let input = ColumnInput {
            table: ctx.kind,
            spec,
            header,
            path: ctx.path,
            formats: ctx.formats,
            values: None,
            percent: false,
            currencies: None,
            default_currency: None,
            rows,
        };
        let column = df.column(header).expect("checked header");
        parse_column(&input, column, &mut self.report)
            .series
            .into_column()
    }

    /// Reads the term in months of each contract row, from the open-end rule.
    fn open_end_terms(&mut self, ctx: &SourceCtx, df: &DataFrame, rows: &IdxCa) -> Column {
        let height = df.height();
        let Some(open_end) = &ctx.source.open_end else {
            return Column::full_null(TERM_COL.into(), height, &DataType::Int32);
        };
        let Some(term_column) = &open_end.term_column else {
            let months = open_end.months.unwrap_or(12) as i32;
            return Column::new_scalar(
                TERM_COL.into(),
                Scalar::new(DataType::Int32, AnyValue::Int32(months)),
                height,
            );
        };
        let header = &ctx.headers[term_column];
        let words = text_values(df, header);
        let mut terms = Vec::with_capacity(height);
        for (position, word) in words.iter().enumerate() {
            let Some(word) = word else {
                terms.push(open_end.months.map(|m| m as i32));
                continue;
            };
            match open_end.terms.get(word.as_str()) {
                Some(months) => terms.push(Some(*months as i32)),
                None => {
                    let row = rows.get(position).unwrap_or(0) as usize;
                    self.report.push(
                        Issue::new(
                            Severity::Error,
                            Check::BadValue,
                            "term word not listed in open_end.terms",
                        )
                        .table(ctx.kind)
                        .file(ctx.path)
                        .at(Location::Row(row + 1))
                        .column(header.clone())
                        .value(word.clone())
                        .hint(format!(
                            "add {word:?} = <months> under open_end.terms in the mapping"
                        )),
                    );
                    terms.push(None);
                }
            }
        }
        Int32Chunked::from_iter_options(TERM_COL.into(), terms.into_iter()).into_column()
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

    fn note_ranges(&mut self, kind: TableKind, source: &SourceSpec, ranges: &RangeCounts) {
        let Some(via) = &source.account_via else {
            return;
        };
        let lookup_file = self.mapping.file_path(&via.file);
        let cases = [
            (
                &ranges.before,
                Check::BeforeStart,
                "before",
                via.start.as_deref(),
            ),
            (&ranges.after, Check::AfterEnd, "after", via.end.as_deref()),
        ];
        for (rows, check, word, column) in cases {
            if rows.is_empty() {
                continue;
            }
            let Some(column) = column else { continue };
            let keys: HashSet<&str> = rows.iter().map(|(_, _, k)| k.as_str()).collect();
            let (file, row, key) = &rows[0];
            let issue = Issue::new(
                Severity::Warning,
                check,
                format!(
                    "{} {kind} row(s) dated {word} the {column} of their {} in {lookup_file} ({} distinct {}); first",
                    group(rows.len()),
                    via.key,
                    group(keys.len()),
                    via.key,
                ),
            )
            .table(kind)
            .file(self.files[*file as usize].clone())
            .at(Location::Row(row + 1))
            .column(via.key.clone())
            .value(key.clone())
            .hint(format!(
                "the rows are kept under their account; check the export if usage should fall inside each {}",
                via.key
            ))
            .count(rows.len());
            self.report.push(issue);
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

/// Counts how many times the mapping reads each file: once per source, lookup
/// and exclusion rule.
fn file_uses(mapping: &Mapping) -> HashMap<String, usize> {
    let mut uses: HashMap<String, usize> = HashMap::new();
    for kind in TableKind::ALL {
        for source in mapping.sources(kind) {
            *uses.entry(mapping.file_path(&source.file)).or_default() += 1;
            if let Some(via) = &source.account_via {
                *uses.entry(mapping.file_path(&via.file)).or_default() += 1;
            }
        }
    }
    for rule in &mapping.exclude.rules {
        *uses.entry(mapping.file_path(&rule.file)).or_default() += 1;
    }
    uses
}

/// Rows dated outside the range of the record their key points to.
#[derive(Debug, Default)]
struct RangeCounts {
    before: Vec<(u32, usize, String)>,
    after: Vec<(u32, usize, String)>,
}

struct SourceCtx<'s> {
    kind: TableKind,
    source: &'s SourceSpec,
    formats: &'s CellFormats,
    path: &'s Path,
    file_index: u32,
    headers: &'s HashMap<String, String>,
}

static LOOKUP_DATE: ColumnSpec = ColumnSpec {
    name: "lookup_date",
    kind: ColumnKind::Date,
    required: false,
};
static CHURN_FLAG_SPEC: ColumnSpec = ColumnSpec {
    name: CHURN_FLAG,
    kind: ColumnKind::Bool,
    required: false,
};
static ANNIV_START_SPEC: ColumnSpec = ColumnSpec {
    name: ANNIV_START,
    kind: ColumnKind::Date,
    required: false,
};
static ANNIV_END_SPEC: ColumnSpec = ColumnSpec {
    name: ANNIV_END,
    kind: ColumnKind::Date,
    required: false,
};

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
