//! Fixtures shared by the unit tests.

use chrono::{Datelike, NaiveDate};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::{Dataset, FeatureMatrix, RowKey};
use crate::kind::ModelKind;

/// A date from literal parts.
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// The last day of the month `months` after January 2022.
pub fn month_end(months: u32) -> NaiveDate {
    let first = date(2022 + (months / 12) as i32, months % 12 + 1, 1);
    let next = if first.month() == 12 {
        date(first.year() + 1, 1, 1)
    } else {
        date(first.year(), first.month() + 1, 1)
    };
    next.pred_opt().expect("valid date")
}

/// Keys `a0, a1, ...` all observed on 2024-01-31 without a segment.
pub fn keys(n: usize) -> Vec<RowKey> {
    (0..n)
        .map(|i| RowKey::new(format!("a{i}"), date(2024, 1, 31), None))
        .collect()
}

/// Owned names from literals.
pub fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A churn data set from rows of values and labels, with [`keys`].
pub fn dataset(rows: &[&[f64]], feature_names: &[&str], labels: &[bool]) -> Dataset {
    let n = rows.len();
    let p = feature_names.len();
    let flat: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    let values = Array2::from_shape_vec((n, p), flat).expect("rectangular rows");
    let features = FeatureMatrix::new(values, names(feature_names), keys(n)).expect("valid matrix");
    Dataset::new(ModelKind::Churn, features, Array1::from(labels.to_vec())).expect("valid labels")
}

/// The 40-row, 3-feature fixture whose scikit-learn fit the logistic tests
/// compare with: x1 = sin(1.3 i), x2 = 2 cos(0.7 i), x3 = (7 i mod 11) / 10,
/// positive when x1 + 0.5 x2 - x3 + 0.8 sin(5.1 i) > 0.3 (11 positives).
pub fn sklearn_fixture() -> (Array2<f64>, Array1<bool>) {
    let n = 40;
    let mut x = Array2::<f64>::zeros((n, 3));
    let mut y = Array1::from_elem(n, false);
    for i in 0..n {
        let f = i as f64;
        x[[i, 0]] = (f * 1.3).sin();
        x[[i, 1]] = (f * 0.7).cos() * 2.0;
        x[[i, 2]] = ((i * 7) % 11) as f64 / 10.0;
        y[i] = x[[i, 0]] + 0.5 * x[[i, 1]] - x[[i, 2]] + 0.8 * (f * 5.1).sin() > 0.3;
    }
    (x, y)
}

/// A monthly churn panel: `accounts` accounts observed at `months` month-ends
/// from January 2022, with utilization (falling utilization raises churn
/// risk), a noise feature and a segment. Seeded, so the same every run.
pub fn churn_panel(accounts: usize, months: u32, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let segments = ["enterprise", "mid-market", "smb"];
    let mut values = Vec::new();
    let mut labels = Vec::new();
    let mut row_keys = Vec::new();

    for a in 0..accounts {
        let base: f64 = rng.random_range(0.1..1.0);
        for m in 0..months {
            let utilization = (base + rng.random_range(-0.15..0.15)).clamp(0.0, 1.2);
            let noise: f64 = rng.random_range(-1.0..1.0);
            let logit = 1.0 - 6.0 * utilization;
            let churned = rng.random::<f64>() < 1.0 / (1.0 + (-logit).exp());
            values.extend([utilization, noise]);
            labels.push(churned);
            row_keys.push(RowKey::new(
                format!("acct-{a:03}"),
                month_end(m),
                Some(segments[a % 3]),
            ));
        }
    }

    let n = labels.len();
    let matrix = Array2::from_shape_vec((n, 2), values).expect("rectangular rows");
    let features = FeatureMatrix::new(matrix, names(&["utilization", "noise"]), row_keys)
        .expect("valid matrix");
    Dataset::new(ModelKind::Churn, features, Array1::from(labels)).expect("valid labels")
}

