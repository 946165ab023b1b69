//! The outcome ledger and the intervention log: append-only, idempotent
//! records with an identity.
//!
//! Each record is stored under `d`, date, account, discriminator (the outcome
//! word's code, or the intervention kind), so a date range is one prefix scan
//! in date order. An index entry `a`, account, date, discriminator contains the
//! primary key, for the account queries. Both go into one sled batch.

use std::collections::HashMap;
use std::ops::Bound;

use chrono::NaiveDate;

use crate::codec::{KeyBuilder, Record, encode_value};
use crate::error::StoreError;
use crate::records::{Intervention, OutcomeRecord, Problem};
use crate::store::{INTERVENTIONS_TREE, OUTCOMES_TREE, Store, Trees};

const DATE_TAG: u8 = b'd';
const ACCOUNT_TAG: u8 = b'a';

/// The result of a batch append, returned after the batch is on disk.
///
/// `added + already_present + conflicts.len()` is the batch length.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendReceipt<R> {
    /// Records stored by this call.
    pub added: usize,
    /// Records whose identity and facts were already stored (or appeared
    /// earlier in the same batch); nothing was written for them.
    pub already_present: usize,
    /// Records whose identity was already stored with other facts. The stored
    /// record was kept; the caller decides whether to warn or fail.
    pub conflicts: Vec<Conflict<R>>,
}

/// A record whose identity is stored with other facts.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict<R> {
    /// The 1-based position in the batch.
    pub index: usize,
    /// The record offered.
    pub offered: R,
    /// The record kept.
    pub stored: R,
}

/// A record of the ledger or the log: its identity keys, checks and tree.
pub(crate) trait LedgerRecord: Record + Clone {
    const KIND: &'static str;
    const TREE: &'static str;

    fn tree(trees: &Trees) -> &sled::Tree;
    fn primary_key(&self) -> Vec<u8>;
    fn account_key(&self) -> Vec<u8>;
    fn validate(&self) -> Result<(), Problem>;
    fn same_facts(&self, other: &Self) -> bool;
    fn origin(&self) -> String;

    /// Names the record by its identity, as messages show it.
    fn identity(&self) -> String;
}

impl LedgerRecord for OutcomeRecord {
    const KIND: &'static str = "outcome";
    const TREE: &'static str = OUTCOMES_TREE;

    fn tree(trees: &Trees) -> &sled::Tree {
        &trees.outcomes
    }

    fn primary_key(&self) -> Vec<u8> {
        KeyBuilder::new(DATE_TAG)
            .date(self.date)
            .str(&self.account_id)
            .u8(self.outcome.code())
            .finish()
    }

    fn account_key(&self) -> Vec<u8> {
        KeyBuilder::new(ACCOUNT_TAG)
            .str(&self.account_id)
            .date(self.date)
            .u8(self.outcome.code())
            .finish()
    }

    fn validate(&self) -> Result<(), Problem> {
        OutcomeRecord::validate(self)
    }

    fn same_facts(&self, other: &Self) -> bool {
        OutcomeRecord::same_facts(self, other)
    }

    fn origin(&self) -> String {
        format!("{}, account {}", self.source, self.account_id)
    }

    fn identity(&self) -> String {
        format!("{} {} {}", self.account_id, self.date, self.outcome)
    }
}

impl LedgerRecord for Intervention {
    const KIND: &'static str = "intervention";
    const TREE: &'static str = INTERVENTIONS_TREE;

    fn tree(trees: &Trees) -> &sled::Tree {
        &trees.interventions
    }

    fn primary_key(&self) -> Vec<u8> {
        KeyBuilder::new(DATE_TAG)
            .date(self.date)
            .str(&self.account_id)
            .str(&self.kind)
            .finish()
    }

    fn account_key(&self) -> Vec<u8> {
        KeyBuilder::new(ACCOUNT_TAG)
            .str(&self.account_id)
            .date(self.date)
            .str(&self.kind)
            .finish()
    }

    fn validate(&self) -> Result<(), Problem> {
        Intervention::validate(self)
    }

    fn same_facts(&self, other: &Self) -> bool {
        Intervention::same_facts(self, other)
    }

    fn origin(&self) -> String {
        format!("{}, account {}", self.source, self.account_id)
    }

    fn identity(&self) -> String {
        format!("{} {} {:?}", self.account_id, self.date, self.kind)
    }
}

/// Returns the first and last day of a calendar month; `None` for an invalid month.
pub fn month_bounds(year: i32, month: u32) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = match month {
        12 => NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1),
        _ => NaiveDate::from_ymd_opt(year, month + 1, 1),
    };
    let last = match next {
        Some(next) => next.pred_opt()?,
        None => NaiveDate::from_ymd_opt(year, 12, 31)?,
    };
    Some((first, last))
}

