"""Compare held-out model probabilities with the simulation's true ones.

Usage: gap.py PREDICTIONS_CSV TRUTH_MONTHLY_CSV

PREDICTIONS_CSV is what `headroom train --predictions` writes;
TRUTH_MONTHLY_CSV is `truth/monthly.csv` of the simulated portfolio. Prints
Markdown: for each model, the ROC-AUC of the model and of the true
probabilities on the same rows, split by the account's hidden phase at the
observation date (steady, growth, decline_gradual, decline_sudden). For the
expansion model it also shows how much of the gap is left when the model is
given the true probability on rows whose growth phase has run two months or
more, the part that usage data can show.

Only the standard library is used.
"""

import csv
import sys


def roc_auc(scores, labels):
    """Return the ROC-AUC of scores against 0/1 labels, ties counted as half."""
    positives = sum(labels)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1
        start = end + 1
    positive_ranks = sum(r for r, y in zip(ranks, labels) if y)
    return (positive_ranks - positives * (positives + 1) / 2) / (positives * negatives)


def read_truth(path):
    """Read truth rows keyed by (account, date)."""
    with open(path, newline="") as handle:
        return {(row["account_id"], row["date"]): row for row in csv.DictReader(handle)}


def read_predictions(path, truth):
    """Read the held-out rows per model kind, joined with their truth row."""
    rows = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            hidden = truth[(row["account_id"], row["as_of"])]
            true_p = hidden["p_churn"] if row["model"] == "churn" else hidden["p_expand"]
            rows.setdefault(row["model"], []).append(
                {
                    "label": int(row["label"]),
                    "p": float(row["probability"]),
                    "true_p": float(true_p),
                    "phase": hidden["phase"],
                    "months_in_phase": int(hidden["months_in_phase"]),
                }
            )
    return rows


def number(value):
    """Format a metric with three decimals, or a dash when undefined."""
    return "-" if value is None else f"{value:.3f}"


def phase_table(rows):
    """Print the per-phase comparison of one model."""
    print("| phase at the observation date | rows | positive | model ROC-AUC | oracle ROC-AUC | mean model p | mean true p |")
    print("|---|---|---|---|---|---|---|")
    groups = [("all rows", rows)]
    for phase in ["steady", "growth", "decline_gradual", "decline_sudden"]:
        subset = [r for r in rows if r["phase"] == phase]
        if subset:
            groups.append((phase, subset))
    for name, subset in groups:
        labels = [r["label"] for r in subset]
        model = roc_auc([r["p"] for r in subset], labels)
        oracle = roc_auc([r["true_p"] for r in subset], labels)
        mean_p = sum(r["p"] for r in subset) / len(subset)
        mean_true = sum(r["true_p"] for r in subset) / len(subset)
        print(
            f"| {name} | {len(subset):,} | {sum(labels):,} | {number(model)} | {number(oracle)} "
            f"| {mean_p:.3f} | {mean_true:.3f} |"
        )


def growth_breakdown(rows):
    """Print what the expansion model loses on growth phases, by their age."""
    labels = [r["label"] for r in rows]
    visible = [r["phase"] == "growth" and r["months_in_phase"] >= 2 for r in rows]
    hybrid = [r["true_p"] if v else r["p"] for r, v in zip(rows, visible)]
    onset_positives = sum(
        r["label"] for r in rows if r["phase"] == "growth" and r["months_in_phase"] < 2
    )
    print()
    print("| growth phase, months running | rows | positive | mean model p | mean true p |")
    print("|---|---|---|---|---|")
    for months in range(0, 8):
        subset = [r for r in rows if r["phase"] == "growth" and r["months_in_phase"] == months]
        if not subset:
            continue
        mean_p = sum(r["p"] for r in subset) / len(subset)
        mean_true = sum(r["true_p"] for r in subset) / len(subset)
        positive = sum(r["label"] for r in subset)
        print(f"| {months} | {len(subset):,} | {positive:,} | {mean_p:.3f} | {mean_true:.3f} |")
    print()
    print(
        f"- {onset_positives:,} of the {sum(labels):,} expansions follow a growth phase that had "
        "run less than two months at the observation date."
    )
    print(
        "- ROC-AUC with the true probability on rows whose growth phase had run two months or "
        f"more and the model's elsewhere: {number(roc_auc(hybrid, labels))}."
    )


def main():
    """Print the comparison for every model in the predictions file."""
    if len(sys.argv) != 3:
        sys.exit("usage: gap.py PREDICTIONS_CSV TRUTH_MONTHLY_CSV")
    truth = read_truth(sys.argv[2])
    predictions = read_predictions(sys.argv[1], truth)
    for kind in ["churn", "expansion"]:
        rows = predictions.get(kind)
        if not rows:
            continue
        print(f"### {kind}")
        print()
        phase_table(rows)
        if kind == "expansion":
            growth_breakdown(rows)
        print()


if __name__ == "__main__":
    main()
