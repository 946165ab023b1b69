//! The store folder on disk: its manifest, lock file, seal and sled folder, and
//! the checks that run before sled sees the folder.
//!
//! ```text
//! store/
//!   store.json   manifest: the store format, written once at creation
//!   store.lock   the lock file, held exclusively while a process uses the store
//!   seal.json    size and CRC-32 of every file under db/, written at a clean
//!                close and removed when the store is opened
//!   db/          the sled database
//! ```
//!
//! sled repairs what it takes for a torn write when it opens a folder: it
//! zeroes log segments and removes snapshot and blob files. A damaged file
//! would be "repaired" the same way, losing records without a word. So a
//! store closed cleanly is checked against its seal before sled opens it, and a
//! store without a seal (its last process was killed) is first opened as a
//! scratch copy, so that a failing recovery never touches the real files.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// The store format this build writes and the newest it reads.
pub const STORE_FORMAT: u32 = 1;

/// The manifest file inside the store folder.
pub const MANIFEST_FILE: &str = "store.json";

/// The lock file inside the store folder.
pub const LOCK_FILE: &str = "store.lock";

/// The seal file inside the store folder.
pub const SEAL_FILE: &str = "seal.json";

/// The sled folder inside the store folder.
pub const DB_DIR: &str = "db";

/// The scratch folder a store without a seal is copied to and recovered in.
pub const RECOVERY_DIR: &str = "recovery-check";

/// The manifest: what wrote the store and in which format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The store format.
    pub format: u32,
    /// When the store was created (RFC 3339).
    pub created_at: String,
    /// The program that created it.
    pub created_by: String,
}

/// One file of the sled folder as it was at a clean close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedFile {
    /// The path under the store folder, with `/` separators.
    pub path: String,
    /// The length in bytes.
    pub len: u64,
    /// The CRC-32 (IEEE) of the contents.
    pub crc32: u32,
}

/// Every file of the sled folder at a clean close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    /// The files in path order.
    pub files: Vec<SealedFile>,
}

/// Returns whether `dir` is missing or contains nothing but a lock file left by
/// a creation that did not finish.
pub fn is_vacant(dir: &Path) -> Result<bool, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(true),
        Err(err) => return Err(StoreError::io(dir, err)),
    };
    for entry in entries {
        let entry = entry.map_err(|err| StoreError::io(dir, err))?;
        if entry.file_name() != LOCK_FILE {
            return Ok(false);
        }
    }
    Ok(true)
}

/// An exclusive lock on the store, held until dropped.
#[derive(Debug)]
pub struct StoreLock {
    file: File,
    path: PathBuf,
    created: bool,
}

impl StoreLock {
    /// Takes the lock without waiting; fails with `Locked` when another
    /// process (or another `Store` in this one) holds it.
    pub fn acquire(dir: &Path) -> Result<StoreLock, StoreError> {
        let path = dir.join(LOCK_FILE);
        let created = !path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|err| StoreError::io(&path, err))?;

        let locked = fs4::fs_std::FileExt::try_lock_exclusive(&file)
            .map_err(|err| StoreError::io(&path, err))?;
        if !locked {
            return Err(StoreError::Locked { path });
        }

        Ok(StoreLock {
            file,
            path,
            created,
        })
    }

    /// Releases the lock and removes the lock file if this lock created it, so
    /// that a failed open leaves the folder as it found it.
    pub fn release_and_forget(self) {
        let _ = fs4::fs_std::FileExt::unlock(&self.file);
        if self.created {
            let _ = fs::remove_file(&self.path);
        }
    }

    /// Marks the lock file as part of the store, kept after release.
    pub fn keep_file(&mut self) {
        self.created = false;
    }
}

