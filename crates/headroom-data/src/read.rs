//! Reading source files: one CSV or Parquet file, or a folder of part files.
//!
//! CSV cells are read as text, every column, so that a column's type comes from
//! the contract and never from what its first rows contain. Parquet columns keep
//! their stored types; the import checks and converts them column by column.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Seek};
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

/// Lists every form of a source name without an extension that exists in
/// `dir`: the folder `NAME/`, `NAME.csv` and `NAME.parquet`. More than one
/// means [`resolve`] would pick one and silently ignore the others.
pub fn candidates(dir: &Path, name: &str) -> Vec<PathBuf> {
    if Path::new(name).extension().is_some() {
        return Vec::new();
    }
    let folder = dir.join(name);
    let mut found: Vec<PathBuf> = folder.is_dir().then_some(folder).into_iter().collect();
    for ext in ["csv", "parquet"] {
        let candidate = dir.join(format!("{name}.{ext}"));
        if candidate.is_file() {
            found.push(candidate);
        }
    }
    found
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

/// A mismatch between a file's bytes and the text or Parquet format its
/// extension names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentProblem {
    /// The file has no bytes, or only white space.
    Empty,
    /// A text file that starts with a UTF-16 byte order mark, or has the zero
    /// bytes between ASCII letters that UTF-16 gives.
    Utf16 {
        /// The byte order: "little-endian" or "big-endian".
        order: &'static str,
        /// Whether the file starts with a byte order mark.
        bom: bool,
    },
    /// A text file whose bytes start with the Parquet magic number `PAR1`.
    ParquetAsText,
    /// A Parquet file whose bytes do not start with `PAR1`.
    NotParquet,
    /// A text file with a byte sequence that is not UTF-8.
    NotUtf8 {
        /// The 0-based offset of the first invalid byte.
        offset: u64,
        /// The 1-based line of that byte.
        line: usize,
        /// The invalid byte.
        byte: u8,
    },
}

impl ContentProblem {
    /// Describes the problem in a sentence fragment for a report message.
    pub fn describe(&self) -> String {
        match self {
            ContentProblem::Empty => "the file is empty".to_string(),
            ContentProblem::Utf16 { order, bom: true } => {
                format!(
                    "the file is UTF-16 text ({order}, it starts with a byte order mark), not UTF-8"
                )
            }
            ContentProblem::Utf16 { order, bom: false } => {
                format!(
                    "the file looks like UTF-16 text ({order}: zero bytes between the letters), not UTF-8"
                )
            }
            ContentProblem::ParquetAsText => {
                "the file is a Parquet file (it starts with PAR1), not CSV text".to_string()
            }
            ContentProblem::NotParquet => {
                "the file is not a Parquet file (it does not start with PAR1)".to_string()
            }
            ContentProblem::NotUtf8 { offset, .. } => format!(
                "the file is not UTF-8: the byte at offset {offset} is not valid UTF-8, as in a Latin-1 or Windows-1252 export"
            ),
        }
    }

    /// Says what to do about the problem.
    pub fn hint(&self, path: &Path) -> String {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match self {
            ContentProblem::Empty => {
                "export the table again with its header line and rows, or remove the file".to_string()
            }
            ContentProblem::Utf16 { .. } => {
                "save the file as UTF-8 (in Excel: CSV UTF-8, or iconv -f UTF-16 -t UTF-8), then run the command again".to_string()
            }
            ContentProblem::NotUtf8 { .. } => {
                "save the file as UTF-8 (in Excel: CSV UTF-8, or iconv -f WINDOWS-1252 -t UTF-8), then run the command again".to_string()
            }
            ContentProblem::ParquetAsText => {
                format!("rename the file to {stem}.parquet")
            }
            ContentProblem::NotParquet => {
                format!("if the file is CSV text, rename it to {stem}.csv; else export it again as Parquet")
            }
        }
    }
}

