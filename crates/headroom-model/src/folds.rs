//! Time-ordered validation folds with an expanding training window.
//!
//! The distinct observation dates `d_0 < ... < d_{m-1}` are cut into
//! validation blocks of `validation_dates` consecutive dates at the end of
//! the history, one block per fold, oldest fold first. A fold trains on every
//! row observed at least `gap_days` before its first validation date, so
//! later folds train on more history. The gap should be the label horizon: a
//! row observed at T is labelled by outcomes up to T + horizon, and those
//! outcomes must be known before the validation period starts, as they would
//! be in production. Rows never move backwards in time: no fold trains on
//! anything observed after its validation dates begin.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::dataset::RowKey;
use crate::error::{ModelError, Result};

/// Settings of the time-ordered folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldParams {
    /// Number of validation folds (default 3).
    pub n_folds: usize,
    /// Consecutive observation dates in each validation block (default 3,
    /// three month-ends).
    pub validation_dates: usize,
    /// Minimum days from a training row's observation date to the first
    /// validation date (default 180, the label horizon).
    pub gap_days: i64,
    /// Minimum distinct observation dates in a fold's training rows (default 3).
    pub min_train_dates: usize,
}

impl Default for FoldParams {
    fn default() -> Self {
        FoldParams {
            n_folds: 3,
            validation_dates: 3,
            gap_days: 180,
            min_train_dates: 3,
        }
    }
}

impl FoldParams {
    /// Fails on zero folds, empty validation blocks, a negative gap or no
    /// training dates.
    pub fn check(self) -> Result<FoldParams> {
        let invalid = |name, value: usize, reason, hint| ModelError::InvalidFoldSetting {
            name,
            value: value as i64,
            reason,
            hint,
        };
        if self.n_folds == 0 {
            return Err(invalid(
                "n_folds",
                0,
                "at least one fold is needed",
                "use 3 folds",
            ));
        }
        if self.validation_dates == 0 {
            return Err(invalid(
                "validation_dates",
                0,
                "a validation block needs at least one observation date",
                "use 3 dates (three month-ends)",
            ));
        }
        if self.min_train_dates == 0 {
            return Err(invalid(
                "min_train_dates",
                0,
                "a fold needs at least one training date",
                "use 3 dates",
            ));
        }
        if self.gap_days < 0 {
            return Err(ModelError::InvalidFoldSetting {
                name: "gap_days",
                value: self.gap_days,
                reason: "training rows would come after the validation start",
                hint: "use the label horizon in days, such as 180",
            });
        }
        Ok(self)
    }
}

/// One fold: training rows before the gap, validation rows in the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFold {
    /// 0-based, oldest validation block first.
    pub index: usize,
    /// Row positions to train on, in row order.
    pub train: Vec<usize>,
    /// Row positions to validate on, in row order.
    pub validation: Vec<usize>,
    /// Dates spanned by the training rows and the validation rows.
    pub summary: FoldSummary,
}

/// The dates and sizes of a fold, as stored with the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldSummary {
    /// 0-based fold index.
    pub index: usize,
    /// First training observation date.
    pub train_first: NaiveDate,
    /// Last training observation date.
    pub train_last: NaiveDate,
    /// First validation observation date.
    pub validation_first: NaiveDate,
    /// Last validation observation date.
    pub validation_last: NaiveDate,
    /// Training rows.
    pub train_rows: usize,
    /// Validation rows.
    pub validation_rows: usize,
    /// Training rows the fold's fits used, when fewer than `train_rows`
    /// (an even sample; see `selection_rows` in the model settings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_rows: Option<usize>,
}

/// Builds the folds for rows with the given keys.
///
/// Fails with [`ModelError::NotEnoughHistory`] when the dates cannot hold the
/// validation blocks, or a fold has fewer than `min_train_dates` training dates.
pub fn time_folds(keys: &[RowKey], params: FoldParams) -> Result<Vec<TimeFold>> {
    let params = params.check()?;
    let mut dates: Vec<NaiveDate> = keys.iter().map(|k| k.observed).collect();
    dates.sort_unstable();
    dates.dedup();

    let needed = params.n_folds * params.validation_dates;
    if dates.len() <= needed {
        return Err(not_enough(
            params,
            format!(
                "the data has {} observation dates and the validation blocks alone need {needed}",
                dates.len()
            ),
        ));
    }

    let first_block = dates.len() - needed;
    (0..params.n_folds)
        .map(|f| {
            let block =
                &dates[first_block + f * params.validation_dates..][..params.validation_dates];
            build_fold(keys, f, block, params)
        })
        .collect()
}

