//! Checks of new ledger records against the project: known accounts and
//! contracts, dates after the account's start, amounts that agree with the
//! outcome, and identities the project already records with other facts.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use headroom_data::read::FileFormat;
use headroom_data::{Check, Issue, Location, Report, RowOrigin, Severity, TableKind};
use headroom_store::{Intervention, Outcome, OutcomeRecord, StoreError};

use super::rows::{dates, numbers, texts};
use crate::project::Project;

/// A record to store, with the file row it came from (`None` when typed on
/// the command line).
#[derive(Debug, Clone)]
pub(crate) struct Candidate<R> {
    pub record: R,
    pub origin: Option<RowOrigin>,
}

/// One failed check of a record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub check: Check,
    pub column: &'static str,
    pub value: String,
    pub message: String,
    pub hint: String,
}

/// Counts the checks gather about a file that passed them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Verdicts {
    /// Records new to the ledger whose identity the imported tables contain.
    pub added_in_history: usize,
}

type OutcomeKey = (String, NaiveDate, Outcome);
type InterventionKey = (String, NaiveDate, String);

/// The facts of an outcome besides its identity, as the store compares them.
#[derive(Debug, Clone, PartialEq)]
struct OutcomeFacts {
    contract_id: Option<String>,
    arr_before: Option<f64>,
    arr_after: Option<f64>,
    reason: Option<String>,
}

impl OutcomeFacts {
    fn of(record: &OutcomeRecord) -> OutcomeFacts {
        OutcomeFacts {
            contract_id: record.contract_id.clone(),
            arr_before: record.arr_before,
            arr_after: record.arr_after,
            reason: record.reason.clone(),
        }
    }

    /// Lists the facts that differ; empty when the two agree bit for bit.
    fn differences(&self, recorded: &OutcomeFacts) -> Vec<Difference> {
        let mut out = Vec::new();
        if self.contract_id != recorded.contract_id {
            out.push(text_difference(
                "contract_id",
                &self.contract_id,
                &recorded.contract_id,
            ));
        }
        if self.arr_before.map(f64::to_bits) != recorded.arr_before.map(f64::to_bits) {
            out.push(number_difference(
                "arr_before",
                self.arr_before,
                recorded.arr_before,
            ));
        }
        if self.arr_after.map(f64::to_bits) != recorded.arr_after.map(f64::to_bits) {
            out.push(number_difference(
                "arr_after",
                self.arr_after,
                recorded.arr_after,
            ));
        }
        if self.reason != recorded.reason {
            out.push(text_difference("reason", &self.reason, &recorded.reason));
        }
        out
    }
}

/// One fact that differs between a new record and the recorded one, with
/// both values written out (`None` for a blank).
#[derive(Debug, Clone, PartialEq)]
struct Difference {
    column: &'static str,
    new: Option<String>,
    recorded: Option<String>,
    /// Whether the values are texts, which messages quote.
    text: bool,
}

impl Difference {
    fn render(&self) -> String {
        let show = |value: &Option<String>| match (value, self.text) {
            (None, _) => "blank".to_string(),
            (Some(value), true) => format!("{value:?}"),
            (Some(value), false) => value.clone(),
        };
        format!(
            "{} {} (recorded {})",
            self.column,
            show(&self.new),
            show(&self.recorded)
        )
    }
}

fn text_difference(
    column: &'static str,
    new: &Option<String>,
    recorded: &Option<String>,
) -> Difference {
    Difference {
        column,
        new: new.clone(),
        recorded: recorded.clone(),
        text: true,
    }
}

fn number_difference(column: &'static str, new: Option<f64>, recorded: Option<f64>) -> Difference {
    Difference {
        column,
        new: new.map(|value| value.to_string()),
        recorded: recorded.map(|value| value.to_string()),
        text: false,
    }
}

/// The project facts the checks compare new records with.
pub(crate) struct Checker {
    /// Account id to `customer_since`.
    accounts: HashMap<String, Option<NaiveDate>>,
    /// Contract id to its account.
    contracts: HashMap<String, String>,
    /// Outcomes in the project's tables (the imported history merged with
    /// the ledger), by identity.
    outcomes: HashMap<OutcomeKey, OutcomeFacts>,
    /// Interventions in the project's tables, by identity, with their note.
    interventions: HashMap<InterventionKey, Option<String>>,
}

