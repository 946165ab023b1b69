//! Checks across rows and tables, run on the typed frames: unique ids, known
//! references, date order, signs, currencies, and the data-quality findings
//! (overlapping contracts, churn flags that disagree with outcomes, usage above
//! seat limits, placeholder dates).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use polars::prelude::*;

use crate::build::{CHURN_FLAG, FILE_COL, ROW_COL};
use crate::cell::from_epoch_days;
use crate::contract::TableKind;
use crate::derive::Frames;
use crate::keys;
use crate::mapping::Mapping;
use crate::overage;
use crate::report::{Check, Issue, Location, Report, Severity, group, row_mark};

/// At most this many offending rows are listed per check; the rest are counted.
const MAX_LISTED_ROWS: usize = 200;

/// The part files, indexed by the `__file` column of every frame.
pub(crate) struct Files<'a>(pub &'a [PathBuf]);

impl Files<'_> {
    fn path(&self, index: u32) -> PathBuf {
        self.0.get(index as usize).cloned().unwrap_or_default()
    }
}

fn frame_err(err: PolarsError) -> ! {
    panic!("check on frames of the contract schema failed: {err}")
}

/// One offending row, with its place in its file.
struct Hit {
    file: u32,
    row: usize,
    values: Vec<Option<String>>,
}

/// Collects the rows of `lf` (which must keep `__file` and `__row`) with the
/// text of `columns`, up to [`MAX_LISTED_ROWS`]; returns them and the total.
fn hits(lf: LazyFrame, columns: &[&str]) -> (Vec<Hit>, usize) {
    let df = lf.collect().unwrap_or_else(|e| frame_err(e));
    let total = df.height();
    let df = df.head(Some(MAX_LISTED_ROWS));
    let files = df
        .column(FILE_COL)
        .unwrap_or_else(|e| frame_err(e))
        .u32()
        .unwrap_or_else(|e| frame_err(e))
        .clone();
    let rows = df
        .column(ROW_COL)
        .unwrap_or_else(|e| frame_err(e))
        .idx()
        .unwrap_or_else(|e| frame_err(e))
        .clone();
    let texts: Vec<Vec<Option<String>>> =
        columns.iter().map(|name| column_texts(&df, name)).collect();
    let list = (0..df.height())
        .map(|i| Hit {
            file: files.get(i).unwrap_or(0),
            row: rows.get(i).unwrap_or(0) as usize,
            values: texts.iter().map(|t| t[i].clone()).collect(),
        })
        .collect();
    (list, total)
}

fn push_hits(
    report: &mut Report,
    files: &Files,
    hits: (Vec<Hit>, usize),
    make: impl Fn(&Hit) -> Issue,
) {
    let (list, total) = hits;
    let listed = list.len();
    let mut last_file = None;
    for hit in &list {
        let issue = make(hit)
            .file(files.path(hit.file))
            .at(Location::Row(hit.row + 1));
        last_file = issue.file.clone();
        report.push(issue);
    }
    let severity = list
        .first()
        .map(|h| make(h).severity)
        .unwrap_or(Severity::Error);
    report.omit(last_file, severity, total - listed);
}

/// Runs every check on the built frames.
pub(crate) fn run(
    frames: &Frames,
    files: &Files,
    mapping: &Mapping,
    failed: &BTreeSet<TableKind>,
    report: &mut Report,
) {
    let mut clock = Clock::start();
    unique_keys(frames, files, mapping, report);
    clock.lap("unique keys");
    references(frames, files, failed, report);
    clock.lap("references");
    contract_dates(frames, files, report);
    signs(frames, files, report);
    currencies(frames, mapping, report);
    clock.lap("dates, signs and currencies");
    overlapping_contracts(frames, report);
    churn_flags(frames, report);
    clock.lap("overlaps and churn flags");
    above_limits(frames, report);
    clock.lap("usage above limits");
    placeholder_dates(frames, report);
    future_dates(
        frames,
        files,
        &[TableKind::Usage],
        latest_event_date(),
        report,
    );
    clock.lap("placeholder and future dates");
}

/// The columns of the outcome or intervention table that the repeat checks
/// compare.
struct HistoryColumns {
    /// The columns that name one event: two rows with the same values are
    /// the same event. A blank value (an outcome without a contract) is a
    /// value of its own.
    identity: &'static [&'static str],
    /// The other columns, which must agree between two rows of one event.
    facts: &'static [&'static str],
    /// The word messages use for one row.
    noun: &'static str,
}

const OUTCOME_COLUMNS: HistoryColumns = HistoryColumns {
    identity: &["account_id", "date", "outcome", "contract_id"],
    facts: &["arr_before", "arr_after", "reason"],
    noun: "outcome",
};

const INTERVENTION_COLUMNS: HistoryColumns = HistoryColumns {
    identity: &["account_id", "date", "kind"],
    facts: &["note"],
    noun: "intervention",
};

/// Returns the repeat-check columns of the outcomes or interventions table.
fn history_columns(kind: TableKind) -> &'static HistoryColumns {
    match kind {
        TableKind::Outcomes => &OUTCOME_COLUMNS,
        _ => &INTERVENTION_COLUMNS,
    }
}

