package oci

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// Auth holds registry credentials as sent in X-Registry-Auth.
type Auth struct {
	Username      string
	Password      string
	IdentityToken string
	RegistryToken string
	ServerAddress string
}

// authenticator turns Auth into go-containerregistry's form; nil means
// anonymous (bearer tokens are still fetched for public repositories).
func (a *Auth) authenticator() authn.Authenticator {
	if a == nil || (a.Username == "" && a.Password == "" && a.IdentityToken == "" && a.RegistryToken == "") {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{
		Username: a.Username, Password: a.Password,
		IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken,
	})
}

// isInsecure reports whether host (host[:port]) is reached over plain
// HTTP: loopback always (as Docker does), others per InsecureRegistries
// entries (host[:port] or CIDR).
func (s *Store) isInsecure(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	if h == "localhost" || (ip != nil && ip.IsLoopback()) {
		return true
	}
	for _, e := range s.opt.InsecureRegistries {
		e = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://"), "/")
		if e == host || e == h {
			return true
		}
		if _, cidr, err := net.ParseCIDR(e); err == nil && ip != nil && cidr.Contains(ip) {
			return true
		}
	}
	return false
}

// repoFor builds the go-containerregistry repository of ref on host
// (normally ref.Domain(); a mirror's host for docker.io mirrors).
func (s *Store) repoFor(host, path string, insecure bool) (name.Repository, error) {
	var opts []name.Option
	if insecure || s.isInsecure(host) {
		opts = append(opts, name.Insecure)
	}
	if host == "docker.io" {
		host = name.DefaultRegistry
	}
	repo, err := name.NewRepository(host+"/"+path, opts...)
	if err != nil {
		return name.Repository{}, errdefs.InvalidParameter(fmt.Errorf("parse repository: %w", err))
	}
	return repo, nil
}

// endpoint is one place to fetch a repository from.
type endpoint struct {
	repo   name.Repository
	mirror bool
}

// endpoints lists where ref can be pulled from: mirrors first for
// docker.io, then the registry itself.
func (s *Store) endpoints(ref Ref) ([]endpoint, error) {
	var eps []endpoint
	if ref.Domain() == "docker.io" {
		for _, m := range s.opt.Mirrors {
			host, insecure := mirrorHost(m)
			if repo, err := s.repoFor(host, ref.Path(), insecure); err == nil {
				eps = append(eps, endpoint{repo: repo, mirror: true})
			}
		}
	}
	repo, err := s.repoFor(ref.Domain(), ref.Path(), false)
	if err != nil {
		return nil, err
	}
	return append(eps, endpoint{repo: repo}), nil
}

func mirrorHost(m string) (string, bool) {
	if u, err := url.Parse(m); err == nil && u.Host != "" {
		return u.Host, u.Scheme == "http"
	}
	return strings.TrimSuffix(m, "/"), false
}

// remoteOpts are the options every registry call uses.
func (s *Store) remoteOpts(ctx context.Context, auth *Auth) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(auth.authenticator()),
		remote.WithUserAgent("dockerd-lite"),
		remote.WithTransport(s.transport(http.DefaultTransport)),
	}
}

// transport keeps plain HTTP to loopback and --insecure-registry hosts.
// go-containerregistry also speaks plain HTTP to private (RFC 1918)
// addresses; Docker does not, so such requests are upgraded to HTTPS.
func (s *Store) transport(base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		// Only registry API calls: a token realm is used as given.
		api := strings.HasPrefix(req.URL.Path, "/v2/") || strings.HasPrefix(req.URL.Path, "/v1/search")
		if api && req.URL.Scheme == "http" && !s.isInsecure(req.URL.Host) {
			req = req.Clone(req.Context())
			req.URL.Scheme = "https"
		}
		return base.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip implements http.RoundTripper.
func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// classify maps registry errors to the error classes the API reports.
func classify(err error) error {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return err
	}
	switch terr.StatusCode {
	case http.StatusNotFound:
		return errdefs.NotFound(err)
	case http.StatusUnauthorized:
		return errdefs.Unauthorized(err)
	case http.StatusForbidden:
		return errdefs.Forbidden(err)
	}
	for _, d := range terr.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return errdefs.NotFound(err)
		}
	}
	return err
}
