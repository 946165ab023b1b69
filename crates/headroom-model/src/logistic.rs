//! Binary logistic regression on a standardized matrix, fitted with
//! linfa-logistic, with our own class encoding, class weights and an honest
//! convergence check.
//!
//! # Objective and penalty scale
//!
//! We minimize the mean penalized log loss
//! `J(w, b) = (1/N) * sum_i c_i * log(1 + exp(-s_i * (x_i.w + b))) + (penalty/2) * |w|^2`
//! with `s_i = +1` for positive rows and `-1` for negative ones, `c_i` the
//! class weight and `N = sum_i c_i`. The intercept is not penalized. Because
//! the loss is a mean, a penalty means the same on 1,000 rows as on 100,000.
//! linfa-logistic 0.8.1 minimizes the summed loss plus `(alpha/2) * |w|^2`,
//! so we pass `alpha = penalty * N`. scikit-learn's `C` is `1 / (penalty * N)`.
//!
//! # Class encoding
//!
//! linfa-logistic 0.8.1 makes the more frequent class its "positive" one (the
//! first class seen wins a tie), so its probabilities may be those of the
//! negative class. We read back which class linfa chose and flip the signs of
//! the coefficients and intercept when needed: our probabilities are always
//! P(positive class).
//!
//! # Convergence
//!
//! linfa-logistic reports neither iterations nor the final gradient. After the
//! fit we compute the gradient of `J` at the returned parameters ourselves.
//! The fit converged when its L2 norm (coefficients and intercept together) is
//! at most `tolerance`. linfa stops when the L2 norm of the summed gradient is
//! below its tolerance, which we set to `tolerance * N / 2`, so a stop on the
//! gradient always passes our check despite rounding; a stop for any other
//! reason (iteration cap, stalled line search) is caught by our check.
//!
//! The iteration count comes from the solver being deterministic: a fit
//! capped at `k` iterations returns the best parameters of the first `k`
//! iterations. We bisect on `k` for the smallest cap that returns the same
//! parameters as the full fit: the iteration at which the solver reached its
//! solution. That costs about log2(cap) extra fits, so it can be turned off
//! (fits inside the validation folds do), and a converged fit of more than
//! [`COUNT_CELLS_MAX`] matrix cells skips it: there the count is only informative.
//! A fit that did not converge is always counted, because the count
//! distinguishes a cap reached from a stalled line search. A fit capped one
//! iteration earlier separates the two cases, so a fit that reached the cap
//! costs one extra fit, not a bisection.
//!
//! # Class weights
//!
//! linfa-logistic 0.8.1 ignores sample weights, so a weight is applied by
//! repeating rows: with an integer weight `w` every positive row appears `w`
//! times, which gives exactly the weighted log loss. The fitted intercept is
//! then shifted by `-ln(w_pos / w_neg)` (prior correction), so probabilities
//! stay on the scale of the unweighted base rate. Weighting changes the
//! coefficients, not the meaning of the probabilities.

use linfa::DatasetBase;
use linfa::ParamGuard;
use linfa::traits::Fit;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ShapeBuilder};
use serde::{Deserialize, Serialize};
use tracing::debug;

use crate::error::{ModelError, Result};

/// Largest design (rows x columns, after class-weight repeats) whose converged
/// fit is counted. 4 million cells is 100,000 rows of 40 columns, where the
/// count adds about ten fits of a few seconds each.
pub const COUNT_CELLS_MAX: usize = 4_000_000;

/// Default L2 penalty on the mean log loss.
pub const DEFAULT_PENALTY: f64 = 1e-3;
/// Default iteration cap of the solver.
pub const DEFAULT_MAX_ITERATIONS: u64 = 500;
/// Default tolerance on the L2 norm of the gradient of the mean objective.
pub const DEFAULT_TOLERANCE: f64 = 1e-5;

/// The weighting of each class's rows in the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "weight")]
pub enum ClassWeight {
    /// Every row counts once.
    Unweighted,
    /// Rows of the rarer class count `round(n_common / n_rare)` times.
    Balanced,
    /// Positive rows count the given number of times.
    Positive(u32),
}

/// Integer weights of the two classes, as applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedWeights {
    /// How many times each positive row counts.
    pub positive: u32,
    /// How many times each negative row counts.
    pub negative: u32,
}

impl AppliedWeights {
    /// Works out the integer weights for labels with the given class counts.
    pub fn resolve(weight: ClassWeight, n_positive: usize, n_negative: usize) -> AppliedWeights {
        match weight {
            ClassWeight::Unweighted => AppliedWeights {
                positive: 1,
                negative: 1,
            },
            ClassWeight::Positive(w) => AppliedWeights {
                positive: w,
                negative: 1,
            },
            ClassWeight::Balanced => balanced_weights(n_positive, n_negative),
        }
    }

