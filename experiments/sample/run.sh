#!/usr/bin/env bash
# Trains the churn and expansion models on the bundled sample portfolio
# (data/sample), checks their held-out metrics against the rule baseline,
# the base rate and the simulation's oracle, backtests them month by month,
# trains on the imported RavenStack export for comparison, copies the sample
# models into models/, and writes RESULTS.md beside this script from the
# output.
#
# Usage: experiments/sample/run.sh
# RavenStack is looked up under $HEADROOM_PUBLIC_DATA, then ../shared/data
# from the repository root, then /work/shared/data; without it that section
# says so.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --workspace
headroom="${CARGO_TARGET_DIR:-target}/debug/headroom"
results=experiments/sample/RESULTS.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Paths inside the temporary folder are printed as PROJECT.
hide_work() {
    sed "s|$work/[a-z]*|PROJECT|g"
}

# Prints one Markdown row per model: held-out ROC-AUC against the oracle and
# the rule, and whether the targets are met.
targets() {
    echo "| model | held-out rows | positive | model ROC-AUC | oracle ROC-AUC | model - oracle | rule ROC-AUC | model - rule | within 0.05 of the oracle | at least 0.05 above the rule |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for file in "$work"/sample/models/churn-*.json "$work"/sample/models/expansion-*.json; do
        jq -r '[.kind, .metrics.overall.rows, .metrics.overall.positives,
                .metrics.overall.model.roc_auc, .metrics.oracle_roc_auc,
                .metrics.overall.rule.roc_auc] | @tsv' "$file"
    done | awk -F '\t' '{
        printf "| %s | %d | %d | %.3f | %.3f | %+.3f | %.3f | %+.3f | %s | %s |\n",
            $1, $2, $3, $4, $5, $4 - $5, $6, $4 - $6,
            ($4 >= $5 - 0.05 ? "yes" : "no"), ($4 >= $6 + 0.05 ? "yes" : "no")
    }'
}

# Prints the held-out calibration bins with at least 100 rows: predicted and
# observed rates and their difference in percentage points.
calibration() {
    echo "| model | bin | rows | mean predicted | observed | observed - predicted (points) |"
    echo "|---|---|---|---|---|---|"
    for file in "$work"/sample/models/churn-*.json "$work"/sample/models/expansion-*.json; do
        jq -r '.kind as $kind
               | .metrics.overall.model.calibration.bins[]
               | select(.count >= 100)
               | [$kind, .lower, .upper, .count, .mean_predicted, .observed_rate] | @tsv' "$file"
    done | awk -F '\t' '{
        printf "| %s | %.1f-%.1f | %d | %.3f | %.3f | %+.1f |\n",
            $1, $2, $3, $4, $5, $6, 100 * ($6 - $5)
    }'
}

public_data() {
    for dir in "${HEADROOM_PUBLIC_DATA:-}" ../shared/data /work/shared/data; do
        if [ -n "$dir" ] && [ -d "$dir/ravenstack" ]; then
            echo "$dir"
            return
        fi
    done
}

"$headroom" import data/sample --out "$work/sample" > /dev/null
"$headroom" train --project "$work/sample" --calibration --predictions "$work/held-out.csv" \
    > "$work/train.txt"
"$headroom" backtest --project "$work/sample" --from 2025-06 --to 2026-04 > "$work/backtest.txt"

raven_data=$(public_data)
if [ -n "$raven_data" ]; then
    "$headroom" import "$raven_data/ravenstack" --mapping data/mappings/ravenstack.toml \
        --out "$work/ravenstack" > /dev/null
    "$headroom" train --project "$work/ravenstack" > "$work/ravenstack.txt"
fi

{
    echo "# Churn and expansion models on the sample portfolio"
    echo
    echo "Written by \`experiments/sample/run.sh\` from the output of \`headroom import\`,"
    echo "\`headroom train\` and \`headroom backtest\` and of \`experiments/sample/gap.py\`;"
    echo "rerun the script to update it."
    echo
    echo "- commands: \`headroom import data/sample --out PROJECT\`, then"
    echo "  \`headroom train --project PROJECT --calibration --predictions held-out.csv\` and"
    echo "  \`headroom backtest --project PROJECT --from 2025-06 --to 2026-04\`, default settings"
    echo "- build: dev profile (the workspace's debug build)"
    echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM, $(uname -sr)"
    echo "- toolchain: $(rustc --version)"
    echo "- run on: $(date -u +%Y-%m-%d)"
    echo
    echo "The sample's history ends 2026-10-31, so month-ends up to 2026-04-30 have a"
    echo "finished 180-day horizon. The last six of them are held out. The evaluated"
    echo "model trains on rows observed at least 180 days before the first held-out"
    echo "month-end, so every label it learns from was known when the held-out months"
    echo "began. The oracle scores the same rows with the simulation's true"
    echo "probabilities, which rest on hidden state the tables do not show."
    echo "\`CEILING.md\`, written by \`ceiling.sh\`, measures how much of the gap to the"
    echo "oracle a model of the tables can close."
    echo
    echo "## Targets"
    echo
    targets
    echo
    echo "Calibration of the evaluated models on the held-out rows, bins with at least"
    echo "100 rows:"
    echo
    calibration
    echo
    echo "## Model and oracle by hidden phase"
    echo
    echo "The simulator drives most expansions through a hidden growth phase: usage"
    echo "grows 3-8% a month until the account buys seats mid-term or expands at its"
    echo "renewal. The oracle knows when a growth phase starts; the tables show it only"
    echo "once the growth rises above the month-to-month noise of 4-9% in active users."
    echo "The tables below split the held-out rows by the hidden phase at the"
    echo "observation date (from \`data/sample/truth/monthly.csv\`)."
    echo
    python3 experiments/sample/gap.py "$work/held-out.csv" data/sample/truth/monthly.csv
    echo "## headroom train"
    echo
    echo '```text'
    hide_work < "$work/train.txt"
    echo '```'
    echo
    echo "## headroom backtest"
    echo
    echo '```text'
    hide_work < "$work/backtest.txt"
    echo '```'
    echo
    echo "## RavenStack"
    echo
    if [ -n "$raven_data" ]; then
        echo "\`headroom import ../shared/data/ravenstack --mapping data/mappings/ravenstack.toml"
        echo "--out PROJECT\`, then \`headroom train --project PROJECT\` with default settings."
        echo "RavenStack is a synthetic export whose churned and retained accounts have"
        echo "almost the same usage, and none of its entitlement limits is measured by a"
        echo "usage metric, so every utilization feature is missing and the rule flags"
        echo "nothing. The models have no real signal to learn. Its two years of usage"
        echo "leave too few month-ends before the held-out window for a validation fold,"
        echo "so the evaluated models train on a few hundred rows of the earliest"
        echo "month-ends, with the fallback the output reports. A held-out ROC-AUC away"
        echo "from 0.5 in either direction means that what they picked up there (tenure,"
        echo "ticket counts) did not hold in the later months, not that they have skill."
        echo
        echo '```text'
        hide_work < "$work/ravenstack.txt"
        echo '```'
    else
        echo "The public data folder was not found, so RavenStack was not trained."
    fi
} > "$results.tmp"
mv "$results.tmp" "$results"

rm -f models/churn-*.json models/expansion-*.json
cp "$work"/sample/models/*.json models/
cat "$results"
