// Command mkimage builds the tiny busybox test image from Debian's
// busybox-static and writes it as an OCI image layout, an OCI archive and a
// docker-archive tarball:
//
//	go run ./hack/mkimage -out DIR [-busybox /bin/busybox] [-tag dltest/busybox:latest]
//
// It prints the image ID and the paths it wrote. The e2e harness builds the
// same image in-process (tests/testimage); this command is for poking at the
// daemon by hand (docker load -i DIR/busybox.tar).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/dockerd-lite/dockerd-lite/tests/testimage"
)

func main() {
	var opts testimage.Options
	flag.StringVar(&opts.OutDir, "out", "", "output directory (required)")
	flag.StringVar(&opts.Busybox, "busybox", testimage.DefaultBusybox, "static busybox binary")
	flag.StringVar(&opts.Tag, "tag", testimage.DefaultTag, "image reference recorded in the archives")
	flag.Parse()
	if opts.OutDir == "" {
		fmt.Fprintln(os.Stderr, "mkimage: -out DIR is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, opts); err != nil {
		fmt.Fprintf(os.Stderr, "mkimage: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, opts testimage.Options) error {
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return fmt.Errorf("create output dir: %w", err)
	}
	res, err := testimage.Build(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Printf("image:          %s\n", res.Tag)
	fmt.Printf("id:             %s\n", res.ImageID)
	fmt.Printf("manifest:       %s\n", res.ManifestDigest)
	fmt.Printf("oci layout:     %s\n", res.LayoutDir)
	fmt.Printf("oci archive:    %s\n", res.OCIArchive)
	fmt.Printf("docker archive: %s\n", res.DockerArchive)
	return nil
}
