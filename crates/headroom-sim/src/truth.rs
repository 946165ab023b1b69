//! The oracle: the true churn and expansion probabilities of a simulated
//! portfolio, read back from its `truth/` folder, and the ROC-AUC they reach on
//! any set of (account, month-end) observations.
//!
//! The probabilities come from the generative model itself, so their AUC is the
//! best any model can reach on the same rows and labels. The gap between a
//! model's AUC and the oracle's is what better features could still win.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::calendar::epoch_days;
use crate::error::SimError;

/// The outcome an oracle probability predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The account churns within the horizon after the month-end.
    Churn,
    /// The account expands at least once within the horizon.
    Expansion,
}

/// The truth at one account month-end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthRow {
    /// True probability of churn within the horizon.
    pub p_churn: f64,
    /// True probability of at least one expansion within the horizon.
    pub p_expand: f64,
    /// Whether the account churned within the horizon.
    pub churned: bool,
    /// Whether the account expanded within the horizon.
    pub expanded: bool,
    /// Whether the horizon lies inside the simulated window.
    pub complete: bool,
    /// Whether the account was still a customer after the month-end.
    pub active: bool,
}

impl TruthRow {
    /// Returns the probability of `target`.
    pub fn probability(&self, target: Target) -> f64 {
        match target {
            Target::Churn => self.p_churn,
            Target::Expansion => self.p_expand,
        }
    }

    /// Returns whether `target` happened within the horizon.
    pub fn happened(&self, target: Target) -> bool {
        match target {
            Target::Churn => self.churned,
            Target::Expansion => self.expanded,
        }
    }
}

/// The monthly truth of a simulated portfolio, indexed by account and month-end.
#[derive(Debug, Clone)]
pub struct Truth {
    rows: HashMap<(String, i32), TruthRow>,
    last_month_end: Option<NaiveDate>,
}

/// The result of scoring observations with the oracle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OracleAuc {
    /// ROC-AUC of the true probabilities; `None` when the rows hold only one class.
    pub auc: Option<f64>,
    /// Number of rows scored.
    pub rows: usize,
    /// Number of rows where the outcome happened.
    pub positives: usize,
}

impl Truth {
    /// Reads the monthly truth of a portfolio. `dir` is the folder `headroom sim`
    /// wrote, or its `truth/` folder; the table is `monthly.csv` or a `monthly/`
    /// folder of Parquet parts.
    ///
    /// Fails when no monthly truth table is found, when it cannot be read, or
    /// when its columns are not the ones the simulator writes.
    pub fn load(dir: &Path) -> Result<Truth, SimError> {
        let frame = read_monthly(dir)?;
        Truth::from_frame(&frame, dir)
    }

    /// Returns the truth of one account at one month-end.
    pub fn get(&self, account_id: &str, month_end: NaiveDate) -> Option<&TruthRow> {
        self.rows
            .get(&(account_id.to_string(), epoch_days(month_end)))
    }

    /// Returns the number of account month-ends.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Returns whether the truth has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Returns the last month-end of the window.
    pub fn last_month_end(&self) -> Option<NaiveDate> {
        self.last_month_end
    }

    /// Returns the true probabilities of `target` for each observation, in order.
    ///
    /// Fails when an observation has no truth row.
    pub fn probabilities<A: AsRef<str>>(
        &self,
        rows: impl IntoIterator<Item = (A, NaiveDate)>,
        target: Target,
    ) -> Result<Vec<f64>, SimError> {
        rows.into_iter()
            .map(|(account, date)| Ok(self.row(account.as_ref(), date)?.probability(target)))
            .collect()
    }

    fn row(&self, account_id: &str, date: NaiveDate) -> Result<&TruthRow, SimError> {
        self.get(account_id, date)
            .ok_or_else(|| SimError::TruthRowMissing {
                account_id: account_id.to_string(),
                date,
            })
    }

