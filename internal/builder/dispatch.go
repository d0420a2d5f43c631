package builder

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// dispatch runs one instruction on s.
func (b *build) dispatch(ctx context.Context, s *state, in instruction) error {
	switch in.cmd {
	case "run":
		return b.runCmd(ctx, s, in)
	case "copy", "add":
		return b.copyCmd(ctx, s, in)
	case "workdir":
		return b.workdir(ctx, s, in)
	case "arg":
		return b.argCmd(ctx, s, in)
	case "onbuild":
		return b.onbuild(ctx, s, in)
	}
	apply, ok := configCmds[in.cmd]
	if !ok {
		return errdefs.Errorf(errdefs.InvalidParameter, "dockerfile parse error on line %d: unknown instruction: %s", in.line, strings.ToUpper(in.cmd))
	}
	if err := in.checkFlags(flagsOf[in.cmd]...); err != nil {
		return err
	}
	args, err := b.expandArgs(s, in)
	if err != nil {
		return err
	}
	if err := apply(b, s, in, args); err != nil {
		return err
	}
	b.notStored(in.cmd)
	return b.commitConfig(ctx, s, b.comment(s, in, args))
}

// notStored warns when the image store keeps no field for cmd: the
// value holds for the rest of this build (and stages built FROM this
// one), not in the image.
func (b *build) notStored(cmd string) {
	if slices.Contains(b.opt.Unstored, cmd) {
		b.stream(fmt.Sprintf("[Warning] %s is applied within this build only: the image store does not record it in the image config yet\n", strings.ToUpper(cmd)))
	}
}

// flagsOf lists the flags config instructions accept.
var flagsOf = map[string][]string{
	"healthcheck": {"interval", "timeout", "start-period", "start-interval", "retries"},
}

// expanded are the instructions whose arguments see ARG and ENV values.
var expanded = map[string]bool{
	"env": true, "label": true, "expose": true, "stopsignal": true, "user": true, "volume": true,
	"workdir": true, "copy": true, "add": true,
}

