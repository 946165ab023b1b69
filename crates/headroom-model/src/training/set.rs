//! The labelled monthly training set: one row per account active at each
//! month-end, features as of that date, labels from the outcomes within the
//! horizon after it.

use std::collections::HashSet;

use chrono::NaiveDate;
use headroom_data::Tables;
use headroom_features::FeatureOptions;
use ndarray::Array1;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::config::ModelConfig;
use crate::dataset::{Dataset, FeatureMatrix, RowKey};
use crate::error::{ModelError, Result};
use crate::inputs::{FEATURE_TABLE_KEYS, InputSpec};
use crate::kind::ModelKind;
use crate::training::labels::{Label, OutcomeDates};

/// The counts behind a training set: what was observed, labelled and left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetSummary {
    /// The last date of the history: the latest usage or outcome date.
    pub history_end: NaiveDate,
    /// The last observation date whose horizon is over
    /// (`history_end - horizon_days`); later rows are unfinished.
    pub label_cutoff: NaiveDate,
    /// Month-ends observed (the feature panel's dates).
    pub observed_dates: usize,
    /// Account rows observed at those month-ends.
    pub observed_rows: usize,
    /// Labelled month-ends in the set.
    pub labelled_dates: usize,
    /// Labelled rows in the set.
    pub rows: usize,
    /// Distinct accounts among the labelled rows.
    pub accounts: usize,
    /// Rows observed after the label cutoff: their horizon is not over, so
    /// they are left out.
    pub unfinished_rows: usize,
    /// Distinct accounts among the unfinished rows.
    pub unfinished_accounts: usize,
    /// Accounts whose every observed row is unfinished (new accounts).
    pub accounts_without_labels: usize,
    /// Labelled rows left out because they fall before the `history_months`
    /// window.
    pub rows_before_window: usize,
    /// Rows labelled churned.
    pub churned: usize,
    /// Rows labelled expanded.
    pub expanded: usize,
    /// Rows left out of the churn set because the churn falls in the lead time.
    pub churn_in_lead_time: usize,
    /// Rows left out of the expansion set because the expansion falls in the
    /// lead time.
    pub expansion_in_lead_time: usize,
}

/// The labelled rows of a project's monthly feature panel, for both models.
#[derive(Debug, Clone)]
pub struct TrainingSet {
    panel: DataFrame,
    keys: Vec<RowKey>,
    churn: Vec<Label>,
    expansion: Vec<Label>,
    summary: SetSummary,
    config: ModelConfig,
}

/// Builds the training set of a project: the feature panel at every month-end
/// from the end of the warm-up to the end of the history, labelled by the
/// outcomes within the horizon after each month-end.
///
/// Fails when the settings are invalid, the tables hold no usage or are a
/// single snapshot, the history is shorter than the warm-up, or the feature
/// pipeline fails.
pub fn build_training_set(
    tables: &Tables,
    features: &FeatureOptions,
    config: &ModelConfig,
) -> Result<TrainingSet> {
    config.check()?;
    let range = observation_range(tables, config)?;

    let panel = headroom_features::monthly_features_with(tables, range.first, range.last, features)
        .map_err(|source| ModelError::Features { source })?;
    info!(
        rows = panel.height(),
        from = %range.first,
        to = %range.last,
        "computed the monthly feature panel"
    );
    TrainingSet::from_panel(&panel, &tables.outcomes, range.history_end, config)
}

/// The observation dates of a project and the end of its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ObservationRange {
    /// The first observation month-end, after the warm-up.
    first: NaiveDate,
    /// The last date observed: the last usage date. Features of later
    /// month-ends would read months without usage data as zero usage.
    last: NaiveDate,
    /// The latest usage or outcome date: outcomes recorded after the last
    /// usage still complete the labels of earlier rows.
    history_end: NaiveDate,
}

