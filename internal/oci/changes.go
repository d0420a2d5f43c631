package oci

import (
	"encoding/json"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// applyChanges applies Dockerfile instructions (docker import --change and
// commit --change) to an image config. Docker allows CMD, ENTRYPOINT, ENV,
// EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR there (ONBUILD has no
// place in an OCI config and is refused).
func applyChanges(cfg *ocispec.ImageConfig, changes []string) error {
	for _, line := range changes {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		instr, args, _ := strings.Cut(line, " ")
		args = strings.TrimSpace(args)
		if err := applyChange(cfg, strings.ToUpper(instr), args); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("dockerfile parse error on line %q: %w", line, err))
		}
	}
	return nil
}

func applyChange(cfg *ocispec.ImageConfig, instr, args string) error {
	switch instr {
	case "CMD":
		cfg.Cmd = execForm(args)
	case "ENTRYPOINT":
		cfg.Entrypoint = execForm(args)
	case "ENV":
		return applyEnv(cfg, args)
	case "LABEL":
		return applyLabels(cfg, args)
	case "EXPOSE":
		return applyExpose(cfg, args)
	case "VOLUME":
		return applyVolumes(cfg, args)
	case "USER":
		cfg.User = args
	case "WORKDIR":
		cfg.WorkingDir = args
	case "STOPSIGNAL":
		cfg.StopSignal = args
	default:
		return fmt.Errorf("%s is not a valid change command", instr)
	}
	return nil
}

// execForm parses a JSON array, or wraps the shell form in /bin/sh -c.
func execForm(args string) []string {
	var list []string
	if strings.HasPrefix(args, "[") && json.Unmarshal([]byte(args), &list) == nil {
		return list
	}
	return []string{"/bin/sh", "-c", args}
}

// keyValues parses "k=v k2=v2" (quotes allowed) or the legacy "k v" form.
func keyValues(args string) ([][2]string, error) {
	words := splitWords(args)
	if len(words) == 0 {
		return nil, fmt.Errorf("missing arguments")
	}
	if !strings.Contains(words[0], "=") {
		k, v, _ := strings.Cut(args, " ")
		return [][2]string{{k, strings.TrimSpace(v)}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("syntax error - can't find = in %q", w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// splitWords splits on spaces outside double or single quotes and drops
// the quotes.
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote, inWord = r, true
		case quote == 0 && r == ' ':
			if inWord {
				out, inWord = append(out, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

func applyEnv(cfg *ocispec.ImageConfig, args string) error {
	kvs, err := keyValues(args)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		prefix := kv[0] + "="
		replaced := false
		for i, e := range cfg.Env {
			if strings.HasPrefix(e, prefix) {
				cfg.Env[i], replaced = prefix+kv[1], true
			}
		}
		if !replaced {
			cfg.Env = append(cfg.Env, prefix+kv[1])
		}
	}
	return nil
}

func applyLabels(cfg *ocispec.ImageConfig, args string) error {
	kvs, err := keyValues(args)
	if err != nil {
		return err
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	for _, kv := range kvs {
		cfg.Labels[kv[0]] = kv[1]
	}
	return nil
}

func applyExpose(cfg *ocispec.ImageConfig, args string) error {
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, p := range strings.Fields(args) {
		if !strings.Contains(p, "/") {
			p += "/tcp"
		}
		cfg.ExposedPorts[p] = struct{}{}
	}
	return nil
}

func applyVolumes(cfg *ocispec.ImageConfig, args string) error {
	if cfg.Volumes == nil {
		cfg.Volumes = map[string]struct{}{}
	}
	var list []string
	if !strings.HasPrefix(args, "[") || json.Unmarshal([]byte(args), &list) != nil {
		list = strings.Fields(args)
	}
	if len(list) == 0 {
		return fmt.Errorf("VOLUME requires at least one argument")
	}
	for _, v := range list {
		cfg.Volumes[v] = struct{}{}
	}
	return nil
}
