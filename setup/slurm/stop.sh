#!/usr/bin/env bash
# stop.sh DIR — end the daemons setup/slurm/start.sh DIR started, by the
# pids it recorded (never by name: a system Slurm may be running too).
set -uo pipefail

dir=${1:?usage: stop.sh DIR}
pids=()
for d in slurmd slurmctld munged; do
	f=$dir/$d.pid.started
	[ -f "$f" ] || continue
	pid=$(cat "$f")
	kill "$pid" 2>/dev/null && pids+=("$pid")
	rm -f "$f"
done
# Wait up to 5 s for them to go, then insist.
for _ in $(seq 50); do
	alive=0
	for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
	[ $alive = 0 ] && exit 0
	sleep 0.1
done
for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
exit 0
