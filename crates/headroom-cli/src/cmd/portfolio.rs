//! The check that keeps `headroom import` from mixing two portfolios in one
//! project: once the store contains score snapshots or recorded outcomes, the
//! accounts of a new import must be mostly the accounts known to the project.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::Path;

use anyhow::{Context, bail};
use headroom_data::Tables;
use headroom_data::tables::TABLES_DIR;
use headroom_store::{Store, StoreError};
use polars::prelude::{DataFrame, ParquetReader, SerReader};

/// The accounts known to a project and the accounts of a new import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// Accounts known to the project: its current tables, its latest score
    /// snapshot and its outcome ledger.
    pub known: usize,
    /// Accounts in the new accounts table.
    pub new: usize,
    /// Accounts in both.
    pub shared: usize,
}

impl Overlap {
    /// Counts the accounts in `known`, in `new` and in both.
    pub fn of(known: &BTreeSet<String>, new: &BTreeSet<String>) -> Overlap {
        Overlap {
            known: known.len(),
            new: new.len(),
            shared: known.intersection(new).count(),
        }
    }

    /// Returns whether the two sets look like two portfolios: they share
    /// fewer than half of the accounts of the smaller set. Measuring against
    /// the smaller set lets a portfolio grow or shrink between imports (new
    /// customers, churned ones dropped from the export) without a rejection.
    pub fn is_other_portfolio(&self) -> bool {
        let smaller = self.known.min(self.new);
        smaller > 0 && self.shared * 2 < smaller
    }
}

/// Rejects the import when the project's store contains snapshots or outcomes
/// and `tables` share fewer than half of the accounts known to the project.
///
/// A project without a store, or with a store that contains neither, passes.
/// Fails too when the store or the current tables cannot be read.
pub fn check(project: &Path, tables: &Tables) -> anyhow::Result<()> {
    let store_dir = Store::project_dir(project);
    let store = match Store::open(&store_dir) {
        Ok(store) => store,
        Err(StoreError::NotFound { .. }) => return Ok(()),
        Err(err) => {
            return Err(err).with_context(|| {
                format!(
                    "failed to open the store {} to compare its accounts with the new ones",
                    store_dir.display()
                )
            });
        }
    };
    let snapshots = store.snapshots()?;
    let outcomes = store.outcomes()?;
    if snapshots.is_empty() && outcomes.is_empty() {
        store.close()?;
        return Ok(());
    }

    let mut known: BTreeSet<String> = outcomes.into_iter().map(|o| o.account_id).collect();
    if let Some(latest) = snapshots.last() {
        for row in store.snapshot_rows(latest.id)? {
            known.insert(row?.account_id);
        }
    }
    store.close()?;
    known.extend(current_account_ids(project)?);
    let new = account_ids(&tables.accounts)?;

    let overlap = Overlap::of(&known, &new);
    tracing::debug!(?overlap, "compared the new accounts with the project's");
    if overlap.is_other_portfolio() {
        bail!(
            "the new accounts table shares {} of its {} account ids with the {} accounts known to this project (its tables, {} score snapshot(s) and its outcome ledger), so the store would mix two portfolios\nhint: import another portfolio into a new project (`headroom init NEW_DIR`), or pass --replace-portfolio if these are the same customers under new ids",
            overlap.shared,
            overlap.new,
            overlap.known,
            snapshots.len(),
        );
    }
    Ok(())
}

/// Reads the account ids of the project's current accounts table, and only
/// that column, so that a large usage table is not read for the check. A
/// project without tables gives none.
fn current_account_ids(project: &Path) -> anyhow::Result<BTreeSet<String>> {
    let path = project.join(TABLES_DIR).join("accounts.parquet");
    if !path.is_file() {
        return Ok(BTreeSet::new());
    }
    let file = File::open(&path).with_context(|| format!("failed to open {}", path.display()))?;
    let accounts = ParquetReader::new(file)
        .with_columns(Some(vec!["account_id".to_string()]))
        .finish()
        .with_context(|| format!("failed to read {}", path.display()))?;
    account_ids(&accounts)
}

/// Returns the account ids of an accounts table.
fn account_ids(accounts: &DataFrame) -> anyhow::Result<BTreeSet<String>> {
    let ids = accounts
        .column("account_id")
        .context("the accounts table has no account_id column")?
        .str()
        .context("account_id is not text")?
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(range: std::ops::Range<u32>) -> BTreeSet<String> {
        range.map(|i| format!("A{i:04}")).collect()
    }

    #[test]
    fn disjoint_portfolios_are_other() {
        let overlap = Overlap::of(&ids(0..100), &ids(100..150));

        assert_eq!(overlap.shared, 0);
        assert!(overlap.is_other_portfolio());
    }

    #[test]
    fn grown_portfolio_is_the_same() {
        // 100 known, 250 new of which the first 100 are the known ones: all
        // of the smaller set is shared.
        let overlap = Overlap::of(&ids(0..100), &ids(0..250));

        assert_eq!(overlap.shared, 100);
        assert!(!overlap.is_other_portfolio());
    }

    #[test]
    fn shrunk_portfolio_is_the_same() {
        // 100 known, 60 new, all of them known.
        let overlap = Overlap::of(&ids(0..100), &ids(40..100));

        assert!(!overlap.is_other_portfolio());
    }

    #[test]
    fn half_shared_is_the_boundary() {
        // Smaller set 10: 5 shared is half (kept), 4 is under half (rejected).
        assert!(!Overlap::of(&ids(0..10), &ids(5..15)).is_other_portfolio());
        assert!(Overlap::of(&ids(0..10), &ids(6..16)).is_other_portfolio());
    }
}
