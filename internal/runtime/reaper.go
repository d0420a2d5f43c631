package runtime

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// runReaper is the minimal init for --init: it runs the command after
// "--", forwards every signal to it, reaps every zombie the container
// leaves behind and exits with the command's status (128+n on signal n).
func runReaper(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "docker-init: no command given")
		return 1
	}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "docker-init: %v\n", err)
		return execFailureCode(err)
	}
	return reapLoop(cmd.Process.Pid, sigs)
}

// reapLoop forwards signals to child and reaps until child is gone.
func reapLoop(child int, sigs <-chan os.Signal) int {
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			_ = unix.Kill(child, sig.(syscall.Signal))
			continue
		}
		if code, done := reapAll(child); done {
			return code
		}
	}
	return 1
}

// reapAll collects every exited child; done reports that child itself
// ended, with its exit code.
func reapAll(child int) (code int, done bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || pid <= 0 {
			return code, done
		}
		if pid != child {
			continue
		}
		done = true
		code = ws.ExitStatus()
		if ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
}

// execFailureCode follows the shell's convention: 127 for a command that
// does not exist, 126 for one that cannot run.
func execFailureCode(err error) int {
	if os.IsNotExist(err) || errorsIsNotFound(err) {
		return 127
	}
	return 126
}

func errorsIsNotFound(err error) bool {
	ee, ok := err.(*exec.Error)
	return ok && ee.Err == exec.ErrNotFound
}