/// Drops outcome or intervention rows that repeat an earlier row in every
/// column, keeping the first, and warns with the count and the first repeat.
/// Exports often list one event twice, for example two churn records of one
/// customer on one day. Counted twice, they would double the review's counts
/// and the intervention features. Rows that share an identity but differ in
/// a fact are left for [`run_history`] to report.
pub(crate) fn drop_repeated_rows(
    kind: TableKind,
    df: &mut DataFrame,
    files: &Files,
    report: &mut Report,
) {
    let HistoryColumns {
        identity,
        facts,
        noun,
    } = history_columns(kind);
    let columns: Vec<&str> = identity.iter().chain(facts.iter()).copied().collect();
    let texts: Vec<Vec<Option<String>>> = columns.iter().map(|c| column_texts(df, c)).collect();

    let mut seen = HashMap::new();
    let mut keep = Vec::with_capacity(df.height());
    let mut first_repeat = None;
    for i in 0..df.height() {
        let row: Vec<Option<String>> = texts.iter().map(|t| t[i].clone()).collect();
        match seen.get(&row) {
            None => {
                seen.insert(row, i);
                keep.push(i as IdxSize);
            }
            Some(&earlier) => {
                first_repeat.get_or_insert((earlier, i));
            }
        }
    }
    let Some((earlier, first)) = first_repeat else {
        return;
    };

    let repeats = df.height() - keep.len();
    let place = |i: usize| hits(df.slice(i as i64, 1).lazy(), identity).0.remove(0);
    let (earlier_hit, first_hit) = (place(earlier), place(first));
    let indices = IdxCa::from_vec("keep".into(), keep);
    *df = df.take(&indices).unwrap_or_else(|e| frame_err(e));

    let event: Vec<String> = first_hit
        .values
        .iter()
        .take(3)
        .map(|v| v.clone().unwrap_or_default())
        .collect();
    report.push(
        Issue::new(
            Severity::Warning,
            Check::DuplicateKey,
            format!(
                "{repeats} {noun} row(s) repeat an earlier row in every column and are read once, such as {} (first on {})",
                event.join(" "),
                row_mark(&files.path(earlier_hit.file), earlier_hit.row + 1)
            ),
        )
        .table(kind)
        .file(files.path(first_hit.file))
        .at(Location::Row(first_hit.row + 1))
        .column("account_id")
        .value(event[0].clone())
        .hint("nothing to do if the export lists one event twice; if they are two events, give them different dates or contracts")
        .count(repeats),
    );
}

/// Reports each outcome or intervention row whose identity repeats an
/// earlier row with other facts, naming the earlier line and every
/// difference: the import cannot tell which row is right.
fn conflicting_repeats(kind: TableKind, frames: &Frames, files: &Files, report: &mut Report) {
    let HistoryColumns {
        identity,
        facts,
        noun,
    } = history_columns(kind);
    let df = frames[&kind]
        .clone()
        .lazy()
        .sort([FILE_COL, ROW_COL], SortMultipleOptions::default())
        .collect()
        .unwrap_or_else(|e| frame_err(e));
    let keys: Vec<Vec<Option<String>>> = identity.iter().map(|c| column_texts(&df, c)).collect();
    let values: Vec<Vec<Option<String>>> = facts.iter().map(|c| column_texts(&df, c)).collect();

    let mut first_of: HashMap<Vec<Option<String>>, usize> = HashMap::new();
    let mut conflicts = Vec::new();
    for i in 0..df.height() {
        let key: Vec<Option<String>> = keys.iter().map(|k| k[i].clone()).collect();
        // A blank id or date is reported by the cell checks.
        if key[..2].iter().any(Option::is_none) {
            continue;
        }
        match first_of.get(&key) {
            None => {
                first_of.insert(key, i);
            }
            Some(&earlier) => conflicts.push((earlier, i)),
        }
    }
    if conflicts.is_empty() {
        return;
    }

    let or_blank = |v: &Option<String>| v.clone().unwrap_or_else(|| "blank".to_string());
    let (listed, omitted) = conflicts.split_at(conflicts.len().min(MAX_LISTED_ROWS));
    let mut last_file = None;
    for &(earlier, later) in listed {
        let place = |i: usize| hits(df.slice(i as i64, 1).lazy(), identity).0.remove(0);
        let (earlier_hit, later_hit) = (place(earlier), place(later));
        let differing: Vec<usize> = (0..facts.len())
            .filter(|&f| values[f][earlier] != values[f][later])
            .collect();
        let listed: Vec<String> = differing
            .iter()
            .map(|&f| {
                format!(
                    "{} {} against {}",
                    facts[f],
                    or_blank(&values[f][later]),
                    or_blank(&values[f][earlier])
                )
            })
            .collect();
        let named: Vec<String> = keys.iter().filter_map(|key| key[later].clone()).collect();
        let column = differing.first().map_or(identity[0], |&f| facts[f]);
        let value = differing
            .first()
            .map_or_else(|| named[0].clone(), |&f| or_blank(&values[f][later]));
        let issue = Issue::new(
            Severity::Error,
            Check::DuplicateKey,
            format!(
                "{noun} {} repeats {} with other facts: {}",
                named.join(" "),
                row_mark(&files.path(earlier_hit.file), earlier_hit.row + 1),
                listed.join(", ")
            ),
        )
        .table(kind)
        .file(files.path(later_hit.file))
        .at(Location::Row(later_hit.row + 1))
        .column(column)
        .value(value)
        .hint(format!("keep one row per {noun}, with the correct facts"));
        last_file = issue.file.clone();
        report.push(issue);
    }
    report.omit(last_file, Severity::Error, omitted.len());
}

