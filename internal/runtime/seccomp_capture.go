//go:build seccomp && cgo && (amd64 || arm64)

package runtime

/*
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <sys/syscall.h>
#include <linux/filter.h>

#define DL_MAX_INSNS 4096

static struct sock_filter dl_insns[DL_MAX_INSNS];
static volatile long dl_len = -1;
static volatile unsigned long dl_flags;
static volatile long dl_via;

#if defined(__x86_64__)
#define DL_ARG1(uc) ((uc)->uc_mcontext.gregs[REG_RSI])
#define DL_ARG2(uc) ((uc)->uc_mcontext.gregs[REG_RDX])
#define DL_RET(uc) ((uc)->uc_mcontext.gregs[REG_RAX])
#elif defined(__aarch64__)
#define DL_ARG1(uc) ((uc)->uc_mcontext.regs[1])
#define DL_ARG2(uc) ((uc)->uc_mcontext.regs[2])
#define DL_RET(uc) ((uc)->uc_mcontext.regs[0])
#endif

// The trap filter sends seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) and
// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog) here: keep the program,
// load nothing, report success.
static void dl_on_sigsys(int sig, siginfo_t *info, void *ctx) {
	ucontext_t *uc = ctx;
	struct sock_fprog *prog = (struct sock_fprog *)DL_ARG2(uc);
	dl_via = info->si_syscall == SYS_seccomp ? 1 : 2;
	dl_flags = info->si_syscall == SYS_seccomp ? DL_ARG1(uc) : 0;
	if (prog->len > DL_MAX_INSNS) {
		dl_len = -2;
	} else {
		memcpy(dl_insns, prog->filter, prog->len * sizeof(struct sock_filter));
		dl_len = prog->len;
	}
	DL_RET(uc) = 0;
}

static int dl_catch_sigsys(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = dl_on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL);
}

static long dl_captured_len(void) { return dl_len; }
static unsigned long dl_captured_flags(void) { return dl_flags; }
static long dl_captured_via(void) { return dl_via; }
static struct sock_filter *dl_captured_insns(void) { return dl_insns; }
*/
import "C"

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"slices"
	"unsafe"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// filterCompileSupported: this build can precompile seccomp profiles.
const filterCompileSupported = true

// captureFilter compiles cfg with libcontainer's own code and returns the
// program it would load, without loading it: a trap filter turns the load
// into SIGSYS, whose handler copies the program. It must run in a process
// of its own (the compile helper), which it leaves with no_new_privs and
// the trap filter.
func captureFilter(cfg *configs.Seccomp) (*bpfFilter, error) {
	for _, c := range cfg.Syscalls {
		if c.Action == configs.Notify {
			return nil, errors.New("profiles with SCMP_ACT_NOTIFY are not precompiled")
		}
	}
	goruntime.LockOSThread()
	if C.dl_catch_sigsys() != 0 {
		return nil, errors.New("install SIGSYS handler")
	}
	if err := installTrap(); err != nil {
		return nil, err
	}
	if _, err := seccomp.InitSeccomp(cfg); err != nil {
		return nil, err
	}
	n := int(C.dl_captured_len())
	if n <= 0 {
		return nil, fmt.Errorf("no seccomp program captured (%d)", n)
	}
	insns := unsafe.Slice((*unix.SockFilter)(unsafe.Pointer(C.dl_captured_insns())), n)
	return &bpfFilter{Via: uint32(C.dl_captured_via()), Flags: uint32(C.dl_captured_flags()), Insns: slices.Clone(insns)}, nil
}

// installTrap loads (on every thread) a filter that traps the loading of
// a seccomp program with a non-NULL program pointer; libseccomp's feature
// probes pass NULL and still reach the kernel.
func installTrap() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	raw, err := bpf.Assemble(trapProgram())
	if err != nil {
		return fmt.Errorf("assemble trap filter: %w", err)
	}
	insns := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		insns[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
	if _, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		return fmt.Errorf("load trap filter: %w", errno)
	}
	goruntime.KeepAlive(insns)
	return nil
}

// Offsets in struct seccomp_data (little-endian: the low word first).
const (
	sdNr       = 0
	sdArch     = 4
	sdArg0     = 16
	sdArg1     = 24
	sdArg2Low  = 32
	sdArg2High = 36
)

// trapProgram: index 15 allows, 16 traps; the skips are counted to them.
func trapProgram() []bpf.Instruction {
	const allow, trap = 0x7fff0000, 0x00030000 // SECCOMP_RET_ALLOW, SECCOMP_RET_TRAP
	return []bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: sdArch, Size: 4},
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: nativeAuditArch(), SkipFalse: 13},
		/* 2 */ bpf.LoadAbsolute{Off: sdNr, Size: 4},
		/* 3 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_PRCTL, SkipFalse: 4},
		/* 4 */ bpf.LoadAbsolute{Off: sdArg0, Size: 4},
		/* 5 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PR_SET_SECCOMP, SkipFalse: 9},
		/* 6 */ bpf.LoadAbsolute{Off: sdArg1, Size: 4},
		/* 7 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SECCOMP_MODE_FILTER, SkipTrue: 8, SkipFalse: 7},
		/* 8 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_SECCOMP, SkipFalse: 6},
		/* 9 */ bpf.LoadAbsolute{Off: sdArg0, Size: 4},
		/* 10 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SECCOMP_SET_MODE_FILTER, SkipFalse: 4},
		/* 11 */ bpf.LoadAbsolute{Off: sdArg2Low, Size: 4},
		/* 12 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0, SkipFalse: 3},
		/* 13 */ bpf.LoadAbsolute{Off: sdArg2High, Size: 4},
		/* 14 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0, SkipFalse: 1},
		/* 15 */ bpf.RetConstant{Val: allow},
		/* 16 */ bpf.RetConstant{Val: trap},
	}
}

func nativeAuditArch() uint32 {
	if goruntime.GOARCH == "arm64" {
		return unix.AUDIT_ARCH_AARCH64
	}
	return unix.AUDIT_ARCH_X86_64
}

// filterToolchain names the libseccomp the program was compiled with.
func filterToolchain() string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("libseccomp %d.%d.%d", major, minor, micro)
}