/// A model written by hand: inputs `usage` and `tickets` (`tickets` with a
/// missingness indicator), columns
/// - usage: mean 0.5, std 0.25, coefficient -2
/// - tickets: mean 2, std 1, coefficient 0.5 (median 2)
/// - tickets:missing: mean 0.25, std 0.5, coefficient 1
///
/// and intercept -1.
pub fn hand_artifact() -> crate::artifact::ModelArtifact {
    use crate::artifact::{FORMAT_VERSION, ModelArtifact, ModelSettings, TrainingSummary};
    use crate::folds::FoldParams;
    use crate::logistic::{AppliedWeights, ClassWeight, FitReport};
    use crate::preprocess::{Imputation, ModelColumn, Preprocessor, Term};
    use crate::threshold::ThresholdRule;
    use crate::train::SeparationPolicy;

    let column = |name: &str, feature: &str, term, mean, std| ModelColumn {
        name: name.to_owned(),
        feature: feature.to_owned(),
        term,
        mean,
        std,
    };
    ModelArtifact {
        format_version: FORMAT_VERSION,
        headroom_version: "0.1.0".to_owned(),
        kind: ModelKind::Churn,
        positive_class: "churned".to_owned(),
        preprocessing: Preprocessor {
            features: names(&["usage", "tickets"]),
            imputation: vec![
                Imputation {
                    feature: "usage".to_owned(),
                    missing_share: 0.0,
                    median: Some(0.5),
                    indicator: false,
                },
                Imputation {
                    feature: "tickets".to_owned(),
                    missing_share: 0.25,
                    median: Some(2.0),
                    indicator: true,
                },
            ],
            dropped: vec![],
            columns: vec![
                column("usage", "usage", Term::Value, 0.5, 0.25),
                column("tickets", "tickets", Term::Value, 2.0, 1.0),
                column("tickets:missing", "tickets", Term::Missing, 0.25, 0.5),
            ],
        },
        coefficients: vec![-2.0, 0.5, 1.0],
        intercept: -1.0,
        settings: ModelSettings {
            l2_penalty: 1e-3,
            threshold: 0.5,
            threshold_rule: ThresholdRule::Fixed(0.5),
            horizon_days: 180,
            class_weight: ClassWeight::Unweighted,
            max_iterations: 500,
            tolerance: 1e-5,
            indicator_min_share: 0.05,
            separation: SeparationPolicy::Warn,
            candidate_penalties: vec![1e-3],
            folds: FoldParams::default(),
        },
        training: TrainingSummary {
            first_observation: date(2023, 1, 31),
            last_observation: date(2023, 12, 31),
            rows: 100,
            positives: 10,
            accounts: 10,
            fingerprint: "sha256:00".to_owned(),
        },
        fit: FitReport {
            iterations: Some(12),
            iteration_cap: 500,
            gradient_norm: 1e-6,
            tolerance: 1e-5,
            converged: true,
            weights: AppliedWeights {
                positive: 1,
                negative: 1,
            },
            warnings: vec![],
        },
        selection: None,
        metrics: None,
        inputs: Some(crate::inputs::InputSpec::plain(names(&[
            "usage", "tickets",
        ]))),
        input_profile: Some(crate::profile::InputProfile::fit(&hand_rows(&[
            "usage", "tickets",
        ]))),
        held_out: None,
    }
}

/// Rows for [`hand_artifact`]: (usage 0.25, tickets missing) and (usage 0.9,
/// tickets 5), columns in the order given.
pub fn hand_rows(order: &[&str]) -> FeatureMatrix {
    let row = |usage: f64, tickets: f64| -> Vec<f64> {
        order
            .iter()
            .map(|&name| if name == "usage" { usage } else { tickets })
            .collect()
    };
    let flat: Vec<f64> = [row(0.25, f64::NAN), row(0.9, 5.0)].concat();
    let values = Array2::from_shape_vec((2, order.len()), flat).expect("two rows");
    FeatureMatrix::new(values, names(order), keys(2)).expect("valid matrix")
}
