//! The validation report: errors, warnings and notes with their file, line,
//! column and value, counted findings, and a summary of each table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::contract::TableKind;

/// At most this many located errors (and as many located warnings) are kept
/// per file; the rest are counted and reported as "and N more".
pub const MAX_ISSUES_PER_FILE: usize = 50;

/// The severity of an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The input cannot be imported until it is fixed.
    Error,
    /// The input imports, but a number may mislead; look at it.
    Warning,
    /// An action of the import: rows skipped or excluded, cells filled, formats inferred.
    Note,
}

/// The rule an issue comes from, stable for tests and tooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// A file or folder named by the mapping does not exist or cannot be read.
    MissingFile,
    /// A column named by the mapping is not in the file.
    MissingColumn,
    /// A cell that cannot be read as its column's type.
    BadValue,
    /// A blank cell in a required column.
    MissingValue,
    /// Category words outside the known set.
    UnknownCategory,
    /// A date column whose cells imply both day-first and month-first orders,
    /// or neither.
    AmbiguousDates,
    /// A negative count, limit or amount.
    NegativeValue,
    /// An id that must be unique appears more than once.
    DuplicateKey,
    /// A reference to an id missing from the table it points to.
    UnknownReference,
    /// An end date before its start date.
    EndBeforeStart,
    /// A currency without an FX rate, or several currencies without an FX table.
    Currency,
    /// Rows dated before the start of the record their key points to.
    BeforeStart,
    /// Rows dated after the end of the record their key points to.
    AfterEnd,
    /// An account's churn flag disagrees with its churned outcomes.
    ChurnFlagMismatch,
    /// Contracts of one account that overlap in time.
    OverlappingContracts,
    /// A source column declared unique has repeated values.
    DuplicateSourceId,
    /// Usage above the limit of a seat entitlement (kept as it is).
    AboveLimit,
    /// An entitlement measured by a metric the usage table does not have.
    UnknownMetric,
    /// Dates so early that they are likely placeholders (1900-01-01 and before).
    PlaceholderDate,
    /// Usage, outcomes or interventions dated after the end of the current
    /// month.
    FutureDate,
    /// Rows dropped by a mapping rule.
    RowsSkipped,
    /// Accounts left out by `[exclude]`, and their rows in other tables.
    Excluded,
    /// Blank cells filled by a rule.
    Filled,
    /// A limit of 0 read as unlimited.
    UnlimitedLimit,
    /// A date order inferred from the cells.
    DateOrderInferred,
    /// Rows combined into one per account, metric and period.
    Combined,
    /// Rows or cells derived by a rule (anniversaries, renewal dates).
    Derived,
    /// A table that must hold rows for scoring has none.
    EmptyTable,
}

/// The position of an issue in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A CSV line, 1-based, counting the header as line 1.
    Line(usize),
    /// A Parquet row, 1-based.
    Row(usize),
}

/// One finding of validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// The severity.
    pub severity: Severity,
    /// The rule it comes from.
    pub check: Check,
    /// The contract table concerned.
    pub table: Option<TableKind>,
    /// The file concerned.
    pub file: Option<PathBuf>,
    /// The line or row in the file.
    pub location: Option<Location>,
    /// The column (as named in the file).
    pub column: Option<String>,
    /// The offending value, as written.
    pub value: Option<String>,
    /// The problem found, or the action taken.
    pub message: String,
    /// The change to make; empty for notes that need no action.
    pub hint: String,
    /// How many rows, cells or ids this finding covers.
    pub count: usize,
}

impl Issue {
    /// Creates an issue with a severity, rule and message. The builder methods
    /// set the rest.
    pub fn new(severity: Severity, check: Check, message: impl Into<String>) -> Issue {
        Issue {
            severity,
            check,
            table: None,
            file: None,
            location: None,
            column: None,
            value: None,
            message: message.into(),
            hint: String::new(),
            count: 1,
        }
    }

    /// Sets the table.
    pub fn table(mut self, table: TableKind) -> Issue {
        self.table = Some(table);
        self
    }

    /// Sets the file.
    pub fn file(mut self, file: impl Into<PathBuf>) -> Issue {
        self.file = Some(file.into());
        self
    }

    /// Sets the location in the file.
    pub fn at(mut self, location: Location) -> Issue {
        self.location = Some(location);
        self
    }

    /// Sets the column.
    pub fn column(mut self, column: impl Into<String>) -> Issue {
        self.column = Some(column.into());
        self
    }

    /// Sets the offending value.
    pub fn value(mut self, value: impl Into<String>) -> Issue {
        self.value = Some(value.into());
        self
    }

