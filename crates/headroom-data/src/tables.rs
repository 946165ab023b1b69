//! The normalized tables of a project, as the later stages read them.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::contract::TableKind;
use crate::error::DataError;
use crate::usage::Usage;

/// How a usage metric rolls up from days to a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Rollup {
    /// Total over the month (API calls, tickets).
    #[default]
    Sum,
    /// Highest value in the month (active users, storage).
    Max,
    /// Value on the last day with data.
    Last,
    /// Mean over the days with data.
    Mean,
}

/// Facts about a project's tables that are not rows: how metrics roll up,
/// the currency, and where the tables came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TablesMeta {
    /// Month rollup per usage metric; metrics not listed roll up by sum.
    pub rollups: BTreeMap<String, Rollup>,
    /// The date a snapshot export was taken, for projects without history.
    pub snapshot_date: Option<NaiveDate>,
    /// The reporting currency (ISO 4217). Money columns in other currencies are
    /// converted with `fx`; `None` when the data holds one currency and none was set.
    pub currency: Option<String>,
    /// Units of the reporting currency per unit of each other currency
    /// (`EUR = 1.08` when the reporting currency is USD). Empty without an FX table.
    pub fx: BTreeMap<String, f64>,
    /// The source folder the tables were imported from.
    pub source: Option<PathBuf>,
}

impl TablesMeta {
    /// The month rollup of a metric (sum when the metric is not listed).
    pub fn rollup(&self, metric: &str) -> Rollup {
        self.rollups.get(metric).copied().unwrap_or_default()
    }
}

/// The six normalized tables, each with exactly the contract schema.
#[derive(Debug, Clone)]
pub struct Tables {
    /// One row per account.
    pub accounts: DataFrame,
    /// One row per contract term.
    pub contracts: DataFrame,
    /// One row per contract and entitlement.
    pub entitlements: DataFrame,
    /// One row per account, metric and date; a project's usage stays in its
    /// file until read ([`Usage`]).
    pub usage: Usage,
    /// One row per account event (may be empty).
    pub outcomes: DataFrame,
    /// One row per customer-success action (may be empty).
    pub interventions: DataFrame,
    /// Rollups, currency and provenance.
    pub meta: TablesMeta,
}

/// The folder inside a project that holds the normalized tables.
pub const TABLES_DIR: &str = "tables";
/// The file beside the tables that holds [`TablesMeta`].
pub const META_FILE: &str = "meta.json";

impl Tables {
    /// An empty set of tables with the contract schemas.
    pub fn empty() -> Tables {
        let empty = |kind: TableKind| DataFrame::empty_with_schema(&kind.schema());
        Tables {
            accounts: empty(TableKind::Accounts),
            contracts: empty(TableKind::Contracts),
            entitlements: empty(TableKind::Entitlements),
            usage: Usage::from(empty(TableKind::Usage)),
            outcomes: empty(TableKind::Outcomes),
            interventions: empty(TableKind::Interventions),
            meta: TablesMeta::default(),
        }
    }

    /// Returns the table of a kind. The usage table is read whole from its
    /// file on first use ([`Usage::frame`]).
    ///
    /// Fails when the usage file cannot be read.
    pub fn get(&self, kind: TableKind) -> Result<&DataFrame, DataError> {
        Ok(match kind {
            TableKind::Accounts => &self.accounts,
            TableKind::Contracts => &self.contracts,
            TableKind::Entitlements => &self.entitlements,
            TableKind::Usage => self.usage.frame()?,
            TableKind::Outcomes => &self.outcomes,
            TableKind::Interventions => &self.interventions,
        })
    }

    /// Returns the table of a kind, mutably. The usage table is read whole
    /// from its file first ([`Usage::frame_mut`]).
    ///
    /// Fails when the usage file cannot be read.
    pub fn get_mut(&mut self, kind: TableKind) -> Result<&mut DataFrame, DataError> {
        Ok(match kind {
            TableKind::Accounts => &mut self.accounts,
            TableKind::Contracts => &mut self.contracts,
            TableKind::Entitlements => &mut self.entitlements,
            TableKind::Usage => self.usage.frame_mut()?,
            TableKind::Outcomes => &mut self.outcomes,
            TableKind::Interventions => &mut self.interventions,
        })
    }

