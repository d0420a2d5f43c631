package builder

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/ulikunitz/xz"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// decompress returns r's plain content: gzip, bzip2 and xz are detected
// by their magic numbers; anything else is passed through.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return gzip.NewReader(br)
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return xz.NewReader(br)
	}
	return br, nil
}

// unpackContext extracts the (possibly compressed) context tar into dir.
// Entry names are confined to dir by an os.Root; symlinks are created as
// they are and never followed out of it. A body that is not a tar is
// taken as the Dockerfile itself (named dockerfile), as dockerd does.
func unpackContext(r io.Reader, dir, dockerfile string) error {
	plain, err := decompress(r)
	if err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("read build context: %w", err))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	br := bufio.NewReaderSize(plain, 1024)
	if head, _ := br.Peek(512); !isTar(head) {
		if d := path.Dir(dockerfile); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		return unpackFile(root, dockerfile, 0o644, br)
	}
	tr := tar.NewReader(br)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("read build context: %w", err))
		}
		if err := unpackEntry(root, hdr, tr); err != nil {
			return err
		}
	}
}

// isTar reports whether head (the first 512 bytes) starts a tar stream.
func isTar(head []byte) bool {
	if len(head) == 0 {
		return true // an empty body: an empty context
	}
	_, err := tar.NewReader(bytes.NewReader(head)).Next()
	return len(head) == 512 && (err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF))
}

// unpackEntry creates one context entry below root.
func unpackEntry(root *os.Root, hdr *tar.Header, r io.Reader) error {
	name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
	if name == "" {
		return nil
	}
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("unpack build context: %w", err)
		}
	}
	mode := fs.FileMode(hdr.Mode) & fs.ModePerm
	var err error
	switch hdr.Typeflag {
	case tar.TypeDir:
		err = root.MkdirAll(name, 0o755)
		if err == nil {
			err = root.Chmod(name, mode|0o700)
		}
	case tar.TypeReg:
		err = unpackFile(root, name, mode, r)
	case tar.TypeSymlink:
		_ = root.Remove(name)
		err = root.Symlink(hdr.Linkname, name)
	case tar.TypeLink:
		_ = root.Remove(name)
		err = root.Link(strings.TrimPrefix(path.Clean("/"+hdr.Linkname), "/"), name)
	}
	if err != nil {
		return fmt.Errorf("unpack build context: %w", err)
	}
	if hdr.Typeflag == tar.TypeReg {
		return root.Chtimes(name, hdr.ModTime, hdr.ModTime)
	}
	return nil
}

func unpackFile(root *os.Root, name string, mode fs.FileMode, r io.Reader) error {
	_ = root.Remove(name)
	f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Chmod(name, mode)
	}
	return err
}

// readIgnore reads dir/.dockerignore (no file: no patterns).
func readIgnore(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, errdefs.InvalidParameter(fmt.Errorf("read .dockerignore: %w", err))
	}
	return patterns, nil
}

// applyIgnore removes what the patterns exclude from dir. Files go first;
// an excluded directory goes only once nothing re-included stays in it,
// so "!dir/keep" survives a "dir" pattern.
func applyIgnore(dir string, patterns []string) error {
	if len(patterns) == 0 {
		return nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("invalid .dockerignore pattern: %w", err))
	}
	var dirs []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if ok, err := pm.MatchesOrParentMatches(rel); err != nil || !ok {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		return os.Remove(p)
	})
	if err != nil {
		return fmt.Errorf("apply .dockerignore: %w", err)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // children before parents
	for _, d := range dirs {
		_ = os.Remove(d) // fails, as it should, while re-included files remain
	}
	return nil
}
