//! The model registry: every trained model, the champion of each kind, and a
//! log of promotions, rejections and rollbacks.
//!
//! The `models` tree contains models under `m`, kind, version; the champion
//! pointer of each kind under `c`, kind; and decisions under `l`, sequence
//! number. Every change of state (statuses, pointer, log entry) is one batch.

use crate::codec::{KeyBuilder, KeyReader, encode_value};
use crate::error::StoreError;
use crate::records::{
    Decision, DecisionAction, DecisionRequest, ModelKind, ModelRecord, ModelStatus, NewModel,
    check_id,
};
use crate::store::{MODELS_TREE, Store};

pub(crate) const MODEL_TAG: u8 = b'm';
pub(crate) const CHAMPION_TAG: u8 = b'c';
const DECISION_TAG: u8 = b'l';

pub(crate) fn model_key(kind: ModelKind, version: &str) -> Vec<u8> {
    KeyBuilder::new(MODEL_TAG)
        .u8(kind.code())
        .str(version)
        .finish()
}

pub(crate) fn champion_key(kind: ModelKind) -> Vec<u8> {
    KeyBuilder::new(CHAMPION_TAG).u8(kind.code()).finish()
}

pub(crate) fn decision_key(seq: u64) -> Vec<u8> {
    KeyBuilder::new(DECISION_TAG).u64(seq).finish()
}

impl Store {
    /// Registers a trained model as a candidate and returns its record.
    ///
    /// Registering the same version again with the same artifact, training
    /// time and metrics returns the stored record unchanged. Fails with
    /// `ModelVersionTaken` when the version is registered with other content,
    /// and with `InvalidRecord` when the version is not a valid id or the
    /// artifact is not JSON.
    pub fn register_model(&self, new: NewModel) -> Result<ModelRecord, StoreError> {
        validate_model(&new)?;
        let record = ModelRecord {
            version: new.version,
            kind: new.kind,
            artifact_json: new.artifact_json,
            trained_at: new.trained_at,
            metrics_json: new.metrics.to_string(),
            status: ModelStatus::Candidate,
        };

        let _guard = self.write_guard();
        if let Some(stored) = self.model(record.kind, &record.version)? {
            return match same_model(&stored, &record) {
                true => Ok(stored),
                false => Err(StoreError::ModelVersionTaken {
                    kind: record.kind.as_str(),
                    version: record.version,
                }),
            };
        }

        self.put(
            &self.trees().models,
            model_key(record.kind, &record.version),
            &record,
        )?;
        self.flush()?;
        tracing::info!(kind = %record.kind, version = %record.version, "registered a model");
        Ok(record)
    }

    /// Lists the registered models, of one kind or all, by kind and training time.
    pub fn models(&self, kind: Option<ModelKind>) -> Result<Vec<ModelRecord>, StoreError> {
        let prefix = match kind {
            Some(kind) => KeyBuilder::new(MODEL_TAG).u8(kind.code()).finish(),
            None => KeyBuilder::new(MODEL_TAG).finish(),
        };
        let mut models: Vec<ModelRecord> = self.scan(&self.trees().models, MODELS_TREE, &prefix)?;
        models.sort_by(|a, b| {
            (a.kind, a.trained_at, &a.version).cmp(&(b.kind, b.trained_at, &b.version))
        });
        Ok(models)
    }

    /// One model; `None` when the kind has no such version.
    pub fn model(&self, kind: ModelKind, version: &str) -> Result<Option<ModelRecord>, StoreError> {
        self.get(&self.trees().models, MODELS_TREE, &model_key(kind, version))
    }

    /// Returns the champion of a kind; `None` before the first promotion.
    pub fn champion(&self, kind: ModelKind) -> Result<Option<ModelRecord>, StoreError> {
        let Some(version) = self.champion_version(kind)? else {
            return Ok(None);
        };
        self.model(kind, &version)?
            .map(Some)
            .ok_or_else(|| self.dangling_champion(kind, &version))
    }

    fn champion_version(&self, kind: ModelKind) -> Result<Option<String>, StoreError> {
        self.get(&self.trees().models, MODELS_TREE, &champion_key(kind))
    }

