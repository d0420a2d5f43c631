package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// DefaultBusybox is where Debian's busybox-static package installs the binary.
const DefaultBusybox = "/bin/busybox"

// DefaultTag is the reference the docker-archive is tagged with.
const DefaultTag = "dltest/busybox:latest"

// Options says what to build and where.
type Options struct {
	// OutDir receives the outputs; it is created if missing. Required.
	OutDir string
	// Busybox is the static busybox binary; DefaultBusybox when empty.
	Busybox string
	// Tag is the image reference; DefaultTag when empty.
	Tag string
}

// Result names the files Build wrote.
type Result struct {
	// Tag is the reference recorded in the archives, e.g. "dltest/busybox:latest".
	Tag string
	// ImageID is the image config digest ("sha256:..."), the ID Docker reports.
	ImageID string
	// ManifestDigest is the digest of the OCI image manifest.
	ManifestDigest string
	// LayoutDir is an OCI image layout directory (index.json, oci-layout, blobs/).
	LayoutDir string
	// OCIArchive is LayoutDir packed as a tar (docker load accepts it from API 1.40+ daemons).
	OCIArchive string
	// DockerArchive is a "docker save" tarball (manifest.json with RepoTags).
	DockerArchive string
}

// Build assembles the busybox image and writes it in all three formats.
func Build(ctx context.Context, opts Options) (Result, error) {
	opts = withDefaults(opts)
	tag, err := name.NewTag(opts.Tag)
	if err != nil {
		return Result{}, fmt.Errorf("parse tag %q: %w", opts.Tag, err)
	}
	img, err := Image(ctx, opts.Busybox)
	if err != nil {
		return Result{}, err
	}
	res := Result{
		Tag:           opts.Tag,
		LayoutDir:     filepath.Join(opts.OutDir, "oci"),
		OCIArchive:    filepath.Join(opts.OutDir, "busybox-oci.tar"),
		DockerArchive: filepath.Join(opts.OutDir, "busybox.tar"),
	}
	if err := res.fillDigests(img); err != nil {
		return Result{}, err
	}
	if err := writeLayout(res.LayoutDir, tag, img); err != nil {
		return Result{}, err
	}
	if err := tarDir(res.LayoutDir, res.OCIArchive); err != nil {
		return Result{}, err
	}
	if err := tarball.WriteToFile(res.DockerArchive, tag, img); err != nil {
		return Result{}, fmt.Errorf("write docker archive: %w", err)
	}
	return res, ctx.Err()
}

func withDefaults(opts Options) Options {
	if opts.Busybox == "" {
		opts.Busybox = DefaultBusybox
	}
	if opts.Tag == "" {
		opts.Tag = DefaultTag
	}
	return opts
}

func (r *Result) fillDigests(img v1.Image) error {
	cfg, err := img.ConfigName()
	if err != nil {
		return fmt.Errorf("compute image id: %w", err)
	}
	man, err := img.Digest()
	if err != nil {
		return fmt.Errorf("compute manifest digest: %w", err)
	}
	r.ImageID, r.ManifestDigest = cfg.String(), man.String()
	return nil
}

// Image returns the busybox image (OCI media types, one gzip layer) without
// writing anything.
func Image(ctx context.Context, busybox string) (v1.Image, error) {
	data, err := rootfsTar(ctx, busybox)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("create layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "dockerd-lite hack/mkimage: busybox-static rootfs"},
	})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	return withConfig(img)
}

func withConfig(img v1.Image) (v1.Image, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Created = v1.Time{Time: epoch}
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config.Cmd = []string{"sh"}
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	return img, nil
}

func writeLayout(dir string, tag name.Tag, img v1.Image) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear layout: %w", err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("create layout: %w", err)
	}
	// ref.name carries the tag as the OCI spec says; containerd (and so
	// Docker's OCI-archive load) reads io.containerd.image.name.
	err = p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag.TagStr(),
		"io.containerd.image.name":          tag.Name(),
	}))
	if err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	return nil
}

// tarDir packs dir (regular files and directories only) into the tar file out.
func tarDir(dir, out string) (err error) {
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("create archive: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close archive: %w", cerr)
		}
	}()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, werr error) error {
		if werr != nil || p == dir {
			return werr
		}
		return addToTar(tw, dir, p, d)
	})
	if err != nil {
		return fmt.Errorf("pack %s: %w", dir, err)
	}
	return tw.Close()
}

func addToTar(tw *tar.Writer, root, p string, d fs.DirEntry) error {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return err
	}
	if d.IsDir() {
		return tw.WriteHeader(header(filepath.ToSlash(rel)+"/", tar.TypeDir, 0o755))
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	return writeFile(tw, filepath.ToSlash(rel), 0o644, data)
}