    /// Returns the intercept shift that undoes the weighting's change of the base rate.
    pub fn prior_correction(self) -> f64 {
        -(f64::from(self.positive) / f64::from(self.negative)).ln()
    }

    fn is_unit(self) -> bool {
        self.positive == 1 && self.negative == 1
    }
}

fn balanced_weights(n_positive: usize, n_negative: usize) -> AppliedWeights {
    let ratio = |common: usize, rare: usize| -> u32 {
        let r = (common as f64 / rare.max(1) as f64).round();
        r.clamp(1.0, f64::from(u32::MAX)) as u32
    };
    if n_positive <= n_negative {
        AppliedWeights {
            positive: ratio(n_negative, n_positive),
            negative: 1,
        }
    } else {
        AppliedWeights {
            positive: 1,
            negative: ratio(n_positive, n_negative),
        }
    }
}

/// Checked settings of one logistic fit.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticValidParams {
    l2_penalty: f64,
    class_weight: ClassWeight,
    max_iterations: u64,
    tolerance: f64,
    count_iterations: bool,
    count_cells_max: usize,
}

/// Unchecked settings of one logistic fit; [`ParamGuard::check`] validates them.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticParams(LogisticValidParams);

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams(LogisticValidParams {
            l2_penalty: DEFAULT_PENALTY,
            class_weight: ClassWeight::Unweighted,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            tolerance: DEFAULT_TOLERANCE,
            count_iterations: true,
            count_cells_max: COUNT_CELLS_MAX,
        })
    }
}

impl LogisticParams {
    /// Sets the L2 penalty on the mean log loss (default 1e-3); must be positive.
    pub fn l2_penalty(mut self, penalty: f64) -> Self {
        self.0.l2_penalty = penalty;
        self
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

    /// Sets the tolerance on the gradient norm of the mean objective (default 1e-5).
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.0.tolerance = tolerance;
        self
    }

    /// Sets whether to count the solver's iterations by bisection (default
    /// true; costs about log2(cap) extra fits).
    pub fn count_iterations(mut self, count: bool) -> Self {
        self.0.count_iterations = count;
        self
    }

    /// Sets the largest design, in cells, whose converged fit is counted
    /// (default [`COUNT_CELLS_MAX`]). A fit that did not converge is counted
    /// whatever its size.
    pub fn count_cells_max(mut self, cells: usize) -> Self {
        self.0.count_cells_max = cells;
        self
    }
}

impl ParamGuard for LogisticParams {
    type Checked = LogisticValidParams;
    type Error = ModelError;

    fn check_ref(&self) -> Result<&LogisticValidParams> {
        let p = &self.0;
        check_penalty(p.l2_penalty)?;
        if p.max_iterations == 0 {
            return Err(ModelError::ZeroIterationCap);
        }
        if !(p.tolerance.is_finite() && p.tolerance > 0.0) {
            return Err(ModelError::InvalidTolerance { value: p.tolerance });
        }
        if p.class_weight == ClassWeight::Positive(0) {
            return Err(ModelError::ZeroClassWeight);
        }
        Ok(p)
    }

    fn check(self) -> Result<LogisticValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// Rejects a penalty that is zero, negative or not finite.
pub(crate) fn check_penalty(penalty: f64) -> Result<()> {
    if penalty.is_finite() && penalty > 0.0 {
        return Ok(());
    }
    Err(ModelError::NonPositivePenalty { value: penalty })
}

impl LogisticValidParams {
    /// The L2 penalty.
    pub fn l2_penalty(&self) -> f64 {
        self.l2_penalty
    }

    /// The class weighting.
    pub fn class_weight(&self) -> ClassWeight {
        self.class_weight
    }

    /// The iteration cap.
    pub fn max_iterations(&self) -> u64 {
        self.max_iterations
    }

    /// The gradient tolerance.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }

    /// Whether iterations are counted.
    pub fn counts_iterations(&self) -> bool {
        self.count_iterations
    }

    /// The same settings with another penalty (checked).
    pub fn with_penalty(&self, penalty: f64) -> Result<LogisticValidParams> {
        check_penalty(penalty)?;
        Ok(LogisticValidParams {
            l2_penalty: penalty,
            ..self.clone()
        })
    }

    /// The same settings with iteration counting on or off.
    pub fn with_iteration_count(&self, count: bool) -> LogisticValidParams {
        LogisticValidParams {
            count_iterations: count,
            ..self.clone()
        }
    }

