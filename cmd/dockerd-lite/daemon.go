package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/containerd/log"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	"github.com/dockerd-lite/dockerd-lite/internal/daemon"
)

// runDaemon is the daemon role: inside the user namespace, it serves the
// API on the inherited listeners until SIGTERM/SIGINT; SIGHUP reloads.
func runDaemon(h handoff) int {
	if err := setupLogging(h.Config.LogLevel); err != nil {
		fmt.Fprintln(os.Stderr, "dockerd-lite:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := serve(ctx, h); err != nil {
		log.G(ctx).WithError(err).Error("daemon failed")
		return 1
	}
	return 0
}

func serve(ctx context.Context, h handoff) error {
	// Catch stop signals before the first request can be served: a
	// SIGTERM right after /_ping answers must shut down cleanly. Never
	// stopped: a second SIGTERM during shutdown must not kill us.
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	lns, err := inheritedListeners(h.Config)
	if err != nil {
		return err
	}
	d, err := daemon.New(ctx, daemon.Opt{Config: h.Config, Findings: h.Findings, Rootless: h.Rootless})
	if err != nil {
		return err
	}
	defer d.Close()
	// Requests run under their own context: cancelling it at shutdown ends
	// long-lived streams (events, logs -f, wait) so Shutdown need not wait.
	reqCtx, endRequests := context.WithCancel(ctx)
	defer endRequests()
	srv := api.New(api.Opt{
		Backends:    api.Backends{System: d, Images: d, Containers: d, Volumes: d, Networks: d, Build: d},
		CORSOrigin:  func() string { return d.Config().CorsHeaders },
		BaseContext: reqCtx,
	})
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		go func(ln net.Listener) { errc <- srv.Serve(ln) }(ln)
	}
	log.G(ctx).WithField("pid", os.Getpid()).Info("daemon ready")
	err = waitForSignals(ctx, d, sigc, errc)
	endRequests()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); err == nil {
		err = serr
	}
	log.G(ctx).Info("daemon stopped")
	return err
}

// waitForSignals blocks until a stop signal or a listener failure; SIGHUP
// reloads the configuration file.
func waitForSignals(ctx context.Context, d *daemon.Daemon, sigc <-chan os.Signal, errc <-chan error) error {
	for {
		select {
		case err := <-errc:
			return err
		case sig := <-sigc:
			if sig != syscall.SIGHUP {
				log.G(ctx).WithField("signal", sig).Info("shutting down")
				return nil
			}
			reload(ctx, d)
		}
	}
}

func reload(ctx context.Context, d *daemon.Daemon) {
	cfg, err := d.Config().Reload()
	if err != nil {
		log.G(ctx).WithError(err).Error("reload failed; keeping the current configuration")
		return
	}
	if err := setupLogging(cfg.LogLevel); err != nil {
		log.G(ctx).WithError(err).Error("reload: bad log level")
		return
	}
	d.Reload(cfg)
	log.G(ctx).WithField("file", cfg.ConfigFile).Info("configuration reloaded")
}
