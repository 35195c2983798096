#!/usr/bin/env bash
# setup.sh — make libtorch 2.1 and a patched gotch v0.9.1 ready for `go build`.
#
# Idempotent: a second run checks stamps and returns in about a second.
#   1. libtorch: $LIBTORCH if set (a CPU or CUDA libtorch 2.1.x tree with
#      include/ and lib/), else the CPU libraries of the torch==2.1.0 wheel from
#      PyPI, unpacked once into $XDG_CACHE_HOME/outerloop/libtorch-2.1.0.
#   2. checks: version 2.1.x, C++ ABI (read from libc10's symbols), and that
#      every DT_NEEDED of the libraries we link resolves.
#   3. gotch: the pinned module is copied from the Go module cache into
#      third_party/gotch (ignored by git; go.mod replaces gotch with it) and
#      patched by setup/gotchpatch.
# See docs/libtorch.md for what the wheel holds and why each step exists.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/outerloop"
torch_version=2.1.0
# The CUDA runtime and CUPTI are DT_NEEDED by the wheel's libtorch_cpu.so even
# on CPU; these are the versions torch 2.1.0's own metadata pins.
cuda_wheels=(nvidia-cuda-runtime-cu12==12.1.105 nvidia-cuda-cupti-cu12==12.1.105)

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

need() {
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' is not installed; it is needed to $why"
  done
}

# fetch_wheel_libtorch DIR: unpack the CPU part of the PyPI wheel into DIR.
fetch_wheel_libtorch() {
  local dir=$1 tmp
  why="download the torch wheel from PyPI"; need python3
  python3 -m pip --version >/dev/null 2>&1 || die "python3 has no pip; install python3-pip (needed to download the torch wheel)"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/outerloop-wheel.XXXXXX")
  trap 'rm -rf "${tmp:-}"; trap - RETURN' RETURN
  say "downloading torch==$torch_version (manylinux x86_64 wheel, ~670 MB) and the CUDA runtime/CUPTI wheels (~15 MB) from PyPI"
  python3 -m pip download --progress-bar on --no-deps --only-binary=:all: \
    --platform manylinux1_x86_64 --python-version 3.11 --implementation cp \
    -d "$tmp" "torch==$torch_version" "${cuda_wheels[@]}" \
    || die "pip could not download torch==$torch_version from PyPI (see the message above); or set LIBTORCH to a libtorch 2.1 tree"
  say "unpacking torch/include and the CPU libraries into $dir"
  rm -rf "$dir.partial"
  python3 - "$tmp" "$dir.partial" <<'PY'
import glob, os, shutil, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(dst, "lib"))
# CPU libraries only: libtorch_cuda.so alone is 740 MB and needs the whole
# CUDA stack; GPU users bring a CUDA libtorch through LIBTORCH.
keep_lib = ("libc10.so", "libtorch_cpu.so", "libtorch_global_deps.so", "libshm.so")
for whl in glob.glob(os.path.join(src, "*.whl")):
    with zipfile.ZipFile(whl) as z:
        for m in z.infolist():
            n = m.filename
            if n.endswith("/"):
                continue
            if n.startswith("torch/include/"):
                out = os.path.join(dst, "include", n[len("torch/include/"):])
            elif n.startswith("torch/lib/") and (os.path.basename(n) in keep_lib or os.path.basename(n).startswith("libgomp")):
                out = os.path.join(dst, "lib", os.path.basename(n))
            elif n.startswith("torch/version.py"):
                out = os.path.join(dst, "version.py")
            elif n.startswith("nvidia/") and "/lib/lib" in n and (".so" in n) and ("cudart" in n or "cupti.so" in n):
                out = os.path.join(dst, "lib", os.path.basename(n))
            else:
                continue
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(m) as r, open(out, "wb") as w:
                shutil.copyfileobj(r, w)
            os.chmod(out, 0o755 if "/lib/" in out else 0o644)
PY
  echo "torch $torch_version from PyPI (CPU libraries); ${cuda_wheels[*]}" >"$dir.partial/.complete"
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
}

# torch_minor DIR: print "MAJOR.MINOR.PATCH" from the headers.
torch_version_of() {
  local h=$1/include/torch/csrc/api/include/torch/version.h
  [ -f "$h" ] || return 1
  awk '/define TORCH_VERSION_MAJOR/{a=$3} /define TORCH_VERSION_MINOR/{b=$3} /define TORCH_VERSION_PATCH/{c=$3} END{print a"."b"."c}' "$h"
}

