#!/usr/bin/env python3
"""The peer benchmark: outerloop's training step against the same step in
PyTorch eager and under torch.compile, on this machine, at 1 and 2 threads.

outerloop's side is BenchmarkPeer (train/peer_bench_test.go), one process
per workload and thread count so that each peak RSS is its own; it writes
the resolved configuration, which peer.py reads, so both sides train the
same model. Python torch comes from setup/peer-venv.sh at the version of
the libtorch outerloop was built against. For each workload it prints
ms/step and peak RSS of the three and one line other tools read:

    ratio WORKLOAD threads=N vs-eager=X.XX vs-compile=Y.YY

(PyTorch time / outerloop time: above 1, outerloop is faster). A benchmark,
not a test: no number fails it; a side that breaks is reported and the
others go on, and the exit code is 1 then.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINE = re.compile(r"^peer-(outerloop|pytorch) (.*)$", re.M)


def fields(text):
    """The key=value pairs of the last peer-* line in text."""
    found = LINE.findall(text)
    if not found:
        return None
    return dict(kv.split("=", 1) for kv in found[-1][1].split())


def run(cmd, env=None, timeout=3600, merge=True):
    """Runs cmd; returns (output, None) or (None, why). merge=False returns
    stdout alone, for commands that report progress on stderr."""
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s: {' '.join(cmd)}"
    out = p.stdout + p.stderr
    if p.returncode != 0:
        return None, f"exit {p.returncode}: {' '.join(cmd)}\n{out[-3000:]}"
    return (out if merge else p.stdout), None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2", help="comma-separated libtorch thread counts (default 1,2)")
    ap.add_argument("--workloads", default="", help="comma-separated workload names (default: all)")
    ap.add_argument("--modes", default="eager,compile", help="PyTorch modes (default eager,compile)")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    modes = args.modes.split(",")

    work = tempfile.mkdtemp(prefix="outerloop-peer-")
    binary = os.path.join(work, "train.test")
    print("bench-peer: building train.test", file=sys.stderr, flush=True)
    _, err = run(["go", "test", "-c", "-o", binary, "./train/"])
    if err:
        sys.exit(f"bench-peer: {err}")
    out, err = run([binary, "-test.run", "^$", "-test.bench", "^BenchmarkPeer$", "-test.benchtime", "1x"],
                   env=dict(os.environ, OUTERLOOP_PEER_WORKLOAD="list"))
    if err:
        sys.exit(f"bench-peer: {err}")
    names = re.search(r"^peer-workloads (.*)$", out, re.M).group(1).split()
    if args.workloads:
        wanted = args.workloads.split(",")
        unknown = [w for w in wanted if w not in names]
        if unknown:
            sys.exit(f"bench-peer: unknown workload {', '.join(unknown)}; the workloads are {', '.join(names)}")
        names = wanted

    failed = 0
    python = None
    print(f"{'workload':26s} {'thr':>3s} {'outerloop':>11s} {'eager':>11s} {'compile':>11s}   peak RSS MiB (ol / eager / compile)")
    for name in names:
        for n in threads:
            spec = os.path.join(work, f"peer-{name}.json")
            env = dict(os.environ, OUTERLOOP_PEER_WORKLOAD=name, OUTERLOOP_PEER_THREADS=str(n), OUTERLOOP_PEER_SPEC=spec)
            print(f"bench-peer: {name} threads={n}: outerloop", file=sys.stderr, flush=True)
            out, err = run([binary, "-test.run", "^$", "-test.bench", "^BenchmarkPeer$", "-test.benchtime", "1x"], env=env)
            ol = fields(out) if out else None
            if ol is None:
                print(f"bench-peer: {name} threads={n}: outerloop failed: {err}", file=sys.stderr)
                failed += 1
                continue
            if python is None:
                version = ol["libtorch"]
                # The first call installs torch and says so on stderr;
                # the python path is stdout's last line.
                out, err = run([os.path.join(ROOT, "setup", "peer-venv.sh"), version], merge=False)
                if err:
                    sys.exit(f"bench-peer: no Python torch {version}: {err}")
                python = out.strip().splitlines()[-1]
            py = {}
            for mode in modes:
                print(f"bench-peer: {name} threads={n}: pytorch {mode}", file=sys.stderr, flush=True)
                out, err = run([python, os.path.join(ROOT, "bench", "peer", "peer.py"), "--spec", spec,
                                "--name", name, "--mode", mode, "--threads", str(n)])
                py[mode] = fields(out) if out else None
                if py[mode] is None:
                    print(f"bench-peer: {name} threads={n}: pytorch {mode} failed: {err}", file=sys.stderr)
                    failed += 1
                elif py[mode]["params"] != ol["params"]:
                    print(f"bench-peer: {name}: PyTorch has {py[mode]['params']} parameters, outerloop {ol['params']}", file=sys.stderr)
                    failed += 1
                    py[mode] = None

            def ms(f):
                return float(f["ms_per_step"]) if f else float("nan")

            def rss(f):
                return f["peak_rss_mb"] if f else "–"

            t_ol = ms(ol)
            t = {m: ms(py.get(m)) for m in ("eager", "compile")}
            print(f"{name:26s} {n:3d} {t_ol:8.2f} ms {t['eager']:8.2f} ms {t['compile']:8.2f} ms   "
                  f"{rss(ol)} / {rss(py.get('eager'))} / {rss(py.get('compile'))}")
            print(f"ratio {name} threads={n} vs-eager={t['eager'] / t_ol:.2f} vs-compile={t['compile'] / t_ol:.2f}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
