//! Renderings of a scoring run: a terminal summary with the top accounts,
//! CSV and JSON with stable column names for CRM import, and one
//! self-contained HTML file with charts.

mod account;
mod csv;
mod customer;
mod html;
mod json;
mod svg;
mod table;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use account::{render_account_html, render_account_json, render_account_text};
pub use csv::{CSV_COLUMNS, render_csv};
pub use customer::{render_customer_html, render_customer_text};
pub use html::render_html;
pub use json::{JSON_FORMAT, render_json};
pub use table::render_table;

use crate::error::ReportError;
use crate::run::ScoreRun;

/// An output format of `headroom score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// A readable terminal summary.
    Table,
    /// One row per account.
    Csv,
    /// The whole run.
    Json,
    /// One self-contained HTML file with charts.
    Html,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Table, Format::Csv, Format::Json, Format::Html];

    /// The format's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Html => "html",
        }
    }

    /// The file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .ok_or_else(|| format!("unknown format {text:?}; use table, csv, json or html"))
    }
}

/// Renders a run in a format.
pub fn render(run: &ScoreRun, format: Format) -> String {
    match format {
        Format::Table => render_table(run),
        Format::Csv => render_csv(run),
        Format::Json => render_json(run),
        Format::Html => render_html(run),
    }
}

/// Writes text to `path` through a temporary file in the same folder and a
/// rename, so a failed run never leaves a half-written report.
///
/// Fails when the folder cannot be created or the file cannot be written.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), ReportError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(io_error(folder))?;

    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    let temporary = folder.join(format!(".{name}.partial-{}", std::process::id()));
    std::fs::write(&temporary, text).map_err(io_error(&temporary))?;
    std::fs::rename(&temporary, path).map_err(|source| {
        let _ = std::fs::remove_file(&temporary);
        ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Writes one report per account owner into `folder`, each holding only that
/// owner's accounts, and returns the files written in owner order.
///
/// File names are the owner's name in lowercase letters, digits and dashes
/// (`dana-lee.html`); accounts without an owner go to `unassigned`.
///
/// Fails when a file cannot be written.
pub fn write_by_owner(
    run: &ScoreRun,
    format: Format,
    folder: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    for owner in run.owners() {
        let path = folder.join(format!("{}.{}", file_stem(&owner), format.extension()));
        write_atomic(&path, &render(&run.for_owner(&owner), format))?;
        written.push(path);
    }
    Ok(written)
}

/// A file stem from a name: lowercase ASCII letters and digits, other runs of
/// characters as one dash.
pub fn file_stem(name: &str) -> String {
    let mut stem = String::with_capacity(name.len());
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            stem.push(ch.to_ascii_lowercase());
        } else if !stem.ends_with('-') {
            stem.push('-');
        }
    }
    let trimmed = stem.trim_matches('-');
    if trimmed.is_empty() {
        "unnamed".to_string()
    } else {
        trimmed.to_string()
    }
}

/// An optional number with a fixed number of decimals, or an empty string.
fn decimals(value: Option<f64>, places: usize) -> String {
    value.map(|v| format!("{v:.places$}")).unwrap_or_default()
}

#[cfg(test)]
mod tests;
