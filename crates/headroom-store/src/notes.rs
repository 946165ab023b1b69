//! Account notes: what an account team expects of an account until a date.
//!
//! A note is stored under `n`, id, with two index entries in the same batch:
//! `a`, account, id for the account query and `u`, until date, id for the
//! active-at-date query, which then scans only notes that have not ended.

use chrono::NaiveDate;

use crate::codec::{KeyBuilder, KeyReader, encode_value};
use crate::error::StoreError;
use crate::records::{AccountNote, NewNote, NoteId};
use crate::store::{META_NEXT_NOTE, NOTES_TREE, Store};

const NOTE_TAG: u8 = b'n';
const ACCOUNT_TAG: u8 = b'a';
const UNTIL_TAG: u8 = b'u';

fn note_key(id: NoteId) -> Vec<u8> {
    KeyBuilder::new(NOTE_TAG).u64(id.0).finish()
}

impl Store {
    /// Stores a note and returns it with its id, once it is on disk.
    ///
    /// Fails with `InvalidRecord` when the account id or text is empty or the
    /// note ends before the day it is written.
    pub fn add_note(&self, new: NewNote) -> Result<AccountNote, StoreError> {
        new.validate()
            .map_err(|problem| StoreError::InvalidRecord {
                kind: "note",
                index: 1,
                origin: format!("account {}", new.account_id),
                field: problem.field,
                value: problem.value,
                problem: problem.problem,
                hint: problem.hint,
            })?;

        let _guard = self.write_guard();
        let note = AccountNote {
            id: NoteId(self.next_id(META_NEXT_NOTE)?),
            account_id: new.account_id,
            text: new.text,
            until: new.until,
            expectation: new.expectation,
            created_at: new.created_at,
        };
        self.insert_note(&note)?;
        self.flush()?;
        Ok(note)
    }

    /// Writes a note with its indexes in one batch; the caller holds the write
    /// guard.
    pub(crate) fn insert_note(&self, note: &AccountNote) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(note_key(note.id), encode_value(note));
        batch.insert(
            KeyBuilder::new(ACCOUNT_TAG)
                .str(&note.account_id)
                .u64(note.id.0)
                .finish(),
            Vec::new(),
        );
        batch.insert(
            KeyBuilder::new(UNTIL_TAG)
                .date(note.until)
                .u64(note.id.0)
                .finish(),
            Vec::new(),
        );
        self.apply(&self.trees().notes, batch)
    }

    /// Returns one note; `None` when no note has the id.
    pub fn note(&self, id: NoteId) -> Result<Option<AccountNote>, StoreError> {
        self.get(&self.trees().notes, NOTES_TREE, &note_key(id))
    }

    /// Lists every note in id order.
    pub fn notes(&self) -> Result<Vec<AccountNote>, StoreError> {
        self.scan(
            &self.trees().notes,
            NOTES_TREE,
            &KeyBuilder::new(NOTE_TAG).finish(),
        )
    }

    /// Lists one account's notes in id order.
    pub fn notes_for_account(&self, account_id: &str) -> Result<Vec<AccountNote>, StoreError> {
        let prefix = KeyBuilder::new(ACCOUNT_TAG).str(account_id).finish();
        let mut notes = Vec::new();
        for key in self.trees().notes.scan_prefix(&prefix).keys() {
            let key = key.map_err(|source| self.sled_error(source))?;
            let id = KeyReader::new(&key, ACCOUNT_TAG)
                .and_then(|mut reader| {
                    reader.str()?;
                    reader.u64()
                })
                .map_err(|source| self.corrupt_key(NOTES_TREE, &key, source))?;
            notes.push(self.indexed_note(NoteId(id))?);
        }
        Ok(notes)
    }

    /// Lists the notes that apply on `date` (written on or before it, ending on
    /// or after it) in id order.
    pub fn notes_active_at(&self, date: NaiveDate) -> Result<Vec<AccountNote>, StoreError> {
        let start = KeyBuilder::new(UNTIL_TAG).date(date).finish();
        let prefix = KeyBuilder::new(UNTIL_TAG).finish();
        let mut notes = Vec::new();
        for key in self.trees().notes.range(start..).keys() {
            let key = key.map_err(|source| self.sled_error(source))?;
            if !key.starts_with(&prefix) {
                break;
            }
            let id = KeyReader::new(&key, UNTIL_TAG)
                .and_then(|mut reader| {
                    reader.date()?;
                    reader.u64()
                })
                .map_err(|source| self.corrupt_key(NOTES_TREE, &key, source))?;
            let note = self.indexed_note(NoteId(id))?;
            if note.is_active_at(date) {
                notes.push(note);
            }
        }
        notes.sort_by_key(|note| note.id);
        Ok(notes)
    }

    fn indexed_note(&self, id: NoteId) -> Result<AccountNote, StoreError> {
        self.note(id)?.ok_or_else(|| {
            StoreError::damaged(
                self.path(),
                format!("a note index names note {id}, which is not stored"),
            )
        })
    }
}
