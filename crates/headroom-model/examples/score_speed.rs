//! Times scoring of 1,000,000 rows with a trained model artifact.
//!
//! A churn model is trained on a seeded synthetic panel of 40 features
//! (20,000 rows). It then scores a seeded 1,000,000 x 40 matrix in which 1%
//! of the values of ten columns are missing (NaN), so the imputation path
//! runs too. Each measurement is repeated five times; the report gives the
//! fastest and the median run. Prints a Markdown report to stdout.
//!
//! Usage: `cargo run --example score_speed`.

use std::time::Instant;

use chrono::NaiveDate;
use headroom_model::{
    Dataset, FeatureMatrix, ModelKind, ParamGuard, RowKey, ThresholdRule, TrainParams,
};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

const FEATURES: usize = 40;
const TRAIN_ROWS: usize = 20_000;
const SCORE_ROWS: usize = 1_000_000;
const MISSING_COLUMNS: usize = 10;
const MISSING_SHARE: f64 = 0.01;
const REPEATS: usize = 5;

fn main() -> BoxResult<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let names: Vec<String> = (0..FEATURES).map(|j| format!("feature_{j:02}")).collect();
    let weights: Vec<f64> = (0..FEATURES).map(|_| rng.random_range(-1.0..1.0)).collect();

    let train = synthetic(&mut rng, TRAIN_ROWS, &names, &weights)?;
    let model = TrainParams::default()
        .l2_penalty(1e-3)
        .threshold(ThresholdRule::Fixed(0.5))
        .probe_separation(false)
        .check()?
        .train(&train)?;

    let (values, _) = matrix(&mut rng, SCORE_ROWS, &weights);
    let keys = keys(SCORE_ROWS);
    let x = FeatureMatrix::new(values, names.clone(), keys)?;

    let scorer = model.scorer(x.names())?;
    let scorer_times = time(|| scorer.predict_proba(x.values(), x.keys()).map(|p| p.len()))?;
    let artifact_times = time(|| model.predict_proba(&x).map(|p| p.len()))?;

    let missing_rows = x
        .values()
        .rows()
        .into_iter()
        .filter(|r| r.iter().any(|v| v.is_nan()))
        .count();
    println!("## Setup\n");
    println!(
        "- model: churn, {} model columns, trained on {TRAIN_ROWS} rows",
        model.preprocessing.columns.len()
    );
    println!(
        "- scored: {SCORE_ROWS} rows x {FEATURES} features; {missing_rows} rows hold at least one missing value"
    );
    println!("- repeats: {REPEATS} per measurement\n");
    println!("## Results\n");
    println!("| call | fastest (s) | median (s) | rows per second (fastest) |");
    println!("|---|---:|---:|---:|");
    report_row("`Scorer::predict_proba` (compiled once)", &scorer_times);
    report_row(
        "`ModelArtifact::predict_proba` (compiles, then scores)",
        &artifact_times,
    );
    Ok(())
}

/// Generates a data set whose label follows a logistic model of the features.
fn synthetic(
    rng: &mut ChaCha8Rng,
    n: usize,
    names: &[String],
    weights: &[f64],
) -> BoxResult<Dataset> {
    let (values, logits) = matrix(rng, n, weights);
    let labels: Array1<bool> = logits
        .iter()
        .map(|&z| rng.random::<f64>() < 1.0 / (1.0 + (-(z - 2.0)).exp()))
        .collect();
    let features = FeatureMatrix::new(values, names.to_vec(), keys(n))?;
    Ok(Dataset::new(ModelKind::Churn, features, labels)?)
}

/// Generates features uniform on (-1, 1) with 1% NaN in the first ten columns, and the
/// logit of each row under `weights` (missing values counted as 0).
fn matrix(rng: &mut ChaCha8Rng, n: usize, weights: &[f64]) -> (Array2<f64>, Vec<f64>) {
    let mut values = Array2::<f64>::zeros((n, weights.len()));
    let mut logits = vec![0.0; n];
    for (i, mut row) in values.rows_mut().into_iter().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let x: f64 = rng.random_range(-1.0..1.0);
            if j < MISSING_COLUMNS && rng.random::<f64>() < MISSING_SHARE {
                *v = f64::NAN;
            } else {
                *v = x;
                logits[i] += weights[j] * x;
            }
        }
    }
    (values, logits)
}

fn keys(n: usize) -> Vec<RowKey> {
    let observed = NaiveDate::from_ymd_opt(2024, 1, 31).expect("valid date");
    (0..n)
        .map(|i| RowKey::new(format!("acct-{i:07}"), observed, None))
        .collect()
}

/// Seconds of each of [`REPEATS`] runs, sorted.
fn time(mut run: impl FnMut() -> headroom_model::Result<usize>) -> BoxResult<Vec<f64>> {
    let mut seconds = Vec::with_capacity(REPEATS);
    for _ in 0..REPEATS {
        let started = Instant::now();
        let rows = run()?;
        seconds.push(started.elapsed().as_secs_f64());
        assert_eq!(rows, SCORE_ROWS);
    }
    seconds.sort_by(f64::total_cmp);
    Ok(seconds)
}

fn report_row(call: &str, seconds: &[f64]) {
    let fastest = seconds[0];
    let median = seconds[seconds.len() / 2];
    println!(
        "| {call} | {fastest:.3} | {median:.3} | {:.1} million |",
        SCORE_ROWS as f64 / fastest / 1e6
    );
}
