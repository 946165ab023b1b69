//! Score snapshots: one per scoring run, one row per account.
//!
//! Rows are keyed per account (`r`, snapshot id, account id) in the
//! `snapshot_rows` tree, so a review can look up the few accounts with an
//! outcome without reading a million rows. The header (`h`, id) and its date
//! index (`t`, as-of date, id) go into the `snapshots` tree in one batch after
//! the last row, so the header is the commit point. Rows without a header (a
//! run that failed or was killed) are invisible and swept by the next write.

use std::collections::HashSet;
use std::ops::Bound;

use chrono::{Days, NaiveDate};

use crate::codec::{KeyBuilder, KeyReader, encode_value};
use crate::error::StoreError;
use crate::records::{NewSnapshot, Snapshot, SnapshotHeader, SnapshotId, SnapshotRow};
use crate::store::{META_NEXT_SNAPSHOT, SNAPSHOT_ROWS_TREE, SNAPSHOTS_TREE, Store};

const HEADER_TAG: u8 = b'h';
const DATE_TAG: u8 = b't';
const ROW_TAG: u8 = b'r';

/// Rows written to sled per batch.
const ROW_BATCH: usize = 10_000;

pub(crate) fn header_key(id: SnapshotId) -> Vec<u8> {
    KeyBuilder::new(HEADER_TAG).u64(id.0).finish()
}

fn date_key(as_of: NaiveDate, id: SnapshotId) -> Vec<u8> {
    KeyBuilder::new(DATE_TAG).date(as_of).u64(id.0).finish()
}

fn rows_prefix(id: SnapshotId) -> Vec<u8> {
    KeyBuilder::new(ROW_TAG).u64(id.0).finish()
}

pub(crate) fn row_key(id: SnapshotId, account_id: &str) -> Vec<u8> {
    KeyBuilder::new(ROW_TAG).u64(id.0).str(account_id).finish()
}

/// The rows of a snapshot in account id order, read lazily from disk.
pub struct SnapshotRows<'a> {
    store: &'a Store,
    iter: sled::Iter,
}

impl Iterator for SnapshotRows<'_> {
    type Item = Result<SnapshotRow, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.iter.next()?;
        Some(
            entry
                .map_err(|source| self.store.sled_error(source))
                .and_then(|(key, value)| self.store.decode(SNAPSHOT_ROWS_TREE, &key, &value)),
        )
    }
}

impl Store {
    /// Stores a scoring run and its rows, and returns its header once it is on
    /// disk.
    ///
    /// Rows are streamed to sled in batches, so a million-account run never
    /// sits in memory here. The snapshot becomes visible only when all rows
    /// are written. Fails with `InvalidRecord` on the first invalid row or a
    /// repeated account id, after removing the rows already written.
    pub fn write_snapshot<I>(&self, new: NewSnapshot, rows: I) -> Result<SnapshotHeader, StoreError>
    where
        I: IntoIterator<Item = SnapshotRow>,
    {
        new.validate()
            .map_err(|problem| invalid_run(&new, problem))?;

        let _guard = self.write_guard();
        self.sweep_orphan_rows()?;
        let id = SnapshotId(self.next_id(META_NEXT_SNAPSHOT)?);

        let count = match self.write_rows(id, rows) {
            Ok(count) => count,
            Err(err) => {
                self.remove_rows(id)?;
                return Err(err);
            }
        };

        let header = SnapshotHeader {
            id,
            as_of: new.as_of,
            created_at: new.created_at,
            churn_model: new.churn_model,
            expansion_model: new.expansion_model,
            thresholds: new.thresholds,
            rows: count,
        };
        self.commit_header(&header)?;
        self.flush()?;

        tracing::info!(id = id.0, rows = count, as_of = %header.as_of, "stored a score snapshot");
        Ok(header)
    }

    fn write_rows<I>(&self, id: SnapshotId, rows: I) -> Result<u64, StoreError>
    where
        I: IntoIterator<Item = SnapshotRow>,
    {
        let tree = &self.trees().snapshot_rows;
        let mut seen = HashSet::new();
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        let mut count = 0u64;

        for (index, row) in rows.into_iter().enumerate() {
            row.validate()
                .map_err(|problem| invalid_row(index + 1, &row, problem))?;
            if !seen.insert(row.account_id.clone()) {
                return Err(repeated_account(index + 1, &row));
            }

            batch.insert(row_key(id, &row.account_id), encode_value(&row));
            pending += 1;
            count += 1;
            if pending == ROW_BATCH {
                self.apply(tree, std::mem::take(&mut batch))?;
                pending = 0;
            }
        }

        self.apply(tree, batch)?;
        Ok(count)
    }

