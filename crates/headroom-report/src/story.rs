//! One account in full: its score from a portfolio run, its usage against
//! each entitlement over its whole history, its feature values, its notes,
//! and the scores earlier runs stored for it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use headroom_data::Tables;
use headroom_features::{Role, lookup};
use headroom_store::Store;
use polars::prelude::*;
use serde::Serialize;

use crate::alerts::NoteRef;
use crate::error::ReportError;
use crate::frame;
use crate::history::{AccountHistory, HistoryRequest, load_history};
use crate::models::ModelQuality;
use crate::progress::Progress;
use crate::project::Project;
use crate::run::{AccountScore, LookAhead};
use crate::score::{Loaded, ScoreOptions, score_with_features};

/// Most months of usage an account story shows.
pub const STORY_MONTHS: usize = 60;

/// One feature value of the account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureValue {
    /// The column name.
    pub name: String,
    /// The value as text (numbers with up to 4 decimals, dates, flags).
    pub value: String,
    /// The unit from the catalogue.
    pub unit: String,
    /// The column's meaning, from the catalogue.
    pub description: String,
}

/// A note with whether it applies at the scoring date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryNote {
    /// The note.
    pub note: NoteRef,
    /// Whether it applies at the scoring date.
    pub active: bool,
}

/// The scores an earlier run stored for the account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PastScore {
    /// The snapshot id.
    pub snapshot: u64,
    /// The run's scoring date.
    pub as_of: NaiveDate,
    /// The health segment it gave.
    pub health_segment: String,
    /// P(churn) then.
    pub p_churn: Option<f64>,
    /// P(expansion) then.
    pub p_expansion: Option<f64>,
    /// Whether it was flagged for churn.
    pub flagged_churn: bool,
    /// Whether it was flagged for expansion.
    pub flagged_expansion: bool,
    /// Its priority then.
    pub priority: f64,
    /// The alert kinds raised then.
    pub alerts: Vec<String>,
}

/// One account in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountStory {
    /// The project folder.
    pub project: PathBuf,
    /// The scoring date.
    pub as_of: NaiveDate,
    /// Accounts scored in the same run, for the rank.
    pub accounts_scored: usize,
    /// The account's result in the run.
    pub score: AccountScore,
    /// The churn champion's metrics and verdict.
    pub churn_model: Option<ModelQuality>,
    /// The expansion champion's metrics and verdict.
    pub expansion_model: Option<ModelQuality>,
    /// The run's notices.
    pub notices: Vec<String>,
    /// The champions trained on outcomes dated after the scoring date; their
    /// messages are among `notices` too.
    #[serde(skip)]
    pub look_ahead: Vec<LookAhead>,
    /// The last day of each month of `usage`, oldest first.
    pub months: Vec<NaiveDate>,
    /// Monthly usage of every entitlement over the account's history.
    #[serde(skip)]
    pub usage: AccountHistory,
    /// Every feature value of the account at the scoring date.
    pub features: Vec<FeatureValue>,
    /// All of the account's notes.
    pub notes: Vec<StoryNote>,
    /// Earlier scoring runs, oldest first.
    pub past: Vec<PastScore>,
}

/// Tells the story of one account as of a date: scores the portfolio (without
/// storing a snapshot), then reads the account's whole usage history, notes
/// and past snapshots.
///
/// Fails with [`ReportError::AccountNotFound`] for an id the project does not
/// have, and [`ReportError::AccountInactive`] when the account has no active
/// contract at the date.
pub fn account_story(
    project: &Project,
    account_id: &str,
    options: &ScoreOptions,
    progress: &dyn Progress,
) -> Result<AccountStory, ReportError> {
    let tables = &project.tables;
    check_known(&project.dir, tables, account_id)?;
    let loaded = Loaded::read(project, options)?;
    let as_of = loaded
        .options
        .as_of
        .expect("Loaded always sets the scoring date");
    let (run, table) = score_with_features(
        &loaded.inputs(&project.dir, tables),
        &loaded.options,
        progress,
    )?;

    let Some(score) = run
        .accounts
        .iter()
        .find(|a| a.facts.account_id == account_id)
        .cloned()
    else {
        return Err(inactive(tables, account_id, as_of));
    };

    let (months, usage) = full_history(tables, &table, account_id, as_of)?;
    let features = feature_values(&table, account_id)?;
    let notes = project
        .store
        .notes_for_account(account_id)?
        .iter()
        .map(|note| StoryNote {
            note: NoteRef::from_note(note),
            active: note.is_active_at(as_of),
        })
        .collect();
    let past = past_scores(&project.store, account_id)?;

    Ok(AccountStory {
        project: project.dir.clone(),
        as_of,
        accounts_scored: run.accounts.len(),
        score,
        churn_model: run.churn_model,
        expansion_model: run.expansion_model,
        notices: run.notices,
        look_ahead: run.look_ahead,
        months,
        usage,
        features,
        notes,
        past,
    })
}

