package runtime

import (
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"

	"github.com/moby/profiles/seccomp"
	"github.com/moby/sys/capability"
	"github.com/moby/sys/devices"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// defaultCaps is Docker's default capability set.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// Docker's masked and read-only paths.
var (
	maskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// allCaps lists every capability the running kernel knows.
func allCaps() []string {
	list, err := capability.ListSupported()
	if err != nil {
		list = capability.ListKnown()
	}
	out := make([]string, 0, len(list))
	for _, c := range list {
		out = append(out, "CAP_"+strings.ToUpper(c.String()))
	}
	return out
}

// normalizeCap accepts "chown", "CAP_CHOWN", "cap_chown" and "ALL".
func normalizeCap(name string, known []string) (string, error) {
	c := strings.ToUpper(name)
	if c == "ALL" {
		return c, nil
	}
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	if !slices.Contains(known, c) {
		return "", errdefs.Errorf(errdefs.InvalidParameter, "unknown capability: %q", name)
	}
	return c, nil
}

// capabilities applies CapAdd and CapDrop to the default set the way
// Docker does: "ALL" in CapAdd starts from every capability, "ALL" in
// CapDrop from none.
func capabilities(opt SpecOpt) ([]string, error) {
	known := allCaps()
	if opt.Privileged {
		return known, nil
	}
	add, err := normalizeCaps(opt.CapAdd, known)
	if err != nil {
		return nil, err
	}
	drop, err := normalizeCaps(opt.CapDrop, known)
	if err != nil {
		return nil, err
	}
	if slices.Contains(add, "ALL") {
		return slices.DeleteFunc(slices.Clone(known), func(c string) bool { return slices.Contains(drop, c) }), nil
	}
	var caps []string
	if !slices.Contains(drop, "ALL") {
		caps = slices.DeleteFunc(slices.Clone(defaultCaps), func(c string) bool { return slices.Contains(drop, c) })
	}
	for _, c := range add {
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	return caps, nil
}

func normalizeCaps(names, known []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		c, err := normalizeCap(n, known)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func setCapabilities(s *specs.Spec, opt SpecOpt) error {
	caps, err := capabilities(opt)
	if err != nil {
		return err
	}
	s.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding: caps, Effective: slices.Clone(caps), Permitted: slices.Clone(caps),
	}
	return nil
}

func setSecurityPaths(s *specs.Spec, opt SpecOpt) error {
	if !opt.Privileged {
		s.Linux.MaskedPaths = slices.Clone(maskedPaths)
		s.Linux.ReadonlyPaths = slices.Clone(readonlyPaths)
	}
	return nil
}

// setSeccomp installs Docker's default profile, a custom JSON profile or
// none ("unconfined", or privileged). It must run after setCapabilities:
// the default profile opens syscalls for granted capabilities.
func setSeccomp(s *specs.Spec, opt SpecOpt) error {
	if opt.Privileged || opt.Seccomp == "unconfined" {
		return nil
	}
	if !SeccompSupported {
		return errors.New("seccomp is not supported by this build (needs -tags seccomp); use seccomp=unconfined")
	}
	var (
		prof *specs.LinuxSeccomp
		err  error
	)
	if opt.Seccomp == "" {
		prof, err = seccomp.GetDefaultProfile(s)
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[annotSeccomp] = seccompDefault
	} else {
		prof, err = seccomp.LoadProfile(opt.Seccomp, s)
	}
	if err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("load seccomp profile: %w", err))
	}
	if !kernelRunsX32() {
		prof.Architectures = slices.DeleteFunc(prof.Architectures, func(a specs.Arch) bool { return a == specs.ArchX32 })
	}
	s.Linux.Seccomp = prof
	return nil
}

// setPrivilegedDevices gives a privileged container the host's devices, as
// Docker does; in the user namespace libcontainer binds them, so a device
// the user may not open stays unusable inside too.
func setPrivilegedDevices(s *specs.Spec, opt SpecOpt) error {
	if !opt.Privileged {
		return nil
	}
	devs, err := devices.HostDevices()
	if err != nil {
		return fmt.Errorf("list host devices: %w", err)
	}
	for _, d := range devs {
		if slices.Contains(defaultDevicePaths, d.Path) {
			continue // libcontainer adds these itself
		}
		mode := d.FileMode
		uid, gid := d.Uid, d.Gid
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: d.Path, Type: string(d.Type),
			Major: d.Major, Minor: d.Minor, FileMode: &mode, UID: &uid, GID: &gid})
	}
	return nil
}

// defaultDevicePaths are the devices every container gets.
var defaultDevicePaths = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx"}

// kernelRunsX32 reports whether the kernel runs x32-ABI system calls; when
// it does not (amd64 kernels built without CONFIG_X86_X32_ABI, the common
// case), setSeccomp drops SCMP_ARCH_X32 from the profile. libseccomp spends
// most of its compile time, tens of milliseconds for every container start
// and exec, on the x32 part of Docker's profile, for code such a kernel
// cannot run. The one change: a raw x32 system call, which fails with
// ENOSYS under the full profile, now ends the process (libseccomp's
// bad-architecture action).
var kernelRunsX32 = sync.OnceValue(func() bool {
	if goruntime.GOARCH != "amd64" {
		return false // the profile has no x32 part there
	}
	// Under a seccomp filter the probe itself might be fatal: keep x32.
	if b, err := os.ReadFile("/proc/self/status"); err != nil || !strings.Contains(string(b), "\nSeccomp:\t0\n") {
		return true
	}
	const x32SyscallBit = 0x40000000
	_, _, errno := unix.RawSyscall(x32SyscallBit|unix.SYS_GETPID, 0, 0, 0)
	return errno != unix.ENOSYS
})
