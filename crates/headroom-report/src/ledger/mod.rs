//! Adding real outcomes and customer-success interventions to a project after
//! its import: `headroom outcomes import|add` and `headroom interventions
//! import|add`.
//!
//! A file is read with the data contract's mapping, cell parsers and row
//! checks, then checked against the project. Every account must exist, no
//! event may predate the account's `customer_since`, a contract must belong to
//! its account, and amounts must agree with the outcome. A record whose
//! identity the project already has must carry the same facts. Only a file
//! without errors reaches the store, as one batch, so a file is stored whole or
//! not at all. The store skips identities it already has, so importing a file
//! twice adds nothing the second time.

mod check;
mod error;
pub(crate) mod rows;

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use headroom_data::{Mapping, Severity, TableKind, load_table_file};
use headroom_store::{
    AccountNote, Expectation, Intervention, NewNote, Outcome, OutcomeRecord, Source,
};

use crate::project::Project;
use check::{Candidate, Checker};

pub use error::LedgerError;

/// The result of importing a file, returned once the new records are on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The file as given.
    pub file: PathBuf,
    /// Records read from the file.
    pub records: usize,
    /// Records stored by this import.
    pub added: usize,
    /// Records the ledger already had (from an earlier import, or repeated in
    /// the file); nothing was written for them.
    pub already_stored: usize,
    /// Records stored by this import whose identity the project's imported
    /// tables also contain; training and the review count each once.
    pub also_in_history: usize,
    /// Warnings and notes from reading the file, rendered one per entry.
    pub notices: Vec<String>,
}

/// The result of adding one record typed on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddSummary {
    /// Whether the record was stored; `false` when the ledger already had it.
    pub added: bool,
    /// Whether the project's imported tables contain the same record.
    pub in_history: bool,
}

/// An outcome typed on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutcome {
    /// The account.
    pub account_id: String,
    /// The date of the event.
    pub date: NaiveDate,
    /// What happened.
    pub outcome: Outcome,
    /// The contract concerned, if known.
    pub contract_id: Option<String>,
    /// ARR before the event.
    pub arr_before: Option<f64>,
    /// ARR after the event.
    pub arr_after: Option<f64>,
    /// The reason given.
    pub reason: Option<String>,
}

/// An intervention typed on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIntervention {
    /// The account.
    pub account_id: String,
    /// The date of the action.
    pub date: NaiveDate,
    /// The kind of action (training, business review, exec call, discount, ...).
    pub kind: String,
    /// A free-text note.
    pub note: Option<String>,
}

/// Returns `mapping` with the project's reporting currency as the currency of
/// money cells when the mapping names none. Returns `None` when it names one
/// or the contracts mix currencies without an FX table. `headroom import`
/// takes the contracts' currency from the same run, but a lone outcomes file
/// has no contracts beside it, so the project's tables supply it.
fn with_project_currency(project: &Project, mapping: &Mapping) -> Option<Mapping> {
    if mapping.format.currency.is_some() || mapping.currency.is_some() {
        return None;
    }
    let currency = headroom_data::reporting_currency(&project.tables).ok()?;
    let mut with_currency = mapping.clone();
    with_currency.format.currency = Some(currency);
    Some(with_currency)
}

/// Imports an outcomes file into the project's ledger, all or nothing.
///
/// `mapping` adapts a foreign export ([`Mapping::contract`] for a file in the
/// contract format). Fails with [`LedgerError::Invalid`], naming every
/// invalid row with its line, column and value, before anything is stored.
pub fn import_outcomes(
    project: &Project,
    file: &Path,
    mapping: &Mapping,
    recorded_at: DateTime<Utc>,
) -> Result<ImportSummary, LedgerError> {
    let with_currency = with_project_currency(project, mapping);
    let mapping = with_currency.as_ref().unwrap_or(mapping);
    let table = load_table_file(TableKind::Outcomes, file, mapping, None)?;
    let mut report = table.report;
    let candidates = rows::outcomes(&table.frame, &table.origins, recorded_at);

    let checker = Checker::new(project)?;
    let stored = project.store.outcomes()?;
    let verdicts = checker.check_outcomes(&candidates, &stored, &mut report);
    if report.has_errors() {
        return Err(invalid(file, report));
    }

    let records: Vec<OutcomeRecord> = candidates.into_iter().map(|c| c.record).collect();
    let receipt = project.store.append_outcomes(&records)?;
    Ok(ImportSummary {
        file: file.to_path_buf(),
        records: records.len(),
        added: receipt.added,
        already_stored: receipt.already_present,
        also_in_history: verdicts.added_in_history,
        notices: notices(&report),
    })
}

/// Adds one outcome typed on the command line to the ledger.
///
/// Fails with [`LedgerError::InvalidRecord`] when the account is unknown, the
/// date is before the account existed, the contract belongs to another
/// account, the amounts disagree with the outcome, or the project records
/// the same outcome with other facts.
pub fn add_outcome(
    project: &Project,
    new: NewOutcome,
    recorded_at: DateTime<Utc>,
) -> Result<AddSummary, LedgerError> {
    let candidate = Candidate {
        record: OutcomeRecord {
            account_id: new.account_id,
            date: new.date,
            outcome: new.outcome,
            contract_id: new.contract_id,
            arr_before: new.arr_before,
            arr_after: new.arr_after,
            reason: new.reason,
            source: Source::Manual,
            recorded_at,
        },
        origin: None,
    };
    let checker = Checker::new(project)?;
    let stored = project.store.outcomes()?;
    let problem = checker.check_outcome_alone(&candidate, &stored);
    if let Some(problem) = problem {
        return Err(LedgerError::InvalidRecord {
            record: describe_outcome(&candidate.record),
            problem: problem.message,
            hint: problem.hint,
        });
    }

    let in_history = checker.outcome_in_tables(&candidate.record);
    let receipt = project.store.append_outcomes(&[candidate.record])?;
    Ok(AddSummary {
        added: receipt.added == 1,
        in_history,
    })
}