    /// Sets the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Issue {
        self.hint = hint.into();
        self
    }

    /// Sets the count (default 1).
    pub fn count(mut self, count: usize) -> Issue {
        self.count = count;
        self
    }

    /// Renders the issue as two lines: what and where, then the hint.
    pub fn render(&self) -> String {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let mut out = format!("{label}: ");
        if let Some(file) = &self.file {
            out.push_str(&file.display().to_string());
            match self.location {
                Some(Location::Line(line)) => {
                    let _ = write!(out, ":{line}");
                }
                Some(Location::Row(row)) => {
                    let _ = write!(out, " row {row}");
                }
                None => {}
            }
            out.push_str(": ");
        } else if let Some(table) = self.table {
            let _ = write!(out, "{table}: ");
        }
        if let Some(column) = &self.column {
            let _ = write!(out, "column {column:?}: ");
        }
        out.push_str(&self.message);
        if let Some(value) = &self.value {
            let _ = write!(out, ": {value:?}");
        }
        if !self.hint.is_empty() {
            let _ = write!(out, "\n  hint: {}", self.hint);
        }
        out
    }
}

/// A table's size, date ranges and blanks, for the summary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableSummary {
    /// Rows in the normalized table.
    pub rows: usize,
    /// Earliest and latest value per date column.
    pub date_ranges: Vec<(String, NaiveDate, NaiveDate)>,
    /// Null count per optional column with at least one null.
    pub nulls: Vec<(String, usize)>,
    /// Extra facts (distinct accounts, metrics).
    pub facts: Vec<String>,
}

/// Everything validation found: issues in the order found, and a summary per table.
#[derive(Debug, Clone, Default)]
pub struct Report {
    issues: Vec<Issue>,
    seen: std::collections::HashSet<String>,
    kept: BTreeMap<(Option<PathBuf>, Severity), usize>,
    omitted: BTreeMap<(Option<PathBuf>, Severity), usize>,
    /// Summary per table, filled once the tables are built.
    pub tables: BTreeMap<TableKind, TableSummary>,
}

impl Report {
    /// Adds an issue, once; located errors and warnings past
    /// [`MAX_ISSUES_PER_FILE`] for one file are only counted.
    pub fn push(&mut self, issue: Issue) {
        if issue.severity == Severity::Note || issue.file.is_none() {
            self.issues.push(issue);
            return;
        }
        let key = (issue.file.clone(), issue.severity);
        let kept = self.kept.get(&key).copied().unwrap_or(0);
        if kept >= MAX_ISSUES_PER_FILE {
            *self.omitted.entry(key).or_default() += 1;
            return;
        }
        if issue.location.is_some() && !self.seen.insert(issue.render()) {
            return;
        }
        self.kept.insert(key, kept + 1);
        self.issues.push(issue);
    }

    /// Returns whether the next located issue of this severity in `file` would
    /// only be counted, so that callers can skip building it.
    pub fn is_full(&self, file: &Path, severity: Severity) -> bool {
        let key = (Some(file.to_path_buf()), severity);
        self.kept.get(&key).copied().unwrap_or(0) >= MAX_ISSUES_PER_FILE
    }

    /// Returns every issue kept, in the order found.
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// Counts `n` more issues of a file without keeping them, for checks that
    /// stop listing rows early.
    pub fn omit(&mut self, file: Option<PathBuf>, severity: Severity, n: usize) {
        if n > 0 {
            *self.omitted.entry((file, severity)).or_default() += n;
        }
    }

    /// Mutable access to the issues kept, to fill in line numbers.
    pub(crate) fn issues_mut(&mut self) -> &mut [Issue] {
        &mut self.issues
    }

    /// Returns the issues of one rule.
    pub fn of(&self, check: Check) -> Vec<&Issue> {
        self.issues.iter().filter(|i| i.check == check).collect()
    }

    /// Counts the errors, including those past the per-file cap.
    pub fn error_count(&self) -> usize {
        self.count_of(Severity::Error)
    }

    /// Counts the warnings, including those past the per-file cap.
    pub fn warning_count(&self) -> usize {
        self.count_of(Severity::Warning)
    }

    fn count_of(&self, severity: Severity) -> usize {
        let kept = self
            .issues
            .iter()
            .filter(|i| i.severity == severity)
            .count();
        let omitted: usize = self
            .omitted
            .iter()
            .filter(|((_, s), _)| *s == severity)
            .map(|(_, n)| n)
            .sum();
        kept + omitted
    }