/// Returns the smallest key above every key that starts with `prefix`; `None`
/// when there is none.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl Store {
    /// Appends outcomes to the ledger as one all-or-nothing batch.
    ///
    /// The identity of an outcome is (account, date, outcome): a record whose
    /// identity is stored adds nothing, so importing the same file twice
    /// stores each outcome once. The receipt is returned only after sled's
    /// flush has returned, that is after the batch is on disk: a caller may
    /// print "stored N outcomes" then, and a process killed right after still
    /// finds the N outcomes at the next open.
    ///
    /// Fails with `InvalidRecord`, naming the first invalid record (1-based
    /// position, source and account), before anything is written.
    pub fn append_outcomes(
        &self,
        records: &[OutcomeRecord],
    ) -> Result<AppendReceipt<OutcomeRecord>, StoreError> {
        self.append(records)
    }

    /// Appends interventions to the log as one all-or-nothing batch; the
    /// identity is (account, date, kind). The same rules as
    /// [`Store::append_outcomes`] apply: nothing is written when a record is
    /// invalid, and the receipt comes after the flush.
    pub fn append_interventions(
        &self,
        records: &[Intervention],
    ) -> Result<AppendReceipt<Intervention>, StoreError> {
        self.append(records)
    }

    pub(crate) fn append<R: LedgerRecord>(
        &self,
        records: &[R],
    ) -> Result<AppendReceipt<R>, StoreError> {
        validate_all(records)?;

        let _guard = self.write_guard();
        let (batch, receipt) = self.plan_append(records)?;
        self.apply(R::tree(self.trees()), batch)?;
        self.flush()?;

        tracing::info!(
            kind = R::KIND,
            added = receipt.added,
            already_present = receipt.already_present,
            conflicts = receipt.conflicts.len(),
            "appended records"
        );
        Ok(receipt)
    }

    /// Sorts a validated batch into new records, records already present and
    /// conflicts, and builds the sled batch of the new ones.
    pub(crate) fn plan_append<R: LedgerRecord>(
        &self,
        records: &[R],
    ) -> Result<(sled::Batch, AppendReceipt<R>), StoreError> {
        let mut batch = sled::Batch::default();
        let mut receipt = AppendReceipt {
            added: 0,
            already_present: 0,
            conflicts: Vec::new(),
        };
        let mut in_batch: HashMap<Vec<u8>, usize> = HashMap::new();

        for (position, record) in records.iter().enumerate() {
            let key = record.primary_key();
            let stored = match in_batch.get(&key) {
                Some(&earlier) => Some(records[earlier].clone()),
                None => self.get::<R>(R::tree(self.trees()), R::TREE, &key)?,
            };

            match stored {
                Some(stored) if stored.same_facts(record) => receipt.already_present += 1,
                Some(stored) => receipt.conflicts.push(Conflict {
                    index: position + 1,
                    offered: record.clone(),
                    stored,
                }),
                None => {
                    batch.insert(record.account_key(), key.clone());
                    batch.insert(key.clone(), encode_value(record));
                    in_batch.insert(key, position);
                    receipt.added += 1;
                }
            }
        }
        Ok((batch, receipt))
    }

    /// Lists every outcome by date, then account, then outcome.
    pub fn outcomes(&self) -> Result<Vec<OutcomeRecord>, StoreError> {
        self.all_records()
    }

    /// Lists the outcomes dated from `from` to `to`, both included, in date order.
    pub fn outcomes_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<OutcomeRecord>, StoreError> {
        self.records_between(from, to)
    }

    /// Lists the outcomes of one calendar month in date order; none for an
    /// invalid month.
    pub fn outcomes_in_month(
        &self,
        year: i32,
        month: u32,
    ) -> Result<Vec<OutcomeRecord>, StoreError> {
        match month_bounds(year, month) {
            Some((first, last)) => self.records_between(first, last),
            None => Ok(Vec::new()),
        }
    }

    /// Lists one account's outcomes in date order.
    pub fn outcomes_for_account(&self, account_id: &str) -> Result<Vec<OutcomeRecord>, StoreError> {
        self.records_for_account(account_id)
    }

    /// Lists every intervention by date, then account, then kind.
    pub fn interventions(&self) -> Result<Vec<Intervention>, StoreError> {
        self.all_records()
    }

    /// Lists the interventions dated from `from` to `to`, both included, in date
    /// order.
    pub fn interventions_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Intervention>, StoreError> {
        self.records_between(from, to)
    }

    /// Lists one account's interventions in date order.
    pub fn interventions_for_account(
        &self,
        account_id: &str,
    ) -> Result<Vec<Intervention>, StoreError> {
        self.records_for_account(account_id)
    }

    fn all_records<R: LedgerRecord>(&self) -> Result<Vec<R>, StoreError> {
        let prefix = KeyBuilder::new(DATE_TAG).finish();
        self.scan(R::tree(self.trees()), R::TREE, &prefix)
    }

    fn records_between<R: LedgerRecord>(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<R>, StoreError> {
        if from > to {
            return Ok(Vec::new());
        }
        let start = KeyBuilder::new(DATE_TAG).date(from).finish();
        let end = prefix_end(&KeyBuilder::new(DATE_TAG).date(to).finish());
        let upper = match &end {
            Some(end) => Bound::Excluded(&end[..]),
            None => Bound::Unbounded,
        };

        R::tree(self.trees())
            .range::<&[u8], _>((Bound::Included(&start[..]), upper))
            .map(|entry| {
                let (key, value) = entry.map_err(|source| self.sled_error(source))?;
                self.decode(R::TREE, &key, &value)
            })
            .collect()
    }

    fn records_for_account<R: LedgerRecord>(&self, account_id: &str) -> Result<Vec<R>, StoreError> {
        let tree = R::tree(self.trees());
        let prefix = KeyBuilder::new(ACCOUNT_TAG).str(account_id).finish();
        let mut records = Vec::new();
        for entry in tree.scan_prefix(&prefix) {
            let (index_key, primary_key) = entry.map_err(|source| self.sled_error(source))?;
            let record = self.get::<R>(tree, R::TREE, &primary_key)?.ok_or_else(|| {
                StoreError::damaged(
                    self.path(),
                    format!(
                        "the {} index entry {} points to no record",
                        R::KIND,
                        crate::codec::hex(&index_key)
                    ),
                )
            })?;
            records.push(record);
        }
        Ok(records)
    }
}

