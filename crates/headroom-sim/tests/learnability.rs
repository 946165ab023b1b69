//! The mechanisms leave signal that a feature pipeline can see. A logistic
//! model on a handful of features computed from the tables alone comes close to
//! the oracle on later months. The features are utilization level and trend,
//! unused features, months to renewal and segment.

use std::collections::BTreeMap;

use headroom_sim::calendar::{Window, epoch_days};
use headroom_sim::calibrate::calibrate;
use headroom_sim::catalog::{Metric, Segment};
use headroom_sim::records::Chunk;
use headroom_sim::simulate::SimContext;
use headroom_sim::{SimConfig, roc_auc};
use linfa::Dataset;
use linfa::traits::Fit;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};

/// Monthly values of one account: users, seats and feature use per month index.
#[derive(Default)]
struct History {
    users: BTreeMap<i32, f64>,
    feature_months: BTreeMap<i32, usize>,
    seats: BTreeMap<i32, f64>,
    entitled_features: usize,
    renewal_months: Vec<i32>,
    segment: Option<Segment>,
}

fn histories(chunk: &Chunk, window: Window) -> BTreeMap<u64, History> {
    let month_of = |days: i32| {
        (0..window.months() as i32)
            .find(|m| epoch_days(window.month_end(*m)) == days)
            .expect("monthly usage is dated on month-ends")
    };
    let mut histories: BTreeMap<u64, History> = BTreeMap::new();
    for row in &chunk.usage {
        let history = histories.entry(row.account).or_default();
        let month = month_of(row.date);
        match row.metric {
            Metric::ActiveUsers => {
                history.users.insert(month, row.value);
            }
            Metric::Feature(_) if row.value > 0.0 => {
                *history.feature_months.entry(month).or_insert(0) += 1;
            }
            _ => {}
        }
    }
    for contract in &chunk.contracts {
        let history = histories.entry(contract.account).or_default();
        let first = window
            .start()
            .months_until(headroom_sim::YearMonth::of(contract.start));
        let last = window
            .start()
            .months_until(headroom_sim::YearMonth::of(contract.end));
        for month in first.max(0)..=last.min(window.last_index()) {
            history.seats.insert(month, contract.seats);
        }
        history.entitled_features = contract.features.len();
        history.renewal_months.push(last);
    }
    for account in &chunk.accounts {
        histories.entry(account.account).or_default().segment = Some(account.segment);
    }
    histories
}

/// Computes the features of one account at month-end `t`, as a feature pipeline would
/// compute them from the tables up to `t`.
fn features(history: &History, t: i32) -> Vec<f64> {
    let users = |m: i32| history.users.get(&m).copied().unwrap_or(0.0);
    let seats = history.seats.get(&t).copied().unwrap_or(1.0).max(1.0);
    let recent = (users(t) + users(t - 1) + users(t - 2)) / 3.0;
    let earlier = (users(t - 3) + users(t - 4) + users(t - 5)) / 3.0;
    let trend = (recent + 1.0).ln() - (earlier + 1.0).ln();
    let utilization = recent / seats;
    let last_drop = (users(t) + 1.0).ln() - (users(t - 1) + 1.0).ln();

    let used_recently: usize = (t - 2..=t)
        .filter_map(|m| history.feature_months.get(&m))
        .copied()
        .max()
        .unwrap_or(0);
    let entitled = history.entitled_features.max(1) as f64;
    let unused = 1.0 - (used_recently as f64 / entitled).min(1.0);

    let to_renewal = history
        .renewal_months
        .iter()
        .filter(|m| **m > t)
        .min()
        .map_or(99, |m| m - t);
    let near = f64::from(u8::from(to_renewal <= 5));
    let smb = f64::from(u8::from(history.segment == Some(Segment::Smb)));
    let mid = f64::from(u8::from(history.segment == Some(Segment::MidMarket)));

    vec![
        near,
        near * f64::from(to_renewal.min(6)),
        utilization,
        trend,
        last_drop,
        unused,
        smb,
        mid,
        near * utilization,
        near * trend,
        near * last_drop,
        near * unused,
        near * smb,
        near * mid,
    ]
}

struct Observations {
    features: Vec<Vec<f64>>,
    labels: Vec<bool>,
    oracle: Vec<f64>,
}

fn observations(chunk: &Chunk, window: Window, months: std::ops::Range<i32>) -> Observations {
    let histories = histories(chunk, window);
    let mut result = Observations {
        features: Vec::new(),
        labels: Vec::new(),
        oracle: Vec::new(),
    };
    for row in &chunk.months {
        if !(row.active && row.complete && months.contains(&row.month)) {
            continue;
        }
        result
            .features
            .push(features(&histories[&row.account], row.month));
        result.labels.push(row.churned);
        result.oracle.push(row.p_churn);
    }
    result
}

fn standardize(train: &mut [Vec<f64>], test: &mut [Vec<f64>]) {
    let columns = train[0].len();
    for column in 0..columns {
        let values: Vec<f64> = train.iter().map(|row| row[column]).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        let sd = variance.sqrt().max(1e-9);
        for row in train.iter_mut().chain(test.iter_mut()) {
            row[column] = (row[column] - mean) / sd;
        }
    }
}

fn matrix(rows: &[Vec<f64>]) -> Array2<f64> {
    let columns = rows[0].len();
    Array2::from_shape_vec(
        (rows.len(), columns),
        rows.iter().flatten().copied().collect(),
    )
    .expect("rows of equal length")
}

#[test]
fn logistic_model_comes_close_to_oracle() {
    let config = SimConfig {
        accounts: 6000,
        seed: 101,
        ..SimConfig::default()
    };
    let context = SimContext::new(&config, calibrate(&config));
    let chunk = context.simulate(0..config.accounts);
    let window = context.window();

    // Train on month-ends 6..18, test on 19..30 (their 180-day horizons end
    // inside the 36-month window).
    let mut train = observations(&chunk, window, 6..19);
    let mut test = observations(&chunk, window, 19..31);
    standardize(&mut train.features, &mut test.features);

    let dataset = Dataset::new(matrix(&train.features), Array1::from(train.labels.clone()));
    let model = LogisticRegression::default()
        .alpha(1e-4)
        .max_iterations(300)
        .fit(&dataset)
        .expect("the logistic model fits");
    let probabilities = model.predict_probabilities(&matrix(&test.features));
    // linfa-logistic 0.8.1 returns the probability of the more frequent class,
    // here "did not churn".
    let positive_is_churn = model.labels().pos.class;
    let scores: Vec<f64> = probabilities
        .iter()
        .map(|p| if positive_is_churn { *p } else { 1.0 - p })
        .collect();

    let model_auc = roc_auc(&scores, &test.labels).expect("both classes in the test months");
    let oracle_auc = roc_auc(&test.oracle, &test.labels).expect("both classes");
    println!("model ROC-AUC {model_auc:.3}, oracle {oracle_auc:.3}");
    assert!(oracle_auc < 0.95, "oracle {oracle_auc}");
    assert!(
        model_auc > oracle_auc - 0.06,
        "model {model_auc} is far below the oracle {oracle_auc}"
    );
    assert!(
        model_auc <= oracle_auc + 0.01,
        "model {model_auc} beats the oracle {oracle_auc}"
    );
}