// expandArgs substitutes variables where Docker does.
func (b *build) expandArgs(s *state, in instruction) ([]string, error) {
	if !expanded[in.cmd] || in.literal {
		return in.args, nil
	}
	env := envOf(s.cfg.Env, s.args)
	out := make([]string, len(in.args))
	for i, a := range in.args {
		v, err := b.expand(a, env)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// comment is the history text of a config-only step.
func (b *build) comment(s *state, in instruction, args []string) string {
	switch in.cmd {
	case "env", "label":
		var kv []string
		for _, p := range pairs(args) {
			kv = append(kv, p[0]+"="+p[1])
		}
		return strings.ToUpper(in.cmd) + " " + strings.Join(kv, " ")
	case "cmd", "entrypoint":
		return strings.ToUpper(in.cmd) + " " + jsonList(b.commandOf(s, in))
	case "shell":
		return "SHELL " + jsonList(in.args)
	}
	return strings.ToUpper(in.cmd) + " " + strings.Join(args, " ")
}

// configCmds apply config-only instructions.
var configCmds = map[string]func(b *build, s *state, in instruction, args []string) error{
	"env":        applyEnv,
	"label":      applyLabel,
	"maintainer": func(_ *build, s *state, _ instruction, a []string) error { s.author = strings.Join(a, " "); return nil },
	"user": func(_ *build, s *state, _ instruction, a []string) error {
		s.cfg.User = strings.Join(a, " ")
		return nil
	},
	"stopsignal": func(_ *build, s *state, _ instruction, a []string) error {
		s.cfg.StopSignal = strings.Join(a, " ")
		return nil
	},
	"expose":     applyExpose,
	"volume":     applyVolume,
	"cmd":        applyCmd,
	"entrypoint": applyEntrypoint,
	"shell":      applyShell,
	"healthcheck": func(b *build, s *state, in instruction, _ []string) error {
		return applyHealthcheck(b, s, in)
	},
}

// pairs reads the parser's key, value, separator triples (ENV, LABEL).
func pairs(a []string) [][2]string {
	var out [][2]string
	for i := 0; i+1 < len(a); i += 3 {
		out = append(out, [2]string{a[i], a[i+1]})
	}
	return out
}

func applyEnv(_ *build, s *state, in instruction, a []string) error {
	kv := pairs(a)
	if len(kv) == 0 {
		return errdefs.Errorf(errdefs.InvalidParameter, "ENV requires at least one argument")
	}
	for _, p := range kv {
		s.cfg.Env = setEnv(s.cfg.Env, p[0], p[1])
	}
	return nil
}

// setEnv replaces or appends name=value.
func setEnv(env []string, name, value string) []string {
	env = slices.Clone(env)
	for i, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == name {
			env[i] = name + "=" + value
			return env
		}
	}
	return append(env, name+"="+value)
}

func applyLabel(_ *build, s *state, in instruction, a []string) error {
	kv := pairs(a)
	if len(kv) == 0 {
		return errdefs.Errorf(errdefs.InvalidParameter, "LABEL requires at least one argument")
	}
	labels := map[string]string{}
	for k, v := range s.cfg.Labels {
		labels[k] = v
	}
	for _, p := range kv {
		labels[p[0]] = p[1]
	}
	s.cfg.Labels = labels
	return nil
}

func applyExpose(_ *build, s *state, _ instruction, a []string) error {
	ports := network.PortSet{}
	for p := range s.cfg.ExposedPorts {
		ports[p] = struct{}{}
	}
	for _, spec := range a {
		for _, f := range strings.Fields(spec) {
			p, err := network.ParsePort(f)
			if err != nil {
				return errdefs.InvalidParameter(fmt.Errorf("invalid port %q: %w", f, err))
			}
			ports[p] = struct{}{}
		}
	}
	s.cfg.ExposedPorts = ports
	return nil
}

func applyVolume(_ *build, s *state, _ instruction, a []string) error {
	vols := map[string]struct{}{}
	for v := range s.cfg.Volumes {
		vols[v] = struct{}{}
	}
	for _, v := range a {
		if v = strings.TrimSpace(v); v == "" {
			return errdefs.Errorf(errdefs.InvalidParameter, "VOLUME specified can not be an empty string")
		}
		vols[v] = struct{}{}
	}
	s.cfg.Volumes = vols
	return nil
}

func applyCmd(b *build, s *state, in instruction, _ []string) error {
	s.cfg.Cmd = b.commandOf(s, in)
	s.cmdSet = true
	return nil
}

// applyEntrypoint sets ENTRYPOINT; a CMD inherited from the base (not
// set in this stage) is reset, as Docker does.
func applyEntrypoint(b *build, s *state, in instruction, _ []string) error {
	s.cfg.Entrypoint = b.commandOf(s, in)
	if !s.cmdSet {
		s.cfg.Cmd = nil
	}
	return nil
}

func applyShell(_ *build, s *state, in instruction, a []string) error {
	if !in.json || len(a) == 0 {
		return errdefs.Errorf(errdefs.InvalidParameter, "SHELL requires the arguments to be in JSON form")
	}
	s.cfg.Shell = slices.Clone(a)
	return nil
}

// commandOf is the argv of RUN/CMD/ENTRYPOINT: the JSON form as is, the
// shell form run by SHELL (default /bin/sh -c). s nil: default shell.
func (b *build) commandOf(s *state, in instruction) []string {
	if in.json {
		return slices.Clone(in.args)
	}
	sh := []string{"/bin/sh", "-c"}
	if s != nil && len(s.cfg.Shell) > 0 {
		sh = slices.Clone(s.cfg.Shell)
	}
	return append(sh, strings.Join(in.args, " "))
}

// applyHealthcheck sets HEALTHCHECK CMD/NONE with its flags.
func applyHealthcheck(b *build, s *state, in instruction) error {
	if len(in.args) == 0 {
		return errdefs.Errorf(errdefs.InvalidParameter, "HEALTHCHECK requires an argument")
	}
	kind := strings.ToUpper(in.args[0])
	if kind == "NONE" {
		s.cfg.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
		return nil
	}
	if kind != "CMD" || len(in.args) < 2 {
		return errdefs.Errorf(errdefs.InvalidParameter, "Unknown type %q in HEALTHCHECK (try CMD)", in.args[0])
	}
	hc := &container.HealthConfig{Test: append([]string{"CMD-SHELL"}, strings.Join(in.args[1:], " "))}
	if in.json {
		hc.Test = append([]string{"CMD"}, in.args[1:]...)
	}
	if err := healthFlags(hc, in); err != nil {
		return err
	}
	s.cfg.Healthcheck = hc
	return nil
}

func healthFlags(hc *container.HealthConfig, in instruction) error {
	for name, dst := range map[string]*time.Duration{
		"interval": &hc.Interval, "timeout": &hc.Timeout, "start-period": &hc.StartPeriod, "start-interval": &hc.StartInterval,
	} {
		if v, ok := in.flag(name); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				return errdefs.InvalidParameter(fmt.Errorf("invalid --%s: %w", name, err))
			}
			*dst = d
		}
	}
	if v, ok := in.flag("retries"); ok {
		if _, err := fmt.Sscanf(v, "%d", &hc.Retries); err != nil || hc.Retries < 0 {
			return errdefs.Errorf(errdefs.InvalidParameter, "invalid --retries %q", v)
		}
	}
	return nil
}

