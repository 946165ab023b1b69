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
            fit_rows: None,
        },
        training: TrainingSummary {
            first_observation: date(2023, 1, 31),
            last_observation: date(2023, 12, 31),
            rows: 100,
            positives: 10,
            accounts: 10,
            fingerprint: "sha256:00".to_owned(),
            fit_rows: None,
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

/// One row of a hand-built feature panel.
#[derive(Debug, Clone, Copy)]
pub struct PanelRow<'a> {
    /// The account.
    pub account: &'a str,
    /// The observation date.
    pub as_of: NaiveDate,
    /// The customer segment.
    pub segment: Option<&'a str>,
    /// `util_primary_3m`.
    pub utilization: f64,
    /// `days_to_renewal` (NaN for null).
    pub days_to_renewal: f64,
}

/// A feature panel with the key columns and `util_primary_3m` and
/// `days_to_renewal`, as the feature stage names them.
pub fn panel(rows: &[PanelRow<'_>]) -> polars::prelude::DataFrame {
    use polars::prelude::{DataFrame, NamedFrom, Series};

    let nullable = |v: f64| (!v.is_nan()).then_some(v);
    let accounts: Vec<&str> = rows.iter().map(|r| r.account).collect();
    let dates: Vec<NaiveDate> = rows.iter().map(|r| r.as_of).collect();
    let segments: Vec<Option<&str>> = rows.iter().map(|r| r.segment).collect();
    let utilization: Vec<Option<f64>> = rows.iter().map(|r| nullable(r.utilization)).collect();
    let days: Vec<Option<f64>> = rows.iter().map(|r| nullable(r.days_to_renewal)).collect();
    DataFrame::new(
        rows.len(),
        vec![
            Series::new("account_id".into(), accounts).into(),
            Series::new("as_of".into(), dates).into(),
            Series::new("segment".into(), segments).into(),
            Series::new("util_primary_3m".into(), utilization).into(),
            Series::new("days_to_renewal".into(), days).into(),
        ],
    )
    .expect("columns of equal length")
}

/// An outcomes table with the contract's key columns.
pub fn outcomes(rows: &[(&str, NaiveDate, &str)]) -> polars::prelude::DataFrame {
    use polars::prelude::{DataFrame, NamedFrom, Series};

    let accounts: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let dates: Vec<NaiveDate> = rows.iter().map(|r| r.1).collect();
    let words: Vec<&str> = rows.iter().map(|r| r.2).collect();
    DataFrame::new(
        rows.len(),
        vec![
            Series::new("account_id".into(), accounts).into(),
            Series::new("date".into(), dates).into(),
            Series::new("outcome".into(), words).into(),
        ],
    )
    .expect("columns of equal length")
}

/// A simulated history: a feature panel, its outcomes and the history end.
pub struct History {
    /// The panel, rows in random order.
    pub panel: polars::prelude::DataFrame,
    /// The outcomes table.
    pub outcomes: polars::prelude::DataFrame,
    /// The last month-end of the history.
    pub history_end: NaiveDate,
}

/// A history of `accounts` accounts over `months` month-ends from January
/// 2022, seeded. Each account has a utilization level in 0.1..1.0 (plus
/// noise each month) and a renewal month. After each month-end it churns at
/// the next month-end with probability 0.08 (1 - utilization)^3, and ends
/// there; above 0.85 utilization it expands with probability 0.05. Churn is
/// rare (a few percent of 180-day labels) and the panel rows are shuffled.
pub fn history(accounts: usize, months: u32, seed: u64) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let segments = ["enterprise", "mid-market", "smb"];
    let mut rows: Vec<(String, NaiveDate, &str, f64, f64)> = Vec::new();
    let mut events: Vec<(String, NaiveDate, &str)> = Vec::new();

    for a in 0..accounts {
        let account = format!("acct-{a:03}");
        let level: f64 = rng.random_range(0.1..1.0);
        let renewal_month: u32 = rng.random_range(0..12);
        for m in 0..months {
            let utilization = (level + rng.random_range(-0.1..0.1)).clamp(0.0, 1.2);
            let days = f64::from((renewal_month + 12 - m % 12) % 12) * 30.0 + 15.0;
            rows.push((
                account.clone(),
                month_end(m),
                segments[a % 3],
                utilization,
                days,
            ));
            if rng.random::<f64>() < 0.08 * (1.0 - utilization.min(1.0)).powi(3) {
                events.push((account.clone(), month_end(m + 1), "churned"));
                break;
            }
            if utilization > 0.85 && rng.random::<f64>() < 0.05 {
                events.push((account.clone(), month_end(m + 1), "expanded"));
            }
        }
    }

    for i in (1..rows.len()).rev() {
        let j = rng.random_range(0..=i);
        rows.swap(i, j);
    }
    let panel_rows: Vec<PanelRow<'_>> = rows
        .iter()
        .map(|(account, as_of, segment, utilization, days)| PanelRow {
            account,
            as_of: *as_of,
            segment: Some(segment),
            utilization: *utilization,
            days_to_renewal: *days,
        })
        .collect();
    let event_rows: Vec<(&str, NaiveDate, &str)> = events
        .iter()
        .map(|(account, date, word)| (account.as_str(), *date, *word))
        .collect();
    History {
        panel: panel(&panel_rows),
        outcomes: outcomes(&event_rows),
        history_end: month_end(months - 1),
    }
}
