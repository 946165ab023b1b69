//! Reading a backup into a store, in two passes over the file.
//!
//! The first pass parses and checks every line (order, counts, record
//! validity, conflicts with the store) and writes nothing, so a bad line
//! anywhere rejects the whole import. The second pass writes. Snapshots become
//! visible only when all their rows are written, and the ledgers are written in
//! all-or-nothing batches.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::lines::{BACKUP_FORMAT, Line, RowLine};
use crate::codec::encode_value;
use crate::error::StoreError;
use crate::ledger::LedgerRecord;
use crate::records::{
    AccountNote, Decision, Intervention, ModelKind, ModelRecord, NewNote, OutcomeRecord,
    SnapshotHeader, SnapshotId, check_id,
};
use crate::registry::{champion_key, decision_key, model_key};
use crate::snapshots::row_key;
use crate::store::{META_NEXT_NOTE, META_NEXT_SNAPSHOT, MODELS_TREE, Store};

/// Records written per sled batch during an import.
const IMPORT_BATCH: usize = 10_000;

/// The behaviour of an import when the store already contains records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Import only into a store without records; fail with
    /// `ImportIntoNonEmpty` otherwise.
    IntoEmpty,
    /// Add the backup's records that are not stored yet. A record stored with
    /// the same identity and content is skipped. A record stored with the same
    /// identity and other content rejects the import before anything is
    /// written. Importing the same backup twice adds nothing the second time.
    Merge,
}

/// Added and already-present counts of one record kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    /// Records written by the import.
    pub added: u64,
    /// Records the store already held, skipped.
    pub already_present: u64,
}

impl KindCounts {
    fn count(&mut self, is_new: bool) {
        match is_new {
            true => self.added += 1,
            false => self.already_present += 1,
        }
    }
}

/// The counts of records an import wrote, per record kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Snapshot headers.
    pub snapshots: KindCounts,
    /// Snapshot rows.
    pub snapshot_rows: KindCounts,
    /// Outcomes.
    pub outcomes: KindCounts,
    /// Interventions.
    pub interventions: KindCounts,
    /// Account notes.
    pub notes: KindCounts,
    /// Registered models.
    pub models: KindCounts,
    /// Champion pointers.
    pub champions: KindCounts,
    /// Registry decisions.
    pub decisions: KindCounts,
}

impl ImportSummary {
    /// Records written by the import.
    pub fn added(&self) -> u64 {
        self.kinds().iter().map(|counts| counts.added).sum()
    }

    /// Records skipped because the store held them.
    pub fn already_present(&self) -> u64 {
        self.kinds()
            .iter()
            .map(|counts| counts.already_present)
            .sum()
    }

    fn kinds(&self) -> [KindCounts; 8] {
        [
            self.snapshots,
            self.snapshot_rows,
            self.outcomes,
            self.interventions,
            self.notes,
            self.models,
            self.champions,
            self.decisions,
        ]
    }
}

/// Reads numbered lines of a backup file.
struct LineReader {
    path: PathBuf,
    lines: std::io::Lines<BufReader<File>>,
    number: u64,
}

impl LineReader {
    fn open(path: &Path) -> Result<LineReader, StoreError> {
        let file = File::open(path).map_err(|err| StoreError::io(path, err))?;
        Ok(LineReader {
            path: path.to_path_buf(),
            lines: BufReader::new(file).lines(),
            number: 0,
        })
    }

    /// Reads and parses the next line with its number; `None` at the end of the file.
    fn next_line(&mut self) -> Result<Option<(u64, Line)>, StoreError> {
        let Some(text) = self.lines.next() else {
            return Ok(None);
        };
        self.number += 1;
        let text = text.map_err(|err| StoreError::io(&self.path, err))?;
        let line = serde_json::from_str::<Line>(&text).map_err(|err| {
            self.error(
                self.number,
                format!("not a backup record: {err}"),
                "the file must be the output of `headroom store export`",
            )
        })?;
        Ok(Some((self.number, line)))
    }

