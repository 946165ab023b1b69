//! The project's import lock: one `headroom import` writes a project's tables
//! at a time.
//!
//! The lock is an advisory lock (`flock` on Unix, `LockFileEx` on Windows) on
//! `PROJECT/import.lock`, held for the whole import and released by the
//! operating system when the process exits, however it exits. The file stays
//! in place between imports and records who holds it, for the message a
//! second import prints.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::DataError;

/// The lock file inside a project.
pub const IMPORT_LOCK_FILE: &str = "import.lock";

/// An exclusive lock on a project's tables, held until dropped.
#[derive(Debug)]
pub struct ImportLock {
    file: File,
    path: PathBuf,
}

impl ImportLock {
    /// Takes the import lock of `project` without waiting, creating the
    /// folder and the lock file when missing, and records this process as
    /// the holder.
    ///
    /// Fails with [`DataError::ProjectLocked`] when another process (or
    /// another lock in this one) holds it, and with [`DataError::Io`] when the
    /// file cannot be created or locked.
    pub fn acquire(project: &Path, purpose: &str) -> Result<ImportLock, DataError> {
        std::fs::create_dir_all(project).map_err(|source| DataError::Io {
            path: project.to_path_buf(),
            source,
        })?;
        let path = project.join(IMPORT_LOCK_FILE);
        let io_error = |source| DataError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error)?;

        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file);
                return Err(DataError::ProjectLocked { path, holder });
            }
            Err(TryLockError::Error(source)) => return Err(io_error(source)),
        }

        let holder = format!(
            "process {} ({purpose}), since {}",
            std::process::id(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
        );
        file.set_len(0).map_err(io_error)?;
        file.write_all(holder.as_bytes()).map_err(io_error)?;
        file.flush().map_err(io_error)?;
        tracing::debug!(path = %path.display(), "took the import lock");
        Ok(ImportLock { file, path })
    }

    /// Returns the lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ImportLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Reads who holds the lock, as the holder wrote it; empty files and read
/// errors give a generic description.
fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    let read = file
        .rewind()
        .and_then(|()| file.take(512).read_to_string(&mut text));
    match read {
        Ok(_) if !text.trim().is_empty() => text.trim().to_string(),
        _ => "another process".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_names_the_holder() {
        let project = tempfile::tempdir().unwrap();
        let first = ImportLock::acquire(project.path(), "importing exports").unwrap();

        let err = ImportLock::acquire(project.path(), "importing other exports").unwrap_err();

        let DataError::ProjectLocked { path, holder } = err else {
            panic!("expected ProjectLocked, got {err:?}");
        };
        assert_eq!(path, project.path().join(IMPORT_LOCK_FILE));
        let expected = format!("process {} (importing exports), since ", std::process::id());
        assert!(holder.starts_with(&expected), "holder: {holder}");
        drop(first);
    }

    #[test]
    fn lock_is_free_after_drop() {
        let project = tempfile::tempdir().unwrap();
        let first = ImportLock::acquire(project.path(), "first").unwrap();
        drop(first);

        let second = ImportLock::acquire(project.path(), "second");

        assert!(second.is_ok(), "{second:?}");
    }
}
