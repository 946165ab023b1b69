//! The usage table, the one table too large to hold twice: a million accounts
//! with 36 months of four metrics is 144 million rows.
//!
//! A project's usage stays in `PROJECT/tables/usage.parquet` until a caller
//! asks for it. [`Usage::for_each_slice`] reads the file a few row groups at a
//! time, so a stage that turns the rows into something smaller never has the
//! whole text table in memory. [`Usage::frame`] reads the whole table once and keeps it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use polars::prelude::*;

use crate::contract::TableKind;
use crate::error::DataError;

/// Rows per slice that [`Usage::for_each_slice`] aims for. A slice of the
/// file ends at a row group boundary, so it can be larger by one row group.
pub const SLICE_ROWS: usize = 2_000_000;

/// The usage table: rows in memory, or a Parquet file read on demand.
#[derive(Debug, Clone)]
pub struct Usage {
    /// The file, when the rows come from one.
    file: Option<UsageFile>,
    /// The whole table, once read (always set for rows built in memory).
    frame: OnceLock<DataFrame>,
    /// The first and last usage date, as days since 1970-01-01, once computed.
    dates: OnceLock<Option<(i32, i32)>>,
}

/// A usage Parquet file with the contract schema.
#[derive(Debug, Clone)]
struct UsageFile {
    path: PathBuf,
    metadata: Arc<polars::io::parquet::read::FileMetadata>,
}

impl From<DataFrame> for Usage {
    fn from(frame: DataFrame) -> Usage {
        Usage {
            file: None,
            frame: OnceLock::from(frame),
            dates: OnceLock::new(),
        }
    }
}

impl Usage {
    /// Opens a usage Parquet file without reading its rows.
    ///
    /// Fails when the file cannot be opened, is not Parquet, or does not have
    /// the contract schema.
    pub fn open(path: &Path) -> Result<Usage, DataError> {
        let polars_error = |source| DataError::Polars {
            path: path.to_path_buf(),
            source,
        };
        let mut reader = ParquetReader::new(open_file(path)?);
        let arrow_schema = reader.schema().map_err(polars_error)?;
        let metadata = reader.get_metadata().map_err(polars_error)?.clone();
        let found = Schema::from_arrow_schema(&arrow_schema);
        let expected = TableKind::Usage.schema();
        if found != expected {
            return Err(DataError::SchemaMismatch {
                path: path.to_path_buf(),
                table: TableKind::Usage,
                expected: format!("{expected:?}"),
                found: format!("{found:?}"),
            });
        }
        Ok(Usage {
            file: Some(UsageFile {
                path: path.to_path_buf(),
                metadata,
            }),
            frame: OnceLock::new(),
            dates: OnceLock::new(),
        })
    }

    /// Returns the number of rows.
    pub fn height(&self) -> usize {
        match (self.frame.get(), &self.file) {
            (Some(frame), _) => frame.height(),
            (None, Some(file)) => file.metadata.num_rows,
            (None, None) => 0,
        }
    }

    /// Returns the whole table, reading the file on the first call.
    ///
    /// Fails when the file cannot be read.
    pub fn frame(&self) -> Result<&DataFrame, DataError> {
        if let Some(frame) = self.frame.get() {
            return Ok(frame);
        }
        let file = self
            .file
            .as_ref()
            .expect("a usage table without rows has a file");
        let frame = file.read(None, None)?;
        tracing::debug!(path = %file.path.display(), rows = frame.height(), "read the whole usage table");
        Ok(self.frame.get_or_init(|| frame))
    }

    /// Returns the whole table for changing it, reading the file first. The
    /// changed rows no longer match the file, so the file is forgotten.
    ///
    /// Fails when the file cannot be read.
    pub fn frame_mut(&mut self) -> Result<&mut DataFrame, DataError> {
        self.frame()?;
        self.file = None;
        self.dates = OnceLock::new();
        Ok(self.frame.get_mut().expect("read above"))
    }

    /// Calls `visit` with consecutive slices of the table, in row order, each
    /// holding only `columns`.
    ///
    /// A table in memory is cut into slices of [`SLICE_ROWS`] rows without
    /// copying. A file is read whole row groups at a time, so only one slice
    /// of the text columns is in memory at once.
    ///
    /// Fails with the first error of `visit`, or when the file cannot be read.
    pub fn for_each_slice<E: From<DataError>>(
        &self,
        columns: &[&str],
        mut visit: impl FnMut(DataFrame) -> Result<(), E>,
    ) -> Result<(), E> {
        if let Some(frame) = self.frame.get() {
            let frame = frame
                .select(columns.iter().copied())
                .map_err(|source| DataError::Frame { source })?;
            let mut offset = 0;
            while offset < frame.height() {
                visit(frame.slice(offset as i64, SLICE_ROWS))?;
                offset += SLICE_ROWS;
            }
            return Ok(());
        }
        let Some(file) = &self.file else {
            return Ok(());
        };
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        for (offset, rows) in file.slices() {
            visit(file.read(Some(&columns), Some((offset, rows)))?)?;
        }
        Ok(())
    }

