package runtime

import (
	"os"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// SpecOpt describes a container in Docker's terms; NewSpec turns it into an
// OCI runtime spec with Docker's defaults. The daemon resolves names (user,
// group, container:<id> modes) before filling it.
type SpecOpt struct {
	// Rootfs is the absolute path of the container's root filesystem.
	Rootfs         string
	ReadonlyRootfs bool
	// Args is the command (entrypoint plus cmd, already merged).
	Args []string
	// Env is KEY=value; PATH, HOSTNAME and (with Tty) TERM get Docker's
	// defaults when missing.
	Env []string
	// Cwd defaults to "/".
	Cwd string
	Tty bool
	// ConsoleHeight and ConsoleWidth are the initial pty size with Tty.
	ConsoleHeight, ConsoleWidth uint
	UID, GID                    uint32
	AdditionalGids              []uint32
	Hostname, Domainname        string
	// CapAdd and CapDrop take names with or without "CAP_", any case, or
	// "ALL".
	CapAdd, CapDrop []string
	// Privileged grants every capability and lifts masked paths and seccomp,
	// as far as the user namespace allows.
	Privileged      bool
	NoNewPrivileges bool
	// Seccomp is "" for Docker's default profile, "unconfined", or the JSON
	// text of a profile.
	Seccomp string
	Ulimits []Ulimit
	// Sysctls must be namespaced ones (kernel.msg*, kernel.sem, kernel.shm*,
	// fs.mqueue.*, net.* with a private network namespace).
	Sysctls     map[string]string
	OomScoreAdj *int
	// ShmSize is the size of /dev/shm in bytes (0: Docker's 64 MiB).
	ShmSize    int64
	Namespaces Namespaces
	// Mounts are extra mounts (binds, tmpfs, volumes), applied after and
	// replacing defaults at the same destination.
	Mounts []specs.Mount
	// HostsPath, HostnamePath and ResolvConfPath are files bind-mounted at
	// /etc/hosts, /etc/hostname and /etc/resolv.conf when set.
	HostsPath, HostnamePath, ResolvConfPath string
	// Init runs the command under InitPath mounted at /sbin/docker-init.
	Init bool
	// InitPath is a statically linked engine binary (it must run inside
	// any image); required with Init.
	InitPath string
}

// Ulimit is one rlimit by Docker's name ("nofile", "nproc", ...).
type Ulimit struct {
	Name string
	Soft int64
	Hard int64
}

// Namespaces selects, per kind, a new namespace (""), the daemon's own
// ("host") or an existing one by path (e.g. /proc/<pid>/ns/net for
// container:<id> or a prepared network namespace).
type Namespaces struct {
	PID, IPC, UTS, Net string
}

// NamespaceHost shares the daemon's namespace.
const NamespaceHost = "host"

// defaultPath is the PATH Docker gives a container without one.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// NewSpec builds the runtime spec. Invalid options give InvalidParameter
// errors.
func NewSpec(opt SpecOpt) (*specs.Spec, error) {
	if opt.Rootfs == "" || len(opt.Args) == 0 {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "no rootfs or command specified")
	}
	if opt.Init && opt.InitPath == "" {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "init requested but no init binary configured")
	}
	s := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: opt.Rootfs, Readonly: opt.ReadonlyRootfs},
		Process:  newSpecProcess(opt),
		Linux:    &specs.Linux{Sysctl: map[string]string{}},
		Hostname: opt.Hostname, Domainname: opt.Domainname,
	}
	if opt.Namespaces.UTS == NamespaceHost {
		s.Hostname, s.Domainname = "", ""
	}
	s.Linux.Namespaces = namespaces(opt.Namespaces)
	s.Mounts = withUserMounts(defaultMounts(opt), opt)
	steps := []func(*specs.Spec, SpecOpt) error{setCapabilities, setRlimits, setSysctls, setSecurityPaths, setSeccomp, setPrivilegedDevices}
	for _, step := range steps {
		if err := step(s, opt); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func newSpecProcess(opt SpecOpt) *specs.Process {
	p := &specs.Process{
		Terminal:        opt.Tty,
		Args:            slices.Clone(opt.Args),
		Env:             defaultEnv(opt),
		Cwd:             opt.Cwd,
		User:            specs.User{UID: opt.UID, GID: opt.GID, AdditionalGids: opt.AdditionalGids},
		NoNewPrivileges: opt.NoNewPrivileges,
		OOMScoreAdj:     opt.OomScoreAdj,
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	if opt.Tty && opt.ConsoleHeight > 0 {
		p.ConsoleSize = &specs.Box{Height: opt.ConsoleHeight, Width: opt.ConsoleWidth}
	}
	if opt.Init {
		p.Args = append([]string{InitPathInContainer, "--"}, p.Args...)
	}
	return p
}

// defaultEnv adds what Docker's daemon adds to every container.
func defaultEnv(opt SpecOpt) []string {
	hostname := opt.Hostname
	if opt.Namespaces.UTS == NamespaceHost {
		hostname = ""
	}
	return ProcessEnv(opt.Env, hostname, opt.Tty)
}

// ProcessEnv is env with what Docker adds to a container's processes, its
// main process and execs alike, where env lacks them: PATH, HOSTNAME (when
// hostname is set) and, with a terminal, TERM=xterm.
func ProcessEnv(env []string, hostname string, tty bool) []string {
	env = slices.Clone(env)
	has := func(key string) bool {
		return slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, key+"=") })
	}
	if !has("PATH") {
		env = append(env, defaultPath)
	}
	if !has("HOSTNAME") && hostname != "" {
		env = append(env, "HOSTNAME="+hostname)
	}
	if tty && !has("TERM") {
		env = append(env, "TERM=xterm")
	}
	return env
}

