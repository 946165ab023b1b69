//! Labels from the outcomes table: whether an account churned or expanded in
//! the window after an observation date.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use polars::prelude::DataFrame;

use crate::error::{ModelError, Result};
use crate::kind::ModelKind;

/// The label of one row for one model kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// The event happened in (T + lead, T + horizon].
    Positive,
    /// It did not.
    Negative,
    /// It happened in (T, T + lead]: too close to act on, so the row is left
    /// out of that model's training set.
    InLeadTime,
}

/// The dates of churned and expanded outcomes per account, sorted.
#[derive(Debug, Clone, Default)]
pub struct OutcomeDates {
    churned: HashMap<String, Vec<NaiveDate>>,
    expanded: HashMap<String, Vec<NaiveDate>>,
}

impl OutcomeDates {
    /// Reads the `account_id`, `date` and `outcome` columns of an outcomes
    /// table; other outcomes (renewed, contracted) are not events of either
    /// model.
    ///
    /// Fails when a column is absent, of the wrong type, or null.
    pub fn from_outcomes(outcomes: &DataFrame) -> Result<OutcomeDates> {
        let accounts = text(outcomes, "account_id")?;
        let words = text(outcomes, "outcome")?;
        let dates = outcomes
            .column("date")
            .and_then(|c| c.date().cloned())
            .map_err(|e| column_error("date", e.to_string()))?;

        let mut result = OutcomeDates::default();
        for (i, ((account, word), date)) in accounts
            .iter()
            .zip(&words)
            .zip(dates.as_date_iter())
            .enumerate()
        {
            let (Some(account), Some(word), Some(date)) = (account, word, date) else {
                return Err(column_error(
                    "account_id, date, outcome",
                    format!("row {} has a null key", i + 1),
                ));
            };
            let list = match word.as_str() {
                "churned" => &mut result.churned,
                "expanded" => &mut result.expanded,
                _ => continue,
            };
            list.entry(account.clone()).or_default().push(date);
        }
        for dates in result
            .churned
            .values_mut()
            .chain(result.expanded.values_mut())
        {
            dates.sort_unstable();
        }
        Ok(result)
    }

    /// Labels the row of `account` observed at `observed` for `kind`.
    pub fn label(
        &self,
        kind: ModelKind,
        account: &str,
        observed: NaiveDate,
        lead_days: u32,
        horizon_days: u32,
    ) -> Label {
        let events = match kind {
            ModelKind::Churn => &self.churned,
            ModelKind::Expansion => &self.expanded,
        };
        let Some(dates) = events.get(account) else {
            return Label::Negative;
        };
        let lead_end = add_days(observed, lead_days);
        let horizon_end = add_days(observed, horizon_days);
        let first_after = dates.partition_point(|&d| d <= observed);
        match dates.get(first_after) {
            Some(&d) if d <= lead_end && lead_days > 0 => Label::InLeadTime,
            Some(&d) if d <= horizon_end => Label::Positive,
            _ => Label::Negative,
        }
    }
}

/// Adds `days` to `date`, saturating at the last representable date.
pub fn add_days(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

fn text(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let column = df
        .column(name)
        .map_err(|e| column_error(name, e.to_string()))?;
    let text = column
        .str()
        .map_err(|e| column_error(name, e.to_string()))?;
    Ok(text.iter().map(|v| v.map(str::to_owned)).collect())
}

fn column_error(column: &str, message: String) -> ModelError {
    ModelError::Column {
        column: column.to_owned(),
        message: format!("outcomes table: {message}"),
        hint: "read the outcomes with headroom_data::Tables, which checks the contract schema",
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::{DataFrame, NamedFrom, Series};

    use super::*;
    use crate::testutil::date;

    fn outcomes() -> DataFrame {
        let dates = Series::new(
            "date".into(),
            [
                date(2024, 3, 31),
                date(2024, 9, 30),
                date(2024, 2, 29),
                date(2024, 1, 31),
            ],
        );
        DataFrame::new(
            4,
            vec![
                Series::new("account_id".into(), ["a", "a", "b", "c"]).into(),
                dates.into(),
                Series::new(
                    "outcome".into(),
                    ["expanded", "churned", "churned", "renewed"],
                )
                .into(),
            ],
        )
        .unwrap()
    }

    #[test]
    fn churn_inside_horizon_is_positive() {
        // a churns on 2024-09-30. Observed 2024-04-30 + 180 days = 2024-10-27.
        let dates = OutcomeDates::from_outcomes(&outcomes()).unwrap();
        let label = dates.label(ModelKind::Churn, "a", date(2024, 4, 30), 0, 180);
        assert_eq!(label, Label::Positive);
    }

    #[test]
    fn churn_after_horizon_is_negative() {
        // Observed 2024-03-31 + 180 days = 2024-09-27, before the churn.
        let dates = OutcomeDates::from_outcomes(&outcomes()).unwrap();
        let label = dates.label(ModelKind::Churn, "a", date(2024, 3, 31), 0, 180);
        assert_eq!(label, Label::Negative);
    }

    #[test]
    fn outcome_on_observation_date_is_not_a_label() {
        // The expansion on 2024-03-31 is in the features at 2024-03-31, so it
        // cannot label that row: the window is (T, T + 180].
        let dates = OutcomeDates::from_outcomes(&outcomes()).unwrap();
        let label = dates.label(ModelKind::Expansion, "a", date(2024, 3, 31), 0, 180);
        assert_eq!(label, Label::Negative);
        let before = dates.label(ModelKind::Expansion, "a", date(2024, 3, 30), 0, 180);
        assert_eq!(before, Label::Positive);
    }

    #[test]
    fn horizon_end_is_included() {
        // 2024-04-03 + 180 days = 2024-09-30, the churn date itself.
        let dates = OutcomeDates::from_outcomes(&outcomes()).unwrap();
        let label = dates.label(ModelKind::Churn, "a", date(2024, 4, 3), 0, 180);
        assert_eq!(label, Label::Positive);
        let one_day_earlier = dates.label(ModelKind::Churn, "a", date(2024, 4, 2), 0, 180);
        assert_eq!(one_day_earlier, Label::Negative);
    }

    #[test]
    fn event_inside_lead_time_is_left_out() {
        // b churns 2024-02-29, 29 days after 2024-01-31: inside a 30-day lead.
        let dates = OutcomeDates::from_outcomes(&outcomes()).unwrap();
        let label = dates.label(ModelKind::Churn, "b", date(2024, 1, 31), 30, 180);
        assert_eq!(label, Label::InLeadTime);
        let without_lead = dates.label(ModelKind::Churn, "b", date(2024, 1, 31), 0, 180);
        assert_eq!(without_lead, Label::Positive);
    }

    #[test]
    fn renewed_outcome_labels_nothing() {
        let dates = OutcomeDates::from_outcomes(&outcomes()).unwrap();
        for kind in [ModelKind::Churn, ModelKind::Expansion] {
            let label = dates.label(kind, "c", date(2023, 12, 31), 0, 180);
            assert_eq!(label, Label::Negative);
        }
    }
}
