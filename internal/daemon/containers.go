package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/log"
	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
	"github.com/dockerd-lite/dockerd-lite/internal/netns"
	"github.com/dockerd-lite/dockerd-lite/internal/oci"
)

var _ api.ContainerBackend = (*Daemon)(nil)

// ContainerCreate implements api.ContainerBackend. A failed create leaves
// nothing behind: the read-write layer is removed again.
func (d *Daemon) ContainerCreate(ctx context.Context, opt api.ContainerCreateOptions) (res container.CreateResponse, err error) {
	img, err := d.images.Get(ctx, opt.Config.Image)
	if err != nil {
		return res, err
	}
	c, warnings, err := d.newContainer(opt, img)
	if err != nil {
		return res, err
	}
	specs, err := d.mountSpecs(c.Config, c.HostConfig)
	if err != nil {
		return res, err
	}
	if c.LayerID, err = d.images.CreateRWLayer(ctx, img.ID, c.ID); err != nil {
		return res, fmt.Errorf("create container layer: %w", err)
	}
	defer func() {
		if err != nil {
			_ = d.images.RemoveLayer(context.WithoutCancel(ctx), c.LayerID)
		}
	}()
	if err = d.createMounts(ctx, c, specs); err != nil {
		return res, err
	}
	if err = d.addContainer(c, opt.Name == ""); err != nil {
		d.releaseVolumes(context.WithoutCancel(ctx), c, true)
		return res, err
	}
	if err = d.writeEtcFiles(c); err != nil {
		_ = d.containers.Delete(c.ID)
		d.releaseVolumes(context.WithoutCancel(ctx), c, true)
		return res, err
	}
	d.containerEvent(c, "create", nil)
	return container.CreateResponse{ID: c.ID, Warnings: warnings}, nil
}

// addContainer stores c; a generated name that collides is regenerated.
func (d *Daemon) addContainer(c *ctr.Container, generated bool) error {
	for try := 0; ; try++ {
		err := d.containers.Add(c)
		if err == nil || !generated || !errdefs.IsConflict(err) || try > 20 {
			return err
		}
		c.Name = ctr.RandomName(try + 1)
	}
}

// newContainer validates the request and merges it with the image config.
func (d *Daemon) newContainer(opt api.ContainerCreateOptions, img oci.Image) (*ctr.Container, []string, error) {
	name := strings.TrimPrefix(opt.Name, "/")
	if name != "" {
		if err := ctr.ValidateName(name); err != nil {
			return nil, nil, err
		}
	} else {
		name = ctr.RandomName(0)
	}
	cfg := mergeImageConfig(*opt.Config, img.Config.Config)
	argv := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	if len(argv) == 0 {
		return nil, nil, errdefs.Errorf(errdefs.InvalidParameter, "no command specified")
	}
	if wd := cfg.WorkingDir; wd != "" && !path.IsAbs(wd) {
		return nil, nil, errdefs.Errorf(errdefs.InvalidParameter, "the working directory '%s' is invalid, it needs to be an absolute path", wd)
	}
	hc := opt.HostConfig
	if err := validateHostConfig(hc); err != nil {
		return nil, nil, err
	}
	id := ctr.NewID()
	if cfg.Hostname == "" {
		cfg.Hostname = id[:12]
	}
	var err error
	c := &ctr.Container{
		ID: id, Name: name, Created: time.Now().UTC(), Image: opt.Config.Image, ImageID: img.ID,
		Path: argv[0], Args: argv[1:], Config: &cfg, HostConfig: hc,
		State: ctr.State{Status: container.StateCreated},
	}
	if c.Network, err = d.initialNetworks(hc.NetworkMode, opt.Networking); err != nil {
		return nil, nil, err
	}
	dir := d.containers.Dir(id)
	c.LogPath = filepath.Join(dir, id+"-json.log")
	c.HostsPath, c.HostnamePath, c.ResolvConfPath = filepath.Join(dir, "hosts"), filepath.Join(dir, "hostname"), filepath.Join(dir, "resolv.conf")
	return c, d.resourceWarnings(hc), nil
}

