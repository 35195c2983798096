#!/usr/bin/env bash
# The GPU check: run on a machine with an NVIDIA GPU and Python torch but no
# Go and no network, from a copy of this repository that carries bin/
# (`just gpu-check-build` fills it here: bin/harness built against the same
# torch version with CUDA, and the peer benchmark's spec). In about 8
# minutes it
#   1. finds libtorch inside the installed torch (and the nvidia-* wheels
#      beside it) and checks that bin/harness sees the GPU;
#   2. trains every ablations/paper/*.toml model 20 optimiser steps on CUDA,
#      in fp32 and in bf16, on data of the paper task's shape, and prints
#      steps/s;
#   3. runs a 4-run outer-loop grid (ablations/demo.toml, 2 seeds) on CUDA
#      end to end: SQLite, report, verdicts;
#   4. times the same TRM training step in PyTorch eager and under
#      torch.compile on the same GPU and prints the ratio to outerloop's.
# Exits non-zero if anything failed, after saying what.
#   PYTHON=python3 OUT=/tmp/gpu-check setup/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."

py=${PYTHON:-python3}
out=${OUT:-${TMPDIR:-/tmp}/outerloop-gpu-check}/gpu-check
small_batch=${GPU_CHECK_BATCH_LARGE_SEQ:-32} # 30×30 boards (maze, ARC): 900 positions
sudoku_batch=${GPU_CHECK_BATCH_SUDOKU:-256}
mkdir -p "$out"
failures=()
say() { printf 'gpu-check: %s\n' "$*"; }
fail() { failures+=("$1"); say "FAILED: $1"; }
finish() {
  echo
  if [ ${#failures[@]} -eq 0 ]; then
    say "all checks passed ($(( SECONDS / 60 )) min $(( SECONDS % 60 )) s); outputs in $out"
    exit 0
  fi
  say "${#failures[@]} check(s) failed:"
  printf '  - %s\n' "${failures[@]}"
  exit 1
}

# 1. libtorch from the installed torch.
torch_dir=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null) ||
  { fail "$py cannot import torch"; finish; }
torch_version=$("$py" -c 'import torch; print(torch.__version__)')
site=$(dirname "$torch_dir")
libs="$torch_dir/lib"
if [ -d "$site/nvidia" ]; then
  while IFS= read -r d; do libs="$libs:$d"; done < <(find "$site/nvidia" -maxdepth 3 -type d -name lib | sort)
fi
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
say "torch $torch_version at $torch_dir"
[ -x bin/harness ] || { fail "bin/harness is missing: build it with 'just gpu-check-build' where Go is, and carry bin/"; finish; }
version=$(bin/harness version 2>&1) || { fail "bin/harness version: $version"; finish; }
echo "$version" | sed 's/^/  /'
built=$(echo "$version" | awk '$1 == "libtorch_version" {print $2}')
[ "${torch_version%%+*}" = "$built" ] || fail "bin/harness was built against libtorch $built, the installed torch is $torch_version"
echo "$version" | grep -q '^libtorch_cuda true' || { fail "bin/harness was built without CUDA (just gpu-check-build)"; finish; }
echo "$version" | grep -Eq '^gpu (none|$)' && { fail "bin/harness sees no GPU"; finish; }

# steps_per_s DB: the run's training rate between its first and last logged
# step, leaving out the first steps' lazy CUDA initialisation.
steps_per_s() {
  "$py" - "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("select step, value from metrics where name = 'wall_s' order by step").fetchall()
if len(rows) < 2:
    sys.exit("fewer than two logged steps")
(s0, w0), (s1, w1) = rows[0], rows[-1]
print(f"{(s1 - s0) / (w1 - w0):.2f}")
PY
}

# 2. Every paper model, 20 steps, fp32 and bf16.
echo
say "paper models: 20 optimiser steps each on CUDA (sudoku batch $sudoku_batch, 30×30 batch $small_batch)"
printf '  %-32s %-5s %10s\n' grid precision steps/s
for grid in ablations/paper/*.toml; do
  name=$(basename "$grid" .toml)
  task=$(awk -F'"' '/^\[task\]/{t=1} t && /^name *=/{print $2; exit}' "$grid")
  case $task in
    sudoku) sets=(--set task.source=generate --set task.train=64 --set task.test=8 --set task.augment=0 --set "train.batch=$sudoku_batch") ;;
    maze) sets=(--set task.source=generate --set task.train=16 --set task.test=4 --set task.min_path=60 --set "train.batch=$small_batch") ;;
    arc) sets=(--set task.source=../../data/arc-agi-1 --set 'task.subsets=["training", "evaluation"]' --set task.train=4 --set task.test=2 --set task.augment=2 --set "train.batch=$small_batch") ;;
    *) fail "$grid: task $task has no stand-in data"; continue ;;
  esac
  for precision in fp32 bf16; do
    db="$out/paper/$name-$precision.db"
    rm -f "$db"
    log="$out/paper/$name-$precision.log"
    mkdir -p "$out/paper"
    if timeout 300 bin/harness run --progress lines --db "$db" --set 'seeds=[1]' --set train.steps=20 --set train.log_every=5 \
      --set train.warmup=0 --set eval.loops=2 --set "train.precision=\"$precision\"" "${sets[@]}" "$grid" >"$log" 2>&1; then
      rate=$(steps_per_s "$db" 2>&1) || { fail "$name $precision: $rate"; continue; }
      printf '  %-32s %-5s %10s\n' "$name" "$precision" "$rate"
    else
      fail "$name $precision: harness run failed; the end of $log:"
      tail -5 "$log" | sed 's/^/      /'
    fi
  done
done

# 3. A small outer-loop grid end to end.
echo
say "outer-loop grid on CUDA: ablations/demo.toml, 2 seeds × train.loops {1, 4}"
grid_db="$out/grid/demo.db"
rm -rf "$out/grid"
if timeout 300 bin/harness run --progress lines --db "$grid_db" --set 'seeds=[1, 2]' --set 'train.device="cuda"' ablations/demo.toml >"$out/grid.log" 2>&1; then
  grep -E 'report|REPRODUCED|INCONCLUSIVE|runs:' "$out/grid.log" | sed 's/^/  /'
  report=$(ls "$out"/grid/reports/*/index.html 2>/dev/null | head -1)
  [ -n "$report" ] || fail "the demo grid finished but wrote no report under $out/grid/reports"
  bin/harness ls --db "$grid_db" demo | sed 's/^/  /'
