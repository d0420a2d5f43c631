package filters

import (
	"testing"
	"time"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

func TestParse(t *testing.T) {
	for _, raw := range []string{`{"type":{"container":true}}`, `{"type":["container"]}`} {
		f, err := Parse(raw, "type")
		if err != nil || len(f["type"]) != 1 || f["type"][0] != "container" {
			t.Errorf("Parse(%s) = %v, %v", raw, f, err)
		}
	}
	if _, err := Parse(`{"bogus":["x"]}`, "type"); !errdefs.IsInvalidParameter(err) {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := Parse(`{`, "type"); !errdefs.IsInvalidParameter(err) {
		t.Errorf("bad json: %v", err)
	}
}

func TestMatch(t *testing.T) {
	a := Args{"label": {"a", "b=2"}, "reference": {"busy*:latest"}}
	if !a.MatchLabels("label", map[string]string{"a": "x", "b": "2"}) || a.MatchLabels("label", map[string]string{"a": "x", "b": "3"}) {
		t.Error("label matching")
	}
	if !a.MatchGlob("reference", "busybox:latest") || a.MatchGlob("reference", "alpine:latest") {
		t.Error("glob matching")
	}
	if b, ok, err := (Args{"dangling": {"true"}}).Bool("dangling"); !b || !ok || err != nil {
		t.Error("bool")
	}
	if _, _, err := (Args{"dangling": {"maybe"}}).Bool("dangling"); err == nil {
		t.Error("bad bool accepted")
	}
}

func TestParseTimestamp(t *testing.T) {
	cases := map[string]time.Time{
		"1700000000":           time.Unix(1700000000, 0),
		"1700000000.5":         time.Unix(1700000000, 500000000),
		"2023-11-14T22:13:20Z": time.Unix(1700000000, 0),
	}
	for in, want := range cases {
		if got, err := ParseTimestamp(in); err != nil || !got.Equal(want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v", in, got, err)
		}
	}
	if got, err := ParseTimestamp("1h"); err != nil || time.Since(got) < time.Hour-time.Minute {
		t.Errorf("duration: %v %v", got, err)
	}
	if _, err := ParseTimestamp("yesterday"); !errdefs.IsInvalidParameter(err) {
		t.Errorf("bad timestamp: %v", err)
	}
}
