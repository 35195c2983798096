#!/usr/bin/env bash
# Installs Debian's chromium for the reports browser test (TestBrowser).
# Run as root; CI calls it before `go test ./reports/`.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium
