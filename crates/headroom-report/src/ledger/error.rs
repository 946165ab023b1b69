//! Errors of the outcome and intervention imports.

use std::path::PathBuf;

use headroom_data::{DataError, Report};
use headroom_store::StoreError;

/// An error while importing or adding outcomes and interventions. Nothing of
/// the file or record was stored when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The file or its mapping could not be read.
    #[error(transparent)]
    Data(#[from] DataError),

    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// The file has invalid rows; the report names each with its line.
    #[error("{}", render_invalid(file, report))]
    Invalid {
        /// The file as given.
        file: PathBuf,
        /// The errors found, with file, line, column and value.
        report: Box<Report>,
    },

    /// A record typed on the command line is invalid.
    #[error("invalid {record}: {problem}\nhint: {hint}; nothing was stored")]
    InvalidRecord {
        /// The record as typed (account, date and outcome or kind).
        record: String,
        /// The problem, with the values involved.
        problem: String,
        /// The change to make.
        hint: String,
    },
}

fn render_invalid(file: &std::path::Path, report: &Report) -> String {
    let errors: Vec<String> = report
        .issues()
        .iter()
        .filter(|issue| issue.severity == headroom_data::Severity::Error)
        .map(|issue| issue.render())
        .collect();
    let count = report.error_count();
    let mut out = format!(
        "{count} error(s) in {}; nothing was stored\n",
        file.display()
    );
    for error in &errors {
        out.push_str(error);
        out.push('\n');
    }
    if count > errors.len() {
        out.push_str(&format!("and {} more error(s)\n", count - errors.len()));
    }
    out.push_str("hint: fix the rows named above and import the whole file again");
    out
}