/// Finds the observation dates after the warm-up and the history end.
fn observation_range(tables: &Tables, config: &ModelConfig) -> Result<ObservationRange> {
    if let Some(date) = tables.meta.snapshot_date {
        return Err(ModelError::NoHistory {
            reason: format!("the project is a single snapshot taken on {date}"),
        });
    }
    let usage_dates = tables
        .usage
        .date_range()
        .map_err(|err| ModelError::Features { source: err.into() })?;
    let to_date = headroom_features::calendar::from_epoch_days;
    let Some((usage_first, usage_last)) =
        usage_dates.map(|(first, last)| (to_date(first), to_date(last)))
    else {
        return Err(ModelError::NoHistory {
            reason: "the usage table has no rows".to_owned(),
        });
    };
    let outcome_last = date_range(&tables.outcomes, "date")?.map(|(_, last)| last);
    let history_end = outcome_last.map_or(usage_last, |o| o.max(usage_last));

    let first_month = headroom_features::calendar::month_index(usage_first);
    let warmup = i32::try_from(config.warmup_months).unwrap_or(i32::MAX);
    let first = headroom_features::calendar::month_end(first_month.saturating_add(warmup));
    if first > usage_last {
        return Err(ModelError::NoHistory {
            reason: format!(
                "usage runs from {usage_first} to {usage_last}, which ends before the first observation date {first} after a warm-up of {} months",
                config.warmup_months
            ),
        });
    }
    Ok(ObservationRange {
        first,
        last: usage_last,
        history_end,
    })
}

fn date_range(df: &DataFrame, column: &str) -> Result<Option<(NaiveDate, NaiveDate)>> {
    let dates = df
        .column(column)
        .and_then(|c| c.date().cloned())
        .map_err(|e| ModelError::Column {
            column: column.to_owned(),
            message: e.to_string(),
            hint: "read the tables with headroom_data::Tables, which checks the contract schema",
        })?;
    let first = dates.physical().min();
    let last = dates.physical().max();
    let to_date = |days: i32| headroom_features::calendar::from_epoch_days(days);
    Ok(first.zip(last).map(|(f, l)| (to_date(f), to_date(l))))
}

impl TrainingSet {
    /// Labels a feature panel (columns `account_id`, `as_of`, `segment` and
    /// features, as [`headroom_features::monthly_features_with`] returns it)
    /// with the outcomes table, keeping the rows whose horizon ends on or
    /// before `history_end`.
    ///
    /// Fails when the settings are invalid, a key column is absent or null, or
    /// the outcomes table lacks its columns.
    pub fn from_panel(
        panel: &DataFrame,
        outcomes: &DataFrame,
        history_end: NaiveDate,
        config: &ModelConfig,
    ) -> Result<TrainingSet> {
        config.check()?;
        let all_keys = FeatureMatrix::from_frame(panel, &[], &FEATURE_TABLE_KEYS)?
            .into_parts()
            .2;
        let label_cutoff = label_cutoff(history_end, config.horizon_days);
        let window_start = window_start(&all_keys, label_cutoff, config.history_months);

        let unfinished: Vec<bool> = all_keys.iter().map(|k| k.observed > label_cutoff).collect();
        let keep: Vec<usize> = all_keys
            .iter()
            .enumerate()
            .filter(|(_, k)| k.observed <= label_cutoff && k.observed >= window_start)
            .map(|(i, _)| i)
            .collect();

        let dates = OutcomeDates::from_outcomes(outcomes)?;
        let label_all = |kind| -> Vec<Label> {
            keep.iter()
                .map(|&i| {
                    let k = &all_keys[i];
                    dates.label(
                        kind,
                        &k.account_id,
                        k.observed,
                        config.lead_days,
                        config.horizon_days,
                    )
                })
                .collect()
        };
        let churn = label_all(ModelKind::Churn);
        let expansion = label_all(ModelKind::Expansion);

        let keys: Vec<RowKey> = keep.iter().map(|&i| all_keys[i].clone()).collect();
        let summary = summarize(
            &all_keys,
            &unfinished,
            &keys,
            (&churn, &expansion),
            history_end,
            label_cutoff,
        );
        let indices = IdxCa::from_vec("rows".into(), keep.iter().map(|&i| i as IdxSize).collect());
        let panel = panel.take(&indices).map_err(|e| ModelError::Column {
            column: "as_of".to_owned(),
            message: e.to_string(),
            hint: "pass the panel as monthly_features_with returns it",
        })?;

        log_summary(&summary);
        Ok(TrainingSet {
            panel,
            keys,
            churn,
            expansion,
            summary,
            config: config.clone(),
        })
    }