    /// Fits the model to a standardized matrix and labels (`true` positive).
    ///
    /// Fails when a class is missing (the caller names the classes, so this
    /// reports them as positive/negative), when a value is not finite, or when
    /// linfa-logistic fails.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, bool>) -> Result<LogisticFit> {
        self.fit_from(x, y, None)
    }

    /// Fits like [`LogisticValidParams::fit`], starting the solver from an
    /// earlier fit's parameters (a warm start) when `start` is given.
    ///
    /// A start near the solution, such as the fit of a neighbouring penalty
    /// on the same rows, saves iterations. The start must have one
    /// coefficient per column of `x`.
    pub fn fit_from(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, bool>,
        start: Option<&LogisticFit>,
    ) -> Result<LogisticFit> {
        self.fit_with_start(
            x,
            y,
            start.map(|fit| (fit.coefficients.view(), fit.intercept)),
        )
    }

    /// Fits like [`LogisticValidParams::fit_from`], starting from given
    /// coefficients (one per column of `x`) and intercept, such as those of
    /// an earlier model mapped onto this matrix's columns.
    pub fn fit_starting_at(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, bool>,
        coefficients: ArrayView1<'_, f64>,
        intercept: f64,
    ) -> Result<LogisticFit> {
        self.fit_with_start(x, y, Some((coefficients, intercept)))
    }

    fn fit_with_start(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, bool>,
        start: Option<(ArrayView1<'_, f64>, f64)>,
    ) -> Result<LogisticFit> {
        if let Some((coefficients, _)) = start {
            assert_eq!(
                coefficients.len(),
                x.ncols(),
                "one start coefficient per column"
            );
        }
        let n_positive = y.iter().filter(|&&v| v).count();
        let n_negative = y.len() - n_positive;
        check_both_classes(n_positive, n_negative)?;
        check_finite(x)?;

        let weights = AppliedWeights::resolve(self.class_weight, n_positive, n_negative);
        let (xw, yw) = solver_input(x, y, weights);
        let weighted_rows = xw.nrows() as f64;

        let init = start.map(|(coefficients, intercept)| {
            let mut params = coefficients.to_vec();
            params.push(intercept - weights.prior_correction());
            let params = Array1::from(params);
            if linfa_positive_class(yw.view()) {
                params
            } else {
                -params
            }
        });
        let solver = Solver {
            x: xw.view(),
            y: yw.view(),
            alpha: self.l2_penalty * weighted_rows,
            gradient_tolerance: 0.5 * self.tolerance * weighted_rows,
            init,
        };
        let (coefficients, intercept) = solver.run(self.max_iterations)?;

        let gradient_norm = gradient_norm(
            x,
            y,
            weights,
            self.l2_penalty,
            coefficients.view(),
            intercept,
        );
        let converged = gradient_norm <= self.tolerance;
        let cells = xw.nrows() * xw.ncols();
        let iterations = if self.count_iterations && (!converged || cells <= self.count_cells_max) {
            Some(solver.count_iterations(
                self.max_iterations,
                &coefficients,
                intercept,
                converged,
            )?)
        } else {
            None
        };

        let report = FitReport::new(self, weights, iterations, gradient_norm, converged);
        report.log();
        Ok(LogisticFit {
            coefficients,
            intercept: intercept + weights.prior_correction(),
            report,
        })
    }
}

/// Fitted coefficients (standardized scale, our class encoding) and the report.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticFit {
    /// One coefficient per column, increasing P(positive) when positive.
    pub coefficients: Array1<f64>,
    /// The intercept, after the class-weight prior correction.
    pub intercept: f64,
    /// Iterations, gradient and convergence.
    pub report: FitReport,
}

impl LogisticFit {
    /// P(positive) for each row of a standardized matrix.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Array1<f64> {
        let mut z = x.dot(&self.coefficients);
        z.mapv_inplace(|v| sigmoid(v + self.intercept));
        z
    }
}

/// The solver's record: iterations, final gradient, convergence, warnings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// The iteration at which the solver reached the returned parameters
    /// (`None` when not counted).
    pub iterations: Option<u64>,
    /// The iteration cap.
    pub iteration_cap: u64,
    /// L2 norm of the gradient of the mean penalized loss at the solution
    /// (coefficients and intercept, standardized scale, before the
    /// class-weight intercept correction).
    pub gradient_norm: f64,
    /// The tolerance on that norm.
    pub tolerance: f64,
    /// Whether the gradient norm is within the tolerance.
    pub converged: bool,
    /// The class weights applied by repeating rows.
    pub weights: AppliedWeights,
    /// Problems worth a look.
    pub warnings: Vec<FitWarning>,
}

