package daemon

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
)

// Docker's health check defaults and limits.
const (
	healthDefaultInterval      = 30 * time.Second
	healthDefaultTimeout       = 30 * time.Second
	healthDefaultStartInterval = 5 * time.Second
	healthDefaultRetries       = 3
	healthLogEntries           = 5
	healthMaxOutput            = 4096
	// healthExitError is the code of a probe that could not run.
	healthExitError = -1
)

// healthConfig is a container's health check with Docker's defaults filled
// in; nil when it has none or its Test is NONE.
func healthConfig(c *ctr.Container) *container.HealthConfig {
	hc := c.Config.Healthcheck
	if hc == nil || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		return nil
	}
	cp := *hc
	if cp.Interval <= 0 {
		cp.Interval = healthDefaultInterval
	}
	if cp.Timeout <= 0 {
		cp.Timeout = healthDefaultTimeout
	}
	if cp.StartInterval <= 0 {
		cp.StartInterval = healthDefaultStartInterval
	}
	if cp.Retries <= 0 {
		cp.Retries = healthDefaultRetries
	}
	return &cp
}

// probeArgv is the command of a CMD or CMD-SHELL test.
func probeArgv(test []string) []string {
	switch {
	case test[0] == "CMD":
		return test[1:]
	case test[0] == "CMD-SHELL" && len(test) > 1:
		return []string{"/bin/sh", "-c", strings.Join(test[1:], " ")}
	}
	return nil
}

// startHealthcheck resets c's health to "starting" and probes it in the
// background for as long as this run of the container lasts.
func (d *Daemon) startHealthcheck(c *ctr.Container) {
	cfg := healthConfig(c)
	if cfg == nil || len(probeArgv(cfg.Test)) == 0 {
		return
	}
	started := c.State.StartedAt
	_, err := d.containers.Update(c.ID, func(c *ctr.Container) error {
		c.State.Health = &container.Health{Status: container.Starting, Log: []*container.HealthcheckResult{}}
		return nil
	})
	if err != nil {
		return
	}
	go d.healthLoop(c.ID, started, cfg)
}

// healthLoop probes until the container's run that began at started ends.
func (d *Daemon) healthLoop(id string, started time.Time, cfg *container.HealthConfig) {
	ctx := d.rootCtx
	for {
		wait := cfg.Interval
		if time.Since(started) < cfg.StartPeriod {
			wait = cfg.StartInterval
		}
		if !sleep(ctx, wait) {
			return
		}
		c, err := d.containers.Get(id)
		if err != nil || !c.State.StartedAt.Equal(started) || !c.State.Running() {
			return
		}
		if c.State.Status == container.StatePaused {
			continue
		}
		res := d.probe(ctx, c, cfg)
		d.recordHealth(ctx, id, started, cfg, res)
	}
}

// probe runs the test as an exec and kills it after the timeout.
func (d *Daemon) probe(ctx context.Context, c *ctr.Container, cfg *container.HealthConfig) *container.HealthcheckResult {
	res := &container.HealthcheckResult{Start: time.Now().UTC(), ExitCode: healthExitError}
	defer func() { res.End = time.Now().UTC() }()
	proc, err := d.execProcess(ctx, c, container.ExecCreateRequest{Cmd: probeArgv(cfg.Test)})
	if err != nil {
		res.Output = err.Error()
		return res
	}
	var out limitedBuffer
	pidCh := make(chan int, 1)
	pctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	stop := context.AfterFunc(pctx, func() { // the exec outlives a ctx: kill it
		select {
		case pid := <-pidCh:
			_ = unix.Kill(pid, unix.SIGKILL)
		default:
		}
	})
	defer stop()
	st, err := d.runtime.Exec(pctx, c.ID, "health-"+hex.EncodeToString(b), proc,
		runtime.ExecOpt{Stdout: &out, Stderr: &out, Started: func(pid int) { pidCh <- pid }})
	switch {
	case pctx.Err() != nil && ctx.Err() == nil:
		res.Output = "Health check exceeded timeout (" + cfg.Timeout.String() + ")"
	case err != nil:
		res.Output = err.Error()
	default:
		res.ExitCode, res.Output = st.ExitCode, out.String()
	}
	return res
}

// recordHealth applies one probe result: a success is healthy, Retries
// failures in a row unhealthy; failures in the start period do not count.
func (d *Daemon) recordHealth(ctx context.Context, id string, started time.Time, cfg *container.HealthConfig, res *container.HealthcheckResult) {
	var changed bool
	c, err := d.containers.Update(id, func(c *ctr.Container) error {
		h := c.State.Health
		if h == nil || !c.State.StartedAt.Equal(started) {
			return nil
		}
		old := h.Status
		h.Log = append(h.Log, res)
		if len(h.Log) > healthLogEntries {
			h.Log = h.Log[len(h.Log)-healthLogEntries:]
		}
		switch {
		case res.ExitCode == 0:
			h.Status, h.FailingStreak = container.Healthy, 0
		case time.Since(started) < cfg.StartPeriod && h.Status == container.Starting:
		default:
			h.FailingStreak++
			if h.FailingStreak >= cfg.Retries {
				h.Status = container.Unhealthy
			}
		}
		changed = h.Status != old
		return nil
	})
	if err != nil || !changed {
		logErr(ctx, err, "record health check")
		return
	}
	d.containerEvent(c, "health_status: "+string(c.State.Health.Status), nil)
}

// limitedBuffer keeps the first healthMaxOutput bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := healthMaxOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
