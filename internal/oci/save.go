package oci

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Save writes the named images as one docker-archive: manifest.json and
// repositories (read by docker load and skopeo) plus oci-layout and
// index.json over the same blobs/sha256/ files, so the archive is also an
// OCI image layout. Images named by ID are saved without tags.
func (s *Store) Save(ctx context.Context, names []string, w io.Writer) error {
	sv := &saver{s: s, tw: tar.NewWriter(w), written: map[digest.Digest]bool{}, repos: map[string]map[string]string{}}
	for _, n := range names {
		for _, ref := range s.expandRepo(n) {
			if err := sv.add(ctx, ref); err != nil {
				return err
			}
		}
	}
	return sv.finish()
}

// expandRepo turns a bare repository name ("busybox", no tag or digest)
// into all its local tags, as docker save does; anything else is kept.
func (s *Store) expandRepo(n string) []string {
	ref, err := ParseRef(n)
	if err != nil || ref.Digest != "" || strings.Contains(n[strings.LastIndex(n, "/")+1:], ":") {
		return []string{n}
	}
	var tags []string
	for _, r := range s.refs.snapshot() {
		for _, t := range r.RepoTags {
			if strings.HasPrefix(t, ref.Named.Name()+":") {
				tags = append(tags, t)
			}
		}
	}
	if len(tags) == 0 {
		return []string{n}
	}
	sort.Strings(tags)
	return tags
}

type saver struct {
	s       *Store
	tw      *tar.Writer
	written map[digest.Digest]bool
	entries []archiveEntry
	index   []ocispec.Descriptor
	repos   map[string]map[string]string
	now     time.Time
}

func (sv *saver) add(ctx context.Context, nameOrID string) error {
	rec, err := sv.s.resolve(nameOrID)
	if err != nil {
		return err
	}
	var tags []string
	if ref, err := ParseRef(nameOrID); err == nil && ref.TagRef() != "" && !isIDInput(&rec, nameOrID) {
		tags = []string{ref.TagRef()}
	}
	mf, err := sv.s.manifestOf(rec.ManifestDigest)
	if err != nil {
		return err
	}
	entry := archiveEntry{Config: blobPath(mf.Config.Digest), RepoTags: []string{}}
	for _, d := range append([]digest.Digest{rec.ManifestDigest, mf.Config.Digest}, layerDigests(mf)...) {
		if err := sv.blob(ctx, d); err != nil {
			return err
		}
	}
	for _, l := range mf.Layers {
		entry.Layers = append(entry.Layers, blobPath(l.Digest))
	}
	for i := range sv.entries {
		if sv.entries[i].Config == entry.Config {
			sv.addRefs(&sv.entries[i], rec, mf, tags)
			return nil
		}
	}
	sv.addRefs(&entry, rec, mf, tags)
	sv.entries = append(sv.entries, entry)
	return nil
}

func (sv *saver) addRefs(entry *archiveEntry, rec record, mf ocispec.Manifest, tags []string) {
	desc := ocispec.Descriptor{MediaType: mf.MediaType, Digest: rec.ManifestDigest}
	if data, err := sv.s.blobs.read(rec.ManifestDigest); err == nil {
		desc.Size, desc.MediaType = int64(len(data)), mediaTypeOf(data)
	}
	if len(tags) == 0 {
		sv.index = append(sv.index, desc)
	}
	for _, t := range tags {
		ref, _ := ParseRef(t)
		entry.RepoTags = append(entry.RepoTags, familiar(t))
		d := desc
		d.Annotations = map[string]string{"io.containerd.image.name": t, ocispec.AnnotationRefName: ref.Tag}
		sv.index = append(sv.index, d)
		name := FamiliarName(t)
		if sv.repos[name] == nil {
			sv.repos[name] = map[string]string{}
		}
		if n := len(mf.Layers); n > 0 {
			sv.repos[name][ref.Tag] = mf.Layers[n-1].Digest.Encoded()
		}
	}
}

func layerDigests(mf ocispec.Manifest) []digest.Digest {
	out := make([]digest.Digest, 0, len(mf.Layers))
	for _, l := range mf.Layers {
		out = append(out, l.Digest)
	}
	return out
}

func blobPath(d digest.Digest) string { return path.Join("blobs", d.Algorithm().String(), d.Encoded()) }

// blob copies a stored blob into the archive once.
func (sv *saver) blob(ctx context.Context, d digest.Digest) error {
	if sv.written[d] {
		return nil
	}
	f, err := sv.s.blobs.open(d)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := sv.header(blobPath(d), st.Size()); err != nil {
		return err
	}
	if _, err := io.Copy(sv.tw, ctxReader(ctx, f)); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	sv.written[d] = true
	return nil
}

func (sv *saver) header(name string, size int64) error {
	h := &tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
	if err := sv.tw.WriteHeader(h); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	return nil
}

func (sv *saver) file(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	if err := sv.header(name, int64(len(data))); err != nil {
		return err
	}
	_, err = sv.tw.Write(data)
	return err
}

func (sv *saver) finish() error {
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: sv.index}
	idx.SchemaVersion = 2
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	layout := ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion}
	for name, v := range map[string]any{"manifest.json": sv.entries, "index.json": idx, ocispec.ImageLayoutFile: layout} {
		if err := sv.file(name, v); err != nil {
			return err
		}
	}
	if len(sv.repos) > 0 {
		if err := sv.file("repositories", sv.repos); err != nil {
			return err
		}
	}
	return sv.tw.Close()
}
