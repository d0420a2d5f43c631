package builder

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// proxyArgs are the predefined build args: usable without an ARG and
// kept out of the image history, as in Docker.
var proxyArgs = []string{
	"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
	"NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
}

func isProxyArg(name string) bool {
	for _, p := range proxyArgs {
		if p == name {
			return true
		}
	}
	return false
}

// declareGlobalArgs evaluates the ARGs before the first FROM.
func (b *build) declareGlobalArgs(args []instruction) error {
	for _, in := range args {
		for _, a := range in.args {
			name, def, hasDef := strings.Cut(a, "=")
			if hasDef {
				v, err := b.expand(def, envOf(nil, b.globalArgList()))
				if err != nil {
					return err
				}
				def = v
			}
			if v, ok := b.opt.BuildArgs[name]; ok && v != nil {
				def, hasDef = *v, true
				b.usedArgs[name] = true
			}
			if hasDef {
				b.globalArgs[name] = def
			}
		}
	}
	return nil
}

func (b *build) globalArgList() []arg {
	var out []arg
	for k, v := range b.globalArgs {
		out = append(out, arg{k, v})
	}
	return out
}

// runStage runs FROM, the base image's ONBUILD triggers and the stage's
// instructions; it returns the stage's image.
func (b *build) runStage(ctx context.Context, st stage) (Image, error) {
	b.stepLine(st.from)
	s, err := b.from(ctx, st.from)
	if err != nil {
		return Image{}, err
	}
	b.stream(" ---> " + shortID(s.imageID) + "\n")
	if err := b.triggers(ctx, s); err != nil {
		return Image{}, err
	}
	for _, in := range st.body {
		b.stepLine(in)
		if err := b.dispatch(ctx, s, in); err != nil {
			return Image{}, err
		}
		b.stream(" ---> " + shortID(s.imageID) + "\n")
	}
	return Image{ID: s.imageID, Config: s.cfg}, nil
}

// stepLine prints "Step i/n : INSTRUCTION".
func (b *build) stepLine(in instruction) {
	b.step++
	b.stream(fmt.Sprintf("Step %d/%d : %s\n", b.step, b.steps, strings.TrimSpace(in.original)))
}

// from resolves the base: scratch, an earlier stage, or an image (pulled
// when missing or when the build asks to pull).
func (b *build) from(ctx context.Context, in instruction) (*state, error) {
	if err := in.checkFlags("platform"); err != nil {
		return nil, err
	}
	if p, ok := in.flag("platform"); ok {
		b.checkPlatform(p)
	}
	name, err := b.expand(in.args[0], envOf(nil, b.globalArgList()))
	if err != nil {
		return nil, err
	}
	img, err := b.baseImage(ctx, name)
	if err != nil {
		return nil, err
	}
	s := &state{imageID: img.ID, cfg: img.Config}
	s.cfg.Image = img.ID
	return s, nil
}

// checkBuildPlatform refuses a platform= other than the daemon's: there
// is no emulation, so RUN steps of another architecture could not run.
func checkBuildPlatform(p string) error {
	own := "linux/" + runtime.GOARCH
	if p == "" || p == "linux" || p == own || strings.HasPrefix(p, own+"/") {
		return nil
	}
	return errdefs.Errorf(errdefs.InvalidParameter, "platform %s is not supported: this daemon builds for %s only", p, own)
}

// checkPlatform warns about a FROM --platform other than the daemon's:
// the classic builder builds for the daemon's platform only.
func (b *build) checkPlatform(p string) {
	want := "linux/" + runtime.GOARCH
	if b.opt.Platform != "" {
		want = b.opt.Platform
	}
	if p != want && !strings.HasPrefix(p, "$") {
		b.stream(fmt.Sprintf("[Warning] FROM --platform=%s ignored: building for %s\n", p, want))
	}
}

func (b *build) baseImage(ctx context.Context, name string) (Image, error) {
	if strings.EqualFold(name, "scratch") {
		return b.be.ScratchImage(ctx)
	}
	if i, ok := b.names[strings.ToLower(name)]; ok {
		return b.stages[i], nil
	}
	if !b.opt.Pull {
		img, err := b.be.ImageGet(ctx, name)
		if !errdefs.IsNotFound(err) {
			return img, err
		}
	}
	return b.be.ImagePull(ctx, name, b.opt.Auths, b.out)
}

// triggers runs the base image's ONBUILD instructions, which the new
// image does not inherit.
func (b *build) triggers(ctx context.Context, s *state) error {
	onbuild := s.cfg.OnBuild
	s.cfg.OnBuild = nil
	if len(onbuild) == 0 {
		return nil
	}
	b.stream("# Executing " + plural(len(onbuild), "build trigger") + "\n")
	for _, line := range onbuild {
		res, err := parser.Parse(strings.NewReader(line))
		if err != nil || len(res.AST.Children) != 1 {
			return errdefs.Errorf(errdefs.InvalidParameter, "invalid ONBUILD trigger %q", line)
		}
		in, err := newInstruction(res.AST.Children[0])
		if err != nil {
			return err
		}
		switch in.cmd {
		case "onbuild", "from", "maintainer":
			return errdefs.Errorf(errdefs.InvalidParameter, "%s isn't allowed as an ONBUILD trigger", strings.ToUpper(in.cmd))
		}
		if err := b.dispatch(ctx, s, in); err != nil {
			return err
		}
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
