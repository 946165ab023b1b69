//! Loading a folder of exports into the contract tables: read every source,
//! derive, exclude, combine, check, and either hand back typed tables with
//! their report or reject the input with every error found.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::build::{self, FILE_COL, Loader, ROW_COL};
use crate::cell::from_epoch_days;
use crate::checks::{self, Clock, Files};
use crate::contract::TableKind;
use crate::derive::{self, Frames};
use crate::error::DataError;
use crate::lock::ImportLock;
use crate::mapping::{CurrencySpec, Mapping};
use crate::read::{self, FileFormat};
use crate::report::{
    Check, Issue, Location, ROW_MARK, ROW_SEP, Report, Severity, TableSummary, group,
};
use crate::tables::{META_FILE, Tables, TablesMeta, remove_stale_staging};

/// Tables read from a folder, with everything validation found.
#[derive(Debug)]
pub struct Loaded {
    /// The normalized tables. When the report has errors, the rows with
    /// errors are missing or incomplete: use them only to inspect.
    pub tables: Tables,
    /// Errors, warnings, notes and per-table summaries.
    pub report: Report,
}

impl Loaded {
    /// Returns the tables, or [`DataError::Invalid`] with the report when it has errors.
    pub fn into_checked(self) -> Result<(Tables, Report), DataError> {
        if self.report.has_errors() {
            return Err(DataError::Invalid {
                report: Box::new(self.report),
            });
        }
        Ok((self.tables, self.report))
    }
}

/// Reads and validates the exports in `dir` with `mapping`
/// ([`Mapping::contract`] for a folder already in the contract format).
///
/// Problems in the data are collected in the report, not returned as errors.
/// Fails only when `dir` is not a readable folder.
pub fn load(dir: &Path, mapping: &Mapping) -> Result<Loaded, DataError> {
    if !dir.is_dir() {
        return Err(DataError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                if dir.exists() {
                    "not a folder"
                } else {
                    "no such folder"
                },
            ),
        });
    }
    let started = std::time::Instant::now();
    let mut clock = Clock::start();
    let with_meta = contract_meta(dir, mapping)?;
    let mapping = with_meta.as_ref().unwrap_or(mapping);
    let mut loader = Loader::new(dir, mapping);
    let mut frames = read_tables(&mut loader, dir, mapping);
    clock.lap("read the sources");
    let excluded = excluded_accounts(&mut loader, mapping);

    let data_end = derive::data_end(&frames);
    let report = &mut loader.report;
    derive::contract_dates(table(&mut frames, TableKind::Contracts), data_end, report);
    derive::outcome_anniversaries(table(&mut frames, TableKind::Outcomes), data_end, report);
    let files = Files(&loader.files);
    required_after_derivation(&frames, &files, &loader.failed_cells, report);
    derive::exclude_accounts(&mut frames, &excluded, report);
    for kind in [TableKind::Outcomes, TableKind::Interventions] {
        checks::drop_repeated_rows(kind, table(&mut frames, kind), &files, report);
    }
    derive::combine_usage(table(&mut frames, TableKind::Usage), mapping, report);
    derive::measure_entitlements(&mut frames, mapping, report);
    clock.lap("derived dates, rows and metrics");
    checks::run(&frames, &files, mapping, &loader.failed, report);
    checks::run_history(&frames, &files, &loader.failed, report);
    derive::normalize_limits(table(&mut frames, TableKind::Entitlements), report);

    let mut report = std::mem::take(&mut loader.report);
    for (kind, df) in &frames {
        report.tables.insert(*kind, summarize(*kind, df));
    }
    resolve_lines(&mut report);
    clock.lap("summaries and line numbers");
    let tables = into_tables(frames, mapping, dir)?;
    for kind in TableKind::ALL {
        tracing::info!(table = %kind, rows = tables.get(kind)?.height(), "loaded");
    }
    tracing::info!(
        errors = report.error_count(),
        warnings = report.warning_count(),
        elapsed = ?started.elapsed(),
        "validated {}",
        dir.display()
    );
    Ok(Loaded { tables, report })
}

