package logs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkTail100 reads the last 100 lines of a 100 MB log: the backward
// scan touches only the end of the file, so the time must not depend on
// the file size.
func BenchmarkTail100(b *testing.B) {
	path := filepath.Join(b.TempDir(), "container.log")
	writeBigLog(b, path, 100<<20)
	opt := ReadOpt{Tail: 100, Stdout: true, Stderr: true}
	b.ReportAllocs()
	for b.Loop() {
		msgs, errs := Read(b.Context(), path, opt, nil)
		n := 0
		for range msgs {
			n++
		}
		if err := <-errs; err != nil || n != 100 {
			b.Fatalf("got %d lines, err %v", n, err)
		}
	}
}

func writeBigLog(b *testing.B, path string, size int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	ts := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var written int64
	for i := 0; written < size; i++ {
		line := encode(b, "stdout", fmt.Sprintf("benchmark line %d with some padding text\n", i), ts)
		n, err := w.Write(line)
		if err != nil {
			b.Fatal(err)
		}
		written += int64(n)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}
