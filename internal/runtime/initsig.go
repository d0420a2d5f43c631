package runtime

/*
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Runs before the Go runtime in every start of the binary.
//
// As docker-init (pid 1 of a container with --init) it blocks the signals
// a user sends until the reaper has called signal.Notify: pid 1 ignores a
// signal it has no handler for, and the Go runtime would otherwise exit on
// a SIGTERM that arrives during its start-up. Blocked, it stays pending.
//
// With _DOCKERD_LITE_INIT_EXEC=1 it is the reaper's trampoline: it clears
// the inherited signal mask and execs the container's command, so the
// command starts with no signal blocked.
static void __attribute__((constructor)) dockerd_lite_initsig(int argc, char **argv, char **envp) {
	if (argc < 1 || argv == NULL || argv[0] == NULL)
		return;
	const char *tramp = getenv("_DOCKERD_LITE_INIT_EXEC");
	if (tramp != NULL && strcmp(tramp, "1") == 0 && argc > 1) {
		unsetenv("_DOCKERD_LITE_INIT_EXEC");
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(argv[1], argv + 1);
		int err = errno;
		fprintf(stderr, "docker-init: exec %s: %s\n", argv[1], strerror(err));
		_exit(err == ENOENT ? 127 : 126);
	}
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (strcmp(base, "docker-init") != 0)
		return;
	sigset_t s;
	sigemptyset(&s);
	int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&s, sigs[i]);
	sigprocmask(SIG_BLOCK, &s, NULL);
}
*/
import "C"

// initExecEnv selects the C trampoline above in the reaper's child.
const initExecEnv = "_DOCKERD_LITE_INIT_EXEC=1"
