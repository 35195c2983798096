package harness

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Cores says how many CPUs this process may use and what limited it.
type Cores struct {
	N     int    // at least 1
	Limit string // "affinity", "cgroup cpu.max", "SLURM_CPUS_PER_TASK"
}

// UsableCores is the smallest of: the CPUs in this process's affinity mask
// (runtime.NumCPU reads sched_getaffinity at start, so taskset and Slurm's
// cpusets count), the cgroup CPU quota rounded up (a container or a
// systemd slice with cpu.max), and SLURM_CPUS_PER_TASK inside a Slurm task.
func UsableCores() Cores {
	c := Cores{N: runtime.NumCPU(), Limit: "affinity"}
	if q, ok := cgroupQuota(); ok && int(math.Ceil(q)) < c.N {
		c = Cores{N: max(1, int(math.Ceil(q))), Limit: "cgroup cpu.max"}
	}
	if v, err := strconv.Atoi(os.Getenv("SLURM_CPUS_PER_TASK")); err == nil && v > 0 && v < c.N {
		c = Cores{N: v, Limit: "SLURM_CPUS_PER_TASK"}
	}
	return c
}

// cgroupQuota reads this process's CPU quota in CPUs from cgroup v2
// (cpu.max) or v1 (cpu.cfs_quota_us / cpu.cfs_period_us); ok is false when
// there is none.
func cgroupQuota() (float64, bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "": // v2
			if max, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", parts[2], "cpu.max")); err == nil {
				return parseCPUMax(string(max))
			}
		case strings.Contains(","+parts[1]+",", ",cpu,"): // v1
			dir := filepath.Join("/sys/fs/cgroup/cpu,cpuacct", parts[2])
			if _, err := os.Stat(dir); err != nil {
				dir = filepath.Join("/sys/fs/cgroup/cpu", parts[2])
			}
			q, err1 := os.ReadFile(filepath.Join(dir, "cpu.cfs_quota_us"))
			p, err2 := os.ReadFile(filepath.Join(dir, "cpu.cfs_period_us"))
			if err1 == nil && err2 == nil {
				return parseCPUMax(strings.TrimSpace(string(q)) + " " + strings.TrimSpace(string(p)))
			}
		}
	}
	return 0, false
}

// parseCPUMax reads "QUOTA PERIOD" (cgroup v2's cpu.max; v1 in the same
// form) as CPUs; "max" or a negative quota means no limit.
func parseCPUMax(s string) (float64, bool) {
	f := strings.Fields(s)
	if len(f) != 2 || f[0] == "max" {
		return 0, false
	}
	q, err1 := strconv.ParseFloat(f[0], 64)
	p, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0, false
	}
	return q / p, true
}

// cpuSetKey names the set of CPUs this process runs on, so that processes
// sharing CPUs share one pool of thread slots and processes on disjoint
// cpusets (two Slurm tasks on one node) do not.
func cpuSetKey() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "all"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == "Cpus_allowed_list" {
			return strings.NewReplacer(",", "_", " ", "").Replace(strings.TrimSpace(v))
		}
	}
	return "all"
}