/// Reads the manifest; fails with `TooNew` for a newer format and `Damaged`
/// when the file is unreadable. `Ok(None)` when there is no manifest.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, StoreError> {
    let path = dir.join(MANIFEST_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) if err.kind() == io::ErrorKind::InvalidData => {
            return Err(StoreError::damaged(path, "the manifest is not UTF-8 text"));
        }
        Err(err) => return Err(StoreError::io(path, err)),
    };

    // The format is read on its own first, so a newer manifest with other
    // fields still gives the upgrade message.
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|err| StoreError::damaged(&path, format!("the manifest is not JSON: {err}")))?;
    let format = value
        .get("format")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| StoreError::damaged(&path, "the manifest has no format number"))?;
    if format > u64::from(STORE_FORMAT) {
        return Err(StoreError::TooNew {
            path,
            found: u32::try_from(format).unwrap_or(u32::MAX),
            supported: STORE_FORMAT,
        });
    }

    let manifest: Manifest = serde_json::from_value(value)
        .map_err(|err| StoreError::damaged(&path, format!("invalid manifest: {err}")))?;
    if manifest.format == 0 {
        return Err(StoreError::damaged(&path, "the manifest's format is 0"));
    }
    Ok(Some(manifest))
}

/// Writes the manifest of a new store.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), StoreError> {
    let text = serde_json::to_string_pretty(manifest).expect("a manifest serializes");
    write_atomically(dir, MANIFEST_FILE, format!("{text}\n").as_bytes())
}

/// Checks what sled needs before it opens the folder: the sled folder, its
/// `conf` and `db` files. sled would create missing ones empty.
pub fn check_structure(dir: &Path) -> Result<(), StoreError> {
    let db_dir = dir.join(DB_DIR);
    if !db_dir.is_dir() {
        return Err(StoreError::damaged(&db_dir, "the sled folder is missing"));
    }

    for (name, min_len) in [("conf", 9), ("db", 1)] {
        let path = db_dir.join(name);
        let len = match fs::metadata(&path) {
            Ok(meta) => meta.len(),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::damaged(&path, "the file is missing"));
            }
            Err(err) => return Err(StoreError::io(&path, err)),
        };
        if len < min_len {
            return Err(StoreError::damaged(
                &path,
                format!("the file has {len} bytes, too few for a sled {name} file"),
            ));
        }
    }
    Ok(())
}

/// Lists every file under the sled folder with its size and CRC-32.
///
/// NOTE: this reads the whole store, at about 1.5 GB/s on the benchmark
/// machine (experiments/store-scale.md). A store of many million-account
/// snapshots pays seconds per open and close.
pub fn compute_seal(dir: &Path) -> Result<Seal, StoreError> {
    let mut files = Vec::new();
    collect_files(dir, Path::new(DB_DIR), &mut files)?;
    files.sort();

    let mut sealed = Vec::with_capacity(files.len());
    for relative in files {
        let path = dir.join(&relative);
        let (len, crc32) = checksum(&path)?;
        sealed.push(SealedFile {
            path: slash_path(&relative),
            len,
            crc32,
        });
    }
    Ok(Seal { files: sealed })
}

fn collect_files(dir: &Path, relative: &Path, out: &mut Vec<PathBuf>) -> Result<(), StoreError> {
    let folder = dir.join(relative);
    let entries = fs::read_dir(&folder).map_err(|err| StoreError::io(&folder, err))?;
    for entry in entries {
        let entry = entry.map_err(|err| StoreError::io(&folder, err))?;
        let child = relative.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|err| StoreError::io(dir.join(&child), err))?;
        if kind.is_dir() {
            collect_files(dir, &child, out)?;
        } else {
            out.push(child);
        }
    }
    Ok(())
}

fn slash_path(path: &Path) -> String {
    path.components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn checksum(path: &Path) -> Result<(u64, u32), StoreError> {
    let mut file = File::open(path).map_err(|err| StoreError::io(path, err))?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let read = file
            .read(&mut buf)
            .map_err(|err| StoreError::io(path, err))?;
        if read == 0 {
            return Ok((len, hasher.finalize()));
        }
        hasher.update(&buf[..read]);
        len += read as u64;
    }
}