fn check_known(project: &Path, tables: &Tables, account_id: &str) -> Result<(), ReportError> {
    let ids: Vec<String> = frame::strings(&tables.accounts, "account_id")?
        .into_iter()
        .flatten()
        .collect();
    if ids.iter().any(|id| id == account_id) {
        return Ok(());
    }
    let requested = account_id.trim().to_lowercase();
    let mut similar: Vec<&String> = ids
        .iter()
        .filter(|id| {
            let id = id.to_lowercase();
            !requested.is_empty() && (id.contains(&requested) || requested.contains(&id))
        })
        .take(3)
        .collect();
    similar.sort();
    let hint = if similar.is_empty() {
        "account ids are case-sensitive text; `headroom score --format csv` lists every active account".to_string()
    } else {
        let names: Vec<String> = similar.iter().map(|id| format!("{id:?}")).collect();
        format!("did you mean {}?", names.join(" or "))
    };
    Err(ReportError::AccountNotFound {
        account_id: account_id.to_string(),
        project: project.to_path_buf(),
        hint,
    })
}

fn inactive(tables: &Tables, account_id: &str, as_of: NaiveDate) -> ReportError {
    let last_end = tables
        .contracts
        .clone()
        .lazy()
        .filter(col("account_id").eq(lit(account_id)))
        .select([col("end_date").max()])
        .collect()
        .ok()
        .and_then(|df| frame::dates(&df, "end_date").ok())
        .and_then(|dates| dates.into_iter().next().flatten());
    ReportError::AccountInactive {
        account_id: account_id.to_string(),
        as_of,
        last_active: last_end
            .map(|d| format!(", e.g. {d} (its last contract end)"))
            .unwrap_or_default(),
    }
}

/// Reads the account's monthly usage from the project's first usage month
/// (at most [`STORY_MONTHS`] back) to the scoring month.
fn full_history(
    tables: &Tables,
    table: &DataFrame,
    account_id: &str,
    as_of: NaiveDate,
) -> Result<(Vec<NaiveDate>, AccountHistory), ReportError> {
    let only: HashSet<String> = HashSet::from([account_id.to_string()]);
    let probe = load_history(
        tables,
        table,
        HistoryRequest {
            as_of,
            months: 1,
            accounts: Some(&only),
        },
    )?;
    let months = probe
        .data_start
        .map_or(1, |start| (probe.last_month - start + 1).max(1) as usize)
        .min(STORY_MONTHS);
    let history = load_history(
        tables,
        table,
        HistoryRequest {
            as_of,
            months,
            accounts: Some(&only),
        },
    )?;
    let mut account = history.account(account_id).cloned().unwrap_or_default();
    let first = first_reading(&account).unwrap_or(0);
    trim_front(&mut account, first);
    let dates = (first..history.len())
        .map(|i| history.month_end(i))
        .collect();
    Ok((dates, account))
}

/// Finds the first month with a reading in any of the account's series.
fn first_reading(history: &AccountHistory) -> Option<usize> {
    history
        .entitlements
        .iter()
        .map(|e| &e.usage)
        .chain(std::iter::once(&history.primary_usage))
        .filter_map(|usage| usage.iter().position(Option::is_some))
        .min()
}

/// Drops the first `months` months of every series.
fn trim_front(history: &mut AccountHistory, months: usize) {
    for series in &mut history.entitlements {
        series.usage.drain(..months.min(series.usage.len()));
    }
    let primary = &mut history.primary_usage;
    primary.drain(..months.min(primary.len()));
}

/// Lists every non-null model input and descriptive value of the account, in
/// feature-table order.
fn feature_values(table: &DataFrame, account_id: &str) -> Result<Vec<FeatureValue>, ReportError> {
    let ids = frame::strings(table, "account_id")?;
    let Some(row) = ids.iter().position(|id| id.as_deref() == Some(account_id)) else {
        return Ok(Vec::new());
    };
    let mut values = Vec::new();
    for column in table.columns() {
        let name = column.name().as_str();
        let spec = lookup(name);
        if spec.is_some_and(|s| s.role == Role::Key) {
            continue;
        }
        let value = column
            .get(row)
            .map_err(ReportError::polars("a feature value"))?;
        let text = match value {
            AnyValue::Null => continue,
            AnyValue::Float64(v) if v.is_nan() => continue,
            AnyValue::Float64(v) => trim_decimals(v),
            AnyValue::Boolean(b) => if b { "yes" } else { "no" }.to_string(),
            AnyValue::String(s) => s.to_string(),
            AnyValue::StringOwned(s) => s.to_string(),
            other => other.to_string(),
        };
        values.push(FeatureValue {
            name: name.to_string(),
            value: text,
            unit: spec.map(|s| s.unit.to_string()).unwrap_or_default(),
            description: spec.map(|s| s.description.to_string()).unwrap_or_default(),
        });
    }
    Ok(values)
}

fn trim_decimals(v: f64) -> String {
    let text = format!("{v:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

fn past_scores(store: &Store, account_id: &str) -> Result<Vec<PastScore>, ReportError> {
    let mut past = Vec::new();
    for header in store.snapshots()? {
        let Some(row) = store.snapshot_row(header.id, account_id)? else {
            continue;
        };
        past.push(PastScore {
            snapshot: header.id.0,
            as_of: header.as_of,
            health_segment: row.health_segment,
            p_churn: row.p_churn,
            p_expansion: row.p_expansion,
            flagged_churn: row.flagged_churn,
            flagged_expansion: row.flagged_expansion,
            priority: row.priority,
            alerts: row.alerts.into_iter().map(|a| a.kind).collect(),
        });
    }
    Ok(past)
}
