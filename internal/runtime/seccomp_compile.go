package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/containerd/log"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// modeFilterCompile selects the seccomp compile helper (runFilterCompile).
const modeFilterCompile = "seccomp-compile"

// Spec annotation NewSpec sets when it installs Docker's default profile.
// Only that profile is handed over precompiled: it is loaded a little
// earlier than libcontainer would load it, which the default profile is
// known to allow (see loadHandedFilter) and a custom one might not.
const (
	annotSeccomp   = "io.dockerd-lite.seccomp"
	seccompDefault = "default"
)

// filterCacheDir, in the run root, holds compiled profiles by cache key.
const filterCacheDir = "seccomp-bpf"

// execSeccomp is a shim's precompiled seccomp filter for its execs.
type execSeccomp struct {
	profile *configs.Seccomp // the container's, as libcontainer got it
	once    sync.Once
	memfd   *os.File // encoded filter; nil: libcontainer compiles per exec
	active  bool     // the container's config lacks the profile (shim.mu)
}

// runFilterCompile is the compile helper's main: a libcontainer seccomp
// config in JSON on stdin, the encoded program on stdout.
func runFilterCompile() int {
	var cfg configs.Seccomp
	if err := json.NewDecoder(os.Stdin).Decode(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "decode seccomp config:", err)
		return 1
	}
	f, err := captureFilter(&cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compile seccomp profile:", err)
		return 1
	}
	if _, err := os.Stdout.Write(f.encode("")); err != nil {
		return 1
	}
	return 0
}

// execFilter returns the sealed memfd to hand to execs, compiling the
// profile on first use; nil when the container has no default profile
// or precompiling failed (then libcontainer compiles, as before).
func (s *shim) execFilter(ctx context.Context) *os.File {
	s.seccomp.once.Do(func() {
		f, err := s.compiledProfile(ctx)
		if err == nil {
			s.seccomp.memfd, err = sealedFilter(f, s.cfg.ID)
		}
		if err != nil {
			log.G(ctx).WithError(err).WithField("container", s.cfg.ID).Debug("shim: execs compile seccomp themselves")
		}
	})
	return s.seccomp.memfd
}

// compiledProfile reads the profile's program from the run root's cache,
// or compiles it there.
func (s *shim) compiledProfile(ctx context.Context) (*bpfFilter, error) {
	if !filterCompileSupported || s.seccomp.profile == nil || s.cfg.Spec.Annotations[annotSeccomp] != seccompDefault {
		return nil, errors.New("no default seccomp profile to precompile")
	}
	cfg, err := json.Marshal(s.seccomp.profile)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(filepath.Dir(s.runDir), filterCacheDir, filterCacheKey(cfg))
	if b, err := os.ReadFile(path); err == nil {
		if f, _, err := decodeFilter(b); err == nil {
			return f, nil
		}
	}
	f, err := compileFilter(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
		_ = writeFileAtomic(path, f.encode(""))
	}
	return f, nil
}

// compileFilter runs the compile helper: this binary, in a process of its
// own since capturing leaves a trap filter behind.
func compileFilter(ctx context.Context, cfg []byte) (*bpfFilter, error) {
	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = []string{"dockerd-lite-seccomp"}
	cmd.Env = []string{envMode + "=" + modeFilterCompile, "GOMAXPROCS=1"}
	cmd.Stdin = bytes.NewReader(cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("compile seccomp profile: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	f, _, err := decodeFilter(out)
	return f, err
}

// filterCacheKey covers everything the program depends on: the profile,
// the libcontainer and libseccomp code that compile it and the kernel
// whose features libseccomp probes.
func filterCacheKey(cfg []byte) string {
	h := sha256.New()
	h.Write(cfg)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if strings.Contains(d.Path, "runc") || strings.Contains(d.Path, "seccomp") {
				fmt.Fprintf(h, "\x00%s@%s", d.Path, d.Version)
			}
		}
	}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		fmt.Fprintf(h, "\x00%s\x00%s", unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Version[:]))
	}
	fmt.Fprintf(h, "\x00%s", filterToolchain())
	return hex.EncodeToString(h.Sum(nil))
}

// useExecFilter drops the profile from the container's libcontainer
// config, once, so that execs do not compile it again; the caller then
// hands them the filter. It holds s.mu.
func (s *shim) useExecFilter(ctx context.Context) bool {
	if s.seccomp.active {
		return true
	}
	cfg := s.ctr.Config()
	cfg.Seccomp, cfg.NoNewKeyring = nil, true
	if err := s.ctr.Set(cfg); err != nil {
		log.G(ctx).WithError(err).WithField("container", s.cfg.ID).Debug("shim: keep libcontainer's seccomp")
		return false
	}
	s.seccomp.active = true
	return true
}

// seccompFiltered reports whether process pid runs under a seccomp filter
// (a zombie still reports it).
func seccompFiltered(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	return err == nil && bytes.Contains(b, []byte("\nSeccomp:\t2\n"))
}