/// Reads the seal; `Ok(None)` when there is none, `Damaged` when it is unreadable.
pub fn read_seal(dir: &Path) -> Result<Option<Seal>, StoreError> {
    let path = dir.join(SEAL_FILE);
    let text = match fs::read(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(StoreError::io(path, err)),
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|err| StoreError::damaged(path, format!("the seal is not valid: {err}")))
}

/// Compares the sled folder with the seal and names the first difference.
pub fn verify_seal(dir: &Path, seal: &Seal) -> Result<(), StoreError> {
    let mut found = Vec::new();
    collect_files(dir, Path::new(DB_DIR), &mut found)?;
    let found: Vec<String> = found.iter().map(|path| slash_path(path)).collect();

    if let Some(extra) = found
        .iter()
        .find(|path| !seal.files.iter().any(|file| &file.path == *path))
    {
        return Err(StoreError::damaged(
            dir.join(extra),
            "the file was not there when headroom last closed the store",
        ));
    }

    for expected in &seal.files {
        let path = dir.join(&expected.path);
        if !found.contains(&expected.path) {
            return Err(StoreError::damaged(path, "the file is missing"));
        }
        let (len, crc32) = checksum(&path)?;
        if len != expected.len {
            return Err(StoreError::damaged(
                path,
                format!(
                    "the file has {len} bytes, {} when headroom last closed the store",
                    expected.len
                ),
            ));
        }
        if crc32 != expected.crc32 {
            return Err(StoreError::damaged(
                path,
                "the file's contents changed since headroom last closed the store (CRC-32 differs)",
            ));
        }
    }
    Ok(())
}

/// Writes the seal after a clean close.
pub fn write_seal(dir: &Path, seal: &Seal) -> Result<(), StoreError> {
    let text = serde_json::to_string(seal).expect("a seal serializes");
    write_atomically(dir, SEAL_FILE, format!("{text}\n").as_bytes())
}

/// Removes the seal, marking the store as in use.
pub fn remove_seal(dir: &Path) -> Result<(), StoreError> {
    let path = dir.join(SEAL_FILE);
    match fs::remove_file(&path) {
        Ok(()) => sync_dir(dir),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(StoreError::io(path, err)),
    }
}

/// Writes `name` through a temporary file, an fsync and a rename, so a reader
/// sees the old file or the new one, never a part.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let temp = dir.join(format!("{name}.tmp"));
    let path = dir.join(name);

    let mut file = File::create(&temp).map_err(|err| StoreError::io(&temp, err))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|err| StoreError::io(&temp, err))?;
    drop(file);

    fs::rename(&temp, &path).map_err(|err| StoreError::io(&path, err))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    // NOTE: directories cannot be opened for fsync on Windows; there the rename
    // is as durable as the file system makes it.
    #[cfg(unix)]
    {
        let handle = File::open(dir).map_err(|err| StoreError::io(dir, err))?;
        handle.sync_all().map_err(|err| StoreError::io(dir, err))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Attempts to open sled while its own file lock is still held, 20 ms apart.
const SLED_LOCK_ATTEMPTS: u32 = 50;

/// Opens sled on a folder, turning a panic inside sled into `Damaged`.
///
/// The caller holds the store lock, so no other headroom process has the
/// database open. A sled handle this process dropped can still hold sled's
/// file lock for a moment on one of sled's threads. An open that finds that
/// lock taken is therefore retried for up to a second before it fails.
pub fn open_sled(db_dir: &Path) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new().path(db_dir);
    let mut attempt = 1;
    let opened = loop {
        let opened = catch_unwind(AssertUnwindSafe(|| config.open()));
        let locked = matches!(&opened, Ok(Err(sled::Error::Io(err))) if is_sled_lock_error(err));
        if !locked || attempt == SLED_LOCK_ATTEMPTS {
            break opened;
        }
        attempt += 1;
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(err)) => Err(classify_sled_error(db_dir, err)),
        Err(panic) => Err(StoreError::damaged(
            db_dir,
            format!("sled failed to read it: {}", panic_text(&panic)),
        )),
    }
}

