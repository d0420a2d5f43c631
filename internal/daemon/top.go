package daemon

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// ContainerTop implements api.ContainerBackend: it runs the host's ps with
// psArgs and keeps the rows of the container's processes (those of its pid
// namespace), as Docker does with the pids of its cgroup.
func (d *Daemon) ContainerTop(ctx context.Context, name, psArgs string) (container.TopResponse, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return container.TopResponse{}, err
	}
	if !c.State.Running() {
		return container.TopResponse{}, errdefs.Errorf(errdefs.Conflict, "container %s is not running", c.ID)
	}
	pids, err := d.runtime.Pids(ctx, c.ID)
	if err != nil {
		return container.TopResponse{}, err
	}
	out, err := exec.CommandContext(ctx, "ps", strings.Fields(psArgs)...).Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return container.TopResponse{}, fmt.Errorf("error running ps: %s", msg)
	}
	return parsePS(string(out), pids)
}

// parsePS keeps the rows of ps output whose PID column is one of pids. The
// last column (the command) may hold spaces, so a row is split into as many
// fields as there are titles.
func parsePS(out string, pids []int) (container.TopResponse, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	res := container.TopResponse{Titles: strings.Fields(lines[0]), Processes: [][]string{}}
	pidCol := slices.Index(res.Titles, "PID")
	if pidCol < 0 {
		return res, errdefs.Errorf(errdefs.InvalidParameter, "Couldn't find PID field in ps output")
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= pidCol {
			continue
		}
		pid, err := strconv.Atoi(f[pidCol])
		if err != nil {
			return res, fmt.Errorf("unexpected pid %q in ps output: %w", f[pidCol], err)
		}
		if !slices.Contains(pids, pid) {
			continue
		}
		if n := len(res.Titles); len(f) > n {
			f = append(f[:n-1], strings.Join(f[n-1:], " "))
		}
		res.Processes = append(res.Processes, f)
	}
	return res, nil
}