/// Checks that a part file's bytes match its format before it is parsed:
/// text files must be non-empty UTF-8 and not Parquet, Parquet files must
/// start with `PAR1`. Reads the whole of a text file, in chunks.
///
/// Returns `Ok(None)` when the file looks right. Fails when it cannot be read.
pub fn check_content(path: &Path) -> std::io::Result<Option<ContentProblem>> {
    let mut file = File::open(path)?;
    let mut head = [0u8; 4096];
    let mut filled = 0;
    while filled < head.len() {
        let read = file.read(&mut head[filled..])?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    let head = &head[..filled];

    if FileFormat::of(path) == Some(FileFormat::Parquet) {
        let problem = if head.starts_with(b"PAR1") {
            None
        } else if head.iter().all(u8::is_ascii_whitespace) {
            Some(ContentProblem::Empty)
        } else {
            Some(ContentProblem::NotParquet)
        };
        return Ok(problem);
    }
    if head.starts_with(b"PAR1") {
        return Ok(Some(ContentProblem::ParquetAsText));
    }
    if let Some(problem) = utf16_of(head) {
        return Ok(Some(problem));
    }

    file.rewind()?;
    check_utf8(file)
}

/// Recognizes UTF-16 by its byte order mark, or by zero bytes in every other
/// position of the first bytes (ASCII text written as UTF-16).
fn utf16_of(head: &[u8]) -> Option<ContentProblem> {
    if head.starts_with(&[0xFF, 0xFE]) {
        return Some(ContentProblem::Utf16 {
            order: "little-endian",
            bom: true,
        });
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Some(ContentProblem::Utf16 {
            order: "big-endian",
            bom: true,
        });
    }
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    let zeros_at = |parity: usize| head.chunks_exact(2).filter(|p| p[parity] == 0).count();
    if zeros_at(1) * 10 >= pairs * 9 && zeros_at(0) == 0 {
        return Some(ContentProblem::Utf16 {
            order: "little-endian",
            bom: false,
        });
    }
    if zeros_at(0) * 10 >= pairs * 9 && zeros_at(1) == 0 {
        return Some(ContentProblem::Utf16 {
            order: "big-endian",
            bom: false,
        });
    }
    None
}

/// Validates a text file as UTF-8 in chunks and finds the first invalid byte;
/// a file of white space only is empty.
fn check_utf8(mut file: File) -> std::io::Result<Option<ContentProblem>> {
    let mut buffer = vec![0u8; 1 << 20];
    // Bytes of a character cut by the end of the previous chunk.
    let mut carry = 0usize;
    let mut offset = 0u64;
    let mut line = 1usize;
    let mut blank = true;
    loop {
        let read = file.read(&mut buffer[carry..])?;
        let end = carry + read;
        if end == 0 {
            break;
        }
        let chunk = &buffer[..end];
        let (valid, invalid_at) = match std::str::from_utf8(chunk) {
            Ok(_) => (end, None),
            // A character cut at the chunk's end is completed by the next read.
            Err(err) if err.error_len().is_none() && read > 0 => (err.valid_up_to(), None),
            Err(err) => (err.valid_up_to(), Some(err.valid_up_to())),
        };
        let text = &chunk[..valid];
        blank = blank
            && std::str::from_utf8(text).is_ok_and(|t| {
                t.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
                    .is_empty()
            });
        line += text.iter().filter(|b| **b == b'\n').count();
        if let Some(at) = invalid_at {
            return Ok(Some(ContentProblem::NotUtf8 {
                offset: offset + at as u64,
                line,
                byte: chunk[at],
            }));
        }
        offset += valid as u64;
        buffer.copy_within(valid..end, 0);
        carry = end - valid;
        if read == 0 {
            break;
        }
    }
    Ok(blank.then_some(ContentProblem::Empty))
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

    fn content_of(name: &str, bytes: &[u8]) -> Option<ContentProblem> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        check_content(&path).unwrap()
    }

    #[test]
    fn content_accepts_character_split_by_chunk() {
        // The two bytes of "é" straddle the first 1 MiB read.
        let mut bytes = vec![b'a'; (1 << 20) - 1];
        bytes.extend_from_slice("é\n".as_bytes());

        assert_eq!(content_of("notes.csv", &bytes), None);
    }

    #[test]
    fn content_finds_invalid_byte_after_first_chunk() {
        // 2 MiB of "x\n" lines, then a Latin-1 "é": offset 2 MiB, on line
        // 1 + 1 MiB (one line break every 2 bytes).
        let mut bytes = b"x\n".repeat(1 << 20);
        bytes.push(0xE9);

        assert_eq!(
            content_of("notes.csv", &bytes),
            Some(ContentProblem::NotUtf8 {
                offset: 2 << 20,
                line: (1 << 20) + 1,
                byte: 0xE9,
            })
        );
    }

    #[test]
    fn content_recognizes_utf16_without_bom() {
        let bytes: Vec<u8> = "id,name\n".bytes().flat_map(|b| [b, 0]).collect();

        assert_eq!(
            content_of("accounts.csv", &bytes),
            Some(ContentProblem::Utf16 {
                order: "little-endian",
                bom: false
            })
        );
    }

    #[test]
    fn content_of_blank_and_misnamed_files() {
        assert_eq!(content_of("a.csv", b" \r\n\n"), Some(ContentProblem::Empty));
        assert_eq!(
            content_of("a.csv", b"\xEF\xBB\xBF\n"),
            Some(ContentProblem::Empty)
        );
        assert_eq!(content_of("a.parquet", b""), Some(ContentProblem::Empty));
        assert_eq!(
            content_of("a.parquet", b"id\n1\n"),
            Some(ContentProblem::NotParquet)
        );
        assert_eq!(content_of("a.csv", b"id\n1\n"), None);
    }

    #[test]
    fn candidates_list_every_form_of_a_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("usage.csv"), "a\n").unwrap();
        std::fs::write(dir.path().join("usage.parquet"), "PAR1").unwrap();
        std::fs::write(dir.path().join("accounts.csv"), "a\n").unwrap();

        assert_eq!(
            candidates(dir.path(), "usage"),
            [
                dir.path().join("usage.csv"),
                dir.path().join("usage.parquet")
            ]
        );
        assert_eq!(candidates(dir.path(), "accounts").len(), 1);
        assert!(candidates(dir.path(), "usage.csv").is_empty());
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