impl Checker {
    /// Indexes the project's accounts, contracts, outcomes and interventions.
    pub(crate) fn new(project: &Project) -> Result<Checker, StoreError> {
        let tables = &project.tables;
        let accounts = texts(&tables.accounts, "account_id")
            .into_iter()
            .zip(dates(&tables.accounts, "customer_since"))
            .filter_map(|(id, since)| Some((id?, since)))
            .collect();
        let contracts = texts(&tables.contracts, "contract_id")
            .into_iter()
            .zip(texts(&tables.contracts, "account_id"))
            .filter_map(|(contract, account)| Some((contract?, account?)))
            .collect();

        let outcome_rows = &tables.outcomes;
        let mut outcomes = HashMap::new();
        let ids = texts(outcome_rows, "account_id");
        let days = dates(outcome_rows, "date");
        let words = texts(outcome_rows, "outcome");
        let contract_ids = texts(outcome_rows, "contract_id");
        let before = numbers(outcome_rows, "arr_before");
        let after = numbers(outcome_rows, "arr_after");
        let reasons = texts(outcome_rows, "reason");
        for i in 0..outcome_rows.height() {
            let (Some(id), Some(day), Some(word)) = (&ids[i], days[i], &words[i]) else {
                continue;
            };
            let Ok(outcome) = word.parse::<Outcome>() else {
                continue;
            };
            let facts = OutcomeFacts {
                contract_id: contract_ids[i].clone(),
                arr_before: before[i],
                arr_after: after[i],
                reason: reasons[i].clone(),
            };
            outcomes.insert((id.clone(), day, outcome), facts);
        }

        let rows = &tables.interventions;
        let mut interventions = HashMap::new();
        let ids = texts(rows, "account_id");
        let days = dates(rows, "date");
        let kinds = texts(rows, "kind");
        let notes = texts(rows, "note");
        for i in 0..rows.height() {
            if let (Some(id), Some(day), Some(kind)) = (&ids[i], days[i], &kinds[i]) {
                interventions.insert((id.clone(), day, kind.clone()), notes[i].clone());
            }
        }

        Ok(Checker {
            accounts,
            contracts,
            outcomes,
            interventions,
        })
    }

    /// Checks every outcome of a file, adding an error per failed check to
    /// `report`, and counts the new records the imported tables contain.
    pub(crate) fn check_outcomes(
        &self,
        candidates: &[Candidate<OutcomeRecord>],
        stored: &[OutcomeRecord],
        report: &mut Report,
    ) -> Verdicts {
        let stored: HashMap<OutcomeKey, &OutcomeRecord> =
            stored.iter().map(|r| (outcome_key(r), r)).collect();
        let mut first_seen: HashMap<OutcomeKey, &Candidate<OutcomeRecord>> = HashMap::new();
        let mut verdicts = Verdicts::default();

        for candidate in candidates {
            let key = outcome_key(&candidate.record);
            let earlier = first_seen.get(&key).copied();
            for problem in self.outcome_problems(candidate, &stored, earlier, &first_seen) {
                report.push(issue(
                    TableKind::Outcomes,
                    candidate.origin.as_ref(),
                    problem,
                ));
            }
            let new_to_ledger = earlier.is_none() && !stored.contains_key(&key);
            if new_to_ledger && self.outcomes.contains_key(&key) {
                verdicts.added_in_history += 1;
            }
            first_seen.entry(key).or_insert(candidate);
        }
        verdicts
    }

    /// Checks one outcome typed on the command line; returns the first problem.
    pub(crate) fn check_outcome_alone(
        &self,
        candidate: &Candidate<OutcomeRecord>,
        stored: &[OutcomeRecord],
    ) -> Option<Problem> {
        let stored: HashMap<OutcomeKey, &OutcomeRecord> =
            stored.iter().map(|r| (outcome_key(r), r)).collect();
        self.outcome_problems(candidate, &stored, None, &HashMap::new())
            .into_iter()
            .next()
    }

