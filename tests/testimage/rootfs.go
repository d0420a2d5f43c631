package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"time"
)

// epoch is the fixed timestamp of every tar entry and of the image config,
// which keeps the image digest stable across builds.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"

const group = "root:x:0:\nnogroup:x:65534:\n"

// baseDirs are created in the rootfs whatever the applet list says; the
// mode matters for /tmp (sticky, world-writable) and /root (private).
var baseDirs = map[string]int64{
	"bin": 0o755, "sbin": 0o755, "usr": 0o755, "usr/bin": 0o755, "usr/sbin": 0o755,
	"etc": 0o755, "root": 0o700, "home": 0o755, "var": 0o755, "tmp": 0o1777,
	"proc": 0o555, "sys": 0o555, "dev": 0o755,
}

// applets asks the busybox binary for the full path of every applet it
// provides ("bin/sh", "usr/bin/awk", ...).
func applets(ctx context.Context, busybox string) ([]string, error) {
	out, err := exec.CommandContext(ctx, busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("list busybox applets: %w", err)
	}
	var list []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.Trim(strings.TrimSpace(l), "/")
		if l != "" && l != "bin/busybox" {
			list = append(list, l)
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("list busybox applets: %s printed none", busybox)
	}
	return list, nil
}

// rootfsTar returns an uncompressed tar of the image root filesystem.
func rootfsTar(ctx context.Context, busybox string) ([]byte, error) {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("read busybox: %w", err)
	}
	links, err := applets(ctx, busybox)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := writeDirs(tw, links); err != nil {
		return nil, err
	}
	files := []struct {
		name string
		mode int64
		data []byte
	}{{"bin/busybox", 0o755, bin}, {"etc/passwd", 0o644, []byte(passwd)}, {"etc/group", 0o644, []byte(group)}}
	for _, f := range files {
		if err := writeFile(tw, f.name, f.mode, f.data); err != nil {
			return nil, err
		}
	}
	if err := writeLinks(tw, links); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close rootfs tar: %w", err)
	}
	return buf.Bytes(), nil
}

// writeDirs writes the base directories plus every parent of an applet,
// sorted so that parents come before children.
func writeDirs(tw *tar.Writer, links []string) error {
	dirs := map[string]int64{}
	for d, m := range baseDirs {
		dirs[d] = m
	}
	for _, l := range links {
		for d := path.Dir(l); d != "."; d = path.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = 0o755
			}
		}
	}
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		hdr := header(d+"/", tar.TypeDir, dirs[d])
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write dir %s: %w", d, err)
		}
	}
	return nil
}

func writeFile(tw *tar.Writer, name string, mode int64, data []byte) error {
	hdr := header(name, tar.TypeReg, mode)
	hdr.Size = int64(len(data))
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write file %s: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("write file %s: %w", name, err)
	}
	return nil
}

func writeLinks(tw *tar.Writer, links []string) error {
	sort.Strings(links)
	for _, l := range links {
		hdr := header(l, tar.TypeSymlink, 0o777)
		hdr.Linkname = "/bin/busybox"
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write symlink %s: %w", l, err)
		}
	}
	return nil
}

func header(name string, typ byte, mode int64) *tar.Header {
	return &tar.Header{
		Name: name, Typeflag: typ, Mode: mode, ModTime: epoch,
		Uname: "root", Gname: "root",
	}
}
