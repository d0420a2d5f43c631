package daemon

import (
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// TestMountSpecs pins the precedence of create's mount sources: Binds and
// Mounts win, image/config VOLUMEs fill only uncovered destinations, and a
// destination given twice by the user is Docker's "Duplicate mount point".
func TestMountSpecs(t *testing.T) {
	cases := []struct {
		name string
		cfg  container.Config
		hc   container.HostConfig
		want []string // type:source:destination
		err  string
	}{
		{name: "image volume becomes anonymous",
			cfg:  container.Config{Volumes: map[string]struct{}{"/data": {}}},
			want: []string{"volume::/data"}},
		{name: "bind covers image volume",
			cfg:  container.Config{Volumes: map[string]struct{}{"/data": {}}},
			hc:   container.HostConfig{Binds: []string{"/h:/data/"}},
			want: []string{"bind:/h:/data/"}},
		{name: "binds then mounts",
			hc:   container.HostConfig{Binds: []string{"v:/a"}, Mounts: []mount.Mount{{Type: mount.TypeTmpfs, Target: "/b"}}},
			want: []string{"volume:v:/a", "tmpfs::/b"}},
		{name: "bind and mount collide",
			hc:  container.HostConfig{Binds: []string{"v:/a"}, Mounts: []mount.Mount{{Type: mount.TypeVolume, Target: "/a/"}}},
			err: "Duplicate mount point: /a"},
		{name: "tmpfs and bind collide",
			hc:  container.HostConfig{Binds: []string{"/h:/a"}, Tmpfs: map[string]string{"/a": ""}},
			err: "Duplicate mount point: /a"},
		{name: "tmpfs is not a mount point",
			cfg:  container.Config{Volumes: map[string]struct{}{"/run": {}}},
			hc:   container.HostConfig{Tmpfs: map[string]string{"/t": "size=1m"}},
			want: []string{"volume::/run"}},
		{name: "bad bind", hc: container.HostConfig{Binds: []string{"v:/a:xx"}}, err: "invalid mode: xx"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			specs, err := (&Daemon{}).mountSpecs(&tc.cfg, &tc.hc)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			var got []string
			for _, s := range specs {
				got = append(got, string(s.Type)+":"+s.Source+":"+s.Destination)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
