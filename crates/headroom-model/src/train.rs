//! Training: settings (unchecked, then checked), penalty and threshold
//! selection, the final fit and the artifact it produces.

use std::collections::HashSet;

use linfa::ParamGuard;
use serde::{Deserialize, Serialize};
use tracing::{debug, info};

use crate::artifact::{FORMAT_VERSION, ModelArtifact, ModelSettings, TrainingSummary};
use crate::dataset::Dataset;
use crate::error::{ModelError, Result};
use crate::folds::FoldParams;
use crate::inputs::InputSpec;
use crate::logistic::{
    ClassWeight, DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, FitWarning, LogisticParams,
    LogisticValidParams,
};
use crate::preprocess::Preprocessor;
use crate::profile::InputProfile;
use crate::select::{SelectionReport, select};
use crate::separation::{Separation, feature_separations, probe_linear_separation};
use crate::threshold::ThresholdRule;

/// Default limit on the training rows of a validation fold. 50,000 rows of
/// about 100 columns fit in a second or two, and with about 500 rows per
/// column the log loss that ranks the penalties changes little with more.
pub const DEFAULT_SELECTION_ROWS: usize = 50_000;

/// Default limit on the rows a model is fitted on. Each solver iteration
/// reads the whole design matrix a few times, so the fit time grows with the
/// rows. On the simulated 10,000-account portfolio, fitting half of its
/// 183,000 rows moved the held-out ROC-AUC by at most 0.005.
pub const DEFAULT_FIT_ROWS: usize = 200_000;

/// Default candidate L2 penalties (on the mean log loss).
pub const DEFAULT_PENALTIES: [f64; 7] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1];
/// Default label horizon in days.
pub const DEFAULT_HORIZON_DAYS: u32 = 180;
/// Default share of missing training rows that adds a missingness indicator.
pub const DEFAULT_INDICATOR_SHARE: f64 = 0.05;

/// The action taken when the classes are completely separable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeparationPolicy {
    /// Fit anyway (the penalty keeps coefficients finite) and warn.
    Warn,
    /// Fail with [`ModelError::Separation`] on complete separation;
    /// quasi-complete separation still only warns.
    Reject,
}

/// Checked training settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainValidParams {
    penalties: Vec<f64>,
    class_weight: ClassWeight,
    max_iterations: u64,
    tolerance: f64,
    threshold_rule: ThresholdRule,
    folds: FoldParams,
    horizon_days: u32,
    indicator_min_share: f64,
    separation: SeparationPolicy,
    probe_separation: bool,
    scale_penalty: bool,
    count_iterations: bool,
    adapt_folds: bool,
    selection_rows: usize,
    fit_rows: usize,
}

/// Unchecked training settings; [`ParamGuard::check`] validates them.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainParams(TrainValidParams);

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams(TrainValidParams {
            penalties: DEFAULT_PENALTIES.to_vec(),
            class_weight: ClassWeight::Unweighted,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            tolerance: DEFAULT_TOLERANCE,
            threshold_rule: ThresholdRule::MaxF1,
            folds: FoldParams::default(),
            horizon_days: DEFAULT_HORIZON_DAYS,
            indicator_min_share: DEFAULT_INDICATOR_SHARE,
            separation: SeparationPolicy::Warn,
            probe_separation: true,
            scale_penalty: true,
            count_iterations: true,
            adapt_folds: false,
            selection_rows: DEFAULT_SELECTION_ROWS,
            fit_rows: DEFAULT_FIT_ROWS,
        })
    }
}

impl TrainParams {
    /// Sets the candidate L2 penalties (default [`DEFAULT_PENALTIES`]).
    pub fn penalties(mut self, penalties: Vec<f64>) -> Self {
        self.0.penalties = penalties;
        self
    }

    /// Uses one fixed L2 penalty (no penalty selection).
    pub fn l2_penalty(self, penalty: f64) -> Self {
        self.penalties(vec![penalty])
    }

    /// Sets the class weighting (default [`ClassWeight::Unweighted`]).
    pub fn class_weight(mut self, weight: ClassWeight) -> Self {
        self.0.class_weight = weight;
        self
    }

    /// Sets the solver's iteration cap (default 500).
    pub fn max_iterations(mut self, cap: u64) -> Self {
        self.0.max_iterations = cap;
        self
    }