/// Runs the checks that only an import of a whole export adds to [`run`].
/// They cover a usage table without rows and, in the outcome and intervention
/// history, repeated records, dates after the current month, ARR that
/// disagrees with the outcome and a churn on the day of another outcome. A single file bound for the store's ledger skips
/// them, because the ledger runs the same rules against its stored records.
pub(crate) fn run_history(
    frames: &Frames,
    files: &Files,
    failed: &BTreeSet<TableKind>,
    report: &mut Report,
) {
    if frames[&TableKind::Usage].height() == 0 && !failed.contains(&TableKind::Usage) {
        report.push(
            Issue::new(
                Severity::Warning,
                Check::EmptyTable,
                "the usage table has no rows: no account can be scored or trained on",
            )
            .table(TableKind::Usage)
            .hint(
                "export the usage again with its rows; a file with only its header imports nothing",
            ),
        );
    }
    conflicting_repeats(TableKind::Outcomes, frames, files, report);
    conflicting_repeats(TableKind::Interventions, frames, files, report);
    let tables = [TableKind::Outcomes, TableKind::Interventions];
    future_dates(frames, files, &tables, latest_event_date(), report);
    outcome_amounts(frames, files, report);
    same_day_churn(frames, files, report);
}

/// Logs the time of each step at debug level.
pub(crate) struct Clock {
    last: std::time::Instant,
}

impl Clock {
    /// Starts timing the first step.
    pub(crate) fn start() -> Clock {
        Clock {
            last: std::time::Instant::now(),
        }
    }

    /// Logs the time since the previous lap under `step`.
    pub(crate) fn lap(&mut self, step: &str) {
        let now = std::time::Instant::now();
        tracing::debug!(step, seconds = (now - self.last).as_secs_f64(), "step done");
        self.last = now;
    }
}

fn unique_keys(frames: &Frames, files: &Files, mapping: &Mapping, report: &mut Report) {
    let mut keys: Vec<(TableKind, Vec<&str>)> = vec![
        (TableKind::Accounts, vec!["account_id"]),
        (TableKind::Contracts, vec!["contract_id"]),
        (TableKind::Entitlements, vec!["contract_id", "entitlement"]),
    ];
    if mapping.usage_grain.is_none() {
        keys.push((TableKind::Usage, vec!["account_id", "date", "metric"]));
    }
    repeated_keys(frames, files, keys, report);
}

/// Reports every row whose key repeats an earlier row's, per table.
fn repeated_keys(
    frames: &Frames,
    files: &Files,
    keys: Vec<(TableKind, Vec<&str>)>,
    report: &mut Report,
) {
    for (kind, key) in keys {
        let df = &frames[&kind];
        let positions = duplicate_positions(df, &key);
        if positions.is_empty() {
            continue;
        }
        let indices = IdxCa::from_vec("positions".into(), positions);
        let repeated = df.take(&indices).unwrap_or_else(|e| frame_err(e));
        let rows = repeated
            .lazy()
            .sort([FILE_COL, ROW_COL], SortMultipleOptions::default());
        let (list, total) = hits(rows, &key);
        let mut by_key: BTreeMap<Vec<Option<String>>, Vec<&Hit>> = BTreeMap::new();
        for hit in &list {
            by_key.entry(hit.values.clone()).or_default().push(hit);
        }
        let names = key.join(", ");
        for (values, occurrences) in by_key {
            let shown: Vec<String> = values
                .iter()
                .map(|v| v.clone().unwrap_or_default())
                .collect();
            let rows: Vec<String> = occurrences
                .iter()
                .map(|h| row_mark(&files.path(h.file), h.row + 1))
                .collect();
            let second = occurrences.get(1).unwrap_or(&occurrences[0]);
            report.push(
                Issue::new(
                    Severity::Error,
                    Check::DuplicateKey,
                    format!(
                        "duplicate {kind} {names}: {} appears on {} rows ({})",
                        shown.join(", "),
                        occurrences.len(),
                        rows.join(", ")
                    ),
                )
                .table(kind)
                .file(files.path(second.file))
                .at(Location::Row(second.row + 1))
                .column(key[0])
                .value(shown.join(", "))
                .hint(format!(
                    "keep one row per {names}, or remove the repeated rows"
                )),
            );
        }
        if total > list.len() {
            report.push(
                Issue::new(
                    Severity::Error,
                    Check::DuplicateKey,
                    format!("{} more {kind} rows repeat a {names}", total - list.len()),
                )
                .table(kind)
                .hint(format!("keep one row per {names}"))
                .count(total - list.len()),
            );
        }
    }
}

