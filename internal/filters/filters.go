// Package filters parses and applies the Engine API's list filters
// (?filters={"label":["a=b"]}) and timestamps (since, until), shared by the
// API layer, which validates them, and the daemon, which applies them.
package filters

import (
	"encoding/json"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// Args are filter values by key. Values of one key are ORed, keys ANDed.
type Args map[string][]string

// Parse decodes a filters parameter in both of Docker's forms,
// {"key":{"value":true}} and the pre-1.22 {"key":["value"]}, rejecting keys
// not in allowed with Docker's "invalid filter" message.
func Parse(raw string, allowed ...string) (Args, error) {
	out := Args{}
	if raw == "" {
		return out, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "invalid filter: %v", err)
	}
	for key, v := range m {
		if !slices.Contains(allowed, key) {
			return nil, errdefs.Errorf(errdefs.InvalidParameter, "invalid filter '%s'", key)
		}
		vals, err := values(v)
		if err != nil {
			return nil, errdefs.Errorf(errdefs.InvalidParameter, "invalid filter '%s': %v", key, err)
		}
		out[key] = vals
	}
	return out, nil
}

func values(v json.RawMessage) ([]string, error) {
	var set map[string]bool
	if err := json.Unmarshal(v, &set); err == nil {
		vals := make([]string, 0, len(set))
		for k, on := range set {
			if on {
				vals = append(vals, k)
			}
		}
		slices.Sort(vals)
		return vals, nil
	}
	var list []string
	err := json.Unmarshal(v, &list)
	return list, err
}

// Bool returns the key's single boolean value; ok is false when unset.
func (a Args) Bool(key string) (value, ok bool, err error) {
	vals := a[key]
	if len(vals) == 0 {
		return false, false, nil
	}
	b, err := strconv.ParseBool(vals[0])
	if err != nil || len(vals) > 1 {
		return false, false, errdefs.Errorf(errdefs.InvalidParameter, "invalid filter '%s=%s'", key, strings.Join(vals, ","))
	}
	return b, true, nil
}

// MatchLabels reports whether labels satisfy every "key" or "key=value" of
// the label filter (Docker ANDs label values).
func (a Args) MatchLabels(key string, labels map[string]string) bool {
	for _, v := range a[key] {
		k, want, hasValue := strings.Cut(v, "=")
		got, ok := labels[k]
		if !ok || (hasValue && got != want) {
			return false
		}
	}
	return true
}

// MatchGlob reports whether s matches any of the key's shell patterns.
func (a Args) MatchGlob(key, s string) bool {
	for _, p := range a[key] {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// ParseTimestamp accepts Docker's forms: unix seconds with an optional
// fraction ("1700000000.000000001"), RFC 3339, or a duration before now.
func ParseTimestamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	sec, frac, _ := strings.Cut(s, ".")
	if isDigits(sec) && isDigits(frac) && sec != "" {
		n, _ := strconv.ParseInt(sec, 10, 64)
		ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		return time.Unix(n, ns), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, errdefs.Errorf(errdefs.InvalidParameter, "invalid timestamp %q: use unix seconds, RFC 3339 or a duration", s)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