    /// Reads the normalized tables of a project (`PROJECT/tables/*.parquet`).
    /// The usage rows stay in their file until a caller reads them.
    ///
    /// Fails when a table file is missing or unreadable, or when its schema is
    /// not the contract schema.
    pub fn read_project(project: &Path) -> Result<Tables, DataError> {
        let dir = project.join(TABLES_DIR);
        let mut tables = Tables::empty();
        for kind in TableKind::ALL {
            let path = dir.join(format!("{}.parquet", kind.name()));
            if kind == TableKind::Usage {
                tables.usage = Usage::open(&path)?;
                continue;
            }
            let file = File::open(&path).map_err(|source| DataError::Io {
                path: path.clone(),
                source,
            })?;
            let df = ParquetReader::new(file)
                .finish()
                .map_err(|source| DataError::Polars {
                    path: path.clone(),
                    source,
                })?;
            check_schema(kind, &df, &path)?;
            *tables.get_mut(kind)? = df;
        }

        let meta_path = dir.join(META_FILE);
        let text = std::fs::read_to_string(&meta_path).map_err(|source| DataError::Io {
            path: meta_path.clone(),
            source,
        })?;
        tables.meta = serde_json::from_str(&text).map_err(|source| DataError::Json {
            path: meta_path,
            source,
        })?;
        Ok(tables)
    }

    /// Writes the tables into `PROJECT/tables/`, replacing what was there only
    /// once every file has been written in full.
    ///
    /// The files are staged in a folder unique to this process and call, then
    /// renamed into place, so two writers never share a half-written folder.
    /// Writers into one project should still hold its [`crate::ImportLock`]:
    /// without it, the last rename wins.
    pub fn write_project(&self, project: &Path) -> Result<(), DataError> {
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DataError::Io { path, source }
        };
        let dir = project.join(TABLES_DIR);
        let staging = project.join(unique_name(STAGING_PREFIX));
        std::fs::create_dir_all(&staging).map_err(io_error(&staging))?;
        if let Err(err) = self.write_files(&staging) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(err);
        }

        // The old folder is moved aside, not deleted, before the new one takes
        // its place, so that readers miss the tables for two renames only.
        let retired = project.join(unique_name(RETIRED_PREFIX));
        if dir.exists() {
            std::fs::rename(&dir, &retired).map_err(io_error(&dir))?;
        }
        if let Err(err) = std::fs::rename(&staging, &dir) {
            // Put the previous tables back, so a failed write leaves them.
            if retired.exists() {
                let _ = std::fs::rename(&retired, &dir);
            }
            let _ = std::fs::remove_dir_all(&staging);
            return Err(io_error(&dir)(err));
        }
        if retired.exists()
            && let Err(err) = std::fs::remove_dir_all(&retired)
        {
            // The new tables are in place; the next import removes the rest.
            tracing::warn!(path = %retired.display(), %err, "failed to remove the replaced tables");
        }
        Ok(())
    }

    /// Writes one Parquet file per table and `meta.json` into `folder`.
    fn write_files(&self, folder: &Path) -> Result<(), DataError> {
        for kind in TableKind::ALL {
            let path = folder.join(format!("{}.parquet", kind.name()));
            let file = File::create(&path).map_err(|source| DataError::Io {
                path: path.clone(),
                source,
            })?;
            let mut df = self.get(kind)?.clone();
            ParquetWriter::new(file)
                .finish(&mut df)
                .map_err(|source| DataError::Polars {
                    path: path.clone(),
                    source,
                })?;
        }
        let meta_path = folder.join(META_FILE);
        let text = serde_json::to_string_pretty(&self.meta).expect("table metadata serializes");
        std::fs::write(&meta_path, text).map_err(|source| DataError::Io {
            path: meta_path,
            source,
        })
    }
}

/// The name prefix of the folders that [`Tables::write_project`] stages into.
pub const STAGING_PREFIX: &str = ".tables.partial-";
/// The name prefix of the replaced tables folders, deleted once replaced.
pub const RETIRED_PREFIX: &str = ".tables.old-";

/// Removes the staging and replaced folders that writers stopped before
/// cleaning up. Call it only while holding the project's [`crate::ImportLock`],
/// when no other writer can be using them.
pub fn remove_stale_staging(project: &Path) -> Result<(), DataError> {
    let Ok(entries) = std::fs::read_dir(project) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = name.starts_with(STAGING_PREFIX)
            || name.starts_with(RETIRED_PREFIX)
            || name == ".tables.partial";
        if stale && entry.path().is_dir() {
            tracing::info!(path = %entry.path().display(), "removing a folder left by a stopped import");
            std::fs::remove_dir_all(entry.path()).map_err(|source| DataError::Io {
                path: entry.path(),
                source,
            })?;
        }
    }
    Ok(())
}

/// Returns `prefix` followed by this process id and a per-process counter.
fn unique_name(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}{}-{n}", std::process::id())
}

fn check_schema(kind: TableKind, df: &DataFrame, path: &Path) -> Result<(), DataError> {
    let expected = kind.schema();
    let found = df.schema();
    if found.as_ref() != &expected {
        return Err(DataError::SchemaMismatch {
            path: path.to_path_buf(),
            table: kind,
            expected: format!("{expected:?}"),
            found: format!("{found:?}"),
        });
    }
    Ok(())
}