/// Returns the positions of rows whose key repeats, in ascending order.
///
/// Rows are hashed into one `u64` each and the sorted hashes are compared, so
/// memory grows by about 16 bytes per row instead of a hash table of every
/// key. Rows that share a hash are then compared by their key text.
fn duplicate_positions(df: &DataFrame, key: &[&str]) -> Vec<IdxSize> {
    if let Some(positions) = keys::repeated_keys(df, key).unwrap_or_else(|e| frame_err(e)) {
        tracing::debug!(
            ?key,
            "rows sorted by part of the key: repeats looked for within runs"
        );
        return positions;
    }
    tracing::debug!(
        ?key,
        "rows sorted by no key column: repeats looked for by hashing"
    );
    let hashes = row_hashes(df, key);
    let mut sorted = hashes.clone();
    sorted.sort_unstable();
    let shared: HashSet<u64> = sorted
        .windows(2)
        .filter(|pair| pair[0] == pair[1])
        .map(|pair| pair[0])
        .collect();
    drop(sorted);
    if shared.is_empty() {
        return Vec::new();
    }

    let candidates: Vec<IdxSize> = (0..hashes.len())
        .filter(|&i| shared.contains(&hashes[i]))
        .map(|i| i as IdxSize)
        .collect();
    let indices = IdxCa::from_vec("candidates".into(), candidates.clone());
    let subset = df.take(&indices).unwrap_or_else(|e| frame_err(e));
    let texts: Vec<Vec<Option<String>>> =
        key.iter().map(|name| column_texts(&subset, name)).collect();
    let mut by_key: HashMap<Vec<Option<String>>, Vec<IdxSize>> = HashMap::new();
    for (i, position) in candidates.into_iter().enumerate() {
        let values: Vec<Option<String>> = texts.iter().map(|t| t[i].clone()).collect();
        // A blank key part comes from a cell already reported as blank or invalid.
        if values.iter().all(Option::is_some) {
            by_key.entry(values).or_default().push(position);
        }
    }
    let mut positions: Vec<IdxSize> = by_key
        .into_values()
        .filter(|rows| rows.len() > 1)
        .flatten()
        .collect();
    positions.sort_unstable();
    positions
}

/// Hashes each row's key columns into one value (strings by their bytes,
/// other types by their text).
fn row_hashes(df: &DataFrame, key: &[&str]) -> Vec<u64> {
    let mut hashes = vec![0u64; df.height()];
    for name in key {
        let column = df.column(name).unwrap_or_else(|e| frame_err(e));
        let mix = |hash: &mut u64, value: u64| {
            *hash = (*hash ^ value)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(29);
        };
        match column.dtype() {
            DataType::String => {
                let text = column.str().unwrap_or_else(|e| frame_err(e));
                for (hash, value) in hashes.iter_mut().zip(text.iter()) {
                    mix(hash, value.map_or(u64::MAX, hash_bytes));
                }
            }
            DataType::Date => {
                let dates = column.date().unwrap_or_else(|e| frame_err(e));
                for (hash, value) in hashes.iter_mut().zip(dates.physical().iter()) {
                    mix(hash, value.map_or(u64::MAX, |d| d as u64));
                }
            }
            _ => {
                let text = column_texts(df, name);
                for (hash, value) in hashes.iter_mut().zip(text) {
                    mix(hash, value.map_or(u64::MAX, |v| hash_bytes(&v)));
                }
            }
        }
    }
    hashes
}