/// Checks whether an I/O error is sled 0.34's "could not acquire lock"
/// error, which it raises with kind `Other` and the lock error as text.
fn is_sled_lock_error(err: &std::io::Error) -> bool {
    err.kind() == std::io::ErrorKind::Other
        && err.to_string().starts_with("could not acquire lock on ")
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        return (*text).to_string();
    }
    if let Some(text) = panic.downcast_ref::<String>() {
        return text.clone();
    }
    "it panicked".to_string()
}

/// Maps a sled error at open: corruption and sled's own checks are damage,
/// the rest is I/O.
pub fn classify_sled_error(db_dir: &Path, err: sled::Error) -> StoreError {
    match err {
        sled::Error::Io(source) => StoreError::Io {
            path: db_dir.to_path_buf(),
            source,
        },
        other => StoreError::damaged(db_dir, format!("sled failed to read it: {other}")),
    }
}

/// Recovers a copy of an unsealed sled folder in a scratch folder, and runs
/// `check` on the recovered database, so that a recovery that fails or
/// discards records happens to the copy only. The copy is removed afterwards.
pub fn check_recovery_in_copy(
    dir: &Path,
    check: impl FnOnce(&sled::Db) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let scratch = dir.join(RECOVERY_DIR);
    remove_dir_if_present(&scratch)?;

    let result = copy_dir(&dir.join(DB_DIR), &scratch).and_then(|()| {
        let db = open_sled(&scratch).map_err(|err| rename_damage(err, dir))?;
        let checked = check(&db);
        drop(db);
        checked
    });

    remove_dir_if_present(&scratch)?;
    result
}

/// Reports damage found in the scratch copy against the real sled folder.
fn rename_damage(err: StoreError, dir: &Path) -> StoreError {
    match err {
        StoreError::Damaged { detail, .. } => StoreError::damaged(dir.join(DB_DIR), detail),
        other => other,
    }
}

fn remove_dir_if_present(path: &Path) -> Result<(), StoreError> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(StoreError::io(path, err)),
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), StoreError> {
    fs::create_dir_all(to).map_err(|err| StoreError::io(to, err))?;
    let entries = fs::read_dir(from).map_err(|err| StoreError::io(from, err))?;
    for entry in entries {
        let entry = entry.map_err(|err| StoreError::io(from, err))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|err| StoreError::io(&source, err))?;
        if kind.is_dir() {
            copy_dir(&source, &target)?;
        } else {
            fs::copy(&source, &target).map_err(|err| StoreError::io(&source, err))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_sled_waits_for_a_released_sled_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db_dir = dir.path().join("db");
        let other_handle = sled::Config::new().path(&db_dir).open().unwrap();
        other_handle.insert("key", "value").unwrap();
        other_handle.flush().unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            drop(other_handle);
        });

        let db = open_sled(&db_dir).unwrap();
        release.join().unwrap();
        assert_eq!(db.get("key").unwrap().as_deref(), Some(&b"value"[..]));
    }

    #[test]
    fn open_sled_reports_a_sled_lock_never_released() {
        let dir = tempfile::tempdir().unwrap();
        let db_dir = dir.path().join("db");
        let _other_handle = sled::Config::new().path(&db_dir).open().unwrap();

        let err = open_sled(&db_dir).unwrap_err();
        match err {
            StoreError::Io { path, source } => {
                assert_eq!(path, db_dir);
                assert!(is_sled_lock_error(&source), "{source}");
            }
            other => panic!("expected an I/O error, got {other:?}"),
        }
    }
}
