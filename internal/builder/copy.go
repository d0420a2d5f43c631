package builder

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// copySpec is a parsed COPY/ADD.
type copySpec struct {
	cmd   string // "COPY" or "ADD"
	srcs  []string
	dest  string // absolute; ends with "/" when it names a directory
	chown string
	from  string
	// single is the one file's base name when one file goes to a dest
	// without a trailing slash: into dest if that is a directory in the
	// container, else to dest itself.
	single string
}

// copyCmd runs COPY and ADD: the sources go into a tar (hashed for the
// cache key, times left out), which is extracted in a container from the
// current image and committed.
func (b *build) copyCmd(ctx context.Context, s *state, in instruction) error {
	cs, err := b.copySpecOf(s, in)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(b.opt.TempDir, "copy-")
	if err != nil {
		return fmt.Errorf("create copy archive: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	ct := &copyTar{tw: tar.NewWriter(f), h: sha256.New()}
	if cs.from != "" {
		err = b.fromImage(ctx, ct, &cs)
	} else {
		err = b.fromContext(ct, &cs)
	}
	if err == nil {
		err = ct.tw.Close()
	}
	if err != nil {
		return err
	}
	kind := "file"
	if ct.n != 1 {
		kind = "dir"
	}
	comment := fmt.Sprintf("%s %s:%s in %s ", cs.cmd, kind, hex.EncodeToString(ct.h.Sum(nil)), cs.dest)
	if cs.chown != "" {
		comment += "chown:" + cs.chown + " "
	}
	return b.fileStep(ctx, s, comment, func(id string) error {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		content, done, err := b.intoDir(ctx, id, cs, f)
		if err != nil {
			return err
		}
		defer done()
		return b.be.ContainerCopy(ctx, id, content, cs.chown)
	})
}

// copySpecOf checks flags and arguments and resolves the destination
// against WORKDIR.
func (b *build) copySpecOf(s *state, in instruction) (copySpec, error) {
	cs := copySpec{cmd: strings.ToUpper(in.cmd)}
	allowed := []string{"chown", "from"}
	if in.cmd == "add" {
		allowed = allowed[:1]
	}
	if err := in.checkFlags(allowed...); err != nil {
		return cs, err
	}
	args, err := b.expandArgs(s, in)
	if err != nil {
		return cs, err
	}
	if len(args) < 2 {
		return cs, errdefs.Errorf(errdefs.InvalidParameter, "%s requires at least two arguments", cs.cmd)
	}
	env := envOf(s.cfg.Env, s.args)
	for name, dst := range map[string]*string{"chown": &cs.chown, "from": &cs.from} {
		if v, ok := in.flag(name); ok {
			if *dst, err = b.expand(v, env); err != nil {
				return cs, err
			}
		}
	}
	cs.srcs, cs.dest = args[:len(args)-1], args[len(args)-1]
	isDir := strings.HasSuffix(cs.dest, "/") || cs.dest == "." || strings.HasSuffix(cs.dest, "/.")
	if !path.IsAbs(cs.dest) {
		cs.dest = path.Join("/", s.cfg.WorkingDir, cs.dest)
	}
	cs.dest = path.Clean(cs.dest)
	if isDir && cs.dest != "/" {
		cs.dest += "/"
	}
	return cs, nil
}

// fromContext adds the context sources (globs allowed).
func (b *build) fromContext(ct *copyTar, cs *copySpec) error {
	root, err := os.OpenRoot(b.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	var srcs []string
	for _, src := range cs.srcs {
		m, err := b.matchSource(root, *cs, src)
		if err != nil {
			return err
		}
		srcs = append(srcs, m...)
	}
	if len(srcs) > 1 && !strings.HasSuffix(cs.dest, "/") {
		return errdefs.Errorf(errdefs.InvalidParameter, "When using %s with more than one source file, the destination must be a directory and end with a /", cs.cmd)
	}
	cs.single = singleFile(root, *cs, srcs)
	for _, src := range srcs {
		if err := b.addSource(ct, root, *cs, src); err != nil {
			return err
		}
	}
	return nil
}

// singleFile returns the base name of the only source when it is a
// file (not a directory or an ADD archive) and dest has no trailing "/".
func singleFile(root *os.Root, cs copySpec, srcs []string) string {
	if len(srcs) != 1 || strings.HasSuffix(cs.dest, "/") {
		return ""
	}
	st, err := root.Stat(srcs[0])
	if err != nil || st.IsDir() || (cs.cmd == "ADD" && isArchive(root, srcs[0])) {
		return ""
	}
	return path.Base(srcs[0])
}

// matchSource expands one source to context paths.
func (b *build) matchSource(root *os.Root, cs copySpec, src string) ([]string, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		if cs.cmd == "COPY" {
			return nil, errdefs.Errorf(errdefs.InvalidParameter, "source can't be a URL for COPY")
		}
		return nil, errdefs.Errorf(errdefs.NotImplemented, "ADD from a URL (%s) is not supported by this builder: download the file into the build context", src)
	}
	rel := strings.TrimPrefix(path.Clean("/"+src), "/")
	if rel == "" {
		rel = "."
	}
	if !strings.ContainsAny(rel, "*?[\\") {
		if _, err := root.Stat(rel); err != nil {
			return nil, errdefs.Errorf(errdefs.InvalidParameter, "%s failed: file not found in build context or excluded by .dockerignore: stat %s: file does not exist", cs.cmd, src)
		}
		return []string{rel}, nil
	}
	matches, err := fs.Glob(root.FS(), rel)
	if err != nil {
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid pattern %q: %w", src, err))
	}
	if len(matches) == 0 {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "%s failed: no source files were specified", cs.cmd)
	}
	return matches, nil
}

// addSource adds one context path: a directory's contents, an archive's
// contents (ADD), or a file.
func (b *build) addSource(ct *copyTar, root *os.Root, cs copySpec, src string) error {
	st, err := root.Stat(src)
	if err != nil {
		return err
	}
	switch {
	case st.IsDir():
		return ct.addTree(root.FS(), src, strings.TrimSuffix(cs.dest, "/"))
	case cs.cmd == "ADD" && isArchive(root, src):
		return ct.addArchive(root, src, strings.TrimSuffix(cs.dest, "/"))
	}
	dst := cs.dest
	if strings.HasSuffix(dst, "/") {
		dst += path.Base(src)
	}
	return ct.addFile(root.FS(), src, st, dst)
}

// isArchive reports whether the file is a (compressed) tar archive.
func isArchive(root *os.Root, name string) bool {
	f, err := root.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	plain, err := decompress(f)
	if err != nil {
		return false
	}
	_, err = tar.NewReader(plain).Next()
	return err == nil
}

// copyTar writes the step's archive and hashes what defines the result:
// names, modes, owners, link targets and content (not times).
type copyTar struct {
	tw *tar.Writer
	h  hash.Hash
	n  int
}

func (c *copyTar) add(hdr *tar.Header, r io.Reader) error {
	c.n++
	fmt.Fprintf(c.h, "%s\x00%o\x00%d:%d\x00%s\x00%d\x00", hdr.Name, hdr.Mode, hdr.Uid, hdr.Gid, hdr.Linkname, hdr.Size)
	if err := c.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write copy archive: %w", err)
	}
	if r == nil {
		return nil
	}
	if _, err := io.Copy(io.MultiWriter(c.tw, c.h), r); err != nil {
		return fmt.Errorf("write copy archive: %w", err)
	}
	return nil
}

