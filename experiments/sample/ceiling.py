"""Estimate how close a model that reads only the tables can get to the oracle.

Usage: ceiling.py PANEL_CSV USAGE_CSV TRUTH_MONTHLY_CSV PREDICTIONS_CSV MODELS_DIR
                  [--horizon-days DAYS] [--pool PANEL_CSV USAGE_CSV TRUTH_MONTHLY_CSV]

PANEL_CSV is `headroom features --from FIRST --to LAST` over the training
set's month-ends, USAGE_CSV the portfolio's usage table, TRUTH_MONTHLY_CSV
`truth/monthly.csv` of the simulated portfolio, PREDICTIONS_CSV what
`headroom train --predictions` wrote, and MODELS_DIR the folder of the models
that run saved. The learners read the inputs each model's artifact lists.
DAYS is the label horizon (default 180). --pool names another simulated
portfolio's panel, usage and truth, whose labelled rows train three more
learners.

Every score is evaluated on the held-out rows of PREDICTIONS_CSV. Every
learner but the --pool ones fits on the rows the evaluated headroom model
fitted on: rows observed at least one horizon before the first held-out
month-end. Prints one Markdown table per model kind with the ROC-AUC of:

- the oracle: the simulation's true probabilities;
- the ideal learner: gradient boosting fitted on the true probabilities of
  the training rows (which no real portfolio records), given headroom's
  features, 15 months of active users and 6 of storage per row;
- headroom's features plus the hidden phase: a logistic regression on the
  realized labels that is also given the phase and its age. Then the same
  regression without the phase, and with hinge terms max(0, x - knot) on
  utilization, trend and days to renewal in its place;
- gradient boosting on the realized labels, with the ideal learner's inputs;
- headroom's evaluated model;
- with --pool: the ideal learner, a logistic regression on headroom's
  features, and the same with hinge terms, fitted on the other portfolio.

The ideal learner's only privilege is its training target, so its ROC-AUC
estimates, from below, the best ranking the tables allow. The hidden-phase
row shows what better phase detection would be worth.

Needs pandas, numpy and scikit-learn.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

KINDS = {"churn": ("churned", "p_churn"), "expansion": ("expanded", "p_expand")}
HISTORY_MONTHS = 15
PENALTIES = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
# scikit-learn's C for fits on the other portfolio: on 180,000 rows, C from
# 0.03 to 3 moved the held-out ROC-AUC by under 0.001.
POOLED_PENALTY = 1.0
# Knots of the hinge terms max(0, x - knot) of the piecewise-linear logistic.
KNOTS = {
    "util_primary_3m": [0.6, 0.8, 0.9, 1.0, 1.1],
    "util_primary": [0.6, 0.8, 0.9, 1.0, 1.1],
    "util_max": [0.8, 1.0, 1.2],
    "slope_3m": [0.0, 0.03, 0.06],
    "pct_change_3m": [0.0, 0.1, 0.2],
    "days_to_renewal": [30, 60, 90, 120, 150, 180, 240],
}


def number(column):
    """Return a feature-table column as floats, with true/false as 1/0."""
    if column.dtype == object:
        column = column.map({"true": 1.0, "false": 0.0, True: 1.0, False: 0.0})
    return column.astype(float)


def model_inputs(table, spec):
    """Return the inputs a headroom model builds from a feature table, following
    the recipe (`inputs`) in its artifact: columns, one 0/1 input per category
    value, products, then each window input and its interactions."""
    inputs = {}
    for column in spec["columns"]:
        inputs[column] = number(table[column]) if column in table else np.nan
    for category in spec["categories"]:
        for value in category["values"]:
            inputs[f"{category['column']}={value}"] = (table[category["column"]] == value).astype(
                float
            )
    for a, b in spec["products"]:
        inputs[f"{a}*{b}"] = inputs[a] * inputs[b]
    for window in spec["windows"]:
        column = number(table[window["column"]])
        inside = column <= window["at_most"]
        if window["above"] is not None:
            inside &= column > window["above"]
        inside = inside.astype(float).where(column.notna(), window["null_as"])
        inputs[window["name"]] = inside
        for other in window["interactions"]:
            inputs[f"{window['name']}*{other}"] = inputs[other] * inside
    return pd.DataFrame(inputs, index=table.index)


def usage_history(path):
    """Return, per account and month-end, the log of active users in each of the
    last HISTORY_MONTHS months minus their mean, and the log change of storage
    over the last 1 to 6 months."""
    usage = pd.read_csv(path, usecols=["account_id", "date", "metric", "value"])
    usage = usage[usage["metric"].isin(["active_users", "storage_gb"])]
    wide = usage.pivot_table(
        index=["account_id", "date"], columns="metric", values="value"
    ).reset_index()
    wide["date"] = pd.to_datetime(wide["date"])
    frames = []
    for account, rows in wide.groupby("account_id"):
        rows = rows.set_index("date").sort_index()
        months = pd.date_range(rows.index.min(), rows.index.max(), freq="ME")
        rows = rows.reindex(months)
        users = np.log(rows["active_users"].clip(lower=0.5))
        storage = np.log(rows["storage_gb"].clip(lower=0.1))
        level = users.rolling(HISTORY_MONTHS, min_periods=3).mean()
        history = {f"users_lag{k}": users.shift(k) - level for k in range(HISTORY_MONTHS)}
        history.update({f"storage_change_{k}m": storage - storage.shift(k) for k in range(1, 7)})
        frame = pd.DataFrame(history, index=months)
        frame["account_id"] = account
        frames.append(frame)
    history = pd.concat(frames).rename_axis("as_of").reset_index()
    history["as_of"] = history["as_of"].dt.strftime("%Y-%m-%d")
    return history


def standardize(train, test):
    """Impute medians (with a missing-value indicator where over 1% is missing),
    drop constant columns and scale both frames by the training rows."""
    incomplete = [c for c in train.columns if train[c].isna().mean() > 0.01]
    medians = train.median()
    train = pd.concat(
        [train.fillna(medians), train[incomplete].isna().astype(float).add_suffix(" missing")], axis=1
    )
    test = pd.concat(
        [test.fillna(medians), test[incomplete].isna().astype(float).add_suffix(" missing")], axis=1
    )
    varying = [c for c in train.columns if train[c].std() > 0]
    mean, scale = train[varying].mean(), train[varying].std()
    return ((train[varying] - mean) / scale).values, ((test[varying] - mean) / scale).values


def fit_logistic(inputs, labels, observed):
    """Return the inverse penalty C of scikit-learn's logistic regression with
    the lowest log loss on the last six month-ends, fitted on the earlier ones."""
    month_ends = sorted(observed.unique())
    cut = month_ends[-7] if len(month_ends) > 9 else month_ends[len(month_ends) // 2]
    early, late = observed <= cut, observed > cut
    x_early, x_late = standardize(inputs[early], inputs[late])
    losses = []
    for c in PENALTIES:
        model = LogisticRegression(C=c, max_iter=5000).fit(x_early, labels[early])
        losses.append(log_loss(labels[late], model.predict_proba(x_late)[:, 1]))
    return PENALTIES[int(np.argmin(losses))]


def piecewise(features):
    """Return the features with hinge terms max(0, x - knot) added for the
    utilization, trend and renewal-timing inputs."""
    hinges = {
        f"{column}>{knot}": np.maximum(0.0, features[column] - knot)
        for column, knots in KNOTS.items()
        if column in features
        for knot in knots
    }
    return pd.concat([features, pd.DataFrame(hinges, index=features.index)], axis=1)


def load(panel_path, usage_path, truth_path):
    """Return the panel rows joined with the truth and the usage history."""
    panel = pd.read_csv(panel_path, low_memory=False)
    panel["as_of"] = panel["as_of"].astype(str)
    truth = pd.read_csv(truth_path).rename(columns={"date": "as_of"})
    rows = panel.merge(truth, on=["account_id", "as_of"], how="inner", validate="1:1")
    return rows.merge(usage_history(usage_path), on=["account_id", "as_of"], how="left")


def learner_inputs(rows, spec):
    """Return the learners' inputs: the model's inputs, those plus the usage
    history, and those plus the hidden phase."""
    features = model_inputs(rows, spec)
    history = rows[[c for c in rows.columns if c.startswith(("users_lag", "storage_change_"))]]
    flexible = pd.concat([features, history], axis=1).replace([np.inf, -np.inf], np.nan)
    phase = pd.DataFrame(
        {
            "growth": (rows["phase"] == "growth").astype(float),
            "growth_months": (rows["phase"] == "growth") * rows["months_in_phase"],
            "decline": rows["phase"].str.startswith("decline").astype(float),
            "decline_months": rows["phase"].str.startswith("decline") * rows["months_in_phase"],
        },
        index=rows.index,
    )
    with_phase = pd.concat([features, phase], axis=1)
    return features, flexible, with_phase


def input_recipe(models_dir, kind):
    """Return the input recipe of the one model of a kind in a models folder."""
    paths = sorted(Path(models_dir).glob(f"{kind}-*.json"))
    if len(paths) != 1:
        sys.exit(f"error: expected one {kind} model in {models_dir}, found {len(paths)}")
    return json.loads(paths[0].read_text())["inputs"]


def ideal_learner(inputs, target):
    """Fit gradient boosting on the true probabilities."""
    return HistGradientBoostingRegressor(
        max_iter=500, learning_rate=0.05, max_leaf_nodes=31, min_samples_leaf=40, random_state=0
    ).fit(inputs, target)


def logistic_scores(train_inputs, labels, observed, test_inputs, penalty=None):
    """Fit a logistic regression and score the test rows. Without a penalty
    (scikit-learn's C), it is chosen on time-ordered rows."""
    if penalty is None:
        penalty = fit_logistic(train_inputs, labels, observed)
    x_train, x_test = standardize(train_inputs, test_inputs)
    model = LogisticRegression(C=penalty, max_iter=5000).fit(x_train, labels)
    return model.predict_proba(x_test)[:, 1]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("panel")
    parser.add_argument("usage")
    parser.add_argument("truth")
    parser.add_argument("predictions")
    parser.add_argument("models")
    parser.add_argument("--horizon-days", type=int, default=180)
    parser.add_argument("--pool", nargs=3, metavar=("PANEL", "USAGE", "TRUTH"))
    args = parser.parse_args()
    horizon = pd.Timedelta(days=args.horizon_days)

    rows = load(args.panel, args.usage, args.truth)
    pool_rows = load(*args.pool) if args.pool else None

    predictions = pd.read_csv(args.predictions)
    predictions["as_of"] = predictions["as_of"].astype(str)
    for kind, (label_column, truth_column) in KINDS.items():
        held_out = predictions[predictions["model"] == kind]
        if held_out.empty:
            continue
        spec = input_recipe(args.models, kind)
        features, flexible, with_phase = learner_inputs(rows, spec)
        first = pd.Timestamp(held_out["as_of"].min())
        train = pd.to_datetime(rows["as_of"]) <= first - horizon
        varying = flexible.loc[:, flexible[train].nunique() > 1]
        test_rows = held_out.merge(
            rows[["account_id", "as_of"]].rename_axis("index").reset_index(),
            on=["account_id", "as_of"],
            how="left",
            validate="1:1",
        )
        missing = int(test_rows["index"].isna().sum())
        test_rows = test_rows.dropna(subset=["index"])
        test = test_rows["index"].astype(int).values
        labels = rows[label_column].astype(int)
        y = test_rows["label"].astype(int).values
        disagree = int((labels.loc[test].values != y).sum())
        observed = rows.loc[train, "as_of"]

        scores = {"oracle: the true probabilities": rows.loc[test, truth_column].values}
        ideal = ideal_learner(varying[train], rows.loc[train, truth_column])
        scores["ideal learner: boosting fitted on the true probabilities"] = ideal.predict(
            varying.loc[test]
        )
        scores["headroom's inputs plus the hidden phase, logistic"] = logistic_scores(
            with_phase[train], labels[train], observed, with_phase.loc[test]
        )
        scores["headroom's inputs alone, the same logistic"] = logistic_scores(
            features[train], labels[train], observed, features.loc[test]
        )
        scores["headroom's inputs with hinge terms, the same logistic"] = logistic_scores(
            piecewise(features[train]), labels[train], observed, piecewise(features.loc[test])
        )
        boosted = HistGradientBoostingClassifier(
            max_iter=300, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=50, random_state=0
        ).fit(varying[train], labels[train])
        scores["boosting on the realized labels"] = boosted.predict_proba(varying.loc[test])[:, 1]
        scores["headroom's evaluated model"] = test_rows["probability"].values

        pooled = 0
        if pool_rows is not None:
            pool_features, pool_flexible, _ = learner_inputs(pool_rows, spec)
            pool_labels = pool_rows[label_column].astype(int)
            pooled = len(pool_rows)
            shared = [c for c in varying.columns if c in pool_flexible.columns]
            ideal = ideal_learner(pool_flexible[shared], pool_rows[truth_column])
            scores["ideal learner fitted on the other portfolio"] = ideal.predict(
                varying.loc[test, shared]
            )
            shared = [c for c in features.columns if c in pool_features.columns]
            scores["headroom's inputs, logistic fitted on the other portfolio's labels"] = (
                logistic_scores(
                    pool_features[shared],
                    pool_labels,
                    pool_rows["as_of"],
                    features.loc[test, shared],
                    POOLED_PENALTY,
                )
            )
            scores["the same, plus hinge terms"] = logistic_scores(
                piecewise(pool_features[shared]),
                pool_labels,
                pool_rows["as_of"],
                piecewise(features.loc[test, shared]),
                POOLED_PENALTY,
            )

        oracle = roc_auc_score(y, scores["oracle: the true probabilities"])
        print(f"### {kind}")
        print()
        print(
            f"{len(y):,} held-out rows, {int(y.sum()):,} positive; "
            f"{int(train.sum()):,} training rows"
            + (f", {pooled:,} in the other portfolio." if pooled else ".")
        )
        if missing or disagree:
            print(
                f"{missing} held-out rows are not in the panel and {disagree} labels differ "
                "from the truth's."
            )
        print()
        print("| scores | ROC-AUC | - oracle |")
        print("|---|---|---|")
        for name, score in scores.items():
            auc = roc_auc_score(y, score)
            print(f"| {name} | {auc:.3f} | {auc - oracle:+.3f} |")
        print()


if __name__ == "__main__":
    main()
