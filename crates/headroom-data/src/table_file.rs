//! Reading one contract table from one file, for commands that add rows to a
//! project later (`headroom outcomes import`, `headroom interventions import`).
//!
//! The file goes through the same mapping, cell parsers and row checks as a
//! full import. Every row keeps the file and line it came from, so a ledger
//! can record its source and a later check can name the line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;

use crate::build::{self, FILE_COL, Loader, ROW_COL};
use crate::checks::{self, Files};
use crate::contract::TableKind;
use crate::derive::{self, Frames};
use crate::error::DataError;
use crate::import::resolve_lines;
use crate::mapping::{Mapping, SourceSpec};
use crate::read::{self, FileFormat};
use crate::report::{Check, Issue, Location, Report, Severity};

/// The origin of a row of a table file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowOrigin {
    /// The part file that contains the row (the file itself, or one file of a
    /// folder of part files).
    pub file: PathBuf,
    /// The 1-based line of a CSV record, counting the header as line 1, or the
    /// 1-based row of a Parquet file.
    pub line: u64,
}

/// One table read from one file, with what validation found.
#[derive(Debug)]
pub struct TableFile {
    /// The table the file was read as.
    pub kind: TableKind,
    /// The rows with exactly the contract columns. When the report has errors,
    /// rows with errors are missing or incomplete: use them only to inspect.
    pub frame: DataFrame,
    /// The origin of each row of `frame`, in the same order.
    pub origins: Vec<RowOrigin>,
    /// Errors, warnings and notes, with lines resolved.
    pub report: Report,
}

/// Reads `file` (a CSV or Parquet file, or a folder of part files) as one
/// contract table, with the mapping's source for that table or the contract
/// format when `mapping` is [`Mapping::contract`].
///
/// A mapping with several sources for the table uses the one whose `file`
/// names the same file as `file`. Files a source refers to (`account_via`
/// lookups) are found beside `file`. `data_end` is the last day anniversary
/// rules may derive outcomes for when their rule names none.
///
/// Problems in the data go to the report. Fails when the mapping has no
/// source for the table, or several and none names `file`.
pub fn load_table_file(
    kind: TableKind,
    file: &Path,
    mapping: &Mapping,
    data_end: Option<NaiveDate>,
) -> Result<TableFile, DataError> {
    let single = single_source_mapping(kind, file, mapping)?;
    let dir = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::new(),
    };

    let mut loader = Loader::new(&dir, &single);
    let mut frame = loader.load_table(kind);
    let derives_dates = single.outcomes.iter().any(|s| s.anniversaries.is_some());
    if kind == TableKind::Outcomes && derives_dates {
        // The loader leaves blank dates to the anniversary rule; what the rule
        // cannot fill is reported here.
        derive::outcome_anniversaries(&mut frame, data_end, &mut loader.report);
        blank_outcome_dates(&frame, &loader.files, &mut loader.report);
    }

    let mut frames = Frames::new();
    for other in TableKind::ALL {
        frames.insert(other, build::empty_frame(other));
    }
    frames.insert(kind, frame);
    // The other tables are empty here, so checks that compare with them
    // (references, churn flags) are left to the caller, which has the project.
    let failed: BTreeSet<TableKind> = TableKind::ALL.into_iter().filter(|k| *k != kind).collect();
    checks::run(
        &frames,
        &Files(&loader.files),
        &single,
        &failed,
        &mut loader.report,
    );

    let frame = frames.remove(&kind).expect("the table was inserted");
    let origins = row_origins(&frame, &loader.files)?;
    let mut report = std::mem::take(&mut loader.report);
    resolve_lines(&mut report);

    let names: Vec<&str> = kind.columns().iter().map(|c| c.name).collect();
    let frame = frame
        .select(names)
        .map_err(|source| DataError::Frame { source })?;
    Ok(TableFile {
        kind,
        frame,
        origins,
        report,
    })
}

/// Builds a mapping with one source for `kind`, reading `file`, and none for
/// the other tables.
fn single_source_mapping(
    kind: TableKind,
    file: &Path,
    mapping: &Mapping,
) -> Result<Mapping, DataError> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string());
    let source = pick_source(kind, file, &name, mapping)?;

    let mut single = mapping.clone();
    for other in TableKind::ALL {
        *sources_of(&mut single, other) = Vec::new();
    }
    single.exclude.rules.clear();
    *sources_of(&mut single, kind) = vec![SourceSpec {
        file: name,
        ..source
    }];
    Ok(single)
}