    /// Returns whether the project's tables contain the outcome's identity.
    pub(crate) fn outcome_in_tables(&self, record: &OutcomeRecord) -> bool {
        self.outcomes.contains_key(&outcome_key(record))
    }

    /// Checks every intervention of a file, adding an error per failed check
    /// to `report`.
    pub(crate) fn check_interventions(
        &self,
        candidates: &[Candidate<Intervention>],
        stored: &[Intervention],
        report: &mut Report,
    ) -> Verdicts {
        let stored: HashMap<InterventionKey, &Intervention> =
            stored.iter().map(|r| (intervention_key(r), r)).collect();
        let mut first_seen: HashMap<InterventionKey, &Candidate<Intervention>> = HashMap::new();
        let mut verdicts = Verdicts::default();

        for candidate in candidates {
            let key = intervention_key(&candidate.record);
            let earlier = first_seen.get(&key).copied();
            for problem in self.intervention_problems(candidate, &stored, earlier) {
                report.push(issue(
                    TableKind::Interventions,
                    candidate.origin.as_ref(),
                    problem,
                ));
            }
            let new_to_ledger = earlier.is_none() && !stored.contains_key(&key);
            if new_to_ledger && self.interventions.contains_key(&key) {
                verdicts.added_in_history += 1;
            }
            first_seen.entry(key).or_insert(candidate);
        }
        verdicts
    }

    /// Checks one intervention typed on the command line; returns the first
    /// problem.
    pub(crate) fn check_intervention_alone(
        &self,
        candidate: &Candidate<Intervention>,
        stored: &[Intervention],
    ) -> Option<Problem> {
        let stored: HashMap<InterventionKey, &Intervention> =
            stored.iter().map(|r| (intervention_key(r), r)).collect();
        self.intervention_problems(candidate, &stored, None)
            .into_iter()
            .next()
    }

    /// Returns whether the project's tables contain the intervention's identity.
    pub(crate) fn intervention_in_tables(&self, record: &Intervention) -> bool {
        self.interventions.contains_key(&intervention_key(record))
    }

    fn outcome_problems(
        &self,
        candidate: &Candidate<OutcomeRecord>,
        stored: &HashMap<OutcomeKey, &OutcomeRecord>,
        earlier: Option<&Candidate<OutcomeRecord>>,
        seen: &HashMap<OutcomeKey, &Candidate<OutcomeRecord>>,
    ) -> Vec<Problem> {
        let record = &candidate.record;
        let mut problems = Vec::new();
        problems.extend(self.account_problem(&record.account_id, record.date, "outcome"));
        problems.extend(self.contract_problem(record));
        problems.extend(amount_problem(record));
        problems.extend(self.contradiction_problem(record, stored, seen));

        let key = outcome_key(record);
        let facts = OutcomeFacts::of(record);
        if let Some(earlier) = earlier {
            let differences = facts.differences(&OutcomeFacts::of(&earlier.record));
            if !differences.is_empty() {
                problems.push(repeated_problem(
                    &describe(&key),
                    earlier.origin.as_ref(),
                    &differences,
                ));
            }
        }
        if let Some(stored) = stored.get(&key) {
            let differences = facts.differences(&OutcomeFacts::of(stored));
            if !differences.is_empty() {
                problems.push(recorded_problem(
                    &describe(&key),
                    &format!("the ledger (from {})", stored.source),
                    &differences,
                ));
            }
        } else if let Some(recorded) = self.outcomes.get(&key) {
            let differences = facts.differences(recorded);
            if !differences.is_empty() {
                problems.push(recorded_problem(
                    &describe(&key),
                    "the project's imported outcomes",
                    &differences,
                ));
            }
        }
        problems
    }

