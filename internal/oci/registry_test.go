package oci

import (
	"errors"
	"net/http"
	"testing"
)

func TestInsecureAndSchemeUpgrade(t *testing.T) {
	s := &Store{opt: Opt{InsecureRegistries: []string{"myreg:5000", "10.1.0.0/16", "http://plain.example.com/"}}}
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "localhost:5000": true, "[::1]:5000": true, "127.8.9.1": true,
		"myreg:5000": true, "myreg:6000": false, "10.1.2.3:443": true, "10.2.0.1": false,
		"plain.example.com": true, "docker.io": false, "192.168.1.5:5000": false,
	} {
		if got := s.isInsecure(host); got != want {
			t.Errorf("isInsecure(%q) = %v, want %v", host, got, want)
		}
	}
	var seen []string
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.URL.String())
		return nil, errors.New("no network in tests")
	})
	rt := s.transport(base)
	for _, u := range []string{"http://192.168.1.5:5000/v2/", "http://127.0.0.1:5000/v2/", "http://192.168.1.5/token?x=1"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		rt.RoundTrip(req)
	}
	want := []string{"https://192.168.1.5:5000/v2/", "http://127.0.0.1:5000/v2/", "http://192.168.1.5/token?x=1"}
	for i := range want {
		if i >= len(seen) || seen[i] != want[i] {
			t.Errorf("request %d went to %v, want %s", i, seen, want[i])
		}
	}
	if registryHost("https://index.docker.io/v1/") != "index.docker.io" || registryHost("127.0.0.1:5000") != "127.0.0.1:5000" {
		t.Error("registryHost normalisation")
	}
}