    /// Returns the first and last usage date as days since 1970-01-01, or
    /// `None` without rows. The first call over a file reads its date column.
    ///
    /// Fails when the file cannot be read.
    pub fn date_range(&self) -> Result<Option<(i32, i32)>, DataError> {
        if let Some(range) = self.dates.get() {
            return Ok(*range);
        }
        let mut range: Option<(i32, i32)> = None;
        self.for_each_slice(&["date"], |slice| -> Result<(), DataError> {
            let days = slice
                .column("date")
                .and_then(|c| c.cast(&DataType::Int32))
                .map_err(|source| DataError::Frame { source })?;
            let days = days.i32().map_err(|source| DataError::Frame { source })?;
            if let (Some(first), Some(last)) = (days.min(), days.max()) {
                range = Some(range.map_or((first, last), |(lo, hi)| (lo.min(first), hi.max(last))));
            }
            Ok(())
        })?;
        Ok(*self.dates.get_or_init(|| range))
    }
}

impl UsageFile {
    /// Splits the file into `(first row, rows)` slices of whole row groups,
    /// each of about [`SLICE_ROWS`] rows.
    fn slices(&self) -> Vec<(usize, usize)> {
        let mut slices = Vec::new();
        let (mut start, mut rows) = (0, 0);
        for group in &self.metadata.row_groups {
            rows += group.num_rows();
            if rows >= SLICE_ROWS {
                slices.push((start, rows));
                start += rows;
                rows = 0;
            }
        }
        if rows > 0 {
            slices.push((start, rows));
        }
        slices
    }

    /// Reads `columns` (all when `None`) of the rows in `slice` (all when `None`).
    fn read(
        &self,
        columns: Option<&[String]>,
        slice: Option<(usize, usize)>,
    ) -> Result<DataFrame, DataError> {
        let mut reader = ParquetReader::new(open_file(&self.path)?)
            .with_columns(columns.map(<[String]>::to_vec))
            .with_slice(slice);
        reader.set_metadata(self.metadata.clone());
        reader.finish().map_err(|source| DataError::Polars {
            path: self.path.clone(),
            source,
        })
    }
}

fn open_file(path: &Path) -> Result<File, DataError> {
    File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage_frame(rows: usize) -> DataFrame {
        let ids: Vec<String> = (0..rows).map(|i| format!("A{:03}", i % 7)).collect();
        let days: Vec<i32> = (0..rows).map(|i| 19_000 + (i % 40) as i32).collect();
        let metrics: Vec<&str> = (0..rows)
            .map(|i| if i % 2 == 0 { "seats" } else { "api_calls" })
            .collect();
        let values: Vec<f64> = (0..rows).map(|i| i as f64).collect();
        DataFrame::new(
            rows,
            vec![
                Column::new("account_id".into(), ids),
                Column::new("date".into(), days)
                    .cast(&DataType::Date)
                    .unwrap(),
                Column::new("metric".into(), metrics),
                Column::new("value".into(), values),
            ],
        )
        .unwrap()
    }

    fn write(frame: &DataFrame, row_group: usize) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.parquet");
        let mut frame = frame.clone();
        ParquetWriter::new(File::create(&path).unwrap())
            .with_row_group_size(Some(row_group))
            .finish(&mut frame)
            .unwrap();
        (dir, path)
    }

    fn sliced_values(usage: &Usage) -> Vec<f64> {
        let mut values = Vec::new();
        usage
            .for_each_slice(&["value"], |slice| -> Result<(), DataError> {
                let column = slice.column("value").unwrap().f64().unwrap().clone();
                values.extend(column.into_no_null_iter());
                Ok(())
            })
            .unwrap();
        values
    }

    #[test]
    fn file_slices_keep_every_row_in_order() {
        let frame = usage_frame(1000);
        let (_dir, path) = write(&frame, 64);
        let usage = Usage::open(&path).unwrap();
        assert_eq!(usage.height(), 1000);
        let expected: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        assert_eq!(sliced_values(&usage), expected);
    }

    #[test]
    fn file_slices_end_at_row_groups() {
        let frame = usage_frame(10);
        let (_dir, path) = write(&frame, 4);
        let usage = Usage::open(&path).unwrap();
        let file = usage.file.as_ref().unwrap();
        // Three row groups of 4, 4 and 2 rows, far below SLICE_ROWS: one slice.
        assert_eq!(file.slices(), [(0, 10)]);
    }

    #[test]
    fn frame_reads_the_whole_file() {
        let frame = usage_frame(300);
        let (_dir, path) = write(&frame, 64);
        let usage = Usage::open(&path).unwrap();
        assert!(usage.frame().unwrap().equals(&frame));
    }

    #[test]
    fn date_range_of_file_and_frame() {
        let frame = usage_frame(100);
        let (_dir, path) = write(&frame, 16);
        // Days 19000 + (i % 40) for i below 100: 19000 to 19039.
        assert_eq!(
            Usage::open(&path).unwrap().date_range().unwrap(),
            Some((19_000, 19_039))
        );
        assert_eq!(
            Usage::from(frame).date_range().unwrap(),
            Some((19_000, 19_039))
        );
    }

    #[test]
    fn open_rejects_other_schema() {
        let mut frame = usage_frame(5).drop("metric").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.parquet");
        ParquetWriter::new(File::create(&path).unwrap())
            .finish(&mut frame)
            .unwrap();
        let err = Usage::open(&path).unwrap_err();
        assert!(matches!(
            err,
            DataError::SchemaMismatch {
                table: TableKind::Usage,
                ..
            }
        ));
    }

    #[test]
    fn frame_slices_cover_the_frame() {
        let usage = Usage::from(usage_frame(50));
        let expected: Vec<f64> = (0..50).map(|i| i as f64).collect();
        assert_eq!(sliced_values(&usage), expected);
    }
}
