package daemon

import (
	"context"
	"crypto/rand"
	"os"
	"path"

	"github.com/moby/moby/api/types/mount"

	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
)

// containerFS mounts the container's read-write layer (a running
// container's is mounted already; mounts are counted) and opens it with
// the container's volumes, binds and network files attached (openView),
// so running, created and stopped containers look alike. release closes
// the view and unmounts.
func (d *Daemon) containerFS(ctx context.Context, name string) (*ctr.Container, *rootFS, func(), error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := d.images.Mount(ctx, c.LayerID)
	if err != nil {
		return nil, nil, nil, err
	}
	mounts, unmountVolumes, err := d.viewMounts(ctx, c)
	if err != nil {
		d.unmountRootfs(ctx, c)
		return nil, nil, nil, err
	}
	r, err := openView(p, mounts)
	if err != nil {
		unmountVolumes()
		d.unmountRootfs(ctx, c)
		return nil, nil, nil, err
	}
	release := func() {
		r.Close()
		unmountVolumes()
		d.unmountRootfs(context.WithoutCancel(ctx), c)
	}
	return c, r, release, nil
}

// viewMounts lists what the container's file system view attaches, as
// Docker's does: its volumes (each mounted for this request; unmount
// releases them), binds, and the hosts, hostname and resolv.conf files
// where no mount covers them. Tmpfs mounts are left out, as in Docker:
// cp and export see the layer below them.
func (d *Daemon) viewMounts(ctx context.Context, c *ctr.Container) ([]viewMount, func(), error) {
	ref := "archive-" + rand.Text()
	var out []viewMount
	var held []string
	unmount := func() {
		for _, name := range held {
			logErr(ctx, d.volumes.Unmount(context.WithoutCancel(ctx), name, ref), "unmount volume")
		}
	}
	covered := map[string]bool{}
	for _, mp := range c.MountPoints {
		covered[path.Clean(mp.Destination)] = true
		m := viewMount{Destination: mp.Destination, Source: mp.Source, RW: mp.RW, NonRecursive: mp.NonRecursive}
		switch mp.Type {
		case mount.TypeTmpfs:
			continue
		case mount.TypeVolume:
			src, err := d.volumes.Mount(ctx, mp.Name, ref)
			if err != nil {
				unmount()
				return nil, nil, err
			}
			held, m.Source = append(held, mp.Name), src
		}
		out = append(out, m)
	}
	return append(out, networkFiles(c, covered)...), unmount, nil
}

// networkFiles are the container's /etc/hosts, /etc/hostname and
// /etc/resolv.conf (written by the daemon, bind-mounted at start) that
// exist and that no mount point covers.
func networkFiles(c *ctr.Container, covered map[string]bool) []viewMount {
	files := [][2]string{{"/etc/hosts", c.HostsPath}, {"/etc/hostname", c.HostnamePath}, {"/etc/resolv.conf", c.ResolvConfPath}}
	var out []viewMount
	for _, f := range files {
		if f[1] == "" || covered[f[0]] {
			continue
		}
		if _, err := os.Stat(f[1]); err != nil {
			continue
		}
		out = append(out, viewMount{Destination: f[0], Source: f[1], RW: c.HostConfig == nil || !c.HostConfig.ReadonlyRootfs})
	}
	return out
}