/// For a folder in the contract format that has a `meta.json` (as written by
/// `import`), returns the contract mapping with its rollups, snapshot date and
/// FX table, so that re-reading a project's tables loses nothing.
///
/// Fails when the file exists but is not valid metadata.
fn contract_meta(dir: &Path, mapping: &Mapping) -> Result<Option<Mapping>, DataError> {
    let path = dir.join(META_FILE);
    if !mapping.is_contract() || !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|source| DataError::Io {
        path: path.clone(),
        source,
    })?;
    let meta: TablesMeta =
        serde_json::from_str(&text).map_err(|source| DataError::Json { path, source })?;
    let mut with_meta = mapping.clone();
    with_meta.rollups = meta.rollups;
    with_meta.snapshot_date = meta.snapshot_date;
    if let Some(report) = meta.currency.filter(|_| !meta.fx.is_empty()) {
        with_meta.currency = Some(CurrencySpec {
            report,
            rates: meta.fx,
        });
    }
    Ok(Some(with_meta))
}

/// Loads, validates and writes the normalized tables into `PROJECT/tables/`,
/// holding the project's [`ImportLock`] throughout.
///
/// Fails with [`DataError::ProjectLocked`] when another import holds the
/// lock, with [`DataError::Invalid`] when the input has errors (no tables are
/// written), or when writing fails (the previous tables stay in place).
pub fn import(dir: &Path, mapping: &Mapping, project: &Path) -> Result<Report, DataError> {
    let lock = ImportLock::acquire(project, &format!("importing {}", dir.display()))?;
    let (tables, report) = load(dir, mapping)?.into_checked()?;
    remove_stale_staging(project)?;
    tables.write_project(project)?;
    drop(lock);
    Ok(report)
}

fn table(frames: &mut Frames, kind: TableKind) -> &mut DataFrame {
    frames.get_mut(&kind).expect("every table is present")
}

fn read_tables(loader: &mut Loader, dir: &Path, mapping: &Mapping) -> Frames {
    let mut frames = Frames::new();
    let mut clock = Clock::start();
    for kind in TableKind::ALL {
        let optional_and_absent = mapping.is_contract()
            && !kind.is_required()
            && read::resolve(dir, kind.name()).is_none();
        let frame = if optional_and_absent {
            build::empty_frame(kind)
        } else {
            loader.load_table(kind)
        };
        frames.insert(kind, frame);
        clock.lap(kind.name());
    }
    frames
}

/// Collects the accounts named by `[exclude]`, with the reason for each.
fn excluded_accounts(loader: &mut Loader, mapping: &Mapping) -> BTreeMap<String, String> {
    let mut rule_rows = Vec::new();
    for rule in &mapping.exclude.rules {
        let reason = rule
            .reason
            .clone()
            .unwrap_or_else(|| format!("{} is {}", rule.column, rule.equals.values().join(" or ")));
        let values = loader.column_texts(&rule.file, &[&rule.account, &rule.column]);
        let (accounts, matched) = match values {
            Some(mut columns) if columns.len() == 2 => {
                let matched = columns.pop().unwrap_or_default();
                (columns.pop().unwrap_or_default(), matched)
            }
            _ => (Vec::new(), Vec::new()),
        };
        rule_rows.push((reason, accounts, matched));
    }
    derive::excluded_ids(mapping, &rule_rows)
}

