package volume

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// Spec is one mount a container asked for, parsed and validated.
type Spec struct {
	Type         mount.Type // bind, volume or tmpfs
	Source       string     // host path (bind) or volume name ("" = anonymous)
	Destination  string
	RW           bool
	Mode         string // the Binds mode as Docker reports it ("ro", "z", ...)
	Propagation  mount.Propagation
	NonRecursive bool
	// CopyData fills an empty volume from the image (not with nocopy).
	CopyData bool
	// CreateSource makes a missing bind source directory (Binds only;
	// --mount type=bind refuses a missing source, as in Docker).
	CreateSource bool
	// TmpfsOptions are the mount options of a tmpfs.
	TmpfsOptions []string
	// Volume options of --mount type=volume for a volume created on use.
	Labels     map[string]string
	DriverOpts map[string]string
	Driver     string
}

var propagations = map[string]bool{"private": true, "rprivate": true, "shared": true, "rshared": true, "slave": true, "rslave": true}

// ParseBind parses a HostConfig.Binds entry: "[source:]destination[:mode]"
// where source is an absolute host path or a volume name and mode is a
// comma-separated list of ro, rw, z, Z, nocopy and a propagation.
func ParseBind(raw string) (Spec, error) {
	parts := strings.Split(raw, ":")
	var s Spec
	switch len(parts) {
	case 1:
		s.Destination = parts[0]
	case 2:
		s.Source, s.Destination = parts[0], parts[1]
	case 3:
		s.Source, s.Destination, s.Mode = parts[0], parts[1], parts[2]
	default:
		return Spec{}, invalidSpec(raw)
	}
	if s.Destination == "" || (len(parts) > 1 && s.Source == "") {
		return Spec{}, invalidSpec(raw)
	}
	s.Type, s.RW, s.CopyData = mount.TypeVolume, true, true
	if strings.HasPrefix(s.Source, "/") {
		s.Type, s.CreateSource, s.CopyData = mount.TypeBind, true, false
		s.Propagation = mount.PropagationRPrivate
	}
	if err := applyMode(&s, raw); err != nil {
		return Spec{}, err
	}
	if s.Type == mount.TypeVolume && s.Mode == "" && s.Source != "" {
		s.Mode = "z" // what Docker reports for a named volume without a mode
	}
	return s, checkDestination(s)
}

func applyMode(s *Spec, raw string) error {
	if s.Mode == "" {
		return nil
	}
	var rwSet, labelSet, propSet bool
	for _, o := range strings.Split(s.Mode, ",") {
		switch {
		case (o == "ro" || o == "rw") && !rwSet:
			s.RW, rwSet = o == "rw", true
		case (o == "z" || o == "Z") && !labelSet:
			labelSet = true // SELinux relabelling: nothing to do rootless
		case o == "nocopy" && s.Type == mount.TypeVolume:
			s.CopyData = false
		case propagations[o] && !propSet && s.Type == mount.TypeBind:
			s.Propagation, propSet = mount.Propagation(o), true
		default:
			return errdefs.Errorf(errdefs.InvalidParameter, "invalid mode: %s", s.Mode)
		}
	}
	return nil
}

func invalidSpec(raw string) error {
	return errdefs.Errorf(errdefs.InvalidParameter, "invalid volume specification: '%s'", raw)
}

func checkDestination(s Spec) error {
	if !path.IsAbs(s.Destination) {
		return errdefs.Errorf(errdefs.InvalidParameter, "invalid mount config for type %q: invalid mount path: '%s' mount path must be absolute", s.Type, s.Destination)
	}
	if path.Clean(s.Destination) == "/" {
		return errdefs.Errorf(errdefs.InvalidParameter, "invalid specification: destination can't be '/'")
	}
	return nil
}

