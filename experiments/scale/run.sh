#!/usr/bin/env bash
# Times the whole headroom commands on simulated portfolios of several sizes
# with a release build and writes experiments/scale/RESULTS.md.
#
# For each size: simulate ACCOUNTS accounts x 36 months (2023-11 to 2026-10,
# seed 7) as Parquet, then time, RUNS times each:
#   import     headroom import SIM --out PROJECT
#   features   headroom features --as-of 2026-10-31
#   panel      headroom features --from 2024-11-30 --to 2026-10-31 (24 month ends)
#   train      headroom train (both models)
#   score      headroom score --as-of 2026-10-31 --format csv --out FILE --no-snapshot
#   snapshot   headroom score --as-of 2026-07-31 --format csv --out FILE (stored)
#   review     headroom review --month 2026-10
# The review matches the outcomes of 2026-10, which the imported history
# already contains, with the snapshot of 2026-07-31, 92 days before.
#
# Every run is recorded in WORK/measurements.txt (size, step, seconds, peak
# resident memory from /usr/bin/time -v, rows, exit status). RESULTS.md is
# written from all the measurements in that file, so sizes can be measured by
# separate invocations (the million-account size with fewer runs).
#
# Usage: experiments/scale/run.sh [ACCOUNTS...]   (default: 10000 100000 1000000)
#   RUNS                 runs per step (default: 3 up to 100,000 accounts, else 1)
#   TRAIN_RUNS           runs of `headroom train` (default: RUNS)
#   WORK                 folder for portfolios and projects (default /tmp/headroom-scale);
#                        a 1,000,000-account portfolio and project take about 1.5 GB
#   TRAIN_MAX_ACCOUNTS   train only up to this size (default 100000); larger
#                        projects score with the models trained at the largest
#                        size trained, copied with its store
#   MEMORY_CAP_GB        address-space limit of each command (default 16), so a
#                        step that runs out of memory fails alone instead of
#                        starting the kernel's out-of-memory killer
#   SKIP_BUILD=1         use target/release/headroom as it is
#   HEADROOM             the binary to time (default target/release/headroom)
set -euo pipefail
cd "$(dirname "$0")/../.."

work="${WORK:-/tmp/headroom-scale}"
train_max="${TRAIN_MAX_ACCOUNTS:-100000}"
memory_cap_gb="${MEMORY_CAP_GB:-16}"
results="experiments/scale/RESULTS.md"
headroom="${HEADROOM:-$PWD/target/release/headroom}"
as_of="2026-10-31"
panel_from="2024-11-30"
snapshot_as_of="2026-07-31"
review_month="2026-10"
sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then
    sizes=(10000 100000 1000000)
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release --workspace --bin headroom
fi
mkdir -p "$work"
measurements="$work/measurements.txt"
loads="$work/load.txt"
touch "$measurements"

# measure SIZE STEP ROWS_COMMAND -- ARGS...: runs ARGS under /usr/bin/time -v
# with the address-space cap, keeps its output in WORK/SIZE/STEP.out and .err,
# and appends "size step seconds kbytes rows status" to the measurements.
# ROWS_COMMAND is evaluated afterwards to count the rows the step handled.
measure() {
    local size="$1" step="$2" rows_command="$3"
    shift 4
    local dir="$work/$size" status=0
    cat /proc/loadavg | cut -d' ' -f1 >> "$loads"
    (
        ulimit -v $((memory_cap_gb * 1024 * 1024))
        /usr/bin/time -v -o "$dir/$step.time" "$@" > "$dir/$step.out" 2> "$dir/$step.err"
    ) || status=$?
    cat /proc/loadavg | cut -d' ' -f1 >> "$loads"
    local seconds kbytes rows
    seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$dir/$step.time")
    kbytes=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/$step.time")
    rows=0
    if [ "$status" -eq 0 ]; then
        rows=$(eval "$rows_command" | tr -d ',' | head -1)
    fi
    echo "$size $step $seconds $kbytes ${rows:-0} $status" >> "$measurements"
    echo "$size $step: ${seconds} s, $((kbytes / 1024)) MiB, ${rows:-0} rows, exit $status" >&2
    return "$status"
}

# The rows each step handles, read from its own output.
plain() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
usage_rows() { awk '$1 == "usage" && $3 == "rows" { print $2 }' "$1"; }
logged_rows() { plain "$1" | sed -n 's/.*computed features rows=\([0-9]*\).*/\1/p'; }
training_rows() { sed -n 's/^training set: \([0-9,]*\) rows.*/\1/p' "$1"; }
scored_rows() { sed -n 's/^scored \([0-9,]*\) accounts.*/\1/p' "$1"; }
reviewed_rows() { sed -n 's/^\([0-9,]*\) outcomes in .*/\1/p' "$1"; }

