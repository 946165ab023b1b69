//! A project folder opened for a command: its settings, its normalized tables
//! and its store, with the store's outcome ledger and intervention log merged
//! into the tables.
//!
//! Outcomes reach a project two ways: in the history given to `headroom
//! import`, and one by one through `headroom outcomes`. Training, scoring and
//! the review all read [`Project::tables`], where each outcome (account, date,
//! outcome word) and each intervention (account, date, kind) appears once
//! whichever way it came.

use std::path::{Path, PathBuf};

use headroom_data::tables::TABLES_DIR;
use headroom_data::{DataError, ProjectConfig, TableKind, Tables};
use headroom_store::{Intervention, OutcomeRecord, Store, StoreError};
use polars::prelude::*;

/// The folder of trained model artifacts inside a project.
pub const MODELS_DIR: &str = "models";

/// The folder of rendered reports inside a project.
pub const REPORTS_DIR: &str = "reports";

/// An error opening a project.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The folder contains no normalized tables.
    #[error(
        "{} contains no imported data (no {TABLES_DIR}/ folder)\nhint: run `headroom import SOURCE_DIR --out {}` first, or pass --project",
        dir.display(),
        dir.display()
    )]
    NotImported {
        /// The project folder.
        dir: PathBuf,
    },
    /// The config or a table could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Merging the ledger into the tables failed inside polars.
    #[error("cannot merge the store's {table} into the project tables: {source}")]
    Merge {
        /// The table being merged.
        table: &'static str,
        /// The polars error.
        source: PolarsError,
    },
}

/// How many ledger records the merge added to the imported tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerMerge {
    /// Outcomes found only in the store's ledger, now added to the table.
    pub outcomes_from_ledger: usize,
    /// Outcomes in both the imported table and the ledger, kept once.
    pub outcomes_in_both: usize,
    /// Interventions found only in the store's log, now added to the table.
    pub interventions_from_ledger: usize,
    /// Interventions in both the imported table and the log, kept once.
    pub interventions_in_both: usize,
}

/// An opened project folder.
pub struct Project {
    /// The project folder.
    pub dir: PathBuf,
    /// `headroom.toml`, or the defaults when the project has none.
    pub config: ProjectConfig,
    /// The normalized tables with the ledger merged in.
    pub tables: Tables,
    /// The project's store, open (and locked) for the command's lifetime.
    pub store: Store,
    /// The counts of the ledger merge.
    pub ledger: LedgerMerge,
}

impl Project {
    /// Opens the project in `dir`: reads `headroom.toml` and `tables/`, opens
    /// `store/` (creating it on first use) and merges its outcomes and
    /// interventions into the tables.
    ///
    /// Fails when the folder contains no imported tables, when the config or a
    /// table is invalid, or when the store cannot be opened.
    pub fn open(dir: &Path) -> Result<Project, ProjectError> {
        if !dir.join(TABLES_DIR).is_dir() {
            return Err(ProjectError::NotImported {
                dir: dir.to_path_buf(),
            });
        }
        let config = ProjectConfig::load(dir)?;
        let mut tables = Tables::read_project(dir)?;
        let store = Store::open_or_create(Store::project_dir(dir))?;

        let ledger = merge_ledger(&mut tables, &store)?;
        tracing::debug!(?ledger, "merged the store's ledger into the tables");
        Ok(Project {
            dir: dir.to_path_buf(),
            config,
            tables,
            store,
            ledger,
        })
    }

    /// Returns the folder of trained model artifacts: `PROJECT/models`.
    pub fn models_dir(&self) -> PathBuf {
        self.dir.join(MODELS_DIR)
    }

    /// Returns the folder of rendered reports: `PROJECT/reports`.
    pub fn reports_dir(&self) -> PathBuf {
        self.dir.join(REPORTS_DIR)
    }
}

/// Adds the store's outcomes and interventions to `tables`, each record once:
/// a ledger record whose identity is already in the imported table is counted
/// in `*_in_both` and not added again. The merged tables are sorted by date,
/// then account.
pub fn merge_ledger(tables: &mut Tables, store: &Store) -> Result<LedgerMerge, ProjectError> {
    let outcomes = store.outcomes()?;
    let interventions = store.interventions()?;

    let (outcomes_from_ledger, outcomes_in_both) = merge_into(
        &mut tables.outcomes,
        outcome_frame(&outcomes),
        &["account_id", "date", "outcome"],
        "outcome ledger",
    )?;
    let (interventions_from_ledger, interventions_in_both) = merge_into(
        &mut tables.interventions,
        intervention_frame(&interventions),
        &["account_id", "date", "kind"],
        "intervention log",
    )?;
    Ok(LedgerMerge {
        outcomes_from_ledger,
        outcomes_in_both,
        interventions_from_ledger,
        interventions_in_both,
    })
}

