#!/usr/bin/env bash
# Python torch for the peer benchmark (bench/peer), pinned to the libtorch
# version outerloop builds against, in a virtual environment under the
# cache. Idempotent: an environment whose torch does not import at that
# version (an interrupted install) is built again. Prints the
# environment's python on its last line.
#   setup/peer-venv.sh 2.11.0
set -euo pipefail

version=${1:?usage: setup/peer-venv.sh TORCH_VERSION}
cache="${XDG_CACHE_HOME:-$HOME/.cache}/outerloop"
venv="$cache/peer-venv-$version"
say() { printf 'peer-venv: %s\n' "$*" >&2; }
ready() {
  [ -x "$venv/bin/python" ] &&
    "$venv/bin/python" -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != sys.argv[1])" "$version" 2>/dev/null
}

if ! ready; then
  say "installing torch==$version from PyPI into $venv (a few GB with its CUDA wheels; once)"
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "torch==$version" >&2 ||
    { say "error: pip install torch==$version failed (see above)"; exit 1; }
  ready || { say "error: torch $version installed into $venv but does not import"; exit 1; }
fi
echo "$venv/bin/python"