// workdir sets WORKDIR (relative to the previous one) and creates it.
func (b *build) workdir(ctx context.Context, s *state, in instruction) error {
	args, err := b.expandArgs(s, in)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return errdefs.Errorf(errdefs.InvalidParameter, "WORKDIR requires exactly one argument")
	}
	dir := args[0]
	if !path.IsAbs(dir) {
		dir = path.Join("/", s.cfg.WorkingDir, dir)
	}
	s.cfg.WorkingDir = path.Clean(dir)
	return b.fileStep(ctx, s, "WORKDIR "+s.cfg.WorkingDir, func(id string) error {
		return b.be.ContainerMkdir(ctx, id, s.cfg.WorkingDir)
	})
}

// onbuild stores the trigger in the image config.
func (b *build) onbuild(ctx context.Context, s *state, in instruction) error {
	switch in.sub.cmd {
	case "onbuild", "from", "maintainer":
		return errdefs.Errorf(errdefs.InvalidParameter, "%s isn't allowed as an ONBUILD trigger", strings.ToUpper(in.sub.cmd))
	}
	trigger := strings.TrimSpace(in.original)
	if i := strings.IndexAny(trigger, " \t"); i > 0 {
		trigger = strings.TrimSpace(trigger[i:])
	}
	s.cfg.OnBuild = append(slices.Clone(s.cfg.OnBuild), trigger)
	b.notStored("onbuild")
	return b.commitConfig(ctx, s, "ONBUILD "+trigger)
}

// argCmd declares ARGs: the build arg's value, else the default, else a
// global ARG of the same name.
func (b *build) argCmd(ctx context.Context, s *state, in instruction) error {
	var names []string
	for _, a := range in.args {
		name, def, hasDef := strings.Cut(a, "=")
		if hasDef {
			v, err := b.expand(def, envOf(s.cfg.Env, s.args))
			if err != nil {
				return err
			}
			def = v
		} else if g, ok := b.globalArgs[name]; ok {
			def, hasDef = g, true
		}
		if v, ok := b.opt.BuildArgs[name]; ok {
			b.usedArgs[name] = true
			if v != nil {
				def, hasDef = *v, true
			}
		}
		if hasDef {
			s.setArg(name, def)
		}
		names = append(names, a)
	}
	return b.commitConfig(ctx, s, "ARG "+strings.Join(names, " "))
}

func (s *state) setArg(name, value string) {
	s.args = slices.DeleteFunc(slices.Clone(s.args), func(a arg) bool { return a.name == name })
	s.args = append(s.args, arg{name, value})
}