/// Reports required cells that are still blank after the derivations, except
/// those in `failed_cells`, whose unreadable value is already reported.
fn required_after_derivation(
    frames: &Frames,
    files: &Files,
    failed_cells: &HashSet<(u32, usize, &'static str)>,
    report: &mut Report,
) {
    let cases = [
        (TableKind::Contracts, "start_date"),
        (TableKind::Contracts, "end_date"),
        (TableKind::Outcomes, "date"),
    ];
    for (kind, column) in cases {
        let df = &frames[&kind];
        let blank = df
            .clone()
            .lazy()
            .filter(col(column).is_null())
            .select([col(FILE_COL), col(ROW_COL)])
            .collect()
            .expect("columns exist");
        if blank.height() == 0 {
            continue;
        }
        let file_ids = blank
            .column(FILE_COL)
            .expect("file column")
            .u32()
            .expect("u32")
            .clone();
        let rows = blank
            .column(ROW_COL)
            .expect("row column")
            .idx()
            .expect("idx")
            .clone();
        for i in 0..blank.height() {
            let file_id = file_ids.get(i).unwrap_or(0);
            let row = rows.get(i).unwrap_or(0) as usize;
            if failed_cells.contains(&(file_id, row, column)) {
                continue;
            }
            let path = files.0.get(file_id as usize).cloned().unwrap_or_default();
            report.push(
                Issue::new(Severity::Error, Check::MissingValue, "required value is blank")
                    .table(kind)
                    .file(path)
                    .at(Location::Row(row + 1))
                    .column(column)
                    .value("")
                    .hint(format!(
                        "fill in {kind}.{column}, or check the mapping rule that derives it (open_end, term_months, anniversaries)"
                    )),
            );
        }
    }
}

/// Replaces CSV row numbers with the line numbers of those rows in the file
/// (header = line 1, quoted line breaks followed), in locations and in the row
/// marks of messages.
pub(crate) fn resolve_lines(report: &mut Report) {
    let mut needed: HashMap<PathBuf, BTreeSet<usize>> = HashMap::new();
    let mut need = |file: &Path, row: usize| {
        if FileFormat::of(file) != Some(FileFormat::Parquet) {
            needed.entry(file.to_path_buf()).or_default().insert(row);
        }
    };
    for issue in report.issues() {
        if let (Some(file), Some(Location::Row(row))) = (&issue.file, issue.location) {
            need(file, row);
        }
        for (file, row) in row_marks(&issue.message) {
            need(Path::new(&file), row);
        }
    }
    let mut lines: HashMap<PathBuf, BTreeMap<usize, usize>> = HashMap::new();
    for (file, rows) in needed {
        if let Ok(found) = read::record_lines(&file, &rows) {
            lines.insert(file, found);
        }
    }
    let line_of = |file: &Path, row: usize| -> Option<usize> {
        let found = lines.get(file)?;
        Some(found.get(&row).copied().unwrap_or(row + 1))
    };

    for issue in report.issues_mut() {
        issue.message = replace_row_marks(&issue.message, issue.file.as_deref(), &line_of);
        let (Some(file), Some(Location::Row(row))) = (&issue.file, issue.location) else {
            continue;
        };
        if let Some(line) = line_of(file, row) {
            issue.location = Some(Location::Line(line));
        }
    }
}

/// Lists the (file, 1-based row) of each row mark in a message.
fn row_marks(message: &str) -> Vec<(String, usize)> {
    let mut marks = Vec::new();
    for (i, part) in message.split(ROW_MARK).enumerate() {
        if i % 2 == 1
            && let Some((file, row)) = part.split_once(ROW_SEP)
            && let Ok(row) = row.parse()
        {
            marks.push((file.to_string(), row));
        }
    }
    marks
}

/// Writes each row mark as `line N` (CSV) or `row N` (Parquet), naming the
/// file only when it is not the issue's own.
fn replace_row_marks(
    message: &str,
    own: Option<&Path>,
    line_of: &dyn Fn(&Path, usize) -> Option<usize>,
) -> String {
    if !message.contains(ROW_MARK) {
        return message.to_string();
    }
    let mut out = String::with_capacity(message.len());
    for (i, part) in message.split(ROW_MARK).enumerate() {
        let Some((file, row)) = part.split_once(ROW_SEP).filter(|_| i % 2 == 1) else {
            out.push_str(part);
            continue;
        };
        let row: usize = row.parse().unwrap_or(0);
        let path = Path::new(file);
        let place = match line_of(path, row) {
            Some(line) => format!("line {line}"),
            None => format!("row {row}"),
        };
        if own == Some(path) {
            out.push_str(&place);
        } else {
            out.push_str(&format!("{file} {place}"));
        }
    }
    out
}

fn summarize(kind: TableKind, df: &DataFrame) -> TableSummary {
    let mut summary = TableSummary {
        rows: df.height(),
        ..TableSummary::default()
    };
    for spec in kind.columns() {
        let Ok(column) = df.column(spec.name) else {
            continue;
        };
        if spec.kind.dtype() == DataType::Date
            && let Ok(dates) = column.as_materialized_series().date()
            && let (Some(min), Some(max)) = (dates.physical().min(), dates.physical().max())
        {
            summary.date_ranges.push((
                spec.name.to_string(),
                from_epoch_days(min),
                from_epoch_days(max),
            ));
        }
        if !spec.required && column.null_count() > 0 && df.height() > 0 {
            summary
                .nulls
                .push((spec.name.to_string(), column.null_count()));
        }
    }
    summary.facts = facts(kind, df);
    summary
}

fn facts(kind: TableKind, df: &DataFrame) -> Vec<String> {
    let counts = |name: &str| -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        if let Ok(column) = df.column(name)
            && let Ok(text) = column.str()
        {
            let mut by_word: HashMap<&str, usize> = HashMap::new();
            for value in text.iter().flatten() {
                *by_word.entry(value).or_default() += 1;
            }
            for (word, n) in by_word {
                counts.insert(word.to_string(), n);
            }
        }
        counts
    };
    let listing = |counts: BTreeMap<String, usize>| -> String {
        let shown: Vec<String> = counts
            .iter()
            .take(12)
            .map(|(k, n)| format!("{k} {}", group(*n)))
            .collect();
        let more = counts.len().saturating_sub(12);
        match more {
            0 => shown.join(", "),
            _ => format!("{}, and {more} more", shown.join(", ")),
        }
    };
    match kind {
        TableKind::Contracts if df.height() > 0 => {
            vec![format!("currency: {}", listing(counts("currency")))]
        }
        TableKind::Entitlements if df.height() > 0 => {
            vec![format!("entitlement: {}", listing(counts("entitlement")))]
        }
        TableKind::Usage if df.height() > 0 => {
            let accounts = df
                .column("account_id")
                .and_then(|c| c.n_unique())
                .unwrap_or(0);
            vec![
                format!("accounts with usage: {accounts}"),
                format!("metric: {}", listing(counts("metric"))),
            ]
        }
        TableKind::Outcomes if df.height() > 0 => {
            vec![format!("outcome: {}", listing(counts("outcome")))]
        }
        _ => Vec::new(),
    }
}

fn into_tables(frames: Frames, mapping: &Mapping, dir: &Path) -> Result<Tables, DataError> {
    let mut tables = Tables::empty();
    for (kind, df) in frames {
        let names: Vec<&str> = kind.columns().iter().map(|c| c.name).collect();
        let selected = df
            .select(names)
            .map_err(|source| DataError::Frame { source })?;
        *tables.get_mut(kind)? = selected;
    }
    tables.meta = meta(&tables, mapping, dir);
    Ok(tables)
}

fn meta(tables: &Tables, mapping: &Mapping, dir: &Path) -> TablesMeta {
    let (currency, fx) = match &mapping.currency {
        Some(spec) => (Some(spec.report.clone()), spec.rates.clone()),
        None => {
            let codes = crate::currency::contract_currencies(tables).unwrap_or_default();
            let single = match codes.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            };
            (single, BTreeMap::new())
        }
    };
    TablesMeta {
        rollups: mapping.rollups.clone(),
        snapshot_date: mapping.snapshot_date,
        currency,
        fx,
        source: Some(dir.to_path_buf()),
    }
}
