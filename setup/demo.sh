#!/usr/bin/env bash
# `just demo`: plan, train with progress, evaluate, write the SQLite results
# and the HTML report, and print the report's path and the claim verdicts.
# Rerunning resumes (finished runs are not trained again).
set -euo pipefail
cd "$(dirname "$0")/.."
db=${OUTERLOOP_DEMO_DB:-out/demo.db}
grid=ablations/demo.toml

echo "== plan: $grid"
bin/harness plan --db "$db" "$grid"
echo
echo "== run (Ctrl-C stops cleanly; rerun to resume)"
bin/harness run --db "$db" "$grid"
echo
echo "Open the report in a browser; 'bin/harness ls --db $db demo' lists the runs."