    /// Returns the counts of observed, labelled and left-out rows.
    pub fn summary(&self) -> &SetSummary {
        &self.summary
    }

    /// Returns the settings the set was built with.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Returns the labelled rows of the feature panel, in row order.
    pub fn panel(&self) -> &DataFrame {
        &self.panel
    }

    /// Returns the row keys, in row order.
    pub fn keys(&self) -> &[RowKey] {
        &self.keys
    }

    /// Returns the distinct labelled observation dates, ascending.
    pub fn observation_dates(&self) -> Vec<NaiveDate> {
        let mut dates: Vec<NaiveDate> = self.keys.iter().map(|k| k.observed).collect();
        dates.sort_unstable();
        dates.dedup();
        dates
    }

    /// Returns the rows of `kind` observed from `from` to `to` (both
    /// included), without the rows whose event falls in the lead time.
    pub fn rows(&self, kind: ModelKind, from: NaiveDate, to: NaiveDate) -> Vec<usize> {
        let labels = self.labels_of(kind);
        (0..self.keys.len())
            .filter(|&i| {
                let observed = self.keys[i].observed;
                observed >= from && observed <= to && labels[i] != Label::InLeadTime
            })
            .collect()
    }

    /// Builds the inputs of `spec` for the given rows.
    ///
    /// Fails when the panel lacks a column the spec reads.
    pub fn matrix(&self, spec: &InputSpec, rows: &[usize]) -> Result<FeatureMatrix> {
        let panel = self.select(rows)?;
        spec.matrix(&panel)
    }

    /// Fits the input spec on the given rows and builds their data set,
    /// taking the rows out of the panel once for both.
    pub fn fit_dataset(&self, kind: ModelKind, rows: &[usize]) -> Result<(InputSpec, Dataset)> {
        let panel = self.select(rows)?;
        let spec = InputSpec::fit(&panel, &self.config)?;
        let features = spec.matrix(&panel)?;
        drop(panel);
        let data = Dataset::new(kind, features, self.labels(kind, rows))?;
        Ok((spec, data))
    }

    /// Returns the labels of `kind` on the given rows, `true` for the event.
    pub fn labels(&self, kind: ModelKind, rows: &[usize]) -> Array1<bool> {
        let labels = self.labels_of(kind);
        rows.iter().map(|&i| labels[i] == Label::Positive).collect()
    }

    /// Returns a numeric panel column on the given rows, NaN where null or
    /// where the panel lacks the column.
    pub fn column(&self, name: &str, rows: &[usize]) -> Array1<f64> {
        let Ok(column) = self.panel.column(name) else {
            return Array1::from_elem(rows.len(), f64::NAN);
        };
        let Ok(floats) = column.cast(&DataType::Float64) else {
            return Array1::from_elem(rows.len(), f64::NAN);
        };
        let floats = floats.f64().expect("cast to Float64");
        rows.iter()
            .map(|&i| floats.get(i).unwrap_or(f64::NAN))
            .collect()
    }

    fn labels_of(&self, kind: ModelKind) -> &[Label] {
        match kind {
            ModelKind::Churn => &self.churn,
            ModelKind::Expansion => &self.expansion,
        }
    }

    fn select(&self, rows: &[usize]) -> Result<DataFrame> {
        let indices = IdxCa::from_vec("rows".into(), rows.iter().map(|&i| i as IdxSize).collect());
        self.panel.take(&indices).map_err(|e| ModelError::Column {
            column: "as_of".to_owned(),
            message: e.to_string(),
            hint: "pass row positions returned by TrainingSet::rows",
        })
    }
}

/// Returns the last observation date whose horizon is over on `history_end`.
pub fn label_cutoff(history_end: NaiveDate, horizon_days: u32) -> NaiveDate {
    history_end
        .checked_sub_days(chrono::Days::new(u64::from(horizon_days)))
        .unwrap_or(NaiveDate::MIN)
}