    /// Sets the gradient tolerance (default 1e-5).
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.0.tolerance = tolerance;
        self
    }

    /// Sets how the threshold is chosen (default [`ThresholdRule::MaxF1`]).
    pub fn threshold(mut self, rule: ThresholdRule) -> Self {
        self.0.threshold_rule = rule;
        self
    }

    /// Sets the validation folds (default [`FoldParams::default`]).
    pub fn folds(mut self, folds: FoldParams) -> Self {
        self.0.folds = folds;
        self
    }

    /// Sets the label horizon in days (default 180) and the folds' gap to
    /// the same number of days; call [`TrainParams::folds`] afterwards for
    /// another gap.
    pub fn horizon_days(mut self, days: u32) -> Self {
        self.0.horizon_days = days;
        self.0.folds.gap_days = i64::from(days);
        self
    }

    /// Sets the share of missing training rows from which a feature gets a
    /// missingness indicator (default 0.05).
    pub fn indicator_min_share(mut self, share: f64) -> Self {
        self.0.indicator_min_share = share;
        self
    }

    /// Sets the separation policy (default [`SeparationPolicy::Warn`]).
    pub fn separation(mut self, policy: SeparationPolicy) -> Self {
        self.0.separation = policy;
        self
    }

    /// Sets whether the penalty chosen on the folds is scaled to the rows of
    /// the final fit (default true): multiplied by the mean training rows of
    /// the folds over the rows of the final fit.
    ///
    /// The penalty applies to the mean log loss, so a fixed prior on the
    /// coefficients means a penalty proportional to 1 / rows. The folds train
    /// on fewer rows than the final fit and therefore prefer a larger
    /// penalty than the final fit needs. A single candidate penalty is never
    /// scaled.
    pub fn scale_penalty(mut self, scale: bool) -> Self {
        self.0.scale_penalty = scale;
        self
    }

    /// Sets whether the final fit probes for linear separation with a much
    /// smaller penalty (default true; one extra fit).
    pub fn probe_separation(mut self, probe: bool) -> Self {
        self.0.probe_separation = probe;
        self
    }

    /// Sets whether a history too short for the configured folds uses fewer
    /// (default false: such a history is an error).
    ///
    /// With adaptation, training tries fewer folds down to one, then one fold
    /// with fewer validation dates down to one. When not even that fits, or
    /// every plan leaves a fold's training rows with one class, it fits with
    /// the largest candidate penalty, chooses the threshold on the training
    /// rows, and records a [`FitWarning::NoValidationFold`].
    pub fn adapt_folds(mut self, adapt: bool) -> Self {
        self.0.adapt_folds = adapt;
        self
    }

    /// Sets the most training rows a validation fold fits on (default
    /// [`DEFAULT_SELECTION_ROWS`]); a larger fold fits on every k-th row.
    /// 0 means no limit.
    pub fn selection_rows(mut self, rows: usize) -> Self {
        self.0.selection_rows = rows;
        self
    }

    /// Sets the maximum rows a model is fitted on (default
    /// [`DEFAULT_FIT_ROWS`]). A larger training set fits on an even sample of
    /// each class, so the base rate is kept. The preprocessing, the input
    /// profile and the fingerprint still read every row. 0 means no limit.
    pub fn fit_rows(mut self, rows: usize) -> Self {
        self.0.fit_rows = rows;
        self
    }

    /// Sets whether the final fit counts its solver iterations (default
    /// true; about log2(cap) extra fits). Without counting, the fit report
    /// gives no iteration count.
    pub fn count_iterations(mut self, count: bool) -> Self {
        self.0.count_iterations = count;
        self
    }
}

impl ParamGuard for TrainParams {
    type Checked = TrainValidParams;
    type Error = ModelError;

    fn check_ref(&self) -> Result<&TrainValidParams> {
        let p = &self.0;
        if p.penalties.is_empty() {
            return Err(ModelError::EmptyPenaltyGrid);
        }
        for &penalty in &p.penalties {
            crate::logistic::check_penalty(penalty)?;
        }
        p.logistic_params(p.penalties[0])?;
        p.threshold_rule.check()?;
        p.folds.check()?;
        if !(p.indicator_min_share > 0.0 && p.indicator_min_share <= 1.0) {
            return Err(ModelError::InvalidIndicatorShare {
                value: p.indicator_min_share,
            });
        }
        Ok(p)
    }