    /// Returns whether any error was found.
    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// Renders the errors alone, with "and N more" lines, as `import` prints them.
    pub fn render_errors(&self) -> String {
        let mut out = format!(
            "{} error(s) in the input; nothing was written\n",
            self.error_count()
        );
        self.render_severity(&mut out, Severity::Error);
        out.push_str(
            "hint: fix the files or the mapping, then run `headroom validate` to check them",
        );
        out
    }

    fn render_severity(&self, out: &mut String, severity: Severity) {
        let mut issues: Vec<&Issue> = self
            .issues
            .iter()
            .filter(|i| i.severity == severity)
            .collect();
        if severity == Severity::Error {
            // Errors read best file by file, line by line; issues without a
            // file (mapping and whole-table errors) come last.
            issues.sort_by_key(|i| (i.file.is_none(), i.file.clone(), position(i.location)));
        }
        for issue in issues {
            out.push_str(&issue.render());
            out.push('\n');
        }
        for ((file, s), n) in &self.omitted {
            if *s == severity {
                let file = file
                    .as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_default();
                let label = if severity == Severity::Error {
                    "errors"
                } else {
                    "warnings"
                };
                let _ = writeln!(out, "{file}: and {n} more {label}");
            }
        }
    }

    /// Renders the full report: table summaries, then notes, warnings and errors.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_tables(&mut out);
        for (severity, title) in [
            (Severity::Note, "notes"),
            (Severity::Warning, "warnings"),
            (Severity::Error, "errors"),
        ] {
            let count = match severity {
                Severity::Note => self
                    .issues
                    .iter()
                    .filter(|i| i.severity == severity)
                    .count(),
                _ => self.count_of(severity),
            };
            if count == 0 {
                continue;
            }
            let _ = writeln!(out, "\n{title} ({count}):");
            self.render_severity(&mut out, severity);
        }
        let _ = writeln!(
            out,
            "\n{} error(s), {} warning(s)",
            self.error_count(),
            self.warning_count()
        );
        out
    }

    fn render_tables(&self, out: &mut String) {
        if self.tables.is_empty() {
            return;
        }
        let _ = writeln!(out, "tables:");
        for (kind, summary) in &self.tables {
            let _ = writeln!(out, "  {:<14}{:>10} rows", kind.name(), group(summary.rows));
            for (column, first, last) in &summary.date_ranges {
                let _ = writeln!(out, "      {column}: {first} .. {last}");
            }
            for (column, nulls) in &summary.nulls {
                let _ = writeln!(out, "      {column}: {} blank", group(*nulls));
            }
            for fact in &summary.facts {
                let _ = writeln!(out, "      {fact}");
            }
        }
    }
}

fn position(location: Option<Location>) -> usize {
    match location {
        Some(Location::Line(n) | Location::Row(n)) => n,
        None => 0,
    }
}

/// Marks a 1-based data row of a file inside a message. When the report is
/// finished, the mark becomes `line N` for CSV files (counting the header and
/// quoted line breaks) or `row N` for Parquet files.
pub(crate) fn row_mark(path: &Path, row: usize) -> String {
    format!("{ROW_MARK}{}{ROW_SEP}{row}{ROW_MARK}", path.display())
}

/// Starts and ends a row mark.
pub(crate) const ROW_MARK: char = '\u{1}';
/// Separates the path and the row inside a row mark.
pub(crate) const ROW_SEP: char = '\u{2}';

/// Formats a count with thousands separators (`25,000`).
pub fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_caps_errors_per_file() {
        let mut report = Report::default();
        for line in 0..60 {
            report.push(
                Issue::new(Severity::Error, Check::BadValue, "not a number")
                    .file("a.csv")
                    .at(Location::Line(line + 2)),
            );
        }
        assert_eq!(report.issues().len(), MAX_ISSUES_PER_FILE);
        assert_eq!(report.error_count(), 60);
        assert!(report.render_errors().contains("a.csv: and 10 more errors"));
    }

    #[test]
    fn issue_renders_file_line_column_value_hint() {
        let issue = Issue::new(Severity::Error, Check::BadValue, "not a number")
            .file("usage.csv")
            .at(Location::Line(7))
            .column("value")
            .value("12abc")
            .hint("write a number");
        assert_eq!(
            issue.render(),
            "error: usage.csv:7: column \"value\": not a number: \"12abc\"\n  hint: write a number"
        );
    }

    #[test]
    fn group_inserts_separators() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(25000), "25,000");
        assert_eq!(group(1234567), "1,234,567");
    }
}