    /// Makes a registered model the champion of its kind; the former champion
    /// becomes `Retired`. Returns the logged decision once it is on disk.
    ///
    /// Fails with `ModelNotFound` for an unknown version and `RegistryState`
    /// when the model is already the champion.
    pub fn promote(
        &self,
        kind: ModelKind,
        version: &str,
        request: DecisionRequest,
    ) -> Result<Decision, StoreError> {
        let _guard = self.write_guard();
        let mut model = self.require_model(kind, version)?;
        let champion = self.champion(kind)?;
        if model.status == ModelStatus::Champion {
            return Err(registry_state(
                "promote",
                kind,
                version,
                "it is already the champion",
                "promote another model, or roll back to the previous champion",
            ));
        }

        let mut batch = sled::Batch::default();
        if let Some(mut former) = champion.clone() {
            former.status = ModelStatus::Retired;
            batch.insert(model_key(kind, &former.version), encode_value(&former));
        }
        model.status = ModelStatus::Champion;
        batch.insert(model_key(kind, version), encode_value(&model));
        batch.insert(champion_key(kind), encode_value(&model.version));

        let decision = self.decision(
            DecisionAction::Promoted,
            &model,
            champion.as_ref(),
            Some(version),
            request,
        )?;
        self.commit_decision(batch, &decision)?;
        Ok(decision)
    }

    /// Logs that a candidate was compared and not promoted; its status
    /// becomes `Rejected`. Returns the logged decision once it is on disk.
    ///
    /// Fails with `ModelNotFound` for an unknown version and `RegistryState`
    /// when the model is the champion.
    pub fn reject(
        &self,
        kind: ModelKind,
        version: &str,
        request: DecisionRequest,
    ) -> Result<Decision, StoreError> {
        let _guard = self.write_guard();
        let mut model = self.require_model(kind, version)?;
        let champion = self.champion(kind)?;
        if model.status == ModelStatus::Champion {
            return Err(registry_state(
                "reject",
                kind,
                version,
                "it is the champion",
                "roll back to the previous champion instead",
            ));
        }

        model.status = ModelStatus::Rejected;
        let mut batch = sled::Batch::default();
        batch.insert(model_key(kind, version), encode_value(&model));

        let champion_version = champion.as_ref().map(|champion| champion.version.as_str());
        let decision = self.decision(
            DecisionAction::Rejected,
            &model,
            champion.as_ref(),
            champion_version,
            request,
        )?;
        self.commit_decision(batch, &decision)?;
        Ok(decision)
    }

    /// Replaces the champion with the model it replaced (the one before it in
    /// the promotion log); the replaced champion becomes `RolledBack`. Rolling
    /// back again goes one more promotion back. Returns the logged decision
    /// once it is on disk.
    ///
    /// Fails with `RegistryState` when the kind has no champion or the
    /// champion's promotion replaced none.
    pub fn rollback(
        &self,
        kind: ModelKind,
        request: DecisionRequest,
    ) -> Result<Decision, StoreError> {
        let _guard = self.write_guard();
        let Some(mut current) = self.champion(kind)? else {
            return Err(registry_state(
                "roll back",
                kind,
                "",
                "the kind has no champion",
                "promote a model first",
            ));
        };
        let Some(previous_version) = self.replaced_by_promotion(kind, &current.version)? else {
            return Err(registry_state(
                "roll back",
                kind,
                &current.version,
                "its promotion replaced no earlier champion",
                "promote the model you want instead",
            ));
        };
        let mut previous = self.require_model(kind, &previous_version)?;

        let mut batch = sled::Batch::default();
        current.status = ModelStatus::RolledBack;
        previous.status = ModelStatus::Champion;
        batch.insert(model_key(kind, &current.version), encode_value(&current));
        batch.insert(model_key(kind, &previous.version), encode_value(&previous));
        batch.insert(champion_key(kind), encode_value(&previous.version));

        let decision = self.decision(
            DecisionAction::RolledBack,
            &previous,
            Some(&current),
            Some(&previous_version),
            request,
        )?;
        self.commit_decision(batch, &decision)?;
        Ok(decision)
    }

    /// Lists the decision log, of one kind or all, in the order the decisions
    /// were made.
    pub fn decisions(&self, kind: Option<ModelKind>) -> Result<Vec<Decision>, StoreError> {
        let all: Vec<Decision> = self.scan(
            &self.trees().models,
            MODELS_TREE,
            &KeyBuilder::new(DECISION_TAG).finish(),
        )?;
        Ok(all
            .into_iter()
            .filter(|decision| kind.is_none_or(|kind| decision.kind == kind))
            .collect())
    }

    /// Finds the champion that the latest promotion of `version` replaced.
    fn replaced_by_promotion(
        &self,
        kind: ModelKind,
        version: &str,
    ) -> Result<Option<String>, StoreError> {
        let decisions = self.decisions(Some(kind))?;
        let promotion = decisions.into_iter().rev().find(|decision| {
            decision.action == DecisionAction::Promoted && decision.version == version
        });
        Ok(promotion.and_then(|decision| decision.champion_before))
    }