/// Imports an interventions file into the project's log, all or nothing, with
/// the same rules as [`import_outcomes`].
pub fn import_interventions(
    project: &Project,
    file: &Path,
    mapping: &Mapping,
    recorded_at: DateTime<Utc>,
) -> Result<ImportSummary, LedgerError> {
    let table = load_table_file(TableKind::Interventions, file, mapping, None)?;
    let mut report = table.report;
    let candidates = rows::interventions(&table.frame, &table.origins, recorded_at);

    let checker = Checker::new(project)?;
    let stored = project.store.interventions()?;
    let verdicts = checker.check_interventions(&candidates, &stored, &mut report);
    if report.has_errors() {
        return Err(invalid(file, report));
    }

    let records: Vec<Intervention> = candidates.into_iter().map(|c| c.record).collect();
    let receipt = project.store.append_interventions(&records)?;
    Ok(ImportSummary {
        file: file.to_path_buf(),
        records: records.len(),
        added: receipt.added,
        already_stored: receipt.already_present,
        also_in_history: verdicts.added_in_history,
        notices: notices(&report),
    })
}

/// Adds one intervention typed on the command line to the log, with the same
/// rules as [`add_outcome`].
pub fn add_intervention(
    project: &Project,
    new: NewIntervention,
    recorded_at: DateTime<Utc>,
) -> Result<AddSummary, LedgerError> {
    let candidate = Candidate {
        record: Intervention {
            account_id: new.account_id,
            date: new.date,
            kind: new.kind,
            note: new.note,
            source: Source::Manual,
            recorded_at,
        },
        origin: None,
    };
    let checker = Checker::new(project)?;
    let stored = project.store.interventions()?;
    if let Some(problem) = checker.check_intervention_alone(&candidate, &stored) {
        return Err(LedgerError::InvalidRecord {
            record: format!(
                "intervention {} {} {:?}",
                candidate.record.account_id, candidate.record.date, candidate.record.kind
            ),
            problem: problem.message,
            hint: problem.hint,
        });
    }

    let in_history = checker.intervention_in_tables(&candidate.record);
    let receipt = project.store.append_interventions(&[candidate.record])?;
    Ok(AddSummary {
        added: receipt.added == 1,
        in_history,
    })
}

fn describe_outcome(record: &OutcomeRecord) -> String {
    format!(
        "outcome {} {} {}",
        record.account_id, record.date, record.outcome
    )
}

fn invalid(file: &Path, report: headroom_data::Report) -> LedgerError {
    LedgerError::Invalid {
        file: file.to_path_buf(),
        report: Box::new(report),
    }
}

fn notices(report: &headroom_data::Report) -> Vec<String> {
    report
        .issues()
        .iter()
        .filter(|issue| issue.severity != Severity::Error)
        .map(|issue| issue.render())
        .collect()
}

/// The number of days a note applies when no end date is given.
pub const DEFAULT_NOTE_DAYS: u64 = 90;

/// An account team's note typed on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRequest {
    /// The account.
    pub account_id: String,
    /// The note.
    pub text: String,
    /// The first day the note applies.
    pub from: NaiveDate,
    /// The last day the note applies; `None` is [`DEFAULT_NOTE_DAYS`] after
    /// `from`.
    pub until: Option<NaiveDate>,
    /// The team's expectation until then.
    pub expectation: Expectation,
}

/// Stores an account note once it is checked against the project, and
/// returns it with its id.
///
/// Fails with [`LedgerError::InvalidRecord`] when the account is unknown, the
/// text is blank or the note ends before it starts.
pub fn add_note(project: &Project, request: NoteRequest) -> Result<AccountNote, LedgerError> {
    let record = format!("note for account {}", request.account_id);
    let checker = Checker::new(project)?;
    if let Some(problem) = checker.account_problem(&request.account_id, request.from, "note") {
        return Err(LedgerError::InvalidRecord {
            record,
            problem: problem.message,
            hint: problem.hint,
        });
    }
    if request.text.trim().is_empty() {
        return Err(LedgerError::InvalidRecord {
            record,
            problem: "the text is blank".to_string(),
            hint: "say what the account team knows, such as \"pilot ends in March\"".to_string(),
        });
    }
    let until = request
        .until
        .unwrap_or(request.from + chrono::Days::new(DEFAULT_NOTE_DAYS));
    if until < request.from {
        return Err(LedgerError::InvalidRecord {
            record,
            problem: format!("it ends on {until}, before it starts on {}", request.from),
            hint: "give an --until date on or after the first day".to_string(),
        });
    }

    let created_at = request
        .from
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    let note = project.store.add_note(NewNote {
        account_id: request.account_id,
        text: request.text,
        until,
        expectation: request.expectation,
        created_at,
    })?;
    Ok(note)
}