run_size() {
    local size="$1" runs="$2"
    local dir="$work/$size" sim="$work/$size/sim" project="$work/$size/project"
    mkdir -p "$dir"
    # A run of this script replaces the earlier measurements of the size.
    awk -v size="$size" '$1 != size' "$measurements" > "$measurements.tmp"
    mv "$measurements.tmp" "$measurements"

    if [ ! -d "$sim" ]; then
        measure "$size" sim "echo $size" -- "$headroom" -q sim --accounts "$size" --months 36 \
            --start 2023-11 --seed 7 --format parquet --out "$sim"
    fi

    rm -rf "$project"
    for _ in $(seq "$runs"); do
        measure "$size" import "usage_rows $dir/import.out" -- \
            "$headroom" import "$sim" --out "$project" || true
    done
    if [ ! -d "$project/tables" ]; then
        echo "$size: no imported project, so the later steps are not run" >&2
        return
    fi

    for _ in $(seq "$runs"); do
        measure "$size" features "logged_rows $dir/features.err" -- \
            "$headroom" -v features --project "$project" --as-of "$as_of" \
            --out "$dir/features.parquet" || true
    done
    rm -f "$dir/features.parquet"
    for _ in $(seq "$runs"); do
        measure "$size" panel "logged_rows $dir/panel.err" -- \
            "$headroom" -v features --project "$project" --from "$panel_from" --to "$as_of" \
            --out "$dir/panel.parquet" || true
    done
    rm -f "$dir/panel.parquet"

    if [ "$size" -le "$train_max" ]; then
        for run in $(seq "${TRAIN_RUNS:-$runs}"); do
            if [ "$run" -gt 1 ]; then
                # Each run trains in a store without models, as the first one did.
                rm -rf "$project/store" "$project/models"
            fi
            measure "$size" train "training_rows $dir/train.out" -- \
                "$headroom" -q train --project "$project" || true
        done
        rm -rf "$work/trained"
        mkdir -p "$work/trained"
        cp -a "$project/store" "$project/models" "$work/trained/"
        echo "$size" > "$work/trained/accounts"
    elif [ -d "$work/trained" ]; then
        rm -rf "$project/store" "$project/models"
        cp -a "$work/trained/store" "$work/trained/models" "$project/"
    fi

    for _ in $(seq "$runs"); do
        measure "$size" score "scored_rows $dir/score.err" -- \
            "$headroom" score --project "$project" --as-of "$as_of" --format csv \
            --out "$dir/scores.csv" --no-snapshot || true
    done
    for _ in $(seq "$runs"); do
        measure "$size" snapshot "scored_rows $dir/snapshot.err" -- \
            "$headroom" score --project "$project" --as-of "$snapshot_as_of" --format csv \
            --out "$dir/scores-$snapshot_as_of.csv" || true
    done
    for _ in $(seq "$runs"); do
        measure "$size" review "reviewed_rows $dir/review.out" -- \
            "$headroom" review --project "$project" --month "$review_month" || true
    done
}

for size in "${sizes[@]}"; do
    runs="${RUNS:-}"
    if [ -z "$runs" ]; then
        if [ "$size" -le 100000 ]; then runs=3; else runs=1; fi
    fi
    run_size "$size" "$runs"
done

# ---- RESULTS.md from every measurement in the file ----

# step_summary SIZE STEP: "runs median_seconds max_kbytes rows failed" of the
# successful runs, plus the number of failed runs.
step_summary() {
    awk -v size="$1" -v step="$2" '
        $1 == size && $2 == step && $6 == 0 { n++; s[n] = $3; if ($4 > k) k = $4; r = $5 }
        $1 == size && $2 == step && $6 != 0 { f++; if ($4 > fk) fk = $4 }
        END {
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
            m = n ? s[int((n + 1) / 2)] : 0
            if (!n) k = fk
            printf "%d %s %d %d %d\n", n, m, k, r, f
        }' "$measurements"
}

# thousands N: N with a comma between each group of three digits.
thousands() {
    echo "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'
}

