//! The records the store keeps: score snapshots and their rows, outcomes,
//! interventions, account notes, registered models and registry decisions.
//!
//! Each type derives serde for callers that print or exchange it, and has a
//! binary value encoding (see [`crate::codec`]) for the store itself.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::codec::{DecodeError, Decoder, Encoder, Record};
use crate::error::StoreError;

/// Defines an enum of fixed words with its text form, a one-byte code for the
/// encodings, `FromStr` that names the allowed words, and serde as the word.
macro_rules! word_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $field:literal {
            $($(#[$vmeta:meta])* $variant:ident = ($code:literal, $word:literal)),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $word)] $variant),+
        }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Returns the word used in files, messages and the command line.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            pub(crate) fn code(self) -> u8 {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub(crate) fn from_code(code: u8) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = StoreError;

            /// Parses the word; surrounding spaces and letter case are ignored.
            fn from_str(text: &str) -> Result<$name, StoreError> {
                let word = text.trim().to_ascii_lowercase();
                match word.as_str() {
                    $($word => Ok($name::$variant),)+
                    _ => Err(StoreError::InvalidWord {
                        field: $field,
                        value: text.to_string(),
                        expected: concat!($($word, " "),+).trim_ascii_end(),
                    }),
                }
            }
        }
    };
}

word_enum! {
    /// The event that ended or changed an account's contract.
    Outcome, "outcome" {
        /// The contract renewed at about the same ARR.
        Renewed = (1, "renewed"),
        /// The customer left.
        Churned = (2, "churned"),
        /// ARR grew.
        Expanded = (3, "expanded"),
        /// ARR shrank but the customer stayed.
        Contracted = (4, "contracted"),
    }
}

word_enum! {
    /// The account team's expectation for an account over a period.
    Expectation, "expectation" {
        /// Usage will drop (a seasonal pause, a team leaving) without churn risk.
        Drop = (1, "drop"),
        /// Usage or ARR will grow.
        Growth = (2, "growth"),
        /// The customer is leaving.
        Churn = (3, "churn"),
        /// The contract is being renewed.
        Renewal = (4, "renewal"),
        /// No expectation stated: the note gives context only.
        Unspecified = (5, "none"),
    }
}

word_enum! {
    /// The model kind of a registry entry.
    ModelKind, "model kind" {
        /// Predicts that the account churns in the horizon.
        Churn = (1, "churn"),
        /// Predicts that the account's ARR grows in the horizon.
        Expansion = (2, "expansion"),
    }
}

word_enum! {
    /// The state of a registered model.
    ModelStatus, "model status" {
        /// Registered, never promoted or rejected.
        Candidate = (1, "candidate"),
        /// The model scoring uses for its kind.
        Champion = (2, "champion"),
        /// A former champion replaced by a promotion.
        Retired = (3, "retired"),
        /// Compared with the champion and not promoted.
        Rejected = (4, "rejected"),
        /// A former champion replaced by a rollback.
        RolledBack = (5, "rolled-back"),
    }
}

word_enum! {
    /// The kind of a registry decision.
    DecisionAction, "decision" {
        /// The model became champion.
        Promoted = (1, "promoted"),
        /// The model stayed out.
        Rejected = (2, "rejected"),
        /// The champion was replaced by the one before it.
        RolledBack = (3, "rolled-back"),
    }
}

/// The origin of a ledger record: a file and its 1-based line (the header is
/// line 1), or a person typing it.
///
/// Its text form is `PATH:LINE` or `manual`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// A line of an imported file.
    File {
        /// The file as given to the import.
        path: String,
        /// The 1-based line, counting the header.
        line: u64,
    },
    /// Entered by hand.
    Manual,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File { path, line } => write!(f, "{path}:{line}"),
            Source::Manual => f.write_str("manual"),
        }
    }
}

impl FromStr for Source {
    type Err = StoreError;

