//! Writing a chunk of rows as the contract tables and the truth tables, in CSV
//! or Parquet.
//!
//! CSV: one file per table (`accounts.csv`, `truth/monthly.csv`), written chunk
//! after chunk. Parquet: one folder per table with one part file per chunk
//! (`usage/part-00000.parquet`), each with the contract dtypes. Numbers are
//! rounded before they are stored, and CSV prints them with a fixed number of
//! decimals, so the same portfolio always gives the same bytes.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::records::Chunk;

/// The file format of the written tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One CSV file per table.
    #[default]
    Csv,
    /// One folder of Parquet part files per table.
    Parquet,
}

impl Format {
    /// Returns the name used on the command line and in `meta.json`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

/// Formats account and contract ids: `A0001`, `A0001-2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdFormat {
    width: usize,
}

impl IdFormat {
    /// Creates an id format wide enough for `accounts` accounts, at least four digits.
    pub fn for_accounts(accounts: u64) -> IdFormat {
        IdFormat {
            width: accounts.to_string().len().max(4),
        }
    }

    /// Writes the id of the account with portfolio index `account`.
    pub fn write_account(self, out: &mut String, account: u64) {
        write!(out, "A{:0width$}", account + 1, width = self.width).expect("writing to a String");
    }

    /// Writes the id of contract `seq` of the account.
    pub fn write_contract(self, out: &mut String, account: u64, seq: u32) {
        self.write_account(out, account);
        write!(out, "-{seq}").expect("writing to a String");
    }

    /// Returns the id of the account with portfolio index `account`.
    pub fn account(self, account: u64) -> String {
        let mut out = String::new();
        self.write_account(&mut out, account);
        out
    }
}

/// The values of one column.
pub(crate) enum Values<'a> {
    /// Account ids by portfolio index.
    Account(Vec<u64>),
    /// Contract ids by account index and sequence number.
    Contract(Vec<(u64, u32)>),
    /// Text; an empty string is a missing value.
    Text(Vec<Cow<'a, str>>),
    /// Dates as days since 1970-01-01.
    Date(Vec<i32>),
    /// Dates that may be missing.
    OptionalDate(Vec<Option<i32>>),
    /// Numbers with the decimals to print (`None`: the shortest text that
    /// reads back as the same number, for values already rounded).
    Number(Vec<f64>, Option<usize>),
    /// Numbers that may be missing, with the decimals to print.
    OptionalNumber(Vec<Option<f64>>, Option<usize>),
    /// Flags.
    Bool(Vec<bool>),
}

impl Values<'_> {
    fn len(&self) -> usize {
        match self {
            Values::Account(v) => v.len(),
            Values::Contract(v) => v.len(),
            Values::Text(v) => v.len(),
            Values::Date(v) => v.len(),
            Values::OptionalDate(v) => v.len(),
            Values::Number(v, _) => v.len(),
            Values::OptionalNumber(v, _) => v.len(),
            Values::Bool(v) => v.len(),
        }
    }
}

/// A table of a chunk, ready to write.
pub(crate) struct Table<'a> {
    /// The path of the table under the output folder, without extension
    /// (`usage`, `truth/monthly`).
    pub name: &'static str,
    /// Columns in order.
    pub columns: Vec<(&'static str, Values<'a>)>,
}

impl Table<'_> {
    fn height(&self) -> usize {
        self.columns.first().map_or(0, |(_, values)| values.len())
    }

    /// Returns the header line of the CSV file.
    fn header(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        names.join(",") + "\n"
    }

    /// Writes row `row` as a CSV line into `line`.
    fn write_row(&self, ids: IdFormat, dates: &mut DateCache, row: usize, line: &mut String) {
        for (position, (_, values)) in self.columns.iter().enumerate() {
            if position > 0 {
                line.push(',');
            }
            match values {
                Values::Account(v) => ids.write_account(line, v[row]),
                Values::Contract(v) => ids.write_contract(line, v[row].0, v[row].1),
                Values::Text(v) => push_csv_text(line, &v[row]),
                Values::Date(v) => line.push_str(dates.get(v[row])),
                Values::OptionalDate(v) => {
                    if let Some(days) = v[row] {
                        line.push_str(dates.get(days));
                    }
                }
                Values::Number(v, decimals) => push_number(line, v[row], *decimals),
                Values::OptionalNumber(v, decimals) => {
                    if let Some(value) = v[row] {
                        push_number(line, value, *decimals);
                    }
                }
                Values::Bool(v) => line.push_str(if v[row] { "true" } else { "false" }),
            }
        }
        line.push('\n');
    }

    /// Returns the table as a polars DataFrame: ids and text as String, dates as Date,
    /// numbers as Float64, flags as Boolean.
    pub fn to_frame(&self, ids: IdFormat) -> PolarsResult<DataFrame> {
        let height = self.height();
        let columns = self
            .columns
            .iter()
            .map(|(name, values)| to_column(name, values, ids))
            .collect::<PolarsResult<Vec<Column>>>()?;
        DataFrame::new(height, columns)
    }
}

