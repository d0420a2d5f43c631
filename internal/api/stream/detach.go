package stream

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// DefaultDetachKeys is the sequence Docker uses when none is configured.
const DefaultDetachKeys = "ctrl-p,ctrl-q"

// ErrDetached is returned by a detach reader once the client has typed the
// detach key sequence. The sequence itself is never passed on.
var ErrDetached = errors.New("detached from container")

// ErrInvalidDetachKeys is wrapped by ParseDetachKeys and NewDetachReader
// when the key specification cannot be parsed; callers map it to a 400.
var ErrInvalidDetachKeys = errors.New("invalid detach keys")

// ParseDetachKeys turns Docker's detach key format into bytes. The spec is a
// comma separated list of keys, each a single character ("a") or
// "ctrl-<c>" where <c> is a letter or one of @ [ \ ] ^ _. An empty spec
// means DefaultDetachKeys. Validate the spec with this before hijacking so
// that a bad value can still be answered with an error status.
func ParseDetachKeys(spec string) ([]byte, error) {
	if spec == "" {
		spec = DefaultDetachKeys
	}
	var keys []byte
	for key := range strings.SplitSeq(spec, ",") {
		b, ok := parseKey(key)
		if !ok {
			// Keep Docker's message; the sentinel carries the class.
			return nil, fmt.Errorf("Invalid detach keys (%s) provided: %w", spec, ErrInvalidDetachKeys) //nolint:staticcheck // Docker's text
		}
		keys = append(keys, b)
	}
	return keys, nil
}

// parseKey decodes one element of a detach key spec.
func parseKey(key string) (byte, bool) {
	if len(key) == 1 {
		return key[0], true
	}
	name, ok := strings.CutPrefix(strings.ToLower(key), "ctrl-")
	if !ok || len(name) != 1 {
		return 0, false
	}
	c := name[0]
	switch {
	case c >= 'a' && c <= 'z':
		return c - 'a' + 1, true
	case c == '@' || (c >= '[' && c <= '_'):
		// '@' is 0x40 and '['..'_' are 0x5b..0x5f: control codes 0 and 27..31.
		return c & 0x1f, true
	}
	return 0, false
}

// detachReader passes bytes through from r until keys appear in the stream.
type detachReader struct {
	r        io.Reader
	keys     []byte
	held     []byte // a proper prefix of keys seen at the end of the data so far
	pending  []byte // output that did not fit into the caller's buffer
	buf      []byte
	detached bool
	err      error // sticky error from r, reported once pending is empty
}

// NewDetachReader wraps r so that it returns ErrDetached when the detach key
// sequence spec (Docker's format, see ParseDetachKeys) is read. Bytes before
// the sequence are returned first, together with ErrDetached; bytes that
// start like the sequence but turn out not to match are passed through
// unchanged, even when the sequence spans several reads.
func NewDetachReader(r io.Reader, spec string) (io.Reader, error) {
	keys, err := ParseDetachKeys(spec)
	if err != nil {
		return nil, err
	}
	return &detachReader{r: r, keys: keys}, nil
}

// Read implements io.Reader.
func (d *detachReader) Read(p []byte) (int, error) {
	for {
		if len(d.pending) > 0 {
			n := copy(p, d.pending)
			d.pending = d.pending[n:]
			if len(d.pending) == 0 && d.detached {
				return n, ErrDetached
			}
			return n, nil
		}
		if d.detached {
			return 0, ErrDetached
		}
		if d.err != nil || len(p) == 0 {
			return 0, d.err
		}
		d.fill(len(p))
	}
}

// fill reads once from r and moves the result into pending.
func (d *detachReader) fill(size int) {
	if cap(d.buf) < size {
		d.buf = make([]byte, size)
	}
	n, err := d.r.Read(d.buf[:size])
	out := d.scan(d.buf[:n])
	if err != nil {
		d.err = err
		if !d.detached {
			// The stream ended inside a partial match: it was data.
			out = append(out, d.held...)
			d.held = nil
		}
	}
	d.pending = out
}

// scan returns the bytes of data that are certainly not part of the key
// sequence, keeping a possible partial match in held.
func (d *detachReader) scan(data []byte) []byte {
	var out []byte
	for _, b := range data {
		d.held = append(d.held, b)
		for len(d.held) > 0 && !isPrefix(d.held, d.keys) {
			out = append(out, d.held[0])
			d.held = d.held[1:]
		}
		if len(d.held) == len(d.keys) {
			d.detached = true
			d.held = nil
			return out
		}
	}
	return out
}

// isPrefix reports whether b is a prefix of keys.
func isPrefix(b, keys []byte) bool {
	return len(b) <= len(keys) && string(b) == string(keys[:len(b)])
}