// ContainerInspect implements api.ContainerBackend.
func (d *Daemon) ContainerInspect(ctx context.Context, name string, size bool) (container.InspectResponse, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return container.InspectResponse{}, err
	}
	res := d.inspect(c)
	if size {
		rw, rootfs := d.containerSizes(ctx, c)
		res.SizeRw, res.SizeRootFs = &rw, &rootfs
	}
	return res, nil
}

// ContainerRename implements api.ContainerBackend.
func (d *Daemon) ContainerRename(ctx context.Context, name, newName string) error {
	newName = strings.TrimPrefix(newName, "/")
	if err := ctr.ValidateName(newName); err != nil {
		return err
	}
	var old string
	c, err := d.containers.Update(name, func(c *ctr.Container) error {
		if c.Name == newName {
			return errdefs.Errorf(errdefs.InvalidParameter, "Renaming a container with the same name as its current name")
		}
		old, c.Name = c.Name, newName
		return nil
	})
	if err != nil {
		return err
	}
	d.containerEvent(c, "rename", map[string]string{"oldName": "/" + old})
	return nil
}

// writeEtcFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf (bind-mounted at start).
func (d *Daemon) writeEtcFiles(c *ctr.Container) error {
	host := c.Config.Hostname
	if c.Config.Domainname != "" {
		host += "." + c.Config.Domainname
	}
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
	for _, h := range c.HostConfig.ExtraHosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok {
			name, ip, ok = strings.Cut(h, "=")
		}
		if !ok {
			return errdefs.Errorf(errdefs.InvalidParameter, "invalid extra host %q: use host:ip", h)
		}
		if ip == "host-gateway" {
			ip = netns.SlirpHostGateway // the host, through slirp4netns (loopback only with --allow-host-loopback)
		}
		hosts += ip + "\t" + name + "\n"
	}
	files := map[string]string{c.HostnamePath: c.Config.Hostname + "\n", c.HostsPath: hosts, c.ResolvConfPath: resolvConf(c.HostConfig)}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Base(path), err)
		}
	}
	return nil
}

// resolvConf is the host's resolv.conf with the container's overrides;
// loopback nameservers are dropped (unreachable from the container), and
// without any left the container asks slirp4netns's DNS forwarder.
func resolvConf(hc *container.HostConfig) string {
	var ns, search, opts []string
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			switch f[0] {
			case "nameserver":
				if !strings.HasPrefix(f[1], "127.") && f[1] != "::1" {
					ns = append(ns, f[1])
				}
			case "search":
				search = f[1:]
			case "options":
				opts = f[1:]
			}
		}
	}
	if len(ns) == 0 && !hc.NetworkMode.IsHost() {
		ns = append(ns, netns.SlirpDNS) // slirp4netns forwards to the host's resolver
	}
	if len(hc.DNS) > 0 {
		ns = ns[:0]
		for _, a := range hc.DNS {
			ns = append(ns, a.String())
		}
	}
	if len(hc.DNSSearch) > 0 {
		search = hc.DNSSearch
	}
	if len(hc.DNSOptions) > 0 {
		opts = hc.DNSOptions
	}
	var b strings.Builder
	for _, n := range ns {
		b.WriteString("nameserver " + n + "\n")
	}
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	if len(opts) > 0 {
		b.WriteString("options " + strings.Join(opts, " ") + "\n")
	}
	return b.String()
}

// containerEvent publishes a container event with Docker's attributes.
func (d *Daemon) containerEvent(c *ctr.Container, action string, extra map[string]string) {
	attrs := map[string]string{"name": c.Name, "image": c.Image}
	for k, v := range c.Config.Labels {
		attrs[k] = v
	}
	for k, v := range extra {
		attrs[k] = v
	}
	d.events.Publish(events.Event{Type: "container", Action: action, ID: c.ID, Attributes: attrs})
}

func logErr(ctx context.Context, err error, msg string) {
	if err != nil && !errors.Is(err, context.Canceled) {
		log.G(ctx).WithError(err).Warn(msg)
	}
}
