package daemon

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
	"golang.org/x/sys/unix"

	"github.com/dockerd-lite/dockerd-lite/internal/preflight"
	"github.com/dockerd-lite/dockerd-lite/internal/version"
)

// SystemVersion implements api.SystemBackend.
func (d *Daemon) SystemVersion(ctx context.Context) (system.VersionResponse, error) {
	kernel := kernelVersion()
	return system.VersionResponse{
		Platform:      system.PlatformInfo{Name: version.Name},
		Version:       version.Version,
		APIVersion:    apiMax,
		MinAPIVersion: apiMin,
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		GitCommit:     version.GitCommit,
		GoVersion:     runtime.Version(),
		KernelVersion: kernel,
		BuildTime:     version.BuildTime,
		Components: []system.ComponentVersion{{
			Name:    "Engine",
			Version: version.Version,
			Details: map[string]string{
				"ApiVersion":    apiMax,
				"MinAPIVersion": apiMin,
				"GitCommit":     version.GitCommit,
				"GoVersion":     runtime.Version(),
				"Os":            runtime.GOOS,
				"Arch":          runtime.GOARCH,
				"KernelVersion": kernel,
				"BuildTime":     version.BuildTime,
				"Experimental":  "false",
			},
		}},
	}, nil
}

// The API range, mirrored from internal/api (which daemon must not import).
const (
	apiMin = "1.12"
	apiMax = "1.47"
)

// SystemInfo implements api.SystemBackend.
func (d *Daemon) SystemInfo(ctx context.Context) (*system.Info, error) {
	cfg := d.Config()
	osName, osVersion := osRelease()
	cg := d.cgroupInfo()
	imgs, err := d.images.List(ctx)
	if err != nil {
		return nil, err
	}
	info := &system.Info{
		ID:                 d.id,
		Images:             len(imgs),
		Plugins:            system.PluginsInfo{Volume: []string{"local"}, Network: []string{"bridge", "host", "null"}, Log: []string{"json-file"}},
		InitBinary:         "docker-init",
		Driver:             d.images.Driver(),
		DriverStatus:       d.images.DriverStatus(),
		LoggingDriver:      "json-file",
		CgroupDriver:       cg.driver,
		CgroupVersion:      cg.version,
		NEventsListener:    d.events.Listeners(),
		KernelVersion:      kernelVersion(),
		OperatingSystem:    osName,
		OSVersion:          osVersion,
		OSType:             runtime.GOOS,
		Architecture:       machine(),
		IndexServerAddress: "https://index.docker.io/v1/",
		RegistryConfig:     registryConfig(cfg.InsecureRegistries, cfg.RegistryMirrors),
		NCPU:               runtime.NumCPU(),
		MemTotal:           memTotal(),
		DockerRootDir:      cfg.DataRoot,
		HTTPProxy:          os.Getenv("HTTP_PROXY"),
		HTTPSProxy:         os.Getenv("HTTPS_PROXY"),
		NoProxy:            os.Getenv("NO_PROXY"),
		Name:               hostname(),
		Labels:             []string{},
		ServerVersion:      version.Version,
		NGoroutines:        runtime.NumGoroutine(),
		NFd:                openFDs(),
		SystemTime:         time.Now().Format(time.RFC3339Nano),
		Swarm:              swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive},
		SecurityOptions:    d.securityOptions(),
		Isolation:          "",
		Warnings:           d.warnings(),
	}
	for _, c := range d.containers.List() {
		info.Containers++
		switch c.State.Status {
		case "running":
			info.ContainersRunning++
		case "paused":
			info.ContainersPaused++
		default:
			info.ContainersStopped++
		}
	}
	return info, nil
}

// securityOptions lists what actually isolates containers.
func (d *Daemon) securityOptions() []string {
	opts := []string{"name=userns"}
	if d.rootless {
		opts = append(opts, "name=rootless")
	}
	return opts
}

// warnings turns degraded preflight findings into docker info warnings.
func (d *Daemon) warnings() []string {
	var w []string
	for _, f := range d.findings {
		if f.Status != preflight.OK {
			msg := fmt.Sprintf("WARNING: %s: %s", f.Name, f.Detail)
			if f.Fix != "" {
				msg += " (fix: " + f.Fix + ")"
			}
			w = append(w, msg)
		}
	}
	for _, m := range []struct {
		ok   bool
		text string
	}{
		{d.cgroups.Has("memory"), "No memory limit support"}, {d.cgroups.Swap, "No swap limit support"},
		{d.cgroups.Has("cpu"), "No cpu cfs quota support"}, {d.cgroups.Has("cpu"), "No cpu cfs period support"},
		{d.cgroups.Has("cpu"), "No cpu shares support"}, {d.cgroups.Has("cpuset"), "No cpuset support"},
		{d.cgroups.Has("pids"), "No pids limit support"},
	} {
		if !m.ok {
			w = append(w, "WARNING: "+m.text)
		}
	}
	return w
}

type cgroups struct {
	driver, version string
}

// cgroupInfo reports docker info's CgroupDriver ("cgroupfs" when the
// containers get cgroups, else "none") and CgroupVersion.
func (d *Daemon) cgroupInfo() cgroups {
	cg := cgroups{driver: "none", version: strconv.Itoa(max(d.cgroups.Version, 1))}
	if d.cgroups.Enabled() {
		cg.driver = "cgroupfs"
	}
	return cg
}

func registryConfig(insecure, mirrors []string) *registry.ServiceConfig {
	rc := &registry.ServiceConfig{
		IndexConfigs: map[string]*registry.IndexInfo{
			"docker.io": {Name: "docker.io", Mirrors: nonNilSlice(mirrors), Secure: true, Official: true},
		},
		Mirrors: nonNilSlice(mirrors),
	}
	rc.InsecureRegistryCIDRs = append(rc.InsecureRegistryCIDRs, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
	for _, r := range insecure {
		if p, err := netip.ParsePrefix(r); err == nil {
			rc.InsecureRegistryCIDRs = append(rc.InsecureRegistryCIDRs, p)
			continue
		}
		rc.IndexConfigs[r] = &registry.IndexInfo{Name: r, Mirrors: []string{}, Secure: false}
	}
	return rc
}

func kernelVersion() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

func machine() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return runtime.GOARCH
	}
	return unix.ByteSliceToString(u.Machine[:])
}

// osRelease returns PRETTY_NAME and VERSION_ID from /etc/os-release.
func osRelease() (name, ver string) {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return "Linux", ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, _ := strings.Cut(s.Text(), "=")
		v = strings.Trim(v, `"`)
		switch k {
		case "PRETTY_NAME":
			name = v
		case "VERSION_ID":
			ver = v
		}
	}
	return name, ver
}

func memTotal() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(entries)
}