    /// Writes a header and its date index in one batch: the commit point.
    pub(crate) fn commit_header(&self, header: &SnapshotHeader) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(header_key(header.id), encode_value(header));
        batch.insert(date_key(header.as_of, header.id), Vec::new());
        self.apply(&self.trees().snapshots, batch)
    }

    fn remove_rows(&self, id: SnapshotId) -> Result<(), StoreError> {
        let tree = &self.trees().snapshot_rows;
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        for key in tree.scan_prefix(rows_prefix(id)).keys() {
            batch.remove(key.map_err(|source| self.sled_error(source))?);
            pending += 1;
            if pending == ROW_BATCH {
                self.apply(tree, std::mem::take(&mut batch))?;
                pending = 0;
            }
        }
        self.apply(tree, batch)
    }

    /// Removes rows whose snapshot has no header: the remains of a write that
    /// failed or was killed. The caller holds the write guard.
    pub(crate) fn sweep_orphan_rows(&self) -> Result<(), StoreError> {
        for id in self.row_snapshot_ids()? {
            if !self.snapshot_exists(id)? {
                tracing::warn!(
                    id = id.0,
                    "removing the rows of an unfinished score snapshot"
                );
                self.remove_rows(id)?;
            }
        }
        Ok(())
    }

    /// Lists the distinct snapshot ids in the rows tree, skipping from one id's
    /// rows to the next rather than reading every row.
    fn row_snapshot_ids(&self) -> Result<Vec<SnapshotId>, StoreError> {
        let tree = &self.trees().snapshot_rows;
        let mut ids = Vec::new();
        let mut from = rows_prefix(SnapshotId(0));
        loop {
            let Some(entry) = tree.range(from..).next() else {
                return Ok(ids);
            };
            let (key, _) = entry.map_err(|source| self.sled_error(source))?;
            let id = KeyReader::new(&key, ROW_TAG)
                .and_then(|mut reader| reader.u64())
                .map_err(|source| self.corrupt_key(SNAPSHOT_ROWS_TREE, &key, source))?;
            ids.push(SnapshotId(id));
            match id.checked_add(1) {
                Some(next) => from = rows_prefix(SnapshotId(next)),
                None => return Ok(ids),
            }
        }
    }

    fn snapshot_exists(&self, id: SnapshotId) -> Result<bool, StoreError> {
        self.trees()
            .snapshots
            .contains_key(header_key(id))
            .map_err(|source| self.sled_error(source))
    }

    /// Lists every stored snapshot by as-of date, then id.
    pub fn snapshots(&self) -> Result<Vec<SnapshotHeader>, StoreError> {
        let tree = &self.trees().snapshots;
        let mut headers = Vec::new();
        for key in tree.scan_prefix(KeyBuilder::new(DATE_TAG).finish()).keys() {
            let key = key.map_err(|source| self.sled_error(source))?;
            let id = self.id_from_date_key(&key)?;
            headers.push(self.snapshot_or_damage(id)?);
        }
        Ok(headers)
    }

    /// Returns the header of a snapshot; `None` when no snapshot has the id.
    pub fn snapshot(&self, id: SnapshotId) -> Result<Option<SnapshotHeader>, StoreError> {
        self.get(&self.trees().snapshots, SNAPSHOTS_TREE, &header_key(id))
    }

    /// Returns an iterator over a snapshot's rows in account id order, read lazily.
    ///
    /// Fails with `SnapshotNotFound` when no snapshot has the id.
    pub fn snapshot_rows(&self, id: SnapshotId) -> Result<SnapshotRows<'_>, StoreError> {
        if !self.snapshot_exists(id)? {
            return Err(self.snapshot_not_found(id));
        }
        Ok(SnapshotRows {
            store: self,
            iter: self.trees().snapshot_rows.scan_prefix(rows_prefix(id)),
        })
    }

    /// Returns one account's row of a snapshot; `None` when the run did not
    /// score the account.
    ///
    /// Fails with `SnapshotNotFound` when no snapshot has the id.
    pub fn snapshot_row(
        &self,
        id: SnapshotId,
        account_id: &str,
    ) -> Result<Option<SnapshotRow>, StoreError> {
        if !self.snapshot_exists(id)? {
            return Err(self.snapshot_not_found(id));
        }
        self.get(
            &self.trees().snapshot_rows,
            SNAPSHOT_ROWS_TREE,
            &row_key(id, account_id),
        )
    }

    /// Reads a snapshot with all its rows into memory.
    ///
    /// Fails with `SnapshotNotFound` when no snapshot has the id.
    pub fn load_snapshot(&self, id: SnapshotId) -> Result<Snapshot, StoreError> {
        let header = self
            .snapshot(id)?
            .ok_or_else(|| self.snapshot_not_found(id))?;
        let rows = self.snapshot_rows(id)?.collect::<Result<Vec<_>, _>>()?;
        Ok(Snapshot { header, rows })
    }

    /// Finds the latest snapshot whose as-of date is at least `lead_days` days
    /// before `date`; among runs on the same date, the last one stored. `None`
    /// when there is none.
    ///
    /// A review of outcomes on `date` compares them with the scores headroom
    /// gave `lead_days` earlier.
    pub fn latest_snapshot_before(
        &self,
        date: NaiveDate,
        lead_days: u32,
    ) -> Result<Option<SnapshotHeader>, StoreError> {
        let Some(cutoff) = date.checked_sub_days(Days::new(u64::from(lead_days))) else {
            return Ok(None);
        };
        let start = KeyBuilder::new(DATE_TAG).finish();
        let end = KeyBuilder::new(DATE_TAG)
            .date(cutoff)
            .u64(u64::MAX)
            .finish();

        let tree = &self.trees().snapshots;
        let last = tree
            .range::<&[u8], _>((Bound::Included(&start[..]), Bound::Included(&end[..])))
            .keys()
            .next_back();
        match last {
            None => Ok(None),
            Some(key) => {
                let key = key.map_err(|source| self.sled_error(source))?;
                let id = self.id_from_date_key(&key)?;
                self.snapshot_or_damage(id).map(Some)
            }
        }
    }

    /// Removes a snapshot and its rows.
    ///
    /// Fails with `SnapshotNotFound` when no snapshot has the id.
    pub fn remove_snapshot(&self, id: SnapshotId) -> Result<(), StoreError> {
        let _guard = self.write_guard();
        let header = self
            .snapshot(id)?
            .ok_or_else(|| self.snapshot_not_found(id))?;

        let mut batch = sled::Batch::default();
        batch.remove(header_key(id));
        batch.remove(date_key(header.as_of, id));
        self.apply(&self.trees().snapshots, batch)?;
        self.remove_rows(id)?;
        self.flush()
    }

    fn id_from_date_key(&self, key: &[u8]) -> Result<SnapshotId, StoreError> {
        KeyReader::new(key, DATE_TAG)
            .and_then(|mut reader| {
                reader.date()?;
                let id = reader.u64()?;
                reader.finish()?;
                Ok(SnapshotId(id))
            })
            .map_err(|source| self.corrupt_key(SNAPSHOTS_TREE, key, source))
    }

    fn snapshot_or_damage(&self, id: SnapshotId) -> Result<SnapshotHeader, StoreError> {
        self.snapshot(id)?.ok_or_else(|| {
            StoreError::damaged(
                self.path(),
                format!("the date index names snapshot {id}, which has no header"),
            )
        })
    }

    pub(crate) fn snapshot_not_found(&self, id: SnapshotId) -> StoreError {
        StoreError::SnapshotNotFound {
            path: self.path().to_path_buf(),
            id: id.0,
        }
    }
}