fn hash_bytes(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Reads a column as text; numbers as written by Rust (`-5`, not `-5.0`).
fn column_texts(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let column = df.column(name).unwrap_or_else(|e| frame_err(e));
    if let Ok(numbers) = column.f64() {
        return numbers.iter().map(|v| v.map(|v| v.to_string())).collect();
    }
    let text = column
        .cast(&DataType::String)
        .unwrap_or_else(|e| frame_err(e));
    text.str()
        .unwrap_or_else(|e| frame_err(e))
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

fn references(frames: &Frames, files: &Files, failed: &BTreeSet<TableKind>, report: &mut Report) {
    let cases = [
        (
            TableKind::Contracts,
            "account_id",
            TableKind::Accounts,
            "account_id",
        ),
        (
            TableKind::Entitlements,
            "contract_id",
            TableKind::Contracts,
            "contract_id",
        ),
        (
            TableKind::Usage,
            "account_id",
            TableKind::Accounts,
            "account_id",
        ),
        (
            TableKind::Outcomes,
            "account_id",
            TableKind::Accounts,
            "account_id",
        ),
        (
            TableKind::Outcomes,
            "contract_id",
            TableKind::Contracts,
            "contract_id",
        ),
        (
            TableKind::Interventions,
            "account_id",
            TableKind::Accounts,
            "account_id",
        ),
    ];
    for (kind, column, target, target_column) in cases {
        if failed.contains(&target) {
            continue;
        }
        let Some(unknown_ids) =
            unknown_values(&frames[&kind], column, &frames[&target], target_column)
        else {
            continue;
        };
        let id_column = kind.columns()[0].name;
        let unknown = frames[&kind]
            .clone()
            .lazy()
            .select(
                [column, id_column, FILE_COL, ROW_COL]
                    .into_iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .map(col)
                    .collect::<Vec<_>>(),
            )
            .filter(col(column).is_in(lit(unknown_ids).implode(false), false));
        push_hits(report, files, hits(unknown, &[column, id_column]), |hit| {
            let value = hit.values[0].clone().unwrap_or_default();
            Issue::new(
                Severity::Error,
                Check::UnknownReference,
                format!("{kind}.{column} points to no row of {target}"),
            )
            .table(kind)
            .column(column)
            .value(value)
            .hint(format!(
                "add the {target} row, fix the id, or skip the row in the mapping (ids are compared exactly, including leading zeros)"
            ))
        });
    }
}

/// Returns the distinct values of `df.column` missing from `target.target_column`,
/// or `None` when every value is found.
///
/// Comparing distinct values instead of every row keeps the check to one
/// hash lookup per account rather than one per usage row.
fn unknown_values(
    df: &DataFrame,
    column: &str,
    target: &DataFrame,
    target_column: &str,
) -> Option<Series> {
    let distinct = keys::distinct_values(df, column).unwrap_or_else(|e| frame_err(e));
    let targets = target
        .column(target_column)
        .unwrap_or_else(|e| frame_err(e))
        .as_materialized_series()
        .clone();
    let unknown = distinct
        .clone()
        .into_frame()
        .lazy()
        .filter(col(column).is_in(lit(targets).implode(false), false).not())
        .collect()
        .unwrap_or_else(|e| frame_err(e));
    if unknown.height() == 0 {
        return None;
    }
    Some(
        unknown
            .column(column)
            .unwrap_or_else(|e| frame_err(e))
            .as_materialized_series()
            .clone(),
    )
}

fn contract_dates(frames: &Frames, files: &Files, report: &mut Report) {
    let backwards = frames[&TableKind::Contracts]
        .clone()
        .lazy()
        .filter(col("end_date").lt(col("start_date")));
    push_hits(
        report,
        files,
        hits(backwards, &["contract_id", "start_date", "end_date"]),
        |hit| {
            let v = |i: usize| hit.values[i].clone().unwrap_or_default();
            Issue::new(
                Severity::Error,
                Check::EndBeforeStart,
                format!("contract {} ends ({}) before it starts ({})", v(0), v(2), v(1)),
            )
            .table(TableKind::Contracts)
            .column("end_date")
            .value(v(2))
            .hint("swap or correct the dates, or check that start and end columns are not mapped the other way round")
        },
    );
}

fn signs(frames: &Frames, files: &Files, report: &mut Report) {
    let cases = [
        (TableKind::Contracts, "arr"),
        (TableKind::Entitlements, "limit"),
        (TableKind::Usage, "value"),
        (TableKind::Outcomes, "arr_before"),
        (TableKind::Outcomes, "arr_after"),
    ];
    for (kind, column) in cases {
        let id_column = kind.columns()[0].name;
        let needed = || {
            [column, id_column, FILE_COL, ROW_COL]
                .into_iter()
                .map(col)
                .collect::<Vec<_>>()
        };
        let negative = frames[&kind]
            .clone()
            .lazy()
            .select(needed())
            .filter(col(column).lt(lit(0.0)));
        push_hits(report, files, hits(negative, &[column, id_column]), |hit| {
            let value = hit.values[0].clone().unwrap_or_default();
            let id = hit.values[1].clone().unwrap_or_default();
            Issue::new(
                Severity::Error,
                Check::NegativeValue,
                format!("negative {column} for {id_column} {id}"),
            )
            .table(kind)
            .column(column)
            .value(value)
            .hint(match column {
                "limit" => "limits are 0 or more; write 0 or leave the cell blank for unlimited",
                "value" => "usage values are counts or quantities of 0 or more",
                _ => "amounts are 0 or more; record a reduction as a contracted outcome",
            })
        });
        let not_finite = frames[&kind]
            .clone()
            .lazy()
            .select(needed())
            .filter(col(column).is_nan().or(col(column).is_infinite()));
        push_hits(report, files, hits(not_finite, &[column]), |hit| {
            Issue::new(
                Severity::Error,
                Check::BadValue,
                format!("{column} is not a finite number"),
            )
            .table(kind)
            .column(column)
            .value(hit.values[0].clone().unwrap_or_default())
            .hint("write a number, or leave the cell blank when it is unknown")
        });
    }
}

fn currencies(frames: &Frames, mapping: &Mapping, report: &mut Report) {
    let codes: BTreeMap<String, usize> = frames[&TableKind::Contracts]
        .column("currency")
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|c| {
            let mut counts = BTreeMap::new();
            for code in c.iter().flatten() {
                *counts.entry(code.to_string()).or_default() += 1;
            }
            counts
        })
        .unwrap_or_default();
    match &mapping.currency {
        Some(spec) => {
            for (code, n) in &codes {
                if code != &spec.report && !spec.rates.contains_key(code) {
                    report.push(
                        Issue::new(
                            Severity::Error,
                            Check::Currency,
                            format!("{n} contract(s) in {code} but [currency] has no rate from {code} to {}", spec.report),
                        )
                        .table(TableKind::Contracts)
                        .value(code.clone())
                        .hint(format!("add {code} = <{} per {code}> under [currency] rates", spec.report)),
                    );
                }
            }
        }
        None if codes.len() > 1 => {
            let listed: Vec<String> = codes.iter().map(|(c, n)| format!("{c} ({n})")).collect();
            report.push(
                Issue::new(
                    Severity::Warning,
                    Check::Currency,
                    format!(
                        "contracts use several currencies, {}, and the mapping has no FX table: ARR totals and comparisons across accounts will be refused",
                        listed.join(", ")
                    ),
                )
                .table(TableKind::Contracts)
                .hint("add [currency] report = \"USD\" with rates = { EUR = 1.08, ... } to the mapping")
                .count(codes.len()),
            );
        }
        None => {}
    }
}

/// Counts contracts that start before an earlier-starting contract of the same
/// account has ended (end dates are exclusive).
fn overlapping_contracts(frames: &Frames, report: &mut Report) {
    let overlapping = frames[&TableKind::Contracts]
        .clone()
        .lazy()
        .sort(
            ["account_id", "start_date", "end_date", "contract_id"],
            SortMultipleOptions::default(),
        )
        .with_column(
            col("end_date")
                .cum_max(false)
                .shift(lit(1))
                .over([col("account_id")])
                .unwrap_or_else(|e| frame_err(e))
                .alias("__previous_end"),
        )
        .filter(col("start_date").lt(col("__previous_end")))
        .select([col("account_id"), col("contract_id")])
        .collect()
        .unwrap_or_else(|e| frame_err(e));
    if overlapping.height() == 0 {
        return;
    }
    let accounts: BTreeSet<String> = overlapping
        .column("account_id")
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|c| c.iter().flatten().map(str::to_string).collect())
        .unwrap_or_default();
    let example = overlapping
        .column("contract_id")
        .ok()
        .and_then(|c| c.str().ok().and_then(|s| s.get(0).map(str::to_string)))
        .unwrap_or_default();
    let n = overlapping.height();
    report.push(
        Issue::new(
            Severity::Warning,
            Check::OverlappingContracts,
            format!(
                "{} contract(s) in {} account(s) start before an earlier contract of the same account ends, such as {example}",
                group(n),
                group(accounts.len())
            ),
        )
        .table(TableKind::Contracts)
        .hint("overlapping contracts are kept as separate contracts of the account; one that ends on the same day as the contract it overlaps is read as an amendment that restates it ([features] amendments); if they are renewals of one contract, end each term where the next starts")
        .count(n),
    );
}

