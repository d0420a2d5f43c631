package stream

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseDetachKeys(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want []byte
	}{
		{"", []byte{16, 17}},
		{"ctrl-p,ctrl-q", []byte{16, 17}},
		{"a,ctrl-x", []byte{'a', 24}},
		{"ctrl-a", []byte{1}},
		{"ctrl-z", []byte{26}},
		{"ctrl-@", []byte{0}},
		{"ctrl-[", []byte{27}},
		{`ctrl-\`, []byte{28}},
		{"ctrl-]", []byte{29}},
		{"ctrl-^", []byte{30}},
		{"ctrl-_", []byte{31}},
		{"CTRL-P", []byte{16}},
		{"Z,-", []byte{'Z', '-'}},
	} {
		got, err := ParseDetachKeys(tc.spec)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("ParseDetachKeys(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
		}
	}
	for _, spec := range []string{"ctrl-", "ctrl-pq", "ctrl-1", "ctrl-`", "ab", "ctrl-p,", ",a", "shift-a", "ctrl-{"} {
		_, err := ParseDetachKeys(spec)
		if !errors.Is(err, ErrInvalidDetachKeys) {
			t.Errorf("ParseDetachKeys(%q) error = %v, want ErrInvalidDetachKeys", spec, err)
		}
	}
	if _, err := NewDetachReader(strings.NewReader(""), "bogus"); !errors.Is(err, ErrInvalidDetachKeys) {
		t.Errorf("NewDetachReader with bad spec: %v", err)
	}
}

// chunkReader returns its chunks one Read at a time.
type chunkReader struct{ chunks []string }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if n == len(c.chunks[0]) {
		c.chunks = c.chunks[1:]
	} else {
		c.chunks[0] = c.chunks[0][n:]
	}
	return n, nil
}

func TestDetachReader(t *testing.T) {
	const p, q = "\x10", "\x11"
	for _, tc := range []struct {
		name     string
		keys     string
		chunks   []string
		want     string
		detached bool
	}{
		{"no keys", "", []string{"hello", " world"}, "hello world", false},
		{"detach", "", []string{"ls" + p + q + "rm -rf"}, "ls", true},
		{"split across reads", "", []string{"ls" + p, q + "rm"}, "ls", true},
		{"sequence alone", "", []string{p, q}, "", true},
		{"partial then other", "", []string{"a" + p, "b" + q}, "a" + p + "b" + q, false},
		{"partial at eof", "", []string{"a", p}, "a" + p, false},
		{"repeated prefix", "", []string{p + p + q}, p, true},
		{"overlapping", "a,a,b", []string{"xaa", "ab", "tail"}, "xa", true},
		{"overlap miss", "a,a,b", []string{"aaac"}, "aaac", false},
		{"custom keys", "ctrl-x,e", []string{"vi\x18", "x\x18e"}, "vi\x18x", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, wrap := range []func(io.Reader) io.Reader{
				func(r io.Reader) io.Reader { return r },
				iotest.OneByteReader,
				iotest.HalfReader,
			} {
				r, err := NewDetachReader(wrap(&chunkReader{chunks: append([]string(nil), tc.chunks...)}), tc.keys)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				if tc.detached != errors.Is(err, ErrDetached) || (!tc.detached && err != nil) {
					t.Errorf("error %v, detached want %v", err, tc.detached)
				}
				if string(got) != tc.want {
					t.Errorf("read %q, want %q", got, tc.want)
				}
			}
		})
	}
}

// TestDetachReaderSmallBuffer reads one byte at a time from a reader that
// returns a lot at once, so output must be kept between calls.
func TestDetachReaderSmallBuffer(t *testing.T) {
	r, err := NewDetachReader(strings.NewReader("abc\x10xyz\x10\x11after"), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if !errors.Is(err, ErrDetached) {
				t.Fatalf("error %v, want ErrDetached", err)
			}
			break
		}
	}
	if string(got) != "abc\x10xyz" {
		t.Errorf("read %q", got)
	}
	if n, err := r.Read(buf); n != 0 || !errors.Is(err, ErrDetached) {
		t.Errorf("read after detach = %d, %v", n, err)
	}
}
