package testimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

func TestRootfsTar(t *testing.T) {
	if _, err := os.Stat(DefaultBusybox); err != nil {
		t.Skipf("busybox-static not installed (%v); run hack/setup-host.sh", err)
	}
	data, err := rootfsTar(t.Context(), DefaultBusybox)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[hdr.Name] = hdr
	}
	want := map[string]byte{
		"bin/busybox": tar.TypeReg, "bin/sh": tar.TypeSymlink, "etc/passwd": tar.TypeReg,
		"etc/group": tar.TypeReg, "tmp/": tar.TypeDir, "bin/": tar.TypeDir,
	}
	for n, typ := range want {
		if h, ok := entries[n]; !ok || h.Typeflag != typ {
			t.Errorf("entry %s: got %+v, want type %c", n, h, typ)
		}
	}
	if h := entries["tmp/"]; h != nil && h.Mode != 0o1777 {
		t.Errorf("tmp mode = %o, want 1777", h.Mode)
	}
	if h := entries["bin/sh"]; h != nil && h.Linkname != "/bin/busybox" {
		t.Errorf("bin/sh -> %q, want /bin/busybox", h.Linkname)
	}
}

// readTarMember returns the contents of member in the tar file path.
func readTarMember(t *testing.T, path, member string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no %s (%v)", path, member, err)
		}
		if hdr.Name == member {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}
