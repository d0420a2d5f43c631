package oci

import (
	"archive/tar"
	"bufio"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const benchLayerSize = 256 << 20

// writeBenchLayer writes a gzip layer with one file of random bytes.
func writeBenchLayer(b *testing.B, path string, size int64) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "blob", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(tw, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	for _, c := range []io.Closer{tw, zw} {
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPull256MiB pulls a single-layer image with a 256 MiB file from
// the loopback registry into a fresh store per iteration.
func BenchmarkPull256MiB(b *testing.B) {
	requireUserNS(b)
	path := filepath.Join(b.TempDir(), "layer.tar.gz")
	writeBenchLayer(b, path, benchLayerSize)
	l, err := tarball.LayerFromFile(path)
	if err != nil {
		b.Fatal(err)
	}
	reg := newTestRegistry(b)
	ref := reg.push(b, "bench/big:latest", imageOfLayers(b, "amd64", "bench", l))
	os.Remove(path)
	b.SetBytes(benchLayerSize)
	var peak int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		s, err := New(testCtx(b), Opt{Root: dir + "/root", RunRoot: dir + "/run"})
		if err != nil {
			b.Fatal(err)
		}
		resetPeakRSS()
		b.StartTimer()
		if _, err := s.Pull(testCtx(b), ref, PullOpt{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		peak = max(peak, peakRSS())
		// Drop the data now so dirty pages of earlier iterations do
		// not throttle later ones.
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		os.RemoveAll(dir)
		b.StartTimer()
	}
	if peak > 0 {
		// The in-process test registry (serving from disk) is included.
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	}
}

// resetPeakRSS returns freed memory to the OS and resets VmHWM, so
// peakRSS measures what happens from now on.
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS reads VmHWM (bytes), or 0 when unavailable.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
