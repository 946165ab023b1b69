//! The project's sled store: score snapshots, the outcome ledger,
//! interventions, account notes and the model registry, behind one wrapper
//! that owns the paths, the lock and the versioned encodings.
//!
//! This crate sits beside the pipeline and depends on none of its crates.
//! Scoring writes a [`Snapshot`] per run, and `outcomes import` appends
//! [`OutcomeRecord`]s. The monthly review reads both: the outcomes of a month
//! and the snapshot taken a lead time before. Retraining registers models and
//! promotes or rejects them. `headroom store export` and `import` move
//! everything through a JSON-lines backup.
//!
//! ```no_run
//! use headroom_store::{Store, StoreError};
//!
//! # fn main() -> Result<(), StoreError> {
//! let store = Store::open_or_create(Store::project_dir("my-project".as_ref()))?;
//! for header in store.snapshots()? {
//!     println!("{} as of {}: {} accounts", header.id, header.as_of, header.rows);
//! }
//! store.close()?;
//! # Ok(())
//! # }
//! ```

mod backup;
mod codec;
mod error;
mod files;
mod ledger;
mod notes;
mod records;
mod registry;
mod snapshots;
mod store;

pub use backup::{BACKUP_FORMAT, ExportSummary, ImportMode, ImportSummary, KindCounts};
pub use codec::{DecodeError, KEY_FORMAT, VALUE_FORMAT};
pub use error::StoreError;
pub use files::{LOCK_FILE, MANIFEST_FILE, SEAL_FILE, STORE_FORMAT};
pub use ledger::{AppendReceipt, Conflict, month_bounds};
pub use records::{
    AccountNote, Alert, Decision, DecisionAction, DecisionRequest, Expectation, Intervention,
    MAX_ID_BYTES, ModelKind, ModelRecord, ModelStatus, NewModel, NewNote, NewSnapshot, NoteId,
    Outcome, OutcomeRecord, Reason, Snapshot, SnapshotHeader, SnapshotId, SnapshotRow, Source,
};
pub use snapshots::SnapshotRows;
pub use store::{OpenMode, PROJECT_STORE_DIR, Store, StoreCounts};
