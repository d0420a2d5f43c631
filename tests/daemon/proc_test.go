package daemon

import (
	"os"
	"os/exec"
	"slices"
	"testing"
)

func TestDescendantsAndStatus(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot run sleep: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if !slices.Contains(Descendants(os.Getpid()), cmd.Process.Pid) {
		t.Errorf("Descendants(self) = %v, want it to hold %d", Descendants(os.Getpid()), cmd.Process.Pid)
	}
	ids, err := UIDs(cmd.Process.Pid)
	if err != nil || len(ids) != 4 || ids[0] != os.Getuid() {
		t.Errorf("UIDs = %v, %v; want 4 ids starting with %d", ids, err, os.Getuid())
	}
	if kb, err := RSSKiB(os.Getpid()); err != nil || kb <= 0 {
		t.Errorf("RSSKiB(self) = %d, %v", kb, err)
	}
}
