package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// RemoveAll deletes dir. Once the daemon has unpacked layers, dir holds files
// owned by the user's subordinate ids, which an unprivileged caller cannot
// delete directly; then the removal is retried inside a user namespace that
// maps those ids (util-linux `unshare --map-root-user --map-auto`).
func RemoveAll(ctx context.Context, dir string) error {
	err := os.RemoveAll(dir)
	if err == nil || os.Geteuid() == 0 {
		return err
	}
	cmd := exec.CommandContext(ctx, "unshare", "--map-root-user", "--map-auto", "rm", "-rf", "--", dir)
	out, uerr := cmd.CombinedOutput()
	if uerr != nil {
		return errors.Join(err, fmt.Errorf("remove %s in user namespace: %w: %s", dir, uerr, out))
	}
	return nil
}
