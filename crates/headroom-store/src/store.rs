//! The [`Store`] wrapper: opening and creating a store folder, its lock and
//! seal, and the helpers the record modules share.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::Utc;

use crate::codec::{KeyBuilder, Record, decode_value, encode_value, hex};
use crate::error::StoreError;
use crate::files::{self, DB_DIR, Manifest, STORE_FORMAT, StoreLock};

/// The store folder inside a project.
pub const PROJECT_STORE_DIR: &str = "store";

/// The behaviour of [`Store::open_with`] when the store is missing or present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Open an existing store; fail with `NotFound` when there is none.
    Open,
    /// Create a new store; fail with `AlreadyExists` when the folder is in use.
    Create,
    /// Open the store, creating it when the folder is missing or empty.
    OpenOrCreate,
}

pub(crate) const META_TREE: &str = "meta";
pub(crate) const SNAPSHOTS_TREE: &str = "snapshots";
pub(crate) const SNAPSHOT_ROWS_TREE: &str = "snapshot_rows";
pub(crate) const OUTCOMES_TREE: &str = "outcomes";
pub(crate) const INTERVENTIONS_TREE: &str = "interventions";
pub(crate) const NOTES_TREE: &str = "notes";
pub(crate) const MODELS_TREE: &str = "models";

/// Keys of the meta tree.
pub(crate) const META_TAG: u8 = b'm';
pub(crate) const META_FORMAT: u8 = 1;
pub(crate) const META_NEXT_SNAPSHOT: u8 = 2;
pub(crate) const META_NEXT_NOTE: u8 = 3;

pub(crate) fn meta_key(which: u8) -> Vec<u8> {
    KeyBuilder::new(META_TAG).u8(which).finish()
}

/// The open sled database and its trees.
#[derive(Debug)]
pub(crate) struct Trees {
    pub db: sled::Db,
    pub meta: sled::Tree,
    pub snapshots: sled::Tree,
    pub snapshot_rows: sled::Tree,
    pub outcomes: sled::Tree,
    pub interventions: sled::Tree,
    pub notes: sled::Tree,
    pub models: sled::Tree,
}

impl Trees {
    fn open(db: sled::Db, dir: &Path) -> Result<Trees, StoreError> {
        let tree = |name: &str| {
            db.open_tree(name).map_err(|source| StoreError::Sled {
                path: dir.to_path_buf(),
                source,
            })
        };
        Ok(Trees {
            meta: tree(META_TREE)?,
            snapshots: tree(SNAPSHOTS_TREE)?,
            snapshot_rows: tree(SNAPSHOT_ROWS_TREE)?,
            outcomes: tree(OUTCOMES_TREE)?,
            interventions: tree(INTERVENTIONS_TREE)?,
            notes: tree(NOTES_TREE)?,
            models: tree(MODELS_TREE)?,
            db,
        })
    }
}

/// The project's store of snapshots, outcomes, interventions, notes and models.
///
/// One process at a time uses a store: opening takes an exclusive lock on
/// `store.lock` and fails at once with [`StoreError::Locked`] when another
/// process holds it. Within a process the store is `Send + Sync`; writes that
/// read before they write are serialized by an internal mutex.
///
/// Call [`Store::close`] when done: it flushes, closes sled and writes the
/// seal the next open checks. Dropping the store does the same but can only
/// log a failure.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    trees: Option<Trees>,
    lock: Option<StoreLock>,
    writer: Mutex<()>,
}

impl Store {
    /// Returns the store folder of a project: `PROJECT/store`.
    pub fn project_dir(project: &Path) -> PathBuf {
        project.join(PROJECT_STORE_DIR)
    }

