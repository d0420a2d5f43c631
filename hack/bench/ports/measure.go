package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"time"

	"github.com/dockerd-lite/dockerd-lite/hack/bench/internal/benchkit"
)

// target is one pair of addresses to measure: the sink and the greeter.
type target struct {
	name        string
	sink, greet string
}

// throughput sends mib MiB to the sink once per run and returns each
// rate in MiB/s; a run ends when the sink closed after reading all of it.
func throughput(ctx context.Context, addr string, mib, runs int) ([]float64, error) {
	buf := make([]byte, 1<<20)
	var rates []float64
	for range runs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := sendAll(addr, buf, mib); err != nil {
			return nil, err
		}
		rates = append(rates, float64(mib)/time.Since(start).Seconds())
	}
	return rates, nil
}

func sendAll(addr string, buf []byte, mib int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	for range mib {
		if _, err := c.Write(buf); err != nil {
			return fmt.Errorf("send to %s: %w", addr, err)
		}
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, c) // EOF: the sink has read everything
	return err
}

// connects measures n times: dial, then read the greeter's first byte.
func connects(ctx context.Context, addr string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := firstByte(addr, 5*time.Second); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

func firstByte(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil {
		return fmt.Errorf("first byte from %s: %w", addr, err)
	}
	return nil
}

// waitServing polls until the greeter answers: the forwarder accepts (and
// closes) connections before the container's server listens.
func waitServing(ctx context.Context, addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := firstByte(addr, time.Second)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.Join(fmt.Errorf("%s never answered", addr), err, ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// measureTarget prints every sample of t and returns its table rows.
func measureTarget(ctx context.Context, t target, o options) ([]benchkit.Row, error) {
	rates, err := throughput(ctx, t.sink, o.mib, o.runs)
	if err != nil {
		return nil, err
	}
	lat, err := connects(ctx, t.greet, o.n)
	if err != nil {
		return nil, err
	}
	fmt.Printf("%s: throughput MiB/s %s\n", t.name, formatRates(rates))
	fmt.Fprintf(os.Stdout, "%s: connect+first byte, %d samples, min %s p90 %s max %s\n", t.name, len(lat),
		ms3(minOf(lat)), ms3(percentile(lat, 90)), ms3(maxOf(lat)))
	med := benchkit.Median(rates)
	return []benchkit.Row{
		{Figure: fmt.Sprintf("%s: TCP throughput, %d MiB (median of %d)", t.name, o.mib, o.runs),
			Value: fmt.Sprintf("%.0f MiB/s (%.1f Gbit/s)", med, med*8*1.048576/1000), Target: t.throughputTarget()},
		{Figure: fmt.Sprintf("%s: connect + first byte (median of %d)", t.name, o.n),
			Value: ms3(benchkit.Median(lat)), Target: "(no target)"},
	}, nil
}

func (t target) throughputTarget() string {
	if t.name == hostLoopback {
		return "(baseline)"
	}
	return ">= rootless Docker builtin driver"
}

func formatRates(rates []float64) string {
	s := ""
	for i, r := range rates {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.0f", r)
	}
	return s
}

func minOf(ds []time.Duration) time.Duration { return slices.Min(ds) }

func maxOf(ds []time.Duration) time.Duration { return slices.Max(ds) }

// percentile is the nearest-rank p-th percentile of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return s[max(i, 0)]
}

// ms3 formats d in milliseconds with three decimals: connects take well
// under a millisecond.
func ms3(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000) }
