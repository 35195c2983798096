package main

import (
	"os"
	"syscall"
)

// OpenMP's wait policy. libtorch's OpenMP threads spin between parallel
// regions by default; when more threads than cores want the CPU (another
// harness process, any other job), the spinning ones steal it from the
// working ones: two harness processes on 2 cores ran 8× slower than one
// (2 min 4 s a run against 16 s), and 28–30 s with a passive policy.
// libgomp reads OMP_WAIT_POLICY once, when it is loaded — before main
// runs — so the harness sets it by executing itself again with it.

// waitPolicyVar is OpenMP's environment variable for the policy.
const waitPolicyVar = "OMP_WAIT_POLICY"

// reexecVar marks the second execution, so it never loops.
const reexecVar = "OUTERLOOP_REEXEC"

// ensurePassiveWait re-executes the harness with OMP_WAIT_POLICY=PASSIVE
// unless the user set a policy (theirs wins) or this is the re-execution.
// It returns only when no re-execution happened.
func ensurePassiveWait() {
	if _, set := os.LookupEnv(waitPolicyVar); set || os.Getenv(reexecVar) != "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), waitPolicyVar+"=PASSIVE", reexecVar+"=1")
	syscall.Exec(exe, os.Args, env) // returns only on failure: run as we are
}

// waitPolicy describes the policy in effect, for `harness version`.
func waitPolicy() string {
	v, set := os.LookupEnv(waitPolicyVar)
	switch {
	case !set:
		return "ACTIVE (OpenMP's default; OMP_WAIT_POLICY unset)"
	case os.Getenv(reexecVar) != "":
		return v + " (set by the harness)"
	}
	return v + " (from the environment)"
}
