package runtime

import (
	"os"
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

func TestCapabilities(t *testing.T) {
	all := allCaps()
	for _, tc := range []struct {
		name      string
		opt       SpecOpt
		has, lack []string
		n         int
	}{
		{name: "default", n: len(defaultCaps), has: []string{"CAP_CHOWN", "CAP_KILL"}, lack: []string{"CAP_SYS_ADMIN"}},
		{name: "add", opt: SpecOpt{CapAdd: []string{"sys_admin"}}, n: len(defaultCaps) + 1, has: []string{"CAP_SYS_ADMIN"}},
		{name: "drop", opt: SpecOpt{CapDrop: []string{"CAP_CHOWN"}}, n: len(defaultCaps) - 1, lack: []string{"CAP_CHOWN"}},
		{name: "drop all add one", opt: SpecOpt{CapDrop: []string{"ALL"}, CapAdd: []string{"net_admin"}}, n: 1, has: []string{"CAP_NET_ADMIN"}},
		{name: "add all drop one", opt: SpecOpt{CapAdd: []string{"all"}, CapDrop: []string{"mknod"}}, n: len(all) - 1, lack: []string{"CAP_MKNOD"}},
		{name: "privileged", opt: SpecOpt{Privileged: true, CapDrop: []string{"ALL"}}, n: len(all)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caps, err := capabilities(tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(caps) != tc.n {
				t.Errorf("got %d caps %v, want %d", len(caps), caps, tc.n)
			}
			for _, c := range tc.has {
				if !slices.Contains(caps, c) {
					t.Errorf("%s missing", c)
				}
			}
			for _, c := range tc.lack {
				if slices.Contains(caps, c) {
					t.Errorf("%s present", c)
				}
			}
		})
	}
	if _, err := capabilities(SpecOpt{CapAdd: []string{"CAP_BOGUS"}}); !errdefs.IsInvalidParameter(err) {
		t.Errorf("unknown capability: %v", err)
	}
}

func TestNewSpecDefaults(t *testing.T) {
	s, err := NewSpec(SpecOpt{Rootfs: "/r", Args: []string{"sh"}, Hostname: "h", Seccomp: "unconfined", Tty: true})
	if err != nil {
		t.Fatal(err)
	}
	types := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range s.Linux.Namespaces {
		types[ns.Type] = true
	}
	for _, want := range []specs.LinuxNamespaceType{specs.MountNamespace, specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace} {
		if !types[want] {
			t.Errorf("namespace %s missing", want)
		}
	}
	dests := mountDests(s)
	for _, d := range []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"} {
		if !slices.Contains(dests, d) {
			t.Errorf("mount %s missing", d)
		}
	}
	if !slices.Contains(s.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(s.Linux.ReadonlyPaths, "/proc/sys") {
		t.Error("masked or read-only paths missing")
	}
	for _, e := range []string{defaultPath, "HOSTNAME=h", "TERM=xterm"} {
		if !slices.Contains(s.Process.Env, e) {
			t.Errorf("env %s missing: %v", e, s.Process.Env)
		}
	}
	if s.Process.Cwd != "/" || s.Linux.Seccomp != nil {
		t.Errorf("cwd %q seccomp %v", s.Process.Cwd, s.Linux.Seccomp)
	}
}

func mountDests(s *specs.Spec) []string {
	var out []string
	for _, m := range s.Mounts {
		out = append(out, m.Destination)
	}
	return out
}

func TestNewSpecModesAndMounts(t *testing.T) {
	s, err := NewSpec(SpecOpt{
		Rootfs: "/r", Args: []string{"sh"}, Seccomp: "unconfined", Hostname: "h",
		Namespaces: Namespaces{PID: NamespaceHost, UTS: NamespaceHost, Net: "/proc/42/ns/net"},
		Mounts:     []specs.Mount{{Destination: "/dev/shm", Type: "bind", Source: "/x"}},
		HostsPath:  "/hosts", Init: true, InitPath: "/bin/dl",
		Ulimits: []Ulimit{{Name: "nofile", Soft: 10, Hard: 20}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace || ns.Type == specs.UTSNamespace {
			t.Errorf("host %s namespace should be shared", ns.Type)
		}
		if ns.Type == specs.NetworkNamespace && ns.Path != "/proc/42/ns/net" {
			t.Errorf("net namespace path %q", ns.Path)
		}
	}
	var shm, hosts, proc, initM *specs.Mount
	for i, m := range s.Mounts {
		switch m.Destination {
		case "/dev/shm":
			shm = &s.Mounts[i]
		case "/etc/hosts":
			hosts = &s.Mounts[i]
		case "/proc":
			proc = &s.Mounts[i]
		case InitPathInContainer:
			initM = &s.Mounts[i]
		}
	}
	if shm == nil || shm.Source != "/x" || hosts == nil || proc == nil || proc.Type != "bind" || initM == nil {
		t.Fatalf("mounts %+v", s.Mounts)
	}
	if s.Hostname != "" || s.Process.Args[0] != InitPathInContainer || s.Process.Rlimits[0].Type != "RLIMIT_NOFILE" {
		t.Errorf("hostname %q args %v rlimits %v", s.Hostname, s.Process.Args, s.Process.Rlimits)
	}
}

func TestNewSpecRejects(t *testing.T) {
	for name, opt := range map[string]SpecOpt{
		"no command":    {Rootfs: "/r"},
		"host sysctl":   {Rootfs: "/r", Args: []string{"sh"}, Sysctls: map[string]string{"vm.swappiness": "1"}},
		"net on host":   {Rootfs: "/r", Args: []string{"sh"}, Sysctls: map[string]string{"net.ipv4.ip_forward": "1"}, Namespaces: Namespaces{Net: NamespaceHost}},
		"bad ulimit":    {Rootfs: "/r", Args: []string{"sh"}, Ulimits: []Ulimit{{Name: "bogus"}}},
		"soft > hard":   {Rootfs: "/r", Args: []string{"sh"}, Ulimits: []Ulimit{{Name: "nofile", Soft: 2, Hard: 1}}},
		"init, no path": {Rootfs: "/r", Args: []string{"sh"}, Init: true},
		"bad seccomp":   {Rootfs: "/r", Args: []string{"sh"}, Seccomp: "{not json"},
	} {
		if _, err := NewSpec(opt); !errdefs.IsInvalidParameter(err) && !(name == "bad seccomp" && !SeccompSupported && err != nil) {
			t.Errorf("%s: got %v, want an invalid-parameter error", name, err)
		}
	}
	if _, err := NewSpec(SpecOpt{Rootfs: "/r", Args: []string{"sh"}, Seccomp: "unconfined", Sysctls: map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1"}}); err != nil {
		t.Errorf("namespaced sysctls refused: %v", err)
	}
}

func TestJSONLogRotation(t *testing.T) {
	path := t.TempDir() + "/c.log"
	l, err := openJSONLog(path, 200, 2)
	if err != nil {
		t.Fatal(err)
	}
	w := &lineWriter{log: l, stream: "stdout"}
	for range 10 {
		_, _ = w.Write([]byte("0123456789012345678901234567890123456789\n"))
	}
	_, _ = w.Write([]byte("partial"))
	w.flush()
	_ = l.close()
	for _, p := range []string{path, path + ".1"} {
		if !fileExists(p) {
			t.Errorf("%s missing", p)
		}
	}
	if fileExists(path + ".2") {
		t.Error("more files kept than max-file")
	}
}

// TestNewSpecHostIPC: the host's mqueue and shm are bound, not mounted
// anew (the host IPC namespace refuses a mount from the user namespace).
func TestNewSpecHostIPC(t *testing.T) {
	s, err := NewSpec(SpecOpt{Rootfs: "/r", Args: []string{"sh"}, Seccomp: "unconfined", Namespaces: Namespaces{IPC: NamespaceHost}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Mounts {
		if (m.Destination == "/dev/mqueue" || m.Destination == "/dev/shm") && (m.Type != "bind" || m.Source != m.Destination) {
			t.Errorf("--ipc host: %s is %+v, want a bind of the host's", m.Destination, m)
		}
	}
}

func TestNewSpecPrivilegedDevices(t *testing.T) {
	s, err := NewSpec(SpecOpt{Rootfs: "/r", Args: []string{"sh"}, Privileged: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range s.Linux.Devices {
		if d.Path == "/dev/null" {
			t.Error("/dev/null listed although libcontainer adds it")
		}
	}
	if _, err := os.Stat("/dev/net/tun"); err == nil && !slices.ContainsFunc(s.Linux.Devices, func(d specs.LinuxDevice) bool { return d.Path == "/dev/net/tun" }) {
		t.Errorf("privileged devices lack /dev/net/tun: %+v", s.Linux.Devices)
	}
}