label() {
    case "$1" in
        sim) echo "simulate (once)" ;;
        import) echo "import" ;;
        features) echo "features as of $as_of" ;;
        panel) echo "features at 24 month ends" ;;
        train) echo "train both models" ;;
        score) echo "score, CSV out, no snapshot" ;;
        snapshot) echo "score as of $snapshot_as_of, CSV out, snapshot stored" ;;
        review) echo "review $review_month" ;;
    esac
}

row_unit() {
    case "$1" in
        sim) echo "accounts" ;;
        import) echo "usage rows" ;;
        features | panel) echo "feature rows" ;;
        train) echo "training rows" ;;
        score | snapshot) echo "accounts scored" ;;
        review) echo "outcomes" ;;
    esac
}

measured_sizes=$(awk '{ print $1 }' "$measurements" | sort -n | uniq)
trained_at=$(cat "$work/trained/accounts" 2>/dev/null || echo "")
cpu=$(lscpu | sed -n 's/^Model name: *//p')
memory=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1024 / 1024 }' /proc/meminfo)
load_range=$(sort -g "$loads" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s to %s", lo, hi }')

{
    echo "# headroom at 10,000 to 1,000,000 accounts"
    echo
    echo "Written by \`experiments/scale/run.sh\`; rerun the script to update it."
    echo
    echo "- portfolios: \`headroom sim --accounts N --months 36 --start 2023-11 --seed 7 --format parquet\`"
    echo "  (3 usage metrics and 8 feature metrics, monthly rows)"
    echo "- build: release profile (\`cargo build --release --workspace --bin headroom\`)"
    echo "- machine: $cpu, $(nproc) cores, $memory RAM, $(uname -sr)"
    echo "- toolchain: $(rustc --version)"
    echo "- load average (1 minute) before and after each command: $load_range; the machine"
    echo "  was shared with other builds, so single runs vary"
    echo "- each command ran with an address space limit of $memory_cap_gb GB (\`ulimit -v\`)"
    echo "- run on: $(date -u +%Y-%m-%d)"
    echo
    echo "Wall time is the median of the successful runs, peak memory the largest"
    echo "maximum resident set size of those runs (\`/usr/bin/time -v\`), and rows per"
    echo "second the step's own rows (listed) over the median time."
    for size in $measured_sizes; do
        echo
        echo "## $(thousands "$size") accounts"
        echo
        echo "| step | runs | wall time (s) | peak memory (MiB) | rows | rows per second |"
        echo "|---|---:|---:|---:|---|---:|"
        for step in sim import features panel train score snapshot review; do
            read -r n median kbytes rows failed <<< "$(step_summary "$size" "$step")"
            if [ "$n" -eq 0 ] && [ "$failed" -eq 0 ]; then
                continue
            fi
            if [ "$n" -eq 0 ]; then
                echo "| $(label "$step") | 0 of $failed | failed | $((kbytes / 1024)) at the failure | | |"
                continue
            fi
            local_rate=$(awk -v r="$rows" -v s="$median" 'BEGIN { if (s > 0) printf "%.0f", r / s; else print "" }')
            runs_text="$n"
            if [ "$failed" -gt 0 ]; then runs_text="$n (and $failed failed)"; fi
            echo "| $(label "$step") | $runs_text | $median | $((kbytes / 1024)) | $(thousands "$rows") $(row_unit "$step") | $(thousands "$local_rate") |"
        done
        if [ -n "$trained_at" ] && [ "$size" -gt "$trained_at" ] && [ "$size" -gt "$train_max" ]; then
            echo
            echo "Training was not run at this size; the scores come from the models trained"
            echo "at $(thousands "$trained_at") accounts, copied with their store."
        fi
    done
    echo
    echo "## Commands"
    echo
    echo "\`\`\`"
    echo "headroom sim --accounts N --months 36 --start 2023-11 --seed 7 --format parquet --out SIM"
    echo "headroom import SIM --out PROJECT"
    echo "headroom features --project PROJECT --as-of $as_of --out features.parquet"
    echo "headroom features --project PROJECT --from $panel_from --to $as_of --out panel.parquet"
    echo "headroom train --project PROJECT"
    echo "headroom score --project PROJECT --as-of $as_of --format csv --out scores.csv --no-snapshot"
    echo "headroom score --project PROJECT --as-of $snapshot_as_of --format csv --out scores.csv"
    echo "headroom review --project PROJECT --month $review_month"
    echo "\`\`\`"
    if [ -f experiments/scale/NOTES.md ]; then
        echo
        cat experiments/scale/NOTES.md
    fi
} > "$results"
echo "wrote $results" >&2
