package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// runCmd runs RUN in a container from the current image and commits it.
// Build args in scope are in the container's environment (not in the
// image) and prefix the history entry, so a changed value misses the
// cache, as in Docker.
func (b *build) runCmd(ctx context.Context, s *state, in instruction) error {
	if err := in.checkFlags(); err != nil {
		return err
	}
	cmd := b.commandOf(s, in)
	createdBy := strings.Join(cmd, " ")
	env := slices.Clone(s.cfg.Env)
	var shown []string
	for _, a := range s.args {
		shown = append(shown, a.name+"="+a.value)
		if !hasEnv(env, a.name) {
			env = append(env, a.name+"="+a.value)
		}
	}
	if len(shown) > 0 {
		createdBy = "|" + strconv.Itoa(len(shown)) + " " + strings.Join(shown, " ") + " " + createdBy
	}
	for _, p := range proxyArgs {
		if v, ok := b.opt.BuildArgs[p]; ok && v != nil && !hasEnv(env, p) {
			env = append(env, p+"="+*v)
		}
	}
	runCfg := s.cfg
	runCfg.Entrypoint, runCfg.Cmd, runCfg.Env, runCfg.Healthcheck = cmd, nil, env, noHealthcheck()
	return b.commitStep(ctx, s, step{createdBy: createdBy, run: &runCfg, announce: true, op: func(id string) error {
		code, err := b.be.ContainerRun(ctx, id, outputWriter{b})
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("The command '%s' returned a non-zero code: %d", strings.Join(cmd, " "), code) //nolint:staticcheck // Docker's text
		}
		return nil
	}})
}

// noHealthcheck disables the image's HEALTHCHECK for a build container
// (an empty one would inherit it), as Docker does.
func noHealthcheck() *container.HealthConfig {
	return &container.HealthConfig{Test: []string{"NONE"}}
}

func hasEnv(env []string, name string) bool {
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == name {
			return true
		}
	}
	return false
}

// outputWriter sends a RUN container's output as stream messages.
type outputWriter struct{ b *build }

func (w outputWriter) Write(p []byte) (int, error) {
	w.b.stream(string(p))
	return len(p), nil
}

// step describes one committed build step.
type step struct {
	// createdBy is the history entry and, with the config, the cache key.
	createdBy string
	// run is the container's config (nil: a no-op command).
	run *container.Config
	// op works on the container before the commit (nil: nothing).
	op func(id string) error
	// announce prints "Running in" / "Removing intermediate container".
	announce bool
}

// commitConfig commits a config-only step (an empty layer).
func (b *build) commitConfig(ctx context.Context, s *state, comment string) error {
	return b.commitStep(ctx, s, step{createdBy: b.nop(s, comment), announce: true})
}

// fileStep commits a step whose container op changes files, without
// "Running in" lines.
func (b *build) fileStep(ctx context.Context, s *state, comment string, op func(id string) error) error {
	return b.commitStep(ctx, s, step{createdBy: b.nop(s, comment), op: op})
}

// nop is the history text of a step that runs no command.
func (b *build) nop(s *state, comment string) string {
	sh := []string{"/bin/sh", "-c"}
	if len(s.cfg.Shell) > 0 {
		sh = s.cfg.Shell
	}
	return strings.Join(append(slices.Clone(sh), "#(nop) "+comment), " ")
}

// commitStep reuses a cached image for the step or runs it: a container
// from the current image, st.op on it, a commit with the stage's config
// and the container's removal. s moves to the new image.
func (b *build) commitStep(ctx context.Context, s *state, st step) error {
	cfg := s.cfg
	cfg.Image = s.imageID
	if !b.opt.NoCache {
		id, err := b.be.CacheLookup(ctx, s.imageID, st.createdBy, &cfg)
		if err != nil {
			return err
		}
		if id != "" {
			b.stream(" ---> Using cache\n")
			s.imageID = id
			return nil
		}
	}
	run := st.run
	if run == nil {
		nop := cfg
		nop.Entrypoint, nop.Cmd, nop.Healthcheck = []string{"/bin/sh", "-c", "#(nop) "}, nil, noHealthcheck()
		run = &nop
	}
	id, err := b.be.ContainerCreate(ctx, s.imageID, run)
	if err != nil {
		return err
	}
	b.containers = append(b.containers, id)
	if st.announce {
		b.stream(" ---> Running in " + shortID(id) + "\n")
	}
	if st.op != nil {
		if err := st.op(id); err != nil {
			return err
		}
	}
	img, err := b.be.ContainerCommit(ctx, CommitOptions{Container: id, CreatedBy: st.createdBy, Author: s.author, Config: &cfg})
	if err != nil {
		return err
	}
	s.imageID = img
	return b.removeContainer(ctx, id, st.announce)
}

// removeContainer removes a build container after its step succeeded
// (kept with rm=0, as Docker keeps them).
func (b *build) removeContainer(ctx context.Context, id string, announce bool) error {
	if !b.opt.Remove && !b.opt.ForceRemove {
		b.containers = slices.DeleteFunc(b.containers, func(c string) bool { return c == id })
		return nil
	}
	if err := b.be.ContainerRemove(ctx, id); err != nil {
		return err
	}
	b.containers = slices.DeleteFunc(b.containers, func(c string) bool { return c == id })
	if announce {
		b.stream("Removing intermediate container " + shortID(id) + "\n")
	}
	return nil
}

// expand substitutes $VAR, ${VAR}, ${VAR:-default}, ... in word.
func (b *build) expand(word string, env shell.EnvGetter) (string, error) {
	v, _, err := b.lex.ProcessWord(word, env)
	if err != nil {
		return "", errdefs.InvalidParameter(fmt.Errorf("expand %q: %w", word, err))
	}
	return v, nil
}

// envGetter is the variables a word sees: ENV values over ARG values.
type envGetter map[string]string

func (e envGetter) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }

func (e envGetter) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	return keys
}

// envOf merges args and env (env wins).
func envOf(env []string, args []arg) envGetter {
	m := envGetter{}
	for _, a := range args {
		m[a.name] = a.value
	}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return m
}

// jsonList renders argv as Docker's history does: ["a","b"].
func jsonList(argv []string) string {
	data, _ := json.Marshal(argv)
	return string(data)
}