    /// Parses `manual` or `PATH:LINE`, splitting at the last colon.
    fn from_str(text: &str) -> Result<Source, StoreError> {
        if text == "manual" {
            return Ok(Source::Manual);
        }
        let parsed = text
            .rsplit_once(':')
            .and_then(|(path, line)| Some((path, line.parse::<u64>().ok()?)));
        match parsed {
            Some((path, line)) => Ok(Source::File {
                path: path.to_string(),
                line,
            }),
            None => Err(StoreError::InvalidWord {
                field: "source",
                value: text.to_string(),
                expected: "manual, PATH:LINE",
            }),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Source, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The id of a score snapshot, assigned by the store in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SnapshotId(pub u64);

impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The run-level facts of a scoring run, given to `Store::write_snapshot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewSnapshot {
    /// The date the features were computed as of.
    pub as_of: NaiveDate,
    /// When the scoring ran.
    pub created_at: DateTime<Utc>,
    /// The churn model version, if a model scored the run.
    pub churn_model: Option<String>,
    /// The expansion model version, if a model scored the run.
    pub expansion_model: Option<String>,
    /// The thresholds the run used, by name (for example `churn_flag`:
    /// the probability at or above which an account is flagged).
    pub thresholds: BTreeMap<String, f64>,
}

/// A stored scoring run: its facts, id and row count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    /// The store-assigned id.
    pub id: SnapshotId,
    /// The date the features were computed as of.
    pub as_of: NaiveDate,
    /// When the scoring ran.
    pub created_at: DateTime<Utc>,
    /// The churn model version, if a model scored the run.
    pub churn_model: Option<String>,
    /// The expansion model version, if a model scored the run.
    pub expansion_model: Option<String>,
    /// The thresholds the run used, by name.
    pub thresholds: BTreeMap<String, f64>,
    /// The number of account rows.
    pub rows: u64,
}

/// One account's result in a scoring run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRow {
    /// The account.
    pub account_id: String,
    /// The customer segment (enterprise, mid-market, smb), when the data has one.
    pub customer_segment: Option<String>,
    /// The usage health segment the run assigned (at-risk, watch, ...).
    pub health_segment: String,
    /// The churn probability; none when no churn model scored the run.
    pub p_churn: Option<f64>,
    /// The expansion probability; none when no expansion model scored the run.
    pub p_expansion: Option<f64>,
    /// Annual recurring revenue in the reporting currency.
    pub arr: f64,
    /// Whether the run flagged the account for churn.
    pub flagged_churn: bool,
    /// Whether the run flagged the account for expansion.
    pub flagged_expansion: bool,
    /// The priority score the run ranked accounts by, higher first.
    pub priority: f64,
    /// The reasons given, strongest first.
    pub reasons: Vec<Reason>,
    /// The alerts raised.
    pub alerts: Vec<Alert>,
}

/// One reason behind an account's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// The feature name.
    pub feature: String,
    /// The feature's contribution to the score (coefficient times standardized
    /// value, in log-odds).
    pub contribution: f64,
    /// The reason in words.
    pub text: String,
}

/// One alert raised for an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The alert kind (for example `usage_drop`).
    pub kind: String,
    /// The alert in words.
    pub text: String,
}

/// A stored scoring run with all its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The run-level facts.
    pub header: SnapshotHeader,
    /// The rows in account id order.
    pub rows: Vec<SnapshotRow>,
}

/// A real outcome in the ledger. Its identity is (account, date, outcome).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    /// The account.
    pub account_id: String,
    /// The date of the event.
    pub date: NaiveDate,
    /// What happened.
    pub outcome: Outcome,
    /// The contract concerned, if known.
    pub contract_id: Option<String>,
    /// ARR before the event, in the contract's currency.
    pub arr_before: Option<f64>,
    /// ARR after the event, in the contract's currency.
    pub arr_after: Option<f64>,
    /// The reason given, if any.
    pub reason: Option<String>,
    /// The origin of the record.
    pub source: Source,
    /// When the record was stored.
    pub recorded_at: DateTime<Utc>,
}

/// A customer-success action in the log. Its identity is (account, date, kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intervention {
    /// The account.
    pub account_id: String,
    /// The date of the action.
    pub date: NaiveDate,
    /// The kind of action (training, business review, exec call, discount, ...).
    pub kind: String,
    /// A free-text note.
    pub note: Option<String>,
    /// The origin of the record.
    pub source: Source,
    /// When the record was stored.
    pub recorded_at: DateTime<Utc>,
}

/// The id of an account note, assigned by the store in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NoteId(pub u64);

impl fmt::Display for NoteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An account team's note, given to `Store::add_note`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNote {
    /// The account.
    pub account_id: String,
    /// The note.
    pub text: String,
    /// The last day the note applies.
    pub until: NaiveDate,
    /// The team's expectation until then.
    pub expectation: Expectation,
    /// When the note was written.
    pub created_at: DateTime<Utc>,
}

/// A stored account note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountNote {
    /// The store-assigned id.
    pub id: NoteId,
    /// The account.
    pub account_id: String,
    /// The note.
    pub text: String,
    /// The last day the note applies.
    pub until: NaiveDate,
    /// The team's expectation until then.
    pub expectation: Expectation,
    /// When the note was written.
    pub created_at: DateTime<Utc>,
}

impl AccountNote {
    /// Returns whether the note applies on `date`: from the day it was written
    /// to `until`, both included.
    pub fn is_active_at(&self, date: NaiveDate) -> bool {
        self.created_at.date_naive() <= date && date <= self.until
    }
}

/// A trained model, given to `Store::register_model`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewModel {
    /// The version string, unique per kind.
    pub version: String,
    /// Churn or expansion.
    pub kind: ModelKind,
    /// The model artifact as JSON text, stored as given.
    pub artifact_json: String,
    /// When the model was trained.
    pub trained_at: DateTime<Utc>,
    /// A summary of its validation metrics.
    pub metrics: serde_json::Value,
}

/// A registered model.
///
/// The metrics are kept as JSON text: parsing and printing a JSON number can
/// move it by one unit in the last place, and the text keeps the numbers
/// exactly as registered through export and import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// The version string, unique per kind.
    pub version: String,
    /// Churn or expansion.
    pub kind: ModelKind,
    /// The model artifact as JSON text.
    pub artifact_json: String,
    /// When the model was trained.
    pub trained_at: DateTime<Utc>,
    /// The metrics summary as JSON text.
    pub metrics_json: String,
    /// The model's state in the registry.
    pub status: ModelStatus,
}

impl ModelRecord {
    /// Parses the metrics summary; `Value::Null` if the text is not JSON,
    /// which the store never writes.
    pub fn metrics(&self) -> serde_json::Value {
        serde_json::from_str(&self.metrics_json).unwrap_or(serde_json::Value::Null)
    }
}

/// The why and when of a registry change, given to `promote`, `reject` and
/// `rollback`.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRequest {
    /// Why, in words.
    pub reason: String,
    /// When the decision was made.
    pub at: DateTime<Utc>,
    /// The metrics that justified the decision for the model it is about
    /// (for example on the recent held-out months); `None` uses the model's
    /// registered metrics.
    pub metrics: Option<serde_json::Value>,
    /// The champion's metrics on the same comparison; `None` uses the
    /// champion's registered metrics.
    pub champion_metrics: Option<serde_json::Value>,
}

/// An entry of the registry's decision log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The position in the log, from 1.
    pub seq: u64,
    /// Churn or expansion.
    pub kind: ModelKind,
    /// The decision taken.
    pub action: DecisionAction,
    /// The model the decision is about: the new champion for a promotion or a
    /// rollback, the candidate for a rejection.
    pub version: String,
    /// The champion before the decision.
    pub champion_before: Option<String>,
    /// The champion after the decision.
    pub champion_after: Option<String>,
    /// When the decision was made.
    pub at: DateTime<Utc>,
    /// Why, in words.
    pub reason: String,
    /// The metrics of `version`, as JSON text.
    pub metrics_json: String,
    /// The metrics of `champion_before`, as JSON text.
    pub champion_metrics_json: Option<String>,
}

/// A field that fails validation, before it is tied to a record's position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub field: &'static str,
    pub value: String,
    pub problem: &'static str,
    pub hint: &'static str,
}

/// The maximum length of an id in bytes; ids are part of keys.
pub const MAX_ID_BYTES: usize = 512;

pub(crate) fn check_id(field: &'static str, value: &str) -> Result<(), Problem> {
    let problem = |problem, hint| Problem {
        field,
        value: value.to_string(),
        problem,
        hint,
    };
    if value.is_empty() {
        return Err(problem("is empty", "every record needs its id"));
    }
    if value.trim() != value {
        return Err(problem(
            "has leading or trailing spaces",
            "trim the id so that it matches the same account elsewhere",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(problem(
            "contains a control character",
            "remove line breaks, tabs and other control characters from the id",
        ));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(problem(
            "is longer than 512 bytes",
            "use the short id from the source system",
        ));
    }
    Ok(())
}

pub(crate) fn check_word(field: &'static str, value: &str) -> Result<(), Problem> {
    if value.trim().is_empty() {
        return Err(Problem {
            field,
            value: value.to_string(),
            problem: "is empty",
            hint: "give the field a value",
        });
    }
    Ok(())
}

pub(crate) fn check_money(field: &'static str, value: Option<f64>) -> Result<(), Problem> {
    match value {
        Some(amount) if !amount.is_finite() || amount < 0.0 => Err(Problem {
            field,
            value: amount.to_string(),
            problem: "is not a non-negative amount",
            hint: "ARR is a non-negative amount in the contract's currency",
        }),
        _ => Ok(()),
    }
}

pub(crate) fn check_probability(field: &'static str, value: Option<f64>) -> Result<(), Problem> {
    match value {
        Some(p) if !(0.0..=1.0).contains(&p) => Err(Problem {
            field,
            value: p.to_string(),
            problem: "is not a probability between 0 and 1",
            hint: "store the model's probability, not a percentage or a score",
        }),
        _ => Ok(()),
    }
}

pub(crate) fn check_finite(field: &'static str, value: f64) -> Result<(), Problem> {
    if value.is_finite() {
        return Ok(());
    }
    Err(Problem {
        field,
        value: value.to_string(),
        problem: "is not a finite number",
        hint: "replace NaN or infinite values before storing",
    })
}

impl SnapshotRow {
    pub(crate) fn validate(&self) -> Result<(), Problem> {
        check_id("account_id", &self.account_id)?;
        check_word("health_segment", &self.health_segment)?;
        check_probability("p_churn", self.p_churn)?;
        check_probability("p_expansion", self.p_expansion)?;
        check_money("arr", Some(self.arr))?;
        check_finite("priority", self.priority)?;
        for reason in &self.reasons {
            check_word("reason feature", &reason.feature)?;
            check_finite("reason contribution", reason.contribution)?;
        }
        for alert in &self.alerts {
            check_word("alert kind", &alert.kind)?;
        }
        Ok(())
    }
}

impl NewSnapshot {
    pub(crate) fn validate(&self) -> Result<(), Problem> {
        for (name, value) in &self.thresholds {
            check_word("threshold name", name)?;
            check_finite("threshold", *value)?;
        }
        Ok(())
    }
}

impl OutcomeRecord {
    pub(crate) fn validate(&self) -> Result<(), Problem> {
        check_id("account_id", &self.account_id)?;
        if let Some(contract) = &self.contract_id {
            check_id("contract_id", contract)?;
        }
        check_money("arr_before", self.arr_before)?;
        check_money("arr_after", self.arr_after)?;
        Ok(())
    }

    /// Returns whether two records with the same identity carry the same facts.
    /// `source` and `recorded_at` describe how the record arrived and are ignored.
    pub(crate) fn same_facts(&self, other: &OutcomeRecord) -> bool {
        self.contract_id == other.contract_id
            && same_f64(self.arr_before, other.arr_before)
            && same_f64(self.arr_after, other.arr_after)
            && self.reason == other.reason
    }
}

impl Intervention {
    pub(crate) fn validate(&self) -> Result<(), Problem> {
        check_id("account_id", &self.account_id)?;
        check_word("kind", &self.kind)?;
        Ok(())
    }

    /// Returns whether two records with the same identity carry the same note.
    pub(crate) fn same_facts(&self, other: &Intervention) -> bool {
        self.note == other.note
    }
}

impl NewNote {
    pub(crate) fn validate(&self) -> Result<(), Problem> {
        check_id("account_id", &self.account_id)?;
        check_word("text", &self.text)?;
        if self.until < self.created_at.date_naive() {
            return Err(Problem {
                field: "until",
                value: self.until.to_string(),
                problem: "is before the day the note is written",
                hint: "give the last day the note should apply, today or later",
            });
        }
        Ok(())
    }
}

fn same_f64(a: Option<f64>, b: Option<f64>) -> bool {
    a.map(f64::to_bits) == b.map(f64::to_bits)
}

fn decode_word<T>(
    input: &mut Decoder<'_>,
    from_code: fn(u8) -> Option<T>,
    what: &'static str,
) -> Result<T, DecodeError> {
    let code = input.u8()?;
    from_code(code).ok_or_else(|| input.invalid(what))
}

fn encode_thresholds(out: &mut Encoder, thresholds: &BTreeMap<String, f64>) {
    out.len(thresholds.len());
    for (name, value) in thresholds {
        out.str(name);
        out.f64(*value);
    }
}

fn decode_thresholds(input: &mut Decoder<'_>) -> Result<BTreeMap<String, f64>, DecodeError> {
    let count = input.len()?;
    let mut thresholds = BTreeMap::new();
    for _ in 0..count {
        let name = input.str()?;
        let value = input.f64()?;
        if thresholds.insert(name, value).is_some() {
            return Err(input.invalid("duplicate threshold name"));
        }
    }
    Ok(thresholds)
}

impl Record for SnapshotHeader {
    fn encode_fields(&self, out: &mut Encoder) {
        out.u64(self.id.0);
        out.date(self.as_of);
        out.datetime(self.created_at);
        out.opt_str(self.churn_model.as_deref());
        out.opt_str(self.expansion_model.as_deref());
        encode_thresholds(out, &self.thresholds);
        out.u64(self.rows);
    }

    fn decode_fields(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(SnapshotHeader {
            id: SnapshotId(input.u64()?),
            as_of: input.date()?,
            created_at: input.datetime()?,
            churn_model: input.opt_str()?,
            expansion_model: input.opt_str()?,
            thresholds: decode_thresholds(input)?,
            rows: input.u64()?,
        })
    }
}

impl Record for SnapshotRow {
    fn encode_fields(&self, out: &mut Encoder) {
        out.str(&self.account_id);
        out.opt_str(self.customer_segment.as_deref());
        out.str(&self.health_segment);
        out.opt_f64(self.p_churn);
        out.opt_f64(self.p_expansion);
        out.f64(self.arr);
        out.bool(self.flagged_churn);
        out.bool(self.flagged_expansion);
        out.f64(self.priority);
        out.len(self.reasons.len());
        for reason in &self.reasons {
            out.str(&reason.feature);
            out.f64(reason.contribution);
            out.str(&reason.text);
        }
        out.len(self.alerts.len());
        for alert in &self.alerts {
            out.str(&alert.kind);
            out.str(&alert.text);
        }
    }

    fn decode_fields(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let account_id = input.str()?;
        let customer_segment = input.opt_str()?;
        let health_segment = input.str()?;
        let p_churn = input.opt_f64()?;
        let p_expansion = input.opt_f64()?;
        let arr = input.f64()?;
        let flagged_churn = input.bool()?;
        let flagged_expansion = input.bool()?;
        let priority = input.f64()?;

        let reason_count = input.len()?;
        let mut reasons = Vec::with_capacity(reason_count);
        for _ in 0..reason_count {
            reasons.push(Reason {
                feature: input.str()?,
                contribution: input.f64()?,
                text: input.str()?,
            });
        }

        let alert_count = input.len()?;
        let mut alerts = Vec::with_capacity(alert_count);
        for _ in 0..alert_count {
            alerts.push(Alert {
                kind: input.str()?,
                text: input.str()?,
            });
        }

        Ok(SnapshotRow {
            account_id,
            customer_segment,
            health_segment,
            p_churn,
            p_expansion,
            arr,
            flagged_churn,
            flagged_expansion,
            priority,
            reasons,
            alerts,
        })
    }
}

impl Record for Source {
    fn encode_fields(&self, out: &mut Encoder) {
        match self {
            Source::Manual => out.u8(0),
            Source::File { path, line } => {
                out.u8(1);
                out.str(path);
                out.u64(*line);
            }
        }
    }

    fn decode_fields(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        match input.u8()? {
            0 => Ok(Source::Manual),
            1 => Ok(Source::File {
                path: input.str()?,
                line: input.u64()?,
            }),
            _ => Err(input.invalid("source kind")),
        }
    }
}

impl Record for OutcomeRecord {
    fn encode_fields(&self, out: &mut Encoder) {
        out.str(&self.account_id);
        out.date(self.date);
        out.u8(self.outcome.code());
        out.opt_str(self.contract_id.as_deref());
        out.opt_f64(self.arr_before);
        out.opt_f64(self.arr_after);
        out.opt_str(self.reason.as_deref());
        self.source.encode_fields(out);
        out.datetime(self.recorded_at);
    }

    fn decode_fields(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(OutcomeRecord {
            account_id: input.str()?,
            date: input.date()?,
            outcome: decode_word(input, Outcome::from_code, "outcome")?,
            contract_id: input.opt_str()?,
            arr_before: input.opt_f64()?,
            arr_after: input.opt_f64()?,
            reason: input.opt_str()?,
            source: Source::decode_fields(input)?,
            recorded_at: input.datetime()?,
        })
    }
}

impl Record for Intervention {
    fn encode_fields(&self, out: &mut Encoder) {
        out.str(&self.account_id);
        out.date(self.date);
        out.str(&self.kind);
        out.opt_str(self.note.as_deref());
        self.source.encode_fields(out);
        out.datetime(self.recorded_at);
    }

    fn decode_fields(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Intervention {
            account_id: input.str()?,
            date: input.date()?,
            kind: input.str()?,
            note: input.opt_str()?,
            source: Source::decode_fields(input)?,
            recorded_at: input.datetime()?,
        })
    }
}

impl Record for AccountNote {
    fn encode_fields(&self, out: &mut Encoder) {
        out.u64(self.id.0);
        out.str(&self.account_id);
        out.str(&self.text);
        out.date(self.until);
        out.u8(self.expectation.code());
        out.datetime(self.created_at);
    }

    fn decode_fields(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(AccountNote {
            id: NoteId(input.u64()?),
            account_id: input.str()?,
            text: input.str()?,
            until: input.date()?,
            expectation: decode_word(input, Expectation::from_code, "expectation")?,
            created_at: input.datetime()?,
        })
    }
}

impl Record for ModelRecord {
    fn encode_fields(&self, out: &mut Encoder) {
        out.str(&self.version);
        out.u8(self.kind.code());
        out.str(&self.artifact_json);
        out.datetime(self.trained_at);
        out.str(&self.metrics_json);
        out.u8(self.status.code());
    }

    fn decode_fields(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(ModelRecord {
            version: input.str()?,
            kind: decode_word(input, ModelKind::from_code, "model kind")?,
            artifact_json: input.str()?,
            trained_at: input.datetime()?,
            metrics_json: input.str()?,
            status: decode_word(input, ModelStatus::from_code, "model status")?,
        })
    }
}

impl Record for Decision {
    fn encode_fields(&self, out: &mut Encoder) {
        out.u64(self.seq);
        out.u8(self.kind.code());
        out.u8(self.action.code());
        out.str(&self.version);
        out.opt_str(self.champion_before.as_deref());
        out.opt_str(self.champion_after.as_deref());
        out.datetime(self.at);
        out.str(&self.reason);
        out.str(&self.metrics_json);
        out.opt_str(self.champion_metrics_json.as_deref());
    }

    fn decode_fields(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Decision {
            seq: input.u64()?,
            kind: decode_word(input, ModelKind::from_code, "model kind")?,
            action: decode_word(input, DecisionAction::from_code, "decision")?,
            version: input.str()?,
            champion_before: input.opt_str()?,
            champion_after: input.opt_str()?,
            at: input.datetime()?,
            reason: input.str()?,
            metrics_json: input.str()?,
            champion_metrics_json: input.opt_str()?,
        })
    }
}

/// A plain string value (a champion's version, a counter's owner).
impl Record for String {
    fn encode_fields(&self, out: &mut Encoder) {
        out.str(self);
    }

    fn decode_fields(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        input.str()
    }
}

/// A counter or format number.
impl Record for u64 {
    fn encode_fields(&self, out: &mut Encoder) {
        out.u64(*self);
    }

    fn decode_fields(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        input.u64()
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies for every record type.

    use proptest::collection::{btree_map, vec};
    use proptest::option;
    use proptest::prelude::*;

    use super::*;
    use crate::codec::tests::{arb_date, arb_datetime};

    pub(crate) fn arb_text() -> impl Strategy<Value = String> {
        ".{0,12}"
    }

    pub(crate) fn arb_source() -> impl Strategy<Value = Source> {
        prop_oneof![
            Just(Source::Manual),
            (arb_text(), any::<u64>()).prop_map(|(path, line)| Source::File { path, line }),
        ]
    }

    pub(crate) fn arb_row() -> impl Strategy<Value = SnapshotRow> {
        let reason =
            (arb_text(), any::<f64>(), arb_text()).prop_map(|(feature, contribution, text)| {
                Reason {
                    feature,
                    contribution,
                    text,
                }
            });
        let alert = (arb_text(), arb_text()).prop_map(|(kind, text)| Alert { kind, text });
        (
            (arb_text(), option::of(arb_text()), arb_text()),
            (
                option::of(any::<f64>()),
                option::of(any::<f64>()),
                any::<f64>(),
            ),
            (any::<bool>(), any::<bool>(), any::<f64>()),
            (vec(reason, 0..4), vec(alert, 0..3)),
        )
            .prop_map(
                |(
                    (account_id, customer_segment, health_segment),
                    (p_churn, p_expansion, arr),
                    (flagged_churn, flagged_expansion, priority),
                    (reasons, alerts),
                )| SnapshotRow {
                    account_id,
                    customer_segment,
                    health_segment,
                    p_churn,
                    p_expansion,
                    arr,
                    flagged_churn,
                    flagged_expansion,
                    priority,
                    reasons,
                    alerts,
                },
            )
    }

    pub(crate) fn arb_header() -> impl Strategy<Value = SnapshotHeader> {
        (
            any::<u64>(),
            arb_date(),
            arb_datetime(),
            option::of(arb_text()),
            option::of(arb_text()),
            btree_map(arb_text(), any::<f64>(), 0..4),
            any::<u64>(),
        )
            .prop_map(
                |(id, as_of, created_at, churn_model, expansion_model, thresholds, rows)| {
                    SnapshotHeader {
                        id: SnapshotId(id),
                        as_of,
                        created_at,
                        churn_model,
                        expansion_model,
                        thresholds,
                        rows,
                    }
                },
            )
    }

    pub(crate) fn arb_outcome() -> impl Strategy<Value = OutcomeRecord> {
        (
            (arb_text(), arb_date(), prop::sample::select(Outcome::ALL)),
            (
                option::of(arb_text()),
                option::of(any::<f64>()),
                option::of(any::<f64>()),
            ),
            (option::of(arb_text()), arb_source(), arb_datetime()),
        )
            .prop_map(
                |(
                    (account_id, date, outcome),
                    (contract_id, arr_before, arr_after),
                    (reason, source, recorded_at),
                )| OutcomeRecord {
                    account_id,
                    date,
                    outcome,
                    contract_id,
                    arr_before,
                    arr_after,
                    reason,
                    source,
                    recorded_at,
                },
            )
    }

    pub(crate) fn arb_intervention() -> impl Strategy<Value = Intervention> {
        (
            arb_text(),
            arb_date(),
            arb_text(),
            option::of(arb_text()),
            arb_source(),
            arb_datetime(),
        )
            .prop_map(
                |(account_id, date, kind, note, source, recorded_at)| Intervention {
                    account_id,
                    date,
                    kind,
                    note,
                    source,
                    recorded_at,
                },
            )
    }

    pub(crate) fn arb_note() -> impl Strategy<Value = AccountNote> {
        (
            any::<u64>(),
            arb_text(),
            arb_text(),
            arb_date(),
            prop::sample::select(Expectation::ALL),
            arb_datetime(),
        )
            .prop_map(|(id, account_id, text, until, expectation, created_at)| {
                AccountNote {
                    id: NoteId(id),
                    account_id,
                    text,
                    until,
                    expectation,
                    created_at,
                }
            })
    }

    pub(crate) fn arb_model() -> impl Strategy<Value = ModelRecord> {
        (
            arb_text(),
            prop::sample::select(ModelKind::ALL),
            arb_text(),
            arb_datetime(),
            arb_text(),
            prop::sample::select(ModelStatus::ALL),
        )
            .prop_map(
                |(version, kind, artifact_json, trained_at, metrics_json, status)| ModelRecord {
                    version,
                    kind,
                    artifact_json,
                    trained_at,
                    metrics_json,
                    status,
                },
            )
    }

    pub(crate) fn arb_decision() -> impl Strategy<Value = Decision> {
        (
            (
                any::<u64>(),
                prop::sample::select(ModelKind::ALL),
                prop::sample::select(DecisionAction::ALL),
                arb_text(),
            ),
            (
                option::of(arb_text()),
                option::of(arb_text()),
                arb_datetime(),
            ),
            (arb_text(), arb_text(), option::of(arb_text())),
        )
            .prop_map(
                |(
                    (seq, kind, action, version),
                    (champion_before, champion_after, at),
                    (reason, metrics_json, champion_metrics_json),
                )| Decision {
                    seq,
                    kind,
                    action,
                    version,
                    champion_before,
                    champion_after,
                    at,
                    reason,
                    metrics_json,
                    champion_metrics_json,
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::strategies::*;
    use super::*;
    use crate::codec::{decode_value, encode_value};

    /// Compares through the encoding's own bytes, so NaN fields compare equal
    /// when their bits do.
    fn assert_round_trip<T: Record + fmt::Debug>(record: &T) -> Result<(), TestCaseError> {
        let bytes = encode_value(record);
        let decoded: T =
            decode_value(&bytes).map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(encode_value(&decoded), bytes);
        Ok(())
    }

    #[test]
    fn outcome_parses_words_in_any_case() {
        assert_eq!(" Churned ".parse::<Outcome>().unwrap(), Outcome::Churned);
    }

    #[test]
    fn outcome_rejects_unknown_word() {
        let err = "lost".parse::<Outcome>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid outcome \"lost\": expected one of renewed churned expanded contracted\nhint: use one of the listed words"
        );
    }

    #[test]
    fn source_text_splits_at_last_colon() {
        let source: Source = "C:\\exports\\outcomes.csv:12".parse().unwrap();
        assert_eq!(
            source,
            Source::File {
                path: "C:\\exports\\outcomes.csv".to_string(),
                line: 12
            }
        );
    }

    #[test]
    fn source_rejects_missing_line() {
        assert!("outcomes.csv".parse::<Source>().is_err());
    }

    #[test]
    fn note_is_active_through_until_day() {
        let note = AccountNote {
            id: NoteId(1),
            account_id: "A-1".into(),
            text: "seasonal pause".into(),
            until: NaiveDate::from_ymd_opt(2024, 8, 31).unwrap(),
            expectation: Expectation::Drop,
            created_at: DateTime::from_timestamp(1_717_200_000, 0).unwrap(), // 2024-06-01
        };
        assert!(!note.is_active_at(NaiveDate::from_ymd_opt(2024, 5, 31).unwrap()));
        assert!(note.is_active_at(NaiveDate::from_ymd_opt(2024, 6, 1).unwrap()));
        assert!(note.is_active_at(NaiveDate::from_ymd_opt(2024, 8, 31).unwrap()));
        assert!(!note.is_active_at(NaiveDate::from_ymd_opt(2024, 9, 1).unwrap()));
    }

    #[test]
    fn model_status_words_round_trip() {
        for status in ModelStatus::ALL {
            assert_eq!(status.as_str().parse::<ModelStatus>().unwrap(), *status);
        }
    }

    proptest! {
        #[test]
        fn snapshot_header_round_trips(header in arb_header()) {
            assert_round_trip(&header)?;
        }

        #[test]
        fn snapshot_row_round_trips(row in arb_row()) {
            assert_round_trip(&row)?;
        }

        #[test]
        fn outcome_round_trips(record in arb_outcome()) {
            assert_round_trip(&record)?;
        }

        #[test]
        fn intervention_round_trips(record in arb_intervention()) {
            let decoded: Intervention = decode_value(&encode_value(&record)).unwrap();
            prop_assert_eq!(decoded, record);
        }

        #[test]
        fn note_round_trips(note in arb_note()) {
            let decoded: AccountNote = decode_value(&encode_value(&note)).unwrap();
            prop_assert_eq!(decoded, note);
        }

        #[test]
        fn model_round_trips(model in arb_model()) {
            let decoded: ModelRecord = decode_value(&encode_value(&model)).unwrap();
            prop_assert_eq!(decoded, model);
        }

        #[test]
        fn decision_round_trips(decision in arb_decision()) {
            let decoded: Decision = decode_value(&encode_value(&decision)).unwrap();
            prop_assert_eq!(decoded, decision);
        }

        #[test]
        fn source_text_round_trips(source in arb_source()) {
            // A file source always carries a line, so even a file named
            // "manual" has a text form distinct from the manual source.
            let text = source.to_string();
            prop_assert_eq!(text.parse::<Source>().unwrap(), source);
        }

        #[test]
        fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
            let _ = decode_value::<SnapshotHeader>(&bytes);
            let _ = decode_value::<SnapshotRow>(&bytes);
            let _ = decode_value::<OutcomeRecord>(&bytes);
            let _ = decode_value::<Intervention>(&bytes);
            let _ = decode_value::<AccountNote>(&bytes);
            let _ = decode_value::<ModelRecord>(&bytes);
            let _ = decode_value::<Decision>(&bytes);
            let _ = decode_value::<String>(&bytes);
            let _ = decode_value::<u64>(&bytes);
        }

        #[test]
        fn decoders_never_panic_on_damaged_records(
            row in arb_row(),
            cut in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            mask in 1u8..,
        ) {
            let bytes = encode_value(&row);

            let mut flipped = bytes.clone();
            flipped[flip.index(bytes.len())] ^= mask;
            let _ = decode_value::<SnapshotRow>(&flipped);

            let prefix = &bytes[..cut.index(bytes.len())];
            prop_assert!(decode_value::<SnapshotRow>(prefix).is_err());
        }
    }
}
