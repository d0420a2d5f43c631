package daemon

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseLink(t *testing.T) {
	for in, want := range map[string][2]string{
		"db":                {"db", "db"},
		"db:database":       {"db", "database"},
		"/db:/web/database": {"db", "database"},
		"/db":               {"db", "db"},
	} {
		if n, a := parseLink(in); n != want[0] || a != want[1] {
			t.Errorf("%q: %q %q, want %q", in, n, a, want)
		}
	}
}

func TestUpdateHostsIP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	in := "127.0.0.1\tlocalhost\n172.17.0.2\tweb\n172.17.0.3\tdb 0123456789ab db\n" +
		"172.17.0.4\tdbx other\n172.17.0.5\tdb.example db\n# 172.17.0.3\tdb\n10.0.0.9\tfoo db\n"
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	if err := updateHostsIP(path, "db", "172.17.0.7"); err != nil {
		t.Fatal(err)
	}
	want := "127.0.0.1\tlocalhost\n172.17.0.2\tweb\n172.17.0.7\tdb 0123456789ab db\n" +
		"172.17.0.4\tdbx other\n172.17.0.7\tdb.example db\n# 172.17.0.3\tdb\n10.0.0.9\tfoo db\n"
	got, _ := os.ReadFile(path)
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if after, _ := os.Stat(path); !os.SameFile(info, after) {
		t.Error("the hosts file was replaced, not rewritten in place: a bind mount would keep the old one")
	}
	if err := updateHostsIP(filepath.Join(t.TempDir(), "missing"), "db", "1.2.3.4"); err == nil {
		t.Error("missing file: no error")
	}
}
