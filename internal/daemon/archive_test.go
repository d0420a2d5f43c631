package daemon

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// escapeFixture makes a container root with symlinks that point at a host
// directory holding "secret": abs (absolute), rel (../ chain) and up ("..").
func escapeFixture(t *testing.T) (*rootFS, string, string) {
	t.Helper()
	base := t.TempDir()
	root, host := filepath.Join(base, "root"), filepath.Join(base, "host")
	for _, d := range []string{root, host, filepath.Join(root, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(host, "secret"), []byte("host secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"abs": host, "rel": "../../../../../../../../.." + host, "up": ".."}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := openRootFS(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, root, host
}

// assertHostUntouched fails unless host holds only the original secret.
func assertHostUntouched(t *testing.T, host string) {
	t.Helper()
	entries, err := os.ReadDir(host)
	if err != nil || len(entries) != 1 || entries[0].Name() != "secret" {
		t.Fatalf("host directory changed: %v %v", entries, err)
	}
	if data, _ := os.ReadFile(filepath.Join(host, "secret")); string(data) != "host secret" {
		t.Fatalf("host secret changed: %q", data)
	}
}

func tarStream(t *testing.T, files ...string) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 3, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, "new")
	}
	tw.Close()
	return &buf
}

func TestRootFSStatStaysInside(t *testing.T) {
	r, _, host := escapeFixture(t)
	for _, p := range []string{"/abs/secret", "/rel/secret", "/up/host/secret", "/../host/secret", "../../" + host + "/secret"} {
		if _, err := r.stat(p); !errors.Is(err, unix.ENOENT) {
			t.Errorf("stat %s: %v, want ENOENT (the path resolves inside the root)", p, err)
		}
	}
	st, err := r.stat("/abs")
	if err != nil || st.Mode&os.ModeSymlink == 0 || st.LinkTarget != host || st.Name != "abs" {
		t.Fatalf("stat /abs = %+v, %v", st, err)
	}
	if st, err := r.stat("/up/"); err != nil || !st.Mode.IsDir() {
		t.Fatalf("stat /up/ (follows to the root) = %+v, %v", st, err)
	}
}

func TestRootFSExtractStaysInside(t *testing.T) {
	r, root, host := escapeFixture(t)
	ctx := context.Background()
	err := r.extract(ctx, "/tmp", tarStream(t, "../../"+host+"/x"), extractOpt{})
	if !errdefs.IsInvalidParameter(err) {
		t.Fatalf("entry with ..: %v, want invalid parameter", err)
	}
	// Dangling in the root: refused, nothing written anywhere.
	if err := r.extract(ctx, "/", tarStream(t, "abs/a"), extractOpt{}); err == nil {
		t.Fatal("extract through a symlink dangling in the root succeeded")
	}
	assertHostUntouched(t, host)
	// With the target present in the root, entries below symlinks land there.
	if err := os.MkdirAll(filepath.Join(root, host), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []string{"/", "/abs", "/rel", "/up"} {
		if err := r.extract(ctx, dst, tarStream(t, "abs/a", "rel/b", "up/c"), extractOpt{}); err != nil {
			t.Fatalf("extract into %s: %v", dst, err)
		}
	}
	assertHostUntouched(t, host)
	if _, err := os.Stat(filepath.Join(root, host, "a")); err != nil {
		t.Fatalf("file written through the absolute symlink is not inside the root: %v", err)
	}
}

func TestRootFSExtractGzip(t *testing.T) {
	r, root, _ := escapeFixture(t)
	plain, err := io.ReadAll(tarStream(t, "zipped"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(plain)
	zw.Close()
	if err := r.extract(context.Background(), "/", &buf, extractOpt{}); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(root, "zipped")); err != nil || string(data) != "new" {
		t.Fatalf("zipped = %q, %v", data, err)
	}
}

func TestRootFSExtractNoOverwriteDirNonDir(t *testing.T) {
	r, root, _ := escapeFixture(t)
	ctx := context.Background()
	err := r.extract(ctx, "/", tarStream(t, "tmp"), extractOpt{noOverwriteDirNonDir: true})
	if !errdefs.IsInvalidParameter(err) {
		t.Fatalf("file over a directory: %v, want invalid parameter", err)
	}
	if err := r.extract(ctx, "/", tarStream(t, "tmp"), extractOpt{}); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(root, "tmp")); err != nil || string(data) != "new" {
		t.Fatalf("tmp = %q, %v", data, err)
	}
}

func TestRootFSExtractModesAndTimes(t *testing.T) {
	r, root, _ := escapeFixture(t)
	mtime := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o750, ModTime: mtime})
	tw.WriteHeader(&tar.Header{Name: "dir/suid", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 1, ModTime: mtime, Uid: os.Getuid(), Gid: os.Getgid()})
	tw.Write([]byte("x"))
	tw.WriteHeader(&tar.Header{Name: "dir/ln", Typeflag: tar.TypeSymlink, Linkname: "suid", ModTime: mtime})
	tw.WriteHeader(&tar.Header{Name: "dir/hard", Typeflag: tar.TypeLink, Linkname: "dir/suid"})
	tw.Close()
	if err := r.extract(context.Background(), "/tmp", &buf, extractOpt{}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(root, "tmp/dir/suid"))
	if err != nil || fi.Mode() != os.ModeSetuid|0o755 || !fi.ModTime().Equal(mtime) {
		t.Fatalf("suid file: %v %v", fi.Mode(), err)
	}
	if di, err := os.Stat(filepath.Join(root, "tmp/dir")); err != nil || di.Mode().Perm() != 0o750 || !di.ModTime().Equal(mtime) {
		t.Fatalf("dir: %v %v", di.Mode(), di.ModTime())
	}
	if target, err := os.Readlink(filepath.Join(root, "tmp/dir/ln")); err != nil || target != "suid" {
		t.Fatalf("symlink: %q %v", target, err)
	}
	if hi, err := os.Stat(filepath.Join(root, "tmp/dir/hard")); err != nil || !os.SameFile(hi, fi) {
		t.Fatalf("hard link: %v", err)
	}
}