impl FitReport {
    fn new(
        params: &LogisticValidParams,
        weights: AppliedWeights,
        iterations: Option<u64>,
        gradient_norm: f64,
        converged: bool,
    ) -> FitReport {
        let mut warnings = Vec::new();
        if !converged {
            let cap = params.max_iterations;
            let warning = match iterations {
                Some(n) if n < cap => FitWarning::Stalled {
                    iterations: n,
                    gradient_norm,
                    tolerance: params.tolerance,
                },
                _ => FitWarning::IterationCap {
                    cap,
                    gradient_norm,
                    tolerance: params.tolerance,
                },
            };
            warnings.push(warning);
        }
        FitReport {
            iterations,
            iteration_cap: params.max_iterations,
            gradient_norm,
            tolerance: params.tolerance,
            converged,
            weights,
            warnings,
        }
    }

    /// Checks whether the solver ran up to its cap (`None` when not counted).
    pub fn reached_cap(&self) -> Option<bool> {
        self.iterations.map(|n| n >= self.iteration_cap)
    }

    fn log(&self) {
        debug!(
            iterations = ?self.iterations,
            gradient_norm = self.gradient_norm,
            converged = self.converged,
            "logistic fit finished"
        );
        // The warnings travel in the report; callers decide how to show them.
        for w in &self.warnings {
            debug!("{w}");
        }
    }
}

/// A problem found while fitting that does not stop the fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FitWarning {
    /// The solver did not converge (or was not shown to converge) within the
    /// iteration cap.
    IterationCap {
        /// The cap.
        cap: u64,
        /// The gradient norm at the end.
        gradient_norm: f64,
        /// The tolerance it missed.
        tolerance: f64,
    },
    /// The solver stopped before the cap without meeting the tolerance (a
    /// failed line search or a loss that no longer changes).
    Stalled {
        /// The iteration at which it stopped improving.
        iterations: u64,
        /// The gradient norm at the end.
        gradient_norm: f64,
        /// The tolerance it missed.
        tolerance: f64,
    },
    /// The classes are separable, so the unpenalized coefficients diverge.
    Separation(crate::separation::Separation),
    /// No time-ordered validation fold fits the history, so the penalty is
    /// the largest candidate and the threshold was chosen on the training
    /// rows.
    NoValidationFold {
        /// Why the configured folds do not fit.
        reason: String,
        /// The penalty used.
        penalty: f64,
    },
}

impl std::fmt::Display for FitWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitWarning::IterationCap {
                cap,
                gradient_norm,
                tolerance,
            } => write!(
                f,
                "the solver did not converge within its cap of {cap} iterations (gradient norm {gradient_norm:.3e} > tolerance {tolerance:.1e}); raise the cap or the penalty"
            ),
            FitWarning::Stalled {
                iterations,
                gradient_norm,
                tolerance,
            } => write!(
                f,
                "the solver stopped improving after {iterations} iterations without converging (gradient norm {gradient_norm:.3e} > tolerance {tolerance:.1e}); raise the penalty"
            ),
            FitWarning::Separation(s) => write!(f, "{s}"),
            FitWarning::NoValidationFold { reason, penalty } => write!(
                f,
                "no validation fold fits the history ({reason}), so the largest candidate penalty {penalty} was used unscaled and the threshold was chosen on the training rows"
            ),
        }
    }
}

/// The logistic function, 1 / (1 + exp(-z)).
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Builds the matrix and labels to hand to linfa: weighted rows repeated, and
/// the matrix in column-major order. linfa-logistic 0.8.1 computes `X^T r` in
/// every gradient, and column-major storage makes each row of `X^T`
/// contiguous. That cut the Telco run (experiments/telco) from 26.5 s to 7.3 s.
fn solver_input(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, bool>,
    weights: AppliedWeights,
) -> (Array2<f64>, Array1<bool>) {
    let rows: Vec<usize> = if weights.is_unit() {
        (0..y.len()).collect()
    } else {
        let mut rows = Vec::new();
        for (i, &label) in y.iter().enumerate() {
            let copies = if label {
                weights.positive
            } else {
                weights.negative
            };
            rows.extend(std::iter::repeat_n(i, copies as usize));
        }
        rows
    };

    let mut matrix = Array2::<f64>::zeros((rows.len(), x.ncols()).f());
    for (mut target, &i) in matrix.rows_mut().into_iter().zip(&rows) {
        target.assign(&x.row(i));
    }
    let labels = rows.iter().map(|&i| y[i]).collect();
    (matrix, labels)
}

