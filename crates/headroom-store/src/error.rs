//! Errors of the store. Each names the store folder or file it concerns and, for
//! a rejected record, the record's position and source, and ends with a `hint:`.

use std::path::PathBuf;

use crate::codec::DecodeError;

/// An error while opening, reading or writing the store, or importing a backup.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `Store::open` found no store at the path.
    #[error(
        "no headroom store at {path}\nhint: check --project, or run a command that records data (such as `headroom score`) to create one"
    )]
    NotFound {
        /// The store folder.
        path: PathBuf,
    },

    /// `Store::create` found a store, or other files, at the path.
    #[error(
        "cannot create a store at {path}: the folder already exists and is not empty\nhint: open the existing store, or choose an empty folder"
    )]
    AlreadyExists {
        /// The store folder.
        path: PathBuf,
    },

    /// Another process holds the store's lock.
    #[error(
        "the store at {path} is in use by another headroom process\nhint: wait for that command to finish and run this one again; the lock is released when it exits"
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
    },

    /// The store was written by a newer headroom.
    #[error(
        "cannot open the store at {path}: store format {found}, this headroom reads up to {supported}\nhint: upgrade headroom"
    )]
    TooNew {
        /// The manifest file.
        path: PathBuf,
        /// The format version in the manifest.
        found: u32,
        /// The newest format this build reads.
        supported: u32,
    },

    /// The store's files are damaged. Nothing was written to the folder.
    #[error(
        "the store at {path} is damaged: {detail}\nhint: headroom left the folder as it was; restore it from a backup (`headroom store import FILE`) or move it aside"
    )]
    Damaged {
        /// The damaged file, or the store folder.
        path: PathBuf,
        /// The problem found.
        detail: String,
    },

    /// A stored record could not be decoded.
    #[error(
        "the store at {path} is damaged: the {tree} record with key {key} is unreadable: {source}\nhint: restore the store from a backup (`headroom store import FILE`)"
    )]
    CorruptRecord {
        /// The store folder.
        path: PathBuf,
        /// The sled tree.
        tree: &'static str,
        /// The record key, in hex.
        key: String,
        /// The decoding failure.
        source: DecodeError,
    },

    /// A file of the store could not be read or written.
    #[error("failed to access {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },

    /// sled failed.
    #[error("the store at {path} failed: {source}")]
    Sled {
        /// The store folder.
        path: PathBuf,
        /// The sled error.
        source: sled::Error,
    },

    /// A record offered for storage is invalid; nothing of its batch was stored.
    #[error(
        "invalid {kind} record {index} ({origin}): {field} {problem}, found {value:?}\nhint: {hint}; nothing of this batch was stored"
    )]
    InvalidRecord {
        /// The record kind: "outcome", "snapshot row", ...
        kind: &'static str,
        /// The 1-based position in the batch.
        index: usize,
        /// The record's source and account.
        origin: String,
        /// The field.
        field: &'static str,
        /// The field's value as given.
        value: String,
        /// The problem with the value.
        problem: &'static str,
        /// The fix to apply.
        hint: &'static str,
    },

    /// A word is not one of a field's allowed values.
    #[error(
        "invalid {field} {value:?}: expected one of {expected}\nhint: use one of the listed words"
    )]
    InvalidWord {
        /// The field.
        field: &'static str,
        /// The value as given.
        value: String,
        /// The allowed words, comma-separated.
        expected: &'static str,
    },

    /// No snapshot has the id.
    #[error("no score snapshot {id} in the store at {path}\nhint: list the stored snapshots")]
    SnapshotNotFound {
        /// The store folder.
        path: PathBuf,
        /// The snapshot id.
        id: u64,
    },

    /// No model of the kind has the version.
    #[error(
        "no {kind} model {version:?} in the store's registry\nhint: list the registered models"
    )]
    ModelNotFound {
        /// The model kind.
        kind: &'static str,
        /// The version.
        version: String,
    },

    /// A model version is registered with other content.
    #[error(
        "the {kind} model {version:?} is already registered with a different artifact or metrics\nhint: give the new model its own version"
    )]
    ModelVersionTaken {
        /// The model kind.
        kind: &'static str,
        /// The version.
        version: String,
    },

    /// A registry change does not apply to the model's current state.
    #[error("cannot {action} the {kind} model {version:?}: {reason}\nhint: {hint}")]
    RegistryState {
        /// The action: "promote", "reject", "roll back".
        action: &'static str,
        /// The model kind.
        kind: &'static str,
        /// The version concerned (empty when there is none).
        version: String,
        /// The reason the action does not apply.
        reason: &'static str,
        /// The action to take instead.
        hint: &'static str,
    },

    /// A backup file line is invalid; nothing was imported.
    #[error("invalid backup {path} line {line}: {message}\nhint: {hint}; nothing was imported")]
    Backup {
        /// The backup file.
        path: PathBuf,
        /// The 1-based line number (0 when the file as a whole is at fault).
        line: u64,
        /// The problem found.
        message: String,
        /// The fix to apply.
        hint: String,
    },

    /// The store already contains records and the import was not asked to merge.
    #[error(
        "the store at {path} already holds {records} records; importing {backup} would mix two histories\nhint: pass --merge to add the backup's records that are not stored yet, or import into a project without a store"
    )]
    ImportIntoNonEmpty {
        /// The store folder.
        path: PathBuf,
        /// The backup file.
        backup: PathBuf,
        /// The number of records already stored.
        records: u64,
    },
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn damaged(path: impl Into<PathBuf>, detail: impl Into<String>) -> StoreError {
        StoreError::Damaged {
            path: path.into(),
            detail: detail.into(),
        }
    }
}
