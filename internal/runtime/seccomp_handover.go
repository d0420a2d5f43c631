package runtime

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Compiling Docker's default seccomp profile into BPF (libseccomp, in
// libcontainer's init) costs tens of milliseconds, and libcontainer does it
// again for every exec. The shim therefore compiles the profile once (see
// seccomp_compile.go), hands the program to the exec's init process in a
// sealed memfd at fd 3, and clears the profile from the libcontainer config
// the execs are started with. The init process loads the program here,
// before libcontainer's own init code runs.

// filterMagic starts an encoded filter.
const filterMagic = "DLBPF\x00\x00\x01"

// How the filter is loaded: seccomp(2) with flags, or prctl(2) without.
const (
	loadSeccomp = 1
	loadPrctl   = 2
)

// bpfFilter is a compiled seccomp program as libcontainer would load it.
type bpfFilter struct {
	Via   uint32 // loadSeccomp or loadPrctl
	Flags uint32 // SECCOMP_FILTER_FLAG_* for loadSeccomp
	Insns []unix.SockFilter
}

// filterHeader is the fixed part of an encoded filter.
type filterHeader struct {
	Magic      [8]byte
	Via, Flags uint32
	Insns      uint32
	IDLen      uint32
}

// encode writes the filter and the container id (whose session keyring an
// exec joins) in the handover format.
func (f *bpfFilter) encode(id string) []byte {
	var b bytes.Buffer
	h := filterHeader{Via: f.Via, Flags: f.Flags, Insns: uint32(len(f.Insns)), IDLen: uint32(len(id))}
	copy(h.Magic[:], filterMagic)
	_ = binary.Write(&b, binary.LittleEndian, h)
	_ = binary.Write(&b, binary.LittleEndian, f.Insns)
	b.WriteString(id)
	return b.Bytes()
}

// decodeFilter is the reverse of encode.
func decodeFilter(b []byte) (*bpfFilter, string, error) {
	r := bytes.NewReader(b)
	var h filterHeader
	if err := binary.Read(r, binary.LittleEndian, &h); err != nil || string(h.Magic[:]) != filterMagic {
		return nil, "", errors.New("not an encoded seccomp filter")
	}
	if h.Insns == 0 || h.Insns > unix.BPF_MAXINSNS || h.IDLen > 256 || (h.Via != loadSeccomp && h.Via != loadPrctl) {
		return nil, "", errors.New("malformed seccomp filter")
	}
	f := &bpfFilter{Via: h.Via, Flags: h.Flags, Insns: make([]unix.SockFilter, h.Insns)}
	if err := binary.Read(r, binary.LittleEndian, f.Insns); err != nil {
		return nil, "", fmt.Errorf("read seccomp filter: %w", err)
	}
	id := make([]byte, h.IDLen)
	if _, err := r.Read(id); err != nil && h.IDLen > 0 {
		return nil, "", fmt.Errorf("read seccomp filter: %w", err)
	}
	return f, string(id), nil
}

// sealedFilter puts the encoded filter in a sealed memfd: the exec's init
// can read it but nothing can change it.
func sealedFilter(f *bpfFilter, id string) (*os.File, error) {
	fd, err := unix.MemfdCreate("dockerd-lite-seccomp", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("create seccomp memfd: %w", err)
	}
	file := os.NewFile(uintptr(fd), "dockerd-lite-seccomp")
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := file.Write(f.encode(id)); err != nil {
		file.Close()
		return nil, fmt.Errorf("write seccomp memfd: %w", err)
	}
	if _, err := unix.FcntlInt(file.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		file.Close()
		return nil, fmt.Errorf("seal seccomp memfd: %w", err)
	}
	return file, nil
}

// handedFilterFd is where an exec's init finds the handed-over filter: the
// first of the process's extra files.
const handedFilterFd = 3

// loadHandedFilter runs first in libcontainer's init of an exec. When the
// shim handed over a compiled filter it joins the container's session
// keyring (libcontainer would, but the profile forbids keyctl once loaded),
// loads the filter on this thread, which libcontainer's init keeps and
// execs from, and closes the memfd. Failing then must not let the process
// run unconfined: the init exits and the exec fails.
func loadHandedFilter() {
	if os.Getenv("_LIBCONTAINER_INITTYPE") != "setns" {
		return
	}
	f, id, ok := readHandedFilter()
	if !ok {
		return
	}
	goruntime.LockOSThread()
	if err := applyFilter(f, id); err != nil {
		fmt.Fprintln(os.Stderr, "load precompiled seccomp filter:", err)
		os.Exit(255)
	}
}

// readHandedFilter reads and closes fd 3 if it is a sealed memfd carrying a
// filter; any other fd 3 (libcontainer's own pipes) is left alone.
func readHandedFilter() (*bpfFilter, string, bool) {
	seals, err := unix.FcntlInt(handedFilterFd, unix.F_GET_SEALS, 0)
	if err != nil || seals&unix.F_SEAL_WRITE == 0 {
		return nil, "", false
	}
	buf := make([]byte, 64<<10)
	n, err := unix.Pread(handedFilterFd, buf, 0)
	if err != nil || n < len(filterMagic) || string(buf[:len(filterMagic)]) != filterMagic {
		return nil, "", false
	}
	unix.Close(handedFilterFd)
	f, id, err := decodeFilter(buf[:n])
	if err != nil {
		fmt.Fprintln(os.Stderr, "load precompiled seccomp filter:", err)
		os.Exit(255)
	}
	return f, id, true
}

func applyFilter(f *bpfFilter, id string) error {
	if _, err := unix.KeyctlJoinSessionKeyring("_ses." + id); err != nil && !errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("join session keyring: %w", err)
	}
	prog := unix.SockFprog{Len: uint16(len(f.Insns)), Filter: &f.Insns[0]}
	var err error
	if f.Via == loadPrctl {
		err = unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0)
	} else if _, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		uintptr(f.Flags), uintptr(unsafe.Pointer(&prog))); errno != 0 {
		err = errno
	}
	goruntime.KeepAlive(f.Insns)
	return err
}