    fn require_model(&self, kind: ModelKind, version: &str) -> Result<ModelRecord, StoreError> {
        self.model(kind, version)?
            .ok_or_else(|| StoreError::ModelNotFound {
                kind: kind.as_str(),
                version: version.to_string(),
            })
    }

    fn decision(
        &self,
        action: DecisionAction,
        model: &ModelRecord,
        champion_before: Option<&ModelRecord>,
        champion_after: Option<&str>,
        request: DecisionRequest,
    ) -> Result<Decision, StoreError> {
        Ok(Decision {
            seq: self.next_decision_seq()?,
            kind: model.kind,
            action,
            version: model.version.clone(),
            champion_before: champion_before.map(|champion| champion.version.clone()),
            champion_after: champion_after.map(str::to_string),
            at: request.at,
            reason: request.reason,
            metrics_json: request
                .metrics
                .map(|metrics| metrics.to_string())
                .unwrap_or_else(|| model.metrics_json.clone()),
            champion_metrics_json: match (request.champion_metrics, champion_before) {
                (Some(metrics), _) => Some(metrics.to_string()),
                (None, Some(champion)) => Some(champion.metrics_json.clone()),
                (None, None) => None,
            },
        })
    }

    fn next_decision_seq(&self) -> Result<u64, StoreError> {
        let prefix = KeyBuilder::new(DECISION_TAG).finish();
        let last = self.trees().models.scan_prefix(&prefix).keys().next_back();
        match last {
            None => Ok(1),
            Some(key) => {
                let key = key.map_err(|source| self.sled_error(source))?;
                let seq = KeyReader::new(&key, DECISION_TAG)
                    .and_then(|mut reader| reader.u64())
                    .map_err(|source| self.corrupt_key(MODELS_TREE, &key, source))?;
                Ok(seq + 1)
            }
        }
    }

    fn commit_decision(
        &self,
        mut batch: sled::Batch,
        decision: &Decision,
    ) -> Result<(), StoreError> {
        batch.insert(decision_key(decision.seq), encode_value(decision));
        self.apply(&self.trees().models, batch)?;
        self.flush()?;
        tracing::info!(
            kind = %decision.kind,
            action = %decision.action,
            version = %decision.version,
            "logged a registry decision"
        );
        Ok(())
    }

    fn dangling_champion(&self, kind: ModelKind, version: &str) -> StoreError {
        StoreError::damaged(
            self.path(),
            format!("the {kind} champion {version:?} is not in the registry"),
        )
    }
}

fn validate_model(new: &NewModel) -> Result<(), StoreError> {
    let invalid = |field, value: &str, problem, hint| StoreError::InvalidRecord {
        kind: "model",
        index: 1,
        origin: format!("{} model {}", new.kind, new.version),
        field,
        value: value.chars().take(80).collect(),
        problem,
        hint,
    };

    if let Err(problem) = check_id("version", &new.version) {
        return Err(invalid(
            problem.field,
            &new.version,
            problem.problem,
            problem.hint,
        ));
    }
    if serde_json::from_str::<serde::de::IgnoredAny>(&new.artifact_json).is_err() {
        return Err(invalid(
            "artifact_json",
            &new.artifact_json,
            "is not valid JSON",
            "pass the artifact file's text as written by training",
        ));
    }
    Ok(())
}

/// Returns whether a stored model and a new registration carry the same
/// content. The status belongs to the registry and is ignored.
fn same_model(stored: &ModelRecord, new: &ModelRecord) -> bool {
    stored.artifact_json == new.artifact_json
        && stored.trained_at == new.trained_at
        && stored.metrics_json == new.metrics_json
}

fn registry_state(
    action: &'static str,
    kind: ModelKind,
    version: &str,
    reason: &'static str,
    hint: &'static str,
) -> StoreError {
    StoreError::RegistryState {
        action,
        kind: kind.as_str(),
        version: version.to_string(),
        reason,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn model_key_round_trips(kind in prop::sample::select(ModelKind::ALL), version in ".{0,16}") {
            let key = model_key(kind, &version);
            let mut reader = KeyReader::new(&key, MODEL_TAG).unwrap();
            prop_assert_eq!(reader.u8().unwrap(), kind.code());
            prop_assert_eq!(reader.str().unwrap(), version);
            prop_assert!(reader.finish().is_ok());
        }

        #[test]
        fn decision_keys_sort_by_sequence(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(decision_key(a).cmp(&decision_key(b)), a.cmp(&b));
            let key = decision_key(a);
            let mut reader = KeyReader::new(&key, DECISION_TAG).unwrap();
            prop_assert_eq!(reader.u64().unwrap(), a);
        }
    }
}