fn check_both_classes(n_positive: usize, n_negative: usize) -> Result<()> {
    let missing = match (n_positive, n_negative) {
        (0, _) => "positive",
        (_, 0) => "negative",
        _ => return Ok(()),
    };
    Err(ModelError::OneClass {
        model: "logistic",
        missing,
        rows: n_positive + n_negative,
        positive: "positive",
        negative: "negative",
    })
}

fn check_finite(x: ArrayView2<'_, f64>) -> Result<()> {
    for ((i, j), &v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(ModelError::NonFiniteDesign {
                row: i + 1,
                column: j + 1,
                value: v,
            });
        }
    }
    Ok(())
}

/// L2 norm of the gradient of the mean penalized loss J at (w, b), with
/// labels in our encoding and class weights as multiplicities.
pub(crate) fn gradient_norm(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, bool>,
    weights: AppliedWeights,
    penalty: f64,
    w: ArrayView1<'_, f64>,
    b: f64,
) -> f64 {
    let z = x.dot(&w);
    let mut residual = Array1::<f64>::zeros(y.len());
    let mut total_weight = 0.0;
    for (i, (&zi, &yi)) in z.iter().zip(y.iter()).enumerate() {
        let c = f64::from(if yi {
            weights.positive
        } else {
            weights.negative
        });
        residual[i] = c * (sigmoid(zi + b) - f64::from(u8::from(yi)));
        total_weight += c;
    }

    let grad_w = x.t().dot(&residual) / total_weight + &(&w * penalty);
    let grad_b = residual.sum() / total_weight;
    (grad_w.dot(&grad_w) + grad_b * grad_b).sqrt()
}

/// Returns the class linfa-logistic 0.8.1 makes positive: the more frequent
/// one, or on a tie the first row's.
fn linfa_positive_class(y: ArrayView1<'_, bool>) -> bool {
    let n_true = y.iter().filter(|&&v| v).count();
    let n_false = y.len() - n_true;
    match n_true.cmp(&n_false) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => y.first().copied().unwrap_or(true),
    }
}

/// One linfa-logistic problem, run with different iteration caps.
struct Solver<'a> {
    x: ArrayView2<'a, f64>,
    y: ArrayView1<'a, bool>,
    alpha: f64,
    gradient_tolerance: f64,
    /// Starting parameters in linfa's encoding, intercept last.
    init: Option<Array1<f64>>,
}

impl Solver<'_> {
    /// Fits with the given cap; returns coefficients and intercept in our
    /// encoding (probabilities of `true`).
    fn run(&self, cap: u64) -> Result<(Array1<f64>, f64)> {
        let dataset = DatasetBase::new(self.x, self.y);
        let mut model = LogisticRegression::default()
            .alpha(self.alpha)
            .max_iterations(cap)
            .gradient_tolerance(self.gradient_tolerance);
        if let Some(init) = &self.init {
            model = model.initial_params(init.clone());
        }
        let fitted = model
            .fit(&dataset)
            .map_err(|source| ModelError::Fit { source })?;

        let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
        Ok((fitted.params() * sign, fitted.intercept() * sign))
    }

    /// Returns the smallest cap whose fit returns exactly the full fit's
    /// parameters.
    ///
    /// A fit that did not converge has usually run into the cap. A fit capped
    /// one iteration earlier shows that, so the bisection runs only when that
    /// fit returns the same parameters (a stalled line search).
    fn count_iterations(&self, cap: u64, w: &Array1<f64>, b: f64, converged: bool) -> Result<u64> {
        let same = |k: u64| -> Result<bool> {
            let (wk, bk) = self.run(k)?;
            Ok(wk == *w && bk.to_bits() == b.to_bits())
        };
        if !converged && cap > 1 && !same(cap - 1)? {
            return Ok(cap);
        }
        let (mut lo, mut hi) = (0u64, cap);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if same(mid)? {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(hi)
    }
}

#[cfg(test)]
mod tests {
    use linfa::DatasetBase;
    use linfa::traits::Fit;
    use ndarray::{Array1, Array2, array};
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::testutil::sklearn_fixture;

    fn params(penalty: f64) -> LogisticValidParams {
        LogisticParams::default()
            .l2_penalty(penalty)
            .tolerance(1e-9)
            .max_iterations(1000)
            .check()
            .unwrap()
    }

