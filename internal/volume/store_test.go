package volume

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

func openStore(t *testing.T, root string) *Store {
	t.Helper()
	s, err := Open(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreCreateGetReopen(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	ctx := context.Background()
	v, created, err := s.Create(ctx, CreateOptions{Name: "data", Labels: map[string]string{"a": "b"}})
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if v.Driver != DriverLocal || v.Mountpoint != filepath.Join(root, "data", "_data") || v.Anonymous() {
		t.Fatalf("volume %+v", v)
	}
	if st, err := os.Stat(v.Mountpoint); err != nil || !st.IsDir() {
		t.Fatalf("mountpoint: %v", err)
	}
	if _, created, err := s.Create(ctx, CreateOptions{Name: "data"}); err != nil || created {
		t.Fatalf("second create must return the existing volume: %v %v", created, err)
	}
	again := openStore(t, root)
	got, err := again.Get("data")
	if err != nil || got.Labels["a"] != "b" || !got.CreatedAt.Equal(v.CreatedAt) || got.Mountpoint != v.Mountpoint {
		t.Fatalf("reopened: %+v %v", got, err)
	}
}

func TestStoreAnonymous(t *testing.T) {
	s := openStore(t, t.TempDir())
	v, _, err := s.Create(context.Background(), CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(v.Name) || !v.Anonymous() {
		t.Fatalf("anonymous volume %+v", v)
	}
}

func TestStoreCreateInvalid(t *testing.T) {
	s := openStore(t, t.TempDir())
	cases := []struct {
		opt  CreateOptions
		want string
	}{
		{CreateOptions{Name: "a"}, "create a: volume name is too short"},
		{CreateOptions{Name: "a/b"}, "includes invalid characters for a local volume name"},
		{CreateOptions{Name: "ok", Driver: "nfs"}, `plugin "nfs" not found`},
		{CreateOptions{Name: "ok", Options: map[string]string{"bogus": "1"}}, `invalid option: "bogus"`},
		{CreateOptions{Name: "ok", Options: map[string]string{"type": "none", "o": "bind"}}, `missing required option: "device"`},
	}
	for _, tc := range cases {
		_, _, err := s.Create(context.Background(), tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.opt, err, tc.want)
		}
	}
}

func TestStoreRemoveRefs(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	v, _, _ := s.Create(ctx, CreateOptions{Name: "vol"})
	if err := s.Ref("vol", "c1"); err != nil {
		t.Fatal(err)
	}
	err := s.Remove(ctx, "vol", true)
	if !errdefs.IsConflict(err) || err.Error() != "remove vol: volume is in use - [c1]" {
		t.Fatalf("remove in use: %v", err)
	}
	s.Unref("vol", "c1")
	if err := s.Remove(ctx, "vol", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(v.Mountpoint)); !os.IsNotExist(err) {
		t.Fatalf("volume dir left: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(v.Mountpoint)), ".*")); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
	if err := s.Remove(ctx, "vol", false); !errdefs.IsNotFound(err) || err.Error() != "get vol: no such volume" {
		t.Fatalf("remove missing: %v", err)
	}
	if err := s.Remove(ctx, "vol", true); err != nil {
		t.Fatalf("force remove missing: %v", err)
	}
	if err := s.Ref("vol", "c1"); !errdefs.IsNotFound(err) {
		t.Fatalf("ref missing: %v", err)
	}
}

// TestStoreOpenCleansTrash: data of a removal cut short by a crash is
// deleted at the next open and never listed.
func TestStoreOpenCleansTrash(t *testing.T) {
	root := t.TempDir()
	trash := filepath.Join(root, trashPrefix+"x", "_data")
	must(t, os.MkdirAll(trash, 0o755))
	if s := openStore(t, root); len(s.List()) != 0 {
		t.Fatalf("listed %v", s.List())
	}
	if _, err := os.Stat(trash); !os.IsNotExist(err) {
		t.Fatalf("trash left: %v", err)
	}
}

func TestStoreMountPlainAndSize(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	v, _, _ := s.Create(ctx, CreateOptions{Name: "vol"})
	dir, err := s.Mount(ctx, "vol", "c1")
	if err != nil || dir != v.Mountpoint || !s.Mounted("vol", "c1") {
		t.Fatalf("mount: %q %v", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Size("vol"); err != nil || n != 5 {
		t.Fatalf("size %d %v", n, err)
	}
	if err := s.Unmount(ctx, "vol", "c1"); err != nil || s.Mounted("vol", "c1") {
		t.Fatalf("unmount: %v", err)
	}
}

func TestPopulate(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	must(t, os.MkdirAll(filepath.Join(src, "sub"), 0o750))
	must(t, os.WriteFile(filepath.Join(src, "sub", "f"), []byte("hello"), 0o640))
	must(t, os.Symlink("/etc/passwd", filepath.Join(src, "link")))
	must(t, os.Chmod(src, 0o711))
	must(t, Populate(context.Background(), src, dst))
	if b, err := os.ReadFile(filepath.Join(dst, "sub", "f")); err != nil || string(b) != "hello" {
		t.Fatalf("file: %q %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "/etc/passwd" {
		t.Fatalf("symlink: %q %v", l, err)
	}
	st, _ := os.Stat(filepath.Join(dst, "sub", "f"))
	root, _ := os.Stat(dst)
	if st.Mode().Perm() != 0o640 || root.Mode().Perm() != 0o711 {
		t.Fatalf("modes %v %v", st.Mode(), root.Mode())
	}
	// a volume with content is left alone
	must(t, os.WriteFile(filepath.Join(src, "new"), nil, 0o644))
	must(t, Populate(context.Background(), src, dst))
	if _, err := os.Stat(filepath.Join(dst, "new")); !os.IsNotExist(err) {
		t.Fatal("non-empty volume was filled again")
	}
	// a missing image path is not an error
	must(t, Populate(context.Background(), filepath.Join(src, "missing"), t.TempDir()))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPopulateSymlinkInDestination: a symlink planted in the volume (as a
// container sharing it could do) never leads the copy outside it.
func TestPopulateSymlinkInDestination(t *testing.T) {
	src, outside := t.TempDir(), t.TempDir()
	must(t, os.MkdirAll(filepath.Join(src, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "sub", "f"), []byte("x"), 0o644))
	r, err := os.OpenRoot(t.TempDir())
	must(t, err)
	defer r.Close()
	must(t, r.Symlink(outside, "sub"))
	// the copy goes on as if "sub" were created by it: it must fail there
	err = copyEntry(mustRoot(t, src), r, "sub/f")
	if err == nil {
		t.Fatal("copy through a symlink out of the volume succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "f")); !os.IsNotExist(err) {
		t.Fatalf("file written outside the volume: %v", err)
	}
}

func mustRoot(t *testing.T, dir string) *os.Root {
	t.Helper()
	r, err := os.OpenRoot(dir)
	must(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}
