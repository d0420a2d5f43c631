package builder

import (
	"fmt"
	"io"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// instruction is one Dockerfile instruction.
type instruction struct {
	// cmd is the lower-case keyword ("run").
	cmd string
	// args are the arguments as the parser split them.
	args []string
	// flags are the --name=value flags ("--from=build").
	flags []string
	// json reports the JSON (exec) form.
	json bool
	// original is the source text, continuation lines joined.
	original string
	// sub is ONBUILD's instruction.
	sub *instruction
	// line is the first source line.
	line int
	// literal marks arguments that are not expanded (labels= values).
	literal bool
}

// stage is one FROM and the instructions after it.
type stage struct {
	// name is the "AS name", lower-cased ("" when unnamed).
	name string
	// from is the FROM instruction; body the rest.
	from instruction
	body []instruction
}

// dockerfile is a parsed Dockerfile.
type dockerfile struct {
	// globalArgs are the ARGs before the first FROM.
	globalArgs []instruction
	stages     []stage
	escape     rune
	// warnings are the parser's warnings, already formatted.
	warnings []string
}

// parseDockerfile parses r and splits it into stages.
func parseDockerfile(r io.Reader) (*dockerfile, error) {
	res, err := parser.Parse(r)
	if err != nil {
		return nil, errdefs.InvalidParameter(fmt.Errorf("dockerfile parse error %w", err))
	}
	df := &dockerfile{escape: res.EscapeToken}
	for _, w := range res.Warnings {
		df.warnings = append(df.warnings, "[WARNING]: "+w.Short)
	}
	for _, n := range res.AST.Children {
		in, err := newInstruction(n)
		if err != nil {
			return nil, err
		}
		if err := validate(in); err != nil {
			return nil, err
		}
		if err := df.add(in); err != nil {
			return nil, err
		}
	}
	if len(df.stages) == 0 {
		return nil, errdefs.InvalidParameter(fmt.Errorf("the Dockerfile (%s) cannot be empty", "Dockerfile"))
	}
	return df, nil
}

// add appends an instruction to the current stage.
func (df *dockerfile) add(in instruction) error {
	switch {
	case in.cmd == "from":
		st, err := newStage(in)
		if err != nil {
			return err
		}
		df.stages = append(df.stages, st)
	case len(df.stages) > 0:
		cur := &df.stages[len(df.stages)-1]
		cur.body = append(cur.body, in)
	case in.cmd == "arg":
		df.globalArgs = append(df.globalArgs, in)
	default:
		return errdefs.InvalidParameter(fmt.Errorf("dockerfile parse error on line %d: no build stage in current context", in.line))
	}
	return nil
}

// newStage checks FROM's arguments: "image [AS name]".
func newStage(in instruction) (stage, error) {
	switch {
	case len(in.args) == 1:
		return stage{from: in}, nil
	case len(in.args) == 3 && strings.EqualFold(in.args[1], "as"):
		return stage{from: in, name: strings.ToLower(in.args[2])}, nil
	}
	return stage{}, errdefs.InvalidParameter(fmt.Errorf("dockerfile parse error on line %d: FROM requires either one or three arguments", in.line))
}

// newInstruction flattens a parser node.
func newInstruction(n *parser.Node) (instruction, error) {
	in := instruction{
		cmd: strings.ToLower(n.Value), flags: n.Flags, json: n.Attributes["json"],
		original: n.Original, line: n.StartLine,
	}
	if len(n.Heredocs) > 0 {
		return in, errdefs.InvalidParameter(fmt.Errorf("dockerfile parse error on line %d: heredocs need BuildKit", in.line))
	}
	if in.cmd == "onbuild" {
		if n.Next == nil || len(n.Next.Children) == 0 {
			return in, errdefs.InvalidParameter(fmt.Errorf("dockerfile parse error on line %d: ONBUILD requires at least one argument", in.line))
		}
		sub, err := newInstruction(n.Next.Children[0])
		if err != nil {
			return in, err
		}
		in.sub = &sub
		return in, nil
	}
	for a := n.Next; a != nil; a = a.Next {
		in.args = append(in.args, a.Value)
	}
	return in, nil
}

// known are the instructions the classic builder runs.
var known = map[string]bool{
	"from": true, "run": true, "cmd": true, "entrypoint": true, "copy": true, "add": true, "env": true,
	"arg": true, "workdir": true, "user": true, "label": true, "expose": true, "volume": true,
	"stopsignal": true, "healthcheck": true, "shell": true, "onbuild": true, "maintainer": true,
}

// validate refuses unknown instructions and missing arguments before
// anything runs, as Docker checks the whole Dockerfile first.
func validate(in instruction) error {
	if !known[in.cmd] {
		return errdefs.InvalidParameter(fmt.Errorf("dockerfile parse error on line %d: unknown instruction: %s", in.line, strings.ToUpper(in.cmd)))
	}
	if in.sub != nil {
		return validate(*in.sub)
	}
	if len(in.args) == 0 && in.cmd != "cmd" && in.cmd != "entrypoint" {
		return errdefs.InvalidParameter(fmt.Errorf("dockerfile parse error on line %d: %s requires at least one argument", in.line, strings.ToUpper(in.cmd)))
	}
	return nil
}

// flag returns the value of --name (and whether it was given).
func (in instruction) flag(name string) (string, bool) {
	for _, f := range in.flags {
		k, v, hasValue := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if k == name {
			if !hasValue {
				v = "true"
			}
			return v, true
		}
	}
	return "", false
}

// checkFlags refuses flags other than allowed, as Docker does.
func (in instruction) checkFlags(allowed ...string) error {
	for _, f := range in.flags {
		k, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return errdefs.InvalidParameter(fmt.Errorf("unknown flag: %s", k))
		}
	}
	return nil
}