/// Checks every record before anything is written; the error names the first
/// invalid one.
pub(crate) fn validate_all<R: LedgerRecord>(records: &[R]) -> Result<(), StoreError> {
    for (position, record) in records.iter().enumerate() {
        if let Err(problem) = record.validate() {
            return Err(StoreError::InvalidRecord {
                kind: R::KIND,
                index: position + 1,
                origin: record.origin(),
                field: problem.field,
                value: problem.value,
                problem: problem.problem,
                hint: problem.hint,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_bounds_of_february_in_leap_year() {
        let (first, last) = month_bounds(2024, 2).unwrap();
        assert_eq!(first, NaiveDate::from_ymd_opt(2024, 2, 1).unwrap());
        assert_eq!(last, NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
    }

    #[test]
    fn month_bounds_of_december() {
        let (_, last) = month_bounds(2023, 12).unwrap();
        assert_eq!(last, NaiveDate::from_ymd_opt(2023, 12, 31).unwrap());
    }

    #[test]
    fn month_bounds_rejects_month_13() {
        assert_eq!(month_bounds(2024, 13), None);
    }

    #[test]
    fn prefix_end_carries_over_ff() {
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
    }
}

#[cfg(test)]
mod key_tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codec::KeyReader;
    use crate::records::strategies::{arb_intervention, arb_outcome};

    proptest! {
        #[test]
        fn outcome_keys_round_trip(record in arb_outcome()) {
            let key = record.primary_key();
            let mut reader = KeyReader::new(&key, DATE_TAG).unwrap();
            prop_assert_eq!(reader.date().unwrap(), record.date);
            prop_assert_eq!(reader.str().unwrap(), record.account_id.clone());
            prop_assert_eq!(reader.u8().unwrap(), record.outcome.code());
            prop_assert!(reader.finish().is_ok());

            let index = record.account_key();
            let mut reader = KeyReader::new(&index, ACCOUNT_TAG).unwrap();
            prop_assert_eq!(reader.str().unwrap(), record.account_id.clone());
            prop_assert_eq!(reader.date().unwrap(), record.date);
            prop_assert_eq!(reader.u8().unwrap(), record.outcome.code());
            prop_assert!(reader.finish().is_ok());
        }

        #[test]
        fn outcome_keys_sort_by_date_and_differ_by_identity(a in arb_outcome(), b in arb_outcome()) {
            let identity = |r: &OutcomeRecord| (r.date, r.account_id.clone(), r.outcome.code());
            let (key_a, key_b) = (a.primary_key(), b.primary_key());
            prop_assert_eq!(key_a == key_b, identity(&a) == identity(&b));
            if a.date != b.date {
                prop_assert_eq!(key_a < key_b, a.date < b.date);
            }
        }

        #[test]
        fn intervention_keys_round_trip(record in arb_intervention()) {
            let key = record.primary_key();
            let mut reader = KeyReader::new(&key, DATE_TAG).unwrap();
            prop_assert_eq!(reader.date().unwrap(), record.date);
            prop_assert_eq!(reader.str().unwrap(), record.account_id.clone());
            prop_assert_eq!(reader.str().unwrap(), record.kind.clone());
            prop_assert!(reader.finish().is_ok());
        }
    }
}