    /// Opens an existing store.
    ///
    /// Fails with `NotFound` when the folder contains no store, `TooNew` when a
    /// newer headroom wrote it, `Locked` when another process uses it, and
    /// `Damaged` when its files fail the checks; in all these cases the folder
    /// is left as it was.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(dir, OpenMode::Open)
    }

    /// Creates a store in a missing or empty folder.
    ///
    /// Fails with `AlreadyExists` when the folder contains anything.
    pub fn create(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(dir, OpenMode::Create)
    }

    /// Opens the store, or creates it when the folder is missing or empty.
    pub fn open_or_create(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(dir, OpenMode::OpenOrCreate)
    }

    /// Opens or creates a store as `mode` requests.
    pub fn open_with(dir: impl AsRef<Path>, mode: OpenMode) -> Result<Store, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        let vacant = files::is_vacant(&dir)?;
        match (mode, vacant) {
            (OpenMode::Open, true) => Err(StoreError::NotFound { path: dir }),
            (OpenMode::Create, false) => Err(StoreError::AlreadyExists { path: dir }),
            (OpenMode::Create | OpenMode::OpenOrCreate, true) => Store::create_in(dir),
            (OpenMode::Open | OpenMode::OpenOrCreate, false) => Store::open_existing(dir),
        }
    }

    fn create_in(dir: PathBuf) -> Result<Store, StoreError> {
        std::fs::create_dir_all(&dir).map_err(|err| StoreError::io(&dir, err))?;
        let lock = StoreLock::acquire(&dir)?;

        // Another process may have created the store between the vacancy
        // check and the lock.
        if !files::is_vacant(&dir)? {
            lock.release_and_forget();
            return Err(StoreError::AlreadyExists { path: dir });
        }

        let db = files::open_sled(&dir.join(DB_DIR))?;
        let trees = Trees::open(db, &dir)?;
        let mut store = Store {
            dir,
            trees: Some(trees),
            lock: Some(lock),
            writer: Mutex::new(()),
        };
        store.put(
            &store.trees().meta,
            meta_key(META_FORMAT),
            &u64::from(STORE_FORMAT),
        )?;
        store.flush()?;

        // The manifest is written last: a creation that stops before it
        // leaves a folder that `open` reports instead of using.
        files::write_manifest(
            &store.dir,
            &Manifest {
                format: STORE_FORMAT,
                created_at: Utc::now().to_rfc3339(),
                created_by: concat!("headroom-store ", env!("CARGO_PKG_VERSION")).to_string(),
            },
        )?;
        if let Some(lock) = store.lock.as_mut() {
            lock.keep_file();
        }

        tracing::info!(path = %store.dir.display(), "created the store");
        Ok(store)
    }

    fn open_existing(dir: PathBuf) -> Result<Store, StoreError> {
        let manifest_present = files::read_manifest(&dir)?.is_some();
        if !manifest_present && !dir.join(DB_DIR).exists() {
            return Err(StoreError::NotFound { path: dir });
        }

        let lock = StoreLock::acquire(&dir)?;
        match Store::check_and_open(&dir, manifest_present) {
            Ok(trees) => {
                tracing::debug!(path = %dir.display(), "opened the store");
                Ok(Store {
                    dir,
                    trees: Some(trees),
                    lock: Some(lock),
                    writer: Mutex::new(()),
                })
            }
            Err(err) => {
                lock.release_and_forget();
                Err(err)
            }
        }
    }

    /// Runs the checks that must pass before sled touches the folder, then
    /// opens sled and checks the format it recorded.
    fn check_and_open(dir: &Path, manifest_present: bool) -> Result<Trees, StoreError> {
        if !manifest_present {
            return Err(StoreError::damaged(
                dir.join(files::MANIFEST_FILE),
                "the manifest is missing beside the sled folder",
            ));
        }
        files::check_structure(dir)?;

        match files::read_seal(dir)? {
            Some(seal) => files::verify_seal(dir, &seal)?,
            None => {
                tracing::warn!(
                    path = %dir.display(),
                    "the store was not closed cleanly; checking its recovery on a copy first"
                );
                files::check_recovery_in_copy(dir, |db| check_format(db, dir))?;
            }
        }

        files::remove_seal(dir)?;
        let db = files::open_sled(&dir.join(DB_DIR))?;
        check_format(&db, dir)?;
        Trees::open(db, dir)
    }

    /// Returns the store folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes every pending change to disk and waits for the disk to confirm.
    ///
    /// The write methods call it before they return, so this is needed only
    /// after a caller's own sequence of writes.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.trees()
            .db
            .flush()
            .map(|_| ())
            .map_err(|source| self.sled_error(source))
    }

    /// Flushes, closes sled, writes the seal and releases the lock.
    ///
    /// Fails when the last flush or the seal cannot be written. The store then
    /// has no seal, so its next open checks its recovery on a copy first.
    pub fn close(mut self) -> Result<(), StoreError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), StoreError> {
        let Some(trees) = self.trees.take() else {
            return Ok(());
        };

        let flushed = trees.db.flush().map_err(|source| self.sled_error(source));
        drop(trees);
        flushed?;

        // NOTE: sled 0.34 may still shrink its file on a pool thread after the
        // last handle is dropped (when it frees the final log segment). The
        // seal would then name the old size and the next open would report
        // damage; this was not seen in the tests or the benchmark.
        let seal = files::compute_seal(&self.dir)?;
        files::write_seal(&self.dir, &seal)?;
        self.lock.take();
        tracing::debug!(path = %self.dir.display(), files = seal.files.len(), "closed the store");
        Ok(())
    }

    pub(crate) fn trees(&self) -> &Trees {
        self.trees
            .as_ref()
            .expect("the trees are open until the store is closed")
    }

    /// Serializes writes that read before they write.
    pub(crate) fn write_guard(&self) -> MutexGuard<'_, ()> {
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn sled_error(&self, source: sled::Error) -> StoreError {
        match source {
            sled::Error::Corruption { .. } => {
                StoreError::damaged(self.dir.join(DB_DIR), format!("sled: {source}"))
            }
            source => StoreError::Sled {
                path: self.dir.clone(),
                source,
            },
        }
    }

    pub(crate) fn decode<T: Record>(
        &self,
        tree: &'static str,
        key: &[u8],
        value: &[u8],
    ) -> Result<T, StoreError> {
        decode_value(value).map_err(|source| StoreError::CorruptRecord {
            path: self.dir.clone(),
            tree,
            key: hex(key),
            source,
        })
    }

    pub(crate) fn corrupt_key(
        &self,
        tree: &'static str,
        key: &[u8],
        source: crate::codec::DecodeError,
    ) -> StoreError {
        StoreError::CorruptRecord {
            path: self.dir.clone(),
            tree,
            key: hex(key),
            source,
        }
    }

    pub(crate) fn get<T: Record>(
        &self,
        tree: &sled::Tree,
        name: &'static str,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match tree.get(key).map_err(|source| self.sled_error(source))? {
            Some(value) => self.decode(name, key, &value).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) fn put<T: Record>(
        &self,
        tree: &sled::Tree,
        key: Vec<u8>,
        value: &T,
    ) -> Result<(), StoreError> {
        tree.insert(key, encode_value(value))
            .map(|_| ())
            .map_err(|source| self.sled_error(source))
    }

    /// Decodes every value under `prefix`, in key order.
    pub(crate) fn scan<T: Record>(
        &self,
        tree: &sled::Tree,
        name: &'static str,
        prefix: &[u8],
    ) -> Result<Vec<T>, StoreError> {
        tree.scan_prefix(prefix)
            .map(|entry| {
                let (key, value) = entry.map_err(|source| self.sled_error(source))?;
                self.decode(name, &key, &value)
            })
            .collect()
    }

    pub(crate) fn apply(&self, tree: &sled::Tree, batch: sled::Batch) -> Result<(), StoreError> {
        tree.apply_batch(batch)
            .map_err(|source| self.sled_error(source))
    }

    /// Reads and advances a counter of the meta tree; the caller holds the
    /// write guard.
    pub(crate) fn next_id(&self, which: u8) -> Result<u64, StoreError> {
        let meta = &self.trees().meta;
        let key = meta_key(which);
        let next = self.get::<u64>(meta, META_TREE, &key)?.unwrap_or(1);
        self.put(meta, key, &(next + 1))?;
        Ok(next)
    }

    /// Sets a counter so that the next id is above `used`; the caller holds
    /// the write guard.
    pub(crate) fn bump_next_id(&self, which: u8, used: u64) -> Result<(), StoreError> {
        let meta = &self.trees().meta;
        let key = meta_key(which);
        let next = self.get::<u64>(meta, META_TREE, &key)?.unwrap_or(1);
        if used >= next {
            self.put(meta, key, &(used + 1))?;
        }
        Ok(())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(err) = self.shutdown() {
            tracing::error!(path = %self.dir.display(), "failed to close the store: {err}");
        }
    }
}

