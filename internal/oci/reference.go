package oci

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// shortIDPattern matches a (possibly shortened) image ID without algorithm.
var shortIDPattern = regexp.MustCompile(`^[a-f0-9]{4,64}$`)

// Ref is a normalised image reference.
type Ref struct {
	// Named is the fully qualified name, e.g. docker.io/library/busybox.
	Named reference.Named
	// Tag is set for name:tag references; "latest" is implied when neither
	// a tag nor a digest is given.
	Tag string
	// Digest is set for name@digest and name:tag@digest references.
	Digest digest.Digest
}

// ParseRef normalises ref the way Docker does: busybox becomes
// docker.io/library/busybox:latest; name@digest and name:tag@digest keep the
// digest. A 64-hex string is refused, as Docker refuses it as a name.
func ParseRef(ref string) (Ref, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return Ref{}, errdefs.InvalidParameter(fmt.Errorf("invalid reference format: %w", err))
	}
	r := Ref{Named: reference.TrimNamed(named)}
	if t, ok := named.(reference.Tagged); ok {
		r.Tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		r.Digest = d.Digest()
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r, nil
}

// String is the full form: docker.io/library/busybox:latest, name@digest
// or name:tag@digest.
func (r Ref) String() string {
	s := r.Named.Name()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// Familiar is the short form Docker shows: busybox:latest.
func (r Ref) Familiar() string { return familiar(r.String()) }

// Domain is the registry host of the reference ("docker.io" for Hub).
func (r Ref) Domain() string { return reference.Domain(r.Named) }

// Path is the repository path inside the registry ("library/busybox").
func (r Ref) Path() string { return reference.Path(r.Named) }

// TagRef is the name:tag form used as a RepoTag ("" for digest-only refs).
func (r Ref) TagRef() string {
	if r.Tag == "" {
		return ""
	}
	return r.Named.Name() + ":" + r.Tag
}

// DigestRef is the name@digest form used as a RepoDigest.
func (r Ref) DigestRef(d digest.Digest) string { return r.Named.Name() + "@" + d.String() }

// familiar shortens a full reference string for display; unparsable input
// is returned unchanged.
func familiar(full string) string {
	named, err := reference.ParseNormalizedNamed(full)
	if err != nil {
		return full
	}
	return reference.FamiliarString(named)
}

// FamiliarName returns the familiar repository name of ref without tag or
// digest ("busybox", "127.0.0.1:5000/x").
func FamiliarName(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarName(named)
}

// normaliseID turns "sha256:<hex>" or "<hex>" into the bare hex part, and
// reports whether the input looks like an (abbreviated) ID at all.
func normaliseID(s string) (string, bool) {
	hex := strings.TrimPrefix(s, "sha256:")
	return hex, shortIDPattern.MatchString(hex)
}

// splitLines splits text into non-empty lines.
func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Familiar returns ref in its short display form ("busybox:latest").
func Familiar(ref string) string { return familiar(ref) }
