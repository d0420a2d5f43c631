package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// registryHost normalises a server address ("https://index.docker.io/v1/",
// "127.0.0.1:5000") to a registry host; empty means Docker Hub.
func registryHost(addr string) string {
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		addr = u.Host
	}
	addr = strings.TrimSuffix(addr, "/")
	switch addr {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io":
		return name.DefaultRegistry
	}
	return addr
}

func (s *Store) registry(host string) (name.Registry, error) {
	var opts []name.Option
	if s.isInsecure(host) {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return name.Registry{}, errdefs.InvalidParameter(fmt.Errorf("parse registry %q: %w", host, err))
	}
	return reg, nil
}

// Login checks the credentials against auth.ServerAddress (Docker Hub when
// empty): nil means "Login Succeeded"; a rejection is errdefs.Unauthorized
// with the registry's reason.
func (s *Store) Login(ctx context.Context, auth Auth) error {
	reg, err := s.registry(registryHost(auth.ServerAddress))
	if err != nil {
		return err
	}
	rt, err := transport.NewWithContext(ctx, reg, auth.authenticator(), s.transport(http.DefaultTransport), []string{reg.Scope(transport.PullScope)})
	if err != nil {
		return loginError(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return errdefs.Unavailable(fmt.Errorf("login to %s: %w", reg.RegistryStr(), err))
	}
	defer resp.Body.Close()
	return loginError(transport.CheckError(resp, http.StatusOK))
}

func loginError(err error) error {
	if err == nil {
		return nil
	}
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		return errdefs.Unauthorized(fmt.Errorf("login attempt failed with status: %d %s", terr.StatusCode, http.StatusText(terr.StatusCode)))
	}
	return errdefs.Unauthorized(fmt.Errorf("login: %w", err))
}

// Distribution resolves ref in its registry without pulling
// (GET /distribution/{name}/json): the descriptor it points to and, for an
// index, the platforms it offers.
func (s *Store) Distribution(ctx context.Context, refStr string, auth *Auth) (ocispec.Descriptor, []ocispec.Platform, error) {
	ref, err := ParseRef(refStr)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	repo, err := s.repoFor(ref.Domain(), ref.Path(), false)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	var nref name.Reference = repo.Tag(ref.Tag)
	if ref.Digest != "" {
		nref = repo.Digest(ref.Digest.String())
	}
	desc, err := remote.Get(nref, s.remoteOpts(ctx, auth)...)
	if err != nil {
		return ocispec.Descriptor{}, nil, classify(err)
	}
	out := ocispec.Descriptor{MediaType: string(desc.MediaType), Digest: digest.Digest(desc.Digest.String()), Size: desc.Size}
	return out, platformsOf(desc.Manifest), nil
}

func platformsOf(manifest []byte) []ocispec.Platform {
	var idx ocispec.Index
	if json.Unmarshal(manifest, &idx) != nil || len(idx.Manifests) == 0 {
		return nil
	}
	var out []ocispec.Platform
	for _, m := range idx.Manifests {
		if m.Platform != nil {
			out = append(out, *m.Platform)
		}
	}
	return out
}

// SearchResult is one hit of GET /images/search.
type SearchResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	StarCount   int    `json:"star_count"`
	IsOfficial  bool   `json:"is_official"`
	IsAutomated bool   `json:"is_automated"`
}

// Search queries the registry's search API (/v1/search) for term; a term
// such as "127.0.0.1:5000/foo" searches that registry, anything else
// Docker Hub. An unreachable registry is errdefs.Unavailable.
func (s *Store) Search(ctx context.Context, term string, limit int, auth *Auth) ([]SearchResult, error) {
	host, query := name.DefaultRegistry, term
	if i := strings.Index(term, "/"); i > 0 && strings.ContainsAny(term[:i], ".:") || strings.HasPrefix(term, "localhost/") {
		host, query = term[:i], term[i+1:]
	}
	if host == name.DefaultRegistry {
		host = "index.docker.io"
	}
	reg, err := s.registry(host)
	if err != nil {
		return nil, err
	}
	u := fmt.Sprintf("%s://%s/v1/search?q=%s", reg.Scheme(), host, url.QueryEscape(query))
	if limit > 0 {
		u += fmt.Sprintf("&n=%d", limit)
	}
	return s.fetchSearch(ctx, u, host)
}

func (s *Store) fetchSearch(ctx context.Context, u, host string) ([]SearchResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: s.transport(http.DefaultTransport)}).Do(req)
	if err != nil {
		return nil, errdefs.Unavailable(fmt.Errorf("search registry %s: %w", host, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, errdefs.Unavailable(fmt.Errorf("search registry %s: %s: %s", host, resp.Status, strings.TrimSpace(string(body))))
	}
	var out struct {
		Results []SearchResult `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode search results: %w", err)
	}
	return out.Results, nil
}
