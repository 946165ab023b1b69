//! Writing a backup.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::lines::{BACKUP_FORMAT, Line, OutcomeLine, RowLine, SnapshotLine};
use crate::codec::KeyBuilder;
use crate::error::StoreError;
use crate::records::{Decision, Intervention, ModelKind, ModelRecord, OutcomeRecord};
use crate::registry::MODEL_TAG;
use crate::store::{MODELS_TREE, Store};

/// The counts of records an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// Snapshot headers.
    pub snapshots: u64,
    /// Snapshot rows.
    pub snapshot_rows: u64,
    /// Outcomes.
    pub outcomes: u64,
    /// Interventions.
    pub interventions: u64,
    /// Account notes.
    pub notes: u64,
    /// Registered models.
    pub models: u64,
    /// Champion pointers.
    pub champions: u64,
    /// Registry decisions.
    pub decisions: u64,
}

impl ExportSummary {
    /// Record lines written, header and end line excluded.
    pub fn records(&self) -> u64 {
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

/// Writes lines and names the destination in errors.
struct LineWriter<'a, W: Write> {
    out: W,
    destination: &'a Path,
}

impl<W: Write> LineWriter<'_, W> {
    fn write(&mut self, line: &Line) -> Result<(), StoreError> {
        serde_json::to_writer(&mut self.out, line)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|err| StoreError::io(self.destination, err))
    }
}

impl Store {
    /// Writes every record of the store to `out` as a backup and returns the
    /// counts; `destination` names the output in errors.
    ///
    /// Snapshot rows are streamed, so memory stays flat for large snapshots.
    /// The caller flushes `out`.
    pub fn export_jsonl<W: Write>(
        &self,
        out: W,
        destination: &Path,
    ) -> Result<ExportSummary, StoreError> {
        let mut writer = LineWriter { out, destination };
        let mut summary = ExportSummary::default();

        writer.write(&Line::Header {
            format: BACKUP_FORMAT,
        })?;
        self.export_snapshots(&mut writer, &mut summary)?;
        self.export_ledgers(&mut writer, &mut summary)?;
        self.export_registry(&mut writer, &mut summary)?;
        writer.write(&Line::End {
            records: summary.records(),
        })?;

        tracing::info!(records = summary.records(), "exported the store");
        Ok(summary)
    }

    fn export_snapshots<W: Write>(
        &self,
        writer: &mut LineWriter<'_, W>,
        summary: &mut ExportSummary,
    ) -> Result<(), StoreError> {
        let mut headers = self.snapshots()?;
        headers.sort_by_key(|header| header.id);

        for header in headers {
            writer.write(&Line::Snapshot(SnapshotLine::from(&header)))?;
            summary.snapshots += 1;
            for row in self.snapshot_rows(header.id)? {
                writer.write(&Line::SnapshotRow(RowLine::new(header.id, &row?)))?;
                summary.snapshot_rows += 1;
            }
        }
        Ok(())
    }

    fn export_ledgers<W: Write>(
        &self,
        writer: &mut LineWriter<'_, W>,
        summary: &mut ExportSummary,
    ) -> Result<(), StoreError> {
        let outcomes: Vec<OutcomeRecord> = self.outcomes()?;
        for record in &outcomes {
            writer.write(&Line::Outcome(OutcomeLine::from(record)))?;
            summary.outcomes += 1;
        }

        let interventions: Vec<Intervention> = self.interventions()?;
        for record in interventions {
            writer.write(&Line::Intervention(record))?;
            summary.interventions += 1;
        }

        for note in self.notes()? {
            writer.write(&Line::Note(note))?;
            summary.notes += 1;
        }
        Ok(())
    }

    fn export_registry<W: Write>(
        &self,
        writer: &mut LineWriter<'_, W>,
        summary: &mut ExportSummary,
    ) -> Result<(), StoreError> {
        // Key order (kind, then version), not `models()`'s training-time order,
        // so that two stores with the same records export the same bytes.
        let models: Vec<ModelRecord> = self.scan(
            &self.trees().models,
            MODELS_TREE,
            &KeyBuilder::new(MODEL_TAG).finish(),
        )?;
        for model in models {
            writer.write(&Line::Model(model))?;
            summary.models += 1;
        }

        for kind in ModelKind::ALL {
            if let Some(champion) = self.champion(*kind)? {
                writer.write(&Line::Champion {
                    kind: *kind,
                    version: champion.version,
                })?;
                summary.champions += 1;
            }
        }

        let decisions: Vec<Decision> = self.decisions(None)?;
        for decision in decisions {
            writer.write(&Line::Decision(decision))?;
            summary.decisions += 1;
        }
        Ok(())
    }
}
