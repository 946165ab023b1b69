//! Column readers: polars columns into plain vectors, for the per-account
//! rules that read a handful of values per row.

use chrono::NaiveDate;
use polars::prelude::{DataFrame, DataType};

use crate::error::ReportError;

/// Reads a text column; an absent column reads as all nulls.
pub(crate) fn strings(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>, ReportError> {
    let Ok(column) = df.column(name) else {
        return Ok(vec![None; df.height()]);
    };
    let cast = column
        .cast(&DataType::String)
        .map_err(ReportError::polars("a text column"))?;
    let text = cast.str().map_err(ReportError::polars("a text column"))?;
    Ok(text.iter().map(|v| v.map(str::to_owned)).collect())
}

/// Reads a numeric or boolean column as floats; an absent column reads as all
/// nulls, and so do NaN values.
pub(crate) fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, ReportError> {
    let Ok(column) = df.column(name) else {
        return Ok(vec![None; df.height()]);
    };
    let cast = column
        .cast(&DataType::Float64)
        .map_err(ReportError::polars("a numeric column"))?;
    let values = cast
        .f64()
        .map_err(ReportError::polars("a numeric column"))?;
    Ok(values.iter().map(|v| v.filter(|x| !x.is_nan())).collect())
}

/// Reads a boolean column; an absent column reads as all nulls.
pub(crate) fn bools(df: &DataFrame, name: &str) -> Result<Vec<Option<bool>>, ReportError> {
    let Ok(column) = df.column(name) else {
        return Ok(vec![None; df.height()]);
    };
    let values = column
        .bool()
        .map_err(ReportError::polars("a boolean column"))?;
    Ok(values.iter().collect())
}

/// Reads a date column; an absent column reads as all nulls.
pub(crate) fn dates(df: &DataFrame, name: &str) -> Result<Vec<Option<NaiveDate>>, ReportError> {
    let Ok(column) = df.column(name) else {
        return Ok(vec![None; df.height()]);
    };
    let values = column
        .date()
        .map_err(ReportError::polars("a date column"))?;
    Ok(values.as_date_iter().collect())
}