    fn error(&self, line: u64, message: impl Into<String>, hint: impl Into<String>) -> StoreError {
        StoreError::Backup {
            path: self.path.clone(),
            line,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// Ledger records seen earlier in the file, by primary key, with their line.
type SeenRecords<R> = HashMap<Vec<u8>, (u64, R)>;

/// The snapshot whose rows are being read.
struct OpenSnapshot {
    id: SnapshotId,
    line: u64,
    expected_rows: u64,
    rows: u64,
    stored: bool,
    accounts: HashSet<String>,
}

/// Everything the first pass learns and the second pass needs.
#[derive(Default)]
struct Plan {
    summary: ImportSummary,
    stored_snapshots: HashSet<SnapshotId>,
    max_snapshot_id: u64,
    max_note_id: u64,
}

/// The first pass: checks every line and plans the writes.
struct Checker<'a> {
    store: &'a Store,
    reader: LineReader,
    plan: Plan,
    snapshot: Option<OpenSnapshot>,
    snapshot_ids: HashSet<SnapshotId>,
    note_ids: HashSet<u64>,
    models: HashSet<(ModelKind, String)>,
    champions: HashSet<ModelKind>,
    decision_seqs: HashSet<u64>,
    outcomes: SeenRecords<OutcomeRecord>,
    interventions: SeenRecords<Intervention>,
    records: u64,
}

impl Store {
    /// Imports a backup written by [`Store::export_jsonl`] and returns what it
    /// added. Nothing is written unless every line of the file checks out.
    ///
    /// Fails with `ImportIntoNonEmpty` in `IntoEmpty` mode when the store contains
    /// records, and with `Backup`, naming the line, for a malformed, truncated
    /// or newer-format file or a record that conflicts with a stored one.
    ///
    /// NOTE: the second pass writes snapshots and ledger chunks in separate
    /// batches. An I/O failure in the middle of it leaves part of the backup
    /// stored, and running the import again with `Merge` completes it.
    pub fn import_jsonl(&self, path: &Path, mode: ImportMode) -> Result<ImportSummary, StoreError> {
        if mode == ImportMode::IntoEmpty && !self.is_empty()? {
            return Err(StoreError::ImportIntoNonEmpty {
                path: self.path().to_path_buf(),
                backup: path.to_path_buf(),
                records: self.counts()?.total(),
            });
        }

        let _guard = self.write_guard();
        self.sweep_orphan_rows()?;
        let plan = Checker::new(self, path)?.run()?;
        self.write_backup(path, &plan)?;
        self.bump_next_id(META_NEXT_SNAPSHOT, plan.max_snapshot_id)?;
        self.bump_next_id(META_NEXT_NOTE, plan.max_note_id)?;
        self.flush()?;

        tracing::info!(
            added = plan.summary.added(),
            already_present = plan.summary.already_present(),
            "imported a backup"
        );
        Ok(plan.summary)
    }

    /// Writes what the first pass planned (the second pass).
    fn write_backup(&self, path: &Path, plan: &Plan) -> Result<(), StoreError> {
        let mut reader = LineReader::open(path)?;
        let mut pending_header: Option<SnapshotHeader> = None;
        let mut rows = sled::Batch::default();
        let mut row_count = 0;
        let mut outcomes = Vec::new();
        let mut interventions = Vec::new();

        while let Some((_, line)) = reader.next_line()? {
            if !matches!(line, Line::SnapshotRow(_)) {
                self.finish_snapshot(pending_header.take(), std::mem::take(&mut rows))?;
                row_count = 0;
            }
            match line {
                Line::Snapshot(line) => {
                    let header = SnapshotHeader::from(line);
                    if !plan.stored_snapshots.contains(&header.id) {
                        pending_header = Some(header);
                    }
                }
                Line::SnapshotRow(line) => {
                    if pending_header.is_some() {
                        let id = line.snapshot;
                        let row = line.into_row();
                        rows.insert(row_key(id, &row.account_id), encode_value(&row));
                        row_count += 1;
                        if row_count % IMPORT_BATCH == 0 {
                            self.apply(&self.trees().snapshot_rows, std::mem::take(&mut rows))?;
                        }
                    }
                }
                Line::Outcome(line) => {
                    outcomes.push(OutcomeRecord::from(line));
                    self.write_chunk_when_full(&mut outcomes)?;
                }
                Line::Intervention(record) => {
                    interventions.push(record);
                    self.write_chunk_when_full(&mut interventions)?;
                }
                Line::Note(note) => {
                    if self.note(note.id)?.is_none() {
                        self.insert_note(&note)?;
                    }
                }
                Line::Model(model) => {
                    if self.model(model.kind, &model.version)?.is_none() {
                        self.put(
                            &self.trees().models,
                            model_key(model.kind, &model.version),
                            &model,
                        )?;
                    }
                }
                Line::Champion { kind, version } => {
                    self.put(&self.trees().models, champion_key(kind), &version)?;
                }
                Line::Decision(decision) => {
                    let key = decision_key(decision.seq);
                    if self
                        .get::<Decision>(&self.trees().models, MODELS_TREE, &key)?
                        .is_none()
                    {
                        self.put(&self.trees().models, key, &decision)?;
                    }
                }
                Line::Header { .. } | Line::End { .. } => {}
            }
        }

        self.write_chunk(&mut outcomes)?;
        self.write_chunk(&mut interventions)
    }

    fn finish_snapshot(
        &self,
        header: Option<SnapshotHeader>,
        rows: sled::Batch,
    ) -> Result<(), StoreError> {
        let Some(header) = header else {
            return Ok(());
        };
        self.apply(&self.trees().snapshot_rows, rows)?;
        self.commit_header(&header)
    }

    fn write_chunk_when_full<R: LedgerRecord>(&self, chunk: &mut Vec<R>) -> Result<(), StoreError> {
        match chunk.len() >= IMPORT_BATCH {
            true => self.write_chunk(chunk),
            false => Ok(()),
        }
    }

    fn write_chunk<R: LedgerRecord>(&self, chunk: &mut Vec<R>) -> Result<(), StoreError> {
        let (batch, _) = self.plan_append(chunk)?;
        self.apply(R::tree(self.trees()), batch)?;
        chunk.clear();
        Ok(())
    }
}

impl<'a> Checker<'a> {
    fn new(store: &'a Store, path: &Path) -> Result<Checker<'a>, StoreError> {
        Ok(Checker {
            store,
            reader: LineReader::open(path)?,
            plan: Plan::default(),
            snapshot: None,
            snapshot_ids: HashSet::new(),
            note_ids: HashSet::new(),
            models: HashSet::new(),
            champions: HashSet::new(),
            decision_seqs: HashSet::new(),
            outcomes: HashMap::new(),
            interventions: HashMap::new(),
            records: 0,
        })
    }

    fn run(mut self) -> Result<Plan, StoreError> {
        self.check_header()?;
        loop {
            let Some((number, line)) = self.reader.next_line()? else {
                return Err(self.reader.error(
                    self.reader.number,
                    "the file ends without its end line, so it is truncated",
                    "export the store again, or use the complete copy of the backup",
                ));
            };
            if !matches!(line, Line::SnapshotRow(_)) {
                self.close_snapshot()?;
            }
            if let Line::End { records } = line {
                self.check_end(number, records)?;
                return Ok(self.plan);
            }
            self.records += 1;
            self.check_line(number, line)?;
        }
    }

    fn check_header(&mut self) -> Result<(), StoreError> {
        match self.reader.next_line()? {
            Some((_, Line::Header { format })) if format > BACKUP_FORMAT => Err(self.reader.error(
                1,
                format!("backup format {format}, this headroom reads up to {BACKUP_FORMAT}"),
                "upgrade headroom",
            )),
            Some((_, Line::Header { .. })) => Ok(()),
            Some((number, _)) => Err(self.reader.error(
                number,
                "the first line is not the backup header",
                "the file must be the output of `headroom store export`",
            )),
            None => Err(self.reader.error(
                0,
                "the file is empty",
                "the file must be the output of `headroom store export`",
            )),
        }
    }

    fn check_end(&mut self, number: u64, records: u64) -> Result<(), StoreError> {
        if records != self.records {
            return Err(self.reader.error(
                number,
                format!(
                    "the end line counts {records} records, the file has {}",
                    self.records
                ),
                "export the store again; the file was edited or cut",
            ));
        }
        if let Some((extra, _)) = self.reader.next_line()? {
            return Err(self.reader.error(
                extra,
                "a line follows the end line",
                "remove what was appended after the backup",
            ));
        }
        Ok(())
    }

    fn check_line(&mut self, number: u64, line: Line) -> Result<(), StoreError> {
        match line {
            Line::Header { .. } => Err(self.reader.error(
                number,
                "a second header line",
                "import one backup file at a time",
            )),
            Line::Snapshot(line) => self.check_snapshot(number, SnapshotHeader::from(line)),
            Line::SnapshotRow(line) => self.check_row(number, line),
            Line::Outcome(line) => {
                let record = OutcomeRecord::from(line);
                let is_new = self.check_ledger(number, record, |checker| &mut checker.outcomes)?;
                self.plan.summary.outcomes.count(is_new);
                Ok(())
            }
            Line::Intervention(record) => {
                let is_new =
                    self.check_ledger(number, record, |checker| &mut checker.interventions)?;
                self.plan.summary.interventions.count(is_new);
                Ok(())
            }
            Line::Note(note) => self.check_note(number, note),
            Line::Model(model) => self.check_model(number, model),
            Line::Champion { kind, version } => self.check_champion(number, kind, version),
            Line::Decision(decision) => self.check_decision(number, decision),
            Line::End { .. } => unreachable!("the end line is handled by run"),
        }
    }

    fn check_snapshot(&mut self, number: u64, header: SnapshotHeader) -> Result<(), StoreError> {
        if !self.snapshot_ids.insert(header.id) {
            return Err(self.reader.error(
                number,
                format!("snapshot {} appears twice", header.id),
                "the file must be the output of `headroom store export`",
            ));
        }
        for (name, value) in &header.thresholds {
            if name.trim().is_empty() || !value.is_finite() {
                return Err(self.reader.error(
                    number,
                    format!(
                        "snapshot {} has an invalid threshold {name:?} = {value}",
                        header.id
                    ),
                    "thresholds have a name and a finite value",
                ));
            }
        }

        let stored = match self.store.snapshot(header.id)? {
            Some(stored) if stored == header => true,
            Some(_) => {
                return Err(self.reader.error(
                    number,
                    format!(
                        "snapshot {} is stored with a different date, models, thresholds or row count",
                        header.id
                    ),
                    "this backup comes from another store; import it into a project without a store",
                ));
            }
            None => false,
        };

        self.plan.summary.snapshots.count(!stored);
        if stored {
            self.plan.stored_snapshots.insert(header.id);
        }
        self.plan.max_snapshot_id = self.plan.max_snapshot_id.max(header.id.0);
        self.snapshot = Some(OpenSnapshot {
            id: header.id,
            line: number,
            expected_rows: header.rows,
            rows: 0,
            stored,
            accounts: HashSet::new(),
        });
        Ok(())
    }

    fn check_row(&mut self, number: u64, line: RowLine) -> Result<(), StoreError> {
        let Some(open) = self.snapshot.as_mut() else {
            return Err(self.reader.error(
                number,
                "a snapshot row outside a snapshot",
                "rows follow their snapshot's line",
            ));
        };
        if line.snapshot != open.id {
            return Err(self.reader.error(
                number,
                format!(
                    "a row of snapshot {} under snapshot {}",
                    line.snapshot, open.id
                ),
                "rows follow their snapshot's line",
            ));
        }

        let id = open.id;
        let stored = open.stored;
        let row = line.into_row();
        open.rows += 1;
        if !open.accounts.insert(row.account_id.clone()) {
            return Err(self.reader.error(
                number,
                format!("account {} appears twice in snapshot {id}", row.account_id),
                "give each account one row per snapshot",
            ));
        }
        if let Err(problem) = row.validate() {
            return Err(self.reader.error(
                number,
                format!(
                    "invalid snapshot row for account {}: {} {}, found {:?}",
                    row.account_id, problem.field, problem.problem, problem.value
                ),
                problem.hint,
            ));
        }
        if stored && self.store.snapshot_row(id, &row.account_id)?.as_ref() != Some(&row) {
            return Err(self.reader.error(
                number,
                format!(
                    "the row of account {} differs from the one stored in snapshot {id}",
                    row.account_id
                ),
                "this backup comes from another store; import it into a project without a store",
            ));
        }

        self.plan.summary.snapshot_rows.count(!stored);
        Ok(())
    }

    fn close_snapshot(&mut self) -> Result<(), StoreError> {
        let Some(open) = self.snapshot.take() else {
            return Ok(());
        };
        if open.rows != open.expected_rows {
            return Err(self.reader.error(
                open.line,
                format!(
                    "snapshot {} declares {} rows, {} follow it",
                    open.id, open.expected_rows, open.rows
                ),
                "export the store again; the file was edited or cut",
            ));
        }
        Ok(())
    }

    /// Checks a ledger record and returns whether the import adds it.
    fn check_ledger<R: LedgerRecord>(
        &mut self,
        number: u64,
        record: R,
        seen: fn(&mut Self) -> &mut SeenRecords<R>,
    ) -> Result<bool, StoreError> {
        if let Err(problem) = record.validate() {
            return Err(self.reader.error(
                number,
                format!(
                    "invalid {} ({}): {} {}, found {:?}",
                    R::KIND,
                    record.origin(),
                    problem.field,
                    problem.problem,
                    problem.value
                ),
                problem.hint,
            ));
        }

        let key = record.primary_key();
        if let Some((earlier, first)) = seen(self).get(&key) {
            if first.same_facts(&record) {
                return Ok(false);
            }
            let earlier = *earlier;
            return Err(self.reader.error(
                number,
                format!("the {} differs from the one on line {earlier}", R::KIND),
                "keep one line per outcome identity (account, date, outcome or kind)",
            ));
        }

        let stored = self
            .store
            .get::<R>(R::tree(self.store.trees()), R::TREE, &key)?;
        let is_new = match stored {
            None => true,
            Some(stored) if stored.same_facts(&record) => false,
            Some(_) => {
                return Err(self.reader.error(
                    number,
                    format!(
                        "the {} {} is stored with other facts",
                        R::KIND,
                        record.identity()
                    ),
                    "this backup and the store disagree; import it into a project without a store",
                ));
            }
        };
        seen(self).insert(key, (number, record));
        Ok(is_new)
    }

    fn check_note(&mut self, number: u64, note: AccountNote) -> Result<(), StoreError> {
        if !self.note_ids.insert(note.id.0) {
            return Err(self.reader.error(
                number,
                format!("note {} appears twice", note.id),
                "the file must be the output of `headroom store export`",
            ));
        }
        let as_new = NewNote {
            account_id: note.account_id.clone(),
            text: note.text.clone(),
            until: note.until,
            expectation: note.expectation,
            created_at: note.created_at,
        };
        if let Err(problem) = as_new.validate() {
            return Err(self.reader.error(
                number,
                format!(
                    "invalid note {}: {} {}, found {:?}",
                    note.id, problem.field, problem.problem, problem.value
                ),
                problem.hint,
            ));
        }

        let is_new = match self.store.note(note.id)? {
            None => true,
            Some(stored) if stored == note => false,
            Some(_) => {
                return Err(self.reader.error(
                    number,
                    format!("note {} is stored with other content", note.id),
                    "this backup comes from another store; import it into a project without a store",
                ));
            }
        };
        self.plan.summary.notes.count(is_new);
        self.plan.max_note_id = self.plan.max_note_id.max(note.id.0);
        Ok(())
    }

    fn check_model(&mut self, number: u64, model: ModelRecord) -> Result<(), StoreError> {
        if let Err(problem) = check_id("version", &model.version) {
            return Err(self.reader.error(
                number,
                format!(
                    "invalid model version: {} {}",
                    problem.field, problem.problem
                ),
                problem.hint,
            ));
        }
        if serde_json::from_str::<serde_json::Value>(&model.metrics_json).is_err() {
            return Err(self.reader.error(
                number,
                format!(
                    "the metrics of {} model {} are not JSON",
                    model.kind, model.version
                ),
                "metrics_json holds a JSON document as text",
            ));
        }
        if !self.models.insert((model.kind, model.version.clone())) {
            return Err(self.reader.error(
                number,
                format!("{} model {} appears twice", model.kind, model.version),
                "the file must be the output of `headroom store export`",
            ));
        }

        let is_new = match self.store.model(model.kind, &model.version)? {
            None => true,
            Some(stored)
                if stored.artifact_json == model.artifact_json
                    && stored.trained_at == model.trained_at
                    && stored.metrics_json == model.metrics_json =>
            {
                false
            }
            Some(_) => {
                return Err(self.reader.error(
                    number,
                    format!(
                        "{} model {} is registered with another artifact or metrics",
                        model.kind, model.version
                    ),
                    "this backup comes from another store; import it into a project without a store",
                ));
            }
        };
        self.plan.summary.models.count(is_new);
        Ok(())
    }

    fn check_champion(
        &mut self,
        number: u64,
        kind: ModelKind,
        version: String,
    ) -> Result<(), StoreError> {
        if !self.champions.insert(kind) {
            return Err(self.reader.error(
                number,
                format!("a second {kind} champion"),
                "the file must be the output of `headroom store export`",
            ));
        }
        let known = self.models.contains(&(kind, version.clone()))
            || self.store.model(kind, &version)?.is_some();
        if !known {
            return Err(self.reader.error(
                number,
                format!("the {kind} champion {version} is not a registered model"),
                "the model lines come before the champion lines",
            ));
        }

        let is_new = match self.store.champion(kind)? {
            None => true,
            Some(stored) if stored.version == version => false,
            Some(stored) => {
                return Err(self.reader.error(
                    number,
                    format!(
                        "the store's {kind} champion is {}, the backup's is {version}",
                        stored.version
                    ),
                    "promote the model you want after importing into a project without a store",
                ));
            }
        };
        self.plan.summary.champions.count(is_new);
        Ok(())
    }

    fn check_decision(&mut self, number: u64, decision: Decision) -> Result<(), StoreError> {
        if decision.seq == 0 || !self.decision_seqs.insert(decision.seq) {
            return Err(self.reader.error(
                number,
                format!("decision {} appears twice or is numbered 0", decision.seq),
                "the file must be the output of `headroom store export`",
            ));
        }
        let stored = self.store.get::<Decision>(
            &self.store.trees().models,
            MODELS_TREE,
            &decision_key(decision.seq),
        )?;
        let is_new = match stored {
            None => true,
            Some(stored) if stored == decision => false,
            Some(_) => {
                return Err(self.reader.error(
                    number,
                    format!("decision {} is stored with other content", decision.seq),
                    "this backup comes from another store; import it into a project without a store",
                ));
            }
        };
        self.plan.summary.decisions.count(is_new);
        Ok(())
    }
}
