package harness

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

func TestDeadLocalHolder(t *testing.T) {
	// A process that has exited: its pid is free (until reused).
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot start a process to watch die: %v", err)
	}
	dead := cmd.Process.Pid
	host := hostKey()
	self := fmt.Sprintf("%s/%d/aaaa", host, os.Getpid())
	tests := []struct {
		owner string
		want  bool
	}{
		{fmt.Sprintf("%s/%d/bbbb/w1", host, dead), true},
		{fmt.Sprintf("%s/%d/bbbb/w1", host, os.Getppid()), false}, // alive
		{fmt.Sprintf("%s/%d/bbbb/w1", host, os.Getpid()), true},   // an earlier process with our pid
		{self + "/w2", false},                              // ourselves
		{fmt.Sprintf("otherhost/%d/bbbb/w1", dead), false}, // cannot tell: wait for expiry
		{"thief", false},
		{host + "/notapid/x/w1", false},
	}
	for _, tc := range tests {
		if got := deadLocalHolder(tc.owner, host, self); got != tc.want {
			t.Fatalf("deadLocalHolder(%q)=%v, want %v", tc.owner, got, tc.want)
		}
	}
}
