//! Reading the part files of a source once, sharing them between sources, and
//! rejecting CSV files whose records do not match their header.

use super::*;

impl<'a> Loader<'a> {
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
    pub(super) fn parts(&mut self, file: &str, separator: u8) -> Option<Vec<(u32, DataFrame)>> {
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
    pub(super) fn release(&mut self, relative: &str) {
        let left = self.uses.entry(relative.to_string()).or_insert(1);
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.parts.remove(relative);
        }
    }

    pub(super) fn read_parts(
        &mut self,
        file: &str,
        relative: &str,
        separator: u8,
    ) -> Option<Vec<(u32, DataFrame)>> {
        let found = read::candidates(self.dir, relative);
        if found.len() > 1 {
            let names: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
            self.report.push(
                Issue::new(
                    Severity::Error,
                    Check::MissingFile,
                    format!(
                        "{} sources named {file}: {}; a table is read from one",
                        found.len(),
                        names.join(" and ")
                    ),
                )
                .file(self.dir.join(relative))
                .hint(format!(
                    "move the ones not to import out of the folder, or give the file name with its extension in a mapping, such as file = \"{file}.csv\""
                )),
            );
            return None;
        }
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
            if self.report_content(&path) || self.report_ragged(&path, separator) {
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
                        "save the file as UTF-8 (in Excel: CSV UTF-8), then run the command again"
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

    /// Reports a file whose bytes do not match its format (empty, UTF-16, not
    /// UTF-8, Parquet named as CSV or the reverse); returns whether it did.
    pub(super) fn report_content(&mut self, path: &Path) -> bool {
        let Ok(Some(problem)) = read::check_content(path) else {
            return false;
        };
        let mut issue = Issue::new(Severity::Error, Check::MissingFile, problem.describe())
            .file(path)
            .hint(problem.hint(path));
        if let read::ContentProblem::NotUtf8 { line, byte, .. } = problem {
            issue = issue
                .at(Location::Line(line))
                .value(format!("0x{byte:02X}"));
        }
        self.report.push(issue);
        true
    }

    /// Reports the records of a CSV file whose field count differs from the
    /// header's; returns whether there were any.
    pub(super) fn report_ragged(&mut self, path: &Path, separator: u8) -> bool {
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
}

/// Counts how many times the mapping reads each file: once per source, lookup
/// and exclusion rule.
pub(super) fn file_uses(mapping: &Mapping) -> HashMap<String, usize> {
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
