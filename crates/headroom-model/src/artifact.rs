//! The model artifact: one JSON file holding everything needed to score,
//! explain and audit a model.
//!
//! Versioning: [`FORMAT_VERSION`] rises whenever a field changes meaning or a
//! required field is added. A file with a newer version is rejected; older
//! versions are read as long as their fields still parse.
//!
//! | format | adds |
//! |---|---|
//! | 1 | preprocessing, coefficients, settings, training window, fit, selection, metrics |
//! | 2 | `inputs` (how inputs are built from a feature table), `input_profile` (training distribution of each input) and `held_out` (what the metrics were measured on), the first two required; a separation warning tags its variant with `separation` (format 1 wrote a second `kind` key, which no parser reads back) |
//!
//! A format 1 file loads with `inputs` and `input_profile` absent: its inputs
//! are read from the feature table as they are, and the input drift of the
//! review cannot be computed for it.

use std::fs;
use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::evaluate::Evaluation;
use crate::folds::FoldParams;
use crate::inputs::InputSpec;
use crate::kind::ModelKind;
use crate::logistic::{ClassWeight, FitReport};
use crate::preprocess::{Preprocessor, Term};
use crate::profile::InputProfile;
use crate::select::SelectionReport;
use crate::threshold::ThresholdRule;
use crate::train::SeparationPolicy;

/// The newest artifact format this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;

/// The first format whose files must carry `inputs` and `input_profile`.
const INPUTS_REQUIRED_FROM: u32 = 2;

/// The settings a model was trained with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSettings {
    /// The L2 penalty on the mean log loss of the final fit.
    pub l2_penalty: f64,
    /// The decision threshold: rows at or above it are flagged.
    pub threshold: f64,
    /// The rule that chose the threshold.
    pub threshold_rule: ThresholdRule,
    /// The label horizon in days.
    pub horizon_days: u32,
    /// The class weighting.
    pub class_weight: ClassWeight,
    /// The solver's iteration cap.
    pub max_iterations: u64,
    /// The gradient tolerance.
    pub tolerance: f64,
    /// Share of missing training rows from which a feature gets an indicator.
    pub indicator_min_share: f64,
    /// The separation policy.
    pub separation: SeparationPolicy,
    /// The penalties the selection chose from.
    pub candidate_penalties: Vec<f64>,
    /// The validation fold settings.
    pub folds: FoldParams,
    /// Maximum rows a fit reads. A larger training set fits on an even
    /// sample of each class, and `None` means no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_rows: Option<usize>,
}

/// The rows a model was trained on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// First observation date.
    pub first_observation: NaiveDate,
    /// Last observation date.
    pub last_observation: NaiveDate,
    /// Training rows.
    pub rows: usize,
    /// Positive training rows.
    pub positives: usize,
    /// Distinct accounts.
    pub accounts: usize,
    /// [`crate::Dataset::fingerprint`] of the training data.
    pub fingerprint: String,
    /// The rows the solver read, when it fitted on a sample of `rows`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_rows: Option<usize>,
}

/// A trained model with its preprocessing, coefficients, settings, training
/// window, fit report and metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifact {
    /// The artifact format version ([`FORMAT_VERSION`] when written).
    pub format_version: u32,
    /// The headroom version that trained the model.
    pub headroom_version: String,
    /// Churn or expansion.
    pub kind: ModelKind,
    /// The class whose probability the model gives (`churned`, `expanded`).
    pub positive_class: String,
    /// Input features in order, imputation, dropped features, and the model
    /// columns with their scaler (mean, standard deviation).
    #[serde(flatten)]
    pub preprocessing: Preprocessor,
    /// One coefficient per model column (standardized scale).
    pub coefficients: Vec<f64>,
    /// The intercept (standardized scale, after any class-weight correction).
    pub intercept: f64,
    /// The training settings.
    pub settings: ModelSettings,
    /// The training window and data fingerprint.
    pub training: TrainingSummary,
    /// The final fit's iterations, gradient, convergence and warnings.
    pub fit: FitReport,
    /// The penalty and threshold selection, when one ran.
    pub selection: Option<SelectionReport>,
    /// Evaluation metrics on held-out rows, when an evaluation ran.
    pub metrics: Option<Evaluation>,
    /// The recipe that builds the inputs from a feature table (format 2).
    /// `None` in a format 1 file, whose inputs are feature-table columns as
    /// they are.
    #[serde(default)]
    pub inputs: Option<InputSpec>,
    /// The training distribution of each input (format 2; `None` in a
    /// format 1 file).
    #[serde(default)]
    pub input_profile: Option<InputProfile>,
    /// The held-out window and the model that [`ModelArtifact::metrics`] were
    /// measured on, when an evaluation ran.
    #[serde(default)]
    pub held_out: Option<HeldOut>,
}