    /// Checks that no churn and other outcome of the same account share a
    /// date: a customer who left cannot also have renewed, expanded or
    /// contracted that day, and the labels would count both.
    fn contradiction_problem(
        &self,
        record: &OutcomeRecord,
        stored: &HashMap<OutcomeKey, &OutcomeRecord>,
        seen: &HashMap<OutcomeKey, &Candidate<OutcomeRecord>>,
    ) -> Option<Problem> {
        let churned = record.outcome == Outcome::Churned;
        for &other in Outcome::ALL {
            if other == record.outcome || (churned == (other == Outcome::Churned)) {
                continue;
            }
            let key = (record.account_id.clone(), record.date, other);
            let place = if stored.contains_key(&key) {
                "the ledger".to_string()
            } else if self.outcomes.contains_key(&key) {
                "the project's imported outcomes".to_string()
            } else if let Some(candidate) = seen.get(&key) {
                match &candidate.origin {
                    Some(origin) => format!("line {} of this file", origin.line),
                    None => "this file".to_string(),
                }
            } else {
                continue;
            };
            return Some(Problem {
                check: Check::BadValue,
                column: "outcome",
                value: record.outcome.to_string(),
                message: format!(
                    "outcome {} for account {} on {} contradicts the {other} outcome of the same day in {place}",
                    record.outcome, record.account_id, record.date
                ),
                hint: "keep one outcome per account and day when one of them is a churn: fix the date or the outcome of one row".to_string(),
            });
        }
        None
    }

    fn intervention_problems(
        &self,
        candidate: &Candidate<Intervention>,
        stored: &HashMap<InterventionKey, &Intervention>,
        earlier: Option<&Candidate<Intervention>>,
    ) -> Vec<Problem> {
        let record = &candidate.record;
        let mut problems = Vec::new();
        problems.extend(self.account_problem(&record.account_id, record.date, "intervention"));

        let key = intervention_key(record);
        let what = format!(
            "intervention {} {} {:?}",
            record.account_id, record.date, record.kind
        );
        let note_difference = |recorded: &Option<String>| -> Vec<Difference> {
            match recorded == &record.note {
                true => Vec::new(),
                false => vec![text_difference("note", &record.note, recorded)],
            }
        };
        if let Some(earlier) = earlier {
            let differences = note_difference(&earlier.record.note);
            if !differences.is_empty() {
                problems.push(repeated_problem(
                    &what,
                    earlier.origin.as_ref(),
                    &differences,
                ));
            }
        }
        if let Some(stored) = stored.get(&key) {
            let differences = note_difference(&stored.note);
            if !differences.is_empty() {
                problems.push(recorded_problem(
                    &what,
                    &format!("the log (from {})", stored.source),
                    &differences,
                ));
            }
        } else if let Some(recorded) = self.interventions.get(&key) {
            let differences = note_difference(recorded);
            if !differences.is_empty() {
                problems.push(recorded_problem(
                    &what,
                    "the project's imported interventions",
                    &differences,
                ));
            }
        }
        problems
    }

    /// Checks that the account exists and existed on `date`, and that `date`
    /// is not after the current month.
    pub(crate) fn account_problem(
        &self,
        account_id: &str,
        date: NaiveDate,
        what: &str,
    ) -> Option<Problem> {
        let Some(since) = self.accounts.get(account_id) else {
            return Some(Problem {
                check: Check::UnknownReference,
                column: "account_id",
                value: account_id.to_string(),
                message: format!("{what} for account {account_id}, which the project does not have"),
                hint: "fix the id (ids are compared exactly, including leading zeros), or import the account with `headroom import` first".to_string(),
            });
        };
        let latest = headroom_data::latest_event_date();
        if date > latest {
            return Some(Problem {
                check: Check::FutureDate,
                column: "date",
                value: date.to_string(),
                message: format!(
                    "{what} for account {account_id} dated {date}, after the end of the current month ({latest})"
                ),
                hint: "fix the date: record an event once it has happened, because a later date moves the end of the history that decides which training rows are labelled".to_string(),
            });
        }
        match since {
            Some(since) if date < *since => Some(Problem {
                check: Check::BeforeStart,
                column: "date",
                value: date.to_string(),
                message: format!(
                    "{what} for account {account_id} dated {date}, before the account's customer_since {since}"
                ),
                hint: "fix the date, or the account's customer_since in the accounts export"
                    .to_string(),
            }),
            _ => None,
        }
    }

