//! Reading source files: one CSV or Parquet file, or a folder of part files.
//!
//! CSV cells are read as text, every column, so that a column's type comes from
//! the contract and never from what its first rows contain. Parquet columns keep
//! their stored types; the import checks and converts them column by column.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use polars::prelude::*;

/// The on-disk format of a part file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated text; every column is read as text.
    Csv,
    /// Parquet with stored column types.
    Parquet,
}

impl FileFormat {
    /// Returns the format of a path by its extension (`.csv`, `.tsv`, `.txt`, `.parquet`, `.pq`).
    pub fn of(path: &Path) -> Option<FileFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(FileFormat::Csv),
            "parquet" | "pq" => Some(FileFormat::Parquet),
            _ => None,
        }
    }
}

/// Finds the part files of a source name inside `dir`: the file itself, the
/// files of a folder (sorted, searched recursively for Hive-style partitions),
/// or `NAME.csv`, `NAME.parquet` or folder `NAME/` when the name has no extension.
///
/// Returns `None` when nothing matches.
pub fn resolve(dir: &Path, name: &str) -> Option<Vec<PathBuf>> {
    let direct = dir.join(name);
    if direct.is_file() {
        return Some(vec![direct]);
    }
    if direct.is_dir() {
        return Some(part_files(&direct));
    }
    if Path::new(name).extension().is_none() {
        for ext in ["csv", "parquet"] {
            let candidate = dir.join(format!("{name}.{ext}"));
            if candidate.is_file() {
                return Some(vec![candidate]);
            }
        }
    }
    None
}

fn part_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') || n.starts_with('_'));
            if hidden {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if FileFormat::of(&path).is_some() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Reads one part file: CSV with every column as text, or Parquet as stored.
///
/// Fails when the file cannot be opened or parsed.
pub fn read_part(path: &Path, separator: u8) -> PolarsResult<DataFrame> {
    match FileFormat::of(path) {
        Some(FileFormat::Parquet) => {
            let file = File::open(path)?;
            ParquetReader::new(file).finish()
        }
        _ => {
            let separator = if path.extension().is_some_and(|e| e == "tsv") {
                b'\t'
            } else {
                separator
            };
            let parse = CsvParseOptions::default().with_separator(separator);
            CsvReadOptions::default()
                .with_infer_schema_length(Some(0))
                .with_raise_if_empty(false)
                .with_parse_options(parse)
                .try_into_reader_with_file_path(Some(path.to_path_buf()))?
                .finish()
        }
    }
}

/// Finds the 1-based line on which each requested data record of a CSV file
/// starts (`rows` are 1-based data rows), counting the header as line 1 and
/// following quoted fields across line breaks. Reads the file in chunks and
/// stops after the last requested row.
pub fn record_lines(
    path: &Path,
    rows: &BTreeSet<usize>,
) -> std::io::Result<BTreeMap<usize, usize>> {
    let mut lines = BTreeMap::new();
    let Some(&last) = rows.last() else {
        return Ok(lines);
    };
    let mut file = File::open(path)?;
    let mut buffer = vec![0u8; 1 << 20];
    let mut line = 1usize;
    let mut record = 0usize;
    let mut in_quotes = false;
    let mut at_record_start = true;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(lines);
        }
        for &b in &buffer[..read] {
            if at_record_start && b != b'\n' && b != b'\r' {
                if record > 0 && rows.contains(&record) {
                    lines.insert(record, line);
                }
                if record >= last {
                    return Ok(lines);
                }
                record += 1;
                at_record_start = false;
            }
            match b {
                b'"' => in_quotes = !in_quotes,
                b'\n' => {
                    line += 1;
                    if !in_quotes {
                        at_record_start = true;
                    }
                }
                _ => {}
            }
        }
    }
}

/// Records of a CSV file whose field count differs from the header's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RaggedRecords {
    /// Fields in the header.
    pub header_fields: usize,
    /// (1-based line, field count) of the first ragged records, up to the limit.
    pub listed: Vec<(usize, usize)>,
    /// Ragged records in the whole file.
    pub total: usize,
}

/// Counts the fields of every record of a CSV file, following quotes, and
/// returns the records whose count differs from the header's. Blank lines are
/// ignored.
pub fn ragged_records(path: &Path, separator: u8, limit: usize) -> std::io::Result<RaggedRecords> {
    let mut file = File::open(path)?;
    let mut buffer = vec![0u8; 1 << 20];
    let mut ragged = RaggedRecords::default();
    let mut header: Option<usize> = None;
    let mut fields = 1usize;
    let mut content = false;
    let mut in_quotes = false;
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut finish = |fields: usize, record_line: usize, ragged: &mut RaggedRecords| match header {
        None => {
            header = Some(fields);
            ragged.header_fields = fields;
        }
        Some(expected) if expected != fields => {
            ragged.total += 1;
            if ragged.listed.len() < limit {
                ragged.listed.push((record_line, fields));
            }
        }
        Some(_) => {}
    };
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        for &b in &buffer[..read] {
            match b {
                b'"' => {
                    in_quotes = !in_quotes;
                    content = true;
                }
                b'\n' => {
                    line += 1;
                    if in_quotes {
                        continue;
                    }
                    if content {
                        finish(fields, record_line, &mut ragged);
                    }
                    fields = 1;
                    content = false;
                    record_line = line;
                }
                b'\r' => {}
                _ if b == separator && !in_quotes => {
                    fields += 1;
                    content = true;
                }
                _ => content = true,
            }
        }
    }
    if content {
        finish(fields, record_line, &mut ragged);
    }
    Ok(ragged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_stay_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.csv");
        std::fs::write(&path, "account_id,seats\n00123,10\n00456,\n").unwrap();
        let df = read_part(&path, b',').unwrap();
        let ids: Vec<_> = df
            .column("account_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ids, [Some("00123"), Some("00456")]);
        assert_eq!(df.column("seats").unwrap().dtype(), &DataType::String);
    }

    #[test]
    fn record_lines_follow_quoted_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.csv");
        std::fs::write(&path, "id,note\n1,\"two\nlines\"\n2,plain\n3,x\n").unwrap();
        let rows = BTreeSet::from([1, 2, 3, 7]);
        let lines = record_lines(&path, &rows).unwrap();
        assert_eq!(lines, BTreeMap::from([(1, 2), (2, 4), (3, 5)]));
    }

    #[test]
    fn ragged_records_name_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.csv");
        let text = "id,name,since\nA1,\"Acme, Inc.\",2020\nA2,Acme, Inc.,2020\n\nA3,Beta\nA4,\"two\nlines\",2021\n";
        std::fs::write(&path, text).unwrap();
        let ragged = ragged_records(&path, b',', 10).unwrap();
        assert_eq!(ragged.header_fields, 3);
        assert_eq!(ragged.listed, [(3, 4), (5, 2)]);
        assert_eq!(ragged.total, 2);
    }

    #[test]
    fn resolve_finds_table_file_or_parts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("accounts.csv"), "a\n").unwrap();
        std::fs::create_dir_all(dir.path().join("usage/month=2024-01")).unwrap();
        std::fs::write(dir.path().join("usage/month=2024-01/part-00001.csv"), "a\n").unwrap();
        std::fs::write(dir.path().join("usage/part-00000.csv"), "a\n").unwrap();
        std::fs::write(dir.path().join("usage/_SUCCESS"), "").unwrap();
        assert_eq!(
            resolve(dir.path(), "accounts"),
            Some(vec![dir.path().join("accounts.csv")])
        );
        let parts = resolve(dir.path(), "usage").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(resolve(dir.path(), "outcomes"), None);
    }
}
