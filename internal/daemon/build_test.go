package daemon

import (
	"testing"

	"github.com/moby/moby/api/types/registry"
)

func TestAuthFor(t *testing.T) {
	auths := map[string]registry.AuthConfig{
		"https://index.docker.io/v1/": {Username: "hub"},
		"reg.example:5000":            {Username: "private"},
		"http://other.example/v2/":    {Username: "other"},
	}
	for name, want := range map[string]string{
		"busybox":                   "hub",
		"library/busybox:1":         "hub",
		"reg.example:5000/app:1":    "private",
		"other.example/team/app":    "other",
		"unknown.example/app":       "",
		"reg.example/app (no port)": "",
	} {
		if got := authFor(name, auths).Username; got != want {
			t.Errorf("authFor(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestContainerConfigOf(t *testing.T) {
	c := containerConfigOf(map[string]any{
		"Env": []string{"A=1"}, "ExposedPorts": map[string]any{"80/tcp": struct{}{}}, "Shell": []string{"/bin/ash", "-c"},
		"Healthcheck": map[string]any{"Test": []string{"NONE"}}, "OnBuild": []string{"RUN x"},
	})
	if len(c.Env) != 1 || len(c.ExposedPorts) != 1 || len(c.Shell) != 2 || c.Healthcheck == nil || len(c.OnBuild) != 1 {
		t.Errorf("config = %+v", c)
	}
}
