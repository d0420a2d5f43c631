// Package testimage builds the tiny busybox image the end-to-end tests load
// into the daemon. The tests assume no network, so the image is assembled
// locally from Debian's busybox-static binary (/bin/busybox) and written as an
// OCI image layout, an OCI archive and a docker-archive ("docker save")
// tarball with go-containerregistry.
//
// The output is reproducible: every timestamp is fixed and every entry is
// owned by 0:0, so the image ID (the config digest) depends only on the
// busybox binary and the applet list.
package testimage