    /// 400 rows with one driver u ~ U(0, 1) and P(positive) = sigmoid(-1 - 8u)
    /// (about 4-5% positives), rows shuffled with a seeded ChaCha8.
    fn imbalanced_rows() -> Vec<(f64, bool)> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut rows: Vec<(f64, bool)> = (0..400)
            .map(|_| {
                let u: f64 = rng.random();
                (u, rng.random::<f64>() < sigmoid(-1.0 - 8.0 * u))
            })
            .collect();
        rows.shuffle(&mut rng);
        rows
    }

    /// Moves a row of the given class to the front.
    fn with_first(mut rows: Vec<(f64, bool)>, class: bool) -> (Array2<f64>, Array1<bool>) {
        let at = rows.iter().position(|r| r.1 == class).unwrap();
        rows.swap(0, at);
        let x = Array2::from_shape_fn((rows.len(), 1), |(i, _)| rows[i].0);
        let y = rows.iter().map(|r| r.1).collect();
        (x, y)
    }

    #[test]
    fn fixture_is_imbalanced_with_four_percent_positives() {
        let positives = imbalanced_rows().iter().filter(|r| r.1).count();
        // 16 of 400 = 4% with this seed.
        assert_eq!(positives, 16);
    }

    #[test]
    fn linfa_labels_the_majority_class_positive() {
        // The hazard the encoding guards against: linfa-logistic 0.8.1 calls
        // the more frequent class (here: not churned) its positive class.
        let (x, y) = with_first(imbalanced_rows(), true);
        let fitted = linfa_logistic::LogisticRegression::default()
            .fit(&DatasetBase::new(x, y))
            .unwrap();
        assert!(!fitted.labels().pos.class);
    }

    #[test]
    fn probability_of_positive_rises_as_driver_falls() {
        for first in [true, false] {
            let (x, y) = with_first(imbalanced_rows(), first);
            let fit = params(1e-3).fit(x.view(), y.view()).unwrap();
            let p = fit.predict_proba(array![[0.05], [0.5], [0.95]].view());

            assert!(
                fit.coefficients[0] < 0.0,
                "first row {first}: coefficient {}",
                fit.coefficients[0]
            );
            assert!(p[0] > p[1], "first row {first}: {p}");
            assert!(p[1] > p[2], "first row {first}: {p}");
        }
    }

    #[test]
    fn row_order_does_not_change_the_fit() {
        let (x1, y1) = with_first(imbalanced_rows(), true);
        let (x2, y2) = with_first(imbalanced_rows(), false);
        let a = params(1e-3).fit(x1.view(), y1.view()).unwrap();
        let b = params(1e-3).fit(x2.view(), y2.view()).unwrap();
        assert!((a.coefficients[0] - b.coefficients[0]).abs() < 1e-6);
        assert!((a.intercept - b.intercept).abs() < 1e-6);
    }

    #[test]
    fn balanced_classes_keep_encoding_in_both_orders() {
        // Equal class counts: linfa picks the first class seen, so both
        // orders exercise both of its labellings.
        let x = array![[0.1], [0.9], [0.2], [0.8], [0.35], [0.6], [0.7], [0.3]];
        let y = array![true, false, true, false, false, true, false, true];
        let reversed_x = Array2::from_shape_fn((8, 1), |(i, _)| x[[7 - i, 0]]);
        let reversed_y: Array1<bool> = (0..8).map(|i| y[7 - i]).collect();
        let a = params(1e-2).fit(x.view(), y.view()).unwrap();
        let b = params(1e-2)
            .fit(reversed_x.view(), reversed_y.view())
            .unwrap();
        assert!(a.coefficients[0] < 0.0);
        assert!((a.coefficients[0] - b.coefficients[0]).abs() < 1e-6);
    }

    #[test]
    fn fit_matches_sklearn_coefficients() {
        // scikit-learn 1.9.1: LogisticRegression(C=1/(0.05*40), tol=1e-12,
        // max_iter=10000).fit(X, y) on the fixture.
        let (x, y) = sklearn_fixture();
        let fit = params(0.05).fit(x.view(), y.view()).unwrap();
        let expected = [1.2924425803714723, 0.7271088315852907, -0.41297928105423126];
        for (got, want) in fit.coefficients.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        assert!(
            (fit.intercept - -1.212923541864611).abs() < 1e-6,
            "{}",
            fit.intercept
        );
    }

    #[test]
    fn weighted_fit_matches_sklearn_sample_weights() {
        // scikit-learn 1.9.1: sample_weight 3 for positives, 1 otherwise,
        // C = 1/(0.05*62) (62 = 11*3 + 29). Our intercept is shifted back by
        // -ln(3) to the unweighted base rate.
        let (x, y) = sklearn_fixture();
        let fit = LogisticParams::default()
            .l2_penalty(0.05)
            .class_weight(ClassWeight::Positive(3))
            .tolerance(1e-9)
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap();
        let expected = [1.4457352665492162, 0.7959470625195686, -0.46308739648039904];
        for (got, want) in fit.coefficients.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        let sklearn_intercept = -0.35534354588925593;
        assert!((fit.intercept - (sklearn_intercept - 3f64.ln())).abs() < 1e-6);
        assert_eq!(
            fit.report.weights,
            AppliedWeights {
                positive: 3,
                negative: 1
            }
        );
    }

    #[test]
    fn balanced_weight_repeats_rarer_class() {
        // round(95 / 5) = 19.
        let w = AppliedWeights::resolve(ClassWeight::Balanced, 5, 95);
        assert_eq!(
            w,
            AppliedWeights {
                positive: 19,
                negative: 1
            }
        );
        let w = AppliedWeights::resolve(ClassWeight::Balanced, 70, 30);
        // round(70 / 30) = 2.
        assert_eq!(
            w,
            AppliedWeights {
                positive: 1,
                negative: 2
            }
        );
    }

    #[test]
    fn zero_penalty_is_rejected() {
        let err = LogisticParams::default()
            .l2_penalty(0.0)
            .check()
            .unwrap_err();
        assert!(matches!(err, ModelError::NonPositivePenalty { value } if value == 0.0));
    }

    #[test]
    fn negative_penalty_is_rejected() {
        let err = LogisticParams::default()
            .l2_penalty(-1.0)
            .check()
            .unwrap_err();
        assert!(matches!(err, ModelError::NonPositivePenalty { value } if value == -1.0));
    }

    #[test]
    fn nan_penalty_is_rejected() {
        let err = LogisticParams::default()
            .l2_penalty(f64::NAN)
            .check()
            .unwrap_err();
        assert!(matches!(err, ModelError::NonPositivePenalty { value } if value.is_nan()));
    }

    #[test]
    fn zero_iteration_cap_is_rejected() {
        let err = LogisticParams::default()
            .max_iterations(0)
            .check()
            .unwrap_err();
        assert!(matches!(err, ModelError::ZeroIterationCap));
    }

    #[test]
    fn non_positive_tolerance_is_rejected() {
        let err = LogisticParams::default()
            .tolerance(0.0)
            .check()
            .unwrap_err();
        assert!(matches!(err, ModelError::InvalidTolerance { value } if value == 0.0));
    }

    #[test]
    fn zero_class_weight_is_rejected() {
        let err = LogisticParams::default()
            .class_weight(ClassWeight::Positive(0))
            .check()
            .unwrap_err();
        assert!(matches!(err, ModelError::ZeroClassWeight));
    }

    #[test]
    fn one_class_matrix_is_rejected() {
        let x = array![[0.0], [1.0], [2.0]];
        let y = array![false, false, false];
        let err = params(1e-3).fit(x.view(), y.view()).unwrap_err();
        assert!(matches!(
            err,
            ModelError::OneClass {
                missing: "positive",
                rows: 3,
                ..
            }
        ));
    }

    #[test]
    fn infinite_design_value_is_rejected() {
        let x = array![[0.0, 1.0], [1.0, f64::INFINITY], [2.0, 0.0]];
        let y = array![false, true, false];
        let err = params(1e-3).fit(x.view(), y.view()).unwrap_err();
        assert!(
            matches!(err, ModelError::NonFiniteDesign { row: 2, column: 2, value } if value == f64::INFINITY)
        );
    }

    #[test]
    fn iteration_cap_reached_is_a_warning_naming_the_cap() {
        let (x, y) = sklearn_fixture();
        let fit = LogisticParams::default()
            .l2_penalty(1e-6)
            .max_iterations(2)
            .tolerance(1e-12)
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap();
        assert!(!fit.report.converged);
        assert_eq!(fit.report.iterations, Some(2));
        assert_eq!(fit.report.reached_cap(), Some(true));
        assert!(matches!(
            fit.report.warnings[..],
            [FitWarning::IterationCap { cap: 2, .. }]
        ));
        assert!(
            fit.report.warnings[0]
                .to_string()
                .contains("cap of 2 iterations")
        );
    }

    #[test]
    fn warm_start_reaches_the_same_solution_sooner() {
        let (x, y) = sklearn_fixture();
        let cold = params(0.05).fit(x.view(), y.view()).unwrap();
        let neighbour = params(0.03).fit(x.view(), y.view()).unwrap();
        let warm = params(0.05)
            .fit_from(x.view(), y.view(), Some(&neighbour))
            .unwrap();
        assert!(warm.report.converged);
        for (w, c) in warm.coefficients.iter().zip(&cold.coefficients) {
            assert!((w - c).abs() < 1e-6, "{w} vs {c}");
        }
        assert!((warm.intercept - cold.intercept).abs() < 1e-6);
        assert!(
            warm.report.iterations < cold.report.iterations,
            "{:?} vs {:?}",
            warm.report.iterations,
            cold.report.iterations
        );
    }

    #[test]
    fn warm_start_keeps_encoding_when_negatives_dominate() {
        // imbalanced_rows has 4% positives, so linfa's positive class is
        // `false` and the start must be negated on the way in.
        let (x, y) = with_first(imbalanced_rows(), true);
        let cold = params(1e-3).fit(x.view(), y.view()).unwrap();
        let warm = params(1e-3)
            .fit_from(x.view(), y.view(), Some(&cold))
            .unwrap();
        assert!((warm.coefficients[0] - cold.coefficients[0]).abs() < 1e-6);
        assert!(
            warm.report.iterations <= Some(2),
            "{:?}",
            warm.report.iterations
        );
    }

    #[test]
    fn large_converged_fit_skips_the_count() {
        // The fixture has 40 rows of 3 columns: 120 cells.
        let (x, y) = sklearn_fixture();
        let limited = |cells| {
            LogisticParams::default()
                .l2_penalty(0.05)
                .tolerance(1e-9)
                .count_cells_max(cells)
                .check()
                .unwrap()
                .fit(x.view(), y.view())
                .unwrap()
        };
        let over = limited(119);
        let at = limited(120);
        assert!(over.report.converged);
        assert_eq!(over.report.iterations, None);
        assert!(at.report.iterations.is_some());
        assert_eq!(over.coefficients, at.coefficients);
    }

    #[test]
    fn large_fit_at_the_cap_is_still_counted() {
        let (x, y) = sklearn_fixture();
        let fit = LogisticParams::default()
            .l2_penalty(1e-6)
            .max_iterations(2)
            .tolerance(1e-12)
            .count_cells_max(0)
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap();
        assert_eq!(fit.report.iterations, Some(2));
        assert_eq!(fit.report.reached_cap(), Some(true));
    }

    #[test]
    fn counted_iterations_reproduce_the_solution() {
        let (x, y) = sklearn_fixture();
        let fit = params(0.05).fit(x.view(), y.view()).unwrap();
        let n = fit.report.iterations.unwrap();
        assert!(fit.report.converged);
        assert!(n > 1 && n < 1000, "{n} iterations");

        let capped = |cap| {
            LogisticParams::default()
                .l2_penalty(0.05)
                .tolerance(1e-9)
                .max_iterations(cap)
                .count_iterations(false)
                .check()
                .unwrap()
                .fit(x.view(), y.view())
                .unwrap()
        };
        let at_n = capped(n);
        let before_n = capped(n - 1);
        assert_eq!(at_n.coefficients, fit.coefficients);
        assert_ne!(before_n.coefficients, fit.coefficients);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // J(w, b) = mean log loss + penalty/2 |w|^2, differentiated numerically.
        let (x, y) = sklearn_fixture();
        let penalty = 0.1;
        let w = array![0.3, -0.2, 0.5];
        let b = -0.4;
        let objective = |w: &Array1<f64>, b: f64| {
            let z = x.dot(w);
            let loss: f64 = z
                .iter()
                .zip(y.iter())
                .map(|(&zi, &yi)| {
                    let p = sigmoid(zi + b);
                    if yi { -p.ln() } else { -(1.0 - p).ln() }
                })
                .sum::<f64>()
                / y.len() as f64;
            loss + penalty / 2.0 * w.dot(w)
        };

        let h = 1e-6;
        let mut numeric = Vec::new();
        for j in 0..3 {
            let (mut up, mut down) = (w.clone(), w.clone());
            up[j] += h;
            down[j] -= h;
            numeric.push((objective(&up, b) - objective(&down, b)) / (2.0 * h));
        }
        numeric.push((objective(&w, b + h) - objective(&w, b - h)) / (2.0 * h));
        let expected = numeric.iter().map(|g| g * g).sum::<f64>().sqrt();

        let unit = AppliedWeights {
            positive: 1,
            negative: 1,
        };
        let got = gradient_norm(x.view(), y.view(), unit, penalty, w.view(), b);
        assert!((got - expected).abs() < 1e-8, "{got} vs {expected}");
    }

    #[test]
    fn sigmoid_is_stable_at_extremes() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(sigmoid(800.0), 1.0);
        assert_eq!(sigmoid(-800.0), 0.0);
        assert!((sigmoid(2.0) - 0.8807970779778823).abs() < 1e-15);
    }
}
