#!/usr/bin/env bash
# Times `headroom features` with a release build and prints the median of RUNS
# runs, in seconds, and the largest peak resident memory, for:
#   1. the bundled sample portfolio (data/sample), imported into a temporary
#      project unless it already contains tables/;
#   2. a simulated portfolio of ACCOUNTS accounts from `headroom sim`
#      (36 months from 2023-11, seed 7), imported the same way;
#   3. the in-memory synthetic portfolio of the `synthetic` example (ACCOUNTS
#      accounts x 36 months x 4 metrics), timing the library call alone.
# Steps 1 and 2 are skipped when this checkout lacks data/sample or the
# `sim` and `import` subcommands.
#
# Usage: experiments/features/bench.sh [ACCOUNTS] [RUNS]
#   SAMPLE_AS_OF  as-of date for data/sample (default: data/sample/AS_OF, else
#                 the simulator's last month end, 2026-10-31)
#   SIM_AS_OF     as-of date for the simulated portfolio (default 2026-10-31)
#   TMPDIR        where the temporary projects go (about 0.2 GB per 100,000
#                 accounts)
set -euo pipefail
cd "$(dirname "$0")/../.."

accounts="${1:-100000}"
runs="${2:-5}"
sim_as_of="${SIM_AS_OF:-2026-10-31}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --workspace --bin headroom --example synthetic
headroom=./target/release/headroom

median() {
    sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

has_command() {
    "$headroom" "$1" --help >/dev/null 2>&1
}

# time_features NAME PROJECT AS_OF: runs `headroom features` RUNS times and
# prints the median wall time and the largest peak resident memory (from
# /usr/bin/time, GNU time's %e and %M).
time_features() {
    local name="$1" project="$2" as_of="$3" times=() peaks=() measured rows
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %M' -o "$work/time.txt" \
            "$headroom" features --as-of "$as_of" --project "$project" --out "$work/features.parquet"
        read -r measured peak_kb < "$work/time.txt"
        times+=("$measured")
        peaks+=("$peak_kb")
    done
    rows=$("$headroom" features --as-of "$as_of" --project "$project" | tail -n +2 | wc -l)
    echo "$name as_of=$as_of accounts_active=$rows runs=$runs" \
        "median_seconds=$(printf '%s\n' "${times[@]}" | median)" \
        "max_peak_rss_mb=$(printf '%s\n' "${peaks[@]}" | sort -g | tail -n 1 | awk '{ print int($1 / 1024) }')"
}

# 1. The bundled sample.
if [ -d data/sample ] && has_command import; then
    project=data/sample
    if [ ! -d data/sample/tables ]; then
        project="$work/sample"
        "$headroom" import data/sample --out "$project" >/dev/null
    fi
    sample_as_of="${SAMPLE_AS_OF:-$(cat data/sample/AS_OF 2>/dev/null || echo "$sim_as_of")}"
    time_features data/sample "$project" "$sample_as_of"
else
    echo "data/sample or headroom import missing: sample skipped" >&2
fi

# 2. A simulated portfolio.
if has_command sim && has_command import; then
    "$headroom" sim --out "$work/sim" --accounts "$accounts" --format parquet --seed 7 >/dev/null
    "$headroom" import "$work/sim" --out "$work/sim-project" >/dev/null
    time_features "sim accounts=$accounts" "$work/sim-project" "$sim_as_of"
else
    echo "headroom sim or import missing: simulated portfolio skipped" >&2
fi

# 3. The in-memory synthetic portfolio (library call only).
./target/release/examples/synthetic "$accounts" 36 "$runs"
