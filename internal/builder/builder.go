package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/containerd/log"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/jsonstream"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// build is one run of Build.
type build struct {
	be  Backend
	opt Options
	out Output
	// dir is the unpacked context.
	dir string
	lex *shell.Lex
	// stages are the finished stages, by index; names maps stage names
	// to indexes. A stage keeps its config: the image store does not
	// record every Docker field (Shell, Healthcheck, OnBuild).
	stages []Image
	names  map[string]int
	// globalArgs are the values of the ARGs before the first FROM.
	globalArgs map[string]string
	// usedArgs are the build args some ARG declared.
	usedArgs map[string]bool
	step     int
	steps    int
	// containers are the build containers not removed yet.
	containers []string
}

// Build runs the Dockerfile of opt.Context and returns the final image
// ID, tagged with opt.Tags. A failed build tags nothing and leaves no
// container behind; images of the steps that succeeded stay (untagged)
// and serve as cache, as with Docker.
func Build(ctx context.Context, be Backend, opt Options, out Output) (id string, err error) {
	if err := checkBuildPlatform(opt.Platform); err != nil {
		return "", err
	}
	b := &build{be: be, opt: opt, out: out, names: map[string]int{}, globalArgs: map[string]string{}, usedArgs: map[string]bool{}}
	if b.dir, err = os.MkdirTemp(opt.TempDir, "build-"); err != nil {
		return "", fmt.Errorf("create build context directory: %w", err)
	}
	defer os.RemoveAll(b.dir)
	defer b.removeContainers(context.WithoutCancel(ctx))
	df, err := b.prepare()
	if err != nil {
		return "", err
	}
	if id, err = b.run(ctx, df); err != nil {
		return "", err
	}
	return id, b.finish(ctx, id)
}

// prepare unpacks the context, reads the Dockerfile and applies
// .dockerignore (the Dockerfile is read first: ignoring it only keeps it
// out of COPY, as in Docker).
func (b *build) prepare() (*dockerfile, error) {
	name := strings.TrimPrefix(filepath.Clean("/"+b.opt.Dockerfile), "/")
	if b.opt.Dockerfile == "" {
		name = "Dockerfile"
	}
	if err := unpackContext(b.opt.Context, b.dir, name); err != nil {
		return nil, err
	}
	data, err := b.readDockerfile()
	if err != nil {
		return nil, err
	}
	patterns, err := readIgnore(b.dir)
	if err != nil {
		return nil, err
	}
	if err := applyIgnore(b.dir, patterns); err != nil {
		return nil, err
	}
	df, err := parseDockerfile(strings.NewReader(string(data)))
	if err != nil {
		return nil, err
	}
	b.lex = shell.NewLex(df.escape)
	for _, w := range df.warnings {
		b.stream(w + "\n")
	}
	return df, nil
}

// readDockerfile reads the Dockerfile inside the context.
func (b *build) readDockerfile() ([]byte, error) {
	name := b.opt.Dockerfile
	if name == "" {
		name = "Dockerfile"
	}
	root, err := os.OpenRoot(b.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	rel := strings.TrimPrefix(filepath.Clean("/"+name), "/")
	data, err := root.ReadFile(rel)
	if errors.Is(err, fs.ErrNotExist) && rel == "Dockerfile" {
		data, err = root.ReadFile("dockerfile")
	}
	if err != nil {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "Cannot locate specified Dockerfile: %s", name)
	}
	return data, nil
}

// run builds the stages up to the target and returns the last image.
func (b *build) run(ctx context.Context, df *dockerfile) (string, error) {
	stages, err := b.selectStages(df)
	if err != nil {
		return "", err
	}
	if err := b.declareGlobalArgs(df.globalArgs); err != nil {
		return "", err
	}
	for _, st := range stages {
		b.steps += 1 + len(st.body)
	}
	for i, st := range stages {
		img, err := b.runStage(ctx, st)
		if err != nil {
			return "", err
		}
		b.stages = append(b.stages, img)
		if st.name != "" {
			b.names[st.name] = i
		}
	}
	return b.stages[len(b.stages)-1].ID, nil
}

// selectStages cuts the stages after the target and appends the labels
// of the request to the last one as a LABEL step (as Docker does).
func (b *build) selectStages(df *dockerfile) ([]stage, error) {
	stages := df.stages
	if b.opt.Target != "" {
		i := slices.IndexFunc(stages, func(s stage) bool { return s.name == strings.ToLower(b.opt.Target) })
		if i < 0 {
			return nil, errdefs.Errorf(errdefs.InvalidParameter, "failed to reach build target %s in Dockerfile", b.opt.Target)
		}
		stages = stages[:i+1]
	}
	stages = slices.Clone(stages)
	if len(b.opt.Labels) > 0 {
		last := &stages[len(stages)-1]
		last.body = append(slices.Clone(last.body), labelInstruction(b.opt.Labels))
	}
	return stages, nil
}

// labelInstruction turns the labels= parameter into a LABEL step.
func labelInstruction(labels map[string]string) instruction {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	in := instruction{cmd: "label", original: "LABEL"}
	for _, k := range keys {
		in.args = append(in.args, k, labels[k], "=")
		kq, _ := json.Marshal(k)
		vq, _ := json.Marshal(labels[k])
		in.original += " " + string(kq) + "=" + string(vq)
	}
	in.literal = true
	return in
}

// finish reports unused build args, tags the image and writes the
// result lines.
func (b *build) finish(ctx context.Context, id string) error {
	var unused []string
	for k := range b.opt.BuildArgs {
		if !b.usedArgs[k] && !isProxyArg(k) {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		b.stream(fmt.Sprintf("[Warning] One or more build-args %v were not consumed\n", unused))
	}
	aux, _ := json.Marshal(map[string]string{"ID": id})
	raw := json.RawMessage(aux)
	b.out(jsonstream.Message{Aux: &raw})
	if b.opt.Quiet {
		b.out(jsonstream.Message{Stream: id + "\n"})
	} else {
		b.stream("Successfully built " + shortID(id) + "\n")
	}
	for _, t := range b.opt.Tags {
		tagged, err := b.be.ImageTag(ctx, id, t)
		if err != nil {
			return err
		}
		b.stream("Successfully tagged " + tagged + "\n")
	}
	return nil
}

// removeContainers removes the build containers left (after a failure).
func (b *build) removeContainers(ctx context.Context) {
	for _, id := range b.containers {
		if err := b.be.ContainerRemove(ctx, id); err != nil {
			log.G(ctx).WithError(err).WithField("container", id).Warn("remove build container")
		}
	}
}

// stream writes a line of build output unless the build is quiet.
func (b *build) stream(s string) {
	if !b.opt.Quiet {
		b.out(jsonstream.Message{Stream: s})
	}
}

// shortID is the 12-character form of an ID, without its algorithm.
func shortID(id string) string {
	_, hex, ok := strings.Cut(id, ":")
	if !ok {
		hex = id
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}

// state is a stage's progress: its current image and config.
type state struct {
	imageID string
	cfg     container.Config
	author  string
	// args are the ARG values in scope, in declaration order.
	args []arg
	// cmdSet reports a CMD in this stage (ENTRYPOINT then keeps it).
	cmdSet bool
}

// arg is a declared ARG with a value.
type arg struct{ name, value string }
