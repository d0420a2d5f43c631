package daemon

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/log"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/docker/go-units"
	"github.com/moby/sys/user"
	"github.com/opencontainers/runtime-spec/specs-go"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/runtime"
)

// containerSpec mounts the container's filesystem and builds its runtime
// spec from the stored configuration.
func (d *Daemon) containerSpec(ctx context.Context, c *ctr.Container) (*specs.Spec, error) {
	rootfs, err := d.images.Mount(ctx, c.LayerID)
	if err != nil {
		return nil, fmt.Errorf("mount container filesystem: %w", err)
	}
	mounts, err := d.runtimeMounts(ctx, c)
	if err != nil {
		return nil, err
	}
	opt, err := d.specOpt(c, rootfs, mounts)
	if err != nil {
		d.unmountVolumes(ctx, c)
		return nil, err
	}
	spec, err := runtime.NewSpec(opt)
	if err == nil {
		d.setCgroup(spec, c)
	}
	return spec, err
}

func (d *Daemon) specOpt(c *ctr.Container, rootfs string, mounts []specs.Mount) (runtime.SpecOpt, error) {
	cfg, hc := c.Config, c.HostConfig
	u, err := resolveUser(rootfs, cfg.User, hc.GroupAdd)
	if err != nil {
		return runtime.SpecOpt{}, err
	}
	ns, err := d.namespaces(c)
	if err != nil {
		return runtime.SpecOpt{}, err
	}
	opt := runtime.SpecOpt{
		Rootfs: rootfs, ReadonlyRootfs: hc.ReadonlyRootfs, Args: append([]string{c.Path}, c.Args...),
		Env: append(append([]string{}, cfg.Env...), d.linkEnv(c)...), Cwd: cfg.WorkingDir, Tty: cfg.Tty, UID: uint32(u.Uid), GID: uint32(u.Gid),
		Hostname: cfg.Hostname, Domainname: cfg.Domainname, CapAdd: hc.CapAdd, CapDrop: hc.CapDrop,
		Privileged: hc.Privileged, Sysctls: hc.Sysctls, ShmSize: hc.ShmSize, Namespaces: ns, Mounts: mounts,
		HostsPath: c.HostsPath, HostnamePath: c.HostnamePath, ResolvConfPath: c.ResolvConfPath,
	}
	if hc.ConsoleSize[0] > 0 {
		opt.ConsoleHeight, opt.ConsoleWidth = hc.ConsoleSize[0], hc.ConsoleSize[1]
	}
	for _, g := range u.Sgids {
		opt.AdditionalGids = append(opt.AdditionalGids, uint32(g))
	}
	if hc.OomScoreAdj != 0 {
		opt.OomScoreAdj = &hc.OomScoreAdj
	}
	for _, ul := range hc.Ulimits {
		opt.Ulimits = append(opt.Ulimits, runtime.Ulimit{Name: ul.Name, Soft: ul.Soft, Hard: ul.Hard})
	}
	if hc.Init != nil && *hc.Init {
		opt.Init, opt.InitPath = true, d.initPath
	}
	return opt, securityOpts(&opt, hc.SecurityOpt)
}

// resolveUser resolves "name|uid[:group|gid]" against the image's
// /etc/passwd and /etc/group, inside the root (symlinks cannot escape).
func resolveUser(rootfs, spec string, groupAdd []string) (*user.ExecUser, error) {
	passwd, err := securejoin.SecureJoin(rootfs, "/etc/passwd")
	if err != nil {
		return nil, err
	}
	group, err := securejoin.SecureJoin(rootfs, "/etc/group")
	if err != nil {
		return nil, err
	}
	u, err := user.GetExecUserPath(spec, &user.ExecUser{Home: "/"}, passwd, group)
	if err != nil {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "unable to find user %s: %v", spec, err)
	}
	if len(groupAdd) > 0 {
		gids, err := user.GetAdditionalGroupsPath(groupAdd, group)
		if err != nil {
			return nil, errdefs.Errorf(errdefs.InvalidParameter, "unable to find additional groups %v: %v", groupAdd, err)
		}
		u.Sgids = append(u.Sgids, gids...)
	}
	return u, nil
}

// namespaces maps the PID, IPC, UTS and network modes. A bridge-mode
// container joins the namespace the daemon made for it (connectNetwork);
// "none" gets a new namespace with only loopback.
func (d *Daemon) namespaces(c *ctr.Container) (runtime.Namespaces, error) {
	hc := c.HostConfig
	var ns runtime.Namespaces
	var err error
	if ns.PID, err = d.nsMode(string(hc.PidMode), "pid"); err != nil {
		return ns, err
	}
	if ns.IPC, err = d.nsMode(string(hc.IpcMode), "ipc"); err != nil {
		return ns, err
	}
	if ns.UTS, err = d.nsMode(string(hc.UTSMode), "uts"); err != nil {
		return ns, err
	}
	if ownNetNS(hc.NetworkMode) {
		ns.Net, err = d.netnsPath(c.ID)
		return ns, err
	}
	ns.Net, err = d.nsMode(string(hc.NetworkMode), "net")
	return ns, err
}

// nsMode turns "host", "container:<id>" or a private mode into a namespace
// selector for the runtime.
func (d *Daemon) nsMode(mode, kind string) (string, error) {
	switch {
	case mode == "host":
		return runtime.NamespaceHost, nil
	case strings.HasPrefix(mode, "container:"):
		other, err := d.containers.Get(strings.TrimPrefix(mode, "container:"))
		if err != nil {
			return "", err
		}
		if !other.State.Running() {
			return "", errdefs.Errorf(errdefs.Conflict, "cannot join the %s namespace of container %s: it is not running", kind, other.Name)
		}
		return fmt.Sprintf("/proc/%d/ns/%s", other.State.Pid, kind), nil
	}
	return "", nil
}

// securityOpts applies --security-opt values.
func securityOpts(opt *runtime.SpecOpt, vals []string) error {
	for _, v := range vals {
		k, val, _ := strings.Cut(v, "=")
		if k == v {
			k, val, _ = strings.Cut(v, ":")
		}
		switch k {
		case "no-new-privileges":
			opt.NoNewPrivileges = val == "" || val == "true"
		case "seccomp":
			opt.Seccomp = val
		case "apparmor", "label":
			// not available rootless; accepted like Docker does without the LSM
		default:
			return errdefs.Errorf(errdefs.InvalidParameter, "invalid --security-opt: %q", v)
		}
	}
	return nil
}

// logRotation reads json-file's max-size and max-file options.
func logRotation(cfg map[string]string) (int64, int) {
	size, _ := units.RAMInBytes(cfg["max-size"])
	files, _ := strconv.Atoi(cfg["max-file"])
	if files < 1 {
		files = 1
	}
	return size, files
}

// unmountRootfs releases the container's filesystem and volume mounts.
func (d *Daemon) unmountRootfs(ctx context.Context, c *ctr.Container) {
	d.unmountVolumes(ctx, c)
	if err := d.images.Unmount(ctx, c.LayerID); err != nil && !errdefs.IsNotFound(err) {
		log.G(ctx).WithError(err).WithField("container", c.ID).Debug("unmount container filesystem")
	}
}
