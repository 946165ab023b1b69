#!/usr/bin/env bash
# Runs the feedback loop on data/sample month by month (import, outcomes,
# score, review, retrain) and writes FEEDBACK.md beside this script.
#
# Usage: experiments/sample/feedback.sh [WORK_DIR]
# WORK_DIR contains the project and the monthly files (default: a folder under
# ${TMPDIR:-/tmp}); it is replaced on every run.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --workspace
binary="${CARGO_TARGET_DIR:-target}/debug/headroom"
work="${1:-${TMPDIR:-/tmp}/headroom-feedback}"
python3 experiments/sample/feedback.py "$binary" "$work" experiments/sample/FEEDBACK.md
echo "wrote experiments/sample/FEEDBACK.md; the project is in $work/project"
