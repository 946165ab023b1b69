#!/usr/bin/env bash
# Estimates how close a model that reads only the tables can get to the
# simulation's oracle, on the bundled sample, on two more simulated
# portfolios (seeds 7 and 11) and on 48-month versions of seeds 2026 and 7.
# The learners fit on each portfolio's own early rows and on a larger
# portfolio (seed 101). Writes CEILING.md beside this script.
#
# Usage: experiments/sample/ceiling.sh
# Needs python3 with pandas, numpy and scikit-learn
# (pip install pandas numpy scikit-learn).
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 -c 'import numpy, pandas, sklearn' 2> /dev/null || {
    echo "error: ceiling.py needs pandas, numpy and scikit-learn; run: pip install pandas numpy scikit-learn" >&2
    exit 1
}
cargo build --release -p headroom-cli
headroom="${CARGO_TARGET_DIR:-target}/release/headroom"
results=experiments/sample/CEILING.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Trains on one portfolio folder and prints ceiling.py's tables for it.
estimate() {
    local source=$1 project=$work/project
    rm -rf "$project"
    "$headroom" import "$source" --out "$project" > /dev/null
    "$headroom" train --project "$project" --predictions "$work/held-out.csv" > "$work/train.txt"
    # The training set's month-ends, from "training set: ... (FIRST to LAST)".
    read -r first last < <(sed -n 's/^training set: .*(\([0-9-]*\) to \([0-9-]*\)).*/\1 \2/p' "$work/train.txt")
    "$headroom" features --project "$project" --from "$first" --to "$last" --out "$work/panel.csv" -q
    python3 experiments/sample/ceiling.py "$work/panel.csv" "$source/usage.csv" \
        "$source/truth/monthly.csv" "$work/held-out.csv" "$project/models" \
        --pool "$work/pool-panel.csv" "$work/pool/usage.csv" "$work/pool/truth/monthly.csv"
}

# A larger portfolio from the same simulator: every labelled row of it is a
# training row for the learners fitted on another portfolio.
"$headroom" sim --seed 101 --accounts 10000 --out "$work/pool" > /dev/null
"$headroom" import "$work/pool" --out "$work/pool-project" > /dev/null
"$headroom" features --project "$work/pool-project" --from 2024-02-29 --to 2026-04-30 \
    --out "$work/pool-panel.csv" -q

{
    echo "# How close a model can get to the oracle"
    echo
    echo "Written by \`experiments/sample/ceiling.sh\` from \`headroom train --predictions\`,"
    echo "\`headroom features\` and \`experiments/sample/ceiling.py\`; rerun the script to"
    echo "update it."
    echo
    echo "- build: release profile"
    echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM, $(uname -sr)"
    echo "- python: $(python3 -c 'import sys, pandas, sklearn; print(sys.version.split()[0], "pandas", pandas.__version__, "scikit-learn", sklearn.__version__)')"
    echo "- run on: $(date -u +%Y-%m-%d)"
    echo
    echo "The oracle knows each account's hidden state: above all, whether a growth"
    echo "phase has started. A growth phase adds 3-8% a month to active users that"
    echo "move 4-9% from month to month on their own, so for its first months the"
    echo "tables cannot tell it from noise. The oracle's ROC-AUC is therefore a bound"
    echo "no model of the tables reaches. To see where the reachable bound lies, each"
    echo "table below scores the held-out rows of \`headroom train\` with:"
    echo
    echo "- the ideal learner: gradient boosting fitted on the true probabilities of"
    echo "  the training rows, which no real portfolio records, given headroom's"
    echo "  features, 15 months of active users and 6 of storage per row. Its only"
    echo "  privilege is the training target, so it estimates the best ranking the"
    echo "  tables allow. The estimate is from below: with more rows it ranks better"
    echo "  (see below);"
    echo "- a logistic regression on headroom's features that is also given the hidden"
    echo "  phase and its age, and the same regression without them: what better"
    echo "  phase detection would be worth. Then the same regression with hinge terms"
    echo "  \`max(0, x - knot)\` on utilization, trend and days to renewal, which let"
    echo "  it bend;"
    echo "- gradient boosting on the realized labels, with the ideal learner's inputs:"
    echo "  a more flexible model than headroom's, trained on what a portfolio records;"
    echo "- headroom's evaluated model."
    echo
    echo "These learners fit on the rows the evaluated headroom model fitted on: about"
    echo "21,000 rows observed in the portfolio's first 16 month-ends (35,700 rows in"
    echo "28 month-ends for the two 48-month portfolios at the end). Three more fit"
    echo "on all 184,009 labelled rows of another portfolio of 10,000 accounts from the"
    echo "same simulator (\`headroom sim --seed 101 --accounts 10000\`), which shows"
    echo "what more labelled history would buy:"
    echo
    echo "- the ideal learner;"
    echo "- a logistic regression on headroom's inputs and the realized labels;"
    echo "- the same with the hinge terms."
    echo
    echo "## data/sample"
    echo
    estimate data/sample
    for seed in 7 11; do
        "$headroom" sim --seed "$seed" --out "$work/sim$seed" > /dev/null
        echo "## Simulated portfolio, seed $seed"
        echo
        echo "\`headroom sim --seed $seed\`, the sample's settings with another seed."
        echo
        estimate "$work/sim$seed"
    done
    for seed in 2026 7; do
        "$headroom" sim --months 48 --start 2022-11 --seed "$seed" --out "$work/long$seed" > /dev/null
        echo "## 48 months, seed $seed"
        echo
        echo "\`headroom sim --months 48 --start 2022-11 --seed $seed\`: the sample's settings"
        echo "(seed 2026 is the sample's own) with a year more history before the same last"
        echo "month. The held-out months are the same calendar months, and the early rows"
        echo "number about 35,700 instead of 21,000: what a longer history buys."
        echo
        estimate "$work/long$seed"
    done
} > "$results.tmp"
mv "$results.tmp" "$results"
cat "$results"
