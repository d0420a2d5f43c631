package volume

import (
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
)

func TestParseBind(t *testing.T) {
	cases := []struct {
		raw  string
		want Spec
		err  string
	}{
		{raw: "/data", want: Spec{Type: mount.TypeVolume, Destination: "/data", RW: true, CopyData: true}},
		{raw: "vol:/data", want: Spec{Type: mount.TypeVolume, Source: "vol", Destination: "/data", RW: true, Mode: "z", CopyData: true}},
		{raw: "vol:/data:ro,nocopy", want: Spec{Type: mount.TypeVolume, Source: "vol", Destination: "/data", Mode: "ro,nocopy"}},
		{raw: "/host:/data", want: Spec{Type: mount.TypeBind, Source: "/host", Destination: "/data", RW: true,
			Propagation: mount.PropagationRPrivate, CreateSource: true}},
		{raw: "/host:/data:ro,Z,rshared", want: Spec{Type: mount.TypeBind, Source: "/host", Destination: "/data", Mode: "ro,Z,rshared",
			Propagation: mount.PropagationRShared, CreateSource: true}},
		{raw: "/host:/data:rw,z", want: Spec{Type: mount.TypeBind, Source: "/host", Destination: "/data", RW: true, Mode: "rw,z",
			Propagation: mount.PropagationRPrivate, CreateSource: true}},
		{raw: "/host:/data:nocopy", err: "invalid mode: nocopy"},
		{raw: "vol:/data:rshared", err: "invalid mode: rshared"},
		{raw: "vol:/data:ro,rw", err: "invalid mode: ro,rw"},
		{raw: "vol:/data:bogus", err: "invalid mode: bogus"},
		{raw: "vol:data", err: "mount path must be absolute"},
		{raw: "/host:/", err: "destination can't be '/'"},
		{raw: "a:b:c:d", err: "invalid volume specification: 'a:b:c:d'"},
		{raw: ":/data", err: "invalid volume specification"},
	}
	for _, tc := range cases {
		got, err := ParseBind(tc.raw)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.raw, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v %v\nwant %+v", tc.raw, got, err, tc.want)
		}
	}
}

func TestParseMount(t *testing.T) {
	cases := []struct {
		name string
		m    mount.Mount
		want Spec
		err  string
	}{
		{name: "bind", m: mount.Mount{Type: mount.TypeBind, Source: "/h", Target: "/c", ReadOnly: true,
			BindOptions: &mount.BindOptions{Propagation: mount.PropagationSlave}},
			want: Spec{Type: mount.TypeBind, Source: "/h", Destination: "/c", Propagation: mount.PropagationSlave}},
		{name: "volume nocopy", m: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/c",
			VolumeOptions: &mount.VolumeOptions{NoCopy: true, Labels: map[string]string{"l": "1"}}},
			want: Spec{Type: mount.TypeVolume, Source: "v", Destination: "/c", RW: true, Mode: "z", Labels: map[string]string{"l": "1"}}},
		{name: "anonymous volume", m: mount.Mount{Type: mount.TypeVolume, Target: "/c"},
			want: Spec{Type: mount.TypeVolume, Destination: "/c", RW: true, Mode: "z", CopyData: true}},
		{name: "tmpfs", m: mount.Mount{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o1777}},
			want: Spec{Type: mount.TypeTmpfs, Destination: "/t", RW: true, TmpfsOptions: []string{"nosuid", "nodev", "noexec", "size=1048576", "mode=1777"}}},
		{name: "bind without source", m: mount.Mount{Type: mount.TypeBind, Target: "/c"}, err: "field Source must not be empty"},
		{name: "tmpfs with source", m: mount.Mount{Type: mount.TypeTmpfs, Source: "/x", Target: "/c"}, err: "field Source must not be specified"},
		{name: "bad propagation", m: mount.Mount{Type: mount.TypeBind, Source: "/h", Target: "/c",
			BindOptions: &mount.BindOptions{Propagation: "weird"}}, err: "invalid propagation mode"},
		{name: "no target", m: mount.Mount{Type: mount.TypeVolume}, err: "field Target must not be empty"},
		{name: "unknown type", m: mount.Mount{Type: "npipe", Target: "/c"}, err: "mount type unknown"},
		{name: "subpath", m: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/c",
			VolumeOptions: &mount.VolumeOptions{Subpath: "x"}}, err: "subpaths are not supported"},
	}
	for _, tc := range cases {
		got, err := ParseMount(tc.m)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v %v\nwant %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestParseTmpfs(t *testing.T) {
	s, err := ParseTmpfs("/run", "rw,size=64m,exec")
	want := []string{"nosuid", "nodev", "noexec", "rw", "size=64m", "exec"}
	if err != nil || !s.RW || !reflect.DeepEqual(s.TmpfsOptions, want) {
		t.Fatalf("%+v %v", s, err)
	}
	if s, _ := ParseTmpfs("/run", "ro"); s.RW {
		t.Fatal("ro tmpfs is read-write")
	}
	if _, err := ParseTmpfs("run", ""); err == nil {
		t.Fatal("relative tmpfs destination accepted")
	}
}
