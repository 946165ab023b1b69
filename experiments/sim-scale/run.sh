#!/usr/bin/env bash
# Generates a 1,000,000-account, 36-month portfolio in Parquet with the release
# binary and prints its wall time, CPU time, peak resident memory and size.
#
# Run from the repository root after `cargo build --release --workspace`:
#   experiments/sim-scale/run.sh [OUT_DIR] [ACCOUNTS]
set -euo pipefail

out=${1:-/tmp/headroom-sim-1m}
accounts=${2:-1000000}
binary=target/release/headroom
log=$(mktemp)

rm -rf "$out"
/usr/bin/time -v "$binary" -v sim --accounts "$accounts" --months 36 --seed 7 \
    --format parquet --out "$out" 2> "$log"

grep -E "Elapsed \(wall clock\)|User time|System time|Maximum resident set size" "$log"
du -sh "$out"
du -sh "$out"/* "$out"/truth/*
rm -f "$log"
