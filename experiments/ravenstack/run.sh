#!/usr/bin/env bash
# The whole monthly loop on the public RavenStack export, through its mapping.
# Writes experiments/ravenstack/RESULTS.md from the real output.
#
# Usage: experiments/ravenstack/run.sh
# The data is read from $HEADROOM_PUBLIC_DATA/ravenstack, else from
# ../shared/data/ravenstack beside the repository.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${HEADROOM_PUBLIC_DATA:-$root/../shared/data}/ravenstack"
mapping="$root/data/mappings/ravenstack.toml"
out="$root/experiments/ravenstack/RESULTS.md"
if [ ! -d "$data" ]; then
  echo "error: no RavenStack data in $data" >&2
  echo "hint: set HEADROOM_PUBLIC_DATA to the folder that contains ravenstack/" >&2
  exit 1
fi

cargo build --release --quiet --manifest-path "$root/Cargo.toml" --workspace
bin="$root/target/release/headroom"
project="$(mktemp -d)"
trap 'rm -rf "$project"' EXIT

# Runs one command, echoing it and its output (stdout and stderr) into a
# fenced block of the results page. A failing command is recorded, not fatal:
# what headroom says about this data is the result.
step() {
  local shown="headroom $*"
  shown="${shown//$project/PROJECT}"
  shown="${shown//$data/DATA}"
  shown="${shown//$root\//}"
  {
    echo
    echo '```'
    echo "\$ $shown"
    if "$bin" "$@" 2>&1; then :; else echo "(exit status $?)"; fi
    echo '```'
  } | sed -e "s#$project#PROJECT#g" -e "s#$data#DATA#g" -e "s#$root/##g" >> "$out.partial"
}

text() { printf '%s\n' "$@" >> "$out.partial"; }

: > "$out.partial"
text "# RavenStack: the whole loop on public data" \
  "" \
  "Produced by \`experiments/ravenstack/run.sh\` on $(date -u +%Y-%m-%d) with headroom $("$bin" version | cut -d' ' -f2)," \
  "unedited. DATA is the RavenStack export (see data/README.md for its origin), PROJECT" \
  "a temporary project folder. The mapping is data/mappings/ravenstack.toml." \
  "" \
  "## Validation" \
  "" \
  "The export went through a spreadsheet (DD-MM-YYYY dates) and has known faults of" \
  "its own; validation counts them as warnings and names an example of each."
step validate "$data" --mapping "$mapping"

text "" "## Import" ""
step init "$project"
step import "$data" --mapping "$mapping" --out "$project"

text "" "## Training" "" \
  "RavenStack records churn events and upgrade flags, so both models can be" \
  "trained. Expect weak models: in this data churned and retained accounts have" \
  "almost the same usage, most usage rows are dated before the subscription they" \
  "belong to, and the churn flag and the churn events disagree for about 300" \
  "accounts. The held-out comparison with the utilization rule and the base rate" \
  "below is the honest measure."
step train --project "$project" --calibration

text "" "## The portfolio report" "" \
  "Scored as of 2024-09-30, three months before the end of the export, with the" \
  "champions trained above."
step score --project "$project" --as-of 2024-09-30 --top 10

text "" "## One account" ""
first=$("$bin" score --project "$project" --as-of 2024-09-30 --format csv --top 1 2>/dev/null | sed -n 2p | cut -d, -f2)
step account "$first" --project "$project" --as-of 2024-09-30

text "" "## A review month" "" \
  "The review of December 2024 compares its outcomes with the scores of" \
  "2024-09-30, taken at least 90 days before each."
step review --project "$project" --month 2024-12

mv "$out.partial" "$out"
echo "wrote $out"
