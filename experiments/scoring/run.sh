#!/usr/bin/env bash
# Measures how fast a trained model scores 1,000,000 rows and writes
# RESULTS.md beside this script from the program's output.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --workspace --examples
binary="${CARGO_TARGET_DIR:-target}/debug/examples/score_speed"
results=experiments/scoring/RESULTS.md

{
    echo "# Scoring speed of a model artifact"
    echo
    echo "Written by \`experiments/scoring/run.sh\` from the output of"
    echo "\`crates/headroom-model/examples/score_speed.rs\`; rerun the script to update it."
    echo
    echo "- command: \`experiments/scoring/run.sh\` (\`cargo build --workspace --examples\`, then \`$binary\`)"
    echo "- build: dev profile (the workspace's debug build; dependencies and headroom-model at opt-level 1)"
    echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM, $(uname -sr)"
    echo "- toolchain: $(rustc --version)"
    echo "- run on: $(date -u +%Y-%m-%d)"
    echo
    "$binary"
} > "$results.tmp"
mv "$results.tmp" "$results"
cat "$results"