/// Returns the first observation date inside the `history_months` window:
/// the earliest of the latest `months` labelled dates.
fn window_start(keys: &[RowKey], cutoff: NaiveDate, months: Option<u32>) -> NaiveDate {
    let Some(months) = months else {
        return NaiveDate::MIN;
    };
    let mut dates: Vec<NaiveDate> = keys
        .iter()
        .map(|k| k.observed)
        .filter(|d| *d <= cutoff)
        .collect();
    dates.sort_unstable();
    dates.dedup();
    let skip = dates.len().saturating_sub(months as usize);
    dates.get(skip).copied().unwrap_or(NaiveDate::MIN)
}

fn summarize(
    all_keys: &[RowKey],
    unfinished: &[bool],
    keys: &[RowKey],
    (churn, expansion): (&[Label], &[Label]),
    history_end: NaiveDate,
    label_cutoff: NaiveDate,
) -> SetSummary {
    let unfinished_keys: Vec<&RowKey> = rows_where(all_keys, unfinished, true);
    let finished_keys: Vec<&RowKey> = rows_where(all_keys, unfinished, false);
    let unfinished_accounts = accounts(unfinished_keys.iter().copied());
    let finished_accounts = accounts(finished_keys.iter().copied());
    let count = |labels: &[Label], wanted: Label| labels.iter().filter(|&&l| l == wanted).count();

    SetSummary {
        history_end,
        label_cutoff,
        observed_dates: distinct_dates(all_keys.iter()),
        observed_rows: all_keys.len(),
        labelled_dates: distinct_dates(keys.iter()),
        rows: keys.len(),
        accounts: accounts(keys.iter()).len(),
        unfinished_rows: unfinished_keys.len(),
        unfinished_accounts: unfinished_accounts.len(),
        accounts_without_labels: unfinished_accounts.difference(&finished_accounts).count(),
        rows_before_window: finished_keys.len() - keys.len(),
        churned: count(churn, Label::Positive),
        expanded: count(expansion, Label::Positive),
        churn_in_lead_time: count(churn, Label::InLeadTime),
        expansion_in_lead_time: count(expansion, Label::InLeadTime),
    }
}

fn rows_where<'a>(keys: &'a [RowKey], flags: &[bool], wanted: bool) -> Vec<&'a RowKey> {
    keys.iter()
        .zip(flags)
        .filter(|(_, f)| **f == wanted)
        .map(|(k, _)| k)
        .collect()
}

fn accounts<'a>(keys: impl Iterator<Item = &'a RowKey>) -> HashSet<&'a str> {
    keys.map(|k| k.account_id.as_str()).collect()
}

fn distinct_dates<'a>(keys: impl Iterator<Item = &'a RowKey>) -> usize {
    keys.map(|k| k.observed).collect::<HashSet<_>>().len()
}