    /// Checks that a named contract exists and belongs to the outcome's account.
    fn contract_problem(&self, record: &OutcomeRecord) -> Option<Problem> {
        let contract = record.contract_id.as_ref()?;
        match self.contracts.get(contract) {
            None => Some(Problem {
                check: Check::UnknownReference,
                column: "contract_id",
                value: contract.clone(),
                message: format!(
                    "outcome for account {} names contract {contract}, which the project does not have",
                    record.account_id
                ),
                hint: "fix the contract id, leave it blank, or import the contract with `headroom import` first".to_string(),
            }),
            Some(owner) if owner != &record.account_id => Some(Problem {
                check: Check::UnknownReference,
                column: "contract_id",
                value: contract.clone(),
                message: format!(
                    "outcome for account {} names contract {contract}, which belongs to account {owner}",
                    record.account_id
                ),
                hint: "fix the account or the contract id so that they match".to_string(),
            }),
            Some(_) => None,
        }
    }
}

/// Checks that ARR before and after agree with the outcome word.
fn amount_problem(record: &OutcomeRecord) -> Option<Problem> {
    let id = &record.account_id;
    let bad = |column: &'static str, value: f64, message: String, hint: &str| Problem {
        check: Check::BadValue,
        column,
        value: value.to_string(),
        message,
        hint: hint.to_string(),
    };
    match (record.outcome, record.arr_before, record.arr_after) {
        (Outcome::Churned, _, Some(after)) if after != 0.0 => Some(bad(
            "arr_after",
            after,
            format!("churned outcome for account {id} with arr_after {after}, not 0"),
            "a churned account keeps no ARR: write 0 or leave arr_after blank, or record the outcome as contracted",
        )),
        (Outcome::Expanded, Some(before), Some(after)) if after <= before => Some(bad(
            "arr_after",
            after,
            format!(
                "expanded outcome for account {id} with arr_after {after}, not above arr_before {before}"
            ),
            "check the amounts, or record the outcome as renewed or contracted",
        )),
        (Outcome::Contracted, Some(before), Some(after)) if after >= before => Some(bad(
            "arr_after",
            after,
            format!(
                "contracted outcome for account {id} with arr_after {after}, not below arr_before {before}"
            ),
            "check the amounts, or record the outcome as renewed or expanded",
        )),
        _ => None,
    }
}

fn repeated_problem(
    what: &str,
    earlier: Option<&RowOrigin>,
    differences: &[Difference],
) -> Problem {
    let place = match earlier {
        Some(origin) => format!("line {}", origin.line),
        None => "an earlier row".to_string(),
    };
    differing_problem(
        format!("{what} repeats {place} with other facts"),
        differences,
        "keep one row per record, with the correct facts",
    )
}

fn recorded_problem(what: &str, place: &str, differences: &[Difference]) -> Problem {
    differing_problem(
        format!("{what} is already recorded in {place} with other facts"),
        differences,
        "make the row match the recorded facts, because a recorded record is never overwritten",
    )
}

/// Names the first differing column and its new value, and lists every
/// difference in the message.
fn differing_problem(lead: String, differences: &[Difference], hint: &str) -> Problem {
    let first = &differences[0];
    let listed: Vec<String> = differences.iter().map(Difference::render).collect();
    Problem {
        check: Check::DuplicateKey,
        column: first.column,
        value: first.new.clone().unwrap_or_default(),
        message: format!("{lead}: {}", listed.join(", ")),
        hint: hint.to_string(),
    }
}

fn describe(key: &OutcomeKey) -> String {
    format!("outcome {} {} {}", key.0, key.1, key.2)
}

fn outcome_key(record: &OutcomeRecord) -> OutcomeKey {
    (record.account_id.clone(), record.date, record.outcome)
}

fn intervention_key(record: &Intervention) -> InterventionKey {
    (record.account_id.clone(), record.date, record.kind.clone())
}

/// Turns a problem into a report issue at the row's file and line.
fn issue(table: TableKind, origin: Option<&RowOrigin>, problem: Problem) -> Issue {
    let mut issue = Issue::new(Severity::Error, problem.check, problem.message)
        .table(table)
        .column(problem.column)
        .value(problem.value)
        .hint(problem.hint);
    if let Some(origin) = origin {
        let location = match FileFormat::of(Path::new(&origin.file)) {
            Some(FileFormat::Parquet) => Location::Row(origin.line as usize),
            _ => Location::Line(origin.line as usize),
        };
        issue = issue.file(origin.file.clone()).at(location);
    }
    issue
}