# check_needed DIR LIB...: every DT_NEEDED of LIB (and of the libraries it
# pulls from DIR/lib) must be in DIR/lib or known to the system loader.
check_needed() {
  local dir=$1; shift
  local -a queue=("$@") seen=() missing=()
  local sys
  sys=$(ldconfig -p 2>/dev/null || true)
  while [ ${#queue[@]} -gt 0 ]; do
    local lib=${queue[0]}; queue=("${queue[@]:1}")
    [[ " ${seen[*]-} " == *" $lib "* ]] && continue
    seen+=("$lib")
    local path=$dir/lib/$lib
    [ -f "$path" ] || { missing+=("$lib"); continue; }
    local n
    for n in $(readelf -d "$path" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      if [ -f "$dir/lib/$n" ]; then
        queue+=("$n")
      elif ! grep -q "[[:space:]]$n " <<<"$sys" && [ ! -f "/usr/local/cuda/lib64/$n" ]; then
        missing+=("$n (needed by $lib)")
      fi
    done
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "libtorch at $dir is incomplete: missing $(printf '%s; ' "${missing[@]}")put them in $dir/lib or on the system library path"
  fi
}

why="inspect libtorch's shared libraries"; need readelf nm
why="build gotch"; need go g++

if [ -n "${LIBTORCH:-}" ]; then
  libtorch=$(cd "$LIBTORCH" 2>/dev/null && pwd) || die "LIBTORCH=$LIBTORCH is not a directory"
  [ -d "$libtorch/include" ] && [ -d "$libtorch/lib" ] || die "LIBTORCH=$libtorch must contain include/ and lib/"
else
  libtorch=$cache/libtorch-$torch_version
  [ -f "$libtorch/.complete" ] || fetch_wheel_libtorch "$libtorch"
fi

version=$(torch_version_of "$libtorch") || die "no include/torch/csrc/api/include/torch/version.h under $libtorch: not a libtorch tree"
case $version in
  2.1.*) ;;
  *) die "libtorch at $libtorch is version $version; gotch v0.9.1 needs 2.1.x" ;;
esac

# The PyPI 2.1 wheels are built with the pre-cxx11 ABI, the official
# cxx11-abi zips with the new one; c10's exported std::string signatures tell.
if nm -DC "$libtorch/lib/libc10.so" | grep -q 'std::__cxx11::basic_string'; then abi=1; else abi=0; fi

cuda=0
libs=(libtorch_cpu.so libc10.so)
if [ -f "$libtorch/lib/libtorch_cuda.so" ]; then
  cuda=1
  libs+=(libtorch_cuda.so libc10_cuda.so libtorch.so)
fi
check_needed "$libtorch" "${libs[@]}"

# gotch: copy the pinned module and patch it when anything that shapes the
# result changed (the patcher's source, the libtorch path, ABI or CUDA).
gotch_src=$(cd "$root" && go mod download -json github.com/sugarme/gotch@v0.9.1 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$gotch_src" ] || die "go mod download github.com/sugarme/gotch@v0.9.1 gave no directory"
stamp=$( { cat "$root"/setup/gotchpatch/*.go; echo "$libtorch $abi $cuda $gotch_src"; } | sha256sum | cut -c1-16)
dst=$root/third_party/gotch
if [ "$(cat "$dst/.outerloop-stamp" 2>/dev/null)" != "$stamp" ]; then
  say "copying gotch v0.9.1 into third_party/gotch and patching it (libtorch $version, ABI=$abi, CUDA=$cuda)"
  rm -rf "$dst"
  mkdir -p "$root/third_party"
  cp -R "$gotch_src" "$dst"
  chmod -R u+w "$dst"
  (cd "$root" && go run ./setup/gotchpatch -dir "$dst" -libtorch "$libtorch" -abi "$abi" -version "$version" $([ $cuda = 1 ] && echo -cuda))
  echo "$stamp" >"$dst/.outerloop-stamp"
fi
printf 'LIBTORCH=%s\nTORCH_VERSION=%s\nCXX11_ABI=%s\nCUDA=%s\n' "$libtorch" "$version" "$abi" "$cuda" >"$root/third_party/libtorch.env"

# Compile gotch's C++ wrapper now, with a heartbeat, rather than let the
# first `go build` sit silent for minutes; the Go build cache keeps it.
case " ${GOFLAGS:-} " in *" -trimpath "*) ;; *) export GOFLAGS="${GOFLAGS:-} -trimpath" ;; esac
pkgs=(github.com/sugarme/gotch/ts github.com/sugarme/gotch/nn github.com/sugarme/gotch/rt)
if [ "$(cd "$root" && go list -f '{{.Stale}}' "${pkgs[0]}" 2>/dev/null)" != false ]; then
  say "compiling gotch's libtorch wrapper (one time, about 4 minutes on 2 cores)"
  start=$SECONDS
  ( while sleep 30; do say "  still compiling ($((SECONDS - start)) s)"; done ) &
  ticker=$!
  # The trap only covers a failed compile; `|| true` because under set -e a
  # trap's failing kill (the ticker already reaped) became setup's exit status.
  trap 'kill $ticker 2>/dev/null || true' EXIT
  (cd "$root" && go build "${pkgs[@]}") || die "compiling gotch failed (see above)"
  kill $ticker 2>/dev/null || true
  wait $ticker 2>/dev/null || true
  trap - EXIT
  say "compiled in $((SECONDS - start)) s"
fi
say "ready: libtorch $version at $libtorch (ABI=$abi, CUDA=$cuda); gotch patched in third_party/gotch"