fn to_column(name: &str, values: &Values<'_>, ids: IdFormat) -> PolarsResult<Column> {
    let name = PlSmallStr::from(name);
    let column = match values {
        Values::Account(v) => {
            let mut builder = StringChunkedBuilder::new(name, v.len());
            let mut buffer = String::new();
            for account in v {
                buffer.clear();
                ids.write_account(&mut buffer, *account);
                builder.append_value(&buffer);
            }
            builder.finish().into_column()
        }
        Values::Contract(v) => {
            let mut builder = StringChunkedBuilder::new(name, v.len());
            let mut buffer = String::new();
            for (account, seq) in v {
                buffer.clear();
                ids.write_contract(&mut buffer, *account, *seq);
                builder.append_value(&buffer);
            }
            builder.finish().into_column()
        }
        Values::Text(v) => {
            let mut builder = StringChunkedBuilder::new(name, v.len());
            for text in v {
                if text.is_empty() {
                    builder.append_null();
                } else {
                    builder.append_value(text.as_ref());
                }
            }
            builder.finish().into_column()
        }
        Values::Date(v) => Int32Chunked::from_slice(name, v).into_date().into_column(),
        Values::OptionalDate(v) => Int32Chunked::from_iter_options(name, v.iter().copied())
            .into_date()
            .into_column(),
        Values::Number(v, _) => Float64Chunked::from_slice(name, v).into_column(),
        Values::OptionalNumber(v, _) => {
            Float64Chunked::from_iter_options(name, v.iter().copied()).into_column()
        }
        Values::Bool(v) => BooleanChunked::from_slice(name, v).into_column(),
    };
    Ok(column)
}

fn push_number(line: &mut String, value: f64, decimals: Option<usize>) {
    // Rounding can leave -0.0, which would print as "-0".
    let value = if value == 0.0 { 0.0 } else { value };
    match decimals {
        Some(decimals) => write!(line, "{value:.decimals$}"),
        None => write!(line, "{value}"),
    }
    .expect("writing to a String");
}

fn push_csv_text(line: &mut String, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&text.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(text);
    }
}

/// ISO text of dates, computed once per distinct day.
#[derive(Debug, Default)]
struct DateCache {
    texts: BTreeMap<i32, String>,
}

impl DateCache {
    fn get(&mut self, days: i32) -> &str {
        self.texts.entry(days).or_insert_with(|| {
            let date = chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
                .expect("simulated dates lie in years 1000..=9999");
            date.to_string()
        })
    }
}

/// Writes chunks of rows into the output folder.
pub struct TableWriter {
    dir: PathBuf,
    format: Format,
    ids: IdFormat,
    csv_files: BTreeMap<&'static str, BufWriter<File>>,
    parts_written: BTreeMap<&'static str, usize>,
    dates: DateCache,
    line: String,
    chunks: usize,
}

impl TableWriter {
    /// Creates a writer into `dir`, which must exist.
    pub fn new(dir: &Path, format: Format, ids: IdFormat) -> TableWriter {
        TableWriter {
            dir: dir.to_path_buf(),
            format,
            ids,
            csv_files: BTreeMap::new(),
            parts_written: BTreeMap::new(),
            dates: DateCache::default(),
            line: String::with_capacity(256),
            chunks: 0,
        }
    }