    fn check(self) -> Result<TrainValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl TrainValidParams {
    /// Returns the candidate penalties.
    pub fn penalties(&self) -> &[f64] {
        &self.penalties
    }

    /// Returns the threshold rule.
    pub fn threshold_rule(&self) -> ThresholdRule {
        self.threshold_rule
    }

    /// Returns the fold settings.
    pub fn fold_params(&self) -> FoldParams {
        self.folds
    }

    /// Returns the label horizon in days.
    pub fn horizon(&self) -> u32 {
        self.horizon_days
    }

    /// Checks whether training runs the selection on validation folds: with more
    /// than one penalty, or a threshold rule that needs validation predictions.
    pub fn needs_selection(&self) -> bool {
        self.penalties.len() > 1 || self.threshold_rule.needs_validation()
    }

    /// Trains a model: selects the penalty and threshold on time-ordered
    /// folds when needed, then fits all rows.
    ///
    /// Fails when a class is missing, the history is too short for the
    /// folds (unless [`TrainParams::adapt_folds`] is set), a feature contains
    /// an infinity, or separation is rejected.
    pub fn train(&self, data: &Dataset) -> Result<ModelArtifact> {
        check_classes(data)?;
        if !self.needs_selection() {
            let ThresholdRule::Fixed(t) = self.threshold_rule else {
                unreachable!("only a fixed threshold skips selection")
            };
            return self.fit(data, self.penalties[0], t);
        }

        match self.select_adapting(data)? {
            Ok(report) => {
                let penalty = self.final_penalty(&report, self.fitted_rows(data));
                let mut artifact = self.fit(data, penalty, report.threshold.threshold)?;
                artifact.selection = Some(report);
                Ok(artifact)
            }
            Err(reason) => self.fit_without_folds(data, reason),
        }
    }

    /// Runs the selection on the configured folds, then, when adapting, on
    /// smaller plans. Returns the reason when no plan works and adaptation
    /// is on. Without adaptation a plan that does not fit is an error.
    fn select_adapting(
        &self,
        data: &Dataset,
    ) -> Result<std::result::Result<SelectionReport, String>> {
        let logistic = self.logistic_params(self.penalties[0])?;
        let mut last_error = None;
        for plan in self.fold_plans() {
            let attempt = select(
                data,
                &logistic,
                &self.penalties,
                self.threshold_rule,
                plan,
                self.indicator_min_share,
                self.selection_rows,
            );
            match attempt {
                Ok(report) => return Ok(Ok(report)),
                Err(
                    err @ (ModelError::NotEnoughHistory { .. } | ModelError::FoldOneClass { .. }),
                ) if self.adapt_folds => {
                    debug!(
                        folds = plan.n_folds,
                        dates = plan.validation_dates,
                        "fold plan does not fit: {err}"
                    );
                    last_error = Some(err);
                }
                Err(err) => return Err(err),
            }
        }
        // The smallest plan's error explains best why nothing fits.
        let reason = last_error.map_or_else(String::new, |e| {
            e.to_string().lines().next().unwrap_or_default().to_owned()
        });
        Ok(Err(reason))
    }

    /// Lists the fold settings to try, the configured ones first.
    fn fold_plans(&self) -> Vec<FoldParams> {
        let mut plans = vec![self.folds];
        if !self.adapt_folds {
            return plans;
        }
        for n_folds in (1..self.folds.n_folds).rev() {
            plans.push(FoldParams {
                n_folds,
                ..self.folds
            });
        }
        for validation_dates in (1..self.folds.validation_dates).rev() {
            plans.push(FoldParams {
                n_folds: 1,
                validation_dates,
                ..self.folds
            });
        }
        plans
    }

    /// Fits with the largest candidate penalty and chooses the threshold on
    /// the training rows' own predictions, which no validation fold could
    /// give.
    fn fit_without_folds(&self, data: &Dataset, reason: String) -> Result<ModelArtifact> {
        let penalty = self
            .penalties
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let mut artifact = self.fit(data, penalty, 0.5)?;
        let threshold = match self.threshold_rule {
            ThresholdRule::Fixed(t) => t,
            rule => {
                let p = artifact.predict_proba(data.features())?;
                crate::threshold::choose_threshold(p.view(), data.labels(), rule).threshold
            }
        };
        artifact.settings.threshold = threshold;
        debug!(penalty, "no validation fold fits: {reason}");
        artifact
            .fit
            .warnings
            .push(FitWarning::NoValidationFold { reason, penalty });
        Ok(artifact)
    }

    /// Runs only the penalty and threshold selection.
    pub fn select(&self, data: &Dataset) -> Result<SelectionReport> {
        check_classes(data)?;
        let logistic = self.logistic_params(self.penalties[0])?;
        select(
            data,
            &logistic,
            &self.penalties,
            self.threshold_rule,
            self.folds,
            self.indicator_min_share,
            self.selection_rows,
        )
    }

    /// Fits all rows with a given penalty and threshold (no selection).
    ///
    /// Fails like [`TrainValidParams::train`], and on a penalty that is not
    /// positive or a threshold outside [0, 1].
    pub fn fit(&self, data: &Dataset, penalty: f64, threshold: f64) -> Result<ModelArtifact> {
        self.fit_with_start(data, penalty, threshold, None)
    }

    /// Fits like [`TrainValidParams::fit`], with the solver starting from an
    /// earlier model of the same kind (a warm start), such as the model
    /// evaluated on the held-out months when refitting on every row.
    ///
    /// Each model column the earlier model has starts at that model's effect
    /// per raw unit, re-standardized with this fit's mean and deviation. A
    /// column it lacks starts at zero. The start only saves iterations: the
    /// fit converges to the same tolerance as a cold one.
    pub fn fit_from_model(
        &self,
        data: &Dataset,
        penalty: f64,
        threshold: f64,
        earlier: &ModelArtifact,
    ) -> Result<ModelArtifact> {
        self.fit_with_start(data, penalty, threshold, Some(earlier))
    }

    fn fit_with_start(
        &self,
        data: &Dataset,
        penalty: f64,
        threshold: f64,
        earlier: Option<&ModelArtifact>,
    ) -> Result<ModelArtifact> {
        check_classes(data)?;
        ThresholdRule::Fixed(threshold).check()?;
        let logistic = self.logistic_params(penalty)?;

        let preprocessor = Preprocessor::fit(data.features(), self.indicator_min_share)?;
        let sample = data
            .class_sample(self.fit_rows)
            .map(|rows| data.select_rows(&rows));
        if let Some(sample) = &sample {
            info!(
                model = %data.kind(),
                rows = data.n_rows(),
                sampled = sample.n_rows(),
                "fitting on an even sample of each class"
            );
        }
        let fitted = sample.as_ref().unwrap_or(data);
        let x = preprocessor.transform(fitted.features())?;
        let mut fit = match earlier {
            Some(earlier) => {
                let (coefficients, intercept) = warm_start(&preprocessor, earlier);
                logistic.fit_starting_at(
                    x.view(),
                    fitted.labels(),
                    coefficients.view(),
                    intercept,
                )?
            }
            None => logistic.fit(x.view(), fitted.labels())?,
        };

        let separations = self.find_separations(fitted, &preprocessor, &x, &logistic, &fit)?;
        if self.separation == SeparationPolicy::Reject
            && let Some(s) = separations.iter().find(|s| s.is_complete())
        {
            return Err(ModelError::Separation {
                separation: s.clone(),
            });
        }
        for s in separations {
            debug!("{s}");
            fit.report.warnings.push(FitWarning::Separation(s));
        }

        info!(
            model = %data.kind(),
            rows = data.n_rows(),
            columns = preprocessor.columns.len(),
            penalty,
            converged = fit.report.converged,
            "fitted model"
        );
        Ok(ModelArtifact {
            format_version: FORMAT_VERSION,
            headroom_version: env!("CARGO_PKG_VERSION").to_owned(),
            kind: data.kind(),
            positive_class: data.kind().positive_class().to_owned(),
            preprocessing: preprocessor,
            coefficients: fit.coefficients.to_vec(),
            intercept: fit.intercept,
            settings: self.settings(penalty, threshold),
            training: TrainingSummary {
                fit_rows: sample.as_ref().map(Dataset::n_rows),
                ..training_summary(data)
            },
            fit: fit.report,
            selection: None,
            metrics: None,
            inputs: Some(InputSpec::plain(data.features().names().to_vec())),
            input_profile: Some(InputProfile::fit(data.features())),
            held_out: None,
        })
    }

    /// Returns the penalty of the final fit: the chosen one, scaled to the
    /// final rows when [`TrainParams::scale_penalty`] is set and there was a
    /// choice.
    pub fn final_penalty(&self, report: &SelectionReport, rows: usize) -> f64 {
        if !self.scale_penalty || self.penalties.len() < 2 || rows == 0 || report.folds.is_empty() {
            return report.chosen_penalty;
        }
        let fold_rows: usize = report
            .folds
            .iter()
            .map(|f| f.fit_rows.unwrap_or(f.train_rows))
            .sum();
        let mean_fold_rows = fold_rows as f64 / report.folds.len() as f64;
        report.chosen_penalty * mean_fold_rows / rows as f64
    }

    /// Returns how many rows of `data` a fit reads: all of them, or the
    /// size of the even sample when there are more than the row limit.
    pub fn fitted_rows(&self, data: &Dataset) -> usize {
        data.class_sample(self.fit_rows)
            .map_or(data.n_rows(), |rows| rows.len())
    }

    /// Checks whether a chosen penalty is scaled to the rows of a fit.
    pub fn scales_penalty(&self) -> bool {
        self.scale_penalty && self.penalties.len() > 1
    }

    /// Returns a copy that skips the separation probe and the iteration
    /// count, for fits whose report is never shown (the months of a backtest).
    pub fn without_diagnostics(&self) -> TrainValidParams {
        TrainValidParams {
            probe_separation: false,
            count_iterations: false,
            ..self.clone()
        }
    }

    fn logistic_params(&self, penalty: f64) -> Result<LogisticValidParams> {
        LogisticParams::default()
            .count_iterations(self.count_iterations)
            .l2_penalty(penalty)
            .class_weight(self.class_weight)
            .max_iterations(self.max_iterations)
            .tolerance(self.tolerance)
            .check()
    }

    fn find_separations(
        &self,
        data: &Dataset,
        preprocessor: &Preprocessor,
        x: &ndarray::Array2<f64>,
        logistic: &LogisticValidParams,
        fit: &crate::logistic::LogisticFit,
    ) -> Result<Vec<Separation>> {
        let mut found = feature_separations(
            x.view(),
            data.labels(),
            &preprocessor.columns,
            data.kind().positive_class(),
        );
        let has_complete = found.iter().any(Separation::is_complete);
        if self.probe_separation && !has_complete {
            let names = preprocessor.column_names();
            let probe = probe_linear_separation(
                x.view(),
                data.labels(),
                logistic,
                fit.coefficients.view(),
                &names,
            )?;
            found.extend(probe);
        }
        Ok(found)
    }

    /// Returns the settings a model fitted with these parameters records,
    /// given the penalty and threshold it was fitted with.
    pub fn settings(&self, penalty: f64, threshold: f64) -> ModelSettings {
        ModelSettings {
            l2_penalty: penalty,
            threshold,
            threshold_rule: self.threshold_rule,
            horizon_days: self.horizon_days,
            class_weight: self.class_weight,
            max_iterations: self.max_iterations,
            tolerance: self.tolerance,
            indicator_min_share: self.indicator_min_share,
            separation: self.separation,
            candidate_penalties: self.penalties.clone(),
            folds: self.folds,
            fit_rows: (self.fit_rows > 0).then_some(self.fit_rows),
        }
    }
}

/// Maps an earlier model's coefficients onto the columns of `preprocessor`.
///
/// A column's coefficient per raw unit is `w / std`; on the new scale it is
/// that times the new `std`. Moving a column's centre from the old mean to
/// the new one moves the intercept by the raw coefficient times the change
/// in mean. A column only the earlier model has drops out at its mean.
fn warm_start(preprocessor: &Preprocessor, earlier: &ModelArtifact) -> (ndarray::Array1<f64>, f64) {
    let before: std::collections::HashMap<&str, (f64, &crate::preprocess::ModelColumn)> = earlier
        .preprocessing
        .columns
        .iter()
        .zip(&earlier.coefficients)
        .map(|(column, &w)| (column.name.as_str(), (w, column)))
        .collect();
    let mut intercept = earlier.intercept;
    let coefficients = preprocessor
        .columns
        .iter()
        .map(|column| match before.get(column.name.as_str()) {
            Some(&(w, old)) => {
                let raw = w / old.std;
                intercept += raw * (column.mean - old.mean);
                raw * column.std
            }
            None => 0.0,
        })
        .collect();
    (coefficients, intercept)
}

/// Fails with [`ModelError::OneClass`] when the data lacks a class.
fn check_classes(data: &Dataset) -> Result<()> {
    let positives = data.n_positive();
    let kind = data.kind();
    let missing = if positives == 0 {
        kind.positive_class()
    } else if positives == data.n_rows() {
        kind.negative_class()
    } else {
        return Ok(());
    };
    Err(ModelError::OneClass {
        model: kind.name(),
        missing,
        rows: data.n_rows(),
        positive: kind.positive_class(),
        negative: kind.negative_class(),
    })
}

fn training_summary(data: &Dataset) -> TrainingSummary {
    let (first, last) = data
        .window()
        .expect("a data set with both classes has rows");
    let accounts: HashSet<&str> = data
        .features()
        .keys()
        .iter()
        .map(|k| k.account_id.as_str())
        .collect();
    TrainingSummary {
        first_observation: first,
        last_observation: last,
        rows: data.n_rows(),
        positives: data.n_positive(),
        accounts: accounts.len(),
        fingerprint: data.fingerprint(),
        fit_rows: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::folds::FoldParams;
    use crate::separation::Side;
    use crate::testutil::{churn_panel, dataset};

    fn folds() -> FoldParams {
        FoldParams {
            n_folds: 3,
            validation_dates: 3,
            gap_days: 180,
            min_train_dates: 3,
        }
    }

    fn fixed() -> TrainParams {
        TrainParams::default()
            .l2_penalty(1e-3)
            .threshold(ThresholdRule::Fixed(0.5))
    }

    #[test]
    fn training_without_churned_rows_names_missing_class() {
        let data = dataset(
            &[&[1.0], &[2.0], &[3.0]],
            &["usage"],
            &[false, false, false],
        );
        let err = fixed().check().unwrap().train(&data).unwrap_err();
        assert!(matches!(
            err,
            ModelError::OneClass {
                model: "churn",
                missing: "churned",
                rows: 3,
                ..
            }
        ));
        assert!(
            err.to_string()
                .contains("none of the 3 labelled rows is churned")
        );
    }

    #[test]
    fn training_without_retained_rows_names_missing_class() {
        let data = dataset(&[&[1.0], &[2.0]], &["usage"], &[true, true]);
        let err = fixed().check().unwrap().train(&data).unwrap_err();
        assert!(matches!(
            err,
            ModelError::OneClass {
                missing: "not churned",
                rows: 2,
                ..
            }
        ));
    }

    #[test]
    fn empty_penalty_grid_is_rejected() {
        let err = TrainParams::default()
            .penalties(vec![])
            .check()
            .unwrap_err();
        assert!(matches!(err, ModelError::EmptyPenaltyGrid));
    }

    #[test]
    fn zero_penalty_in_grid_is_rejected() {
        let err = TrainParams::default()
            .penalties(vec![1e-3, 0.0])
            .check()
            .unwrap_err();
        assert!(matches!(err, ModelError::NonPositivePenalty { value } if value == 0.0));
    }

    #[test]
    fn indicator_share_above_one_is_rejected() {
        let err = TrainParams::default()
            .indicator_min_share(1.5)
            .check()
            .unwrap_err();
        assert!(matches!(err, ModelError::InvalidIndicatorShare { value } if value == 1.5));
    }

    #[test]
    fn horizon_sets_fold_gap() {
        let params = TrainParams::default().horizon_days(90).check().unwrap();
        assert_eq!(params.fold_params().gap_days, 90);
        assert_eq!(params.horizon(), 90);
    }

    #[test]
    fn fixed_penalty_and_threshold_skip_selection() {
        let data = churn_panel(30, 6, 1);
        let model = fixed().check().unwrap().train(&data).unwrap();
        assert!(model.selection.is_none());
        assert_eq!(model.settings.l2_penalty, 1e-3);
        assert_eq!(model.threshold(), 0.5);
    }

    #[test]
    fn selection_chooses_penalty_on_time_folds() {
        let data = churn_panel(60, 24, 3);
        let model = TrainParams::default()
            .folds(folds())
            .check()
            .unwrap()
            .train(&data)
            .unwrap();
        let selection = model.selection.as_ref().unwrap();

        assert_eq!(selection.folds.len(), 3);
        assert_eq!(selection.candidates.len(), DEFAULT_PENALTIES.len());
        let best = selection
            .candidates
            .iter()
            .map(|c| c.mean_log_loss)
            .fold(f64::INFINITY, f64::min);
        let chosen = selection
            .candidates
            .iter()
            .find(|c| c.l2_penalty == selection.chosen_penalty)
            .unwrap();
        assert!(chosen.mean_log_loss <= best * (1.0 + 1e-9));
        assert_eq!(model.threshold(), selection.threshold.threshold);
    }

    #[test]
    fn chosen_penalty_is_scaled_to_final_rows() {
        // 60 accounts x 24 month-ends = 1,440 rows. The folds validate on
        // month-ends 16-18, 19-21 and 22-24 (1-based) and train on the dates
        // at least 180 days earlier: 10, 13 and 16 month-ends, that is 600,
        // 780 and 960 rows, 780 on average. Final penalty = chosen * 780 / 1440.
        let data = churn_panel(60, 24, 4);
        let model = TrainParams::default()
            .folds(folds())
            .check()
            .unwrap()
            .train(&data)
            .unwrap();
        let selection = model.selection.as_ref().unwrap();
        let train_rows: Vec<usize> = selection.folds.iter().map(|f| f.train_rows).collect();
        assert_eq!(train_rows, vec![600, 780, 960]);
        let expected = selection.chosen_penalty * 780.0 / 1440.0;
        assert!((model.settings.l2_penalty - expected).abs() < 1e-15);
    }

    #[test]
    fn sampled_folds_scale_penalty_by_rows_fitted() {
        // The same folds as above, limited to 500 rows: 600 rows keep every
        // 2nd (300), 780 every 2nd (390), 960 every 2nd (480). Final penalty
        // = chosen * 390 / 1440.
        let data = churn_panel(60, 24, 4);
        let model = TrainParams::default()
            .folds(folds())
            .selection_rows(500)
            .check()
            .unwrap()
            .train(&data)
            .unwrap();
        let selection = model.selection.as_ref().unwrap();
        let train_rows: Vec<usize> = selection.folds.iter().map(|f| f.train_rows).collect();
        let fit_rows: Vec<Option<usize>> = selection.folds.iter().map(|f| f.fit_rows).collect();
        assert_eq!(train_rows, vec![600, 780, 960]);
        assert_eq!(fit_rows, vec![Some(300), Some(390), Some(480)]);
        let expected = selection.chosen_penalty * 390.0 / 1440.0;
        assert!((model.settings.l2_penalty - expected).abs() < 1e-15);
    }

    #[test]
    fn sampled_fit_scales_penalty() {
        // The folds of `chosen_penalty_is_scaled_to_final_rows` train on 780
        // rows on average. The final fit may read 1,000 of the 1,440 rows, so
        // it reads every 2nd row of each class.
        let data = churn_panel(60, 24, 4);
        let positives = data.n_positive();
        let fitted = positives.div_ceil(2) + (1440 - positives).div_ceil(2);
        let model = TrainParams::default()
            .folds(folds())
            .fit_rows(1000)
            .check()
            .unwrap()
            .train(&data)
            .unwrap();
        assert_eq!(model.training.rows, 1440);
        assert_eq!(model.training.positives, positives);
        assert_eq!(model.training.fit_rows, Some(fitted));
        assert_eq!(model.settings.fit_rows, Some(1000));
        let selection = model.selection.as_ref().unwrap();
        let expected = selection.chosen_penalty * 780.0 / fitted as f64;
        assert!((model.settings.l2_penalty - expected).abs() < 1e-15);
    }

    #[test]
    fn sampled_fit_reads_sample_only() {
        // A fit limited to 1,000 rows has the coefficients of a fit on those
        // rows alone, standardized with the means and deviations of all
        // rows.
        let data = churn_panel(60, 24, 4);
        let params = fixed().fit_rows(1000).check().unwrap();
        let model = params.fit(&data, 1e-3, 0.5).unwrap();

        let preprocessor = Preprocessor::fit(data.features(), DEFAULT_INDICATOR_SHARE).unwrap();
        let sample = data.select_rows(&data.class_sample(1000).unwrap());
        let x = preprocessor.transform(sample.features()).unwrap();
        let by_hand = params
            .logistic_params(1e-3)
            .unwrap()
            .fit(x.view(), sample.labels())
            .unwrap();
        assert_eq!(model.preprocessing, preprocessor);
        assert_eq!(model.coefficients, by_hand.coefficients.to_vec());
        assert_eq!(model.intercept, by_hand.intercept);
    }

    #[test]
    fn warm_start_keeps_log_odds() {
        // A model fitted on all 1,440 rows, mapped onto the standardization
        // of the first 500 rows (other means and deviations), gives each of
        // those rows the log-odds the model gives it.
        let data = churn_panel(60, 24, 4);
        let model = fixed().check().unwrap().fit(&data, 1e-3, 0.5).unwrap();
        let first: Vec<usize> = (0..500).collect();
        let part = data.select_rows(&first);
        let preprocessor = Preprocessor::fit(part.features(), DEFAULT_INDICATOR_SHARE).unwrap();
        assert_ne!(preprocessor.columns, model.preprocessing.columns);

        let (w, b) = warm_start(&preprocessor, &model);
        let mapped = preprocessor.transform(part.features()).unwrap().dot(&w) + b;
        let original = model
            .preprocessing
            .transform(part.features())
            .unwrap()
            .dot(&ndarray::Array1::from(model.coefficients.clone()))
            + model.intercept;
        for (m, o) in mapped.iter().zip(&original) {
            assert!((m - o).abs() < 1e-9, "{m} vs {o}");
        }
    }

    #[test]
    fn warm_start_zeroes_new_columns() {
        let data = churn_panel(60, 24, 4);
        let model = fixed().check().unwrap().fit(&data, 1e-3, 0.5).unwrap();
        let mut preprocessor = model.preprocessing.clone();
        let mut extra = preprocessor.columns[0].clone();
        extra.name = "not_in_the_model".to_owned();
        preprocessor.columns.push(extra);

        let (w, b) = warm_start(&preprocessor, &model);
        let n = model.coefficients.len();
        assert_eq!(
            w.iter().take(n).copied().collect::<Vec<_>>(),
            model.coefficients
        );
        assert_eq!(w[n], 0.0);
        assert_eq!(b, model.intercept);
    }

    #[test]
    fn warm_fit_matches_cold_fit() {
        let data = churn_panel(60, 24, 4);
        let params = fixed().check().unwrap();
        let first: Vec<usize> = (0..800).collect();
        let earlier = params.fit(&data.select_rows(&first), 1e-3, 0.5).unwrap();
        let cold = params.fit(&data, 1e-3, 0.5).unwrap();
        let warm = params.fit_from_model(&data, 1e-3, 0.5, &earlier).unwrap();
        assert!(warm.fit.converged);
        for (w, c) in warm.coefficients.iter().zip(&cold.coefficients) {
            assert!((w - c).abs() < 1e-3, "{w} vs {c}");
        }
        assert!((warm.intercept - cold.intercept).abs() < 1e-3);
    }

    #[test]
    fn folds_under_the_row_limit_are_not_sampled() {
        let data = churn_panel(60, 24, 4);
        let model = TrainParams::default()
            .folds(folds())
            .selection_rows(960)
            .check()
            .unwrap()
            .train(&data)
            .unwrap();
        let selection = model.selection.unwrap();
        assert!(selection.folds.iter().all(|f| f.fit_rows.is_none()));
    }

    #[test]
    fn unscaled_penalty_is_the_chosen_one() {
        let data = churn_panel(60, 24, 4);
        let model = TrainParams::default()
            .folds(folds())
            .scale_penalty(false)
            .check()
            .unwrap()
            .train(&data)
            .unwrap();
        let selection = model.selection.as_ref().unwrap();
        assert_eq!(model.settings.l2_penalty, selection.chosen_penalty);
    }

    #[test]
    fn selection_folds_train_before_they_validate() {
        let data = churn_panel(60, 24, 3);
        let model = TrainParams::default()
            .folds(folds())
            .check()
            .unwrap()
            .train(&data)
            .unwrap();
        for fold in &model.selection.unwrap().folds {
            assert!((fold.validation_first - fold.train_last).num_days() >= 180);
        }
    }

    #[test]
    fn trained_churn_model_learns_low_utilization_raises_risk() {
        let data = churn_panel(60, 24, 3);
        let model = TrainParams::default()
            .folds(folds())
            .check()
            .unwrap()
            .train(&data)
            .unwrap();
        assert_eq!(model.preprocessing.columns[0].name, "utilization");
        assert!(model.coefficients[0] < -0.5, "{}", model.coefficients[0]);
        assert!(model.fit.converged);
        assert!(model.fit.warnings.is_empty(), "{:?}", model.fit.warnings);
    }

    #[test]
    fn short_history_uses_fewer_folds_when_adapting() {
        // Of 24 month-ends from January 2022, 6 folds of 3 validate from the
        // 7th (2022-07-31), and 180 days earlier leaves only January to train
        // on, fewer than 3 dates. 5 folds validate from the 10th
        // (2022-10-31) and train on January to April.
        let data = churn_panel(60, 24, 4);
        let six = FoldParams {
            n_folds: 6,
            ..folds()
        };
        let strict = TrainParams::default().folds(six).check().unwrap();
        let err = strict.train(&data).unwrap_err();
        assert!(matches!(err, ModelError::NotEnoughHistory { .. }), "{err}");

        let model = TrainParams::default()
            .folds(six)
            .adapt_folds(true)
            .check()
            .unwrap()
            .train(&data)
            .unwrap();
        assert_eq!(model.selection.unwrap().folds.len(), 5);
    }

    #[test]
    fn history_without_any_fold_fits_largest_penalty() {
        // Six month-ends leave no room for a 180-day gap: no fold fits, so
        // the largest candidate penalty is used and the threshold is the one
        // with the highest F1 on the training rows' own predictions.
        let data = churn_panel(60, 6, 4);
        let model = TrainParams::default()
            .folds(folds())
            .adapt_folds(true)
            .check()
            .unwrap()
            .train(&data)
            .unwrap();
        assert_eq!(model.selection, None);
        assert_eq!(model.settings.l2_penalty, 0.1);

        let p = model.predict_proba(data.features()).unwrap();
        let expected = crate::threshold::max_f1_threshold(p.view(), data.labels()).unwrap();
        assert_eq!(model.threshold(), expected);

        let warning = model.fit.warnings.iter().find_map(|w| match w {
            FitWarning::NoValidationFold { reason, penalty } => Some((reason.clone(), *penalty)),
            _ => None,
        });
        let (reason, penalty) = warning.expect("a no-fold warning");
        assert_eq!(penalty, 0.1);
        assert!(
            reason.starts_with("not enough history for 1 validation folds of 1"),
            "{reason}"
        );
    }

    #[test]
    fn fold_without_churned_rows_is_rejected() {
        // No churn before 2023-01-01. Fold 1 validates from 2023-04-30 and
        // trains on rows at least 180 days earlier, up to 2022-10-31.
        let panel = churn_panel(30, 24, 6);
        let cutoff = crate::testutil::date(2023, 1, 1);
        let labels = panel
            .features()
            .keys()
            .iter()
            .zip(panel.labels())
            .map(|(key, &label)| label && key.observed >= cutoff)
            .collect();
        let data = Dataset::new(panel.kind(), panel.features().clone(), labels).unwrap();
        let err = TrainParams::default()
            .folds(folds())
            .check()
            .unwrap()
            .train(&data)
            .unwrap_err();
        assert!(matches!(
            err,
            ModelError::FoldOneClass {
                fold: 1,
                missing: "churned",
                ..
            }
        ));
    }

    #[test]
    fn artifact_records_training_window_and_fingerprint() {
        let data = churn_panel(10, 6, 2);
        let model = fixed().check().unwrap().train(&data).unwrap();
        assert_eq!(
            model.training.first_observation,
            crate::testutil::date(2022, 1, 31)
        );
        assert_eq!(
            model.training.last_observation,
            crate::testutil::date(2022, 6, 30)
        );
        assert_eq!(model.training.rows, 60);
        assert_eq!(model.training.accounts, 10);
        assert_eq!(model.training.fingerprint, data.fingerprint());
    }

    /// Usage overlaps between classes; `leak` is 1.0 or more for every
    /// churned row and at most 0.5 for every other row.
    fn leaky() -> Dataset {
        dataset(
            &[
                &[0.2, 1.4],
                &[0.5, 0.1],
                &[0.3, 1.0],
                &[0.6, 0.5],
                &[0.1, 0.0],
                &[0.7, 0.2],
                &[0.4, 1.2],
                &[0.8, 0.3],
            ],
            &["usage", "leak"],
            &[true, false, true, false, false, false, true, false],
        )
    }

    #[test]
    fn feature_separating_classes_is_reported() {
        let model = fixed().check().unwrap().train(&leaky()).unwrap();
        let found: Vec<&Separation> = model
            .fit
            .warnings
            .iter()
            .filter_map(|w| match w {
                FitWarning::Separation(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        match found[0] {
            Separation::Feature {
                column,
                side,
                boundary,
                complete,
                ..
            } => {
                assert_eq!(column, "leak");
                assert_eq!(*side, Side::Above);
                assert!((boundary - 0.5).abs() < 1e-12, "{boundary}");
                assert!(complete);
            }
            other => panic!("unexpected separation {other:?}"),
        }
    }

    #[test]
    fn separation_rejected_under_reject_policy() {
        let params = fixed()
            .separation(SeparationPolicy::Reject)
            .check()
            .unwrap();
        let err = params.train(&leaky()).unwrap_err();
        assert!(
            matches!(err, ModelError::Separation { separation: Separation::Feature { ref column, .. } } if column == "leak")
        );
        assert!(err.to_string().contains("every churned row has leak > 0.5"));
    }

    #[test]
    fn quasi_complete_separation_only_warns() {
        // `flag` is 1 only on churned rows, but one churned row has 0.
        let data = dataset(
            &[
                &[0.2, 1.0],
                &[0.5, 0.0],
                &[0.3, 1.0],
                &[0.6, 0.0],
                &[0.1, 0.0],
                &[0.7, 0.0],
                &[0.4, 0.0],
                &[0.35, 0.0],
            ],
            &["usage", "flag"],
            &[true, false, true, false, false, false, true, false],
        );
        let params = fixed()
            .separation(SeparationPolicy::Reject)
            .probe_separation(false)
            .check()
            .unwrap();
        let model = params.train(&data).unwrap();
        let separation = model.fit.warnings.iter().find_map(|w| match w {
            FitWarning::Separation(s) => Some(s.clone()),
            _ => None,
        });
        match separation {
            Some(Separation::Feature {
                column,
                complete,
                positives_at_boundary,
                negatives_at_boundary,
                ..
            }) => {
                assert_eq!(column, "flag");
                assert!(!complete);
                assert_eq!(positives_at_boundary, 1);
                assert_eq!(negatives_at_boundary, 5);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn linear_separation_found_by_probe() {
        // Neither column alone splits the classes, but x1 + x2 > 0 does.
        let data = dataset(
            &[
                &[2.0, -1.0],
                &[-1.0, 2.0],
                &[1.0, 0.5],
                &[0.5, 1.0],
                &[-2.0, 1.0],
                &[1.0, -2.0],
                &[-0.5, -1.0],
                &[-1.0, -0.5],
            ],
            &["x1", "x2"],
            &[true, true, true, true, false, false, false, false],
        );
        let model = fixed().check().unwrap().train(&data).unwrap();
        let linear = model.fit.warnings.iter().find_map(|w| match w {
            FitWarning::Separation(s @ Separation::Linear { .. }) => Some(s.clone()),
            _ => None,
        });
        match linear {
            Some(Separation::Linear {
                columns,
                min_margin,
                norm_growth,
                ..
            }) => {
                assert_eq!(columns.len(), 2);
                assert!(min_margin > 0.0);
                assert!(norm_growth > 1.0, "{norm_growth}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn overlapping_classes_report_no_separation() {
        let model = fixed()
            .check()
            .unwrap()
            .train(&churn_panel(30, 6, 5))
            .unwrap();
        assert!(
            model
                .fit
                .warnings
                .iter()
                .all(|w| !matches!(w, FitWarning::Separation(_)))
        );
    }
}
