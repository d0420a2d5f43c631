package oci

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestUnpackOwnership: with a subordinate id range file owners survive
// unpacking; with a single id they degrade to 0 like umoci's rootless mode.
func TestUnpackOwnership(t *testing.T) {
	s := newTestStore(t, Opt{})
	ctx := testCtx(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "owned", Mode: 0o600, Uid: 1000, Gid: 1001, Typeflag: tar.TypeReg})
	tw.WriteHeader(&tar.Header{Name: "dir/", Mode: 0o700, Uid: 33, Gid: 33, Typeflag: tar.TypeDir})
	tw.Close()
	img, err := s.Import(ctx, &buf, ImportOpt{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if _, err := s.CreateRWLayer(ctx, img.ID, "owner-test"); err != nil {
		t.Fatal(err)
	}
	defer s.RemoveLayer(ctx, "owner-test")
	root, err := s.Mount(ctx, "owner-test")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Unmount(ctx, "owner-test")
	t.Logf("driver %s, rootless (single id) %v", s.Driver(), s.rootless)
	want := map[string]uint32{"owned": 1000, "dir": 33}
	for name, uid := range want {
		fi, err := os.Lstat(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if s.rootless {
			uid = 0
		}
		if st.Uid != uid {
			t.Errorf("%s: uid %d, want %d (rootless=%v)", name, st.Uid, uid, s.rootless)
		}
	}
	// The container layer is writable.
	if err := os.WriteFile(filepath.Join(root, "new"), []byte("x"), 0o644); err != nil {
		t.Errorf("write into container layer: %v", err)
	}
}