/// The window and the model that a model's held-out metrics were measured on.
///
/// With `refitted` true, the metrics belong to a model fitted with the same
/// settings on the rows observed up to `trained_until`, and this artifact was
/// then refitted on every labelled row with the penalty and threshold that
/// model chose. With `refitted` false, the metrics are this artifact's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldOut {
    /// First held-out observation date.
    pub first: NaiveDate,
    /// Last held-out observation date.
    pub last: NaiveDate,
    /// Last observation date the evaluated model trained on: one horizon
    /// before `first`, so that its labels were known when the window began.
    pub trained_until: NaiveDate,
    /// The rows the evaluated model trained on.
    pub training: TrainingSummary,
    /// The evaluated model's fit report.
    pub fit: FitReport,
    /// Whether this artifact was refitted after the evaluation.
    pub refitted: bool,
}

/// The version field alone, read before the rest of the file.
#[derive(Deserialize)]
struct VersionProbe {
    format_version: u32,
}

impl ModelArtifact {
    /// Returns the input feature names, in order.
    pub fn feature_names(&self) -> &[String] {
        &self.preprocessing.features
    }

    /// Returns the decision threshold.
    pub fn threshold(&self) -> f64 {
        self.settings.threshold
    }

    /// Returns how the inputs are built from a feature table: the stored spec,
    /// or for a format 1 file the input features read as they are.
    pub fn input_spec(&self) -> InputSpec {
        self.inputs
            .clone()
            .unwrap_or_else(|| InputSpec::plain(self.preprocessing.features.clone()))
    }

    /// Builds this model's inputs from a feature table (as
    /// `headroom_features::features_with` returns it), ready for
    /// [`ModelArtifact::predict_proba`] and [`ModelArtifact::reason_codes`].
    ///
    /// Fails with [`ModelError::Column`] naming a column the model reads that
    /// the table lacks or stores with the wrong type.
    pub fn feature_matrix(
        &self,
        table: &polars::prelude::DataFrame,
    ) -> Result<crate::FeatureMatrix> {
        self.input_spec().matrix(table)
    }

    /// Returns the version: the last training observation date and the first
    /// 8 hex digits of the SHA-256 of the training-data fingerprint, the
    /// settings, the input spec and the headroom version, such as
    /// `20260430-1a2b3c4d`. The same data and settings give the same version.
    pub fn version(&self) -> String {
        use sha2::{Digest, Sha256};

        let mut hasher = Sha256::new();
        hasher.update(self.training.fingerprint.as_bytes());
        hasher.update([0]);
        hasher.update(serde_json::to_vec(&self.settings).expect("settings serialize"));
        hasher.update([0]);
        hasher.update(serde_json::to_vec(&self.inputs).expect("inputs serialize"));
        hasher.update([0]);
        hasher.update(self.headroom_version.as_bytes());
        let digest = format!("{:x}", hasher.finalize());
        format!(
            "{}-{}",
            self.training.last_observation.format("%Y%m%d"),
            &digest[..8]
        )
    }