/// Compares the accounts' own churn flag with the churned outcomes.
fn churn_flags(frames: &Frames, report: &mut Report) {
    let accounts = &frames[&TableKind::Accounts];
    let flagged = accounts
        .column(CHURN_FLAG)
        .map(|c| c.null_count() < c.len())
        .unwrap_or(false);
    if !flagged {
        return;
    }
    let churned = frames[&TableKind::Outcomes]
        .clone()
        .lazy()
        .filter(col("outcome").eq(lit("churned")))
        .select([col("account_id")])
        .unique(None, UniqueKeepStrategy::Any)
        .with_column(lit(true).alias("__has_churn"));
    let compared = accounts
        .clone()
        .lazy()
        .filter(col(CHURN_FLAG).is_not_null())
        .join(
            churned,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .select([
            col("account_id"),
            col(CHURN_FLAG),
            col("__has_churn").fill_null(lit(false)),
        ])
        .collect()
        .unwrap_or_else(|e| frame_err(e));
    let flags = compared
        .column(CHURN_FLAG)
        .unwrap_or_else(|e| frame_err(e))
        .bool()
        .unwrap_or_else(|e| frame_err(e))
        .clone();
    let has = compared
        .column("__has_churn")
        .unwrap_or_else(|e| frame_err(e))
        .bool()
        .unwrap_or_else(|e| frame_err(e))
        .clone();
    let ids = compared
        .column("account_id")
        .unwrap_or_else(|e| frame_err(e))
        .str()
        .unwrap_or_else(|e| frame_err(e))
        .clone();
    let mut flag_only = Vec::new();
    let mut outcome_only = Vec::new();
    for i in 0..compared.height() {
        match (flags.get(i), has.get(i)) {
            (Some(true), Some(false)) => flag_only.push(ids.get(i).unwrap_or_default().to_string()),
            (Some(false), Some(true)) => {
                outcome_only.push(ids.get(i).unwrap_or_default().to_string())
            }
            _ => {}
        }
    }
    let n = flag_only.len() + outcome_only.len();
    if n == 0 {
        return;
    }
    flag_only.sort();
    outcome_only.sort();
    let example = flag_only
        .first()
        .or(outcome_only.first())
        .cloned()
        .unwrap_or_default();
    report.push(
        Issue::new(
            Severity::Warning,
            Check::ChurnFlagMismatch,
            format!(
                "{} account(s) whose churn flag disagrees with the churned outcomes: {} flagged without a churned outcome, {} with a churned outcome but not flagged, such as {example}",
                group(n),
                group(flag_only.len()),
                group(outcome_only.len())
            ),
        )
        .table(TableKind::Accounts)
        .hint("headroom labels churn from the outcomes table; check which source the CRM trusts")
        .count(n),
    );
}

/// Counts usage rows above the seat limit of a contract of the account that
/// covers the row's date. They are kept: overage is a signal, not an error.
fn above_limits(frames: &Frames, report: &mut Report) {
    let limits = frames[&TableKind::Entitlements]
        .clone()
        .lazy()
        .filter(
            col("kind")
                .eq(lit("seats"))
                .and(col("metric").is_not_null())
                .and(col("limit").gt(lit(0.0))),
        )
        .join(
            frames[&TableKind::Contracts].clone().lazy(),
            [col("contract_id")],
            [col("contract_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .select([
            col("account_id"),
            col("metric"),
            col("limit"),
            col("start_date"),
            col("end_date"),
        ]);
    let limits = limits.collect().unwrap_or_else(|e| frame_err(e));
    if limits.height() == 0 {
        return;
    }
    let n = overage::rows_above_limits(&frames[&TableKind::Usage], &limits)
        .unwrap_or_else(|e| frame_err(e));
    if n == 0 {
        return;
    }
    report.push(
        Issue::new(
            Severity::Note,
            Check::AboveLimit,
            format!(
                "{} usage row(s) above the seat limit of their contract, kept as they are",
                group(n)
            ),
        )
        .table(TableKind::Usage)
        .count(n),
    );
}

/// Counts dates on or before 1900-01-01, which spreadsheets write for empty
/// or zero dates.
fn placeholder_dates(frames: &Frames, report: &mut Report) {
    let cutoff =
        crate::cell::epoch_days(chrono::NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date"));
    for (kind, df) in frames {
        for spec in kind
            .columns()
            .iter()
            .filter(|c| c.kind.dtype() == DataType::Date)
        {
            let Ok(column) = df.column(spec.name) else {
                continue;
            };
            let Ok(dates) = column.as_materialized_series().date() else {
                continue;
            };
            let early: Vec<i32> = dates
                .physical()
                .iter()
                .flatten()
                .filter(|d| *d <= cutoff)
                .collect();
            if early.is_empty() {
                continue;
            }
            report.push(
                Issue::new(
                    Severity::Warning,
                    Check::PlaceholderDate,
                    format!(
                        "{} {kind}.{} date(s) on or before 1900-01-01, such as {}: likely placeholders for a missing date",
                        early.len(),
                        spec.name,
                        from_epoch_days(early[0])
                    ),
                )
                .table(*kind)
                .column(spec.name)
                .hint("leave unknown dates blank in the export, or correct them")
                .count(early.len()),
            );
        }
    }
}

/// Returns the latest date a usage row, outcome or intervention may carry:
/// the last day of the current month, counted from tomorrow in UTC (today
/// somewhere, so an export dated on the first of a month ahead of UTC passes).
/// Later days of the current month pass because monthly exports often date a
/// month's rows on its last day.
pub fn latest_event_date() -> chrono::NaiveDate {
    month_end(chrono::Utc::now().date_naive() + chrono::Days::new(1))
}

/// Reports rows of `tables` (usage, outcomes, interventions) dated after
/// `limit`. The latest usage date becomes the default scoring date. The
/// latest usage or outcome date ends the history that decides which training
/// rows are labelled. A single mistyped year (2099 for 2026) would otherwise
/// count the months up to it as zero usage or as months without outcomes.
fn future_dates(
    frames: &Frames,
    files: &Files,
    tables: &[TableKind],
    limit: chrono::NaiveDate,
    report: &mut Report,
) {
    let cases = [
        (
            TableKind::Usage,
            "usage date",
            "correct the date: usage cannot be measured in a later month, and the latest usage date becomes the default scoring date",
        ),
        (
            TableKind::Outcomes,
            "outcome date",
            "correct the date: record an outcome once it has happened, because a later date moves the end of the history that decides which training rows are labelled",
        ),
        (
            TableKind::Interventions,
            "intervention date",
            "correct the date: record an intervention once it has happened",
        ),
    ];
    for (kind, label, hint) in cases.into_iter().filter(|(k, ..)| tables.contains(k)) {
        let rows = frames[&kind]
            .clone()
            .lazy()
            .filter(col("date").gt(lit(crate::cell::epoch_days(limit)).cast(DataType::Date)))
            .sort([FILE_COL, ROW_COL], SortMultipleOptions::default());
        push_hits(report, files, hits(rows, &["date"]), |hit| {
            let value = hit.values[0].clone().unwrap_or_default();
            Issue::new(
                Severity::Error,
                Check::FutureDate,
                format!("{label} after the end of the current month ({limit})"),
            )
            .table(kind)
            .column("date")
            .value(value)
            .hint(hint)
        });
    }
}

/// Reports outcomes whose ARR after disagrees with the outcome word: a churn
/// that keeps ARR, an expansion that does not grow it, a contraction that
/// does not shrink it. Such a row usually means the words or the amounts of
/// the export are mapped wrongly, and the review would count it under the
/// wrong outcome.
fn outcome_amounts(frames: &Frames, files: &Files, report: &mut Report) {
    let outcome = || col("outcome");
    let (before, after) = (|| col("arr_before"), || col("arr_after"));
    let cases = [
        (
            outcome().eq(lit("churned")).and(after().neq(lit(0.0))),
            "not 0",
            "a churned account keeps no ARR: write 0 or leave arr_after blank, or record the outcome as contracted",
        ),
        (
            outcome().eq(lit("expanded")).and(after().lt_eq(before())),
            "not above arr_before",
            "check the amounts, or record the outcome as renewed or contracted",
        ),
        (
            outcome().eq(lit("contracted")).and(after().gt_eq(before())),
            "not below arr_before",
            "check the amounts, or record the outcome as renewed or expanded",
        ),
    ];
    for (wrong, relation, hint) in cases {
        let rows = frames[&TableKind::Outcomes]
            .clone()
            .lazy()
            .filter(wrong)
            .sort([FILE_COL, ROW_COL], SortMultipleOptions::default());
        let columns = ["outcome", "account_id", "arr_before", "arr_after"];
        push_hits(report, files, hits(rows, &columns), |hit| {
            let v = |i: usize| hit.values[i].clone().unwrap_or_default();
            Issue::new(
                Severity::Error,
                Check::BadValue,
                format!(
                    "{} outcome for account {} with arr_after {}, {relation} (arr_before {})",
                    v(0),
                    v(1),
                    v(3),
                    if v(2).is_empty() {
                        "blank".to_string()
                    } else {
                        v(2)
                    }
                ),
            )
            .table(TableKind::Outcomes)
            .column("arr_after")
            .value(v(3))
            .hint(hint)
        });
    }
}

/// Reports a churn and another outcome of the same account on the same day.
///
/// Within one contract, or between two outcomes that name none, the rows
/// contradict each other: a customer who left cannot also have renewed,
/// expanded or contracted that day, and the labels and the review would count
/// both. That is an error. Across contracts it can be real (one subscription
/// ends as another starts, or an account-level churn is dated on the day of a
/// subscription's change), so it is a warning that both are counted.
fn same_day_churn(frames: &Frames, files: &Files, report: &mut Report) {
    let df = frames[&TableKind::Outcomes]
        .clone()
        .lazy()
        .sort([FILE_COL, ROW_COL], SortMultipleOptions::default())
        .collect()
        .unwrap_or_else(|e| frame_err(e));
    let text = |name: &str| column_texts(&df, name);
    let (ids, dates, words, contracts) = (
        text("account_id"),
        text("date"),
        text("outcome"),
        text("contract_id"),
    );
    let file_of = df
        .column(FILE_COL)
        .and_then(|c| c.u32().cloned())
        .unwrap_or_else(|e| frame_err(e));
    let row_of = df
        .column(ROW_COL)
        .and_then(|c| c.idx().cloned())
        .unwrap_or_else(|e| frame_err(e));
    let place = |i: usize| {
        (
            files.path(file_of.get(i).unwrap_or(0)),
            row_of.get(i).unwrap_or(0) as usize + 1,
        )
    };

    let mut churn_on_day: HashMap<(&str, &str), usize> = HashMap::new();
    let mut churn_of_record: HashMap<(&str, &str, Option<&str>), usize> = HashMap::new();
    for i in 0..df.height() {
        if let (Some(id), Some(date), Some("churned")) = (&ids[i], &dates[i], words[i].as_deref()) {
            churn_on_day.entry((id, date)).or_insert(i);
            churn_of_record
                .entry((id, date, contracts[i].as_deref()))
                .or_insert(i);
        }
    }

    let mut listed = 0;
    let mut omitted = [0usize; 2];
    let mut last_file = [None, None];
    for i in 0..df.height() {
        let (Some(id), Some(date), Some(word)) = (&ids[i], &dates[i], words[i].as_deref()) else {
            continue;
        };
        if word == "churned" {
            continue;
        }
        let same_record =
            churn_of_record.get(&(id.as_str(), date.as_str(), contracts[i].as_deref()));
        let (churn, severity) = match same_record {
            Some(&j) => (j, Severity::Error),
            None => match churn_on_day.get(&(id.as_str(), date.as_str())) {
                Some(&j) => (j, Severity::Warning),
                None => continue,
            },
        };
        let slot = usize::from(severity == Severity::Warning);
        if listed >= MAX_LISTED_ROWS {
            omitted[slot] += 1;
            continue;
        }
        listed += 1;
        let (churn_path, churn_row) = place(churn);
        let churn_at = row_mark(&churn_path, churn_row);
        let (path, row) = place(i);
        let issue = match severity {
            Severity::Error => Issue::new(
                severity,
                Check::BadValue,
                format!(
                    "outcome {word} for account {id} on {date} contradicts the churned outcome of the same day and contract on {churn_at}"
                ),
            )
            .hint("keep one outcome per account, day and contract when one of them is a churn: fix the date or the outcome of one row"),
            _ => {
                let churn_contract = match &contracts[churn] {
                    Some(contract) => format!("contract {contract}"),
                    None => "no contract".to_string(),
                };
                Issue::new(
                    severity,
                    Check::BadValue,
                    format!(
                        "outcome {word} for account {id} on {date} shares its day with a churned outcome naming {churn_contract} on {churn_at}; the labels count both"
                    ),
                )
                .hint("if the account left that day, drop the other outcome; if only one contract ended, give the churn its contract_id or record it as contracted")
            }
        }
        .table(TableKind::Outcomes)
        .file(path)
        .at(Location::Row(row))
        .column("outcome")
        .value(word);
        last_file[slot] = issue.file.clone();
        report.push(issue);
    }
    report.omit(last_file[0].take(), Severity::Error, omitted[0]);
    report.omit(last_file[1].take(), Severity::Warning, omitted[1]);
}

/// Returns the last day of the month of `date`.
fn month_end(date: chrono::NaiveDate) -> chrono::NaiveDate {
    use chrono::Datelike;
    let (year, month) = match date.month() {
        12 => (date.year() + 1, 1),
        month => (date.year(), month + 1),
    };
    chrono::NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|first| first.pred_opt())
        .expect("the month after a valid date has a first day")
}