fn build_fold(
    keys: &[RowKey],
    index: usize,
    block: &[NaiveDate],
    params: FoldParams,
) -> Result<TimeFold> {
    let (validation_first, validation_last) = (block[0], block[block.len() - 1]);
    let mut train = Vec::new();
    let mut validation = Vec::new();
    let mut train_dates: Vec<NaiveDate> = Vec::new();

    for (i, key) in keys.iter().enumerate() {
        if (validation_first - key.observed).num_days() >= params.gap_days {
            train.push(i);
            train_dates.push(key.observed);
        } else if key.observed >= validation_first && key.observed <= validation_last {
            validation.push(i);
        }
    }
    train_dates.sort_unstable();
    train_dates.dedup();

    if train_dates.len() < params.min_train_dates {
        return Err(not_enough(
            params,
            format!(
                "fold {} (validation {validation_first} to {validation_last}) has {} training observation dates at least {} days earlier, fewer than the {} required",
                index + 1,
                train_dates.len(),
                params.gap_days,
                params.min_train_dates
            ),
        ));
    }

    let summary = FoldSummary {
        index,
        train_first: train_dates[0],
        train_last: train_dates[train_dates.len() - 1],
        validation_first,
        validation_last,
        train_rows: train.len(),
        validation_rows: validation.len(),
        fit_rows: None,
    };
    Ok(TimeFold {
        index,
        train,
        validation,
        summary,
    })
}

fn not_enough(params: FoldParams, reason: String) -> ModelError {
    ModelError::NotEnoughHistory {
        folds: params.n_folds,
        validation_dates: params.validation_dates,
        gap_days: params.gap_days,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{date, month_end};

    /// Two accounts at the month-ends of 2022.
    fn monthly_keys() -> Vec<RowKey> {
        (0..12)
            .flat_map(|m| ["a", "b"].map(|a| RowKey::new(a, month_end(m), None)))
            .collect()
    }

    fn params(n_folds: usize) -> FoldParams {
        FoldParams {
            n_folds,
            validation_dates: 2,
            gap_days: 60,
            min_train_dates: 3,
        }
    }

    #[test]
    fn folds_validate_on_latest_months_oldest_first() {
        let folds = time_folds(&monthly_keys(), params(2)).unwrap();
        assert_eq!(folds.len(), 2);
        assert_eq!(folds[0].summary.validation_first, date(2022, 9, 30));
        assert_eq!(folds[0].summary.validation_last, date(2022, 10, 31));
        assert_eq!(folds[1].summary.validation_first, date(2022, 11, 30));
        assert_eq!(folds[1].summary.validation_last, date(2022, 12, 31));
    }

    #[test]
    fn training_rows_end_a_gap_before_validation() {
        // Fold 1 validates from 2022-09-30: 2022-07-31 is 61 days earlier
        // (kept), 2022-08-31 only 30 (left out).
        let folds = time_folds(&monthly_keys(), params(2)).unwrap();
        assert_eq!(folds[0].summary.train_first, date(2022, 1, 31));
        assert_eq!(folds[0].summary.train_last, date(2022, 7, 31));
        assert_eq!(folds[0].train.len(), 14);
        assert_eq!(folds[0].validation.len(), 4);
    }

    #[test]
    fn training_window_expands_fold_by_fold() {
        // Fold 2 validates from 2022-11-30: training runs to 2022-09-30.
        let folds = time_folds(&monthly_keys(), params(2)).unwrap();
        assert_eq!(folds[1].summary.train_last, date(2022, 9, 30));
        assert_eq!(folds[1].train.len(), 18);
    }

    #[test]
    fn no_training_row_is_observed_after_validation_starts() {
        let keys = monthly_keys();
        for fold in time_folds(&keys, params(2)).unwrap() {
            for &i in &fold.train {
                assert!(keys[i].observed < fold.summary.validation_first);
            }
        }
    }

    #[test]
    fn blocks_longer_than_history_are_rejected() {
        // 6 folds x 2 dates = 12 = every date, leaving nothing to train on.
        let err = time_folds(&monthly_keys(), params(6)).unwrap_err();
        assert!(matches!(err, ModelError::NotEnoughHistory { folds: 6, .. }));
    }

    #[test]
    fn fold_with_too_few_training_dates_is_rejected() {
        // 5 folds: the first validates from 2022-03-31, and no month-end is
        // 60 days before it.
        let err = time_folds(&monthly_keys(), params(5)).unwrap_err();
        assert!(
            matches!(err, ModelError::NotEnoughHistory { ref reason, .. } if reason.starts_with("fold 1 "))
        );
    }

    #[test]
    fn negative_gap_is_rejected() {
        let fold_params = FoldParams {
            gap_days: -1,
            ..params(2)
        };
        let err = time_folds(&monthly_keys(), fold_params).unwrap_err();
        assert!(matches!(
            err,
            ModelError::InvalidFoldSetting {
                name: "gap_days",
                value: -1,
                ..
            }
        ));
    }

    #[test]
    fn zero_folds_are_rejected() {
        let err = params(0).check().unwrap_err();
        assert!(matches!(
            err,
            ModelError::InvalidFoldSetting {
                name: "n_folds",
                value: 0,
                ..
            }
        ));
    }
}
