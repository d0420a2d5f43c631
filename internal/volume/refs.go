package volume

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// Ref records that container id uses the volume; Remove refuses it until
// Unref. Idempotent.
func (s *Store) Ref(name, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.vols[name]; !ok {
		return errNoSuchVolume("get", name)
	}
	add(s.refs, name, id)
	return nil
}

// Unref drops container id's reference. Idempotent.
func (s *Store) Unref(name, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	drop(s.refs, name, id)
}

// Refs returns the ids of the containers that use the volume, sorted.
func (s *Store) Refs(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refList(name)
}

func (s *Store) refList(name string) []string {
	out := make([]string, 0, len(s.refs[name]))
	for id := range s.refs[name] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func add(m map[string]map[string]struct{}, name, id string) {
	if m[name] == nil {
		m[name] = map[string]struct{}{}
	}
	m[name][id] = struct{}{}
}

func drop(m map[string]map[string]struct{}, name, id string) {
	delete(m[name], id)
	if len(m[name]) == 0 {
		delete(m, name)
	}
}

// Mount prepares the volume for container id and returns the directory to
// bind into it. Volumes with a local "type" option (tmpfs, bind, ...) are
// mounted on _data by the first user and unmounted after the last.
func (s *Store) Mount(ctx context.Context, name, id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return "", errNoSuchVolume("mount", name)
	}
	if len(s.active[name]) == 0 && v.Options["type"] != "" {
		if err := mountLocal(v.Mountpoint, v.Options); err != nil {
			return "", fmt.Errorf("mount volume %s: %w", name, err)
		}
	}
	add(s.active, name, id)
	return v.Mountpoint, nil
}

// Unmount releases container id's mount of the volume. Idempotent.
func (s *Store) Unmount(ctx context.Context, name, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok || len(s.active[name]) == 0 {
		return nil
	}
	drop(s.active, name, id)
	if len(s.active[name]) == 0 && v.Options["type"] != "" {
		if err := unix.Unmount(v.Mountpoint, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
			return fmt.Errorf("unmount volume %s: %w", name, err)
		}
	}
	return nil
}

// validateOptions checks the local driver's options: type, device, o, size.
func validateOptions(opts map[string]string) error {
	for k := range opts {
		switch k {
		case "type", "device", "o", "size":
		default:
			return errdefs.Errorf(errdefs.InvalidParameter, "invalid option: %q", k)
		}
	}
	if opts["type"] != "" && opts["device"] == "" && opts["type"] != "tmpfs" {
		return errdefs.Errorf(errdefs.InvalidParameter, "missing required option: \"device\"")
	}
	if opts["type"] == "" && (opts["device"] != "" || opts["o"] != "") {
		return errdefs.Errorf(errdefs.InvalidParameter, "missing required option: \"type\"")
	}
	return nil
}

// mountLocal mounts what the local driver's options describe on dir:
// type=tmpfs (o=size=...,mode=...), type=none with o=bind and a device
// directory, or another filesystem type with its device.
func mountLocal(dir string, opts map[string]string) error {
	o := opts["o"]
	if opts["size"] != "" {
		o = strings.Trim(o+",size="+opts["size"], ",")
	}
	var flags uintptr
	var data []string
	for _, f := range strings.Split(o, ",") {
		switch f {
		case "":
		case "bind":
			flags |= unix.MS_BIND
		case "rbind":
			flags |= unix.MS_BIND | unix.MS_REC
		case "ro":
			flags |= unix.MS_RDONLY
		default:
			data = append(data, f)
		}
	}
	device, typ := opts["device"], opts["type"]
	if typ == "tmpfs" && device == "" {
		device = "tmpfs"
	}
	if flags&unix.MS_BIND != 0 {
		typ = ""
	}
	return unix.Mount(device, dir, typ, flags, strings.Join(data, ","))
}

// Size is the disk usage of the volume's data in bytes.
func (s *Store) Size(name string) (int64, error) {
	v, err := s.Get(name)
	if err != nil {
		return 0, err
	}
	var size int64
	err = filepath.WalkDir(v.Mountpoint, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil //nolint:nilerr // a file removed while walking is not an error
		}
		if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
			size += fi.Size()
		}
		return nil
	})
	return size, err
}

// Mounted reports whether container id holds a mount of the volume.
func (s *Store) Mounted(name, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.active[name][id]
	return ok
}
