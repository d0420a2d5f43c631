// Package config holds the daemon's configuration: command-line flags, the
// daemon.json file with the same keys, the per-user defaults (XDG base
// directories for an ordinary user, system paths for root) and validation.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// Config is the daemon configuration. The json tags are the daemon.json keys,
// the same names as the long flags (Docker's convention).
type Config struct {
	Hosts              []string `json:"hosts,omitempty"`
	DataRoot           string   `json:"data-root,omitempty"`
	ExecRoot           string   `json:"exec-root,omitempty"`
	LogLevel           string   `json:"log-level,omitempty"`
	InsecureRegistries []string `json:"insecure-registries,omitempty"`
	RegistryMirrors    []string `json:"registry-mirrors,omitempty"`
	StorageDriver      string   `json:"storage-driver,omitempty"`
	Group              string   `json:"group,omitempty"`
	CorsHeaders        string   `json:"api-cors-header,omitempty"`
	TLS                *bool    `json:"tls,omitempty"`
	TLSVerify          *bool    `json:"tlsverify,omitempty"`
	TLSCACert          string   `json:"tlscacert,omitempty"`
	TLSCert            string   `json:"tlscert,omitempty"`
	TLSKey             string   `json:"tlskey,omitempty"`
	AllowHostLoopback  bool     `json:"allow-host-loopback,omitempty"`
	// CgroupParent is where containers' cgroups are created: an absolute
	// path from each hierarchy's root or a path relative to the daemon's
	// own cgroup ("" means the daemon's own cgroup), as with dockerd's
	// cgroupfs driver. A container's HostConfig.CgroupParent overrides it.
	CgroupParent string `json:"cgroup-parent,omitempty"`

	// ConfigFile is where daemon.json was (or would be) read from.
	ConfigFile string `json:"-"`
}

// Flags binds the configuration flags to c and returns the set.
func (c *Config) Flags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("dockerd-lite", pflag.ContinueOnError)
	fs.StringArrayVarP(&c.Hosts, "host", "H", nil, "daemon socket(s) to listen on: unix:///path or tcp://addr:port (repeatable)")
	fs.StringVar(&c.DataRoot, "data-root", "", "root of persistent state (default $XDG_DATA_HOME/dockerd-lite, /var/lib/dockerd-lite for root)")
	fs.StringVar(&c.ExecRoot, "exec-root", "", "root of run state (default $XDG_RUNTIME_DIR/dockerd-lite, /var/run/dockerd-lite for root)")
	fs.StringVarP(&c.LogLevel, "log-level", "l", "", `log level: "debug", "info", "warn", "error", "fatal" (default "info")`)
	fs.StringArrayVar(&c.InsecureRegistries, "insecure-registry", nil, "registry (host[:port] or CIDR) to reach over plain HTTP or unverified TLS (repeatable)")
	fs.StringArrayVar(&c.RegistryMirrors, "registry-mirror", nil, "mirror for docker.io (repeatable)")
	fs.StringVarP(&c.StorageDriver, "storage-driver", "s", "", `storage driver: "overlay", "fuse-overlayfs" or "vfs" (default: the first that works)`)
	fs.StringVarP(&c.Group, "group", "G", "", "group to own the unix socket (mode becomes 0660)")
	fs.StringVar(&c.CorsHeaders, "api-cors-header", "", "value of Access-Control-Allow-Origin for the remote API")
	c.TLS = new(bool)
	c.TLSVerify = new(bool)
	fs.BoolVar(c.TLS, "tls", false, "use TLS; implied by --tlsverify. --tls=false explicitly accepts an unauthenticated tcp:// socket")
	fs.BoolVar(c.TLSVerify, "tlsverify", false, "use TLS and verify the client's certificate")
	fs.StringVar(&c.TLSCACert, "tlscacert", "", "trust certificates signed by this CA")
	fs.StringVar(&c.TLSCert, "tlscert", "", "path to the TLS certificate file")
	fs.StringVar(&c.TLSKey, "tlskey", "", "path to the TLS key file")
	fs.BoolVar(&c.AllowHostLoopback, "allow-host-loopback", false, "let containers reach the host's loopback through 10.0.2.2")
	fs.StringVar(&c.CgroupParent, "cgroup-parent", "", "parent cgroup of containers: absolute, or relative to the daemon's cgroup (default: the daemon's cgroup)")
	fs.StringVar(&c.ConfigFile, "config-file", "", "daemon configuration file (default $XDG_CONFIG_HOME/dockerd-lite/daemon.json, /etc/dockerd-lite/daemon.json for root)")
	return fs
}

