package e2e

import (
	"testing"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

func TestContainerSmoke(t *testing.T) {
	d := harness.Shared(t)
	img := d.LoadBusybox(t)
	t.Log(d.ExecRoot, len(d.ExecRoot))
	t.Log(d.Docker(t, "run", "--rm", img, "echo", "hi"))
	t.Log(d.Docker(t, "run", "-d", "--name", "smk", img, "sleep", "30"))
	t.Log(d.Docker(t, "exec", "smk", "echo", "hi"))
	t.Log(d.Docker(t, "rm", "-f", "smk"))
}