else
  fail "demo grid on CUDA; the end of $out/grid.log:"
  tail -8 "$out/grid.log" | sed 's/^/      /'
fi

# 4. PyTorch eager and torch.compile, the same TRM step on the same GPU.
echo
say "TRM step, outerloop against PyTorch eager and torch.compile (ablations/paper/trm-att-sudoku-extreme.toml, batch $sudoku_batch)"
for precision in fp32 bf16; do
  db="$out/paper/trm-att-sudoku-extreme-$precision.db"
  [ -f "$db" ] || { fail "peer $precision: no outerloop run of trm-att-sudoku-extreme to compare with"; continue; }
  spec="$out/peer-trm-att-sudoku-extreme-$precision.json"
  "$py" - "$db" "$spec" <<'PY' || { fail "peer $precision: could not write the spec from $db"; continue; }
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
config, = c.execute("select config from runs").fetchone()
params, = c.execute("select value from metrics where name = 'parameters'").fetchone()
spec = json.loads(config)
n = spec["task"]["size"]
# Sudoku's tokens: padding, blank and the n digits; one position per cell.
json.dump({"spec": spec, "params": int(params), "vocab": n + 2, "seq_len": n * n}, open(sys.argv[2], "w"))
PY
  ol=$(steps_per_s "$db") || { fail "peer $precision: no outerloop rate"; continue; }
  ol_ms=$("$py" -c "print(f'{1000 / $ol:.3f}')")
  line="  $precision: outerloop $ol_ms ms/step"
  ratios=""
  for mode in eager compile; do
    res=$(timeout 240 "$py" bench/peer/peer.py --spec "$spec" --name trm-att-paper-sudoku9 --mode "$mode" --device cuda --threads 1 --steps 10 2>"$out/peer-$precision-$mode.log" | grep '^peer-pytorch') ||
      { fail "peer $precision $mode: see $out/peer-$precision-$mode.log"; tail -5 "$out/peer-$precision-$mode.log" | sed 's/^/      /'; continue; }
    ms=$(echo "$res" | sed -n 's/.*ms_per_step=\([^ ]*\).*/\1/p')
    line="$line, $mode $ms ms/step"
    ratios="$ratios vs-$mode=$("$py" -c "print(f'{$ms / $ol_ms:.2f}')")"
  done
  echo "$line"
  echo "ratio trm-att-paper-sudoku9-cuda-$precision$ratios"
done

finish
