package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/containerd/log"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// Progress is one typed progress event of a pull, push or load. ID is the
// short (12 hex) layer digest, or "" (or the tag) for whole-image lines.
type Progress struct {
	ID      string
	Status  string
	Current int64
	Total   int64
	Message string
}

// ProgressFunc receives progress events; it must not block for long.
type ProgressFunc func(Progress)

// PullOpt configures a pull.
type PullOpt struct {
	// Platform selects the manifest of an index (default linux and the
	// daemon's architecture).
	Platform *ocispec.Platform
	Auth     *Auth
	Progress ProgressFunc
}

// PullResult says what a pull produced.
type PullResult struct {
	Image Image
	// Ref is the familiar reference pulled ("busybox:latest").
	Ref string
	// Digest is the digest of what the reference points to in the registry
	// (the index digest for multi-platform images).
	Digest digest.Digest
	// UpToDate is set when the reference already named this image.
	UpToDate bool
}

// Pull fetches ref from its registry (or a docker.io mirror), stores the
// blobs, unpacks missing layers and records the image. A failed or
// cancelled pull leaves no image and no new layer; blobs that were fully
// downloaded and verified stay, so a retry fetches only the rest.
func (s *Store) Pull(ctx context.Context, refStr string, opt PullOpt) (PullResult, error) {
	ref, err := ParseRef(refStr)
	if err != nil {
		return PullResult{}, err
	}
	progress := opt.Progress
	if progress == nil {
		progress = func(Progress) {}
	}
	tagOrDigest := ref.Tag
	if ref.Digest != "" {
		tagOrDigest = ref.Digest.String()
	}
	progress(Progress{ID: tagOrDigest, Status: "Pulling from " + FamiliarName(ref.Named.Name())})
	src, err := s.resolveRemote(ctx, ref, opt)
	if err != nil {
		return PullResult{}, err
	}
	p := &puller{s: s, src: src, progress: progress, auth: opt.Auth}
	res, err := p.run(ctx, ref)
	if err != nil {
		return PullResult{}, err
	}
	progress(Progress{Status: "Digest: " + res.Digest.String()})
	if res.UpToDate {
		progress(Progress{Status: "Status: Image is up to date for " + res.Ref})
	} else {
		progress(Progress{Status: "Status: Downloaded newer image for " + res.Ref})
	}
	return res, nil
}

// remoteImage is a resolved image manifest in a repository.
type remoteImage struct {
	repo      name.Repository
	opts      []remote.Option
	topDigest digest.Digest // what the reference resolved to (index or manifest)
	manifest  []byte
	mfDigest  digest.Digest
}

// resolveRemote fetches the manifest (resolving an index to the platform),
// trying each endpoint in turn.
func (s *Store) resolveRemote(ctx context.Context, ref Ref, opt PullOpt) (*remoteImage, error) {
	eps, err := s.endpoints(ref)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ep := range eps {
		ri, err := s.resolveAt(ctx, ep.repo, ref, opt)
		if err == nil {
			return ri, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		log.G(ctx).WithError(err).WithField("registry", ep.repo.RegistryStr()).Debug("resolve manifest")
		if !ep.mirror {
			errs = append(errs, err)
		}
	}
	return nil, classify(errors.Join(errs...))
}

func (s *Store) resolveAt(ctx context.Context, repo name.Repository, ref Ref, opt PullOpt) (*remoteImage, error) {
	ri := &remoteImage{repo: repo, opts: s.remoteOpts(ctx, opt.Auth)}
	var nref name.Reference = repo.Tag(ref.Tag)
	if ref.Digest != "" {
		nref = repo.Digest(ref.Digest.String())
	}
	desc, err := remote.Get(nref, ri.opts...)
	if err != nil {
		return nil, fmt.Errorf("fetch manifest %s: %w", ref.Familiar(), err)
	}
	ri.topDigest = digest.Digest(desc.Digest.String())
	ri.manifest, ri.mfDigest = desc.Manifest, ri.topDigest
	mt := string(desc.MediaType)
	if mt == ocispec.MediaTypeImageIndex || mt == mediaTypeDockerList {
		d, err := pickPlatform(desc.Manifest, opt.Platform)
		if err != nil {
			return nil, err
		}
		pd, err := remote.Get(repo.Digest(d.String()), ri.opts...)
		if err != nil {
			return nil, fmt.Errorf("fetch platform manifest: %w", err)
		}
		ri.manifest, ri.mfDigest, mt = pd.Manifest, d, string(pd.MediaType)
	}
	if mt != ocispec.MediaTypeImageManifest && mt != mediaTypeDockerManifest {
		return nil, errdefs.InvalidParameter(fmt.Errorf("unsupported manifest media type %q", mt))
	}
	if digest.FromBytes(ri.manifest) != ri.mfDigest {
		return nil, fmt.Errorf("verify manifest: digest mismatch for %s", ri.mfDigest)
	}
	return ri, nil
}

// defaultPlatform is linux on the daemon's architecture (amd64 here).
func defaultPlatform() ocispec.Platform {
	return ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

// pickPlatform chooses the index entry for the platform.
func pickPlatform(index []byte, want *ocispec.Platform) (digest.Digest, error) {
	var idx ocispec.Index
	if err := json.Unmarshal(index, &idx); err != nil {
		return "", fmt.Errorf("decode index: %w", err)
	}
	p := defaultPlatform()
	if want != nil {
		p = *want
	}
	for _, m := range idx.Manifests {
		if m.Platform != nil && platformMatches(*m.Platform, p) {
			return m.Digest, nil
		}
	}
	return "", errdefs.NotFound(fmt.Errorf("no matching manifest for %s in the manifest list entries", platformString(p)))
}

func platformMatches(have, want ocispec.Platform) bool {
	if have.OS != want.OS || have.Architecture != want.Architecture {
		return false
	}
	return want.Variant == "" || have.Variant == want.Variant
}

func platformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// fetchBlob downloads a small blob (a config) into the store if missing.
func (s *Store) fetchBlob(ctx context.Context, ri *remoteImage, d digest.Digest) error {
	if s.blobs.has(d) {
		return nil
	}
	l, err := remote.Layer(ri.repo.Digest(d.String()), ri.opts...)
	if err != nil {
		return fmt.Errorf("fetch blob %s: %w", d, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("fetch blob %s: %w", d, classify(err))
	}
	defer rc.Close()
	w, err := s.blobs.writer()
	if err != nil {
		return err
	}
	defer w.discard()
	if _, err := io.Copy(w, ctxReader(ctx, rc)); err != nil {
		return fmt.Errorf("fetch blob %s: %w", d, err)
	}
	return w.commit(d)
}

// PullAllTags pulls every tag of repo (docker pull -a), in the registry's
// tag list order, and stops at the first failure.
func (s *Store) PullAllTags(ctx context.Context, repoStr string, opt PullOpt) ([]PullResult, error) {
	ref, err := ParseRef(repoStr)
	if err != nil {
		return nil, err
	}
	repo, err := s.repoFor(ref.Domain(), ref.Path(), false)
	if err != nil {
		return nil, err
	}
	tags, err := remote.List(repo, s.remoteOpts(ctx, opt.Auth)...)
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", FamiliarName(ref.Named.Name()), classify(err))
	}
	var out []PullResult
	for _, t := range tags {
		res, err := s.Pull(ctx, ref.Named.Name()+":"+t, opt)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}