// ParseMount validates a HostConfig.Mounts entry (--mount).
func ParseMount(m mount.Mount) (Spec, error) {
	s := Spec{Type: m.Type, Source: m.Source, Destination: m.Target, RW: !m.ReadOnly}
	var err error
	switch m.Type {
	case mount.TypeBind:
		err = bindMount(&s, m)
	case mount.TypeVolume:
		err = volumeMount(&s, m)
	case mount.TypeTmpfs:
		err = tmpfsMount(&s, m)
	default:
		return Spec{}, errdefs.Errorf(errdefs.InvalidParameter, "invalid mount config: mount type unknown: %q", m.Type)
	}
	if err != nil {
		return Spec{}, errdefs.Errorf(errdefs.InvalidParameter, "invalid mount config for type %q: %v", m.Type, err)
	}
	if m.Target == "" {
		return Spec{}, errdefs.Errorf(errdefs.InvalidParameter, "invalid mount config for type %q: field Target must not be empty", m.Type)
	}
	return s, checkDestination(s)
}

func bindMount(s *Spec, m mount.Mount) error {
	if m.Source == "" {
		return fmt.Errorf("field Source must not be empty")
	}
	if !path.IsAbs(m.Source) {
		return fmt.Errorf("invalid mount path: '%s' mount path must be absolute", m.Source)
	}
	if m.VolumeOptions != nil || m.TmpfsOptions != nil {
		return fmt.Errorf("field VolumeOptions/TmpfsOptions must not be specified")
	}
	s.Propagation = mount.PropagationRPrivate
	if o := m.BindOptions; o != nil {
		if o.Propagation != "" {
			if !propagations[string(o.Propagation)] {
				return fmt.Errorf("invalid propagation mode: %s", o.Propagation)
			}
			s.Propagation = o.Propagation
		}
		s.NonRecursive, s.CreateSource = o.NonRecursive, o.CreateMountpoint
	}
	return nil
}

func volumeMount(s *Spec, m mount.Mount) error {
	if m.BindOptions != nil || m.TmpfsOptions != nil {
		return fmt.Errorf("field BindOptions/TmpfsOptions must not be specified")
	}
	s.CopyData, s.Mode = true, "z"
	if o := m.VolumeOptions; o != nil {
		if o.Subpath != "" {
			return fmt.Errorf("volume subpaths are not supported")
		}
		s.CopyData, s.Labels = !o.NoCopy, o.Labels
		if o.DriverConfig != nil {
			s.Driver, s.DriverOpts = o.DriverConfig.Name, o.DriverConfig.Options
		}
	}
	return nil
}

func tmpfsMount(s *Spec, m mount.Mount) error {
	if m.Source != "" {
		return fmt.Errorf("field Source must not be specified")
	}
	if m.BindOptions != nil || m.VolumeOptions != nil {
		return fmt.Errorf("field BindOptions/VolumeOptions must not be specified")
	}
	s.TmpfsOptions = []string{"nosuid", "nodev", "noexec"}
	if o := m.TmpfsOptions; o != nil {
		if o.SizeBytes < 0 {
			return fmt.Errorf("invalid tmpfs size: %d", o.SizeBytes)
		}
		if o.SizeBytes > 0 {
			s.TmpfsOptions = append(s.TmpfsOptions, "size="+strconv.FormatInt(o.SizeBytes, 10))
		}
		if o.Mode != 0 {
			// the CLI sends the octal digits as the raw value (1777 = 0o1777)
			s.TmpfsOptions = append(s.TmpfsOptions, "mode="+strconv.FormatUint(uint64(o.Mode)&0o7777, 8))
		}
	}
	if !s.RW {
		s.TmpfsOptions = append(s.TmpfsOptions, "ro")
	}
	return nil
}

// ParseTmpfs turns a HostConfig.Tmpfs entry into a Spec; the options are
// passed to the mount (Docker's default: nosuid, nodev, noexec).
func ParseTmpfs(dst, opts string) (Spec, error) {
	s := Spec{Type: mount.TypeTmpfs, Destination: dst, RW: true, TmpfsOptions: []string{"nosuid", "nodev", "noexec"}}
	if opts != "" {
		s.TmpfsOptions = append(s.TmpfsOptions, strings.Split(opts, ",")...)
	}
	for _, o := range s.TmpfsOptions {
		if o == "ro" {
			s.RW = false
		}
	}
	return s, checkDestination(s)
}
