#!/usr/bin/env bash
# start.sh DIR — start a throwaway single-node Slurm (munged, slurmctld,
# slurmd) whose every file lives in DIR, for tests and for trying the
# Slurm executor on a workstation. It installs Debian's slurm-wlm and munge
# first if they are missing (needs root: apt-get, no sudo).
#
# It prints the environment to use the cluster, e.g.
#   eval "$(setup/slurm/start.sh /tmp/slurm)"; sinfo; harness run --executor slurm ...
# and setup/slurm/stop.sh DIR ends the daemons it started (by pid) again.
#
# Nothing is shared with a system Slurm or munge: munged listens on a socket
# in DIR, the daemons use free ports, and SLURM_CONF points the client
# commands (sbatch, squeue, scontrol) at DIR/slurm.conf.
set -euo pipefail

dir=${1:?usage: start.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
	echo "start.sh: installing slurm-wlm and munge" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends slurm-wlm munge >"$dir/log/apt.log" 2>&1 ||
		{ apt-get update >>"$dir/log/apt.log" 2>&1 &&
			apt-get install -y --no-install-recommends slurm-wlm munge >>"$dir/log/apt.log" 2>&1; } ||
		{ echo "start.sh: apt-get install slurm-wlm munge failed; see $dir/log/apt.log" >&2; exit 1; }
fi

# munged refuses a key it does not own unless --force; the package made
# /etc/munge/munge.key for the munge user, and we run as root.
key=/etc/munge/munge.key
if [ ! -r "$key" ]; then
	key=$dir/munge/munge.key
	dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
	chmod 600 "$key"
fi
sock=$dir/munge/munge.socket

# free_port prints a TCP port nobody listens on (bash's /dev/tcp connects
# only when something listens).
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	echo "start.sh: no free port found" >&2
	exit 1
}
ctld_port=$(free_port)
slurmd_port=$(free_port)
host=$(hostname -s)

cat >"$dir/slurm.conf" <<CONF
# Single-node Slurm written by setup/slurm/start.sh; everything lives in $dir.
ClusterName=outerloop-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
# No cgroups in a container: track processes through /proc, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# Short waits keep tests quick: SIGTERM→SIGKILL after 5 s, and finished jobs
# stay visible to scontrol for a minute.
KillWait=5
MinJobAge=60
SchedulerParameters=sched_interval=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

# The daemons run in the foreground (-F, -D) in the background of this
# shell, so $! is their pid; stop.sh ends exactly those.
munged -F --force --socket="$sock" --key-file="$key" --pid-file="$dir/munge/munged.pid" \
	--log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" </dev/null >>"$dir/log/munged.out" 2>&1 &
echo $! >"$dir/munged.pid.started"
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { echo "start.sh: munged did not start; see $dir/log/munged.log" >&2; exit 1; }

export SLURM_CONF=$dir/slurm.conf
slurmctld -D -f "$SLURM_CONF" </dev/null >>"$dir/log/slurmctld.out" 2>&1 &
echo $! >"$dir/slurmctld.pid.started"
slurmd -D -f "$SLURM_CONF" </dev/null >>"$dir/log/slurmd.out" 2>&1 &
echo $! >"$dir/slurmd.pid.started"

# Ready when the node is idle in the partition.
for _ in $(seq 100); do
	state=$(sinfo -h -N -o '%T' 2>/dev/null || true)
	[ "$state" = idle ] && break
	sleep 0.2
done
if [ "$state" != idle ]; then
	echo "start.sh: the node did not come up (sinfo says '${state:-nothing}'); logs in $dir/log" >&2
	exit 1
fi
echo "export SLURM_CONF=$SLURM_CONF"