fn log_summary(summary: &SetSummary) {
    info!(
        rows = summary.rows,
        accounts = summary.accounts,
        unfinished_rows = summary.unfinished_rows,
        unfinished_accounts = summary.unfinished_accounts,
        churned = summary.churned,
        expanded = summary.expanded,
        "labelled the training set"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{PanelRow, date, outcomes, panel};

    /// Month-ends January to June 2024: a and b every month, c only in June.
    fn small_panel() -> DataFrame {
        let mut rows = Vec::new();
        for month in 1..=6 {
            let as_of = headroom_features::calendar::month_end(
                headroom_features::calendar::month_index(date(2024, month, 1)),
            );
            for account in ["a", "b"] {
                rows.push(PanelRow {
                    account,
                    as_of,
                    segment: Some("smb"),
                    utilization: 0.1 * f64::from(month),
                    days_to_renewal: 100.0,
                });
            }
        }
        rows.push(PanelRow {
            account: "c",
            as_of: date(2024, 6, 30),
            segment: None,
            utilization: 0.5,
            days_to_renewal: 300.0,
        });
        panel(&rows)
    }

    fn small_outcomes() -> DataFrame {
        outcomes(&[
            ("a", date(2024, 7, 15), "churned"),
            ("b", date(2024, 2, 29), "expanded"),
        ])
    }

    /// A 90-day horizon ending 2024-08-31: the label cutoff is 2024-06-02.
    fn config() -> ModelConfig {
        ModelConfig {
            horizon_days: 90,
            ..ModelConfig::default()
        }
    }

    fn build(config: &ModelConfig) -> TrainingSet {
        TrainingSet::from_panel(&small_panel(), &small_outcomes(), date(2024, 8, 31), config)
            .unwrap()
    }

    #[test]
    fn label_cutoff_is_one_horizon_before_history_end() {
        // 2024-08-31 - 90 days = 2024-06-02.
        assert_eq!(label_cutoff(date(2024, 8, 31), 90), date(2024, 6, 2));
        assert_eq!(build(&config()).summary().label_cutoff, date(2024, 6, 2));
    }

    #[test]
    fn unfinished_horizons_are_left_out_and_counted() {
        // 13 rows observed: a and b at six month-ends, c at one. The June
        // rows (a, b, c) are after the cutoff: 3 rows of 3 accounts, and c
        // has no finished row at all. Left: a and b at five month-ends.
        let summary = build(&config()).summary().clone();
        assert_eq!(summary.observed_rows, 13);
        assert_eq!(summary.observed_dates, 6);
        assert_eq!(summary.unfinished_rows, 3);
        assert_eq!(summary.unfinished_accounts, 3);
        assert_eq!(summary.accounts_without_labels, 1);
        assert_eq!(summary.rows, 10);
        assert_eq!(summary.labelled_dates, 5);
        assert_eq!(summary.accounts, 2);
        assert_eq!(summary.rows_before_window, 0);
    }

    #[test]
    fn labels_count_outcomes_within_horizon() {
        // a churns 2024-07-15: within 90 days of April 30 (July 29) and May
        // 31, not of March 31 (June 29). b expands 2024-02-29: within 90
        // days of January 31 only (an outcome on the observation date does
        // not count).
        let set = build(&config());
        assert_eq!(set.summary().churned, 2);
        assert_eq!(set.summary().expanded, 1);

        let all = set.rows(ModelKind::Churn, NaiveDate::MIN, NaiveDate::MAX);
        let churned: Vec<(&str, NaiveDate)> = all
            .iter()
            .zip(set.labels(ModelKind::Churn, &all))
            .filter(|(_, y)| *y)
            .map(|(&i, _)| (set.keys()[i].account_id.as_str(), set.keys()[i].observed))
            .collect();
        assert_eq!(
            churned,
            vec![("a", date(2024, 4, 30)), ("a", date(2024, 5, 31))]
        );
    }

    #[test]
    fn lead_time_leaves_out_early_events() {
        // b's expansion comes 29 days after January 31: inside a 30-day lead
        // time, so that row leaves the expansion set. a's churn comes 45 and
        // 76 days after its positive rows: both stay.
        let set = build(&ModelConfig {
            lead_days: 30,
            ..config()
        });
        assert_eq!(set.summary().expansion_in_lead_time, 1);
        assert_eq!(set.summary().expanded, 0);
        assert_eq!(set.summary().churn_in_lead_time, 0);
        assert_eq!(set.summary().churned, 2);

        let expansion_rows = set.rows(ModelKind::Expansion, NaiveDate::MIN, NaiveDate::MAX);
        let churn_rows = set.rows(ModelKind::Churn, NaiveDate::MIN, NaiveDate::MAX);
        assert_eq!(expansion_rows.len(), 9);
        assert_eq!(churn_rows.len(), 10);
    }

    #[test]
    fn history_window_keeps_latest_month_ends() {
        // The latest two labelled month-ends are April and May: 4 rows; the
        // 6 rows of January to March fall before the window.
        let set = build(&ModelConfig {
            history_months: Some(2),
            ..config()
        });
        assert_eq!(set.summary().rows, 4);
        assert_eq!(set.summary().rows_before_window, 6);
        assert_eq!(
            set.observation_dates(),
            vec![date(2024, 4, 30), date(2024, 5, 31)]
        );
    }

    #[test]
    fn rows_filter_by_observation_window() {
        let set = build(&config());
        let rows = set.rows(ModelKind::Churn, date(2024, 2, 1), date(2024, 3, 31));
        let dates: Vec<NaiveDate> = rows.iter().map(|&i| set.keys()[i].observed).collect();
        assert_eq!(
            dates,
            vec![
                date(2024, 2, 29),
                date(2024, 2, 29),
                date(2024, 3, 31),
                date(2024, 3, 31)
            ]
        );
    }

    #[test]
    fn missing_panel_column_is_reported_by_name() {
        let err = TrainingSet::from_panel(
            &small_panel().drop("as_of").unwrap(),
            &small_outcomes(),
            date(2024, 8, 31),
            &config(),
        )
        .unwrap_err();
        assert!(matches!(err, ModelError::Column { ref column, .. } if column == "as_of"));
    }

    #[test]
    fn zero_horizon_is_rejected() {
        let err = TrainingSet::from_panel(
            &small_panel(),
            &small_outcomes(),
            date(2024, 8, 31),
            &ModelConfig {
                horizon_days: 0,
                ..ModelConfig::default()
            },
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::InvalidSetting {
                    name: "horizon_days",
                    ..
                }
            ),
            "{err}"
        );
    }

    fn usage_tables(dates: &[NaiveDate]) -> Tables {
        let mut tables = Tables::empty();
        let n = dates.len();
        tables.usage = DataFrame::new(
            n,
            vec![
                Series::new("account_id".into(), vec!["a"; n]).into(),
                Series::new("date".into(), dates.to_vec()).into(),
                Series::new("metric".into(), vec!["active_users"; n]).into(),
                Series::new("value".into(), vec![1.0; n]).into(),
            ],
        )
        .unwrap()
        .into();
        tables
    }

    #[test]
    fn observation_starts_after_warmup() {
        // Usage from 2024-01-15 to 2024-09-30: the first observed month-end
        // is three months after January, 2024-04-30.
        let tables = usage_tables(&[date(2024, 1, 15), date(2024, 9, 30)]);
        let range = observation_range(&tables, &ModelConfig::default()).unwrap();
        assert_eq!(range.first, date(2024, 4, 30));
        assert_eq!(range.last, date(2024, 9, 30));
        assert_eq!(range.history_end, date(2024, 9, 30));
    }

    #[test]
    fn later_outcome_extends_history_not_observation() {
        // An outcome recorded after the last usage completes more labels,
        // but month-ends after the last usage are not observed.
        let mut tables = usage_tables(&[date(2024, 1, 15), date(2024, 9, 30)]);
        tables.outcomes = outcomes(&[("a", date(2024, 10, 31), "renewed")]);
        let range = observation_range(&tables, &ModelConfig::default()).unwrap();
        assert_eq!(range.history_end, date(2024, 10, 31));
        assert_eq!(range.last, date(2024, 9, 30));
    }

    #[test]
    fn history_shorter_than_warmup_is_rejected() {
        let tables = usage_tables(&[date(2024, 1, 15), date(2024, 2, 29)]);
        let err = observation_range(&tables, &ModelConfig::default()).unwrap_err();
        assert!(matches!(err, ModelError::NoHistory { .. }), "{err}");
        assert!(err.to_string().contains("2024-04-30"), "{err}");
    }

    #[test]
    fn project_without_usage_is_rejected() {
        let err = observation_range(&Tables::empty(), &ModelConfig::default()).unwrap_err();
        assert_eq!(
            err.to_string().lines().next().unwrap(),
            "cannot build a training set: the usage table has no rows"
        );
    }

    #[test]
    fn snapshot_project_is_rejected() {
        let mut tables = usage_tables(&[date(2024, 6, 30)]);
        tables.meta.snapshot_date = Some(date(2024, 6, 30));
        let err = observation_range(&tables, &ModelConfig::default()).unwrap_err();
        assert_eq!(
            err.to_string().lines().next().unwrap(),
            "cannot build a training set: the project is a single snapshot taken on 2024-06-30"
        );
    }
}
