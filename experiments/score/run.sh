#!/usr/bin/env bash
# Times `headroom score` on a simulated portfolio with a release build and
# writes experiments/score/RESULTS.md.
#
# Steps: simulate ACCOUNTS accounts x 36 months (2023-11 to 2026-10, seed 7)
# as Parquet, import them, train both models with `headroom train` when this
# build has it, then score as of 2026-10-31 RUNS times per output and record
# the median wall time and the peak resident memory of each run
# (/usr/bin/time -v). The portfolio is kept in WORK between runs of the
# script, so only the first run pays for the simulation and the import.
#
# Usage: experiments/score/run.sh [ACCOUNTS] [RUNS]
#   WORK  folder for the portfolio (default: /tmp/headroom-score-bench-ACCOUNTS)
set -euo pipefail
cd "$(dirname "$0")/../.."

accounts="${1:-100000}"
runs="${2:-3}"
as_of="2026-10-31"
work="${WORK:-/tmp/headroom-score-bench-$accounts}"
results="experiments/score/RESULTS.md"
headroom=./target/release/headroom

cargo build --release --workspace --bin headroom
mkdir -p "$work"

# measure NAME ARGS...: runs the command, appends "name seconds kbytes".
measure() {
    local name="$1"
    shift
    /usr/bin/time -v "$@" 2> "$work/time.txt" > /dev/null
    local seconds kbytes
    seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.txt")
    kbytes=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
    echo "$name $seconds $kbytes" >> "$work/measurements.txt"
    echo "$name: ${seconds} s, $((kbytes / 1024)) MiB" >&2
}

median_of() {
    awk -v name="$1" -v column="$2" '$1 == name { print $column }' "$work/measurements.txt" \
        | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

max_of() {
    awk -v name="$1" -v column="$2" '$1 == name { print $column }' "$work/measurements.txt" \
        | sort -g | tail -1
}

rm -f "$work/measurements.txt"
if [ ! -d "$work/project/tables" ]; then
    rm -rf "$work/sim" "$work/project"
    measure sim "$headroom" -q sim --accounts "$accounts" --months 36 --start 2023-11 --seed 7 \
        --format parquet --out "$work/sim"
    measure import "$headroom" -q import "$work/sim" --out "$work/project"
fi

models="rules only (this build has no \`headroom train\`)"
if "$headroom" train --help >/dev/null 2>&1; then
    if [ ! -d "$work/project/models" ]; then
        measure train "$headroom" -q train --project "$work/project"
    fi
    models="the churn and expansion models \`headroom train\` wrote"
fi

for _ in $(seq "$runs"); do
    measure score-csv "$headroom" -q score --project "$work/project" --as-of "$as_of" \
        --format csv --out "$work/scores.csv" --no-snapshot
done
for _ in $(seq "$runs"); do
    measure score-html "$headroom" -q score --project "$work/project" --as-of "$as_of" \
        --format html --out "$work/scores.html" --no-snapshot
done
measure score-snapshot "$headroom" -q score --project "$work/project" --as-of "$as_of" \
    --format csv --out "$work/scores.csv"

scored=$(($(wc -l < "$work/scores.csv") - 1))
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
memory=$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1024 / 1024 }' /proc/meminfo)

row() {
    local name="$1" label="$2"
    if ! grep -q "^$name " "$work/measurements.txt"; then
        return
    fi
    local seconds kbytes rate
    seconds=$(median_of "$name" 2)
    kbytes=$(max_of "$name" 3)
    rate=$(echo "$scored / $seconds" | bc)
    echo "| $label | $seconds | $((kbytes / 1024)) | $rate |"
}

{
    echo "# Scoring speed at $(printf "%'d" "$accounts") accounts"
    echo
    echo "Written by \`experiments/score/run.sh $accounts $runs\`; rerun the script to update it."
    echo
    echo "- portfolio: \`headroom sim --accounts $accounts --months 36 --start 2023-11 --seed 7 --format parquet\`, imported with \`headroom import\`"
    echo "- models: $models"
    echo "- scored: $scored active accounts as of $as_of"
    echo "- build: release profile (\`cargo build --release --workspace\`)"
    echo "- machine: $cpu, $(nproc) cores, $memory RAM, Linux $(uname -r)"
    echo "- toolchain: $(rustc --version)"
    echo "- run on: $(date +%Y-%m-%d)"
    echo
    echo "Each score run reads the tables, computes the features as of the date, reads 15 months"
    echo "of usage for the segments, scores both models with reason codes, raises the alerts,"
    echo "ranks every account and renders the output. Wall time is the median of $runs runs, memory"
    echo "the largest peak resident set of those runs (\`/usr/bin/time -v\`)."
    echo
    echo "| step | wall time (s) | peak memory (MiB) | accounts per second |"
    echo "|---|---:|---:|---:|"
    row sim "simulate (once)"
    row import "import (once)"
    row train "train both models (once)"
    row score-csv "score, CSV out, no snapshot"
    row score-html "score, HTML out, no snapshot"
    row score-snapshot "score, CSV out, snapshot stored (one run)"
} > "$results"
echo "wrote $results" >&2
