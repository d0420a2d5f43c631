package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T, env Env, file string, args ...string) (Config, error) {
	t.Helper()
	var c Config
	fs := c.Flags()
	if file != "" {
		p := filepath.Join(t.TempDir(), "daemon.json")
		if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config-file", p)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	err := c.Load(fs, env)
	return c, err
}

var userEnv = Env{UID: 1000, Home: "/home/u", RuntimeDir: "/run/user/1000", DataHome: "/home/u/.local/share", ConfigHome: "/home/u/.config"}

func TestDefaults(t *testing.T) {
	c, err := load(t, userEnv, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Hosts[0] != "unix:///run/user/1000/docker.sock" || c.DataRoot != "/home/u/.local/share/dockerd-lite" ||
		c.ExecRoot != "/run/user/1000/dockerd-lite" || c.ConfigFile != "/home/u/.config/dockerd-lite/daemon.json" || c.LogLevel != "info" {
		t.Errorf("user defaults: %+v", c)
	}
	c, err = load(t, Env{UID: 0, Home: "/root"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Hosts[0] != "unix:///var/run/docker.sock" || c.DataRoot != "/var/lib/dockerd-lite" || c.ExecRoot != "/var/run/dockerd-lite" {
		t.Errorf("root defaults: %+v", c)
	}
}

func TestFileAndFlags(t *testing.T) {
	c, err := load(t, userEnv, `{"data-root":"/d","registry-mirrors":["https://m"],"log-level":"debug"}`, "-H", "unix:///tmp/s.sock")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataRoot != "/d" || c.RegistryMirrors[0] != "https://m" || c.LogLevel != "debug" || c.Hosts[0] != "unix:///tmp/s.sock" {
		t.Errorf("merged: %+v", c)
	}
	_, err = load(t, userEnv, `{"data-root":"/d"}`, "--data-root", "/e")
	if err == nil || !strings.Contains(err.Error(), "both as a flag and in the configuration file: data-root") {
		t.Errorf("conflict: %v", err)
	}
	_, err = load(t, userEnv, `{"no-such-key":1}`)
	if err == nil || !strings.Contains(err.Error(), "no-such-key") {
		t.Errorf("unknown key: %v", err)
	}
	_, err = load(t, userEnv, `{`)
	if err == nil {
		t.Error("malformed file accepted")
	}
}

func TestTCPNeedsTLSOrExplicitConsent(t *testing.T) {
	cases := []struct {
		args []string
		ok   bool
	}{
		{[]string{"-H", "tcp://127.0.0.1:2375"}, false},
		{[]string{"-H", "tcp://127.0.0.1:2375", "--tls=false"}, true},
		{[]string{"-H", "tcp://127.0.0.1:2375", "--tlsverify=false"}, true},
		{[]string{"-H", "tcp://127.0.0.1", "--tlsverify", "--tlscacert", "ca", "--tlscert", "c", "--tlskey", "k"}, true},
		{[]string{"-H", "tcp://127.0.0.1", "--tlsverify"}, false},
		{[]string{"-H", "ftp://x"}, false},
		{[]string{"--log-level", "loud"}, false},
		{[]string{"--storage-driver", "zfs"}, false},
	}
	for _, tc := range cases {
		_, err := load(t, userEnv, "", tc.args...)
		if (err == nil) != tc.ok {
			t.Errorf("%v: err = %v, want ok=%v", tc.args, err, tc.ok)
		}
	}
	c, _ := load(t, userEnv, "", "-H", "tcp://127.0.0.1", "--tlsverify", "--tlscacert", "ca", "--tlscert", "c", "--tlskey", "k")
	if c.Hosts[0] != "tcp://127.0.0.1:2376" {
		t.Errorf("default TLS port: %s", c.Hosts[0])
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "daemon.json")
	os.WriteFile(p, []byte(`{"log-level":"warn"}`), 0o600)
	c, err := load(t, userEnv, "", "--config-file", p)
	if err != nil || c.LogLevel != "warn" {
		t.Fatalf("load: %v %+v", err, c)
	}
	os.WriteFile(p, []byte(`{"log-level":"debug","insecure-registries":["r:5000"],"data-root":"/ignored"}`), 0o600)
	n, err := c.Reload()
	if err != nil || n.LogLevel != "debug" || n.InsecureRegistries[0] != "r:5000" || n.DataRoot == "/ignored" {
		t.Errorf("reload: %v %+v", err, n)
	}
}

func TestCgroupParent(t *testing.T) {
	c, err := load(t, userEnv, `{"cgroup-parent":"/dockerd-lite-u"}`)
	if err != nil || c.CgroupParent != "/dockerd-lite-u" {
		t.Errorf("from daemon.json: %q, %v", c.CgroupParent, err)
	}
	c, err = load(t, userEnv, "", "--cgroup-parent", "dl")
	if err != nil || c.CgroupParent != "dl" {
		t.Errorf("from the flag: %q, %v", c.CgroupParent, err)
	}
	if _, err = load(t, userEnv, `{"cgroup-parent":"a"}`, "--cgroup-parent", "b"); err == nil {
		t.Error("flag and file both accepted")
	}
}
