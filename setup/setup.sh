#!/usr/bin/env bash
# setup.sh — make libtorch (2.11 by default, or 2.1) and a patched gotch
# v0.9.1 ready for `go build`.
#
# Idempotent: a second run checks stamps and returns in about a second.
#   1. libtorch: $LIBTORCH if set (a libtorch tree with include/ and lib/, or
#      the torch folder of a Python installation), else the libraries of the
#      torch==$OUTERLOOP_TORCH wheel (default 2.11.0) from PyPI, unpacked once
#      into $XDG_CACHE_HOME/outerloop/libtorch-VERSION — the CPU part, or with
#      OUTERLOOP_CUDA=1 the CUDA part plus the nvidia-* wheels torch pins,
#      into libtorch-VERSION-cuda.
#   2. checks: version 2.1.x or 2.11.x, C++ ABI (read from libc10's symbols),
#      and that every DT_NEEDED of the libraries we link resolves.
#   3. gotch: the pinned module is copied from the Go module cache into
#      third_party/gotch (ignored by git; go.mod replaces gotch with it) and
#      patched by setup/gotchpatch for that libtorch version.
# See docs/libtorch.md for what the wheels hold and why each step exists.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/outerloop"
torch_version=${OUTERLOOP_TORCH:-2.11.0}
want_cuda=${OUTERLOOP_CUDA:-} # "": CUDA if the tree has it and it resolves; 1: required; 0: CPU only

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

need() {
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' is not installed; it is needed to $why"
  done
}

case $torch_version in
  2.1.* | 2.11.*) ;;
  *) die "OUTERLOOP_TORCH=$torch_version: outerloop builds against libtorch 2.11.x (the default) or 2.1.x; setup/gotchpatch knows no other version's API" ;;
esac
case $want_cuda in
  "" | 0 | 1) ;;
  *) die "OUTERLOOP_CUDA=$want_cuda: use 1 (link CUDA) or 0 (CPU only)" ;;
esac

# pip never widens an explicit --platform to older manylinux tags, and the
# wheels are tagged anywhere from manylinux1 (torch 2.1, nvtx) to
# manylinux_2_28 (torch 2.11): these are the tags a glibc 2.28 x86_64 system
# accepts.
pip_target=(--only-binary=:all: --python-version 3.11 --implementation cp)
for n in $(seq 28 -1 5); do pip_target+=(--platform "manylinux_2_${n}_x86_64"); done
pip_target+=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64)