    /// Writes every table of a chunk.
    ///
    /// Fails when a file cannot be created or written.
    pub fn write(&mut self, chunk: &Chunk) -> Result<(), SimError> {
        for table in crate::tables::tables(chunk) {
            match self.format {
                Format::Csv => self.write_csv(&table)?,
                Format::Parquet => self.write_parquet_part(&table)?,
            }
        }
        self.chunks += 1;
        Ok(())
    }

    /// Flushes the CSV files. For Parquet, writes an empty part for any table
    /// that got no rows, so every table has a folder with its schema.
    ///
    /// Fails when a file cannot be written.
    pub fn finish(mut self) -> Result<(), SimError> {
        if self.format == Format::Parquet {
            let empty = Chunk::default();
            for table in crate::tables::tables(&empty) {
                if !self.parts_written.contains_key(table.name) {
                    self.write_part(&table, 0)?;
                }
            }
        }
        for (name, mut file) in std::mem::take(&mut self.csv_files) {
            file.flush().map_err(|source| SimError::Io {
                path: self.dir.join(format!("{name}.csv")),
                source,
            })?;
        }
        Ok(())
    }

    fn write_csv(&mut self, table: &Table<'_>) -> Result<(), SimError> {
        let path = self.dir.join(format!("{}.csv", table.name));
        let io_error = |source| SimError::Io {
            path: path.clone(),
            source,
        };
        if !self.csv_files.contains_key(table.name) {
            create_parent(&path)?;
            let file = File::create(&path).map_err(io_error)?;
            let mut writer = BufWriter::with_capacity(1 << 20, file);
            writer
                .write_all(table.header().as_bytes())
                .map_err(io_error)?;
            self.csv_files.insert(table.name, writer);
        }
        let writer = self
            .csv_files
            .get_mut(table.name)
            .expect("the file was just opened");

        for row in 0..table.height() {
            self.line.clear();
            table.write_row(self.ids, &mut self.dates, row, &mut self.line);
            writer.write_all(self.line.as_bytes()).map_err(io_error)?;
        }
        Ok(())
    }

    fn write_parquet_part(&mut self, table: &Table<'_>) -> Result<(), SimError> {
        if table.height() == 0 {
            return Ok(());
        }
        let part = self.chunks;
        self.write_part(table, part)
    }

    fn write_part(&mut self, table: &Table<'_>, part: usize) -> Result<(), SimError> {
        let path = self
            .dir
            .join(table.name)
            .join(format!("part-{part:05}.parquet"));
        create_parent(&path)?;
        let polars_error = |source| SimError::Polars {
            path: path.clone(),
            source,
        };
        let mut frame = table.to_frame(self.ids).map_err(polars_error)?;
        let file = File::create(&path).map_err(|source| SimError::Io {
            path: path.clone(),
            source,
        })?;
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut frame)
            .map_err(polars_error)?;
        *self.parts_written.entry(table.name).or_insert(0) += 1;
        Ok(())
    }
}

fn create_parent(path: &Path) -> Result<(), SimError> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    std::fs::create_dir_all(parent).map_err(|source| SimError::Io {
        path: parent.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_zero_padded() {
        let ids = IdFormat::for_accounts(2000);
        assert_eq!(ids.account(0), "A0001");
        let mut out = String::new();
        ids.write_contract(&mut out, 41, 3);
        assert_eq!(out, "A0042-3");
        assert_eq!(IdFormat::for_accounts(1_000_000).account(9), "A0000010");
    }

    #[test]
    fn csv_text_is_quoted_when_needed() {
        let mut line = String::new();
        push_csv_text(&mut line, "Smith, \"Jr\"");
        assert_eq!(line, "\"Smith, \"\"Jr\"\"\"");
    }

    #[test]
    fn numbers_print_with_fixed_decimals() {
        let mut line = String::new();
        push_number(&mut line, -0.0, Some(1));
        line.push(' ');
        push_number(&mut line, 2.0 / 3.0, Some(6));
        line.push(' ');
        push_number(&mut line, 1250.0, None);
        line.push(' ');
        push_number(&mut line, 12.3, None);
        assert_eq!(line, "0.0 0.666667 1250 12.3");
    }

    #[test]
    fn date_cache_prints_iso_dates() {
        let mut cache = DateCache::default();
        // 19753 days after 1970-01-01 is 2024-01-31.
        assert_eq!(cache.get(19753), "2024-01-31");
    }
}