    fn from_frame(frame: &DataFrame, path: &Path) -> Result<Truth, SimError> {
        let format_error = |err: PolarsError| SimError::TruthFormat {
            path: path.to_path_buf(),
            message: err.to_string(),
        };
        let accounts = frame
            .column("account_id")
            .and_then(|c| c.str().cloned())
            .map_err(format_error)?;
        let dates = frame
            .column("date")
            .and_then(|c| c.cast(&DataType::Int32))
            .and_then(|c| c.i32().cloned())
            .map_err(format_error)?;
        let number = |name: &str| {
            frame
                .column(name)
                .and_then(|c| c.f64().cloned())
                .map_err(format_error)
        };
        let flag = |name: &str| {
            frame
                .column(name)
                .and_then(|c| c.bool().cloned())
                .map_err(format_error)
        };
        let (p_churn, p_expand) = (number("p_churn")?, number("p_expand")?);
        let (churned, expanded) = (flag("churned")?, flag("expanded")?);
        let (complete, active) = (flag("complete")?, flag("active")?);

        let mut rows = HashMap::with_capacity(frame.height());
        let mut last = i32::MIN;
        for i in 0..frame.height() {
            let missing = || SimError::TruthFormat {
                path: path.to_path_buf(),
                message: format!("row {} has an empty cell", i + 2),
            };
            let account = accounts.get(i).ok_or_else(missing)?;
            let date = dates.get(i).ok_or_else(missing)?;
            let row = TruthRow {
                p_churn: p_churn.get(i).ok_or_else(missing)?,
                p_expand: p_expand.get(i).ok_or_else(missing)?,
                churned: churned.get(i).ok_or_else(missing)?,
                expanded: expanded.get(i).ok_or_else(missing)?,
                complete: complete.get(i).ok_or_else(missing)?,
                active: active.get(i).ok_or_else(missing)?,
            };
            last = last.max(date);
            rows.insert((account.to_string(), date), row);
        }

        let last_month_end = (last != i32::MIN)
            .then(|| NaiveDate::from_num_days_from_ce_opt(last + 719_163))
            .flatten();
        Ok(Truth {
            rows,
            last_month_end,
        })
    }
}

/// Computes the oracle's ROC-AUC on observations, labelled by what the simulation
/// recorded within the horizon.
///
/// Fails when an observation has no truth row, or when its horizon reaches past
/// the last simulated month, because its label is not known yet. Pass your own
/// labels to `oracle_auc_with_labels` to score such rows anyway.
pub fn oracle_auc<A: AsRef<str>>(
    truth: &Truth,
    rows: impl IntoIterator<Item = (A, NaiveDate)>,
    target: Target,
) -> Result<OracleAuc, SimError> {
    let mut scores = Vec::new();
    let mut labels = Vec::new();
    for (account, date) in rows {
        let account = account.as_ref();
        let row = truth.row(account, date)?;
        if !row.complete {
            return Err(SimError::HorizonCensored {
                account_id: account.to_string(),
                date,
                last_month_end: truth.last_month_end.unwrap_or(date),
            });
        }
        scores.push(row.probability(target));
        labels.push(row.happened(target));
    }
    Ok(score(&scores, &labels))
}

/// Computes the oracle's ROC-AUC on observations with the caller's labels (the same
/// labels a model is scored against).
///
/// Fails when an observation has no truth row.
pub fn oracle_auc_with_labels<A: AsRef<str>>(
    truth: &Truth,
    rows: impl IntoIterator<Item = (A, NaiveDate, bool)>,
    target: Target,
) -> Result<OracleAuc, SimError> {
    let mut scores = Vec::new();
    let mut labels = Vec::new();
    for (account, date, label) in rows {
        scores.push(truth.row(account.as_ref(), date)?.probability(target));
        labels.push(label);
    }
    Ok(score(&scores, &labels))
}

fn score(scores: &[f64], labels: &[bool]) -> OracleAuc {
    OracleAuc {
        auc: roc_auc(scores, labels),
        rows: scores.len(),
        positives: labels.iter().filter(|label| **label).count(),
    }
}

/// Computes the ROC-AUC of `scores` against `labels`: the probability that a random positive
/// scores above a random negative, ties counting one half (the Mann-Whitney U
/// statistic divided by the number of positive-negative pairs).
///
/// Returns `None` when there are no positives or no negatives.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), labels.len(), "one label per score");
    let positives = labels.iter().filter(|label| **label).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }

    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));

    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| labels[i]).count();
        positive_rank_sum += average_rank * tied_positives as f64;
        start = end;
    }

    let positives = positives as f64;
    let u = positive_rank_sum - positives * (positives + 1.0) / 2.0;
    Some(u / (positives * negatives as f64))
}