// Load completes c after its flags were parsed: it reads the configuration
// file, refuses keys given both as a flag and in the file (as dockerd does),
// fills defaults and validates the result.
func (c *Config) Load(fs *pflag.FlagSet, env Env) error {
	if !fs.Changed("tls") {
		c.TLS = nil
	}
	if !fs.Changed("tlsverify") {
		c.TLSVerify = nil
	}
	if c.ConfigFile == "" {
		c.ConfigFile = env.defaultConfigFile()
	}
	file, err := readFile(c.ConfigFile, fs.Changed("config-file"))
	if err != nil {
		return err
	}
	if err := c.merge(fs, file); err != nil {
		return err
	}
	c.fillDefaults(env)
	return c.Validate()
}

// readFile reads a daemon.json; a missing default file is not an error.
func readFile(path string, explicit bool) (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse config file %s: %w", path, err)
	}
	return m, nil
}

// flagNames maps daemon.json keys to flag names where they differ.
var flagNames = map[string]string{
	"hosts":               "host",
	"insecure-registries": "insecure-registry",
	"registry-mirrors":    "registry-mirror",
}

// merge applies the file's keys that no flag set, and reports conflicts.
func (c *Config) merge(fs *pflag.FlagSet, file map[string]json.RawMessage) error {
	var conflicts, unknown []string
	for key := range file {
		flag := key
		if n, ok := flagNames[key]; ok {
			flag = n
		}
		switch {
		case fs.Lookup(flag) == nil || key == "config-file":
			unknown = append(unknown, key)
		case fs.Changed(flag):
			conflicts = append(conflicts, key)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("the following directives don't match any configuration option: %s", strings.Join(unknown, ", "))
	}
	if len(conflicts) > 0 {
		slices.Sort(conflicts)
		return fmt.Errorf("the following directives are specified both as a flag and in the configuration file: %s", strings.Join(conflicts, ", "))
	}
	raw, _ := json.Marshal(file)
	var fromFile Config
	if err := json.Unmarshal(raw, &fromFile); err != nil {
		return fmt.Errorf("parse config file %s: %w", c.ConfigFile, err)
	}
	c.overlay(&fromFile, file)
	return nil
}

// overlay copies the fields present in the file into c.
func (c *Config) overlay(f *Config, present map[string]json.RawMessage) {
	set := func(key string, apply func()) {
		if _, ok := present[key]; ok {
			apply()
		}
	}
	set("hosts", func() { c.Hosts = f.Hosts })
	set("data-root", func() { c.DataRoot = f.DataRoot })
	set("exec-root", func() { c.ExecRoot = f.ExecRoot })
	set("storage-driver", func() { c.StorageDriver = f.StorageDriver })
	set("group", func() { c.Group = f.Group })
	set("tls", func() { c.TLS = f.TLS })
	set("tlsverify", func() { c.TLSVerify = f.TLSVerify })
	set("tlscacert", func() { c.TLSCACert = f.TLSCACert })
	set("tlscert", func() { c.TLSCert = f.TLSCert })
	set("tlskey", func() { c.TLSKey = f.TLSKey })
	set("allow-host-loopback", func() { c.AllowHostLoopback = f.AllowHostLoopback })
	set("cgroup-parent", func() { c.CgroupParent = f.CgroupParent })
	c.applyReloadable(f, present)
}

// applyReloadable copies the keys that SIGHUP may change.
func (c *Config) applyReloadable(f *Config, present map[string]json.RawMessage) {
	if _, ok := present["log-level"]; ok {
		c.LogLevel = f.LogLevel
	}
	if _, ok := present["insecure-registries"]; ok {
		c.InsecureRegistries = f.InsecureRegistries
	}
	if _, ok := present["registry-mirrors"]; ok {
		c.RegistryMirrors = f.RegistryMirrors
	}
	if _, ok := present["api-cors-header"]; ok {
		c.CorsHeaders = f.CorsHeaders
	}
}

// Reload re-reads the configuration file and applies the keys that can
// change while the daemon runs (log-level, insecure-registries,
// registry-mirrors, api-cors-header). It returns the new configuration;
// c is not modified.
func (c Config) Reload() (Config, error) {
	file, err := readFile(c.ConfigFile, false)
	if err != nil {
		return c, err
	}
	raw, _ := json.Marshal(file)
	var f Config
	if err := json.Unmarshal(raw, &f); err != nil {
		return c, fmt.Errorf("parse config file %s: %w", c.ConfigFile, err)
	}
	c.applyReloadable(&f, file)
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	return c, c.Validate()
}

// Rootless reports whether the daemon's owner is an ordinary user.
func (e Env) Rootless() bool { return e.UID != 0 }

// Validate checks values that defaults cannot fix.
func (c *Config) Validate() error {
	switch c.LogLevel {
	case "debug", "info", "warn", "error", "fatal", "panic", "trace":
	default:
		return fmt.Errorf("invalid log level %q: use debug, info, warn, error or fatal", c.LogLevel)
	}
	switch c.StorageDriver {
	case "", "overlay", "overlay2", "fuse-overlayfs", "vfs":
	default:
		return fmt.Errorf("unsupported storage driver %q: use overlay, fuse-overlayfs or vfs", c.StorageDriver)
	}
	for i, h := range c.Hosts {
		norm, err := ParseHost(h, c.tlsOn())
		if err != nil {
			return err
		}
		c.Hosts[i] = norm
		if strings.HasPrefix(norm, "tcp://") {
			if err := c.checkTCP(norm); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Config) tlsOn() bool {
	return (c.TLS != nil && *c.TLS) || (c.TLSVerify != nil && *c.TLSVerify)
}

// VerifyClients reports whether TCP clients must present a certificate.
func (c *Config) VerifyClients() bool { return c.TLSVerify != nil && *c.TLSVerify }

// TLSEnabled reports whether TCP listeners serve TLS.
func (c *Config) TLSEnabled() bool { return c.tlsOn() }

// checkTCP refuses an unauthenticated TCP socket unless the user explicitly
// accepted one with --tls=false or --tlsverify=false.
func (c *Config) checkTCP(host string) error {
	if c.VerifyClients() {
		if c.TLSCACert == "" || c.TLSCert == "" || c.TLSKey == "" {
			return fmt.Errorf("--tlsverify needs --tlscacert, --tlscert and --tlskey")
		}
		return nil
	}
	if c.TLSVerify != nil || (c.TLS != nil && !*c.TLS) {
		if c.tlsOn() && (c.TLSCert == "" || c.TLSKey == "") {
			return fmt.Errorf("--tls needs --tlscert and --tlskey")
		}
		return nil // explicitly accepted
	}
	return fmt.Errorf("refusing to listen on %s without --tlsverify: anyone who can reach it would control the daemon; "+
		"use --tlsverify with --tlscacert, --tlscert and --tlskey, or pass --tls=false to accept an unauthenticated socket", host)
}

// ParseHost normalises a -H value: "unix:///path", "tcp://host:port".
func ParseHost(h string, tls bool) (string, error) {
	if strings.HasPrefix(h, "/") {
		h = "unix://" + h
	}
	u, err := url.Parse(h)
	if err != nil {
		return "", fmt.Errorf("invalid host %q: %w", h, err)
	}
	switch u.Scheme {
	case "unix":
		if u.Path == "" {
			return "", fmt.Errorf("invalid host %q: unix socket needs a path", h)
		}
		return "unix://" + u.Path, nil
	case "tcp":
		return parseTCP(u, tls)
	default:
		return "", fmt.Errorf("invalid host %q: use unix:///path or tcp://addr:port", h)
	}
}

func parseTCP(u *url.URL, tls bool) (string, error) {
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "2375"
		if tls {
			port = "2376"
		}
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("invalid host %q: bad port", u.String())
	}
	return "tcp://" + net.JoinHostPort(host, port), nil
}

// ResolvePath makes p absolute relative to the working directory.
func ResolvePath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