/// Checks the format number stored in sled against this build's.
fn check_format(db: &sled::Db, dir: &Path) -> Result<(), StoreError> {
    let meta = db.open_tree(META_TREE).map_err(|source| StoreError::Sled {
        path: dir.to_path_buf(),
        source,
    })?;
    let key = meta_key(META_FORMAT);
    let value = meta
        .get(&key)
        .map_err(|source| files::classify_sled_error(&dir.join(DB_DIR), source))?;
    let Some(value) = value else {
        return Err(StoreError::damaged(
            dir.join(DB_DIR),
            "the database has no format record; its records are gone",
        ));
    };

    let format: u64 = decode_value(&value).map_err(|source| StoreError::CorruptRecord {
        path: dir.to_path_buf(),
        tree: META_TREE,
        key: hex(&key),
        source,
    })?;
    if format > u64::from(STORE_FORMAT) {
        return Err(StoreError::TooNew {
            path: dir.join(DB_DIR),
            found: u32::try_from(format).unwrap_or(u32::MAX),
            supported: STORE_FORMAT,
        });
    }
    Ok(())
}

/// The number of records of each kind in a store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoreCounts {
    /// Score snapshots.
    pub snapshots: u64,
    /// Rows of all snapshots.
    pub snapshot_rows: u64,
    /// Outcomes in the ledger.
    pub outcomes: u64,
    /// Interventions in the log.
    pub interventions: u64,
    /// Account notes.
    pub notes: u64,
    /// Registered models.
    pub models: u64,
    /// Champion entries: one per model kind that has a champion.
    pub champions: u64,
    /// Registry decisions.
    pub decisions: u64,
}

