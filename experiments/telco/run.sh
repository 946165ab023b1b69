#!/usr/bin/env bash
# Runs plain logistic regression with headroom-model on the IBM Telco churn
# file (10-fold stratified cross-validation) and writes RESULTS.md beside
# this script from the program's output.
#
# Usage: experiments/telco/run.sh [PATH_TO_CSV]
# Without a path the program looks under $HEADROOM_PUBLIC_DATA, then
# ../shared/data from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --workspace --examples
binary="${CARGO_TARGET_DIR:-target}/debug/examples/telco"
results=experiments/telco/RESULTS.md

{
    echo "# Telco churn: plain logistic regression with headroom-model"
    echo
    echo "Written by \`experiments/telco/run.sh\` from the output of"
    echo "\`crates/headroom-model/examples/telco.rs\`; rerun the script to update it."
    echo
    echo "- command: \`experiments/telco/run.sh${*:+ $*}\` (\`cargo build --workspace --examples\`, then \`$binary${*:+ $*}\`)"
    echo "- build: dev profile (the workspace's debug build; dependencies and headroom-model at opt-level 1)"
    echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM, $(uname -sr)"
    echo "- toolchain: $(rustc --version)"
    echo "- run on: $(date -u +%Y-%m-%d)"
    echo
    "$binary" "$@"
} > "$results.tmp"
mv "$results.tmp" "$results"
cat "$results"
