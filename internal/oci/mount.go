package oci

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/containerd/log"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// maxMountAttempts is how many source repositories a push tries per layer,
// and maxConcurrentUploads how many layers it handles at once (dockerd's
// values).
const (
	maxMountAttempts     = 3
	maxConcurrentUploads = 5
)

// rememberRepo records that repo (a full name) holds the layers; a failure
// only costs later pushes their mounts, so it is logged.
func (s *Store) rememberRepo(ctx context.Context, repo string, layers []ocispec.Descriptor) {
	ds := make([]digest.Digest, 0, len(layers))
	for _, l := range layers {
		ds = append(ds, l.Digest)
	}
	if err := s.repos.add(repo, ds, s.blobs.has); err != nil {
		log.G(ctx).WithError(err).Warn("record blob repositories")
	}
}

// mountCandidates lists, per layer, the other repositories of ref's
// registry known to hold it (paths, newest first, at most
// maxMountAttempts). Layers known to be in ref's repository already get
// none: the existence check finds them.
func (s *Store) mountCandidates(ref Ref, layers []ocispec.Descriptor) map[digest.Digest][]string {
	out := map[digest.Digest][]string{}
	for _, l := range layers {
		var paths []string
		for _, r := range s.repos.repos(l.Digest) {
			src, err := ParseRef(r)
			if err != nil || src.Domain() != ref.Domain() {
				continue
			}
			if src.Path() == ref.Path() {
				paths = nil
				break
			}
			paths = append(paths, src.Path())
		}
		if len(paths) > 0 {
			out[l.Digest] = paths[:min(len(paths), maxMountAttempts)]
		}
	}
	return out
}

// mountLayers asks the registry to mount into repo every layer known to be
// in another repository of the same registry, before anything is
// uploaded, and reports "Mounted from <path>" for each mount. It returns
// the mounted layers. A refused mount is no error: the layer is then
// checked and uploaded as usual.
func (s *Store) mountLayers(ctx context.Context, repo name.Repository, ref Ref, layers []ocispec.Descriptor, auth *Auth, progress ProgressFunc) (map[digest.Digest]bool, error) {
	cands := s.mountCandidates(ref, layers)
	mounted := map[digest.Digest]bool{}
	if len(cands) == 0 {
		return mounted, nil
	}
	rt, err := s.mountTransport(ctx, repo, cands, auth)
	if err != nil {
		log.G(ctx).WithError(err).Debug("skip cross-repository mounts")
		return mounted, ctx.Err()
	}
	m := &mounter{rt: rt, repo: repo}
	results, err := m.mountAll(ctx, layers, cands)
	if err != nil {
		return nil, err
	}
	for i, l := range layers {
		if results[i] != "" && !mounted[l.Digest] {
			mounted[l.Digest] = true
			progress(Progress{ID: shortID(l.Digest.String()), Status: "Mounted from " + results[i]})
		}
	}
	return mounted, nil
}

// mountAll tries the layers' candidates, up to maxConcurrentUploads layers
// at once, and returns per layer the path it was mounted from, or "".
func (m *mounter) mountAll(ctx context.Context, layers []ocispec.Descriptor, cands map[digest.Digest][]string) ([]string, error) {
	results := make([]string, len(layers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxConcurrentUploads)
	for i, l := range layers {
		if len(cands[l.Digest]) == 0 {
			continue
		}
		g.Go(func() error {
			results[i] = m.mountAny(gctx, l.Digest, cands[l.Digest])
			return gctx.Err()
		})
	}
	return results, g.Wait()
}

// mountTransport authenticates for push to repo and pull from every
// candidate source repository.
func (s *Store) mountTransport(ctx context.Context, repo name.Repository, cands map[digest.Digest][]string, auth *Auth) (http.RoundTripper, error) {
	scopes := []string{repo.Scope(transport.PushScope)}
	seen := map[string]bool{}
	for _, paths := range cands {
		for _, p := range paths {
			if !seen[p] {
				seen[p] = true
				scopes = append(scopes, repo.Registry.Repo(p).Scope(transport.PullScope))
			}
		}
	}
	rt, err := transport.NewWithContext(ctx, repo.Registry, auth.authenticator(), s.transport(http.DefaultTransport), scopes)
	if err != nil {
		return nil, fmt.Errorf("authenticate to %s: %w", repo.RegistryStr(), classify(err))
	}
	return rt, nil
}

// mounter sends cross-repository mount requests to one repository.
type mounter struct {
	rt   http.RoundTripper
	repo name.Repository
}

// mountAny tries the source repositories in turn and returns the one the
// blob was mounted from, or "".
func (m *mounter) mountAny(ctx context.Context, d digest.Digest, from []string) string {
	for _, src := range from {
		ok, err := m.mount(ctx, d, src)
		if err != nil {
			log.G(ctx).WithError(err).WithField("blob", d).WithField("from", src).Debug("mount blob")
		}
		if ok {
			return src
		}
		if ctx.Err() != nil {
			return ""
		}
	}
	return ""
}

// mount sends POST /v2/<repo>/blobs/uploads/?mount=<d>&from=<src>. The
// registry answers 201 when it mounted the blob; otherwise (202) it opened
// an upload session, which is cancelled.
func (m *mounter) mount(ctx context.Context, d digest.Digest, src string) (bool, error) {
	u := url.URL{
		Scheme:   m.repo.Scheme(),
		Host:     m.repo.RegistryStr(),
		Path:     "/v2/" + m.repo.RepositoryStr() + "/blobs/uploads/",
		RawQuery: url.Values{"mount": {d.String()}, "from": {src}}.Encode(),
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return false, err
	}
	resp, err := (&http.Client{Transport: m.rt}).Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated:
		return true, nil
	case http.StatusAccepted:
		m.cancelUpload(ctx, resp)
		return false, nil
	}
	return false, transport.CheckError(resp, http.StatusCreated)
}

// cancelUpload deletes the upload session a refused mount opened; the
// registry expires it anyway, so failures are ignored.
func (m *mounter) cancelUpload(ctx context.Context, resp *http.Response) {
	loc, err := resp.Location()
	if err != nil {
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, loc.String(), nil)
	if err != nil {
		return
	}
	if r, err := (&http.Client{Transport: m.rt}).Do(req); err == nil {
		r.Body.Close()
	}
}