// header makes a root-owned entry named dst (absolute).
func header(info fs.FileInfo, link, dst string) (*tar.Header, error) {
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", dst, err)
	}
	hdr.Name = strings.TrimPrefix(dst, "/")
	if info.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	hdr.Format = tar.FormatPAX
	return hdr, nil
}

// addFile adds one file (a symlink as a symlink) as dst.
func (c *copyTar) addFile(fsys fs.FS, src string, info fs.FileInfo, dst string) error {
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = fs.ReadLink(fsys, src); err != nil {
			return err
		}
	}
	if !info.Mode().IsRegular() && !info.IsDir() && link == "" {
		return nil // sockets, devices: not copied
	}
	hdr, err := header(info, link, dst)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return c.add(hdr, nil)
	}
	f, err := fsys.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.add(hdr, f)
}

// addTree adds the contents of the directory src below dst.
func (c *copyTar) addTree(fsys fs.FS, src, dst string) error {
	return fs.WalkDir(fsys, src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == src {
			return nil
		}
		info, err := fs.Lstat(fsys, p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, src+"/")
		if src == "." {
			rel = p
		}
		return c.addFile(fsys, p, info, path.Join(dst, rel))
	})
}

// addArchive adds the entries of a local tar archive below dst (ADD).
func (c *copyTar) addArchive(root *os.Root, src, dst string) error {
	f, err := root.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	plain, err := decompress(f)
	if err != nil {
		return err
	}
	return c.addEntries(tar.NewReader(plain), false, func(name string, _ bool) string { return path.Join(dst, name) })
}

// addEntries copies tar entries, renamed by rename ("" skips an entry),
// root-owned when rootOwned. Names with ".." are refused.
func (c *copyTar) addEntries(tr *tar.Reader, rootOwned bool, rename func(name string, dir bool) string) error {
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("read archive: %w", err))
		}
		if hasDotDot(hdr.Name) || (hdr.Typeflag == tar.TypeLink && hasDotDot(hdr.Linkname)) {
			return errdefs.InvalidParameter(fmt.Errorf("invalid archive entry %q", hdr.Name))
		}
		name := rename(strings.TrimPrefix(path.Clean("/"+hdr.Name), "/"), hdr.Typeflag == tar.TypeDir)
		if name == "" {
			continue
		}
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = strings.TrimPrefix(rename(strings.TrimPrefix(path.Clean("/"+hdr.Linkname), "/"), false), "/")
		}
		if rootOwned {
			hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		}
		hdr.Name = strings.TrimPrefix(name, "/")
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if err := c.add(hdr, tr); err != nil {
			return err
		}
	}
}

func hasDotDot(name string) bool {
	for _, el := range strings.Split(filepath.ToSlash(name), "/") {
		if el == ".." {
			return true
		}
	}
	return false
}

// intoDir renames the single file's entry to dest/<name> when dest is a
// directory in the container (COPY app.sh /usr/local/bin), as Docker does.
// The returned done ends the renaming goroutine.
func (b *build) intoDir(ctx context.Context, id string, cs copySpec, f io.Reader) (io.Reader, func(), error) {
	if cs.single == "" {
		return f, func() {}, nil
	}
	isDir, err := b.be.ContainerIsDir(ctx, id, cs.dest)
	if err != nil || !isDir {
		return f, func() {}, err
	}
	pr, pw := io.Pipe()
	target := path.Join(cs.dest, cs.single)
	go func() {
		ct := &copyTar{tw: tar.NewWriter(pw), h: sha256.New()}
		err := ct.addEntries(tar.NewReader(f), false, func(string, bool) string { return target })
		if err == nil {
			err = ct.tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, func() { pr.CloseWithError(io.ErrClosedPipe) }, nil
}