fn monthly_schema() -> Schema {
    let fields = [
        ("account_id", DataType::String),
        ("date", DataType::Date),
        ("phase", DataType::String),
        ("months_in_phase", DataType::Float64),
        ("months_to_renewal", DataType::Float64),
        ("intervened", DataType::Boolean),
        ("active", DataType::Boolean),
        ("p_churn", DataType::Float64),
        ("p_expand", DataType::Float64),
        ("churned", DataType::Boolean),
        ("expanded", DataType::Boolean),
        ("complete", DataType::Boolean),
    ];
    fields
        .into_iter()
        .map(|(name, dtype)| Field::new(name.into(), dtype))
        .collect()
}

fn read_monthly(dir: &Path) -> Result<DataFrame, SimError> {
    let candidates = [dir.join("truth"), dir.to_path_buf()];
    for base in candidates {
        let csv = base.join("monthly.csv");
        if csv.is_file() {
            return read_csv(&csv);
        }
        let parts = base.join("monthly");
        if parts.is_dir() {
            return read_parts(&parts);
        }
    }
    Err(SimError::TruthFormat {
        path: dir.to_path_buf(),
        message: "no truth/monthly.csv or truth/monthly/ folder".to_string(),
    })
}

fn read_csv(path: &Path) -> Result<DataFrame, SimError> {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(Arc::new(monthly_schema())))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|reader| reader.finish())
        .map_err(|source| SimError::Polars {
            path: path.to_path_buf(),
            source,
        })
}

fn read_parts(dir: &Path) -> Result<DataFrame, SimError> {
    let io_error = |source| SimError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_error)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io_error)?;
    paths.retain(|path| path.extension().is_some_and(|ext| ext == "parquet"));
    paths.sort();

    let mut frame = DataFrame::empty_with_schema(&monthly_schema());
    for path in paths {
        let polars_error = |source| SimError::Polars {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(|source| SimError::Io {
            path: path.clone(),
            source,
        })?;
        let part = ParquetReader::new(file).finish().map_err(polars_error)?;
        frame.vstack_mut(&part).map_err(polars_error)?;
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_perfect_ranking_is_one() {
        let auc = roc_auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]);
        assert_eq!(auc, Some(1.0));
    }

    #[test]
    fn auc_counts_ties_as_half() {
        // Pairs (positive, negative): (0.5, 0.5) tie = 0.5, (0.5, 0.1) = 1,
        // (0.9, 0.5) = 1, (0.9, 0.1) = 1: 3.5 / 4.
        let auc = roc_auc(&[0.5, 0.9, 0.5, 0.1], &[true, true, false, false]);
        assert_eq!(auc, Some(0.875));
    }

    #[test]
    fn auc_of_reversed_ranking_is_zero() {
        let auc = roc_auc(&[0.9, 0.8, 0.1], &[false, false, true]);
        assert_eq!(auc, Some(0.0));
    }

    #[test]
    fn load_without_monthly_table_names_folder() {
        let dir = tempfile::tempdir().unwrap();
        let err = Truth::load(dir.path()).unwrap_err();
        assert!(
            matches!(err, SimError::TruthFormat { ref path, .. } if path == dir.path()),
            "{err}"
        );
        assert!(
            err.to_string().contains("hint: point to the truth/ folder"),
            "{err}"
        );
    }

    #[test]
    fn load_rejects_missing_columns() {
        let dir = tempfile::tempdir().unwrap();
        let truth = dir.path().join("truth");
        std::fs::create_dir_all(&truth).unwrap();
        std::fs::write(
            truth.join("monthly.csv"),
            "account_id,date,p_churn\nA0001,2024-01-31,0.5\n",
        )
        .unwrap();
        let err = Truth::load(dir.path()).unwrap_err();
        assert!(
            matches!(err, SimError::Polars { .. } | SimError::TruthFormat { .. }),
            "{err}"
        );
    }

    #[test]
    fn auc_needs_both_classes() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[], &[]), None);
    }
}