fn invalid_run(new: &NewSnapshot, problem: crate::records::Problem) -> StoreError {
    StoreError::InvalidRecord {
        kind: "snapshot",
        index: 1,
        origin: format!("run as of {}", new.as_of),
        field: problem.field,
        value: problem.value,
        problem: problem.problem,
        hint: problem.hint,
    }
}

fn invalid_row(index: usize, row: &SnapshotRow, problem: crate::records::Problem) -> StoreError {
    StoreError::InvalidRecord {
        kind: "snapshot row",
        index,
        origin: format!("account {}", row.account_id),
        field: problem.field,
        value: problem.value,
        problem: problem.problem,
        hint: problem.hint,
    }
}

fn repeated_account(index: usize, row: &SnapshotRow) -> StoreError {
    StoreError::InvalidRecord {
        kind: "snapshot row",
        index,
        origin: format!("account {}", row.account_id),
        field: "account_id",
        value: row.account_id.clone(),
        problem: "appears twice in the run",
        hint: "give each account one row per scoring run",
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codec::tests::arb_date;

    proptest! {
        #[test]
        fn date_key_round_trips(as_of in arb_date(), id in any::<u64>()) {
            let key = date_key(as_of, SnapshotId(id));
            let mut reader = KeyReader::new(&key, DATE_TAG).unwrap();
            prop_assert_eq!(reader.date().unwrap(), as_of);
            prop_assert_eq!(reader.u64().unwrap(), id);
            prop_assert!(reader.finish().is_ok());
        }

        #[test]
        fn date_keys_sort_by_date_then_id(
            a in (arb_date(), any::<u64>()),
            b in (arb_date(), any::<u64>()),
        ) {
            let key_a = date_key(a.0, SnapshotId(a.1));
            let key_b = date_key(b.0, SnapshotId(b.1));
            prop_assert_eq!(key_a.cmp(&key_b), a.cmp(&b));
        }

        #[test]
        fn row_key_round_trips_and_stays_in_its_snapshot(id in any::<u64>(), account in ".{0,16}") {
            let key = row_key(SnapshotId(id), &account);
            prop_assert!(key.starts_with(&rows_prefix(SnapshotId(id))));
            let mut reader = KeyReader::new(&key, ROW_TAG).unwrap();
            prop_assert_eq!(reader.u64().unwrap(), id);
            prop_assert_eq!(reader.str().unwrap(), account);
            prop_assert!(reader.finish().is_ok());
        }
    }
}