# fetch_wheel_libtorch DIR cpu|cuda: unpack the torch wheel from PyPI and the
# CUDA libraries its metadata pins (cpu: only the CUDA runtime and CUPTI,
# which libtorch_cpu.so needs to load) into DIR.
fetch_wheel_libtorch() {
  local dir=$1 mode=$2 tmp reqs
  why="download the torch wheel from PyPI"; need python3
  python3 -m pip --version >/dev/null 2>&1 || die "python3 has no pip; install python3-pip (needed to download the torch wheel)"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/outerloop-wheel.XXXXXX")
  trap 'rm -rf "${tmp:-}"; trap - RETURN' RETURN
  say "downloading torch==$torch_version (manylinux x86_64 wheel, 530-670 MB) from PyPI"
  python3 -m pip download --progress-bar on --no-deps "${pip_target[@]}" -d "$tmp" "torch==$torch_version" \
    || die "pip could not download torch==$torch_version from PyPI (see the message above); or set LIBTORCH to a libtorch tree"
  reqs=$(python3 "$root/setup/wheels.py" requirements "$tmp"/torch-*.whl "$mode") || die "could not read the CUDA pins from the torch $torch_version wheel's metadata"
  local -a req_list
  mapfile -t req_list <<<"$reqs"
  if [ "$mode" = cuda ]; then
    say "downloading the CUDA wheels torch $torch_version pins (about 2-3 GB): ${req_list[*]}"
  else
    say "downloading the CUDA runtime and CUPTI wheels torch $torch_version pins (~15 MB): ${req_list[*]}"
  fi
  python3 -m pip download --progress-bar on "${pip_target[@]}" -d "$tmp" "${req_list[@]}" \
    || die "pip could not download ${req_list[*]} from PyPI (see the message above)"
  say "unpacking torch/include and the $mode libraries into $dir"
  rm -rf "$dir.partial"
  python3 "$root/setup/wheels.py" unpack "$tmp" "$dir.partial" "$mode" || die "unpacking the wheels into $dir.partial failed (see above)"
  (cd "$tmp" && ls ./*.whl) | sed 's|^\./||' >"$dir.partial/.complete"
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
  say "libtorch $torch_version ($mode) is in $dir ($(du -sh "$dir" | cut -f1))"
}

# torch_version_of DIR: print "MAJOR.MINOR.PATCH" from the headers (2.11
# moved the defines to torch/headeronly/version.h).
torch_version_of() {
  local h
  for h in "$1/include/torch/headeronly/version.h" "$1/include/torch/csrc/api/include/torch/version.h"; do
    if grep -q 'define TORCH_VERSION_MAJOR' "$h" 2>/dev/null; then
      awk '/define TORCH_VERSION_MAJOR/{a=$3} /define TORCH_VERSION_MINOR/{b=$3} /define TORCH_VERSION_PATCH/{c=$3} END{print a"."b"."c}' "$h"
      return 0
    fi
  done
  return 1
}

# missing_needed LIB...: print, one a line, every DT_NEEDED of LIB (and of
# the libraries it pulls from the library folders) that is neither in those
# folders nor known to the system loader; fail if there is any.
missing_needed() {
  local -a queue=("$@") seen=() missing=()
  local sys lib d n path
  sys=$(ldconfig -p 2>/dev/null || true)
  while [ ${#queue[@]} -gt 0 ]; do
    lib=${queue[0]}; queue=("${queue[@]:1}")
    [[ " ${seen[*]-} " == *" $lib "* ]] && continue
    seen+=("$lib")
    path=
    for d in "${libdirs[@]}"; do
      [ -f "$d/$lib" ] && { path=$d/$lib; break; }
    done
    [ -n "$path" ] || { missing+=("$lib"); continue; }
    for n in $(readelf -d "$path" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      local found=
      for d in "${libdirs[@]}"; do
        [ -f "$d/$n" ] && { found=1; break; }
      done
      if [ -n "$found" ]; then
        queue+=("$n")
      elif ! grep -q "[[:space:]]$n " <<<"$sys" && [ ! -f "/usr/local/cuda/lib64/$n" ]; then
        missing+=("$n (needed by $lib)")
      fi
    done
  done
  [ ${#missing[@]} -eq 0 ] || { printf '%s\n' "${missing[@]}"; return 1; }
}

why="inspect libtorch's shared libraries"; need readelf nm
why="build gotch"; need go g++

if [ -n "${LIBTORCH:-}" ]; then
  libtorch=$(cd "$LIBTORCH" 2>/dev/null && pwd) || die "LIBTORCH=$LIBTORCH is not a directory"
  [ -d "$libtorch/include" ] && [ -d "$libtorch/lib" ] || die "LIBTORCH=$libtorch must contain include/ and lib/ (a libtorch tree, or the torch folder of a Python installation)"
else
  mode=cpu suffix=
  if [ "$want_cuda" = 1 ]; then mode=cuda suffix=-cuda; fi
  libtorch=$cache/libtorch-$torch_version$suffix
  [ -f "$libtorch/.complete" ] || fetch_wheel_libtorch "$libtorch" "$mode"
fi

version=$(torch_version_of "$libtorch") || die "no include/torch/headeronly/version.h or include/torch/csrc/api/include/torch/version.h under $libtorch: not a libtorch tree"
case $version in
  2.1.* | 2.11.*) ;;
  *) die "libtorch at $libtorch is version $version; outerloop's patched gotch v0.9.1 builds against 2.11.x or 2.1.x" ;;
esac
if [ -n "${LIBTORCH:-}" ] && [ -n "${OUTERLOOP_TORCH:-}" ] && [ "$version" != "$OUTERLOOP_TORCH" ]; then
  die "LIBTORCH=$libtorch is version $version but OUTERLOOP_TORCH=$OUTERLOOP_TORCH; unset one of them"
fi

# Where the libraries are: lib/, and for the torch folder of a Python
# installation also the nvidia/*/lib folders of the CUDA wheels beside it in
# site-packages, which torch's own RPATH ($ORIGIN/../../nvidia/...) points at.
libdirs=("$libtorch/lib")
if [ -d "$libtorch/../nvidia" ]; then
  for d in "$libtorch"/../nvidia/*/lib; do
    [ -d "$d" ] && libdirs+=("$(cd "$d" && pwd)")
  done
fi

# The PyPI wheels up to 2.6 are built with the pre-cxx11 ABI, later ones and
# the official cxx11-abi zips with the new one. c10::Error's constructor
# takes a std::string, so its mangled name says which. (Any std::__cxx11
# symbol is not enough: 2.1's pre-cxx11 libc10 also exports libstdc++'s
# cxx11 exception constructors. And no `grep -q` after nm: it stops at the
# first match, nm dies of SIGPIPE and pipefail turns the match into a miss.)
c10_syms=$(nm -D "$libtorch/lib/libc10.so") || die "nm could not read $libtorch/lib/libc10.so"
if grep '_ZN3c105ErrorC[12]ENS_14SourceLocationENSt7__cxx1112basic_string' <<<"$c10_syms" >/dev/null; then
  abi=1
elif grep '_ZN3c105ErrorC[12]ENS_14SourceLocationESs' <<<"$c10_syms" >/dev/null; then
  abi=0
else
  die "cannot tell the C++ ABI of $libtorch/lib/libc10.so: it exports no c10::Error(c10::SourceLocation, std::string) constructor"
fi

# joined: stdin's lines joined by "; ".
joined() { paste -sd ';' | sed 's/;/; /g'; }

libs=(libtorch_cpu.so libc10.so)
missing=$(missing_needed "${libs[@]}") \
  || die "libtorch at $libtorch is incomplete: missing $(joined <<<"$missing"); put them in $libtorch/lib or on the system library path"
cuda=0
if [ -f "$libtorch/lib/libtorch_cuda.so" ] && [ "$want_cuda" != 0 ]; then
  cuda_libs=(libtorch_cuda.so libc10_cuda.so libtorch.so)
  # Loaded by libtorch when first needed rather than through DT_NEEDED.
  [ -f "$libtorch/lib/libtorch_cuda_linalg.so" ] && cuda_libs+=(libtorch_cuda_linalg.so)
  if missing=$(missing_needed "${cuda_libs[@]}"); then
    cuda=1
  else
    missing=$(joined <<<"$missing")
    [ "$want_cuda" != 1 ] || die "OUTERLOOP_CUDA=1 but libtorch's CUDA libraries at $libtorch are incomplete: missing $missing; install the nvidia-* packages torch pins, or unset OUTERLOOP_CUDA to link the CPU libraries only"
    say "note: $libtorch has libtorch_cuda.so but not all it needs (missing $missing); linking the CPU libraries only (OUTERLOOP_CUDA=1 makes this an error)"
  fi
elif [ "$want_cuda" = 1 ]; then
  die "OUTERLOOP_CUDA=1 but $libtorch/lib has no libtorch_cuda.so (a CPU-only libtorch); unset LIBTORCH to take CUDA libtorch from PyPI"
fi

# gotch: copy the pinned module and patch it when anything that shapes the
# result changed (the patcher's source, the libtorch tree and version, ABI,
# CUDA and the library folders).
gotch_src=$(cd "$root" && go mod download -json github.com/sugarme/gotch@v0.9.1 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$gotch_src" ] || die "go mod download github.com/sugarme/gotch@v0.9.1 gave no directory"
libdir_list=$(IFS=:; echo "${libdirs[*]}")
stamp=$( { cat "$root"/setup/gotchpatch/*.go "$root"/setup/gotchpatch/kernels/*; echo "$libtorch $version $abi $cuda $libdir_list $gotch_src"; } | sha256sum | cut -c1-16)
dst=$root/third_party/gotch
if [ "$(cat "$dst/.outerloop-stamp" 2>/dev/null)" != "$stamp" ]; then
  say "copying gotch v0.9.1 into third_party/gotch and patching it (libtorch $version, ABI=$abi, CUDA=$cuda)"
  rm -rf "$dst"
  mkdir -p "$root/third_party"
  cp -R "$gotch_src" "$dst"
  chmod -R u+w "$dst"
  (cd "$root" && go run ./setup/gotchpatch -dir "$dst" -libtorch "$libtorch" -libdirs "$libdir_list" -abi "$abi" -version "$version" $([ $cuda = 1 ] && echo -cuda)) \
    || die "patching gotch for libtorch $version failed (see above)"
  echo "$stamp" >"$dst/.outerloop-stamp"
fi
printf 'LIBTORCH=%s\nTORCH_VERSION=%s\nCXX11_ABI=%s\nCUDA=%s\nLIBDIRS=%s\n' "$libtorch" "$version" "$abi" "$cuda" "$libdir_list" >"$root/third_party/libtorch.env"

# Compile gotch's C++ wrapper now, with a heartbeat, rather than let the
# first `go build` sit silent for minutes; the Go build cache keeps it.
case " ${GOFLAGS:-} " in *" -trimpath "*) ;; *) export GOFLAGS="${GOFLAGS:-} -trimpath" ;; esac
pkgs=(github.com/sugarme/gotch/ts github.com/sugarme/gotch/nn github.com/sugarme/gotch/rt)
if [ "$(cd "$root" && go list -f '{{.Stale}}' "${pkgs[0]}" 2>/dev/null)" != false ]; then
  say "compiling gotch's libtorch wrapper for libtorch $version (one time per version, about 4-6 minutes on 2 cores)"
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