/// Appends the rows of `ledger` whose `identity` is not in `table`, and
/// returns how many were added and how many were already there.
fn merge_into(
    table: &mut DataFrame,
    ledger: PolarsResult<DataFrame>,
    identity: &[&str],
    name: &'static str,
) -> Result<(usize, usize), ProjectError> {
    let merge = |ledger: DataFrame| -> PolarsResult<(DataFrame, usize, usize)> {
        let total = ledger.height();
        if total == 0 {
            return Ok((table.clone(), 0, 0));
        }
        let on: Vec<Expr> = identity.iter().map(|name| col(*name)).collect();
        let new_rows = ledger
            .lazy()
            .unique_stable(None, UniqueKeepStrategy::First)
            .join(
                table
                    .clone()
                    .lazy()
                    .select(on.clone())
                    .unique(None, UniqueKeepStrategy::First),
                on.clone(),
                on,
                JoinArgs::new(JoinType::Anti),
            )
            .collect()?;
        let added = new_rows.height();
        let merged = table.vstack(&new_rows)?.sort(
            ["date", "account_id"],
            SortMultipleOptions::default().with_maintain_order(true),
        )?;
        Ok((merged, added, total - added))
    };
    let (merged, added, in_both) =
        ledger
            .and_then(merge)
            .map_err(|source| ProjectError::Merge {
                table: name,
                source,
            })?;
    *table = merged;
    Ok((added, in_both))
}

/// Builds the ledger's outcomes as a frame with the contract's outcomes schema.
fn outcome_frame(records: &[OutcomeRecord]) -> PolarsResult<DataFrame> {
    let text = |f: fn(&OutcomeRecord) -> Option<&str>| -> Vec<Option<&str>> {
        records.iter().map(f).collect()
    };
    let columns = vec![
        Column::new("account_id".into(), text(|r| Some(r.account_id.as_str()))),
        date_column("date", records.iter().map(|r| r.date)),
        Column::new("outcome".into(), text(|r| Some(r.outcome.as_str()))),
        Column::new("contract_id".into(), text(|r| r.contract_id.as_deref())),
        Column::new(
            "arr_before".into(),
            records.iter().map(|r| r.arr_before).collect::<Vec<_>>(),
        ),
        Column::new(
            "arr_after".into(),
            records.iter().map(|r| r.arr_after).collect::<Vec<_>>(),
        ),
        Column::new("reason".into(), text(|r| r.reason.as_deref())),
    ];
    conform(DataFrame::new(records.len(), columns)?, TableKind::Outcomes)
}

/// Builds the log's interventions as a frame with the contract's interventions schema.
fn intervention_frame(records: &[Intervention]) -> PolarsResult<DataFrame> {
    let columns = vec![
        Column::new(
            "account_id".into(),
            records
                .iter()
                .map(|r| r.account_id.as_str())
                .collect::<Vec<_>>(),
        ),
        date_column("date", records.iter().map(|r| r.date)),
        Column::new(
            "kind".into(),
            records.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "note".into(),
            records
                .iter()
                .map(|r| r.note.as_deref())
                .collect::<Vec<_>>(),
        ),
    ];
    conform(
        DataFrame::new(records.len(), columns)?,
        TableKind::Interventions,
    )
}

/// Builds a polars Date column from chrono dates.
fn date_column(name: &str, dates: impl Iterator<Item = chrono::NaiveDate>) -> Column {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date");
    let days: Vec<i32> = dates.map(|date| (date - epoch).num_days() as i32).collect();
    Column::new(name.into(), days)
        .cast(&DataType::Date)
        .expect("an i32 column casts to Date")
}

/// Gives `frame` exactly the contract columns of `kind`, in order and with
/// their types. Columns the ledger does not carry are null.
fn conform(frame: DataFrame, kind: TableKind) -> PolarsResult<DataFrame> {
    let schema = kind.schema();
    let exprs: Vec<Expr> = schema
        .iter()
        .map(|(name, dtype)| {
            if frame.column(name).is_ok() {
                col(name.clone()).cast(dtype.clone())
            } else {
                lit(NULL).cast(dtype.clone()).alias(name.clone())
            }
        })
        .collect();
    frame.lazy().select(exprs).collect()
}
