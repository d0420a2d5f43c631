package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BinaryEnv names the environment variable that points at a prebuilt
// dockerd-lite binary; when set, Build uses it instead of compiling.
const BinaryEnv = "DOCKERD_LITE_BIN"

// BuildTags are the tags the daemon is built with (containers/storage's
// btrfs driver needs headers this project does not install).
const BuildTags = "exclude_graphdriver_btrfs"

// Build returns the path of a dockerd-lite binary: $DOCKERD_LITE_BIN when set,
// otherwise a fresh `go build` of ./cmd/dockerd-lite into outDir. outDir is
// made world-readable so that a daemon started as TestUser can execute it;
// for the same reason a root caller gets $DOCKERD_LITE_BIN copied into outDir
// (CI clones under /root, which TestUser cannot enter).
func Build(ctx context.Context, outDir string) (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		return Prebuilt(p, outDir)
	}
	if err := os.Chmod(outDir, 0o755); err != nil {
		return "", fmt.Errorf("open up build dir: %w", err)
	}
	out := filepath.Join(outDir, "dockerd-lite")
	root, err := ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", BuildTags, "-o", out, "./cmd/dockerd-lite")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build dockerd-lite: %w\n%s", err, b)
	}
	return out, nil
}

// Prebuilt returns the absolute path of the existing binary p; when the
// caller is root it copies p into outDir (made world-readable) first, so that
// TestUser can execute it wherever p lives.
func Prebuilt(p, outDir string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", p, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("stat dockerd-lite binary: %w", err)
	}
	if os.Geteuid() != 0 {
		return abs, nil
	}
	if err := os.Chmod(outDir, 0o755); err != nil {
		return "", fmt.Errorf("open up binary dir: %w", err)
	}
	out := filepath.Join(outDir, "dockerd-lite")
	if err := copyFile(abs, out); err != nil {
		return "", fmt.Errorf("copy %s for %s: %w", abs, TestUser, err)
	}
	return out, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ModuleRoot returns the directory holding the repository's go.mod.
func ModuleRoot(ctx context.Context) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("find module root: %w: %s", err, stderr.String())
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("find module root: not inside the dockerd-lite module")
	}
	return filepath.Dir(gomod), nil
}