func namespaces(ns Namespaces) []specs.LinuxNamespace {
	out := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	for _, n := range []struct {
		t    specs.LinuxNamespaceType
		mode string
	}{{specs.PIDNamespace, ns.PID}, {specs.IPCNamespace, ns.IPC}, {specs.UTSNamespace, ns.UTS}, {specs.NetworkNamespace, ns.Net}} {
		switch n.mode {
		case NamespaceHost:
		case "":
			out = append(out, specs.LinuxNamespace{Type: n.t})
		default:
			out = append(out, specs.LinuxNamespace{Type: n.t, Path: n.mode})
		}
	}
	if cgroup2() {
		out = append(out, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	return out
}

// cgroup2 reports a unified cgroup hierarchy, where a cgroup namespace and a
// cgroup mount make sense; on v1 without delegation neither works.
func cgroup2() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err == nil
}

var rlimitNames = map[string]string{
	"as": "RLIMIT_AS", "core": "RLIMIT_CORE", "cpu": "RLIMIT_CPU", "data": "RLIMIT_DATA",
	"fsize": "RLIMIT_FSIZE", "locks": "RLIMIT_LOCKS", "memlock": "RLIMIT_MEMLOCK",
	"msgqueue": "RLIMIT_MSGQUEUE", "nice": "RLIMIT_NICE", "nofile": "RLIMIT_NOFILE",
	"nproc": "RLIMIT_NPROC", "rss": "RLIMIT_RSS", "rtprio": "RLIMIT_RTPRIO",
	"rttime": "RLIMIT_RTTIME", "sigpending": "RLIMIT_SIGPENDING", "stack": "RLIMIT_STACK",
}

func setRlimits(s *specs.Spec, opt SpecOpt) error {
	for _, u := range opt.Ulimits {
		t, ok := rlimitNames[strings.ToLower(u.Name)]
		if !ok {
			return errdefs.Errorf(errdefs.InvalidParameter, "invalid ulimit type: %s", u.Name)
		}
		if u.Soft > u.Hard {
			return errdefs.Errorf(errdefs.InvalidParameter, "ulimit soft limit must be less than or equal to hard limit: %d > %d", u.Soft, u.Hard)
		}
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: t, Soft: uint64(u.Soft), Hard: uint64(u.Hard)})
	}
	return nil
}

// setSysctls accepts only sysctls namespaced by a namespace the container
// owns, with Docker's messages.
func setSysctls(s *specs.Spec, opt SpecOpt) error {
	for k, v := range opt.Sysctls {
		if err := checkSysctl(k, opt.Namespaces); err != nil {
			return err
		}
		s.Linux.Sysctl[k] = v
	}
	return nil
}

func checkSysctl(k string, ns Namespaces) error {
	ipc := slices.Contains([]string{"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}, k) ||
		strings.HasPrefix(k, "fs.mqueue.")
	switch {
	case ipc && ns.IPC != NamespaceHost:
	case strings.HasPrefix(k, "net.") && ns.Net != NamespaceHost:
	case (k == "kernel.domainname" || k == "kernel.hostname") && ns.UTS != NamespaceHost:
	default:
		return errdefs.Errorf(errdefs.InvalidParameter, "sysctl %q is not allowed in this container: %s", k,
			"only namespaced sysctls of namespaces the container does not share with the host can be set")
	}
	return nil
}