func TestRootFSArchive(t *testing.T) {
	r, root, _ := escapeFixture(t)
	if err := os.WriteFile(filepath.Join(root, "tmp", "f"), []byte("in root"), 0o644); err != nil {
		t.Fatal(err)
	}
	names := archiveNames(t, r, "/tmp")
	if strings.Join(names, ",") != "tmp/,tmp/f" {
		t.Fatalf("archive of /tmp = %v", names)
	}
	if names := archiveNames(t, r, "/abs"); strings.Join(names, ",") != "abs" {
		t.Fatalf("archive of the symlink /abs = %v", names)
	}
}

func archiveNames(t *testing.T, r *rootFS, p string) []string {
	t.Helper()
	parent, base, err := r.resolve(p, followsTrailing(p))
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	return tarNames(t, int(parent.Fd()), base, tarName(p))
}

// tarNames writes the tree at dirfd/base as the archive endpoints do and
// returns the entry names.
func tarNames(t *testing.T, dirfd int, base, name string) []string {
	t.Helper()
	var buf bytes.Buffer
	tw := newTarWriter(context.Background(), &buf)
	if err := tw.add(dirfd, base, name); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	var names []string
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
}

// TestRootFSSymlinkSwapRace flips a directory of the container into a
// symlink to the host directory (atomically, with RENAME_EXCHANGE) while
// copies run in both directions. The host directory must stay untouched
// and its content must never be read.
func TestRootFSSymlinkSwapRace(t *testing.T) {
	r, root, host := escapeFixture(t)
	dir, alt := filepath.Join(root, "d"), filepath.Join(root, "d.alt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(host, alt); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var swaps atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if err := unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, alt, unix.RENAME_EXCHANGE); err != nil {
				t.Errorf("exchange: %v", err)
				return
			}
			swaps.Add(1)
		}
	}()
	ctx := context.Background()
	for i := 0; i < 300; i++ {
		_ = r.extract(ctx, "/", tarStream(t, "d/x", "d/sub/y"), extractOpt{})
		_ = r.extract(ctx, "/d", tarStream(t, "z"), extractOpt{})
		for _, p := range []string{"/d", "/d/", "/d/secret", "/d/."} {
			if leaked := readArchive(r, p); bytes.Contains(leaked, []byte("host secret")) {
				t.Fatalf("archive of %s read the host file", p)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	if swaps.Load() < 10 {
		t.Fatalf("only %d swaps happened; the race was not exercised", swaps.Load())
	}
	assertHostUntouched(t, host)
}

// readArchive returns the tar of p, or nil when the path cannot be read.
func readArchive(r *rootFS, p string) []byte {
	parent, base, err := r.resolve(p, followsTrailing(p))
	if err != nil {
		return nil
	}
	defer parent.Close()
	var buf bytes.Buffer
	tw := newTarWriter(context.Background(), &buf)
	_ = tw.add(int(parent.Fd()), base, tarName(p))
	return buf.Bytes()
}

func TestFileMode(t *testing.T) {
	cases := map[uint32]os.FileMode{
		unix.S_IFDIR | 0o755:                 os.ModeDir | 0o755,
		unix.S_IFLNK | 0o777:                 os.ModeSymlink | 0o777,
		unix.S_IFREG | unix.S_ISUID | 0o4755: os.ModeSetuid | 0o755,
		unix.S_IFCHR | 0o666:                 os.ModeDevice | os.ModeCharDevice | 0o666,
	}
	for in, want := range cases {
		if got := fileMode(in); got != want {
			t.Errorf("fileMode(%o) = %v, want %v", in, got, want)
		}
	}
}
