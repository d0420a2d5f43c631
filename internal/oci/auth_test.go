package oci

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// authRegistry puts a token server and a bearer-token check (or plain
// basic auth) in front of a test registry; credentials are alice:secret.
func authRegistry(t *testing.T, bearer bool) (*testRegistry, string) {
	t.Helper()
	reg := newTestRegistry(t)
	inner := reg.Config.Handler
	var self string
	reg.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		goodBasic := ok && user == "alice" && pass == "secret"
		switch {
		case r.URL.Path == "/v1/search":
			json.NewEncoder(w).Encode(map[string]any{"results": []SearchResult{{Name: "found/" + r.URL.Query().Get("q"), StarCount: 3}}})
			return
		case r.URL.Path == "/token" && goodBasic:
			json.NewEncoder(w).Encode(map[string]string{"token": "tok-" + r.URL.Query().Get("scope")})
			return
		case r.URL.Path == "/token":
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`, http.StatusUnauthorized)
			return
		case r.Header.Get("X-Setup") == "1",
			bearer && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-"),
			!bearer && goodBasic:
			inner.ServeHTTP(w, r)
			return
		}
		if bearer {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+self+`/token",service="test"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		}
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
	})
	self = reg.URL
	return reg, reg.host()
}

// pushSetup pushes through the auth wall with a marker header.
func pushSetup(t *testing.T, reg *testRegistry, repoTag string) string {
	t.Helper()
	h := reg.Config.Handler
	setup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Setup", "1")
		h.ServeHTTP(w, r)
	}))
	defer setup.Close()
	tmp := &testRegistry{Server: setup}
	tmp.push(t, repoTag, imageOfLayers(t, "amd64", "auth", layerOf(t, [2]string{"f", "x"})))
	return reg.host() + "/" + repoTag
}

func TestPullWithAuth(t *testing.T) {
	for _, bearer := range []bool{false, true} {
		name := map[bool]string{false: "basic", true: "bearer"}[bearer]
		t.Run(name, func(t *testing.T) {
			s := newTestStore(t, Opt{})
			ctx := testCtx(t)
			reg, host := authRegistry(t, bearer)
			ref := pushSetup(t, reg, "private/img:1")
			if _, err := s.Pull(ctx, ref, PullOpt{}); !errors.Is(err, errdefs.ErrUnauthorized) {
				t.Errorf("anonymous pull: %v", err)
			}
			good := &Auth{Username: "alice", Password: "secret", ServerAddress: host}
			if _, err := s.Pull(ctx, ref, PullOpt{Auth: good}); err != nil {
				t.Fatalf("pull with credentials: %v", err)
			}
			if err := s.Login(ctx, *good); err != nil {
				t.Errorf("login: %v", err)
			}
			bad := Auth{Username: "alice", Password: "wrong", ServerAddress: "http://" + host}
			if err := s.Login(ctx, bad); !errors.Is(err, errdefs.ErrUnauthorized) {
				t.Errorf("bad login: %v", err)
			}
		})
	}
}

func TestMirrorDistributionSearch(t *testing.T) {
	reg, host := authRegistry(t, false)
	s := newTestStore(t, Opt{Mirrors: []string{"http://" + host}})
	ctx := testCtx(t)
	pushSetup(t, reg, "library/mirrored:latest")
	auth := &Auth{Username: "alice", Password: "secret"}
	res, err := s.Pull(ctx, "mirrored", PullOpt{Auth: auth})
	if err != nil {
		t.Fatalf("pull through mirror: %v", err)
	}
	if res.Ref != "mirrored:latest" || res.Image.RepoTags[0] != "mirrored:latest" {
		t.Errorf("mirror pull refs: %s %v", res.Ref, res.Image.RepoTags)
	}
	desc, _, err := s.Distribution(ctx, host+"/library/mirrored", auth)
	if err != nil || desc.Digest != res.Digest {
		t.Errorf("distribution: %v %s", err, desc.Digest)
	}
	hits, err := s.Search(ctx, host+"/needle", 5, nil)
	if err != nil || len(hits) != 1 || hits[0].Name != "found/needle" {
		t.Errorf("search: %v %+v", err, hits)
	}
	if _, err := s.Search(ctx, "127.0.0.1:1/x", 5, nil); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("search unreachable: %v", err)
	}
}