impl StoreCounts {
    /// Returns the number of records of all kinds.
    pub fn total(&self) -> u64 {
        self.snapshots
            + self.snapshot_rows
            + self.outcomes
            + self.interventions
            + self.notes
            + self.models
            + self.champions
            + self.decisions
    }
}

impl Store {
    /// Counts the records of each kind, reading every key once.
    pub fn counts(&self) -> Result<StoreCounts, StoreError> {
        let trees = self.trees();
        let count = |tree: &sled::Tree, tag: u8| -> Result<u64, StoreError> {
            let mut n = 0;
            for key in tree.scan_prefix(KeyBuilder::new(tag).finish()).keys() {
                key.map_err(|source| self.sled_error(source))?;
                n += 1;
            }
            Ok(n)
        };
        Ok(StoreCounts {
            snapshots: count(&trees.snapshots, b'h')?,
            snapshot_rows: count(&trees.snapshot_rows, b'r')?,
            outcomes: count(&trees.outcomes, b'd')?,
            interventions: count(&trees.interventions, b'd')?,
            notes: count(&trees.notes, b'n')?,
            models: count(&trees.models, crate::registry::MODEL_TAG)?,
            champions: count(&trees.models, crate::registry::CHAMPION_TAG)?,
            decisions: count(&trees.models, b'l')?,
        })
    }

    /// Returns whether the store contains no records: a new store, or one whose
    /// only content is the rows of an unfinished snapshot.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        let trees = self.trees();
        for tree in [
            &trees.snapshots,
            &trees.outcomes,
            &trees.interventions,
            &trees.notes,
            &trees.models,
        ] {
            let first = tree.first().map_err(|source| self.sled_error(source))?;
            if first.is_some() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn store_is_send_and_sync() {
        assert_send_sync::<Store>();
    }
}
