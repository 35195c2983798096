#!/usr/bin/env bash
# The `just demo` path; grows with the harness (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
go test -count=1 -run 'TestTinyNetwork' -v ./models/
