# outerloop task runner. `just --list` shows the recipes.

set shell := ["bash", "-euo", "pipefail", "-c"]

# -trimpath keeps the one-time C++ compile of gotch's libtch in the Go build
# cache independent of where the checkout lives.
export GOFLAGS := "-trimpath"
export CGO_ENABLED := "1"

default:
    @just --list

# OUTERLOOP_TORCH=2.1.0, OUTERLOOP_CUDA=1 or LIBTORCH=DIR choose another.
# Fetch libtorch 2.11 (CPU), check it, patch gotch for it. Idempotent.
setup:
    ./setup/setup.sh

# Build bin/harness.
build: setup
    go build -o bin/harness ./cmd/harness

# Vet and run every test (slow ones included; target < 10 min on 2 cores).
test: setup
    go vet ./...
    go test -count=1 -timeout 20m ./...

# Fast subset: skips the tests that train for long or start browsers.
test-short: setup
    go test -count=1 -short ./...

# Slurm executor against a real single-node Slurm (installs it; root). ~90 s.
test-slurm: setup
    OUTERLOOP_SLURM_TEST=1 go test -count=1 -timeout 10m -run 'Slurm|RunList|ParseElement|BatchScript|GPUsFor|ShellQuote' ./cmd/harness/ ./harness/...

# ~12 min on 2 cores the first time (the 2.1 wheel and a compile of gotch
# for it), ~6 min after; the checkout is set up again as before at the end.
# The models and train tests against libtorch 2.1 (CPU).
test-torch21:
    #!/usr/bin/env bash
    set -euo pipefail
    trap ./setup/setup.sh EXIT
    env -u LIBTORCH -u OUTERLOOP_CUDA OUTERLOOP_TORCH=2.1.0 ./setup/setup.sh
    go test -count=1 -timeout 20m ./models/ ./train/

# Small end-to-end grid: plan, train, evaluate, SQLite, HTML report.
demo: build
    ./setup/demo.sh

# Benchmarks: op overhead, throughput per core, memory, ingest, generation,
# harness serve at 1,000 runs × 10,000 points.
bench: setup
    go test -run '^$' -bench 'OpOverhead|OpFloor' -benchtime 20000x ./models/ | grep -E '^Benchmark'
    go test -run '^$' -bench 'Kernels' ./models/ | grep -E '^Benchmark'
    go test -run '^$' -bench . -benchtime 1x -timeout 30m ./train/ | grep -E '^Benchmark|^memory'
    go test -run '^$' -bench . ./results/ ./tasks/ | grep -E '^Benchmark'
    go test -run '^$' -bench ServeAtScale -benchtime 10x -timeout 30m -v ./web/ | grep -E '^Benchmark.*op|rebuilt|fixture'

# Host sharing: the demo grid as one process, as two processes on one
# database, and beside a CPU hog; prints wall times (a few minutes).
bench-threads: setup
    go test -run '^$' -bench 'SharedHost' -benchtime 1x -timeout 30m ./cmd/harness/ | grep -E '^shared-host'

# Format the Go sources.
fmt:
    gofmt -w $(git ls-files '*.go')

# go vet plus a gofmt check.
lint: setup
    go vet ./...
    test -z "$(gofmt -l $(git ls-files '*.go'))" || { gofmt -l $(git ls-files '*.go'); exit 1; }

# bench/peer: the first run installs Python torch at the libtorch version
# into the cache. Prints ms/step, peak RSS and a `ratio …` line per workload.
# outerloop's training step against PyTorch eager and torch.compile (~25 min).
bench-peer: setup
    python3 bench/peer/run.py

# Carry bin/ with the checkout to a GPU machine and run setup/gpu-check.sh
# there (no Go needed); the checkout is set up again as before at the end.
# bin/harness built with CUDA from the torch wheel, for the GPU check.
gpu-check-build:
    #!/usr/bin/env bash
    set -euo pipefail
    trap ./setup/setup.sh EXIT
    OUTERLOOP_CUDA=1 ./setup/setup.sh
    go build -o bin/harness ./cmd/harness
    bin/harness version