fn pick_source(
    kind: TableKind,
    file: &Path,
    name: &str,
    mapping: &Mapping,
) -> Result<SourceSpec, DataError> {
    let sources = mapping.sources(kind);
    let mapping_path = || mapping.path.clone().unwrap_or_default();
    match sources {
        [] => Err(DataError::Mapping {
            path: mapping_path(),
            message: format!(
                "the mapping has no [[{kind}]] source to read {} with",
                file.display()
            ),
            hint: format!(
                "add a [[{kind}]] section that maps the file's columns to the {kind} table"
            ),
        }),
        [one] => Ok(one.clone()),
        several => {
            let named = several.iter().find(|source| {
                let path = mapping.file_path(&source.file);
                Path::new(&path)
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy() == name)
            });
            named.cloned().ok_or_else(|| DataError::Mapping {
                path: mapping_path(),
                message: format!(
                    "the mapping has {} [[{kind}]] sources and none reads a file named {name:?}",
                    several.len()
                ),
                hint: format!(
                    "name the file as one of the sources does ({}), or pass a mapping with one [[{kind}]] source",
                    several
                        .iter()
                        .map(|s| mapping.file_path(&s.file))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
        }
    }
}

fn sources_of(mapping: &mut Mapping, kind: TableKind) -> &mut Vec<SourceSpec> {
    match kind {
        TableKind::Accounts => &mut mapping.accounts,
        TableKind::Contracts => &mut mapping.contracts,
        TableKind::Entitlements => &mut mapping.entitlements,
        TableKind::Usage => &mut mapping.usage,
        TableKind::Outcomes => &mut mapping.outcomes,
        TableKind::Interventions => &mut mapping.interventions,
    }
}

/// Reports outcome rows whose date is still blank after the anniversary rule.
fn blank_outcome_dates(frame: &DataFrame, files: &[PathBuf], report: &mut Report) {
    let blank = frame
        .clone()
        .lazy()
        .filter(col("date").is_null())
        .select([col(FILE_COL), col(ROW_COL)])
        .collect()
        .expect("the bookkeeping columns exist");
    let (Ok(file_ids), Ok(rows)) = (blank.column(FILE_COL), blank.column(ROW_COL)) else {
        return;
    };
    let (Ok(file_ids), Ok(rows)) = (file_ids.u32(), rows.idx()) else {
        return;
    };
    for (file_id, row) in file_ids.iter().zip(rows.iter()) {
        let path = files
            .get(file_id.unwrap_or(0) as usize)
            .cloned()
            .unwrap_or_default();
        report.push(
            Issue::new(
                Severity::Error,
                Check::MissingValue,
                "required value is blank",
            )
            .table(TableKind::Outcomes)
            .file(path)
            .at(Location::Row(row.unwrap_or(0) as usize + 1))
            .column("date")
            .value("")
            .hint("fill in the outcome's date, or check the mapping's anniversaries rule"),
        );
    }
}

/// Returns the file and line of every row, reading each CSV part once to
/// follow quoted line breaks.
fn row_origins(frame: &DataFrame, files: &[PathBuf]) -> Result<Vec<RowOrigin>, DataError> {
    let file_ids = frame
        .column(FILE_COL)
        .and_then(|c| c.u32().cloned())
        .map_err(|source| DataError::Frame { source })?;
    let rows = frame
        .column(ROW_COL)
        .and_then(|c| c.idx().cloned())
        .map_err(|source| DataError::Frame { source })?;

    let mut wanted: BTreeMap<u32, BTreeSet<usize>> = BTreeMap::new();
    for (file_id, row) in file_ids.iter().zip(rows.iter()) {
        if let (Some(file_id), Some(row)) = (file_id, row) {
            wanted.entry(file_id).or_default().insert(row as usize + 1);
        }
    }
    let mut lines: BTreeMap<u32, BTreeMap<usize, usize>> = BTreeMap::new();
    for (file_id, rows) in wanted {
        let path = &files[file_id as usize];
        if FileFormat::of(path) == Some(FileFormat::Parquet) {
            continue;
        }
        let found = read::record_lines(path, &rows).map_err(|source| DataError::Io {
            path: path.clone(),
            source,
        })?;
        lines.insert(file_id, found);
    }

    let origins = file_ids
        .iter()
        .zip(rows.iter())
        .map(|(file_id, row)| {
            let file_id = file_id.unwrap_or(0);
            let row = row.unwrap_or(0) as usize + 1;
            let line = lines
                .get(&file_id)
                .and_then(|found| found.get(&row).copied())
                .unwrap_or(row);
            RowOrigin {
                file: files.get(file_id as usize).cloned().unwrap_or_default(),
                line: line as u64,
            }
        })
        .collect();
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn contract_file_keeps_line_of_each_row() {
        let dir = tempfile::tempdir().unwrap();
        let text = "account_id,date,outcome,reason\nA1,2025-01-31,renewed,\"two\nlines\"\nA2,2025-02-28,churned,budget\n";
        let path = write(dir.path(), "november.csv", text);

        let file = load_table_file(TableKind::Outcomes, &path, &Mapping::contract(), None).unwrap();

        assert!(!file.report.has_errors(), "{}", file.report.render());
        assert_eq!(file.frame.height(), 2);
        let lines: Vec<u64> = file.origins.iter().map(|o| o.line).collect();
        // The first record spans lines 2 and 3, so the second starts on line 4.
        assert_eq!(lines, [2, 4]);
        assert_eq!(file.origins[0].file, path);
    }

    #[test]
    fn bad_cell_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let text = "account_id,date,outcome\nA1,2025-01-31,renewed\nA2,2025-02-30,churned\nA3,2025-03-31,lost\n";
        let path = write(dir.path(), "outcomes.csv", text);

        let file = load_table_file(TableKind::Outcomes, &path, &Mapping::contract(), None).unwrap();

        let errors: Vec<&Issue> = file
            .report
            .issues()
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 2, "{}", file.report.render());
        assert_eq!(errors[0].location, Some(Location::Line(3)));
        assert_eq!(errors[0].column.as_deref(), Some("date"));
        assert_eq!(errors[1].location, Some(Location::Line(4)));
        assert_eq!(errors[1].value.as_deref(), Some("lost"));
    }

    #[test]
    fn mapping_renames_columns_and_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "crm.csv",
            "Customer;Closed;Result\nA1;31/01/2025;Won\nA2;28/02/2025;Lost\n",
        );
        let mapping = Mapping::parse(
            r#"
[format]
separator = ";"
date_format = "day-first"

[[outcomes]]
file = "renewals.csv"
columns = { account_id = "Customer", date = "Closed", outcome = "Result" }
values = { outcome = { Won = "renewed", Lost = "churned" } }
"#,
            Path::new("crm.toml"),
        )
        .unwrap();

        let file = load_table_file(TableKind::Outcomes, &path, &mapping, None).unwrap();

        assert!(!file.report.has_errors(), "{}", file.report.render());
        let outcomes: Vec<Option<&str>> = file
            .frame
            .column("outcome")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(outcomes, [Some("renewed"), Some("churned")]);
    }

    #[test]
    fn mapping_without_source_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "outcomes.csv", "account_id,date,outcome\n");
        let mapping =
            Mapping::parse("description = \"usage only\"\n", Path::new("m.toml")).unwrap();

        let err = load_table_file(TableKind::Outcomes, &path, &mapping, None).unwrap_err();

        assert!(matches!(err, DataError::Mapping { .. }), "{err}");
        assert!(err.to_string().contains("no [[outcomes]] source"), "{err}");
    }

    #[test]
    fn negative_amount_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "outcomes.csv",
            "account_id,date,outcome,arr_before\nA1,2025-01-31,renewed,-5\n",
        );

        let file = load_table_file(TableKind::Outcomes, &path, &Mapping::contract(), None).unwrap();

        let negative = file.report.of(Check::NegativeValue);
        assert_eq!(negative.len(), 1, "{}", file.report.render());
        assert_eq!(negative[0].location, Some(Location::Line(2)));
    }
}
