//! Finding each row's account through a lookup file (`account_via`), and
//! counting rows dated outside the range of the record their key points to.

use super::*;

impl<'a> Loader<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn resolve_accounts(
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
    pub(super) fn lookup(&mut self, via: &LookupSpec) -> Option<HashMap<String, LookupRow>> {
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
                        source_file: &via.file,
                        mapping: loader.mapping.path.as_deref(),
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

    pub(super) fn lookup_headers(
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

    pub(super) fn note_ranges(
        &mut self,
        kind: TableKind,
        source: &SourceSpec,
        ranges: &RangeCounts,
    ) {
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
                    "{} {kind} row(s) dated {word} the {column} of their {} in {lookup_file} ({} distinct {}), the first on this line",
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
}

/// One key of a lookup file: the account and the optional date range.
#[derive(Debug, Clone)]
pub(super) struct LookupRow {
    pub(super) account: Option<String>,
    pub(super) start: Option<i32>,
    pub(super) end: Option<i32>,
}

/// Rows dated outside the range of the record their key points to.
#[derive(Debug, Default)]
pub(super) struct RangeCounts {
    pub(super) before: Vec<(u32, usize, String)>,
    pub(super) after: Vec<(u32, usize, String)>,
}

pub(super) static LOOKUP_DATE: ColumnSpec = ColumnSpec {
    name: "lookup_date",
    kind: ColumnKind::Date,
    required: false,
};