    /// Returns the file name the model is saved under: `<kind>-<version>.json`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.json", self.kind, self.version())
    }

    /// Fails with [`ModelError::FeatureMismatch`] unless `names` contains
    /// exactly the model's input features (in any order).
    pub fn check_features(&self, names: &[String]) -> Result<()> {
        self.preprocessing.align(names).map(|_| ())
    }

    /// Serializes to pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an artifact always serializes")
    }

    /// Parses JSON; `path` only labels errors.
    ///
    /// Fails on invalid JSON, a newer format version, or fields that do not
    /// fit together (a coefficient count that differs from the columns).
    pub fn from_json(text: &str, path: &Path) -> Result<ModelArtifact> {
        let json_error = |source| ModelError::Json {
            path: path.to_owned(),
            source,
        };
        let probe: VersionProbe = serde_json::from_str(text).map_err(json_error)?;
        if probe.format_version > FORMAT_VERSION {
            return Err(ModelError::UnsupportedFormatVersion {
                path: path.to_owned(),
                found: probe.format_version,
                supported: FORMAT_VERSION,
            });
        }

        let artifact: ModelArtifact = serde_json::from_str(text).map_err(json_error)?;
        artifact.check_consistency(path)?;
        Ok(artifact)
    }

    /// Writes the artifact to `path` through a temporary file in the same
    /// folder and a rename, so a failure never leaves a half-written model.
    pub fn save(&self, path: &Path) -> Result<()> {
        let io_error = |source| ModelError::Io {
            path: path.to_owned(),
            source,
        };
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temporary = folder.join(format!(".{file_name}.tmp-{}", std::process::id()));

        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&temporary)?;
            file.write_all(self.to_json().as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            fs::rename(&temporary, path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&temporary);
            io_error(e)
        })
    }

    /// Reads an artifact from `path`.
    ///
    /// Fails when the file cannot be read, and like [`ModelArtifact::from_json`].
    pub fn load(path: &Path) -> Result<ModelArtifact> {
        let text = fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.to_owned(),
            source,
        })?;
        ModelArtifact::from_json(&text, path)
    }

    fn check_consistency(&self, path: &Path) -> Result<()> {
        let invalid = |reason: String| ModelError::InvalidArtifact {
            path: path.to_owned(),
            reason,
        };
        self.check_inputs(path)?;
        let p = &self.preprocessing;
        if self.coefficients.len() != p.columns.len() {
            return Err(invalid(format!(
                "{} coefficients for {} model columns",
                self.coefficients.len(),
                p.columns.len()
            )));
        }
        if p.imputation.len() != p.features.len() {
            return Err(invalid(format!(
                "{} imputation entries for {} features",
                p.imputation.len(),
                p.features.len()
            )));
        }
        for column in &p.columns {
            let Some(i) = p.features.iter().position(|f| *f == column.feature) else {
                return Err(invalid(format!(
                    "column {:?} comes from unknown feature {:?}",
                    column.name, column.feature
                )));
            };
            let usable = column.std > 0.0 && column.std.is_finite() && column.mean.is_finite();
            if !usable {
                return Err(invalid(format!(
                    "column {:?} has scaler mean {} and std {}",
                    column.name, column.mean, column.std
                )));
            }
            if column.term == Term::Value && p.imputation[i].median.is_none() {
                return Err(invalid(format!(
                    "column {:?} has no imputation median",
                    column.name
                )));
            }
        }
        Ok(())
    }

    /// Checks that a format 2 file has its input spec and profile, and that
    /// both name the input features in order.
    fn check_inputs(&self, path: &Path) -> Result<()> {
        let invalid = |reason: String| ModelError::InvalidArtifact {
            path: path.to_owned(),
            reason,
        };
        let features = &self.preprocessing.features;
        if self.format_version >= INPUTS_REQUIRED_FROM {
            if self.inputs.is_none() {
                return Err(invalid(format!(
                    "format {} requires the inputs field",
                    self.format_version
                )));
            }
            if self.input_profile.is_none() {
                return Err(invalid(format!(
                    "format {} requires the input_profile field",
                    self.format_version
                )));
            }
        }
        if let Some(spec) = &self.inputs
            && spec.names() != *features
        {
            return Err(invalid(format!(
                "the inputs build {:?} but the model reads {:?}",
                spec.names(),
                features
            )));
        }
        if let Some(profile) = &self.input_profile {
            let profiled: Vec<&String> = profile.inputs.iter().map(|i| &i.feature).collect();
            if profiled != features.iter().collect::<Vec<_>>() {
                return Err(invalid(format!(
                    "the input profile covers {profiled:?} but the model reads {features:?}"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{churn_panel, hand_artifact, names};
    use crate::{EvaluationInput, ParamGuard, TrainParams, evaluate};

    fn trained() -> ModelArtifact {
        let data = churn_panel(60, 24, 4);
        let params = TrainParams::default().folds(FoldParams {
            n_folds: 2,
            validation_dates: 3,
            gap_days: 180,
            min_train_dates: 3,
        });
        let mut model = params.check().unwrap().train(&data).unwrap();

        let p = model.predict_proba(data.features()).unwrap();
        let utilization = data.features().column("utilization").unwrap();
        let input = EvaluationInput {
            kind: model.kind,
            labels: data.labels(),
            probabilities: p.view(),
            threshold: model.threshold(),
            utilization,
            training_base_rate: data.base_rate(),
            keys: data.features().keys(),
        };
        model.metrics = Some(evaluate(&input).unwrap().with_oracle_roc_auc(0.9));
        model
    }

    #[test]
    fn save_and_load_round_trip_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("churn.json");
        let model = trained();
        model.save(&path).unwrap();
        let loaded = ModelArtifact::load(&path).unwrap();
        assert_eq!(loaded, model);
    }

    #[test]
    fn separation_warning_round_trips() {
        use crate::logistic::FitWarning;
        use crate::separation::{Separation, Side};

        let mut model = hand_artifact();
        model
            .fit
            .warnings
            .push(FitWarning::Separation(Separation::Feature {
                column: "usage".to_owned(),
                positive_class: "churned".to_owned(),
                side: Side::Below,
                boundary: 0.1,
                complete: false,
                positives_at_boundary: 2,
                negatives_at_boundary: 3,
            }));
        let json: serde_json::Value = serde_json::from_str(&model.to_json()).unwrap();
        assert_eq!(json["fit"]["warnings"][0]["kind"], "separation");
        assert_eq!(json["fit"]["warnings"][0]["separation"], "feature");
        let loaded = ModelArtifact::from_json(&model.to_json(), Path::new("m.json")).unwrap();
        assert_eq!(loaded, model);
    }

    #[test]
    fn save_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("churn.json");
        hand_artifact().save(&path).unwrap();
        let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(entries.len(), 1);
    }

    #[test]
    fn save_into_missing_folder_fails_with_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-folder").join("churn.json");
        let err = hand_artifact().save(&path).unwrap_err();
        assert!(matches!(err, ModelError::Io { path: ref p, .. } if *p == path));
    }

    #[test]
    fn json_names_the_parts_of_the_model() {
        let json: serde_json::Value = serde_json::from_str(&hand_artifact().to_json()).unwrap();
        assert_eq!(json["format_version"], 2);
        assert_eq!(json["kind"], "churn");
        assert_eq!(json["features"][1], "tickets");
        assert_eq!(json["columns"][2]["name"], "tickets:missing");
        assert_eq!(json["columns"][0]["std"], 0.25);
        assert_eq!(json["imputation"][1]["median"], 2.0);
        assert_eq!(json["coefficients"][0], -2.0);
        assert_eq!(json["settings"]["horizon_days"], 180);
        assert_eq!(json["training"]["first_observation"], "2023-01-31");
        assert_eq!(json["inputs"]["columns"][0], "usage");
        assert_eq!(json["input_profile"]["inputs"][1]["feature"], "tickets");
        assert_eq!(json["input_profile"]["inputs"][1]["missing_share"], 0.5);
    }

    /// Writes the hand artifact as a format 1 file: without the inputs,
    /// profile and held-out fields.
    fn format_one_json() -> String {
        let mut json: serde_json::Value = serde_json::from_str(&hand_artifact().to_json()).unwrap();
        let fields = json.as_object_mut().unwrap();
        fields.insert("format_version".to_owned(), serde_json::json!(1));
        fields.remove("inputs");
        fields.remove("input_profile");
        fields.remove("held_out");
        json.to_string()
    }

    #[test]
    fn format_one_file_reads_features_as_they_are() {
        let model = ModelArtifact::from_json(&format_one_json(), Path::new("m.json")).unwrap();
        assert_eq!(model.format_version, 1);
        assert_eq!(model.inputs, None);
        assert_eq!(model.input_profile, None);
        assert_eq!(
            model.input_spec(),
            InputSpec::plain(names(&["usage", "tickets"]))
        );
    }

    #[test]
    fn format_two_file_without_inputs_is_rejected() {
        let mut json: serde_json::Value = serde_json::from_str(&hand_artifact().to_json()).unwrap();
        json.as_object_mut().unwrap().remove("inputs");
        let err = ModelArtifact::from_json(&json.to_string(), Path::new("m.json")).unwrap_err();
        assert!(
            matches!(err, ModelError::InvalidArtifact { ref reason, .. } if reason == "format 2 requires the inputs field"),
            "{err}"
        );
    }

    #[test]
    fn format_two_file_without_profile_is_rejected() {
        let mut json: serde_json::Value = serde_json::from_str(&hand_artifact().to_json()).unwrap();
        json.as_object_mut().unwrap().remove("input_profile");
        let err = ModelArtifact::from_json(&json.to_string(), Path::new("m.json")).unwrap_err();
        assert!(
            matches!(err, ModelError::InvalidArtifact { ref reason, .. } if reason == "format 2 requires the input_profile field"),
            "{err}"
        );
    }

    #[test]
    fn inputs_that_build_other_features_are_rejected() {
        let mut model = hand_artifact();
        model.inputs = Some(InputSpec::plain(names(&["usage", "seats"])));
        let err = ModelArtifact::from_json(&model.to_json(), Path::new("m.json")).unwrap_err();
        assert!(
            matches!(err, ModelError::InvalidArtifact { ref reason, .. } if reason.starts_with("the inputs build")),
            "{err}"
        );
    }

    #[test]
    fn profile_of_other_features_is_rejected() {
        let mut model = hand_artifact();
        model.input_profile.as_mut().unwrap().inputs.pop();
        let err = ModelArtifact::from_json(&model.to_json(), Path::new("m.json")).unwrap_err();
        assert!(
            matches!(err, ModelError::InvalidArtifact { ref reason, .. } if reason.starts_with("the input profile covers")),
            "{err}"
        );
    }

    #[test]
    fn version_depends_on_data_and_settings_only() {
        let model = hand_artifact();
        let version = model.version();
        assert!(version.starts_with("20231231-"), "{version}");
        assert_eq!(version.len(), "20231231-".len() + 8);

        let mut refitted = model.clone();
        refitted.fit.iterations = Some(99);
        assert_eq!(refitted.version(), version);

        let mut other_data = model.clone();
        other_data.training.fingerprint = "sha256:01".to_owned();
        assert_ne!(other_data.version(), version);

        let mut other_settings = model;
        other_settings.settings.l2_penalty = 1e-2;
        assert_ne!(other_settings.version(), version);
    }

    #[test]
    fn file_name_is_kind_and_version() {
        let model = hand_artifact();
        assert_eq!(model.file_name(), format!("churn-{}.json", model.version()));
    }

    #[test]
    fn newer_format_version_is_rejected() {
        let mut json: serde_json::Value = serde_json::from_str(&hand_artifact().to_json()).unwrap();
        json["format_version"] = serde_json::json!(FORMAT_VERSION + 1);
        let err = ModelArtifact::from_json(&json.to_string(), Path::new("models/churn.json"))
            .unwrap_err();
        assert!(matches!(
            err,
            ModelError::UnsupportedFormatVersion { found: 3, supported: 2, ref path } if path == Path::new("models/churn.json")
        ));
    }

    #[test]
    fn coefficient_count_must_match_columns() {
        let mut model = hand_artifact();
        model.coefficients.pop();
        let err = ModelArtifact::from_json(&model.to_json(), Path::new("m.json")).unwrap_err();
        assert!(
            matches!(err, ModelError::InvalidArtifact { ref reason, .. } if reason == "2 coefficients for 3 model columns")
        );
    }

    #[test]
    fn zero_scaler_std_is_rejected() {
        let mut model = hand_artifact();
        model.preprocessing.columns[1].std = 0.0;
        let err = ModelArtifact::from_json(&model.to_json(), Path::new("m.json")).unwrap_err();
        assert!(matches!(err, ModelError::InvalidArtifact { .. }));
    }

    #[test]
    fn damaged_json_is_rejected() {
        let err =
            ModelArtifact::from_json("{\"format_version\": 1, \"kind\":", Path::new("m.json"))
                .unwrap_err();
        assert!(matches!(err, ModelError::Json { .. }));
    }

    #[test]
    fn feature_check_names_missing_and_extra() {
        let err = hand_artifact()
            .check_features(&names(&["usage", "seats", "nps"]))
            .unwrap_err();
        match err {
            ModelError::FeatureMismatch { missing, extra } => {
                assert_eq!(missing, names(&["tickets"]));
                assert_eq!(extra, names(&["seats", "nps"]));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn feature_check_accepts_any_order() {
        assert!(
            hand_artifact()
                .check_features(&names(&["tickets", "usage"]))
                .is_ok()
        );
    }
}
